"""Video stylisation (zoo.video, zoo.flow, `zoo stylize clip.mp4`): tiny clips made here with PyAV.

Every family runs on an 8-frame 34 x 26 clip with an AAC track and a 90 degree display rotation; the
output keeps frame count, size, frame rate, rotation and the audio packets byte for byte. Networks are
tiny with random weights (a look at the pipeline, never at a style's quality).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import WAIT
import zoo
from zoo.cli import main
from zoo.errors import REPORT
from zoo.families import FAMILIES
from zoo.flow import DISFlow, RAFTFlow, build_flow, reliable_mask, warp, warping_error
from zoo.video import VideoReadError, VideoWriteError, read_frames, stylize_frames, stylize_video

FAMILY_NAMES = FAMILIES.names()  # every declared family stylises a clip

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------------ helpers
def smooth_texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth colourful uint8 picture (h, w, 3): video codecs and optical flow like structure."""
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(1, 3, h // 4 + 2, w // 4 + 2, generator=g)
    img = torch.nn.functional.interpolate(base, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
    return (img[0].permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()


def make_video(path: Path, n: int = 8, w: int = 34, h: int = 26, fps: int = 10, audio: bool = True,
               rotation: int | None = 90, pts: list[int] | None = None, video: bool = True,
               codec: str = "libx264", pix_fmt: str = "yuv420p") -> Path:
    """A clip (H.264 by default) of a panning texture, with a 1 s AAC sine (8 kHz mono) and a display
    rotation. ``pts`` (in 1/1000 s) makes a variable frame rate."""
    plane = smooth_texture(h + n, w + 2 * n)
    with av.open(str(path), "w") as c:
        v = None
        if video:
            v = c.add_stream(codec, rate=fps)
            v.width, v.height, v.pix_fmt = w, h, pix_fmt
            if pts is not None:
                v.codec_context.time_base = Fraction(1, 1000)
            if rotation is not None:
                v.set_display_rotation(rotation)
        a = c.add_stream("aac", rate=8000, layout="mono") if audio else None
        for i in range(n if video else 0):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(plane[i:i + h, 2 * i:2 * i + w]), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
            c.mux(v.encode(frame))
        if v is not None:
            c.mux(v.encode())
        if a is not None:
            tone = np.sin(np.arange(8000) / 5).astype(np.float32)[None] * 0.3
            for k in range(0, 8000, 1024):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, k:k + 1024]), format="fltp", layout="mono")
                af.sample_rate, af.pts = 8000, k
                c.mux(a.encode(af))
            c.mux(a.encode())
    return path


def probe(path: Path) -> dict:
    """What a player sees: frames (as arrays), pts, size, rate, rotation, audio packets."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = list(c.decode(v))
        info = {"n": len(frames), "size": (frames[0].width, frames[0].height), "rate": v.average_rate,
                "rotation": frames[0].rotation, "pts_s": [float(f.pts * f.time_base) for f in frames],
                "arrays": [f.to_ndarray(format="rgb24") for f in frames]}
    with av.open(str(path)) as c:
        info["audio"] = [(p.pts, bytes(p)) for p in c.demux(c.streams.audio[0]) if p.size] if c.streams.audio else []
    return info


def warnings(caplog) -> list[str]:
    """The warnings zoo logged (the CLI prints each as one ``WARNING: ...`` line)."""
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("zoo")]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name or ".old-" in p.name)


@pytest.fixture(scope="module")
def nets(tmp_path_factory) -> dict[str, Path]:
    """Random networks saved as the CLI loads them (tiny ones for johnson and cyclegan; the declared
    default config for other families that read weight files), and a style image."""
    from zoo.nets.cyclegan import ResnetGenerator
    from zoo.nets.johnson import TransformerNet

    root = tmp_path_factory.mktemp("nets")
    torch.manual_seed(0)
    TransformerNet(channels=[8, 8, 8], num_residual=1).save_pretrained(root / "johnson")
    ResnetGenerator(n_blocks=1, ngf=8).save_pretrained(root / "cyclegan")
    out = {"johnson": root / "johnson", "cyclegan": root / "cyclegan", "style": root / "style.png"}
    for name in FAMILIES.names():
        family = FAMILIES[name]
        if name not in out and family.network is not None and not family.random_weights:
            zoo.create_model(name, pretrained=False).save_pretrained(root / name)
            out[name] = root / name
    Image.fromarray(smooth_texture(30, 30, seed=5)).save(root / "style.png")
    return out


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("clip") / "clip.mp4")


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory) -> Path:
    """3 frames: for Gatys, whose every frame is an optimisation run."""
    return make_video(tmp_path_factory.mktemp("short") / "short.mp4", n=3)


def family_args(family: str, nets: dict) -> list[str]:
    """The smoke flags of ``family``, from its declaration: random weights, random VGG, 5 Gatys steps."""
    f = FAMILIES[family]
    args = ["--model", family]
    if f.needs_weights:
        args += ["--weights", str(nets.get(family, "random"))]
    if "backbone_weights" in f.supports:
        args += ["--backbone-weights", "none"]
    if "steps" in f.supports:
        args += ["--steps", "5"]
    if f.needs_style:
        args += ["--style", str(nets["style"])]
    return args


# ------------------------------------------------------------------------------------------------ every family
@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_every_family_stylises_a_clip_keeping_rate_size_rotation_and_audio(family, nets, clip, short_clip, tmp_path,
                                                                          capsys):
    clip = short_clip if family == "gatys" else clip
    out = tmp_path / "out.mp4"
    extra = ["--temporal"] if family in ("johnson", "gatys") else []
    assert main(["stylize", str(clip), *family_args(family, nets), *extra, "-o", str(out), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    src, got = probe(clip), probe(out)
    assert got["n"] == src["n"] == (3 if family == "gatys" else 8)
    assert got["size"] == src["size"] == (34, 26)
    assert got["rate"] == src["rate"] == 10
    assert got["rotation"] == src["rotation"] != 0
    assert got["pts_s"] == pytest.approx(src["pts_s"])
    assert got["audio"] == src["audio"] and len(src["audio"]) >= 8  # every packet, byte for byte, same pts
    diff = np.abs(got["arrays"][-1].astype(int) - src["arrays"][-1].astype(int)).mean()
    assert diff > 5  # stylised, not copied
    assert leftovers(tmp_path) == []


def test_cli_subprocess_shows_a_frame_progress_bar_and_refuses_to_overwrite(run, nets, clip, tmp_path):
    out = tmp_path / "out.mkv"
    r = run("-m", "zoo", "stylize", str(clip), *family_args("johnson", nets), "--temporal", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "8/8" in r.stderr and "frame/s" in r.stderr  # tqdm: frames, frames/s and time left
    assert probe(out)["n"] == 8
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # a plain open()'s permissions, not mkstemp's 0600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left
    before = out.read_bytes()
    r = run("-m", "zoo", "stylize", str(clip), *family_args("johnson", nets), "-o", str(out))
    assert r.returncode == 1
    assert r.stderr.strip() == f"error: {out}: file exists; pass --overwrite (overwrite=True) to replace it"
    assert out.read_bytes() == before


def test_feed_forward_frames_are_batched_and_equal_the_image_path(nets, clip, monkeypatch):
    from zoo.stylizers import ImageStylizer as JohnsonStylizer
    from zoo.stylize import StylizeOptions, build_stylizer

    calls = []
    original = JohnsonStylizer.__call__
    monkeypatch.setattr(JohnsonStylizer, "__call__",
                        lambda self, content, styles=(): calls.append(content.shape[0]) or original(self, content, styles))
    frames = list(read_frames(clip))
    video = list(stylize_frames(iter(frames), "johnson", weights=str(nets["johnson"]), batch_size=3))
    assert calls == [3, 3, 2]
    stylizer = build_stylizer(StylizeOptions(model="johnson", weights=str(nets["johnson"]), progress=False))
    for frame, out in zip(frames, video):
        torch.testing.assert_close(out, stylizer(frame), atol=1e-5, rtol=0)


def test_adain_style_code_is_computed_once_per_clip(nets, clip, tmp_path, monkeypatch):
    from zoo.nets.adain import AdaINNet

    calls = []
    original = AdaINNet.encode_style
    monkeypatch.setattr(AdaINNet, "encode_style", lambda self, s: calls.append(s.shape) or original(self, s))
    stylize_video(clip, tmp_path / "o.mp4", "adain", [nets["style"]], weights="random", backbone_weights="none",
                  size=20, batch_size=2, progress=False)
    assert len(calls) == 1  # 4 batches, one style: one code
    assert probe(tmp_path / "o.mp4")["size"] == (20, 16)  # --size 20 -> 20x15, padded to even


def test_gatys_starts_each_frame_from_the_previous_result_with_fewer_steps(nets, tmp_path, monkeypatch):
    from zoo.variants.gatys import GatysStylizer

    calls = []
    original = GatysStylizer.__call__

    def spy(self, content, styles, init=None, steps=None):
        calls.append((None if init is None else init.clone(), steps))
        out = original(self, content, styles, init=init, steps=steps)
        calls[-1] += (out,)
        return out

    monkeypatch.setattr(GatysStylizer, "__call__", spy)
    frames = [torch.rand(1, 3, 20, 24) for _ in range(3)]
    list(stylize_frames(frames, "gatys", [nets["style"]], backbone_weights="none", steps=10))
    assert [steps for _, steps, _ in calls] == [None, 2, 2]  # 10 on the first frame, 10 // 5 after
    assert calls[0][0] is None
    torch.testing.assert_close(calls[1][0], calls[0][2])  # frame 2 starts from frame 1's result
    torch.testing.assert_close(calls[2][0], calls[1][2])


# ------------------------------------------------------------------------------------------------ folders
def test_frames_folder_in_and_out(nets, clip, tmp_path, capsys, caplog):
    johnson = family_args("johnson", nets)
    frames = tmp_path / "frames"
    assert main(["stylize", str(clip), *johnson, "-o", str(frames), "--quiet"]) == 0
    names = sorted(p.name for p in frames.iterdir())
    assert names == [f"frame_{i:06d}.png" for i in range(8)]
    assert Image.open(frames / names[0]).size == (34, 26)
    assert warnings(caplog) == [f"{frames}: the audio of {clip} is not written to a folder of frames"]
    # a folder of frames -> a video at --fps, in natural order (frame_2 before frame_10)
    natural = tmp_path / "natural"
    natural.mkdir()
    for i, name in enumerate(names):
        os.link(frames / name, natural / f"f_{i}.png")
    out = tmp_path / "from-frames.mp4"
    assert main(["stylize", str(natural), *johnson, "-o", str(out), "--fps", "12", "--quiet"]) == 0
    got = probe(out)
    assert got["n"] == 8 and got["rate"] == 12 and got["size"] == (34, 26) and got["audio"] == []
    # a folder -> a folder with --temporal keeps the names; frames that exist need --overwrite, and other
    # files in the output folder are never touched
    styled = tmp_path / "styled"
    styled.mkdir()
    (styled / "notes.txt").write_text("mine")
    assert main(["stylize", str(natural), *johnson, "--temporal", "-o", str(styled), "--quiet"]) == 0
    assert sorted(p.name for p in styled.iterdir()) == sorted([f"f_{i}.png" for i in range(8)] + ["notes.txt"])
    first = (styled / "f_3.png").read_bytes()
    capsys.readouterr()
    assert main(["stylize", str(natural), *johnson, "--temporal", "-o", str(styled), "--quiet"]) == 1
    assert capsys.readouterr().err.strip() == (f"error: {styled / 'f_0.png'}: file exists (8 frame(s) would be "
                                               "replaced); pass --overwrite (overwrite=True) to replace them")
    assert main(["stylize", str(natural), *johnson, "--temporal", "-o", str(styled), "--quiet", "--overwrite",
                 "--temporal-weight", "0.3"]) == 0
    assert (styled / "f_3.png").read_bytes() != first and (styled / "notes.txt").read_text() == "mine"
    assert main(["stylize", str(clip), *johnson, "-o", str(styled), "--quiet"]) == 0  # frame_*.png beside them
    assert len(list(styled.iterdir())) == 8 + 1 + 8
    assert leftovers(tmp_path) == []


def test_an_image_folder_without_temporal_or_video_output_stays_on_the_image_path(nets, tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.fromarray(smooth_texture(20, 24)).save(folder / "a.png")
    assert main(["stylize", str(folder), *family_args("johnson", nets), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == f"1 image(s) written to {tmp_path / 'out'}"


# ------------------------------------------------------------------------------------------------ bad input
def _one_line_error(argv, capsys) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_bad_inputs_are_one_line_errors_and_write_nothing(nets, clip, tmp_path, capsys):
    johnson = family_args("johnson", nets)
    out = tmp_path / "out.mp4"
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    assert _one_line_error(["stylize", str(text), *johnson, "-o", str(out)], capsys) == (
        f"error: {text}: not a video FFmpeg can read (Invalid data found when processing input)")
    truncated = tmp_path / "truncated.mp4"  # the index (moov) is at the end: half a file has none
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    assert _one_line_error(["stylize", str(truncated), *johnson, "-o", str(out)], capsys).startswith(
        f"error: {truncated}: not a video FFmpeg can read")
    empty = tmp_path / "empty.mkv"
    empty.write_bytes(b"")
    assert _one_line_error(["stylize", str(empty), *johnson, "-o", str(out)], capsys) == f"error: {empty}: empty file"
    sound = make_video(tmp_path / "sound.mp4", video=False)
    assert _one_line_error(["stylize", str(sound), *johnson, "-o", str(out)], capsys) == (
        f"error: {sound}: no video stream")
    for bad_out in (tmp_path / "o.webm", tmp_path / "o.png"):
        assert _one_line_error(["stylize", str(clip), *johnson, "-o", str(bad_out)], capsys) == (
            f"error: {bad_out}: a clip is written to a video file (.mp4, .m4v, .mov, .mkv) or to a folder of frames")
    assert "one video at a time" in _one_line_error(["stylize", str(clip), str(clip), *johnson, "-o", str(out)],
                                                   capsys)
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("extra,message", [
    (["--temporal", "--temporal-weight", "1.5"], "--temporal-weight must be in [0, 1), got 1.5"),
    (["--flow", "dis-fast"], "--flow and --temporal-weight only apply with --temporal"),
    (["--later-steps", "3"], "--later-steps is for optimisation-based models (gatys), not 'johnson'"),
    (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["--crf", "60"], "--crf must be in [0, 51], got 60"),
    (["--fps", "30"], "{clip}: --fps is for a folder of frames; a video keeps its own timestamps"),
])
def test_bad_video_options_are_refused(extra, message, nets, clip, tmp_path, capsys):
    err = _one_line_error(["stylize", str(clip), *family_args("johnson", nets), *extra, "-o", str(tmp_path / "o.mp4")],
                          capsys)
    assert err == "error: " + message.format(clip=clip)
    assert list(tmp_path.iterdir()) == []


def test_video_options_on_images_are_refused_not_ignored(nets, tmp_path, capsys):
    image = tmp_path / "a.png"
    Image.fromarray(smooth_texture(20, 24)).save(image)
    err = _one_line_error(["stylize", str(image), *family_args("johnson", nets), "--temporal", "--crf", "20",
                           "-o", str(tmp_path / "o.png")], capsys)
    assert err == ("error: --temporal, --crf: for a video file, or a folder of frames with --temporal or a video "
                   "output; the inputs here are images")


def test_truncated_stream_keeps_the_decodable_frames_and_exits_1_saying_so(nets, tmp_path, capsys):
    """Not all that was asked was done: the decodable frames are written, and the run says how many and exits 1."""
    src = make_video(tmp_path / "long.mkv", n=20, w=64, h=48, rotation=None, audio=False)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    out = tmp_path / "out.mp4"
    err = _one_line_error(["stylize", str(cut), *family_args("johnson", nets), "-o", str(out), "--quiet"], capsys)
    assert err.startswith(f"error: {cut}: truncated: ") and "frame(s) decoded, its header announces about 20" in err
    assert err.endswith(f"; {out} was written with the frames that could be read")
    assert 0 < probe(out)["n"] < 20


@pytest.mark.parametrize("argv,message", [
    (["--fps", "0"], "error: --fps 0: must be a positive number of frames per second"),
    (["--fps", "nan"], "error: --fps nan: must be a positive number of frames per second"),
    (["-o", "{tmp}/out.gif"], "error: {tmp}/out.gif: a clip is written to a video file (.mp4, .m4v, .mov, .mkv) or "
                              "to a folder of frames"),
    (["-o", "{tmp}/out.tiff"], "error: {tmp}/out.tiff: a clip is written to a video file (.mp4, .m4v, .mov, .mkv) or "
                               "to a folder of frames"),
])
def test_frames_folder_options_that_would_change_the_clip_are_refused(nets, tmp_path, capsys, argv, message):
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(2):
        Image.fromarray(smooth_texture(20, 24, seed=i)).save(frames / f"f{i}.png")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    out = [] if "-o" in argv else ["-o", str(tmp_path / "out.mp4")]
    err = _one_line_error(["stylize", str(frames), *family_args("johnson", nets), "--temporal", *out, *argv,
                           "--quiet"], capsys)
    assert err == message.replace("{tmp}", str(tmp_path))
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("out")]


def test_odd_sizes_are_padded_by_one_row_and_column(nets, tmp_path, caplog):
    src = make_video(tmp_path / "odd.mkv", n=3, w=35, h=27, rotation=None, codec="ffv1", pix_fmt="yuv444p")
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(src), *family_args("johnson", nets), "-o", str(out), "--quiet"]) == 0
    assert warnings(caplog) == [f"{out}: 35x27 frames padded to 36x28 by repeating the last row/column "
                                "(H.264 yuv420p needs even sizes)"]
    got = probe(out)
    assert got["size"] == (36, 28) and got["n"] == 3
    frame = got["arrays"][0].astype(int)  # the added column repeats the last one (within codec error)
    assert np.abs(frame[:, -1] - frame[:, -2]).mean() < 12


def test_variable_frame_rate_keeps_every_timestamp(nets, tmp_path, caplog):
    pts = [0, 100, 140, 240, 280, 380]
    src = make_video(tmp_path / "vfr.mkv", n=6, pts=pts, rotation=None)
    out = tmp_path / "out.mkv"
    assert main(["stylize", str(src), *family_args("johnson", nets), "-o", str(out), "--quiet"]) == 0
    assert warnings(caplog) == [f"{src}: variable frame rate; every frame kept its timestamp"]
    got, want = probe(out)["pts_s"], probe(src)["pts_s"]
    assert np.diff(got) == pytest.approx(np.diff(want)) and np.diff(want) == pytest.approx([0.1, 0.04] * 2 + [0.1])


@pytest.mark.parametrize("fault", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_interrupted_run_leaves_no_file_and_keeps_the_old_output(fault, nets, clip, tmp_path, monkeypatch, capsys):
    from zoo.stylizers import ImageStylizer as JohnsonStylizer

    out = tmp_path / "out.mp4"
    out.write_bytes(b"the user's previous result")
    original, seen = JohnsonStylizer.__call__, []

    def failing(self, content, styles=()):
        seen.append(content.shape[0])
        if len(seen) == 2:  # the first batch is already encoded into the temporary file
            raise fault
        return original(self, content, styles)

    monkeypatch.setattr(JohnsonStylizer, "__call__", failing)
    argv = ["stylize", str(clip), *family_args("johnson", nets), "-o", str(out), "--overwrite", "--quiet",
            "--batch-size", "2"]
    if isinstance(fault, KeyboardInterrupt):
        assert main(argv) == 130
        assert capsys.readouterr().err.strip() == "interrupted"
    else:
        assert main(argv) == 1  # a bug: its traceback and a line asking to report it, not a user error
        err = capsys.readouterr().err.strip()
        assert "Traceback" in err and "RuntimeError: boom" in err
        assert err.splitlines()[-1] == f"error: {REPORT}"
    assert out.read_bytes() == b"the user's previous result"
    assert leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


# ------------------------------------------------------------------------------------------------ flow
def _shifted(dx: int, dy: int, h: int = 40, w: int = 48):
    """Frame a and frame b = a moved by (dx, dy) (the scene moves right/down), from one larger texture."""
    plane = torch.from_numpy(smooth_texture(h + 8, w + 8, seed=3)).permute(2, 0, 1)[None].float() / 255
    a = plane[..., 4:4 + h, 4:4 + w]
    b = plane[..., 4 - dy:4 - dy + h, 4 - dx:4 - dx + w]
    return a.contiguous(), b.contiguous()


def test_warp_moves_an_image_by_an_integer_flow_exactly():
    a, b = _shifted(3, 2)
    flow = torch.zeros(1, 2, *a.shape[-2:])
    flow[:, 0], flow[:, 1] = 3, 2  # a(p) = b(p + (3, 2))
    torch.testing.assert_close(warp(b, flow)[..., :-2, :-3], a[..., :-2, :-3])


def test_warping_error_on_a_known_translation():
    a, b = _shifted(3, 2)
    h, w = a.shape[-2:]
    flow = torch.zeros(1, 2, h, w)
    flow[:, 0], flow[:, 1] = 3, 2
    mask = torch.zeros(1, 1, h, w, dtype=torch.bool)
    mask[..., : h - 2, : w - 3] = True
    assert warping_error([a, b], flows=[flow], masks=[mask]) < 1e-10  # exact flow: no error
    expected = float(((b - a) ** 2)[..., : h - 2, : w - 3].mean())
    assert warping_error([a, b], flows=[torch.zeros_like(flow)], masks=[mask]) == pytest.approx(expected)
    # estimated from the inputs (DIS, forward-backward mask): close to the exact flow's error
    assert warping_error([a, b], inputs=[a, b]) < 0.05 * expected
    est = DISFlow()(a, b)
    assert est[0, 0, 10:-10, 10:-10].mean() == pytest.approx(3, abs=0.2)
    assert est[0, 1, 10:-10, 10:-10].mean() == pytest.approx(2, abs=0.2)
    reliable = reliable_mask(est, DISFlow()(b, a))
    assert not reliable[0, 0, :, -2:].any()  # pixels that leave the frame are occluded
    assert reliable[0, 0, 10:-10, 10:-10].float().mean() > 0.9


def test_temporal_reduces_flicker_of_a_noisy_static_clip(nets):
    base = torch.from_numpy(smooth_texture(26, 34)).permute(2, 0, 1)[None].float() / 255
    g = torch.Generator().manual_seed(0)
    frames = [(base + 0.05 * torch.randn(base.shape, generator=g)).clamp(0, 1) for _ in range(6)]
    flows, masks = [torch.zeros(1, 2, 26, 34)] * 5, [torch.ones(1, 1, 26, 34, dtype=torch.bool)] * 5
    errors = {}
    for temporal in (False, True):
        out = list(stylize_frames(frames, "johnson", weights=str(nets["johnson"]), temporal=temporal))
        errors[temporal] = warping_error(out, flows=flows, masks=masks)
    assert errors[True] < 0.6 * errors[False]


def test_raft_from_the_cache_and_a_one_line_error_without_it(tmp_path, monkeypatch):
    from torchvision.models.optical_flow import Raft_Small_Weights, raft_small

    from zoo.backbone import WeightsUnavailableError

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "download_url_to_file",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("no network")))
    with pytest.raises(WeightsUnavailableError, match=r"RAFT weights are not available: .*raft_small_C_T_V2"):
        build_flow("raft-small")
    cached = tmp_path / "hub" / "checkpoints" / Path(Raft_Small_Weights.DEFAULT.url).name
    cached.parent.mkdir(parents=True, exist_ok=True)
    torch.save(raft_small(weights=None).state_dict(), cached)  # stands in for the published file, pinned to it
    import hashlib

    from zoo import download

    monkeypatch.setitem(download.TORCHVISION_WEIGHTS, "raft_small",
                        (Raft_Small_Weights.DEFAULT.url, hashlib.sha256(cached.read_bytes()).hexdigest()))
    assert isinstance(build_flow("raft-small"), RAFTFlow)
    estimator = RAFTFlow("small", num_flow_updates=2)  # fewer refinement steps than the default 12: quicker
    a, b = _shifted(3, 2, 24, 32)
    flow = estimator(a, b)
    assert flow.shape == (1, 2, 24, 32) and torch.isfinite(flow).all()


# ------------------------------------------------------------------------------------------------ API, benchmark
def test_python_api_is_exported_and_streams_lazily(nets, clip, tmp_path):
    assert zoo.stylize_video is stylize_video and zoo.stylize_frames is stylize_frames
    pulled = []

    def frames():
        for i, f in enumerate(read_frames(clip)):
            pulled.append(i)
            yield f

    stream = stylize_frames(frames(), "johnson", weights=str(nets["johnson"]), batch_size=2)
    first = next(stream)
    assert first.shape == (1, 3, 26, 34) and pulled == [0, 1]  # one batch read, not the clip
    with pytest.raises(ValueError, match="does not take --style images"):  # at the call, not at the first frame
        stylize_frames(frames(), "johnson", [nets["style"]], weights=str(nets["johnson"]))
    with pytest.raises(VideoReadError, match="no such file or folder"):
        stylize_video(tmp_path / "missing.mp4", tmp_path / "o.mp4", "johnson", weights=str(nets["johnson"]))
    with pytest.raises(VideoWriteError, match="file exists"):
        stylize_video(clip, clip, "johnson", weights=str(nets["johnson"]))


def test_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path, offline_env):
    out = tmp_path / "video.json"
    r = subprocess.run([sys.executable, "-m", "benchmarks.bench_video", "--clips", "noise", "--frames", "3",
                        "--size", "24", "--no-gatys", "--speed-size", "32", "--speed-frames", "2", "--speed-reps", "1",
                        "--cli-frames", "1", "--memory-frames", "2", "--out", str(out)],
                       env=offline_env, cwd=REPO, capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["environment"]["device_type"] == "cpu" and "RANDOM" in result["environment"]["weights"]
    assert set(result["environment"]["load_average_per_part"]) == {"after_temporal", "after_speed"}
    (run,) = result["temporal"]
    assert run["clip"] == "noise" and run["input_warping_error"] > 0
    assert run["temporal"]["warping_error"] < run["frame_by_frame"]["warping_error"]
    assert result["speed"]["video_path_frames_per_s"] > 0 and result["speed"]["cli_per_frame_frames_per_s"] > 0
    (memory,) = result["memory"]["runs"]
    assert memory["frames"] == 2 and memory["peak_rss_while_streaming_mib"] > memory["rss_before_streaming_mib"] > 0
