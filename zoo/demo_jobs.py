"""``zoo demo``'s jobs and uploads, safe under real use (used by :class:`zoo.demo_core.Demo`):

* **Jobs can be stopped.** Every request runs as a :class:`Job`; :meth:`Job.cancel` (the page's Stop, a
  client that left, the server stopping) makes it raise :class:`Cancelled` at its next check: between Gatys
  steps and between video frames. Requests run one at a time (:attr:`Demo.busy`), so a stopped job has
  finished before the next one starts, and :meth:`Demo.close` waits for it.
* **Bounded memory.** The pixel limit and the project's message apply to the file's header, before any
  decoding (:func:`check_pixels`); previews are decoded at reduced size (JPEG's draft mode, Pillow's
  thumbnail), never as a full-size float picture.
* **Short errors.** A failure is one short line (:class:`DemoError`): the CLI's message, its first sentence
  where it is long, with the server's paths reduced to file names; the whole message goes to the log.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

__all__ = ["Job", "Cancelled", "DemoError", "watched", "check_pixels", "short_message", "is_video", "video_available"]

log = logging.getLogger("zoo.demo")

VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v")  # without zoo.video: its message
SHORT = 160  # error lines longer than this keep their first sentence
Progress = Callable[[int, "int | None", str], None]  # (done, total, unit)


# ---------------------------------------------------------------------------------------- jobs
class Cancelled(Exception):
    """The job was stopped: by the page's Stop, by its client leaving, or by the server stopping."""


class DemoError(Exception):
    """A request that cannot be done; ``str()`` is one short line for the page, without server paths."""


class Job:
    """One request's cancellation flag. ``alive`` (optional) is asked at each check: False cancels the job
    (its client left)."""

    def __init__(self, alive: Callable[[], bool] | None = None) -> None:
        self._stop = threading.Event()
        self._alive = alive
        self.reason = ""

    def cancel(self, reason: str = "stopped") -> None:
        if not self._stop.is_set():
            self.reason = reason
            self._stop.set()

    @property
    def cancelled(self) -> bool:
        if not self._stop.is_set() and self._alive is not None and not self._alive():
            self.cancel("the client left")
        return self._stop.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled."""
        if self.cancelled:
            raise Cancelled(self.reason)


class _Watched:
    """A stylizer that checks ``job`` before each call (a video frame, or a batch of them) and reports the
    frames done to ``on_frames(n)``; every other attribute is the stylizer's."""

    def __init__(self, stylizer, job: Job, on_frames: Callable[[int], None]) -> None:
        self.__dict__.update(_inner=stylizer, _job=job, _on_frames=on_frames)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

    def __call__(self, content, styles=(), **kwargs):
        self._job.check()
        out = self._inner(content, styles, **kwargs)
        self._on_frames(int(content.shape[0]))
        return out


class _WatchedIterative(_Watched):
    """:class:`_Watched` for stylizers that start from an image (gatys): zoo.video sees ``init`` and ``steps``."""

    def __call__(self, content, styles=(), init=None, steps=None):  # type: ignore[override]
        return super().__call__(content, styles, init=init, steps=steps)


def watched(stylizer, job: Job, on_frames: Callable[[int], None]):
    from .video import _is_iterative

    return (_WatchedIterative if _is_iterative(stylizer) else _Watched)(stylizer, job, on_frames)


# ---------------------------------------------------------------------------------------- pictures
def check_pixels(path: str | Path, limit: int, name: str | None = None) -> tuple[int, int] | None:
    """(width, height) from the file's header, before any decoding; raises
    :class:`zoo.io.ImageReadError` with the project's line if it has more than ``limit`` pixels (Pillow's
    own decompression-bomb check would otherwise answer first, with its own text). None where Pillow cannot
    read the header: :func:`zoo.io.load_image` says what is wrong."""
    from PIL import Image

    from .io import ImageReadError

    name = name or str(path)
    hint = "(raise it with --max-pixels or ZOO_MAX_PIXELS)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
    except Image.DecompressionBombError as e:  # over twice Pillow's limit: its message has the count
        found = re.search(r"\((\d+) pixels\)", str(e))
        count = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise ImageReadError(f"{name}: image has {count}, over the limit of {limit:,} {hint}") from None
    except Exception:  # noqa: BLE001 - not an image, truncated...: load_image's line
        return None
    if w * h > limit:
        raise ImageReadError(f"{name}: {w}x{h} image has {w * h:,} pixels, over the limit of {limit:,} {hint}")
    return w, h


def _oriented(img) -> tuple[int, int]:
    """(width, height) as shown: EXIF orientations 5-8 swap them."""
    w, h = img.size
    return (h, w) if img.getexif().get(0x0112, 1) in (5, 6, 7, 8) else (w, h)


def _small_picture(path: str, edge: int):
    """The picture at most ``edge`` long, decoded at reduced size, as (1, 3, h, w), and its full (w, h)."""
    from PIL import Image, ImageOps

    from .io import _to_rgb_array

    with Image.open(path) as img:
        size = _oriented(img)
        img.draft("RGB", (edge, edge))  # JPEG: decodes at 1/2 .. 1/8 scale
        img.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
        small = ImageOps.exif_transpose(img)
        array = _to_rgb_array(small)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).unsqueeze(0), size


def short_message(e: BaseException, uploads: Sequence[str] = ()) -> str:
    """One short line: the first line of the message, uploads named by their own names, other absolute paths
    by their file names, the first sentence only where it is long. Unexpected errors (not bad input) are
    also logged with their traceback; long ones in full."""
    if not isinstance(e, (ValueError, OSError, LookupError, RuntimeError)):
        log.error("zoo demo: unexpected error", exc_info=e)
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    for path in uploads:
        if path:
            text = text.replace(str(path), Path(path).name)
    full = text
    text = re.sub(r"(?<![\w:/.])/[^\s'\"(),;]+", lambda m: Path(m.group(0).rstrip(".")).name or m.group(0), text)
    if len(text) > SHORT and (cut := re.search(r"[.:] (?=[A-Z(])", text[40:])):
        text = text[:40 + cut.start()] + ("." if cut.group(0)[0] == "." else "")
    if text != full:
        log.warning("zoo demo: %s", full)
    return text


@contextlib.contextmanager
def _steps_of(stylizer, job: Job, progress: Progress | None):
    """Gatys (a stylizer with ``on_step``): each optimisation step checks ``job`` and reports its progress,
    for the duration of one request (the cached stylizer does not keep the callback)."""
    if not hasattr(stylizer, "on_step"):
        yield
        return

    def on_step(step: int, steps: int) -> None:
        job.check()
        if progress is not None:
            progress(step, steps, "steps")

    stylizer.on_step = on_step
    try:
        yield
    finally:
        stylizer.on_step = None


def _video_size(path: str) -> tuple[int, int] | None:
    """(width, height) of a video's first stream, from its header; None where it cannot be read."""
    try:
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return stream.codec_context.width, stream.codec_context.height
    except Exception:  # noqa: BLE001 - zoo.video says what is wrong
        return None


def _video_frames(path: str) -> int | None:
    """The number of frames a video's header announces (or its duration suggests); None if unknown."""
    try:
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if stream.frames:
                return int(stream.frames)
            rate = stream.average_rate or stream.guessed_rate
            if container.duration and rate:
                return max(1, round(container.duration / 1_000_000 * float(rate)))
    except Exception:  # noqa: BLE001
        return None
    return None


def is_video(path: str) -> bool:
    """A video file, by zoo.video's extensions when it is installed (else :data:`VIDEO_EXTENSIONS`)."""
    try:
        from .video import is_video as video_file
    except ImportError:
        return Path(path).suffix.lower() in VIDEO_EXTENSIONS
    return video_file(path)


def video_available() -> bool:
    """Whether zoo.video (video stylisation) is installed."""
    import importlib.util

    return importlib.util.find_spec("zoo.video") is not None


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
