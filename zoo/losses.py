"""The loss registry: every loss a recipe can name, each a small ``nn.Module``.

A recipe configures losses as a mapping ``name -> arguments``::

    losses:
      content: {weight: 1.0, layers: [relu4_2]}
      gram:    {weight: 1.0e5, layers: [relu1_1, relu2_1, relu3_1, relu4_1, relu5_1]}
      tv:      {weight: 1.0e-6}

and :func:`build_losses` turns it into an ``nn.ModuleDict``. Two families share one calling convention
each:

* **feature losses** (``content``, ``gram``, ``mean_std``) compare encoder features: ``loss.layers``
  says which layers they read, ``loss.target(feats)`` turns features of a reference image into a fixed
  target (computed once and kept, never per step), ``loss(feats, target)`` returns the weighted loss.
  Targets of several style images blend linearly (``blend_targets``).
* **image losses** take images: ``tv(x)``, ``tv_mean(x)``, ``color_yuv(x, reference)``,
  ``cycle(x, reconstruction)``, ``identity(x, mapped)``, and the ``adversarial`` loss with separate
  ``generator(fake_logits)`` and ``discriminator(real_logits, fake_logits)`` sides (``anime_adversarial``:
  ``discriminator(real, fake, gray, smooth)``).

Gram matrices and mean/std statistics are computed in float32 even under autocast (fp16 Gram matrices
overflow), and std is ``sqrt(var + eps)`` so its gradient is finite on constant images.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .errors import ConfigError, ConfigTypeError, ZooError
from .registry import LOSSES

__all__ = [
    "ContentLoss", "GramLoss", "MeanStdLoss", "TVLoss", "AdversarialLoss", "CycleLoss", "IdentityLoss",
    "gram_matrix", "mean_std", "build_losses", "blend_targets", "feature_layers", "check_finite",
    "NonFiniteLossError", "ContentL1Loss", "GramL1Loss", "ColorYUVLoss", "MeanTVLoss", "AnimeAdversarialLoss",
    "grayscale", "rgb_to_yuv",
]

EPS = 1e-5


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


def mean_std(f: Tensor, eps: float = EPS) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std over H and W, (N, C, 1, 1) each, in float32; std = sqrt(var + eps)."""
    f = f.float()
    with torch.autocast(device_type=f.device.type, enabled=False):
        var, mean = torch.var_mean(f, dim=(2, 3), keepdim=True, correction=0)
        return mean, torch.sqrt(var + eps)


def _per_layer(layers: Sequence[str], layer_weights: Sequence[float] | None) -> dict[str, float]:
    layers = list(layers)
    if not layers:
        raise ConfigError("a feature loss needs at least one layer")
    if layer_weights is None:
        return {layer: 1.0 for layer in layers}
    if len(layer_weights) != len(layers):
        raise ConfigError(f"layer_weights has {len(layer_weights)} entries for {len(layers)} layers")
    return dict(zip(layers, (float(w) for w in layer_weights)))


class FeatureLoss(nn.Module):
    """Base of losses on encoder features: ``weight * sum_l layer_weight_l * d_l(feats, target)``."""

    def __init__(self, weight: float, layers: Sequence[str], layer_weights: Sequence[float] | None) -> None:
        super().__init__()
        self.weight = float(weight)
        self.layer_weights = _per_layer(layers, layer_weights)
        self.layers = tuple(self.layer_weights)

    def stats(self, f: Tensor) -> Any:
        """What the loss compares for one layer's features."""
        raise NotImplementedError

    def distance(self, a: Any, b: Any) -> Tensor:
        raise NotImplementedError

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

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        return F.mse_loss(a.float(), b.float().expand_as(a))


@LOSSES.register("gram")
class GramLoss(FeatureLoss):
    """Style reconstruction loss on Gram matrices (Gatys et al. 2016, eq. 3-5; Johnson et al. 2016, eq. 4).

    ``weight * sum_l w_l * mean((G_l(x) - G_l(s))^2)`` with ``G = F F^T / (C H W)`` (see
    :func:`gram_matrix`); the mean runs over N*C*C entries. Gatys et al. weight the style layers equally.
    """

    def __init__(self, weight: float = 1.0,
                 layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)

    def stats(self, f: Tensor) -> Tensor:
        return gram_matrix(f)

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        return F.mse_loss(a, b.expand_as(a))


@LOSSES.register("mean_std")
class MeanStdLoss(FeatureLoss):
    """Style loss on channel statistics (Huang & Belongie 2017, eq. 13).

    ``weight * sum_l w_l * (mean((mu_l(x) - mu_l(s))^2) + mean((sigma_l(x) - sigma_l(s))^2))`` with
    sigma = sqrt(var + eps). The paper writes L2 norms; its reference code (and this) uses MSE.
    """

    def __init__(self, weight: float = 10.0,
                 layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1"),
                 layer_weights: Sequence[float] | None = None, eps: float = EPS) -> None:
        super().__init__(weight, layers, layer_weights)
        self.eps = float(eps)

    def stats(self, f: Tensor) -> tuple[Tensor, Tensor]:
        return mean_std(f, self.eps)

    def distance(self, a: tuple[Tensor, Tensor], b: tuple[Tensor, Tensor]) -> Tensor:
        return F.mse_loss(a[0], b[0].expand_as(a[0])) + F.mse_loss(a[1], b[1].expand_as(a[1]))


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


@LOSSES.register("tv")
class TVLoss(nn.Module):
    """Total variation regulariser (Mahendran & Vedaldi 2015; used by Johnson et al. 2016).

    ``weight * sum((x[..., i+1, j] - x[..., i, j])^2 + (x[..., i, j+1] - x[..., i, j])^2) / N``: squared
    differences of neighbours, summed over C, H, W and averaged over the batch. With images in [0, 1].
    """

    def __init__(self, weight: float = 1e-6) -> None:
        super().__init__()
        self.weight = float(weight)

    def forward(self, x: Tensor) -> Tensor:
        x = x.float()
        dh = (x[..., 1:, :] - x[..., :-1, :]).pow(2).sum()
        dw = (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum()
        return self.weight * (dh + dw) / x.shape[0]

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}"


@LOSSES.register("adversarial")
class AdversarialLoss(nn.Module):
    """GAN losses on discriminator logits, computed in float32.

    ``mode``:
      * ``"lsgan"`` (Mao et al. 2017, used by CycleGAN): G: mean((D(G(z)) - 1)^2);
        D: 0.5 * (mean((D(x) - 1)^2) + mean(D(G(z))^2)).
      * ``"vanilla"`` (Goodfellow et al. 2014, non-saturating G): G: BCE(D(G(z)), 1);
        D: 0.5 * (BCE(D(x), 1) + BCE(D(G(z)), 0)), on logits.
      * ``"hinge"`` (Lim & Ye 2017; Miyato et al. 2018): G: -mean(D(G(z)));
        D: 0.5 * (mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))).

    The 0.5 on the discriminator side follows CycleGAN, which halves D's objective to slow it down.
    ``weight`` scales the generator side only (the discriminator is optimised on its own).
    """

    MODES = ("lsgan", "vanilla", "hinge")

    def __init__(self, weight: float = 1.0, mode: str = "lsgan") -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ConfigError(f"unknown adversarial mode {mode!r}; valid: {', '.join(self.MODES)}")
        self.weight = float(weight)
        self.mode = mode

    def generator(self, fake: Tensor) -> Tensor:
        fake = fake.float()
        if self.mode == "lsgan":
            loss = (fake - 1).pow(2).mean()
        elif self.mode == "vanilla":
            loss = F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
        else:
            loss = -fake.mean()
        return self.weight * loss

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        real, fake = real.float(), fake.float()
        if self.mode == "lsgan":
            loss = (real - 1).pow(2).mean() + fake.pow(2).mean()
        elif self.mode == "vanilla":
            loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                    + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
        else:
            loss = F.relu(1 - real).mean() + F.relu(1 + fake).mean()
        return 0.5 * loss

    def forward(self, fake: Tensor) -> Tensor:
        return self.generator(fake)

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}, mode={self.mode}"


class _L1(nn.Module):
    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = float(weight)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.weight * F.l1_loss(x.float(), y.float())

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}"


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


# ------------------------------------------------------------------------------------------ AnimeGANv2
# The losses of AnimeGAN (Chen, Liu & Chen 2020, "AnimeGAN: A Novel Lightweight GAN for Photo Animation",
# ISICA 2019, CCIS 1205, sec. 3) as AnimeGANv2's reference code computes them: TachibanaYoshino/AnimeGANv2,
# tools/ops.py (commit 8f97ab4828893e0b548122c400e23ff5e4384e78, unchanged at 15268d55c4a1ecd30f0f6e478cb9b61d175046ce),
# defaults from train.py at 15268d55. Cited below as [ops] and [train].

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


@LOSSES.register("content_l1")
class ContentL1Loss(FeatureLoss):
    """Content loss with an L1 distance (AnimeGAN sec. 3; after CartoonGAN, Chen, Lai & Liu 2018).

    ``weight * sum_l w_l * mean(|F_l(x) - F_l(p)|)`` (mean over N*C*H*W, [ops] ``L1_loss``). AnimeGANv2
    reads the VGG19 ``conv4_4`` output before its ReLU ([ops] ``con_loss``: ``vgg.conv4_4_no_activation``);
    weight 1.5 ([train] ``--con_weight``; the comment there: 1.5 Hayao, 2.0 Paprika, 1.2 Shinkai).
    """

    def __init__(self, weight: float = 1.5, layers: Sequence[str] = ("conv4_4",),
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)

    def stats(self, f: Tensor) -> Tensor:
        return f

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        return F.l1_loss(a.float(), b.float().expand_as(a))


@LOSSES.register("gram_l1")
class GramL1Loss(FeatureLoss):
    """Grayscale style loss (AnimeGAN sec. 3): an L1 distance between Gram matrices.

    ``weight * sum_l w_l * mean(|G_l(x) - G_l(s)|)`` with ``G = F F^T / (C H W)`` (:func:`gram_matrix`, in
    float32; [ops] ``gram`` divides by the feature size per image, C*H*W) and the mean over N*C*C entries
    ([ops] ``style_loss``). AnimeGAN feeds the *grayscale* anime images as ``s`` (:func:`grayscale`), so
    the generator learns their texture and not their colours; layer ``conv4_4`` before its ReLU ([ops]
    ``con_sty_loss``), weight 2.5 ([train] ``--sty_weight``: 2.5 Hayao, 0.6 Paprika, 2.0 Shinkai).
    """

    def __init__(self, weight: float = 2.5, layers: Sequence[str] = ("conv4_4",),
                 layer_weights: Sequence[float] | None = None) -> None:
        super().__init__(weight, layers, layer_weights)

    def stats(self, f: Tensor) -> Tensor:
        return gram_matrix(f)

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        return F.l1_loss(a, b.expand_as(a))


@LOSSES.register("color_yuv")
class ColorYUVLoss(nn.Module):
    """Colour reconstruction loss (AnimeGAN sec. 3), between the generated image and the photo.

    With both in RGB [0, 1] converted by :func:`rgb_to_yuv`:
    ``weight * (mean(|Y(x) - Y(p)|) + huber(U(x) - U(p)) + huber(V(x) - V(p)))``, where
    ``huber(d) = mean(0.5 d^2 if |d| <= 1 else |d| - 0.5)`` (``tf.losses.huber_loss``, delta 1, mean): L1 on
    the luma, Huber on the chroma ([ops] ``color_loss``). Weight 10 ([train] ``--color_weight``: 15 Hayao,
    50 Paprika, 10 Shinkai).
    """

    def __init__(self, weight: float = 10.0) -> None:
        super().__init__()
        self.weight = float(weight)

    def forward(self, x: Tensor, reference: Tensor) -> Tensor:
        a, b = rgb_to_yuv(x), rgb_to_yuv(reference)
        return self.weight * (F.l1_loss(a[:, 0], b[:, 0]) + F.huber_loss(a[:, 1], b[:, 1], delta=1.0)
                              + F.huber_loss(a[:, 2], b[:, 2], delta=1.0))

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}"


@LOSSES.register("tv_mean")
class MeanTVLoss(nn.Module):
    """Total variation as AnimeGANv2 computes it ([ops] ``total_variation_loss``: ``tf.nn.l2_loss(d) / size(d)``
    for the vertical and the horizontal differences):

    ``weight * (mean(dh^2) + mean(dw^2)) / 2``, each mean over all its N*C*(H-1)*W (N*C*H*(W-1)) entries.
    AnimeGANv2 applies it to the generated image in [-1, 1] (4x the value on [0, 1]) with weight 1
    ([train] ``--tv_weight``: 1 Hayao, 0.1 Paprika, 1 Shinkai). Unlike ``tv`` (a sum per image), the value does
    not grow with the image size.
    """

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = float(weight)

    def forward(self, x: Tensor) -> Tensor:
        x = x.float()
        dh = (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean()
        dw = (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()
        return self.weight * (dh + dw) / 2

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}"


@LOSSES.register("anime_adversarial")
class AnimeAdversarialLoss(AdversarialLoss):
    """AnimeGAN's adversarial loss (sec. 3): the discriminator learns that the real anime
    images are real and that the generated images, the *grayscale* anime images and the grayscale
    *edge-smoothed* anime images are fake ([ops] ``discriminator_loss``), so the generator is pushed
    towards colour (away from the gray) and sharp edges (away from the smoothed ones).

    With ``r(z)`` the "real" and ``f(z)`` the "fake" term of ``mode`` (lsgan: ``mean((z - 1)^2)`` and
    ``mean(z^2)``; vanilla: BCE with logits against 1 and 0; hinge: ``mean(relu(1 - z))``,
    ``mean(relu(1 + z))``):

    * discriminator: ``d_weight * (real_weight r(D(a)) + fake_weight f(D(G(p))) + gray_weight f(D(gray(a)))
      + smooth_weight f(D(gray(smooth(a)))))``;
    * generator: ``weight * r(D(G(p)))`` (lsgan; :class:`AdversarialLoss`'s generator side).

    Defaults: lsgan ([train] ``--gan_type lsgan``), ``weight`` = ``d_weight`` = 300 ([train]
    ``--g_adv_weight``, ``--d_adv_weight``), term weights 1.7, 1.7, 1.7, 1.0 ([ops]; its comment gives
    1.2, 1.2, 1.2, 0.8 for Hayao and 1.0, 1.0, 1.0, 0.005 for Paprika).
    """

    def __init__(self, weight: float = 300.0, mode: str = "lsgan", d_weight: float = 300.0,
                 real_weight: float = 1.7, fake_weight: float = 1.7, gray_weight: float = 1.7,
                 smooth_weight: float = 1.0) -> None:
        super().__init__(weight, mode)
        self.d_weight = float(d_weight)
        self.term_weights = {"real": float(real_weight), "fake": float(fake_weight), "gray": float(gray_weight),
                             "smooth": float(smooth_weight)}

    def _term(self, logits: Tensor, real: bool) -> Tensor:
        z = logits.float()
        if self.mode == "lsgan":
            return (z - 1).pow(2).mean() if real else z.pow(2).mean()
        if self.mode == "vanilla":
            return F.binary_cross_entropy_with_logits(z, torch.full_like(z, float(real)))
        return F.relu(1 - z).mean() if real else F.relu(1 + z).mean()

    def discriminator(self, real: Tensor, fake: Tensor, gray: Tensor, smooth: Tensor) -> Tensor:  # type: ignore[override]
        w = self.term_weights
        return self.d_weight * (w["real"] * self._term(real, True) + w["fake"] * self._term(fake, False)
                                + w["gray"] * self._term(gray, False) + w["smooth"] * self._term(smooth, False))

    def extra_repr(self) -> str:
        terms = ", ".join(f"{k}={v:g}" for k, v in self.term_weights.items())
        return f"{super().extra_repr()}, d_weight={self.d_weight:g}, {terms}"


# guided_gram (Gatys spatial control) lives in zoo.guided, which builds on this module: imported when first used.
LOSSES.register_lazy("guided_gram", "zoo.guided:GuidedGramLoss")


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
