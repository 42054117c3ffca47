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

from zoo.data.hub import join
from zoo.data.sources import data_file, data_folder, is_remote
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

# StyleID's published 20 content (MS-COCO) + 40 style (WikiArt) images, the styleid protocol's default:
# jiwoogit/StyleID (MIT licence) at commit d4ea655dc1f7b19e0eac9553ad087132d18bb96f, data/cnt and data/sty,
# 27 MB in all; "name sha256" of each file as that commit's blobs hash. No Hub copy exists: fetched from GitHub
# by URL and verified (zoo.data.hub.data_file).
STYLEID_COMMIT = "d4ea655dc1f7b19e0eac9553ad087132d18bb96f"
STYLEID_URL = f"https://raw.githubusercontent.com/jiwoogit/StyleID/{STYLEID_COMMIT}/data"
STYLEID_FILES = {"cnt": """
    00.png f4bce52a54999556e9fe95d018c1ee2d7b5735883063ea68f33a7be66b068c60
    01.png f529a268302a8621bb504931d1754dd249b1d689212be895b78f87e77713fae5
    02.png 13186975b9ffca5cd8900b3acf8daab88d0fd08ce550cfc5ada40ef7960c0f37
    03.png c262f02a8de56cfc2dacaaaffec87f80a272cfac0b7a376bba6532a983909b96
    04.png e5be6a63d8f5c621f777082f5ff1dba268a0691e5124effd2a46b53db1764731
    05.png c12f45ed85fd38905146b7f9900d3ceb98250de925d9ddd98c5f48a5ef733414
    06.png 3d3eb67df7eb6a1c20733681ff692bfad9afd5b29d98c8a8f86bb78b4594ec88
    07.png 20fcb4bd16fffaa33bdb33096295dffb8579333c44056d725b399357762299aa
    08.png d9510b8ebdae065b6af9efce047f91c82c03bd188a1a8fcd142e22b5fcf5c01a
    09.png d044e5b39fbf4297c7b895368fb0e588e6c592e071d0d3c957922bfb26297057
    10.png c1448a1893d138daffc0bfdd62372f0b2a2c39e783390b5fee5908b7dbd179d1
    11.png ad761059c8e04496666daaf2fe524ede8e0a3d7f7915950ee94e4d5b1a52fb1d
    12.png 4031fc49f8423fdb619a563eabf4f255955cca0fddce8bbf135cf84a830cdd9d
    13.png 546ebfc4212244f56a2c831a3673f0cd3ff4625a61e7b087e5fe519ca579a553
    14.png 98b9d464b806a6000354e4ec0c29c9354f09ca43b26d45d6a2f78a5ff62fb013
    15.png 1093a39c7259db3f205b991c3d9bcfc4b09dcf748e83427cd6cb9579045003fd
    16.png ad53d992b335bdd7306511702292b7f9f82358806d769c74c0c4d8ff13ad4059
    17.png e0d43689dc72f3b555d5062c80098ee9a48faae80406b7c681bda613546f51d7
    18.png 131dda0f5bc8ff80296f315a9e2356a7dd447c7d52db595cea2d16e0c3c2bfa6
    19.png ddf1eab2b6df5e5775c45664003b213d801bab7704aae1a3fbcf5fe3a453d5bc
""", "sty": """
    00.png 2383fa8a3494ad02f9bbd21f853e43ba89fc99f2714308f8daa44e7cd4389b2f
    01.png 6df9338f0c9224c1ec5f4828d816c2af2ac1ddf94d22e313b61d2c1b59868f77
    02.png fa54b4b5e8b6e80e4d21f4a9927d4f541f605b2e8d48dc15a69612687a8c2384
    03.png 24d5c5467d6c9ba9cec2283e7b8bf422463b619978264d84ddf47b9745fe688b
    04.png e8dc1825b94b7f52851186126bfc190eb0995e0020ac903740eac59a1f5d6573
    05.png 4f9c06a4eb46831f543ce7bf30f2c57e123e57b369c0a765caeb260b5752c1da
    06.png 4f09914ee22badcbe227691ad35e53f63280975395cfc85d294515a71c56c430
    07.png eff635a3f3da87090ff3f796c93fe52c8748a77774b6459da6642af0f8a7fa52
    08.png 316929ec51b8d8a95b65ad769b5bdf482231439bb4923dcaa26da1ccdacb536d
    09.png a2932ad4ae31af0e98b29b1e26c57c99b03916f20daceaa3ef2648f9e1c045cf
    10.png 45a43c4d5486e3be3d3607a23ab80d2d72fab954b76e9eb0975415421dcccddf
    11.png 5b66ee182f87bc89206c341ae8a463b703164ccc906f7081924b41109becdf1a
    12.png 0b94be158145997b45839f8ccc462ee2279649598415fea6d24535adf5c142f1
    13.png 1754ff8495a137806c6a41a142e3028d1abe6e28400c52b8bb9ec5736a2bb04d
    14.png d855c6d14562193362c5e6a46414950464fda26c023347042a41e4992be8f321
    15.png 2ca17a714d7ee653b7801e64db1d10c4b44acc0cb6537c5e8d7c2517133eec89
    16.png 917f23957d311df584068385c5c45f5558e43c8337ada0e0d18d605c0efd0750
    17.png 56f162b4ca32ad747e40db13eb4ac4b76dc727f71012de11ea5812e21aeca697
    18.png ee201a5eec818b6491b0e63778276d27e6e39884702c7448beedf83af43b9cb7
    19.png 5eecc7bdc556cc9412ec3b22e5cd9435cfd6eea51504b2b6f13383111d006ce1
    20.png 706a21e9bb43c97854402af13e17a480139d8a4e95d734ba5816000f22696cdf
    21.png e3e6fe069b3ea305e0d8e45335f925540d257d06ada27dde7a4422cc1d214697
    22.png c2956caf4ce9d2395758e7d24a10b325cd91e9c9fcb4732e4734d46ee2dd4dbe
    23.png 2fe35a9591ea5edaf38605dc444a9d9e82571fff7c1f8d3195e3085e18e6a74f
    24.png a6162c68642b2f594c16f0fabf9885322238ee6b3ffd91323240da57f6574516
    25.png ef4106b22217b8662f56306982436e95f70381a159a6b6f95979ef2e3c9c81e7
    26.png 3e8b0f0c6e41e701d4cde8c75ab1eba773bdca742f1685c3c5e30a96192ff877
    27.png 0b3aea62abef922d9cbffeb09b2ff17b899bdf1580a7574aae75a914b9a012a5
    28.png adc946620bfbabc3fb0d36d046078044643cf447d606ab1cbab7e6f150ae16ee
    29.png eae0363d3bd5477d72725bb36c98260f2211fafc0c252b06c49924c18b5ebf9e
    30.png 03d7235434a9989851c40eb7c1ca18ce37b0652966dfa3ce634a0419eb052d28
    31.png f923ab8f8f4cfbd359f9ece7c22e7b2730f8ea2191d3acbb4dd8ac3fc3556c81
    32.png c3f5c4583300c387e7874d3fee191c8531a00a6445930652ea87af834828a47b
    33.png a25bf251c0262009ac404d590290c11a03df598b9745fd41e44484f0873fe40f
    34.png abf6de5548e3a663e508ed6e3848e4eaf0d52f163ef45ce9089b3170c428eb2b
    35.png 07456d97e4ba2d490148f84784ff06501d4c5fc0badcc45320a83b93e0c0ea39
    36.png 9073aa818465d8ee4829bf5c6986a5768207a557f15fc2668e53059cd2f7774e
    37.png 90c0bacf16e74f34a9887bfd34d3b3e6b65fe56ea7db267e5b6a7fbac87ddec3
    38.png f66ba3c5894a6354e3c45f037f89813eb735ad74d771b2378b27b8f59626bb5c
    39.png 2ee96306fc37d6afc21400d88d843f1fa5342719f945dcb14f8b73f808713861
"""}


def styleid_sources(folder: str) -> list[str]:
    """The ``https://...#sha256=...`` sources of StyleID's ``data/<folder>`` images (``cnt`` or ``sty``)."""
    return [f"{STYLEID_URL}/{folder}/{name}#sha256={sha}"
            for name, sha in (line.split() for line in STYLEID_FILES[folder].strip().splitlines())]


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
    paths = sorted(paths, key=lambda p: (p.name, str(p)))  # by name: files by URL live in per-hash folders
    if n is None or len(paths) == n:
        return paths
    if n < 1:
        raise ProtocolError(f"the number of {what} must be at least 1, got {n}")
    if len(paths) < n:
        raise ProtocolError(f"{len(paths)} {what} found, the protocol needs {n}")
    return sorted(random.Random(seed).sample(paths, n), key=lambda p: (p.name, str(p)))


def _images(folder: str | Path | list, what: str) -> list[Path]:
    if isinstance(folder, list):  # files by URL, each fetched and verified (StyleID's set)
        return [data_file(f) for f in folder]
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


def styleid_protocol(content_dir: str | Path | None = None, style_dir: str | Path | None = None,
                     n_content: int = STYLEID_N_CONTENT, n_style: int = STYLEID_N_STYLE, size: int | None = None,
                     seed: int = 0) -> Protocol:
    """The content x style protocol (20 x 40 = 800 pairs by default); see the module docstring. Without
    folders: StyleID's own images (:data:`STYLEID_FILES`), fetched and verified on first use."""
    if content_dir is None and style_dir is None:
        content_dir, style_dir = styleid_sources("cnt"), styleid_sources("sty")
    elif content_dir is None or style_dir is None:
        raise ProtocolError("--content and --style go together (or leave both out for StyleID's published set)")
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
            "content_dir": _where(content_dir, "cnt"), "style_dir": _where(style_dir, "sty"),
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


def _where(folder, name: str) -> str:
    return f"{STYLEID_URL}/{name} (verified)" if isinstance(folder, list) else str(folder)


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
