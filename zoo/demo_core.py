"""What ``zoo demo``'s page does, without the page (:class:`Demo`): the model list and its default, the options
of a request, cached stylizers, previews, one request, the live webcam's frames. The page is :mod:`zoo.demo`;
jobs, cancellation and the checks on uploads are :mod:`zoo.demo_jobs`.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import torch

from .demo_jobs import (Cancelled, DemoError, Job, Progress, _remove_tree, _small_picture, _steps_of, _video_frames,
                        _video_size, check_pixels, is_video, short_message, watched)
from .families import FAMILIES, resolve
from .options import StylizeOptions, option, page_options, takes
from .registry import UnknownNameError

__all__ = ["Demo", "CONTROLS", "controls", "family_of", "parse_weights"]

log = logging.getLogger("zoo.demo")

SERVER_OPTIONS = ("weights", "backbone_weights")  # set by the server (zoo demo's flags), not by a control
CACHE_SIZE = 4  # stylizers kept in memory
KEEP_SECONDS = 600  # a request's files are kept this long on the server (Gradio serves its own copies)
SEED = 0  # random (smoke) weights are drawn from this seed: the same stylizer, and picture, on every build
PREVIEW_EDGE = 1024  # previews are at most this long (and at most --max-size)


def controls(model: str) -> frozenset[str]:
    """The page's options that ``model``'s family takes (:func:`zoo.options.takes`: read from its record): its
    controls (the options declared with one; the video ones are shown for videos) and the server's options
    (:data:`SERVER_OPTIONS`). The builder rejects the others (tests/test_demo.py checks this)."""
    family = resolve(model).family
    names = [o.name for o in page_options() if o.kind != "video"] + list(SERVER_OPTIONS)
    return frozenset(n for n in names if takes(family, n))


class _Controls(Mapping[str, frozenset]):
    """:func:`controls` of every family, as a read-only mapping (any model name is a key)."""

    def __getitem__(self, model: str) -> frozenset[str]:
        return controls(model)

    def __iter__(self) -> Iterator[str]:
        return iter(FAMILIES.names())

    def __len__(self) -> int:
        return len(FAMILIES)


CONTROLS: Mapping[str, frozenset[str]] = _Controls()


def family_of(model: str) -> str:
    """The family of a family name or pretrained tag (as :func:`zoo.stylize.build_stylizer` resolves it)."""
    return resolve(model).family.name


def parse_weights(items: Sequence[str] | None) -> dict[str, str]:
    """``--weights`` values: ``W`` (every family that takes weights) or ``MODEL=W`` (that family or tag only).
    Returns {model or "": weights}."""
    def is_model(name: str) -> bool:
        try:
            resolve(name, warn=False)
        except UnknownNameError:
            return False
        return True

    out: dict[str, str] = {}
    for item in items or []:
        name, _, value = item.partition("=")
        if value and is_model(name):
            out[name] = value
        else:
            out[""] = item
    return out


# ---------------------------------------------------------------------------------------- the demo
class Demo:
    """What the page does, without the page: model list, options, cached stylizers, one request.

    Args:
        weights: ``{model or "": weights}`` (see :func:`parse_weights`); ``"random"`` is the smoke run.
        backbone_weights: VGG weight source for the families that take one (``none`` = random, smoke runs).
        max_size: the largest long edge, in pixels, the page produces.
        max_pixels: refuse uploads with more pixels (default: :data:`zoo.io.DEFAULT_MAX_PIXELS`).
        device: ``auto``, ``cpu``, ``cuda``, ...
    """

    def __init__(self, weights: dict[str, str] | None = None, backbone_weights: str | None = None,
                 max_size: int = 1024, max_pixels: int | None = None, device: str = "auto") -> None:
        from PIL import Image

        from .io import _max_pixels
        from .stylize import resolve_device

        self.weights = dict(weights or {})
        self.backbone_weights, self.max_size, self.max_pixels, self.device = \
            backbone_weights, max_size, max_pixels, device
        self.limit = _max_pixels(max_pixels)
        if Image.MAX_IMAGE_PIXELS is not None and self.limit > Image.MAX_IMAGE_PIXELS:
            Image.MAX_IMAGE_PIXELS = self.limit  # the operator's --max-pixels, not Pillow's, is the limit
        resolve_device(device)  # a bad --device is refused at start, not on the first request
        self.workdir = Path(tempfile.mkdtemp(prefix="zoo-demo-"))  # results and smoke weights; removed at exit
        self._cleanup = weakref.finalize(self, _remove_tree, self.workdir)
        self._stylizers: OrderedDict[str, Any] = OrderedDict()
        self.busy = threading.Lock()  # held by the running request: one at a time
        self._jobs: set[Job] = set()
        self._closing = False
        self.cancelled = 0  # jobs stopped so far (Stop, a client that left, the server stopping)

    # ------------------------------------------------------------------ the model list
    def choices(self) -> list[tuple[str, str]]:
        """(label, name) of every model: pretrained tags first (loadable ones, then unpublished ones), then the
        families. A name that is both a tag and a family is the family, as in ``zoo stylize``."""
        from .factory import list_models
        from .weights import WEIGHTS

        loadable = [t for t in list_models(pretrained=True) if t not in FAMILIES]
        unpublished = [t for t in WEIGHTS.names() if t not in loadable and t not in FAMILIES]
        families = [(f"{f} (weights: {w})" if (w := self._weights_for(f, f)) else f"{f} (family)", f)
                    for f in FAMILIES.names()]
        return ([(f"{t} (pretrained)", t) for t in loadable]
                + [(f"{t} (pretrained, not published yet)", t) for t in unpublished] + families)

    def default_model(self) -> str:
        """The model the page starts with: one that works without a download where there is one (a
        feed-forward family the server has weights for, then a pretrained tag already cached, then gatys
        with local VGG weights); else the first pretrained tag."""
        from .download import cached
        from .weights import WEIGHTS

        names = [name for _, name in self.choices()]
        local_backbone = self.backbone_weights is not None and self.backbone_weights not in ("imagenet", "timm", "caffe")
        for family in sorted(FAMILIES.names(), key=lambda f: "style" in CONTROLS[f]):  # no style images first
            taken = CONTROLS[family]
            if family != "gatys" and self._weights_for(family, family) and \
                    ("backbone_weights" not in taken or local_backbone):
                return family
        for tag in names:
            if tag in WEIGHTS and tag not in FAMILIES and WEIGHTS.get(tag).available:
                with contextlib.suppress(Exception):
                    if cached(WEIGHTS.get(tag)) and ("backbone_weights" not in CONTROLS[tag] or local_backbone):
                        return tag
        return "gatys" if local_backbone else names[0]

    def _weights_for(self, model: str, family: str) -> str | None:
        if "weights" not in CONTROLS[family]:
            return None
        if model in self.weights:
            return self.weights[model]
        return self.weights.get("") if model == family else None  # a tag brings its own weights

    def weights_for(self, model: str) -> str | None:
        """The ``weights`` option the page passes for ``model`` (``random`` becomes a file where needed)."""
        family = family_of(model)
        weights = self._weights_for(model, family)
        if weights == "random" and not FAMILIES.get(family).random_weights:
            return self._random_weights(family)
        return weights

    def _random_weights(self, arch: str) -> str:
        from .factory import create_model

        folder = self.workdir / f"random-{arch}"
        if not folder.is_dir():
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(SEED)
                create_model(arch, pretrained=False).save_pretrained(folder)  # never the default tag's
        return str(folder)

    # ------------------------------------------------------------------ options and stylizers
    def options(self, model: str, **controls: Any):
        """The :class:`~zoo.stylize.StylizeOptions` of a request: the values of the page's controls (by option
        name, as the controls give them: 0, "" or no file for the default) that ``model`` takes, and the server's
        options; the others keep their defaults (a family rejects options it does not support)."""
        unknown = set(controls) - {o.name for o in page_options()}
        if unknown:
            raise TypeError(f"no page control {', '.join(sorted(unknown))}")
        taken = CONTROLS[family_of(model)]
        given = {o.name: o.from_page(controls[o.name]) for o in page_options()
                 if o.kind == "stylize" and o.name in controls}
        given.update(backbone_weights=self.backbone_weights, weights=self.weights_for(model))
        return StylizeOptions(model=model, device=self.device, progress=False,
                              **{k: v for k, v in given.items() if k in taken})

    def stylizer(self, opts):
        """The stylizer for ``opts``, built once and kept (the last :data:`CACHE_SIZE` ones). Builders take
        every option in their constructor, so the key is the whole of ``opts``."""
        from .stylize import build_stylizer

        key = repr(opts)
        if key in self._stylizers:
            self._stylizers.move_to_end(key)
            return self._stylizers[key]
        with torch.random.fork_rng(devices=[]):  # random (smoke) weights: the same on every build
            torch.manual_seed(SEED)
            stylizer = build_stylizer(opts)
        self._stylizers[key] = stylizer
        while len(self._stylizers) > CACHE_SIZE:
            self._stylizers.popitem(last=False)
        return stylizer

    # ------------------------------------------------------------------ requests
    def _request_dir(self) -> Path:
        """A new folder for one request's files. Gradio copies the files a request returns into its own cache,
        so folders older than :data:`KEEP_SECONDS` are removed: the disk use stays bounded."""
        for old in self.workdir.glob("request-*"):
            with contextlib.suppress(OSError):  # another request may be removing it too
                if time.time() - old.stat().st_mtime > KEEP_SECONDS:
                    _remove_tree(old)
        return Path(tempfile.mkdtemp(prefix="request-", dir=self.workdir))

    def output_size(self, width: int, height: int, size: int | None = None) -> tuple[int | None, str]:
        """The ``--size`` of a request for a ``width`` x ``height`` picture: ``size`` where given, else the
        picture's own (None), reduced to ``--max-size``; and a note saying so where it was reduced."""
        if size:
            return int(size), ""
        if max(width, height) > self.max_size:
            return self.max_size, f" (reduced to --max-size {self.max_size})"
        return None, ""

    def preview(self, content: str | None) -> tuple[str | None, str, int | None]:
        """The uploaded picture as the page shows it (at most :data:`PREVIEW_EDGE` long, decoded at reduced
        size), a status line, and the output size the page proposes (the picture's, up to --max-size).
        Raises :class:`DemoError` for a file that is not a readable picture."""
        if not content:
            return None, "", None
        name = Path(content).name
        if is_video(content):
            dims, frames = _video_size(content), _video_frames(content)
            if dims is None:
                return None, f"{name}: video", None
            size, note = self.output_size(*dims)
            count = f", {frames} frames" if frames else ""
            return None, f"{name}: video, {dims[0]}x{dims[1]}{count}{note}", size or max(dims)
        try:
            from .io import load_image, resize_long_edge, save_image

            if check_pixels(content, self.limit, name) is None:
                load_image(content, self.limit)  # raises load_image's line for what Pillow cannot open
            edge = min(PREVIEW_EDGE, self.max_size)
            try:
                image, (w, h) = _small_picture(content, edge)
            except Exception:  # noqa: BLE001 - a mode the reduced path does not take: the full reader (or its line)
                image = load_image(content, self.limit)
                h, w = image.shape[-2:]
                image = resize_long_edge(image, edge) if max(h, w) > edge else image
            path = save_image(image, self._request_dir() / "preview.png")
        except Exception as e:  # noqa: BLE001 - every failure is one line on the page
            raise DemoError(short_message(e, [content])) from None
        size, note = self.output_size(w, h)
        return str(path), f"{name}: {w}x{h}{note}", size or max(w, h)

    def new_job(self, alive: Callable[[], bool] | None = None) -> Job:
        """A job for one request (cancelled at once if the server is stopping)."""
        job = Job(alive)
        if self._closing:
            job.cancel("the server is stopping")
        return job

    def run(self, content: str | None, styles: Sequence[str] | None, model: str, *, progress: Progress | None = None,
            job: Job | None = None, **controls: Any) -> tuple[str | None, ...]:
        """One request: (input picture, result picture, result video, file to download, status line).
        ``controls``: the page's controls by option name (:func:`zoo.options.page_options`; ``size`` None or 0:
        the picture's own size, up to --max-size; ``masks``: files; ``temporal``: for videos). A failure raises
        :class:`DemoError` (one short line); a cancelled job :class:`Cancelled`. Requests run one at a time."""
        styles = list(styles or [])
        uploads = [content or "", *styles, *(controls.get("masks") or [])]
        job = job or self.new_job()
        with self.busy:
            self._jobs.add(job)
            if self._closing:
                job.cancel("the server is stopping")
            try:
                job.check()
                return self._run(content, styles, model, controls, progress, job)
            except Cancelled as e:
                self.cancelled += 1
                print(f"zoo demo: job cancelled ({e})", flush=True)  # the server's terminal says so
                raise
            except Exception as e:  # noqa: BLE001 - every failure is one line on the page
                raise DemoError(short_message(e, uploads)) from None
            finally:
                self._jobs.discard(job)

    def _run(self, content, styles, model, controls, progress, job) -> tuple[str | None, ...]:
        started = time.perf_counter()
        if not content:
            raise ValueError("upload a photo first")
        video = is_video(content)
        if video:
            dims = _video_size(content)
        else:
            dims = check_pixels(content, self.limit, Path(content).name)
            for path in [*styles, *(controls.get("masks") or [])]:
                check_pixels(path, self.limit, Path(path).name)
        size, note = controls.get("size"), ""
        if dims is not None:
            size, note = self.output_size(*dims, size)
        opts = self.options(model, **{**controls, "size": size})
        temporal = option("temporal").from_page(controls.get("temporal"))
        if temporal and not video:
            raise ValueError("--temporal is for videos; this is a picture")
        folder = self._request_dir()
        if video:
            out = self._video(content, styles, opts, folder, temporal, progress, job)
            return None, None, out, out, f"{model}: video in {time.perf_counter() - started:.1f} s{note}"
        source, result, (h, w) = self._image(content, styles, opts, folder, progress, job)
        return source, result, None, result, f"{model}: {w}x{h} in {time.perf_counter() - started:.1f} s{note}"

    def _image(self, content: str, styles: list[str], opts, folder: Path, progress: Progress | None,
               job: Job) -> tuple[str, str, tuple[int, int]]:
        from .io import load_image, resize_long_edge, save_image
        from .stylize import check_styles

        image = load_image(content, self.limit)
        style_images = [load_image(s, self.limit) for s in styles]
        stylizer = self.stylizer(opts)
        if not stylizer.needs_style:
            style_images = []  # the page hides the style control of these models
        check_styles(opts.model, stylizer, len(style_images), opts.style_weights, opts.masks)  # as zoo stylize
        image = resize_long_edge(image, opts.size)
        job.check()
        with _steps_of(stylizer, job, progress):
            result = stylizer(image, style_images)
        source = save_image(image, folder / "input.png")
        out = save_image(result, folder / f"{Path(content).stem}-{opts.model}.png")
        return str(source), str(out), tuple(result.shape[-2:])

    def _video(self, content: str, styles: list[str], opts, folder: Path, temporal: bool,
               progress: Progress | None, job: Job) -> str:
        """A video through :func:`zoo.video.stylize_video`, with the cached stylizer; the job is checked and
        the progress reported after each frame."""
        try:
            from .video import VIDEO_OUTPUT_EXTENSIONS, stylize_video
        except ImportError:
            raise ValueError(f"{Path(content).name}: video input needs zoo.video, which this installation "
                             "does not have yet; upload a picture") from None
        stylizer = self.stylizer(opts)
        total, done = _video_frames(content), [0]

        def on_frames(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], total, "frames")

        suffix = Path(content).suffix.lower()
        suffix = suffix if suffix in VIDEO_OUTPUT_EXTENSIONS else ".mp4"
        options = {k: v for k, v in asdict(opts).items() if k not in ("model", "progress")}
        with _steps_of(stylizer, job, None):  # gatys: checked between steps too
            out = stylize_video(content, folder / f"{Path(content).stem}-{opts.model}{suffix}", opts.model,
                                styles if stylizer.needs_style else [], stylizer=watched(stylizer, job, on_frames),
                                temporal=temporal, progress=False, max_pixels=self.limit, **options)
        return str(out)

    def live(self, frame, model: str, edge: int):
        """One webcam frame (H, W, 3 uint8) stylised by a feed-forward model that takes no style image, at most
        ``edge`` (and --max-size) long; returns the same kind of array. Models that optimise (gatys) or take
        style images are refused (take a snapshot for them)."""
        import numpy as np

        from .io import resize_long_edge

        if frame is None:
            return None
        try:
            taken = CONTROLS[family_of(model)]
            if "steps" in taken or "style" in taken:
                raise ValueError(f"live webcam is for feed-forward models without style images, not {model!r}: "
                                 "take a snapshot and press Stylise")
            x = torch.from_numpy(np.ascontiguousarray(frame[..., :3])).permute(2, 0, 1)[None].float() / 255
            x = resize_long_edge(x, min(edge, self.max_size)) if max(x.shape[-2:]) > min(edge, self.max_size) else x
            with self.busy:
                y = self.stylizer(self.options(model))(x, [])
        except Exception as e:  # noqa: BLE001 - every failure is one line on the page
            raise DemoError(short_message(e)) from None
        return (y[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy())

    def close(self, timeout: float = 60.0) -> bool:
        """Stop serving requests: cancel the running job, wait (up to ``timeout`` s) for it to end, remove the
        server's files (at once where ``timeout`` is 0). Returns whether no job was still running."""
        self._closing = True
        for job in list(self._jobs):
            job.cancel("the server is stopping")
        idle = self.busy.acquire(timeout=timeout) if timeout > 0 else not self.busy.locked()
        if idle and timeout > 0:
            self.busy.release()
        if idle or timeout == 0:
            self._cleanup()
        return idle


