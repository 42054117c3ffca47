from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision
from safetensors.torch import save_file
from torch import nn

from zoo.backbone import CAFFE_VGG19_URL, VGGEncoder, WeightsUnavailableError, layer_names


@pytest.mark.parametrize("arch", ["vgg16", "vgg19"])
def test_torchvision_state_dict_gives_identical_features_at_every_layer(arch, tmp_path):
    reference = getattr(torchvision.models, arch)(weights=None).eval()
    path = tmp_path / f"{arch}.pth"
    torch.save(reference.state_dict(), path)  # full model: features + classifier keys
    encoder = VGGEncoder(arch, weights=path)
    x = torch.rand(2, 3, 37, 50)
    out = encoder(x)
    names = layer_names(arch)
    assert list(out) == names and len(names) == len(reference.features)
    h = torchvision.transforms.functional.normalize(x, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    with torch.no_grad():
        for name, module in zip(names, reference.features):
            h = module(h)
            assert torch.equal(out[name], h), name


def test_relus_in_place_leave_requested_features_and_gradients_as_torchvision_gives_them(tmp_path):
    """The encoder applies ReLU in place on conv outputs nobody asked for: requested conv outputs keep
    their negative values, and the input gradient (Gatys optimises the image) is torchvision's."""
    reference = torchvision.models.vgg19(weights=None).eval()
    torch.save(reference.state_dict(), tmp_path / "vgg19.pth")
    encoder = VGGEncoder("vgg19", weights=tmp_path / "vgg19.pth")
    names = layer_names("vgg19")
    wanted = ["relu1_1", "conv2_1", "relu2_1", "relu3_1", "conv4_2", "relu5_1"]
    x = torch.rand(1, 3, 37, 50, requires_grad=True)
    out = encoder(x, wanted)
    h, ref = torchvision.transforms.functional.normalize(x, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), {}
    for name, module in zip(names, reference.features):
        h = module(h)
        if name in wanted:
            ref[name] = h.clone() if name.startswith("conv") else h  # torchvision's ReLU(inplace=True)
        if name == wanted[-1]:
            break
    assert list(out) == wanted and (out["conv4_2"] < 0).any()
    for name in wanted:
        assert torch.equal(out[name], ref[name]), name
    grad = torch.autograd.grad(sum(f.square().sum() for f in out.values()), x)[0]
    grad_ref = torch.autograd.grad(sum(f.square().sum() for f in ref.values()), x)[0]
    torch.testing.assert_close(grad, grad_ref, atol=1e-6, rtol=1e-5)


def test_paper_layer_indices():
    names = layer_names("vgg19")
    # DESIGN.md / torchvision vgg19 features indices
    assert {n: names.index(n) for n in ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]} == {
        "relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu4_2": 22, "relu5_1": 29}
    assert [names.index(f"pool{i}") for i in range(1, 6)] == [4, 9, 18, 27, 36]


def test_timm_safetensors_layout_loads(tmp_path):
    import timm

    model = timm.create_model("vgg19", pretrained=False, num_classes=0)
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    encoder = VGGEncoder(weights=path, layers=["relu2_1"])
    assert torch.equal(encoder.conv2_1_weight, model.features[5].weight)


def test_truncated_after_deepest_requested_layer_and_frozen():
    enc = VGGEncoder(weights=None, layers=["relu1_1", "relu3_1"])
    assert enc.layer_names[-1] == "relu3_1"
    assert hasattr(enc, "conv3_1_weight") and not hasattr(enc, "conv3_2_weight")
    out = enc(torch.rand(1, 3, 32, 32), ["relu1_1"])
    assert list(out) == ["relu1_1"] and out["relu1_1"].shape == (1, 64, 32, 32)
    with pytest.raises(ValueError, match=r"built up to relu3_1"):
        enc(torch.rand(1, 3, 32, 32), ["relu4_1"])
    assert list(enc.parameters()) == [] and enc.state_dict() == {}  # never trained, never checkpointed
    enc.train()
    assert not enc.training
    with pytest.raises(ValueError, match="unknown vgg19 layer"):
        VGGEncoder(weights=None, layers=["relu6_1"])
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        enc(torch.rand(1, 1, 32, 32))


def test_encoder_is_kept_out_of_a_parent_state_dict():
    parent = nn.Module()
    parent.encoder = VGGEncoder(weights=None, layers=["relu1_1"])
    parent.head = nn.Conv2d(3, 3, 1)
    assert sorted(parent.state_dict()) == ["head.bias", "head.weight"]
    parent.load_state_dict(parent.state_dict(), strict=True)


def _adain_original_vgg() -> nn.Sequential:
    """pytorch-AdaIN's `vgg` nn.Sequential (net.py) up to relu5_1: 1x1 conv, reflection pads, ceil pools."""
    def conv(i, o):
        return [nn.ReflectionPad2d((1, 1, 1, 1)), nn.Conv2d(i, o, (3, 3)), nn.ReLU()]
    pool = [nn.MaxPool2d((2, 2), (2, 2), (0, 0), ceil_mode=True)]
    layers = [nn.Conv2d(3, 3, (1, 1))]
    layers += conv(3, 64) + conv(64, 64) + pool
    layers += conv(64, 128) + conv(128, 128) + pool
    layers += conv(128, 256) + conv(256, 256) + conv(256, 256) + conv(256, 256) + pool
    layers += conv(256, 512) + conv(512, 512) + conv(512, 512) + conv(512, 512) + pool
    layers += conv(512, 512)
    return nn.Sequential(*layers).eval()


def test_caffe_normalised_layout_matches_the_original_architecture(tmp_path):
    original = _adain_original_vgg()
    assert [i for i, m in enumerate(original) if isinstance(m, nn.Conv2d)][1:] == \
        [2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42]
    path = tmp_path / "vgg_normalised.pth"
    torch.save(original.state_dict(), path)
    enc = VGGEncoder(weights=path, layers=["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"])
    assert enc.preprocessing == "caffe" and enc.padding_mode == "reflect" and enc.ceil_mode
    x = torch.rand(1, 3, 45, 37)  # odd sizes: ceil-mode pooling matters
    out = enc(x)
    ends = {"relu1_1": 4, "relu2_1": 11, "relu3_1": 18, "relu4_1": 31, "relu5_1": 44}
    with torch.no_grad():
        for name, end in ends.items():
            assert torch.allclose(out[name], original[:end](x), atol=1e-5), name


def test_missing_weights_offline_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    checkpoints = tmp_path / "th" / "hub" / "checkpoints"
    for weights, file, url in [
            ("imagenet", "vgg19-dcbb9e9d.pth", "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"),
            ("caffe", "vgg_normalised.pth", CAFFE_VGG19_URL)]:
        with pytest.raises(WeightsUnavailableError) as e:
            VGGEncoder("vgg19", weights=weights, progress=False)
        msg = str(e.value)
        assert "\n" not in msg and str(checkpoints / file) in msg and url in msg and "--backbone-weights PATH" in msg
    with pytest.raises(WeightsUnavailableError, match=r"timm/vgg19\.tv_in1k/model\.safetensors .*--backbone-weights"):
        VGGEncoder(weights="timm")
    with pytest.raises(WeightsUnavailableError, match="no such weights file"):
        VGGEncoder(weights=str(tmp_path / "missing.pth"))


def _conv1_state(layout: str, seed: int) -> dict:
    """The first layers of a VGG19 state dict (enough for an encoder up to relu1_1) in ``layout``."""
    g = torch.Generator().manual_seed(seed)
    w, b = torch.randn(64, 3, 3, 3, generator=g), torch.randn(64, generator=g)
    if layout == "caffe":  # vgg_normalised.pth: a 1x1 input conv at 0, the first 3x3 conv at 2
        return {"0.weight": torch.randn(3, 3, 1, 1, generator=g), "0.bias": torch.randn(3, generator=g),
                "2.weight": w, "2.bias": b}
    return {"features.0.weight": w, "features.0.bias": b}


def _publish(source: str, tmp_path, monkeypatch, data: bytes) -> Path:
    """Make weight source ``source`` fetch ``data`` from a stand-in for its upstream (a file:// mirror, or the
    Hugging Face cache for timm) whose published sha256 is that of ``data``; return the upstream file."""
    import hashlib

    from test_download import fill_hub_cache
    from zoo import backbone, download

    sha = hashlib.sha256(data).hexdigest()
    if source == "timm":
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setitem(backbone.TIMM_WEIGHTS, "vgg19", ("testorg/vgg19", "a" * 40, sha))
        return fill_hub_cache(tmp_path / "hf", "testorg/vgg19", "a" * 40, "model.safetensors", data)
    mirror = tmp_path / "mirror" / ("vgg19-dcbb9e9d.pth" if source == "imagenet" else "vgg_normalised.pth")
    mirror.parent.mkdir(exist_ok=True)
    mirror.write_bytes(data)
    if source == "imagenet":
        monkeypatch.setitem(download.TORCHVISION_WEIGHTS, "vgg19", (mirror.as_uri(), sha))
    else:  # no published checksum upstream: pinned here to the stand-in's, to test the verified path
        from zoo.pins import Pin

        monkeypatch.setattr(backbone, "CAFFE_VGG19_URL", mirror.as_uri())
        monkeypatch.setattr(backbone, "CAFFE_VGG19_PIN", Pin(sha256=sha, source="test: the stand-in's sha256"))
    return mirror


@pytest.mark.parametrize("source", ["imagenet", "caffe", "timm"])
def test_every_weight_source_is_verified_before_it_is_read(source, tmp_path, monkeypatch):
    """A good file loads; a modified cached copy and a substituted download are refused, never loaded."""
    import io
    import warnings

    from safetensors.torch import save

    from test_download import corrupt
    from zoo.download import ChecksumMismatchError

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    layout = "caffe" if source == "caffe" else "torchvision"

    def payload(seed: int) -> bytes:
        sd = _conv1_state(layout, seed)
        if source == "timm":
            return save(sd)
        buf = io.BytesIO()
        torch.save(sd, buf)
        return buf.getvalue()

    upstream = _publish(source, tmp_path, monkeypatch, payload(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vgg_normalised.pth: "no published checksum, recorded"
        enc = VGGEncoder("vgg19", weights=source, layers=["relu1_1"], progress=False)
    expected = _conv1_state(layout, 0)["2.weight" if source == "caffe" else "features.0.weight"]
    assert torch.equal(enc.conv1_1_weight, expected)

    cached = upstream if source == "timm" else tmp_path / "th" / "hub" / "checkpoints" / upstream.name
    corrupt(cached)
    with pytest.raises(ChecksumMismatchError, match=f"refusing to load .*{cached.name}.*--backbone-weights PATH"):
        VGGEncoder("vgg19", weights=source, layers=["relu1_1"], progress=False)
    if source != "timm":  # the Hub path has no download here; its cached file is what the test above refuses
        assert not cached.exists() and cached.with_name(cached.name + ".rejected").exists()  # moved aside
        upstream.write_bytes(payload(1))  # a different file at the source
        with pytest.raises(ChecksumMismatchError, match="nothing was saved"):
            VGGEncoder("vgg19", weights=source, layers=["relu1_1"], progress=False)
        assert not cached.exists()


def test_wrong_file_layout_is_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="not a vgg19 state dict"):
        VGGEncoder(weights=path)


def test_avg_pool_and_autocast():
    enc = VGGEncoder(weights=None, layers=["pool1"], pool="avg")
    x = torch.rand(1, 3, 16, 16)
    relu = VGGEncoder(weights=None, layers=["relu1_2"])(x)["relu1_2"]
    assert torch.allclose(enc(x)["pool1"], F.avg_pool2d(relu, 2), atol=1e-6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert enc(x)["pool1"].dtype == torch.bfloat16
