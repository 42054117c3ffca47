"""``python -m zoo.fit RECIPE [--run_name=NAME] [--section.key=value ...]``: train any variant from a recipe.

A recipe is a LightningCLI config (``model``/``data`` with ``class_path`` and ``init_args``, ``trainer``,
``seed_everything``). Everything Lightning's CLI accepts works: ``--trainer.devices=4``,
``--trainer.strategy=ddp``, ``--trainer.precision=bf16-mixed``, ``--ckpt_path=last``, ``--print_config``.

Runs are kept under ``runs/<run name>/`` (the recipe's file name unless ``--run_name`` is given):

* ``version_N/``: the CSV logs (metrics.csv, hparams.yaml) and ``config.yaml``, the fully resolved
  recipe of that run (``--trainer.logger`` selects another logger, e.g. WandbLogger);
* ``checkpoints/``: ``last.ckpt`` and the periodic checkpoints, shared by the versions so that
  ``--ckpt_path=last`` resumes the latest run after a crash.

User errors (unreadable images, empty folders, missing weights, a NaN loss, bf16 on a CPU without native
bf16) end with a one-line ``error:`` message and exit status 1 instead of a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["main", "cpu_has_native_bf16"]

USAGE = "usage: python -m zoo.fit RECIPE.yaml [--section.key=value ...] (see --help)"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (x86 AVX512-BF16/AMX-BF16, Arm BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_bf16", "amx_bf16", "bf16"))


def _user_errors() -> tuple[type[BaseException], ...]:
    from .backbone import WeightsUnavailableError
    from .data.folder import EmptyFolderError
    from .io import ImageReadError, ImageWriteError
    from .losses import NonFiniteLossError
    from .registry import UnknownNameError

    return (ImageReadError, ImageWriteError, EmptyFolderError, WeightsUnavailableError, NonFiniteLossError,
            PrecisionError, UnknownNameError)


class PrecisionError(RuntimeError):
    """A precision this machine cannot run sensibly."""


def _build_cli_class():
    from lightning.pytorch import LightningDataModule, LightningModule
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.cli import LightningCLI

    class ZooCLI(LightningCLI):
        def before_instantiate_classes(self) -> None:
            # GANs with manual optimisation step disjoint parameter sets; DDP has to be told so.
            cfg = self.config[self.subcommand] if self.subcommand else self.config
            trainer = cfg["trainer"]
            strategy = trainer.get("strategy")
            ddp = strategy == "ddp" or (strategy == "auto" and _device_count(trainer) > 1)
            if ddp and _wants_unused_parameters(cfg.get("model")):
                trainer["strategy"] = "ddp_find_unused_parameters_true"

        def instantiate_trainer(self, **kwargs):
            trainer = super().instantiate_trainer(**kwargs)
            root = Path(trainer.default_root_dir)
            for cb in trainer.checkpoint_callbacks:
                if isinstance(cb, ModelCheckpoint) and cb.dirpath is None:
                    cb.dirpath = str(root / "checkpoints")
                    cb.save_last = True if cb.save_last is None else cb.save_last
            _refuse_slow_bf16(trainer)
            return trainer

    return ZooCLI, LightningModule, LightningDataModule


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


def quiet_known_warnings() -> None:
    """Silence Lightning warnings that are expected here and would only confuse users."""
    import warnings

    # We pass the recipe to LightningCLI through ``args`` on purpose.
    warnings.filterwarnings("ignore", message=".*LightningCLI's args parameter is intended")
    # The frozen VGG encoder is in eval mode by design.
    warnings.filterwarnings("ignore", message=".*module\\(s\\) in eval mode at the start of training")


def _refuse_slow_bf16(trainer) -> None:
    precision = str(trainer.precision)
    on_cpu = trainer.strategy.root_device.type == "cpu"
    if "bf16" in precision and on_cpu and not cpu_has_native_bf16() and not os.environ.get("ZOO_ALLOW_SLOW_BF16"):
        raise PrecisionError(
            f"--trainer.precision={precision} on this CPU, which has no native bf16 support: it would run about "
            "200x slower than 32-bit. Use --trainer.precision=32 on CPU, or a GPU (set ZOO_ALLOW_SLOW_BF16=1 to "
            "force it anyway)."
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") and len(args) == 1:
        print(USAGE)
        print(__doc__)
        return 0 if args else 2
    extra: list[str] = []
    name = "run"
    if not args[0].startswith("-"):
        recipe = Path(args.pop(0))
        if not recipe.is_file():
            print(f"error: {recipe}: no such recipe file", file=sys.stderr)
            return 2
        extra, name = ["--config", str(recipe)], recipe.stem
    for a in list(args):
        if a.startswith("--run_name="):
            name = a.split("=", 1)[1]
            args.remove(a)
    ZooCLI, LightningModule, LightningDataModule = _build_cli_class()
    quiet_known_warnings()
    try:
        ZooCLI(
            LightningModule, LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
            args=["fit", *extra, *args], save_config_kwargs={"overwrite": True},
            trainer_defaults={
                "default_root_dir": str(Path("runs") / name),
                "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger",
                           "init_args": {"save_dir": "runs", "name": name}},
            },
            parser_kwargs={"fit": {"default_env": False}},
        )
    except Exception as e:  # noqa: BLE001 - a user's mistake becomes one line; a bug keeps its traceback
        cause = _user_cause(e)
        if cause is None:
            raise
        print(f"error: {cause}", file=sys.stderr)
        return 1
    return 0


def _user_cause(error: BaseException) -> BaseException | None:
    """The user error behind ``error``: one of ours, or a configuration error raised by a zoo constructor
    (jsonargparse wraps those while instantiating a recipe's classes). None for anything else."""
    seen = set()
    stack = [error]
    while stack:
        e = stack.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, _user_errors()):
            return e
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if isinstance(e, (ValueError, TypeError)) and tb is not None and \
                f"{os.sep}zoo{os.sep}" in tb.tb_frame.f_code.co_filename:
            return e
        stack += [c for c in (e.__cause__, e.__context__) if c is not None]
    return None


if __name__ == "__main__":
    sys.exit(main())
