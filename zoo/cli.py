"""The ``zoo`` command: stylize, fit, list (and the subcommands the other parts of the zoo add).

Exit status 0 on success; otherwise a one-line ``error:`` message on stderr and a non-zero status.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import Sequence

__all__ = ["main"]

log = logging.getLogger("zoo")


class UsageError(ValueError):
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


# ---------------------------------------------------------------------------------------- stylize
def _add_stylize(sub) -> None:
    p = sub.add_parser(
        "stylize", help="stylise images or folders of images",
        description="Stylise INPUT images (files or folders) and write the results to OUT: a file for one "
                    "input image, a folder otherwise.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="content image(s) or folder(s) of images")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file (one input) or folder")
    p.add_argument("--model", "-m", default="gatys", help="model family or pretrained tag (see `zoo list`)")
    p.add_argument("--style", nargs="+", default=[], metavar="IMG", help="style image(s)")
    p.add_argument("--style-weights", type=_floats, default=None, metavar="W1,W2",
                   help="blend weights of several styles, e.g. 0.3,0.7")
    p.add_argument("--weights", default=None, help="checkpoint (.ckpt, .safetensors, folder) or pretrained tag")
    p.add_argument("--size", type=_size, default=None, help="long edge of the output in pixels (default: input's)")
    p.add_argument("--steps", type=_size, default=None, help="optimisation steps (gatys; default 500)")
    p.add_argument("--scales", type=_floats, default=None, metavar="S1,S2,..",
                   help="coarse-to-fine schedule as fractions of --size, ending with 1 (gatys), e.g. 0.25,0.5,1")
    p.add_argument("--preserve-color", nargs="?", const="luminance", default=None,
                   choices=["luminance", "histogram"],
                   help="keep the content's colours: luminance (default when given alone) or histogram")
    p.add_argument("--alpha", type=float, default=1.0, help="content-style trade-off in [0, 1] (adain_gan)")
    p.add_argument("--direction", default="AtoB", choices=["AtoB", "BtoA"], help="translation direction (cyclegan)")
    p.add_argument("--tile", type=_size, default=None, help="tiled inference with N-pixel tiles (bounded memory)")
    p.add_argument("--masks", nargs="+", default=None, metavar="MASK", help="one region mask per style (adain_gan)")
    p.add_argument("--backbone-weights", default=None, metavar="{imagenet,timm,caffe,none,PATH}",
                   help="VGG weights (default: the model's own); 'none' = random, for smoke tests only")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1, ...")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--max-pixels", type=_size, default=None, help="refuse inputs with more pixels than this")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_stylize)


def _collect_inputs(inputs: Sequence[str]) -> tuple[list[tuple[Path, Path]], bool]:
    """[(image path, path relative to its input root)], and whether any input was a folder."""
    from .io import list_images

    items: list[tuple[Path, Path]] = []
    folder = False
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            folder = True
            found = list_images(path)
            if not found:
                log.warning("%s: no images found", path)
            items += [(f, f.relative_to(path)) for f in found]
        else:
            items.append((path, Path(path.name)))
    return items, folder


def _output_path(out: Path, rel: Path, to_folder: bool) -> Path:
    if not to_folder:
        return out
    from .io import _SAVE_FORMATS

    suffix = rel.suffix.lower() if rel.suffix.lower() in _SAVE_FORMATS else ".png"
    return (out / rel).with_suffix(suffix)


def _cmd_stylize(args: argparse.Namespace) -> int:
    from .io import ImageReadError, ImageWriteError, load_image, save_image
    from .stylize import StylizeOptions, build_stylizer

    items, had_folder = _collect_inputs(args.inputs)
    if not items:
        raise UsageError("no input images")
    out = Path(args.output)
    to_folder = had_folder or len(items) > 1 or out.is_dir()
    if to_folder and out.exists() and not out.is_dir():
        raise UsageError(f"{out}: several inputs need an output folder, but this is a file")
    if not to_folder and out.exists() and not args.overwrite:
        raise UsageError(f"{out}: file exists; pass --overwrite to replace it")

    styles = [load_image(s, args.max_pixels) for s in args.style]
    opts = StylizeOptions(
        model=args.model, weights=args.weights, style_weights=args.style_weights, size=args.size,
        steps=args.steps, scales=args.scales, preserve_color=args.preserve_color,
        backbone_weights=args.backbone_weights, device=args.device, seed=args.seed, alpha=args.alpha,
        direction=args.direction, tile=args.tile, masks=args.masks,
        progress=not args.quiet and not to_folder,  # in folder mode one bar counts the images
    )
    stylizer = build_stylizer(opts)
    if stylizer.needs_style and not styles:
        raise UsageError(f"model {args.model!r} needs at least one --style image")
    if not stylizer.needs_style and styles:
        raise UsageError(f"model {args.model!r} does not take --style images")
    if args.style_weights is not None and len(args.style_weights) != len(styles):
        raise UsageError(f"--style-weights has {len(args.style_weights)} values for {len(styles)} style images")

    from .io import resize_long_edge

    written, skipped = 0, 0
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
            content = load_image(src, args.max_pixels)
        except ImageReadError as e:
            if not to_folder:
                raise
            log.warning("skipping unreadable image: %s", e)
            skipped += 1
            continue
        result = stylizer(resize_long_edge(content, args.size), styles)
        try:
            save_image(result, dst, overwrite=args.overwrite)
        except ImageWriteError as e:
            if not to_folder:
                raise
            log.warning("skipping: %s", e)
            skipped += 1
            continue
        written += 1
    if to_folder:
        print(f"{written} image(s) written to {out}" + (f", {skipped} skipped (see warnings)" if skipped else ""))
    else:
        print(f"wrote {out}")
    return 0 if written else 1


# ---------------------------------------------------------------------------------------- list
def _add_list(sub) -> None:
    p = sub.add_parser("list", help="list models, losses and recipes")
    p.set_defaults(func=_cmd_list)


def recipes_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "recipes"


def _cmd_list(args: argparse.Namespace) -> int:
    from . import list_models
    from .registry import LOSSES, STYLIZERS

    print("models (zoo stylize --model):")
    for name in STYLIZERS.names():
        print(f"  {name}")
    print("networks (zoo.create_model):")
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


# ---------------------------------------------------------------------------------------- fit
def _add_fit(sub) -> None:
    p = sub.add_parser("fit", help="train from a recipe (same as python -m zoo.fit)", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda a: __import__("zoo.fit", fromlist=["main"]).main(a.rest))


# ---------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="Stylezoo: neural style transfer models.")
    parser.add_argument("--verbose", "-v", action="store_true", help="show library logs and full tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_stylize(sub)
    _add_fit(sub)
    _add_list(sub)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    from .backbone import WeightsUnavailableError
    from .data.folder import EmptyFolderError
    from .io import ImageReadError, ImageWriteError
    from .losses import NonFiniteLossError
    from .registry import UnknownNameError

    return (UsageError, ImageReadError, ImageWriteError, EmptyFolderError, WeightsUnavailableError,
            NonFiniteLossError, UnknownNameError, FileNotFoundError, ValueError)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    if not args.verbose:
        for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
            logging.getLogger(name).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore")
    try:
        return int(args.func(args) or 0)
    except _user_errors() as e:
        if args.verbose:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `zoo list | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
