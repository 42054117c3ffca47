"""``python -m zoo.stylize_dataset RECIPE [--section.key=value ...]``: stylise a whole dataset on Lightning
(``zoo stylize-dataset`` is the same command).

RECIPE is a file, or the name of a recipe that comes with the package (``stylized_imagenet``,
``folder``: ``recipes/datasets/<name>.yaml``). It is a LightningCLI config with three sections: ``model``
(:class:`zoo.dataset_job.StylizeJob`: the family or pretrained tag and its options), ``data``
(:class:`zoo.dataset_job.StylizeData`: input, output, styles, seed, transforms, output format) and
``trainer`` (Lightning's: ``--trainer.accelerator``, ``--trainer.devices=N``, ``--trainer.num_nodes=K``,
``--trainer.strategy=ddp``). Processes are started by Lightning (its launcher, or torchrun / SLURM, which it
detects). ``RECIPE --help`` lists every key; ``--print_config`` shows the resolved job.

Examples::

    python -m zoo.stylize_dataset folder --model.model=johnson_candy --data.input=photos --data.output=out
    python -m zoo.stylize_dataset stylized_imagenet --data.input=imagenet/train --data.output=sin/train \\
        --data.style_dir=painter-by-numbers/train --trainer.devices=8

The output folder mirrors the input and ends with ``manifest.json`` (docs/datasets-at-scale.md). A run
stopped in any way (Ctrl-C, a kill, a lost node) is resumed by the same command: finished outputs are kept,
never redone or duplicated. Unreadable inputs are skipped and listed in the manifest.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

__all__ = ["main", "find_dataset_recipe", "USAGE"]

USAGE = "usage: python -m zoo.stylize_dataset RECIPE[.yaml] [--model.KEY=V] [--data.KEY=V] [--trainer.KEY=V]"

TRAINER_DEFAULTS = {"logger": False, "enable_checkpointing": False, "enable_model_summary": False,
                    "enable_progress_bar": False}  # the job's own bar counts every process (JobProgress)


def _recipes() -> list[Path]:
    from .resources import recipes_dir

    return sorted((recipes_dir() / "datasets").glob("*.yaml"))


def find_dataset_recipe(given: str) -> Path | None:
    """``given`` as a file, else the dataset recipe of that name."""
    path = Path(given)
    if path.is_file():
        return path
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name
    return next((r for r in _recipes() if r.stem == stem), None)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        print(__doc__)
        return 0 if args else 2
    from .fit import debug, recipe_or_error
    from .fiterrors import user_message

    recipe = recipe_or_error(args[0], find_dataset_recipe(args[0]), _recipes, "dataset recipe")
    if recipe is None:
        return 2
    try:
        return _run(["--config", str(recipe), *args[1:]])
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a user's mistake becomes one line; a bug keeps its traceback
        message = user_message(e, None)
        if message is None and isinstance(e, FileNotFoundError):  # --model.weights, --data.input ... not there
            message = str(e)
        if message is None or debug():
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


def _run(args: list[str]) -> int:
    import warnings

    from lightning.pytorch.cli import LightningCLI

    from .dataset_job import StylizeData, StylizeJob
    from .fit import configure_lightning_logging, debug, quiet_known_warnings

    configure_lightning_logging(debug())  # after Lightning's import, which sets its loggers to INFO
    quiet_known_warnings()  # among them: the command line is RECIPE + overrides, handed on as --config + overrides
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
    cli = LightningCLI(StylizeJob, StylizeData, run=False, args=args, trainer_defaults=TRAINER_DEFAULTS,
                       save_config_callback=None, seed_everything_default=False)
    try:
        cli.trainer.predict(cli.model, datamodule=cli.datamodule, return_predictions=False)
    except SystemExit:  # Lightning's answer to Ctrl-C: its teardown, then exit(1)
        if cli.trainer.interrupted:
            raise KeyboardInterrupt from None
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
