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

from ..devices import pin_memory
from ..errors import ConfigError
from ..stylize import check_whole
from .folder import ImageFolder, ResizeCrop
from .sources import data_folder, is_remote
from .stream import HubStream, PairStream, streamable

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
        limit: use only the first N content and N style images (and fetch only what they need).
        streaming: Hub folders are read file by file as they arrive (:class:`zoo.data.stream.HubStream`):
            training starts after the first parquet shard of each, not after the whole datasets. Without
            ``limit`` only; local folders are read as usual.

    Either folder may be a Hub dataset (``hf://datasets/ORG/NAME@REVISION[/SPLIT]``), fetched and verified on
    first use (:mod:`zoo.data.hub`, docs/data.md).

    Unreadable files are skipped with a warning and counted (:attr:`skipped`, per process).
    """

    def __init__(self, content_dir: str, style_dir: str, batch_size: int = 8, size: int = 512, crop: int = 256,
                 flip: bool = False, num_workers: int = 4, epoch_length: int | None = None,
                 max_pixels: int | None = None, limit: int | None = None, streaming: bool = False) -> None:
        super().__init__()
        if crop is None:
            raise ConfigError("--data.crop: a crop size is needed (batches need equal sizes)")
        for key, value, least in (("batch_size", batch_size, 1), ("size", size, 0), ("crop", crop, 1),
                                  ("num_workers", num_workers, 0), ("epoch_length", epoch_length, 1),
                                  ("limit", limit, 1)):
            check_whole(f"--data.{key}", value, least)
        if size and int(size) < int(crop):
            raise ConfigError(f"size ({size}) must be at least crop ({crop})")
        self.content_dir, self.style_dir = (d if is_remote(d) else os.fspath(d) for d in (content_dir, style_dir))
        self.limit = limit
        self.streaming = bool(streaming) and limit is None
        self.batch_size, self.size, self.crop, self.flip = int(batch_size), int(size), int(crop), bool(flip)
        self.num_workers, self.epoch_length, self.max_pixels = int(num_workers), epoch_length, max_pixels
        self.content: ImageFolder | None = None
        self.style: ImageFolder | None = None

    def prepare_data(self) -> None:
        """Fetch and verify Hub data (Lightning calls this on one process per machine)."""
        for folder in (self.content_dir, self.style_dir):
            if not (self.streaming and streamable(folder)):
                data_folder(folder, self.limit)

    def setup(self, stage: str | None = None) -> None:
        if self.content is None:
            transform = ResizeCrop(self.size, self.crop, self.flip)
            # both folders are checked here, so a wrong path fails at start with EmptyFolderError
            self.content, self.style = (self._source(d, transform, cycle) for d, cycle in
                                        ((self.content_dir, False), (self.style_dir, True)))

    def _source(self, folder, transform, cycle: bool):
        if self.streaming and streamable(folder):
            return HubStream(folder, transform, seed=int(torch.initial_seed()) % (1 << 31) + cycle, cycle=cycle,
                             max_pixels=self.max_pixels)
        return ImageFolder(data_folder(folder, self.limit), transform, max_pixels=self.max_pixels, limit=self.limit)

    @property
    def skipped(self) -> int:
        """Unreadable files skipped so far in this process (content + style)."""
        return sum(len(f.skipped) for f in (self.content, self.style) if f is not None)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        if isinstance(self.content, HubStream) or isinstance(self.style, HubStream):
            content = self.content if isinstance(self.content, HubStream) else _Cycle(self.content)
            return DataLoader(PairStream(content, self.style), batch_size=self.batch_size, drop_last=True,
                              num_workers=self.num_workers, pin_memory=torch.cuda.is_available(),
                              persistent_workers=self.num_workers > 0)
        pairs = ContentStylePairs(self.content, self.style, self.epoch_length)
        return DataLoader(pairs, batch_size=self.batch_size, shuffle=True, num_workers=self.num_workers,
                          drop_last=len(pairs) >= self.batch_size, pin_memory=pin_memory(self.trainer),
                          persistent_workers=self.num_workers > 0)


class _Cycle(torch.utils.data.IterableDataset):
    """A local content folder in random order, one pass (paired with a streamed style source)."""

    def __init__(self, folder: ImageFolder) -> None:
        self.folder, self.seed, self.passes = folder, int(torch.initial_seed()) % (1 << 31), 0

    def __len__(self) -> int:
        return len(self.folder)

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        self.passes += 1  # the same order in every worker, a new one each pass
        order = torch.randperm(len(self.folder), generator=torch.Generator().manual_seed(self.seed + self.passes)).tolist()
        if info is not None:
            order = order[info.id::info.num_workers]
        for i in order:
            yield self.folder[i]
