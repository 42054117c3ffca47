"""Tests of benchmarks/: metrics against independent computations, protocols, the run and table CLIs.

Everything runs offline: metric networks are small injected extractors (or torchmetrics' LPIPS metric
with a random backbone), stylizers a fake registered under a test name and removed afterwards.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from benchmarks import metrics as M
from benchmarks import protocols as P
from benchmarks import run as R
from benchmarks import table as T
from conftest import WAIT
from zoo.backbone import VGGEncoder
from zoo.losses import gram_matrix
from zoo.families import FAMILIES, Family

REPO = Path(__file__).resolve().parent.parent
FAKE = "bench_test_fake"
VGG_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]


# ----------------------------------------------------------------------------------------- helpers
def _write_images(folder: Path, n: int, size=(40, 48), seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    g = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        p = folder / f"img{i:02d}.png"
        Image.fromarray(g.integers(0, 256, (*size, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


class _FakeStylizer:
    """Deterministic 'stylisation': half content, half the style's mean colour."""

    needs_style = True

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def __call__(self, content, styles):
        self.calls.append(tuple(content.shape))
        s = styles[0] if styles else content
        return (0.5 * content + 0.5 * s.mean(dim=(2, 3), keepdim=True)).clamp(0, 1)


@pytest.fixture
def fake_stylizer():
    calls: list = []
    FAMILIES.register(Family(name=FAKE, description="fake benchmark family", stylizer=lambda opts: _FakeStylizer(calls),
                             needs_style=True))
    try:
        yield calls
    finally:
        FAMILIES.unregister(FAKE)


@pytest.fixture
def style_data(tmp_path):
    _write_images(tmp_path / "cnt", 3, seed=1)
    _write_images(tmp_path / "sty", 2, size=(36, 30), seed=2)
    return tmp_path


class _QueueFeatures(nn.Module):
    """Returns the next rows of a fixed feature matrix, whatever the images: FID on known features."""

    def __init__(self, feats: np.ndarray) -> None:
        super().__init__()
        self.feats = torch.from_numpy(feats)
        self.num_features = feats.shape[1]
        self.i = 0
        self.inputs = []

    def forward(self, x):
        self.inputs.append((x.dtype, tuple(x.shape)))
        out = self.feats[self.i:self.i + x.shape[0]]
        self.i += x.shape[0]
        return out


def _closed_form_fid(a: np.ndarray, b: np.ndarray) -> float:
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


# ----------------------------------------------------------------------------------------- resizing
def test_pil_resize_is_pils_bicubic_exactly():
    g = np.random.default_rng(0)
    for h, w in ((61, 47), (400, 352)):  # up- and down-sampling
        imgs = g.integers(0, 256, (2, h, w, 3), dtype=np.uint8)
        out = M.resize_uint8(torch.from_numpy(imgs).permute(0, 3, 1, 2), (299, 299))
        assert out.dtype == torch.uint8 and out.shape == (2, 3, 299, 299)
        for i in range(2):
            ref = np.asarray(Image.fromarray(imgs[i]).resize((299, 299), Image.Resampling.BICUBIC))
            np.testing.assert_array_equal(out[i].permute(1, 2, 0).numpy(), ref)


def test_prepare_inception_quantises_then_resizes_with_pil():
    x = torch.rand(1, 3, 50, 70)
    out = M.prepare_inception(x)
    u8 = (x * 255).round().clamp(0, 255).byte()[0].permute(1, 2, 0).numpy()
    ref = np.asarray(Image.fromarray(u8).resize((299, 299), Image.Resampling.BICUBIC))
    np.testing.assert_array_equal(out[0].permute(1, 2, 0).numpy(), ref)
    with pytest.raises(ValueError, match="resample must be one of"):
        M.resize_uint8(M.to_uint8(x), (10, 10), resample="lanczos")


def test_resize_shorter_side_matches_torchvision_resize_rule():
    x = torch.randint(0, 256, (1, 3, 40, 60), dtype=torch.uint8)
    out = M.resize_shorter_side(x, 512)
    assert out.shape == (1, 3, 512, 768)
    ref = np.asarray(Image.fromarray(x[0].permute(1, 2, 0).numpy()).resize((768, 512), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(out[0].permute(1, 2, 0).numpy(), ref)
    assert M.resize_shorter_side(out, 512) is out


# ----------------------------------------------------------------------------------------- FID / ArtFID
def _random_fid_state(net: nn.Module, seed: int = 0) -> dict:
    """He-initialised convolutions, identity batch norms: features that differ from image to image."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, v in net.state_dict().items():
        if k.endswith(("running_var", "bn.weight")):
            v = torch.ones_like(v)
        elif k.endswith(("running_mean", "bn.bias")):
            v = torch.zeros_like(v)
        elif v.is_floating_point():
            v = torch.randn(v.shape, generator=g) * (2.0 / v[0].numel()) ** 0.5
        sd[k] = v
    return sd


class _Stop(Exception):
    pass


def _first_layer_input(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What ``net`` feeds its first convolution for ``x`` (the forward is stopped there)."""
    seen = []

    def grab(module, args):
        seen.append(args[0])
        raise _Stop

    handle = net.Conv2d_1a_3x3.register_forward_pre_hook(grab)
    try:
        with pytest.raises(_Stop):
            net(x)
    finally:
        handle.remove()
    return seen[0]


def test_fid_inception_is_torch_fidelitys_network_fed_like_pytorch_fid_or_clean_fid(monkeypatch):
    import torch_fidelity.feature_extractor_inceptionv3 as tf_inception

    net = M.FIDInception("clean")
    sd = _random_fid_state(net)
    net.load_state_dict(sd)
    # torch-fidelity's own extractor with the same weights (its download replaced by them)
    monkeypatch.setattr(tf_inception, "load_state_dict_from_url",
                        lambda *a, **k: {**sd, "fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)})
    with M._no_init():
        reference = tf_inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    x = torch.randint(0, 256, (1, 3, 299, 299), dtype=torch.uint8)  # one image: a forward takes seconds on a CPU
    with torch.no_grad():
        torch.testing.assert_close(net(x), reference(x)[0], rtol=0, atol=0)  # the whole network, bit for bit
    # pytorch-fid / mmagic: (x - 127.5) / 127.5, then bilinear F.interpolate to 299 x 299 inside the network
    net.pipeline = "pytorch-fid"
    x256 = torch.randint(0, 256, (1, 3, 256, 256), dtype=torch.uint8)
    expected = F.interpolate((x256.float() - 127.5) / 127.5, size=(299, 299), mode="bilinear", align_corners=False)
    torch.testing.assert_close(_first_layer_input(net, x256), expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(_first_layer_input(net, x), (x.float() - 127.5) / 127.5)  # 299: no resize
    with pytest.raises(ValueError, match="takes 299 x 299"):
        M.FIDInception("clean")(x256)
    with pytest.raises(ValueError, match="FID pipeline must be one of"):
        M.FID(extractor=_QueueFeatures(np.zeros((1, 2))), pipeline="tf")


@pytest.mark.parametrize("pipeline,seen", [("pytorch-fid", (20, 24)), ("clean", (299, 299))])
def test_fid_feeds_the_network_as_its_pipeline_says_and_equals_closed_form(pipeline, seen):
    g = np.random.default_rng(1)
    a, b = g.normal(size=(12, 3)), g.normal(size=(10, 3)) + 1.0
    extractor = _QueueFeatures(np.concatenate([a, b]))
    fid = M.FID(extractor=extractor, pipeline=pipeline)
    fid.update(torch.rand(12, 3, 20, 24), real=True)
    fid.update(torch.rand(10, 3, 20, 24), real=False)
    # uint8 values (the images are PNG files in the benchmark); "clean" resizes them with PIL first
    assert extractor.inputs == [(torch.uint8, (12, 3, *seen)), (torch.uint8, (10, 3, *seen))]
    assert fid.compute() == pytest.approx(_closed_form_fid(a, b), rel=1e-6)


def test_fid_of_a_set_with_itself_is_zero():
    g = np.random.default_rng(3)
    a = g.normal(size=(64, 4))
    fid = M.FID(extractor=_QueueFeatures(np.concatenate([a, a])))
    fid.update(torch.rand(64, 3, 4, 4), real=True)
    fid.update(torch.rand(64, 3, 4, 4), real=False)
    assert abs(fid.compute()) < 1e-6


def test_inception_weights_by_hand_refuse_pickled_objects_and_other_files(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"Conv2d_1a_3x3.conv.weight": torch.zeros(1), "obj": _Pickled()}, bad)
    with pytest.raises(ValueError, match="refusing to load"):
        M.load_fid_inception(bad)
    wrong = tmp_path / "wrong.pth"
    torch.save({"a": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match="not torch-fidelity Inception-v3 weights"):
        M.load_fid_inception(wrong)
    with pytest.raises(M.WeightsUnavailableError, match="no such Inception weights file"):
        M.load_fid_inception(tmp_path / "missing.pth")


def _alexnet_convs(seed: int) -> dict:
    """A torchvision AlexNet state dict: its five convolutions (what LPIPS reads) random, its classifier (which
    LPIPS does not read) one stored zero each, broadcast, so the file stays small."""
    g = torch.Generator().manual_seed(seed)
    shapes = {0: (64, 3, 11, 11), 3: (192, 64, 5, 5), 6: (384, 192, 3, 3), 8: (256, 384, 3, 3), 10: (256, 256, 3, 3)}
    sd = {}
    for i, shape in shapes.items():
        sd[f"features.{i}.weight"] = torch.randn(shape, generator=g) * 0.01
        sd[f"features.{i}.bias"] = torch.zeros(shape[0])
    for i, (n_out, n_in) in {1: (4096, 9216), 4: (4096, 4096), 6: (1000, 4096)}.items():
        sd[f"classifier.{i}.weight"] = torch.zeros(()).expand(n_out, n_in)
        sd[f"classifier.{i}.bias"] = torch.zeros(()).expand(n_out)
    return sd


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("extractor", ["inception", "art_inception", "lpips_alex"])
def test_every_metric_network_file_is_verified_before_it_is_read(extractor, tmp_path, monkeypatch):
    """Its upstream replaced by a file:// mirror (the Hugging Face cache for the art Inception) whose
    published sha256 is the mirror file's: the file passes verification and is read; a modified cached
    copy and a substituted download are refused before anything is read."""
    import hashlib

    from test_download import corrupt, fill_hub_cache
    from zoo import download

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    checkpoints = tmp_path / "th" / "hub" / "checkpoints"
    # Small files: the Inception ones hold one tensor, so reading them ends in a layout error (after the check).
    payload = {"inception": lambda s: _torch_bytes({"Conv2d_1a_3x3.conv.weight": torch.full((1,), float(s))}),
               "art_inception": lambda s: _torch_bytes({"Conv2d_1a_3x3.conv.weight": torch.full((1,), float(s))}),
               "lpips_alex": lambda s: _torch_bytes(_alexnet_convs(s))}[extractor]
    data = payload(0)
    sha = hashlib.sha256(data).hexdigest()
    if extractor == "art_inception":
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setattr(M, "ART_INCEPTION_REPO", "testorg/art")
        monkeypatch.setattr(M, "ART_INCEPTION_REVISION", "b" * 40)
        monkeypatch.setattr(M, "ART_INCEPTION_SHA256", sha)
        cached = fill_hub_cache(tmp_path / "hf", "testorg/art", "b" * 40, M.ART_INCEPTION_FILE, data)
        load, loaded = M.load_art_inception, (ValueError, "not ArtFID.s Inception-v3 layout")
    else:
        name = "weights-inception-2015-12-05-6726825d.pth" if extractor == "inception" else "alexnet-owt-7be5be79.pth"
        mirror = tmp_path / "mirror" / name
        mirror.parent.mkdir()
        mirror.write_bytes(data)
        cached = checkpoints / name
        if extractor == "inception":
            monkeypatch.setattr(M, "INCEPTION_URL", mirror.as_uri())
            monkeypatch.setattr(M, "INCEPTION_SHA256", sha)
            load, loaded = M.load_fid_inception, (ValueError, r"not torch-fidelity Inception-v3 weights \(missing")
        else:
            monkeypatch.setitem(download.TORCHVISION_WEIGHTS, "alexnet", (mirror.as_uri(), sha))
            load, loaded = (lambda: M.lpips_network("alex", progress=False)), None

    if loaded is None:
        net = load()
        assert torch.equal(getattr(net.net.net.slice2, "3").weight, _alexnet_convs(0)["features.3.weight"])
    else:
        with pytest.raises(loaded[0], match=loaded[1]):  # read: the layout is checked after the checksum
            load()
    corrupt(cached)
    with pytest.raises(download.ChecksumMismatchError, match=f"refusing to load .*{re.escape(cached.name)}"):
        load()
    if extractor != "art_inception":  # a different file at the source, downloaded again: refused
        assert not cached.exists() and cached.with_name(cached.name + ".rejected").exists()  # moved aside
        mirror.write_bytes(payload(1))
        with pytest.raises(download.ChecksumMismatchError, match="nothing was saved"):
            load()
        assert not cached.exists()


class _Pickled:
    pass


def _art_checkpoint(tmp_path: Path) -> tuple[Path, dict]:
    """A state dict in the layout of ArtFID's art_inception.pth: torchvision Inception3 trunk + two heads."""
    from torchvision.models.inception import Inception3

    with M._no_init():
        tv = Inception3(aux_logits=False, init_weights=False)
    torch.manual_seed(0)
    sd = {k: v.clone() for k, v in tv.state_dict().items() if not k.startswith("fc.")}
    for k in sd:
        if sd[k].is_floating_point():
            sd[k] = torch.randn_like(sd[k]) * 0.05 + (1.0 if k.endswith("running_var") else 0.0)
            if k.endswith("running_var"):
                sd[k] = sd[k].abs()
    sd.update({"fc1.weight": torch.randn(1000, 2048), "fc1.bias": torch.zeros(1000),
               "fc2.weight": torch.randn(1000, 2048), "fc2.bias": torch.zeros(1000),
               "AuxLogits1.fc.weight": torch.randn(1000, 768), "AuxLogits2.fc.bias": torch.zeros(1000)})
    path = tmp_path / "art_inception.pth"
    torch.save(sd, path)
    return path, sd


def test_art_inception_loads_the_reference_layout_strictly(tmp_path):
    path, sd = _art_checkpoint(tmp_path)
    model = M.load_art_inception(path)
    own = model.state_dict()
    trunk = [k for k in sd if not k.startswith(("fc1.", "fc2.", "AuxLogits"))]
    assert sorted(own) == sorted(trunk)
    for k in trunk:
        assert torch.equal(own[k], sd[k]), k
    x = torch.rand(1, 3, 76, 80)
    feats = model(x)
    assert feats.shape == (1, 2048) and torch.isfinite(feats).all()
    # same network as torchvision's Inception3 trunk without input transform
    from torchvision.models.inception import Inception3

    with M._no_init():
        tv = Inception3(aux_logits=False, init_weights=False, transform_input=False).eval()
    tv.load_state_dict({**{k: sd[k] for k in trunk}, "fc.weight": torch.zeros(1000, 2048), "fc.bias": torch.zeros(1000)})
    captured = {}
    tv.avgpool.register_forward_hook(lambda m, i, o: captured.setdefault("f", o.flatten(1)))
    with torch.no_grad():
        tv(x)
    torch.testing.assert_close(feats, captured["f"])

    broken = {k: v for k, v in sd.items() if not k.startswith("Mixed_7c.")}
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(ValueError, match="not ArtFID's Inception-v3 layout"):
        M.load_art_inception(tmp_path / "broken.pth")
    with pytest.raises(M.WeightsUnavailableError, match="no such ArtFID"):
        M.load_art_inception(tmp_path / "nope.pth")


def test_art_fid_feeds_unnormalised_images_resized_to_512_on_the_shorter_side():
    g = np.random.default_rng(5)
    feats = g.normal(size=(8, 3))
    ex = _QueueFeatures(feats)
    dist = M.art_fid_distance(extractor=ex, art_size=512)
    seen = []
    ex.register_forward_hook(lambda m, i, o: seen.append((float(i[0].min()), float(i[0].max()))))
    for _ in range(4):
        dist.update(torch.rand(1, 3, 64, 48), real=True)
        dist.update(torch.rand(1, 3, 64, 48), real=False)
    assert ex.inputs[0] == (torch.float32, (1, 3, 682, 512))
    assert all(0.0 <= lo and hi <= 1.0 for lo, hi in seen)
    expected = _closed_form_fid(feats[0::2], feats[1::2])
    assert dist.compute() == pytest.approx(expected, rel=1e-6)


def test_artfid_formula():
    # StyleID's AdaIN row: LPIPS 0.608, FID 18.24 -> ArtFID 30.93
    assert M.artfid(18.24, 0.608) == pytest.approx(30.93, abs=0.01)
    for fid, lp in ((0.0, 0.0), (3.5, 0.25), (100.0, 1.0)):
        assert M.artfid(fid, lp) == pytest.approx((1 + lp) * (1 + fid))


# ----------------------------------------------------------------------------------------- LPIPS
def _manual_lpips(net, a, b):
    """Zhang et al. 2018, eq. 1, written out: unit-normalise channels, squared difference, linear
    weights, spatial mean, sum over layers."""
    def feats(x):
        x = 2 * x - 1
        shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
        scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
        return net.net.net((x - shift) / scale)  # the metric's LPIPS network's backbone

    total = 0
    for k, (fa, fb) in enumerate(zip(feats(a), feats(b))):
        fa = fa / (fa.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        fb = fb / (fb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
        w = getattr(net.net, f"lin{k}").model[1].weight  # (1, C, 1, 1)
        total = total + ((fa - fb) ** 2 * w).sum(1).mean(dim=(1, 2))
    return total


def test_lpips_matches_the_formula_written_out():
    """torchmetrics' public LPIPS metric (random backbone, the LPIPS v0.1 linear layers it ships) is Zhang et al.'s
    formula on images in [0, 1], averaged over every pair of every update."""
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    torch.manual_seed(0)
    net = M.random_lpips_network("alex")
    assert isinstance(net, LearnedPerceptualImagePatchSimilarity) and net.normalize
    assert net.net.lin0.model[1].weight.min() >= 0  # the shipped LPIPS v0.1 weights are non-negative, not random
    metric = M.LPIPS(net=net)
    a, b = torch.rand(3, 3, 64, 64), torch.rand(3, 3, 64, 64)
    metric.update(a[:2], b[:2])
    metric.update(a[2:], b[2:])
    with torch.no_grad():
        expected = _manual_lpips(net, a, b)
    assert expected.min() > 0
    assert metric.compute() == pytest.approx(float(expected.mean()), rel=1e-5)
    same = M.LPIPS(net=net)
    same.update(a, a)
    assert same.compute() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="same shape"):
        same.update(a, b[:, :, :32])


def test_lpips_net_types():
    for make in (M.lpips_network, M.random_lpips_network):
        with pytest.raises(ValueError, match="LPIPS net must be one of"):
            make("squeezy")


# ----------------------------------------------------------------------------------------- VGG metrics
def test_cfsd_matches_numpy_kl_of_patch_similarities():
    g = torch.Generator().manual_seed(0)
    fc, fs = torch.randn(2, 4, 3, 5, generator=g), torch.randn(2, 4, 3, 5, generator=g)
    ours = M.cfsd(fc, fs)
    for i in range(2):
        a = fc[i].flatten(1).T.double().numpy() / 4
        b = fs[i].flatten(1).T.double().numpy() / 4
        p = scipy.special.softmax(a @ a.T, axis=1)
        q = scipy.special.softmax(b @ b.T, axis=1)
        assert float(ours[i]) == pytest.approx(float((p * (np.log(p) - np.log(q))).sum()), rel=1e-5)
    torch.testing.assert_close(M.cfsd(fc, fs, chunk=2), ours, rtol=1e-5, atol=1e-7)
    assert float(M.cfsd(fc, fc).abs().max()) < 1e-6
    with pytest.raises(ValueError, match="same shape"):
        M.cfsd(fc, fs[:, :, :2])


def test_feature_losses_are_zoo_losses_on_the_vgg_encoder():
    enc = VGGEncoder("vgg19", weights="none", layers=VGG_LAYERS)
    fl = M.FeatureLosses(enc)
    g = torch.Generator().manual_seed(0)
    x, c, s = (torch.rand(1, 3, 32, 32, generator=g) for _ in range(3))
    fl.update(x, c, s)
    fl.update(c, c, s)
    out = fl.compute()
    with torch.no_grad():
        fx, fc, fs = enc(x), enc(c), enc(s)
        content = float(F.mse_loss(fx["relu4_2"], fc["relu4_2"]))  # second pair contributes 0
        style = sum(float(F.mse_loss(gram_matrix(f[k]), gram_matrix(fs[k])))
                    for f in (fx, fc) for k in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"))
        cfsd = float(M.cfsd(fc["relu3_1"], fx["relu3_1"]))
    assert out["content_loss"] == pytest.approx(content / 2, rel=1e-5)
    assert out["style_loss"] == pytest.approx(style / 2, rel=1e-5)
    assert out["cfsd"] == pytest.approx(cfsd / 2, rel=1e-5)
    assert content > 0 and style > 0 and cfsd > 0


# ----------------------------------------------------------------------------------------- protocols
def test_styleid_protocol_is_800_pairs_chosen_deterministically(tmp_path):
    for d, n in (("c", 25), ("s", 45)):
        (tmp_path / d).mkdir()
        for i in range(n):
            (tmp_path / d / f"{i:03d}.jpg").touch()  # selection only looks at names
    p1 = P.styleid_protocol(tmp_path / "c", tmp_path / "s")
    p2 = P.styleid_protocol(tmp_path / "c", tmp_path / "s")
    assert p1.n == 800 and p1.size == 512 and p1.standard
    assert p1.items == p2.items
    assert len({it.content for it in p1.items}) == 20 and len({it.style for it in p1.items}) == 40
    assert len({it.name for it in p1.items}) == 800
    assert p1.real == [it.style for it in p1.items]  # each style counted once per content image
    assert p1.info["content_files"] == sorted(p1.info["content_files"])
    p3 = P.styleid_protocol(tmp_path / "c", tmp_path / "s", seed=1)
    assert p3.info["style_files"] != p1.info["style_files"]
    small = P.styleid_protocol(tmp_path / "c", tmp_path / "s", n_content=2, n_style=3, size=64)
    assert small.n == 6 and not small.standard
    with pytest.raises(P.ProtocolError, match="25 content images found, the protocol needs 30"):
        P.styleid_protocol(tmp_path / "c", tmp_path / "s", n_content=30)
    with pytest.raises(P.ProtocolError, match="no such directory"):
        P.styleid_protocol(tmp_path / "nope", tmp_path / "s")


def test_cyclegan_protocol_uses_the_test_split(tmp_path):
    for d, n in (("testA", 3), ("testB", 5), ("trainA", 7)):
        (tmp_path / d).mkdir()
        for i in range(n):
            (tmp_path / d / f"{i}.png").touch()
    p = P.cyclegan_protocol(tmp_path)
    assert p.n == 3 and len(p.real) == 5 and p.size == 256 and p.standard
    assert all(it.style is None and it.content.parent.name == "testA" for it in p.items)
    q = P.cyclegan_protocol(tmp_path, "BtoA", limit=2)
    assert q.n == 2 and len(q.real) == 3 and not q.standard
    (tmp_path / "testB").rename(tmp_path / "x")
    with pytest.raises(P.ProtocolError, match="testB"):
        P.cyclegan_protocol(tmp_path)


def test_load_square_resizes_the_shorter_side_and_centre_crops(tmp_path):
    (path,) = _write_images(tmp_path, 1, size=(40, 60))
    x = P.load_square(path, 32)
    img = Image.open(path).resize((48, 32), Image.Resampling.BICUBIC).crop((8, 0, 40, 32))
    np.testing.assert_allclose(x[0].permute(1, 2, 0).numpy(), np.asarray(img) / 255.0, atol=1e-6)
    (sq,) = _write_images(tmp_path / "sq", 1, size=(32, 32))
    np.testing.assert_array_equal((P.load_square(sq, 32)[0] * 255).round().byte().permute(1, 2, 0).numpy(),
                                  np.asarray(Image.open(sq)))


# ----------------------------------------------------------------------------------------- run
def _styleid_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["--model", FAKE, "--weights", "fake.safetensors", "--protocol", "styleid",
            "--content", str(data / "cnt"), "--style", str(data / "sty"), "--n-content", "3", "--n-style", "2",
            "--size", "32", "--feature-extractor", "random", "--out", str(out), "--work-dir", str(data / "work"),
            "--no-progress", *extra]


def test_run_resumes_from_stylised_images_with_identical_numbers(style_data, fake_stylizer, capsys):
    out = style_data / "r1.json"
    subset = ["--metrics", "fid_inception", "lpips_alex"]
    assert R.main(_styleid_args(style_data, out, *subset)) == 0
    first = json.loads(out.read_text())
    assert len(fake_stylizer) == 6 and first["speed"]["stylized_this_run"] == 6
    assert sorted(p.name for p in (style_data / "work").glob("*.png")) == sorted(
        f"img{c:02d}__img{s:02d}.png" for c in range(3) for s in range(2))
    # interrupt: lose two images, then resume
    for p in sorted((style_data / "work").glob("*.png"))[:2]:
        p.unlink()
    out2 = style_data / "r2.json"
    assert R.main(_styleid_args(style_data, out2, *subset, "--resume")) == 0
    second = json.loads(out2.read_text())
    assert len(fake_stylizer) == 8
    assert second["speed"]["resumed"] == 4 and second["speed"]["stylized_this_run"] == 2
    assert second["metrics"] == pytest.approx(first["metrics"], rel=1e-9)
    assert set(first["metrics"]) == {"fid_inception", "lpips_alex"}
    # resuming with another protocol size is refused
    args = _styleid_args(style_data, style_data / "r3.json", *subset, "--resume")
    args[args.index("--size") + 1] = "40"
    capsys.readouterr()
    assert R.main(args) == 2
    assert "holds images of a different run (size differ)" in capsys.readouterr().err
    assert len(fake_stylizer) == 8


def test_run_refuses_random_weights_and_unknown_models(style_data, fake_stylizer, capsys):
    args = _styleid_args(style_data, style_data / "r.json")
    i = args.index("--weights")
    del args[i:i + 2]
    assert R.main(args) == 2
    assert "would run a random network" in capsys.readouterr().err
    assert not (style_data / "r.json").exists() and not fake_stylizer
    args[args.index("--model") + 1] = "no_such_model_xyz"
    assert R.main(args) == 2
    assert "unknown model 'no_such_model_xyz'" in capsys.readouterr().err


def test_run_cyclegan_protocol_translates_the_test_split(tmp_path, fake_stylizer):
    _write_images(tmp_path / "h2z" / "testA", 3, size=(32, 32), seed=6)
    _write_images(tmp_path / "h2z" / "testB", 4, size=(32, 32), seed=7)
    out = tmp_path / "gan.json"
    args = ["--model", f"{FAKE}_horse2zebra", "--protocol", "cyclegan", "--data", str(tmp_path / "h2z"),
            "--limit", "2", "--size", "32", "--feature-extractor", "random", "--metrics", "fid_inception",
            "--out", str(out), "--work-dir", str(tmp_path / "work"), "--no-progress"]
    assert R.main(args) == 0
    r = json.loads(out.read_text())
    assert r["family"] == FAKE and r["weights"] == f"{FAKE}_horse2zebra" and r["weights_status"] == "pretrained-tag"
    assert r["protocol"]["n"] == 2 and r["protocol"]["n_reference"] == 4 and r["protocol"]["direction"] == "AtoB"
    assert list(r["metrics"]) == ["fid_inception"] and r["metrics"]["fid_inception"] >= 0
    assert fake_stylizer == [(1, 3, 32, 32)] * 2 and not r["usable"]
    assert sorted(p.name for p in (tmp_path / "work").glob("*.png")) == ["img00.png", "img01.png"]


def test_run_refuses_bf16_on_cpu_and_unknown_metrics(style_data, fake_stylizer, capsys):
    assert R.main(_styleid_args(style_data, style_data / "r.json", "--precision", "bf16", "--device", "cpu")) == 2
    assert "--precision bf16 needs a CUDA device" in capsys.readouterr().err
    assert R.main(_styleid_args(style_data, style_data / "r.json", "--metrics", "kid")) == 2
    assert "unknown metric(s) ['kid']" in capsys.readouterr().err
    assert not fake_stylizer


def test_resolve_model_maps_pretrained_tags_to_their_family(fake_stylizer, tmp_path):
    assert R.resolve_model(FAKE, None) == (FAKE, None, "random")
    assert R.resolve_model(f"{FAKE}_horse2zebra", None) == (FAKE, f"{FAKE}_horse2zebra", "pretrained-tag")
    f = tmp_path / "w.safetensors"
    f.touch()
    assert R.resolve_model(FAKE, str(f)) == (FAKE, str(f), "file")


def test_run_cli_end_to_end_as_a_subprocess(tmp_path, offline_env):
    """``python -m benchmarks.run`` on tiny data: a stylizer from --import, metric networks random."""
    _write_images(tmp_path / "cnt", 2, seed=3)
    _write_images(tmp_path / "sty", 2, size=(30, 44), seed=4)
    (tmp_path / "bench_fake_mod.py").write_text(textwrap.dedent(f"""
        from zoo.families import FAMILIES, Family

        class S:
            needs_style = True
            def __call__(self, content, styles):
                return (0.7 * content + 0.3 * styles[0].mean(dim=(2, 3), keepdim=True)).clamp(0, 1)

        FAMILIES.register(Family(name="{FAKE}_sub", description="fake", stylizer=lambda opts: S()))
    """))
    out = tmp_path / "result.json"
    env = {**offline_env, "PYTHONPATH": os.pathsep.join([str(REPO), str(tmp_path)])}
    cmd = [sys.executable, "-m", "benchmarks.run", "--import", "bench_fake_mod", "--model", f"{FAKE}_sub",
           "--weights", "fake.safetensors", "--protocol", "styleid", "--content", str(tmp_path / "cnt"),
           "--style", str(tmp_path / "sty"), "--n-content", "2", "--n-style", "2", "--size", "32",
           "--art-size", "0", "--feature-extractor", "random", "--out", str(out),
           "--work-dir", str(tmp_path / "work"), "--no-progress"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert r["model"] == f"{FAKE}_sub" and r["weights"] == "fake.safetensors"
    assert r["protocol"]["name"] == "styleid" and r["protocol"]["n"] == 4 and r["protocol"]["size"] == 32
    assert r["usable"] is False
    assert any("random (--feature-extractor random)" in x for x in r["unusable_reasons"])
    assert any("non-standard protocol" in x for x in r["unusable_reasons"])
    m = r["metrics"]
    assert set(m) == set(R.METRICS["styleid"])
    assert all(np.isfinite(v) for v in m.values())
    assert m["lpips_alex"] > 0 and m["content_loss"] > 0
    assert m["artfid"] == pytest.approx((1 + m["lpips_alex"]) * (1 + m["fid_art"]))
    assert "RANDOM" in r["metric_implementation"]["fid_inception"]
    assert r["versions"]["torch"] == torch.__version__ and "torchmetrics" in r["versions"]
    assert r["environment"]["device"] == "cpu"
    assert r["speed"]["stylized_this_run"] == 4 and r["speed"]["images_per_s"] > 0
    assert r["speed"]["peak_memory_bytes"] > 0 and r["time"]["total_seconds"] > 0
    assert len(list((tmp_path / "work").glob("*.png"))) == 4
    assert "wrote" in proc.stdout and "UNUSABLE" in proc.stdout


# ----------------------------------------------------------------------------------------- table
def _result(model: str, protocol: str, usable: bool, metrics: dict, **proto) -> dict:
    return {"schema": 1, "model": model, "weights": f"{model}.safetensors", "usable": usable,
            "unusable_reasons": [] if usable else ["metric networks: random (--feature-extractor random)"],
            "protocol": {"name": protocol, "n": 800 if protocol == "styleid" else 120,
                         "size": 512 if protocol == "styleid" else 256, **proto},
            "metrics": metrics, "environment": {"device_type": "cuda", "device_name": "NVIDIA H200"},
            "speed": {"images_per_s": 41.5}, "created": "2026-01-01T00:00:00+00:00"}


def test_table_cli_renders_usable_results_and_references_only(tmp_path, offline_env):
    res = tmp_path / "results"
    res.mkdir()
    (res / "good.json").write_text(json.dumps(_result(
        "adain_gan_wikiart", "styleid", True,
        {"artfid": 33.123, "fid_art": 19.5, "lpips_alex": 0.6987, "cfsd": 0.31234})))
    (res / "gan.json").write_text(json.dumps(_result(
        "cyclegan_horse2zebra", "cyclegan", True, {"fid_inception": 63.456},
        data_dir="/data/horse2zebra", direction="AtoB")))
    (res / "random.json").write_text(json.dumps(_result(
        "johnson_candy", "styleid", False, {"artfid": 1.0, "fid_art": 0.0, "lpips_alex": 0.0})))
    (res / "notes.json").write_text("{not json")
    (res / "johnson-cpu-2core.json").write_text(json.dumps({"model": "johnson", "protocol": "speed", "metrics": {}}))
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{T.START}\nstale\n{T.END}\n\nfooter\n")
    cmd = [sys.executable, "-m", "benchmarks.table", "--results", str(res), "--readme", str(readme)]
    env = offline_env
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 0, proc.stderr
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith(f"{T.END}\n\nfooter\n")
    assert "stale" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    ours = [r for r in rows if "adain_gan_wikiart" in r]
    assert len(ours) == 1
    assert "| 33.12 | 19.50 | 0.699 | 0.3123 | 41.5 | NVIDIA H200 | [good.json](results/good.json) |" in ours[0]
    gan = [r for r in rows if "cyclegan_horse2zebra" in r and "A→B" in r]
    assert len(gan) == 1 and "| horse2zebra A→B |" in gan[0] and "| 63.46 |" in gan[0]
    assert any("| 30.93 | 18.24 | 0.608 |" in r and "StyleID" in r for r in rows)
    assert any("| 62.1 |" in r and "official" in r for r in rows)
    assert any("| 64.5 |" in r and "mmagic's own" in r for r in rows)
    # the weights table lists every tag, with the metrics measured for it
    tag_row = next(r for r in rows if r.startswith("| `cyclegan_horse2zebra` | cyclegan |"))
    assert "fid_inception 63.5" in tag_row
    # unusable: never in the results, and its weights-table row shows no metric
    assert [r for r in rows if "johnson_candy" in r] == [next(r for r in rows if r.startswith("| `johnson_candy` |"))]
    assert next(r for r in rows if r.startswith("| `johnson_candy` |")).endswith("| – |")
    assert "skipped" in proc.stderr and "random.json" in proc.stderr and "notes.json" in proc.stderr
    assert "johnson-cpu-2core.json: not a benchmarks.run quality result" in proc.stderr
    # --check passes now, fails after an edit inside the markers
    assert subprocess.run(cmd + ["--check"], cwd=REPO, env=env, capture_output=True).returncode == 0
    readme.write_text(text.replace("33.12", "99.99"))
    assert subprocess.run(cmd + ["--check"], cwd=REPO, env=env, capture_output=True).returncode == 1


def test_table_without_markers_is_an_error_and_nothing_is_written(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    with pytest.raises(T.TableError, match="zoo-table:start"):
        T.update_readme(readme, "table\n")
    assert T.main(["--results", str(tmp_path), "--readme", str(readme)]) == 1
    assert readme.read_text() == "# no markers\n"


def test_table_says_when_no_usable_result_exists():
    text = T.render_table([])
    assert text.count("No Stylezoo result for this protocol yet") == 2
    assert "30.93" in text and "62.1" in text and "64.5" in text


def test_model_metrics_for_model_cards(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(_result(
        "cyclegan_horse2zebra", "cyclegan", True, {"fid_inception": 63.0}, data_dir="h2z", direction="AtoB")))
    (tmp_path / "b.json").write_text(json.dumps(_result(
        "cyclegan_horse2zebra", "styleid", False, {"artfid": 1.0})))
    card = T.model_metrics("cyclegan_horse2zebra", tmp_path)
    assert list(card) == ["cyclegan"]
    assert card["cyclegan"]["metrics"] == {"fid_inception": 63.0}
    assert card["cyclegan"]["n"] == 120 and card["cyclegan"]["device"] == "NVIDIA H200"
    assert T.model_metrics("unknown", tmp_path) == {}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_gpu_script_is_valid_bash_and_refuses_without_cuda(tmp_path):
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    r = subprocess.run(["bash", str(script), str(tmp_path / "out")], capture_output=True, text=True,
                       env={**os.environ, "PYTHON": sys.executable}, cwd=script.parent.parent, timeout=WAIT)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: no CUDA device visible to {sys.executable}: benchmarks/gpu.sh is for a GPU machine"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("script,args,key", [
    ("bench_johnson", ["--sizes", "32", "--batches", "1", "--reps", "1", "--tile-image", "64", "--tile", "32",
                       "--no-compile"], "runs"),
    ("bench_cyclegan", ["--configs", "fp32", "--train-sizes", "32", "--batches", "1", "--infer-sizes", "32",
                        "--reps", "1", "--warmup", "0", "--ngf", "4", "--n-blocks", "1"], "train"),
    ("bench_adain", ["--sizes", "32", "--repeats", "1", "--warmup", "0", "--no-bf16"], "results"),
    ("bench_gatys", ["--sizes", "32", "--iters", "2", "--rounds", "1", "--to-loss-iters", "0", "--no-bf16"],
     "per_iteration"),
    ("bench_gatys", ["--sizes", "64", "--rounds", "0", "--to-loss-iters", "2", "--pairs", "2", "--no-bf16"], "to_loss"),
    ("bench_conv_paths", ["--sizes", "6", "--channels", "4", "--reps", "1", "--warmup", "0"], "results"),
])
def test_speed_scripts_run_end_to_end(script, args, key, tmp_path, offline_env):
    """Each speed script, as docs/benchmarks.md runs it, at a tiny size: a results JSON with the machine, the
    peer it measured against (with its commit), this CPU's convolution ceiling, and the check that the zoo
    computed what the peer computed (the scripts exit non-zero when it did not)."""
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", f"benchmarks.{script}", *args, "--threads", "1", "--out", str(out)],
                       env=offline_env,
                       cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(out.read_text())
    env = result["environment"]
    assert env["device_type"] == "cpu" and env["cpu_count"] == os.cpu_count() and env["torch"] == torch.__version__
    assert len(env["load_average_at_start"]) == 3 and len(env["load_average_at_end"]) == 3
    assert env["torch_threads"] == 1 and isinstance(env["load_high"], bool)
    assert result[key]
    assert len(result["peer"]["source"].rsplit(" @ ", 1)[1]) == 40  # cites the peer's commit
    assert result["conv_ceiling"]["fp32_channels_last_gflops"] > 0
    if key == "to_loss":  # the time to the tutorial's loss over two image pairs, per pair and as their median
        row = result["to_loss"][0]
        assert result["per_iteration"] == [] and "per_iteration_vs_peer" not in result["targets"]
        assert [p["seed"] for p in row["pairs"]] == [0, 1]
        assert row["pairs"][0]["target_loss"] != row["pairs"][1]["target_loss"]  # two different image pairs
        assert all(p["loss_curves_max_rel_diff_first_3"] <= 1e-3 for p in row["pairs"])
        for name in ("zoo_single_scale", "zoo_coarse_to_fine"):
            ratios = [p[f"{name}_vs_peer"] or 0.0 for p in row["pairs"]]
            assert row[f"{name}_vs_peer"] == pytest.approx(sum(ratios) / 2, abs=1e-3)
            assert row[name]["reached"] == sum(p[name]["reached"] for p in row["pairs"])
    elif script == "bench_gatys":
        row = result["per_iteration"][0]
        assert row["loss_curves_max_rel_diff"] <= 1e-3 and len(row["loss_curve_zoo"]) == 2
        assert row["zoo_vs_peer"] > 0 and 0 < row["zoo"]["fraction_of_conv_ceiling"]
    elif script == "bench_adain":
        row = result["results"][0]
        assert row["equal_outputs"]["zoo"]["max_abs_diff_vs_peer"] <= 1e-4 and row["zoo_vs_peer"] > 0
    elif script == "bench_conv_paths":
        row = result["results"][0]
        assert row["per_convolution"]["winograd"]["max_abs_err_vs_float64"] <= 1e-5
        assert row["residual_block"]["max_abs_diff_winograd_vs_official"] <= 1e-5
        assert ("bf16_math_split3" in row["per_convolution"]) == result["bf16_measured"]
    elif script == "bench_cyclegan":
        assert result["train"][0]["loss_rel_diff_first_step"] <= 1e-4
        assert result["inference"][0]["max_abs_diff_vs_peer"] <= 1e-5
    else:
        assert result["runs"][0]["max_abs_diff_vs_peer"]["fast"] <= 1e-4 and result["runs"][0]["speedup"]["fast"] > 0


def test_peer_restatements_are_the_tests_originals():
    """The speed scripts' peers are tests/originals.py (one restatement, the module the tests import), and
    they compute what the zoo computes: the tutorial's Gram matrix is the zoo's; pytorch-AdaIN's decoder and
    vgg (cut after relu4_1, as test.py cuts it) have net.py's module counts."""
    import originals

    from benchmarks import peers

    assert peers.originals is originals
    f = torch.randn(1, 6, 5, 7)
    torch.testing.assert_close(originals.tutorial_gram_matrix(f), gram_matrix(f)[0], rtol=1e-6, atol=1e-7)
    assert len(originals.adain_vgg()) == 31 and len(originals.adain_decoder()) == 29
    assert sum(isinstance(m, nn.Conv2d) for m in originals.CycleGANGenerator(ngf=4, n_blocks=2).modules()) == 8


def test_readme_speed_table_is_generated_from_the_committed_results(tmp_path):
    """The README speed table is what benchmarks.speed_table renders from benchmarks/results/ (every row
    names its peer), and --check notices a hand-edited table."""
    from benchmarks import speed_table as ST

    assert ST.main(["--check"]) == 0
    rows = ST.rows()
    assert rows and all(" vs " in r[1] for r in rows)
    readme = tmp_path / "README.md"
    readme.write_text(ST.DOCUMENT.read_text().replace(ST.END, "| Gatys | 9x faster |\n" + ST.END))
    assert ST.main(["--check", "--readme", str(readme)]) == 1


def test_speed_table_takes_the_time_to_loss_from_the_per_pair_measurement_only(tmp_path, capsys):
    """The Gatys "to its loss" row is the median over image pairs, with how many pairs got there; a to-loss
    part from before that measurement (one pair, measured with the content-aliasing bug) is not shown."""
    from benchmarks import speed_table as ST

    peer = {"peer": "PyTorch neural style tutorial"}
    old = {"peer": peer, "environment": {}, "per_iteration": [], "to_loss": [
        {"size": 256, "peer_iterations": 12, "zoo_single_scale_vs_peer": 1.16, "zoo_coarse_to_fine_vs_peer": 2.08}]}
    (tmp_path / "gatys-cpu.json").write_text(json.dumps(old))
    assert ST.rows(tmp_path) == []
    assert "skipped the to-loss part of gatys-cpu.json" in capsys.readouterr().err

    def size(s, single, multi, reached):
        return {"size": s, "peer_iterations": 12, "image_pairs": 5, "zoo_single_scale": {"reached": reached[0]},
                "zoo_single_scale_vs_peer": single, "zoo_coarse_to_fine": {"reached": reached[1]},
                "zoo_coarse_to_fine_vs_peer": multi, "pairs": [{}] * 5}

    new = {"peer": peer, "per_iteration": [], "to_loss": [size(256, 1.05, 0.0, (5, 2)), size(512, 1.2, 2.5, (5, 4))],
           "environment": {"cpu_model": "AMD EPYC", "cpu_capability": "AVX2", "load_average_at_start": [1, 1, 1]}}
    (tmp_path / "gatys-to-loss-cpu.json").write_text(json.dumps(new))
    [row] = ST.rows(tmp_path)
    assert "median of 5 image pairs" in row[1] and row[-1] == "`gatys-to-loss-cpu.json`"
    assert row[2] == "1.05x (5/5) ; 0.00x (2/5) / 1.20x (5/5) ; 2.50x (4/5)"
    assert row[4] == "missed: lowest 1.05x, 19% short of 1.3x"  # the best configuration at each size
    assert "* `gatys-to-loss-cpu.json`: AMD EPYC (AVX2); load average" in ST.render(tmp_path)


def test_tiling_benchmark_runs_end_to_end_and_checks_the_pictures(tmp_path, offline_env):
    """`python -m benchmarks.bench_tiling` at a tiny size: untiled, tiled resuming and tiled from the image, in
    one JSON with the machine and the load; the script itself checks the two tiled pictures are equal."""
    out = tmp_path / "t.json"
    cmd = [sys.executable, "-m", "benchmarks.bench_tiling", "--families", "johnson", "--cases", "200:192",
           "--threads", "1", "--out", str(out)]
    r = subprocess.run(cmd, env=offline_env, cwd=REPO, capture_output=True, text=True, timeout=WAIT)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["weights"].startswith("random") and isinstance(result["environment"]["load_high"], bool)
    (row,) = result["results"]
    assert (row["family"], row["size"], row["tile"]) == ("johnson", [200, 225], 192)
    assert row["max_abs_diff_tiled_vs_untiled"] <= 1e-4
    assert row["untiled"]["x_untiled"] == 1 and row["tiled_from_image"]["x_untiled"] > 0
    bad = subprocess.run([*cmd[:-4], "--cases", "100:200", "--out", str(tmp_path / "bad.json")], env=offline_env,
                         cwd=REPO, capture_output=True, text=True, timeout=WAIT)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].endswith(
        "--cases: SIZE:TILE pairs with SIZE > TILE > 0, e.g. 1024:512")
    assert not (tmp_path / "bad.json").exists()
