"""A user's first minutes: the one smoke path of every family (``--weights random``) on the command line and in
Python, ``--model`` told by an export folder or a checkpoint, Gatys without Lightning and its Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading

import pytest
import torch

import zoo
from zoo.families import FAMILIES

FAMILY_NAMES = FAMILIES.names()
NETWORK_FAMILIES = [n for n in FAMILY_NAMES if FAMILIES.get(n).network is not None]


def _smoke_args(name: str, images) -> list[str]:
    family = FAMILIES.get(name)
    return ([*(["--style", str(images["style"])] if family.needs_style else []),
             *(["--steps", "2"] if "steps" in family.options else [])])


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_weights_random_is_the_smoke_run_of_every_family_on_the_command_line(run, images, tmp_path, name):
    out = tmp_path / f"{name}.png"
    r = run("-m", "zoo", "stylize", str(images["content"]), "--model", name, "--weights", "random", "--quiet",
            "-o", str(out), *_smoke_args(name, images))
    assert r.returncode == 0, r.stderr
    assert "RANDOM" in r.stderr or name == "gatys"  # a random network is said to be one (gatys: no network)
    picture = zoo.load_image(out)
    assert picture.shape == (1, 3, 40, 48)
    assert not (tmp_path / "torch-home").exists() or not any((tmp_path / "torch-home").rglob("*.pth"))


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_weights_random_is_the_smoke_run_of_every_family_in_python(name, offline_env, monkeypatch):
    for key in ("HF_HUB_OFFLINE", "TORCH_HOME", "HF_HOME"):
        monkeypatch.setenv(key, offline_env[key])
    family = FAMILIES.get(name)
    content = torch.rand(1, 3, 32, 40)
    styles = [torch.rand(1, 3, 32, 32)] if family.needs_style else []
    options = {"steps": 2} if "steps" in family.options else {}
    out = zoo.stylize(content, styles, model=name, weights="random", progress=False, **options)
    assert out.shape == (1, 3, 32, 40) and out.min() >= 0 and out.max() <= 1


def test_stylising_with_gatys_does_not_import_lightning(run):
    code = ("import sys, torch, zoo\n"
            "zoo.stylize(torch.rand(1, 3, 24, 24), [torch.rand(1, 3, 24, 24)], model='gatys', weights='random',"
            " steps=2, progress=False)\n"
            "heavy = [m for m in ('lightning', 'pytorch_lightning', 'torchmetrics', 'av', 'cv2', 'gradio', 'wandb',"
            " 'jsonargparse') if m in sys.modules]\n"
            "print('imported:', heavy)\n")
    r = run("-c", code)
    assert r.returncode == 0, r.stderr
    assert "imported: []" in r.stdout


# ------------------------------------------------------------------------------------- --model from the file
def _export(name: str, folder):
    """An export folder of a random ``name`` network in zoo export's layout: model.safetensors (architecture and
    config in its metadata) and config.json."""
    import json

    from zoo.publish import safetensors_bytes

    torch.manual_seed(0)
    random_vgg = {"backbone_weights": "none"} if "backbone_weights" in FAMILIES.get(name).loader_options else {}
    net = zoo.create_model(name, pretrained=False, **random_vgg)
    config = dict(getattr(net, "_hub_mixin_config", None) or {})
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(safetensors_bytes(net.state_dict(), name, config))
    (folder / "config.json").write_text(json.dumps(config))
    return net


@pytest.mark.parametrize("name", NETWORK_FAMILIES)
def test_an_export_folder_names_its_family(run, images, tmp_path, name):
    folder = tmp_path / "export"
    _export(name, folder)
    from zoo.stylize import model_for

    assert model_for(None, str(folder)) == name
    assert model_for(None, str(folder / "model.safetensors")) == name
    out = tmp_path / "out.png"
    style = ["--style", str(images["style"])] if FAMILIES.get(name).needs_style else []
    extra = ["--backbone-weights", "none"] if "backbone_weights" in FAMILIES.get(name).options else []
    r = run("-m", "zoo", "stylize", str(images["content"]), *style, *extra, "--weights", str(folder), "--quiet",
            "-o", str(out))  # no --model
    assert r.returncode == 0, r.stderr
    assert zoo.load_image(out).shape == (1, 3, 40, 48)


@pytest.mark.parametrize("name", [n for n in NETWORK_FAMILIES if n != "adain"])  # adain: hparams of its own
def test_a_training_checkpoint_names_its_family(tmp_path, name):
    from zoo.stylize import model_for

    family = FAMILIES.get(name)
    net = zoo.create_model(name, pretrained=False)
    prefix = next(iter(family.checkpoint_prefix.values()))
    state = {prefix + k: v for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "hyper_parameters": {"network": {}}}, tmp_path / "last.ckpt")
    assert model_for(None, str(tmp_path / "last.ckpt")) == name


def test_model_for_keeps_a_named_model_and_defaults_to_gatys(tmp_path):
    from zoo.stylize import OptionError, model_for

    assert model_for("johnson", None) == "johnson"
    assert model_for(None, None) == "gatys" and model_for(None, "random") == "gatys"
    assert model_for(None, "johnson_candy") == "johnson_candy"
    junk = tmp_path / "junk.ckpt"
    torch.save({"state_dict": {"x.weight": torch.zeros(2)}}, junk)
    with pytest.raises(OptionError, match=r"junk.ckpt: its model family cannot be told .* --model"):
        model_for(None, str(junk))
    with pytest.raises(OptionError, match="--weights nowhere.ckpt: no such file or folder, and not a pretrained tag"):
        model_for(None, "nowhere.ckpt")


def test_a_file_that_names_no_family_is_one_line_on_the_command_line(run, images, tmp_path):
    junk = tmp_path / "junk.ckpt"
    torch.save({"state_dict": {"x.weight": torch.zeros(2)}}, junk)
    r = run("-m", "zoo", "stylize", str(images["content"]), "--weights", str(junk), "-o", str(tmp_path / "o.png"))
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [f"error: --weights {junk}: its model family cannot be told from the "
                                             "file; name it with --model (zoo list)"]


# ------------------------------------------------------------------------------------- Ctrl-C during Gatys
def _interrupt(args, env, cwd, started_when) -> tuple[int, str]:
    """Run ``python -m zoo ARGS``, send SIGINT once ``started_when(stderr so far)`` holds, return (exit status,
    stderr). Waits on the program's own output, with generous limits, never on a sleep."""
    proc = subprocess.Popen([sys.executable, "-m", "zoo", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    seen, started = bytearray(), threading.Event()

    def read():
        while chunk := os.read(proc.stderr.fileno(), 4096):
            seen.extend(chunk)
            if started_when(bytes(seen)):
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(timeout=300), f"no sign of work within 300 s: {bytes(seen)[-2000:]!r}"
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=30)
    return code, bytes(seen).decode(errors="replace")


def _last_line(err: str) -> str:
    return [line.strip() for line in err.replace("\r", "\n").splitlines() if line.strip()][-1]


@pytest.mark.parametrize("verbose", [[], ["-v"]])
def test_ctrl_c_during_gatys_exits_130_saying_interrupted(offline_env, images, tmp_path, verbose):
    """Ctrl-C once the optimisation is under way (its progress bar has counted a step): exit 130, one
    'interrupted' line, no picture -- as for the other families."""
    out = tmp_path / "out.png"
    code, err = _interrupt(
        [*verbose, "stylize", str(images["content"]), "--style", str(images["style"]), "--model", "gatys",
         "--weights", "random", "--steps", "1000000", "-o", str(out)], offline_env, tmp_path,
        lambda seen: any(f" {n}/1000000".encode() in seen for n in range(1, 10)))
    assert code == 130, err[-2000:]
    assert _last_line(err) == "interrupted"
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))


def test_ctrl_c_during_a_gatys_video_exits_130_saying_interrupted(offline_env, images, tmp_path):
    pytest.importorskip("av")
    from test_video import make_video

    clip = make_video(tmp_path / "clip.mp4", n=3)
    out = tmp_path / "out.mp4"
    code, err = _interrupt(
        ["stylize", str(clip), "--style", str(images["style"]), "--model", "gatys", "--weights", "random",
         "--steps", "1000000", "-o", str(out)], offline_env, tmp_path,
        lambda seen: b"0/3" in seen)  # the frames bar: the clip is open, the first frame's optimisation starts
    assert code == 130, err[-2000:]
    assert _last_line(err) == "interrupted"
    assert "Traceback" not in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
