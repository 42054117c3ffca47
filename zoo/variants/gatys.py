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
from typing import Any, Callable, Optional, Sequence

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..backbone import VGGEncoder
from ..color import check_preserve_color, match_color, preserve_luminance
from ..fileio import check_writable
from ..io import ImageWriteError, long_edge_size, save_image
from ..losses import ContentLoss, FeatureLoss, TVLoss, blend_targets, build_losses, check_finite, feature_layers
from ..stylize import OptionError, StylizeOptions, reject_options, resolve_device
from .options import check_optimiser, losses_options, losses_spec, options_of, to_dict

__all__ = ["Gatys", "DEFAULT_LOSSES", "GatysBackboneOptions", "GatysLosses"]

# Paper, sec. 3: content on conv4_2, style on conv1_1..conv5_1 with equal weights. The style/content
# ratio 1e6 follows the PyTorch "Neural Transfer" tutorial, which uses the same Gram normalisation
# (F F^T / CHW) and MSE as zoo.losses; the paper's own alpha/beta (1e-3..1e-4) is for its unnormalised sums.
DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "content": {"weight": 1.0, "layers": ["relu4_2"]},
    "gram": {"weight": 1.0e6, "layers": ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]},
}
# The recipe sections, typed (zoo/variants/options.py). The encoder's layers follow from the losses.
GatysBackboneOptions = options_of(VGGEncoder, "GatysBackboneOptions", exclude=("layers", "progress"),
                                  defaults={"arch": "vgg19", "weights": "imagenet"},
                                  types={"weights": Optional[str]}, module=__name__)
GatysLosses = losses_options("GatysLosses", ("content", "gram", "mean_std", "tv"), DEFAULT_LOSSES, module=__name__)
MIN_SIDE = 16  # four poolings before relu5_1 leave one pixel


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
    ) -> None:
        backbone = to_dict(backbone, GatysBackboneOptions, "backbone")  # plain dicts in the hyper-parameters
        losses = losses_spec(losses, GatysLosses)
        check_optimiser(lr=lr)
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        if optimizer not in ("lbfgs", "adam"):
            raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
        if init not in ("content", "noise", "style"):
            raise ValueError(f"init must be 'content', 'noise' or 'style', got {init!r}")
        self.scales = [float(s) for s in (scales or [1.0])]
        self.scale_steps = [int(s) for s in (scale_steps or [])]
        if self.scales != sorted(self.scales) or self.scales[-1] != 1.0 or self.scales[0] <= 0:
            raise ValueError(f"scales must be ascending fractions ending with 1.0, got {self.scales}")
        if len(self.scale_steps) != len(self.scales) - 1:
            raise ValueError(f"scale_steps needs {len(self.scales) - 1} entries (one per scale but the last), "
                             f"got {self.scale_steps}")
        self.preserve_color = check_preserve_color(preserve_color)
        self.losses = build_losses(losses)
        for name, loss in self.losses.items():
            if not isinstance(loss, (FeatureLoss, TVLoss)):
                raise ValueError(f"loss {name!r} cannot be used by Gatys (use content, gram, mean_std, tv)")
        if not any(isinstance(m, FeatureLoss) for m in self.losses.values()):
            raise ValueError("Gatys needs at least one feature loss (content, gram or mean_std)")
        self.layers = feature_layers(self.losses)
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
        edge = 0
        for i, n in enumerate(self.scale_steps):
            edge += n
            if step < edge:
                return i
        return len(self.scales) - 1

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
            raise ValueError("Gatys needs a GatysData datamodule (content and style images)")
        dm.setup(stage)
        if "16" in str(self.trainer.precision) and "bf16" not in str(self.trainer.precision):
            raise ValueError("Gatys supports precision 32 and bf16-mixed; float16 loss scaling does not work "
                             "with L-BFGS closures")
        self._content = dm.content.float()
        self._style_weights = list(dm.style_weights)
        self._styles = [s.float() for s in dm.styles]
        if self.preserve_color == "histogram":
            self._styles = [match_color(s, self._content) for s in self._styles]
        if self.trainer.max_steps is not None and self.trainer.max_steps <= sum(self.scale_steps):
            raise ValueError(f"trainer.max_steps ({self.trainer.max_steps}) must exceed the steps of the coarse "
                             f"scales ({sum(self.scale_steps)})")
        for i in range(len(self.scales)):
            h, w = self.scale_size(i)
            if min(h, w) < MIN_SIDE:
                raise ValueError(f"scale {self.scales[i]} gives a {w}x{h} image; the smaller side must be at "
                                 f"least {MIN_SIDE} px (raise the size or the first scale)")
        sizes = [self.scale_size(i) for i in range(len(self.scales))]
        device = self.images[0].device if len(self.images) else torch.device("cpu")
        if self.trainer.strategy.root_device.type == "cpu":  # weights in the layout of the features (_channels_last)
            self.encoder.to(memory_format=torch.channels_last)
        self.images = nn.ParameterList(
            [nn.Parameter(self._initial_image(*sizes[0]).to(device))]
            + [nn.Parameter(torch.zeros(1, 3, h, w, device=device)) for h, w in sizes[1:]]
        )
        self._targets, self._targets_scale = {}, None

    def _initial_image(self, h: int, w: int) -> Tensor:
        if self.init_image is not None:
            src = self.init_image.detach().float().cpu()
        elif self.hparams.init == "noise":
            return torch.rand(1, 3, h, w)
        else:
            src = self._content if self.hparams.init == "content" else self._styles[0]
        # Always a copy: the optimiser updates the image in place, and at the source's own size _resize returns
        # the source itself, the caller's tensor, which the colour preservation and the targets read as well.
        return _resize(src, (h, w)).clone(memory_format=torch.contiguous_format)

    @property
    def image(self) -> nn.Parameter:
        """The image being optimised at the current scale."""
        return self.images[self._targets_scale or 0]

    def configure_optimizers(self):
        if self.hparams.optimizer == "lbfgs":
            # One L-BFGS iteration per training step; the curvature history lives in the optimiser state.
            return [torch.optim.LBFGS([p], lr=self.hparams.lr or 1.0, max_iter=1, history_size=50)
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
            self.images[index].copy_(_resize(self.images[index - 1].detach(), (h, w)))
        self._targets = self._compute_targets(h, w)
        self._targets_scale = index
        return index

    @torch.no_grad()
    def _compute_targets(self, h: int, w: int) -> dict[str, Any]:
        """Targets of every feature loss at this scale: computed once, kept until the next scale."""
        device, dtype = self.image.device, self.image.dtype
        content_feats = self.encoder(_channels_last(_resize(self._content, (h, w)).to(device, dtype)), self.layers)
        style_feats = [self.encoder(_channels_last(_resize_long(s, round(max(h, w) * self.hparams.style_scale))
                                                   .to(device, dtype)), self.layers) for s in self._styles]
        targets: dict[str, Any] = {}
        for name, loss in self.losses.items():
            if isinstance(loss, ContentLoss):
                targets[name] = loss.target(content_feats)
            elif isinstance(loss, FeatureLoss):
                targets[name] = blend_targets([loss.target(f) for f in style_feats], self._style_weights)
        return targets

    def compute_loss(self) -> tuple[Tensor, dict[str, Tensor]]:
        feats = self.encoder(_channels_last(self.image), self.layers)
        parts = {name: (loss(feats, self._targets[name]) if isinstance(loss, FeatureLoss) else loss(self.image))
                 for name, loss in self.losses.items()}
        return sum(parts.values()), parts

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


def _channels_last(x: Tensor) -> Tensor:
    """On CPU, the image in channels_last: every convolution then runs in oneDNN's channels_last kernels
    (about 1.3x the NCHW ones in float32, 2x in bf16) and the Gram matrices read the features in place.
    The optimised parameter itself stays NCHW (L-BFGS flattens it)."""
    return x.contiguous(memory_format=torch.channels_last) if x.device.type == "cpu" else x


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)


def _resize_long(x: Tensor, edge: int) -> Tensor:
    h, w = x.shape[-2:]
    s = edge / max(h, w)
    return _resize(x, (max(1, round(h * s)), max(1, round(w * s))))


# ---------------------------------------------------------------------- inference (zoo stylize)
DEFAULT_STEPS = 500


class GatysStylizer:
    """``zoo stylize --model gatys``: one optimisation per content image, with a progress bar."""

    needs_style = True
    # Called as on_step(step, steps) after each optimisation step, e.g. by zoo demo's progress bar.
    on_step: Callable[[int, int], None] | None = None

    def __init__(self, opts: StylizeOptions) -> None:
        reject_options(opts, "gatys", "weights", "alpha", "direction", "tile", "masks")
        self.opts = opts
        self.steps = opts.steps or DEFAULT_STEPS
        scales = [float(s) for s in (opts.scales or [1.0])]
        per = self.steps // len(scales)
        self.model = Gatys(backbone={"arch": "vgg19", "weights": opts.backbone_weights or "imagenet", "pool": "avg"},
                           scales=scales, scale_steps=[per] * (len(scales) - 1),
                           preserve_color=opts.preserve_color)
        self.schedule = (self.model.scales, self.model.scale_steps)
        self.device = resolve_device(opts.device)

    def __call__(self, content: Tensor, styles: Sequence[Tensor], init: Tensor | None = None,
                 steps: int | None = None) -> Tensor:
        """``init`` (e.g. the previous video frame's result): start from it, at the output size only (no
        coarse-to-fine), for ``steps`` steps (default: the stylizer's)."""
        from ..data.gatys import GatysData

        if not styles:
            raise ValueError("gatys needs at least one --style image")
        if self.opts.seed is not None:
            pl.seed_everything(self.opts.seed, verbose=False)
        self.model.init_image = init
        self.model.scales, self.model.scale_steps = ([1.0], []) if init is not None else self.schedule
        h, w = long_edge_size(*content.shape[-2:], self.opts.size)
        first = self.model.scales[0]
        if min(round(h * first), round(w * first)) < MIN_SIDE:  # before any work, as an option error
            at = f" at scale {first:g}" if first < 1 else ""
            raise OptionError(f"a {w}x{h} picture is too small for gatys{at}: its smaller side must be at least "
                              f"{MIN_SIDE} px" + (" (raise the first --scales value)" if at else ""))
        dm = GatysData.from_tensors(content, styles, self.opts.style_weights, size=self.opts.size)
        trainer = pl.Trainer(
            max_steps=steps or self.steps, max_epochs=1, accelerator=self.device.type, devices=1, logger=False,
            enable_checkpointing=False, enable_model_summary=False, enable_progress_bar=self.opts.progress,
        )
        if self.on_step is not None:
            trainer.callbacks.append(_OnStep(self.on_step))
        trainer.fit(self.model, dm)
        return self.model.result()


class _OnStep(pl.Callback):
    """Reports each finished optimisation step to ``fn(step, steps)``."""

    def __init__(self, fn: Callable[[int, int], None]) -> None:
        self.fn = fn

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.fn(trainer.global_step, trainer.max_steps)
