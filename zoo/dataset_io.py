"""The inputs of a dataset job (``python -m zoo.stylize_dataset``): what the items are, which style each one
gets, how it is read and resized, and where its output goes. No Lightning here (:mod:`zoo.dataset_job` is
the engine, :mod:`zoo.dataset_manifest` the record).

* Items: every image below the input folder (any depth, hidden files and folders skipped), and every image
  member of the WebDataset-style ``.tar`` shards found there (uncompressed tar; a member ``key.jpg`` of
  ``train/shard-000.tar`` is the item ``train/shard-000/key.jpg``). Each item is named by its relative POSIX
  path, sorted: the same list on every process and every run.
* Style assignment: :func:`assign_style` draws the style of an item from the job's seed and the item's
  relative path alone (a hash, not a random stream), so any number of processes, any order and any resume
  give the same pairs.
* Reading: :func:`read_content` / :func:`read_style` return RGB float (1, 3, H, W) in [0, 1] through
  :func:`zoo.io.load_image` (EXIF, modes, bit depths, pixel limit); an unreadable file raises
  :class:`zoo.io.ImageReadError` whose message names the item by its relative path.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import torch.nn.functional as F
from torch import Tensor

from .io import IMAGE_EXTENSIONS, SAVE_FORMATS, ImageReadError, load_image, resize_long_edge
from .stylize import OptionError

__all__ = ["Item", "DatasetJobError", "list_items", "list_styles", "assign_style", "item_seed", "read_content",
           "read_style", "output_rel", "Transform", "OUTPUT_FORMATS"]

SHARD_SUFFIX = ".tar"
# "same": the input's extension where it can be written (else .png); otherwise that format for every output.
OUTPUT_FORMATS = ("same", "png", "jpg", "webp")


class DatasetJobError(OptionError):
    """A dataset job that cannot run as configured (a missing folder, no images, a foreign output folder);
    the message names the option (``--data.input``...). Derived from :class:`zoo.stylize.OptionError` until
    the project's ``zoo.errors.ZooError`` exists."""


@dataclass(frozen=True, slots=True)
class Item:
    """One content image: ``rel`` its relative POSIX path (the output mirrors it), ``source`` the file it is
    in; for a member of a tar shard, ``offset`` and ``size`` locate its bytes in that file (else -1)."""

    rel: str
    source: str
    offset: int = -1
    size: int = -1


def _walk(root: Path, exclude: Path | None) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, path) of the files below ``root``, hidden files and folders and ``exclude``
    (an output folder inside the input) skipped; sorted within each folder."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (exclude is None or (here / d).resolve() != exclude))
        for name in sorted(files):
            if not name.startswith("."):
                path = here / name
                yield path.relative_to(root).as_posix(), path


def _shard_items(rel: str, path: Path) -> tuple[list[Item], str | None]:
    """The image members of the tar shard ``path`` (its items are named ``<rel without .tar>/<member>``),
    and the reason it could not be read to its end (None when it could)."""
    prefix = rel[: -len(SHARD_SUFFIX)]
    items: list[Item] = []
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                name = member.name.lstrip("./")
                base = name.rsplit("/", 1)[-1]
                if member.isfile() and not base.startswith(".") and Path(base).suffix.lower() in IMAGE_EXTENSIONS:
                    items.append(Item(f"{prefix}/{name}", str(path), member.offset_data, member.size))
    except (tarfile.TarError, OSError, EOFError) as e:
        return items, f"unreadable tar shard ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
    return items, None


def list_items(root: str | os.PathLike, exclude: str | os.PathLike | None = None
               ) -> tuple[list[Item], list[tuple[str, str]]]:
    """The items below ``root`` (images and tar shards' image members, sorted by relative path) and the
    shards that could not be read to their end, as ``(relative path, reason)``."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetJobError(f"--data.input {root}: no such folder")
    skip = Path(exclude).resolve() if exclude is not None else None
    items: list[Item] = []
    broken: list[tuple[str, str]] = []
    for rel, path in _walk(root, skip):
        suffix = path.suffix.lower()
        if suffix in IMAGE_EXTENSIONS:
            items.append(Item(rel, str(path)))
        elif suffix == SHARD_SUFFIX:
            found, problem = _shard_items(rel, path)
            items += found
            if problem:
                broken.append((rel, problem))
    items.sort(key=lambda i: i.rel)
    for a, b in zip(items, items[1:]):
        if a.rel == b.rel:  # a folder `x/` and a shard `x.tar` holding the same name
            raise DatasetJobError(f"--data.input {root}: two inputs are both named {a.rel} ({a.source}, {b.source})")
    return items, broken


def list_styles(style_dir: str | os.PathLike) -> list[str]:
    """The style images below ``style_dir``, as sorted relative POSIX paths."""
    root = Path(style_dir)
    if not root.is_dir():
        raise DatasetJobError(f"--data.style_dir {root}: no such folder")
    styles = [rel for rel, path in _walk(root, None) if path.suffix.lower() in IMAGE_EXTENSIONS]
    if not styles:
        raise DatasetJobError(f"--data.style_dir {root}: no style images found")
    return sorted(styles)


def _digest(seed: int, rel: str, what: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{what}\0{seed}\0{rel}".encode()).digest()[:8], "big")


def assign_style(seed: int, rel: str, n_styles: int) -> int:
    """The index of the style of item ``rel`` among ``n_styles`` sorted styles: uniform, a function of
    ``seed`` and ``rel`` only."""
    return _digest(seed, rel, "style") % n_styles


def item_seed(seed: int, rel: str) -> int:
    """The torch seed of item ``rel`` (Gatys' noise, any randomness of a stylizer): 63-bit, from ``seed``
    and ``rel`` only."""
    return _digest(seed, rel, "seed") & (2**63 - 1)


@dataclass(frozen=True)
class Transform:
    """What an image goes through before stylisation, in this order: ``square`` crops its largest centred
    square; ``resize`` scales its shorter edge to that many pixels (torchvision's ``Resize(n)``: bilinear,
    antialiased); ``crop`` takes the centred ``crop`` x ``crop`` square; ``long_edge`` scales its longer edge
    to that many pixels (``zoo stylize --size``)."""

    square: bool = False
    resize: int | None = None
    crop: int | None = None
    long_edge: int | None = None

    def __call__(self, image: Tensor) -> Tensor:
        h, w = image.shape[-2:]
        if self.square:
            s = min(h, w)
            top, left = (h - s) // 2, (w - s) // 2
            image, h, w = image[..., top:top + s, left:left + s], s, s
        if self.resize:
            scale = self.resize / min(h, w)
            size = (max(1, round(h * scale)), max(1, round(w * scale)))
            if size != (h, w):
                image = F.interpolate(image, size=size, mode="bilinear", align_corners=False,
                                      antialias=True).clamp(0, 1)
                h, w = size
        if self.crop:
            if min(h, w) < self.crop:
                raise ImageReadError(f"{w}x{h} after resizing, smaller than the {self.crop}-pixel crop")
            top, left = (h - self.crop) // 2, (w - self.crop) // 2
            image = image[..., top:top + self.crop, left:left + self.crop]
        return resize_long_edge(image, self.long_edge) if self.long_edge else image


def _relative_error(error: ImageReadError, path: str, rel: str) -> ImageReadError:
    text = str(error)
    return ImageReadError(rel + text[len(path):] if text.startswith(path) else f"{rel}: {text}")


def _load(path: str, rel: str, max_pixels: int | None) -> Tensor:
    try:
        return load_image(path, max_pixels)
    except ImageReadError as e:
        raise _relative_error(e, path, rel) from None


def read_content(item: Item, max_pixels: int | None = None, tmp_dir: str | None = None) -> Tensor:
    """The image of ``item`` (1, 3, H, W) in [0, 1]; :class:`ImageReadError` naming ``item.rel`` if it
    cannot be read. A tar member is read from its offset and decoded by :func:`zoo.io.load_image` through
    a temporary file in ``tmp_dir``, removed at once."""
    if item.offset < 0:
        return _load(item.source, item.rel, max_pixels)
    try:
        with open(item.source, "rb") as f:
            f.seek(item.offset)
            data = f.read(item.size)
    except OSError as e:
        raise ImageReadError(f"{item.rel}: cannot read its tar shard ({e.strerror or e})") from None
    if len(data) != item.size:
        raise ImageReadError(f"{item.rel}: truncated member of {Path(item.source).name}")
    fd, tmp = tempfile.mkstemp(suffix=Path(item.rel).suffix, dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return _load(tmp, item.rel, max_pixels)
    finally:
        os.unlink(tmp)


def read_style(style_dir: str, rel: str, max_pixels: int | None = None) -> Tensor:
    """The style image ``rel`` of ``style_dir`` (1, 3, H, W) in [0, 1]."""
    return _load(os.path.join(style_dir, rel), f"style {rel}", max_pixels)


def output_rel(rel: str, output_format: str) -> str:
    """The output's relative path for item ``rel``: the same path, with the extension of ``output_format``
    (``same``: the input's when it can be written, else ``.png``)."""
    path = Path(rel)
    if output_format == "same":
        suffix = path.suffix.lower() if path.suffix.lower() in SAVE_FORMATS else ".png"
    else:
        suffix = "." + output_format
    return path.with_suffix(suffix).as_posix()


def check_output_format(output_format: str) -> str:
    if output_format not in OUTPUT_FORMATS:
        raise DatasetJobError(f"--data.output_format {output_format!r}: expected one of {', '.join(OUTPUT_FORMATS)}")
    return output_format


def distinct_outputs(items: Sequence[Item], output_format: str) -> None:
    """Refuse two items whose outputs would be one file (``a.jpg`` and ``a.png`` written as png)."""
    seen: dict[str, str] = {}
    for item in items:
        out = output_rel(item.rel, output_format)
        if out in seen:
            raise DatasetJobError(f"--data.output_format {output_format}: {seen[out]} and {item.rel} would both be "
                                  f"written to {out}; use --data.output_format=same")
        seen[out] = item.rel
