"""The stylizers of ``zoo stylize`` built over a family's trained network, and the one loader of that network.

* :func:`load_network`: a family's trained network from what ``--weights`` names -- a pretrained tag, a
  Lightning ``.ckpt`` of the family's LightningModule (the network under its checkpoint prefix, its config
  from the hyper-parameters), a ``.safetensors`` file with ``config.json`` beside it, a ``save_pretrained``
  folder, or a reference implementation's file recognised by one of the family's :class:`Importer` s --
  strictly loaded, in eval mode. What a family's files look like is in its declaration (:mod:`zoo.families`).
* :class:`ImageStylizer`: one network forward per image (Johnson, CycleGAN, and any single-image
  network of :mod:`zoo.nets`): device, ``--size``, exact tiling (:mod:`zoo.tiling`), luminance
  preservation, batches.
* :class:`AdaINStylizer`: a content image and one or more style images (AdaIN).

The families (:mod:`zoo.families`) name these builders (``StylizeOptions -> stylizer``); the options a family
does not declare are refused before a builder runs.
"""

from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import ConfigError, MissingFileError
from .checkpoint import load_strict, read_checkpoint, strip_prefix
from .nets.adain import AdaINNet, masks_to_tensor
from .nets.base import ZooNet
from .nets.cyclegan import ResnetGenerator
from .nets.johnson import TransformerNet
from .stylize import StylizeOptions, resolve_device

log = logging.getLogger(__name__)

__all__ = [
    "RANDOM", "load_network", "family_of_weights", "ImageStylizer", "AdaINStylizer", "build_image_stylizer",
    "build_adain_stylizer", "load_transformer", "load_generator", "load_adain",
]


# ------------------------------------------------------------------------------------------- loading
# ``--weights random``: every family's smoke path (zoo stylize, zoo.stylize, zoo demo): its network untrained,
# and any VGG encoder random too unless --backbone-weights names a source; nothing is downloaded.
RANDOM = "random"


def _network_config(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """A Lightning checkpoint's ``network`` hyper-parameters, else the file's ``config.json``."""
    return dict(hparams.get("network", hparams) or {})


def _canonical_files(family: str) -> dict[str, str]:
    """The reference files of ``family``'s pretrained tags by name (``horse2zebra``, ``decoder``) -> their URL:
    a ``--weights`` that names one that is not here gets told where it is published."""
    from .weights import WEIGHTS

    entries = (WEIGHTS.get(t) for t in WEIGHTS.names())
    return {Path(e.canonical.member or e.canonical.filename).stem: e.canonical.url
            for e in entries if e.canonical is not None and e.arch == family}


def _config_source(path: Path) -> str:
    """Where a file's network config is read from, for messages: the ``config.json`` beside an export."""
    folder = path if path.is_dir() else path.parent
    return str(folder / "config.json") if path.suffix != ".ckpt" and (folder / "config.json").is_file() else str(path)


def load_network(family: str, weights: str | os.PathLike, prefix: str | None = None, **overrides: Any) -> ZooNet:
    """The trained network of ``family`` (a name in :data:`zoo.families.FAMILIES`) from ``weights``, strictly loaded, in
    eval mode, on the CPU.

    ``weights``: ``"random"`` (an untrained network of the family's default config: smoke runs); a pretrained
    tag (``zoo list --pretrained``); a Lightning ``.ckpt`` of the family's
    LightningModule; a ``.safetensors`` file (``config.json`` beside it) or a ``save_pretrained`` folder; a
    reference implementation's file (the family's importers). ``prefix`` picks another network of a training
    checkpoint (CycleGAN's ``"G_BA."``). ``overrides`` replace entries of the file's config (AdaIN's
    ``backbone_weights``).
    """
    from .families import FAMILIES, load

    fam = FAMILIES[family]
    importers = [load(i) for i in fam.importers]
    prefixes = tuple(fam.checkpoint_prefix.values())
    prefix = prefix or prefixes[0]
    network = load(fam.network)
    config_from_hparams = load(fam.network_config) if fam.network_config else _network_config
    name = os.fspath(weights)

    path = Path(weights)
    if name == RANDOM and not path.exists():  # the smoke path: an untrained network, nothing downloaded
        log.warning("%s: --weights random, the network is RANDOM (smoke runs only)", family)
        accepted = inspect.signature(network).parameters
        return network(**{k: v for k, v in overrides.items() if k in accepted}).eval()
    if not path.exists():
        from .factory import pretrained_net

        net = pretrained_net(name, family, **overrides)  # a tag, or a family name meaning its default tag
        if net is not None:
            if prefix != prefixes[0]:
                raise ConfigError(f"pretrained tag {name!r} holds one network, not the {prefix!r} one of a "
                                 "training checkpoint")
            return net.eval()
        canonical = _canonical_files(family)
        if name in canonical:
            raise MissingFileError(f"{name}: no such file; the reference {family} file {name!r} is published at "
                                    f"{canonical[name]}: download it and pass the file to --weights")
        raise MissingFileError(f"{name}: no such weights file or folder, and not a pretrained tag "
                               "(see zoo list --pretrained; --weights random: an untrained network, smoke runs)")
    state, hparams = read_checkpoint(path)
    if any(k.startswith(prefixes) for k in state):  # a training checkpoint
        state, config = strip_prefix(state, prefix), config_from_hparams(hparams)
    elif prefix != prefixes[0]:
        raise ConfigError(f"{path} holds a single network; the {prefix!r} network needs a training "
                         "checkpoint (.ckpt) that holds it, or pass that network's own file")
    else:
        importer = next((i for i in importers if i.detect(state)), None)
        if importer is not None:
            state = importer.convert(state)
            config = importer.config(state)
        else:
            config = config_from_hparams(hparams)
    accepted = inspect.signature(network).parameters
    config = {**{k: v for k, v in config.items() if k in accepted}, **overrides}
    where = _config_source(path)
    from .factory import check_config_types

    check_config_types(config, accepted, where)
    try:
        net = network(**config)
    except (TypeError, ValueError) as e:  # an argument the network does not take, or a value it refuses
        raise ConfigError(f"{where}: its config does not fit the {family} network ({e})") from None
    load_strict(net, state, source=str(path))
    return net.eval()


def family_of_weights(weights: str | os.PathLike) -> str | None:
    """The family a weights file or folder names, so that ``--model`` is optional with ``--weights``: an
    export's architecture (its safetensors metadata, or ``config.json``), else the one family whose network
    loads the file strictly (a training checkpoint, a ``save_pretrained`` folder, a reference implementation's
    file). None for what is no file (a tag: :func:`zoo.families.resolve`) or fits no family, or several."""
    import json

    from .families import FAMILIES, _family_of_arch, load

    path = Path(weights)
    if not path.exists():
        return None
    file = path / "model.safetensors" if path.is_dir() else path
    arch = None
    if file.suffix == ".safetensors" and file.is_file():
        from safetensors import safe_open

        try:
            with safe_open(str(file), framework="pt") as f:
                arch = (f.metadata() or {}).get("architecture")
        except Exception:  # not readable: loading says why, with the family the user names
            return None
    config = file.with_name("config.json")
    if arch is None and config.is_file():
        try:
            arch = json.loads(config.read_text()).get("architecture")
        except (ValueError, AttributeError):
            arch = None
    if arch is not None:
        family = _family_of_arch(str(arch))
        return family.name if family is not None else None
    try:
        state, _ = read_checkpoint(path)
    except (ValueError, OSError):
        return None  # not readable: loading says why, with the family the user names
    fits = []
    for name in FAMILIES.names():
        family = FAMILIES.get(name)
        if not family.loads_networks:
            continue
        prefixes = tuple(family.checkpoint_prefix.values())
        if not (any(k.startswith(prefixes) for k in state) or file.suffix == ".safetensors"
                or any(load(i).detect(state) for i in family.importers)):
            continue
        # a trial load, strict; an encoder the network carries is built random (nothing is downloaded for it)
        options = {"backbone_weights": "none"} if "backbone_weights" in family.loader_options else {}
        try:
            with _quiet_loading():
                family.load_trained(path, **options)
        except (ValueError, KeyError, TypeError, FileNotFoundError):
            continue
        fits.append(name)
    return fits[0] if len(fits) == 1 else None


class _quiet_loading:
    """Trial loads of :func:`family_of_weights` log nothing (a converter's notes are for the real load)."""

    def __enter__(self) -> None:
        self.level = logging.root.manager.disable
        logging.disable(logging.WARNING)

    def __exit__(self, *exc: Any) -> None:
        logging.disable(self.level)


def _needs_weights(model: str, family: str, extra: str = "") -> ValueError:
    from .families import FAMILIES, load

    kinds = "".join(f"{load(i).what}, " for i in FAMILIES[family].importers)
    return ConfigError(f"model {model!r} needs --weights: a training checkpoint (.ckpt), a .safetensors file, a "
                      f"save_pretrained folder, {kinds}or a pretrained tag (zoo list --pretrained){extra}")


def load_generator(weights: str | os.PathLike, direction: str = "AtoB") -> ResnetGenerator:
    """The CycleGAN generator for ``direction`` (``--direction``: the network of a training checkpoint it
    picks, the family's ``checkpoint_prefix``) from ``weights`` (:func:`load_network`)."""
    from .families import FAMILIES

    prefixes = FAMILIES["cyclegan"].checkpoint_prefix
    if direction not in prefixes:
        raise ConfigError(f"--direction must be AtoB or BtoA, got {direction!r}")
    return load_network("cyclegan", weights, prefixes[direction])


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
    from .color import check_preserve_color
    from .families import FAMILIES
    from .tiling import check_tile

    family = opts.model
    mode = check_preserve_color(opts.preserve_color)
    if mode not in (None, "luminance"):
        raise ConfigError(f"model {family!r} supports --preserve-color luminance only, got {mode!r} (histogram "
                         "matching needs a style image at run time; this network has its style built in)")
    prefixes = FAMILIES[family].checkpoint_prefix
    prefix = None
    if len(prefixes) > 1:
        if opts.direction not in prefixes:
            raise ConfigError(f"--direction must be {' or '.join(prefixes)}, got {opts.direction!r}")
        prefix = prefixes[opts.direction]
    if not opts.weights:
        raise _needs_weights(family, family)
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
        from .io import resize_long_edge

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
    from .color import COLOR_MODES, check_preserve_color
    from .tiling import check_tile

    if opts.masks is not None and opts.style_weights is not None:
        raise ConfigError("--masks and --style-weights cannot be combined: each mask takes one style")
    preserve = check_preserve_color(opts.preserve_color, COLOR_MODES)
    # the encoder must be the one the decoder was trained with: follow the weights' config unless the
    # user names another source
    backbone = opts.backbone_weights
    device = resolve_device(opts.device)
    if not opts.weights:
        raise _needs_weights("adain", "adain", "; --weights random runs an untrained decoder (smoke runs only)")
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
