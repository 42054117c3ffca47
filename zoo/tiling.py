"""Tiled inference: apply an image-to-image network to an image of any size in bounded memory.

The image is cut into overlapping ``tile`` x ``tile`` windows; each is run through ``fn`` on its own, and
the outputs are blended with weights that are zero in a margin along every inner window edge (where a
tile lacks context) and ramp linearly to one across the rest of the overlap, so no seam shows. For a
network whose receptive-field radius is at most ``overlap // 4`` and which has no global operations,
the result equals the untiled output; networks with instance normalisation see per-tile statistics,
close but not identical.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

__all__ = ["tiled_apply"]


def _starts(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def _ramp(n: int, start: int, end: int, length: int, overlap: int) -> Tensor:
    """1-D blend weights of a window [start, end) of a signal of ``length``."""
    w = torch.ones(n)
    margin = overlap // 4
    width = max(1, overlap - 2 * margin)
    ramp = ((torch.arange(n, dtype=torch.float32) - margin + 0.5) / width).clamp(0, 1)
    if start > 0:
        w = torch.minimum(w, ramp)
    if end < length:
        w = torch.minimum(w, ramp.flip(0))
    return w


@torch.no_grad()
def tiled_apply(fn: Callable[[Tensor], Tensor], image: Tensor, tile: int, overlap: int | None = None,
                progress: bool = False) -> Tensor:
    """``fn`` applied to ``image`` (N, C, H, W) tile by tile; the result stays on ``image``'s device.

    ``fn`` must map (N, C, h, w) to (N, C', h, w). ``overlap`` defaults to ``tile // 4``.
    """
    n, _, h, w = image.shape
    if tile <= 0:
        raise ValueError(f"tile must be positive, got {tile}")
    overlap = tile // 4 if overlap is None else overlap
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile), got {overlap} for tile {tile}")
    if h <= tile and w <= tile:
        return fn(image)
    stride = tile - overlap
    ys, xs = _starts(h, tile, stride), _starts(w, tile, stride)
    out: Tensor | None = None
    weight = torch.zeros(1, 1, h, w, device=image.device)
    windows = [(y, x) for y in ys for x in xs]
    if progress:
        from tqdm.auto import tqdm

        windows = tqdm(windows, desc="tiles", unit="tile", leave=False)
    for y, x in windows:
        y1, x1 = min(y + tile, h), min(x + tile, w)
        result = fn(image[:, :, y:y1, x:x1]).float()
        if out is None:
            out = torch.zeros(n, result.shape[1], h, w, device=image.device)
        wy = _ramp(y1 - y, y, y1, h, overlap).to(image.device)
        wx = _ramp(x1 - x, x, x1, w, overlap).to(image.device)
        mask = (wy[:, None] * wx[None, :])[None, None]
        out[:, :, y:y1, x:x1] += result * mask
        weight[:, :, y:y1, x:x1] += mask
    assert out is not None
    return (out / weight.clamp_min(1e-8)).to(image.dtype)
