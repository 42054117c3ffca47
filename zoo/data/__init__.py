"""LightningDataModules and the shared folder reader."""

from .folder import EmptyFolderError, ImageFolder, ResizeCrop

try:  # zoo/data/gatys.py is not on main yet; importing the package must not fail meanwhile
    from .gatys import GatysData
except ModuleNotFoundError:  # pragma: no cover
    GatysData = None  # type: ignore[assignment,misc]

__all__ = ["EmptyFolderError", "ImageFolder", "ResizeCrop", "GatysData"]
