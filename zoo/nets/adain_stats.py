"""AdaIN's arithmetic (Huang & Belongie 2017; pytorch-AdaIN ``function.py``) over the statistics of
:func:`zoo.stats.mean_std`: adaptive instance normalisation (paper eq. 8), what a style image is reduced to
(:class:`StyleCode`) and the weights of several styles. Used by :class:`zoo.nets.adain.AdaINNet` and its tiles (:mod:`zoo.nets.adain_tiled`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ..errors import ConfigError
from ..stats import EPS, mean_std

__all__ = ["EPS", "adaptive_instance_norm", "StyleCode", "normalise_weights"]


def adaptive_instance_norm(content: Tensor, style_mean: Tensor, style_std: Tensor, eps: float = EPS,
                           unbiased: bool = False) -> Tensor:
    """AdaIN (paper eq. 8): content features normalised per channel, then given the style's mean/std.

    Computed in float32; returns float32 features of ``content``'s shape.
    """
    c_mean, c_std = mean_std(content, eps, unbiased)
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
