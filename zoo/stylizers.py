"""The stylizers of ``zoo stylize`` built over a family's trained network (loaded by :mod:`zoo.loading`).

* :class:`ImageStylizer`: one network forward per image (Johnson, CycleGAN, and any single-image
  network of :mod:`zoo.nets`): device, ``--size``, exact tiling (:mod:`zoo.tiling`), luminance
  preservation, batches.
* :class:`AdaINStylizer`: a content image and one or more style images (AdaIN).

The families (:mod:`zoo.families`) name these builders (``StylizeOptions -> stylizer``); the options a family
does not declare are refused before a builder runs.
"""

from __future__ import annotations

import logging
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .color import COLOR_MODES, check_preserve_color, preserve_luminance
from .errors import ConfigError
from .families import FAMILIES
from .io import masks_to_tensor, resize_long_edge
from .loading import (RANDOM, family_of_weights, load_adain, load_generator, load_network, load_transformer,
                      needs_weights_error, network_prefix)
from .nets.adain import AdaINNet
from .nets.base import ZooNet
from .stylize import StylizeOptions, resolve_device
from .tiling import check_tile, tiled_apply_exact

log = logging.getLogger(__name__)

# RANDOM, load_network, family_of_weights and load_transformer / load_generator / load_adain live in
# zoo.loading; they stay importable from here (users and tests import them from this module).
__all__ = [
    "RANDOM", "load_network", "family_of_weights", "ImageStylizer", "AdaINStylizer", "build_image_stylizer",
    "build_adain_stylizer", "load_transformer", "load_generator", "load_adain",
]


# ------------------------------------------------------------------------------------------- stylizers
class ImageStylizer:
    """One forward pass of a trained single-image network per picture (no style image at run time).

    ``content`` (N, 3, H, W) in [0, 1] is resized (``size``: its long edge), run through the network on
    ``device`` (default: the network's) -- tile by tile with the whole image's instance-norm statistics
    when ``tile`` is set (:func:`zoo.tiling.tiled_apply_exact`: the untiled picture in bounded memory) --
    optionally given the content's chrominance back (``preserve_color="luminance"``), and returned on the
    CPU in [0, 1]. ``fast`` (default: on for a network on the CPU that has one) runs its ``forward_fast``,
    the same function within float rounding (Johnson: 1.5-2.0x faster on CPU, see ``docs/johnson.md``).
    """

    needs_style = False

    def __init__(self, net: ZooNet, device: torch.device | str | None = None, *, size: int | None = None,
                 tile: int | None = None, preserve_color: str | None = None, progress: bool = False,
                 fast: bool | None = None, name: str | None = None) -> None:
        self.net = net if device is None else net.to(device)
        self.size, self.tile, self.preserve_color, self.progress = size, tile, preserve_color, progress
        self.name = name or type(net).__name__
        param = next(self.net.parameters())
        self.device, self.dtype = param.device, param.dtype
        has_fast = hasattr(self.net, "forward_fast")
        self.fast = has_fast and (self.device.type == "cpu" if fast is None else bool(fast))

    @torch.no_grad()
    def __call__(self, content: Tensor, styles: Sequence[Tensor] = ()) -> Tensor:
        if styles:
            raise ConfigError(f"model {self.name!r} takes no style image (--style): its style is in its weights")
        x = resize_long_edge(content, self.size).to(self.device, self.dtype)
        if self.tile:  # whole-image instance-norm statistics: the untiled picture (plain forward: its norms)
            y = tiled_apply_exact(self.net, x, self.tile, self.net.tile_margin(), self.net.tile_align,
                                  progress=self.progress)
        else:
            y = (self.net.forward_fast if self.fast else self.net)(x)
        if self.preserve_color == "luminance":
            y = preserve_luminance(y, x)
        return y.float().clamp(0, 1).cpu()


def build_image_stylizer(opts: StylizeOptions) -> ImageStylizer:
    """The :class:`ImageStylizer` of the family ``opts.model`` (Johnson, CycleGAN, AnimeGANv2, any family
    with one single-image network): ``--weights`` (:func:`load_network`; ``--direction`` picks the network
    of a training checkpoint where the family has several), ``--size``, ``--tile`` (checked against the
    network's margin), ``--preserve-color luminance``, ``--device``. The options a family does not declare
    are refused before this runs (:func:`zoo.stylize.build_stylizer`)."""
    family = opts.model
    mode = check_preserve_color(opts.preserve_color)
    if mode not in (None, "luminance"):
        raise ConfigError(f"model {family!r} supports --preserve-color luminance only, got {mode!r} (histogram "
                         "matching needs a style image at run time; this network has its style built in)")
    prefix = network_prefix(FAMILIES[family], opts.direction)
    if not opts.weights:
        raise needs_weights_error(family, family)
    net = load_network(family, opts.weights, prefix)
    margin = net.tile_margin()
    if opts.tile is not None and margin is None:
        raise ConfigError(f"model {family!r} does not support --tile")
    check_tile(opts.tile, margin, family, net.tile_align)
    return ImageStylizer(net, resolve_device(opts.device), size=opts.size, tile=opts.tile, preserve_color=mode,
                         progress=opts.progress, name=family)


class AdaINStylizer:
    """The ``adain`` stylizer of ``zoo stylize``: one content image, one or more style images."""

    needs_style = True

    def __init__(self, net: AdaINNet, alpha: float, style_weights: Sequence[float] | None,
                 masks: Sequence[str] | None, preserve_color: str | None, size: int | None,
                 device: torch.device, tile: int | None = None, progress: bool = False) -> None:
        self.net, self.alpha, self.style_weights = net, float(alpha), style_weights
        self.masks, self.preserve_color, self.size, self.device = masks, preserve_color, size, device
        self.tile, self.progress = tile, progress

    @torch.inference_mode()
    def __call__(self, content: Tensor, styles: Sequence[Tensor]) -> Tensor:
        if not styles:
            raise ConfigError("model 'adain' needs at least one --style image")
        if len(styles) > 1 and self.style_weights is None and self.masks is None:
            raise ConfigError(f"{len(styles)} styles given: say how to combine them with --style-weights or --masks")
        content = resize_long_edge(content, self.size).to(self.device)
        styles = [resize_long_edge(s, self.size).to(self.device) for s in styles]
        masks = None
        if self.masks is not None:
            if len(self.masks) != len(styles):
                raise ConfigError(f"{len(self.masks)} masks for {len(styles)} styles: give one mask per style")
            masks = masks_to_tensor(list(self.masks))
            masks = F.interpolate(masks, size=content.shape[-2:], mode="nearest")
        return self.net(content, styles, alpha=self.alpha, style_weights=self.style_weights, masks=masks,
                        preserve_color=self.preserve_color, tile=self.tile, progress=self.progress)


def build_adain_stylizer(opts: StylizeOptions) -> AdaINStylizer:
    """AdaIN / AdaIN-GAN stylizer. Options: --weights (.ckpt, .safetensors, save_pretrained folder,
    pytorch-AdaIN decoder.pth, a pretrained tag such as ``adain``, or ``random``: an untrained decoder and, unless
    --backbone-weights names one, an untrained encoder, for smoke runs),
    --style (one or more), --style-weights, --alpha,
    --preserve-color (coral: pytorch-AdaIN's recolouring of the style; histogram: Gatys et al.'s colour
    matching of the style; luminance: keep the content's colours in the output),
    --masks (one mask image per style), --size, --tile (windows of at most N x N pixels with the whole
    image's statistics: the untiled picture in bounded memory), --backbone-weights (default: the weights'
    own config), --device."""
    if opts.masks is not None and opts.style_weights is not None:
        raise ConfigError("--masks and --style-weights cannot be combined: each mask takes one style")
    preserve = check_preserve_color(opts.preserve_color, COLOR_MODES)
    # the encoder must be the one the decoder was trained with: follow the weights' config unless the
    # user names another source
    backbone = opts.backbone_weights
    device = resolve_device(opts.device)
    if not opts.weights:
        raise needs_weights_error("adain", "adain", "; --weights random runs an untrained decoder (smoke runs only)")
    if opts.weights == RANDOM:  # the smoke path: random decoder, and a random encoder unless one is named
        log.warning("adain: --weights random, the decoder is RANDOM (smoke runs only)")
        net = AdaINNet(backbone_weights=backbone or "none")
    else:
        net = load_adain(opts.weights, backbone)
    net = net.to(device).eval()
    if opts.tile is not None:
        if net.tile_margin() is None:
            raise ConfigError(f"--tile: these {opts.model} weights pad the input to a multiple of {net.pad_multiple} "
                             "(an old config), which cannot be tiled exactly")
        check_tile(opts.tile, net.tile_margin(), opts.model, net.tile_align)
    return AdaINStylizer(net, opts.alpha, opts.style_weights, opts.masks, preserve, opts.size, device,
                         tile=opts.tile, progress=opts.progress)
