"""Evaluation protocols: which images are stylised, and what they are compared with.

``styleid`` -- arbitrary style transfer (Gatys, Johnson, AdaIN-GAN)
    A content set x style set: every content image with every style image. The protocol of recent
    papers is 20 content images (MS-COCO) x 40 style images (WikiArt) = 800 pairs; StyleID (Chung et al.,
    CVPR 2024) publishes its set in ``data/cnt`` and ``data/sty`` of github.com/jiwoogit/StyleID and
    evaluates at 512 x 512. FID/ArtFID compare the 800 stylised images with the 800 style images of the
    pairs (each style image counted once per pair, as StyleID's ``util/copy_inputs.py`` duplicates
    them); LPIPS, content loss and CFSD compare each stylised image with its content image, the style
    loss with its style image. When a folder holds more images than the protocol needs, a subset is
    drawn with a seeded ``random.Random(seed).sample`` of the sorted file list, so the selection is the
    same on every machine.

``cyclegan`` -- unpaired translation
    The test split of a CycleGAN dataset folder (``testA/``, ``testB/``, as the datasets of
    Zhu et al. 2017 unpack): direction ``AtoB`` translates every ``testA`` image and compares the
    results with all ``testB`` images (FID); ``BtoA`` the reverse. N is the number of translated images
    (horse2zebra: 120 horses, 140 zebras), at 256 x 256. The folder may be a Hub dataset
    (``hf://datasets/ORG/NAME@REVISION``, :mod:`zoo.data.hub`); without one, a model whose name names a
    dataset of :data:`TEST_DATA` (``cyclegan_horse2zebra``) is measured on that dataset's test split,
    downloaded and verified on first use, and the published figures for it (``benchmarks.table.REFERENCES``)
    are printed beside ours.

Images are read with zoo.io.load_image, resized so the shorter side is ``size`` (PIL bicubic on uint8,
antialiased) and centre-cropped to ``size`` x ``size``; for the published image sets (StyleID's 512 x 512
images, the 256 x 256 CycleGAN test images) this is the identity. Stylised images are written as 8-bit
PNG files and the metrics read them back.

Feature extraction follows the code behind the published numbers each protocol is shown beside
(docs/benchmarks.md, "Comparability"); ``Protocol.info["published"]`` records how, and what differs:

* ``styleid``: ArtFID and its FID as StyleID's evaluation/eval_artfid.py computes them (PIL images,
  torchvision ``Resize(512)`` = PIL bilinear on the shorter side, ``ToTensor``, the art Inception at the
  image's own size, no 299 resize): :func:`benchmarks.metrics.art_fid_distance` with ``art_size=512``.
* ``cyclegan``: FID as mmagic's ``TransFID(inception_style='PyTorch')`` computes it for its CycleGAN
  model zoo: :class:`benchmarks.metrics.FID` with ``pipeline="pytorch-fid"``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from zoo.data.hub import data_folder, is_remote, join
from zoo.io import list_images, load_image

__all__ = ["Item", "Protocol", "ProtocolError", "styleid_protocol", "cyclegan_protocol", "select", "load_square",
           "PROTOCOLS", "PUBLISHED", "DEFAULT_SIZE", "STYLEID_N_CONTENT", "STYLEID_N_STYLE", "TEST_DATA",
           "default_test_data"]

# The test data a protocol reads when no folder is given: {dataset name: Hub id at a pinned commit}. The
# horse2zebra copy of the HugGAN Community, the same files as recipes/cyclegan_horse2zebra.yaml trains on:
# huggingface.co/datasets/huggan/horse2zebra at a6b0c49c5b3a3fa494314a6247b2f7a5d78cf692, split "test"
# (data/test-00000-of-00001.parquet): column imageA holds the 120 test horses (cycled to 140 rows; each
# image is used once), imageB the 140 test zebras (docs/data.md).
TEST_DATA = {"horse2zebra": "hf://datasets/huggan/horse2zebra@a6b0c49c5b3a3fa494314a6247b2f7a5d78cf692"}


def default_test_data(model: str) -> tuple[str, str] | None:
    """(dataset name, source) of :data:`TEST_DATA` that a model's name names (``cyclegan_horse2zebra``), or None."""
    for name, source in TEST_DATA.items():
        if name in model:
            return name, source
    return None

# How the published numbers beside each protocol were computed, and what differs here (recorded in results).
PUBLISHED = {
    "styleid": ("StyleID (Chung et al. 2024) evaluation/eval_artfid.py: ArtFID/FID in art-Inception features of "
                "PNG images resized by torchvision Resize(512) (PIL bilinear, shorter side) at their own size, "
                "LPIPS AlexNet v0.1 on Resize(512) images; the same here (fid_art, art_size=512; lpips_alex)"),
    "cyclegan": ("mmagic TransFID(inception_style='PyTorch') of configs/cyclegan: pytorch-fid's Inception, "
                 "(x-127.5)/127.5 then bilinear F.interpolate to 299 inside the network; the same here "
                 "(fid_inception, pipeline pytorch-fid). Differences: mmagic counts 140 translations for 120 "
                 "horses (its loader cycles through them) and feeds them as floats; here each source image is "
                 "translated once and read back from 8-bit PNG (see docs/benchmarks.md for their measured size)"),
}
STYLEID_N_CONTENT = 20
STYLEID_N_STYLE = 40
DEFAULT_SIZE = {"styleid": 512, "cyclegan": 256}
PROTOCOLS = tuple(DEFAULT_SIZE)


class ProtocolError(ValueError):
    """The data given does not fit the protocol (missing folders, too few images)."""


@dataclass(frozen=True)
class Item:
    """One image to stylise: its output file name, the content (source) image and the style image, if any."""

    name: str
    content: Path
    style: Path | None = None


@dataclass
class Protocol:
    """Everything a run needs: the items to stylise, the reference images of the FID, and what to record."""

    name: str
    items: list[Item]
    real: list[Path]  # reference set of the FID (may repeat a file: it then counts several times)
    size: int
    standard: bool  # the published protocol (full size), comparable with published numbers
    info: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.items)


def select(paths: list[Path], n: int | None, seed: int = 0, what: str = "images") -> list[Path]:
    """``n`` of ``paths``, chosen deterministically: all of them when there are exactly ``n``, else a seeded
    sample of the sorted list (returned sorted). ``None`` keeps all."""
    paths = sorted(paths)
    if n is None or len(paths) == n:
        return paths
    if n < 1:
        raise ProtocolError(f"the number of {what} must be at least 1, got {n}")
    if len(paths) < n:
        raise ProtocolError(f"{len(paths)} {what} found, the protocol needs {n}")
    return sorted(random.Random(seed).sample(paths, n))


def _images(folder: str | Path, what: str) -> list[Path]:
    remote = is_remote(folder)
    folder = data_folder(folder) if remote else Path(folder)  # Hub data: fetched and verified first
    if not folder.is_dir():
        raise ProtocolError(f"{folder}: no such directory ({what})")
    found = list_images(folder, recursive=remote)
    if not found:
        raise ProtocolError(f"{folder}: no images ({what})")
    return found


def _unique_names(stems: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for s in stems:
        k = seen.get(s, 0)
        seen[s] = k + 1
        out.append(f"{s}.png" if k == 0 else f"{s}-{k}.png")
    return out


def styleid_protocol(content_dir: str | Path, style_dir: str | Path, n_content: int = STYLEID_N_CONTENT,
                     n_style: int = STYLEID_N_STYLE, size: int | None = None, seed: int = 0) -> Protocol:
    """The content x style protocol (20 x 40 = 800 pairs by default); see the module docstring."""
    size = size or DEFAULT_SIZE["styleid"]
    try:
        contents = select(_images(content_dir, "content images"), n_content, seed, "content images")
        styles = select(_images(style_dir, "style images"), n_style, seed, "style images")
    except ProtocolError as e:
        raise ProtocolError(f"{e} (--n-content/--n-style run a smaller, non-standard protocol)") from None
    items = []
    for c in contents:
        for s in styles:
            items.append(Item(f"{c.stem}__{s.stem}", c, s))
    names = _unique_names([it.name for it in items])
    items = [Item(n, it.content, it.style) for n, it in zip(names, items)]
    standard = (len(contents), len(styles)) == (STYLEID_N_CONTENT, STYLEID_N_STYLE) and size == DEFAULT_SIZE["styleid"]
    info = {"n_content": len(contents), "n_style": len(styles), "seed": seed,
            "content_dir": str(content_dir), "style_dir": str(style_dir),
            "content_files": [p.name for p in contents], "style_files": [p.name for p in styles],
            "fid_reference": "the style image of every pair (each style counted once per content image)",
            "published": PUBLISHED["styleid"],
            "selection": "all images" if standard else f"seeded sample (seed {seed}) of the sorted file lists"}
    return Protocol("styleid", items, [it.style for it in items], size, standard, info)


def cyclegan_protocol(data_dir: str | Path, direction: str = "AtoB", size: int | None = None,
                      limit: int | None = None, dataset: str | None = None) -> Protocol:
    """The CycleGAN test split: translate testA (AtoB) or testB (BtoA), FID against the other test folder
    (a local folder or a Hub dataset, ``hf://datasets/ORG/NAME@REVISION``)."""
    if direction not in ("AtoB", "BtoA"):
        raise ProtocolError(f"direction must be AtoB or BtoA, got {direction!r}")
    size = size or DEFAULT_SIZE["cyclegan"]
    data_dir = data_dir if is_remote(data_dir) else Path(data_dir)
    src, dst = ("testA", "testB") if direction == "AtoB" else ("testB", "testA")
    sources = _images(join(data_dir, src), f"{src}, the test images to translate")
    targets = _images(join(data_dir, dst), f"{dst}, the real images of the target domain")
    if limit is not None:
        sources = sources[:limit]
    names = _unique_names([p.stem for p in sources])
    items = [Item(n, p) for n, p in zip(names, sources)]
    standard = limit is None and size == DEFAULT_SIZE["cyclegan"]
    info = {"data_dir": str(data_dir), "dataset": dataset or (None if is_remote(data_dir) else Path(data_dir).name),
            "direction": direction, "source": src, "target": dst,
            "n_source": len(sources), "n_target": len(targets),
            "fid_reference": f"all {len(targets)} images of {dst}", "published": PUBLISHED["cyclegan"]}
    return Protocol("cyclegan", items, targets, size, standard, info)


def load_square(path: str | Path, size: int) -> Tensor:
    """(1, 3, size, size) in [0, 1]: shorter side resized to ``size`` (PIL bicubic on uint8), centre crop."""
    x = load_image(path)
    h, w = x.shape[-2:]
    if (h, w) == (size, size):
        return x
    img = Image.fromarray(x[0].mul(255).round().clamp(0, 255).byte().permute(1, 2, 0).numpy(), "RGB")
    scale = size / min(h, w)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((nw, nh), resample=Image.Resampling.BICUBIC)
    left, top = (nw - size) // 2, (nh - size) // 2
    img = img.crop((left, top, left + size, top + size))
    return torch.from_numpy(np.array(img, dtype=np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0).contiguous()
