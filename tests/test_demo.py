"""``zoo demo``: the page's API driven with gradio_client (upload -> stylise -> result) for each family with
smoke weights, its error lines for bad input, its queue and cache, the ``zoo demo`` command. The same page
in a real browser: tests/test_demo_browser.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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

from zoo.demo import CONTROLS, Demo, build_app, launch, parse_weights  # noqa: E402

SIZE = 32
# The options each family's request sets (none at its default, so a dropped option changes the picture).
REQUESTS = {
    "gatys": {"steps": 3, "style_weights": "1,3", "styles": 2},
    "johnson": {"preserve_color": "luminance"},
    "cyclegan": {"preserve_color": "luminance"},
    "adain_gan": {"alpha": 0.6, "style_weights": "0.3,0.7", "styles": 2},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("files")
    corrupt = d / "corrupt.png"
    corrupt.write_bytes(make_image(d / "whole.png", (40, 30)).read_bytes()[:200])  # truncated
    (d / "notes.png").write_text("not a picture\n")
    return {"content": make_image(d / "photo.png", (48, 36), seed=1),
            "style": make_image(d / "style.png", (40, 40), seed=2),
            "style2": make_image(d / "style2.jpg", (36, 44), seed=3),
            "huge": make_image(d / "huge.png", (200, 150), seed=4),  # over the server's --max-pixels
            "corrupt": corrupt, "notes": d / "notes.png"}


def adain_weights(folder: Path) -> str:
    """An AdaIN decoder with random weights scaled so that its picture is not flat (PyTorch's default init
    fades to a constant through its 9 convolutions): a save_pretrained folder, as --weights adain_gan=DIR."""
    from zoo.nets.adain import AdaINNet

    torch.manual_seed(0)
    net = AdaINNet(backbone_weights="none")
    for m in net.decoder.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    net.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page with smoke weights (random, and the decoder above for adain_gan), served in this process on a
    free port, offline: (demo, app, client)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"HF_HUB_OFFLINE": "1", "TORCH_HOME": str(home / "torch"), "HF_HOME": str(home / "hf"),
                           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}.items():
            mp.setenv(key, value)
        for key in ("NO_PROXY", "no_proxy"):  # launch() adds this machine to them: restored afterwards
            mp.setenv(key, os.environ.get(key, ""))
        weights = parse_weights(["random", f"adain_gan={adain_weights(home / 'adain')}"])
        demo = Demo(weights, backbone_weights="none", max_size=64, max_pixels=20_000, device="cpu")
        app = build_app(demo, queue=4)
        port = free_port()
        launch(app, port=port)
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False, analytics_enabled=False,
                                      download_files=str(tmp_path_factory.mktemp("downloads")))
        yield demo, app, client
        app.close()


def stylise(client, content, styles=(), model="johnson", size=SIZE, steps=3, alpha=1.0, style_weights="",
            preserve_color="", direction="AtoB"):
    """One /stylize call as the page makes it: (input, result, video, download, status)."""
    h = gradio_client.handle_file
    return client.predict(h(str(content)), [h(str(s)) for s in styles], model, size, steps, alpha, style_weights,
                          preserve_color, direction, api_name="/stylize")


def as_uint8(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.parametrize("family", sorted(REQUESTS))
def test_each_family_matches_zoo_stylize(server, files, family):
    """upload -> stylise -> result for one model of each family: the picture zoo.stylize makes from the same
    files and options, at the requested size, not blank; the input shown beside it is the resized photo."""
    demo, _, client = server
    request = dict(REQUESTS[family])
    styles = [files["style"], files["style2"]][:request.pop("styles", 1)] if "style" in CONTROLS[family] else []
    source, result, video, download, status = stylise(client, files["content"], styles, family, **request)

    assert status.startswith(f"{family}: 32x24 in "), status
    assert video is None and Path(download).read_bytes() == Path(result).read_bytes()
    assert Path(download).name == f"photo-{family}.png"
    got = as_uint8(result)
    assert got.shape == (24, 32, 3) and got.std() > 1.0  # not blank
    assert as_uint8(source).shape == (24, 32, 3)

    options = {k: v for k, v in request.items() if k != "style_weights"}
    if "style_weights" in request:
        options["style_weights"] = [float(w) for w in request["style_weights"].split(",")]
    if "backbone_weights" in CONTROLS[family]:
        options["backbone_weights"] = "none"
    if "weights" in CONTROLS[family]:
        options["weights"] = demo.weights_for(family)  # a folder of random weights
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # zoo.demo.SEED: the random weights the page drew
        expected = zoo.stylize(load_image(files["content"]), [load_image(s) for s in styles], model=family,
                               size=SIZE, device="cpu", progress=False, **options)
    want = expected[0].permute(1, 2, 0).mul(255).round().clamp(0, 255).to(torch.uint8).numpy()
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_preview_and_model_list(server, files):
    demo, _, client = server
    path, status = client.predict(gradio_client.handle_file(str(files["content"])), api_name="/preview")
    assert status == "photo.png: 48x36 preview" and as_uint8(path).shape == (36, 48, 3)

    names = [name for _, name in demo.choices()]
    tags = [t for t in zoo.list_models(pretrained=True) if t not in zoo.FAMILIES]
    assert names[:len(tags)] == tags  # pretrained tags first
    assert "cyclegan_photo2anime" in names  # a tag not published yet still shows
    assert names[-len(zoo.FAMILIES):] == zoo.FAMILIES.names()  # then the families
    assert names.count("adain") == 1 and len(names) == len(set(names))


def message_of_cli(argv, capsys) -> str:
    capsys.readouterr()
    assert main(argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    return lines[-1]


def test_missing_weights_show_the_cli_line(server, files, capsys, tmp_path):
    _, _, client = server
    for tag in ("johnson_candy", "cyclegan_photo2anime"):
        out = stylise(client, files["content"], [], tag)
        cli = message_of_cli(["stylize", str(files["content"]), "--model", tag, "-o", str(tmp_path / "x.png")], capsys)
        assert out[:4] == (None, None, None, None)
        assert out[4] == cli and cli.startswith(f"error: pretrained weights {tag!r}")
    # a family the server has no --weights for
    cli = message_of_cli(["stylize", str(files["content"]), "--model", "johnson", "-o", str(tmp_path / "x.png")],
                         capsys)
    assert Demo().run(str(files["content"]), [], "johnson")[4] == cli and cli.startswith("error: model 'johnson' needs")


GATYS = ["--model", "gatys", "--backbone-weights", "none"]
ADAIN = ["--model", "adain_gan", "--weights", "random", "--backbone-weights", "none"]
JOHNSON = ["--model", "johnson", "--weights", "W"]  # W: the page's random johnson weights


@pytest.mark.parametrize("case, model, message, cli", [
    ("notes", "johnson", "error: notes.png: not an image, or a format Pillow cannot read", JOHNSON),
    ("corrupt", "johnson", "error: corrupt.png: corrupt or truncated image (", JOHNSON),
    ("huge", "johnson", "error: huge.png: 200x150 image has 30,000 pixels, over the limit of 20,000 (raise it "
                        "with --max-pixels", JOHNSON + ["--max-pixels", "20000"]),
    ("no style", "gatys", "error: model 'gatys' needs at least one --style image", GATYS),
    ("no style", "adain_gan", "error: model 'adain_gan' needs at least one --style image", ADAIN),
    ("weights", "adain_gan", "error: --style-weights has 3 values for 1 style images",
     ADAIN + ["--style", "S", "--style-weights", "1,2,3"]),
])
def test_bad_input_is_one_line_and_the_server_keeps_serving(server, files, case, model, message, cli, capsys,
                                                            monkeypatch, tmp_path):
    """The page's line is zoo stylize's line for the same input; no picture; the next request works."""
    client = server[2]
    content = files.get(case, files["content"])
    kwargs = {"style_weights": "1,2,3"} if case == "weights" else {}
    styles = [files["style"]] if "S" in cli else []
    out = stylise(client, content, styles, model, **kwargs)
    assert out[:4] == (None, None, None, None)
    assert out[4].startswith(message) and "\n" not in out[4], out[4]
    assert "/tmp/" not in out[4] and "gradio" not in out[4]  # the upload's name, not the server's path
    monkeypatch.chdir(content.parent)
    paths = {"S": str(files["style"]), "W": server[0].weights_for("johnson")}
    argv = ["stylize", content.name, *(paths.get(a, a) for a in cli), "-o", str(tmp_path / "x.png")]
    assert message_of_cli(argv, capsys) == out[4]
    assert stylise(client, files["content"])[4].startswith("johnson: 32x24")  # still serving


def test_sizes_over_max_size_are_refused(server, files):
    with pytest.raises(Exception, match="greater than maximum value 64"):  # the size slider's bound: --max-size
        stylise(server[2], files["content"], size=65)
    assert stylise(server[2], files["content"])[4].startswith("johnson: 32x24")


def test_video_without_zoo_video_is_one_line(server, tmp_path):
    if zoo.demo.video_available():
        pytest.skip("zoo.video is installed")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00" * 64)
    assert stylise(server[2], clip)[4] == ("error: clip.mp4: video input needs zoo.video, which this installation "
                                           "does not have yet; upload a picture")


def test_video_goes_through_zoo_video(server, tmp_path):
    """With zoo.video installed, a clip comes back stylised: as many frames, at the page's size."""
    if not zoo.demo.video_available():
        pytest.skip("zoo.video is not installed")
    av = pytest.importorskip("av")
    from zoo.video import read_frames

    clip = tmp_path / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 48, 36, "yuv420p"
        for i in range(3):
            frame = np.asarray(Image.open(make_image(tmp_path / f"{i}.png", (48, 36), seed=i)))
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    source, result, video, download, status = stylise(server[2], clip, [], "johnson")
    assert status.startswith("johnson: video in ") and source is None and result is None
    assert Path(video).name == "clip-johnson.mp4" and Path(download).read_bytes() == Path(video).read_bytes()
    frames = list(read_frames(video))
    assert len(frames) == 3 and frames[0].shape == (1, 3, 24, 32)


def test_requests_queue_one_at_a_time(server, files):
    """Four requests sent at once run one after the other (no two stylisations overlap), all succeed."""
    demo, app, client = server
    spans, run = [], demo.run

    def timed(*args, **kwargs):
        start = time.perf_counter()
        out = run(*args, **kwargs)
        spans.append((start, time.perf_counter()))
        return out

    demo.run = timed
    try:
        h = gradio_client.handle_file
        jobs = [client.submit(h(str(files["content"])), [], "johnson", SIZE, 3, 1.0, "", "", "AtoB",
                              api_name="/stylize") for _ in range(4)]
        statuses = [job.result(timeout=120)[4] for job in jobs]
    finally:
        del demo.run
    assert all(s.startswith("johnson: 32x24") for s in statuses), statuses
    spans.sort()
    assert len(spans) == 4 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert app._queue.max_size == 4


def test_stylizers_are_built_once_and_report_gatys_progress(server, files):
    demo = server[0]
    opts = demo.options("gatys", size=SIZE, steps=3)
    assert demo.stylizer(opts) is demo.stylizer(opts)
    assert demo.stylizer(opts) is not demo.stylizer(demo.options("gatys", size=SIZE, steps=4))
    steps = []
    status = demo.run(str(files["content"]), [str(files["style"])], "gatys", size=SIZE, steps=3,
                      progress=lambda step, total: steps.append((step, total)))[4]
    assert status.startswith("gatys: 32x24") and steps == [(1, 3), (2, 3), (3, 3)]
    assert demo.stylizer(opts).on_step is None  # the cached stylizer does not keep this request's callback


def test_old_request_files_are_removed(files):
    demo = Demo()
    assert demo.preview(str(files["content"]))[1] == "photo.png: 48x36 preview"
    (old,) = demo.workdir.glob("request-*")
    os.utime(old, (time.time() - 3600,) * 2)
    assert demo.preview(str(files["content"]))[1] == "photo.png: 48x36 preview"
    assert old not in demo.workdir.glob("request-*") and len(list(demo.workdir.glob("request-*"))) == 1


# Values different from each option's default, to ask every family's builder whether it takes the option.
PROBES = {"weights": "x", "style_weights": [1.0], "steps": 3, "alpha": 0.5, "direction": "BtoA",
          "backbone_weights": "none", "preserve_color": "luminance", "size": 32}


@pytest.mark.parametrize("family", zoo.FAMILIES.names())
def test_controls_table_matches_the_builders(family, monkeypatch, tmp_path):
    """The page shows exactly the options a family's builder takes: the others it rejects."""
    from zoo.stylize import StylizeOptions, build_stylizer

    for key, value in {"HF_HUB_OFFLINE": "1", "TORCH_HOME": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9",
                       "HTTP_PROXY": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(key, value)
    for option, value in PROBES.items():
        try:
            build_stylizer(StylizeOptions(model=family, progress=False, **{option: value}))
            rejected = False
        except Exception as e:  # noqa: BLE001 - needing weights is fine; only "does not support" counts
            rejected = "does not support" in str(e)
        assert rejected == (option not in CONTROLS[family]), (family, option)


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
