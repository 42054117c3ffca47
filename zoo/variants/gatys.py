"""Optimisation-based style transfer (Gatys, Ecker & Bethge 2016, "Image Style Transfer Using
Convolutional Neural Networks", CVPR), as a LightningModule whose only parameter is the image.

* Content loss on relu4_2 ("conv4_2" in the paper), Gram style loss on relu1_1..relu5_1, equally
  weighted (paper, sec. 3); both from the loss registry, on the shared :class:`~zoo.backbone.VGGEncoder`.
* L-BFGS (paper, sec. 2) or Adam; one optimisation step per training step, so Lightning's progress bar
  counts steps and shows the loss.
* Several style images with blend weights (their Gram targets are blended once: see
  :func:`zoo.losses.blend_targets`).
* Colour preservation (Gatys et al. 2016b): ``"histogram"`` recolours the style images to the content's
  colour statistics before the targets are computed; ``"luminance"`` keeps the result's luminance and
  the content's chrominance.
* Coarse-to-fine (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer", sec. 5):
  optimise at a fraction of the output size first, upsample the result and continue at the next scale.
  Targets are computed once per scale, never per step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import lightning.pytorch as pl
import torch
from torch import Tensor, nn

from ..backbone import VGGEncoder
from ..color import check_preserve_color, match_color, preserve_luminance
from ..fileio import check_writable
from ..gatys import (DEFAULT_LOSSES, DEFAULT_STEPS, LBFGS_HISTORY, MIN_SIDE, GatysStylizer, check_losses,
                     compute_loss, compute_targets, guided_losses, initial_image, resize, scale_index)
from ..guided import parse_masks
from ..io import ImageWriteError, save_image
from ..losses import build_losses, check_finite
from .options import check_optimiser, losses_options, losses_spec, options_of, to_dict
from ..errors import ConfigError

# GatysStylizer and DEFAULT_STEPS live in zoo.gatys (inference without Lightning); named here for older imports.
__all__ = ["Gatys", "DEFAULT_LOSSES", "DEFAULT_STEPS", "GatysStylizer", "GatysBackboneOptions", "GatysLosses"]

# The recipe sections, typed (zoo/variants/options.py). The encoder's layers follow from the losses.
GatysBackboneOptions = options_of(VGGEncoder, "GatysBackboneOptions", exclude=("layers", "progress"),
                                  defaults={"arch": "vgg19", "weights": "imagenet"},
                                  types={"weights": Optional[str]}, module=__name__)
GatysLosses = losses_options("GatysLosses", ("content", "gram", "mean_std", "tv"), DEFAULT_LOSSES, module=__name__)


class Gatys(pl.LightningModule):
    """Optimise an image to match a content image's features and style images' Gram matrices.

    Args:
        backbone: :class:`~zoo.backbone.VGGEncoder` arguments (``arch``, ``weights``, ``pool``).
        losses: loss registry spec; ``content``, ``gram``, ``mean_std`` and ``tv`` are allowed here.
        optimizer: ``"lbfgs"`` (default, as the paper) or ``"adam"``.
        lr: learning rate; default 1.0 for L-BFGS, 0.02 for Adam.
        init: start from the ``"content"`` image, uniform ``"noise"``, or the (first) ``"style"`` image.
        scales: fractions of the output size, ascending, ending with 1.0, e.g. ``[0.25, 0.5, 1.0]``.
        scale_steps: steps spent at each scale but the last (which runs until ``trainer.max_steps``).
        style_scale: style images are resized so their long edge is ``style_scale`` x the output's.
        preserve_color: ``None``, ``"luminance"`` or ``"histogram"``.
        output: also write the result to this path (refuses to overwrite unless ``overwrite``).
        masks: spatial control (Gatys et al. 2017, :mod:`zoo.guided`): one mask image per style image,
            ``CONTENT[:STYLE]``; the ``gram`` loss becomes the same ``guided_gram`` loss.
    The data comes from :class:`zoo.data.GatysData`. The result is written to ``<run dir>/result.png``.
    """

    def __init__(
        self,
        backbone: GatysBackboneOptions = GatysBackboneOptions(),
        losses: GatysLosses = GatysLosses(),
        optimizer: str = "lbfgs",
        lr: float | None = None,
        init: str = "content",
        scales: list[float] | None = None,
        scale_steps: list[int] | None = None,
        style_scale: float = 1.0,
        preserve_color: str | None = None,
        output: str | None = None,
        overwrite: bool = False,
        masks: list[str] | None = None,
    ) -> None:
        backbone = to_dict(backbone, GatysBackboneOptions, "backbone")  # plain dicts in the hyper-parameters
        losses = losses_spec(losses, GatysLosses)
        check_optimiser(lr=lr)
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        if optimizer not in ("lbfgs", "adam"):
            raise ConfigError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
        if init not in ("content", "noise", "style"):
            raise ConfigError(f"init must be 'content', 'noise' or 'style', got {init!r}")
        self.scales = [float(s) for s in (scales or [1.0])]
        self.scale_steps = [int(s) for s in (scale_steps or [])]
        if self.scales != sorted(self.scales) or self.scales[-1] != 1.0 or self.scales[0] <= 0:
            raise ConfigError(f"scales must be ascending fractions ending with 1.0, got {self.scales}")
        if len(self.scale_steps) != len(self.scales) - 1:
            raise ConfigError(f"scale_steps needs {len(self.scales) - 1} entries (one per scale but the last), "
                             f"got {self.scale_steps}")
        self.preserve_color = check_preserve_color(preserve_color)
        self._masks = None  # parsed in setup(), where a bad file is one line (not LightningCLI's parse error)
        self.losses = build_losses(guided_losses(losses) if masks else losses)
        self.layers = check_losses(self.losses)
        self.encoder = VGGEncoder(**backbone, layers=self.layers)
        # One image per scale, each with its own optimiser, created in setup() once the sizes are known:
        # shapes never change, so checkpoints and resumption need no special handling.
        self.images = nn.ParameterList()
        self._targets: dict[str, Any] = {}
        self._targets_scale: int | None = None
        self._content: Tensor | None = None
        self._styles: list[Tensor] = []
        self._style_weights: list[float] = []
        self.init_image: Tensor | None = None  # when set, replaces `init` (zoo.video: the previous frame's result)

    # ------------------------------------------------------------------ schedule
    def scale_index(self, step: int) -> int:
        """Index into ``scales`` of the scale that optimisation step ``step`` runs at."""
        return scale_index(step, self.scale_steps)

    def scale_size(self, index: int) -> tuple[int, int]:
        assert self._content is not None
        h, w = self._content.shape[-2:]
        s = self.scales[index]
        return max(1, round(h * s)), max(1, round(w * s))

    # ------------------------------------------------------------------ lifecycle
    def setup(self, stage: str) -> None:
        output = self.hparams.output
        if output and not self.trainer.fast_dev_run:  # refuse before the optimisation, not after it
            if Path(output).exists() and not self.hparams.overwrite:
                raise ImageWriteError(f"{output}: file exists; pass --model.overwrite=true to replace it")
            check_writable(Path(output).parent, "--model.output")
        dm = self.trainer.datamodule
        if dm is None or not hasattr(dm, "content"):
            raise ConfigError("Gatys needs a GatysData datamodule (content and style images)")
        dm.setup(stage)
        if "16" in str(self.trainer.precision) and "bf16" not in str(self.trainer.precision):
            raise ConfigError("Gatys supports precision 32 and bf16-mixed; float16 loss scaling does not work "
                             "with L-BFGS closures")
        if self.hparams.masks:
            self._masks = parse_masks(self.hparams.masks)
        self._content = dm.content.float()
        self._style_weights = list(dm.style_weights)
        self._styles = [s.float() for s in dm.styles]
        if self.preserve_color == "histogram":
            self._styles = [match_color(s, self._content) for s in self._styles]
        if self.trainer.max_steps is not None and self.trainer.max_steps <= sum(self.scale_steps):
            raise ConfigError(f"trainer.max_steps ({self.trainer.max_steps}) must exceed the steps of the coarse "
                             f"scales ({sum(self.scale_steps)})")
        for i in range(len(self.scales)):
            h, w = self.scale_size(i)
            if min(h, w) < MIN_SIDE:
                raise ConfigError(f"scale {self.scales[i]} gives a {w}x{h} image; the smaller side must be at "
                                 f"least {MIN_SIDE} px (raise the size or the first scale)")
        sizes = [self.scale_size(i) for i in range(len(self.scales))]
        device = self.images[0].device if len(self.images) else torch.device("cpu")
        if self.trainer.strategy.root_device.type == "cpu":  # weights in the layout of the features (zoo.gatys.channels_last)
            self.encoder.to(memory_format=torch.channels_last)
        self.images = nn.ParameterList(
            [nn.Parameter(self._initial_image(*sizes[0]).to(device))]
            + [nn.Parameter(torch.zeros(1, 3, h, w, device=device)) for h, w in sizes[1:]]
        )
        self._targets, self._targets_scale = {}, None

    def _initial_image(self, h: int, w: int) -> Tensor:
        return initial_image(self.hparams.init, h, w, self._content, self._styles, self.init_image)

    @property
    def image(self) -> nn.Parameter:
        """The image being optimised at the current scale."""
        return self.images[self._targets_scale or 0]

    def configure_optimizers(self):
        if self.hparams.optimizer == "lbfgs":
            # One L-BFGS iteration per training step; the curvature history lives in the optimiser state.
            return [torch.optim.LBFGS([p], lr=self.hparams.lr or 1.0, max_iter=1, history_size=LBFGS_HISTORY)
                    for p in self.images]
        return [torch.optim.Adam([p], lr=self.hparams.lr or 0.02) for p in self.images]

    # ------------------------------------------------------------------ steps
    @torch.no_grad()
    def _prepare_scale(self) -> int:
        index = self.scale_index(self.global_step)
        if index == self._targets_scale:
            return index
        h, w = self.scale_size(index)
        if index > 0 and self.global_step == sum(self.scale_steps[:index]):  # moving up to a finer scale
            self.images[index].copy_(resize(self.images[index - 1].detach(), (h, w)))
        self._targets = self._compute_targets(h, w)
        self._targets_scale = index
        return index

    def _compute_targets(self, h: int, w: int) -> dict[str, Any]:
        """Targets of every feature loss at this scale: computed once, kept until the next scale."""
        return compute_targets(self.encoder, self.losses, self.layers, self._content, self._styles,
                               self._style_weights, (h, w), self.hparams.style_scale, self.image.device,
                               self.image.dtype, masks=self._masks)

    def compute_loss(self) -> tuple[Tensor, dict[str, Tensor]]:
        return compute_loss(self.encoder, self.losses, self.layers, self.image, self._targets)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        index = self._prepare_scale()
        optimizers = self.optimizers()
        opt = optimizers[index] if isinstance(optimizers, list) else optimizers
        parts: dict[str, Tensor] = {}

        def closure() -> Tensor:
            opt.zero_grad()
            total, p = self.compute_loss()
            check_finite({"total": total, **p}, self.global_step)
            self.manual_backward(total)
            parts.update(p)
            return total

        loss = opt.step(closure=closure)
        self.log("loss", loss.detach(), prog_bar=True)
        for name, value in parts.items():
            self.log(f"loss/{name}", value.detach())
        self.log("scale", float(self.scales[self._targets_scale or 0]))
        return loss.detach()

    # ------------------------------------------------------------------ result
    @torch.no_grad()
    def result(self) -> Tensor:
        """The current image, clamped to [0, 1], with colour preservation applied; (1, 3, H, W) on CPU."""
        image = self.image.detach().float().clamp(0, 1).cpu()
        if self.preserve_color == "luminance" and self._content is not None:
            image = preserve_luminance(image, self._content)
        return image

    def on_train_end(self) -> None:
        if self.trainer.is_global_zero and len(self.images) and not self.trainer.fast_dev_run:
            image = self.result()
            if self.trainer.loggers and self.trainer.log_dir:  # a run directory exists (zoo.fit), not zoo stylize
                path = save_image(image, Path(self.trainer.log_dir) / "result.png", overwrite=True)
                print(f"result written to {path}")
            if self.hparams.output:
                path = save_image(image, self.hparams.output, overwrite=self.hparams.overwrite)
                print(f"result written to {path}")
