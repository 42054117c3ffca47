"""AdaIN's arithmetic (Huang & Belongie 2017; pytorch-AdaIN ``function.py``): per-channel feature statistics,
adaptive instance normalisation (paper eq. 8), what a style image is reduced to (:class:`StyleCode`) and the
weights of several styles. Used by :class:`zoo.nets.adain.AdaINNet` and its tiles (:mod:`zoo.nets.adain_tiled`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ..errors import ConfigError
from ..losses import mean_std

__all__ = ["EPS", "feature_stats", "adaptive_instance_norm", "StyleCode", "normalise_weights"]

EPS = 1e-5  # pytorch-AdaIN function.py calc_mean_std(eps=1e-5)


def feature_stats(f: Tensor, eps: float = EPS, unbiased: bool = False,
                  weight: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std over H, W of ``f`` (N, C, H, W) -> (N, C, 1, 1) each, in float32.

    ``std = sqrt(var + eps)``; ``var`` is biased (divides by n, the paper; :func:`zoo.losses.mean_std`)
    or ``unbiased`` (divides by n - 1, pytorch-AdaIN). With ``weight`` (N or 1, 1, H, W), the statistics
    are weighted (a region's statistics for a binary mask; unbiased then divides by sum(w) - 1).
    """
    if weight is None:
        if not unbiased:
            return mean_std(f, eps)
        f = f.float()
        with torch.autocast(device_type=f.device.type, enabled=False):
            var, mean = torch.var_mean(f, dim=(2, 3), keepdim=True, correction=1)
            return mean, torch.sqrt(var + eps)
    f = f.float()
    with torch.autocast(device_type=f.device.type, enabled=False):
        w = weight.float()
        total = w.sum(dim=(2, 3), keepdim=True)
        denom = total.clamp_min(1e-8)
        mean = (w * f).sum(dim=(2, 3), keepdim=True) / denom
        sq = (w * (f - mean).pow(2)).sum(dim=(2, 3), keepdim=True)
        var = sq / ((total - 1).clamp_min(1e-8) if unbiased else denom)
        return mean, torch.sqrt(var + eps)


def adaptive_instance_norm(content: Tensor, style_mean: Tensor, style_std: Tensor, eps: float = EPS,
                           unbiased: bool = False) -> Tensor:
    """AdaIN (paper eq. 8): content features normalised per channel, then given the style's mean/std.

    Computed in float32; returns float32 features of ``content``'s shape.
    """
    c_mean, c_std = feature_stats(content, eps, unbiased)
    with torch.autocast(device_type=content.device.type, enabled=False):
        return (content.float() - c_mean) / c_std * style_std.float() + style_mean.float()


@dataclass(frozen=True)
class StyleCode:
    """What AdaIN needs of a style image: mean and std of its relu4_1 features, (1, C, 1, 1) float32."""

    mean: Tensor
    std: Tensor

    def to(self, device: torch.device | str) -> "StyleCode":
        return StyleCode(self.mean.to(device), self.std.to(device))


def normalise_weights(weights: Sequence[float] | None, n: int) -> list[float]:
    """``weights`` of ``n`` styles normalised to sum 1 (one style: ``[1.0]`` without weights)."""
    if weights is None:
        if n != 1:
            raise ConfigError(f"{n} styles need style weights (or masks)")
        return [1.0]
    weights = [float(w) for w in weights]
    if len(weights) != n:
        raise ConfigError(f"{len(weights)} style weights for {n} styles")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ConfigError(f"style weights must be non-negative with a positive sum, got {weights}")
    total = sum(weights)
    return [w / total for w in weights]
