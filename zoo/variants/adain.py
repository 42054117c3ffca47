"""AdaIN-GAN: AdaIN training (Huang & Belongie 2017) plus a PatchGAN adversarial term.

Per step, for content images c and style images s (paper sec. 5-6, pytorch-AdaIN ``net.py``):

    t      = AdaIN(f(c), f(s))               f = frozen VGG19 encoder at relu4_1
    g      = decoder(t)
    L_c    = content(f(g), t)                registry "content" at relu4_1, against the AdaIN target t
    L_s    = mean_std(f_l(g), f_l(s))        registry "mean_std" on relu1_1..relu4_1, weight 10
    L_adv  = adversarial.generator(D(g))     registry "adversarial" (default mode lsgan), weight w
    decoder step on L_c + L_s (+ tv) + L_adv;   discriminator step on adversarial.discriminator(D(s), D(g))

The discriminator is a 70x70 PatchGAN that sees real style images against stylised outputs, so it
pushes the decoder's outputs towards the look of real paintings. Manual optimisation, two Adam
optimisers. With adversarial weight 0 (or no ``adversarial`` entry) the decoder's updates are exactly
those of plain AdaIN training (tested): the adversarial term then adds an exact zero.

Learning rate: ``lr / (1 + lr_decay * step)`` as pytorch-AdaIN's ``adjust_learning_rate`` (applied to
both optimisers).
"""

from __future__ import annotations

from typing import Any, Optional

import lightning as L
import torch
from torch import Tensor

from ..errors import ConfigError
from ..losses import build_losses, check_finite
from ..nets.adain import ENCODER_LAYERS, AdaINNet
from ..backbone import VGGEncoder
from ..nets.cyclegan import NLayerDiscriminator
from .cyclegan import DiscriminatorOptions
from .optim import OptimizerOptions, make_optimizer, manual_step, optimizer_spec
from .options import check_losses, check_optimiser, losses_options, losses_spec, options_of, to_dict

__all__ = ["AdaINGAN", "InverseDecay", "DEFAULT_LOSSES", "AdaINOptions", "AdaINBackboneOptions", "AdaINLosses"]

# Huang & Belongie 2017, sec. 6.1 / eq. 11: L = L_c + lambda L_s with lambda = 10; style layers
# relu1_1, relu2_1, relu3_1, relu4_1; content at relu4_1 against t. Adversarial weight and mode: our
# choice for the AdaIN-GAN variant (lsgan as CycleGAN, Zhu et al. 2017), not from the AdaIN paper.
DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "content": {"weight": 1.0, "layers": ["relu4_1"]},
    "mean_std": {"weight": 10.0, "layers": list(ENCODER_LAYERS)},
    "adversarial": {"weight": 1.0, "mode": "lsgan"},
}
_ALLOWED_LOSSES = ("content", "mean_std", "adversarial", "tv")
# The recipe sections, typed (zoo/variants/options.py). The network's encoder weights are set by `backbone`.
AdaINOptions = options_of(AdaINNet, "AdaINOptions", exclude=("backbone_weights",), module=__name__)
AdaINBackboneOptions = options_of(VGGEncoder, "AdaINBackboneOptions", only=("arch", "weights"),
                                  defaults={"weights": "caffe"}, types={"weights": Optional[str]}, module=__name__)
AdaINLosses = losses_options("AdaINLosses", _ALLOWED_LOSSES, DEFAULT_LOSSES, module=__name__)


class InverseDecay:
    """LambdaLR factor ``1 / (1 + decay * step)`` (pytorch-AdaIN train.py ``adjust_learning_rate``).
    A class so the scheduler's state (and checkpoints) can hold it."""

    def __init__(self, decay: float) -> None:
        self.decay = float(decay)

    def __call__(self, step: int) -> float:
        return 1.0 / (1.0 + self.decay * step)


class AdaINGAN(L.LightningModule):
    """AdaIN decoder training with an optional PatchGAN adversarial loss.

    Args (the recipe's ``model.init_args``):
        network: :class:`zoo.nets.adain.AdaINNet` options other than the backbone (eps, unbiased_std,
            pad_multiple).
        backbone: the VGG encoder: ``{arch: vgg19, weights: caffe|imagenet|timm|none|PATH}``; re-created
            from its source, never saved in checkpoints.
        losses: registry name -> arguments; ``content`` (layers [relu4_1] only), ``mean_std`` (layers among
            relu1_1..relu4_1), optional ``adversarial`` and ``tv``. Default :data:`DEFAULT_LOSSES`.
        discriminator: :class:`~zoo.nets.cyclegan.NLayerDiscriminator` options (``n_layers``, ``ndf``); the
            default is CycleGAN's 70x70 PatchGAN.
        lr, lr_decay, beta1, beta2: decoder Adam (pytorch-AdaIN: 1e-4, 5e-5, torch defaults 0.9/0.999).
        d_lr, d_beta1, d_beta2: discriminator Adam (CycleGAN's 2e-4 / 0.5 / 0.999 family of settings).
        optimizer: the class of both optimisers (:class:`~zoo.variants.optim.OptimizerOptions`; Adam by default).
    """

    # The decoder and discriminator steps use disjoint parameters (see CycleGAN): DDP must allow it.
    ddp_find_unused_parameters = True

    def __init__(self, network: AdaINOptions = AdaINOptions(),
                 backbone: AdaINBackboneOptions = AdaINBackboneOptions(),
                 losses: AdaINLosses = AdaINLosses(), discriminator: DiscriminatorOptions = DiscriminatorOptions(),
                 lr: float = 1e-4, lr_decay: float = 5e-5, beta1: float = 0.9, beta2: float = 0.999,
                 d_lr: float = 1e-4, d_beta1: float = 0.5, d_beta2: float = 0.999,
                 optimizer: OptimizerOptions = OptimizerOptions()) -> None:
        # plain dicts in the hyper-parameters (and checkpoints)
        network = to_dict(network, AdaINOptions, "network (the encoder is configured under `backbone`)")
        backbone = to_dict(backbone, AdaINBackboneOptions, "backbone (AdaIN takes arch and weights only)")
        discriminator = to_dict(discriminator, DiscriminatorOptions, "discriminator")
        losses = losses_spec(losses, AdaINLosses)
        check_optimiser(lr=lr, lr_decay=lr_decay, beta1=beta1, beta2=beta2, d_lr=d_lr, d_beta1=d_beta1,
                        d_beta2=d_beta2)
        optimizer = optimizer_spec(optimizer)
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        if backbone["arch"] != "vgg19":
            raise ConfigError(f"backbone: AdaIN uses {{arch: vgg19, weights: ...}} only, got {backbone}")

        spec = losses
        check_losses(spec, _ALLOWED_LOSSES, ("content", "mean_std"), "AdaIN", "AdaIN's objective, paper eq. 11")
        self.losses = build_losses(spec)
        if list(self.losses["content"].layers) != ["relu4_1"]:
            raise ConfigError("losses.content.layers must be [relu4_1]: the content loss compares with the AdaIN "
                             f"target at relu4_1, got {list(self.losses['content'].layers)}")
        extra = [layer for layer in self.losses["mean_std"].layers if layer not in ENCODER_LAYERS]
        if extra:
            raise ConfigError(f"losses.mean_std.layers {extra} not available: the encoder stops at relu4_1 "
                             f"(valid: {', '.join(ENCODER_LAYERS)})")
        self.style_layers = list(self.losses["mean_std"].layers)
        self.net = AdaINNet(backbone_weights=backbone["weights"], **network)
        self.discriminator = NLayerDiscriminator(**discriminator) if "adversarial" in self.losses else None

    # ------------------------------------------------------------------ optimisation
    def configure_optimizers(self):
        hp = self.hparams
        opt_g = make_optimizer(hp.optimizer, self.net.decoder.parameters(), lr=hp.lr, betas=(hp.beta1, hp.beta2))
        opts, scheds = [opt_g], [torch.optim.lr_scheduler.LambdaLR(opt_g, InverseDecay(hp.lr_decay))]
        if self.discriminator is not None:
            opt_d = make_optimizer(hp.optimizer, self.discriminator.parameters(), lr=hp.d_lr,
                                   betas=(hp.d_beta1, hp.d_beta2))
            opts.append(opt_d)
            scheds.append(torch.optim.lr_scheduler.LambdaLR(opt_d, InverseDecay(hp.lr_decay)))
        return opts, scheds

    def generator_losses(self, content: Tensor, style: Tensor) -> tuple[dict[str, Tensor], Tensor]:
        """The decoder's losses for one batch and the stylised (unclamped) output g."""
        net = self.net
        layers = sorted(set(self.style_layers) | {"relu4_1"}, key=ENCODER_LAYERS.index)
        feats_s = net.encode(style, layers)
        c = net.encode(content)["relu4_1"]
        t = net.adain(c, *net.stats(feats_s["relu4_1"]))
        g = net.decode(t.to(c.dtype))
        feats_g = net.encode(g, layers)
        out = {
            "content": self.losses["content"](feats_g, self.losses["content"].target({"relu4_1": t})),
            "style": self.losses["mean_std"](feats_g, self.losses["mean_std"].target(feats_s)),
        }
        if "tv" in self.losses:
            out["tv"] = self.losses["tv"](g)
        if self.discriminator is not None:
            out["adversarial"] = self.losses["adversarial"].generator(self.discriminator(g))
        return out, g

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        content, style = batch
        opts = self.optimizers()
        opts = opts if isinstance(opts, list) else [opts]
        scheds = self.lr_schedulers()
        scheds = scheds if isinstance(scheds, list) else [scheds]
        opt_g = opts[0]

        # with a discriminator, it gets no gradient from the decoder's loss (toggle_optimizer)
        with manual_step(self, opt_g, toggle=self.discriminator is not None) as optimizer_step:
            losses, g = self.generator_losses(content, style)
            total = sum(losses.values())
            check_finite({**losses, "decoder_total": total}, self.global_step)
            optimizer_step(total)
        logs = {f"train/{k}": v.detach() for k, v in losses.items()}
        logs["train/loss"] = total.detach()
        if self.discriminator is not None:
            with manual_step(self, opts[1]) as optimizer_step:
                loss_d = self.losses["adversarial"].discriminator(self.discriminator(style),
                                                                  self.discriminator(g.detach()))
                check_finite({"discriminator": loss_d}, self.global_step)
                optimizer_step(loss_d)
            logs["train/discriminator"] = loss_d.detach()
        for s in scheds:
            s.step()
        self.log_dict(logs, prog_bar=False, on_step=True, on_epoch=False, batch_size=content.shape[0])
        self.log("loss", total.detach(), prog_bar=True, logger=False, batch_size=content.shape[0])
        return total.detach()

    # ------------------------------------------------------------------ export
    def export(self, folder: str) -> None:
        """Write the network (decoder weights + config.json; no encoder weights) with ``save_pretrained``;
        each file appears whole (written in a temporary folder beside it, then renamed)."""
        from ..fileio import save_pretrained

        save_pretrained(self.net, folder)
