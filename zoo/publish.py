"""Export and publishing: the ``save_pretrained`` layout written, model cards, ``zoo publish``.

An export folder holds ``model.safetensors`` (the architecture and config in its metadata,
:func:`safetensors_bytes`), ``config.json`` and a ``README.md`` model card: the layout of huggingface_hub's
``PyTorchModelHubMixin.save_pretrained``, which ``from_pretrained`` of the network class reads too.
:func:`zoo.factory.read_export` is the one reader of that layout (``zoo.create_model(NAME, pretrained=DIR)``,
:func:`zoo.factory.load_export`, re-publishing); both stay importable from here.

:func:`export_for_hub` writes the inference network of a Lightning checkpoint (or an ``nn.Module``);
which network of a training checkpoint is exported is read from the family declarations
(:mod:`zoo.families`): the family whose LightningModule (``module``, or one of its ``former_modules``)
the checkpoint records under ``hyper_parameters["_class_path"]`` (LightningCLI writes it), its
``checkpoint_prefix`` and its ``network_config``. :func:`publish` uploads the folder with
``HfApi.upload_folder``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from torch import Tensor, nn

from .errors import ConfigError, ZooError
from .checkpoint import load_strict, read_checkpoint, strip_prefix
from .download import CONFIG_FILE, WEIGHTS_FILE, WeightsUnavailableError, offline
from .factory import build_network, canonical_arch, load_export, read_export
from .families import FAMILIES, Family, deprecated, load
from .fileio import OutputExistsError, write_bytes
from .results import METRICS
from .weights import WEIGHTS, PretrainedWeights, get_weights

__all__ = ["read_export", "load_export", "export_for_hub", "render_model_card", "publish", "ExportResult",
           "PublishResult", "EXPORT_FILES", "CARD_FILE", "family_of_checkpoint", "safetensors_bytes"]

CARD_FILE = "README.md"
EXPORT_FILES = (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE)


def safetensors_bytes(state_dict: Mapping[str, Tensor], arch: str, config: Mapping[str, Any],
                       extra: Mapping[str, str] | None = None) -> bytes:
    """``model.safetensors`` of an export: the tensors, with the architecture and config in the metadata,
    byte-for-byte reproducible (:func:`_canonical_header`)."""
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


@dataclass
class ExportResult:
    """What :func:`export_for_hub` wrote."""

    folder: Path
    architecture: str
    config: dict[str, Any]
    sha256: str                          # of model.safetensors
    files: list[str] = field(default_factory=lambda: list(EXPORT_FILES))
    tag: str | None = None


def family_of_checkpoint(class_path: str | None) -> Family | None:
    """The family whose LightningModule is ``class_path`` (as LightningCLI records it), or None. A former
    class path (a module renamed in this release) still matches, with a deprecation warning."""
    for name in FAMILIES.names():
        family = FAMILIES.get(name)
        if class_path is not None and class_path == family.module_path:
            return family
        if class_path in family.former_modules:
            deprecated(class_path, family.module_path, "class path")
            return family
    return None


def _network_from_checkpoint(path: Path, architecture: str | None, prefix: str | None,
                             variant: str | None) -> tuple[str, dict[str, Any], dict[str, Tensor]]:
    """(architecture, config, state dict) of the inference network inside a checkpoint."""
    if path.is_dir() or path.suffix == ".safetensors":  # an export already: re-publish it
        state_dict, file_arch, config = read_export(path)
        arch = architecture or file_arch
        if arch is None:
            raise ConfigError(f"{path}: the export does not record its architecture; pass --arch NAME")
        return arch, config, state_dict
    state_dict, hparams = read_checkpoint(path)
    class_path = variant or hparams.get("_class_path")
    family = family_of_checkpoint(class_path)
    if architecture is not None and prefix is not None:
        arch, pre = architecture, prefix
    elif family is not None:
        arch = architecture or family.name
        pre = next(iter(family.checkpoint_prefix.values())) if prefix is None else prefix
    else:
        known = ", ".join(f.module_path for f in FAMILIES.values() if f.module_path) or "(none)"
        raise ConfigError(
            f"{path}: cannot tell which network to export: the checkpoint's variant is {class_path!r}, "
            f"which is no family's LightningModule (zoo.families; known: {known}). Pass --variant CLASS_PATH, "
            f"or --arch NAME and --prefix PREFIX (e.g. --prefix net.)."
        )
    if family is not None and family.network_config is not None:
        config = load(family.network_config)(hparams)
    elif "network" in hparams and isinstance(hparams["network"] or {}, Mapping):
        config = hparams["network"] or {}  # None: the network's defaults
    else:
        raise ConfigError(
            f"{path}: the checkpoint's hyper-parameters have no 'network' config (they have: "
            f"{', '.join(sorted(hparams)) or 'none'}); the variant must save_hyperparameters() its network dict"
        )
    net_sd = strip_prefix(state_dict, pre) if pre else dict(state_dict)
    return arch, dict(config), net_sd


class PublishError(ZooError, RuntimeError):
    """The Hub refused the upload or could not be reached; the message says which and what to do."""


def _check_repo_id(repo_id: str) -> None:
    """``owner/name`` that the Hub accepts, before any work."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise PublishError(f"--repo-id {repo_id}: not a Hub repository id ({str(e).splitlines()[0]})") from None
    if "/" not in repo_id:
        raise PublishError(f"--repo-id {repo_id}: give owner/name (your user or organisation, then the model's name)")


def _upload_failure(error: Exception, repo_id: str) -> PublishError | None:
    """One line for a Hub failure (no token, refused, unreachable), else None (a bug)."""
    from huggingface_hub import errors as hub_errors

    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if isinstance(error, hub_errors.LocalTokenNotFoundError):
        return PublishError(f"--repo-id {repo_id}: no Hub token; pass --token, set HF_TOKEN or run `hf auth login`")
    if isinstance(error, hub_errors.HfHubHTTPError):
        status = getattr(getattr(error, "response", None), "status_code", None)
        hint = "check --token / HF_TOKEN and that it may write to this repository" if status in (401, 403) else \
            "try again later, or use --dry-run DIR and upload the folder yourself"
        return PublishError(f"--repo-id {repo_id}: the Hub refused the upload ({reason}); {hint}")
    http_libraries = ("httpx", "httpx2", "httpcore", "requests", "urllib3")  # whichever the Hub client uses
    if isinstance(error, OSError) or any(c.__module__.split(".")[0] in http_libraries for c in type(error).__mro__):
        return PublishError(f"--repo-id {repo_id}: cannot reach the Hub ({reason}); check the network, or use "
                            "--dry-run DIR to write the folder")
    return None


def _constructor_arguments(cls: type) -> list[str]:
    """The names of the arguments ``cls(...)`` takes (none for a fixed architecture)."""
    import inspect

    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


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
    its family's declaration, or ``variant``, or ``architecture`` + ``prefix``), or an export folder /
    ``.safetensors`` file. ``tag`` names the weights-table entry whose licence, data and metrics go
    into the card (default: the entry whose ``repo_id`` is ``repo_id``, if any). The network is rebuilt
    and loaded strictly before anything is written, so the folder always loads back.
    """
    entry = get_weights(tag) if tag is not None else None
    if entry is None and repo_id is not None:
        entry = next((WEIGHTS.get(t) for t in WEIGHTS.names() if WEIGHTS.get(t).repo_id == repo_id), None)
    if isinstance(net_or_checkpoint, nn.Module):
        net = net_or_checkpoint
        arch = architecture or (entry.arch if entry is not None else None)
        if arch is None:
            raise ConfigError("exporting an nn.Module needs architecture= (its family, or its name in zoo.registry.MODELS) or tag=")
        config = getattr(net, "_hub_mixin_config", None)
        if config is None and not _constructor_arguments(type(net)):
            config = {}  # a fixed architecture (AnimeGANv2): the hub mixin records nothing, there is nothing to record
        if not isinstance(config, Mapping):
            raise ConfigError(
                f"{type(net).__name__} does not record its config: networks must inherit "
                f"huggingface_hub.PyTorchModelHubMixin with JSON-serialisable constructor arguments"
            )
        config, state_dict = dict(config), net.state_dict()
        source = f"{type(net).__name__} instance"
    else:
        source = str(net_or_checkpoint)
        arch, config, state_dict = _network_from_checkpoint(Path(net_or_checkpoint), architecture, prefix, variant)
    if FAMILIES.alias_of(arch):
        deprecated(arch, FAMILIES.alias_of(arch), "architecture")
    arch = canonical_arch(arch)
    if entry is not None and entry.arch != arch:
        raise ConfigError(f"weights entry {entry.tag!r} is a {entry.arch!r} network, the export is {arch!r}")
    check = build_network(arch, config, source)  # the export must load back: build and load strictly now
    load_strict(check, state_dict, source=source)
    state_dict = check.state_dict()
    full = getattr(check, "_hub_mixin_config", None)  # every constructor argument, defaults included
    if isinstance(full, Mapping):
        config = json.loads(json.dumps(dict(full)))

    out = Path(out_dir)
    if out.exists():
        stray = sorted(p.name for p in out.iterdir() if p.name not in EXPORT_FILES)
        if stray:
            raise OutputExistsError(
                f"{out} holds other files ({', '.join(stray[:5])}); the export folder is uploaded as is, "
                f"so give an empty or new folder"
            )
        earlier = sorted(p.name for p in out.iterdir())
        if earlier and not overwrite:
            raise OutputExistsError(f"{out} holds an earlier export ({', '.join(earlier)}); pass --overwrite "
                                    "(overwrite=True) to replace it, or give a new folder")
    data = safetensors_bytes(state_dict, arch, config)
    digest = hashlib.sha256(data).hexdigest()
    write_bytes(out / WEIGHTS_FILE, data)
    write_bytes(out / CONFIG_FILE, (json.dumps(config, sort_keys=True, indent=2) + "\n").encode())
    card = render_model_card(arch, config, digest, entry=entry, repo_id=repo_id, licence=licence,
                             results_dir=results_dir)
    write_bytes(out / CARD_FILE, card.encode())
    return ExportResult(folder=out, architecture=arch, config=config, sha256=digest,
                        tag=entry.tag if entry is not None else None)


# benchmarks/run.py metric names -> (model-index type, display name); plain names are accepted too.
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
    own = entry is not None and lic == entry.licence  # the entry's licence: show its terms and link too
    results = []
    metrics = entry.metrics(results_dir) if entry is not None else []
    for m in metrics:
        spec = METRICS.get(m["metric"])
        if spec is None or spec.index_type is None:
            continue
        dataset = m["dataset"] or m["protocol"] or "unspecified"
        results.append(EvalResult(
            task_type="image-to-image", task_name="Style transfer",
            dataset_type=str(dataset), dataset_name=str(dataset),
            dataset_config=str(m["protocol"]) if m["protocol"] else None,
            metric_type=spec.index_type, metric_value=m["value"], metric_name=spec.label,
        ))
    data = ModelCardData(
        library_name="pytorch",
        license=lic,
        license_link=(entry.licence_link or None) if own else None,
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
              f"| model.safetensors sha256 | `{sha256}` |", f"| licence | {entry.licence_text if own else lic} |"]
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


@dataclass
class PublishResult:
    """What :func:`publish` did. ``commit`` is the revision to pin in the tag's entry in zoo/nets/<family>.py
    (None on a dry run)."""

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
        return (f'repo_id="{self.repo_id}", filename="{WEIGHTS_FILE}", revision="{self.commit or "<commit>"}", '
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

    _check_repo_id(repo_id)
    if offline():
        raise WeightsUnavailableError("HF_HUB_OFFLINE=1 is set: cannot upload; use --dry-run DIR to write the folder")
    with tempfile.TemporaryDirectory(prefix="stylezoo-publish-") as tmp:
        res = export_for_hub(checkpoint, tmp, **kwargs)
        api = HfApi(token=token)
        try:
            api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
            info = api.upload_folder(repo_id=repo_id, folder_path=tmp, repo_type="model",
                                     commit_message=commit_message or f"Stylezoo export of {res.architecture}")
        except Exception as e:  # noqa: BLE001 - narrowed by _upload_failure; anything else is re-raised
            failure = _upload_failure(e, repo_id)
            if failure is None:
                raise
            raise failure from e
    return PublishResult(repo_id=repo_id, folder=None, sha256=res.sha256, architecture=res.architecture,
                         commit=getattr(info, "oid", None), url=getattr(info, "commit_url", None))
