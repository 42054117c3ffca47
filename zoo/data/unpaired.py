"""Unpaired A/B image folders (the layout of the public CycleGAN datasets) as a LightningDataModule.

Layout (Zhu et al. 2017; junyanz/pytorch-CycleGAN-and-pix2pix ``datasets/download_cyclegan_dataset.sh``
and ``data/unaligned_dataset.py``)::

    root/
      trainA/   training images of domain A (e.g. photos / selfies / horses)
      trainB/   training images of domain B (e.g. anime faces / zebras)
      testA/    optional: held-out A images, used for the sample grids logged during training
      testB/    optional: held-out B images

Images in any mode (grayscale, palette, RGBA, 16-bit, ...) are converted to RGB by :mod:`zoo.io`; an
unreadable file is skipped and counted (:class:`zoo.data.folder.ImageFolder`). A missing or empty
``trainA`` / ``trainB`` is an :class:`EmptyFolderError` naming the folder, raised at set-up.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..errors import ConfigError
from ..io import list_images
from ..stylize import check_whole
from .folder import EmptyFolderError, ImageFolder, ResizeCrop
from .hub import join
from .sources import data_folder, is_remote

__all__ = ["UnpairedDataset", "UnpairedData", "CenterCrop", "DOMAIN_FOLDERS"]

DOMAIN_FOLDERS = ("trainA", "trainB", "testA", "testB")


def _domain_folder(root: Path, name: str) -> Path:
    """``root/name``, or an error naming the folder and the expected layout."""
    path = root / name
    layout = "expected root/trainA, root/trainB (and optionally root/testA, root/testB)"
    if not path.is_dir():
        raise EmptyFolderError(f"{path}: missing domain folder {name!r} of the unpaired dataset; {layout}")
    if not list_images(path):
        raise EmptyFolderError(f"{path}: domain folder {name!r} has no images (looked for jpg, png, bmp, gif, "
                               f"webp, tif, ppm, pgm); {layout}")
    return path


class CenterCrop:
    """Deterministic transform for sample images: resize the shorter edge to ``size``, centre crop."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._resize = ResizeCrop(size=self.size)

    def __call__(self, x: Tensor) -> Tensor:
        x = self._resize(x)
        h, w = x.shape[-2:]
        i, j = (h - self.size) // 2, (w - self.size) // 2
        return x[:, i:i + self.size, j:j + self.size].contiguous()


class UnpairedDataset(Dataset):
    """Pairs of unrelated images ``{"A": (3, h, w), "B": (3, h, w)}``.

    The length is the larger domain's; item ``i`` is ``A[i % |A|]`` with a *random* ``B`` (uniform), or
    ``B[i % |B|]`` when ``serial`` -- as the reference ``UnalignedDataset`` does, so that the pairing
    changes every epoch.
    """

    def __init__(self, a: ImageFolder, b: ImageFolder, serial: bool = False) -> None:
        self.a, self.b, self.serial = a, b, bool(serial)

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        j = index % len(self.b) if self.serial else int(torch.randint(len(self.b), ()).item())
        return {"A": self.a[index % len(self.a)], "B": self.b[j]}


class UnpairedData(L.LightningDataModule):
    """Training batches ``{"A": (N, 3, crop, crop), "B": (N, 3, crop, crop)}`` from ``root/trainA|trainB``.

    Args:
        root: dataset folder with ``trainA`` and ``trainB`` (and optionally ``testA``, ``testB``), or a Hub
            dataset ``hf://datasets/ORG/NAME@REVISION`` in that layout or in the Hub's CycleGAN layout (split
            ``train``/``test``, columns ``imageA``/``imageB``), downloaded and verified on first use
            (:mod:`zoo.data.hub`, docs/data.md).
        limit: use only the first N images of each domain (and fetch only what they need).
        load_size: shorter edge after resizing (286 in CycleGAN, appendix 7.1); 0 keeps the size.
        crop_size: side of the random square crop (256 in CycleGAN).
        flip: random horizontal flips (on in CycleGAN).
        batch_size: 1 in CycleGAN (sec. 4 / appendix 7.1).
        num_workers: DataLoader worker processes.
        serial_batches: pair A[i] with B[i] instead of a random B.
        max_pixels: reject images over this many pixels (see zoo.io); None: the package default.

    The reference code resizes to a *square* 286x286 before cropping; here the shorter edge goes to
    ``load_size`` and the aspect ratio is kept (the same for the square 256x256 images of the public
    datasets).
    """

    def __init__(self, root: str, load_size: int = 286, crop_size: int = 256, flip: bool = True,
                 batch_size: int = 1, num_workers: int = 4, serial_batches: bool = False,
                 max_pixels: int | None = None, limit: int | None = None) -> None:
        super().__init__()
        for key, value, least in (("load_size", load_size, 0), ("crop_size", crop_size, 1),
                                  ("batch_size", batch_size, 1), ("num_workers", num_workers, 0),
                                  ("limit", limit, 1)):
            check_whole(f"--data.{key}", value, least)
        if load_size and load_size < crop_size:
            raise ConfigError(f"load_size ({load_size}) must be 0 or at least crop_size ({crop_size})")
        self.save_hyperparameters()
        self.root = root if is_remote(root) else Path(os.path.expanduser(root))
        self.train: UnpairedDataset | None = None

    def folder(self, name: str) -> Path:
        """The local folder of one domain (Hub data fetched and verified first; see zoo.data.hub)."""
        if is_remote(self.root):
            return data_folder(join(self.root, name), self.hparams.limit)
        return _domain_folder(self.root, name)

    def prepare_data(self) -> None:
        """Download the training domains of Hub data (Lightning calls this on one process per machine)."""
        if is_remote(self.root):
            for name in ("trainA", "trainB"):
                self.folder(name)

    def setup(self, stage: str | None = None) -> None:
        hp = self.hparams
        if self.train is None:
            transform = ResizeCrop(hp.load_size, hp.crop_size, hp.flip)
            a = ImageFolder(self.folder("trainA"), transform, max_pixels=hp.max_pixels, limit=hp.limit)
            b = ImageFolder(self.folder("trainB"), transform, max_pixels=hp.max_pixels, limit=hp.limit)
            self.train = UnpairedDataset(a, b, serial=hp.serial_batches)

    def train_dataloader(self) -> DataLoader:
        if self.train is None:
            self.setup("fit")
        return DataLoader(self.train, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers, drop_last=False,
                          persistent_workers=self.hparams.num_workers > 0)

    def sample_images(self, n: int = 4) -> dict[str, Tensor]:
        """Fixed images for the sample grids: ``{"A": (n, 3, crop, crop), "B": ...}``, the first ``n`` of
        testA / testB (trainA / trainB where a test folder is absent), centre-cropped."""
        out = {}
        for domain in "AB":
            try:
                folder = self.folder(f"test{domain}")
            except EmptyFolderError:
                folder = self.folder(f"train{domain}")
            ds = ImageFolder(folder, CenterCrop(self.hparams.crop_size), max_pixels=self.hparams.max_pixels)
            out[domain] = torch.stack([ds[i] for i in range(min(n, len(ds)))])
        return out
