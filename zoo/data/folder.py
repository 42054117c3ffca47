"""The shared folder reader: a Dataset over the images below a folder that never crashes on a bad file."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..io import ImageReadError, list_images, load_image
from ..errors import ZooError

log = logging.getLogger(__name__)

__all__ = ["ImageFolder", "EmptyFolderError", "ResizeCrop"]


class EmptyFolderError(ZooError, FileNotFoundError):
    """A data folder is missing or has no images: a clear error at start, not at step 50,000."""


class ImageFolder(Dataset):
    """Every image below ``root`` (recursive, common extensions; the first ``limit`` of them in sorted order
    if given), as (3, H, W) float tensors in [0, 1].

    ``transform`` maps a (3, H, W) tensor to a (3, h, w) tensor (random resize/crop/flip, ...). A file that
    cannot be read is skipped with a warning, counted in :attr:`skipped` (per process), and replaced by the
    next readable file, so a corrupt image in a large dataset never stops training.
    """

    def __init__(self, root: str | os.PathLike, transform: Callable[[Tensor], Tensor] | None = None,
                 recursive: bool = True, max_pixels: int | None = None, limit: int | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise EmptyFolderError(f"{self.root}: no such directory")
        self.files: Sequence[Path] = list_images(self.root, recursive=recursive)
        if limit is not None:  # --data.limit: the first N images (sorted), for smoke runs and quick fine-tunes
            self.files = self.files[:limit]
        if not self.files:
            raise EmptyFolderError(f"{self.root}: no images found (looked for jpg, png, bmp, gif, webp, tif, ppm, pgm)")
        self.transform = transform
        self.max_pixels = max_pixels
        self.skipped: set[Path] = set()

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Tensor:
        for attempt in range(len(self.files)):
            path = self.files[(index + attempt) % len(self.files)]
            if path in self.skipped:
                continue
            try:
                image = load_image(path, max_pixels=self.max_pixels)[0]
            except ImageReadError as e:
                self.skipped.add(path)
                log.warning("skipping unreadable image (%d skipped so far): %s", len(self.skipped), e)
                continue
            return self.transform(image) if self.transform is not None else image
        raise EmptyFolderError(f"{self.root}: none of the {len(self.files)} images could be read")


class ResizeCrop:
    """Transform: resize the shorter edge to ``size`` (antialiased; 0 keeps it), then a random
    ``crop`` x ``crop`` window (None: no crop; images smaller than the crop are upscaled to it), then a
    horizontal flip with probability 0.5 if ``flip``. A class, not a closure, so workers can pickle it."""

    def __init__(self, size: int = 0, crop: int | None = None, flip: bool = False) -> None:
        self.size, self.crop, self.flip = int(size), crop, bool(flip)

    def __call__(self, x: Tensor) -> Tensor:
        import torch.nn.functional as F

        crop = self.crop or 1
        if self.size:
            h, w = x.shape[-2:]
            s = self.size / min(h, w)
            new = (max(crop, round(h * s)), max(crop, round(w * s)))
            if new != (h, w):
                x = F.interpolate(x[None], size=new, mode="bilinear", antialias=True,
                                  align_corners=False)[0].clamp(0, 1)
        if self.crop:
            h, w = x.shape[-2:]
            if h < crop or w < crop:
                x = F.interpolate(x[None], size=(max(h, crop), max(w, crop)), mode="bilinear",
                                  align_corners=False)[0].clamp(0, 1)
                h, w = x.shape[-2:]
            i = int(torch.randint(0, h - crop + 1, ()).item())
            j = int(torch.randint(0, w - crop + 1, ()).item())
            x = x[:, i:i + crop, j:j + crop]
        if self.flip and torch.rand(()) < 0.5:
            x = x.flip(-1)
        return x.contiguous()

    def __repr__(self) -> str:
        return f"ResizeCrop(size={self.size}, crop={self.crop}, flip={self.flip})"
