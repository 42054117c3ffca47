"""The record of a dataset job (``python -m zoo.stylize_dataset``), kept in its output folder:

``OUT/.stylezoo/job.json``
    The job's model, options, seed and recipe: a later run into the same folder must be the same job
    (its outputs are adopted, not redone), else it stops with an error naming the difference.
``OUT/.stylezoo/parts/<time>-<rank>-<token>.jsonl``
    The records of finished items, one JSON object a line, in small immutable files (named so that they
    sort by the time they were written: a later record of an item replaces an earlier one) each written
    atomically (:func:`zoo.fileio.write_bytes`) by the process that did the work: a kill loses at most the
    items since its last part, whose outputs are then adopted (their checksum computed) on restart.
``OUT/manifest.json``
    Written once every process has finished, atomically: the job's header, then every stylised image
    (``content``, ``output``, ``style``, ``sha256``, ``bytes``) and every skipped input (``content``,
    ``error``), sorted by content path. No timings: two runs of the same job, killed or not, on any number
    of processes, give the same file.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from .dataset_io import DatasetJobError
from .download import sha256_file
from .fileio import write_bytes

__all__ = ["JOB_DIR", "MANIFEST", "FORMAT", "check_job", "read_parts", "write_part", "merge", "sha256_file",
           "progress_path", "write_json"]

JOB_DIR = ".stylezoo"
MANIFEST = "manifest.json"
FORMAT = "stylezoo-dataset/1"


def write_json(path: Path, data: Any) -> None:
    write_bytes(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())




def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key} {a!r} -> {b!r}")
    return out


def check_job(output: Path, header: Mapping[str, Any], write: bool) -> bool:
    """Check that ``output`` is empty, or holds this same job (``header``); returns whether it holds earlier
    work. ``write`` (one process only): record ``header`` when the folder is new."""
    job = output / JOB_DIR / "job.json"
    if job.is_file():
        try:
            old = json.loads(job.read_text())
        except (OSError, ValueError) as e:
            raise DatasetJobError(f"--data.output {output}: {job} is unreadable ({e}); remove the folder or "
                                  "choose another --data.output") from None
        diff = _differences(old, dict(header))
        if diff:
            raise DatasetJobError(f"--data.output {output}: holds a job with other settings ({'; '.join(diff[:3])}); "
                                  "choose another --data.output, or run that job again with its own settings")
        return True
    if output.is_dir() and any(not p.name.startswith(".") for p in output.iterdir()):
        raise DatasetJobError(f"--data.output {output}: not empty and not a dataset job's folder; choose a new or "
                              "empty folder")
    if write:
        output.mkdir(parents=True, exist_ok=True)
        write_json(job, dict(header))
    return False


def read_parts(output: Path) -> dict[str, dict[str, Any]]:
    """The records of every finished item (content path -> record) in ``output``'s parts. A part is whole
    (written atomically); a line that does not parse stops with an error naming the file."""
    records: dict[str, dict[str, Any]] = {}
    parts = output / JOB_DIR / "parts"
    if not parts.is_dir():
        return records
    for part in sorted(parts.glob("*.jsonl")):
        for n, line in enumerate(part.read_text().splitlines(), 1):
            try:
                record = json.loads(line)
                records[record["content"]] = record  # parts sort by time: a redone item's newer record wins
            except (ValueError, KeyError, TypeError):
                raise DatasetJobError(f"{part}:{n}: not a dataset-job record; the folder was edited by hand "
                                      "(remove that file to redo its items)") from None
    return records


def write_part(output: Path, rank: int, records: Iterable[Mapping[str, Any]]) -> Path | None:
    """Write ``records`` as a new part of process ``rank``, atomically; None when there is nothing."""
    lines = [json.dumps(dict(r), sort_keys=True) for r in records]
    if not lines:
        return None
    path = output / JOB_DIR / "parts" / f"{time.time_ns():020d}-{rank:05d}-{secrets.token_hex(4)}.jsonl"
    return write_bytes(path, ("\n".join(lines) + "\n").encode(), overwrite=False)


def merge(output: Path, header: Mapping[str, Any], listing_errors: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """Write ``OUT/manifest.json`` from the parts (and the shards that could not be listed) and return it."""
    records = read_parts(output)
    for rel, reason in listing_errors:
        records.setdefault(rel, {"content": rel, "error": f"{rel}: {reason}"})
    done = [records[k] for k in sorted(records) if "error" not in records[k]]
    failed = [records[k] for k in sorted(records) if "error" in records[k]]
    manifest = {**header, "counts": {"stylized": len(done), "skipped": len(failed)}, "items": done, "skipped": failed}
    write_json(output / MANIFEST, manifest)
    return manifest


def progress_path(output: Path, rank: int) -> Path:
    return output / JOB_DIR / "progress" / f"{rank:05d}.json"
