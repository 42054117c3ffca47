"""The one way a trained network is loaded, whatever ``--weights`` names; every caller uses it (the stylizers,
``zoo export`` / ``zoo convert``, the page, the benchmarks, ``--model`` told by the file).

* :func:`load_network`: a family's trained network from a pretrained tag (built by
  :func:`zoo.factory.pretrained_net`), a Lightning ``.ckpt`` of the family's LightningModule (the network under
  its checkpoint prefix, its config from the hyper-parameters), a ``.safetensors`` file with ``config.json``
  beside it, a ``save_pretrained`` folder, a reference implementation's file recognised by one of the family's
  :class:`~zoo.checkpoint.Importer` s, or ``random`` (the smoke path) -- strictly loaded, in eval mode. What a
  family's files look like is in its declaration (:mod:`zoo.families`).
* :func:`load_trained`: the same through a family's own ``loader`` where it declares one, with the
  ``loader_options`` of ``zoo export`` / ``zoo convert`` (``direction`` picks a training checkpoint's network).
* :func:`family_of_weights`: the family a file holds, so that ``--model`` is optional with ``--weights``.

It sits below the stylizers, the CLI and the page, above the networks, the records and the factory.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .checkpoint import load_strict, read_checkpoint, strip_prefix
from .errors import ConfigError, MissingFileError
from .factory import check_config_types, pretrained_net
from .families import FAMILIES, Family, _family_of_arch, load
from .weights import WEIGHTS

if TYPE_CHECKING:
    import torch

    from .nets.adain import AdaINNet
    from .nets.base import ZooNet
    from .nets.cyclegan import ResnetGenerator
    from .nets.johnson import TransformerNet

log = logging.getLogger(__name__)

__all__ = ["RANDOM", "load_network", "load_trained", "network_prefix", "family_of_weights", "needs_weights_error",
           "load_generator", "load_transformer", "load_adain"]


# ``--weights random``: every family's smoke path (zoo stylize, zoo.stylize, zoo demo): its network untrained,
# and any VGG encoder random too unless --backbone-weights names a source; nothing is downloaded.
RANDOM = "random"


def _network_config(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """A Lightning checkpoint's ``network`` hyper-parameters, else the file's ``config.json``."""
    return dict(hparams.get("network", hparams) or {})


def _canonical_files(family: str) -> dict[str, str]:
    """The reference files of ``family``'s pretrained tags by name (``horse2zebra``, ``decoder``) -> their URL:
    a ``--weights`` that names one that is not here gets told where it is published."""
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
    check_config_types(config, accepted, where)
    try:
        net = network(**config)
    except (TypeError, ValueError) as e:  # an argument the network does not take, or a value it refuses
        raise ConfigError(f"{where}: its config does not fit the {family} network ({e})") from None
    load_strict(net, state, source=str(path))
    return net.eval()


def network_prefix(family: Family, direction: str | None) -> str | None:
    """The checkpoint prefix of the network ``direction`` (``--direction``) names in a training checkpoint of
    ``family``; None for a family with one network."""
    prefixes = family.checkpoint_prefix
    if len(prefixes) < 2:
        return None
    if direction not in prefixes:
        raise ConfigError(f"--direction must be {' or '.join(prefixes)}, got {direction!r}")
    return prefixes[direction]


def load_trained(family: Family | str, weights: Any, **options: Any) -> Any:
    """The trained network of ``family`` from ``weights``: its declared ``loader`` if it has one, else
    :func:`load_network`. ``options`` are its ``loader_options``: by default ``direction`` picks the network of a
    training checkpoint, the others (not None) override its config (``zoo export``, ``zoo convert``)."""
    family = FAMILIES[family] if isinstance(family, str) else family
    if family.loader is not None:
        return load(family.loader)(weights, **options)
    direction = options.pop("direction", None)
    prefix = network_prefix(family, direction) if direction is not None else None
    return load_network(family.name, weights, prefix, **{k: v for k, v in options.items() if v is not None})


def family_of_weights(weights: str | os.PathLike) -> str | None:
    """The family a weights file or folder names, so that ``--model`` is optional with ``--weights``: an
    export's architecture (its safetensors metadata, or ``config.json``), else the one family whose network
    loads the file strictly (a training checkpoint, a ``save_pretrained`` folder, a reference implementation's
    file). None for what is no file (a tag: :func:`zoo.families.resolve`) or fits no family, or several."""
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
                load_trained(family, path, **options)
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


def needs_weights_error(model: str, family: str, extra: str = "") -> ConfigError:
    """The error of a ``model`` of ``family`` run without ``--weights``: what it takes (``extra``: more to say)."""
    kinds = "".join(f"{load(i).what}, " for i in FAMILIES[family].importers)
    return ConfigError(f"model {model!r} needs --weights: a training checkpoint (.ckpt), a .safetensors file, a "
                      f"save_pretrained folder, {kinds}or a pretrained tag (zoo list --pretrained){extra}")


def load_generator(weights: str | os.PathLike, direction: str = "AtoB") -> ResnetGenerator:
    """The CycleGAN generator for ``direction`` (``--direction``: the network of a training checkpoint it
    picks, the family's ``checkpoint_prefix``) from ``weights`` (:func:`load_network`)."""
    return load_network("cyclegan", weights, network_prefix(FAMILIES["cyclegan"], direction))


def load_transformer(weights: str | os.PathLike, device: str | torch.device = "cpu") -> TransformerNet:
    """The Johnson network of ``weights`` (:func:`load_network`) on ``device``."""
    return load_network("johnson", weights).to(device)


def load_adain(weights: str | os.PathLike, backbone_weights: str | None = None) -> AdaINNet:
    """The AdaIN network of ``weights`` (:func:`load_network`); ``backbone_weights`` overrides the encoder
    source named in the file's config."""
    return load_network("adain", weights, **({"backbone_weights": backbone_weights} if backbone_weights else {}))
