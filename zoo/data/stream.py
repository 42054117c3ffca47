"""Streaming a large Hub dataset (COCO, WikiArt): training starts once the first file of the dataset is here.

:class:`HubStream` is an ``IterableDataset`` over the files of a Hub source (:func:`zoo.data.hub.hub_plan`:
parquet shards of a few hundred MB, or single image files). Each pass takes the files in a seeded random order
(a new order each pass), splits them between DataLoader workers and distributed processes, fetches each one
(downloaded, verified against the Hub's checksum, made into a whole folder: :meth:`Plan.fetch`) while the
previous one is being read (one file ahead, in a background thread), and yields its images in a random
order, as ``datasets``' streaming mode shuffles within a buffer. Everything fetched stays in the cache, so a
second pass, and a second run, read local files only.

Its length is known once every file is here (a second run); the first run streams without one, so settings
that need it (a fractional ``val_check_interval``) take a number of steps instead.
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import Tensor
from torch.utils.data import IterableDataset, get_worker_info

from ..io import ImageReadError, list_images, load_image
from .hub import HUB_PREFIX, Plan, hub_plan, parse_hub

log = logging.getLogger(__name__)

__all__ = ["HubStream", "PairStream", "streamable"]


def streamable(source) -> bool:
    """Whether ``source`` names Hub data (which can be streamed)."""
    return isinstance(source, str) and source.startswith(HUB_PREFIX)


def _rank_world() -> tuple[int, int]:
    """(rank, world size) of the distributed run this process belongs to ((0, 1) outside one)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _shard_of_world(rank: int, world: int) -> tuple[int, int]:
    """(this reader's index, number of readers) across DataLoader workers and distributed ranks."""
    info = get_worker_info()
    wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * nw + wid, world * nw


class HubStream(IterableDataset):
    """Transformed images ((3, h, w) in [0, 1]) of a Hub source, streamed file by file (module doc).

    ``cycle``: start a new pass when one ends (a style stream paired with a content stream).
    ``exclude``: image files never yielded (the held-out validation images).
    """

    def __init__(self, source: str, transform: Callable[[Tensor], Tensor] | None = None, seed: int = 0,
                 cycle: bool = False, max_pixels: int | None = None, exclude: set[Path] | None = None) -> None:
        self.source = source
        self.plan: Plan = hub_plan(parse_hub(source))
        self.transform, self.seed, self.cycle, self.max_pixels = transform, int(seed), bool(cycle), max_pixels
        self.exclude = set(exclude or ())
        self.passes = 0
        self.skipped: set[Path] = set()
        # read here, in the process of the rank (DataLoader workers do not see the process group)
        self.rank, self.world = _rank_world()

    def __len__(self) -> int:
        """The number of images once every file is here; ``TypeError`` (no length) while streaming."""
        if not all(self.plan.present(e) for e in self.plan.files):
            raise TypeError("the length of a stream is known once all its files are here")
        return sum(len(self._images(self.plan.target(e))) for e in self.plan.files) - len(self.exclude)

    def first_images(self, n: int) -> list[Path]:
        """The first ``n`` images of the dataset's first file (fetched now): a fixed validation set."""
        return self._images(self.plan.fetch(self.plan.files[0]))[:n]

    def _images(self, unit: Path) -> list[Path]:
        return [unit] if unit.is_file() else list_images(unit)

    def __iter__(self) -> Iterator[Tensor]:
        me, every = _shard_of_world(self.rank, self.world)
        while True:
            self.passes += 1
            order = list(self.plan.files)
            random.Random(self.seed * 1_000_003 + self.passes).shuffle(order)
            mine = order[me::every] or order[:1]  # more workers than files: each reads the first one
            yield from self._pass(mine)
            if not self.cycle:
                return

    def _pass(self, entries: list[dict]) -> Iterator[Tensor]:
        rng = random.Random(self.seed + 7919 * self.passes)
        with ThreadPoolExecutor(1, thread_name_prefix="zoo-stream") as ahead:
            pending = ahead.submit(self.plan.fetch, entries[0])
            for i in range(len(entries)):
                unit = pending.result()  # errors (offline, checksum) surface here, once, as one line
                if i + 1 < len(entries):
                    pending = ahead.submit(self.plan.fetch, entries[i + 1])
                files = [f for f in self._images(unit) if f not in self.exclude]
                rng.shuffle(files)
                for path in files:
                    try:
                        image = load_image(path, max_pixels=self.max_pixels)[0]
                    except ImageReadError as e:
                        self.skipped.add(path)
                        log.warning("skipping unreadable image (%d skipped so far): %s", len(self.skipped), e)
                        continue
                    yield self.transform(image) if self.transform is not None else image


class PairStream(IterableDataset):
    """``(content, style)`` items: a content stream (one pass) each with the next image of a cycling style
    source (a stream, or a map-style folder drawn at random)."""

    def __init__(self, content: HubStream, style) -> None:
        self.content, self.style = content, style

    def __len__(self) -> int:
        return len(self.content)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        if isinstance(self.style, IterableDataset):
            styles = iter(self.style)
            for c in self.content:
                yield c, next(styles)
        else:
            for c in self.content:
                yield c, self.style[int(torch.randint(len(self.style), ()).item())]
