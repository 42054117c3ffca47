"""Image-sample logging of the variants, one Lightning callback: a model's picture grids written as PNG in its
run folder and sent to every logger that takes images.

A LightningModule with picture grids returns an :class:`ImageGrids` from ``configure_callbacks()`` and
implements ``image_grids() -> {name: (3, H, W) tensor in [0, 1]}`` (empty: nothing to write). The callback
runs after every ``every_n_epochs``-th training epoch and the last (``stage="train"``, CycleGAN's sample
grids) or after every validation epoch but the sanity check (``stage="validation"``, the perceptual
variant's validation grid). A smoke run (``fast_dev_run``) writes nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback

__all__ = ["ImageGrids"]

log = logging.getLogger(__name__)


class ImageGrids(Callback):
    """Write ``pl_module.image_grids()`` under ``<run dir>/<folder>/`` and log them.

    Args:
        folder: the folder in the run's log directory (``trainer.log_dir``).
        file_name: the file name of a grid, formatted with ``epoch``, ``step`` and ``name``.
        key: the logger key of a grid, formatted with ``name`` (TensorBoard ``add_image``, W&B / Neptune
            ``log_image``; CSV loggers hold no images: the PNG is the record).
        stage: ``"train"`` (after training epochs) or ``"validation"`` (after validation epochs).
        every_n_epochs: with ``stage="train"``: every this many epochs, and after the last; 0: never.
    """

    def __init__(self, folder: str, file_name: str, key: str, stage: str = "train", every_n_epochs: int = 1) -> None:
        self.folder, self.file_name, self.key, self.stage = folder, file_name, key, stage
        self.every_n_epochs = int(every_n_epochs)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        every = self.every_n_epochs
        if self.stage != "train" or not every:
            return
        last = trainer.max_epochs is not None and pl_module.current_epoch + 1 >= trainer.max_epochs
        if (pl_module.current_epoch + 1) % every == 0 or last:
            self.write(trainer, pl_module)

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self.stage == "validation" and not trainer.sanity_checking:
            self.write(trainer, pl_module)

    def write(self, trainer: Any, pl_module: Any) -> list[Path]:
        """Render and write the grids; called on every rank (``trainer.log_dir`` is a collective broadcast), only
        rank zero renders and writes. The paths written."""
        run_dir = Path(trainer.log_dir or trainer.default_root_dir)
        if trainer.global_rank != 0 or trainer.fast_dev_run:  # a smoke run writes nothing
            return []
        from ..io import save_image

        written = []
        for name, image in pl_module.image_grids().items():
            file_name = self.file_name.format(epoch=pl_module.current_epoch, step=pl_module.global_step, name=name)
            written.append(save_image(image, run_dir / self.folder / file_name, overwrite=True))
            log.info("image grid written to %s", written[-1])
            key = self.key.format(name=name)
            for logger in trainer.loggers:
                if hasattr(logger, "log_image"):  # WandbLogger, NeptuneLogger, ...
                    logger.log_image(key=key, images=[image], step=pl_module.global_step)
                elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
                    logger.experiment.add_image(key, image, pl_module.global_step)
        return written
