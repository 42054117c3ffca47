import pytest
import torch
import torch.nn.functional as F
import torchvision
from safetensors.torch import save_file
from torch import nn

from zoo.backbone import VGGEncoder, WeightsUnavailableError, layer_names


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


def test_missing_download_is_one_clear_error(tmp_path, monkeypatch):
    import urllib.error

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(WeightsUnavailableError) as e:
        VGGEncoder("vgg19", weights="imagenet", progress=False)
    msg = str(e.value)
    assert str(tmp_path / "th" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in msg
    assert "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in msg and "--backbone-weights" in msg
    with pytest.raises(WeightsUnavailableError, match="vgg_normalised.pth"):
        VGGEncoder("vgg19", weights="caffe", progress=False)
    with pytest.raises(WeightsUnavailableError, match="no such weights file"):
        VGGEncoder(weights=str(tmp_path / "missing.pth"))


def test_timm_source_offline_names_the_hub_repo(tmp_path, monkeypatch):
    import huggingface_hub

    def offline(*a, **k):
        raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(WeightsUnavailableError, match=r"timm/vgg19\.tv_in1k"):
        VGGEncoder(weights="timm")


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
