"""AnimeGANv2 training (Chen, Liu & Chen 2020, "AnimeGAN: A Novel Lightweight GAN for Photo Animation",
ISICA 2019, CCIS 1205; AnimeGANv2: the same objective with layer-normalised networks) as a LightningModule.

The reference is TachibanaYoshino/AnimeGANv2: AnimeGANv2.py and train.py at commit
15268d55c4a1ecd30f0f6e478cb9b61d175046ce, tools/ops.py and net/discriminator.py at
8f97ab4828893e0b548122c400e23ff5e4384e78 (their only stored version). Per batch of photos p, anime images a and
edge-smoothed anime images e (:class:`zoo.data.anime.AnimeData`), with G the generator
(:class:`zoo.nets.animeganv2.AnimeGANv2Generator`), D the discriminator below and F the VGG19 ``conv4_4``
features before the ReLU (the reference's ``conv4_4_no_activation``):

* **initialisation** (the first ``init_epochs`` epochs; AnimeGANv2.py ``epoch < self.init_epoch``): only
  G is trained, on ``content_l1(F(G(p)), F(p))``, with its own Adam (``init_lr``);
* **adversarial training** (every later epoch), D first, then G, as the reference's loop
  (``training_rate`` 1: one D step per G step):

  - D: ``anime_adversarial.discriminator(D(a), D(G(p)), D(gray(a)), D(gray(e)))``: the grayscale anime
    images and the grayscale edge-smoothed ones are negatives too (the reference feeds ``anime[1]`` and
    ``anime_smooth[1]``, the grayscale copies its data loader makes);
  - G: ``anime_adversarial.generator(D(G(p))) + content_l1(F(G(p)), F(p)) + gram_l1(F(G(p)), F(gray(a)))``
    ``+ color_yuv(G(p), p) + tv_mean(2 G(p) - 1)`` (the reference's ``Generator_loss``; TV on [-1, 1] images).

Three Adam optimisers, all with betas (0.5, 0.999) (AnimeGANv2.py ``AdamOptimizer(..., beta1=0.5,
beta2=0.999)``): ``init`` (G, 2e-4), ``g`` (G, 2e-5) and ``d`` (D, 4e-5), at constant rates. The phase is a
function of the epoch, so ``--ckpt_path=last`` resumes in the phase the run was in, with all three
optimiser states. ``trainer.global_step`` counts optimiser steps: one per batch while initialising, two
per batch afterwards (Lightning's rule in manual optimisation).

Differences from the reference, all deliberate:

* VGG19 weights: torchvision's ImageNet weights (or any ``backbone.weights`` source) with ImageNet
  preprocessing, not the Caffe ``vgg19.npy`` on BGR 0-255 that the TensorFlow code loads; the features, and
  so the balance of the weighted losses, are not numerically those of the reference (the PyTorch ports,
  e.g. bryandlee's inference port and ptran1203/pytorch-animeGAN, use torchvision's VGG19 likewise).
* The generator is the PyTorch port's (GroupNorm(1) for the TensorFlow ``layer_norm``), so a trained
  checkpoint is interchangeable with the converted published ones.
* D runs once per step on the four kinds of images concatenated (layer norm is per image, so the logits are
  those of four separate calls; spectral normalisation makes one power iteration per call instead of four).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Optional

import lightning as L
import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ..errors import ConfigError
from ..backbone import VGGEncoder
from ..fileio import save_pretrained
from ..losses import build_losses, check_finite, feature_layers, grayscale
from ..nets.animeganv2 import AnimeGANv2Generator
from ..stylize import check_whole
from .optim import OptimizerOptions, make_optimizer, manual_step, optimizer_spec
from .options import check_losses, check_optimiser, losses_options, losses_spec, options_of, to_dict

log = logging.getLogger(__name__)

__all__ = ["AnimeGANv2", "AnimeGANDiscriminator", "DEFAULT_LOSSES", "AnimeDiscriminatorOptions",
           "AnimeBackboneOptions", "AnimeGANv2Losses"]


class AnimeGANDiscriminator(nn.Module):
    """AnimeGANv2's discriminator (net/discriminator.py ``D_net``): RGB [0, 1] (N, 3, H, W) -> logits
    (N, 1, H / 2^(n_dis - 1), W / 2^(n_dis - 1)), any size (mapped to [-1, 1] inside, the reference's range).

    ``c = ch / 2``; conv 3x3 3 -> c, LeakyReLU(0.2); then ``n_dis - 1`` times: conv 3x3 stride 2 c -> 2c,
    LeakyReLU; conv 3x3 2c -> 4c, layer norm, LeakyReLU; c = 2c; then conv 3x3 -> 2c, layer norm, LeakyReLU;
    conv 3x3 -> 1. Every convolution without bias, zero padding (1 on every side; stride 2: 1 at the top and
    left only, the reference ``conv``'s padding for kernel - stride odd), weights N(0, 0.02) (tools/ops.py
    ``weight_init``) and spectral normalisation (Miyato et al. 2018) when ``spectral_norm``. Layer norm is
    ``tf.contrib.layers.layer_norm``: over C, H and W of each image, per-channel scale and shift, epsilon 1e-12
    (here ``GroupNorm(1, C, eps=1e-12)``).

    Args:
        ch: base width (train.py ``--ch 64``).
        n_dis: number of stages (train.py ``--n_dis 3``).
        spectral_norm: spectral normalisation of every convolution (train.py ``--sn True``).
    """

    def __init__(self, ch: int = 64, n_dis: int = 3, spectral_norm: bool = True) -> None:
        super().__init__()
        if int(ch) < 2 or int(n_dis) < 1:
            raise ConfigError(f"discriminator: ch must be >= 2 and n_dis >= 1, got ch={ch}, n_dis={n_dis}")

        def conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
            layer = nn.Conv2d(c_in, c_out, 3, stride, padding=0, bias=False)
            nn.init.normal_(layer.weight, 0.0, 0.02)
            pad = nn.ZeroPad2d((1, 0, 1, 0) if stride == 2 else 1)
            return [pad, _spectral_norm(layer) if spectral_norm else layer]

        def norm(c: int) -> nn.Module:
            return nn.GroupNorm(1, c, eps=1e-12)

        c = int(ch) // 2
        layers: list[nn.Module] = [*conv(3, c), nn.LeakyReLU(0.2)]
        width = c
        for _ in range(1, int(n_dis)):
            layers += [*conv(width, c * 2, stride=2), nn.LeakyReLU(0.2),
                       *conv(c * 2, c * 4), norm(c * 4), nn.LeakyReLU(0.2)]
            width, c = c * 4, c * 2
        layers += [*conv(width, c * 2), norm(c * 2), nn.LeakyReLU(0.2), *conv(c * 2, 1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x * 2 - 1)


# train.py (15268d55) defaults, tools/ops.py for the discriminator's term weights; see zoo.losses for each.
DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "content_l1": {"weight": 1.5, "layers": ["conv4_4"]},  # --con_weight 1.5; conv4_4_no_activation
    "gram_l1": {"weight": 2.5, "layers": ["conv4_4"]},  # --sty_weight 2.5; same layer (con_sty_loss)
    "color_yuv": {"weight": 10.0},  # --color_weight 10
    "tv_mean": {"weight": 1.0},  # --tv_weight 1
    "anime_adversarial": {"weight": 300.0, "d_weight": 300.0, "mode": "lsgan",  # --g/d_adv_weight 300, lsgan
                          "real_weight": 1.7, "fake_weight": 1.7, "gray_weight": 1.7, "smooth_weight": 1.0},
}
_ALLOWED_LOSSES = tuple(DEFAULT_LOSSES)

# The recipe sections, typed (zoo/variants/options.py). The generator has a fixed architecture (no section).
AnimeDiscriminatorOptions = options_of(AnimeGANDiscriminator, "AnimeDiscriminatorOptions", module=__name__)
AnimeBackboneOptions = options_of(VGGEncoder, "AnimeBackboneOptions", only=("arch", "weights"),
                                  types={"weights": Optional[str]}, module=__name__)
AnimeGANv2Losses = losses_options("AnimeGANv2Losses", _ALLOWED_LOSSES, DEFAULT_LOSSES, module=__name__)


class AnimeGANv2(L.LightningModule):
    """AnimeGANv2 training. Constructor arguments are the recipe keys.

    Args:
        discriminator: :class:`AnimeGANDiscriminator` arguments (``ch``, ``n_dis``, ``spectral_norm``).
        backbone: the VGG19 encoder ``{arch: vgg19, weights: imagenet|timm|caffe|none|PATH}``, re-created from
            its source, never saved in checkpoints.
        losses: loss registry spec (:data:`AnimeGANv2Losses`, or a dict taken as the whole spec); needs
            ``content_l1`` and ``anime_adversarial``; ``gram_l1``, ``color_yuv`` and ``tv_mean`` can be
            turned off (null).
        init_epochs: epochs of generator initialisation on the content loss alone (train.py ``--init_epoch 10``).
        init_lr: learning rate of the initialisation (``--init_lr 2e-4``).
        lr, d_lr: generator and discriminator learning rates afterwards (``--g_lr 2e-5``, ``--d_lr 4e-5``).
        beta1, beta2: Adam betas of the three optimisers (0.5, 0.999).
        optimizer: the class of the three optimisers (:class:`~zoo.variants.optim.OptimizerOptions`; Adam by default).
    """

    # Each backward reaches only some parameters (the initialisation and generator steps leave D without
    # gradients, the D step leaves G without): zoo.fit runs DDP with find_unused_parameters for such modules.
    ddp_find_unused_parameters = True

    def __init__(self, discriminator: AnimeDiscriminatorOptions = AnimeDiscriminatorOptions(),
                 backbone: AnimeBackboneOptions = AnimeBackboneOptions(),
                 losses: AnimeGANv2Losses = AnimeGANv2Losses(), init_epochs: int = 10, init_lr: float = 2e-4,
                 lr: float = 2e-5, d_lr: float = 4e-5, beta1: float = 0.5, beta2: float = 0.999,
                 optimizer: OptimizerOptions = OptimizerOptions()) -> None:
        discriminator = to_dict(discriminator, AnimeDiscriminatorOptions, "discriminator")
        backbone = to_dict(backbone, AnimeBackboneOptions, "backbone (AnimeGANv2 takes arch and weights only)")
        losses = losses_spec(losses, AnimeGANv2Losses)
        check_optimiser(init_lr=init_lr, lr=lr, d_lr=d_lr, beta1=beta1, beta2=beta2)
        optimizer = optimizer_spec(optimizer)
        check_whole("--model.init_epochs", init_epochs, 0)
        check_losses(losses, _ALLOWED_LOSSES, ("content_l1", "anime_adversarial"), "AnimeGANv2",
                     "the AnimeGAN objective")
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.generator = AnimeGANv2Generator()
        self.discriminator = AnimeGANDiscriminator(**discriminator)
        self.losses = build_losses(losses)
        self.layers = feature_layers(self.losses)
        self.encoder = VGGEncoder(arch=backbone["arch"], weights=backbone["weights"], layers=self.layers)

    # ---------------------------------------------------------------------------------------------- API
    def forward(self, x: Tensor) -> Tensor:
        return self.generator(x)

    def in_init_phase(self) -> bool:
        """True while the generator is being initialised (epoch < ``init_epochs``)."""
        return self.current_epoch < self.hparams.init_epochs

    def configure_optimizers(self):
        hp = self.hparams
        betas = (float(hp.beta1), float(hp.beta2))
        return [make_optimizer(hp.optimizer, self.generator.parameters(), lr=hp.init_lr, betas=betas),
                make_optimizer(hp.optimizer, self.generator.parameters(), lr=hp.lr, betas=betas),
                make_optimizer(hp.optimizer, self.discriminator.parameters(), lr=hp.d_lr, betas=betas)]

    # --------------------------------------------------------------------------------------- training
    def _features(self, x: Tensor) -> dict[str, Tensor]:
        return self.encoder(x, self.layers)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        photo = batch["photo"]
        opt_init, opt_g, opt_d = self.optimizers()
        content = self.losses["content_l1"]
        step = self.global_step
        with torch.no_grad():
            feats_photo = self._features(photo)

        if self.in_init_phase():
            with manual_step(self, opt_init) as optimizer_step:
                loss = content(self._features(self.generator(photo)), content.target(feats_photo))
                check_finite({"init_content": loss}, step)
                optimizer_step(loss)
            self.log_dict({"train/init_content": loss.detach()}, batch_size=photo.shape[0])
            self.log("loss_g", loss.detach(), prog_bar=True, logger=False, batch_size=photo.shape[0])
            return

        adv = self.losses["anime_adversarial"]
        style = batch["style"]
        fake = self.generator(photo)
        n = photo.shape[0]

        # discriminator: real anime vs generated, grayscale anime and grayscale edge-smoothed anime
        with manual_step(self, opt_d) as optimizer_step:
            negatives = torch.cat([style, fake.detach(), grayscale(style), grayscale(batch["smooth"])])
            real, fake_d, gray, smooth = self.discriminator(negatives).split(n)
            loss_d = adv.discriminator(real, fake_d, gray, smooth)
            check_finite({"d_adversarial": loss_d}, step)
            optimizer_step(loss_d)

        # generator
        with manual_step(self, opt_g) as optimizer_step:
            feats_fake = self._features(fake)
            g_losses = {"g_adversarial": adv.generator(self.discriminator(fake)),
                        "content": content(feats_fake, content.target(feats_photo))}
            if "gram_l1" in self.losses:
                gram = self.losses["gram_l1"]
                with torch.no_grad():
                    target = gram.target(self._features(grayscale(style)))
                g_losses["style"] = gram(feats_fake, target)
            if "color_yuv" in self.losses:
                g_losses["color"] = self.losses["color_yuv"](fake, photo)
            if "tv_mean" in self.losses:
                g_losses["tv"] = self.losses["tv_mean"](fake * 2 - 1)
            loss_g = sum(g_losses.values())
            check_finite({**g_losses, "g_total": loss_g}, step)
            optimizer_step(loss_g)

        logged = {f"train/{k}": v.detach() for k, v in g_losses.items()}
        logged.update({"train/loss_g": loss_g.detach(), "train/loss_d": loss_d.detach()})
        self.log_dict(logged, batch_size=n)
        self.log("loss_g", loss_g.detach(), prog_bar=True, logger=False, batch_size=n)

    def on_train_epoch_start(self) -> None:
        if self.current_epoch == self.hparams.init_epochs and self.hparams.init_epochs:
            log.info("AnimeGANv2: generator initialised (%d epochs); adversarial training starts",
                     self.hparams.init_epochs)

    # ------------------------------------------------------------------------------------------ export
    def export(self, folder: str | os.PathLike) -> None:
        """Write the generator with ``save_pretrained`` (``model.safetensors`` and the hub mixin's model card),
        the folder ``zoo stylize --model animeganv2 --weights FOLDER`` reads; each file appears whole (written
        in a temporary folder beside it, then renamed)."""
        save_pretrained(self.generator, folder)
