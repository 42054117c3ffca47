"""`python -m zoo.fit` as users run it: every recipe with fast_dev_run, resume, precision, errors."""

from pathlib import Path

import pytest
import torch
import yaml

from conftest import REPO, make_image

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
    r = run("-m", "zoo.fit", str(recipe), *recipe_args(recipe.stem, tmp_path), "--trainer.fast_dev_run=true")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr


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
    config = yaml.safe_load((root / "version_0" / "config.yaml").read_text())
    assert config["model"]["class_path"] == "zoo.variants.gatys.Gatys" and config["trainer"]["max_steps"] == 3
    first = torch.load(root / "checkpoints" / "last.ckpt", weights_only=True)
    assert first["global_step"] == 3
    assert first["state_dict"]["images.1"].shape == (1, 3, 40, 48)  # the finer scale
    # resume and extend: global step, image and optimiser state carry over
    r = run("-m", "zoo.fit", *args, "--trainer.max_steps=5", "--ckpt_path=last")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Restored all states from the checkpoint" in r.stderr + r.stdout
    second = torch.load(root / "checkpoints" / "last.ckpt", weights_only=True)
    assert second["global_step"] == 5
    assert second["optimizer_states"][1]["state"][0]["step"] == 3  # 1 + 2 more Adam steps at the fine scale
    assert (root / "version_1" / "result.png").is_file()


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
    r = run("-m", "zoo.fit", str(REPO / "recipes/gatys.yaml"), *recipe_args("gatys", tmp_path),
            "--model.losses={grma: {}}", "--trainer.max_steps=1")
    assert r.returncode == 1 and r.stderr.strip().splitlines()[-1] == (
        "error: unknown loss 'grma'; valid names: adversarial, content, cycle, gram, identity, mean_std, tv")
    assert "Traceback" not in r.stderr
    r = run("-m", "zoo.fit", "missing.yaml")
    assert r.returncode == 2 and "missing.yaml: no such recipe file" in r.stderr


def test_print_config_and_zoo_fit_alias(run, tmp_path):
    r = run("-m", "zoo", "fit", str(REPO / "recipes/gatys.yaml"), "--print_config")
    assert r.returncode == 0, r.stderr
    config = yaml.safe_load(r.stdout)
    assert config["model"]["init_args"]["losses"]["content"] == {"weight": 1.0, "layers": ["relu4_2"]}
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
    ckpt = torch.load(tmp_path / "runs" / "adain" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4 and any(k.startswith("discriminator.") for k in ckpt["state_dict"])
