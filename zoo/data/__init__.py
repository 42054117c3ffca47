"""LightningDataModules, the shared folder reader, and data by name (Hub dataset ids, URLs: docs/data.md).

The data modules import Lightning; they are imported on first use, so that ``zoo.data.hub`` / ``zoo.data.sources``
(used by ``zoo bench``, which does not train) do not bring Lightning in.
"""

from importlib import import_module

from .folder import EmptyFolderError, ImageFolder, ResizeCrop

__all__ = ["AnimeData", "EmptyFolderError", "ImageFolder", "ResizeCrop", "GatysData", "ContentStyleData", "ContentStylePairs",
           "UnpairedData", "UnpairedDataset"]

_LAZY = {"AnimeData": ".anime", "ContentStyleData": ".content_style", "ContentStylePairs": ".content_style",
         "GatysData": ".gatys", "UnpairedData": ".unpaired", "UnpairedDataset": ".unpaired"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
