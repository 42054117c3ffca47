"""``zoo demo``: a web page to stylise pictures in the browser, a thin layer over ``zoo stylize``'s Python API.

The page reads pictures with :func:`zoo.io.load_image`, builds stylizers with
:func:`zoo.stylize.build_stylizer` and writes results with :func:`zoo.io.save_image`: the same
validation, the same pictures and the same one-line error messages as the CLI. It has no stylisation
logic of its own.

Why Gradio (the ``demo`` extra): it is made for exactly this (file upload and download components, a
request queue with a size limit and a concurrency limit, progress bars fed from Python), it serves
its front end from the installed package, so the page works offline, and its Python client
(``gradio_client``) calls the page's API in tests without a browser. Streamlit re-runs the whole
script on every interaction and has no request queue; a hand-written FastAPI page would be ours to
maintain. Gradio is imported by :func:`build_app` only: ``import zoo`` and ``import zoo.demo`` do not
import it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import weakref
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import torch

__all__ = ["Demo", "CONTROLS", "controls", "VIDEO_EXTENSIONS", "family_of", "parse_weights", "is_video",
           "video_available", "build_app", "serve", "launch"]

log = logging.getLogger(__name__)

# The options the page has controls for (StylizeOptions fields, besides "style" and "weights").
PAGE_OPTIONS = frozenset({"style_weights", "preserve_color", "size", "steps", "alpha", "direction", "backbone_weights"})


def controls(model: str) -> frozenset[str]:
    """The page controls ``model``'s family takes, read from its declaration (:class:`zoo.families.Family`):
    the options it supports that the page has, ``weights`` where it needs weights, ``style`` where it
    needs style images. The builder rejects the others (tests/test_demo.py checks this)."""
    from .families import resolve

    family = resolve(model).family
    return (family.supports & (PAGE_OPTIONS | {"weights"})) | ({"style"} if family.needs_style else frozenset())


class _Controls(Mapping[str, frozenset]):
    """:func:`controls` of every family, as a read-only mapping (any model name is a key)."""

    def __getitem__(self, model: str) -> frozenset[str]:
        return controls(model)

    def __iter__(self) -> Iterator[str]:
        from .families import FAMILIES

        return iter(FAMILIES.names())

    def __len__(self) -> int:
        from .families import FAMILIES

        return len(FAMILIES)


CONTROLS: Mapping[str, frozenset[str]] = _Controls()
VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm", ".avi", ".mkv", ".m4v")  # without zoo.video: its message
DEFAULT_STEPS = 500  # zoo.variants.gatys.DEFAULT_STEPS (not imported: it imports Lightning); a test checks it
CACHE_SIZE = 4  # stylizers kept in memory
KEEP_SECONDS = 600  # a request's files are kept this long on the server (Gradio serves its own copies)
SEED = 0  # random (smoke) weights are drawn from this seed: the same stylizer, and picture, on every build


def family_of(model: str) -> str:
    """The family of a family name or pretrained tag (as :func:`zoo.stylize.build_stylizer` resolves it)."""
    from .families import resolve

    return resolve(model).family.name


def parse_weights(items: Sequence[str] | None) -> dict[str, str]:
    """``--weights`` values: ``W`` (every family that takes weights) or ``MODEL=W`` (that family or tag only).
    Returns {model or "": weights}."""
    from .families import UnknownNameError, resolve

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


def _floats(text: str) -> list[float] | None:
    if not text or not text.strip():
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--style-weights: expected comma-separated numbers, got {text!r}") from None


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
        from .stylize import resolve_device

        self.weights = dict(weights or {})
        self.backbone_weights, self.max_size, self.max_pixels, self.device = \
            backbone_weights, max_size, max_pixels, device
        resolve_device(device)  # a bad --device is refused at start, not on the first request
        self.workdir = Path(tempfile.mkdtemp(prefix="zoo-demo-"))  # results and smoke weights; removed at exit
        self._cleanup = weakref.finalize(self, _remove_tree, self.workdir)
        self._stylizers: OrderedDict[str, Any] = OrderedDict()

    # ------------------------------------------------------------------ the model list
    def choices(self) -> list[tuple[str, str]]:
        """(label, name) of every model: pretrained tags first (loadable ones, then unpublished ones), then the
        families. A name that is both a tag and a family is the family, as in ``zoo stylize``."""
        from .factory import list_models
        from .families import FAMILIES
        from .weights import WEIGHTS

        loadable = [t for t in list_models(pretrained=True) if t not in FAMILIES]
        unpublished = [t for t in WEIGHTS.names() if t not in loadable and t not in FAMILIES]
        families = [(f"{f} (weights: {w})" if (w := self._weights_for(f, f)) else f"{f} (family)", f)
                    for f in FAMILIES.names()]
        return ([(f"{t} (pretrained)", t) for t in loadable]
                + [(f"{t} (pretrained, not published yet)", t) for t in unpublished] + families)

    def _weights_for(self, model: str, family: str) -> str | None:
        if "weights" not in CONTROLS[family]:
            return None
        if model in self.weights:
            return self.weights[model]
        return self.weights.get("") if model == family else None  # a tag brings its own weights

    def weights_for(self, model: str) -> str | None:
        """The ``weights`` option the page passes for ``model`` (``random`` becomes a file where needed)."""
        from .families import FAMILIES

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
                create_model(arch).save_pretrained(folder)
        return str(folder)

    # ------------------------------------------------------------------ options and stylizers
    def options(self, model: str, size: int | None = None, steps: int | None = None, alpha: float = 1.0,
                style_weights: str = "", preserve_color: str | None = None, direction: str = "AtoB"):
        """The :class:`~zoo.stylize.StylizeOptions` of a request: the page's controls that ``model`` takes, the
        server's weights; the others keep their defaults (a family rejects options it does not support)."""
        from .stylize import StylizeOptions

        family = family_of(model)
        takes = CONTROLS[family]
        given = {"size": int(size) if size is not None else None, "steps": int(steps) if steps else None,
                 "alpha": float(alpha), "style_weights": _floats(style_weights),
                 "preserve_color": preserve_color or None, "direction": direction,
                 "backbone_weights": self.backbone_weights, "weights": self.weights_for(model)}
        return StylizeOptions(model=model, device=self.device, progress=False,
                              **{k: v for k, v in given.items() if k in takes})

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
        """A new folder for one request's files. Gradio copies the files a request returns into its own cache
        (cleared hourly), so folders older than :data:`KEEP_SECONDS` are removed: the disk use stays bounded."""
        for old in self.workdir.glob("request-*"):
            with contextlib.suppress(OSError):  # another request may be removing it too
                if time.time() - old.stat().st_mtime > KEEP_SECONDS:
                    _remove_tree(old)
        return Path(tempfile.mkdtemp(prefix="request-", dir=self.workdir))

    def preview(self, content: str | None) -> tuple[str | None, str]:
        """The uploaded picture as the page reads it (shown on upload), and a status line."""
        if not content:
            return None, ""
        if is_video(content):
            return None, f"{Path(content).name}: video"
        try:
            from .io import load_image, resize_long_edge, save_image

            image = load_image(content, self.max_pixels)
            if max(image.shape[-2:]) > self.max_size:
                image = resize_long_edge(image, self.max_size)
            path = save_image(image, self._request_dir() / "preview.png")
        except Exception as e:  # noqa: BLE001 - every failure is one line on the page
            return None, _message(e, [content])
        h, w = image.shape[-2:]
        return str(path), f"{Path(content).name}: {w}x{h} preview"

    def run(self, content: str | None, styles: Sequence[str] | None, model: str, size: int | None = None,
            steps: int | None = None, alpha: float = 1.0, style_weights: str = "",
            preserve_color: str | None = None, direction: str = "AtoB",
            progress: Callable[[int, int], None] | None = None) -> tuple[str | None, ...]:
        """One request: (input picture, result picture, result video, file to download, status line). A failure
        is the status line ``error: <the CLI's message>`` and no picture; the server keeps serving."""
        styles = list(styles or [])
        started = time.perf_counter()
        try:
            if not content:
                raise ValueError("upload a photo first")
            opts = self.options(model, size, steps, alpha, style_weights, preserve_color, direction)
            folder = self._request_dir()
            if is_video(content):
                video = self._video(content, styles, opts, folder)
                return None, None, video, video, f"{model}: video in {time.perf_counter() - started:.1f} s"
            source, result, (h, w) = self._image(content, styles, opts, folder, progress)
        except Exception as e:  # noqa: BLE001 - every failure is one line on the page
            return None, None, None, None, _message(e, [content or "", *styles])
        return source, result, None, result, f"{model}: {w}x{h} in {time.perf_counter() - started:.1f} s"

    def _image(self, content: str, styles: list[str], opts, folder: Path,
               progress: Callable[[int, int], None] | None) -> tuple[str, str, tuple[int, int]]:
        from .io import load_image, resize_long_edge, save_image
        from .stylize import check_styles

        image = load_image(content, self.max_pixels)
        style_images = [load_image(s, self.max_pixels) for s in styles]
        stylizer = self.stylizer(opts)
        if not stylizer.needs_style:
            style_images = []  # the page hides the style control of these models
        check_styles(opts.model, stylizer, len(style_images), opts.style_weights)  # zoo stylize's checks
        image = resize_long_edge(image, opts.size)
        hooked = progress is not None and hasattr(stylizer, "on_step")  # Gatys reports its steps
        if hooked:
            stylizer.on_step = progress
        try:
            result = stylizer(image, style_images)
        finally:
            if hooked:
                stylizer.on_step = None
        source = save_image(image, folder / "input.png")
        out = save_image(result, folder / f"{Path(content).stem}-{opts.model}.png")
        return str(source), str(out), tuple(result.shape[-2:])

    def _video(self, content: str, styles: list[str], opts, folder: Path) -> str:
        """A video through :func:`zoo.video.stylize_video`, with the cached stylizer."""
        try:
            from .video import VIDEO_OUTPUT_EXTENSIONS, stylize_video
        except ImportError:
            raise ValueError(f"{Path(content).name}: video input needs zoo.video, which this installation "
                             "does not have yet; upload a picture") from None
        stylizer = self.stylizer(opts)
        suffix = Path(content).suffix.lower()
        suffix = suffix if suffix in VIDEO_OUTPUT_EXTENSIONS else ".mp4"
        options = {k: v for k, v in asdict(opts).items() if k not in ("model", "progress")}
        out = stylize_video(content, folder / f"{Path(content).stem}-{opts.model}{suffix}", opts.model,
                            styles if stylizer.needs_style else [], stylizer=stylizer, progress=False,
                            max_pixels=self.max_pixels, **options)
        return str(out)


def is_video(path: str) -> bool:
    """A video file, by zoo.video's extensions when it is installed (else :data:`VIDEO_EXTENSIONS`)."""
    try:
        from .video import is_video as video_file
    except ImportError:
        return Path(path).suffix.lower() in VIDEO_EXTENSIONS
    return video_file(path)


def _message(e: BaseException, uploads: Sequence[str]) -> str:
    """One line: ``error: <message>``, with uploaded files named by their own names, not the server's
    temporary paths. Unexpected errors (not bad input) are also logged with their traceback."""
    if not isinstance(e, (ValueError, OSError, LookupError, RuntimeError)):
        log.error("zoo demo: unexpected error", exc_info=e)
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    for path in uploads:
        if path:
            text = text.replace(str(path), Path(path).name)
    return f"error: {text}"


def video_available() -> bool:
    """Whether zoo.video (video stylisation, written in parallel) is installed."""
    import importlib.util

    return importlib.util.find_spec("zoo.video") is not None


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------------- the page
def build_app(demo: Demo, queue: int = 8):
    """The Gradio page over ``demo``. Requests run one at a time; up to ``queue`` more wait their turn (the page
    says so when the queue is full). Its API (``/stylize``, ``/preview``) serves gradio_client too."""
    import gradio as gr

    choices = demo.choices()
    first = choices[0][1]

    def visible(model: str) -> list:
        takes = CONTROLS[family_of(model)]
        return [gr.update(visible=name in takes) for name in controls]

    def stylize(content, styles, model, size, steps, alpha, style_weights, preserve_color, direction,
                progress=gr.Progress()):
        return demo.run(content, styles, model, size, steps, alpha, style_weights, preserve_color, direction,
                        progress=lambda step, total: progress((step, total), desc="optimising", unit="steps"))

    def shown(name: str) -> dict:  # the element id, and shown if the first model takes it
        return {"elem_id": name, "visible": name in CONTROLS[family_of(first)]}

    with gr.Blocks(title="Stylezoo", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown("## Stylezoo\nUpload a photo, pick a model (and style images for the models that take any "
                    "style), press **Stylise**, download the result.")
        with gr.Row():
            with gr.Column():
                content = gr.File(label="Photo (any image) or short video", height=150, elem_id="content")
                style = gr.File(label="Style images (--style)", file_count="multiple", height=150, **shown("style"))
                model = gr.Dropdown(choices, value=first, label="Model (--model)", elem_id="model")
                button = gr.Button("Stylise", variant="primary", elem_id="stylise")
                status = gr.Textbox(label="Status", interactive=False, max_lines=3, elem_id="status")
            with gr.Column():
                source = gr.Image(label="Input", type="filepath", interactive=False, height=320, elem_id="input")
            with gr.Column():
                result = gr.Image(label="Result", type="filepath", interactive=False, height=320, elem_id="result")
                video = gr.Video(label="Result", interactive=False, visible=video_available(), elem_id="result_video")
                download = gr.File(label="Download", interactive=False, height=80, elem_id="download")
        with gr.Row():
            options = {  # in Demo.run's order
                "size": gr.Slider(16, demo.max_size, value=min(512, demo.max_size), step=1,
                                  label="Size: long edge in pixels (--size)", **shown("size")),
                "steps": gr.Slider(1, 2000, value=DEFAULT_STEPS, step=1, label="Steps (--steps)", **shown("steps")),
                "alpha": gr.Slider(0, 1, value=1, step=0.05, label="Alpha: content 0 .. style 1 (--alpha)",
                                   **shown("alpha")),
                "style_weights": gr.Textbox(label="Style weights (--style-weights)", placeholder="0.3,0.7",
                                            **shown("style_weights")),
                "preserve_color": gr.Radio([("off", ""), "luminance", "histogram"], value="",
                                           label="Keep the photo's colours (--preserve-color)",
                                           **shown("preserve_color")),
                "direction": gr.Radio(["AtoB", "BtoA"], value="AtoB", label="Direction (--direction)",
                                      **shown("direction")),
            }
        controls = {"style": style, **options}

        model.change(visible, model, list(controls.values()), queue=False, api_name=False)
        content.upload(demo.preview, content, [source, status], concurrency_limit=None, api_name="preview")
        button.click(stylize, [content, style, model, *options.values()],
                     [source, result, video, download, status], api_name="stylize")
    app.queue(max_size=queue, default_concurrency_limit=1)
    return app


def _theme():
    """Gradio's default theme with the system's fonts: the page loads nothing from the internet."""
    import gradio as gr

    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


def serve(demo: Demo, host: str = "127.0.0.1", port: int = 7860, queue: int = 8) -> None:
    """Serve the page on http://HOST:PORT until Ctrl-C."""
    app = build_app(demo, queue)
    launch(app, host, port)
    print(f"zoo demo: serving http://{host}:{port} (Ctrl-C stops it)", flush=True)
    app.block_thread()


def launch(app, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Start ``app`` in a background thread (gradio's settings for an offline, local page)."""
    for var in ("NO_PROXY", "no_proxy"):  # gradio checks its own URL at start: never through a proxy
        os.environ[var] = ",".join(filter(None, [os.environ.get(var), host, "127.0.0.1", "localhost"]))
    app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
               theme=_theme(), footer_links=[], max_file_size="200mb")
