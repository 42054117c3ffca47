"""``zoo demo``: the page's API driven with gradio_client (upload -> stylise -> result) for each family with
smoke weights, its errors (short lines, raised as errors) for bad input, Stop and a client that leaves
(the job is cancelled between steps), the server stopped during a job, memory under parallel large uploads,
its queue and cache, the output size, examples, the live webcam, the ``zoo demo`` command. The same page in a
real browser: tests/test_demo_browser.py."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import zoo
from conftest import make_image
from zoo.cli import main
from zoo.io import load_image

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client.exceptions import AppError  # noqa: E402

from zoo.demo import (CONTROLS, Cancelled, Demo, DemoError, api_parameters, build_app, examples,  # noqa: E402
                      launch, parse_weights)
from zoo.demo_jobs import short_message  # noqa: E402
from zoo.errors import ZooError  # noqa: E402
from zoo.options import OPTIONS, families_taking, option, page_options, takes  # noqa: E402

SIZE = 32
WAIT = 180  # seconds: generous limits for events, never a measure of speed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout=WAIT, what="the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says ``width`` x ``height`` (its pixel data is missing): only a reader that decodes
    before checking the size would notice."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("files")
    corrupt = d / "corrupt.png"
    corrupt.write_bytes(make_image(d / "whole.png", (40, 30)).read_bytes()[:200])  # truncated
    (d / "notes.png").write_text("not a picture\n")
    return {"content": make_image(d / "photo.png", (48, 36), seed=1),
            "style": make_image(d / "style.png", (40, 40), seed=2),
            "style2": make_image(d / "style2.jpg", (36, 44), seed=3),
            "large": make_image(d / "large.png", (80, 60), seed=5),  # over --max-size, under --max-pixels
            "huge": make_image(d / "huge.png", (200, 150), seed=4),  # over the server's --max-pixels
            "corrupt": corrupt, "notes": d / "notes.png"}


def adain_weights(folder: Path) -> str:
    """An AdaIN decoder with random weights scaled so that its picture is not flat (PyTorch's default init
    fades to a constant through its 9 convolutions): a save_pretrained folder, as --weights adain=DIR."""
    from zoo.nets.adain import AdaINNet

    torch.manual_seed(0)
    net = AdaINNet(backbone_weights="none")
    for m in net.decoder.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    net.save_pretrained(folder)
    return str(folder)


def serve_page(tmp_path_factory, **limits):
    """The page with smoke weights (random, and the decoder above for adain) and ``limits`` (max_size,
    max_pixels), served in this process on a free port, offline: yields (demo, app, client, url)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"HF_HUB_OFFLINE": "1", "TORCH_HOME": str(home / "torch"), "HF_HOME": str(home / "hf"),
                           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}.items():
            mp.setenv(key, value)
        for key in ("NO_PROXY", "no_proxy"):  # launch() adds this machine to them: restored afterwards
            mp.setenv(key, os.environ.get(key, ""))
        weights = parse_weights(["random", f"adain={adain_weights(home / 'adain')}"])
        demo = Demo(weights, backbone_weights="none", device="cpu", **limits)
        app = build_app(demo, queue=4)
        port = free_port()
        launch(app, port=port)
        url = f"http://127.0.0.1:{port}/"
        client = gradio_client.Client(url, verbose=False, analytics_enabled=False,
                                      download_files=str(tmp_path_factory.mktemp("downloads")))
        yield demo, app, client, url
        app.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve_page(tmp_path_factory, max_size=64, max_pixels=20_000)


def api_args(content, styles=(), model="johnson", **controls) -> list:
    """The /stylize call's arguments as the page sends them (in :func:`zoo.demo.api_parameters`' order): every
    control at its start value unless given; the size SIZE and 3 steps by default."""
    h = gradio_client.handle_file
    start = {o.name: o.default if o.page.value is None else o.page.value for o in page_options()}
    given = {"size": SIZE, "steps": 3, **controls, "style": [h(str(s)) for s in styles]}
    if given.get("masks"):
        given["masks"] = [h(str(m)) for m in given["masks"]]
    values = {"content": h(str(content)), "model": model, **start, **given}
    return [values[name] for name in api_parameters()]


def stylise(client, content, styles=(), model="johnson", **controls):
    """One /stylize call as the page makes it: ((input, result) or None, video, download, status)."""
    return client.predict(*api_args(content, styles, model, **controls), api_name="/stylize")


def error_of(client, *args, **kwargs) -> str:
    """The error a /stylize call raises (it must raise one)."""
    with pytest.raises(AppError) as info:
        stylise(client, *args, **kwargs)
    return str(info.value)


def as_uint8(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def family_request(family: str) -> dict:
    """What a request for ``family`` sets, from its record: every page option (but the files) that the family
    takes (:func:`zoo.options.takes`), at the option's example value, none at its default (so that an option
    the page dropped would change the picture)."""
    record = zoo.FAMILIES.get(family)
    return {o.name: o.example for o in page_options()
            if o.kind == "stylize" and o.page.kind != "files" and takes(record, o.name)}


def as_control(name: str, value):
    """A value as the option's page control holds it (a text field: the command line's text)."""
    return ",".join(f"{v:g}" for v in value) if option(name).page.kind == "text" else value


def python_picture(demo, family: str, content, styles=(), **options) -> np.ndarray:
    """zoo.stylize's picture (H, W, 3 uint8) with the server's settings: its weights, a random VGG."""
    if "backbone_weights" in CONTROLS[family]:
        options["backbone_weights"] = "none"
    if "weights" in CONTROLS[family]:
        options["weights"] = demo.weights_for(family)  # a folder of random weights
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # zoo.demo_core.SEED: the random weights the page drew
        expected = zoo.stylize(load_image(content), [load_image(s) for s in styles], model=family, device="cpu",
                               progress=False, **options)
    return expected[0].permute(1, 2, 0).mul(255).round().clamp(0, 255).to(torch.uint8).numpy()


def assert_same_picture(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape and np.abs(got.astype(int) - want.astype(int)).max() <= 1


@pytest.mark.parametrize("family", zoo.FAMILIES.names())
def test_each_family_matches_zoo_stylize(server, files, family):
    """upload -> stylise -> result for each family, with every option its record says it takes: the picture
    zoo.stylize makes from the same files and options (or its error line, where these smoke weights cannot
    serve an option: cyclegan's one exported network has no BtoA), at the requested size, not blank; the
    'before' of the before/after pair is the resized photo."""
    demo, _, client, _ = server
    request = family_request(family)
    count = len(request.get("style_weights") or [None]) if zoo.FAMILIES.get(family).needs_style else 0
    styles = [files["style"], files["style2"]][:count]
    controls = {name: as_control(name, value) for name, value in request.items()}
    try:
        want = python_picture(demo, family, files["content"], styles, **request)
    except ZooError as e:
        assert error_of(client, files["content"], styles, family, **controls) == short_message(e)
        return
    pair, video, download, status = stylise(client, files["content"], styles, family, **controls)

    assert status.startswith(f"{family}: 32x24 in "), status
    source, result = pair
    assert video is None and Path(download).read_bytes() == Path(result).read_bytes()
    assert Path(download).name == f"photo-{family}.png"
    got = as_uint8(result)
    assert got.shape == (24, 32, 3) and got.std() > 1.0  # not blank
    assert as_uint8(source).shape == (24, 32, 3)
    assert_same_picture(got, want)


@pytest.fixture(scope="module")
def large_server(tmp_path_factory):
    """The page with room for pictures larger than the tiles."""
    yield from serve_page(tmp_path_factory, max_size=320, max_pixels=100_000)


@pytest.mark.parametrize("family", families_taking("tile"))
def test_a_tiled_run_through_the_page_is_zoo_stylizes(large_server, tmp_path, family):
    """--tile through the page: a 300 x 200 picture in windows of 288 pixels is zoo.stylize's tiled picture (the
    untiled one), and a tile below the family's smallest is refused in its one line."""
    demo, _, client, _ = large_server
    content = make_image(tmp_path / "wide.png", (300, 200), seed=6)
    styles = [make_image(tmp_path / "style.png", (40, 40), seed=2)] if zoo.FAMILIES.get(family).needs_style else []
    assert error_of(client, content, styles, family, size=0, tile=16, steps=1).startswith("--tile must be at least")
    pair, _, _, status = stylise(client, content, styles, family, size=0, tile=288, steps=1)
    assert status.startswith(f"{family}: 300x200 in "), status
    steps = {"steps": 1} if "steps" in CONTROLS[family] else {}
    assert_same_picture(as_uint8(pair[1]), python_picture(demo, family, content, styles, tile=288, **steps))


@pytest.mark.parametrize("family", families_taking("masks"))
def test_a_masked_run_through_the_page_is_zoo_stylizes(server, files, tmp_path, family):
    """--masks through the page: two styles, each in its half of the picture, as zoo.stylize paints them; a mask
    count that is not the style count is the CLI's line."""
    left = np.zeros((36, 48), np.uint8)
    left[:, :24] = 255
    masks = [tmp_path / "left.png", tmp_path / "right.png"]
    Image.fromarray(left).save(masks[0])
    Image.fromarray(255 - left).save(masks[1])
    styles = [files["style"], files["style2"]]
    pair, _, _, status = stylise(server[2], files["content"], styles, family, masks=masks)
    assert status.startswith(f"{family}: 32x24 in "), status
    want = python_picture(server[0], family, files["content"], styles, size=SIZE, masks=[str(m) for m in masks],
                          **({"steps": 3} if "steps" in CONTROLS[family] else {}))
    assert_same_picture(as_uint8(pair[1]), want)
    assert error_of(server[2], files["content"], styles, family, masks=masks[:1]) == (
        "--masks: 1 masks for 2 style images: give one mask per style")


def test_output_size_defaults_to_the_input_and_says_when_reduced(server, files):
    """Size 0 (the slider's default): the photo's own size, never upscaled; over --max-size it is reduced
    to it, and the status line says so."""
    client = server[2]
    pair, _, _, status = stylise(client, files["content"], size=0)
    assert as_uint8(pair[1]).shape == (36, 48, 3) and status.startswith("johnson: 48x36 in ") and "reduced" not in status
    pair, _, _, status = stylise(client, files["large"], size=0)
    assert as_uint8(pair[1]).shape == (48, 64, 3)
    assert status.startswith("johnson: 64x48 in ") and status.endswith(" (reduced to --max-size 64)"), status
    path, _, line = client.predict(gradio_client.handle_file(str(files["large"])), api_name="/preview")
    assert line == "large.png: 80x60 (reduced to --max-size 64)" and as_uint8(path).shape == (48, 64, 3)


def test_preview_and_model_list(server, files):
    demo, _, client, _ = server
    path, video, status = client.predict(gradio_client.handle_file(str(files["content"])), api_name="/preview")
    assert status == "photo.png: 48x36" and as_uint8(path).shape == (36, 48, 3) and video is None

    names = [name for _, name in demo.choices()]
    tags = [t for t in zoo.list_models(pretrained=True) if t not in zoo.FAMILIES]
    assert names[:len(tags)] == tags  # pretrained tags first
    assert "cyclegan_photo2anime" in names  # a tag not published yet still shows
    assert names[-len(zoo.FAMILIES):] == zoo.FAMILIES.names()  # then the families
    assert names.count("adain") == 1 and len(names) == len(set(names))


def test_the_default_model_works_offline_with_smoke_weights(server, files):
    """Offline, with nothing cached, the page starts on a model the server has weights for (not a tag that
    needs a download), and it stylises."""
    demo, _, client, _ = server
    default = demo.default_model()
    assert default in zoo.FAMILIES and demo.weights_for(default) is not None
    styles = [files["style"]] if "style" in CONTROLS[default] else []
    assert stylise(client, files["content"], styles, default)[3].startswith(f"{default}: 32x24 in ")
    # without smoke weights nor anything cached there is nothing that works offline: the first tag
    assert Demo().default_model() == [n for _, n in Demo().choices()][0]
    assert Demo(backbone_weights="none").default_model() == "gatys"  # works offline, with random VGG weights


def message_of_cli(argv, capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    return lines[-1]


def test_missing_weights_are_a_short_error_without_server_paths(server, files, capsys, tmp_path):
    """A tag not cached offline: an error (not a result), the CLI's line cut to its first sentence, with
    file names instead of the server's paths."""
    client = server[2]
    for tag in ("johnson_candy", "cyclegan_photo2anime"):
        message = error_of(client, files["content"], [], tag)
        cli = message_of_cli(["stylize", str(files["content"]), "--model", tag, "-o", str(tmp_path / "x.png")], capsys)
        assert cli.startswith(f"error: pretrained weights {tag!r}") and message.startswith(cli[len("error: "):][:40])
        assert len(message) <= 200 and "\n" not in message
        assert os.environ["TORCH_HOME"] not in message and os.environ["HF_HOME"] not in message
        assert " /" not in message, message
    # a family the server has no --weights for
    cli = message_of_cli(["stylize", str(files["content"]), "--model", "johnson", "-o", str(tmp_path / "x.png")],
                         capsys)
    with pytest.raises(DemoError) as info:
        Demo().run(str(files["content"]), [], "johnson")
    assert "error: " + str(info.value) == cli and cli.startswith("error: model 'johnson' needs")


GATYS = ["--model", "gatys", "--backbone-weights", "none"]
ADAIN = ["--model", "adain", "--weights", "random", "--backbone-weights", "none"]
JOHNSON = ["--model", "johnson", "--weights", "W"]  # W: the page's random johnson weights


@pytest.mark.parametrize("case, model, message, cli", [
    ("notes", "johnson", "notes.png: not an image, or a format Pillow cannot read", JOHNSON),
    ("corrupt", "johnson", "corrupt.png: corrupt or truncated image (", JOHNSON),
    ("huge", "johnson", "huge.png: 200x150 image has 30,000 pixels, over the limit of 20,000 (raise it "
                        "with --max-pixels", JOHNSON + ["--max-pixels", "20000"]),
    ("no style", "gatys", "model 'gatys' needs at least one --style image", GATYS),
    ("no style", "adain", "model 'adain' needs at least one --style image", ADAIN),
    ("weights", "adain", "--style-weights has 3 values for 1 style images",
     ADAIN + ["--style", "S", "--style-weights", "1,2,3"]),
])
def test_bad_input_is_a_one_line_error_and_the_server_keeps_serving(server, files, case, model, message, cli,
                                                                    capsys, monkeypatch, tmp_path):
    """The page raises zoo stylize's line for the same input as an error; the next request works."""
    client = server[2]
    content = files.get(case, files["content"])
    kwargs = {"style_weights": "1,2,3"} if case == "weights" else {}
    styles = [files["style"]] if "S" in cli else []
    got = error_of(client, content, styles, model, **kwargs)
    assert got.startswith(message) and "\n" not in got, got
    assert "/tmp/" not in got and "gradio" not in got  # the upload's name, not the server's path
    monkeypatch.chdir(content.parent)
    paths = {"S": str(files["style"]), "W": server[0].weights_for("johnson")}
    argv = ["stylize", content.name, *(paths.get(a, a) for a in cli), "-o", str(tmp_path / "x.png")]
    assert message_of_cli(argv, capsys) == "error: " + got
    assert stylise(client, files["content"])[3].startswith("johnson: 32x24")  # still serving
    if case in ("notes", "corrupt", "huge"):  # the preview says the same
        with pytest.raises(AppError, match=f"^{message[:20]}"):
            client.predict(gradio_client.handle_file(str(content)), api_name="/preview")


@pytest.mark.parametrize("width, height", [(12_000, 8_000), (20_000, 10_000)])  # over Pillow's 89 MP and 179 MP
def test_the_pixel_limit_applies_before_decoding_with_the_projects_line(server, files, tmp_path, width, height):
    """Pictures over Pillow's decompression-bomb limits get the project's line, from the header alone."""
    big = png_header(tmp_path / "big.png", width, height)
    line = error_of(server[2], big)
    assert line.startswith("big.png: ") and "over the limit of 20,000 (raise it with --max-pixels" in line, line
    assert "decompression bomb" not in line.lower() and f"{width * height:,} pixels" in line
    with pytest.raises(DemoError, match="over the limit of 50,000,000"):
        Demo().preview(str(big))


def test_sizes_over_max_size_are_refused(server, files):
    with pytest.raises(Exception, match="greater than maximum value 64"):  # the size slider's bound: --max-size
        stylise(server[2], files["content"], size=65)
    assert stylise(server[2], files["content"])[3].startswith("johnson: 32x24")


def write_clip(path: Path, frames=3, size=(48, 36)) -> Path:
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
        for i in range(frames):
            frame = np.asarray(Image.open(make_image(path.parent / f"{i}.png", size, seed=i)))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


@pytest.mark.parametrize("temporal", [False, True])
def test_video_goes_through_zoo_video_with_frame_progress(server, tmp_path, temporal):
    """A clip comes back stylised (as many frames, at the page's size), with --temporal where asked; the
    preview describes it; the run reports each frame."""
    if not zoo.demo.video_available():
        pytest.skip("zoo.video is not installed")
    from zoo.video import read_frames

    demo, _, client, _ = server
    clip = write_clip(tmp_path / "clip.mp4")
    _, shown, line = client.predict(gradio_client.handle_file(str(clip)), api_name="/preview")
    assert line == "clip.mp4: video, 48x36, 3 frames" and Path(shown).suffix == ".mp4"
    pair, video, download, status = stylise(client, clip, [], "johnson", temporal=temporal)
    assert status.startswith("johnson: video in ") and pair is None
    assert Path(video).name == "clip-johnson.mp4" and Path(download).read_bytes() == Path(video).read_bytes()
    frames = list(read_frames(video))
    assert len(frames) == 3 and frames[0].shape == (1, 3, 24, 32)

    seen = []
    demo.run(str(clip), [], "johnson", size=SIZE, temporal=temporal, progress=lambda *a: seen.append(a))
    assert seen == [(1, 3, "frames"), (2, 3, "frames"), (3, 3, "frames")]


def test_temporal_on_a_picture_is_refused(server, files):
    assert error_of(server[2], files["content"], temporal=True) == "--temporal is for videos; this is a picture"


def test_requests_queue_one_at_a_time(server, files):
    """Four requests sent at once run one after the other (no two stylisations overlap), all succeed."""
    demo, app, client, _ = server
    spans, run = [], demo.run

    def timed(*args, **kwargs):
        start = time.perf_counter()
        out = run(*args, **kwargs)
        spans.append((start, time.perf_counter()))
        return out

    demo.run = timed
    try:
        jobs = [client.submit(*api_args(files["content"]), api_name="/stylize") for _ in range(4)]
        statuses = [job.result(timeout=WAIT)[3] for job in jobs]
    finally:
        del demo.run
    assert all(s.startswith("johnson: 32x24") for s in statuses), statuses
    spans.sort()
    assert len(spans) == 4 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert app._queue.max_size == 4


class Held:
    """Wraps ``demo.run``: a Gatys job reports its 2nd step, then waits (up to WAIT s) until it is cancelled,
    so that the test decides when it is stopped, whatever the machine's speed. Records how each run ended."""

    def __init__(self, demo):
        self.demo, self.run = demo, demo.run
        self.started, self.ended = threading.Event(), threading.Event()
        self.outcome, self.steps = None, []

    def __call__(self, *args, **kwargs):
        report, job = kwargs["progress"], kwargs["job"]

        def progress(done, total, unit):
            self.steps.append(done)
            if done == 2:
                self.started.set()
                deadline = time.monotonic() + WAIT
                while not job.cancelled and time.monotonic() < deadline:
                    time.sleep(0.05)
            report(done, total, unit)

        kwargs["progress"] = progress
        try:
            out = self.run(*args, **kwargs)
            self.outcome = "finished"
            return out
        except Cancelled as e:
            self.outcome = f"cancelled: {e}"
            raise
        finally:
            self.ended.set()

    def __enter__(self):
        self.demo.run = self
        return self

    def __exit__(self, *exc):
        del self.demo.run


def long_gatys(client, files):
    return client.submit(*api_args(files["content"], [files["style"]], "gatys", steps=2000), api_name="/stylize")


def test_stop_cancels_a_running_gatys_job_between_steps(server, files):
    """Stop (gradio's cancel of the event) ends the job at its next step; the next request runs."""
    demo, _, client, _ = server
    with Held(demo) as held:
        job = long_gatys(client, files)
        assert held.started.wait(WAIT), "the job did not start"
        job.cancel()
        assert held.ended.wait(WAIT)
    assert held.outcome == "cancelled: stopped" and max(held.steps) == 2
    assert not demo.busy.locked()
    assert stylise(client, files["content"])[3].startswith("johnson: 32x24")


def test_a_client_that_leaves_cancels_its_job(server, files, tmp_path):
    """A client killed while its Gatys job runs (a closed tab): the job ends at its next step.

    The client is killed once it listens to the job's stream (it has seen the job start), as a tab that is
    closed while it shows the progress: before that, the server has no connection whose end it could see."""
    demo, _, client, url = server
    script = textwrap.dedent(f"""
        import time, gradio_client
        from gradio_client.utils import Status
        c = gradio_client.Client({url!r}, verbose=False, analytics_enabled=False)
        job = c.submit(*{api_args(files["content"], [files["style"]], "gatys", steps=2000)!r}, api_name="/stylize")
        while job.status().code not in (Status.PROCESSING, Status.PROGRESS):
            time.sleep(0.05)
        print("listening", flush=True)
        time.sleep(600)
    """)
    env = dict(os.environ, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    with Held(demo) as held:
        proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert held.started.wait(WAIT), "the job did not start"
            said: list[str] = []
            reader = threading.Thread(target=lambda: said.append(proc.stdout.readline()), daemon=True)
            reader.start()
            reader.join(WAIT)
            assert said == ["listening\n"], "the client did not see its job start"
        finally:
            proc.kill()
            proc.wait()
        assert held.ended.wait(WAIT)
    assert held.outcome == "cancelled: the client left" and max(held.steps) == 2
    assert stylise(client, files["content"])[3].startswith("johnson: 32x24")


def test_stylizers_are_built_once_and_report_gatys_progress(server, files):
    demo = server[0]
    opts = demo.options("gatys", size=SIZE, steps=3)
    assert demo.stylizer(opts) is demo.stylizer(opts)
    assert demo.stylizer(opts) is not demo.stylizer(demo.options("gatys", size=SIZE, steps=4))
    steps = []
    status = demo.run(str(files["content"]), [str(files["style"])], "gatys", size=SIZE, steps=3,
                      progress=lambda *a: steps.append(a))[4]
    assert status.startswith("gatys: 32x24") and steps == [(1, 3, "steps"), (2, 3, "steps"), (3, 3, "steps")]
    assert demo.stylizer(opts).on_step is None  # the cached stylizer does not keep this request's callback


def picture(path: Path, kind: str) -> Path:
    if kind == "16-bit":
        Image.fromarray(np.linspace(0, 65535, 80 * 60).reshape(60, 80).astype(np.uint16)).save(path)
    elif kind == "cmyk":
        Image.new("CMYK", (80, 60), (10, 200, 30, 0)).save(path)
    elif kind == "transparent":
        Image.new("RGBA", (80, 60), (255, 0, 0, 0)).save(path)
    else:  # EXIF orientation 6: shown rotated, 40 x 80
        img = Image.fromarray((np.random.default_rng(0).random((40, 80, 3)) * 255).astype(np.uint8))
        exif = img.getexif()
        exif[0x0112] = 6
        img.save(path, exif=exif)
    return path


@pytest.mark.parametrize("kind, suffix, shown", [("16-bit", ".png", "80x60"), ("cmyk", ".jpg", "80x60"),
                                                 ("transparent", ".png", "80x60"), ("rotated", ".jpg", "40x80")])
def test_previews_decoded_small_are_the_readers_picture(tmp_path, kind, suffix, shown):
    """The reduced-size preview reads every kind of picture as zoo.io.load_image does (16-bit, CMYK,
    transparency on white, EXIF rotation), reduced to --max-size."""
    path = picture(tmp_path / f"p{suffix}", kind)
    demo = Demo(max_size=64)  # kept: its folder (with the preview) goes with it
    preview, line, _ = demo.preview(str(path))
    assert line == f"p{suffix}: {shown} (reduced to --max-size 64)"
    got, full = load_image(preview), load_image(path)
    assert max(got.shape[-2:]) == 64
    assert got.shape[-1] / got.shape[-2] == pytest.approx(full.shape[-1] / full.shape[-2], rel=0.05)
    assert (got.mean((2, 3)) - full.mean((2, 3))).abs().max() < 0.02


def test_old_request_files_are_removed(files):
    demo = Demo()
    assert demo.preview(str(files["content"]))[1] == "photo.png: 48x36"
    (old,) = demo.workdir.glob("request-*")
    os.utime(old, (time.time() - 3600,) * 2)
    assert demo.preview(str(files["content"]))[1] == "photo.png: 48x36"
    assert old not in demo.workdir.glob("request-*") and len(list(demo.workdir.glob("request-*"))) == 1


def test_examples_ship_with_a_licence_and_are_drawn_by_the_script(tmp_path):
    """The examples: photos with a style each, small, CC0, and what zoo/demo_examples/make.py draws."""
    from zoo.demo_examples import make

    pairs = examples()
    assert len(pairs) >= 2 and all(Path(p).name.startswith("photo-") and len(s) == 1 for p, s in pairs)
    folder = Path(zoo.__file__).parent / "demo_examples"
    shipped = sorted(folder.glob("*.jpg"))
    assert len(shipped) == len(make.PICTURES) and all(p.stat().st_size < 100_000 for p in shipped)
    assert "CC0" in (folder / "LICENSE.md").read_text()
    for path in make.main(tmp_path):
        assert np.abs(as_uint8(path).astype(int) - as_uint8(folder / path.name).astype(int)).mean() < 2
    demo = Demo()
    for photo, _ in pairs:
        assert demo.preview(photo)[1].startswith(f"{Path(photo).name}: 384x")


def test_live_webcam_frames(server):
    """A webcam frame through a feed-forward model comes back at the frame's size (up to the live edge);
    models that optimise or take style images are refused with a line saying what to do."""
    demo = server[0]
    frame = (np.random.default_rng(0).random((30, 40, 3)) * 255).astype(np.uint8)
    out = demo.live(frame, "johnson", 384)
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8 and out.std() > 1.0
    assert demo.live(np.zeros((200, 100, 3), np.uint8), "johnson", 384).shape == (64, 32, 3)  # --max-size 64
    for model in ("gatys", "adain"):
        with pytest.raises(DemoError, match="live webcam is for feed-forward models .* take a snapshot"):
            demo.live(frame, model, 384)


def serve_subprocess(tmp_path, *extra):
    """``zoo demo`` with smoke weights on a free port, its temporary files under tmp_path/tmp: (proc, url)."""
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TORCH_HOME=str(tmp_path / "torch"), HF_HOME=str(tmp_path / "hf"),
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", PYTHONWARNINGS="ignore",
               TMPDIR=str(tmp_path / "tmp"), NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
               PYTHONPATH=os.pathsep.join(filter(None, [str(Path(zoo.__file__).parent.parent),
                                                        os.environ.get("PYTHONPATH")])))
    env.pop("GRADIO_TEMP_DIR", None)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "zoo", "demo", "--port", str(port), "--weights", "random",
                             "--backbone-weights", "none", *extra], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + WAIT
    while True:
        try:
            opener.open(url, timeout=2).close()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"zoo demo did not start: {proc.communicate()[1][-2000:]}")
            time.sleep(0.3)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_during_a_job_stops_cleanly(tmp_path, files, sig):
    """SIGINT (Ctrl-C) or SIGTERM while a Gatys job runs: the job is cancelled, the process exits 0 without an
    abort or a traceback, and its temporary files (results, Gradio's copies of uploads) are gone."""
    proc, url = serve_subprocess(tmp_path)
    try:
        client = gradio_client.Client(url, verbose=False, analytics_enabled=False)
        job = client.submit(*api_args(files["content"], [files["style"]], "gatys", size=64, steps=2000),
                            api_name="/stylize")
        wait_for(lambda: (job.status().progress_data or [None])[0] is not None, what="the job's first steps")
        assert os.listdir(tmp_path / "tmp")  # the server's files
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode in (0, 130), err[-2000:]
    assert "cancelling the running job" in out and out.rstrip().endswith("zoo demo: stopped"), out
    assert "terminate called" not in err and "Traceback" not in err, err[-2000:]
    left = [name for name in os.listdir(tmp_path / "tmp") if not name.startswith("torchinductor")]  # torch's cache
    assert not left, left


def peak_mb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's peak memory from /proc")
def test_parallel_large_uploads_keep_the_servers_memory_bounded(tmp_path):
    """Four 16-megapixel uploads previewed at once: the server's peak memory grows by far less than four
    full-size decodes (each 16 MP picture is 192 MB as float32; the old preview peaked 1.6 GB higher)."""
    yy, xx = np.mgrid[0:4000, 0:4000]
    pixels = np.stack([xx * 255 // 4000, yy * 255 // 4000, (xx + yy) % 256], -1).astype(np.uint8)
    big = tmp_path / "big.png"
    Image.fromarray(pixels).save(big, compress_level=1)
    del pixels, xx, yy
    proc, url = serve_subprocess(tmp_path)
    try:
        client = gradio_client.Client(url, verbose=False, analytics_enabled=False)
        before = peak_mb(proc.pid)[0]
        jobs = [client.submit(gradio_client.handle_file(str(big)), api_name="/preview") for _ in range(4)]
        lines = [job.result(timeout=WAIT)[2] for job in jobs]
        peak = peak_mb(proc.pid)[1]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=WAIT)
    assert lines == ["big.png: 4000x4000 (reduced to --max-size 1024)"] * 4
    assert peak - before < 700, (before, peak)


# Values different from each option's default (its declared example), to ask every family's builder whether it
# takes the option: the page's and the server's options.
PROBED = {o.name for o in page_options()} | {"weights", "backbone_weights"}
PROBES = {o.name: o.example for o in OPTIONS if o.name in PROBED and o.example is not None}


@pytest.mark.parametrize("family", zoo.FAMILIES.names())
def test_controls_table_matches_the_builders(family, monkeypatch, tmp_path):
    """The page shows exactly the options a family's builder takes: the others it rejects."""
    from zoo.stylize import StylizeOptions, build_stylizer

    for key, value in {"HF_HUB_OFFLINE": "1", "TORCH_HOME": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9",
                       "HTTP_PROXY": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(key, value)
    for name, value in PROBES.items():
        try:
            build_stylizer(StylizeOptions(model=family, progress=False, **{name: value}))
            rejected = False
        except Exception as e:  # noqa: BLE001 - needing weights is fine; only "does not support" counts
            rejected = "does not support" in str(e)
        assert rejected == (name not in CONTROLS[family]), (family, name)


def test_default_steps_is_the_cli_default():
    from zoo.demo import DEFAULT_STEPS
    from zoo.variants.gatys import DEFAULT_STEPS as CLI_DEFAULT

    assert DEFAULT_STEPS == CLI_DEFAULT


def test_import_zoo_does_not_import_gradio():
    code = "import sys, zoo, zoo.cli, zoo.demo; sys.exit('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


def test_zoo_demo_without_gradio_is_one_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio fails
    assert main(["demo"]) == 1
    assert capsys.readouterr().err == ('error: the web page (zoo demo) needs gradio, which is not installed: '
                                       'pip install "stylezoo[demo]"\n')


def test_zoo_demo_on_a_busy_port_is_one_line(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: --host 127.0.0.1 --port {port}: cannot serve there") and err.count("\n") == 1
