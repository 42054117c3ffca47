"""The pretrained zoo: ``create_model``, verified downloads from the Hugging Face Hub, canonical
checkpoint import, export and publishing.

Loading (``create_model(tag, pretrained=True)``) follows the entry of :data:`zoo.weights.WEIGHTS`:

* **published on the Hub**: ``hf_hub_download(repo_id, filename, revision=<pinned commit>)``. Only
  ``.safetensors`` files are fetched. Before it is read, the file's sha256 is compared with the table's
  (:func:`zoo.download.fetch_hub_file`); a mismatch raises :class:`ChecksumMismatchError` and the file is
  never loaded. ``HF_HUB_OFFLINE=1`` serves the file from the cache and raises a clear error naming the
  repository and file when it is not there.
* **canonical checkpoint**: the reference implementation's file is downloaded from its original URL into
  ``$TORCH_HOME/hub/checkpoints`` (the place ``torch.hub`` uses) and verified by
  :func:`zoo.download.fetch_url` (against the table's sha256 where one is published, else against the
  sha256 recorded at its first download), read with ``torch.load(weights_only=True)`` (a pickle holding
  anything but tensors and plain containers is refused), converted by the importer named in the entry
  and cached as safetensors under :func:`converted_dir`. The cached file's sha256 is recorded beside it
  and checked on every use.
* **not published**: an error that names the recipe that trains the weights.

Loading is strict (:func:`zoo.checkpoint.load_strict`): a missing or unexpected key is an error.

Publishing (``zoo publish``): :func:`export_for_hub` writes the inference network of a Lightning
checkpoint (or an ``nn.Module``) as ``model.safetensors`` + ``config.json`` + ``README.md`` (model
card); :func:`publish` uploads that folder with ``HfApi.upload_folder``. Which network of a training
checkpoint is exported is decided by :data:`VARIANT_EXPORTS`.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import json
import os
import pickle
import pkgutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from .checkpoint import load_strict, read_checkpoint, strip_prefix
from .fileio import OutputExistsError, write_bytes
from .registry import MODELS, UnknownNameError
from .download import (ChecksumMismatchError, WeightsUnavailableError, fetch_hub_file, fetch_url, offline,
                       sha256_file, verify_file)
from .download import hf_cache_dir as hub_cache_dir
from .weights import WEIGHTS, PretrainedWeights, get_weights, zoo_table_rows

__all__ = [
    "create_model",
    "list_models",
    "load_pretrained_state_dict",
    "load_export",
    "export_for_hub",
    "publish",
    "render_model_card",
    "pretrained_rows",
    "format_pretrained_table",
    "add_publish_arguments",
    "publish_from_args",
    "VARIANT_EXPORTS",
    "ChecksumMismatchError",
    "NotPublishedError",
    "UnsafeCheckpointError",
    "ExportResult",
    "PublishResult",
    "converted_dir",
    "canonical_download_path",
    "hub_cache_dir",
    "sha256_file",
]

# Which network of a variant's training checkpoint is the one we publish:
#   {variant class path: (architecture name in zoo.registry.MODELS, state-dict prefix[, config function])}
# The variant's LightningModule stores the network's JSON config in its hyper-parameters under
# ``network`` (save_hyperparameters) and the network's weights under the prefix. When the network
# config is not just ``hparams["network"]`` (AdaIN-GAN keeps the encoder's weight source under
# ``backbone``), the optional third item is the dotted name of a function ``(hparams) -> config``,
# imported when needed. LightningCLI records the class path in the checkpoint
# (``hyper_parameters["_class_path"]``); for checkpoints written without it pass ``variant=``
# (``--variant``), or ``architecture=`` and ``prefix=`` (``--arch``, ``--prefix``). A CycleGAN checkpoint
# holds both generators: the B -> A one is exported with ``prefix="G_BA."``.
# Entries as written on the variant branches (class names checked by the lead at merge):
VARIANT_EXPORTS: dict[str, tuple[str, ...]] = {
    "zoo.variants.perceptual.PerceptualVariant": ("johnson", "net."),
    "zoo.variants.cyclegan.CycleGAN": ("cyclegan_resnet", "G_AB."),
    "zoo.variants.adain_gan.AdaINGAN": ("adain", "net.", "zoo.nets.adain.net_config_from_hparams"),
}

# Architectures registered in MODELS that are parts of training only (discriminators): create_model
# builds them, but they are not zoo entries (list_models, hubconf.py) since they do not map images to images.
TRAINING_ONLY_ARCHITECTURES: frozenset[str] = frozenset({"cyclegan_patchgan"})

_WEIGHTS_FILE = "model.safetensors"
_CONFIG_FILE = "config.json"
_CARD_FILE = "README.md"
_EXPORT_FILES = (_WEIGHTS_FILE, _CONFIG_FILE, _CARD_FILE)


class NotPublishedError(WeightsUnavailableError):
    """``pretrained=True`` on a tag whose weights are not published; the message names the recipe."""


class UnsafeCheckpointError(ValueError):
    """A torch file that ``torch.load(weights_only=True)`` refuses: it pickles more than tensors."""


# --------------------------------------------------------------------------------------------------
# Caches
# --------------------------------------------------------------------------------------------------

def _zoo_cache() -> Path:
    env = os.environ.get("STYLEZOO_CACHE")
    return Path(env).expanduser() if env else Path(torch.hub.get_dir()) / "stylezoo"


def converted_dir(tag: str) -> Path:
    """Where the safetensors conversion of a canonical checkpoint is cached:
    ``$STYLEZOO_CACHE/converted/<tag>`` (default ``$TORCH_HOME/hub/stylezoo/converted/<tag>``)."""
    return _zoo_cache() / "converted" / tag


def canonical_download_path(entry: PretrainedWeights | str) -> Path:
    """Where the canonical file of ``entry`` is downloaded: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    entry = get_weights(entry) if isinstance(entry, str) else entry
    if entry.canonical is None:
        raise ValueError(f"{entry.tag!r} is not served from a canonical checkpoint")
    return Path(torch.hub.get_dir()) / "checkpoints" / entry.canonical.filename


# --------------------------------------------------------------------------------------------------
# Safe reading and writing
# --------------------------------------------------------------------------------------------------

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safetensors_from_bytes(data: bytes, what: str) -> dict[str, Tensor]:
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as e:  # truncated or not a safetensors file
        raise ValueError(f"{what}: not a readable safetensors file ({type(e).__name__}: {e})") from None


def _torch_load_weights_only(data: bytes, what: str) -> dict[str, Tensor]:
    """A state dict from torch-file bytes, with ``weights_only=True``: nothing else is unpickled."""
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError, ValueError, EOFError) as e:
        first = (str(e).strip().splitlines() or [""])[0][:300]
        raise UnsafeCheckpointError(
            f"{what}: refused: torch.load(weights_only=True) cannot read it as plain tensors "
            f"({type(e).__name__}: {first}). Stylezoo never unpickles arbitrary objects; convert the file "
            f"to a state dict of tensors (or safetensors) with code you trust."
        ) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise UnsafeCheckpointError(f"{what}: expected a state dict of tensors, got {type(obj).__name__}")
    return dict(obj)


def _atomic_write(path: Path, data: bytes) -> None:
    write_bytes(path, data)


def _safetensors_bytes(state_dict: Mapping[str, Tensor], arch: str, config: Mapping[str, Any],
                       extra: Mapping[str, str] | None = None) -> bytes:
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    meta = {"format": "pt", "architecture": arch, "config": json.dumps(dict(config), sort_keys=True)}
    meta.update(extra or {})
    return _canonical_header(save(tensors, metadata=meta))


def _canonical_header(data: bytes) -> bytes:
    """The same safetensors file with its JSON header written with sorted keys.

    safetensors writes the metadata in hash-map order, which changes from run to run; sorting it makes
    an export byte-for-byte reproducible, so the same weights always have the same sha256. The data
    offsets are explicit in the header, so the tensor bytes are untouched.
    """
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    return len(text).to_bytes(8, "little") + text + data[8 + n:]


# --------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------

def _import_nets() -> None:
    """Import every module of :mod:`zoo.nets` so their builders are registered in MODELS."""
    import zoo.nets as nets

    for info in pkgutil.iter_modules(nets.__path__):
        importlib.import_module(f"zoo.nets.{info.name}")


def _build(arch: str, config: Mapping[str, Any], what: str) -> nn.Module:
    if arch not in MODELS:
        raise UnknownNameError(
            f"{what} needs architecture {arch!r}, which is not registered in zoo.registry.MODELS "
            f"(registered: {', '.join(MODELS.names()) or '(none)'})"
        )
    try:
        return MODELS.get(arch)(**dict(config))
    except TypeError as e:
        raise ValueError(f"{what}: cannot build {arch!r} from config {dict(config)}: {e}") from None


def list_models(pretrained: bool | None = None) -> list[str]:
    """Every name :func:`create_model` and ``hubconf.py`` accept: pretrained tags and architectures.

    ``pretrained=True``: only tags whose weights can be loaded now (published on the Hub, or served from
    a canonical checkpoint). ``pretrained=False``: the others (architectures and unpublished tags).
    Architectures are the names in ``zoo.registry.MODELS`` (less :data:`TRAINING_ONLY_ARCHITECTURES`) and
    those the weights table refers to.
    """
    _import_nets()
    archs = (set(MODELS.names()) - TRAINING_ONLY_ARCHITECTURES) | {WEIGHTS.get(t).arch for t in WEIGHTS.names()}
    every = set(WEIGHTS.names()) | archs
    available = {t for t in WEIGHTS.names() if WEIGHTS.get(t).available}
    if pretrained is None:
        return sorted(every)
    return sorted(available) if pretrained else sorted(every - available)


def create_model(name: str, pretrained: bool | str | os.PathLike | None = None, **overrides: Any) -> nn.Module:
    """Build a network by pretrained tag (``johnson_candy``, ``johnson.candy``) or architecture name.

    ``pretrained``: ``None`` (the default: a tag loads its trained weights, as its name promises; an
    architecture is built with random weights), ``True`` (the tag's weights, see the module docstring),
    ``False`` (random init, the tag's config), or a path to a folder / ``.safetensors`` file written by
    :func:`export_for_hub` (``zoo publish --dry-run``) or ``save_pretrained``. ``overrides`` update the
    network config (with pretrained weights they must keep the shapes: loading is strict). Pretrained
    networks are returned in eval mode.
    """
    _import_nets()
    entry = WEIGHTS.get(name) if name in WEIGHTS else None
    if entry is not None:
        arch, config = entry.arch, {**entry.config_dict(), **overrides}
    elif name in MODELS or any(WEIGHTS.get(t).arch == name for t in WEIGHTS.names()):
        arch, config = name, dict(overrides)
    else:
        raise UnknownNameError(f"unknown model {name!r}; valid names: {', '.join(list_models())}")
    if pretrained is None:
        pretrained = entry is not None

    if pretrained is False:
        return _build(arch, config, f"model {name!r}")
    if isinstance(pretrained, (str, os.PathLike)):
        state_dict, file_arch, file_config = _read_export(pretrained)
        if file_arch is not None and file_arch != arch:
            raise ValueError(f"{pretrained}: holds a {file_arch!r} network, not {arch!r} (asked for {name!r})")
        net = _build(arch, {**file_config, **overrides}, f"model {name!r}")
        load_strict(net, state_dict, source=str(pretrained))
        return net.eval()
    if pretrained is not True:
        raise TypeError(f"pretrained must be True, False or a path, not {pretrained!r}")
    if entry is None:
        tags = [t for t in WEIGHTS.names() if WEIGHTS.get(t).arch == arch]
        raise ValueError(
            f"{name!r} is an architecture without weights of its own; pretrained tags for it: "
            f"{', '.join(tags) or '(none)'}"
        )

    def make_net() -> nn.Module:
        return _build(arch, config, f"model {entry.tag!r}")

    # The weights are fetched (or refused) before the network is built; a fresh canonical conversion
    # comes back already loaded into a network built by make_net (it is checked before being cached).
    state_dict, net = _pretrained_state(entry, None, True, make_net)
    if net is None:
        net = make_net()
        load_strict(net, state_dict, source=f"pretrained weights {entry.tag!r} ({_where(entry)})")
    return net.eval()


def pretrained_net(weights: Any, arch: str, **overrides: Any) -> nn.Module | None:
    """The network of pretrained tag ``weights`` (which must be of architecture ``arch``), or ``None`` when
    ``weights`` is not a tag. Lets every ``--weights`` option accept tags as well as files."""
    if not isinstance(weights, str) or weights not in WEIGHTS:
        return None
    entry = WEIGHTS.get(weights)
    if entry.arch != arch:
        raise ValueError(f"pretrained tag {weights!r} is a {entry.arch!r} network, not {arch!r}")
    return create_model(weights, pretrained=True, **overrides)


def _where(entry: PretrainedWeights) -> str:
    if entry.published:
        return f"{entry.repo_id}@{entry.revision[:12]}/{entry.filename}"  # type: ignore[index]
    assert entry.canonical is not None
    return str(converted_dir(entry.tag) / _WEIGHTS_FILE)


def load_pretrained_state_dict(entry: PretrainedWeights | str, token: str | bool | None = None,
                               progress: bool = True) -> dict[str, Tensor]:
    """The verified state dict of a tag: from the Hub when published, else from its canonical source.

    Raises :class:`NotPublishedError` (naming the recipe) for weights that are not published,
    :class:`ChecksumMismatchError` for a file whose sha256 is wrong, and
    :class:`~zoo.backbone.WeightsUnavailableError` when a file is neither cached nor downloadable.
    """
    entry = get_weights(entry) if isinstance(entry, str) else entry
    return _pretrained_state(entry, token, progress, None)[0]


def _pretrained_state(entry: PretrainedWeights, token: str | bool | None, progress: bool,
                      make_net: Callable[[], nn.Module] | None) -> tuple[dict[str, Tensor], nn.Module | None]:
    if entry.published:
        return _hub_state_dict(entry, token), None
    if entry.canonical is not None:
        return _canonical_state_dict(entry, progress, make_net)
    raise NotPublishedError(
        f"pretrained weights {entry.tag!r} are not published yet. Train them with "
        f"`python -m zoo.fit {entry.recipe}` (see docs/hub.md), export the checkpoint with "
        f"`zoo publish runs/.../last.ckpt --repo-id {entry.repo_id} --dry-run DIR` and load it with "
        f"`zoo.create_model({entry.tag!r}, pretrained=DIR)`; pretrained=False gives random weights."
    )


# --------------------------------------------------------------------------------------------------
# The Hub
# --------------------------------------------------------------------------------------------------

def _hub_state_dict(entry: PretrainedWeights, token: str | bool | None) -> dict[str, Tensor]:
    assert entry.revision is not None and entry.sha256 is not None  # validated by the table
    if not entry.filename.endswith(".safetensors"):
        raise ValueError(f"{entry.tag}: only .safetensors files are loaded from the Hub, not {entry.filename}")
    path = fetch_hub_file(entry.repo_id, entry.filename, entry.revision, entry.sha256,
                          what=f"pretrained weights {entry.tag!r}", token=token)
    return _safetensors_from_bytes(path.read_bytes(), str(path))


# --------------------------------------------------------------------------------------------------
# Canonical checkpoints
# --------------------------------------------------------------------------------------------------

def _resolve_converter(dotted: str) -> Callable[[Mapping[str, Tensor]], Mapping[str, Tensor]]:
    module_name, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise WeightsUnavailableError(
            f"converter {dotted} is not available: module {module_name} cannot be imported ({e})"
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise WeightsUnavailableError(f"converter {dotted} is not available: {module_name} has no function {attr}")
    return fn


def _fetch_canonical(entry: PretrainedWeights, progress: bool) -> Path:
    c = entry.canonical
    assert c is not None
    return fetch_url(c.url, canonical_download_path(entry), c.sha256, progress=progress,
                     what=f"pretrained weights {entry.tag!r} (the canonical checkpoint)")


def _canonical_state_dict(entry: PretrainedWeights, progress: bool, make_net: Callable[[], nn.Module] | None
                          ) -> tuple[dict[str, Tensor], nn.Module | None]:
    """(state dict, None) from the converted cache, or (state dict, network loaded with it) after a
    fresh conversion, which is checked by loading it strictly into ``make_net()`` (default: the entry's
    config) before it is cached."""
    c = entry.canonical
    assert c is not None
    folder = converted_dir(entry.tag)
    st_path, record_path = folder / _WEIGHTS_FILE, folder / "source.json"
    again = f"Delete {folder} to convert the canonical checkpoint again."
    if st_path.is_file():
        try:
            expected = json.loads(record_path.read_text())["sha256"]
            if not (isinstance(expected, str) and len(expected) == 64):
                raise ValueError(expected)
        except (OSError, ValueError, KeyError, TypeError):
            raise ChecksumMismatchError(
                f"refusing to load {st_path}: its checksum record {record_path} is missing or unreadable. {again}"
            ) from None
        verify_file(st_path, expected, what=f"converted weights {entry.tag!r}", fix=again)
        return _safetensors_from_bytes(st_path.read_bytes(), str(st_path)), None

    original = _fetch_canonical(entry, progress)  # verified
    raw = original.read_bytes()
    digest = _sha256(raw)
    what = str(original)
    if c.member is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                raw = zf.read(c.member)
        except KeyError:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = zf.namelist()
            raise WeightsUnavailableError(
                f"{original} has no member {c.member} (it has: {', '.join(names[:10])}); delete it and "
                f"download {c.url} again."
            ) from None
        except zipfile.BadZipFile:
            raise WeightsUnavailableError(f"{original} is not a zip archive; delete it and download {c.url} again.") from None
        what = f"{original}!{c.member}"
    state_dict = _torch_load_weights_only(raw, what)
    converter = _resolve_converter(c.converter)
    converted = dict(converter(state_dict))
    # Check the conversion against the network before caching it: only loadable weights are cached.
    net = make_net() if make_net is not None else _build(entry.arch, entry.config_dict(), f"pretrained weights {entry.tag!r}")
    load_strict(net, converted, source=f"{what} converted by {c.converter}")
    data = _safetensors_bytes(converted, entry.arch, entry.config_dict(),
                              {"source": c.url, "converter": c.converter})
    _atomic_write(st_path, data)
    _atomic_write(folder / _CONFIG_FILE, json.dumps(entry.config_dict(), sort_keys=True, indent=2).encode())
    _atomic_write(record_path, json.dumps({
        "tag": entry.tag, "url": c.url, "member": c.member, "original_sha256": digest,
        "converter": c.converter, "sha256": _sha256(data),
    }, indent=2).encode())
    return _safetensors_from_bytes(data, str(st_path)), net


# --------------------------------------------------------------------------------------------------
# Exports: model.safetensors + config.json + README.md
# --------------------------------------------------------------------------------------------------

def _read_export(path: str | os.PathLike) -> tuple[dict[str, Tensor], str | None, dict[str, Any]]:
    """(state dict, architecture or None, config) of an export folder or ``.safetensors`` file."""
    from safetensors import safe_open

    p = Path(path)
    file = p / _WEIGHTS_FILE if p.is_dir() else p
    if file.suffix != ".safetensors":
        raise ValueError(
            f"{path}: pretrained= takes a folder with {_WEIGHTS_FILE} or a .safetensors file; export a "
            f"Lightning checkpoint with `zoo publish CKPT --repo-id ID --dry-run DIR` first"
        )
    state_dict, config = read_checkpoint(file)  # config from the metadata or config.json beside it
    with safe_open(str(file), framework="pt") as f:
        meta = f.metadata() or {}
    return state_dict, meta.get("architecture"), config


def load_export(path: str | os.PathLike, architecture: str | None = None, **overrides: Any) -> nn.Module:
    """The network saved in an export folder (or ``.safetensors`` file); its architecture is read from
    the file's metadata (pass ``architecture`` for ``save_pretrained`` folders, which do not record it)."""
    _import_nets()
    state_dict, file_arch, config = _read_export(path)
    arch = architecture or file_arch
    if arch is None:
        raise ValueError(f"{path}: the file does not record its architecture; pass architecture=NAME")
    if architecture and file_arch and architecture != file_arch:
        raise ValueError(f"{path}: holds a {file_arch!r} network, not {architecture!r}")
    net = _build(arch, {**config, **overrides}, str(path))
    load_strict(net, state_dict, source=str(path))
    return net.eval()


@dataclass
class ExportResult:
    """What :func:`export_for_hub` wrote."""

    folder: Path
    architecture: str
    config: dict[str, Any]
    sha256: str                          # of model.safetensors
    files: list[str] = field(default_factory=lambda: list(_EXPORT_FILES))
    tag: str | None = None


def _network_from_checkpoint(path: Path, architecture: str | None, prefix: str | None,
                             variant: str | None) -> tuple[str, dict[str, Any], dict[str, Tensor]]:
    """(architecture, config, state dict) of the inference network inside a checkpoint."""
    if path.is_dir() or path.suffix == ".safetensors":  # an export already: re-publish it
        state_dict, file_arch, config = _read_export(path)
        arch = architecture or file_arch
        if arch is None:
            raise ValueError(f"{path}: the export does not record its architecture; pass --arch NAME")
        return arch, config, state_dict
    state_dict, hparams = read_checkpoint(path)
    class_path = variant or hparams.get("_class_path")
    config_fn = None
    if architecture is not None and prefix is not None:
        arch, pre = architecture, prefix
    elif class_path in VARIANT_EXPORTS:
        arch, pre, *rest = VARIANT_EXPORTS[class_path]
        arch, pre = architecture or arch, pre if prefix is None else prefix
        config_fn = rest[0] if rest else None
    else:
        known = ", ".join(sorted(VARIANT_EXPORTS)) or "(none)"
        raise ValueError(
            f"{path}: cannot tell which network to export: the checkpoint's variant is {class_path!r}, "
            f"which is not in zoo.hub.VARIANT_EXPORTS (known: {known}). Pass --variant CLASS_PATH, or "
            f"--arch NAME and --prefix PREFIX (e.g. --prefix net.)."
        )
    if config_fn is not None:
        module, _, fn = config_fn.rpartition(".")
        config = getattr(importlib.import_module(module), fn)(hparams)
    elif "network" in hparams and isinstance(hparams["network"] or {}, Mapping):
        config = hparams["network"] or {}  # None: the network's defaults
    else:
        raise ValueError(
            f"{path}: the checkpoint's hyper-parameters have no 'network' config (they have: "
            f"{', '.join(sorted(hparams)) or 'none'}); the variant must save_hyperparameters() its network dict"
        )
    net_sd = strip_prefix(state_dict, pre) if pre else dict(state_dict)
    return arch, dict(config), net_sd


def export_for_hub(net_or_checkpoint: nn.Module | str | os.PathLike, out_dir: str | os.PathLike, *,
                   tag: str | None = None, architecture: str | None = None, prefix: str | None = None,
                   variant: str | None = None, repo_id: str | None = None, licence: str | None = None,
                   results_dir: str | os.PathLike | None = None, overwrite: bool = False) -> ExportResult:
    """Write the folder that :func:`publish` uploads: ``model.safetensors`` (with the architecture and
    config in its metadata), ``config.json`` and a ``README.md`` model card. Each file is written to a
    temporary name and renamed (:mod:`zoo.fileio`); an earlier export in ``out_dir`` is only replaced
    with ``overwrite=True``.

    ``net_or_checkpoint`` is an ``nn.Module`` inheriting ``PyTorchModelHubMixin`` (pass
    ``architecture`` or ``tag``), a Lightning checkpoint (the network is chosen by
    :data:`VARIANT_EXPORTS`, or ``variant``, or ``architecture`` + ``prefix``), or an export folder /
    ``.safetensors`` file. ``tag`` names the weights-table entry whose licence, data and metrics go
    into the card (default: the entry whose ``repo_id`` is ``repo_id``, if any). The network is rebuilt
    and loaded strictly before anything is written, so the folder always loads back.
    """
    _import_nets()
    entry = get_weights(tag) if tag is not None else None
    if entry is None and repo_id is not None:
        entry = next((WEIGHTS.get(t) for t in WEIGHTS.names() if WEIGHTS.get(t).repo_id == repo_id), None)
    if isinstance(net_or_checkpoint, nn.Module):
        net = net_or_checkpoint
        arch = architecture or (entry.arch if entry is not None else None)
        if arch is None:
            raise ValueError("exporting an nn.Module needs architecture= (its name in zoo.registry.MODELS) or tag=")
        config = getattr(net, "_hub_mixin_config", None)
        if not isinstance(config, Mapping):
            raise ValueError(
                f"{type(net).__name__} does not record its config: networks must inherit "
                f"huggingface_hub.PyTorchModelHubMixin with JSON-serialisable constructor arguments"
            )
        config, state_dict = dict(config), net.state_dict()
        source = f"{type(net).__name__} instance"
    else:
        source = str(net_or_checkpoint)
        arch, config, state_dict = _network_from_checkpoint(Path(net_or_checkpoint), architecture, prefix, variant)
    if entry is not None and entry.arch != arch:
        raise ValueError(f"weights entry {entry.tag!r} is a {entry.arch!r} network, the export is {arch!r}")
    check = _build(arch, config, source)  # the export must load back: build and load strictly now
    load_strict(check, state_dict, source=source)
    state_dict = check.state_dict()
    full = getattr(check, "_hub_mixin_config", None)  # every constructor argument, defaults included
    if isinstance(full, Mapping):
        config = json.loads(json.dumps(dict(full)))

    out = Path(out_dir)
    if out.exists():
        stray = sorted(p.name for p in out.iterdir() if p.name not in _EXPORT_FILES)
        if stray:
            raise FileExistsError(
                f"{out} holds other files ({', '.join(stray[:5])}); the export folder is uploaded as is, "
                f"so give an empty or new folder"
            )
        earlier = sorted(p.name for p in out.iterdir())
        if earlier and not overwrite:
            raise OutputExistsError(f"{out} holds an earlier export ({', '.join(earlier)}); pass --overwrite "
                                    "(overwrite=True) to replace it, or give a new folder")
    data = _safetensors_bytes(state_dict, arch, config)
    digest = _sha256(data)
    write_bytes(out / _WEIGHTS_FILE, data)
    write_bytes(out / _CONFIG_FILE, (json.dumps(config, sort_keys=True, indent=2) + "\n").encode())
    card = render_model_card(arch, config, digest, entry=entry, repo_id=repo_id, licence=licence,
                             results_dir=results_dir)
    write_bytes(out / _CARD_FILE, card.encode())
    return ExportResult(folder=out, architecture=arch, config=config, sha256=digest,
                        tag=entry.tag if entry is not None else None)


# benchmarks/run.py metric names -> (model-index type, display name); plain names are accepted too.
_CARD_METRICS = {
    "fid": ("fid", "FID"), "fid_inception": ("fid", "FID (Inception-v3)"), "fid_art": ("fid", "FID (ArtFID Inception)"),
    "lpips": ("lpips", "LPIPS"), "lpips_alex": ("lpips", "LPIPS (AlexNet)"), "lpips_vgg": ("lpips", "LPIPS (VGG)"),
    "artfid": ("artfid", "ArtFID"),
}


def render_model_card(arch: str, config: Mapping[str, Any], sha256: str, *, entry: PretrainedWeights | None = None,
                      repo_id: str | None = None, licence: str | None = None,
                      results_dir: str | os.PathLike | None = None) -> str:
    """The README.md of an export: YAML metadata (library_name, license, tags, datasets, pipeline_tag,
    model-index with the FID / LPIPS / ArtFID results of ``entry`` from benchmarks/results) and a body
    saying what the network is, where its weights come from and how to load it."""
    from huggingface_hub import EvalResult, ModelCardData

    repo = repo_id or (entry.repo_id if entry is not None else None)
    name = entry.tag if entry is not None else (repo.split("/")[-1] if repo else arch)
    lic = licence or (entry.licence if entry is not None else "apache-2.0")
    terms = entry if entry is not None and lic == entry.licence and entry.licence_terms else None
    results = []
    metrics = entry.metrics(results_dir) if entry is not None else []
    for m in metrics:
        if m["metric"] not in _CARD_METRICS:
            continue
        dataset = m["dataset"] or m["protocol"] or "unspecified"
        results.append(EvalResult(
            task_type="image-to-image", task_name="Style transfer",
            dataset_type=str(dataset), dataset_name=str(dataset),
            dataset_config=str(m["protocol"]) if m["protocol"] else None,
            metric_type=_CARD_METRICS[m["metric"]][0], metric_value=m["value"],
            metric_name=_CARD_METRICS[m["metric"]][1],
        ))
    data = ModelCardData(
        library_name="pytorch",
        license=lic,
        license_link=terms.licence_link if terms is not None else None,
        tags=sorted({"stylezoo", "style-transfer", "image-to-image", arch, "safetensors",
                     "pytorch_model_hub_mixin", "model_hub_mixin"}),
        datasets=list(entry.datasets) if entry is not None and entry.datasets else None,
        pipeline_tag="image-to-image",
        model_name=name,
        eval_results=results or None,
    )
    lines = [f"---\n{data.to_yaml()}\n---", "", f"# {name}", ""]
    lines.append(entry.description + "." if entry is not None else f"A Stylezoo `{arch}` network.")
    lines += ["", "Input and output: RGB images in [0, 1], shape (N, 3, H, W), any H and W.", ""]
    lines += ["## Load", "", "```python", "import zoo"]
    if entry is not None:
        lines.append(f"model = zoo.create_model({entry.tag!r}, pretrained=True)  # pinned revision, sha256-checked")
    if repo:
        lines += ["# or from a download of this repository:",
                  "from huggingface_hub import snapshot_download",
                  f"model = zoo.create_model({arch!r}, pretrained=snapshot_download({repo!r}))"]
    lines += ["```", "", "## Details", "", "| | |", "|---|---|", f"| architecture | `{arch}` |",
              f"| config | `{json.dumps(dict(config), sort_keys=True)}` |",
              f"| model.safetensors sha256 | `{sha256}` |", f"| licence | {terms.licence_text if terms is not None else lic} |"]
    if entry is not None:
        lines += [f"| source | {entry.source} |", f"| training data | {entry.training_data} |"]
        if entry.recipe:
            lines.append(f"| recipe | `python -m zoo.fit {entry.recipe}` |")
        if entry.canonical is not None:
            lines.append(f"| upstream | {entry.canonical.citation} |")
        if entry.paper:
            lines.append(f"| paper | {entry.paper} |")
    lines.append("")
    if metrics:
        lines += ["## Results", "", "From `benchmarks/results` (generated, not typed by hand).", "",
                  "| metric | value | protocol | dataset | N | file |", "|---|---|---|---|---|---|"]
        for m in metrics:
            lines.append(f"| {m['metric']} | {m['value']:.4g} | {m['protocol'] or ''} | {m['dataset'] or ''} | "
                         f"{m['n'] if m['n'] is not None else ''} | {m['file']} |")
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------------------

@dataclass
class PublishResult:
    """What :func:`publish` did. ``commit`` is the revision to pin in zoo/weights.py (None on a dry run)."""

    repo_id: str
    folder: Path | None
    sha256: str
    architecture: str
    commit: str | None = None
    url: str | None = None

    @property
    def dry_run(self) -> bool:
        return self.commit is None

    def weights_fields(self) -> str:
        """The fields to put in the weights-table entry once uploaded."""
        return (f'repo_id="{self.repo_id}", filename="{_WEIGHTS_FILE}", revision="{self.commit or "<commit>"}", '
                f'sha256="{self.sha256}", published=True')


def publish(checkpoint: nn.Module | str | os.PathLike, repo_id: str, dry_run_dir: str | os.PathLike | None = None,
            token: str | bool | None = None, *, tag: str | None = None, variant: str | None = None,
            architecture: str | None = None, prefix: str | None = None, licence: str | None = None,
            private: bool | None = None, commit_message: str | None = None,
            results_dir: str | os.PathLike | None = None, overwrite: bool = False) -> PublishResult:
    """Export the inference network of ``checkpoint`` and upload it to ``repo_id`` on the Hub.

    With ``dry_run_dir`` the exact folder that would be uploaded is written there and nothing is sent.
    Otherwise the repository is created if needed (``create_repo(exist_ok=True)``) and the folder is
    uploaded in one commit (``upload_folder``). ``token``: default from the usual places
    (``HF_TOKEN``, ``hf auth login``). See :func:`export_for_hub` for the other arguments.
    """
    kwargs = dict(tag=tag, architecture=architecture, prefix=prefix, variant=variant, repo_id=repo_id,
                  licence=licence, results_dir=results_dir)
    if dry_run_dir is not None:
        res = export_for_hub(checkpoint, dry_run_dir, overwrite=overwrite, **kwargs)
        return PublishResult(repo_id=repo_id, folder=res.folder, sha256=res.sha256, architecture=res.architecture)
    from huggingface_hub import HfApi

    if offline():
        raise WeightsUnavailableError("HF_HUB_OFFLINE=1 is set: cannot upload; use --dry-run DIR to write the folder")
    with tempfile.TemporaryDirectory(prefix="stylezoo-publish-") as tmp:
        res = export_for_hub(checkpoint, tmp, **kwargs)
        api = HfApi(token=token)
        api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
        info = api.upload_folder(repo_id=repo_id, folder_path=tmp, repo_type="model",
                                 commit_message=commit_message or f"Stylezoo export of {res.architecture}")
    return PublishResult(repo_id=repo_id, folder=None, sha256=res.sha256, architecture=res.architecture,
                         commit=getattr(info, "oid", None), url=getattr(info, "commit_url", None))


def add_publish_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``zoo publish`` (for zoo/cli.py)."""
    parser.add_argument("checkpoint", help="Lightning .ckpt, or an export folder / .safetensors to re-publish")
    parser.add_argument("--repo-id", required=True, help="Hub repository, owner/name")
    parser.add_argument("--dry-run", metavar="DIR", default=None,
                        help="write the folder that would be uploaded to DIR and upload nothing")
    parser.add_argument("--tag", default=None, help="weights-table tag for the model card (licence, data, metrics)")
    parser.add_argument("--variant", default=None, help="variant class path, for checkpoints that do not record it")
    parser.add_argument("--arch", default=None, help="architecture name in zoo.registry.MODELS (with --prefix)")
    parser.add_argument("--prefix", default=None, help="state-dict prefix of the network, e.g. net.")
    parser.add_argument("--licence", "--license", dest="licence", default=None, help="licence id for the card")
    parser.add_argument("--private", action="store_true", default=None, help="create the repository private")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or `hf auth login`)")
    parser.add_argument("--message", default=None, help="commit message")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier export in the --dry-run folder")
    return parser


def publish_from_args(args: argparse.Namespace) -> PublishResult:
    """Run ``zoo publish`` from parsed :func:`add_publish_arguments` flags and print what was done."""
    res = publish(args.checkpoint, args.repo_id, dry_run_dir=args.dry_run, token=args.token, tag=args.tag,
                  variant=args.variant, architecture=args.arch, prefix=args.prefix, licence=args.licence,
                  private=args.private, commit_message=args.message, overwrite=args.overwrite)
    if res.dry_run:
        print(f"wrote {res.folder} ({', '.join(_EXPORT_FILES)}); model.safetensors sha256 {res.sha256}")
    else:
        print(f"uploaded to https://huggingface.co/{res.repo_id} at revision {res.commit}")
        print(f"weights entry: {res.weights_fields()}")
    return res


# --------------------------------------------------------------------------------------------------
# `zoo list --pretrained`
# --------------------------------------------------------------------------------------------------

def _cached(entry: PretrainedWeights) -> bool:
    if entry.published:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(entry.repo_id, entry.filename, cache_dir=hub_cache_dir(), revision=entry.revision)
        return isinstance(hit, str)
    if entry.canonical is not None:
        return (converted_dir(entry.tag) / _WEIGHTS_FILE).is_file() or canonical_download_path(entry).is_file()
    return False


def pretrained_rows(results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """:func:`zoo.weights.zoo_table_rows` plus ``status`` (how ``pretrained=True`` is served) and
    ``cached`` (whether that works offline now): the rows of ``zoo list --pretrained``."""
    rows = zoo_table_rows(results_dir)
    for row in rows:
        e = get_weights(row["tag"])
        if e.published:
            row["status"] = f"hub {e.repo_id}@{e.revision[:7]}"  # type: ignore[index]
        elif e.canonical is not None:
            row["status"] = "canonical, converted on first use"
        else:
            row["status"] = f"not published: python -m zoo.fit {e.recipe}"
        row["cached"] = _cached(e)
    return rows


def format_pretrained_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Plain-text table of :func:`pretrained_rows` for the terminal."""
    header = ("tag", "arch", "licence", "published", "cached", "metrics", "status")
    body = []
    for r in rows:
        metrics = " ".join(f"{k}={v:.4g}" for k, v in sorted(r["metrics"].items())) or "-"
        body.append((r["tag"], r["arch"], r["licence"], "yes" if r["published"] else "no",
                     "yes" if r["cached"] else "no", metrics, r["status"]))
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *body])
