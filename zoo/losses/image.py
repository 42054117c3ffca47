"""The losses on images: total variation (``tv``, ``tv_mean``), CycleGAN's L1 losses (``cycle``, ``identity``)
and AnimeGAN's colour loss (``color_yuv``), with the colour conversions they use.

AnimeGAN's losses (Chen, Liu & Chen 2020, "AnimeGAN: A Novel Lightweight GAN for Photo Animation", ISICA 2019,
CCIS 1205, sec. 3) are computed as AnimeGANv2's reference code computes them: TachibanaYoshino/AnimeGANv2,
tools/ops.py (commit 8f97ab4828893e0b548122c400e23ff5e4384e78, unchanged at 15268d55c4a1ecd30f0f6e478cb9b61d175046ce),
defaults from train.py at 15268d55. Cited below (and in zoo/losses/feature.py, zoo/losses/adversarial.py) as
[ops] and [train].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import LOSSES
from .base import WeightedLoss

__all__ = ["TVLoss", "MeanTVLoss", "CycleLoss", "IdentityLoss", "ColorYUVLoss", "grayscale", "rgb_to_yuv"]

# ITU-R BT.601 luma, the weights of OpenCV's RGB -> gray conversion (cv2.imread(path, IMREAD_GRAYSCALE) in
# the reference tools/data_loader.py makes the grayscale anime images this way).
_LUMA = (0.299, 0.587, 0.114)
# tf.image.rgb_to_yuv (TensorFlow image_ops_impl._rgb_to_yuv_kernel), rows Y, U, V; [ops] rgb2yuv.
_RGB2YUV = torch.tensor([[0.299, 0.587, 0.114],
                         [-0.14714119, -0.28886916, 0.43601035],
                         [0.61497538, -0.51496512, -0.10001026]])


def grayscale(x: Tensor) -> Tensor:
    """RGB (N, 3, H, W) -> its BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` repeated on three channels, as the
    grayscale images of AnimeGAN (sec. 3: S_data(x), S_data(y)) are fed to VGG and the discriminator."""
    w = torch.tensor(_LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True).expand(-1, 3, -1, -1)


def rgb_to_yuv(x: Tensor) -> Tensor:
    """RGB in [0, 1] (N, 3, H, W) -> YUV (Y in [0, 1], U in +-0.436, V in +-0.615), in float32, with the
    matrix of ``tf.image.rgb_to_yuv`` that the reference colour loss uses."""
    with torch.autocast(device_type=x.device.type, enabled=False):
        return torch.einsum("ij,njhw->nihw", _RGB2YUV.to(x.device), x.float())


def _squared_differences(x: Tensor) -> tuple[Tensor, Tensor]:
    """The squared differences of vertical and of horizontal neighbours of ``x`` (float32)."""
    x = x.float()
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2), (x[..., :, 1:] - x[..., :, :-1]).pow(2)


@LOSSES.register("tv")
class TVLoss(WeightedLoss):
    """Total variation regulariser (Mahendran & Vedaldi 2015; used by Johnson et al. 2016).

    ``weight * sum((x[..., i+1, j] - x[..., i, j])^2 + (x[..., i, j+1] - x[..., i, j])^2) / N``: squared
    differences of neighbours, summed over C, H, W and averaged over the batch. With images in [0, 1].
    """

    def __init__(self, weight: float = 1e-6) -> None:
        super().__init__(weight)

    def forward(self, x: Tensor) -> Tensor:
        dh, dw = _squared_differences(x)
        return self.weight * (dh.sum() + dw.sum()) / x.shape[0]


@LOSSES.register("tv_mean")
class MeanTVLoss(WeightedLoss):
    """Total variation as AnimeGANv2 computes it ([ops] ``total_variation_loss``: ``tf.nn.l2_loss(d) / size(d)``
    for the vertical and the horizontal differences):

    ``weight * (mean(dh^2) + mean(dw^2)) / 2``, each mean over all its N*C*(H-1)*W (N*C*H*(W-1)) entries.
    AnimeGANv2 applies it to the generated image in [-1, 1] (4x the value on [0, 1]) with weight 1
    ([train] ``--tv_weight``: 1 Hayao, 0.1 Paprika, 1 Shinkai). Unlike ``tv`` (a sum per image), the value does
    not grow with the image size.
    """

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__(weight)

    def forward(self, x: Tensor) -> Tensor:
        dh, dw = _squared_differences(x)
        return self.weight * (dh.mean() + dw.mean()) / 2


class _L1(WeightedLoss):
    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.weight * F.l1_loss(x.float(), y.float())


@LOSSES.register("cycle")
class CycleLoss(_L1):
    """Cycle-consistency loss (Zhu et al. 2017, eq. 2): ``weight * mean(|x - F(G(x))|)``; weight 10
    (lambda) in the paper."""

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__(weight)


@LOSSES.register("identity")
class IdentityLoss(_L1):
    """Identity mapping loss (Zhu et al. 2017, sec. 5.2, after Taigman et al. 2017):
    ``weight * mean(|y - G(y)|)``; 0.5 * lambda = 5 in the reference code."""

    def __init__(self, weight: float = 5.0) -> None:
        super().__init__(weight)


@LOSSES.register("color_yuv")
class ColorYUVLoss(WeightedLoss):
    """Colour reconstruction loss (AnimeGAN sec. 3), between the generated image and the photo.

    With both in RGB [0, 1] converted by :func:`rgb_to_yuv`:
    ``weight * (mean(|Y(x) - Y(p)|) + huber(U(x) - U(p)) + huber(V(x) - V(p)))``, where
    ``huber(d) = mean(0.5 d^2 if |d| <= 1 else |d| - 0.5)`` (``tf.losses.huber_loss``, delta 1, mean): L1 on
    the luma, Huber on the chroma ([ops] ``color_loss``). Weight 10 ([train] ``--color_weight``: 15 Hayao,
    50 Paprika, 10 Shinkai).
    """

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__(weight)

    def forward(self, x: Tensor, reference: Tensor) -> Tensor:
        a, b = rgb_to_yuv(x), rgb_to_yuv(reference)
        return self.weight * (F.l1_loss(a[:, 0], b[:, 0]) + F.huber_loss(a[:, 1], b[:, 1], delta=1.0)
                              + F.huber_loss(a[:, 2], b[:, 2], delta=1.0))
