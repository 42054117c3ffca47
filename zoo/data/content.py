"""Content-folder datamodule: a folder of content photos (e.g. COCO train2014) plus one style image (or a
few, blended), for the feed-forward perceptual variant (Johnson et al. 2016).

Reading the folder -- recursion, extensions, skipping and counting unreadable files, the empty-folder
error -- is :class:`zoo.data.folder.ImageFolder`'s job; this module only adds the datamodule around it.
"""

from __future__ import annotations

import logging
import os

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader

from ..errors import ConfigError
from ..io import load_image, resize_long_edge
from ..devices import pin_memory
from ..stylize import check_weights, check_whole
from .folder import ImageFolder, ResizeCrop
from .sources import data_file, data_folder
from .stream import HubStream, streamable

log = logging.getLogger(__name__)

__all__ = ["ContentData", "CenterResizeCrop"]


class CenterResizeCrop:
    """Deterministic transform for validation: shorter edge to ``size``, then the central ``size`` square."""

    def __init__(self, size: int) -> None:
        self.size = int(size)

    def __call__(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        s = self.size / min(h, w)
        new = (max(self.size, round(h * s)), max(self.size, round(w * s)))
        if new != (h, w):
            x = F.interpolate(x[None], size=new, mode="bilinear", antialias=True, align_corners=False)[0].clamp(0, 1)
        h, w = x.shape[-2:]
        i, j = (h - self.size) // 2, (w - self.size) // 2
        return x[:, i:i + self.size, j:j + self.size].contiguous()

    def __repr__(self) -> str:
        return f"CenterResizeCrop(size={self.size})"


class ContentData(LightningDataModule):
    """Content images from a folder, random-resized-and-cropped to ``image_size``, and the style image(s).

    Args:
        content_dir: folder of content images, read recursively (jpg, png, bmp, gif, webp, tif, ppm, pgm).
            Unreadable files are skipped with a warning and counted; an empty or missing folder raises
            :class:`~zoo.data.folder.EmptyFolderError` in ``setup``, before any training step.
        style: the style image path, or a list of paths whose targets are blended (``style_weights``).
        style_weights: blend weights for several styles (default: equal).
        image_size: training crop (the shorter edge is resized to it, then a random square crop).
        style_size: long edge the style image is resized to before its target is computed (None: as is).
        batch_size, num_workers: DataLoader settings.
        val_dir: folder of validation content images; default: the last ``val_images`` files of
            ``content_dir`` are held out (with one image only, it is used for both).
        val_images: how many validation images (they also make the logged grid).
        flip: random horizontal flips of the training crops.
        max_pixels: refuse images larger than this (default: zoo.io's limit).
        limit: use only the first N content images (and fetch only what they need).
        streaming: a Hub ``content_dir`` is read file by file as it arrives (:class:`zoo.data.stream.HubStream`:
            training starts after the first parquet shard, not after the whole dataset); the validation images
            are the first ``val_images`` of the first shard. Without ``limit`` only; ignored for local folders.

    ``content_dir`` and ``val_dir`` may name Hub datasets (``hf://datasets/ORG/NAME@REVISION``) and ``style``
    files by URL (``https://...#sha256=HEX``): fetched and verified on first use (:mod:`zoo.data.hub`).
    """

    def __init__(self, content_dir: str, style: str | list[str] | None = None,
                 style_weights: list[float] | None = None, image_size: int = 256, style_size: int | None = 256,
                 batch_size: int = 4, num_workers: int = 4, val_dir: str | None = None, val_images: int = 8,
                 flip: bool = False, max_pixels: int | None = None, limit: int | None = None,
                 streaming: bool = False) -> None:
        super().__init__()
        for key, value, least in (("image_size", image_size, 1), ("style_size", style_size, 1),
                                  ("batch_size", batch_size, 1), ("num_workers", num_workers, 0),
                                  ("val_images", val_images, 0), ("limit", limit, 1)):
            check_whole(f"--data.{key}", value, least)
        self.save_hyperparameters()
        self.content_dir = content_dir
        self.styles = [] if style is None else ([style] if isinstance(style, (str, os.PathLike)) else list(style))
        if style_weights is not None and len(style_weights) != len(self.styles):
            raise ConfigError(f"{len(style_weights)} style_weights for {len(self.styles)} style images")
        if style_weights is not None:
            check_weights("--data.style_weights", style_weights)
        self.style_weights = list(style_weights) if style_weights is not None else [1.0] * len(self.styles)
        self.image_size, self.style_size = int(image_size), style_size
        self.batch_size, self.num_workers = int(batch_size), int(num_workers)
        self.val_dir, self.val_images, self.flip, self.max_pixels = val_dir, int(val_images), flip, max_pixels
        self.limit = limit
        self.streaming = bool(streaming) and streamable(content_dir) and limit is None
        self.train_set: ImageFolder | HubStream | None = None
        self.val_set: ImageFolder | None = None
        self._style_tensors: list[Tensor] | None = None

    # ------------------------------------------------------------------ setup
    def prepare_data(self) -> None:
        """Fetch and verify Hub / URL data (Lightning calls this on one process per machine)."""
        if not self.streaming:
            data_folder(self.content_dir, self.limit)
        if self.val_dir is not None:
            data_folder(self.val_dir, self.val_images or None)
        for p in self.styles:
            data_file(p)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        if self.streaming:
            self._setup_stream()
            return
        content_dir = data_folder(self.content_dir, self.limit)
        train = ImageFolder(content_dir, ResizeCrop(self.image_size, self.image_size, self.flip),
                            max_pixels=self.max_pixels, limit=self.limit)
        if self.val_dir is not None:
            val = ImageFolder(data_folder(self.val_dir, self.val_images or None), CenterResizeCrop(self.image_size),
                              max_pixels=self.max_pixels)
        else:
            val = ImageFolder(content_dir, CenterResizeCrop(self.image_size), max_pixels=self.max_pixels,
                              limit=self.limit)
            files = list(train.files)
            k = max(1, min(self.val_images, len(files) // 2))  # never more than half of a small folder
            val.files = files[-k:]
            if len(files) > k:
                train.files = files[:-k]
        if self.val_images and len(val.files) > self.val_images:
            val.files = list(val.files)[: self.val_images]
        self.train_set, self.val_set = train, val
        self.style_images()  # read the style now: a bad style file is an error at start
        log.info("content: %d training images, %d validation images", len(train), len(val))

    def _setup_stream(self) -> None:
        stream = HubStream(self.content_dir, ResizeCrop(self.image_size, self.image_size, self.flip),
                           seed=int(torch.initial_seed()) % (1 << 31), max_pixels=self.max_pixels)
        if self.val_dir is not None:
            val = ImageFolder(data_folder(self.val_dir, self.val_images or None), CenterResizeCrop(self.image_size),
                              max_pixels=self.max_pixels)
        else:
            held_out = stream.first_images(max(1, self.val_images))
            val = ImageFolder(held_out[0].parent, CenterResizeCrop(self.image_size), max_pixels=self.max_pixels)
            val.files = held_out
            stream.exclude = set(held_out)
        if self.val_images and len(val.files) > self.val_images:
            val.files = list(val.files)[: self.val_images]
        self.train_set, self.val_set = stream, val
        self.style_images()
        log.info("content: streaming %s (%d files), %d validation images", self.content_dir,
                 len(stream.plan.files), len(val))

    def style_images(self) -> list[Tensor]:
        """The style image(s), each (1, 3, h, w) in [0, 1], resized to ``style_size`` (read once)."""
        if self._style_tensors is None:
            if not self.styles:
                raise ConfigError("no style image: pass --data.style=PATH")
            self._style_tensors = [resize_long_edge(load_image(data_file(p), max_pixels=self.max_pixels),
                                                    self.style_size) for p in self.styles]
        return self._style_tensors

    @property
    def skipped(self) -> int:
        """Unreadable files skipped so far in this process (DataLoader workers count their own)."""
        return sum(len(d.skipped) for d in (self.train_set, self.val_set) if d is not None)

    # ------------------------------------------------------------------ loaders
    def _loader(self, dataset, shuffle: bool, drop_last: bool) -> DataLoader:
        if isinstance(dataset, HubStream):  # a stream shuffles itself, file by file
            shuffle, drop_last = False, True
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=shuffle, drop_last=drop_last,
                          num_workers=self.num_workers, pin_memory=pin_memory(self.trainer),
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        assert self.train_set is not None
        if isinstance(self.train_set, HubStream):
            return self._loader(self.train_set, shuffle=False, drop_last=True)
        return self._loader(self.train_set, shuffle=True, drop_last=len(self.train_set) >= self.batch_size)

    def val_dataloader(self) -> DataLoader:
        self.setup("validate")
        assert self.val_set is not None
        return self._loader(self.val_set, shuffle=False, drop_last=False)
