"""The loss registry: every loss a recipe can name, each a small ``nn.Module``.

A recipe configures losses as a mapping ``name -> arguments``::

    losses:
      content: {weight: 1.0, layers: [relu4_2]}
      gram:    {weight: 1.0e5, layers: [relu1_1, relu2_1, relu3_1, relu4_1, relu5_1]}
      tv:      {weight: 1.0e-6}

and :func:`build_losses` turns it into an ``nn.ModuleDict``. Two families share one calling convention
each:

* **feature losses** (``content``, ``gram``, ``mean_std``, ``content_l1``, ``gram_l1``, ``guided_gram``;
  :mod:`zoo.losses.feature`, :mod:`zoo.losses.guided`) compare encoder features: ``loss.layers`` says which
  layers they read, ``loss.target(feats)`` turns features of a reference image into a fixed target (computed
  once and kept, never per step), ``loss(feats, target)`` returns the weighted loss. Targets of several style
  images blend linearly (``blend_targets``). The L1 losses are the MSE ones with another distance.
* **image losses** (:mod:`zoo.losses.image`, :mod:`zoo.losses.adversarial`) take images: ``tv(x)``,
  ``tv_mean(x)``, ``color_yuv(x, reference)``, ``cycle(x, reconstruction)``, ``identity(x, mapped)``, and the
  ``adversarial`` loss with separate ``generator(fake_logits)`` and ``discriminator(real_logits, fake_logits)``
  sides (``anime_adversarial``: ``discriminator(real, fake, gray, smooth)``).

Gram matrices and mean/std statistics (:mod:`zoo.stats`) are computed in float32 even under autocast (fp16 Gram
matrices overflow), and std is ``sqrt(var + eps)`` so its gradient is finite on constant images.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from torch import nn

from ..errors import ConfigTypeError
from ..registry import LOSSES
from ..stats import EPS, gram_matrix, mean_std
from .adversarial import AdversarialLoss, AnimeAdversarialLoss
from .base import FeatureLoss, NonFiniteLossError, blend_targets, check_finite
from .feature import ContentL1Loss, ContentLoss, GramL1Loss, GramLoss, MeanStdLoss
from .guided import GuidedGramLoss
from .image import ColorYUVLoss, CycleLoss, IdentityLoss, MeanTVLoss, TVLoss, grayscale, rgb_to_yuv

__all__ = [
    "ContentLoss", "GramLoss", "MeanStdLoss", "TVLoss", "AdversarialLoss", "CycleLoss", "IdentityLoss",
    "gram_matrix", "mean_std", "build_losses", "blend_targets", "feature_layers", "check_finite",
    "NonFiniteLossError", "ContentL1Loss", "GramL1Loss", "ColorYUVLoss", "MeanTVLoss", "AnimeAdversarialLoss",
    "GuidedGramLoss", "FeatureLoss", "grayscale", "rgb_to_yuv", "LOSSES", "EPS",
]


def build_losses(spec: Mapping[str, Mapping[str, Any] | None]) -> nn.ModuleDict:
    """Instantiate ``{registry name: kwargs}`` into an ``nn.ModuleDict``; unknown names list the valid ones."""
    out = nn.ModuleDict()
    for name, kwargs in spec.items():
        cls = LOSSES.get(name)
        try:
            out[name] = cls(**(kwargs or {}))
        except TypeError as e:
            raise ConfigTypeError(f"loss {name!r}: {e}") from None
    return out


def feature_layers(losses: nn.ModuleDict | Sequence[nn.Module]) -> list[str]:
    """Every encoder layer the feature losses read, in first-seen order."""
    mods = losses.values() if isinstance(losses, nn.ModuleDict) else losses
    seen: dict[str, None] = {}
    for m in mods:
        for layer in getattr(m, "layers", ()):
            seen[layer] = None
    return list(seen)
