"""Photos, anime images and their edge-smoothed copies for AnimeGANv2 (Chen, Liu & Chen 2020).

AnimeGAN (sec. 3) trains on unpaired photos S(p) and anime images S(a); from the anime images it derives
their grayscale copies S(x), edge-smoothed copies S(e) and the grayscale of those, S(y). The grayscale ones
are made on the fly by the LightningModule (:func:`zoo.losses.grayscale`); the edge-smoothed ones are made
**once**, before training, and cached as PNG files (:func:`make_edge_smoothed`), as the reference's
``edge_smooth.py`` does (TachibanaYoshino/AnimeGANv2, tools/edge_smooth.py, commit
8f97ab4828893e0b548122c400e23ff5e4384e78, itself from taki0112/CartoonGAN-Tensorflow):

1. resize the image (the reference: to ``img_size`` x ``img_size``; here: the shorter edge to
   ``image_size``, aspect ratio kept, the scale the training crops are taken at);
2. Canny edges of its grayscale (thresholds 100 and 200), dilated with a 5 x 5 square;
3. on those pixels only, the image blurred by a 5 x 5 Gaussian (``cv2.getGaussianKernel(5, 0)``: sigma 1.1)
   with reflect-101 borders, truncated to integers as the reference's uint8 assignment does; every other
   pixel unchanged.

A folder made by the reference tool can be used as it is (``--data.smooth_dir``; files with the style
image's name). Without ``smooth_dir`` the copies go to ``<style_dir>_smooth<image_size>`` beside the style
folder; only missing ones are made (each written whole, under a temporary name then renamed), so an
interrupted preparation resumes and a second run reads the cache.

Batches are ``{"photo", "style", "smooth"}``, each (N, 3, S, S) RGB in [0, 1]; like the reference's three
independently shuffled streams (tools/data_loader.py at 15268d55), the style and smoothed images of an item
are drawn at random, independently of each other and of the photo. An epoch is ``max(|photos|, |anime|)``
items (the reference's AnimeGANv2.py ``dataset_num``), in full batches only (``int(dataset_num / batch_size)``
iterations).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..io import ImageReadError, list_images, load_image, save_image
from ..devices import pin_memory
from ..stylize import check_whole
from .folder import EmptyFolderError, ImageFolder, ResizeCrop
from .sources import data_folder, is_remote

log = logging.getLogger(__name__)

__all__ = ["AnimeData", "AnimeTriples", "edge_smooth", "make_edge_smoothed", "smooth_name"]

# tools/edge_smooth.py (8f97ab48): kernel_size = 5, cv2.Canny(gray, 100, 200), cv2.getGaussianKernel(5, 0).
KERNEL = 5
CANNY = (100, 200)


def edge_smooth(rgb: np.ndarray) -> np.ndarray:
    """The reference's edge smoothing of one uint8 (H, W, 3) image (steps 2-3 of the module doc)."""
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    dilated = cv2.dilate(cv2.Canny(gray, *CANNY), np.ones((KERNEL, KERNEL), np.uint8))
    g = cv2.getGaussianKernel(KERNEL, 0)
    gauss = (g * g.T).reshape(-1)  # float64, as the reference
    r = KERNEL // 2
    padded = np.pad(rgb, ((r, r), (r, r), (0, 0)), mode="reflect")  # numpy "reflect" = OpenCV reflect-101
    ys, xs = np.nonzero(dilated)
    out = rgb.copy()
    if len(ys):
        windows = np.lib.stride_tricks.sliding_window_view(padded, (KERNEL, KERNEL), axis=(0, 1))[ys, xs]
        # (M, 3, 5, 5) -> (M, 3, 25): each sum over one window's 25 products, like the reference's np.sum
        sums = np.sum(np.ascontiguousarray(windows).reshape(len(ys), 3, -1) * gauss, axis=-1)
        out[ys, xs] = sums.astype(np.uint8)  # uint8 assignment truncates, as the reference's
    return out


def smooth_name(relative: Path) -> Path:
    """Where the smoothed copy of the style image ``relative`` (to the style folder) is written."""
    return relative.with_name(relative.name + ".png")


def make_edge_smoothed(style_dir: str | os.PathLike, smooth_dir: str | os.PathLike, image_size: int,
                       max_pixels: int | None = None) -> int:
    """Write the edge-smoothed copy of every image below ``style_dir`` that ``smooth_dir`` lacks (one with the
    same relative name, the reference tool's, or :func:`smooth_name`'s). Returns how many were made.
    Unreadable style images are skipped (the training reader skips them too)."""
    style_dir, smooth_dir = Path(style_dir), Path(smooth_dir)
    files = list_images(style_dir) if style_dir.is_dir() else []
    if not files:
        raise EmptyFolderError(f"{style_dir}: no anime style images found (--data.style_dir)")
    resize = ResizeCrop(size=image_size)
    made = 0
    for path in files:
        rel = path.relative_to(style_dir)
        target = smooth_dir / smooth_name(rel)
        if target.is_file() or (smooth_dir / rel).is_file():
            continue
        try:
            image = resize(load_image(path, max_pixels=max_pixels)[0])
        except ImageReadError as e:
            log.warning("edge smoothing: skipping unreadable image: %s", e)
            continue
        rgb = image.mul(255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
        smoothed = torch.from_numpy(edge_smooth(rgb)).permute(2, 0, 1).float() / 255
        target.parent.mkdir(parents=True, exist_ok=True)
        save_image(smoothed, target)
        made += 1
    return made


class AnimeTriples(Dataset):
    """Item ``i``: ``{"photo": photos[i % P], "style": a random anime image, "smooth": a random smoothed one}``
    (torch's RNG, seeded per worker by the DataLoader). Length ``max(P, |style|)``."""

    def __init__(self, photos: ImageFolder, style: ImageFolder, smooth: ImageFolder) -> None:
        self.photos, self.style, self.smooth = photos, style, smooth

    def __len__(self) -> int:
        return max(len(self.photos), len(self.style))

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        j = int(torch.randint(len(self.style), ()).item())
        k = int(torch.randint(len(self.smooth), ()).item())
        return {"photo": self.photos[index % len(self.photos)], "style": self.style[j], "smooth": self.smooth[k]}


class AnimeData(L.LightningDataModule):
    """Training batches ``{"photo", "style", "smooth"}`` of (N, 3, image_size, image_size) RGB in [0, 1].

    Args:
        photo_dir: photographs (the reference: dataset/train_photo, 6656 photos of 256 x 256).
        style_dir: anime frames of one style (the reference: dataset/<Hayao|Paprika|Shinkai>/style).
        smooth_dir: their edge-smoothed copies: read as they are where present, made where missing
            (default: ``<style_dir>_smooth<image_size>``).
        image_size: shorter edge after resizing and side of the random square crop (256 in the reference).
        batch_size: 12 in the reference (train.py ``--batch_size``).
        flip: random horizontal flips (not in the reference).
        num_workers: DataLoader worker processes.
        max_pixels: reject images over this many pixels (see zoo.io); None: the package default.
        limit: use only the first N photos and N anime images (and fetch only what they need).

    The folders may be Hub datasets (``hf://datasets/ORG/NAME@REVISION[/SPLIT]``) or folders of an archive by
    URL (``https://...zip#sha256=HEX&path=FOLDER``), fetched and verified on first use (:mod:`zoo.data.hub`).
    """

    def __init__(self, photo_dir: str, style_dir: str, smooth_dir: str | None = None, image_size: int = 256,
                 batch_size: int = 12, flip: bool = False, num_workers: int = 4,
                 max_pixels: int | None = None, limit: int | None = None) -> None:
        super().__init__()
        for key, value, least in (("image_size", image_size, 1), ("batch_size", batch_size, 1),
                                  ("num_workers", num_workers, 0), ("limit", limit, 1)):
            check_whole(f"--data.{key}", value, least)
        self.save_hyperparameters()
        self._sources = {"photo_dir": photo_dir, "style_dir": style_dir, "smooth_dir": smooth_dir}
        self._folders: dict[str, Path] | None = None
        if not any(is_remote(v) for v in self._sources.values()):
            self._resolve()  # local folders: known at once, as before
        self.train: AnimeTriples | None = None

    def _resolve(self) -> dict[str, Path]:
        """The local photo, style and smoothed folders (Hub / URL data fetched and verified first)."""
        if self._folders is None:
            limit = self.hparams.limit
            photo = data_folder(self._sources["photo_dir"], limit)
            style = data_folder(self._sources["style_dir"], limit)
            smooth = self._sources["smooth_dir"]
            default = style.with_name(f"{style.name}_smooth{int(self.hparams.image_size)}")
            if is_remote(self._sources["style_dir"]) and style.name == "style" and (style.parent / "smooth").is_dir():
                default = style.parent / "smooth"  # the reference dataset's <name>/style and <name>/smooth
            self._folders = {"photo_dir": photo, "style_dir": style,
                             "smooth_dir": data_folder(smooth, limit) if smooth else default}
        return self._folders

    photo_dir = property(lambda self: self._resolve()["photo_dir"])
    style_dir = property(lambda self: self._resolve()["style_dir"])
    smooth_dir = property(lambda self: self._resolve()["smooth_dir"])

    def prepare_data(self) -> None:
        """Fetch remote data and make the missing edge-smoothed images (Lightning calls this on one process
        per machine). A smoke run (``fast_dev_run``) writes nothing beside the data: without a cache it makes
        them in a temporary folder, removed at the end."""
        trainer = getattr(self, "trainer", None)
        if trainer is not None and trainer.fast_dev_run and not self.smooth_dir.is_dir():
            import tempfile

            self._smoke_dir = tempfile.TemporaryDirectory(prefix="stylezoo-smooth-")
            self._resolve()["smooth_dir"] = Path(self._smoke_dir.name)
        made = make_edge_smoothed(self.style_dir, self.smooth_dir, self.hparams.image_size, self.hparams.max_pixels)
        if made:
            log.info("edge-smoothed %d anime images into %s", made, self.smooth_dir)

    def teardown(self, stage: str) -> None:
        smoke = getattr(self, "_smoke_dir", None)
        if smoke is not None:
            smoke.cleanup()
            self._smoke_dir = None

    def setup(self, stage: str | None = None) -> None:
        if self.train is None:
            hp = self.hparams
            transform = ResizeCrop(hp.image_size, hp.image_size, hp.flip)
            folders = []
            for option, folder in (("photo_dir", self.photo_dir), ("style_dir", self.style_dir),
                                   ("smooth_dir", self.smooth_dir)):
                try:
                    folders.append(ImageFolder(folder, transform, max_pixels=hp.max_pixels,
                                               limit=None if option == "smooth_dir" else hp.limit))
                except EmptyFolderError as e:
                    raise EmptyFolderError(f"{e} (--data.{option})") from None
            self.train = AnimeTriples(*folders)

    def train_dataloader(self) -> DataLoader:
        self.setup("fit")
        return DataLoader(self.train, batch_size=self.hparams.batch_size, shuffle=True,
                          num_workers=self.hparams.num_workers, drop_last=len(self.train) >= self.hparams.batch_size,
                          pin_memory=pin_memory(self.trainer), persistent_workers=self.hparams.num_workers > 0)
