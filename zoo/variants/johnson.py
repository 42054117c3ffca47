"""Feed-forward style transfer trained with perceptual losses (Johnson, Alahi & Fei-Fei 2016).

One :class:`~zoo.nets.johnson.TransformerNet` is trained per style image (or per blend of a few) on a
folder of content photos. The loss is the registry's ``content`` (feature reconstruction, eq. 2),
``gram`` (style reconstruction, eq. 4-5) and ``tv`` (total variation) losses on the shared, frozen
:class:`~zoo.backbone.VGGEncoder` (VGG16 as in the paper by default). The style target (the Gram matrices
of the style image) is computed once at the start of fit/validation and kept, never per step.

The style image comes from the datamodule (``style_images()`` and ``style_weights`` of
:class:`zoo.data.content.ContentData`) or from :meth:`PerceptualVariant.set_style`.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from lightning.pytorch import LightningModule
from torch import Tensor

from ..errors import ConfigError
from ..backbone import VGGEncoder
from ..losses import ContentLoss, blend_targets, build_losses, check_finite, feature_layers
from ..nets.johnson import TransformerNet
from .callbacks import ImageGrids
from .optim import OptimizerOptions, make_optimizer, optimizer_spec
from .options import check_optimiser, losses_options, losses_spec, options_of, to_dict

__all__ = ["PerceptualVariant", "DEFAULT_LOSSES", "DEFAULT_BACKBONE", "TransformerOptions", "PerceptualBackboneOptions",
           "PerceptualLosses"]

# Johnson et al. 2016, sec. 4.1 (style transfer): VGG-16, feature reconstruction at relu2_2, style
# reconstruction at relu1_2, relu2_2, relu3_3, relu4_3. Weights: see recipes/johnson.yaml for citations.
DEFAULT_BACKBONE: dict[str, Any] = {"arch": "vgg16", "weights": "imagenet"}
DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "content": {"weight": 1.0, "layers": ["relu2_2"]},
    "gram": {"weight": 1.0e5, "layers": ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]},
    "tv": {"weight": 1.0e-6},
}

# The recipe sections, typed (zoo/variants/options.py). The encoder's layers follow from the losses.
TransformerOptions = options_of(TransformerNet, "TransformerOptions", module=__name__)
PerceptualBackboneOptions = options_of(VGGEncoder, "PerceptualBackboneOptions", exclude=("layers", "progress"),
                                       defaults=DEFAULT_BACKBONE, types={"weights": Optional[str]}, module=__name__)
PerceptualLosses = losses_options("PerceptualLosses", ("content", "gram", "mean_std", "tv"), DEFAULT_LOSSES,
                                  module=__name__)


class PerceptualVariant(LightningModule):
    """Train a Johnson et al. 2016 transformation network for one style.

    Args:
        network: :class:`TransformerNet` config (JSON values; default: the paper's network with instance
            norm).
        backbone: :class:`VGGEncoder` kwargs, e.g. ``{arch: vgg16, weights: imagenet}`` (weights
            ``none`` = random, for smoke tests). Never saved in checkpoints: re-created from this.
        losses: ``{registry name: kwargs}``; ``content`` losses compare with the content image's features,
            other feature losses (``gram``, ``mean_std``) with the style target, image losses (``tv``) take
            the output.
        lr, betas, weight_decay: the optimiser's (the paper: Adam, lr 1e-3).
        optimizer: the optimiser class (:class:`~zoo.variants.optim.OptimizerOptions`; Adam by default).
        val_grid_images: how many validation images go into the logged grid of stylised images.
    """

    def __init__(self, network: TransformerOptions = TransformerOptions(),
                 backbone: PerceptualBackboneOptions = PerceptualBackboneOptions(),
                 losses: PerceptualLosses = PerceptualLosses(), lr: float = 1e-3,
                 betas: Sequence[float] = (0.9, 0.999), weight_decay: float = 0.0,
                 optimizer: OptimizerOptions = OptimizerOptions(), val_grid_images: int = 8) -> None:
        network = to_dict(network, TransformerOptions, "network")  # plain dicts in the hyper-parameters
        backbone = to_dict(backbone, PerceptualBackboneOptions, "backbone")
        losses = losses_spec(losses, PerceptualLosses)
        check_optimiser(lr=lr, weight_decay=weight_decay, **{f"betas[{i}]": b for i, b in enumerate(betas)})
        optimizer = optimizer_spec(optimizer)
        super().__init__()
        self.save_hyperparameters()
        self.network_config = network
        self.net = TransformerNet(**self.network_config)
        self.losses = build_losses(losses)
        self.feature_losses = {n: m for n, m in self.losses.items() if getattr(m, "layers", None)}
        if not self.feature_losses:
            raise ConfigError("the perceptual variant needs at least one feature loss (content, gram, mean_std)")
        self.content_losses = [n for n, m in self.feature_losses.items() if isinstance(m, ContentLoss)]
        self.style_losses = [n for n in self.feature_losses if n not in self.content_losses]
        self.image_losses = [n for n in self.losses if n not in self.feature_losses]
        self.style_layers = feature_layers([self.losses[n] for n in self.style_losses])
        self.content_layers = feature_layers([self.losses[n] for n in self.content_losses])
        self.encoder = VGGEncoder(**backbone, layers=feature_layers(self.losses))
        self.lr, self.betas, self.weight_decay = float(lr), tuple(float(b) for b in betas), float(weight_decay)
        self.val_grid_images = int(val_grid_images)
        self.style_target: dict[str, dict[str, Any]] | None = None
        self.style_target_computations = 0  # how many times the style target was computed (tests, logs)
        self._val_grid: list[Tensor] = []

    # ------------------------------------------------------------------ style target
    @torch.no_grad()
    def set_style(self, images: Sequence[Tensor], weights: Sequence[float] | None = None) -> None:
        """Compute and keep the style target of ``images`` (each (1, 3, h, w) in [0, 1]), blended by
        ``weights``. Called once at the start of fit/validation with the datamodule's style image(s)."""
        if not images:
            raise ConfigError("no style image given")
        weights = list(weights) if weights is not None else [1.0] * len(images)
        per_image = []
        for img in images:
            feats = self.encoder(img.to(self.device, torch.float32), self.style_layers)
            per_image.append({n: self.losses[n].target(feats) for n in self.style_losses})
        self.style_target = {n: blend_targets([t[n] for t in per_image], weights) for n in self.style_losses}
        self.style_target_computations += 1

    def _ensure_style(self) -> None:
        if self.style_target is not None or not self.style_losses:
            if self.style_target is not None:
                self.style_target = _to_device(self.style_target, self.device)
            return
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is None or not hasattr(dm, "style_images"):
            raise ConfigError("no style target: train with zoo.data.content.ContentData (--data.style=PATH) "
                               "or call set_style(images) first")
        self.set_style(dm.style_images(), getattr(dm, "style_weights", None))

    def on_fit_start(self) -> None:
        self._ensure_style()

    def on_validation_start(self) -> None:
        self._ensure_style()

    # ------------------------------------------------------------------ steps
    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def _losses(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        assert self.style_target is not None or not self.style_losses
        out: dict[str, Tensor] = {}
        feats_y = self.encoder(y, feature_layers(self.losses))
        if self.content_losses:
            with torch.no_grad():
                feats_x = self.encoder(x, self.content_layers)
            for n in self.content_losses:
                out[n] = self.losses[n](feats_y, self.losses[n].target(feats_x))
        for n in self.style_losses:
            out[n] = self.losses[n](feats_y, self.style_target[n])  # type: ignore[index]
        for n in self.image_losses:
            out[n] = self.losses[n](y)
        return out

    def training_step(self, batch: Tensor, batch_idx: int) -> Tensor:
        y = self.net(batch)
        parts = self._losses(batch, y)
        total = torch.stack(list(parts.values())).sum()
        check_finite({**parts, "loss": total}, self.global_step)
        self.log_dict({f"train/{k}": v.detach() for k, v in parts.items()}, batch_size=batch.shape[0])
        self.log("train/loss", total.detach(), prog_bar=True, batch_size=batch.shape[0])
        return total

    def validation_step(self, batch: Tensor, batch_idx: int) -> None:
        y = self.net(batch)
        parts = self._losses(batch, y)
        n = batch.shape[0]
        for k, v in parts.items():
            self.log(f"val/{k}", v, batch_size=n, sync_dist=True)
        content = sum((parts[k] for k in self.content_losses), torch.zeros((), device=self.device))
        style = sum((parts[k] for k in self.style_losses), torch.zeros((), device=self.device))
        self.log("val/content_loss", content, batch_size=n, sync_dist=True)
        self.log("val/style_loss", style, batch_size=n, sync_dist=True)
        self.log("val/loss", torch.stack(list(parts.values())).sum(), prog_bar=True, batch_size=n, sync_dist=True)
        have = sum(t.shape[0] for t in self._val_grid) // 2
        if have < self.val_grid_images:
            k = self.val_grid_images - have
            self._val_grid += [batch[:k].detach().float().cpu(), y[:k].detach().float().cpu()]

    def on_validation_epoch_start(self) -> None:
        self._val_grid = []

    def configure_callbacks(self) -> list:
        """The validation grid (:meth:`image_grids`) as PNG under ``<run dir>/val_images/`` and in the loggers."""
        return [ImageGrids("val_images", "epoch{epoch:03d}-step{step:07d}.png", "val/stylized", stage="validation")]

    def image_grids(self) -> dict[str, Tensor]:
        """``{"stylized": grid}`` of this validation epoch (:meth:`validation_grid`), or nothing without images."""
        return {"stylized": self.validation_grid()} if self._val_grid else {}

    def validation_grid(self) -> Tensor:
        """(3, H, W) grid: each column is a validation content image above its stylisation."""
        from torchvision.utils import make_grid

        contents = torch.cat(self._val_grid[0::2])
        outputs = torch.cat(self._val_grid[1::2])
        rows = torch.cat([contents, outputs]).clamp(0, 1)
        return make_grid(rows, nrow=contents.shape[0], padding=2, pad_value=1.0)

    def configure_optimizers(self):
        return make_optimizer(self.hparams.optimizer, self.net.parameters(), lr=self.lr, betas=self.betas,
                              weight_decay=self.weight_decay)


def _to_device(target: Any, device: torch.device) -> Any:
    if isinstance(target, Tensor):
        return target.to(device)
    if isinstance(target, dict):
        return {k: _to_device(v, device) for k, v in target.items()}
    if isinstance(target, tuple):
        return tuple(_to_device(v, device) for v in target)
    return target
