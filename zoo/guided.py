"""Spatial control of Gatys style transfer: the masks of guided Gram matrices (Gatys, Ecker, Bethge, Hertzmann & Shechtman,
"Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017, sec. 4.1).

The content image is cut into regions by masks (guidance channels), each with its own style image -- or a
region of a style image, given by a mask of its own. This module reads and checks the masks (``--masks``);
masks of any size are resized to their image (bilinear, antialiased: the authors' notebook's ``pyramid_reduce``).
The guided Gram loss and its guides are :mod:`zoo.losses.guided` (re-exported here).

Pixels no mask covers get no style loss (only the content loss). ``zoo stylize --model gatys --style A B
--masks a.png b.png``: region a in style A, region b in style B; ``--masks a.png:sa.png`` takes only the
region ``sa.png`` of the style image (pystiche's "style region", the paper's sky-to-sky transfer).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from torch import Tensor

from .errors import ConfigError
from .io import ImageReadError, masks_to_tensor
from .losses.guided import GuidedGramLoss, guided_gram, layer_guides, resize_mask

__all__ = ["MaskSpec", "parse_masks", "load_mask", "resize_mask", "layer_guides", "guided_gram", "GuidedGramLoss"]

MaskSpec = tuple[Tensor, "Tensor | None"]  # (content mask (1, 1, h, w), style mask (1, 1, h', w') or None)


def load_mask(source: Tensor | str | os.PathLike, what: str = "--masks") -> Tensor:
    """A mask (1, 1, H, W) in [0, 1] from an image file (white: the region; colour images: the mean of their
    channels) or a tensor (H, W), (1, H, W), (1, 1, H, W) or (1, 3, H, W)."""
    if not isinstance(source, Tensor):
        path = Path(source)
        if not path.is_file():
            raise ImageReadError(f"{what} {source}: no such mask image")
    return masks_to_tensor([source])


def parse_masks(items: Sequence[str | os.PathLike | Tensor | tuple]) -> list[MaskSpec]:
    """``--masks`` entries -> [(content mask, style mask or None)]. An entry is a content mask (a file or a
    tensor), a pair (content mask, style mask), or the string ``CONTENT[:STYLE]`` (a file name with a colon
    in it is taken whole when that file exists)."""
    out: list[MaskSpec] = []
    for item in items:
        if isinstance(item, tuple):
            content, style = item
        elif isinstance(item, (str, os.PathLike)) and not Path(item).exists() and ":" in os.fspath(item):
            content, _, style = os.fspath(item).rpartition(":")
        else:
            content, style = item, None
        c = load_mask(content)
        s = None if style is None else load_mask(style)
        for m, name in ((c, content), (s, style)):
            if m is not None and float(m.max()) <= 0:
                raise ConfigError(f"--masks {name if not isinstance(name, Tensor) else 'tensor'}: the mask is empty "
                                 "(all black); white marks the region")
        out.append((c, s))
    if not out:
        raise ConfigError("--masks: give one mask per style image")
    return out
