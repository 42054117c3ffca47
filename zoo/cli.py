"""The ``zoo`` command: stylize, fit, list, export, convert, publish, bench.

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

from .errors import Terminated, ZooError, environment_message, report_bug, terminate_as_exception

__all__ = ["main"]

log = logging.getLogger("zoo")


class UsageError(ZooError, ValueError):
    """Bad command-line input, reported as one line."""


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {value}")
    return value


# ---------------------------------------------------------------------------------------- stylize
def _add_stylize(sub) -> None:
    p = sub.add_parser(
        "stylize", help="stylise images or folders of images",
        description="Stylise INPUT images (files or folders) and write the results to OUT: a file for one "
                    "input image, a folder otherwise.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="content image(s) or folder(s) of images")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file (one input) or folder")
    p.add_argument("--model", "-m", default=None,
                   help="model family or pretrained tag (see `zoo list`); default: the family --weights names "
                        "(an export folder, a checkpoint, a tag), else gatys")
    p.add_argument("--style", nargs="+", default=[], metavar="IMG", help="style image(s)")
    p.add_argument("--style-weights", type=_floats, default=None, metavar="W1,W2",
                   help="blend weights of several styles, e.g. 0.3,0.7")
    p.add_argument("--weights", default=None,
                   help="checkpoint (.ckpt, .safetensors, export folder), pretrained tag, or random (an untrained "
                        "network and VGG: the smoke run of every model, nothing downloaded)")
    p.add_argument("--size", type=_size, default=None, help="long edge of the output in pixels (default: input's)")
    p.add_argument("--steps", type=_size, default=None, help="optimisation steps (gatys; default 500)")
    p.add_argument("--scales", type=_floats, default=None, metavar="S1,S2,..",
                   help="coarse-to-fine schedule as fractions of --size, ending with 1 (gatys), e.g. 0.25,0.5,1")
    p.add_argument("--preserve-color", nargs="?", const="luminance", default=None,
                   choices=["luminance", "histogram", "coral"],
                   help="keep the content's colours: luminance (default when given alone: the output takes the "
                        "content's chrominance), histogram (the style is colour-matched to the content first, "
                        "Gatys et al. 2016b) or coral (adain: pytorch-AdaIN's --preserve_color)")
    p.add_argument("--alpha", type=float, default=1.0, help="content-style trade-off in [0, 1] (adain)")
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"], help="translation direction (cyclegan)")
    p.add_argument("--tile", type=_size, default=None, help="tiled inference with N-pixel tiles (bounded memory)")
    p.add_argument("--masks", nargs="+", default=None, metavar="MASK",
                   help="one region mask per style image (adain, gatys; gatys also takes CONTENT_MASK:STYLE_MASK, "
                        "a region of the style image)")
    p.add_argument("--backbone-weights", default=None, metavar="{imagenet,timm,caffe,none,PATH}",
                   help="VGG weights (default: the model's own); 'none' = random, for smoke tests only")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--max-pixels", type=_size, default=None, help="refuse inputs with more pixels than this")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    from .video import add_video_arguments  # video hook: --temporal, --flow, ... (zoo/video.py)

    add_video_arguments(p)
    p.set_defaults(func=_cmd_stylize)


def _collect_inputs(inputs: Sequence[str], output: Path) -> tuple[list[tuple[Path, Path]], bool]:
    """[(image path, path relative to its input root)], and whether any input was a folder. Images inside
    ``output`` (an output folder inside an input folder) are never inputs: a second run would stylise
    its own results."""
    from .io import list_images

    out = output.resolve()
    items: list[tuple[Path, Path]] = []
    folder = False
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            folder = True
            found = [f for f in list_images(path) if out not in f.resolve().parents]
            if not found:
                log.warning("%s: no images found", path)
            items += [(f, f.relative_to(path)) for f in found]
        else:
            items.append((path, Path(path.name)))
    return items, folder


def _remove_leftovers(folder: Path, recursive: bool = False) -> None:
    """The temporaries a killed run (SIGKILL, power loss) left where this run writes (never a live run's)."""
    from .fileio import remove_stale_temporaries

    removed = remove_stale_temporaries(folder, recursive=recursive)
    if removed:
        log.info("removed %d unfinished file(s) of a killed run: %s", len(removed), ", ".join(map(str, removed)))


def _output_path(out: Path, rel: Path, to_folder: bool) -> Path:
    if not to_folder:
        return out
    from .io import SAVE_FORMATS

    suffix = rel.suffix.lower() if rel.suffix.lower() in SAVE_FORMATS else ".png"
    return (out / rel).with_suffix(suffix)


def _cmd_stylize(args: argparse.Namespace) -> int:
    from .fileio import DISK_ERRNOS, check_writable
    from .io import (SAVE_FORMATS, ImageReadError, ImageWriteError, load_image, long_edge_size, resize_long_edge,
                     save_image)
    from .stylize import OptionError, StylizeOptions, build_stylizer, check_output_size, check_styles, model_for

    args.model = model_for(args.model, args.weights)  # an export folder or checkpoint names its family
    # -- video hook: a video file, or a folder of frames as one clip, goes to zoo/video.py --
    from .video import run_cli as stylize_clip

    status = stylize_clip(args)
    if status is not None:
        return status
    # -- end of the video hook --
    out = Path(args.output)
    for raw in args.inputs:  # never write over the input
        if Path(raw).exists() and out.exists() and Path(raw).resolve() == out.resolve():
            raise UsageError(f"-o/--output {out}: this is the input {'folder' if out.is_dir() else 'image'}; write "
                             "the results elsewhere")
    items, had_folder = _collect_inputs(args.inputs, out)
    if not items:
        raise UsageError("no input images")
    to_folder = had_folder or len(items) > 1 or out.is_dir()
    if to_folder and out.exists() and not out.is_dir():
        raise UsageError(f"{out}: several inputs need an output folder, but this is a file")
    if not to_folder and out.exists() and not args.overwrite:
        raise UsageError(f"{out}: file exists; pass --overwrite to replace it")
    if not to_folder and out.suffix.lower() not in SAVE_FORMATS:  # before any work, not after it
        raise UsageError(f"{out}: unknown image extension {out.suffix!r}; use one of {', '.join(SAVE_FORMATS)}")
    check_writable(out if to_folder else out.parent, "-o/--output")
    _remove_leftovers(out if to_folder else out.parent, recursive=to_folder)

    styles = [load_image(s, args.max_pixels) for s in args.style]
    opts = StylizeOptions(
        model=args.model, weights=args.weights, style_weights=args.style_weights, size=args.size,
        steps=args.steps, scales=args.scales, preserve_color=args.preserve_color,
        backbone_weights=args.backbone_weights, device=args.device, seed=args.seed, alpha=args.alpha,
        direction=args.direction, tile=args.tile, masks=args.masks,
        progress=not args.quiet and not to_folder,  # in folder mode one bar counts the images
    )
    first = load_image(items[0][0], args.max_pixels) if not to_folder else None
    if first is not None:  # one image: its size is checked before the model is built
        check_output_size(opts, *long_edge_size(*first.shape[-2:], args.size), args.max_pixels)
    stylizer = build_stylizer(opts)
    check_styles(args.model, stylizer, len(styles), args.style_weights, args.masks)

    written, skipped, failed = 0, 0, 0  # skipped: the output exists; failed: the input could not be done
    iterator = items
    if to_folder and not args.quiet:
        from tqdm.auto import tqdm

        iterator = tqdm(items, desc="stylize", unit="img")
    for src, rel in iterator:
        dst = _output_path(out, rel, to_folder)
        if to_folder and dst.exists() and not args.overwrite:
            log.warning("skipping %s: %s exists (pass --overwrite to replace it)", src, dst)
            skipped += 1
            continue
        try:
            content = first if first is not None else load_image(src, args.max_pixels)
            check_output_size(opts, *long_edge_size(*content.shape[-2:], args.size), args.max_pixels)
            result = stylizer(resize_long_edge(content, args.size), styles)
        except ImageReadError as e:
            if not to_folder:
                raise
            log.warning("skipping %s", e)
            failed += 1
            continue
        except OptionError as e:  # this picture cannot work with these options (its size)
            if not to_folder:
                raise OptionError(f"{src}: {e}") from None
            log.warning("skipping %s: %s", src, e)
            failed += 1
            continue
        try:
            save_image(result, dst, overwrite=args.overwrite)
        except ImageWriteError as e:
            if not to_folder:
                raise
            if e.errno in DISK_ERRNOS:  # a full or read-only disk: every later picture would fail too
                raise UsageError(f"{e}; {written} of {len(items)} image(s) written to {out} before it") from None
            log.warning("skipping: %s", e)
            failed += 1
            continue
        written += 1
    if not to_folder:
        print(f"wrote {out}")
        return 0
    exists = f", {skipped} already there (pass --overwrite to replace them)" if skipped else ""
    if failed:  # not all that was asked was done: say how much, exit non-zero
        raise UsageError(f"{written} of {len(items)} image(s) written to {out}{exists}, {failed} failed (see the "
                         "warnings above)")
    print(f"{written} image(s) written to {out}{exists}")
    return 0


# ---------------------------------------------------------------------------------------- list
def _add_list(sub) -> None:
    p = sub.add_parser("list", help="list models, losses and recipes")
    p.add_argument("--pretrained", action="store_true",
                   help="list the pretrained tags: source, licence, metrics, published or not, cached or not")
    p.set_defaults(func=_cmd_list)


def recipes_dir() -> Path:
    from .resources import recipes_dir

    return recipes_dir()


def _cmd_list(args: argparse.Namespace) -> int:
    from . import guided, losses  # noqa: F401 -- every loss registered, guided_gram included
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
    from .families import resolve
    from .loading import load_trained
    from .stylize import StylizeOptions, reject_options

    resolved = resolve(model)
    family, weights = resolved.family, weights or resolved.weights
    if not family.loads_networks:
        with_loader = [f.name for f in _families() if f.loads_networks]
        raise UsageError(f"model {model!r} has no trained network to load ({', '.join(with_loader)} do)")
    reject_options(StylizeOptions(model=model, **options), model,
                   *(n for n in options if n not in family.loader_options))
    if not weights:
        raise UsageError(f"--weights is required for model {model!r}")
    return load_trained(family, weights, **{n: v for n, v in options.items() if n in family.loader_options})


def _families():
    from .families import FAMILIES

    return [FAMILIES.get(n) for n in FAMILIES.names()]


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="export a feed-forward network to ONNX or TorchScript",
                       description="Export a trained network of a family that has one (dynamic H and W; adain "
                                   "takes a content and a style image).")
    p.add_argument("--model", "-m", required=True,
                   help="family (" + ", ".join(f.name for f in _families() if f.loads_networks) + ") or pretrained tag")
    p.add_argument("--weights", default=None, help="checkpoint (.ckpt, .safetensors, folder, .pth) or tag")
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"], help="cyclegan generator to export")
    p.add_argument("--format", default="onnx", choices=["onnx", "torchscript"])
    p.add_argument("-o", "--output", required=True, help="output file (.onnx / .pt)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_model

    out = Path(args.output)
    _remove_leftovers(out.parent)
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out}: file exists; pass --overwrite to replace it")
    net = _load_net(args.model, args.weights, direction=args.direction)
    export_model(net.eval(), args.format, out)  # AdaIN: inputs content and style (zoo.export)
    print(f"wrote {out}")
    return 0


def _add_convert(sub) -> None:
    with_converters = [f for f in _families() if f.converters and f.loads_networks]
    p = sub.add_parser(
        "convert", help="convert a canonical published checkpoint to a safetensors export folder",
        description="Convert a canonical published checkpoint (pytorch/examples fast_neural_style .pth for johnson, "
                    "an official CycleGAN latest_net_G.pth for cyclegan, pytorch-AdaIN decoder.pth for adain, a "
                    "bryandlee/animegan2-pytorch .pt such as paprika.pt for animeganv2) into "
                    "model.safetensors + config.json + README.md, loadable with zoo.create_model(FAMILY, "
                    "pretrained=DIR) and --weights DIR. Files are read with torch.load(weights_only=True).")
    p.add_argument("checkpoint", help="the published .pth file")
    p.add_argument("--model", "-m", required=True, metavar="{" + ",".join(f.name for f in with_converters) + "}",
                   help="the family of the checkpoint")
    p.add_argument("--backbone-weights", default=None, help="adain: encoder weight source (default caffe)")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.set_defaults(func=_cmd_convert)


def _cmd_convert(args: argparse.Namespace) -> int:
    from .families import resolve
    from .publish import export_for_hub

    out = Path(args.output)
    family = resolve(args.model).family
    if not (family.converters and family.loads_networks):
        raise UsageError(f"--model {args.model}: family {family.name!r} has no converter of published checkpoints")
    _remove_leftovers(out)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out}: folder exists and is not empty")
    net = _load_net(family.name, args.checkpoint, backbone_weights=args.backbone_weights)
    export_for_hub(net, out, architecture=family.name)
    print(f"wrote {out}")
    return 0


def _add_publish(sub) -> None:
    p = sub.add_parser("publish", help="export a trained network and upload it to the Hugging Face Hub",
                       description="Export the inference network of CHECKPOINT (model.safetensors, config.json, "
                                   "model card) and upload it; --dry-run DIR only writes the folder.")
    add_publish_arguments(p)
    p.set_defaults(func=_cmd_publish)


def _cmd_publish(args: argparse.Namespace) -> int:
    publish_from_args(args)
    return 0


def add_publish_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The flags of ``zoo publish``."""
    parser.add_argument("checkpoint", help="Lightning .ckpt, or an export folder / .safetensors to re-publish")
    parser.add_argument("--repo-id", required=True, help="Hub repository, owner/name")
    parser.add_argument("--dry-run", metavar="DIR", default=None,
                        help="write the folder that would be uploaded to DIR and upload nothing")
    parser.add_argument("--tag", default=None, help="weights-table tag for the model card (licence, data, metrics)")
    parser.add_argument("--variant", default=None, help="variant class path, for checkpoints that do not record it")
    parser.add_argument("--arch", default=None, help="architecture name in zoo.registry.MODELS (with --prefix)")
    parser.add_argument("--prefix", default=None, help="state-dict prefix of the network, e.g. net.")
    parser.add_argument("--licence", "--license", dest="licence", default=None, help="licence id for the card")
    parser.add_argument("--private", action="store_true", default=None, help="create the repository private")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or `hf auth login`)")
    parser.add_argument("--message", default=None, help="commit message")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier export in the --dry-run folder")
    return parser


def publish_from_args(args: argparse.Namespace):
    """Run ``zoo publish`` from parsed :func:`add_publish_arguments` flags and print what was done."""
    from .publish import EXPORT_FILES, publish

    if args.dry_run:
        _remove_leftovers(Path(args.dry_run))

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


def _add_bench(sub) -> None:
    sub.add_parser("bench", help="FID / LPIPS / ArtFID benchmark: every option of python -m benchmarks.run "
                                 "(zoo bench --help)", add_help=False)


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
def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo", help="a web page to stylise pictures in the browser (needs the demo extra)",
        description="Serve a web page on HOST:PORT: upload a photo, pick a model, set its options, download the "
                    "result. Requests run one at a time and queue. Smoke run without downloads: "
                    "zoo demo --weights random. See docs/demo.md.")
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine "
                                                       "only; 0.0.0.0 opens the page to the network)")
    p.add_argument("--port", type=_port, default=7860, help="port, 1 to 65535 (default 7860)")
    p.add_argument("--weights", action="append", default=None, metavar="[MODEL=]W",
                   help="weights of the families that take them, as zoo stylize --weights (random: untrained, "
                        "smoke runs only); MODEL=W for one model; repeatable")
    p.add_argument("--backbone-weights", default=None, metavar="{imagenet,timm,caffe,none,PATH}",
                   help="VGG weights of gatys and adain (default: the model's own); 'none' = random, smoke runs")
    p.add_argument("--max-size", type=_size, default=1024,
                   help="largest long edge of a result, in pixels (default 1024)")
    p.add_argument("--max-pixels", type=_size, default=None, help="refuse uploads with more pixels than this")
    p.add_argument("--queue", type=int, default=8, help="requests that may wait while one runs (default 8)")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1, ...")
    p.set_defaults(func=_cmd_demo)


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
def _add_fit(sub) -> None:
    sub.add_parser("fit", help="train from a recipe: every option of python -m zoo.fit (zoo fit --help)",
                   add_help=False)


def _cmd_fit(rest: list[str]) -> int:
    from .fit import main as fit_main  # without the [train] extra: one line naming it

    return int(fit_main(rest) or 0)


def _cmd_stylize_dataset(rest: list[str]) -> int:
    from .stylize_dataset import main as dataset_main  # Lightning: imported only here

    return int(dataset_main(rest) or 0)


# Subcommands that hand all their arguments to another program's parser (--help included).
PASSTHROUGH = {"fit": _cmd_fit, "bench": _cmd_bench, "stylize-dataset": _cmd_stylize_dataset}


# ---------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="Stylezoo: neural style transfer models.")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show library logs and full tracebacks (ZOO_DEBUG=1 shows tracebacks too)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_stylize(sub)
    _add_fit(sub)
    sub.add_parser("stylize-dataset", add_help=False, help="stylise a whole dataset on Lightning, on N devices and K "
                   "nodes, resumable: every option of python -m zoo.stylize_dataset")
    _add_list(sub)
    _add_export(sub)
    _add_convert(sub)
    _add_publish(sub)
    _add_bench(sub)
    _add_demo(sub)
    return parser


def _error_line(error: BaseException) -> str | None:
    """One line for a user error (:class:`zoo.errors.ZooError`) or an environment fault (a full or read-only
    disk, a missing file, no memory); None for a bug."""
    from .families import FAMILIES

    tiled = [n for n in FAMILIES.names() if "tile" in FAMILIES.get(n).supports]
    return environment_message(error, f"out of memory: use a smaller --size (or --tile N for {', '.join(tiled)})")


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
        return int(args.func(args) or 0)
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
