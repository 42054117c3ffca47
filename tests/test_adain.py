"""AdaIN / AdaIN-GAN: network, inference options, round trips, importer, data, training, CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import WAIT
import originals
from zoo.color import match_color, preserve_luminance, rgb_to_yiq
from zoo.io import save_image
from zoo.losses import NonFiniteLossError
from zoo.nets.adain import (
    CANONICAL, ENCODER_LAYERS, AdaINDecoder, AdaINNet, StyleCode, adaptive_instance_norm, convert_pytorch_adain_state_dict,
)
from zoo.stats import mean_std
from zoo.families import FAMILIES
from zoo.registry import MODELS
from zoo.stylize import StylizeOptions
from zoo.stylizers import build_adain_stylizer, load_adain

ROOT = Path(__file__).resolve().parents[1]


def _rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def net() -> AdaINNet:
    torch.manual_seed(0)
    return AdaINNet(backbone_weights="none").eval()


@pytest.fixture(scope="module")
def tensors():
    return {"content": _rand(1, 3, 40, 48, seed=1), "style": _rand(1, 3, 32, 40, seed=2),
            "style2": _rand(1, 3, 48, 32, seed=3) ** 3}


def _decode(net, feat, hw):
    return net.decode(feat)[..., :hw[0], :hw[1]].clamp(0, 1)


# ------------------------------------------------------------------------------------------- network
def test_network_layout_encoder_frozen_and_not_saved(net):
    assert net.encoder.layer_names[-1] == "relu4_1"  # truncated: never computes conv4_2 and beyond
    assert not any(p.requires_grad for p in net.encoder.parameters())
    keys = list(net.state_dict())
    assert keys and all(k.startswith("decoder.") for k in keys)
    assert [k.split(".")[1] for k in keys[::2]] == ["conv4_1", "conv3_4", "conv3_3", "conv3_2", "conv3_1",
                                                    "conv2_2", "conv2_1", "conv1_2", "conv1_1"]
    assert net.decoder.conv4_1.weight.shape == (256, 512, 3, 3) and net.decoder.conv1_1.weight.shape == (3, 64, 3, 3)
    assert MODELS.get("adain") is not None and "adain" in FAMILIES
    # the decoder upsamples x8 with nearest neighbours: relu4_1 of a 64 px image decodes to 64 px
    feat = net.encode(_rand(1, 3, 64, 64))["relu4_1"]
    assert feat.shape == (1, 512, 8, 8) and net.decode(feat).shape == (1, 3, 64, 64)


def test_adain_statistics_float32_and_eps(net, tensors):
    c = net.encode(tensors["content"])["relu4_1"]
    s = net.encode(tensors["style"])["relu4_1"]
    s_mean, s_std = mean_std(s)
    t = adaptive_instance_norm(c.to(torch.bfloat16), s_mean, s_std)
    assert t.dtype == torch.float32
    t = net.target_features(c, tensors["style"])
    t_mean, t_std = mean_std(t)
    var = torch.var(s, dim=(2, 3), keepdim=True, unbiased=False)
    torch.testing.assert_close(s_std, torch.sqrt(var + 1e-5))
    # AdaIN output carries the style's statistics (eq. 8), up to eps (in channels where the content varies)
    varies = mean_std(c)[1] > 0.05
    assert varies.float().mean() > 0.5
    torch.testing.assert_close(t_mean, s_mean, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(t_std[varies], s_std[varies], atol=1e-2, rtol=1e-2)
    # std = sqrt(var + eps): finite on constant features, and unbiased divides by n - 1
    m, sd = mean_std(torch.zeros(1, 2, 4, 4))
    assert torch.allclose(sd, torch.full_like(sd, 1e-5 ** 0.5))
    x = _rand(1, 2, 4, 4)
    _, sd_u = mean_std(x, unbiased=True)
    torch.testing.assert_close(sd_u, (x.var(dim=(2, 3), keepdim=True) + 1e-5).sqrt())


# ------------------------------------------------------------------------------------------- inference options
@pytest.mark.parametrize("hw", [(40, 48), (37, 45)])
def test_alpha_zero_decodes_content_features(net, tensors, hw):
    content = _rand(1, 3, *hw, seed=5)
    with torch.no_grad():
        out = net(content, tensors["style"], alpha=0.0)
        x = net._pad(content)
        expected = _decode(net, net.encode(x)["relu4_1"], hw)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_alpha_is_linear_in_feature_space(net, tensors):
    with torch.no_grad():
        c = net.encode(tensors["content"])["relu4_1"]
        t1 = net.target_features(c, tensors["style"], alpha=1.0)
        t03 = net.target_features(c, tensors["style"], alpha=0.3)
        torch.testing.assert_close(t03, 0.3 * t1 + 0.7 * c)
        out = net(tensors["content"], tensors["style"], alpha=0.3)
        torch.testing.assert_close(out, _decode(net, 0.3 * t1 + 0.7 * c, (40, 48)), atol=1e-5, rtol=1e-5)
        assert not torch.allclose(out, net(tensors["content"], tensors["style"]))
    with pytest.raises(ValueError, match="alpha must be in"):
        net(tensors["content"], tensors["style"], alpha=1.5)


def test_style_weights(net, tensors):
    content, s1, s2 = tensors["content"], tensors["style"], tensors["style2"]
    with torch.no_grad():
        single = net(content, s1)
        torch.testing.assert_close(net(content, [s1, s2], style_weights=[1.0, 0.0]), single, rtol=0, atol=0)
        c = net.encode(content)["relu4_1"]
        # a weighted mix of the statistics == the weighted sum of single-style AdaIN outputs (pytorch-AdaIN)
        mixed = net.target_features(c, [s1, s2], style_weights=[0.25, 0.75])
        by_sum = 0.25 * net.target_features(c, s1) + 0.75 * net.target_features(c, s2)
        torch.testing.assert_close(mixed, by_sum, atol=1e-5, rtol=1e-5)
        # weights are normalised
        torch.testing.assert_close(net.target_features(c, [s1, s2], style_weights=[1, 3]), mixed)
        assert not torch.allclose(mixed, net.target_features(c, s1), atol=1e-3)
    with pytest.raises(ValueError, match="2 styles need style weights"):
        net(content, [s1, s2])
    with pytest.raises(ValueError, match="3 style weights for 2 styles"):
        net(content, [s1, s2], style_weights=[1, 1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        net(content, [s1, s2], style_weights=[1, -1])


def test_masks_select_regions(net, tensors):
    content, s1, s2 = tensors["content"], tensors["style"], tensors["style2"]
    h, w = content.shape[-2:]
    left = torch.zeros(1, 1, h, w)
    left[..., :24] = 1  # 24 = 3 feature cells: the regions are exact at relu4_1 resolution
    masks = torch.cat([left, 1 - left])
    with torch.no_grad():
        c = net.encode(content)["relu4_1"]  # 40x48 is a multiple of 8: no padding
        t = net.target_features(c, [s1, s2], masks=masks)
        for k, (style, cols) in enumerate([(s1, slice(0, 3)), (s2, slice(3, 6))]):
            region = c[..., cols]  # the region's own content statistics, as AdaIN-style's spatial control
            code = net.encode_style(style)
            expected = adaptive_instance_norm(region, code.mean, code.std)
            torch.testing.assert_close(t[..., cols], expected, atol=1e-5, rtol=1e-5)
        # a mask covering everything for style 1 and nothing for style 2 is the single-style result
        full = torch.cat([torch.ones(1, 1, h, w), torch.zeros(1, 1, h, w)])
        torch.testing.assert_close(net(content, [s1, s2], masks=full), net(content, s1), atol=1e-6, rtol=1e-6)
        # pixels that no mask covers keep the content features
        t_half = net.target_features(c, [s1], masks=left)
        torch.testing.assert_close(t_half[..., 3:], c[..., 3:])
        # odd sizes: masks are padded like the content and the output cropped back
        odd = _rand(1, 3, 37, 45, seed=6)
        m_odd = torch.zeros(2, 1, 37, 45)
        m_odd[0, ..., :20], m_odd[1, ..., 20:] = 1, 1
        assert net(odd, [s1, s2], masks=m_odd).shape == (1, 3, 37, 45)
    with pytest.raises(ValueError, match="1 masks for 2 styles"):
        net(content, [s1, s2], masks=left)
    with pytest.raises(ValueError, match="cannot be combined"):
        net(content, [s1, s2], masks=masks, style_weights=[0.5, 0.5])


def test_preserve_color(net, tensors):
    content, style = tensors["content"], tensors["style2"]
    with torch.no_grad():
        plain = net(content, style)
        # histogram: the style is recoloured to the content's colour statistics *before* encoding
        hist = net(content, style, preserve_color="histogram")
        torch.testing.assert_close(hist, net(content, match_color(style, content)), rtol=0, atol=0)
        assert not torch.allclose(hist, plain)
        # luminance: the output's luminance with the content's chrominance (YIQ)
        lum = net(content, style, preserve_color="luminance")
        torch.testing.assert_close(lum, preserve_luminance(plain, content), rtol=0, atol=0)
        # with a decoder whose output is mid-grey plus a little texture (nothing clamped), the result has
        # the content's chrominance pixel by pixel and the stylised luminance
        grey = copy.deepcopy(net)
        grey.decoder.conv1_1.weight.mul_(0.01)
        grey.decoder.conv1_1.bias.fill_(0.5)
        plain, lum = grey(content, style), grey(content, style, preserve_color="luminance")
        yiq_lum, yiq_plain, yiq_content = rgb_to_yiq(lum), rgb_to_yiq(plain), rgb_to_yiq(content)
        assert (yiq_plain[:, 1:] - yiq_content[:, 1:]).abs().mean() > 0.05  # the colours did differ
        assert (yiq_lum[:, 1:] - yiq_content[:, 1:]).abs().mean() < 0.01
        assert (yiq_lum[:, :1] - yiq_plain[:, :1]).abs().mean() < 0.01
    with pytest.raises(ValueError, match="preserve_color must be one of"):
        net(content, style, preserve_color="sepia")


def test_style_statistics_cached_and_reusable(net, tensors, monkeypatch):
    content, style = tensors["content"], tensors["style"].clone()
    calls = []
    real = AdaINNet.encode_style
    monkeypatch.setattr(AdaINNet, "encode_style", lambda self, s: calls.append(1) or real(self, s))
    net.clear_style_cache()
    with torch.no_grad():
        a = net(content, style)
        b = net(content, style)
        assert len(calls) == 1
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        style.mul_(0.5)  # in-place change: the cached statistics are stale and recomputed
        c = net(content, style)
        assert len(calls) == 2 and not torch.allclose(a, c)
        code = net.encode_style(style)
        assert isinstance(code, StyleCode) and code.mean.shape == (1, 512, 1, 1)
        torch.testing.assert_close(net(content, code), c, rtol=0, atol=0)
        torch.testing.assert_close(net(content, [code, tensors["style2"]], style_weights=[1, 0]), c, rtol=0, atol=0)
    with torch.inference_mode():  # inference tensors have no version counter: cached by identity
        style_inf = style.clone()
        n = len(calls)
        d = net(content, style_inf)
        assert len(calls) == n + 1 and torch.equal(net(content, style_inf), d) and len(calls) == n + 1
        torch.testing.assert_close(d, c, rtol=0, atol=0)


# ------------------------------------------------------------------------------------------- round trips
def test_save_pretrained_round_trip(net, tensors, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    net.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config == {"backbone_weights": "none", "eps": 1e-5, "unbiased_std": False, "pad_multiple": 1}
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert set(saved) == set(net.state_dict()) and not any(k.startswith("encoder") for k in saved)
    loaded = AdaINNet.from_pretrained(tmp_path / "m")
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    # the encoder is re-created from its source ("none" = the same seeded random weights here)
    for name, buf in net.encoder.named_buffers():
        assert torch.equal(dict(loaded.encoder.named_buffers())[name], buf), name
    with torch.no_grad():
        torch.testing.assert_close(loaded(tensors["content"], tensors["style"]), net(tensors["content"], tensors["style"]),
                                   rtol=0, atol=0)
    # loading is strict: a decoder with a missing tensor is refused
    from safetensors.torch import save_file

    saved.pop("decoder.conv1_1.bias")
    save_file(saved, str(tmp_path / "m" / "model.safetensors"))
    with pytest.raises(Exception, match="conv1_1.bias"):
        AdaINNet.from_pretrained(tmp_path / "m")


# ------------------------------------------------------------------------------------------- importer
def test_import_pytorch_adain_matches_original(tmp_path, tensors):
    torch.manual_seed(1)
    vgg, decoder = originals.adain_vgg(), originals.adain_decoder()  # vgg cut after relu4_1, as test.py cuts it
    with torch.no_grad():  # keep activations in a sane range through 10 random layers
        for m in list(vgg) + list(decoder):
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                m.bias.uniform_(-0.05, 0.05)
    torch.save(vgg.state_dict(), tmp_path / "vgg_normalised.pth")
    torch.save(decoder.state_dict(), tmp_path / "decoder.pth")

    net = AdaINNet.from_pytorch_adain(tmp_path / "decoder.pth", vgg=str(tmp_path / "vgg_normalised.pth"))
    assert net.unbiased_std and net.encoder.preprocessing == "caffe"
    content, s1, s2 = tensors["content"], tensors["style"][..., :40, :40], tensors["style2"][..., :40, :32]
    s1 = F.interpolate(s1, size=(40, 48))
    s2 = F.interpolate(s2, size=(40, 48))
    with torch.no_grad():
        # encoder: vgg_normalised.pth read by VGGEncoder equals the original nn.Sequential
        torch.testing.assert_close(net.encode(content)["relu4_1"], vgg(content), atol=1e-4, rtol=1e-4)
        for alpha in (1.0, 0.6):
            ref = originals.adain_style_transfer(vgg, decoder, content, s1, alpha)
            torch.testing.assert_close(net(content, s1, alpha=alpha), ref, atol=1e-4, rtol=1e-4)
        ref = originals.adain_style_transfer(vgg, decoder, content.expand(2, -1, -1, -1), torch.cat([s1, s2]), 1.0,
                                             [0.3, 0.7])
        torch.testing.assert_close(net(content, [s1, s2], style_weights=[0.3, 0.7]), ref, atol=1e-4, rtol=1e-4)
        # the biased default is measurably different on these tiny feature maps: the option matters
        biased = AdaINNet(backbone_weights=str(tmp_path / "vgg_normalised.pth"))
        biased.load_state_dict(net.state_dict())
        assert not torch.allclose(biased.target_features(net.encode(content)["relu4_1"], s1),
                                  net.target_features(net.encode(content)["relu4_1"], s1), atol=1e-4)
    # the converter alone, and its errors
    sd = convert_pytorch_adain_state_dict(decoder.state_dict())
    assert set(sd) == set(net.state_dict()) and torch.equal(sd["decoder.conv1_1.weight"], decoder[28].weight)
    assert set(convert_pytorch_adain_state_dict({f"decoder.{k}": v for k, v in decoder.state_dict().items()})) == set(sd)
    with pytest.raises(ValueError, match="vgg_normalised.pth"):
        convert_pytorch_adain_state_dict(vgg.state_dict())
    with pytest.raises(KeyError, match="'28.weight' missing"):
        convert_pytorch_adain_state_dict({k: v for k, v in decoder.state_dict().items() if not k.startswith("28.")})
    assert CANONICAL["decoder"].startswith("https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/")
    # the stylizer reads decoder.pth directly, with the backbone given explicitly
    stylizer = build_adain_stylizer(StylizeOptions(model="adain_gan", weights=str(tmp_path / "decoder.pth"),
                                                   backbone_weights=str(tmp_path / "vgg_normalised.pth"),
                                                   device="cpu"))
    with torch.no_grad():  # as a user stylises; with autograd the decoder runs its plain forward (~1e-6 apart)
        torch.testing.assert_close(stylizer(content, [s1]), net(content, s1), rtol=0, atol=0)


# ------------------------------------------------------------------------------------------- data
def _make_folders(root: Path, n_content=3, n_style=2, bad=True):
    for name, n in (("content", n_content), ("style", n_style)):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            save_image(_rand(1, 3, 40 + 4 * i, 52 - 4 * i, seed=10 + i + 7 * n), root / name / f"{i}.png")
    if bad:
        (root / "content" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return root / "content", root / "style"


def test_datamodule(tmp_path):
    from zoo.data.content_style import ContentStyleData
    from zoo.data.folder import EmptyFolderError

    content_dir, style_dir = _make_folders(tmp_path)
    dm = ContentStyleData(str(content_dir), str(style_dir), batch_size=2, size=36, crop=32, num_workers=0)
    dm.setup("fit")
    assert len(dm.content) == 4 and len(dm.style) == 2
    batches = list(dm.train_dataloader())
    assert len(batches) == 2  # 4 content files (one unreadable, replaced by the next readable one)
    for content, style in batches:
        assert content.shape == (2, 3, 32, 32) and style.shape == (2, 3, 32, 32)
        assert 0 <= content.min() and content.max() <= 1
    assert dm.skipped == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyFolderError, match="no images found"):
        ContentStyleData(str(content_dir), str(tmp_path / "empty"), num_workers=0).setup("fit")
    with pytest.raises(ValueError, match="at least crop"):
        ContentStyleData(str(content_dir), str(style_dir), size=100, crop=256)


# ------------------------------------------------------------------------------------------- training
def _fit(model, batches, tmp_path=None, **trainer_kwargs):
    import lightning as L

    loader = torch.utils.data.DataLoader(batches, batch_size=None)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=tmp_path is not None,
                        default_root_dir=tmp_path, enable_progress_bar=False, enable_model_summary=False,
                        accelerator="cpu", devices=1, **trainer_kwargs)
    trainer.fit(model, loader)
    return trainer


def _batches(n=2, size=32, batch=1):
    return [(_rand(batch, 3, size, size, seed=20 + i), _rand(batch, 3, size, size, seed=40 + i)) for i in range(n)]


def _plain_adain_reference(decoder, encoder, batches, lr=1e-4, lr_decay=5e-5):
    """The paper's training step written out by hand (pytorch-AdaIN train.py / net.py, biased std)."""
    opt = torch.optim.Adam(decoder.parameters(), lr=lr)
    layers = list(ENCODER_LAYERS)
    for i, (content, style) in enumerate(batches):
        for group in opt.param_groups:
            group["lr"] = lr / (1.0 + lr_decay * i)
        feats_s = encoder(style, layers)
        c = encoder(content, ["relu4_1"])["relu4_1"]
        s_mean, s_std = mean_std(feats_s["relu4_1"])
        c_mean, c_std = mean_std(c)
        t = (c.float() - c_mean) / c_std * s_std + s_mean
        g = decoder(t)
        feats_g = encoder(g, layers)
        loss_c = 1.0 * (1.0 * F.mse_loss(feats_g["relu4_1"], t.detach()))
        loss_s = 0
        for layer in layers:
            gm, gs = mean_std(feats_g[layer])
            sm, ss = mean_std(feats_s[layer])
            loss_s = loss_s + 1.0 * (F.mse_loss(gm, sm) + F.mse_loss(gs, ss))
        loss = loss_c + 10.0 * loss_s
        opt.zero_grad()
        loss.backward()
        opt.step()
    return decoder


def test_adversarial_weight_zero_is_plain_adain(tmp_path):
    from zoo.variants.adain import AdaINGAN

    losses = {"content": {"weight": 1.0, "layers": ["relu4_1"]},
              "mean_std": {"weight": 10.0, "layers": list(ENCODER_LAYERS)}}
    backbone = {"arch": "vgg19", "weights": "none"}
    batches = _batches()

    torch.manual_seed(0)
    plain = AdaINGAN(backbone=backbone, losses=losses)
    start = copy.deepcopy(plain.net.decoder.state_dict())
    gan0 = AdaINGAN(backbone=backbone, losses={**losses, "adversarial": {"weight": 0.0}})
    gan0.net.decoder.load_state_dict(start)
    d_start = copy.deepcopy(gan0.discriminator.state_dict())
    assert plain.discriminator is None and gan0.discriminator is not None

    reference = copy.deepcopy(plain.net.decoder)
    _plain_adain_reference(reference, plain.net.encoder, batches)
    for model in (plain, gan0):
        _fit(model, batches)

    for k, v in reference.state_dict().items():
        assert not torch.equal(v, start[k]), k  # training moved the weights
        torch.testing.assert_close(plain.net.decoder.state_dict()[k], v, rtol=0, atol=0)
        torch.testing.assert_close(gan0.net.decoder.state_dict()[k], v, rtol=0, atol=0)
    # the discriminator did train, and with a non-zero weight the adversarial term reaches the decoder
    assert any(not torch.equal(v, d_start[k]) for k, v in gan0.discriminator.state_dict().items())
    gan0.losses["adversarial"].weight = 1.0
    losses, _ = gan0.generator_losses(*batches[0])
    assert set(losses) == {"content", "style", "adversarial"}
    losses["adversarial"].backward()
    assert gan0.net.decoder.conv1_1.weight.grad.abs().sum() > 0


def test_non_finite_loss_stops_training():
    from zoo.variants.adain import AdaINGAN

    model = AdaINGAN(backbone={"weights": "none"})
    with torch.no_grad():
        model.net.decoder.conv1_1.bias.fill_(float("nan"))
    with pytest.raises(NonFiniteLossError, match="at step 0"):
        _fit(model, _batches(1))


def test_variant_rejects_bad_config():
    from zoo.variants.adain import AdaINGAN

    bb = {"weights": "none"}
    with pytest.raises(ValueError, match="relu4_1"):
        AdaINGAN(backbone=bb, losses={"content": {"layers": ["relu3_1"]}, "mean_std": {}})
    with pytest.raises(ValueError, match="encoder stops at relu4_1"):
        AdaINGAN(backbone=bb, losses={"content": {"layers": ["relu4_1"]}, "mean_std": {"layers": ["relu5_1"]}})
    with pytest.raises(ValueError, match=r"\['gram'\] not used by AdaIN"):
        AdaINGAN(backbone=bb, losses={"content": {"layers": ["relu4_1"]}, "mean_std": {}, "gram": {}})
    with pytest.raises(ValueError, match="arch: vgg19"):
        AdaINGAN(backbone={"arch": "vgg16", "weights": "none"})


@pytest.mark.parametrize("recipe", ["adain.yaml", "adain_plain.yaml"])
def test_recipes_cite_the_paper_values(recipe):
    import yaml

    cfg = yaml.safe_load((ROOT / "recipes" / recipe).read_text())
    args, data = cfg["model"]["init_args"], cfg["data"]["init_args"]
    assert cfg["model"]["class_path"] == "zoo.variants.adain.AdaINGAN"
    assert cfg["data"]["class_path"] == "zoo.data.content_style.ContentStyleData"
    assert args["lr"] == 1e-4 and args["lr_decay"] == 5e-5 and args["backbone"]["weights"] == "caffe"
    assert args["losses"]["mean_std"] == {"weight": 10.0, "layers": list(ENCODER_LAYERS)}
    assert args["losses"]["content"] == {"weight": 1.0, "layers": ["relu4_1"]}
    assert (data["batch_size"], data["size"], data["crop"]) == (8, 512, 256)
    assert (args["losses"].get("adversarial") is not None) == (recipe == "adain.yaml")  # null: off
    from zoo.variants.adain import AdaINGAN

    model = AdaINGAN(**{**args, "backbone": {"arch": "vgg19", "weights": "none"}})
    assert (model.discriminator is not None) == (recipe == "adain.yaml")


# ------------------------------------------------------------------------------------------- stylizer
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A checkpoint of one AdaIN-GAN step, its safetensors export and save_pretrained folder."""
    from zoo.variants.adain import AdaINGAN

    root = tmp_path_factory.mktemp("adain_ckpt")
    torch.manual_seed(0)
    model = AdaINGAN(backbone={"arch": "vgg19", "weights": "none"})
    trainer = _fit(model, _batches(1), tmp_path=root)
    ckpt = root / "model.ckpt"
    trainer.save_checkpoint(ckpt)
    model.export(str(root / "export"))
    return model.net.eval(), ckpt, root / "export"


def test_stylizer_weight_formats_and_options(trained, tensors, tmp_path):
    net, ckpt, export = trained
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    assert not any(k.startswith("net.encoder") for k in state)  # backbone never in checkpoints
    assert any(k.startswith("discriminator.") for k in state)
    content, s1, s2 = tensors["content"], tensors["style"], tensors["style2"]
    with torch.no_grad():
        expected = net(content, [s1, s2], alpha=0.7, style_weights=[0.3, 0.7], preserve_color="histogram")
    for weights in (ckpt, export / "model.safetensors", export):
        opts = StylizeOptions(model="adain_gan", weights=str(weights), alpha=0.7, style_weights=[0.3, 0.7],
                              preserve_color="histogram", device="cpu")
        stylizer = build_adain_stylizer(opts)
        assert stylizer.needs_style and stylizer.net.backbone_weights == "none"  # followed the weights' config
        torch.testing.assert_close(stylizer(content, [s1, s2]), expected, rtol=0, atol=0)
    # --size resizes content and styles (new tensors made under inference mode)
    stylizer = build_adain_stylizer(StylizeOptions(model="adain_gan", weights=str(ckpt), device="cpu", size=24,
                                                   style_weights=[0.5, 0.5]))
    from zoo.io import resize_long_edge

    with torch.no_grad():
        small = net(resize_long_edge(content, 24), [resize_long_edge(s1, 24), resize_long_edge(s2, 24)],
                    style_weights=[0.5, 0.5])
    torch.testing.assert_close(stylizer(content, [s1, s2]), small, rtol=0, atol=0)
    assert small.shape[-1] == 24
    # masks as image files, one per style
    h, w = content.shape[-2:]
    left = torch.zeros(1, 3, h, w)
    left[..., : w // 2] = 1
    save_image(left, tmp_path / "a.png")
    save_image(1 - left, tmp_path / "b.png")
    stylizer = build_adain_stylizer(StylizeOptions(model="adain_gan", weights=str(ckpt), device="cpu",
                                                   masks=[str(tmp_path / "a.png"), str(tmp_path / "b.png")]))
    with torch.no_grad():
        torch.testing.assert_close(stylizer(content, [s1, s2]), net(content, [s1, s2], masks=torch.cat([left[:, :1], 1 - left[:, :1]])))
    with pytest.raises(ValueError, match="2 masks for 1 styles"):
        stylizer(content, [s1])
    with pytest.raises(ValueError, match="--style-weights or --masks"):
        build_adain_stylizer(StylizeOptions(model="adain_gan", weights=str(ckpt), device="cpu"))(content, [s1, s2])


@pytest.mark.parametrize("option,value,message", [
    ("steps", 10, "does not support --steps"), ("tile", 100, "--tile must be at least 192 pixels for this adain network"),
    ("direction", "BtoA", "does not support --direction"), ("scales", [0.5, 1.0], "does not support --scales"),
    ("alpha", 2.0, r"--alpha 2: must be a finite number in \[0, 1\]"), ("preserve_color", "sepia", "preserve_color must be one of"),
])
def test_stylizer_rejects_unsupported_options(trained, option, value, message):
    from zoo.stylize import build_stylizer

    _, ckpt, _ = trained
    opts = StylizeOptions(model="adain", weights=str(ckpt), device="cpu")
    setattr(opts, option, value)
    with pytest.raises(ValueError, match=message):
        build_stylizer(opts)  # the options the family does not declare are refused in one place


def test_canonical_decoder_offline_is_a_clear_error(tmp_path, monkeypatch):
    from zoo.backbone import WeightsUnavailableError

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # a closed port: any download fails at once
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(WeightsUnavailableError, match="decoder.pth"):
        load_adain("adain", backbone_weights="none")


def test_load_adain_backbone_override_and_errors(trained, tmp_path, caplog):
    _, ckpt, export = trained
    with pytest.raises(FileNotFoundError, match="no such weights file or folder, and not a pretrained tag"):
        load_adain(tmp_path / "missing.ckpt")
    # no weights: refused; "random" is an untrained decoder for smoke runs (benchmarks' --allow-random-weights)
    with pytest.raises(ValueError, match="model 'adain' needs --weights: .* --weights random runs an untrained"):
        build_adain_stylizer(StylizeOptions(model="adain_gan", backbone_weights="none", device="cpu"))
    assert "RANDOM" not in caplog.text
    stylizer = build_adain_stylizer(StylizeOptions(model="adain_gan", weights="random", backbone_weights="none",
                                                   device="cpu"))
    assert "decoder is RANDOM" in caplog.text and stylizer.net.backbone_weights == "none"
    # the weights' config names the encoder; an explicit source replaces it
    from zoo.backbone import VGGEncoder

    vgg_file = tmp_path / "vgg19.pth"
    torch.save(VGGEncoder._random("vgg19"), vgg_file)  # torchvision key layout
    net = load_adain(export, backbone_weights=str(vgg_file))
    assert net.encoder.weights_source == str(vgg_file) and net.encoder.preprocessing == "imagenet"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a vgg19 state dict"):
        load_adain(ckpt, backbone_weights=str(tmp_path / "bad.pth"))


# ------------------------------------------------------------------------------------------- end to end
def _run(args, cwd, env, timeout=WAIT):
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_fit_recipe_fast_dev_run(tmp_path, offline_env):
    content_dir, style_dir = _make_folders(tmp_path / "data")
    r = _run(["-m", "zoo.fit", str(ROOT / "recipes" / "adain.yaml"), f"--data.content_dir={content_dir}",
              f"--data.style_dir={style_dir}", "--data.size=36", "--data.crop=32", "--data.batch_size=2",
              "--data.num_workers=0", "--model.backbone.weights=none", "--trainer.fast_dev_run=true"], tmp_path, offline_env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Trainer.fit` stopped" in r.stderr or "fast_dev_run" in r.stderr + r.stdout, r.stderr[-2000:]
    assert "skipping unreadable image" in r.stderr  # the broken file was skipped, not fatal


def test_zoo_stylize_cli(trained, tmp_path, offline_env):
    _, ckpt, _ = trained
    content, s1, s2 = tmp_path / "c.png", tmp_path / "s1.png", tmp_path / "s2.png"
    save_image(_rand(1, 3, 40, 52, seed=7), content)
    save_image(_rand(1, 3, 32, 32, seed=8), s1)
    save_image(_rand(1, 3, 36, 30, seed=9), s2)
    out = tmp_path / "out.png"
    r = _run(["-m", "zoo", "stylize", str(content), "--model", "adain_gan", "--weights", str(ckpt),
              "--style", str(s1), str(s2), "--style-weights", "0.3,0.7", "--alpha", "0.7",
              "--preserve-color", "histogram", "--device", "cpu", "-o", str(out)], tmp_path, offline_env)
    assert r.returncode == 0, r.stderr[-3000:]
    from zoo.io import load_image

    result = load_image(out)
    assert result.shape == (1, 3, 40, 52)
    net = load_adain(ckpt)
    with torch.no_grad():
        expected = net(load_image(content), [load_image(s1), load_image(s2)], alpha=0.7, style_weights=[0.3, 0.7],
                       preserve_color="histogram")
    assert (result - expected).abs().max() <= 1 / 255 + 1e-6  # equal up to 8-bit rounding
    r = _run(["-m", "zoo", "stylize", str(content), "--model", "adain_gan", "--weights", str(ckpt),
              "--style", str(s1), "--tile", "64", "-o", str(tmp_path / "x.png")], tmp_path, offline_env)
    assert r.returncode == 1 and r.stderr.strip() == ("error: --tile must be at least 192 pixels for this adain "
                                                      "network (a 64-pixel margin on each side), got 64")
    assert not (tmp_path / "x.png").exists()
    # adain_gan is the tag of the AdaIN-GAN weights (the family is adain): without --weights it brings its own,
    # which are not published yet, and the one line names the recipe that trains them
    r = _run(["-m", "zoo", "stylize", str(content), "--model", "adain_gan", "--style", str(s1),
              "-o", str(tmp_path / "y.png")], tmp_path, offline_env)
    assert r.returncode == 1 and r.stderr.strip().startswith(
        "error: pretrained weights 'adain_gan' are not published yet. Train them with `python -m zoo.fit "
        "recipes/adain.yaml`")
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "y.png").exists()


def test_decode_without_autograd_on_cpu_is_the_fast_decoder_and_the_same_picture():
    """AdaINNet.decode takes AdaINDecoder.forward_fast (channels_last, phase convolutions, narrow RGB head)
    on CPU without autograd, and the plain decoder otherwise (training, tracing, export); both give the same
    picture at odd sizes, the 9 px minimum included, and the fast path never runs under autograd."""
    from unittest import mock

    net = AdaINNet(backbone_weights="none").eval()
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in net.decoder.parameters():
            p.copy_(0.05 * torch.randn(p.shape, generator=g))
    for h, w in [(70, 90), (257, 131), (9, 13)]:
        feat = torch.randn(2, 512, -(-h // 8), -(-w // 8), generator=g).relu()
        with torch.no_grad():
            with mock.patch.object(AdaINDecoder, "forward_fast", autospec=True,
                                   side_effect=AdaINDecoder.forward_fast) as fast:
                out = net.decode(feat)
            assert fast.call_count == 1
            ref = net.decoder(feat)
        assert out.shape == ref.shape == (2, 3, 8 * -(-h // 8), 8 * -(-w // 8))
        assert (out - ref).abs().max() <= 1e-5 * ref.abs().max()  # float rounding (outputs here reach ~50)
    with mock.patch.object(AdaINDecoder, "forward_fast", side_effect=AssertionError("fast path under autograd")):
        assert net.decode(feat).requires_grad
