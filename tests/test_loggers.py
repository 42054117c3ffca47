"""zoo.loggers.CSVLogger (zoo.fit's default): metrics.csv and hparams.yaml are always whole files."""

import csv
import errno

import pytest
import yaml

from zoo import loggers
from zoo.fileio import WriteError
from zoo.loggers import CSVLogger


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _logger(tmp_path):
    logger = CSVLogger(tmp_path, name="run")
    logger.log_hyperparams({"lr": 0.1, "layers": ["relu1_1", "relu2_1"]})
    logger.log_metrics({"loss": 2.0}, step=0)
    logger.log_metrics({"loss": 1.5}, step=1)
    logger.save()
    return logger


def test_every_save_writes_every_row_under_the_current_header(tmp_path):
    logger = _logger(tmp_path)
    logger.log_metrics({"loss": 1.0, "lr": 0.05}, step=2)  # a new column: the header grows
    logger.save()
    rows = _rows(tmp_path / "run" / "version_0" / "metrics.csv")
    assert [(r["step"], r["loss"], r["lr"]) for r in rows] == [("0", "2.0", ""), ("1", "1.5", ""), ("2", "1.0", "0.05")]
    hparams = yaml.safe_load((tmp_path / "run" / "version_0" / "hparams.yaml").read_text())
    assert hparams == {"lr": 0.1, "layers": ["relu1_1", "relu2_1"]}


def test_a_save_that_fails_leaves_the_previous_files_whole(tmp_path, monkeypatch):
    logger = _logger(tmp_path)
    folder = tmp_path / "run" / "version_0"
    before = {name: (folder / name).read_bytes() for name in ("metrics.csv", "hparams.yaml")}

    def disk_full(self, rows):
        self.writerow(rows[0])  # part of the file is written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(csv.DictWriter, "writerows", disk_full)
    logger.log_metrics({"loss": 1.0}, step=2)
    with pytest.raises(WriteError, match="metrics.csv"):
        logger.save()

    def yaml_disk_full(path, hparams):
        open(path, "w").write("lr: 0.")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(loggers, "save_hparams_to_yaml", yaml_disk_full)
    with pytest.raises(WriteError, match="hparams.yaml"):
        logger.log_hyperparams({"lr": 0.2})
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert sorted(p.name for p in folder.iterdir()) == ["hparams.yaml", "metrics.csv"]  # no temporary left
