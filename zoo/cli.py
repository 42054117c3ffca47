"""The ``zoo`` command: stylize, fit, list, export, convert, publish, bench, demo -- what each does, and
:func:`main`. The flags are :mod:`zoo.cli_args`' (``zoo stylize``'s generated from :mod:`zoo.options`);
``zoo stylize`` itself is :mod:`zoo.cli_stylize`.

Exit status 0 on success. A user error (:class:`zoo.errors.ZooError`) or a fault of the machine (a full or
read-only disk, a missing file, no memory) is one ``error:`` line on stderr naming the file or option, status 1
(2 for a bad option); a run that did only part of its work (a folder with unreadable pictures, a truncated
clip) says how much and exits 1; Ctrl-C exits 130 (``interrupted``) and SIGTERM 143 (``terminated``), leaving
no temporary file. Anything else is a bug: its traceback, and a line asking to report it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

from .cli_args import UsageError, add_publish_arguments, build_parser, families
from .cli_stylize import cmd_stylize, remove_leftovers
from .errors import Terminated, ZooError, environment_message, report_bug, terminate_as_exception
from .families import resolve
from .loading import load_trained
from .options import StylizeOptions, families_taking
from .stylize import reject_options

__all__ = ["main", "build_parser", "UsageError", "add_publish_arguments", "publish_from_args", "pretrained_rows",
           "format_pretrained_table"]

log = logging.getLogger("zoo")


# ---------------------------------------------------------------------------------------- list
def recipes_dir() -> Path:
    from .resources import recipes_dir

    return recipes_dir()


def _cmd_list(args: argparse.Namespace) -> int:
    from . import losses  # noqa: F401 -- every loss registered (guided_gram included)
    from .factory import list_models
    from .families import FAMILIES
    from .registry import LOSSES

    if args.pretrained:
        print(format_pretrained_table(pretrained_rows()))
        return 0

    print("models (zoo stylize --model; pretrained tags work too, see zoo list --pretrained):")
    for name in FAMILIES.names():
        print(f"  {name:<12} {FAMILIES.get(name).description}")
    print("networks and pretrained tags (zoo.create_model, torch.hub.load):")
    for name in list_models():
        print(f"  {name}")
    print("losses (recipe `losses:` keys):")
    for name in LOSSES.names():
        doc = (LOSSES.get(name).__doc__ or "").strip().splitlines()[0]
        print(f"  {name:<12} {doc}")
    print(f"recipes (python -m zoo.fit RECIPE), in {recipes_dir()}:")
    for recipe in sorted(recipes_dir().glob("*.yaml")):
        print(f"  {recipe.name}")
    return 0


# ---------------------------------------------------------------------------------------- export / convert
def _load_net(model: str, weights: str | None, **options: Any):
    """The trained network of ``model`` (a family or a pretrained tag) from ``weights``, by its family's
    loader. ``options`` (``direction``, ``backbone_weights``) other than their defaults must be ones the
    family's loader takes."""
    resolved = resolve(model)
    family, weights = resolved.family, weights or resolved.weights
    if not family.loads_networks:
        with_loader = [f.name for f in families() if f.loads_networks]
        raise UsageError(f"model {model!r} has no trained network to load ({', '.join(with_loader)} do)")
    reject_options(StylizeOptions(model=model, **options), model,
                   *(n for n in options if n not in family.loader_options))
    if not weights:
        raise UsageError(f"--weights is required for model {model!r}")
    return load_trained(family, weights, **{n: v for n, v in options.items() if n in family.loader_options})


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_model

    out = Path(args.output)
    remove_leftovers(out.parent)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out}: file exists; pass --overwrite to replace it")
    net = _load_net(args.model, args.weights, direction=args.direction)
    export_model(net.eval(), args.format, out)  # AdaIN: inputs content and style (zoo.export)
    print(f"wrote {out}")
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from .publish import export_for_hub

    out = Path(args.output)
    family = resolve(args.model).family
    if not (family.importers and family.loads_networks):
        raise UsageError(f"--model {args.model}: family {family.name!r} reads no reference implementation's "
                         "checkpoint (it declares no importers)")
    remove_leftovers(out)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out}: folder exists and is not empty")
    net = _load_net(family.name, args.checkpoint, backbone_weights=args.backbone_weights)
    export_for_hub(net, out, architecture=family.name)
    print(f"wrote {out}")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    publish_from_args(args)
    return 0


def publish_from_args(args: argparse.Namespace):
    """Run ``zoo publish`` from parsed :func:`add_publish_arguments` flags and print what was done."""
    from .publish import EXPORT_FILES, publish

    if args.dry_run:
        remove_leftovers(Path(args.dry_run))

    res = publish(args.checkpoint, args.repo_id, dry_run_dir=args.dry_run, token=args.token, tag=args.tag,
                  variant=args.variant, architecture=args.arch, prefix=args.prefix, licence=args.licence,
                  private=args.private, commit_message=args.message, overwrite=args.overwrite)
    if res.dry_run:
        print(f"wrote {res.folder} ({', '.join(EXPORT_FILES)}); model.safetensors sha256 {res.sha256}")
    else:
        print(f"uploaded to https://huggingface.co/{res.repo_id} at revision {res.commit}")
        print(f"weights entry: {res.weights_fields()}")
    return res


def pretrained_rows(results_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """:func:`zoo.weights.zoo_table_rows` plus ``status`` (how ``pretrained=True`` is served) and
    ``cached`` (whether that works offline now): the rows of ``zoo list --pretrained``."""
    from .download import cached
    from .weights import get_weights, zoo_table_rows

    rows = zoo_table_rows(results_dir)
    for row in rows:
        e = get_weights(row["tag"])
        if e.published:
            row["status"] = f"hub {e.repo_id}@{e.revision[:7]}"  # type: ignore[index]
        elif e.canonical is not None:
            row["status"] = "canonical, converted on first use"
        else:
            row["status"] = f"not published: python -m zoo.fit {e.recipe}"
        row["cached"] = cached(e)
    return rows


def format_pretrained_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """Plain-text table of :func:`pretrained_rows` for the terminal."""
    header = ("tag", "arch", "licence", "published", "cached", "metrics", "status")
    body = []
    for r in rows:
        metrics = " ".join(f"{k}={v:.4g}" for k, v in sorted(r["metrics"].items())) or "-"
        body.append((r["tag"], r["arch"], r["licence"], "yes" if r["published"] else "no",
                     "yes" if r["cached"] else "no", metrics, r["status"]))
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *body])


def _cmd_bench(rest: list[str]) -> int:
    from .extras import MissingExtraError, require
    from .resources import ResourceMissingError, import_benchmarks

    try:
        require("torchmetrics", "bench")
        bench_main = import_benchmarks("run").main
    except ResourceMissingError as e:
        raise UsageError(f"zoo bench: {e}") from None
    except MissingExtraError as e:
        raise UsageError(str(e)) from None
    return int(bench_main(rest) or 0)


# ---------------------------------------------------------------------------------------- demo
def _cmd_demo(args: argparse.Namespace) -> int:
    from .extras import require

    require("gradio", "demo")
    from .demo import Demo, parse_weights, serve

    demo = Demo(parse_weights(args.weights), args.backbone_weights, args.max_size, args.max_pixels, args.device)
    try:
        serve(demo, args.host, args.port, args.queue)
    except (OSError, OverflowError) as e:  # the port is taken, the address is not this machine's
        reason = str(e).split(". ")[0]
        raise UsageError(f"--host {args.host} --port {args.port}: cannot serve there ({reason})") from None
    return 0


# ---------------------------------------------------------------------------------------- fit
def _cmd_fit(rest: list[str]) -> int:
    from .fit import main as fit_main  # without the [train] extra: one line naming it

    return int(fit_main(rest) or 0)


def _cmd_stylize_dataset(rest: list[str]) -> int:
    from .stylize_dataset import main as dataset_main  # Lightning: imported only here

    return int(dataset_main(rest) or 0)


# Subcommands that hand all their arguments to another program's parser (--help included).
PASSTHROUGH = {"fit": _cmd_fit, "bench": _cmd_bench, "stylize-dataset": _cmd_stylize_dataset}
# The subcommands whose flags build_parser() declares.
COMMANDS = {"stylize": cmd_stylize, "list": _cmd_list, "export": _cmd_export, "convert": _cmd_convert,
            "publish": _cmd_publish, "demo": _cmd_demo}


# ---------------------------------------------------------------------------------------- main
def _error_line(error: BaseException) -> str | None:
    """One line for a user error (:class:`zoo.errors.ZooError`) or an environment fault (a full or read-only
    disk, a missing file, no memory); None for a bug."""
    tiled = ", ".join(families_taking("tile"))
    return environment_message(error, f"out of memory: use a smaller --size (or --tile N for {tiled})")


def _close_progress_bars() -> None:
    """End the line of every progress bar still open (one inside an interrupted generator stays open until
    the generator is collected), so that the ``interrupted`` line is a line of its own."""
    std = sys.modules.get("tqdm.std")
    for bar in list(getattr(getattr(std, "tqdm", None), "_instances", ()) or ()):
        # a bar interrupted while it was being made has printed itself but closes silently: end its line here
        half_made = not hasattr(bar, "last_print_t") and getattr(bar, "sp", None) is not None
        try:
            bar.close()
        except Exception:  # noqa: BLE001 - a bar that cannot close must not hide the interruption
            half_made = True
        if half_made:
            print(file=sys.stderr)


def _split_global(argv: list[str]) -> tuple[list[str], str | None, list[str]]:
    """(options before the subcommand, the subcommand, its arguments)."""
    for i, a in enumerate(argv):
        if not a.startswith("-"):
            return argv[:i], a, argv[i + 1:]
    return argv, None, []


def main(argv: Sequence[str] | None = None) -> int:
    from .families import one_line_warnings
    from .fit import configure_lightning_logging, debug

    argv = list(sys.argv[1:] if argv is None else argv)
    head, command, rest = _split_global(argv)
    if command in PASSTHROUGH:  # `zoo fit ...` is exactly `python -m zoo.fit ...`: its own parser and output
        if build_parser().parse_args([*head, command]).verbose:
            os.environ["ZOO_DEBUG"] = "1"
        try:
            return PASSTHROUGH[command](rest)
        except ZooError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    configure_lightning_logging(args.verbose)
    if not args.verbose:
        warnings.filterwarnings("ignore")
    one_line_warnings()  # deprecated names: one line each, also without --verbose
    restore = terminate_as_exception()
    try:
        return int(COMMANDS[args.command](args) or 0)
    except KeyboardInterrupt:
        _close_progress_bars()
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except SystemExit as e:  # a library that ends a Ctrl-C with sys.exit(1) (Lightning's Trainer)
        if isinstance(e.__context__, (KeyboardInterrupt, Terminated)):
            print("terminated" if isinstance(e.__context__, Terminated) else "interrupted", file=sys.stderr)
            return 143 if isinstance(e.__context__, Terminated) else 130
        raise
    except BrokenPipeError:  # `zoo list | head`
        return 0
    except Exception as e:  # noqa: BLE001 - a user's mistake or the machine's fault is one line; a bug is not
        if args.verbose or debug():
            raise
        line = _error_line(e)
        if line is None:
            return report_bug(e)
        print(f"error: {line}", file=sys.stderr)
        return 1
    finally:
        restore()

if __name__ == "__main__":
    sys.exit(main())
