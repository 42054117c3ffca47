"""Feature statistics: Gram matrices and per-channel mean/std, in float32 even under autocast.

The one place these are computed: the losses (:mod:`zoo.losses`), AdaIN's network (:mod:`zoo.nets.adain`) and
the guided Gram matrices of spatial control read them from here. fp16 Gram matrices overflow, so both run in
float32; std is ``sqrt(var + eps)``, whose gradient is finite on constant images (``torch.std``'s is NaN).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["EPS", "gram_matrix", "mean_std"]

EPS = 1e-5  # pytorch-AdaIN function.py calc_mean_std(eps=1e-5)


class _Gram(torch.autograd.Function):
    """G = F F^T * scale for F of shape (N, C, M); the backward is one batched matmul,
    dL/dF = (dL/dG + dL/dG^T) F * scale, instead of autograd's two products and a strided add of the
    transposed one (about 5% of a Gatys iteration at 512 px). The gradient has the features' memory
    layout (NCHW or channels_last), so adding it to the gradient from the next layer needs no copy."""

    @staticmethod
    def forward(ctx, f: Tensor, scale: float) -> Tensor:
        ctx.save_for_backward(f)
        ctx.scale = scale
        return torch.bmm(f, f.transpose(1, 2)).mul_(scale)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (f,) = ctx.saved_tensors
        grad = (grad + grad.transpose(1, 2)).mul_(ctx.scale)
        if f.stride(1) == 1 and f.shape[1] > 1:  # channels_last features: (F^T G)^T keeps their layout, so
            return torch.bmm(f.transpose(1, 2), grad).transpose(1, 2), None  # autograd adds it without a copy
        return torch.bmm(grad, f), None


def gram_matrix(f: Tensor) -> Tensor:
    """Gram matrix G = F F^T / (C H W) of features (N, C, H, W) -> (N, C, C), in float32.

    The normalisation by C*H*W follows Johnson et al. 2016 (eq. 3), which makes the loss independent of
    image size; Gatys et al. 2016 use the unnormalised product with a 1/(4 N^2 M^2) factor instead.
    Features in channels_last are used as they are (no copy).
    """
    n, c, h, w = f.shape
    f = f.float().reshape(n, c, h * w)
    with torch.autocast(device_type=f.device.type, enabled=False):
        return _Gram.apply(f, 1.0 / (c * h * w))


def mean_std(f: Tensor, eps: float = EPS, unbiased: bool = False,
             weight: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std over H, W of ``f`` (N, C, H, W) -> (N, C, 1, 1) each, in float32.

    ``std = sqrt(var + eps)``; ``var`` is biased (divides by n: the AdaIN paper and the ``mean_std`` loss) or
    ``unbiased`` (divides by n - 1: pytorch-AdaIN's ``calc_mean_std``, ``Tensor.var``). With ``weight`` (N or 1,
    1, H, W), the statistics are weighted (a region's statistics for a binary mask; unbiased then divides by
    sum(w) - 1).
    """
    f = f.float()
    with torch.autocast(device_type=f.device.type, enabled=False):
        if weight is None:
            var, mean = torch.var_mean(f, dim=(2, 3), keepdim=True, correction=1 if unbiased else 0)
            return mean, torch.sqrt(var + eps)
        w = weight.float()
        total = w.sum(dim=(2, 3), keepdim=True)
        denom = total.clamp_min(1e-8)
        mean = (w * f).sum(dim=(2, 3), keepdim=True) / denom
        sq = (w * (f - mean).pow(2)).sum(dim=(2, 3), keepdim=True)
        var = sq / ((total - 1).clamp_min(1e-8) if unbiased else denom)
        return mean, torch.sqrt(var + eps)
