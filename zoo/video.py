"""Stylise a video (or a folder of frames) with any model of the zoo, in bounded memory.

A thin layer over :func:`zoo.stylize.build_stylizer`: the stylizer is built once and the frames stream
through it.

* Feed-forward families (johnson, cyclegan, adain) get ``batch_size`` frames per call (default 4 on a
  GPU, 1 on the CPU, where batches are slower per frame at 512 px: see ``docs/video.md``); AdaIN-GAN's
  style statistics are computed once for the whole clip (the style tensors are prepared once, and the
  network caches their codes by identity).
* Iterative stylizers (gatys; any stylizer whose ``__call__`` takes ``init=`` and ``steps=``) start each
  frame from the previous result and run ``later_steps`` (default a fifth of ``--steps``) after the first.
* ``temporal=True`` (``--temporal``) stabilises the result without trained weights: the previous output is
  warped onto the current frame along the optical flow of the input frames (:mod:`zoo.flow`; OpenCV's DIS
  by default) and blended with the current output where that flow is reliable (forward-backward check);
  Gatys also starts from the warped previous result.
* Decoding and encoding are :mod:`zoo.video_io`'s: frames are decoded one at a time and encoded as they come,
  so memory does not grow with the length of the clip; nothing is written unless the whole clip is.

Python API: :func:`stylize_video` (file or frames folder in, file or frames folder out),
:func:`stylize_frames` (any iterable of frames in, an iterator of stylised frames out), :func:`read_frames`.
The options are :mod:`zoo.options`' ``video`` options (declared, and checked, there).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from . import fileio
from .errors import ConfigError
from .io import load_image, resize_long_edge
from .options import DEFAULT_CRF, DEFAULT_TEMPORAL_WEIGHT, LATER_STEPS_FRACTION, check_video_options
from .stylize import StylizeOptions, build_stylizer, check_styles, resolve_device
from .video_io import (VIDEO_EXTENSIONS, VIDEO_OUTPUT_EXTENSIONS, VideoReadError, VideoWriteError, is_video,
                       open_sink, open_source, read_frames)

log = logging.getLogger(__name__)

__all__ = ["stylize_video", "stylize_frames", "read_frames", "is_video", "VideoReadError", "VideoWriteError",
           "VIDEO_EXTENSIONS", "VIDEO_OUTPUT_EXTENSIONS", "DEFAULT_TEMPORAL_WEIGHT"]

DEFAULT_BATCH_SIZE = {"cuda": 4, "cpu": 1}  # per device type; others: 1


# ------------------------------------------------------------------------------------------------ stylising
class _Temporal:
    """The previous output, warped onto the current frame along the input's optical flow, and where to trust it."""

    def __init__(self, estimator, weight: float) -> None:
        self.estimator, self.weight = estimator, float(weight)
        self.prev_in: Tensor | None = None
        self.prev_out: Tensor | None = None

    @torch.no_grad()
    def warped_previous(self, frame: Tensor) -> tuple[Tensor, Tensor] | None:
        """(previous output on ``frame``'s grid, reliability in [0, 1] (N, 1, H, W)), None for the first frame."""
        from .flow import reliable_mask, warp

        if self.prev_in is None:
            return None
        back, fwd = self.estimator(frame, self.prev_in), self.estimator(self.prev_in, frame)
        mask = reliable_mask(back, fwd).float()
        mask = F.avg_pool2d(mask, 3, stride=1, padding=1, count_include_pad=False)  # soft edges, as Ruder et al.
        return warp(self.prev_out, back), mask

    @torch.no_grad()
    def blend(self, frame: Tensor, output: Tensor, previous: tuple[Tensor, Tensor] | None) -> Tensor:
        if previous is not None:
            warped, mask = previous
            if warped.shape != output.shape:
                raise ConfigError(f"the stylizer changed the frame size ({tuple(frame.shape[-2:])} -> "
                                 f"{tuple(output.shape[-2:])}); --temporal needs outputs of the input's size")
            output = output + self.weight * mask * (warped - output)
        self.prev_in, self.prev_out = frame, output
        return output


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning's per-run banners (GPU available, tips, max_steps reached) once per frame are noise."""
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.level, logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _is_iterative(stylizer) -> bool:
    """Stylizers that can start from an image (``init=``) for a number of ``steps=`` (gatys)."""
    try:
        params = inspect.signature(stylizer.__call__).parameters
    except (TypeError, ValueError):
        return False
    return "init" in params and "steps" in params


def _batches(frames: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in frames:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _prepare_styles(styles: Sequence[Tensor | str | os.PathLike], size: int | None, stylizer,
                    max_pixels: int | None = None) -> list[Tensor]:
    """Style images loaded, resized to ``size`` and on the stylizer's device once for the whole clip, so the
    stylizer's own resize / move are no-ops and AdaIN's identity cache computes each style code once."""
    out = []
    for s in styles:
        t = load_image(s, max_pixels) if isinstance(s, (str, os.PathLike)) else s
        t = resize_long_edge(t, size)
        device = getattr(stylizer, "device", None)
        out.append(t.to(device) if isinstance(device, torch.device) else t)
    return out


def _stylize_items(items: Iterable[tuple[Tensor, Any]], stylizer, styles: list[Tensor], size: int | None,
                   batch_size: int, temporal: _Temporal | None,
                   later_steps: int | None) -> Iterator[tuple[Tensor, Any]]:
    """The engine: (frame, tag) pairs in, (stylised frame, tag) out, in order."""
    if _is_iterative(stylizer):
        first = getattr(stylizer, "steps", None)  # the stylizer's own (gatys: --steps or its default)
        later = later_steps or (max(1, first // LATER_STEPS_FRACTION) if first else None)
        previous: Tensor | None = None
        for frame, tag in items:
            x = resize_long_edge(frame, size)
            moved = temporal.warped_previous(x) if temporal is not None else None
            with _quiet_lightning():
                if previous is None:
                    y = stylizer(x, styles)
                else:
                    init = previous if moved is None else moved[1] * moved[0] + (1 - moved[1]) * x
                    y = stylizer(x, styles, init=init, steps=later)
            if temporal is not None:
                y = temporal.blend(x, y, moved)
            previous = y
            yield y, tag
        return
    for batch in _batches(items, batch_size):
        xs = [resize_long_edge(frame, size) for frame, _ in batch]
        if len({tuple(x.shape) for x in xs}) > 1:
            raise ConfigError(f"frames differ in size: {sorted({tuple(x.shape[-2:]) for x in xs})}; a clip has one size")
        ys = stylizer(torch.cat(xs), styles).float().cpu()  # adain returns frames on its device
        for x, y, (_, tag) in zip(xs, ys.split(1), batch):
            if temporal is not None:
                y = temporal.blend(x, y, temporal.warped_previous(x))
            yield y, tag


def _setup(model: str, styles, options: dict, stylizer, temporal: bool, flow: str, temporal_weight: float,
           batch_size: int | None, later_steps: int | None, max_pixels: int | None = None):
    """Options checked (before the slow parts), the stylizer built, the styles prepared, the temporal state
    and the batch size."""
    opts = StylizeOptions(model=model, progress=False, **options)
    check_video_options(batch_size=batch_size, later_steps=later_steps)
    if not temporal and (flow != "dis" or temporal_weight != DEFAULT_TEMPORAL_WEIGHT):
        raise ConfigError("--flow and --temporal-weight only apply with --temporal")
    check_video_options(temporal_weight=temporal_weight)
    temporal_state = None
    if temporal:  # before the (slow) model: a bad --flow or weight is reported at once
        from .flow import build_flow

        estimator = build_flow(flow, resolve_device(opts.device))
        temporal_state = _Temporal(estimator, temporal_weight)
    stylizer = stylizer or build_stylizer(opts)
    prepared = _prepare_styles(styles, opts.size, stylizer, max_pixels)
    check_styles(model, stylizer, len(prepared), opts.style_weights, opts.masks)
    if later_steps is not None and not _is_iterative(stylizer):
        raise ConfigError(f"--later-steps is for optimisation-based models (gatys), not {model!r}")
    if opts.preserve_color == "histogram":  # recolours the styles to each content image: one at a time
        batch_size = 1
    batch = batch_size or DEFAULT_BATCH_SIZE.get(resolve_device(opts.device).type, 1)
    return opts, stylizer, prepared, temporal_state, batch


def stylize_frames(frames: Iterable[Tensor], model: str, styles: Sequence[Tensor | str] = (), *,
                   stylizer=None, temporal: bool = False, flow: str = "dis",
                   temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT, batch_size: int | None = None,
                   later_steps: int | None = None, **options) -> Iterator[Tensor]:
    """Stylise a stream of frames, each (1, 3, H, W) in [0, 1], in order; yields (1, 3, H', W') frames.

    ``model`` and ``options`` are those of :func:`zoo.stylize` (``weights``, ``size``, ``steps``, ...);
    ``stylizer`` (a built stylizer) replaces them. See the module doc for ``temporal``, ``flow``
    (``dis``, ``dis-fast``, ``raft``, ``raft-small``), ``temporal_weight``, ``batch_size`` and ``later_steps``.
    Options are checked and the stylizer built at the call; frames are then read lazily, one batch ahead,
    so a generator of a long clip is never held in memory.
    """
    opts, stylizer, prepared, state, batch = _setup(model, styles, options, stylizer, temporal, flow,
                                                    temporal_weight, batch_size, later_steps)
    items = ((f, None) for f in frames)
    return (y for y, _ in _stylize_items(items, stylizer, prepared, opts.size, batch, state, later_steps))


def stylize_video(src: str | os.PathLike, dst: str | os.PathLike, model: str,
                  styles: Sequence[Tensor | str] = (), *, stylizer=None, temporal: bool = False, flow: str = "dis",
                  temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT, batch_size: int | None = None,
                  later_steps: int | None = None, fps: float | None = None, crf: int = DEFAULT_CRF,
                  overwrite: bool = False, progress: bool = True, max_pixels: int | None = None,
                  **options) -> Path:
    """Stylise the video file or frames folder ``src`` into ``dst`` (a .mp4/.m4v/.mov/.mkv file, or a folder
    of frames); returns ``dst``. ``fps`` is the frame rate of a frames folder (default 25); ``crf`` the
    libx264 quality (0-51, lower is better). Other arguments as :func:`stylize_frames`.

    Raises :class:`VideoReadError` / :class:`VideoWriteError` (one line naming the file) for bad inputs and
    outputs, before any stylisation where possible. Nothing is written unless the whole clip is.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_dir() and not src.exists():
        raise VideoReadError(f"{src}: no such file or folder")
    if fps is not None and not src.is_dir():
        raise ConfigError(f"{src}: --fps is for a folder of frames; a video keeps its own timestamps")
    if overwrite and dst.exists() and dst.resolve() == src.resolve():  # (without overwrite: "file exists")
        raise VideoWriteError(f"{dst}: this is the input; write the result elsewhere")
    for folder in (dst.parent, dst):  # what a killed run (SIGKILL) left where this one writes
        fileio.remove_stale_temporaries(folder)
    source = open_source(src, fps, max_pixels)
    sink = None
    try:
        sink = open_sink(dst, source, overwrite, crf)  # refuses a bad output before the (slow) model is built
        opts, stylizer, prepared, state, batch = _setup(model, styles, options, stylizer, temporal, flow,
                                                        temporal_weight, batch_size, later_steps, max_pixels)
        from tqdm.auto import tqdm

        items = ((frame, (pts, name)) for frame, pts, name in source.frames_with_audio(sink.mux_audio))
        with tqdm(total=source.frames, desc="stylize", unit="frame", dynamic_ncols=True, disable=not progress) as bar:
            for y, (pts, name) in _stylize_items(items, stylizer, prepared, opts.size, batch, state, later_steps):
                sink.write(y, pts, name)
                bar.update(1)
        out = sink.finish()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    finally:
        source.close()
    if getattr(source, "incomplete", None):  # the output is whole but has fewer frames: never silent
        raise VideoReadError(f"{src}: {source.incomplete}; {out} was written with the frames that could be read")
    if source.variable_rate:
        log.warning("%s: variable frame rate; %s", src, "every frame kept its timestamp" if sink.timestamps
                    else "a folder of frames does not keep the timestamps")
    return out
