"""The stylizers of ``zoo stylize`` built over a family's trained network, and the one loader of that network.

* :func:`load_network`: a family's trained network from what ``--weights`` names -- a pretrained tag, a
  Lightning ``.ckpt`` of the family's LightningModule (the network under its checkpoint prefix, its config
  from the hyper-parameters), a ``.safetensors`` file with ``config.json`` beside it, a ``save_pretrained``
  folder, or a reference implementation's file recognised by one of the family's :class:`Importer` s --
  strictly loaded, in eval mode. Where a family's files look like what is in :data:`LAYOUTS`.
* :class:`ImageStylizer`: one network forward per image (Johnson, CycleGAN, and any single-image
  network of :mod:`zoo.nets`): device, ``--size``, exact tiling (:mod:`zoo.tiling`), luminance
  preservation, batches.
* :class:`AdaINStylizer`: a content image and one or more style images (AdaIN).

The builders registered in :data:`zoo.registry.STYLIZERS` (``StylizeOptions -> stylizer``) check the options
a family supports and build these.
"""

from __future__ import annotations

import inspect
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .checkpoint import load_strict, read_checkpoint, strip_prefix
from .nets.adain import (CANONICAL as ADAIN_CANONICAL, AdaINNet, convert_pytorch_adain_state_dict, masks_to_tensor,
                         net_config_from_hparams, pytorch_adain_config)
from .nets.base import ZooNet
from .nets.cyclegan import (CANONICAL as CYCLEGAN_CANONICAL, ResnetGenerator, config_from_official_state_dict,
                            convert_official_state_dict)
from .nets.johnson import TransformerNet, convert_fast_neural_style_state_dict, fast_neural_style_config
from .registry import STYLIZERS
from .stylize import StylizeOptions, reject_options, resolve_device

log = logging.getLogger(__name__)

__all__ = [
    "Importer", "Layout", "LAYOUTS", "load_network", "ImageStylizer", "AdaINStylizer", "build_image_stylizer",
    "build_johnson_stylizer", "build_cyclegan_stylizer", "build_adain_stylizer", "load_transformer",
    "load_generator", "load_adain", "DIRECTIONS",
]


# ------------------------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class Importer:
    """A reference implementation's checkpoint layout: how to recognise it, convert it to the network's keys,
    and the network config that computes what the reference computes with it."""

    what: str                                                  # for messages: "a fast_neural_style .pth"
    detect: Callable[[Mapping[str, Tensor]], bool]
    convert: Callable[[Mapping[str, Tensor]], dict[str, Tensor]]
    config: Callable[[Mapping[str, Tensor]], dict[str, Any]]   # of the converted state dict


def _network_config(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """A Lightning checkpoint's ``network`` hyper-parameters, else the file's ``config.json``."""
    return dict(hparams.get("network", hparams) or {})


@dataclass(frozen=True)
class Layout:
    """What the weight files of a family look like."""

    arch: str                     # its architecture in zoo.registry.MODELS (and of its pretrained tags)
    network: type[ZooNet]
    prefixes: tuple[str, ...]     # the network's prefix in the family's training checkpoints; the default first
    importers: tuple[Importer, ...] = ()
    config_from_hparams: Callable[[Mapping[str, Any]], dict[str, Any]] = _network_config
    canonical: Mapping[str, str] = field(default_factory=dict)  # reference files by name -> their URL
    what: str = "network"


LAYOUTS: dict[str, Layout] = {
    "johnson": Layout(
        "johnson", TransformerNet, ("net.",),
        (Importer("a fast_neural_style .pth",
                  lambda sd: "conv1.conv2d.weight" in sd and "deconv3.conv2d.weight" in sd,
                  convert_fast_neural_style_state_dict, lambda sd: fast_neural_style_config()),)),
    "cyclegan": Layout(
        "cyclegan_resnet", ResnetGenerator, ("G_AB.", "G_BA."),
        (Importer("an official CycleGAN .pth",
                  lambda sd: "model.1.weight" in sd or "module.model.1.weight" in sd,
                  convert_official_state_dict, config_from_official_state_dict),),
        canonical=CYCLEGAN_CANONICAL, what="generator"),
    "adain": Layout(
        "adain", AdaINNet, ("net.",),
        (Importer("pytorch-AdaIN's decoder.pth",
                  lambda sd: "28.weight" in sd or "decoder.28.weight" in sd,
                  convert_pytorch_adain_state_dict, lambda sd: pytorch_adain_config()),),
        config_from_hparams=net_config_from_hparams, canonical={"decoder": ADAIN_CANONICAL["decoder"]}),
}


def load_network(family: str, weights: str | os.PathLike, prefix: str | None = None, **overrides: Any) -> ZooNet:
    """The trained network of ``family`` (a key of :data:`LAYOUTS`) from ``weights``, strictly loaded, in
    eval mode, on the CPU.

    ``weights``: a pretrained tag (``zoo list --pretrained``); a Lightning ``.ckpt`` of the family's
    LightningModule; a ``.safetensors`` file (``config.json`` beside it) or a ``save_pretrained`` folder; a
    reference implementation's file (the family's importers). ``prefix`` picks another network of a training
    checkpoint (CycleGAN's ``"G_BA."``). ``overrides`` replace entries of the file's config (AdaIN's
    ``backbone_weights``).
    """
    layout = LAYOUTS[family]
    prefix = prefix or layout.prefixes[0]
    name = os.fspath(weights)
    from .weights import WEIGHTS

    if name in WEIGHTS:
        if prefix != layout.prefixes[0]:
            raise ValueError(f"pretrained tag {name!r} holds one {layout.what}, not the {prefix!r} one of a "
                             "training checkpoint")
        from .hub import pretrained_net

        return pretrained_net(name, layout.arch, **overrides).eval()
    path = Path(weights)
    if not path.exists():
        if name in layout.canonical:
            raise FileNotFoundError(f"{name}: no such file; the reference {family} file {name!r} is published at "
                                    f"{layout.canonical[name]}: download it and pass the file to --weights")
        raise FileNotFoundError(f"{name}: no such weights file or folder, and not a pretrained tag "
                                "(see zoo list --pretrained)")
    state, hparams = read_checkpoint(path)
    if any(k.startswith(layout.prefixes) for k in state):  # a training checkpoint
        state, config = strip_prefix(state, prefix), layout.config_from_hparams(hparams)
    elif prefix != layout.prefixes[0]:
        raise ValueError(f"{path} holds a single {layout.what}; the {prefix!r} {layout.what} needs a training "
                         "checkpoint (.ckpt) that holds it, or pass that network's own file")
    else:
        importer = next((i for i in layout.importers if i.detect(state)), None)
        if importer is not None:
            state = importer.convert(state)
            config = importer.config(state)
        else:
            config = layout.config_from_hparams(hparams)
    accepted = inspect.signature(layout.network).parameters
    config = {**{k: v for k, v in config.items() if k in accepted}, **overrides}
    try:
        net = layout.network(**config)
    except TypeError as e:  # an argument the network does not take
        raise ValueError(f"{path}: its config does not fit {layout.network.__name__} ({e})") from None
    load_strict(net, state, source=str(path))
    return net.eval()


def _needs_weights(model: str, family: str, extra: str = "") -> ValueError:
    kinds = "".join(f"{i.what}, " for i in LAYOUTS[family].importers)
    return ValueError(f"model {model!r} needs --weights: a training checkpoint (.ckpt), a .safetensors file, a "
                      f"save_pretrained folder, {kinds}or a pretrained tag (zoo list --pretrained){extra}")


# The network of a CycleGAN training checkpoint that --direction picks.
DIRECTIONS = {"AtoB": "G_AB.", "BtoA": "G_BA."}


def load_generator(weights: str | os.PathLike, direction: str = "AtoB") -> ResnetGenerator:
    """The CycleGAN generator for ``direction`` (``--direction``) from ``weights`` (:func:`load_network`)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"--direction must be AtoB or BtoA, got {direction!r}")
    return load_network("cyclegan", weights, DIRECTIONS[direction])


def load_transformer(weights: str | os.PathLike, device: str | torch.device = "cpu") -> TransformerNet:
    """The Johnson network of ``weights`` (:func:`load_network`) on ``device``."""
    return load_network("johnson", weights).to(device)


def load_adain(weights: str | os.PathLike, backbone_weights: str | None = None) -> AdaINNet:
    """The AdaIN network of ``weights`` (:func:`load_network`); ``backbone_weights`` overrides the encoder
    source named in the file's config."""
    return load_network("adain", weights, **({"backbone_weights": backbone_weights} if backbone_weights else {}))


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
        from .color import preserve_luminance
        from .io import resize_long_edge
        from .tiling import tiled_apply_exact

        if styles:
            raise ValueError(f"model {self.name!r} takes no style image (--style): its style is in its weights")
        x = resize_long_edge(content, self.size).to(self.device, self.dtype)
        if self.tile:  # whole-image instance-norm statistics: the untiled picture (plain forward: its norms)
            y = tiled_apply_exact(self.net, x, self.tile, self.net.tile_margin(), progress=self.progress)
        else:
            y = (self.net.forward_fast if self.fast else self.net)(x)
        if self.preserve_color == "luminance":
            y = preserve_luminance(y, x)
        return y.float().clamp(0, 1).cpu()


# Options of zoo stylize that no single-image network takes (each family adds what it does not take).
_IMAGE_REJECTS = ("style_weights", "steps", "scales", "alpha", "masks", "backbone_weights")


def build_image_stylizer(family: str, opts: StylizeOptions, rejected: Sequence[str] = _IMAGE_REJECTS,
                         **load: Any) -> ImageStylizer:
    """The :class:`ImageStylizer` of ``family`` for ``opts``: refuses the ``rejected`` options and a
    ``--preserve-color`` other than luminance, loads ``opts.weights`` (:func:`load_network`, with ``load``),
    checks ``--tile`` against the network's margin."""
    from .color import check_preserve_color
    from .tiling import check_tile

    reject_options(opts, family, *rejected)
    mode = check_preserve_color(opts.preserve_color)
    if mode not in (None, "luminance"):
        raise ValueError(f"model {family!r} supports --preserve-color luminance only, got {mode!r} (histogram "
                         "matching needs a style image at run time; this network has its style built in)")
    if not opts.weights:
        raise _needs_weights(family, family)
    net = load_network(family, opts.weights, **load)
    margin = net.tile_margin()
    if opts.tile is not None and margin is None:
        raise ValueError(f"model {family!r} does not support --tile")
    check_tile(opts.tile, margin, family)
    return ImageStylizer(net, resolve_device(opts.device), size=opts.size, tile=opts.tile, preserve_color=mode,
                         progress=opts.progress, name=family)


@STYLIZERS.register("johnson")
def build_johnson_stylizer(opts: StylizeOptions) -> ImageStylizer:
    """``zoo stylize --model johnson --weights W``: ``--size``, ``--tile``, ``--preserve-color luminance``,
    ``--device``."""
    return build_image_stylizer("johnson", opts, _IMAGE_REJECTS + ("direction",))


@STYLIZERS.register("cyclegan")
def build_cyclegan_stylizer(opts: StylizeOptions) -> ImageStylizer:
    """``zoo stylize --model cyclegan --weights W``: ``--direction AtoB|BtoA`` (the generator of a training
    checkpoint), ``--size``, ``--tile``, ``--preserve-color luminance``, ``--device``."""
    if opts.direction not in DIRECTIONS:
        raise ValueError(f"--direction must be AtoB or BtoA, got {opts.direction!r}")
    return build_image_stylizer("cyclegan", opts, _IMAGE_REJECTS + ("seed",), prefix=DIRECTIONS[opts.direction])


class AdaINStylizer:
    """The ``adain_gan`` stylizer of ``zoo stylize``: one content image, one or more style images."""

    needs_style = True

    def __init__(self, net: AdaINNet, alpha: float, style_weights: Sequence[float] | None,
                 masks: Sequence[str] | None, preserve_color: str | None, size: int | None,
                 device: torch.device) -> None:
        self.net, self.alpha, self.style_weights = net, float(alpha), style_weights
        self.masks, self.preserve_color, self.size, self.device = masks, preserve_color, size, device

    @torch.inference_mode()
    def __call__(self, content: Tensor, styles: Sequence[Tensor]) -> Tensor:
        from .io import resize_long_edge

        if not styles:
            raise ValueError("model 'adain_gan' needs at least one --style image")
        if len(styles) > 1 and self.style_weights is None and self.masks is None:
            raise ValueError(f"{len(styles)} styles given: say how to combine them with --style-weights or --masks")
        content = resize_long_edge(content, self.size).to(self.device)
        styles = [resize_long_edge(s, self.size).to(self.device) for s in styles]
        masks = None
        if self.masks is not None:
            if len(self.masks) != len(styles):
                raise ValueError(f"{len(self.masks)} masks for {len(styles)} styles: give one mask per style")
            masks = masks_to_tensor(list(self.masks))
            masks = F.interpolate(masks, size=content.shape[-2:], mode="nearest")
        return self.net(content, styles, alpha=self.alpha, style_weights=self.style_weights, masks=masks,
                        preserve_color=self.preserve_color)


@STYLIZERS.register("adain_gan")
def build_adain_stylizer(opts: StylizeOptions) -> AdaINStylizer:
    """AdaIN / AdaIN-GAN stylizer. Options: --weights (.ckpt, .safetensors, save_pretrained folder,
    pytorch-AdaIN decoder.pth, a pretrained tag such as ``adain``, or ``random``: an untrained decoder, for smoke runs),
    --style (one or more), --style-weights, --alpha,
    --preserve-color (coral: pytorch-AdaIN's recolouring of the style; histogram: Gatys et al.'s colour
    matching of the style; luminance: keep the content's colours in the output),
    --masks (one mask image per style), --size, --backbone-weights (default: the weights' own config),
    --device."""
    from .color import COLOR_MODES, check_preserve_color

    reject_options(opts, "adain_gan", "steps", "scales", "direction", "tile", "seed")
    if not 0.0 <= float(opts.alpha) <= 1.0:
        raise ValueError(f"--alpha must be in [0, 1], got {opts.alpha}")
    if opts.masks is not None and opts.style_weights is not None:
        raise ValueError("--masks and --style-weights cannot be combined: each mask takes one style")
    preserve = check_preserve_color(opts.preserve_color, COLOR_MODES)
    # the encoder must be the one the decoder was trained with: follow the weights' config unless the
    # user names another source
    backbone = opts.backbone_weights
    device = resolve_device(opts.device)
    if not opts.weights:
        raise _needs_weights("adain_gan", "adain", "; --weights random runs an untrained decoder (smoke runs only)")
    if opts.weights == "random":
        log.warning("adain_gan: --weights random, the decoder is RANDOM (smoke runs only)")
        net = AdaINNet(backbone_weights=backbone or "caffe")
    else:
        net = load_adain(opts.weights, backbone)
    net = net.to(device).eval()
    return AdaINStylizer(net, opts.alpha, opts.style_weights, opts.masks, preserve, opts.size, device)
