"""CycleGAN: networks, official-checkpoint import, hub entries, data, training (pool, schedule, NaN,
resume, DDP, bf16) and inference. Tiny networks and 32 px images throughout."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from torch import nn

from conftest import WAIT, wait_until
import originals
from zoo.data.folder import EmptyFolderError
from zoo.data.unpaired import UnpairedData
from zoo.losses import NonFiniteLossError
from zoo.nets.cyclegan import (CANONICAL, NLayerDiscriminator, ResnetBlock, ResnetGenerator, config_from_official_state_dict,
                               convert_official_state_dict)
from zoo.families import FAMILIES
from zoo.registry import MODELS
from zoo.stylize import StylizeOptions, build_stylizer
from zoo.stylizers import load_generator
from zoo.variants.cyclegan import CycleGAN, ImagePool, linear_decay

REPO = Path(__file__).resolve().parent.parent
TINY_G = {"n_blocks": 1, "ngf": 4}
TINY_D = {"n_layers": 2, "ndf": 4}
TINY_OVERRIDES = ["--data.load_size=36", "--data.crop_size=32", "--data.num_workers=0",
                  "--model.network={n_blocks: 1, ngf: 4}", "--model.discriminator={n_layers: 2, ndf: 4}",
                  "--model.pool_size=2", "--trainer.enable_progress_bar=false",
                  "--trainer.enable_model_summary=false", "--trainer.accelerator=cpu"]


# ------------------------------------------------------------------------------------------- fixtures

pytestmark = pytest.mark.usefixtures("one_thread")


def _rand_image(path: Path, h: int, w: int, seed: int, mode: str = "RGB") -> None:
    from PIL import Image

    g = torch.Generator().manual_seed(seed)
    array = (torch.rand(h, w, 3, generator=g) * 255).to(torch.uint8).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, "RGB").convert(mode).save(path)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """trainA (3 images: RGB, grayscale, RGBA), trainB (3 images), testA (2 images), no testB."""
    root = tmp_path_factory.mktemp("unpaired")
    _rand_image(root / "trainA" / "a0.png", 40, 48, 0)
    _rand_image(root / "trainA" / "a1.png", 36, 36, 1, mode="L")
    _rand_image(root / "trainA" / "sub" / "a2.png", 44, 40, 2, mode="RGBA")
    for i in range(3):
        _rand_image(root / "trainB" / f"b{i}.jpg", 40, 40, 10 + i)
    for i in range(2):
        _rand_image(root / "testA" / f"t{i}.png", 40, 40, 20 + i)
    return root


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update({"PYTHONWARNINGS": "ignore", "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    return env


def _fit(*args: str, cwd: Path, timeout: float = WAIT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zoo.fit", *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def _tiny_model(**kw) -> CycleGAN:
    kw = {"network": TINY_G, "discriminator": TINY_D, "pool_size": 2, "epochs_constant": 1, "epochs_decay": 2,
          "sample_every_n_epochs": 1, "num_samples": 2, **kw}
    return CycleGAN(**kw)


def _tiny_data(root: Path, **kw) -> UnpairedData:
    return UnpairedData(str(root), **{"load_size": 36, "crop_size": 32, "num_workers": 0, "batch_size": 1, **kw})


def _trainer(root: Path, **kw) -> L.Trainer:
    kw = {"accelerator": "cpu", "devices": 1, "default_root_dir": str(root), "enable_progress_bar": False,
          "enable_model_summary": False, "logger": False, "log_every_n_steps": 1, **kw}
    return L.Trainer(**kw)


# ------------------------------------------------------------------------------------------- networks

def test_generator_is_the_raw_network_at_a_multiple_of_4():
    # any size in, same size out, in [0, 1]: tests/test_nets_contract.py. A multiple-of-4 input is neither
    # padded nor cropped: exactly the raw network's output
    g = ResnetGenerator(**TINY_G)
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(g(x), (g.forward_raw(x * 2 - 1) + 1) / 2)


@pytest.mark.parametrize("blocks", [6, 9])
def test_generator_structure_and_init(blocks):
    g = MODELS.get("cyclegan")(n_blocks=blocks)
    assert sum(isinstance(m, ResnetBlock) for m in g.modules()) == blocks
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in g.modules()) == 2 + 2 * blocks
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == 5 + 2 * blocks and all(not m.affine and not m.track_running_stats for m in norms)
    ups = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.stride, m.output_padding) for m in ups] == [((2, 2), (1, 1))] * 2
    w = g.model[10].conv_block[1].weight
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002
    assert all(m.bias.abs().max() == 0 for m in g.modules() if isinstance(m, nn.Conv2d))
    assert isinstance(g.model[-1], nn.Tanh)
    # no buffers at all: instance norm without running statistics
    assert not list(g.buffers())


def test_patchgan_70x70():
    d = MODELS.get("cyclegan_patchgan")()
    assert d.receptive_field() == 70
    assert d(torch.rand(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    assert NLayerDiscriminator(n_layers=1).receptive_field() == 16
    assert NLayerDiscriminator(n_layers=4).receptive_field() == 142


def test_discriminator_hub_mixin_round_trip(tmp_path):
    # the generator's round trip: tests/test_nets_contract.py (the discriminator is not published)
    d = NLayerDiscriminator(**TINY_D)
    d.save_pretrained(tmp_path / "d")
    e = NLayerDiscriminator.from_pretrained(tmp_path / "d")
    for k, v in d.state_dict().items():
        assert torch.equal(v, e.state_dict()[k])


# ------------------------------------------------------------- the official architecture, for the importer

def _official_state_dict(n_blocks=2, ngf=8, stale=True, prefix=""):
    torch.manual_seed(3)  # the reference generator, restated in tests/originals.py (file and commit cited there)
    ref = originals.CycleGANGenerator(ngf=ngf, n_blocks=n_blocks)
    with torch.no_grad():  # non-trivial weights, biases included
        for p in ref.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    sd = {prefix + k: v.clone() for k, v in ref.state_dict().items()}
    if stale:  # what checkpoints from PyTorch < 0.4 carry for InstanceNorm layers
        sd[prefix + "model.2.running_mean"] = torch.zeros(ngf)
        sd[prefix + "model.2.running_var"] = torch.ones(ngf)
        sd[prefix + "model.2.num_batches_tracked"] = torch.tensor(7)
        sd[prefix + "model.10.conv_block.2.running_mean"] = torch.zeros(ngf * 4)
    return ref, sd


@pytest.mark.parametrize("prefix", ["", "module."])
def test_official_import_equals_the_reference_architecture(prefix):
    ref, sd = _official_state_dict(prefix=prefix)
    converted = convert_official_state_dict(sd)
    assert not any("running" in k or "num_batches" in k or k.startswith("module.") for k in converted)
    assert converted.keys() == ref.state_dict().keys()
    config = config_from_official_state_dict(converted)
    assert config == {"n_blocks": 2, "ngf": 8, "dropout": False, "in_channels": 3, "out_channels": 3}
    ours = ResnetGenerator(**config)
    ours.load_state_dict(converted, strict=True)
    x = torch.rand(2, 3, 36, 44)
    with torch.no_grad():
        expected = (ref(x * 2 - 1) + 1) / 2
        got = ours(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert (got - 0.5).abs().max() > 0.05  # a real image, not a constant


def test_official_import_rejects_other_layouts():
    with pytest.raises(KeyError, match="unexpected key 'G_AB.model.1.weight'"):
        convert_official_state_dict({"G_AB.model.1.weight": torch.zeros(1)})
    with pytest.raises(KeyError, match="model.1.weight"):
        convert_official_state_dict({"model.4.weight": torch.zeros(1)})


def test_every_official_checkpoint_is_a_pretrained_tag():
    """The 18 names of scripts/download_cyclegan_model.sh, each a tag converted from its https URL, listed by
    list_models(pretrained=True), torch.hub.list and the README table, with its licence and training data."""
    from zoo.factory import list_models
    from zoo.weights import WEIGHTS

    official = {
        "apple2orange", "orange2apple", "summer2winter_yosemite", "winter2summer_yosemite", "horse2zebra",
        "zebra2horse", "monet2photo", "style_monet", "style_cezanne", "style_ukiyoe", "style_vangogh", "sat2map",
        "map2sat", "cityscapes_photo2label", "cityscapes_label2photo", "facades_photo2label",
        "facades_label2photo", "iphone2dslr_flower"}
    assert set(CANONICAL) == official
    hubconf = torch.hub._import_module("hubconf", str(REPO / "hubconf.py"))  # what torch.hub.list reads
    hub_names = {f for f in dir(hubconf) if callable(getattr(hubconf, f)) and not f.startswith("_")}
    readme = (REPO / "docs" / "models.md").read_text()  # the generated tag table (benchmarks.table)
    for name in official:
        entry = WEIGHTS.get(f"cyclegan_{name}")
        assert entry.canonical.url == CANONICAL[name] == \
            f"https://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
        assert entry.canonical.converter.endswith("convert_official_state_dict")
        assert entry.licence == "bsd-2-clause" and entry.training_data and entry.paper
        assert entry.tag in list_models(pretrained=True) and entry.tag in hub_names
        assert f"| `{entry.tag}` |" in readme


def test_hub_entries():
    def hub(name, **kw):
        return torch.hub.load(str(REPO), name, source="local", **kw)

    g = hub("cyclegan_photo2anime", pretrained=False)
    assert isinstance(g, ResnetGenerator) and (g.n_blocks, g.ngf) == (9, 64)
    assert hub("cyclegan_horse2zebra", direction="BtoA", n_blocks=6, pretrained=False).n_blocks == 6
    with pytest.raises(Exception, match="recipes/cyclegan_photo2anime.yaml"):
        hub("cyclegan_photo2anime")  # a tag entry loads its trained weights by default
    with pytest.raises(ValueError, match="direction must be 'AtoB' or 'BtoA'"):
        hub("cyclegan_photo2anime", direction="AtoC")
    with pytest.raises(ValueError, match="only the AtoB generator"):
        hub("cyclegan_horse2zebra", pretrained=True, direction="BtoA")


# ----------------------------------------------------------------------------------- pool and schedule

def test_image_pool():
    torch.manual_seed(0)
    pool = ImagePool(3)
    first = torch.arange(3.0).view(3, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: returned as is
    assert len(pool.images) == 3
    out = torch.cat([pool.query(torch.full((1, 1, 1, 1), 10.0 + i)) for i in range(200)])
    from_history = (out.flatten() != 10 + torch.arange(200.0)).sum().item()  # old images about half of the time
    assert 60 < from_history < 140
    assert len(pool.images) == 3
    state = pool.state_dict()
    other = ImagePool(0)
    other.load_state_dict(copy.deepcopy(state))
    assert other.size == 3 and all(torch.equal(a, b) for a, b in zip(other.images, pool.images))
    assert torch.equal(ImagePool(0).query(first), first)


def test_linear_decay_rule():
    rule = linear_decay(100, 100)
    assert rule(0) == 1.0 and rule(99) == 1.0
    assert rule(100) == pytest.approx(1 - 1 / 101)
    assert rule(199) == pytest.approx(1 - 100 / 101)


# -------------------------------------------------------------------------------------------------- data

def test_unpaired_data_converts_modes_and_crops(dataset):
    dm = _tiny_data(dataset, batch_size=3)
    dm.setup("fit")
    assert len(dm.train) == 3
    batch = next(iter(dm.train_dataloader()))
    assert batch["A"].shape == (3, 3, 32, 32) and batch["B"].shape == (3, 3, 32, 32)
    assert batch["A"].min() >= 0 and batch["A"].max() <= 1
    samples = dm.sample_images(4)
    assert samples["A"].shape == (2, 3, 32, 32)  # testA has 2 images
    assert samples["B"].shape == (3, 3, 32, 32)  # no testB: falls back to trainB
    torch.testing.assert_close(samples["A"], dm.sample_images(4)["A"])  # deterministic


@pytest.mark.parametrize("missing", ["trainA", "trainB"])
def test_missing_or_empty_domain_folder(tmp_path, missing):
    for d in ("trainA", "trainB"):
        if d != missing:
            _rand_image(tmp_path / d / "x.png", 8, 8, 0)
    with pytest.raises(EmptyFolderError, match=f"missing domain folder '{missing}'"):
        _tiny_data(tmp_path).setup("fit")
    (tmp_path / missing).mkdir()
    (tmp_path / missing / "notes.txt").write_text("no images here")
    with pytest.raises(EmptyFolderError, match=f"domain folder '{missing}' has no images"):
        _tiny_data(tmp_path).setup("fit")


def test_bad_sizes():
    with pytest.raises(ValueError, match="load_size"):
        UnpairedData("x", load_size=20, crop_size=32)


# ------------------------------------------------------------------------------------------- training

def test_training_schedule_pool_and_sample_grids(dataset, tmp_path):
    model = _tiny_model()
    trainer = _trainer(tmp_path, max_epochs=3, logger=L.pytorch.loggers.CSVLogger(tmp_path, name="logs"))
    trainer.fit(model, _tiny_data(dataset))
    # 3 batches per epoch, two optimiser steps per batch
    assert trainer.global_step == 2 * 3 * 3
    # constant 1 epoch, then linear decay over 2: multipliers 1, 2/3, 1/3 for epochs 0, 1, 2
    sch_g, sch_d = model.lr_schedulers()
    assert sch_g.last_epoch == 2 and sch_d.last_epoch == 2
    assert sch_g.get_last_lr()[0] == pytest.approx(2e-4 / 3)
    assert len(model.pool_A.images) == 2 and len(model.pool_B.images) == 2
    opt_g, opt_d = model.optimizers()
    assert opt_g.optimizer.defaults["betas"] == (0.5, 0.999)
    assert {id(p) for g in opt_g.optimizer.param_groups for p in g["params"]} == \
        {id(p) for p in [*model.G_AB.parameters(), *model.G_BA.parameters()]}
    pngs = sorted(p.name for p in Path(trainer.log_dir).glob("samples/*.png"))
    assert len(pngs) == 6 and pngs[0] == "epoch0000_step0000006_AtoBtoA.png"
    from zoo.io import load_image

    grid = load_image(Path(trainer.log_dir) / "samples" / pngs[0])
    assert grid.shape == (1, 3, 2 + 2 * 34, 2 + 3 * 34)  # 2 rows (testA), 3 columns (real, fake, rec)
    import csv

    rows = list(csv.DictReader(open(Path(trainer.log_dir) / "metrics.csv")))
    lrs = sorted({float(r["train/lr"]) for r in rows if r.get("train/lr")}, reverse=True)
    assert lrs == pytest.approx([2e-4, 2e-4 * 2 / 3, 2e-4 / 3])
    for key in ("train/cycle_A", "train/idt_B", "train/d_A", "train/g_adv_AB"):
        assert any(r.get(key) for r in rows), key


def test_non_finite_loss_names_the_step(dataset, tmp_path):
    model = _tiny_model()
    original = model.G_AB.forward
    calls = {"n": 0}

    def poisoned(x):
        calls["n"] += 1
        y = original(x)
        return y * float("nan") if calls["n"] > 3 else y  # G_AB runs 3 times per batch: batch 2 is poisoned

    model.G_AB.forward = poisoned
    with pytest.raises(NonFiniteLossError, match=r"loss 'g_adv_AB' is nan at step 2"):
        _trainer(tmp_path, max_epochs=1).fit(model, _tiny_data(dataset))


_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize("accelerator,precision", [
    ("cpu", "bf16-mixed"),
    pytest.param("cuda", "16-mixed", marks=[pytest.mark.gpu, _CUDA]),
    pytest.param("cuda", "bf16-mixed", marks=[pytest.mark.gpu, _CUDA]),
])
def test_mixed_precision_keeps_losses_finite(dataset, tmp_path, accelerator, precision):
    """Mixed precision training keeps every loss finite (CPU bf16 here; on a GPU: pytest -m gpu)."""
    class Record(Callback):
        losses: list = []

        def on_train_batch_end(self, trainer, *args):
            self.losses.append({k: float(v) for k, v in trainer.callback_metrics.items()})

    rec = Record()
    model = _tiny_model()
    _trainer(tmp_path, max_steps=4, accelerator=accelerator, precision=precision,
             callbacks=[rec]).fit(model, _tiny_data(dataset))
    assert len(rec.losses) == 2
    assert all(torch.isfinite(torch.tensor(v)) for d in rec.losses for v in d.values())
    assert "train/cycle_A" in rec.losses[-1]


class Capture(Callback):
    """The state a resumed run starts from."""

    def on_train_start(self, trainer, module):
        self.global_step = trainer.global_step
        self.optimizers = [copy.deepcopy(o.state_dict()) for o in trainer.optimizers]
        self.schedulers = [copy.deepcopy(c.scheduler.state_dict()) for c in trainer.lr_scheduler_configs]
        self.pools = {"A": module.pool_A.state_dict(), "B": module.pool_B.state_dict()}
        self.weights = {k: v.clone() for k, v in module.state_dict().items()}


def _assert_same(a, b, path="state"):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a.cpu(), b.cpu()), path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def test_resume_restores_optimisers_schedule_and_pools(dataset, tmp_path):
    ckpt_dir = tmp_path / "ckpt"

    def ckpt_callback():
        return ModelCheckpoint(dirpath=ckpt_dir, every_n_train_steps=1, save_last=True, save_top_k=1)

    # "crash" after 4 batches: mid-epoch 1, schedulers stepped once, pools full and already swapped
    first = _tiny_model()
    t1 = _trainer(tmp_path, max_steps=8, callbacks=[ckpt_callback()])
    t1.fit(first, _tiny_data(dataset))
    ckpt = torch.load(ckpt_dir / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 8 and ckpt["epoch"] == 1
    assert [s["last_epoch"] for s in ckpt["lr_schedulers"]] == [1, 1]
    _assert_same(ckpt["cyclegan_image_pools"], {"A": first.pool_A.state_dict(), "B": first.pool_B.state_dict()})
    assert len(ckpt["cyclegan_image_pools"]["A"]["images"]) == 2

    capture = Capture()
    second = _tiny_model()
    t2 = _trainer(tmp_path, max_epochs=3, callbacks=[ckpt_callback(), capture])
    t2.fit(second, _tiny_data(dataset), ckpt_path=str(ckpt_dir / "last.ckpt"))
    assert capture.global_step == 8
    _assert_same(capture.optimizers, ckpt["optimizer_states"], "optimizers")
    _assert_same(capture.schedulers, ckpt["lr_schedulers"], "schedulers")
    _assert_same(capture.pools, ckpt["cyclegan_image_pools"], "pools")
    _assert_same(capture.weights, ckpt["state_dict"], "weights")
    # the resumed run finishes epoch 1 (2 more batches) and epoch 2, not more, not less
    assert t2.global_step == 2 * 3 * 3
    assert second.lr_schedulers()[0].last_epoch == 2


@pytest.mark.slow  # tests/test_fit.py::test_smoke_run_then_real_run_killed_then_resumed covers this in the default run
def test_fit_cli_resume_after_kill(dataset, tmp_path):
    """A run is killed (SIGKILL) once it has checkpointed a few steps; --ckpt_path=last continues it."""
    recipe = str(REPO / "recipes" / "cyclegan_photo2anime.yaml")
    args = [recipe, f"--data.root={dataset}", *TINY_OVERRIDES,
            "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
            "--trainer.callbacks.every_n_train_steps=2", "--trainer.callbacks.save_last=true"]
    last = tmp_path / "runs" / "cyclegan_photo2anime" / "version_0" / "checkpoints" / "last.ckpt"
    log = open(tmp_path / "killed-run.log", "w")  # a file: a pipe nobody reads would block the run when full
    proc = subprocess.Popen([sys.executable, "-m", "zoo.fit", *args, "--trainer.max_epochs=200"], cwd=tmp_path, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=log, text=True)

    def at_step_8() -> bool:  # checkpoints are renamed into place whole (zoo.fileio)
        return last.is_file() and torch.load(last, map_location="cpu", weights_only=True)["global_step"] >= 8

    try:
        wait_until(at_step_8, proc, "a checkpoint at step 8", poll=0.5)
        proc.kill()
        proc.wait(WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    killed = torch.load(last, map_location="cpu", weights_only=True)
    assert killed["global_step"] >= 8 and "cyclegan_image_pools" in killed
    # resume and stop at the end of the epoch after the one it was killed in
    end_epoch = killed["epoch"] + 2
    done = _fit(*args, f"--trainer.max_epochs={end_epoch}", "--ckpt_path=last", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    final = torch.load(last.parents[2] / "version_1" / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=True)  # the resumed run writes its own checkpoints
    assert final["global_step"] == 2 * 3 * end_epoch  # every batch exactly once across the two runs
    assert [s["last_epoch"] for s in final["lr_schedulers"]] == [end_epoch - 1] * 2


def test_fit_ddp_two_cpu_processes(dataset, tmp_path):
    recipe = str(REPO / "recipes" / "cyclegan_horse2zebra.yaml")
    done = _fit(recipe, f"--data.root={dataset}", *TINY_OVERRIDES, "--trainer.max_epochs=1",
                "--trainer.strategy=ddp", "--trainer.devices=2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    ckpts = list((tmp_path / "runs" / "cyclegan_horse2zebra" / "version_0" / "checkpoints").glob("*.ckpt"))
    assert ckpts, done.stderr[-2000:]
    ckpt = torch.load(ckpts[0], map_location="cpu", weights_only=True)
    # 3 samples over 2 processes: 2 batches each, 2 optimiser steps per batch
    assert ckpt["global_step"] == 4
    assert ckpt["hyper_parameters"]["network"] == {"dropout": False, **TINY_G}  # every key, defaults included
    assert list((tmp_path / "runs" / "cyclegan_horse2zebra").glob("version_*/samples/*_AtoBtoA.png"))


def test_fit_missing_domain_folder_is_one_line_error(tmp_path):
    (tmp_path / "data" / "trainA").mkdir(parents=True)
    done = _fit(str(REPO / "recipes" / "cyclegan_photo2anime.yaml"), f"--data.root={tmp_path / 'data'}",
                *TINY_OVERRIDES, "--trainer.fast_dev_run=true", cwd=tmp_path)
    assert done.returncode == 1
    assert "domain folder 'trainA' has no images" in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------------------------------- inference

@pytest.fixture(scope="module")
def trained_ckpt(dataset, tmp_path_factory) -> tuple[Path, CycleGAN]:
    root = tmp_path_factory.mktemp("ckpt")
    model = _tiny_model(epochs_constant=1, epochs_decay=0, sample_every_n_epochs=0)
    trainer = _trainer(root, max_steps=2, enable_checkpointing=False)
    trainer.fit(model, _tiny_data(dataset))
    trainer.save_checkpoint(root / "model.ckpt")
    return root / "model.ckpt", model.eval()


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_stylizer_from_lightning_checkpoint(trained_ckpt, direction):
    path, model = trained_ckpt
    assert "cyclegan" in FAMILIES
    stylizer = build_stylizer(StylizeOptions(model="cyclegan", weights=str(path), direction=direction, device="cpu"))
    assert stylizer.needs_style is False
    x = torch.rand(1, 3, 30, 42)
    with torch.no_grad():
        expected = model.generator(direction)(x)
        other = model.generator("BtoA" if direction == "AtoB" else "AtoB")(x)
    y = stylizer(x, [])
    torch.testing.assert_close(y, expected)
    assert not torch.allclose(y, other)


def test_stylizer_from_export_and_official_pth(trained_ckpt, tmp_path):
    _, model = trained_ckpt
    model.G_BA.save_pretrained(tmp_path / "g_ba")
    x = torch.rand(1, 3, 28, 28)
    with torch.no_grad():
        expected = model.G_BA(x)
    for weights in (tmp_path / "g_ba", tmp_path / "g_ba" / "model.safetensors"):
        out = build_stylizer(StylizeOptions(model="cyclegan", weights=str(weights), device="cpu"))(x, [])
        torch.testing.assert_close(out, expected)
    with pytest.raises(ValueError, match="holds a single network"):
        load_generator(str(tmp_path / "g_ba"), "BtoA")
    ref, sd = _official_state_dict()
    torch.save(sd, tmp_path / "latest_net_G.pth")
    out = build_stylizer(StylizeOptions(model="cyclegan", weights=str(tmp_path / "latest_net_G.pth"), device="cpu"))(x, [])
    with torch.no_grad():
        torch.testing.assert_close(out, ((ref(x * 2 - 1) + 1) / 2).clamp(0, 1), rtol=1e-5, atol=1e-5)


def test_stylizer_runs_forward_fast_on_cpu(tmp_path):
    """What zoo stylize runs for CycleGAN on CPU is ResnetGenerator.forward_fast (the benchmarked path,
    the official picture within 1e-4: tests/test_exactness.py), at an odd size."""
    from unittest import mock

    ref, sd = _official_state_dict()
    torch.save(sd, tmp_path / "latest_net_G.pth")
    stylizer = build_stylizer(StylizeOptions(model="cyclegan", weights=str(tmp_path / "latest_net_G.pth"),
                                             device="cpu"))
    x = torch.rand(1, 3, 37, 45)
    with mock.patch.object(ResnetGenerator, "forward_fast", autospec=True,
                           side_effect=ResnetGenerator.forward_fast) as fast:
        out = stylizer(x, [])
    assert fast.call_count == 1
    with torch.no_grad():
        torch.testing.assert_close(out, ((ref(x * 2 - 1) + 1) / 2).clamp(0, 1)[..., :37, :45], rtol=0, atol=1e-4)


def test_stylizer_size_and_tiles(trained_ckpt):
    path, model = trained_ckpt
    from zoo.tiling import min_tile

    x = torch.rand(1, 3, 40, 60)
    small = build_stylizer(StylizeOptions(model="cyclegan", weights=str(path), size=30, device="cpu"))(x, [])
    assert small.shape == (1, 3, 20, 30)
    tile = min_tile(model.G_AB.tile_margin())
    x = torch.rand(1, 3, tile + 13, tile // 2)
    tiled = build_stylizer(StylizeOptions(model="cyclegan", weights=str(path), tile=tile, device="cpu",
                                          progress=False))(x, [])
    with torch.no_grad():
        whole = model.G_AB(x)
    # every instance norm sees the whole image's statistics: the untiled picture
    torch.testing.assert_close(tiled, whole, atol=1e-4, rtol=0)


@pytest.mark.parametrize("opts, match", [
    ({"alpha": 0.5}, "--alpha"),
    ({"style_weights": [1.0]}, "--style-weights"),
    ({"masks": ["m.png"]}, "--masks"),
    ({"scales": [0.5, 1.0]}, "--scales"),
    ({"backbone_weights": "none"}, "--backbone-weights"),
    ({"preserve_color": "histogram"}, "luminance only"),
    ({"tile": 8}, "--tile must be at least"),
    ({"weights": None}, "needs --weights"),
    ({"direction": "sideways"}, "AtoB or BtoA"),
])
def test_stylizer_rejects_unsupported_options(trained_ckpt, opts, match):
    kwargs = {"model": "cyclegan", "weights": str(trained_ckpt[0]), "device": "cpu", **opts}
    with pytest.raises(ValueError, match=match):
        build_stylizer(StylizeOptions(**kwargs))


def test_weights_that_are_not_files():
    with pytest.raises(FileNotFoundError, match="pretrained_models/horse2zebra.pth"):
        load_generator("horse2zebra")
    from zoo.backbone import WeightsUnavailableError

    with pytest.raises(WeightsUnavailableError, match="recipes/cyclegan_photo2anime.yaml"):
        load_generator("cyclegan_photo2anime")  # a pretrained tag, not published yet
    with pytest.raises(FileNotFoundError, match="nowhere/last.ckpt: no such weights file or folder, and not a pretrained tag"):
        load_generator("nowhere/last.ckpt")


def test_stylizer_rejects_style_images(trained_ckpt):
    stylizer = build_stylizer(StylizeOptions(model="cyclegan", weights=str(trained_ckpt[0]), device="cpu"))
    with pytest.raises(ValueError, match="no style image"):
        stylizer(torch.rand(1, 3, 16, 16), [torch.rand(1, 3, 16, 16)])


def test_zoo_stylize_cli_folder(trained_ckpt, tmp_path):
    """`zoo stylize photos/ --model cyclegan --weights last.ckpt --direction BtoA -o out/` end to end."""
    path, model = trained_ckpt
    _rand_image(tmp_path / "photos" / "p0.png", 20, 28, 5)
    _rand_image(tmp_path / "photos" / "p1.jpg", 24, 24, 6, mode="L")
    code = ("import sys, zoo.nets.cyclegan; from zoo.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "stylize", str(tmp_path / "photos"), "--model", "cyclegan",
                           "--weights", str(path), "--direction", "BtoA", "-o", str(tmp_path / "out"), "--quiet"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr[-2000:]
    from zoo.io import load_image

    out = load_image(tmp_path / "out" / "p0.png")
    with torch.no_grad():
        expected = model.G_BA(load_image(tmp_path / "photos" / "p0.png"))
    assert out.shape == (1, 3, 20, 28)
    assert (out - expected).abs().max() <= 1 / 255 + 1e-6  # 8-bit rounding
    assert (tmp_path / "out" / "p1.jpg").is_file()


def test_image_grids_callback_writes_and_logs_each_grid_on_its_epochs(tmp_path):
    """zoo.variants.callbacks.ImageGrids (CycleGAN's samples, the perceptual variant's validation grid): every
    n-th epoch and the last, one PNG per grid named by epoch and step, sent to the loggers that take images (W&B's
    log_image, TensorBoard's add_image), none from rank 1, a smoke run or a sanity check."""
    from types import SimpleNamespace

    from zoo.io import load_image
    from zoo.variants.callbacks import ImageGrids

    logged = []
    wandb_like = SimpleNamespace(log_image=lambda key, images, step: logged.append(("wandb", key, step)))
    tensorboard_like = SimpleNamespace(experiment=SimpleNamespace(
        add_image=lambda key, image, step: logged.append(("tb", key, step))))
    trainer = SimpleNamespace(log_dir=str(tmp_path), default_root_dir=None, global_rank=0, fast_dev_run=False,
                              max_epochs=5, sanity_checking=False, loggers=[wandb_like, tensorboard_like])
    grid = torch.rand(3, 10, 12)
    module = SimpleNamespace(current_epoch=0, global_step=0, image_grids=lambda: {"AtoBtoA": grid})
    callback = ImageGrids("samples", "epoch{epoch:04d}_step{step:07d}_{name}.png", "samples/{name}", every_n_epochs=2)
    for epoch in range(5):
        module.current_epoch, module.global_step = epoch, 3 * (epoch + 1)
        callback.on_train_epoch_end(trainer, module)
        callback.on_validation_epoch_end(trainer, module)  # a train-stage callback: nothing after validation
    names = sorted(p.name for p in (tmp_path / "samples").iterdir())
    assert names == ["epoch0001_step0000006_AtoBtoA.png", "epoch0003_step0000012_AtoBtoA.png",
                     "epoch0004_step0000015_AtoBtoA.png"]  # epochs 2 and 4 (1-based), and the last
    torch.testing.assert_close(load_image(tmp_path / "samples" / names[0])[0], grid, atol=1 / 255, rtol=0)
    assert logged == [(kind, "samples/AtoBtoA", step) for step in (6, 12, 15) for kind in ("wandb", "tb")]
    validation = ImageGrids("val_images", "epoch{epoch:03d}-step{step:07d}.png", "val/stylized", stage="validation")
    for rank, smoke, sanity in ((1, False, False), (0, True, False), (0, False, True)):
        t = SimpleNamespace(**{**vars(trainer), "global_rank": rank, "fast_dev_run": smoke, "sanity_checking": sanity})
        validation.on_validation_epoch_end(t, module)
        validation.on_train_epoch_end(t, module)
    assert not (tmp_path / "val_images").exists()
    validation.on_validation_epoch_end(trainer, module)
    assert [p.name for p in (tmp_path / "val_images").iterdir()] == ["epoch004-step0000015.png"]
