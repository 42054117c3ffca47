"""Johnson et al. 2016 feed-forward variant: network, importer, export, tiling, training, data, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import WAIT
import originals
from zoo.io import load_image, save_image
from zoo.nets.johnson import TransformerNet, convert_fast_neural_style_state_dict, fast_neural_style_config
from zoo.stylizers import load_transformer

TINY = {"channels": [4, 8, 8], "num_residual": 1}
ROOT = Path(__file__).resolve().parents[1]


def _smooth(h: int, w: int, n: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.rand(n, 3, max(2, h // 8), max(2, w // 8), generator=g), size=(h, w),
                         mode="bilinear", align_corners=False)


def _randomize(net: nn.Module, seed: int = 0) -> nn.Module:
    """Random non-trivial values for every parameter (instance-norm affine included)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.ndim == 1:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g) if name.endswith("weight")
                        else 0.1 * torch.randn(p.shape, generator=g))
    return net


# ------------------------------------------------------------------------------------------ network
def test_paper_network_size_and_config_validation():
    net = TransformerNet()
    # pytorch/examples' TransformerNet (same layers) has 1,679,235 parameters.
    assert sum(p.numel() for p in net.parameters()) == 1_679_235
    norms = [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == 3 + 2 * 5 + 2 and all(m.affine and not m.track_running_stats for m in norms)
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())  # resize-convolution
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in net.modules()) == 3 + 10 + 2 + 1
    with pytest.raises(ValueError, match="norm must be one of"):
        TransformerNet(norm="group")
    with pytest.raises(ValueError, match="channels must be three"):
        TransformerNet(channels=[8, 8])


FAST_CONFIGS = {
    "paper": {},
    "tiny_batchnorm": dict(TINY, norm="batch"),
    "tiny_no_norm_bilinear_sigmoid": dict(TINY, norm="none", upsample="bilinear", output="sigmoid"),
    "tiny_fast_neural_style": dict(fast_neural_style_config(), **TINY),  # 0-255 scales, clamp output
}


@pytest.mark.parametrize("name", list(FAST_CONFIGS))
def test_forward_fast_equals_forward(name):
    """forward_fast (what zoo stylize runs on CPU) is the same function as the plain forward within 1e-4:
    padded and unpadded sizes, batch 2, every norm/upsample/output mode."""
    torch.manual_seed(0)
    net = _randomize(TransformerNet(**FAST_CONFIGS[name]), seed=3).eval()
    if name == "tiny_batchnorm":  # non-trivial running statistics
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    if name == "tiny_fast_neural_style":  # a 0-255 head, as a trained one is, so the output is not ~0
        with torch.no_grad():
            net.head.conv.weight.mul_(100.0)
            net.head.conv.bias.add_(127.0)
    sizes = [(36, 44)] if name == "paper" else [(36, 44), (32, 32), (5, 7)]
    for size in sizes:  # (32, 32): no padding needed; (5, 7): under 16 px, the plain path
        x = _smooth(*size, n=2, seed=4)
        with torch.no_grad():
            ref = net(x)
        out = net.forward_fast(x)
        assert out.shape == x.shape and out.is_contiguous() and not out.requires_grad
        err = (out - ref).abs().max().item()
        assert err <= 1e-4, (size, err)
        assert ref.std() > 1e-3  # not a constant image: the comparison means something


def test_forward_fast_follows_weight_changes_and_keeps_state_dict():
    net = _randomize(TransformerNet(**TINY), seed=5).eval()
    keys = sorted(net.state_dict())
    x = _smooth(24, 28, seed=6)
    first = net.forward_fast(x)
    other = _randomize(TransformerNet(**TINY), seed=7).eval()
    net.load_state_dict(other.state_dict())  # in-place copies: the cached channels_last weights must go stale
    with torch.no_grad():
        ref = other(x)
    out = net.forward_fast(x)
    assert (out - ref).abs().max() <= 1e-4
    assert (out - first).abs().max() > 1e-3
    with torch.no_grad():  # a plain in-place edit of one convolution is seen too
        net.head.conv.weight.mul_(-1.0)
        ref = net(x)
    assert (net.forward_fast(x) - ref).abs().max() <= 1e-4
    assert sorted(net.state_dict()) == keys  # the cache is not part of the checkpoint
    with torch.inference_mode():  # weights without a version counter are not cached, still correct
        inf = _randomize(TransformerNet(**TINY), seed=5).eval()
        torch.testing.assert_close(inf.forward_fast(x), inf(x), atol=1e-4, rtol=0)
    assert all(v.is_contiguous() for v in net.state_dict().values())  # still saveable as safetensors


def test_stylizer_runs_forward_fast_on_cpu_and_plain_when_asked(monkeypatch):
    from zoo.stylizers import ImageStylizer as JohnsonStylizer

    net = _randomize(TransformerNet(**TINY), seed=8).eval()
    calls = []
    real = TransformerNet.forward_fast
    monkeypatch.setattr(TransformerNet, "forward_fast", lambda self, x: calls.append(x.shape) or real(self, x))
    x = _smooth(20, 24, seed=9)
    with torch.no_grad():
        ref = net(x)
    fast = JohnsonStylizer(net)
    assert fast.fast is True
    torch.testing.assert_close(fast(x), ref, atol=1e-4, rtol=0)
    assert calls == [x.shape]
    n = len(calls)
    torch.testing.assert_close(JohnsonStylizer(net, fast=False)(x), ref, atol=0, rtol=0)
    assert len(calls) == n


def test_save_pretrained_round_trips_a_non_default_config(tmp_path):
    # exactness, strictness and any size: tests/test_nets_contract.py, for every published network
    cfg = {**TINY, "norm": "instance", "output": "sigmoid", "input_scale": 2.0}
    net = _randomize(TransformerNet(**cfg)).eval()
    net.save_pretrained(tmp_path / "m")
    saved = json.loads((tmp_path / "m" / "config.json").read_text())
    assert {k: saved[k] for k in cfg} == cfg
    back = TransformerNet.from_pretrained(tmp_path / "m")
    assert back.config == net.config
    x = torch.rand(1, 3, 20, 24)
    assert torch.equal(net(x), back(x))


def test_registered_builder():
    from zoo.registry import MODELS

    net = MODELS.get("johnson")(**TINY)
    assert isinstance(net, TransformerNet) and net.config["channels"] == TINY["channels"]


# ------------------------------------------------------------------- importer (pytorch/examples layout)
def _original_state_dict(old_format: bool = True) -> tuple[nn.Module, dict]:
    # the original network, restated in tests/originals.py (pytorch/examples, file and commit cited there)
    orig = _randomize(originals.FastNeuralStyleNet(), seed=1).eval()
    with torch.no_grad():  # outputs spread over 0-255 like a trained model's, so the clamp is exercised
        orig.deconv3.conv2d.weight.mul_(40.0)
        orig.deconv3.conv2d.bias.fill_(127.5)
    sd = dict(orig.state_dict())
    if old_format:  # files saved by PyTorch < 0.4 carry InstanceNorm running statistics
        for name, m in orig.named_modules():
            if isinstance(m, nn.InstanceNorm2d):
                sd[f"{name}.running_mean"] = torch.randn(m.num_features)
                sd[f"{name}.running_var"] = torch.rand(m.num_features) + 0.5
    return orig, sd


def test_fast_neural_style_import_reproduces_original(tmp_path):
    orig, sd = _original_state_dict(old_format=True)
    assert any(k.endswith("in1.running_mean") for k in sd) and "res3.in2.running_var" in sd
    net = TransformerNet(**fast_neural_style_config()).eval()
    net.load_state_dict(convert_fast_neural_style_state_dict(sd), strict=True)
    x = _smooth(48, 64, n=2, seed=3)
    with torch.no_grad():
        raw = orig(x * 255.0)  # the original's interface: 0-255 in, 0-255 out
        ours = net(x)
    inside = (raw > 0) & (raw < 255)
    assert inside.float().mean() > 0.5  # the comparison is not dominated by the clamp
    # through our [0, 1] interface: exactly the original's output, clamped as its stylize() saves it
    torch.testing.assert_close(ours, raw.clamp(0, 255) / 255.0, atol=2e-6, rtol=0)
    with torch.no_grad():  # and the raw body equals the original before any clamp
        torch.testing.assert_close(net.body(x * 255.0), raw, atol=5e-4, rtol=1e-5)
    # a .pth in that layout loads through the same path as --weights
    torch.save(sd, tmp_path / "candy.pth")
    loaded = load_transformer(str(tmp_path / "candy.pth"))
    assert torch.equal(loaded(x), ours)


def test_importer_rejects_other_layouts():
    with pytest.raises(KeyError, match="not a pytorch/examples fast_neural_style"):
        convert_fast_neural_style_state_dict({"conv1.conv2d.weight": torch.zeros(1), "encoder.0.weight": torch.zeros(1)})


# ------------------------------------------------------------------------------------------ tiling
def test_tiled_equals_untiled_when_receptive_field_fits_overlap():
    from zoo.tiling import tiled_apply

    # no instance norm, no residual blocks: receptive-field radius ~16 px <= overlap // 4 = 16
    net = _randomize(TransformerNet(channels=[4, 8, 8], num_residual=0, norm="none"), seed=2).eval()
    x = _smooth(128, 160, seed=4)
    with torch.no_grad():
        full = net(x)
        tiled = tiled_apply(net, x, tile=96, overlap=64)
        too_small = tiled_apply(net, x, tile=96, overlap=16)
    torch.testing.assert_close(tiled, full, atol=1e-5, rtol=0)
    assert (too_small - full).abs().max() > 1e-5  # the check can fail: too little overlap shows


def test_tiled_close_for_instance_norm_network():
    from zoo.tiling import tiled_apply

    net = _randomize(TransformerNet(channels=[8, 16, 16], num_residual=1), seed=5).eval()
    x = _smooth(128, 160, seed=6)
    with torch.no_grad():
        full, tiled = net(x), tiled_apply(net, x, tile=96)
    # per-tile instance-norm statistics differ slightly from the whole image's
    psnr = -10 * torch.log10(F.mse_loss(tiled, full))
    assert psnr > 20, psnr
    assert tiled.shape == full.shape


# ------------------------------------------------------------------------------------------ data
@pytest.fixture
def content_dir(tmp_path):
    root = tmp_path / "content"
    (root / "a" / "b").mkdir(parents=True)
    for i in range(5):
        save_image(_smooth(40 + 4 * i, 52, seed=i), root / ("a/b" if i % 2 else "a") / f"img{i}.png")
    (root / "a" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    return root


@pytest.fixture
def style_png(tmp_path):
    return save_image(_smooth(48, 40, seed=9), tmp_path / "style.png")


def test_datamodule_skips_and_counts_corrupt_file(content_dir, style_png):
    from zoo.data.content import ContentData

    dm = ContentData(str(content_dir), str(style_png), image_size=32, batch_size=2, num_workers=0, val_images=1)
    dm.setup("fit")
    assert len(dm.train_set) + len(dm.val_set) == 6  # 5 images + the corrupt file, found recursively
    images = [dm.train_set[i] for i in range(len(dm.train_set))]
    assert all(img.shape == (3, 32, 32) for img in images)
    assert dm.skipped == 1 and any(p.name == "corrupt.jpg" for p in dm.train_set.skipped)
    batch = next(iter(dm.train_dataloader()))
    assert batch.shape == (2, 3, 32, 32) and 0 <= batch.min() and batch.max() <= 1
    (style,) = dm.style_images()
    assert style.shape == (1, 3, 256, 213)  # long edge scaled to style_size (256), as fast-neural-style does


def test_datamodule_empty_folder_is_a_clear_error_at_start(tmp_path, style_png):
    from zoo.data.content import ContentData
    from zoo.data.folder import EmptyFolderError

    (tmp_path / "empty").mkdir()
    dm = ContentData(str(tmp_path / "empty"), str(style_png), num_workers=0)
    with pytest.raises(EmptyFolderError, match="no images found"):
        dm.setup("fit")


def test_datamodule_bad_style_is_an_error_at_start(content_dir, tmp_path):
    from zoo.data.content import ContentData
    from zoo.io import ImageReadError

    dm = ContentData(str(content_dir), str(tmp_path / "missing.png"), num_workers=0)
    with pytest.raises(ImageReadError, match="missing.png: no such file"):
        dm.setup("fit")


# ------------------------------------------------------------------------------------------ training
def _variant(**kw):
    from zoo.variants.johnson import PerceptualVariant

    return PerceptualVariant(network=TINY, backbone={"weights": "none"}, **kw)


def test_training_steps_update_weights_and_style_target_is_computed_once(content_dir, style_png, tmp_path):
    import lightning as L

    from zoo.data.content import ContentData

    model = _variant()
    assert model.encoder.arch == "vgg16"  # the paper's backbone by default
    assert model.encoder.layer_names[-1] == "relu4_3"  # truncated after the deepest loss layer
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    calls = []
    original = model.set_style
    model.set_style = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    dm = ContentData(str(content_dir), str(style_png), image_size=32, batch_size=2, num_workers=0, val_images=1)
    trainer = L.Trainer(max_steps=2, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                        default_root_dir=tmp_path)
    trainer.fit(model, dm)
    assert trainer.global_step == 2
    assert len(calls) == 1 and model.style_target_computations == 1
    target = model.style_target["gram"]
    assert set(target) == {"relu1_2", "relu2_2", "relu3_3", "relu4_3"}
    assert target["relu4_3"].shape == (1, 512, 512)
    after = model.net.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert "head.conv.weight" in changed and "down.0.conv.conv.weight" in changed
    for k in ("train/content", "train/gram", "train/tv", "train/loss"):
        assert torch.isfinite(trainer.callback_metrics[k])
    # the backbone never goes into checkpoints
    assert not any(k.startswith("encoder.") for k in model.state_dict())


def test_validation_logs_losses_and_writes_grid(content_dir, style_png, tmp_path):
    import lightning as L

    from zoo.data.content import ContentData

    model = _variant(val_grid_images=2)
    dm = ContentData(str(content_dir), str(style_png), image_size=32, batch_size=2, num_workers=0, val_images=2)
    trainer = L.Trainer(accelerator="cpu", logger=L.pytorch.loggers.CSVLogger(tmp_path), enable_progress_bar=False,
                        enable_model_summary=False, default_root_dir=tmp_path)
    trainer.validate(model, dm)
    m = trainer.callback_metrics
    assert float(m["val/content_loss"]) > 0 and float(m["val/style_loss"]) > 0
    grids = list(Path(trainer.log_dir).glob("val_images/*.png"))
    assert len(grids) == 1
    grid = load_image(grids[0])
    assert grid.shape[-2:] == (2 + 2 * (32 + 2), 2 + 2 * (32 + 2))  # 2 rows (content, stylised) x 2 images


# ------------------------------------------------------------------------------------------ stylize
def _stylize_opts(**kw):
    from zoo.stylize import StylizeOptions

    return StylizeOptions(model="johnson", device="cpu", progress=False, **kw)


def test_stylizer_loads_ckpt_safetensors_and_folder(tmp_path):
    import lightning as L

    from zoo.stylize import build_stylizer

    model = _variant()
    _randomize(model.net, seed=10)
    trainer = L.Trainer(accelerator="cpu", logger=False, max_steps=0, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.strategy.connect(model)
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    model.net.save_pretrained(tmp_path / "folder")
    (tmp_path / "folder" / "model.safetensors").rename(tmp_path / "johnson.safetensors")
    (tmp_path / "folder" / "config.json").rename(tmp_path / "config.json")
    model.net.save_pretrained(tmp_path / "folder")
    x = _smooth(36, 44, seed=11)
    with torch.no_grad():
        ref = model.net.eval()(x)
    for weights in ("last.ckpt", "johnson.safetensors", "folder"):
        stylizer = build_stylizer(_stylize_opts(weights=str(tmp_path / weights)))
        assert stylizer.needs_style is False
        assert stylizer.fast is True  # CPU: the fast inference path (forward_fast) is the default
        torch.testing.assert_close(stylizer(x, []), ref, atol=1e-4, rtol=0)
    from zoo.tiling import min_tile

    tile = min_tile(model.net.tile_margin())
    big = _smooth(tile + 9, tile // 2 + 3, seed=12)
    out = build_stylizer(_stylize_opts(weights=str(tmp_path / "folder"), tile=tile))(big, [])
    with torch.no_grad():  # tiles with whole-image instance-norm statistics: the untiled picture
        torch.testing.assert_close(out, model.net(big), atol=1e-4, rtol=0)
    lum = build_stylizer(_stylize_opts(weights=str(tmp_path / "folder"), preserve_color="luminance"))(x, [])
    from zoo.color import rgb_to_yiq

    # luminance of the stylisation, chrominance of the content (up to clamping of out-of-gamut pixels)
    assert (rgb_to_yiq(lum)[:, 0] - rgb_to_yiq(ref)[:, 0]).abs().mean() < 2e-3
    assert (rgb_to_yiq(lum)[:, 1:] - rgb_to_yiq(x)[:, 1:]).abs().mean() < 2e-3
    assert (rgb_to_yiq(ref)[:, 1:] - rgb_to_yiq(x)[:, 1:]).abs().mean() > 2e-2  # it did change something


def test_stylizer_rejects_unsupported_options(tmp_path):
    from zoo.stylize import build_stylizer

    with pytest.raises(ValueError, match="does not support --alpha"):
        build_stylizer(_stylize_opts(weights="x", alpha=0.5))
    with pytest.raises(ValueError, match="does not support --direction"):
        build_stylizer(_stylize_opts(weights="x", direction="BtoA"))
    with pytest.raises(ValueError, match="needs --weights"):
        build_stylizer(_stylize_opts())
    with pytest.raises(ValueError, match="luminance only"):
        build_stylizer(_stylize_opts(weights="x", preserve_color="histogram"))


# ------------------------------------------------------------------------------------------ end to end
def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled"}


def test_fit_recipe_one_step(content_dir, style_png, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "zoo.fit", str(ROOT / "recipes" / "johnson.yaml"),
         f"--data.content_dir={content_dir}", f"--data.style={style_png}", "--data.image_size=32",
         "--data.batch_size=2", "--data.num_workers=0", "--model.backbone.weights=none",
         "--model.network={channels: [4, 8, 8], num_residual: 1}", "--trainer.max_steps=1",
         "--trainer.val_check_interval=1", "--trainer.limit_val_batches=1", "--trainer.num_sanity_val_steps=0",
         "--trainer.accelerator=cpu"],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / "runs" / "johnson"
    assert len(list(run.glob("**/val_images/*.png"))) == 1  # the validation grid (CSV logger holds no images)
    ckpts = list(run.glob("version_0/checkpoints/last.ckpt"))
    assert ckpts  # the checkpoint stylises through the same loader as `zoo stylize --weights`
    if ckpts:
        net = load_transformer(str(ckpts[0]))
        assert net.config["channels"] == [4, 8, 8]
        assert net(torch.rand(1, 3, 20, 28)).shape == (1, 3, 20, 28)


def test_zoo_stylize_cli(tmp_path):
    net = _randomize(TransformerNet(**TINY), seed=12).eval()
    net.save_pretrained(tmp_path / "model")
    content = save_image(_smooth(40, 56, seed=13), tmp_path / "photo.png")
    out = tmp_path / "out.png"
    proc = subprocess.run(
        [sys.executable, "-m", "zoo", "stylize", str(content), "--model", "johnson", "--weights",
         str(tmp_path / "model"), "--device", "cpu", "-o", str(out)],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with torch.no_grad():
        ref = net(load_image(content))
    got = load_image(out)
    assert got.shape == ref.shape
    assert (got - ref).abs().max() <= 1 / 255 + 1e-6  # only 8-bit rounding
    proc = subprocess.run(
        [sys.executable, "-m", "zoo", "stylize", str(content), "--model", "johnson", "--weights",
         str(tmp_path / "model"), "--alpha", "0.5", "-o", str(tmp_path / "x.png")],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode != 0 and "does not support --alpha" in proc.stderr
