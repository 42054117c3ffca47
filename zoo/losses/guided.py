"""The guided Gram loss of spatial control (Gatys, Ecker, Bethge, Hertzmann & Shechtman, "Controlling Perceptual
Factors in Neural Style Transfer", CVPR 2017, sec. 4.1), and the guides it reads.

At each style layer l the guidance channel T_r of region r is brought to the feature map's size and the style
loss compares *guided* Gram matrices,

    G_r^l[x] = (T_r^l o F^l[x]) (T_r^l o F^l[x])^T        (paper eq. 5-6; o: one guide for every channel)

of the output (its content guides) and of the region's style image (its style guides), summed over the regions
with weights lambda_r (eq. 7). As the authors' code (leongatys/NeuralImageSynthesis,
``ExampleNotebooks/SpatialControl.ipynb`` at commit c3ce8ace: ``get_fm_guides`` ``mode='simple'``,
``gram_matrix_guided``, ``gw = [1/n_ch] * n_ch``): masks are down-sampled to each layer's feature map (bilinear,
antialiased), each guide normalised to a mean square of one (``T / sqrt(mean(T^2))``, the notebook's
``guides / sqrt(diag(gram_matrix(guides)))``), the Gram normalisation is the zoo's (``/ (C H W)``) and regions
are weighted ``1 / R``, so one all-white mask gives exactly :class:`zoo.losses.GramLoss`. Reading and checking
the masks: :mod:`zoo.guided`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import ConfigError
from ..registry import LOSSES
from ..stats import gram_matrix
from .feature import GramLoss

__all__ = ["resize_mask", "layer_guides", "guided_gram", "GuidedGramLoss"]


def resize_mask(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """``mask`` (K, 1, h, w) resized to ``size`` (bilinear, antialiased when shrinking), in [0, 1]."""
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask.float()
    return F.interpolate(mask.float(), size=size, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def layer_guides(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """The guidance channels (K, 1, h, w) of masks ``mask`` (K, 1, H, W) at a feature map of ``size``: down-sampled
    (the paper's "simple" propagation) and normalised to a mean square of one; a region that vanished at this
    size is all zeros (no loss there)."""
    t = resize_mask(mask, size)
    ms = t.pow(2).mean(dim=(1, 2, 3), keepdim=True)
    return torch.where(ms > 0, t / ms.clamp_min(1e-12).sqrt(), torch.zeros_like(t))


def guided_gram(f: Tensor, guide: Tensor) -> Tensor:
    """The guided Gram matrix (N, C, C) of features ``f`` (N, C, h, w) under one normalised guide (1 or N, 1, h,
    w): ``gram_matrix(guide * f)``, the guide applied to every channel (paper eq. 5-6, with the zoo's 1/(C h w))."""
    return gram_matrix(f.float() * guide.to(f.device, torch.float32))


@LOSSES.register("guided_gram")
class GuidedGramLoss(GramLoss):
    """Style loss on guided Gram matrices (Gatys et al. 2017, eq. 7): ``weight * sum_l w_l * sum_r (1/R) *
    mean((G_r^l(x) - G_r^l(s_r))^2)`` with :func:`guided_gram`; R regions, each with its style image ``s_r``
    (and optionally its region of it). Its target (:meth:`guided_target`) holds the output's guides as well:
    the content masks are fixed for the whole optimisation. With one all-white mask it is :class:`GramLoss`."""

    guided = True

    def region_targets(self, per_style: Sequence[dict[str, Tensor]], style_weights: Sequence[float]) -> dict[str, Tensor]:
        """One region per style image: their Gram matrices stacked (R, 1, C, C) (the weights do not apply)."""
        return {l: torch.stack([t[l] for t in per_style]) for l in self.layers}

    @torch.no_grad()
    def guided_target(self, output_sizes: Mapping[str, tuple[int, int]], masks: Tensor,
                      style_feats: Sequence[Mapping[str, Tensor]],
                      style_masks: Sequence[Tensor | None]) -> dict[str, tuple[Tensor, Tensor]]:
        """{layer: (the output's guides (R, 1, h, w), the style regions' guided Grams (R, 1, C, C))}.

        ``output_sizes``: each layer's feature size for the output image; ``masks`` (R, 1, H, W): the content
        masks at the output's size; ``style_feats[r]``: the features of region r's style image; ``style_masks[r]``:
        that image's region (1, 1, h', w') or None for the whole image."""
        if not (len(style_feats) == len(style_masks) == masks.shape[0]):
            raise ConfigError(f"{masks.shape[0]} masks for {len(style_feats)} style images: give one mask per style")
        out = {}
        for layer in self.layers:
            guides = layer_guides(masks, output_sizes[layer])
            grams = []
            for feats, sm in zip(style_feats, style_masks):
                f = feats[layer].detach()
                g = torch.ones(1, 1, *f.shape[-2:]) if sm is None else layer_guides(sm, tuple(f.shape[-2:]))
                grams.append(guided_gram(f, g))
            out[layer] = (guides, torch.stack(grams))
        return out

    def forward(self, feats: Mapping[str, Tensor], target: Mapping[str, tuple[Tensor, Tensor]]) -> Tensor:
        total = 0.0
        for layer, w in self.layer_weights.items():
            guides, grams = target[layer]
            f = feats[layer]
            regions = [guided_gram(f, guides[r:r + 1]) for r in range(guides.shape[0])]
            total = total + w * self.region_distance(regions, grams)
        return self.weight * total
