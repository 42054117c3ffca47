"""Gatys et al. style transfer by image optimisation, without Lightning (Gatys, Ecker & Bethge 2016, "Image
Style Transfer Using Convolutional Neural Networks", CVPR).

:class:`GatysStylizer` is ``zoo stylize --model gatys``, ``zoo.stylize(..., model="gatys")``, the page's and
the video engine's Gatys: a plain L-BFGS loop over the image, with a progress bar. The recipe
(``zoo fit gatys``) runs the same functions inside a LightningModule, :class:`zoo.variants.gatys.Gatys`:

* :func:`check_losses`: the losses Gatys can use (content, gram, mean_std, tv) and the VGG layers they read;
* :func:`compute_targets`: every feature loss's target at one scale, computed once per scale;
* :func:`compute_loss`: the loss of the image being optimised;
* :func:`scale_index`, :func:`initial_image`, :func:`resize`, :func:`channels_last`: the coarse-to-fine
  schedule (Gatys et al. 2017, sec. 5) and its images.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .backbone import VGGEncoder
from .color import check_preserve_color, match_color, preserve_luminance
from .gatys_tiled import ALIGN, MARGIN, TiledLoss, channels_last
from .guided import GuidedGramLoss, MaskSpec, parse_masks, resize_mask
from .io import resize_long_edge
from .losses import ContentLoss, FeatureLoss, TVLoss, blend_targets, build_losses, check_finite, feature_layers
from .stylize import OptionError, StylizeOptions, reject_options, resolve_device
from .errors import ConfigError
from .tiling import check_tile

__all__ = ["GatysStylizer", "DEFAULT_LOSSES", "DEFAULT_STEPS", "MIN_SIDE", "check_losses", "compute_targets",
           "compute_loss", "scale_index", "initial_image", "resize", "resize_long", "channels_last", "guided_losses"]

# Paper, sec. 3: content on conv4_2, style on conv1_1..conv5_1 with equal weights. The style/content
# ratio 1e6 follows the PyTorch "Neural Transfer" tutorial, which uses the same Gram normalisation
# (F F^T / CHW) and MSE as zoo.losses; the paper's own alpha/beta (1e-3..1e-4) is for its unnormalised sums.
DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "content": {"weight": 1.0, "layers": ["relu4_2"]},
    "gram": {"weight": 1.0e6, "layers": ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]},
}
DEFAULT_STEPS = 500
MIN_SIDE = 16  # four poolings before relu5_1 leave one pixel
LBFGS_HISTORY = 50


# ------------------------------------------------------------------------------------------ the functions
def guided_losses(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with its ``gram`` style loss replaced by the same ``guided_gram`` one (spatial control with
    masks, :mod:`zoo.guided`), unless it has a ``guided_gram`` already."""
    if "guided_gram" in spec or "gram" not in spec:
        return dict(spec)
    return {("guided_gram" if k == "gram" else k): v for k, v in spec.items()}


def check_losses(losses: nn.ModuleDict) -> list[str]:
    """The VGG layers ``losses`` read; a ValueError for a loss Gatys cannot use, or no feature loss."""
    for name, loss in losses.items():
        if not isinstance(loss, (FeatureLoss, TVLoss)):
            raise ConfigError(f"loss {name!r} cannot be used by Gatys (use content, gram, mean_std, tv)")
    if not any(isinstance(m, FeatureLoss) for m in losses.values()):
        raise ConfigError("Gatys needs at least one feature loss (content, gram or mean_std)")
    return feature_layers(losses)


def resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """``x`` at ``size`` (bicubic, antialiased, clamped to [0, 1]); ``x`` itself at its own size."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)


def resize_long(x: Tensor, edge: int) -> Tensor:
    h, w = x.shape[-2:]
    s = edge / max(h, w)
    return resize(x, (max(1, round(h * s)), max(1, round(w * s))))


def scale_index(step: int, scale_steps: Sequence[int]) -> int:
    """Index into the scales of the scale that optimisation step ``step`` runs at."""
    edge = 0
    for i, n in enumerate(scale_steps):
        edge += n
        if step < edge:
            return i
    return len(scale_steps)


def initial_image(init: str, h: int, w: int, content: Tensor, styles: Sequence[Tensor],
                  init_image: Tensor | None = None) -> Tensor:
    """The starting image at ``h`` x ``w``: ``init_image`` when given (video: the previous frame's result),
    else uniform noise, the content or the first style image. Always a copy: the optimiser updates it in
    place, and at the source's own size :func:`resize` returns the caller's tensor itself."""
    if init_image is not None:
        src = init_image.detach().float().cpu()
    elif init == "noise":
        return torch.rand(1, 3, h, w)
    else:
        src = content if init == "content" else styles[0]
    return resize(src, (h, w)).clone(memory_format=torch.contiguous_format)


@torch.no_grad()
def compute_targets(encoder: VGGEncoder, losses: nn.ModuleDict, layers: Sequence[str], content: Tensor,
                    styles: Sequence[Tensor], style_weights: Sequence[float], size: tuple[int, int],
                    style_scale: float = 1.0, device: torch.device | None = None,
                    dtype: torch.dtype = torch.float32, masks: Sequence[MaskSpec] | None = None) -> dict[str, Any]:
    """Targets of every feature loss at ``size``: the content's features, the style images' (resized so their
    long edge is ``style_scale`` x the output's) blended with ``style_weights``; a ``guided_gram`` loss's
    with ``masks`` (one (content mask, style mask or None) per style image, :func:`zoo.guided.parse_masks`),
    each resized to its image."""
    h, w = size
    content_feats = encoder(channels_last(resize(content, (h, w)).to(device, dtype)), layers)
    sized = [resize_long(s, round(max(h, w) * style_scale)) for s in styles]
    style_feats = [encoder(channels_last(s.to(device, dtype)), layers) for s in sized]
    targets: dict[str, Any] = {}
    for name, loss in losses.items():
        if isinstance(loss, GuidedGramLoss):
            if not masks:
                raise ConfigError(f"loss {name!r} (guided_gram) needs masks: one per style image")
            if len(masks) != len(styles):
                raise ConfigError(f"{len(masks)} masks for {len(styles)} style images: give one mask per style")
            content_masks = torch.cat([resize_mask(c, (h, w)) for c, _ in masks])
            style_masks = [None if m is None else resize_mask(m, tuple(s.shape[-2:]))
                           for (_, m), s in zip(masks, sized)]
            targets[name] = loss.guided_target({l: tuple(content_feats[l].shape[-2:]) for l in loss.layers},
                                               content_masks, style_feats, style_masks)
        elif isinstance(loss, ContentLoss):
            targets[name] = loss.target(content_feats)
        elif isinstance(loss, FeatureLoss):
            targets[name] = blend_targets([loss.target(f) for f in style_feats], style_weights)
    return targets


def compute_loss(encoder: VGGEncoder, losses: nn.ModuleDict, layers: Sequence[str], image: Tensor,
                 targets: dict[str, Any]) -> tuple[Tensor, dict[str, Tensor]]:
    """(total loss, {loss name: its value}) of ``image`` against ``targets``."""
    feats = encoder(channels_last(image), layers)
    parts = {name: (loss(feats, targets[name]) if isinstance(loss, FeatureLoss) else loss(image))
             for name, loss in losses.items()}
    return sum(parts.values()), parts


# ------------------------------------------------------------------------------------------ inference
class GatysStylizer:
    """``zoo stylize --model gatys``: one L-BFGS optimisation per content image, with a progress bar.

    Options (:class:`zoo.stylize.StylizeOptions`): ``steps`` (default 500), ``scales`` (coarse-to-fine
    fractions ending with 1, the steps shared equally), ``preserve_color`` (``luminance`` or
    ``histogram``), ``backbone_weights`` (VGG19 weights, default ``imagenet``; ``none`` or ``--weights random``:
    random, smoke runs only), ``style_weights``, ``seed``, ``device``, ``size``, ``masks`` (spatial control,
    Gatys et al. 2017: one mask per style image, ``CONTENT[:STYLE]``, :mod:`zoo.guided`).
    """

    needs_style = True
    # Called as on_step(step, steps) after each optimisation step, e.g. by zoo demo's progress bar.
    on_step: Callable[[int, int], None] | None = None

    def __init__(self, opts: StylizeOptions) -> None:
        reject_options(opts, "gatys", "alpha", "direction")
        if opts.tile is not None:
            check_tile(opts.tile, MARGIN, "gatys", ALIGN)
        if opts.weights not in (None, "random"):
            raise OptionError(f"--weights {opts.weights}: gatys has no trained network (it optimises the picture); "
                              "--weights random only, for smoke runs (a random VGG)")
        self.opts = opts
        self.steps = opts.steps or DEFAULT_STEPS
        self.scales = [float(s) for s in (opts.scales or [1.0])]
        per = self.steps // len(self.scales)
        self.scale_steps = [per] * (len(self.scales) - 1)
        self.preserve_color = check_preserve_color(opts.preserve_color)
        self.masks = None
        if opts.masks is not None:
            if opts.style_weights is not None:
                raise OptionError("--masks and --style-weights cannot be combined: each mask takes one style")
            self.masks = parse_masks(list(opts.masks))
        self.losses = build_losses(guided_losses(DEFAULT_LOSSES) if self.masks else DEFAULT_LOSSES)
        self.layers = check_losses(self.losses)
        backbone = opts.backbone_weights or ("none" if opts.weights == "random" else "imagenet")
        self.device = resolve_device(opts.device)
        self.encoder = VGGEncoder(arch="vgg19", weights=backbone, pool="avg", layers=self.layers).to(self.device)
        if self.device.type == "cpu":  # weights in the layout of the features (channels_last)
            self.encoder.to(memory_format=torch.channels_last)
        self.encoder.eval().requires_grad_(False)

    def __call__(self, content: Tensor, styles: Sequence[Tensor], init: Tensor | None = None,
                 steps: int | None = None) -> Tensor:
        """The stylised ``content`` (1, 3, H, W) in [0, 1], on the CPU. ``init`` (e.g. the previous video
        frame's result): start from it, at the output size only (no coarse-to-fine), for ``steps`` steps
        (default: the stylizer's)."""
        if not styles:
            raise ConfigError("gatys needs at least one --style image")
        if self.opts.seed is not None:
            torch.manual_seed(self.opts.seed)
        scales, scale_steps = ([1.0], []) if init is not None else (self.scales, self.scale_steps)
        total = steps or self.steps
        content = resize_long_edge(content, self.opts.size).float()
        h, w = content.shape[-2:]
        sizes = [(max(1, round(h * s)), max(1, round(w * s))) for s in scales]
        if min(sizes[0]) < MIN_SIDE:  # before any work, as an option error
            at = f" at scale {scales[0]:g}" if scales[0] < 1 else ""
            raise OptionError(f"a {w}x{h} picture is too small for gatys{at}: its smaller side must be at least "
                              f"{MIN_SIDE} px" + (" (raise the first --scales value)" if at else ""))
        if total <= sum(scale_steps):
            raise OptionError(f"--steps {total}: must exceed the steps of the coarse scales ({sum(scale_steps)})")
        styles = [s.float() for s in styles]
        if self.masks is not None and len(self.masks) != len(styles):
            raise OptionError(f"--masks: {len(self.masks)} masks for {len(styles)} style images: give one mask "
                              "per style")
        if self.preserve_color == "histogram":
            styles = [match_color(s, content) for s in styles]
        weights = list(self.opts.style_weights) if self.opts.style_weights else [1.0] * len(styles)
        bar = None
        if self.opts.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc="gatys", unit="step")
        try:
            with torch.enable_grad():
                image = self._optimise(content, styles, weights, sizes, scale_steps, total, init, bar)
        finally:
            if bar is not None:
                bar.close()
        image = image.detach().float().clamp(0, 1).cpu()
        if self.preserve_color == "luminance":
            image = preserve_luminance(image, content)
        return image

    def _history(self, size: tuple[int, int]) -> int:
        """L-BFGS's history: :data:`LBFGS_HISTORY` pairs of image-sized vectors, fewer (at least 5, said in a
        warning) where they would take more than half the memory available (a 4096 x 4096 picture: 50 pairs are
        20 GB)."""
        from .stylize import available_memory

        pixels, free = size[0] * size[1], available_memory(self.device)
        fit = LBFGS_HISTORY if free is None else int(free * 0.5 // (2 * 3 * 4 * pixels))
        history = max(5, min(LBFGS_HISTORY, fit))
        if history < LBFGS_HISTORY:
            import logging

            logging.getLogger(__name__).warning("gatys: L-BFGS keeps %d steps of history (not %d) to fit a %dx%d "
                                                "picture in memory", history, LBFGS_HISTORY, size[1], size[0])
        return history

    def _tiled_loss(self, size: tuple[int, int]):
        """A :class:`zoo.gatys_tiled.TiledLoss` where ``--tile`` is set and the picture is larger than a tile."""
        if self.opts.tile is None or max(size) <= self.opts.tile:
            return None
        return TiledLoss(self.encoder, self.losses, self.layers, self.opts.tile)

    def _optimise(self, content: Tensor, styles: list[Tensor], weights: list[float], sizes: list[tuple[int, int]],
                  scale_steps: list[int], total: int, init: Tensor | None, bar: Any) -> Tensor:
        image = initial_image("content", *sizes[0], content, styles, init).to(self.device)
        step = 0
        for index, size in enumerate(sizes):
            if index > 0:  # moving up to a finer scale
                image = resize(image.detach(), size)
            param = nn.Parameter(image.detach().clone())
            tiled = self._tiled_loss(size)
            if tiled is not None:  # zoo.gatys_tiled: the same targets, loss and gradient in bounded memory
                sized = [resize_long(s, max(size)).to(self.device) for s in styles]
                targets = tiled.targets(resize(content, size).to(self.device), sized, weights, self.masks)
            else:
                targets = compute_targets(self.encoder, self.losses, self.layers, content, styles, weights, size,
                                          device=self.device, masks=self.masks)
            # One L-BFGS iteration per step (as the recipe's training step); the history lives in the optimiser.
            opt = torch.optim.LBFGS([param], lr=1.0, max_iter=1, history_size=self._history(size))
            end = total if index == len(sizes) - 1 else step + scale_steps[index]

            def closure() -> Tensor:
                opt.zero_grad()
                if tiled is not None:
                    loss, parts, param.grad = tiled.loss_and_grad(param, targets)
                    check_finite({"total": loss, **parts}, step)
                    return loss
                loss, parts = compute_loss(self.encoder, self.losses, self.layers, param, targets)
                check_finite({"total": loss, **parts}, step)
                loss.backward()
                return loss

            while step < end:
                loss = opt.step(closure)
                step += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{float(loss):.4g}", refresh=False)
                if self.on_step is not None:
                    self.on_step(step, total)
            image = param
        return image
