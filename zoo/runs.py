"""The run folders of ``python -m zoo.fit``: ``runs/<name>/version_N/``, finding the checkpoint to resume,
telling the configuration a checkpoint was trained with from the command's, and cleaning up after a run
that was killed (its temporaries) or failed to start (its empty folders). """

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any


__all__ = ["LAST", "find_last_checkpoint", "remove_unfinished_writes", "flatten", "config_changes", "folders",
           "remove_new_empty_folders"]

LAST = "last.ckpt"


def find_last_checkpoint(run_root: str | os.PathLike) -> Path | None:
    """``version_N/checkpoints/last.ckpt`` of the highest N under ``run_root`` that has one, else None."""
    found = []
    for folder in Path(run_root).glob("version_*"):
        match = re.fullmatch(r"version_(\d+)", folder.name)
        if match and (folder / "checkpoints" / LAST).is_file():
            found.append((int(match.group(1)), folder / "checkpoints" / LAST))
    return max(found)[1] if found else None


def remove_unfinished_writes(checkpoint: Path) -> None:
    """The hidden temporary files a killed run left beside its checkpoints and logs (writes it never
    finished; its real files are whole, zoo.fileio), removed before the run resumes."""
    from .fileio import remove_temporaries

    removed = [p for folder in (checkpoint.parent, checkpoint.parent.parent) for p in remove_temporaries(folder)]
    if removed:
        print(f"removed {len(removed)} unfinished write(s) of the interrupted run: "
              + ", ".join(str(p) for p in removed), file=sys.stderr)


def flatten(namespace, prefix: str = "") -> dict[str, Any]:
    """A parsed config section as ``{dotted key: value}`` (``init_args`` left out of the keys)."""
    items = namespace.as_dict() if hasattr(namespace, "as_dict") else namespace
    flat: dict[str, Any] = {}
    if not isinstance(items, dict):
        return {prefix.rstrip("."): items}
    for key, value in items.items():
        if key == "__path__":
            continue
        dotted = prefix if key == "init_args" else f"{prefix}{key}."
        if isinstance(value, dict) and value:
            flat.update(flatten(value, dotted))
        else:
            flat[dotted.rstrip(".")] = value
    return flat


def config_changes(checkpoint: dict[str, Any], command: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, checkpoint's value, command's value)`` for each key whose value differs."""
    missing = "(not set)"
    return [(k, checkpoint.get(k, missing), command.get(k, missing)) for k in sorted(set(checkpoint) | set(command))
            if checkpoint.get(k, missing) != command.get(k, missing)]


def folders(root: Path) -> set[Path]:
    return {root, *(p for p in root.rglob("*") if p.is_dir())} if root.is_dir() else set()


def remove_new_empty_folders(run_root: Path, before: set[Path]) -> None:
    """The empty folders a run that failed or was stopped created (run_root, version_N, checkpoints ...),
    deepest first; folders that existed before and anything with a file in it are kept."""
    for folder in sorted(folders(run_root) - before, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only succeeds when empty
        except OSError:
            pass
    parent = run_root.parent
    if parent not in before and parent != Path(".") and parent.is_dir():
        try:
            parent.rmdir()
        except OSError:
            pass
