"""LightningDataModules and the shared folder reader."""

from .folder import EmptyFolderError, ImageFolder, ResizeCrop
from .gatys import GatysData

__all__ = ["EmptyFolderError", "ImageFolder", "ResizeCrop", "GatysData"]
