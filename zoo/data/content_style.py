"""Content + style folders for arbitrary style transfer (AdaIN): random (content, style) pairs.

Huang & Belongie 2017, sec. 6.1: "we resize the smallest dimension of both images to 512 while preserving
the aspect ratio, then randomly crop regions of size 256 x 256", content from MS-COCO, style from
WikiArt (Painter by Numbers). (pytorch-AdaIN's train.py resizes to 512 x 512 without keeping the aspect
ratio; we follow the paper.) Both folders are read with the shared :class:`zoo.data.folder.ImageFolder`,
which skips and counts unreadable files instead of stopping a long run.
"""

from __future__ import annotations

import os

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..errors import ConfigError
from ..stylize import check_whole
from .folder import ImageFolder, ResizeCrop

__all__ = ["ContentStylePairs", "ContentStyleData"]


class ContentStylePairs(Dataset):
    """Item ``i`` is ``(content[i], style[j])`` with ``j`` drawn at random (torch's RNG, seeded per worker
    by the DataLoader), as pytorch-AdaIN samples content and style independently. One epoch is one pass
    over the content images, or ``length`` items."""

    def __init__(self, content: ImageFolder, style: ImageFolder, length: int | None = None) -> None:
        self.content, self.style = content, style
        self.length = int(length) if length else len(content)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        j = int(torch.randint(len(self.style), ()).item())
        return self.content[index % len(self.content)], self.style[j]


class ContentStyleData(L.LightningDataModule):
    """Training pairs from a content folder and a style folder (recursive; jpg, png, ...).

    Args:
        content_dir: content photographs (MS-COCO in the paper).
        style_dir: paintings (WikiArt in the paper).
        batch_size: 8 in the paper (sec. 6.1).
        size: shorter edge after resizing (512 in the paper); 0 keeps the image size.
        crop: side of the random square crop (256 in the paper).
        flip: random horizontal flips (not in the paper).
        num_workers: DataLoader worker processes.
        epoch_length: items per epoch (default: the number of content images).
        max_pixels: images with more pixels are skipped as unreadable (default: zoo.io's limit).

    Unreadable files are skipped with a warning and counted (:attr:`skipped`, per process).
    """

    def __init__(self, content_dir: str, style_dir: str, batch_size: int = 8, size: int = 512, crop: int = 256,
                 flip: bool = False, num_workers: int = 4, epoch_length: int | None = None,
                 max_pixels: int | None = None) -> None:
        super().__init__()
        if crop is None:
            raise ConfigError("--data.crop: a crop size is needed (batches need equal sizes)")
        for key, value, least in (("batch_size", batch_size, 1), ("size", size, 0), ("crop", crop, 1),
                                  ("num_workers", num_workers, 0), ("epoch_length", epoch_length, 1)):
            check_whole(f"--data.{key}", value, least)
        if size and int(size) < int(crop):
            raise ConfigError(f"size ({size}) must be at least crop ({crop})")
        self.content_dir, self.style_dir = os.fspath(content_dir), os.fspath(style_dir)
        self.batch_size, self.size, self.crop, self.flip = int(batch_size), int(size), int(crop), bool(flip)
        self.num_workers, self.epoch_length, self.max_pixels = int(num_workers), epoch_length, max_pixels
        self.content: ImageFolder | None = None
        self.style: ImageFolder | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.content is None:
            transform = ResizeCrop(self.size, self.crop, self.flip)
            # both folders are checked here, so a wrong path fails at start with EmptyFolderError
            self.content = ImageFolder(self.content_dir, transform, max_pixels=self.max_pixels)
            self.style = ImageFolder(self.style_dir, transform, max_pixels=self.max_pixels)

    @property
    def skipped(self) -> int:
        """Unreadable files skipped so far in this process (content + style)."""
        return sum(len(f.skipped) for f in (self.content, self.style) if f is not None)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        pairs = ContentStylePairs(self.content, self.style, self.epoch_length)
        return DataLoader(pairs, batch_size=self.batch_size, shuffle=True, num_workers=self.num_workers,
                          drop_last=len(pairs) >= self.batch_size, pin_memory=torch.cuda.is_available(),
                          persistent_workers=self.num_workers > 0)
