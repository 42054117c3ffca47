"""``zoo stylize``: the command's dispatch. A clip (a video file, or a folder of frames with ``--temporal`` or a
video output) goes to :func:`zoo.video.stylize_video`; images and folders of images are stylised here, one at a
time, with one stylizer. The flags are :mod:`zoo.options`' declarations (:mod:`zoo.cli_args`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, Sequence

from .cli_args import UsageError
from .fileio import DISK_ERRNOS, check_writable, remove_stale_temporaries
from .io import (SAVE_FORMATS, ImageReadError, ImageWriteError, list_images, load_image, long_edge_size,
                 resize_long_edge, save_image)
from .options import OPTIONS, OptionError, StylizeOptions, video_options_given
from .stylize import build_stylizer, check_output_size, check_styles, model_for
from .video import stylize_video
from .video_io import VIDEO_OUTPUT_EXTENSIONS, is_video

__all__ = ["cmd_stylize", "remove_leftovers"]

log = logging.getLogger("zoo")


def cmd_stylize(args: argparse.Namespace) -> int:
    """``zoo stylize``: a clip to the video engine, images to :func:`_stylize_images`."""
    args.model = model_for(args.model, args.weights)  # an export folder or checkpoint names its family
    inputs = [Path(p) for p in args.inputs]
    videos = [p for p in inputs if is_video(p)]
    clip_folder = (len(inputs) == 1 and inputs[0].is_dir()
                   and (args.temporal or Path(args.output).suffix.lower() in VIDEO_OUTPUT_EXTENSIONS))
    if videos or clip_folder:
        if len(inputs) > 1:
            raise UsageError(f"{videos[0]}: one video at a time (got {len(inputs)} inputs)")
        return _stylize_clip(args, inputs[0])
    given = video_options_given(vars(args))
    if given:
        raise UsageError(f"{', '.join(given)}: for a video file, or a folder of frames with --temporal or a video "
                         "output; the inputs here are images")
    return _stylize_images(args)


def _stylize_values(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`StylizeOptions` fields the command was given (all but ``progress``: the command's own)."""
    return {o.name: getattr(args, o.name) for o in OPTIONS if o.kind == "stylize" and o.cli is not None}


def _stylize_clip(args: argparse.Namespace, src: Path) -> int:
    video = {o.name: getattr(args, o.name) for o in OPTIONS if o.kind == "video"}
    values = _stylize_values(args)
    dst = stylize_video(src, Path(args.output), model=values.pop("model"), styles=list(args.style), **video,
                        overwrite=args.overwrite, progress=not args.quiet, max_pixels=args.max_pixels, **values)
    print(f"wrote {dst}")
    return 0


def _collect_inputs(inputs: Sequence[str], output: Path) -> tuple[list[tuple[Path, Path]], bool]:
    """[(image path, path relative to its input root)], and whether any input was a folder. Images inside
    ``output`` (an output folder inside an input folder) are never inputs: a second run would stylise
    its own results."""
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


def remove_leftovers(folder: Path, recursive: bool = False) -> None:
    """The temporaries a killed run (SIGKILL, power loss) left where this run writes (never a live run's)."""
    removed = remove_stale_temporaries(folder, recursive=recursive)
    if removed:
        log.info("removed %d unfinished file(s) of a killed run: %s", len(removed), ", ".join(map(str, removed)))


def _output_path(out: Path, rel: Path, to_folder: bool) -> Path:
    if not to_folder:
        return out
    suffix = rel.suffix.lower() if rel.suffix.lower() in SAVE_FORMATS else ".png"
    return (out / rel).with_suffix(suffix)


def _stylize_images(args: argparse.Namespace) -> int:
    """Images and folders of images: one file for one input image, a folder otherwise."""
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
    remove_leftovers(out if to_folder else out.parent, recursive=to_folder)

    styles = [load_image(s, args.max_pixels) for s in args.style]
    opts = StylizeOptions(**_stylize_values(args), progress=not args.quiet and not to_folder)  # folders: one bar
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
