"""Any-size input for the published networks, without changing their arithmetic.

The networks run on the image exactly as the original implementations do: no padding to a multiple of
their stride (padding would enter the instance-norm statistics). Their output can then be a few pixels
larger than the input (a stride-2 convolution of an odd size rounds up, and the up-sampling doubles
that), and the networks keep its top-left H x W, which is what the original's output holds for the
input's pixels. Only an image smaller than the original's minimum (the size below which one of its
reflection pads is not smaller than the feature map it pads, an error in the original) is first padded at the
bottom/right by repeating its last row/column (:func:`pad_to_min`).

The padding stays symbolic in the size, so exported graphs (``torch.onnx.export(dynamo=True)``,
``torch.jit.trace``) hold for every input size: no Python branch on a size (crop with
``y[..., :h, :w]`` where ``h, w = x.shape[-2:]``, which traces symbolically too).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["pad_to_min"]


def _shortfall(n, minimum: int):
    """``max(minimum - n, 0)``; ``n`` is an int, a SymInt (torch.export) or a 0-dim tensor (jit.trace)."""
    if isinstance(n, Tensor):
        return (minimum - n).clamp_min(0)
    return torch.sym_max(minimum - n, 0)


def pad_to_min(x: Tensor, minimum: int) -> Tensor:
    """``x`` (N, C, H, W) replicate-padded at the bottom/right to at least ``minimum`` x ``minimum``;
    unchanged when it is that large already (the pad is always applied, by zero, so traces keep it)."""
    ph, pw = _shortfall(x.shape[-2], minimum), _shortfall(x.shape[-1], minimum)
    return F.pad(x, (0, pw, 0, ph), mode="replicate")

