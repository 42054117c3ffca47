"""``zoo demo``: a web page to stylise pictures in the browser, a thin layer over ``zoo stylize``'s Python API.

What the page does is :class:`zoo.demo_core.Demo` (it reads pictures with :func:`zoo.io.load_image`, builds
stylizers with :func:`zoo.stylize.build_stylizer`, writes results with :func:`zoo.io.save_image`: the same
validation, pictures and error lines as the CLI); this module is the page: :func:`build_app`, :func:`serve`.
Its option controls are generated from the option declarations (:data:`zoo.options.OPTIONS`).

Why Gradio (the ``demo`` extra): it is made for exactly this (file upload and download components, a
request queue with a size limit and a concurrency limit, progress bars fed from Python, Stop buttons that
cancel an event), it serves its front end from the installed package, so the page works offline, and its
Python client (``gradio_client``) calls the page's API in tests without a browser. Gradio is imported by
:func:`build_app` only: ``import zoo`` and ``import zoo.demo`` do not import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable

from .demo_core import CONTROLS, Demo, controls, family_of, parse_weights
from .demo_jobs import (VIDEO_EXTENSIONS, Cancelled, DemoError, Job, check_pixels, is_video, short_message,
                        video_available)
from .options import DEFAULT_STEPS, Option, page_options

__all__ = ["Demo", "Job", "Cancelled", "DemoError", "CONTROLS", "controls", "VIDEO_EXTENSIONS", "DEFAULT_STEPS",
           "family_of", "parse_weights", "is_video", "video_available", "check_pixels", "short_message",
           "EXAMPLES", "examples", "api_parameters", "build_app", "serve", "launch"]

EXAMPLES = Path(__file__).parent / "demo_examples"  # pictures made by zoo/demo_examples/make.py (CC0)
LIVE_EDGE = 384  # the live webcam's frames are stylised at most this long


def examples() -> list[list]:
    """The page's examples: [photo, [style]] pairs from :data:`EXAMPLES` (photo-*.jpg with style-*.jpg)."""
    photos, styles = sorted(EXAMPLES.glob("photo-*.jpg")), sorted(EXAMPLES.glob("style-*.jpg"))
    if not photos or not styles:
        return []
    return [[str(p), [str(styles[i % len(styles)])]] for i, p in enumerate(photos)]


def _alive(app) -> Callable[[], bool]:
    """Whether the current Gradio event still has a client: Gradio marks a running event not ``alive`` when
    its client's stream closes (a closed tab, a killed client) but lets the function run on."""
    from gradio.context import LocalContext

    event_id = LocalContext.event_id.get(None)
    queue = getattr(app, "_queue", None)

    def alive() -> bool:
        for jobs in list(getattr(queue, "active_jobs", None) or []):
            for event in list(jobs or []):
                if getattr(event, "_id", None) == event_id:
                    return bool(getattr(event, "alive", True))
        return True

    return alive


# ---------------------------------------------------------------------------------------- the page
CSS = "#status textarea {font-weight: 600}"


def _control(gr, o: Option, max_size: int, visible: bool):
    """The page's component of the option ``o`` (its declared :class:`zoo.options.Control`), with the option's
    name as its element id; a slider without a maximum goes up to the server's --max-size."""
    c = o.page
    common = {"label": c.label, "elem_id": o.name, "visible": visible}
    value = o.default if c.value is None else c.value
    if c.kind == "slider":
        return gr.Slider(c.minimum, max_size if c.maximum is None else c.maximum, value=value, step=c.step, **common)
    if c.kind == "number":
        return gr.Number(value, minimum=c.minimum, step=c.step, precision=0, **common)
    if c.kind == "text":
        return gr.Textbox(placeholder=c.placeholder, **common)
    if c.kind == "choice":
        return gr.Radio(list(c.choices), value=value, **common)
    if c.kind == "files":
        return gr.File(file_count="multiple", height=150, **common)
    if c.kind == "checkbox":
        return gr.Checkbox(bool(value), **common)
    raise ValueError(f"option {o.name}: unknown control kind {c.kind!r}")


def api_parameters() -> list[str]:
    """The parameters of the page's ``/stylize`` API, in order: the content, the model, then every option with a
    page control (:func:`zoo.options.page_options`), by its name."""
    return ["content", "model", *(o.name for o in page_options())]


def build_app(demo: Demo, queue: int = 8):
    """The Gradio page over ``demo``. Its option controls are generated from the declarations
    (:data:`zoo.options.OPTIONS`), shown for the families that take them. Stylisations run one at a time; up to
    ``queue`` more wait their turn (the page says so when the queue is full); Stop, or a client that leaves,
    cancels a running one. Its API (``/stylize`` with :func:`api_parameters`, ``/preview``, ``/live``) serves
    gradio_client too."""
    import gradio as gr

    choices = demo.choices()
    first = demo.default_model()
    fields = page_options()
    per_model = [o for o in fields if o.kind != "video"]  # shown by model; the video ones for a video upload

    def visible(model: str) -> list:
        takes = CONTROLS[family_of(model)]
        return [gr.update(visible=o.name in takes) for o in per_model]

    def preview(content):
        try:
            path, line, _ = demo.preview(content)
        except DemoError as e:
            raise gr.Error(str(e), duration=None, print_exception=False) from None
        return path, content if content and is_video(content) else None, line

    def layout(content):  # a video upload shows the video's controls instead of the picture's
        video = bool(content) and is_video(content)
        return [gr.update(visible=not video), gr.update(visible=video)] + [gr.update(visible=video)] * len(videos)

    async def stylize(*args):
        """(content, model, *the page's option values, progress): its signature is api_parameters()'."""
        content, model, *values, progress = args
        controls = dict(zip((o.name for o in fields), values))
        styles = controls.pop("style", None)
        job = demo.new_job(_alive(app))

        def report(done: int, total: int | None, unit: str) -> None:
            progress((done, total), desc="optimising" if unit == "steps" else "stylising", unit=unit)

        try:
            source, result, video, download, line = await asyncio.to_thread(
                lambda: demo.run(content, styles, model, progress=report, job=job, **controls))
        except asyncio.CancelledError:  # Stop: Gradio cancels this task; the thread stops at its next check
            job.cancel("stopped")
            raise
        except DemoError as e:
            raise gr.Error(str(e), duration=None, print_exception=False) from None
        except Cancelled as e:
            raise gr.Error(f"stopped: {e}", duration=None, print_exception=False) from None
        return ((source, result) if result else None), video, download, line

    stylize.__signature__ = inspect.Signature(  # Gradio reads the API's parameters from the signature
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in api_parameters()]
        + [inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress())])

    def live(frame, model):
        try:
            return demo.live(frame, model, LIVE_EDGE)
        except DemoError as e:
            raise gr.Error(str(e), print_exception=False) from None

    def shown(o: Option) -> bool:  # shown if the first model takes it (the video options: for a video)
        return o.kind != "video" and o.name in CONTROLS[family_of(first)]

    with gr.Blocks(title="Stylezoo", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown("## Stylezoo\nUpload a photo (or a short video, or take one with the webcam), pick a model "
                    "(and style images for the models that take any style), press **Stylise**, compare and "
                    "download the result.")
        controls = {}
        with gr.Row():
            with gr.Column():
                content = gr.File(label="Photo (any image) or short video", height=150, elem_id="content")
                with gr.Accordion("Webcam", open=False, elem_id="webcam_panel"):
                    snapshot = gr.Image(label="Snapshot: stylise it with the button below", sources=["webcam"],
                                        type="filepath", image_mode=None, elem_id="webcam")
                for o in fields:  # style images and masks: files, beside the photo
                    if o.page.kind == "files":
                        controls[o.name] = _control(gr, o, demo.max_size, shown(o))
                model = gr.Dropdown(choices, value=first, label="Model (--model)", elem_id="model")
                with gr.Row():
                    button = gr.Button("Stylise", variant="primary", elem_id="stylise")
                    stop = gr.Button("Stop", variant="stop", elem_id="stop")
                status = gr.Textbox(label="Status", interactive=False, max_lines=3, elem_id="status")
            with gr.Column():
                source = gr.Image(label="Input", type="filepath", interactive=False, height=320, elem_id="input",
                                  buttons=["download", "fullscreen"])
                source_video = gr.Video(label="Input video", interactive=False, visible=False, elem_id="input_video",
                                        buttons=[])
            with gr.Column():
                result = gr.ImageSlider(label="Before / after", type="filepath", interactive=False, max_height=320,
                                        elem_id="result", buttons=["download", "fullscreen"])
                video = gr.Video(label="Result", interactive=False, visible=False, elem_id="result_video",
                                 buttons=["download"])
                download = gr.File(label="Download", interactive=False, height=80, elem_id="download")
        with gr.Row():
            for o in fields:
                if o.page.kind != "files":
                    controls[o.name] = _control(gr, o, demo.max_size, shown(o))
        with gr.Accordion("Live webcam (feed-forward models)", open=False, elem_id="live_panel"):
            with gr.Row():
                live_in = gr.Image(label="Webcam", sources=["webcam"], streaming=True, type="numpy", elem_id="live_in")
                live_out = gr.Image(label="Stylised", interactive=False, elem_id="live_out",
                                    buttons=["download", "fullscreen"])
        if examples():
            gr.Examples(examples(), [content, controls["style"]], label="Examples (CC0 pictures made by the project)",
                        example_labels=[Path(p).stem for p, _ in examples()])
        videos = [controls[o.name] for o in fields if o.kind == "video"]

        model.change(visible, model, [controls[o.name] for o in per_model], queue=False, api_name=False)
        # an example sets the style box with the visibility it was built with: the model's, again
        controls["style"].change(lambda m: gr.update(visible="style" in CONTROLS[family_of(m)]), model,
                                 controls["style"], queue=False, api_name=False)
        content.change(layout, content, [source, source_video, *videos], queue=False, api_name=False)
        content.change(preview, content, [source, source_video, status], concurrency_limit=1,
                       concurrency_id="preview", show_progress_on=[source], api_name="preview")
        snapshot.change(lambda path: path, snapshot, content, queue=False, api_name=False)
        run = button.click(lambda: "", None, status, queue=False, api_name=False).then(
            stylize, [content, model, *(controls[o.name] for o in fields)], [result, video, download, status],
            show_progress_on=[result], concurrency_id="stylize", concurrency_limit=1, api_name="stylize")
        run.then(lambda clip: (gr.update(visible=clip is None), gr.update(visible=clip is not None)), video,
                 [result, video], queue=False, api_name=False)
        stop.click(lambda: "stopped", None, status, cancels=[run], queue=False, api_name=False)
        live_in.stream(live, [live_in, model], live_out, stream_every=0.5, time_limit=120, concurrency_limit=1,
                       concurrency_id="stylize", api_name="live")
    app.queue(max_size=queue, default_concurrency_limit=1)
    return app


def _theme():
    """Gradio's default theme with the system's fonts: the page loads nothing from the internet."""
    import gradio as gr

    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


def serve(demo: Demo, host: str = "127.0.0.1", port: int = 7860, queue: int = 8) -> None:
    """Serve the page on http://HOST:PORT until Ctrl-C (or SIGTERM): then the running job is cancelled and
    waited for, the server closed and its files (results, and Gradio's copies of uploads, unless
    $GRADIO_TEMP_DIR says where they go) removed, and this returns. A second Ctrl-C exits at once (130)."""
    os.environ.setdefault("GRADIO_TEMP_DIR", str(demo.workdir / "gradio"))
    app = build_app(demo, queue)
    launch(app, host, port)
    print(f"zoo demo: serving http://{host}:{port} (Ctrl-C stops it)", flush=True)
    stopped = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while app.is_running and not stopped.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    try:
        if demo.busy.locked():
            print("zoo demo: stopping: cancelling the running job (Ctrl-C again to quit at once)", flush=True)
        demo.close()
        app.close(verbose=False)
    except KeyboardInterrupt:
        demo.close(timeout=0)
        print("zoo demo: interrupted", file=sys.stderr, flush=True)
        os._exit(130)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    _remove_empty_gradio_folders()
    print("zoo demo: stopped", flush=True)


def _remove_empty_gradio_folders() -> None:
    """Gradio makes ``<its temp dir>/vibe_edit_history`` at start (named at its import, before serve() could
    point $GRADIO_TEMP_DIR at the server's folder): removed again where empty, so that nothing is left."""
    import gradio.routes

    folder = getattr(gradio.routes, "DEFAULT_TEMP_DIR", None)
    for path in ([Path(folder) / "vibe_edit_history", Path(folder)] if folder else []):
        with contextlib.suppress(OSError):
            path.rmdir()


def launch(app, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Start ``app`` in a background thread (gradio's settings for an offline, local page)."""
    for var in ("NO_PROXY", "no_proxy"):  # gradio checks its own URL at start: never through a proxy
        os.environ[var] = ",".join(filter(None, [os.environ.get(var), host, "127.0.0.1", "localhost"]))
    app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
               theme=_theme(), css=CSS, footer_links=[], max_file_size="200mb")
