"""`python -m zoo.fit` as users run it: every recipe with fast_dev_run, runs that own their checkpoints,
resume after a kill, atomic checkpoints, every nested recipe key on the command line, precision, errors."""

import csv
import errno
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from conftest import REPO, WAIT, make_image, wait_until

RECIPES = sorted((REPO / "recipes").glob("*.yaml"))


def recipe_args(name: str, tmp: Path) -> list[str]:
    """Tiny data and random backbone weights for each recipe. A new recipe must be added here."""
    content = make_image(tmp / "content.png", (48, 40), seed=1)
    style = make_image(tmp / "style.png", (40, 40), seed=2)
    content_dir, style_dir = tmp / "photos", tmp / "paintings"
    for i in range(2):
        make_image(content_dir / f"c{i}.png", (48, 40), seed=10 + i)
        make_image(style_dir / f"s{i}.jpg", (40, 44), seed=20 + i)
    no_vgg = "--model.backbone.weights=none"
    content_style = [f"--data.content_dir={content_dir}", f"--data.style_dir={style_dir}", "--data.size=36",
                     "--data.crop=32", "--data.batch_size=2", "--data.num_workers=0", no_vgg]
    for domain in ("trainA", "trainB"):
        for i in range(2):
            make_image(tmp / "unpaired" / domain / f"{i}.png", (40, 36), seed=30 + i)
    unpaired = [f"--data.root={tmp / 'unpaired'}", "--data.load_size=36", "--data.crop_size=32",
                "--data.num_workers=0", "--model.network={n_blocks: 1, ngf: 4}",
                "--model.discriminator={n_layers: 2, ndf: 4}"]
    table = {
        "gatys": [f"--data.content={content}", f"--data.style={style}", "--data.size=48", no_vgg],
        "adain": content_style,
        "adain_plain": content_style,
        "animeganv2": [f"--data.photo_dir={content_dir}", f"--data.style_dir={style_dir}", "--data.image_size=32",
                       "--data.batch_size=2", "--data.num_workers=0", no_vgg,
                       "--model.discriminator={ch: 8, n_dis: 2}", "--model.init_epochs=0"],  # the adversarial step
        "cyclegan_photo2anime": unpaired,
        "cyclegan_horse2zebra": unpaired,
        "johnson": [f"--data.content_dir={content_dir}", f"--data.style={style}", "--data.image_size=32",
                    "--data.batch_size=2", "--data.num_workers=0", no_vgg,
                    "--model.network={channels: [4, 8, 8], num_residual: 1}"],
    }
    assert name in table, f"recipes/{name}.yaml has no tiny-data arguments in tests/test_fit.py"
    return table[name]


def test_there_are_recipes():
    assert "gatys" in {r.stem for r in RECIPES}


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_every_recipe_runs_with_fast_dev_run(recipe, run, tmp_path):
    args = recipe_args(recipe.stem, tmp_path)
    data = set(tmp_path.rglob("*"))
    r = run("-m", "zoo.fit", str(recipe), *args, "--trainer.fast_dev_run=true")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    # a smoke run writes nothing: no checkpoint a later --ckpt_path=last could pick, no config, no pictures, no
    # cache beside the data (AnimeGANv2's edge-smoothed copies go to a temporary folder)
    new = set(tmp_path.rglob("*")) - data
    assert [p for p in new if p.is_file()] == []
    assert {p.relative_to(tmp_path).parts[0] for p in new} <= {"hf-home", "runs", "torch-home"}


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_every_recipe_trains_on_gpu_with_mixed_precision(recipe, precision, run, tmp_path):
    """On a GPU (pytest -m gpu): each recipe trains under mixed precision with finite losses (a non-finite
    loss would stop the run with an error); Gatys refuses float16 (no loss scaling for L-BFGS) in one line."""
    r = run("-m", "zoo.fit", str(recipe), *recipe_args(recipe.stem, tmp_path), "--trainer.accelerator=cuda",
            "--trainer.devices=1", f"--trainer.precision={precision}", "--trainer.fast_dev_run=2")
    if recipe.stem == "gatys" and precision == "16-mixed":
        assert r.returncode != 0 and "Gatys supports precision 32 and bf16-mixed" in r.stderr
        assert "Traceback" not in r.stderr
        return
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr


def test_gatys_run_directory_and_resume(run, tmp_path):
    args = [str(REPO / "recipes/gatys.yaml"), *recipe_args("gatys", tmp_path), "--model.optimizer=adam",
            "--model.scales=[0.5, 1.0]", "--model.scale_steps=[2]", "--trainer.log_every_n_steps=1"]
    r = run("-m", "zoo.fit", *args, "--trainer.max_steps=3")
    assert r.returncode == 0, r.stderr[-3000:]
    root = tmp_path / "runs" / "gatys"
    assert (root / "version_0" / "result.png").is_file()
    assert f"result written to {Path('runs/gatys/version_0/result.png')}" in r.stdout  # says where it went
    assert r.stderr.count("Seed set to 0") == 1  # Lightning's INFO lines once each
    for noise in ("Tip: For seamless", "skip_none parameter was deprecated", "LeafSpec"):  # ads, others' deprecations
        assert noise not in r.stderr
    config = yaml.safe_load((root / "version_0" / "config.yaml").read_text())  # written atomically:
    assert not [p.name for p in (root / "version_0").iterdir() if p.name.startswith(".")]  # no temporary left
    assert config["model"]["class_path"] == "zoo.variants.gatys.Gatys" and config["trainer"]["max_steps"] == 3
    with open(root / "version_0" / "metrics.csv", newline="") as f:  # zoo.loggers.CSVLogger: whole files
        assert [row["step"] for row in csv.DictReader(f) if row["loss"]] == ["0", "1", "2"]
    assert yaml.safe_load((root / "version_0" / "hparams.yaml").read_text())["optimizer"] == "adam"
    first = torch.load(root / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert first["global_step"] == 3
    assert first["state_dict"]["images.1"].shape == (1, 3, 40, 48)  # the finer scale
    # resume and extend: global step, image and optimiser state carry over; the new run has its own folder
    r = run("-m", "zoo.fit", *args, "--trainer.max_steps=5", "--ckpt_path=last")
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"resuming from {Path('runs/gatys/version_0/checkpoints/last.ckpt')} (epoch 0, step 3)" in r.stderr
    second = torch.load(root / "version_1" / "checkpoints" / "last.ckpt", weights_only=True)
    assert second["global_step"] == 5
    assert second["optimizer_states"][1]["state"][0]["step"] == 3  # 1 + 2 more Adam steps at the fine scale
    assert (root / "version_1" / "result.png").is_file()
    assert torch.load(root / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3


def _tiny_cyclegan(tmp: Path, ngf: int) -> list[str]:
    for domain in ("trainA", "trainB"):
        for i in range(2):
            make_image(tmp / "unpaired" / domain / f"{i}.png", (40, 36), seed=30 + i)
    return [str(REPO / "recipes/cyclegan_photo2anime.yaml"), f"--data.root={tmp / 'unpaired'}",
            "--data.load_size=36", "--data.crop_size=32", "--data.num_workers=0",
            f"--model.network={{n_blocks: 1, ngf: {ngf}}}", "--model.discriminator={n_layers: 2, ndf: 4}",
            "--model.epochs_constant=1", "--model.epochs_decay=20", "--model.pool_size=200",
            "--model.sample_every_n_epochs=0",
            "--trainer.enable_progress_bar=false", "--trainer.log_every_n_steps=1"]


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def test_smoke_run_then_real_run_killed_then_resumed(offline_env, tmp_path, monkeypatch, capsys):
    """The documented smoke test, a real run killed with SIGKILL, `--ckpt_path=last`: the resume continues the
    real run (not the smoke run, which had another network size) at its step, with its optimisers, LR
    schedule and image pools. The smoke run and the resume run in this process (the same code as
    `python -m zoo.fit`, without the start-up time), the killed run in its own."""
    import zoo.fit

    monkeypatch.chdir(tmp_path)
    assert zoo.fit.main([*_tiny_cyclegan(tmp_path, ngf=8), "--trainer.fast_dev_run=true"]) == 0
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").rglob("*.ckpt"))

    args = _tiny_cyclegan(tmp_path, ngf=4)
    last = tmp_path / "runs" / "cyclegan_photo2anime" / "version_0" / "checkpoints" / "last.ckpt"
    log = open(tmp_path / "killed-run.log", "w")  # a file: a pipe nobody reads would block the run when full
    proc = subprocess.Popen([sys.executable, "-m", "zoo.fit", *args, "--trainer.max_epochs=1000"], cwd=tmp_path,
                            env=offline_env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    try:  # the event: a checkpoint of epoch >= 1 (atomic: never a half-written file)
        wait_until(lambda: last.is_file() and _load(last)["epoch"] >= 1, proc, "a checkpoint of epoch 1", poll=0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    killed = _load(last)
    epoch, step = killed["epoch"], killed["global_step"]
    assert step == 4 * (epoch + 1)  # 2 batches per epoch, 2 optimiser steps per batch
    # The kill may land while a checkpoint is written: then its hidden temporary stays (last.ckpt is whole,
    # it loaded above) and the resume removes it. One is planted so that the removal is always tested.
    (last.parent / ".last.0123abcd.tmp.ckpt").write_bytes(b"half a checkpoint")
    (last.parent / ".keep").write_text("not ours")

    end = epoch + 2  # the resumed run trains one more epoch
    capsys.readouterr()
    assert zoo.fit.main([*args, f"--trainer.max_epochs={end}", "--ckpt_path=last"]) == 0
    err = capsys.readouterr().err
    assert f"resuming from {Path('runs/cyclegan_photo2anime/version_0/checkpoints/last.ckpt')} " \
           f"(epoch {epoch}, step {step})" in err
    assert "unfinished write(s) of the interrupted run" in err and ".last.0123abcd.tmp.ckpt" in err
    left = [p.name for folder in (last.parent, last.parents[1]) for p in folder.iterdir() if p.name.startswith(".")]
    assert left == [".keep"]
    final = _load(last.parents[2] / "version_1" / "checkpoints" / "last.ckpt")
    assert final["global_step"] == 4 * end  # every batch exactly once across the two runs
    for opt in final["optimizer_states"]:  # Adam continued: one step per batch of both runs
        assert {int(s["step"]) for s in opt["state"].values()} == {2 * end}
    assert [s["last_epoch"] for s in final["lr_schedulers"]] == [end - 1] * 2
    lr = final["optimizer_states"][0]["param_groups"][0]["lr"]
    assert lr == pytest.approx(2e-4 * (1 - (end - 1) / 21))  # the LR of the last epoch: 1 constant, 20 decaying
    for domain in ("A", "B"):  # the pools kept the images of the killed run and added the new ones
        before, after = killed["cyclegan_image_pools"][domain]["images"], final["cyclegan_image_pools"][domain]["images"]
        assert len(before) == step // 2 and len(after) == 2 * end
        assert all(torch.equal(a, b) for a, b in zip(before, after))


def test_checkpoint_write_failure_keeps_the_previous_checkpoint(tmp_path, monkeypatch, capsys):
    """A full disk while a checkpoint is written: one-line error, exit 1, no truncated file under any
    checkpoint name, and the previous last.ckpt intact."""
    import zoo.fit

    real_save = torch.save
    calls = []

    def disk_full_on_the_fourth_write(obj, f, *a, **k):  # f: the open temporary file (zoo.fit writes through it)
        calls.append(Path(getattr(f, "name", f)).name)
        if len(calls) == 4:  # epoch=1 top-k written; writing the new last.ckpt fails half way
            f.write(b"PK\x03\x04 half a checkpoint")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch, "save", disk_full_on_the_fourth_write)
    code = zoo.fit.main([*_tiny_cyclegan(tmp_path, ngf=4), "--trainer.max_epochs=3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(calls) == 4
    folder = Path("runs/cyclegan_photo2anime/version_0/checkpoints")
    assert err[-1] == f"error: {folder / 'last.ckpt'}: cannot write (No space left on device); the disk is full: " \
                      "free some space or write elsewhere"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch=1-step=8.ckpt", "last.ckpt"]  # no temporary file
    assert _load(folder / "last.ckpt")["global_step"] == 4  # the previous one, whole
    assert _load(folder / "epoch=1-step=8.ckpt")["global_step"] == 8


def _print_config(capsys, *args: str) -> dict:
    import zoo.fit

    with pytest.raises(SystemExit) as done:
        zoo.fit.main([*args, "--print_config"])
    out = capsys.readouterr()
    assert done.value.code in (0, None), out.err
    return yaml.safe_load(out.out)


def _leaves(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_every_nested_recipe_key_is_typed_and_overridable(recipe, capsys):
    """--print_config shows every key of the recipe's sections (network, backbone, losses.*, discriminator)
    with its default; each can be set on the command line, keeps its type and leaves its siblings alone."""
    sections = {k: v for k, v in _print_config(capsys, str(recipe))["model"]["init_args"].items()
                if isinstance(v, dict)}
    assert sections, "the recipe's model has no nested section"
    changed = {}
    for key, value in _leaves(sections):
        if isinstance(value, bool):
            changed[key] = not value
        elif isinstance(value, (int, float)):
            changed[key] = value * 2 + 1
    after = _print_config(capsys, str(recipe), *(f"--model.{k}={str(v).lower() if isinstance(v, bool) else v}"
                                                  for k, v in changed.items()))["model"]["init_args"]
    for key, value in _leaves({k: after[k] for k in sections}):
        expected = changed.get(key, dict(_leaves(sections))[key])
        assert value == expected and type(value) is type(expected), key
    # the example, with and without init_args, and a loss turned off
    args = [str(recipe), "--model.init_args.network.ngf=16"] if "cyclegan" in recipe.stem else [str(recipe)]
    if "cyclegan" in recipe.stem:
        assert _print_config(capsys, *args, "--model.losses.identity=null")["model"]["init_args"]["network"]["ngf"] == 16


def _class(section: dict) -> type:
    import importlib

    module, _, name = section["class_path"].rpartition(".")
    return getattr(importlib.import_module(module), name)


def _arguments(cls: type) -> list[str]:
    """The constructor arguments of ``cls``."""
    import inspect

    return list(inspect.signature(cls.__init__).parameters)[1:]


def _untyped(cls: type, prefix: str = "") -> list[str]:
    """Arguments of ``cls`` (and of the dataclasses it takes, recursively) that are not annotated, or
    annotated with a type that lets any value through (Any, dict, Mapping, a mapping to Any). A mapping of
    typed values passes: the optimiser's ``arguments``, whose keys are the optimiser class's, checked when the
    model is built (test_optimizer_is_configurable_from_the_recipe)."""
    import collections.abc
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls.__init__)
    names = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else _arguments(cls)
    bad = []
    for name in names:
        kind = hints.get(name, typing.Any)
        options = [kind, *typing.get_args(kind)]
        if any(t is typing.Any or t in (dict, collections.abc.Mapping) or (
                typing.get_origin(t) in (dict, collections.abc.Mapping) and typing.Any in typing.get_args(t))
               for t in options):
            bad.append(prefix + name)
        bad += [x for t in options if dataclasses.is_dataclass(t) for x in _untyped(t, f"{prefix}{name}.")]
    return bad


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.stem for r in RECIPES])
def test_every_argument_is_typed_shown_and_checked_at_parse_time(recipe, run, capsys):
    """--print_config shows every constructor argument of the model and the data; a wrong key or a wrong type,
    top-level or nested, stops the parse (exit 2) with one line naming the whole key, before any work."""
    import zoo.fit

    config = _print_config(capsys, str(recipe))
    for section in ("model", "data"):
        assert list(config[section]["init_args"]) == _arguments(_class(config[section])), section
        assert _untyped(_class(config[section])) == [], section
    sections = {k: v for k, v in config["model"]["init_args"].items() if isinstance(v, dict)}
    nested_number = next(k for k, v in _leaves(sections) if isinstance(v, (int, float)) and not isinstance(v, bool))
    data_number = next(k for k, v in config["data"]["init_args"].items()
                       if isinstance(v, int) and not isinstance(v, bool))
    model_float = "lr" if "lr" in config["model"]["init_args"] else next(
        k for k, v in config["model"]["init_args"].items() if isinstance(v, float))
    wrong = {
        f"--model.{model_float}=abc": (f"model.{model_float}", "Expected a float"),
        f"--model.{nested_number}=abc": (f"model.{nested_number}", "Expected a"),
        f"--data.{data_number}=x": (f"data.{data_number}", "Expected a"),
        "--model.losses={grma: {weight: 1}}": ("model.losses.grma.weight", "no such option"),
        "--model.network.n_blocks=x": ("model.network.n_blocks", "Expected a int" if "n_blocks" in sections.get(
            "network", {}) else "no such option"),
        "--data.nosuch=1": ("data.nosuch", "no such option; valid: " + ", ".join(_arguments(_class(config["data"])))),
    }
    for arg, (key, reason) in wrong.items():
        assert zoo.fit.main([str(recipe), arg, "--print_config"]) == 2, arg
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert line.startswith(f"error: --{key}: {reason}"), (arg, line)
    # the recipe by name, a typo in a nested key: as users run it (one subprocess, for one recipe; the same
    # call in-process for the others)
    valid = "; valid: weight, layers, layer_weights" if "gram" in sections.get("losses", {}) else ""
    expected = [f"error: --model.losses.gram.wieght: no such option{valid} (see python -m zoo.fit RECIPE --help)"]
    if recipe.stem == "johnson":
        r = run("-m", "zoo", "fit", recipe.stem, "--model.losses.gram.wieght=1", "--trainer.max_steps=1")
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.strip().splitlines() == expected, r.stderr
    else:
        assert zoo.fit.main([recipe.stem, "--model.losses.gram.wieght=1", "--trainer.max_steps=1"]) == 2
        assert capsys.readouterr().err.strip().splitlines() == expected


def test_optimizer_is_configurable_from_the_recipe(tmp_path, capsys):
    """model.optimizer: Adam with the recipe's numbers unless the recipe or the command says otherwise (shown by
    --print_config); another class given on the command line is the one trained, with the recipe's learning rate
    and the given arguments; a class that is no optimiser, or an argument it does not take, is one line."""
    import zoo.fit

    recipe = str(REPO / "recipes/johnson.yaml")
    shown = _print_config(capsys, recipe)["model"]["init_args"]
    assert shown["optimizer"] == {"class_name": "torch.optim.Adam", "arguments": {}} and shown["lr"] == 1e-3
    sgd = ["--model.optimizer.class_name=torch.optim.SGD", "--model.optimizer.arguments.momentum=0.5"]
    assert _print_config(capsys, recipe, *sgd)["model"]["init_args"]["optimizer"] == {
        "class_name": "torch.optim.SGD", "arguments": {"momentum": 0.5}}
    args = [recipe, *recipe_args("johnson", tmp_path), f"--runs_dir={tmp_path / 'runs'}", "--trainer.max_steps=2",
            "--trainer.enable_progress_bar=false"]
    assert zoo.fit.main([*args, *sgd]) == 0, capsys.readouterr().err
    ckpt = torch.load(tmp_path / "runs" / "johnson" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    (group,) = ckpt["optimizer_states"][0]["param_groups"]
    assert group["momentum"] == 0.5 and group["lr"] == 1e-3 and "betas" not in group
    assert all("momentum_buffer" in state for state in ckpt["optimizer_states"][0]["state"].values())
    assert ckpt["hyper_parameters"]["optimizer"] == {"class_name": "torch.optim.SGD", "arguments": {"momentum": 0.5}}
    capsys.readouterr()
    for bad, message in (
            (["--model.optimizer.class_name=torch.optim.Nope"],
             "error: --model.optimizer.class_name=torch.optim.Nope: not an optimiser class"),
            (["--model.optimizer.class_name=SGD", "--model.optimizer.arguments.betas=[0.5, 0.9]"],
             "error: --model.optimizer.arguments: SGD takes no betas; it takes ")):
        assert zoo.fit.main([*args, *bad]) == 1
        # the last line (a bug would end with the request to report it, after its traceback)
        err = capsys.readouterr().err
        assert err.strip().splitlines()[-1].startswith(message), err


def test_help_shows_nested_keys_with_type_and_default(capsys):
    import zoo.fit

    with pytest.raises(SystemExit):
        zoo.fit.main([str(REPO / "recipes/cyclegan_horse2zebra.yaml"), "--model.help", "CycleGAN"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--model.network.ngf NGF" in out and "(type: int, default: 64)" in out
    assert "--model.losses.cycle CYCLE" in out


def test_bf16_refused_on_cpu_without_native_support(run, tmp_path):
    from zoo.fit import cpu_has_native_bf16

    if cpu_has_native_bf16():
        pytest.skip("this CPU has native bf16")
    r = run("-m", "zoo.fit", str(REPO / "recipes/gatys.yaml"), *recipe_args("gatys", tmp_path),
            "--trainer.precision=bf16-mixed", "--trainer.max_steps=1")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1].startswith(
        "error: --trainer.precision=bf16-mixed on this CPU, which has no native bf16 support")


def test_bad_input_is_one_line_error(run, tmp_path):
    r = run("-m", "zoo.fit", str(REPO / "recipes/gatys.yaml"), f"--data.content={tmp_path / 'nope.jpg'}",
            f"--data.style={tmp_path / 'nope.jpg'}", "--model.backbone.weights=none", "--trainer.max_steps=1")
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == f"error: {tmp_path / 'nope.jpg'}: no such file"
    r = run("-m", "zoo.fit", "missing.yaml")
    assert r.returncode == 2 and "missing.yaml: no such recipe file" in r.stderr


def test_print_config_and_zoo_fit_alias(run, tmp_path):
    r = run("-m", "zoo", "fit", str(REPO / "recipes/gatys.yaml"), "--print_config")
    assert r.returncode == 0, r.stderr
    config = yaml.safe_load(r.stdout)
    assert config["model"]["init_args"]["losses"]["content"] == {"weight": 1.0, "layers": ["relu4_2"],
                                                                 "layer_weights": None}
    assert config["trainer"]["default_root_dir"] == "runs/gatys"


def test_wandb_logger_offline(run, tmp_path):
    pytest.importorskip("wandb")
    r = run("-m", "zoo.fit", str(REPO / "recipes/gatys.yaml"), *recipe_args("gatys", tmp_path),
            "--trainer.max_steps=2", "--trainer.logger=lightning.pytorch.loggers.WandbLogger",
            "--trainer.logger.offline=true", "--trainer.logger.project=stylezoo-test",
            f"--trainer.logger.save_dir={tmp_path / 'wb'}")
    assert r.returncode == 0, r.stderr[-3000:]
    assert list((tmp_path / "wb" / "wandb").glob("offline-run-*"))


def test_adain_gan_ddp_two_cpu_processes(run, tmp_path):
    """`--trainer.devices=2` (strategy auto = DDP) on a manual-optimisation GAN (two optimisers, disjoint
    parameters); CycleGAN's tests use --trainer.strategy=ddp."""
    r = run("-m", "zoo.fit", str(REPO / "recipes/adain.yaml"), *recipe_args("adain", tmp_path),
            "--data.batch_size=1",  # two images over two processes
            "--trainer.devices=2", "--trainer.accelerator=cpu", "--trainer.max_steps=4",
            "--trainer.enable_progress_bar=false")
    assert r.returncode == 0, r.stderr[-3000:]
    ckpt = torch.load(tmp_path / "runs" / "adain" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4 and any(k.startswith("discriminator.") for k in ckpt["state_dict"])
