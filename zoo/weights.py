"""The record of pretrained weights, one frozen entry per tag with everything needed to load and cite it, and
:data:`WEIGHTS`, the table of them. The entries are declared beside their networks, in their family's
``pretrained`` (``zoo/nets/<family>.py``); :mod:`zoo.families` registers them here when it finds the family.

Names. Every entry has a short *tag* that is also its ``hubconf.py`` entry point and its
``zoo.create_model`` name (``johnson_candy``, ``cyclegan_photo2anime``), and a timm-style
``family.suffix`` *name* (``johnson.candy``, ``cyclegan.photo2anime``); both resolve to the entry. ``arch`` is
the entry's family (:mod:`zoo.families`); ``former`` lists deprecated earlier names, which
:func:`zoo.families.resolve` still accepts for one release.

Where the weights come from (exactly one of these holds for every entry):

* ``published=True``: a ``.safetensors`` file in a Hugging Face Hub repository, pinned to a commit
  (``revision``, 40 hex digits) and checked against ``sha256`` before it is read (:mod:`zoo.download`).
* ``canonical=CanonicalSource(...)``: the public checkpoint of the reference implementation, downloaded
  from its original URL (https), verified against the hash pinned in the entry (``pin``, citing a source
  independent of the download; :mod:`zoo.download`), read with ``torch.load(weights_only=True)`` and
  converted by the importer named in ``converter`` on every use (until we mirror it on the Hub).
* neither: our own weights that are not published yet; ``pretrained=True`` raises an error that names
  ``recipe``, the config that trains them.

Metrics are never typed here: :meth:`PretrainedWeights.metrics` reads them from
``benchmarks/results/*.json`` (see :func:`read_metrics` for the fields it reads).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .pins import Pin
from .registry import Registry
from .resources import results_dir

__all__ = [
    "CanonicalSource",
    "PretrainedWeights",
    "WeightsTable",
    "WEIGHTS",
    "get_weights",
    "read_metrics",
    "zoo_table_rows",
    "RESULTS_DIR",
    "HUB_OWNER",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_TAG = re.compile(r"[a-z][a-z0-9_]*")  # a Python identifier: tags are hubconf function names

#: The Hub organisation we publish to (repositories are created by ``zoo publish``).
HUB_OWNER = "stylezoo"
#: Where the benchmark results live (``benchmarks/results/*.json``; zoo.results, which reads them).
RESULTS_DIR = results_dir()


@dataclass(frozen=True)
class CanonicalSource:
    """A checkpoint published by the authors of a reference implementation, and how we import it.

    ``url`` is the original download address: ``https://`` (every upstream serves it), or ``file://`` for
    a local mirror. ``member`` is the path of the checkpoint inside the downloaded archive when ``url`` is
    a ``.zip`` (pytorch/examples ships its four styles in one zip). ``converter`` is the dotted path of
    the importer ``convert_<source>_state_dict(sd) -> dict`` in the network's module; it is imported only
    when the weights are converted. ``pin`` (:class:`zoo.pins.Pin`) is the downloaded file's content hash
    from a source independent of the download, citing where it is published, or the reason why none
    exists (such a file is used with a warning; docs/hub.md lists them); ``sha256`` is a shorthand for a
    pin of that sha256 cited by ``citation``. ``file`` is the local file name in
    ``$TORCH_HOME/hub/checkpoints`` (default: the URL's last path component). ``licence`` is the upstream
    licence (SPDX id, lower case as the Hub writes it).
    """

    url: str
    converter: str
    licence: str
    citation: str
    member: str | None = None
    sha256: str | None = None
    file: str | None = None
    pin: Pin = Pin()

    def __post_init__(self) -> None:
        if self.sha256 is not None and self.pin == Pin():
            object.__setattr__(self, "pin", Pin(sha256=self.sha256, source=self.citation))

    @property
    def filename(self) -> str:
        """The local file name of the download (``file``, else the URL's last path component)."""
        return self.file or self.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PretrainedWeights:
    """One pretrained tag. See the module docstring for the three kinds of source."""

    tag: str                      # short name: hubconf entry point and create_model name
    name: str                     # timm-style "arch.suffix"
    arch: str                     # family name (zoo.families), or an architecture in zoo.registry.MODELS
    description: str              # one line, used in docstrings, model cards and the README table
    licence: str                  # of the weights: SPDX id, lower case ("other": see licence_terms); upstream's
    #                               for canonical ones
    training_data: str            # what the network was trained on, in words
    repo_id: str                  # Hugging Face Hub repository (planned until published)
    config: Mapping[str, Any] = field(default_factory=dict)  # JSON config passed to the MODELS builder
    filename: str = "model.safetensors"
    revision: str | None = None   # pinned Hub commit (40 hex digits) once published
    sha256: str | None = None     # sha256 of ``filename`` at ``revision`` once published
    published: bool = False
    recipe: str | None = None     # recipes/<name>.yaml that trains these weights (ours)
    canonical: CanonicalSource | None = None
    datasets: tuple[str, ...] = ()  # Hugging Face dataset ids for the model card, where one exists
    paper: str = ""               # citation of the method
    former: tuple[str, ...] = ()  # earlier tags / names (deprecated; results files may still use them)
    # What an SPDX id cannot say: with licence "other", the upstream terms in one line (shown with the
    # licence in `zoo list --pretrained`, the README table and the model card) and where they are stated.
    licence_terms: str = ""
    licence_link: str = ""

    def __post_init__(self) -> None:
        # The config is part of a frozen record: keep a read-only view of a private copy.
        object.__setattr__(self, "config", MappingProxyType(json.loads(json.dumps(dict(self.config)))))

    @property
    def source(self) -> str:
        """Where the weights come from, in one line: our recipe or the canonical checkpoint's URL."""
        if self.canonical is not None:
            return f"converted from {self.canonical.url} ({self.canonical.converter.rsplit('.', 1)[-1]})"
        return f"trained by {self.recipe}" if self.recipe else "unknown"

    @property
    def licence_text(self) -> str:
        """The licence as tables show it: the id, and the terms where the id is ``other``."""
        return f"{self.licence}: {self.licence_terms}" if self.licence_terms else self.licence

    @property
    def available(self) -> bool:
        """Whether ``pretrained=True`` can load these weights (from the Hub or the canonical URL)."""
        return self.published or self.canonical is not None

    def config_dict(self) -> dict[str, Any]:
        """A mutable copy of the network config."""
        return json.loads(json.dumps(dict(self.config)))

    def metrics(self, results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
        """The benchmark results recorded for this tag (see :func:`read_metrics`); empty when none."""
        return read_metrics(self, results_dir)

    def validate(self) -> None:
        """Raise ValueError if the entry breaks the table's rules (the schema test runs this on all)."""
        problems = []
        if not _TAG.fullmatch(self.tag):
            problems.append(f"tag {self.tag!r} is not a lower-case Python identifier")
        if self.name.split(".", 1)[0] != self.arch or "." not in self.name:
            problems.append(f"name {self.name!r} must be '{self.arch}.<suffix>'")
        if not self.filename.endswith(".safetensors"):
            problems.append(f"filename {self.filename!r}: only safetensors files are served from the Hub")
        if "/" not in self.repo_id:
            problems.append(f"repo_id {self.repo_id!r} is not 'owner/name'")
        if self.published:
            if not (self.revision and _COMMIT.fullmatch(self.revision)):
                problems.append(f"published but revision {self.revision!r} is not a 40-hex commit")
            if not (self.sha256 and _SHA256.fullmatch(self.sha256)):
                problems.append(f"published but sha256 {self.sha256!r} is not 64 lower-case hex digits")
        else:
            if self.revision is not None or self.sha256 is not None:
                problems.append("revision/sha256 are set but published is False")
        if self.canonical is None and not self.published and not self.recipe:
            problems.append("unpublished weights of our own must name the recipe that trains them")
        if self.recipe is not None and not (self.recipe.startswith("recipes/") and self.recipe.endswith(".yaml")):
            problems.append(f"recipe {self.recipe!r} is not recipes/<name>.yaml")
        if self.canonical is not None:
            c = self.canonical
            if not c.url.startswith(("https://", "file://")):
                problems.append(f"canonical url {c.url!r} is not https:// (or file:// for a local mirror)")
            if not re.fullmatch(r"[A-Za-z_][\w.]*\.convert_[a-z0-9_]+_state_dict", c.converter):
                problems.append(f"converter {c.converter!r} is not <module>.convert_<source>_state_dict")
            if c.sha256 is not None and c.pin.sha256 != c.sha256:
                problems.append(f"canonical sha256 {c.sha256!r} differs from its pin's")
            problems.extend(f"canonical pin: {p}" for p in c.pin.problems())
            if c.url.split("?", 1)[0].endswith(".zip") != (c.member is not None):
                problems.append("a .zip url needs the member path of the checkpoint inside it (and only a zip)")
            if c.licence != self.licence:
                problems.append(f"licence {self.licence!r} differs from the upstream licence {c.licence!r}")
        if not self.licence or self.licence != self.licence.lower():
            problems.append(f"licence {self.licence!r} must be a lower-case SPDX id")
        if (self.licence == "other") != bool(self.licence_terms and self.licence_link.startswith("https://")):
            problems.append("licence 'other' needs licence_terms and an https licence_link (and only 'other')")
        if problems:
            raise ValueError(f"weights entry {self.tag!r}: " + "; ".join(problems))


class WeightsTable(Registry[PretrainedWeights]):
    """The pretrained tags, keyed by tag; lookups also accept the timm-style ``arch.suffix`` names. A
    :class:`zoo.registry.Registry` whose :meth:`register` takes the entry (validated) under its tag, with its
    name as an alias. The entries are declared beside their networks, in their family's ``pretrained``
    (:mod:`zoo.families` registers them here when it finds the family)."""

    def __init__(self) -> None:
        super().__init__("pretrained weights", listing="tags", duplicate="{kind} {name!r} are already registered")

    def register(self, entry: PretrainedWeights) -> PretrainedWeights:  # type: ignore[override]
        entry.validate()
        return super().register(entry.tag, entry, aliases=(entry.name,))


WEIGHTS = WeightsTable()


def get_weights(tag: str) -> PretrainedWeights:
    """The entry of ``tag`` (or of its timm-style name); an unknown name lists every tag."""
    return WEIGHTS.get(tag)


# --------------------------------------------------------------------------------------------------
# Metrics from benchmarks/results
# --------------------------------------------------------------------------------------------------

def read_metrics(entry: PretrainedWeights | str, results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """The usable quality metrics measured for ``entry`` (its tag or timm-style name) in ``results_dir``
    (default :data:`RESULTS_DIR`): ``{"metric", "value", "protocol", "dataset", "n", "file"}`` per number,
    as :func:`zoo.results.metrics_of` reads them (the layouts, and which records count, are described
    there); none of it is typed by hand."""
    from .results import metrics_of

    if isinstance(entry, str):
        entry = get_weights(entry)
    return metrics_of({entry.tag, entry.name, *entry.former}, results_dir if results_dir is not None else RESULTS_DIR)


def zoo_table_rows(results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per tag for the README zoo table and ``zoo list --pretrained``.

    Keys: ``tag``, ``name``, ``arch``, ``description``, ``kind`` (``"canonical"`` or ``"ours"``),
    ``source`` (one line), ``converter`` (dotted name or None), ``url`` (canonical URL or Hub
    repository), ``recipe``, ``licence`` (the id, with the terms where it is ``other``), ``published``,
    ``available``, ``training_data`` and
    ``metrics`` (``{metric: value}`` of the first record of each metric, from benchmarks/results).
    """
    rows = []
    for tag in WEIGHTS.names():
        e = WEIGHTS.get(tag)
        metrics: dict[str, float] = {}
        for m in e.metrics(results_dir):
            metrics.setdefault(m["metric"], m["value"])
        rows.append({
            "tag": e.tag,
            "name": e.name,
            "arch": e.arch,
            "description": e.description,
            "kind": "canonical" if e.canonical is not None else "ours",
            "source": e.source,
            "converter": e.canonical.converter if e.canonical is not None else None,
            "url": e.canonical.url if e.canonical is not None else f"https://huggingface.co/{e.repo_id}",
            "recipe": e.recipe,
            "licence": e.licence_text,
            "published": e.published,
            "available": e.available,
            "training_data": e.training_data,
            "metrics": metrics,
        })
    return rows
