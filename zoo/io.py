"""Robust image reading and writing.

Every entry point of the package takes RGB float images in [0, 1] of shape (N, 3, H, W). This module
makes them from whatever a user has on disk and writes results back without surprises:

* EXIF orientation is applied, so a portrait photo stays upright.
* Grayscale, palette, bilevel, LA/RGBA/PA (alpha composited on white), CMYK, YCbCr, LAB, 16-bit (scaled by
  1/65535, never clipped at 255), float and animated (first frame) images all become correct RGB.
* Missing, empty, truncated or corrupt files, non-images and images over a pixel limit raise
  :class:`ImageReadError`, whose one-line message names the file.
* Writing never replaces an existing file unless ``overwrite=True``; the format follows the extension;
  the file appears atomically (a crash never leaves half an image behind).
"""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from .fileio import WriteError, atomic_path
from .errors import ConfigError, MissingFileError, ZooError

__all__ = [
    "ImageReadError", "ImageWriteError", "load_image", "save_image", "list_images", "IMAGE_EXTENSIONS",
    "DEFAULT_MAX_PIXELS", "resize_long_edge", "long_edge_size", "SAVE_FORMATS", "masks_to_tensor",
]

# 50 megapixels (e.g. 8660 x 5773): well under Pillow's decompression-bomb limit of ~89.5 MP, which
# only warns, and its hard error at twice that. Override with max_pixels= or $ZOO_MAX_PIXELS.
DEFAULT_MAX_PIXELS = 50_000_000
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP",
                 ".tif": "TIFF", ".tiff": "TIFF", ".ppm": "PPM"}


class ImageReadError(ZooError, ValueError):
    """An image could not be read. ``str()`` is one line that starts with the path."""


class ImageWriteError(WriteError):
    """An image could not be written: the file exists, unknown extension, not one image, a full disk or a
    read-only folder. ``str()`` is one line naming the file."""


def _max_pixels(max_pixels: int | None) -> int:
    if max_pixels is not None:
        return int(max_pixels)
    return int(os.environ.get("ZOO_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """float32 array (H, W, 3) in [0, 1] from any Pillow mode."""
    mode = img.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(img, dtype=np.float64)
        if mode == "F":
            a = np.clip(a, 0.0, 1.0)  # float images are taken to be in [0, 1]
        else:  # 16-bit integer samples: scale the full range, do not clip at 255
            a = np.clip(a / 65535.0, 0.0, 1.0)
        return np.repeat(a[..., None], 3, axis=2).astype(np.float32)
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba).convert("RGB")
    elif mode != "RGB":
        img = img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV
    return np.asarray(img, dtype=np.float32) / 255.0


def load_image(path: str | os.PathLike, max_pixels: int | None = None) -> Tensor:
    """Read an image file as an RGB float tensor (1, 3, H, W) in [0, 1].

    Raises :class:`ImageReadError` (one line, naming the file) for anything that is not a readable image
    of at most ``max_pixels`` pixels (default :data:`DEFAULT_MAX_PIXELS` or ``$ZOO_MAX_PIXELS``).
    """
    path = Path(path)
    limit = _max_pixels(max_pixels)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w * h > limit:
                    raise ImageReadError(
                        f"{path}: {w}x{h} image has {w * h:,} pixels, over the limit of {limit:,} "
                        f"(raise it with --max-pixels or ZOO_MAX_PIXELS)"
                    )
                img.seek(0)  # animated images: the first frame
                img.load()
                img = ImageOps.exif_transpose(img)
                array = _to_rgb_array(img)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image, or a format Pillow cannot read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageReadError(f"{path}: too many pixels ({e})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:  # truncated / corrupt data
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ImageReadError(f"{path}: corrupt or truncated image ({reason})") from None
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).unsqueeze(0).contiguous()


def save_image(image: Tensor, path: str | os.PathLike, overwrite: bool = False, quality: int = 95) -> Path:
    """Write an RGB image (1, 3, H, W) or (3, H, W) in [0, 1]; the format follows the extension.

    Refuses to replace an existing file unless ``overwrite``, and images with NaN or infinite values.
    Values are clamped to [0, 1] and rounded. The file appears atomically (:mod:`zoo.fileio`). Every
    failure raises :class:`ImageWriteError`. Returns the path written.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageWriteError(f"{path}: unknown image extension {path.suffix!r}; use one of {', '.join(SAVE_FORMATS)}")
    if path.exists() and not overwrite:
        raise ImageWriteError(f"{path}: file exists; pass --overwrite to replace it", errno.EEXIST)
    if image.ndim == 4:
        if image.shape[0] != 1:
            raise ImageWriteError(f"{path}: save_image writes one image, got a batch of {image.shape[0]}")
        image = image[0]
    if image.ndim != 3 or image.shape[0] not in (1, 3):
        raise ImageWriteError(f"{path}: save_image expects (3, H, W) or (1, 3, H, W), got {tuple(image.shape)}")
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    bad = int((~torch.isfinite(image)).any(0).sum())
    if bad:  # clamping NaN gives black pixels: refuse rather than write a broken picture
        raise ImageWriteError(f"{path}: the image has {bad} pixel(s) with NaN or infinite values; nothing was written "
                              "(the model or its options produced them)")
    array = (image.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
             .permute(1, 2, 0).cpu().numpy())
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            Image.fromarray(array, "RGB").save(tmp, format=fmt, **kwargs)
    except WriteError as e:  # exists (appeared meanwhile), disk full, read-only folder
        raise ImageWriteError(str(e), e.errno) from e
    return path


def list_images(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Image files (by extension, case-insensitive) below ``folder``, sorted; hidden files skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"{folder}: no such directory")
    pattern: Iterable[Path] = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in pattern
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith("."))


def long_edge_size(height: int, width: int, size: int | None) -> tuple[int, int]:
    """(height, width) after resizing the longer edge to ``size`` (None keeps them)."""
    if size is None:
        return height, width
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_long_edge(image: Tensor, size: int | None) -> Tensor:
    """Resize (N, C, H, W) so its longer edge is ``size`` (antialiased bicubic, clamped); None keeps it."""
    h, w = image.shape[-2:]
    new = long_edge_size(h, w, size)
    if new == (h, w):
        return image
    out = torch.nn.functional.interpolate(image, size=new, mode="bicubic", align_corners=False, antialias=True)
    return out.clamp(0, 1)


def masks_to_tensor(masks: Tensor | Sequence[Tensor | str | os.PathLike]) -> Tensor:
    """Masks -> (K, 1, H, W) float in [0, 1]. Accepts a (K, 1, H, W) / (K, H, W) tensor, or a list of
    (H, W) / (1, H, W) / (1, 1, H, W) / (1, 3, H, W) tensors or image files (colour images: their mean
    over channels; white = the region)."""
    if isinstance(masks, Tensor):
        m = masks.float()
        if m.ndim == 3:
            m = m[:, None]
        if m.ndim != 4 or m.shape[1] != 1:
            raise ConfigError(f"a mask tensor must be (K, 1, H, W) or (K, H, W), got {tuple(masks.shape)}")
        return m.clamp(0, 1)
    out = []
    for item in masks:
        if not isinstance(item, Tensor):
            item = load_image(item)
        m = item.float()
        while m.ndim < 4:
            m = m[None]
        if m.ndim != 4 or m.shape[0] != 1 or m.shape[1] not in (1, 3):
            raise ConfigError(f"a mask must be (H, W), (1, H, W) or (1, 1|3, H, W), got {tuple(item.shape)}")
        out.append(m.mean(1, keepdim=True))
    if not out:
        raise ConfigError("masks is empty")
    if len({tuple(m.shape[-2:]) for m in out}) != 1:
        raise ConfigError(f"masks differ in size: {[tuple(m.shape[-2:]) for m in out]}")
    return torch.cat(out).clamp(0, 1)
