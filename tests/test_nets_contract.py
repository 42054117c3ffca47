"""The contract of every network we publish (zoo.nets.base.ZooNet), tested over the whole registry the way timm
tests its models: every declared family's network (zoo.families)
is picked up here without editing this file.

* ``save_pretrained`` / ``from_pretrained`` round-trip exactly;
* any H and W in, the same H and W out, finite, in [0, 1] (below the network's ``min_size`` too);
* ``from_pretrained`` refuses a file with a missing or an extra tensor, in one line naming the file;
* ONNX and TorchScript exports compute what the network computes, at a size they were not traced at.
"""

from __future__ import annotations

import json

import pytest
import torch

from zoo.export import export_model
from zoo.families import FAMILIES
from zoo.nets.base import ZooNet

# Every declared family with a network of its own (Gatys optimises the image: none).
PUBLISHED = [name for name in FAMILIES.names() if FAMILIES[name].network is not None]

# Small configs, to keep this module fast; an architecture not listed runs with its defaults (add a row if
# those are slow, or need a download).
TINY = {
    "johnson": {"channels": [4, 8, 8], "num_residual": 1},
    "cyclegan": {"ngf": 4, "n_blocks": 1},
    "adain": {"backbone_weights": "none"},
}
TOL = 1e-4


def _randomize(net: ZooNet, seed: int) -> ZooNet:
    """Random parameters (not buffers: those a network re-creates, like AdaIN's encoder, stay)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            fan_in = p[0].numel() if p.ndim > 1 else 1
            p.copy_(torch.randn(p.shape, generator=g) * (2.0 / fan_in) ** 0.5 * (1 if p.ndim > 1 else 0.2))
    return net.eval()


def _inputs(net: ZooNet, n: int, h: int, w: int, seed: int) -> list[torch.Tensor]:
    """One (n, 3, h, w) image per input of the network; inputs after the first (a style) get another size."""
    g = torch.Generator().manual_seed(seed)
    sizes = [(h, w)] + [(21, 19)] * (len(net.input_names) - 1)
    return [torch.rand(n, 3, *size, generator=g) for size in sizes]


@pytest.fixture(scope="module", params=PUBLISHED)
def arch(request) -> tuple[str, ZooNet]:
    torch.manual_seed(0)
    return request.param, _randomize(FAMILIES[request.param].build_network(**TINY.get(request.param, {})), seed=1)


def test_every_published_network_is_a_zoonet(arch):
    assert isinstance(arch[1], ZooNet)


@pytest.mark.parametrize("size", [(9, 13), (70, 90), (31, 17), (2, 3)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_any_size_in_same_size_out_in_unit_range(arch, size):
    _, net = arch
    args = _inputs(net, 2, *size, seed=2)
    with torch.no_grad():
        y = net(*args)
    assert y.shape == args[0].shape
    assert torch.isfinite(y).all() and y.min() >= 0 and y.max() <= 1


def test_save_pretrained_round_trip_is_exact(arch, tmp_path):
    name, net = arch
    net.save_pretrained(tmp_path)
    if TINY.get(name):  # a network without constructor arguments (AnimeGANv2's) writes no config.json
        config = json.loads((tmp_path / "config.json").read_text())
        assert {k: config[k] for k in TINY[name]} == TINY[name]
    back = type(net).from_pretrained(tmp_path)
    assert not back.training
    a, b = net.state_dict(), back.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    args = _inputs(net, 1, 31, 17, seed=3)
    with torch.no_grad():
        assert torch.equal(back(*args), net(*args))


@pytest.mark.parametrize("change", ["missing", "extra"])
def test_from_pretrained_is_strict_in_one_line(arch, change, tmp_path):
    from safetensors.torch import load_file, save_file

    _, net = arch
    net.save_pretrained(tmp_path)
    file = tmp_path / "model.safetensors"
    state = load_file(str(file))
    if change == "missing":
        state.pop(sorted(state)[-1])
    else:
        state["unexpected.weight"] = torch.zeros(1)
    save_file(state, str(file))
    with pytest.raises(ValueError) as err:
        type(net).from_pretrained(tmp_path)
    message = str(err.value)
    assert "\n" not in message and str(file) in message
    assert ("missing keys" if change == "missing" else "unexpected keys") in message


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_equals_the_network_at_an_odd_size(arch, fmt, tmp_path):
    _, net = arch
    if fmt == "onnx":
        ort = pytest.importorskip("onnxruntime")
    path = export_model(net, fmt, tmp_path / "net")  # traced at 64 x 64
    if fmt == "onnx":
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == list(net.input_names)
    else:
        loaded = torch.jit.load(str(path))
    # odd sizes, one of them under every network's min_size, and a multiple of 8 that is not the traced size
    for (h, w), n in [((33, 13), 2), ((6, 9), 1), ((40, 48), 1)]:
        args = _inputs(net, n, h, w, seed=4)
        with torch.no_grad():
            ref = net.for_export()(*args)
            if fmt == "onnx":
                out = torch.from_numpy(session.run(None, {k: a.numpy() for k, a in zip(net.input_names, args)})[0])
            else:
                out = loaded(*args)
        assert out.shape == args[0].shape
        torch.testing.assert_close(out, ref, atol=TOL, rtol=0)


def test_export_refuses_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'tflite'"):
        export_model(FAMILIES["johnson"].build_network(**TINY["johnson"]), "tflite", tmp_path / "net.tflite")
    assert not list(tmp_path.iterdir())
