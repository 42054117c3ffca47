"""LightningDataModules and the shared folder reader."""

from .anime import AnimeData
from .content_style import ContentStyleData, ContentStylePairs
from .folder import EmptyFolderError, ImageFolder, ResizeCrop
from .gatys import GatysData
from .unpaired import UnpairedData, UnpairedDataset

__all__ = ["AnimeData", "EmptyFolderError", "ImageFolder", "ResizeCrop", "GatysData", "ContentStyleData", "ContentStylePairs",
           "UnpairedData", "UnpairedDataset"]
