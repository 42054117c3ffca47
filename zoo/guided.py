"""Spatial control of Gatys style transfer: guided Gram matrices (Gatys, Ecker, Bethge, Hertzmann & Shechtman,
"Controlling Perceptual Factors in Neural Style Transfer", CVPR 2017, sec. 4.1).

The content image is cut into regions by masks (guidance channels), each with its own style image -- or a
region of a style image, given by a mask of its own. At each style layer l the guidance channel T_r of
region r is brought to the feature map's size and the style loss compares *guided* Gram matrices,

    G_r^l[x] = (T_r^l o F^l[x]) (T_r^l o F^l[x])^T        (paper eq. 5-6; o: one guide for every channel)

of the output (its content guides) and of the region's style image (its style guides), summed over the regions
with weights lambda_r (eq. 7). What the authors' code does, and this module with it (leongatys/
NeuralImageSynthesis, ``ExampleNotebooks/SpatialControl.ipynb`` at commit c3ce8ace: ``get_fm_guides``
``mode='simple'``, ``gram_matrix_guided``, ``gw = [1/n_ch] * n_ch``):

* masks of any size are resized to their image (bilinear, antialiased: the notebook's ``pyramid_reduce``),
  then down-sampled to each layer's feature map (the paper's "simple" propagation, bilinear, antialiased);
* each feature-map guide is normalised to a mean square of one, ``T / sqrt(mean(T^2))`` (the notebook's
  ``guides / sqrt(diag(gram_matrix(guides)))``), so a guided Gram matrix is the region's own average of
  f f^T and does not grow with the region's area;
* the Gram normalisation is the zoo's (:func:`zoo.losses.gram_matrix`, ``/ (C H W)``), so one all-white mask
  gives exactly the plain :class:`zoo.losses.GramLoss`; regions are weighted ``1 / R``.

Pixels no mask covers get no style loss (only the content loss). ``zoo stylize --model gatys --style A B
--masks a.png b.png``: region a in style A, region b in style B; ``--masks a.png:sa.png`` takes only the
region ``sa.png`` of the style image (pystiche's "style region", the paper's sky-to-sky transfer).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .losses import FeatureLoss, gram_matrix
from .errors import ConfigError
from .io import ImageReadError, masks_to_tensor

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


class GuidedGramLoss(FeatureLoss):
    """Style loss on guided Gram matrices (Gatys et al. 2017, eq. 7): ``weight * sum_l w_l * sum_r (1/R) *
    mean((G_r^l(x) - G_r^l(s_r))^2)`` with :func:`guided_gram`; R regions, each with its style image ``s_r``
    (and optionally its region of it). Its target (:meth:`guided_target`) holds the output's guides as well:
    the content masks are fixed for the whole optimisation. With one all-white mask it is :class:`GramLoss`."""

    def __init__(self, weight: float = 1.0,
                 layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)

    def stats(self, f: Tensor) -> Tensor:
        return gram_matrix(f)

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        return F.mse_loss(a, b.expand_as(a))

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
            regions = [self.distance(guided_gram(f, guides[r:r + 1]), grams[r]) for r in range(guides.shape[0])]
            total = total + w * sum(regions) / len(regions)
        return self.weight * total
