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
* Decoding and encoding use PyAV (FFmpeg): frames are decoded one at a time and encoded as they come, so
  memory does not grow with the length of the clip. The output keeps every frame's timestamp (so the frame
  rate, constant or variable), the size (odd sizes are padded by one edge row/column: yuv420p needs even
  sizes), the rotation (display matrix) and the audio packets, copied unchanged. It is written under a
  temporary name in the output's folder and renamed when complete; an interrupted or failed run leaves
  nothing behind, and an existing output is only replaced with ``overwrite=True``.

Python API: :func:`stylize_video` (file or frames folder in, file or frames folder out),
:func:`stylize_frames` (any iterable of frames in, an iterator of stylised frames out), :func:`read_frames`.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import math
import os
import re
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import ConfigError, ZooError
from . import fileio
from .extras import require
from .flow import FLOW_METHODS
from .io import IMAGE_EXTENSIONS, SAVE_FORMATS, ImageWriteError, list_images, load_image, resize_long_edge, save_image

log = logging.getLogger(__name__)

__all__ = ["stylize_video", "stylize_frames", "read_frames", "is_video", "VideoReadError", "VideoWriteError",
           "VIDEO_EXTENSIONS", "VIDEO_OUTPUT_EXTENSIONS", "DEFAULT_TEMPORAL_WEIGHT", "add_video_arguments",
           "run_cli"]

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts",
                    ".wmv", ".flv", ".3gp", ".ogv", ".y4m")
# Containers that carry H.264 (libx264, yuv420p) and the usual audio codecs.
VIDEO_OUTPUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv")
DEFAULT_TEMPORAL_WEIGHT = 0.6   # share of the warped previous output where the flow is reliable
DEFAULT_BATCH_SIZE = {"cuda": 4, "cpu": 1}  # per device type; others: 1
DEFAULT_FPS = 25
DEFAULT_CRF = 18                # libx264 constant-quality setting: 18 is close to visually lossless
X264_PRESET = "veryfast"        # ~3x quicker than "medium" at 512 px (the crf sets the quality; files are larger)
LATER_STEPS_FRACTION = 5        # gatys: frames after the first run steps // 5 (from the previous result)


class VideoReadError(ZooError, ValueError):
    """A video or frames folder could not be read. ``str()`` is one line that starts with the path."""


class VideoWriteError(ImageWriteError):
    """A video or frames folder could not be written (exists already, unknown extension, ...)."""


# ------------------------------------------------------------------------------------------------ inputs
def is_video(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a video file: by extension, else (not an image extension) by probing it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return True
    if suffix in IMAGE_EXTENSIONS or not path.is_file():
        return False
    try:
        import av
    except ImportError:  # without the video extra nothing is probed: such a file is read as an image
        return False

    try:
        with av.open(str(path)) as container:
            name = container.format.name
            return bool(container.streams.video) and name != "image2" and not name.endswith("_pipe")
    except (av.FFmpegError, OSError, ValueError):
        return False


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", str(path))]


class _VideoSource:
    """Decodes the first video stream of a file frame by frame; hands its audio packets to ``on_audio``."""

    def __init__(self, path: Path) -> None:
        av = require("av", "video")

        self.path = path
        if not path.exists():
            raise VideoReadError(f"{path}: no such file")
        if path.is_file() and path.stat().st_size == 0:
            raise VideoReadError(f"{path}: empty file")
        try:
            self.container = av.open(str(path))
        except (av.FFmpegError, OSError) as e:
            raise VideoReadError(f"{path}: not a video FFmpeg can read ({_reason(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise VideoReadError(f"{path}: no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.audio = list(self.container.streams.audio)
        skipped = [s.type for s in self.container.streams if s.type not in ("video", "audio")]
        skipped += ["video"] * (len(self.container.streams.video) - 1)
        if skipped:
            log.warning("%s: %d stream(s) not copied (%s); only the first video stream and the audio are",
                        path, len(skipped), ", ".join(sorted(set(skipped))))
        self.time_base: Fraction = self.stream.time_base or Fraction(1, DEFAULT_FPS)
        self.fps: Fraction = self.stream.average_rate or self.stream.guessed_rate or Fraction(DEFAULT_FPS)
        self.announced = self._announced_frames()  # what the header says, to tell a truncated file
        self.frames = self.announced  # for the progress bar: that, or a guess from the container's duration
        if not self.frames and self.container.duration:
            self.frames = max(1, round(self.container.duration / 1_000_000 * float(self.fps)))
        self.display_matrix: list[int] | None = None
        self.colour: dict[str, int] = {}
        self.variable_rate = False
        self.incomplete: str | None = None  # why fewer frames were decoded than the file announces

    def frames_with_audio(self, on_audio: Callable[[Any], None] | None) -> Iterator[tuple[Tensor, int, str]]:
        """(frame (1, 3, H, W) in [0, 1], pts in ``time_base``, name) for each frame, in order."""
        import av

        index, last_pts = 0, None
        lo = hi = None  # the smallest and largest step between timestamps: a variable frame rate if they differ
        streams = [self.stream] + (self.audio if on_audio is not None else [])
        try:
            for packet in self.container.demux(*streams):
                if packet.stream.type == "audio":
                    if packet.size:
                        on_audio(packet)
                    continue
                for frame in packet.decode():
                    if index == 0:
                        self._first_frame(frame)
                    pts = frame.pts if frame.pts is not None else round(index / self.fps / self.time_base)
                    if last_pts is not None:
                        if pts <= last_pts:  # broken timestamps: keep the order, the encoder needs increasing pts
                            pts = last_pts + 1
                        step = pts - last_pts
                        lo, hi = (step, step) if lo is None else (min(lo, step), max(hi, step))
                    last_pts = pts
                    array = frame.to_ndarray(format="rgb24", src_color_range=frame.color_range or None)
                    yield _to_tensor(array), pts, f"frame_{index:06d}.png"
                    index += 1
        except av.FFmpegError as e:
            if index == 0:
                raise VideoReadError(f"{self.path}: no frame could be decoded ({_reason(e)})") from None
            self.incomplete = f"corrupt or truncated after {index} frame(s) ({_reason(e)})"
            return
        if index == 0:
            raise VideoReadError(f"{self.path}: no frame could be decoded (corrupt or truncated file)")
        if lo is not None and hi - lo > 1:
            self.variable_rate = True
        if self.announced and index < 0.9 * self.announced - 1:
            self.incomplete = f"truncated: {index} frame(s) decoded, its header announces about {self.announced}"

    @staticmethod
    def writes(name: str) -> bool:
        """Whether a frames folder written from this clip has a file called ``name``."""
        return re.fullmatch(r"frame_\d{6}\.png", name) is not None

    def _announced_frames(self) -> int | None:
        """The video stream's frame count from the header: its count (mp4, mov, avi), else its own duration
        (stream duration, or Matroska's DURATION tag, which is the end time) times the frame rate."""
        s = self.stream
        if s.frames:
            return s.frames
        if s.duration and s.time_base:
            return round(s.duration * s.time_base * self.fps)
        tag = re.fullmatch(r"(\d+):(\d+):(\d+(?:\.\d+)?)", s.metadata.get("DURATION", ""))
        if tag is None:
            return None
        end = int(tag[1]) * 3600 + int(tag[2]) * 60 + float(tag[3])
        start = float(s.start_time * s.time_base) if s.start_time and s.time_base else 0.0
        return round((end - start) * float(self.fps))

    def _first_frame(self, frame) -> None:
        side = frame.side_data.get("DISPLAYMATRIX") if len(frame.side_data) else None
        if side is not None:
            self.display_matrix = np.frombuffer(bytes(side), dtype="<i4").tolist()
        for key in ("colorspace", "color_primaries", "color_trc"):
            value = int(getattr(frame, key) or 0)
            if value not in (0, 2):  # 2 = unspecified
                self.colour[key] = value

    def close(self) -> None:
        self.container.close()


class _FramesSource:
    """The images of a folder (not recursive), in natural order (frame2 before frame10), as one clip."""

    def __init__(self, folder: Path, fps: float | None, max_pixels: int | None = None) -> None:
        self.path, self.max_pixels = folder, max_pixels
        self.files = sorted(list_images(folder, recursive=False), key=_natural_key)
        if not self.files:
            raise VideoReadError(f"{folder}: no frames (no images directly in this folder)")
        if fps is not None and not (math.isfinite(fps) and fps > 0):  # 0 is a value, not "the default"
            raise ConfigError(f"--fps {fps:g}: must be a positive number of frames per second")
        self.fps = Fraction(str(DEFAULT_FPS if fps is None else fps)).limit_denominator(100_000)
        if self.fps <= 0:
            raise ConfigError(f"--fps {fps:g}: too small; give at least 0.00001 frames per second")
        self.time_base = 1 / self.fps
        self.frames = len(self.files)
        self.audio: list = []
        self.display_matrix = None
        self.colour = {"colorspace": 1, "color_primaries": 1, "color_trc": 1}  # sRGB frames: tag BT.709
        self.variable_rate = False

    @staticmethod
    def _name(file: Path) -> str:
        """The output name of a frame: its own, as .png if Pillow cannot write its format."""
        return file.name if file.suffix.lower() in SAVE_FORMATS else file.with_suffix(".png").name

    def writes(self, name: str) -> bool:
        """Whether a frames folder written from this clip has a file called ``name``."""
        return name in {self._name(f) for f in self.files}

    def frames_with_audio(self, on_audio=None) -> Iterator[tuple[Tensor, int, str]]:
        for index, file in enumerate(self.files):
            yield load_image(file, self.max_pixels), index, self._name(file)

    def close(self) -> None:
        pass


def _open_source(src: Path, fps: float | None, max_pixels: int | None = None):
    if src.is_dir():
        return _FramesSource(src, fps, max_pixels)
    return _VideoSource(src)


def read_frames(src: str | os.PathLike) -> Iterator[Tensor]:
    """The frames of a video file or frames folder, one (1, 3, H, W) float tensor in [0, 1] at a time."""
    source = _open_source(Path(src), None)
    try:
        for frame, _, _ in source.frames_with_audio(None):
            yield frame
    finally:
        source.close()


def _to_tensor(array: np.ndarray) -> Tensor:
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).float().div_(255).contiguous()


def _reason(e: BaseException) -> str:
    """FFmpeg's reason for an error, on one line (without the errno and file name PyAV adds)."""
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return str(text).splitlines()[0]


# ------------------------------------------------------------------------------------------------ outputs
class _VideoSink:
    """H.264 (libx264, yuv420p) into a temporary file beside ``path``, renamed to ``path`` by :meth:`finish`."""

    def __init__(self, path: Path, overwrite: bool, source, crf: int) -> None:
        av = require("av", "video")

        self.path, self.overwrite, self.source, self.crf = path, overwrite, source, int(crf)
        if path.exists() and not overwrite:
            raise VideoWriteError(f"{path}: file exists; pass --overwrite (overwrite=True) to replace it")
        if path.is_dir():
            raise VideoWriteError(f"{path}: is a folder")
        if not 0 <= self.crf <= 51:
            raise ConfigError(f"--crf must be in [0, 51], got {crf}")
        probe = av.open(io.BytesIO(), "w", format=_format_of(path))
        supported = probe.supported_codecs
        probe.close()
        for stream in source.audio:
            if stream.codec_context.name not in supported:
                raise VideoWriteError(f"{path}: a {path.suffix} file cannot carry the {stream.codec_context.name} "
                                      f"audio of {source.path} unchanged; write .mkv or .mov instead")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = fileio.new_temp(path)  # the permissions of a plain open (mkstemp's are owner-only)
        self.container = None
        self.pending: list = []   # audio packets that arrive before the first frame opens the file
        self.frames = 0

    def _open(self, width: int, height: int) -> None:
        import av

        src = self.source
        self.container = av.open(str(self.tmp), "w", format=_format_of(self.path))
        v = self.container.add_stream("libx264", rate=src.fps)
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        v.time_base = src.time_base
        v.codec_context.time_base = src.time_base
        v.options = {"crf": str(self.crf), "preset": X264_PRESET}
        for key, value in {**src.colour, "color_range": 1}.items():  # 1: limited (MPEG) range, as encoded
            setattr(v.codec_context, key, value)
        if src.display_matrix is not None:
            v.set_display_matrix(src.display_matrix)
        self.video = v
        self.audio = {s.index: self.container.add_stream_from_template(s) for s in src.audio}
        for packet in self.pending:
            self.mux_audio(packet)
        self.pending = []

    def mux_audio(self, packet) -> None:
        if self.container is None:
            self.pending.append(packet)
            return
        index = packet.stream.index
        packet.stream = self.audio[index]
        self.container.mux(packet)

    def write(self, frame: Tensor, pts: int, name: str) -> None:
        import av

        array = _to_uint8(frame)
        h, w = array.shape[:2]
        if h % 2 or w % 2:  # yuv420p: even sizes; repeat the last row / column
            if self.frames == 0:
                log.warning("%s: %dx%d frames padded to %dx%d by repeating the last row/column (H.264 yuv420p "
                            "needs even sizes)", self.path, w, h, w + w % 2, h + h % 2)
            array = np.pad(array, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if self.container is None:
            self._open(array.shape[1], array.shape[0])
        elif (array.shape[1], array.shape[0]) != (self.video.width, self.video.height):
            raise VideoReadError(f"{self.source.path}: {name} is {w}x{h}, not the clip's size")
        out = av.VideoFrame.from_ndarray(array, format="rgb24")
        out = out.reformat(format="yuv420p", dst_colorspace=self.source.colour.get("colorspace"),
                           dst_color_range="MPEG")
        out.pts, out.time_base = pts, self.source.time_base
        self.container.mux(self.video.encode(out))
        self.frames += 1

    def finish(self) -> Path:
        if self.container is None:
            raise VideoReadError(f"{self.source.path}: no frames to write")
        self.container.mux(self.video.encode())
        self.container.close()
        self.container = None
        _publish(self.tmp, self.path, self.overwrite)
        return self.path

    def abort(self) -> None:
        if self.container is not None:
            try:
                self.container.close()
            except Exception:  # noqa: BLE001 -- the run failed already; its error is the one to report
                pass
        self.tmp.unlink(missing_ok=True)


class _FramesSink:
    """Frame images written into a temporary folder beside ``path`` and moved into ``path`` (created if
    needed) when the clip is complete. Other files in ``path`` are never touched; a frame that would replace
    an existing file needs ``overwrite``, and is refused before any work otherwise."""

    def __init__(self, path: Path, overwrite: bool, source) -> None:
        if path.suffix.lower() in (*SAVE_FORMATS, *IMAGE_EXTENSIONS, *VIDEO_EXTENSIONS):  # never a folder "out.gif"
            raise VideoWriteError(f"{path}: a clip is written to a video file ({', '.join(VIDEO_OUTPUT_EXTENSIONS)}) "
                                  "or to a folder of frames")
        if path.exists() and not path.is_dir():
            raise VideoWriteError(f"{path}: exists and is not a folder")
        if path.is_dir() and not overwrite:
            clash = sorted(p for p in path.iterdir() if source.writes(p.name))
            if clash:
                raise VideoWriteError(f"{clash[0]}: file exists ({len(clash)} frame(s) would be replaced); pass "
                                      "--overwrite (overwrite=True) to replace them")
        if source.audio:
            log.warning("%s: the audio of %s is not written to a folder of frames", path, source.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.overwrite = path, overwrite
        self.tmp = fileio.new_temp_dir(path)  # named for its process: a killed run's is removed by the next
        self.frames = 0

    mux_audio = None  # a folder of frames has no audio: the source does not even read it

    def write(self, frame: Tensor, pts: int, name: str) -> None:
        save_image(frame, self.tmp / name)
        self.frames += 1

    def finish(self) -> Path:
        self.path.mkdir(exist_ok=True)
        for file in sorted(self.tmp.iterdir()):
            _publish(file, self.path / file.name, self.overwrite)
        self.tmp.rmdir()
        return self.path

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _format_of(path: Path) -> str:
    return {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}[path.suffix.lower()]


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    """:func:`zoo.fileio.publish` (synced, renamed; never replaces a file that appeared without ``overwrite``)."""
    try:
        fileio.publish(tmp, path, overwrite)
    except fileio.OutputExistsError:
        raise VideoWriteError(f"{path}: file exists; pass --overwrite (overwrite=True) to replace it") from None


def _to_uint8(frame: Tensor) -> np.ndarray:
    if frame.ndim == 4:
        frame = frame[0]
    return frame.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


# ------------------------------------------------------------------------------------------------ stylising
class _Temporal:
    """The previous output, warped onto the current frame along the input's optical flow, and where to trust it."""

    def __init__(self, estimator, weight: float) -> None:
        if not 0.0 <= weight < 1.0:
            raise ConfigError(f"--temporal-weight must be in [0, 1), got {weight}")
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
    from .stylize import StylizeOptions, build_stylizer, check_styles, resolve_device

    opts = StylizeOptions(model=model, progress=False, **options)
    if batch_size is not None and batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    if later_steps is not None and later_steps < 1:
        raise ConfigError(f"--later-steps must be at least 1, got {later_steps}")
    if not temporal and (flow != "dis" or temporal_weight != DEFAULT_TEMPORAL_WEIGHT):
        raise ConfigError("--flow and --temporal-weight only apply with --temporal")
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
    source = _open_source(src, fps, max_pixels)
    sink = None
    try:
        # refuses a bad output before the (slow) model is built
        sink = (_VideoSink(dst, overwrite, source, crf) if dst.suffix.lower() in VIDEO_OUTPUT_EXTENSIONS
                else _FramesSink(dst, overwrite, source))
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
        log.warning("%s: variable frame rate; %s", src, "every frame kept its timestamp" if isinstance(sink, _VideoSink)
                    else "a folder of frames does not keep the timestamps")
    return out


# ------------------------------------------------------------------------------------------------ CLI hook
# the defaults of the options below: set on images, they are refused (never silently ignored)
_VIDEO_DEFAULTS = {"temporal": False, "flow": "dis", "temporal_weight": DEFAULT_TEMPORAL_WEIGHT,
                   "batch_size": None, "later_steps": None, "fps": None, "crf": DEFAULT_CRF}


def add_video_arguments(parser) -> None:
    """The options of ``zoo stylize`` for clips (a video file, or a folder of frames with --temporal or a
    video output)."""
    g = parser.add_argument_group("video (a video file as INPUT, or a folder of frames with --temporal or a "
                                  "video OUT)")
    g.add_argument("--temporal", action="store_true",
                   help="stabilise: blend each frame with the previous result warped by the optical flow")
    g.add_argument("--flow", default="dis", choices=FLOW_METHODS,
                   help="optical flow for --temporal: OpenCV DIS (default, no weights) or torchvision RAFT")
    g.add_argument("--temporal-weight", type=float, default=DEFAULT_TEMPORAL_WEIGHT, metavar="W",
                   help=f"share of the warped previous result where the flow is reliable (default {DEFAULT_TEMPORAL_WEIGHT})")
    g.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="frames per forward pass of feed-forward models (default 4 on a GPU, 1 on the CPU)")
    g.add_argument("--later-steps", type=int, default=None, metavar="N",
                   help=f"gatys: steps for each frame after the first (default --steps / {LATER_STEPS_FRACTION})")
    g.add_argument("--fps", type=float, default=None, help=f"frame rate of a folder of frames (default {DEFAULT_FPS})")
    g.add_argument("--crf", type=int, default=DEFAULT_CRF,
                   help=f"H.264 quality, 0 (lossless) to 51 (default {DEFAULT_CRF})")


def run_cli(args) -> int | None:
    """``zoo stylize`` on a clip: a video file, or a folder of frames with --temporal or a video output.
    Returns the exit status, or None when the inputs are images (the image path handles them)."""
    from .stylize import StylizeOptions

    inputs = [Path(p) for p in args.inputs]
    videos = [p for p in inputs if is_video(p)]
    out = Path(args.output)
    clip_folder = (len(inputs) == 1 and inputs[0].is_dir()
                   and (args.temporal or out.suffix.lower() in VIDEO_OUTPUT_EXTENSIONS))
    if not videos and not clip_folder:
        given = [f"--{name.replace('_', '-')}" for name, default in _VIDEO_DEFAULTS.items()
                 if getattr(args, name) != default]
        if given:
            raise ConfigError(f"{', '.join(given)}: for a video file, or a folder of frames with --temporal or a video "
                             "output; the inputs here are images")
        return None
    if len(inputs) > 1:
        raise ConfigError(f"{videos[0]}: one video at a time (got {len(inputs)} inputs)")
    options = {name: getattr(args, name) for name in StylizeOptions.__dataclass_fields__
               if name not in ("model", "progress") and hasattr(args, name)}
    dst = stylize_video(inputs[0], out, model=args.model, styles=list(args.style), temporal=args.temporal,
                        flow=args.flow, temporal_weight=args.temporal_weight, batch_size=args.batch_size,
                        later_steps=args.later_steps, fps=args.fps, crf=args.crf, overwrite=args.overwrite,
                        progress=not args.quiet, max_pixels=args.max_pixels, **options)
    print(f"wrote {dst}")
    return 0
