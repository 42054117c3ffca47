"""The feature losses: content (features), gram (Gram matrices) and mean_std (channel statistics), each with the
distance its paper uses; ``content_l1`` and ``gram_l1`` are the same losses with an L1 distance (AnimeGAN)."""

from __future__ import annotations

from typing import Sequence

from torch import Tensor

from ..registry import LOSSES
from ..stats import EPS, gram_matrix, mean_std
from .base import FeatureLoss, blend_targets

__all__ = ["ContentLoss", "GramLoss", "MeanStdLoss", "ContentL1Loss", "GramL1Loss"]

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@LOSSES.register("content")
class ContentLoss(FeatureLoss):
    """Feature reconstruction loss (Gatys et al. 2016, eq. 1; Johnson et al. 2016, eq. 2).

    ``weight * sum_l w_l * mean((F_l(x) - F_l(c))^2)``: MSE, i.e. averaged over N*C*H*W (Johnson's
    1/(CHW) normalisation; Gatys use 1/2 * sum).
    """

    def __init__(self, weight: float = 1.0, layers: Sequence[str] = ("relu4_2",),
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)

    def stats(self, f: Tensor) -> Tensor:
        return f


@LOSSES.register("gram")
class GramLoss(FeatureLoss):
    """Style reconstruction loss on Gram matrices (Gatys et al. 2016, eq. 3-5; Johnson et al. 2016, eq. 4).

    ``weight * sum_l w_l * mean((G_l(x) - G_l(s))^2)`` with ``G = F F^T / (C H W)`` (see
    :func:`zoo.stats.gram_matrix`); the mean runs over N*C*C entries. Gatys et al. weight the style layers
    equally.

    Spatial control (:class:`zoo.losses.guided.GuidedGramLoss`) specialises it: R regions, each with its own
    target, their distances averaged (:meth:`region_distance`); the plain loss is one region, the whole image
    (what :mod:`zoo.gatys_tiled` computes for both).
    """

    guided = False  # whether each style image has its region of the output (masks)

    def __init__(self, weight: float = 1.0, layers: Sequence[str] = STYLE_LAYERS,
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)

    def stats(self, f: Tensor) -> Tensor:
        return gram_matrix(f)

    def region_distance(self, grams: Sequence[Tensor], targets: Tensor) -> Tensor:
        """``(1/R) sum_r d(grams[r], targets[r])`` of R regions' Gram matrices (N, C, C) and targets (R, 1, C, C)."""
        return sum(self.distance(g, t) for g, t in zip(grams, targets)) / len(grams)

    def region_targets(self, per_style: Sequence[dict[str, Tensor]], style_weights: Sequence[float]) -> dict[str, Tensor]:
        """The targets (R, 1, C, C) per layer of the style images' Gram matrices ``per_style``: one region, the
        images blended by ``style_weights`` (:func:`zoo.losses.blend_targets`)."""
        return {l: t.unsqueeze(0) for l, t in blend_targets(per_style, style_weights).items()}


@LOSSES.register("mean_std")
class MeanStdLoss(FeatureLoss):
    """Style loss on channel statistics (Huang & Belongie 2017, eq. 13).

    ``weight * sum_l w_l * (mean((mu_l(x) - mu_l(s))^2) + mean((sigma_l(x) - sigma_l(s))^2))`` with
    sigma = sqrt(var + eps) (:func:`zoo.stats.mean_std`). The paper writes L2 norms; its reference code (and this)
    uses MSE.
    """

    def __init__(self, weight: float = 10.0,
                 layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1"),
                 layer_weights: Sequence[float] | None = None, eps: float = EPS) -> None:
        super().__init__(weight, layers, layer_weights)
        self.eps = float(eps)

    def stats(self, f: Tensor) -> tuple[Tensor, Tensor]:
        return mean_std(f, self.eps)


# AnimeGAN (Chen, Liu & Chen 2020, sec. 3) as AnimeGANv2's reference code computes it: TachibanaYoshino/AnimeGANv2,
# tools/ops.py (commit 8f97ab48, [ops]) and train.py defaults (15268d55, [train]), cited in full in zoo/losses/image.py.
@LOSSES.register("content_l1")
class ContentL1Loss(ContentLoss):
    """Content loss with an L1 distance (AnimeGAN sec. 3; after CartoonGAN, Chen, Lai & Liu 2018).

    ``weight * sum_l w_l * mean(|F_l(x) - F_l(p)|)`` (mean over N*C*H*W, [ops] ``L1_loss``). AnimeGANv2
    reads the VGG19 ``conv4_4`` output before its ReLU ([ops] ``con_loss``: ``vgg.conv4_4_no_activation``);
    weight 1.5 ([train] ``--con_weight``; the comment there: 1.5 Hayao, 2.0 Paprika, 1.2 Shinkai).
    """

    norm = "l1"

    def __init__(self, weight: float = 1.5, layers: Sequence[str] = ("conv4_4",),
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)


@LOSSES.register("gram_l1")
class GramL1Loss(GramLoss):
    """Grayscale style loss (AnimeGAN sec. 3): an L1 distance between Gram matrices.

    ``weight * sum_l w_l * mean(|G_l(x) - G_l(s)|)`` with ``G = F F^T / (C H W)`` (:func:`zoo.stats.gram_matrix`,
    in float32; [ops] ``gram`` divides by the feature size per image, C*H*W) and the mean over N*C*C entries
    ([ops] ``style_loss``). AnimeGAN feeds the *grayscale* anime images as ``s`` (:func:`zoo.losses.grayscale`),
    so the generator learns their texture and not their colours; layer ``conv4_4`` before its ReLU ([ops]
    ``con_sty_loss``), weight 2.5 ([train] ``--sty_weight``: 2.5 Hayao, 0.6 Paprika, 2.0 Shinkai).
    """

    norm = "l1"

    def __init__(self, weight: float = 2.5, layers: Sequence[str] = ("conv4_4",),
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)
