"""Video files and folders of frames in and out, frame by frame (the I/O of :mod:`zoo.video`'s engine).

Decoding and encoding use PyAV (FFmpeg): frames are decoded one at a time and encoded as they come, so memory
does not grow with the length of the clip. The output keeps every frame's timestamp (so the frame rate,
constant or variable), the size (odd sizes are padded by one edge row/column: yuv420p needs even sizes), the
rotation (display matrix) and the audio packets, copied unchanged. It is written under a temporary name in the
output's folder and renamed when complete; an interrupted or failed run leaves nothing behind, and an existing
output is only replaced with ``overwrite=True``. A folder of frames is its images in natural order.

Sources (:func:`open_source`) give ``(frame, pts, name)`` and hand audio packets on; sinks (:func:`open_sink`)
write frames and publish the whole clip at :meth:`finish`, or nothing at :meth:`abort`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor

from . import fileio
from .errors import ConfigError, ZooError
from .extras import require
from .io import IMAGE_EXTENSIONS, SAVE_FORMATS, ImageWriteError, list_images, load_image, save_image
from .options import DEFAULT_FPS, check_video_options

log = logging.getLogger("zoo.video")

__all__ = ["is_video", "read_frames", "open_source", "open_sink", "VideoReadError", "VideoWriteError",
           "VIDEO_EXTENSIONS", "VIDEO_OUTPUT_EXTENSIONS"]

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts",
                    ".wmv", ".flv", ".3gp", ".ogv", ".y4m")
# Containers that carry H.264 (libx264, yuv420p) and the usual audio codecs.
VIDEO_OUTPUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv")
X264_PRESET = "veryfast"        # ~3x quicker than "medium" at 512 px (the crf sets the quality; files are larger)

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
        check_video_options(fps=fps)  # 0 is a value, not "the default"
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


def open_source(src: Path, fps: float | None, max_pixels: int | None = None):
    """The frames of the video file or frames folder ``src`` (``fps``: a folder's frame rate)."""
    if src.is_dir():
        return _FramesSource(src, fps, max_pixels)
    return _VideoSource(src)


def read_frames(src: str | os.PathLike) -> Iterator[Tensor]:
    """The frames of a video file or frames folder, one (1, 3, H, W) float tensor in [0, 1] at a time."""
    source = open_source(Path(src), None)
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

    timestamps = True  # every frame keeps its timestamp

    def __init__(self, path: Path, overwrite: bool, source, crf: int) -> None:
        av = require("av", "video")

        self.path, self.overwrite, self.source, self.crf = path, overwrite, source, int(crf)
        if path.exists() and not overwrite:
            raise VideoWriteError(f"{path}: file exists; pass --overwrite (overwrite=True) to replace it")
        if path.is_dir():
            raise VideoWriteError(f"{path}: is a folder")
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

    timestamps = False

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


def open_sink(dst: Path, source, overwrite: bool, crf: int):
    """Where the frames of ``source`` go: a video file (.mp4, .m4v, .mov, .mkv) or a folder of frames; a bad
    output is refused here, before any work."""
    if dst.suffix.lower() in VIDEO_OUTPUT_EXTENSIONS:
        check_video_options(crf=crf)
        return _VideoSink(dst, overwrite, source, crf)
    return _FramesSink(dst, overwrite, source)


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
