"""Lightning's CSV logger, with its two files replaced atomically: what ``zoo.fit`` logs to by default.

Lightning's ``CSVLogger`` appends to ``metrics.csv``, rewrites it in place when a new metric appears, and
writes ``hparams.yaml`` in place: a crash, a kill or a full disk in the middle leaves a truncated file.
Here every save writes the whole file to a temporary name beside it, syncs and renames it
(:func:`zoo.fileio.atomic_path`), so each file is always a complete earlier or later version. The rows
are kept in memory for that (a few per logged step). Remote log folders (``s3://...``) keep Lightning's
behaviour. Same arguments as ``lightning.pytorch.loggers.CSVLogger``.
"""

from __future__ import annotations

import csv
import os
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.core.saving import save_hparams_to_yaml
from lightning.pytorch.loggers import CSVLogger as _CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

from .fileio import atomic_path

__all__ = ["CSVLogger"]


class _AtomicExperimentWriter(ExperimentWriter):
    def __init__(self, log_dir: str) -> None:
        super().__init__(log_dir)
        self._local = isinstance(self._fs, LocalFileSystem)
        self._rows: list[dict[str, Any]] = []  # every row saved so far

    def log_hparams(self, params: dict[str, Any]) -> None:
        if not self._local:
            return super().log_hparams(params)
        self.hparams.update(params)
        with atomic_path(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE)) as tmp:
            save_hparams_to_yaml(tmp, self.hparams)

    def save(self) -> None:
        if not self._local:
            return super().save()
        if not self.metrics:
            return
        self._record_new_keys()
        rows = self._rows + self.metrics
        with atomic_path(self.metrics_file_path) as tmp, open(tmp, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.metrics_keys)
            writer.writeheader()
            writer.writerows(rows)
        self._rows, self.metrics = rows, []


class CSVLogger(_CSVLogger):
    """``lightning.pytorch.loggers.CSVLogger`` whose ``metrics.csv`` and ``hparams.yaml`` are never left
    truncated (see the module docstring)."""

    @property
    @rank_zero_experiment
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AtomicExperimentWriter(log_dir=self.log_dir)
        return self._experiment
