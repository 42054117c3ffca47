"""The `zoo` command as a user runs it: in-process for speed, as a subprocess for exit codes and output."""

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_image
from zoo.cli import build_parser, main
from zoo.options import OPTIONS, OptionError, StylizeOptions, option

FAST = ["--backbone-weights", "none", "--steps", "2", "--quiet"]


def test_console_script_is_installed():
    eps = importlib.metadata.entry_points(group="console_scripts")
    assert any(ep.name == "zoo" and ep.value == "zoo.cli:main" for ep in eps)


def test_stylize_one_image_end_to_end(run, images, tmp_path):
    out = tmp_path / "out.png"
    r = run("-m", "zoo", "stylize", str(images["content"]), "--style", str(images["style"]), "--model", "gatys",
            "-o", str(out), "--seed", "0", *FAST)
    assert r.returncode == 0, r.stderr
    assert Image.open(out).size == Image.open(images["content"]).size
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".png") == ["content.png", "out.png", "style.png"]
    # Running again must not replace the file.
    before = out.read_bytes()
    r = run("-m", "zoo", "stylize", str(images["content"]), "--style", str(images["style"]), "-o", str(out), *FAST)
    assert r.returncode == 1 and r.stderr.strip() == f"error: {out}: file exists; pass --overwrite to replace it"
    assert out.read_bytes() == before


def test_size_overwrite_and_format(images, tmp_path):
    out = tmp_path / "out.jpg"
    out.write_bytes(b"old")
    assert main(["stylize", str(images["content"]), "--style", str(images["style"]), "-o", str(out),
                 "--size", "36", "--overwrite", *FAST]) == 0
    img = Image.open(out)
    assert img.format == "JPEG" and max(img.size) == 36


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "I;16"])
def test_odd_input_modes_stylise(tmp_path, images, mode):
    src = tmp_path / f"in_{mode.replace(';', '')}.{'jpg' if mode == 'CMYK' else 'png'}"
    if mode == "I;16":
        Image.fromarray((np.arange(48 * 40).reshape(40, 48) * 30).astype(np.uint16)).save(src)
    else:
        make_image(src, (48, 40), mode=mode)
    out = tmp_path / "out.png"
    assert main(["stylize", str(src), "--style", str(images["style"]), "-o", str(out), *FAST]) == 0
    assert Image.open(out).mode == "RGB" and Image.open(out).size == (48, 40)


def test_folder_input_skips_bad_files_and_counts(tmp_path, images, capsys, caplog):
    src = tmp_path / "photos"
    make_image(src / "a.png", seed=4)
    make_image(src / "nested" / "b.jpg", seed=5)
    (src / "broken.png").write_text("not an image")
    out = tmp_path / "styled"
    out.mkdir()
    make_image(out / "a.png", seed=9)  # exists already: kept, skipped
    code = main(["stylize", str(src), "--style", str(images["style"]), "-o", str(out), *FAST])
    assert code == 1  # not everything asked was done: how much was, on the last line
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: 1 of 3 image(s) written to {out}, 1 already there (pass --overwrite to replace them), 1 failed "
        "(see the warnings above)")
    assert (out / "nested" / "b.jpg").is_file()
    assert "broken.png: not an image" in caplog.text and "a.png exists" in caplog.text


def test_gatys_refuses_a_too_small_picture_by_name_and_a_folder_goes_on_then_exits_1(tmp_path, images, run, caplog):
    """Gatys needs 16 px on the smaller side at its first scale: a folder skips the picture that has less
    (named, the others written); alone it is a one-line error naming it, before any optimisation."""
    src = tmp_path / "photos"
    make_image(src / "a.png", (40, 36), seed=4)
    make_image(src / "tiny.png", (12, 40), seed=5)
    out = tmp_path / "styled"
    assert main(["stylize", str(src), "--style", str(images["style"]), "-o", str(out), *FAST]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]
    assert f"skipping {src / 'tiny.png'}: a 12x40 picture is too small for gatys" in caplog.text
    r = run("-m", "zoo", "stylize", str(src / "a.png"), "--style", str(images["style"]), "--scales", "0.25,1",
            "-o", str(tmp_path / "one.png"), *FAST)
    assert r.returncode == 1 and r.stderr.strip() == (
        f"error: {src / 'a.png'}: a 40x36 picture is too small for gatys at scale 0.25: its smaller side must be "
        "at least 16 px (raise the first --scales value)")
    assert not (tmp_path / "one.png").exists()


@pytest.mark.parametrize("argv,message", [
    (["stylize", "{missing}", "--style", "{style}", "-o", "{out}"], "error: {missing}: no such file"),
    (["stylize", "{content}", "--style", "{missing}", "-o", "{out}"], "error: {missing}: no such file"),
    (["stylize", "{content}", "-o", "{out}"], "error: model 'gatys' needs at least one --style image"),
    (["stylize", "{content}", "--style", "{style}", "--model", "nope", "-o", "{out}"],
     "error: unknown model 'nope'; valid names:"),
    (["stylize", "{content}", "--style", "{style}", "--alpha", "0.5", "-o", "{out}"],
     "error: model 'gatys' does not support --alpha"),
    (["stylize", "{content}", "--style", "{style}", "--style-weights", "1,2", "-o", "{out}"],
     "error: --style-weights has 2 values for 1 style images"),
    (["stylize", "{content}", "--style", "{style}", "-o", "{out}.xyz"], "error: {out}.xyz: unknown image extension"),
])
def test_user_errors_are_one_line(argv, message, images, tmp_path, capsys):
    fill = {"missing": tmp_path / "missing.png", "out": tmp_path / "o.png", **images}
    code = main([a.format(**fill) for a in argv] + FAST)
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith(message.format(**fill)) and "\n" not in err
    assert not (tmp_path / "o.png").exists()


def test_missing_pretrained_vgg_offline_says_what_to_do(run, images, tmp_path, offline_env):
    r = run("-m", "zoo", "stylize", str(images["content"]), "--style", str(images["style"]), "-o",
            str(tmp_path / "o.png"), "--steps", "1", "--quiet")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: vgg19 ImageNet weights are not available")
    assert str(Path(offline_env["TORCH_HOME"]) / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in lines[0]
    assert "--backbone-weights" in lines[0]


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "  gatys" in out and "  gram" in out and "Gram matrices" in out and "  gatys.yaml" in out


# ------------------------------------------------------------------------- export / convert / publish / tags
def test_convert_export_and_stylize_a_canonical_johnson_checkpoint(tmp_path, images, capsys):
    """fast_neural_style .pth -> `zoo convert` -> safetensors folder -> `zoo export` ONNX and `zoo stylize`."""
    import onnxruntime
    import torch

    from test_johnson import _original_state_dict
    from zoo import create_model

    original, sd = _original_state_dict(old_format=True)
    torch.save(sd, tmp_path / "candy.pth")
    assert main(["convert", str(tmp_path / "candy.pth"), "--model", "johnson", "-o", str(tmp_path / "candy")]) == 0
    assert sorted(p.name for p in (tmp_path / "candy").iterdir()) == ["README.md", "config.json", "model.safetensors"]
    net = create_model("johnson", pretrained=tmp_path / "candy")
    x = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        expected = (original(x * 255).clamp(0, 255) / 255)
        torch.testing.assert_close(net(x), expected, atol=1e-4, rtol=0)
    onnx_path = tmp_path / "candy.onnx"
    assert main(["export", "--model", "johnson", "--weights", str(tmp_path / "candy"), "-o", str(onnx_path)]) == 0
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(onnx_out), expected, atol=1e-4, rtol=0)
    capsys.readouterr()
    assert main(["export", "--model", "johnson", "--weights", str(tmp_path / "candy"), "-o", str(onnx_path)]) == 1
    assert capsys.readouterr().err.strip() == f"error: {onnx_path}: file exists; pass --overwrite to replace it"
    out = tmp_path / "styled.png"
    assert main(["stylize", str(images["content"]), "--model", "johnson", "--weights", str(tmp_path / "candy"),
                 "-o", str(out), "--quiet"]) == 0
    assert Image.open(out).size == Image.open(images["content"]).size


def test_pretrained_tag_as_model_offline_is_one_clear_line(run, images, tmp_path):
    r = run("-m", "zoo", "stylize", str(images["content"]), "--model", "johnson_candy", "-o", str(tmp_path / "o.png"))
    assert r.returncode == 1
    line = r.stderr.strip().splitlines()
    assert len(line) == 1 and "johnson_candy" in line[0] and "fast_neural_style_saved_models.zip" in line[0]


def test_list_pretrained(capsys):
    assert main(["list", "--pretrained"]) == 0
    out = capsys.readouterr().out
    assert "johnson_candy" in out and "bsd-3-clause" in out
    assert "not published: python -m zoo.fit recipes/cyclegan_photo2anime.yaml" in out


def test_publish_dry_run_round_trip(tmp_path, capsys):
    import torch

    from zoo import create_model
    from zoo.nets.cyclegan import ResnetGenerator

    ref = ResnetGenerator(n_blocks=1, ngf=4)
    ref.save_pretrained(tmp_path / "src")
    assert main(["publish", str(tmp_path / "src"), "--repo-id", "me/tiny", "--arch", "cyclegan_resnet",
                 "--dry-run", str(tmp_path / "out")]) == 0
    loaded = create_model("cyclegan_resnet", pretrained=tmp_path / "out")
    for (k, a), (k2, b) in zip(sorted(ref.state_dict().items()), sorted(loaded.state_dict().items())):
        assert k == k2 and torch.equal(a, b)
    assert "license" in (tmp_path / "out" / "README.md").read_text()


@pytest.fixture
def candy_cache(tmp_path, monkeypatch):
    """HF_HUB_OFFLINE=1 and a local cache holding the canonical fast_neural_style archive of johnson_candy
    (random weights in the original layout); returns the original network."""
    import io
    import zipfile

    import torch

    from test_johnson import _original_state_dict
    from zoo.download import canonical_download_path
    from zoo.weights import WEIGHTS

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("STYLEZOO_CACHE", raising=False)
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    original, sd = _original_state_dict(old_format=True)
    archive = canonical_download_path(WEIGHTS.get("johnson_candy"))
    archive.parent.mkdir(parents=True)
    buf = io.BytesIO()
    torch.save(sd, buf)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("saved_models/candy.pth", buf.getvalue())
    return original


def test_pretrained_tag_from_the_cache_offline(tmp_path, images, candy_cache):
    """HF_HUB_OFFLINE=1 zoo stylize photo.jpg --model johnson_candy: served from the local cache only."""
    import torch

    from zoo.io import load_image

    out = tmp_path / "candy.png"
    assert main(["stylize", str(images["content"]), "--model", "johnson_candy", "-o", str(out), "--quiet"]) == 0
    x = load_image(images["content"])
    with torch.no_grad():
        expected = candy_cache(x * 255).clamp(0, 255) / 255
    assert (load_image(out) - expected).abs().max() <= 1 / 255 + 1e-4


def test_tag_entries_load_their_trained_weights_by_default(candy_cache):
    """zoo.create_model(TAG) and torch.hub.load(repo, TAG) give the trained weights the tag is named after;
    architecture entries stay random unless asked."""
    import torch

    from conftest import REPO
    from zoo import create_model

    x = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        expected = candy_cache(x * 255).clamp(0, 255) / 255
        for net in (create_model("johnson_candy"), torch.hub.load(str(REPO), "johnson_candy", source="local")):
            torch.testing.assert_close(net(x), expected, atol=1e-4, rtol=0)
        for net in (create_model("johnson"), create_model("johnson_candy", pretrained=False),
                    torch.hub.load(str(REPO), "johnson", source="local")):
            assert (net(x) - expected).abs().max() > 0.05  # random


CHECKED = [o for o in OPTIONS if o.kind == "stylize" and o.check is not None and o.cli is not None]


@pytest.mark.parametrize("name", [o.name for o in CHECKED])
def test_each_option_is_checked_once_with_one_message(name, images, tmp_path, capsys):
    """A value no option takes (-1) is refused by the option's one check: zoo stylize prints the line that
    zoo.StylizeOptions raises (exit 1, nothing written)."""
    decl = option(name)
    with pytest.raises(OptionError) as info:
        StylizeOptions(model="gatys", **{name: decl.parse("-1") if decl.parse else "-1"})
    argv = ["stylize", str(images["content"]), "--style", str(images["style"]), decl.flag, "-1", "-o",
            str(tmp_path / "o.png"), "--backbone-weights", "none", "--quiet"]
    assert main(argv) == 1
    assert capsys.readouterr().err == f"error: {info.value}\n"
    assert not (tmp_path / "o.png").exists()


def test_the_flags_are_the_declarations():
    """zoo stylize's flags (video ones included) and StylizeOptions' fields are the declared options, with their
    defaults."""
    args = vars(build_parser().parse_args(["stylize", "in.png", "-o", "out.png"]))
    declared = {o.name: o.default for o in OPTIONS if o.cli is not None}
    assert set(args) == {"verbose", "command", *declared}
    assert {name: args[name] for name in declared} == {**declared, "inputs": ["in.png"], "output": "out.png"}
    assert set(StylizeOptions.__dataclass_fields__) == {o.name for o in OPTIONS if o.kind == "stylize"}
