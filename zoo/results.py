"""The one reader of benchmark results (``benchmarks/results/*.json``) and the one table of metric names.

``python -m benchmarks.run`` writes one *record* per file (schema: docs/benchmarks.md, "Results"). This
module is the only code that reads them: the README zoo table (``benchmarks.table``), the metrics of the
weights table (:meth:`zoo.weights.PretrainedWeights.metrics`, ``zoo list --pretrained``) and the model
cards all go through :func:`load`.

Layouts read: one record per file, a list of records, or ``{"results": [...], ...}`` whose other keys
apply to every record. A record's ``protocol`` is a name or a dict (``name``, ``n``, ``size``,
``data_dir``, ``direction``, ...); its metrics are the numbers under ``metrics`` (or, in hand-written
records, top-level keys named in :data:`METRICS`).

The honesty rule, the same for every reader: a record is a *quality result* when its protocol is one of
:data:`PROTOCOL_METRICS` and it has metrics (the speed scripts' files, which share the folder, are not);
it is *usable* only when it says ``"usable": true`` and not ``"random_weights": true``. Numbers of an
unusable record (random weights, random metric networks, a reduced protocol) never reach the README, a
model card or ``zoo list``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .resources import results_dir

__all__ = ["Metric", "METRICS", "PROTOCOL_METRICS", "RESULTS_DIR", "Record", "read_file", "load", "metrics_of"]

#: The committed results: ``benchmarks/results`` of the checkout, or the wheel's copy inside the package.
RESULTS_DIR = results_dir()


@dataclass(frozen=True)
class Metric:
    """A metric name as results files spell it, with how it is shown."""

    name: str
    label: str                     # model cards and docs: "FID (Inception-v3)"
    column: str                    # README table header
    fmt: str = "{:.4g}"            # README table cell
    index_type: str | None = None  # Hugging Face model-index metric type; None: not in the card's metadata


_METRICS = (
    Metric("artfid", "ArtFID", "ArtFID ↓", "{:.2f}", "artfid"),
    Metric("fid_art", "FID (ArtFID Inception)", "FID (art) ↓", "{:.2f}", "fid"),
    Metric("fid_inception", "FID (Inception-v3)", "FID ↓", "{:.2f}", "fid"),
    Metric("lpips_alex", "LPIPS (AlexNet)", "LPIPS ↓", "{:.3f}", "lpips"),
    Metric("lpips_vgg", "LPIPS (VGG)", "LPIPS (VGG) ↓", "{:.3f}", "lpips"),
    Metric("content_loss", "content loss", "content loss ↓"),
    Metric("style_loss", "style loss", "style loss ↓"),
    Metric("cfsd", "CFSD", "CFSD ↓", "{:.4f}"),
    # plain names of hand-written records
    Metric("fid", "FID", "FID ↓", "{:.2f}", "fid"),
    Metric("lpips", "LPIPS", "LPIPS ↓", "{:.3f}", "lpips"),
)
#: Every metric name a results file may use.
METRICS: Mapping[str, Metric] = {m.name: m for m in _METRICS}

#: The metrics ``benchmarks.run`` computes for each protocol, in the order it writes them.
PROTOCOL_METRICS: Mapping[str, tuple[str, ...]] = {
    "styleid": ("artfid", "fid_art", "lpips_alex", "lpips_vgg", "fid_inception", "content_loss", "style_loss", "cfsd"),
    "cyclegan": ("fid_inception", "lpips_alex"),
}


@dataclass(frozen=True)
class Record:
    """One result record of ``file``; ``data`` is the record as written (with its file's shared keys)."""

    file: Path
    data: Mapping[str, Any]

    @property
    def model(self) -> str | None:
        """The ``--model`` of the run."""
        return self.data.get("model")

    @property
    def weights(self) -> Any:
        return self.data.get("weights")

    def is_for(self, names: Iterable[str]) -> bool:
        """Whether the record's ``weights``, ``tag`` or ``model`` is one of ``names``."""
        return any(isinstance(self.data.get(k), str) and self.data[k] in names for k in ("weights", "tag", "model"))

    @property
    def protocol_info(self) -> dict[str, Any]:
        """The ``protocol`` dict ({} when the record only names it)."""
        proto = self.data.get("protocol")
        return dict(proto) if isinstance(proto, Mapping) else {}

    @property
    def protocol(self) -> str | None:
        """The protocol's name."""
        proto = self.data.get("protocol")
        return proto.get("name") if isinstance(proto, Mapping) else proto if isinstance(proto, str) else None

    @property
    def n(self) -> int | None:
        """How many images were stylised."""
        return self.data.get("n", self.protocol_info.get("n"))

    @property
    def dataset(self) -> str | None:
        info = self.protocol_info
        return self.data.get("dataset") or info.get("dataset") or (
            Path(str(info["data_dir"])).name if info.get("data_dir") else None)

    @property
    def metrics(self) -> dict[str, float]:
        """``{metric: value}``: the numbers under ``metrics`` (else top-level keys of :data:`METRICS`), names
        in lower case."""
        raw = self.data.get("metrics")
        if not isinstance(raw, Mapping):
            raw = {k: self.data[k] for k in METRICS if k in self.data}
        return {str(k).lower(): float(v) for k, v in raw.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)}

    @property
    def is_quality_result(self) -> bool:
        """A record of a quality protocol with metrics (not a speed script's file)."""
        return self.protocol in PROTOCOL_METRICS and bool(self.metrics)

    @property
    def unusable_reasons(self) -> list[str]:
        """Why the record's numbers must not be shown; empty when it is usable."""
        if self.data.get("random_weights") is True:
            return ["computed with random weights"]
        if self.data.get("usable") is not True:
            return list(self.data.get("unusable_reasons") or ["not marked usable"])
        return []

    @property
    def usable(self) -> bool:
        return not self.unusable_reasons

    @property
    def device(self) -> str:
        """The device it ran on, in words: the GPU's name, or ``cpu (N cores)``."""
        env = self.data.get("environment") or {}
        if env.get("device_type") == "cuda":
            return env.get("device_name", "cuda")
        return f"{env.get('device_type', '?')} ({env.get('cpu_count', '?')} cores)"

    @property
    def images_per_s(self) -> float | None:
        return (self.data.get("speed") or {}).get("images_per_s")


def read_file(file: str | os.PathLike) -> list[Record]:
    """The records of one results file. Raises OSError or ValueError when it cannot be read as JSON."""
    file = Path(file)
    obj = json.loads(file.read_text())
    if isinstance(obj, Mapping) and isinstance(obj.get("results"), list):
        common = {k: v for k, v in obj.items() if k != "results"}
        items = [{**common, **r} for r in obj["results"] if isinstance(r, Mapping)]
    else:
        items = [r for r in (obj if isinstance(obj, list) else [obj]) if isinstance(r, Mapping)]
    return [Record(file, r) for r in items]


def load(folder: str | os.PathLike | None = None) -> tuple[list[Record], list[tuple[Path, str]]]:
    """(usable quality records, [(file, why skipped)]) of every ``*.json`` in ``folder`` (default
    :data:`RESULTS_DIR`), sorted by file name. A file is skipped when it is unreadable, holds no quality
    result (a speed script's file), or for each unusable record it holds."""
    usable: list[Record] = []
    skipped: list[tuple[Path, str]] = []
    root = Path(folder) if folder is not None else RESULTS_DIR
    for file in sorted(root.glob("*.json")) if root.is_dir() else []:
        try:
            records = [r for r in read_file(file) if r.is_quality_result]
        except (OSError, ValueError) as e:
            skipped.append((file, f"unreadable ({type(e).__name__})"))
            continue
        if not records:
            skipped.append((file, "not a benchmarks.run quality result"))
        for r in records:
            if r.usable:
                usable.append(r)
            else:
                skipped.append((file, "unusable: " + "; ".join(r.unusable_reasons)))
    return usable, skipped


def metrics_of(names: Iterable[str], folder: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Every usable metric measured for a model called one of ``names`` (a tag and its timm-style name):
    ``{"metric", "value", "protocol", "dataset", "n", "file"}`` per number, in file order."""
    names = set(names)
    return [{"metric": metric, "value": value, "protocol": r.protocol, "dataset": r.dataset, "n": r.n,
             "file": r.file.name}
            for r in load(folder)[0] if r.is_for(names) for metric, value in r.metrics.items()]
