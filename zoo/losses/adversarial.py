"""The GAN losses on discriminator logits: ``adversarial`` (lsgan, vanilla, hinge) and AnimeGAN's
``anime_adversarial`` with its extra negatives (zoo/losses/image.py cites [ops] and [train])."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import ConfigError
from ..registry import LOSSES
from .base import WeightedLoss

__all__ = ["AdversarialLoss", "AnimeAdversarialLoss"]


@LOSSES.register("adversarial")
class AdversarialLoss(WeightedLoss):
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
        super().__init__(weight)
        if mode not in self.MODES:
            raise ConfigError(f"unknown adversarial mode {mode!r}; valid: {', '.join(self.MODES)}")
        self.mode = mode

    def term(self, logits: Tensor, real: bool) -> Tensor:
        """The discriminator's term of ``mode`` for logits it should call real (``real``) or fake: lsgan
        ``mean((z - 1)^2)`` / ``mean(z^2)``; vanilla BCE with logits against 1 / 0; hinge ``mean(relu(1 - z))`` /
        ``mean(relu(1 + z))``."""
        z = logits.float()
        if self.mode == "lsgan":
            return (z - 1).pow(2).mean() if real else z.pow(2).mean()
        if self.mode == "vanilla":
            return F.binary_cross_entropy_with_logits(z, torch.full_like(z, float(real)))
        return F.relu(1 - z).mean() if real else F.relu(1 + z).mean()

    def generator(self, fake: Tensor) -> Tensor:
        loss = -fake.float().mean() if self.mode == "hinge" else self.term(fake, True)
        return self.weight * loss

    def discriminator(self, real: Tensor, fake: Tensor) -> Tensor:
        return 0.5 * (self.term(real, True) + self.term(fake, False))

    def forward(self, fake: Tensor) -> Tensor:
        return self.generator(fake)

    def extra_repr(self) -> str:
        return f"weight={self.weight:g}, mode={self.mode}"


@LOSSES.register("anime_adversarial")
class AnimeAdversarialLoss(AdversarialLoss):
    """AnimeGAN's adversarial loss (sec. 3): the discriminator learns that the real anime
    images are real and that the generated images, the *grayscale* anime images and the grayscale
    *edge-smoothed* anime images are fake ([ops] ``discriminator_loss``), so the generator is pushed
    towards colour (away from the gray) and sharp edges (away from the smoothed ones).

    With ``r(z)`` the "real" and ``f(z)`` the "fake" term of ``mode`` (:meth:`AdversarialLoss.term`):

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

    def discriminator(self, real: Tensor, fake: Tensor, gray: Tensor, smooth: Tensor) -> Tensor:  # type: ignore[override]
        w = self.term_weights
        return self.d_weight * (w["real"] * self.term(real, True) + w["fake"] * self.term(fake, False)
                                + w["gray"] * self.term(gray, False) + w["smooth"] * self.term(smooth, False))

    def extra_repr(self) -> str:
        terms = ", ".join(f"{k}={v:g}" for k, v in self.term_weights.items())
        return f"{super().extra_repr()}, d_weight={self.d_weight:g}, {terms}"
