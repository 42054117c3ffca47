"""The model factory: ``zoo.create_model`` and ``zoo.list_models``, over the family declarations
(:mod:`zoo.families`) and the weights table (:mod:`zoo.weights`).

Names are resolved by :func:`zoo.families.resolve` (families, tags, timm-style names, deprecated names).
Networks are built by their family's ``network`` builder (or, for architectures that are no family,
such as discriminators and test networks, by ``zoo.registry.MODELS``); a tag's weights are fetched,
verified and cached by :mod:`zoo.download` (canonical checkpoints converted by :mod:`zoo.convert`); export
folders are read by :func:`read_export`, the one reader of that layout. Loading is strict
(:func:`zoo.checkpoint.load_strict`): a missing or unexpected key is an error. :mod:`zoo.loading` loads
what ``--weights`` names on top of this module.

It sits above the networks (:mod:`zoo.nets`) and below :mod:`zoo.loading`; the networks never import it.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from . import nets
from .checkpoint import load_strict, read_checkpoint
from .convert import canonical_state_dict
from .download import WEIGHTS_FILE, NotPublishedError, converted_dir, hub_state_dict
from .errors import ConfigError
from .families import FAMILIES, UnknownNameError, load, resolve
from .registry import MODELS
from .weights import WEIGHTS, PretrainedWeights, get_weights

if TYPE_CHECKING:
    from torch import Tensor, nn

__all__ = ["create_model", "list_models", "pretrained_net", "build_network", "canonical_arch", "read_export",
           "load_export", "load_pretrained_state_dict", "pretrained_state", "check_config_types"]


def _import_nets() -> None:
    """Import every module of :mod:`zoo.nets` so that architectures outside the families (discriminators)
    are registered in MODELS."""
    for info in pkgutil.iter_modules(nets.__path__):
        importlib.import_module(f"zoo.nets.{info.name}")


def canonical_arch(arch: str) -> str:
    """The family name of a (possibly deprecated) architecture name; other names unchanged (no warning)."""
    return FAMILIES.alias_of(arch) or arch


def _training_only() -> set[str]:
    return {n for f in FAMILIES.values() for n in f.training_networks}


def check_config_types(config: Mapping[str, Any], parameters: Mapping[str, Any], where: str) -> None:
    """Refuse a config entry whose JSON type differs from its parameter's default (``"channels": "abc"`` where
    a list is expected), naming the file and the key."""
    kinds = {bool: "true or false", int: "a whole number", float: "a number", str: "a string", list: "a list",
             tuple: "a list", dict: "an object"}
    for key, value in config.items():
        param = parameters.get(key)
        default = param.default if param is not None else inspect.Parameter.empty
        if default is inspect.Parameter.empty or default is None or value is None or type(default) not in kinds:
            continue
        ok = (isinstance(value, bool) if isinstance(default, bool) else
              isinstance(value, (int, float)) and not isinstance(value, bool) if isinstance(default, float) else
              isinstance(value, int) and not isinstance(value, bool) if isinstance(default, int) else
              isinstance(value, (list, tuple)) if isinstance(default, (list, tuple)) else
              isinstance(value, type(default)))
        if not ok:
            raise ConfigError(f"{where}: {key!r} must be {kinds[type(default)]}, got {value!r}")


def build_network(arch: str, config: Mapping[str, Any], what: str) -> Any:
    """Build architecture ``arch`` (a family, or a name in MODELS) from its JSON ``config``."""
    arch = canonical_arch(arch)
    if arch in FAMILIES and FAMILIES.get(arch).network is not None:
        builder = FAMILIES.get(arch).build_network
    else:
        if arch not in MODELS:
            _import_nets()
        if arch not in MODELS:
            raise UnknownNameError(
                f"{what} needs architecture {arch!r}, which is neither a family with a network nor registered in "
                f"zoo.registry.MODELS (valid: {', '.join(_architectures()) or '(none)'})")
        builder = MODELS.get(arch)
    where = what
    if os.path.isdir(what) and os.path.isfile(os.path.join(what, "config.json")):
        where = os.path.join(what, "config.json")  # an export folder: its config is that file
    try:  # a family's builder takes **config: its network's own signature says the types
        family = FAMILIES.get(arch) if arch in FAMILIES else None
        target = load(family.network) if family is not None and family.network else builder
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        parameters = {}
    check_config_types(config, parameters, where)
    try:
        return builder(**dict(config))
    except (TypeError, ValueError) as e:  # an argument it does not take, a value it refuses
        raise ConfigError(f"{where}: cannot build {arch!r} from config {dict(config)}: {e}") from None


def _architectures() -> set[str]:
    """Families with a network, architectures registered in MODELS (less training-only parts and
    deprecated names), and those the weights table refers to."""
    families = {n for n in FAMILIES.names() if FAMILIES.get(n).network is not None}
    registered = {n for n in MODELS.names() if FAMILIES.alias_of(n) is None} - _training_only()
    return families | registered | {canonical_arch(WEIGHTS.get(t).arch) for t in WEIGHTS.names()}


def list_models(pretrained: bool | None = None) -> list[str]:
    """Every name :func:`create_model` and ``hubconf.py`` accept: pretrained tags and architectures.

    ``pretrained=True``: only the names ``create_model(name, pretrained=True)`` can load now (tags
    published on the Hub or served from a canonical checkpoint, and families whose default tag is one of
    those). ``pretrained=False``: the others. Deprecated names are not listed.
    """
    every = set(WEIGHTS.names()) | _architectures()
    available = {t for t in WEIGHTS.names() if WEIGHTS.get(t).available}
    available |= {n for n in every if n in FAMILIES and FAMILIES.get(n).default_tag in available}
    if pretrained is None:
        return sorted(every)
    return sorted(available) if pretrained else sorted(every - available)


def _lookup(name: str) -> tuple[str, PretrainedWeights | None]:
    """(architecture, weights entry or None) of a model name."""
    if name in WEIGHTS and name not in FAMILIES:  # its architecture may be a family or a MODELS name
        entry = WEIGHTS.get(name)
        return canonical_arch(entry.arch), entry
    try:
        r = resolve(name)
    except UnknownNameError:
        if name in _architectures():  # an architecture that is no family (MODELS)
            return name, None
        raise UnknownNameError(f"unknown model {name!r}; valid names: {', '.join(list_models())}") from None
    return r.family.name, WEIGHTS.get(r.tag) if r.tag is not None else None


def create_model(name: str, pretrained: bool | str | os.PathLike | None = None, **overrides: Any) -> Any:
    """Build a network by pretrained tag (``johnson_candy``, ``johnson.candy``) or family / architecture name.

    ``pretrained``: ``None`` (the default: a tag, or a family with a default tag such as ``adain``, loads
    its trained weights, as its name promises; another architecture is built with random weights),
    ``True`` (the tag's weights, or the family's default tag's; see :mod:`zoo.download`), ``False``
    (random init, the tag's config), or a path to a folder / ``.safetensors`` file written by
    :func:`zoo.publish.export_for_hub` (``zoo publish --dry-run``) or ``save_pretrained``. ``overrides``
    update the network config (with pretrained weights they must keep the shapes: loading is strict).
    Pretrained networks are returned in eval mode.
    """
    arch, entry = _lookup(name)
    if entry is None and pretrained is not False and arch in FAMILIES and FAMILIES.get(arch).default_tag:
        if pretrained is True or pretrained is None:  # a bare family name means its default tag
            entry = WEIGHTS.get(FAMILIES.get(arch).default_tag)
    config = {**(entry.config_dict() if entry is not None else {}), **overrides}
    if pretrained is None:
        pretrained = entry is not None

    if pretrained is False:
        return build_network(arch, config, f"model {name!r}")
    if isinstance(pretrained, (str, os.PathLike)):
        return load_export(pretrained, arch, **overrides)
    if pretrained is not True:
        raise TypeError(f"pretrained must be True, False or a path, not {pretrained!r}")
    if entry is None:
        tags = [t for t in WEIGHTS.names() if canonical_arch(WEIGHTS.get(t).arch) == arch]
        raise ConfigError(
            f"{name!r} is an architecture without weights of its own; pretrained tags for it: "
            f"{', '.join(tags) or '(none)'}"
        )

    def make_net() -> Any:
        return build_network(arch, config, f"model {entry.tag!r}")

    # The weights are fetched (or refused) before the network is built; a fresh canonical conversion
    # comes back already loaded into a network built by make_net (it is checked before being cached).
    state_dict, net = pretrained_state(entry, None, True, make_net)
    if net is None:
        net = make_net()
        load_strict(net, state_dict, source=f"pretrained weights {entry.tag!r} ({_where(entry)})")
    return net.eval()


def read_export(path: str | os.PathLike) -> tuple[dict[str, Tensor], str | None, dict[str, Any]]:
    """(state dict, architecture or None, config) of an export folder or ``.safetensors`` file."""
    from safetensors import safe_open

    p = Path(path)
    file = p / WEIGHTS_FILE if p.is_dir() else p
    if file.suffix != ".safetensors":
        raise ConfigError(
            f"{path}: pretrained= takes a folder with {WEIGHTS_FILE} or a .safetensors file; export a "
            f"Lightning checkpoint with `zoo publish CKPT --repo-id ID --dry-run DIR` first"
        )
    state_dict, config = read_checkpoint(file)  # config from the metadata or config.json beside it
    with safe_open(str(file), framework="pt") as f:
        meta = f.metadata() or {}
    return state_dict, meta.get("architecture"), config


def load_export(path: str | os.PathLike, architecture: str | None = None, **overrides: Any) -> nn.Module:
    """The network saved in an export folder (or ``.safetensors`` file), loaded strictly, in eval mode: the
    one loader of the layout (``create_model(NAME, pretrained=PATH)`` calls it). Its architecture is read
    from the file's metadata (pass ``architecture`` for ``save_pretrained`` folders, which do not record
    it); ``overrides`` update the config."""
    state_dict, file_arch, config = read_export(path)
    arch = architecture or file_arch
    if arch is None:
        raise ConfigError(f"{path}: the file does not record its architecture; pass architecture=NAME")
    if architecture and file_arch and canonical_arch(architecture) != canonical_arch(file_arch):
        raise ConfigError(f"{path}: holds a {file_arch!r} network, not {architecture!r}")
    net = build_network(arch, {**config, **overrides}, str(path))
    load_strict(net, state_dict, source=str(path))
    return net.eval()


def load_pretrained_state_dict(entry: PretrainedWeights | str, token: str | bool | None = None,
                               progress: bool = True) -> dict[str, Tensor]:
    """The verified state dict of a tag: from the Hub when published, else from its canonical source.

    Raises :class:`NotPublishedError` (naming the recipe) for weights that are not published,
    :class:`ChecksumMismatchError` for a file whose sha256 is wrong, and
    :class:`~zoo.download.WeightsUnavailableError` when a file is neither cached nor downloadable.
    """
    entry = get_weights(entry) if isinstance(entry, str) else entry

    def make_net() -> nn.Module:
        return build_network(entry.arch, entry.config_dict(), f"pretrained weights {entry.tag!r}")

    return pretrained_state(entry, token, progress, make_net)[0]


def pretrained_state(entry: PretrainedWeights, token: str | bool | None, progress: bool,
                     make_net: Callable[[], nn.Module]) -> tuple[dict[str, Tensor], nn.Module | None]:
    """(state dict, network loaded with it or None) of a tag: its Hub file (no network yet), or its canonical
    checkpoint converted and loaded into ``make_net()`` (checked before it is returned, :mod:`zoo.convert`)."""
    if entry.published:
        return hub_state_dict(entry, token), None
    if entry.canonical is not None:
        return canonical_state_dict(entry, progress, make_net)
    raise NotPublishedError(
        f"pretrained weights {entry.tag!r} are not published yet. Train them with "
        f"`python -m zoo.fit {entry.recipe}` (see docs/hub.md), export the checkpoint with "
        f"`zoo publish runs/.../last.ckpt --repo-id {entry.repo_id} --dry-run DIR` and load it with "
        f"`zoo.create_model({entry.tag!r}, pretrained=DIR)`; pretrained=False gives random weights."
    )


def pretrained_net(weights: Any, arch: str, **overrides: Any) -> Any:
    """The network of pretrained tag ``weights`` (which must be of architecture ``arch``; a family name means
    its default tag), or ``None`` when ``weights`` names no weights. Lets every ``--weights`` option accept
    tags as well as files."""
    if not isinstance(weights, str):
        return None
    try:
        r = resolve(weights)
    except UnknownNameError:
        return None
    if r.weights is None:
        return None
    arch = canonical_arch(arch)
    if r.family.name != arch:
        raise ConfigError(f"pretrained tag {weights!r} is a {r.family.name!r} network, not {arch!r}")
    return create_model(r.weights, pretrained=True, **overrides)


def _where(entry: PretrainedWeights) -> str:
    if entry.published:
        return f"{entry.repo_id}@{entry.revision[:12]}/{entry.filename}"  # type: ignore[index]
    assert entry.canonical is not None
    return str(converted_dir(entry.tag) / WEIGHTS_FILE)
