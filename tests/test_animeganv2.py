"""AnimeGANv2 (issue 14): the zoo's generator gives bryandlee/animegan2-pytorch's picture at every size and on
every path a user takes (create_model, torch.hub, `zoo stylize` on a file (also in tiles) and on a clip, ONNX
and TorchScript exports), and the tags carry the non-commercial terms.

The port is restated in ``tests/originals.py`` (file and commit cited there). It gets random weights, saved
in its own key layout as its ``.pt`` files are, and placed where the tag ``animeganv2_paprika`` downloads its
checkpoint (offline): the zoo converts it with ``convert_bryandlee_state_dict``. The architecture is fixed
(no tiny widths), so images are small. Pictures are compared in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, make_image, offline_cache
from PIL import Image

import originals
from zoo.nets.animeganv2 import MIN_SIZE, AnimeGANv2Generator, convert_bryandlee_state_dict

TOL = 1e-4
TAG = "animeganv2_paprika"
TAGS = ["animeganv2_celeba_distill", "animeganv2_face_paint_512_v1", "animeganv2_face_paint_512_v2", TAG]


def _image(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    """A smooth picture with some noise, in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, max(2, h // 8), max(2, w // 8), generator=g)
    x = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return (0.8 * x + 0.2 * torch.rand(n, 3, h, w, generator=g)).clamp(0, 1)


def _read(path: Path) -> torch.Tensor:
    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]


def _same_8bit(ours_file: Path, ref: torch.Tensor) -> None:
    """The saved picture is ``ref`` rounded to 8 bits (one level off where the two straddle a rounding boundary)."""
    ours = _read(ours_file)
    expected = (ref.clamp(0, 1) * 255).round() / 255
    assert ours.shape == expected.shape
    diff = (ours - expected).abs()
    assert diff.max() <= 1 / 255 + 1e-6 and (diff > 0).float().mean() < 0.01


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The port with random weights; its ``paprika.pt`` placed where the tag downloads it; the tag's network."""
    import zoo
    from zoo import download

    root = tmp_path_factory.mktemp("animeganv2")
    port = originals.randomize_animeganv2(originals.AnimeGANv2Port(), seed=1)
    torch.save(port.state_dict(), root / "paprika.pt")
    from test_download import pinned_stand_ins

    data = (root / "paprika.pt").read_bytes()
    with offline_cache(root) as env, pinned_stand_ins({TAG: data}, root / "site") as pin_env:
        env.update(pin_env)  # the tag's pin (the git blob id of the real file) replaced by the stand-in's
        dst = download.canonical_download_path(TAG)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
        net = zoo.create_model(TAG, pretrained=True)
        yield {"port": port, "net": net, "env": env, "pt": root / "paprika.pt"}


def _port(served, x: torch.Tensor) -> torch.Tensor:
    return originals.animeganv2_face2paint(served["port"], x)


def _check(served, x: torch.Tensor, ours: torch.Tensor) -> None:
    ref = _port(served, x)
    inside = ((ref > 0.01) & (ref < 0.99)).float().mean()
    assert inside > 0.5, f"the comparison would be dominated by the clamp ({inside:.2f} inside)"
    assert ours.shape == x.shape
    torch.testing.assert_close(ours, ref, atol=TOL, rtol=0)


# ----------------------------------------------------------------------------------------- the network
@pytest.mark.parametrize("n,h,w", [(1, 70, 90), (1, 257, 131), (1, 9, 13), (2, 37, 45)],
                         ids=["70x90", "257x131", "9x13", "batch2"])
def test_the_tag_gives_the_ports_picture(served, n, h, w):
    x = _image(n, h, w, seed=h)
    with torch.no_grad():
        _check(served, x, served["net"](x))


def test_torch_hub_load_gives_the_ports_picture(served):
    net = torch.hub.load(str(REPO), TAG, source="local", pretrained=True)
    x = _image(1, 30, 41, seed=3)
    with torch.no_grad():
        _check(served, x, net(x))


def test_the_up_sampling_goes_to_the_skip_sizes_with_align_corners():
    """What the port's hub entry point computes (align_corners=True, to block_a's and the input's sizes) is not
    its test.py default (scale factor 2, align_corners=False), whose output at 13 px is 12 px."""
    port = originals.randomize_animeganv2(originals.AnimeGANv2Port(), seed=2)
    x = _image(1, 13, 40, seed=4) * 2 - 1
    with torch.no_grad():
        assert port(x, align_corners=False).shape[-2:] == (12, 40)
        net = AnimeGANv2Generator().eval()
        net.load_state_dict(convert_bryandlee_state_dict(port.state_dict()))
        torch.testing.assert_close(net.forward_raw(x), port(x), atol=TOL, rtol=0)


def test_below_the_ports_minimum_the_image_is_padded_by_repetition(served):
    small = MIN_SIZE - 1
    x = _image(1, small, 13, seed=6)
    with pytest.raises(RuntimeError):
        _port(served, x)
    with torch.no_grad():
        ours = served["net"](x)
    padded = F.pad(x, (0, 0, 0, 1), mode="replicate")
    torch.testing.assert_close(ours, _port(served, padded)[..., :small, :13], atol=TOL, rtol=0)


def test_the_importer_takes_the_ports_files_and_refuses_others(served):
    sd = served["port"].state_dict()
    assert convert_bryandlee_state_dict({f"module.{k}": v for k, v in sd.items()}).keys() == sd.keys()
    with pytest.raises(KeyError, match="unexpected key 'model.1.weight'"):
        convert_bryandlee_state_dict({**sd, "model.1.weight": torch.zeros(1)})
    with pytest.raises(KeyError, match="missing"):
        convert_bryandlee_state_dict({k: v for k, v in sd.items() if k != "out_layer.0.weight"})
    with pytest.raises(ValueError, match=r"out_layer.0.weight has shape \(3, 16, 1, 1\)"):
        convert_bryandlee_state_dict({**sd, "out_layer.0.weight": torch.zeros(3, 16, 1, 1)})


# ----------------------------------------------------------------------------------------- zoo stylize
def test_zoo_stylize_file_gives_the_ports_picture_and_too_small_a_tile_is_refused(served, run, offline_env,
                                                                                  tmp_path):
    offline_env.update(served["env"])
    src = make_image(tmp_path / "in.png", (90, 70), seed=20)
    x = _read(src)
    one = run("-m", "zoo", "stylize", str(src), "--model", TAG, "-o", str(tmp_path / "one.png"), "--quiet")
    assert one.returncode == 0, one.stderr
    _same_8bit(tmp_path / "one.png", _port(served, x))
    # a tile must hold its 56-pixel margins on both sides and 32 pixels of its own
    tiled = run("-m", "zoo", "stylize", str(src), "--model", TAG, "--tile", "48", "-o", str(tmp_path / "t.png"))
    assert tiled.returncode != 0 and not (tmp_path / "t.png").exists()
    assert tiled.stderr.strip() == "error: --tile must be at least 144 pixels for this animeganv2 network " \
                                   "(a 56-pixel margin on each side), got 48"


def test_tiles_give_the_untiled_picture(served, tmp_path):
    """Whole-image layer-norm statistics and whole-image up-sampling coordinates in every tile: the untiled
    picture within 1e-4, through the API and `zoo stylize --weights <the port's .pt> --tile` (in-process)."""
    from zoo.cli import main
    from zoo.stylize import StylizeOptions, build_stylizer

    # 150 x 12 in tiles of 144 px (the smallest): five windows along H, each with a 56-pixel margin
    src = make_image(tmp_path / "in.png", (12, 150), seed=21)
    x = _read(src)
    stylizer = build_stylizer(StylizeOptions(model="animeganv2", weights=str(served["pt"]), tile=144,
                                             device="cpu", progress=False))
    _check(served, x, stylizer(x))
    out = tmp_path / "tiled.png"
    assert main(["stylize", str(src), "--model", "animeganv2", "--weights", str(served["pt"]), "--tile", "144",
                 "-o", str(out), "--quiet"]) == 0
    _same_8bit(out, _port(served, x))


@pytest.mark.slow  # 18 windows x 25 passes: ~15 s on 2 idle cores, minutes on busy ones
def test_tiles_give_the_untiled_picture_in_both_directions_at_the_far_end(served):
    """257 x 131 in tiles of 160 px: 6 x 3 windows; the up-samplings' drift from i / 2 is largest at the far end."""
    from zoo.tiling import tiled_apply_exact

    x = _image(1, 257, 131, seed=22)
    net = served["net"]
    with torch.no_grad():
        _check(served, x, tiled_apply_exact(net, x, 160, net.tile_margin()))


def test_the_ports_pt_file_loads_as_weights_and_bad_options_are_refused(served):
    from zoo.stylize import StylizeOptions, build_stylizer

    stylizer = build_stylizer(StylizeOptions(model="animeganv2", weights=str(served["pt"]), device="cpu",
                                             progress=False))
    x = _image(1, 21, 34, seed=7)
    torch.testing.assert_close(stylizer(x), _port(served, x), atol=TOL, rtol=0)
    with pytest.raises(ValueError, match="takes no style image"):
        stylizer(x, [x])
    with pytest.raises(ValueError, match="does not support --seed"):
        build_stylizer(StylizeOptions(model="animeganv2", weights=str(served["pt"]), seed=1))


# ----------------------------------------------------------------------------------------- exports
@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_equals_the_ports_picture_at_odd_sizes(served, fmt, tmp_path):
    from zoo.cli import main
    from zoo.export import export_model

    path = tmp_path / f"net.{'onnx' if fmt == 'onnx' else 'pt'}"
    if fmt == "onnx":
        export_model(served["net"], fmt, path, example=_image(2, 16, 16, seed=10))  # a small trace is faster
    else:  # `zoo export` with the tag (in-process: the served cache is this process's environment)
        assert main(["export", "--model", TAG, "--format", fmt, "-o", str(path)]) == 0
    if fmt == "onnx":
        ort = pytest.importorskip("onnxruntime")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
    else:
        loaded = torch.jit.load(str(path))
    for size, batch in [((33, 13), 2), ((40, 48), 1)]:
        x = _image(batch, *size, seed=11)
        with torch.no_grad():
            out = torch.from_numpy(session.run(None, {name: x.numpy()})[0]) if fmt == "onnx" else loaded(x)
        _check(served, x, out)


# ----------------------------------------------------------------------------------------- video
def test_zoo_stylize_a_clip(served, run, offline_env, tmp_path):
    from test_video import make_video, probe

    offline_env.update(served["env"])
    clip = make_video(tmp_path / "clip.mp4", n=4, w=34, h=26)
    result = run("-m", "zoo", "stylize", str(clip), "--model", TAG, "-o", str(tmp_path / "out.mp4"), "--quiet")
    assert result.returncode == 0, result.stderr
    src, out = probe(clip), probe(tmp_path / "out.mp4")
    assert out["n"] == src["n"] == 4 and out["size"] == src["size"] and out["rotation"] == src["rotation"]
    for a, b in zip(src["arrays"], out["arrays"]):
        x = torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255
        ref = _port(served, x)[0].permute(1, 2, 0).numpy()
        got = b.astype(np.float32) / 255
        # H.264 (yuv420p) is lossy: the port's picture within codec noise, far from the input frame
        assert np.abs(got - ref).mean() < 0.03 < np.abs(got - a / 255).mean()


# ----------------------------------------------------------------------------------------- licences
def test_the_tags_carry_the_non_commercial_terms_everywhere():
    from zoo.cli import format_pretrained_table, pretrained_rows
    from zoo.publish import render_model_card
    from zoo.weights import PretrainedWeights, get_weights

    rows = {r["tag"]: r for r in pretrained_rows()}
    table = format_pretrained_table(list(rows.values()))
    readme = (REPO / "docs" / "models.md").read_text()  # the generated tag table (benchmarks.table)
    for tag in TAGS:
        entry = get_weights(tag)
        assert entry.licence == "other" and "non-commercial" in rows[tag]["licence"]
        assert entry.canonical.url.startswith("https://github.com/bryandlee/animegan2-pytorch/raw/")
        assert any(tag in line and "non-commercial" in line for line in table.splitlines())
        assert any(f"`{tag}`" in line and "non-commercial" in line for line in readme.splitlines())
        card = render_model_card("animeganv2", {}, "0" * 64, entry=entry)
        assert "license: other" in card and "license_link: https://github.com/TachibanaYoshino/AnimeGANv2" in card
        assert "| licence | other: non-commercial use only" in card
    with pytest.raises(ValueError, match="licence 'other' needs licence_terms"):
        PretrainedWeights(tag="x", name="animeganv2.x", arch="animeganv2", description="", licence="other",
                          training_data="", repo_id="a/b", recipe="recipes/x.yaml").validate()
