"""AnimeGANv2 training: the losses by hand, the edge smoothing against the reference's loop, the data, the
discriminator, and training (init phase, NaN, DDP on two CPU processes, --ckpt_path=last resume).
The recipe's fast_dev_run is tests/test_fit.py's (its recipe_args row). Tiny images and widths throughout."""

from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

from conftest import REPO, make_image
from zoo.data.anime import AnimeData, edge_smooth, make_edge_smoothed
from zoo.data.folder import EmptyFolderError
from zoo.losses import (AnimeAdversarialLoss, ColorYUVLoss, ContentL1Loss, GramL1Loss, MeanTVLoss,
                        NonFiniteLossError, build_losses, grayscale)
from zoo.variants.animeganv2 import AnimeGANDiscriminator, AnimeGANv2


pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------------------- losses

def test_grayscale_is_bt601_luma_on_three_channels():
    x = torch.zeros(1, 3, 1, 2)
    x[0, :, 0, 0] = torch.tensor([1.0, 0.0, 0.0])
    x[0, :, 0, 1] = torch.tensor([0.2, 0.4, 1.0])
    g = grayscale(x)
    assert g.shape == (1, 3, 1, 2)
    assert torch.allclose(g[0, :, 0, 0], torch.full((3,), 0.299))
    assert torch.allclose(g[0, :, 0, 1], torch.full((3,), 0.299 * 0.2 + 0.587 * 0.4 + 0.114))


def test_gram_l1_on_grayscale_features_by_hand():
    # features (1, 2, 2, 2): G = F F^T / (C H W) = [[30, 6], [6, 2]] / 8
    f = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]).reshape(1, 2, 2, 2)
    s = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]).reshape(1, 2, 2, 2)  # G = [[4, 4], [4, 4]] / 8
    loss = GramL1Loss(weight=2.5, layers=["conv4_4"])
    target = loss.target({"conv4_4": s})
    expected = 2.5 * (abs(30 - 4) + abs(6 - 4) * 2 + abs(2 - 4)) / 8 / 4  # mean |G_f - G_s| over 4 entries
    assert loss({"conv4_4": f}, target).item() == pytest.approx(expected)
    # the style of a gray image: every channel equal, so every Gram entry equal
    gray = grayscale(torch.rand(1, 3, 4, 4))
    g = loss.stats(gray)[0]
    assert torch.allclose(g, g[0, 0].expand(3, 3))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # Gram matrices in float32 under autocast
        assert loss.stats(f.bfloat16()).dtype == torch.float32


def test_content_l1_by_hand():
    a, b = torch.arange(8.0).reshape(1, 2, 2, 2), torch.ones(1, 2, 2, 2)
    loss = ContentL1Loss(weight=1.5, layers=["conv4_4"])
    assert loss({"conv4_4": a}, loss.target({"conv4_4": b})).item() == pytest.approx(1.5 * (1 + 0 + 1 + 2 + 3 + 4 + 5 + 6) / 8)


def _image(*rgb: float) -> torch.Tensor:
    return torch.tensor(rgb).view(1, 3, 1, 1).expand(1, 3, 2, 2)


def test_color_yuv_by_hand():
    loss = ColorYUVLoss(weight=10.0)
    # white vs black: Y differs by 1, U and V of gray pixels are 0
    assert loss(_image(0, 0, 0), _image(1, 1, 1)).item() == pytest.approx(10.0, abs=1e-5)
    # red vs black: Y = 0.299 (L1), U = -0.14714119 and V = 0.61497538 (Huber, quadratic under 1)
    expected = 0.299 + 0.5 * 0.14714119 ** 2 + 0.5 * 0.61497538 ** 2
    assert loss(_image(1, 0, 0), _image(0, 0, 0)).item() == pytest.approx(10 * expected, rel=1e-5)
    # red vs cyan: V differs by 1.22995076 > 1, where the Huber loss is linear (|d| - 0.5)
    d_y, d_u, d_v = 0.299 - 0.701, -0.14714119 - 0.14714119, 0.61497538 + 0.61497538
    expected = abs(d_y) + 0.5 * d_u ** 2 + (abs(d_v) - 0.5)
    assert loss(_image(1, 0, 0), _image(0, 1, 1)).item() == pytest.approx(10 * expected, rel=1e-5)


def test_tv_mean_by_hand():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    # vertical differences 2, 2 (mean square 4); horizontal 1, 1 (mean square 1): (4 + 1) / 2
    assert MeanTVLoss(weight=1.0)(x).item() == pytest.approx(2.5)
    assert MeanTVLoss(weight=0.1)(torch.cat([x, x])).item() == pytest.approx(0.25)  # a mean: batch-size free


@pytest.mark.parametrize("mode,d,g", [
    ("lsgan", 1.7 * 1 + 1.7 * 0.25 + 1.7 * 0.0625 + 1.0 * 1, 0.25),
    ("hinge", 1.7 * 0 + 1.7 * 1.5 + 1.7 * 1.25 + 1.0 * 0, -0.5),
])
def test_anime_adversarial_by_hand(mode, d, g):
    loss = AnimeAdversarialLoss(weight=300.0, d_weight=2.0, mode=mode)
    real, fake, gray, smooth = (torch.full((1, 1, 2, 2), v) for v in (2.0, 0.5, 0.25, -1.0))
    assert loss.discriminator(real, fake, gray, smooth).item() == pytest.approx(2.0 * d)
    assert loss.generator(fake).item() == pytest.approx(300.0 * g)
    loss = AnimeAdversarialLoss(d_weight=1.0, mode="vanilla", real_weight=0, fake_weight=0, gray_weight=0)
    assert loss.discriminator(real, fake, gray, smooth).item() == pytest.approx(math.log(1 + math.exp(-1.0)))


def test_losses_are_in_the_registry():
    losses = build_losses({"content_l1": {}, "gram_l1": {}, "color_yuv": {}, "tv_mean": {}, "anime_adversarial": {}})
    assert [type(m) for m in losses.values()] == [ContentL1Loss, GramL1Loss, ColorYUVLoss, MeanTVLoss,
                                                  AnimeAdversarialLoss]
    assert losses["content_l1"].layers == ("conv4_4",) and losses["gram_l1"].layers == ("conv4_4",)


# ------------------------------------------------------------------------------------- edge smoothing

def _reference_edge_smooth(rgb: np.ndarray) -> np.ndarray:
    """tools/edge_smooth.py (TachibanaYoshino/AnimeGANv2 8f97ab48) after its resize, restated: a loop over the
    dilated Canny edge pixels, each set to the sum of its 5x5 reflect-padded window times the Gaussian."""
    import cv2

    kernel = np.ones((5, 5), np.uint8)
    gauss = cv2.getGaussianKernel(5, 0)
    gauss = gauss * gauss.transpose(1, 0)
    pad_img = np.pad(rgb, ((2, 2), (2, 2), (0, 0)), mode="reflect")
    dilation = cv2.dilate(cv2.Canny(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 100, 200), kernel)
    out = np.copy(rgb)
    idx = np.where(dilation != 0)
    for i in range(np.sum(dilation != 0)):
        for c in range(3):
            out[idx[0][i], idx[1][i], c] = np.sum(np.multiply(pad_img[idx[0][i]:idx[0][i] + 5, idx[1][i]:idx[1][i] + 5, c],
                                                              gauss))
    return out


def test_edge_smooth_equals_the_reference_loop():
    rng = np.random.default_rng(0)
    rgb = np.full((20, 23, 3), 40, np.uint8)
    rgb[5:14, 6:17] = (230, 180, 20)  # a flat shape with sharp edges, on a flat background
    rgb[16:, :] = rng.integers(0, 256, (4, 23, 3), dtype=np.uint8)  # and noise at the border
    ours = edge_smooth(rgb)
    assert np.array_equal(ours, _reference_edge_smooth(rgb))
    assert (ours != rgb).any() and np.array_equal(ours[:2, :2], rgb[:2, :2])  # edges change, far pixels do not


def test_edge_smoothed_cache_is_made_once_and_reference_folders_are_read(tmp_path):
    style = tmp_path / "Hayao" / "style"
    make_image(style / "a.jpg", (50, 40), seed=1)
    make_image(style / "sub" / "b.png", (40, 40), seed=2)
    (style / "broken.png").write_bytes(b"not an image")
    smooth = tmp_path / "smooth"
    assert make_edge_smoothed(style, smooth, image_size=32) == 2  # the unreadable one skipped
    made = sorted(p.relative_to(smooth).as_posix() for p in smooth.rglob("*") if p.is_file())
    assert made == ["a.jpg.png", "sub/b.png.png"]
    from PIL import Image

    assert Image.open(smooth / "a.jpg.png").size == (40, 32)  # 50 x 40: shorter edge to image_size, aspect kept
    stamp = (smooth / "a.jpg.png").stat().st_mtime_ns
    assert make_edge_smoothed(style, smooth, image_size=32) == 0  # cached: nothing made twice
    assert (smooth / "a.jpg.png").stat().st_mtime_ns == stamp
    # a folder made by the reference tool (same file names) is used as it is
    ref = tmp_path / "ref_smooth"
    make_image(ref / "a.jpg", (32, 32), seed=3)
    make_image(ref / "sub" / "b.png", (32, 32), seed=4)
    assert make_edge_smoothed(style, ref, image_size=32) == 0
    with pytest.raises(EmptyFolderError, match="no anime style images"):
        make_edge_smoothed(tmp_path / "nothing", smooth, image_size=32)


def _folders(root: Path) -> tuple[Path, Path]:
    for i in range(2):
        make_image(root / "photos" / f"p{i}.png", (40, 36), seed=i)
    for i in range(3):
        make_image(root / "anime" / f"a{i}.jpg", (36, 44), seed=10 + i)
    return root / "photos", root / "anime"


def test_data_batches_and_default_cache_folder(tmp_path):
    photos, anime = _folders(tmp_path)
    dm = AnimeData(str(photos), str(anime), image_size=32, batch_size=2, num_workers=0)
    dm.prepare_data()
    assert len(list((tmp_path / "anime_smooth32").iterdir())) == 3
    batches = list(dm.train_dataloader())
    assert len(batches) == 1  # max(2 photos, 3 anime) = 3 items, full batches of 2 only
    assert {k: tuple(v.shape) for k, v in batches[0].items()} == {k: (2, 3, 32, 32) for k in ("photo", "style", "smooth")}
    assert all(0 <= v.min() and v.max() <= 1 for v in batches[0].values())
    with pytest.raises(ValueError, match="--data.batch_size"):
        AnimeData(str(photos), str(anime), batch_size=0)
    missing = AnimeData(str(tmp_path / "nope"), str(anime), image_size=32)
    with pytest.raises(EmptyFolderError, match=r"nope: no such directory \(--data.photo_dir\)$"):
        missing.setup("fit")


# --------------------------------------------------------------------------------------- discriminator

def test_discriminator_structure_and_any_size():
    d = AnimeGANDiscriminator()  # the reference's ch 64, n_dis 3, spectral norm
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (3, 32, 1), (32, 64, 2), (64, 128, 1), (128, 128, 2), (128, 256, 1), (256, 256, 1), (256, 1, 1)]
    assert all(c.bias is None and hasattr(c, "parametrizations") for c in convs)
    assert sum(isinstance(m, torch.nn.GroupNorm) for m in d.modules()) == 3
    small = AnimeGANDiscriminator(ch=8, spectral_norm=False)
    for h, w in ((32, 32), (33, 21), (9, 10)):
        # stride 2 after 1 px of padding at the top/left only, then a "valid" 3x3: floor(H / 2) per stage
        assert small(torch.rand(2, 3, h, w)).shape == (2, 1, h // 2 // 2, w // 2 // 2)


# -------------------------------------------------------------------------------------------- training

def _tiny(init_epochs: int = 1, **kw) -> AnimeGANv2:
    return AnimeGANv2(backbone={"weights": None}, discriminator={"ch": 8, "n_dis": 2}, init_epochs=init_epochs, **kw)


def test_init_phase_trains_only_the_generator_then_both(tmp_path):
    photos, anime = _folders(tmp_path)
    model = _tiny(init_epochs=1)
    d_before = {k: v.clone() for k, v in model.discriminator.state_dict().items()}
    g_before = {k: v.clone() for k, v in model.generator.state_dict().items()}
    seen = []

    class Phase(L.Callback):
        def on_train_batch_end(self, trainer, module, *args):
            seen.append((trainer.current_epoch, module.in_init_phase(), trainer.global_step))
            if trainer.current_epoch == 0:  # initialisation: D untouched, G trained
                assert all(torch.equal(v, d_before[k]) for k, v in module.discriminator.state_dict().items())

    trainer = L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", callbacks=[Phase()])
    trainer.fit(model, AnimeData(str(photos), str(anime), image_size=32, batch_size=1, num_workers=0))
    # 3 batches per epoch: one optimiser step each while initialising, two (D, G) afterwards
    assert seen == [(0, True, 1), (0, True, 2), (0, True, 3), (1, False, 5), (1, False, 7), (1, False, 9)]
    steps = [{int(s["step"]) for s in opt.state_dict()["state"].values()} for opt in trainer.optimizers]
    assert steps == [{3}, {3}, {3}]  # init, generator, discriminator Adam
    assert not all(torch.equal(v, d_before[k]) for k, v in model.discriminator.state_dict().items())
    assert not all(torch.equal(v, g_before[k]) for k, v in model.generator.state_dict().items())


def test_non_finite_loss_stops_naming_the_loss(tmp_path):
    photos, anime = _folders(tmp_path)
    model = _tiny(init_epochs=0)
    model.generator.forward = lambda x: torch.full_like(x, float("nan"))
    trainer = L.Trainer(fast_dev_run=1, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu")
    with pytest.raises(NonFiniteLossError, match="loss 'd_adversarial' is nan at step 0"):
        trainer.fit(model, AnimeData(str(photos), str(anime), image_size=32, batch_size=1, num_workers=0))


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="'anime_adversarial' is required"):
        AnimeGANv2(backbone={"weights": None}, losses={"content_l1": {}})
    with pytest.raises(ValueError, match=r"\['gram'\] not used by AnimeGANv2"):
        AnimeGANv2(backbone={"weights": None}, losses={"content_l1": {}, "anime_adversarial": {}, "gram": {}})
    with pytest.raises(ValueError, match="--model.init_epochs"):
        AnimeGANv2(backbone={"weights": None}, init_epochs=-1)


def test_ddp_two_cpu_processes_then_resume_with_ckpt_path_last(run, offline_env, tmp_path, monkeypatch, capsys):
    """Initialisation then adversarial training under DDP (2 CPU processes, gloo, find_unused_parameters: each
    backward reaches only G or only D), then `--ckpt_path=last` on one process continues after the
    initialisation with every optimiser's state and the step count."""
    photos, anime = _folders(tmp_path)
    offline_env["OMP_NUM_THREADS"] = "1"  # two processes of tiny tensors: one thread each
    args = [str(REPO / "recipes/animeganv2.yaml"), f"--data.photo_dir={photos}", f"--data.style_dir={anime}",
            "--data.image_size=32", "--data.batch_size=1", "--data.num_workers=0", "--model.backbone.weights=none",
            "--model.discriminator={ch: 8, n_dis: 2}", "--model.init_epochs=1",
            "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
    r = run("-m", "zoo.fit", *args, "--trainer.max_epochs=2", "--trainer.strategy=ddp", "--trainer.devices=2",
            "--trainer.accelerator=cpu")
    assert r.returncode == 0, r.stderr[-3000:]
    last = tmp_path / "runs" / "animeganv2" / "version_0" / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    # 3 items over 2 processes: 2 batches each per epoch; 1 step per batch initialising, then 2
    assert ckpt["epoch"] == 1 and ckpt["global_step"] == 2 + 4
    assert [{int(s["step"]) for s in o["state"].values()} for o in ckpt["optimizer_states"]] == [{2}, {2}, {2}]
    assert any(k.startswith("generator.") for k in ckpt["state_dict"])
    assert not any(k.startswith("encoder.") for k in ckpt["state_dict"])  # VGG re-created from its source

    import zoo.fit

    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert zoo.fit.main([*args, "--trainer.max_epochs=3", "--trainer.accelerator=cpu", "--ckpt_path=last"]) == 0
    assert f"resuming from {Path('runs/animeganv2/version_0/checkpoints/last.ckpt')} (epoch 1, step 6)" \
        in capsys.readouterr().err
    final = torch.load(last.parents[2] / "version_1" / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=True)
    assert final["global_step"] == 6 + 2 * 3  # one more adversarial epoch: 3 batches on one process
    # the initialisation optimiser was not used again; the generator and discriminator ones continued
    assert [{int(s["step"]) for s in o["state"].values()} for o in final["optimizer_states"]] == [{2}, {5}, {5}]

    # the trained generator is what `zoo stylize --model animeganv2 --weights last.ckpt` (the family's checkpoint
    # prefix) and `--weights DIR` (the variant's export) load
    from zoo.stylizers import load_network

    final_ckpt = last.parents[2] / "version_1" / "checkpoints" / "last.ckpt"
    trained = AnimeGANv2.load_from_checkpoint(final_ckpt, backbone={"weights": None})
    trained.export(tmp_path / "export")
    for weights in (final_ckpt, tmp_path / "export"):
        loaded = load_network("animeganv2", weights)
        for k, v in loaded.state_dict().items():
            assert torch.equal(v, final["state_dict"][f"generator.{k}"]), (weights, k)
