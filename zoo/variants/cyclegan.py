"""CycleGAN training (Zhu, Park, Isola & Efros 2017, arXiv:1703.10593) as a LightningModule.

Two generators ``G_AB: A -> B`` and ``G_BA: B -> A`` (:class:`zoo.nets.cyclegan.ResnetGenerator`) and two
PatchGAN discriminators ``D_A`` (real A vs ``G_BA(B)``) and ``D_B`` (real B vs ``G_AB(A)``), trained with
manual optimisation, one generator step then one discriminator step per batch, as the reference
``CycleGANModel.optimize_parameters``:

* generators (one Adam over both): ``adv(D_B(G_AB(a))) + adv(D_A(G_BA(b)))``
  ``+ cycle(a, G_BA(G_AB(a))) + cycle(b, G_AB(G_BA(b)))``
  ``+ identity(b, G_AB(b)) + identity(a, G_BA(a))`` (paper eq. 3 and sec. 5.2);
* discriminators (one Adam over both): ``adv.discriminator(D_A(a), D_A(pool_A(fake_a))) + (same for B)``,
  where the fakes come from a history of 50 generated images (Shrivastava et al. 2017; paper sec. 4).

The cycle and identity L1 losses are computed on images mapped to [-1, 1], the range of the reference
code, so their weights (lambda = 10, identity 0.5 * lambda) mean what they mean in the paper.

Learning rate: Adam 2e-4, betas (0.5, 0.999), constant for ``epochs_constant`` epochs, then linear decay
towards zero over ``epochs_decay`` epochs (paper sec. 4: 100 + 100 epochs), as ``LambdaLR`` schedulers
(manual optimisation: brought to the current epoch before every batch, ``last_epoch`` = epoch). Optimiser, scheduler and image-pool states are in every checkpoint,
so ``--ckpt_path=last`` resumes exactly where a run stopped.

``trainer.global_step`` counts optimiser steps: two per batch (Lightning's rule in manual optimisation).
"""

from __future__ import annotations

import logging
from itertools import chain
from typing import Any

import lightning as L
import torch
from torch import Tensor

from ..errors import ConfigError
from ..losses import build_losses, check_finite
from ..nets.cyclegan import NLayerDiscriminator, ResnetGenerator
from .callbacks import ImageGrids
from .optim import OptimizerOptions, make_optimizer, manual_step, optimizer_spec
from .options import check_optimiser, losses_options, losses_spec, options_of, to_dict

log = logging.getLogger(__name__)

__all__ = ["CycleGAN", "ImagePool", "linear_decay", "GeneratorOptions", "DiscriminatorOptions", "CycleGANLosses",
           "to_channels_last"]

DEFAULT_LOSSES = {
    "adversarial": {"mode": "lsgan", "weight": 1.0},  # LSGAN (Mao et al. 2017), paper sec. 4
    "cycle": {"weight": 10.0},  # lambda = 10, paper sec. 4
    "identity": {"weight": 5.0},  # 0.5 * lambda, paper sec. 5.2 / reference --lambda_identity 0.5
}

# The recipe sections `network`, `discriminator` and `losses`, typed (zoo/variants/options.py). Images are
# RGB: the channel counts are not options.
GeneratorOptions = options_of(ResnetGenerator, "GeneratorOptions", exclude=("in_channels", "out_channels"),
                              module=__name__)
DiscriminatorOptions = options_of(NLayerDiscriminator, "DiscriminatorOptions", exclude=("in_channels",),
                                  module=__name__)
CycleGANLosses = losses_options("CycleGANLosses", ("adversarial", "cycle", "identity"), DEFAULT_LOSSES,
                                module=__name__)


def _contiguous_grad(module: torch.nn.Module, inputs: Any, output: Tensor) -> None:
    if output.requires_grad:
        output.register_hook(torch.Tensor.contiguous)


def to_channels_last(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` in channels_last memory format, made safe to train on CPU.

    In torch 2.14 (CPU), the input gradient of ``instance_norm`` is wrong when the batch has one image and
    the incoming gradient is in channels_last memory format (a convolution with channels_last weights
    after the norm returns such gradients): the gradients of the layers below are then garbage (relative
    error ~1) while the forward is right, so a training step diverges from the NCHW one after its first
    update. Batches of 2 and more are unaffected. Here each instance norm's output gradient is made
    contiguous (NCHW) before that backward: one copy of one activation's gradient. Tested in
    ``tests/test_speed_paths.py``.
    """
    module.to(memory_format=torch.channels_last)
    for m in module.modules():
        if isinstance(m, torch.nn.InstanceNorm2d) and not getattr(m, "_zoo_contiguous_grad", False):
            m.register_forward_hook(_contiguous_grad)
            m._zoo_contiguous_grad = True
    return module


class ImagePool:
    """History of generated images (Shrivastava et al. 2017), as the reference ``util/image_pool.py``.

    ``query(images)`` returns a batch of the same size: while the pool holds fewer than ``size`` images
    each new image is stored and returned; afterwards, with probability 1/2 a new image is returned as
    is, else a random stored image is returned and replaced by the new one. ``size=0`` disables it.
    """

    def __init__(self, size: int = 50) -> None:
        self.size = int(size)
        self.images: list[Tensor] = []

    def query(self, images: Tensor) -> Tensor:
        if self.size <= 0:
            return images
        out = []
        for image in images.detach():
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(len(self.images), ()).item())
                old = self.images[i].to(image.device, image.dtype)
                self.images[i] = image.clone()
                out.append(old)
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, Any]:
        return {"size": self.size, "images": [t.detach().float().cpu() for t in self.images]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.size = int(state["size"])
        self.images = [t.clone() for t in state["images"]]


class linear_decay:  # noqa: N801 - used like a function; a class so LambdaLR states can be pickled
    """LR multiplier of epoch ``e`` (0-based): 1 for ``e < constant``, then linear decay, as the reference
    ``lambda_rule``: ``1 - max(0, e + 1 - constant) / (decay + 1)``."""

    def __init__(self, constant: int, decay: int) -> None:
        self.constant, self.decay = int(constant), int(decay)

    def __call__(self, epoch: int) -> float:
        return 1.0 - max(0, epoch + 1 - self.constant) / float(self.decay + 1)


def _pm1(x: Tensor) -> Tensor:
    return x * 2 - 1


class CycleGAN(L.LightningModule):
    """CycleGAN. Constructor arguments are the recipe keys.

    Args:
        network: :class:`ResnetGenerator` arguments for both generators ({n_blocks: 9, ngf: 64}), a
            :data:`GeneratorOptions` or a dict.
        discriminator: :class:`NLayerDiscriminator` arguments for both discriminators ({n_layers: 3}).
        losses: loss registry spec (:data:`CycleGANLosses`, or a dict taken as the whole spec); needs
            ``adversarial`` and ``cycle``, ``identity`` is optional.
        lr, beta1, beta2: Adam hyper-parameters for both optimisers (2e-4, 0.5, 0.999).
        optimizer: the class of both optimisers (:class:`~zoo.variants.optim.OptimizerOptions`; Adam by default).
        epochs_constant, epochs_decay: the learning-rate schedule (100, 100).
        pool_size: image history per domain (50).
        sample_every_n_epochs: write the A->B->A / B->A->B grids every this many epochs (and after the
            last); 0 disables them.
        num_samples: images per grid.
    """

    # Each backward of a manual GAN step reaches only some parameters (the generator step leaves the
    # discriminators without gradients and the other way round): zoo.fit runs `--trainer.strategy=ddp`
    # as Lightning's "ddp_find_unused_parameters_true" for such modules.
    ddp_find_unused_parameters = True

    def __init__(self, network: GeneratorOptions = GeneratorOptions(),
                 discriminator: DiscriminatorOptions = DiscriminatorOptions(),
                 losses: CycleGANLosses = CycleGANLosses(), lr: float = 2e-4, beta1: float = 0.5,
                 beta2: float = 0.999, optimizer: OptimizerOptions = OptimizerOptions(), epochs_constant: int = 100,
                 epochs_decay: int = 100, pool_size: int = 50, sample_every_n_epochs: int = 1,
                 num_samples: int = 4) -> None:
        network = to_dict(network, GeneratorOptions, "network")  # plain dicts in the hyper-parameters
        discriminator = to_dict(discriminator, DiscriminatorOptions, "discriminator")
        losses = losses_spec(losses, CycleGANLosses)
        check_optimiser(lr=lr, beta1=beta1, beta2=beta2)
        optimizer = optimizer_spec(optimizer)
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.G_AB = ResnetGenerator(**network)
        self.G_BA = ResnetGenerator(**network)
        self.D_A = NLayerDiscriminator(**discriminator)
        self.D_B = NLayerDiscriminator(**discriminator)
        self.losses = build_losses(losses)
        for required in ("adversarial", "cycle"):
            if required not in self.losses:
                raise ConfigError(f"CycleGAN needs a {required!r} loss; got losses {list(self.losses)}")
        unknown = set(self.losses) - {"adversarial", "cycle", "identity"}
        if unknown:
            raise ConfigError(f"CycleGAN does not use losses {sorted(unknown)}; valid: adversarial, cycle, identity")
        self.pool_A = ImagePool(pool_size)
        self.pool_B = ImagePool(pool_size)
        self._samples: dict[str, Tensor] | None = None

    # ---------------------------------------------------------------------------------------------- API
    def forward(self, x: Tensor, direction: str = "AtoB") -> Tensor:
        return self.generator(direction)(x)

    def generator(self, direction: str = "AtoB") -> ResnetGenerator:
        if direction == "AtoB":
            return self.G_AB
        if direction == "BtoA":
            return self.G_BA
        raise ConfigError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")

    def configure_optimizers(self):
        hp = self.hparams
        betas = (float(hp.beta1), float(hp.beta2))
        opt_g = make_optimizer(hp.optimizer, chain(self.G_AB.parameters(), self.G_BA.parameters()), lr=hp.lr, betas=betas)
        opt_d = make_optimizer(hp.optimizer, chain(self.D_A.parameters(), self.D_B.parameters()), lr=hp.lr, betas=betas)
        rule = linear_decay(hp.epochs_constant, hp.epochs_decay)
        sch_g = torch.optim.lr_scheduler.LambdaLR(opt_g, rule)
        sch_d = torch.optim.lr_scheduler.LambdaLR(opt_d, rule)
        return [opt_g, opt_d], [sch_g, sch_d]

    def on_fit_start(self) -> None:
        hp = self.hparams
        total = hp.epochs_constant + hp.epochs_decay
        max_epochs = self.trainer.max_epochs
        if not self.trainer.fast_dev_run and max_epochs is not None and max_epochs > 0 and max_epochs != total:
            log.warning("trainer.max_epochs=%d but the LR schedule spans epochs_constant + epochs_decay = %d epochs",
                        max_epochs, total)

    # --------------------------------------------------------------------------------------- training
    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        real_a, real_b = batch["A"], batch["B"]
        opt_g, opt_d = self.optimizers()
        adv, cycle = self.losses["adversarial"], self.losses["cycle"]
        identity = self.losses["identity"] if "identity" in self.losses else None
        step = self.global_step

        # generators (D frozen by toggle_optimizer)
        with manual_step(self, opt_g) as optimizer_step:
            fake_b = self.G_AB(real_a)
            fake_a = self.G_BA(real_b)
            rec_a = self.G_BA(fake_b)
            rec_b = self.G_AB(fake_a)
            g_losses = {
                "g_adv_AB": adv.generator(self.D_B(fake_b)),
                "g_adv_BA": adv.generator(self.D_A(fake_a)),
                "cycle_A": cycle(_pm1(real_a), _pm1(rec_a)),
                "cycle_B": cycle(_pm1(real_b), _pm1(rec_b)),
            }
            if identity is not None and identity.weight > 0:
                g_losses["idt_B"] = identity(_pm1(real_b), _pm1(self.G_AB(real_b)))
                g_losses["idt_A"] = identity(_pm1(real_a), _pm1(self.G_BA(real_a)))
            loss_g = sum(g_losses.values())
            check_finite({**g_losses, "g_total": loss_g}, step)
            optimizer_step(loss_g)

        # discriminators, on fakes drawn from the history pools
        with manual_step(self, opt_d) as optimizer_step:
            pooled_a = self.pool_A.query(fake_a.detach())
            pooled_b = self.pool_B.query(fake_b.detach())
            d_losses = {
                "d_A": adv.discriminator(self.D_A(real_a), self.D_A(pooled_a)),
                "d_B": adv.discriminator(self.D_B(real_b), self.D_B(pooled_b)),
            }
            loss_d = d_losses["d_A"] + d_losses["d_B"]
            check_finite({**d_losses, "d_total": loss_d}, step)
            optimizer_step(loss_d)

        logged = {f"train/{k}": v.detach() for k, v in {**g_losses, **d_losses}.items()}
        logged["train/loss_g"] = loss_g.detach()
        logged["train/loss_d"] = loss_d.detach()
        logged["train/lr"] = torch.tensor(opt_g.param_groups[0]["lr"])
        self.log_dict(logged, prog_bar=False, batch_size=real_a.shape[0])
        self.log("loss_g", loss_g.detach(), prog_bar=True, batch_size=real_a.shape[0], logger=False)
        if self._samples is None:
            self._samples = {"A": real_a[: self.hparams.num_samples].detach().cpu(),
                             "B": real_b[: self.hparams.num_samples].detach().cpu()}

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        # The LR of epoch e is lr * rule(e). Bringing the schedulers to the current epoch before every
        # batch (rather than stepping them after each epoch) keeps that true after a resume from any
        # checkpoint, whatever the order in which Lightning restores state and calls epoch hooks.
        for scheduler in self.lr_schedulers():
            while scheduler.last_epoch < self.current_epoch:
                scheduler.step()

    # ----------------------------------------------------------------------------------------- samples
    def _sample_batch(self) -> dict[str, Tensor] | None:
        dm = getattr(self.trainer, "datamodule", None)
        if dm is not None and hasattr(dm, "sample_images"):
            try:
                return dm.sample_images(self.hparams.num_samples)
            except Exception as e:  # samples are a convenience, never a reason to stop training
                log.warning("CycleGAN: no sample images from the datamodule (%s); using a training batch", e)
        return self._samples

    @torch.no_grad()
    def sample_grids(self, samples: dict[str, Tensor]) -> dict[str, Tensor]:
        """``{"AtoBtoA": grid, "BtoAtoB": grid}``: rows of (real, translated, reconstructed), (3, H, W)."""
        from torchvision.utils import make_grid

        was_training = self.training
        self.eval()
        try:
            a = samples["A"].to(self.device)
            b = samples["B"].to(self.device)
            fake_b, fake_a = self.G_AB(a), self.G_BA(b)
            rec_a, rec_b = self.G_BA(fake_b), self.G_AB(fake_a)
        finally:
            self.train(was_training)

        def grid(*cols: Tensor) -> Tensor:
            rows = torch.stack(cols, 1).flatten(0, 1).float().clamp(0, 1).cpu()  # real, fake, rec per row
            return make_grid(rows, nrow=len(cols), padding=2, pad_value=1.0)

        return {"AtoBtoA": grid(a, fake_b, rec_a), "BtoAtoB": grid(b, fake_a, rec_b)}

    def configure_callbacks(self) -> list:
        """The sample grids (:meth:`image_grids`) every ``sample_every_n_epochs`` epochs and after the last, as PNG
        under ``<run dir>/samples/`` and in the loggers that take images."""
        return [ImageGrids("samples", "epoch{epoch:04d}_step{step:07d}_{name}.png", "samples/{name}",
                           every_n_epochs=self.hparams.sample_every_n_epochs)]

    def image_grids(self) -> dict[str, Tensor]:
        """The grids of :meth:`sample_grids` on the datamodule's sample images (else the first training batch)."""
        samples = self._sample_batch()
        return {} if samples is None else self.sample_grids(samples)

    # -------------------------------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["cyclegan_image_pools"] = {"A": self.pool_A.state_dict(), "B": self.pool_B.state_dict()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        pools = checkpoint.get("cyclegan_image_pools")
        if pools is None:
            log.warning("checkpoint has no CycleGAN image pools; they start empty")
            return
        self.pool_A.load_state_dict(pools["A"])
        self.pool_B.load_state_dict(pools["B"])
