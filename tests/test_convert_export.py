"""`zoo convert` and `zoo export` for every declared family, parametrised over the family records: a family
with importers of published checkpoints must have a maker of such a file here (the test says so when one is
missing), and every family with a trained network is exported to ONNX and TorchScript, and the export computes
what the network computes."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch

import originals
from zoo.cli import main
from zoo.families import FAMILIES

ALL = [FAMILIES.get(n) for n in FAMILIES.names()]
CONVERTIBLE = [f for f in ALL if f.importers and f.loads_networks]
WITH_NETWORK = [f for f in ALL if f.loads_networks]


def _johnson(root: Path) -> tuple[Path, list[str]]:
    sd = originals.randomize(originals.FastNeuralStyleNet(), seed=1).state_dict()
    torch.save(sd, root / "candy.pth")
    return root / "candy.pth", []


def _cyclegan(root: Path) -> tuple[Path, list[str]]:
    torch.save(originals.randomize(originals.CycleGANGenerator(8, 2), seed=4).state_dict(), root / "latest_net_G.pth")
    return root / "latest_net_G.pth", []


def _adain(root: Path) -> tuple[Path, list[str]]:
    torch.save(originals.randomize(originals.adain_vgg(), seed=2).state_dict(), root / "vgg_normalised.pth")
    torch.save(originals.randomize(originals.adain_decoder(), seed=3).state_dict(), root / "decoder.pth")
    return root / "decoder.pth", ["--backbone-weights", str(root / "vgg_normalised.pth")]


def _animeganv2(root: Path) -> tuple[Path, list[str]]:
    from zoo.nets.animeganv2 import AnimeGANv2Generator

    torch.manual_seed(5)  # bryandlee/animegan2-pytorch's Generator has our layout (its convert_weights.py output)
    torch.save(AnimeGANv2Generator().state_dict(), root / "paprika.pt")
    return root / "paprika.pt", []


# family -> a published checkpoint in the upstream layout (random weights) and the extra `zoo convert` arguments.
UPSTREAM: dict[str, Callable[[Path], tuple[Path, list[str]]]] = {
    "johnson": _johnson, "cyclegan": _cyclegan, "adain": _adain, "animeganv2": _animeganv2,
}


def _upstream(name: str, root: Path) -> tuple[Path, list[str]]:
    assert name in UPSTREAM, f"family {name!r} declares converters: add a maker of its published file to UPSTREAM"
    return UPSTREAM[name](root)


def _run(capsys, *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().err


def _inputs(family) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 40, 36, generator=g)
    return (x, torch.rand(1, 3, 32, 44, generator=g)) if family.needs_style else (x,)


def test_every_converter_family_has_an_upstream_maker():
    assert {f.name for f in CONVERTIBLE} <= set(UPSTREAM), "add the new family's published file to UPSTREAM"


@pytest.mark.parametrize("family", [f for f in ALL if f not in CONVERTIBLE], ids=lambda f: f.name)
def test_zoo_convert_refuses_a_family_that_reads_no_published_file_in_one_line(family, tmp_path, capsys):
    (tmp_path / "x.pth").write_bytes(b"")
    code, err = _run(capsys, "convert", "--model", family.name, str(tmp_path / "x.pth"), "-o", str(tmp_path / "out"))
    assert code != 0 and not (tmp_path / "out").exists()
    assert err.strip().splitlines() == [f"error: --model {family.name}: family {family.name!r} reads no reference "
                                        "implementation's checkpoint (it declares no importers)"]


@pytest.mark.parametrize("family", CONVERTIBLE, ids=[f.name for f in CONVERTIBLE])
def test_zoo_convert_writes_a_loadable_export_of_the_same_network(family, tmp_path, capsys):
    from zoo import create_model
    from zoo.stylizers import load_network

    src, extra = _upstream(family.name, tmp_path)
    out = tmp_path / "converted"
    code, err = _run(capsys, "convert", str(src), "--model", family.name, *extra, "-o", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    overrides = {"backbone_weights": extra[1]} if extra else {}
    direct = load_network(family.name, src, **overrides)      # the importer's reading of the published file
    converted = create_model(family.name, pretrained=out, **overrides)
    inputs = _inputs(family)
    with torch.no_grad():
        torch.testing.assert_close(converted(*inputs), direct(*inputs), atol=1e-5, rtol=0)
    # a second convert into the same folder is refused, the export untouched
    before = (out / "model.safetensors").read_bytes()
    code, err = _run(capsys, "convert", str(src), "--model", family.name, *extra, "-o", str(out))
    assert code == 1 and err.strip().splitlines()[-1] == f"error: {out}: folder exists and is not empty"
    assert (out / "model.safetensors").read_bytes() == before


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
@pytest.mark.parametrize("family", WITH_NETWORK, ids=[f.name for f in WITH_NETWORK])
def test_zoo_export_computes_what_the_network_computes(family, fmt, tmp_path, capsys):
    from zoo.stylizers import load_network

    if family.name in UPSTREAM:
        src, extra = _upstream(family.name, tmp_path)
    else:  # a family without converters: its own random network, saved as an export
        from zoo import create_model

        src, extra = tmp_path / "net", []
        create_model(family.name).save_pretrained(src)
    weights = tmp_path / "converted"
    if extra or family.name in UPSTREAM:
        code, err = _run(capsys, "convert", str(src), "--model", family.name, *extra, "-o", str(weights))
        assert code == 0, err
    else:
        weights = src
    out = tmp_path / ("net.onnx" if fmt == "onnx" else "net.pt")
    code, err = _run(capsys, "export", "--model", family.name, "--weights", str(weights), "--format", fmt, "-o", str(out))
    assert code == 0, err
    assert out.is_file() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    net = load_network(family.name, weights, **({"backbone_weights": extra[1]} if extra else {}))
    inputs = _inputs(family)
    with torch.no_grad():
        expected = net(*inputs)
    if fmt == "torchscript":
        got = torch.jit.load(str(out))(*inputs)
    else:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)}
        got = torch.from_numpy(session.run(None, feeds)[0])
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    # an existing export is not replaced without --overwrite
    code, err = _run(capsys, "export", "--model", family.name, "--weights", str(weights), "--format", fmt, "-o", str(out))
    assert code == 1 and err.strip().splitlines()[-1] == f"error: {out}: file exists; pass --overwrite to replace it"
