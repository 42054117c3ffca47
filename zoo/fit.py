"""``python -m zoo.fit RECIPE [--run_name=NAME] [--runs_dir=DIR] [--section.key=value ...]``: train any variant
from a recipe (``zoo fit`` is the same command).

RECIPE is a recipe file, or the name of one of the recipes that come with the package (``zoo fit johnson``
is ``recipes/johnson.yaml``; ``zoo list`` shows them): a file of that path wins over a name.

A recipe is a LightningCLI config (``model``/``data`` with ``class_path`` and ``init_args``, ``trainer``,
``seed_everything``). Everything Lightning's CLI accepts works: ``--trainer.devices=4``,
``--trainer.strategy=ddp``, ``--trainer.precision=bf16-mixed``, ``--print_config``, and every key of the
recipe, nested ones included (``--model.network.ngf=32``, ``--model.losses.gram.weight=1e5``);
``RECIPE --help`` lists them, ``RECIPE --model.help CLASS`` shows the model's with types and defaults.

Runs are kept under ``runs/<run name>/`` (``--runs_dir`` changes ``runs``; the run name is the recipe's
file name unless ``--run_name`` is given). Each run has its own folder:

* ``version_N/``: ``config.yaml`` (the fully resolved recipe), the CSV logs (metrics.csv, hparams.yaml,
  by :class:`zoo.loggers.CSVLogger`; ``--trainer.logger`` selects another logger) and ``checkpoints/``:
  ``last.ckpt`` and the periodic checkpoints of that run only. Every one of these files is written to a
  temporary name and renamed: a crash or a full disk never leaves a truncated file and never damages the
  previous one.
* ``--trainer.fast_dev_run=true`` (a smoke run) writes nothing at all.
* ``--ckpt_path=last`` resumes from ``last.ckpt`` of the latest run of this run name (the highest
  ``version_N`` that has one) and says which file and step; with nothing to resume it stops with an
  error. ``--ckpt_path=FILE`` resumes from that file.
* A resume trains the model configuration of the command: a checkpoint whose ``model`` section
  (network, losses, learning rate, ...) differs from the command's is refused, naming the keys, unless
  ``--allow_config_change`` is given (then the command's configuration is trained from the checkpoint's
  weights). ``trainer``, ``data``, ``seed_everything``, ``--run_name`` and ``--runs_dir`` may change
  (docs/usage.md, "Resuming a run").

User errors (:class:`zoo.errors.ZooError`: unreadable images, empty folders, missing weights, a NaN loss, a
checkpoint of another configuration, bf16 on a CPU without native bf16, several processes on a machine
without GPU, data that gives no batch) and faults of the machine (a read-only or full disk, no memory) end
with a one-line ``error:`` message and exit status 1 (2 for a bad option) instead of a traceback;
``ZOO_DEBUG=1`` shows the traceback. Ctrl-C exits 130 and SIGTERM 143, each with one line, and no temporary
file is left. Anything else is a bug: its traceback, and a line asking to report it.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import Terminated, ZooError, report_bug, terminate_as_exception
from .fitargs import null_overrides, parse_error_line, take_flag, take_option
from .fiterrors import section_of, user_message, zoo_error_in
from .runs import (LAST, config_changes, find_last_checkpoint, flatten, folders, remove_new_empty_folders,
                   remove_unfinished_writes)

__all__ = ["main", "cpu_has_native_bf16", "find_last_checkpoint", "configure_lightning_logging"]

USAGE = "usage: python -m zoo.fit RECIPE[.yaml] [--run_name=NAME] [--runs_dir=DIR] [--section.key=value ...]"


class FitError(ZooError, RuntimeError):
    """A run that cannot start or did nothing; the message is the one line shown to the user."""


class PrecisionError(FitError):
    """A precision this machine cannot run sensibly."""


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (x86 AVX512-BF16/AMX-BF16, Arm BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_bf16", "amx_bf16", "bf16"))


def debug() -> bool:
    """``ZOO_DEBUG=1``: show tracebacks instead of one-line errors."""
    return os.environ.get("ZOO_DEBUG", "").strip().lower() not in ("", "0", "false", "no")


def configure_lightning_logging(verbose: bool = True) -> None:
    """Lightning's INFO lines once each (its ``lightning`` logger has its own handler and would also
    propagate to a configured root logger) and without its advertising tips, or none at all when not
    ``verbose``."""
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        if logger.handlers:
            logger.propagate = False
        for handler in logger.handlers:
            if _no_tips not in handler.filters:
                handler.addFilter(_no_tips)
        if not verbose:
            logger.setLevel(logging.ERROR)


def _no_tips(record: logging.LogRecord) -> bool:
    """False for Lightning's "💡 Tip: ... try installing litlogger / litmodels" lines."""
    return "Tip: For seamless" not in str(record.msg)


def quiet_known_warnings() -> None:
    """Silence Lightning warnings that are expected here and would only confuse users."""
    import warnings

    # We pass the recipe to LightningCLI through ``args`` on purpose.
    warnings.filterwarnings("ignore", message=".*LightningCLI's args parameter is intended")
    # The frozen VGG encoder is in eval mode by design.
    warnings.filterwarnings("ignore", message=".*module\\(s\\) in eval mode at the start of training")
    # A resumed run writes its checkpoints into its own version folder, not the folder it resumes from.
    warnings.filterwarnings("ignore", message=".*The dirpath has changed from")
    # Lightning's SaveConfigCallback still passes jsonargparse's deprecated skip_none (Lightning 2.6).
    warnings.filterwarnings("ignore", message=r"\s*skip_none parameter was deprecated")
    # Lightning 2.6 with torch 2.14: Lightning's own use of a torch.utils._pytree name torch deprecated.
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")


# ------------------------------------------------------------------------------------------ runs
def _checkpoint_position(path: Path) -> tuple[int, int]:
    """(epoch, global step) recorded in a Lightning checkpoint."""
    from .checkpoint import load_torch_file

    try:
        ckpt = load_torch_file(path, mmap=True)
    except ValueError as e:
        raise FitError(f"--ckpt_path={e}") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("global_step"), int):
        raise FitError(f"--ckpt_path={path}: not a Lightning checkpoint (it has no global_step)")
    return int(ckpt.get("epoch", 0)), ckpt["global_step"]


def _is_main_process() -> bool:
    """False in the worker processes DDP starts by re-running this command."""
    return os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0"


def _build_cli_class(run_root: Path, allow_config_change: bool = False):
    from lightning.pytorch import LightningDataModule, LightningModule
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
    from lightning.pytorch.plugins.io import TorchCheckpointIO

    from .fileio import WriteError, atomic_path, check_writable, describe_os_error

    class AtomicCheckpointIO(TorchCheckpointIO):
        """Checkpoints are written to a temporary name, synced and renamed (zoo.fileio); a failed write (a
        full disk) is a one-line :class:`zoo.fileio.WriteError` naming the file, not torch's traceback."""

        def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options=None) -> None:
            import torch

            # Through a Python file: a full disk is then an OSError (ENOSPC) naming the file, also when torch
            # reports it as its own RuntimeError ("unexpected pos") with the OSError as its context.
            try:
                with atomic_path(path) as tmp, open(tmp, "wb") as f:
                    torch.save(checkpoint, f)
            except RuntimeError as e:
                cause = e.__cause__ or e.__context__
                if not isinstance(cause, OSError):
                    raise
                raise WriteError(describe_os_error(path, cause), cause.errno) from e

    class ZooSaveConfig(SaveConfigCallback):
        """The resolved recipe in the run's folder, written to a temporary name and renamed (zoo.fileio);
        a smoke run (fast_dev_run) writes nothing."""

        def setup(self, trainer, pl_module, stage: str) -> None:
            if trainer.fast_dev_run:
                return
            save = self.parser.save

            def atomic_save(cfg, path, **kwargs):
                with atomic_path(path) as tmp:
                    save(cfg, str(tmp), **{**kwargs, "overwrite": True})

            self.parser.save = atomic_save
            try:
                super().setup(trainer, pl_module, stage)
            finally:
                vars(self.parser).pop("save", None)

    class ZooCLI(LightningCLI):
        def _parse_ckpt_path(self) -> None:
            """Lightning replaces the model section by the checkpoint's hyper-parameters. Here a checkpoint
            whose model configuration differs from the command's is refused, naming the keys, unless
            ``--allow_config_change`` was given: then the command's configuration is trained from the
            checkpoint's weights."""
            sub = self.config.get("subcommand")
            if not sub or self.config[sub].get("model") is None:
                return super()._parse_ckpt_path()
            ours = self.config[sub]["model"].clone()
            super()._parse_ckpt_path()
            theirs = self.config[sub]["model"]
            changed = config_changes(flatten(theirs), flatten(ours))
            if not changed:
                return
            if not allow_config_change:
                ckpt = self.config[sub].get("ckpt_path")
                shown = "; ".join(f"--model.{k}: checkpoint {a}, this command {b}" for k, a, b in changed[:6])
                more = f" (and {len(changed) - 6} more)" if len(changed) > 6 else ""
                raise FitError(
                    f"--ckpt_path={ckpt} was written with another model configuration: {shown}{more}; resume with "
                    f"the run's options (its config.yaml: {Path(ckpt).parent.parent / 'config.yaml'}), or add "
                    "--allow_config_change to train this command's configuration from the checkpoint's weights")
            self.config[sub]["model"] = ours
            print("--allow_config_change: training this command's model configuration from the checkpoint "
                  f"(changed: {', '.join('model.' + k for k, _, _ in changed)})", file=sys.stderr)

        def before_instantiate_classes(self) -> None:
            cfg = self.config[self.subcommand] if self.subcommand else self.config
            trainer = cfg["trainer"]
            count = _device_count(trainer)
            if count > 1 and str(trainer.get("accelerator", "auto")) == "auto" and not _has_gpu():
                raise FitError(
                    f"--trainer.devices={trainer.get('devices')}: this machine has no GPU, so that would start "
                    f"{count} CPU processes, each with a share of the data (rarely what you want). Use one "
                    "device, or add --trainer.accelerator=cpu to really train on several CPU processes.")
            if not trainer.get("fast_dev_run"):  # a smoke run writes nothing: no folder to check
                check_writable(run_root, "the run folder; choose another with --runs_dir=DIR")
            # GANs with manual optimisation step disjoint parameter sets; DDP has to be told so.
            strategy = trainer.get("strategy")
            ddp = strategy == "ddp" or (strategy == "auto" and count > 1)
            if ddp and _wants_unused_parameters(cfg.get("model")):
                trainer["strategy"] = "ddp_find_unused_parameters_true"

        def instantiate_classes(self) -> None:
            """A recipe value a class refuses (``ValueError`` / ``TypeError`` from the constructor of the model,
            its networks or the data) is the user's to fix: one line naming the section."""
            try:
                super().instantiate_classes()
            except (ValueError, TypeError) as e:
                inner = zoo_error_in(e)
                if inner is not None and inner is not e:
                    raise inner from None  # jsonargparse wraps a class's own error in its union message
                if inner is not None or debug():
                    raise
                line = parse_error_line(str(e))
                raise FitError(line if line.startswith("--") else f"--{section_of(e)}: {line}") from e

        def instantiate_trainer(self, **kwargs):
            trainer = super().instantiate_trainer(**kwargs)
            for cb in trainer.checkpoint_callbacks:
                if isinstance(cb, ModelCheckpoint):
                    # dirpath None: Lightning puts the checkpoints in the logger's version folder,
                    # runs/<name>/version_N/checkpoints, so each run's checkpoints are its own.
                    # A smoke run saves none (Lightning would still write last.ckpt at the end).
                    cb.save_last = False if trainer.fast_dev_run else (True if cb.save_last is None else cb.save_last)
            if type(trainer.strategy.checkpoint_io) is TorchCheckpointIO:
                trainer.strategy.checkpoint_io = AtomicCheckpointIO()
            _refuse_slow_bf16(trainer)
            return trainer

    return ZooCLI, ZooSaveConfig, LightningModule, LightningDataModule


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available() or (hasattr(torch.backends, "mps") and torch.backends.mps.is_available())


def _device_count(trainer_cfg) -> int:
    """How many processes ``trainer.devices`` x ``trainer.num_nodes`` asks for (``auto`` counts GPUs)."""
    import torch

    devices, nodes = trainer_cfg.get("devices", "auto"), int(trainer_cfg.get("num_nodes") or 1)
    accelerator = str(trainer_cfg.get("accelerator", "auto"))
    gpus = torch.cuda.device_count() if accelerator in ("auto", "gpu", "cuda") else 1
    if isinstance(devices, (list, tuple)):
        count = len(devices)
    elif str(devices).strip() in ("auto", "-1"):
        count = max(gpus, 1)
    elif "," in str(devices):
        count = len([d for d in str(devices).split(",") if d.strip()])
    else:
        count = int(devices)
    return count * nodes


def _wants_unused_parameters(model_cfg) -> bool:
    import importlib

    class_path = getattr(model_cfg, "class_path", None) if model_cfg is not None else None
    if not class_path:
        return False
    module, _, name = class_path.rpartition(".")
    try:
        return bool(getattr(getattr(importlib.import_module(module), name), "ddp_find_unused_parameters", False))
    except (ImportError, AttributeError):
        return False


def _refuse_slow_bf16(trainer) -> None:
    precision = str(trainer.precision)
    on_cpu = trainer.strategy.root_device.type == "cpu"
    if "bf16" in precision and on_cpu and not cpu_has_native_bf16() and not os.environ.get("ZOO_ALLOW_SLOW_BF16"):
        raise PrecisionError(
            f"--trainer.precision={precision} on this CPU, which has no native bf16 support: it would run about "
            "200x slower than 32-bit. Use --trainer.precision=32 on CPU, or a GPU (set ZOO_ALLOW_SLOW_BF16=1 to "
            "force it anyway)."
        )


def _check_progress(trainer, start_step: int, resumed: Path | None) -> None:
    """A run that made no training step did nothing: say why instead of exiting 0."""
    if trainer.fast_dev_run or trainer.interrupted or trainer.global_step > start_step:
        return
    if trainer.num_training_batches == 0:
        loader = trainer.train_dataloader
        size = len(getattr(loader, "dataset", ()) or ()) if loader is not None else 0
        batch = getattr(loader, "batch_size", None)
        raise FitError(
            f"no training batch: the training data has {size} item(s) for {trainer.world_size} process(es) "
            f"with batch size {batch} (incomplete batches are dropped); use more images, a smaller "
            "--data.batch_size or fewer --trainer.devices")
    if resumed is not None:
        raise FitError(
            f"nothing to train: {resumed} is already at step {start_step} (epoch {trainer.current_epoch}); raise "
            "--trainer.max_steps or --trainer.max_epochs to continue")
    raise FitError("no training step ran (see the messages above); check --trainer.max_steps, --trainer.max_epochs "
                   "and --trainer.limit_train_batches")


# ------------------------------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") and len(args) == 1:
        print(USAGE)
        print(__doc__)
        return 0 if args else 2
    from .extras import MissingExtraError, require

    try:  # the training packages come with the [train] extra: without them, one line naming it
        require("lightning", "train"), require("jsonargparse", "train")
    except MissingExtraError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    context: dict[str, Any] = {}
    restore = terminate_as_exception()
    done = False
    try:
        status = _main(args, context)
        done = status == 0
        return status
    except (KeyboardInterrupt, Terminated) as e:
        return _interrupted(e, context)
    except SystemExit as e:  # Lightning ends a run interrupted by Ctrl-C with sys.exit(1)
        if isinstance(e.__context__, (KeyboardInterrupt, Terminated)):
            return _interrupted(e.__context__, context)
        raise
    except Exception as e:  # noqa: BLE001 - a user's mistake becomes one line; a bug keeps its traceback
        message = user_message(e, context.get("ckpt_path"))
        if debug():
            raise
        if message is None:
            return report_bug(e)
        print(f"error: {message}", file=sys.stderr)
        return 1
    finally:
        restore()
        if not done and context.get("run_root") is not None and _is_main_process():
            remove_new_empty_folders(context["run_root"], context.get("folders_before", set()))


def _interrupted(error: BaseException, context: dict[str, Any]) -> int:
    """Ctrl-C (130) or SIGTERM (143): one line saying what is kept."""
    what = "terminated" if isinstance(error, Terminated) else "interrupted"
    root = context.get("run_root")
    last = find_last_checkpoint(root) if root is not None else None
    hint = f"; the last checkpoint is {last} (continue with --ckpt_path=last)" if last else ""
    print(f"{what}{hint}", file=sys.stderr)
    return 143 if isinstance(error, Terminated) else 130


def _recipe_problem(recipe: Path) -> str | None:
    """Why ``recipe`` is not a recipe (unreadable, not YAML, not a mapping of sections), or None."""
    import yaml

    try:
        data = yaml.safe_load(recipe.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return "not a text file (a recipe is YAML)"
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"not valid YAML{where}: {getattr(e, 'problem', None) or e}"
    if not isinstance(data, dict):
        what = "an empty file" if data is None else f"a {type(data).__name__}"
        return f"a recipe is a mapping of sections (model:, data:, trainer: ...), not {what}"
    return None


def recipe_or_error(given: str, recipe: Path | None, recipes: Callable[[], list[Path]], kind: str) -> Path | None:
    """``recipe`` (the file ``given`` names, or None when it names none) if it is a readable recipe; else None,
    after one line on stderr saying why (``recipes`` lists the installed ones of this ``kind``)."""
    if recipe is None:
        names = ", ".join(r.stem for r in recipes()) or "none installed"
        print(f"error: {given}: no such recipe file or {kind} name (recipes: {names})", file=sys.stderr)
        return None
    problem = _recipe_problem(recipe)
    if problem:
        print(f"error: {recipe}: {problem}", file=sys.stderr)
        return None
    return recipe


def _main(args: list[str], context: dict[str, str]) -> int:
    extra: list[str] = []
    name = "run"
    if not args[0].startswith("-"):
        from .resources import find_recipe, list_recipes

        given = args.pop(0)
        recipe = recipe_or_error(given, Path(given) if Path(given).is_file() else find_recipe(given), list_recipes,
                                 "recipe")
        if recipe is None:
            return 2
        extra, name = ["--config", str(recipe)], recipe.stem
    name = take_option(args, "run_name") or name
    runs = Path(take_option(args, "runs_dir") or "runs")
    run_root = runs / name
    context["run_root"] = run_root
    if _is_main_process():  # what a killed run (SIGKILL) of this name left; never a live run's files
        from .fileio import remove_stale_temporaries

        removed = remove_stale_temporaries(run_root, recursive=True)
        if removed:
            print(f"removed {len(removed)} unfinished write(s) of a killed run: {', '.join(map(str, removed))}",
                  file=sys.stderr)
    context["folders_before"] = folders(run_root) | ({runs} if runs.is_dir() else set())

    allow_config_change = take_flag(args, "allow_config_change")
    ckpt_path = take_option(args, "ckpt_path")
    resumed: Path | None = None
    start_step = 0
    if ckpt_path == "last":
        resumed = find_last_checkpoint(run_root)
        if resumed is None:
            raise FitError(f"--ckpt_path=last: nothing to resume, {run_root} has no earlier run with a checkpoint "
                           f"({run_root}/version_N/checkpoints/{LAST}); start without --ckpt_path, or give a file")
    elif ckpt_path is not None and ckpt_path not in ("null", "best", "hpc") and not ckpt_path.startswith("registry"):
        resumed = Path(ckpt_path)  # Lightning's other keywords are passed on as they are
        if not resumed.is_file():
            raise FitError(f"--ckpt_path={ckpt_path}: no such checkpoint file")
    if resumed is not None:
        context["ckpt_path"] = str(resumed)
        epoch, start_step = _checkpoint_position(resumed)
        if _is_main_process():
            print(f"resuming from {resumed} (epoch {epoch}, step {start_step})", file=sys.stderr)
            remove_unfinished_writes(resumed)
        args.append(f"--ckpt_path={resumed}")
    elif ckpt_path is not None:
        args.append(f"--ckpt_path={ckpt_path}")

    ZooCLI, ZooSaveConfig, LightningModule, LightningDataModule = _build_cli_class(run_root, allow_config_change)
    quiet_known_warnings()
    configure_lightning_logging()
    from jsonargparse import ArgumentError

    try:
        cli = ZooCLI(
            LightningModule, LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
            args=["fit", *extra, *null_overrides(args)],
            save_config_callback=ZooSaveConfig, save_config_kwargs={"overwrite": True},
            trainer_defaults={
                "default_root_dir": str(run_root),
                "logger": {"class_path": "zoo.loggers.CSVLogger",
                           "init_args": {"save_dir": str(runs), "name": name}},
            },
            parser_kwargs={"exit_on_error": False, "fit": {"default_env": False, "exit_on_error": False}},
        )
    except ArgumentError as e:
        if debug():
            raise
        print(f"error: {parse_error_line(str(e))} (see python -m zoo.fit RECIPE --help)", file=sys.stderr)
        return 2
    if getattr(cli, "trainer", None) is not None:
        _check_progress(cli.trainer, start_step, resumed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
