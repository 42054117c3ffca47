"""What every loss shares: the finite check, the weighted-loss base, the feature-loss base with its
distances, and the blending of several style images' targets."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError, ZooError

__all__ = ["NonFiniteLossError", "check_finite", "WeightedLoss", "FeatureLoss", "DISTANCES", "blend_targets"]


class NonFiniteLossError(ZooError, FloatingPointError):
    """A loss became NaN or infinite."""


def check_finite(losses: Mapping[str, Tensor], step: int | None = None) -> None:
    """Raise :class:`NonFiniteLossError` naming the loss (and step) if any loss is NaN or infinite."""
    for name, value in losses.items():
        if not torch.isfinite(value.detach()).all():
            where = f" at step {step}" if step is not None else ""
            raise NonFiniteLossError(
                f"loss {name!r} is {value.detach().float().sum().item()}{where}; training stopped. "
                "Lower the learning rate or the loss weights, or train in float32 / bf16-mixed instead of 16-mixed."
            )


class WeightedLoss(nn.Module):
    """A loss scaled by ``weight`` (a float, shown in the module's repr)."""

    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = float(weight)

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}"


# The distances a feature loss takes between its statistics, each a mean over all entries: squared error
# (MSE, the Gatys / Johnson / AdaIN losses) or absolute error (L1, AnimeGAN's).
DISTANCES = {"mse": F.mse_loss, "l1": F.l1_loss}


def _per_layer(layers: Sequence[str], layer_weights: Sequence[float] | None) -> dict[str, float]:
    layers = list(layers)
    if not layers:
        raise ConfigError("a feature loss needs at least one layer")
    if layer_weights is None:
        return {layer: 1.0 for layer in layers}
    if len(layer_weights) != len(layers):
        raise ConfigError(f"layer_weights has {len(layer_weights)} entries for {len(layers)} layers")
    return dict(zip(layers, (float(w) for w in layer_weights)))


class FeatureLoss(WeightedLoss):
    """Base of losses on encoder features: ``weight * sum_l layer_weight_l * d(stats(F_l(x)), target_l)``.

    A subclass says what it compares (:meth:`stats`: the features themselves, their Gram matrix, their mean
    and std); ``d`` is the class's :data:`DISTANCES` entry ``norm`` (``"mse"`` or ``"l1"``), summed over the
    parts of a tuple of statistics (mean and std)."""

    norm = "mse"

    def __init__(self, weight: float, layers: Sequence[str], layer_weights: Sequence[float] | None) -> None:
        super().__init__(weight)
        self.layer_weights = _per_layer(layers, layer_weights)
        self.layers = tuple(self.layer_weights)

    def stats(self, f: Tensor) -> Any:
        """What the loss compares for one layer's features."""
        raise NotImplementedError

    def distance(self, a: Any, b: Any) -> Tensor:
        """``d(a, b)`` in float32, ``b`` broadcast to ``a`` (one target for a batch)."""
        if isinstance(a, tuple):
            return sum(self.distance(x, y) for x, y in zip(a, b))
        return DISTANCES[self.norm](a.float(), b.float().expand_as(a))

    @torch.no_grad()
    def target(self, feats: Mapping[str, Tensor]) -> dict[str, Any]:
        """The fixed target of a reference image's features (detached)."""
        return {layer: self.stats(feats[layer].detach()) for layer in self.layers}

    def forward(self, feats: Mapping[str, Tensor], target: Mapping[str, Any]) -> Tensor:
        total = sum(w * self.distance(self.stats(feats[layer]), target[layer])
                    for layer, w in self.layer_weights.items())
        return self.weight * total

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}, layers={list(self.layers)}"


def blend_targets(targets: Sequence[Mapping[str, Any]], weights: Sequence[float]) -> dict[str, Any]:
    """Blend the targets of several style images: sum_i w_i * target_i (weights normalised to sum 1).

    For the squared-error losses here, sum_i w_i ||s(x) - t_i||^2 equals ||s(x) - sum_i w_i t_i||^2 plus a
    constant when the weights sum to one, so one blended target gives the same gradients as a weighted
    sum of losses, at the cost of one.
    """
    if len(targets) != len(weights) or not targets:
        raise ConfigError(f"{len(targets)} targets but {len(weights)} weights")
    w = torch.tensor([float(x) for x in weights])
    if (w < 0).any() or w.sum() <= 0:
        raise ConfigError(f"style weights must be non-negative with a positive sum, got {list(weights)}")
    w = (w / w.sum()).tolist()

    def mix(values: Sequence[Any]) -> Any:
        if isinstance(values[0], tuple):
            return tuple(mix([v[i] for v in values]) for i in range(len(values[0])))
        return sum(wi * v for wi, v in zip(w, values))

    return {layer: mix([t[layer] for t in targets]) for layer in targets[0]}
