"""Every network with an original implementation gives that implementation's picture, at every size and on
every path a user takes (issue 11).

The originals are restated in ``tests/originals.py`` (file and commit cited there); they get random weights in
their own layout, and the zoo gets the same weights through its importers, its pretrained tags (served from
a local cache, offline), ``torch.hub.load`` and ``zoo convert``. Sizes are odd on purpose (70x90, 257x131,
9x13): at multiples of 4 (8 for AdaIN) padding would not have shown. Pictures are compared in [0, 1].
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import REPO, make_image, offline_cache
from PIL import Image

import originals
from zoo.families import FAMILIES
from zoo.options import families_taking
from zoo.nets.adain import AdaINNet, convert_pytorch_adain_state_dict, pytorch_adain_config
from zoo.nets.cyclegan import ResnetGenerator, config_from_official_state_dict, convert_official_state_dict
from zoo.nets.johnson import TransformerNet, convert_fast_neural_style_state_dict, fast_neural_style_config

TOL = 1e-4
ODD = [(70, 90), (257, 131), (9, 13)]
SIZES = ODD + [(64, 48)]  # and one multiple of 8
TAGS = {"johnson": "johnson_candy", "adain": "adain_original", "cyclegan": "cyclegan_horse2zebra"}


def _image(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    """A smooth picture with some noise, in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, max(2, h // 8), max(2, w // 8), generator=g)
    x = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return (0.8 * x + 0.2 * torch.rand(n, 3, h, w, generator=g)).clamp(0, 1)


@dataclass
class Family:
    """One family's original (weights in its own layout) and the zoo network made from them."""

    name: str
    original: Callable[[torch.Tensor], torch.Tensor]  # RGB [0, 1] -> the original's picture (possibly larger)
    zoo: torch.nn.Module                              # RGB [0, 1] -> RGB [0, 1], same size
    files: dict[str, Path]                            # the original's files, as published
    style: torch.Tensor | None = None                 # AdaIN's style image


def _johnson(root: Path) -> Family:
    orig = originals.randomize(originals.FastNeuralStyleNet(), seed=1)
    with torch.no_grad():  # spread the 0-255 output over the range, so the clamp does not hide differences
        orig.deconv3.conv2d.weight.mul_(40.0)
        orig.deconv3.conv2d.bias.add_(128.0)
    sd = orig.state_dict()
    net = TransformerNet(**fast_neural_style_config())
    net.load_state_dict(convert_fast_neural_style_state_dict(sd))
    torch.save(sd, root / "candy.pth")
    return Family("johnson", lambda x: originals.fast_neural_style_stylize(orig, x), net.eval(),
                  {"pth": root / "candy.pth"})


def _adain(root: Path) -> Family:
    vgg = originals.randomize(originals.adain_vgg(), seed=2)
    decoder = originals.randomize(originals.adain_decoder(), seed=3)
    with torch.no_grad():  # keep the decoded picture mostly inside (0, 1), so the clamp does not hide differences
        decoder[-1].weight.mul_(0.05)
        decoder[-1].bias.fill_(0.5)
    torch.save(vgg.state_dict(), root / "vgg_normalised.pth")
    torch.save(decoder.state_dict(), root / "decoder.pth")
    net = AdaINNet(**{**pytorch_adain_config(), "backbone_weights": str(root / "vgg_normalised.pth")})
    net.load_state_dict(convert_pytorch_adain_state_dict(decoder.state_dict()))
    style = _image(1, 43, 37, seed=9)

    def original(x: torch.Tensor) -> torch.Tensor:
        return originals.adain_style_transfer(vgg, decoder, x, style.expand(x.shape[0], -1, -1, -1))

    class WithStyle(torch.nn.Module):  # the zoo network with the style bound, as the tests call the others
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x, style)

    return Family("adain", original, WithStyle().eval(),
                  {"pth": root / "decoder.pth", "vgg": root / "vgg_normalised.pth"}, style)


def _cyclegan(root: Path, ngf: int = 8, n_blocks: int = 2) -> Family:
    orig = originals.randomize(originals.CycleGANGenerator(ngf, n_blocks), seed=4)
    sd = orig.state_dict()
    converted = convert_official_state_dict(sd)
    net = ResnetGenerator(**config_from_official_state_dict(converted))
    net.load_state_dict(converted)
    torch.save(sd, root / "latest_net_G.pth")
    return Family("cyclegan", lambda x: originals.cyclegan_translate(orig, x), net.eval(),
                  {"pth": root / "latest_net_G.pth"})


@pytest.fixture(scope="module", params=["johnson", "adain", "cyclegan"])
def family(request, tmp_path_factory) -> Family:
    root = tmp_path_factory.mktemp(request.param)
    return {"johnson": _johnson, "adain": _adain, "cyclegan": _cyclegan}[request.param](root)


def _check(family: Family, x: torch.Tensor, ours: torch.Tensor) -> None:
    """``ours`` is the original's picture of ``x``, cropped to x's size, within TOL."""
    ref = family.original(x)
    h, w = x.shape[-2:]
    assert ref.shape[-2] >= h and ref.shape[-1] >= w
    ref = ref[..., :h, :w]
    inside = ((ref > 0.01) & (ref < 0.99)).float().mean()
    assert inside > 0.5, f"the comparison would be dominated by the clamp ({inside:.2f} inside)"
    assert ours.shape == x.shape
    torch.testing.assert_close(ours, ref, atol=TOL, rtol=0)


# ----------------------------------------------------------------------------------------- the networks
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_network_gives_the_originals_picture(family, size):
    x = _image(1, *size, seed=size[0])
    with torch.no_grad():
        _check(family, x, family.zoo(x))


def test_batch_of_two_equals_the_original(family):
    x = _image(2, 37, 45, seed=5)
    with torch.no_grad():
        _check(family, x, family.zoo(x))


def test_the_original_is_larger_at_odd_sizes_and_we_crop(family):
    """What was wrong before: the original's output covers more than the input, and padding the input to a
    multiple of the stride changes the instance statistics, so the picture differed by up to 0.4."""
    m = 8 if family.name == "adain" else 4
    x = _image(1, 70, 90, seed=1)
    ref = family.original(x)
    assert tuple(ref.shape[-2:]) == (-(-70 // m) * m, -(-90 // m) * m)
    padded = F.pad(x, (0, ref.shape[-1] - 90, 0, ref.shape[-2] - 70), mode="replicate")
    assert (family.original(padded)[..., :70, :90] - ref[..., :70, :90]).abs().max() > 1e-2


def test_below_the_originals_minimum_the_image_is_padded_by_repetition(family):
    """The originals raise on sides under their minimum (5 px; 9 px for AdaIN); the zoo repeats the last
    row/column up to that minimum, runs the network and crops: documented in docs/usage.md."""
    small = originals.MIN_SIZE[family.name] - 1
    x = _image(1, small, 13, seed=6)
    with pytest.raises(RuntimeError):
        family.original(x)
    with torch.no_grad():
        ours = family.zoo(x)
    padded = F.pad(x, (0, 0, 0, 1), mode="replicate")
    torch.testing.assert_close(ours, family.original(padded)[..., :small, :13], atol=TOL, rtol=0)


@pytest.fixture(scope="module", params=["johnson", "cyclegan"])
def fast_family(request, tmp_path_factory) -> Family:
    """The families with a ``forward_fast`` (AdaIN's fast path is its decoder without autograd on CPU, so
    every AdaIN test here runs it; tests/test_adain.py compares it with the plain decoder)."""
    return {"johnson": _johnson, "cyclegan": _cyclegan}[request.param](tmp_path_factory.mktemp(request.param))


@pytest.mark.parametrize("size", [*SIZES, (17, 21), (33, 130)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_forward_fast_gives_the_originals_picture(fast_family, size):
    """``forward_fast``, what ``zoo stylize`` runs on CPU, is the original's picture too, batch of two, at
    odd sizes and under its 16 px fallback (9x13)."""
    x = _image(2, *size, seed=8)
    _check(fast_family, x, fast_family.zoo.forward_fast(x))


# ----------------------------------------------------------------------------------------- tiles
# the families with a network that declare --tile (Gatys optimises the picture: tests/test_gatys_tiled.py)
TILED = [n for n in families_taking("tile") if FAMILIES.get(n).network]


def _tiny(name: str) -> torch.nn.Module:
    if name == "johnson":
        return originals.randomize(TransformerNet(channels=[4, 8, 8], num_residual=1), seed=23)
    if name == "cyclegan":
        return originals.randomize(ResnetGenerator(ngf=4, n_blocks=1), seed=24)
    if name == "animeganv2":
        from zoo.nets.animeganv2 import AnimeGANv2Generator

        return originals.randomize_animeganv2(AnimeGANv2Generator(), seed=27)
    if name == "adain":
        net = AdaINNet(backbone_weights="none", unbiased_std=True)  # pytorch-AdaIN's unbiased variance
        originals.randomize(net.decoder, seed=28)
        with torch.no_grad():  # the picture mostly inside (0, 1), so the clamp does not hide differences
            net.decoder.conv1_1.weight.mul_(0.05)
            net.decoder.conv1_1.bias.fill_(0.5)
        return net.eval()
    raise AssertionError(f"family {name!r} declares --tile: give it a tiny network here")


def _tiled(name: str, net: torch.nn.Module, x: torch.Tensor, tile: int, margin: int) -> tuple:
    """(untiled, tiled) pictures of ``x`` through the Python API a user calls for ``name``."""
    from zoo.tiling import tiled_apply_exact

    if name != "adain":
        return net(x), tiled_apply_exact(net, x, tile, margin, net.tile_align)
    from zoo.nets.adain_tiled import tiled_adain

    style = _image(1, 43, 37, seed=29)
    return net(x, style), tiled_adain(net, x, [net.encode_style(style)], tile, margin=margin).clamp(0, 1)


@pytest.mark.parametrize("name", TILED)
def test_tiles_give_the_untiled_picture(name):
    """--tile: every global operation (instance norm, layer norm, AdaIN) gets the whole image's statistics,
    so the tiled picture is the untiled one (docs: within 1e-4); with too little margin around the tiles it
    would not be. Odd sizes, the smallest tile, a batch of two."""
    from zoo.tiling import min_tile

    net = _tiny(name)
    margin, align = net.tile_margin(), net.tile_align
    tile = min_tile(margin, align) + 4 * align
    x = _image(2, tile + 1, 13, seed=25)  # 3 or 4 windows along H, starting on multiples of `align`
    assert tile + 1 > 2 * (tile - 2 * margin)
    with torch.no_grad():
        full, tiled = _tiled(name, net, x, tile, margin)
        torch.testing.assert_close(tiled, full, atol=TOL, rtol=0)
        short = _tiled(name, net, x, tile, margin // 2 // align * align)[1]
    assert (short - full).abs().max() > 1e-3


def test_adain_tiles_give_the_originals_picture(tmp_path):
    """AdaIN at 257 x 131 in the smallest tiles (5 x 3 windows of 192 px, each own region 64 px): the content's
    relu4_1 mean and unbiased variance collected tile by tile, so the picture is pytorch-AdaIN's (restated in
    tests/originals.py), and the API's ``tile=`` gives it with masks too."""
    family = _adain(tmp_path)
    net = family.zoo.net
    x = _image(1, 257, 131, seed=30)
    tile = net.min_tile()
    assert tile == 192 and 131 > tile - 2 * net.tile_margin()  # really tiled along both sides
    with torch.no_grad():
        _check(family, x, net(x, family.style, tile=tile))
        # masks travel with the tiles: a left and a right region with their own styles (4 x 2 windows)
        x = _image(1, 209, 75, seed=32)
        left = torch.zeros(1, 1, 209, 75)
        left[..., :40] = 1
        masks = torch.cat([left, 1 - left])
        other = _image(1, 30, 41, seed=31)
        whole = net(x, [family.style, other], masks=masks, alpha=0.8)
        torch.testing.assert_close(net(x, [family.style, other], masks=masks, alpha=0.8, tile=tile), whole,
                                   atol=TOL, rtol=0)


def test_zoo_stylize_tile_gives_the_untiled_picture(run, tmp_path):
    from zoo.tiling import min_tile

    net = _tiny("johnson")
    net.save_pretrained(tmp_path / "tiny")
    src = make_image(tmp_path / "in.png", (70, 101), seed=26)
    tile = min_tile(net.tile_margin())
    result = run("-m", "zoo", "stylize", str(src), "--model", "johnson", "--weights", str(tmp_path / "tiny"),
                 "--tile", str(tile), "-o", str(tmp_path / "out.png"), "--quiet")
    assert result.returncode == 0, result.stderr
    with torch.no_grad():
        _same_8bit(tmp_path / "out.png", net(_read(src)))
    small = run("-m", "zoo", "stylize", str(src), "--model", "johnson", "--weights", str(tmp_path / "tiny"),
                "--tile", str(tile - 1), "-o", str(tmp_path / "small.png"), "--quiet")
    assert small.returncode != 0 and f"--tile must be at least {tile}" in small.stderr
    assert small.stderr.strip().count("\n") == 0 and not (tmp_path / "small.png").exists()


def test_zoo_stylize_adain_tile_with_masks_and_on_a_clip_gives_the_untiled_picture(run, tmp_path):
    """`zoo stylize --model adain --tile 192 --masks ...` (a subprocess) writes the untiled picture; a tile
    under the smallest is refused in one line naming --tile, before any file is written; the clip API
    (:func:`zoo.video.stylize_frames`) takes ``tile`` too."""
    from zoo.video import stylize_frames

    net = _tiny("adain")
    net.save_pretrained(tmp_path / "tiny")
    src = make_image(tmp_path / "in.png", (75, 201), seed=33)  # (width, height): 4 x 2 windows of 192 px
    styles = [make_image(tmp_path / "s1.png", (30, 40), seed=34), make_image(tmp_path / "s2.png", (41, 29), seed=35)]
    left = np.zeros((201, 75), np.uint8)
    left[:, :33] = 255
    Image.fromarray(left).save(tmp_path / "a.png")
    Image.fromarray(255 - left).save(tmp_path / "b.png")
    args = ["-m", "zoo", "stylize", str(src), "--model", "adain", "--weights", str(tmp_path / "tiny"),
            "--style", *map(str, styles), "--masks", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--quiet"]
    result = run(*args, "--tile", "192", "-o", str(tmp_path / "out.png"))
    assert result.returncode == 0, result.stderr
    x, ss = _read(src), [_read(p) for p in styles]
    masks = torch.from_numpy(np.stack([left, 255 - left]) / 255.0).float()[:, None]
    with torch.no_grad():
        _same_8bit(tmp_path / "out.png", net(x, ss, masks=masks))
    small = run(*args, "--tile", "191", "-o", str(tmp_path / "small.png"))
    assert small.returncode != 0 and not (tmp_path / "small.png").exists()
    assert small.stderr.strip() == ("error: --tile must be at least 192 pixels for this adain network "
                                    "(a 64-pixel margin on each side), got 191")
    frames = [_image(1, 200, 40, seed=36), _image(1, 200, 40, seed=37)]
    out = list(stylize_frames(iter(frames), "adain", ss[:1], weights=str(tmp_path / "tiny"), tile=192, device="cpu"))
    with torch.no_grad():
        for frame, y in zip(frames, out):
            torch.testing.assert_close(y, net(frame, ss[0]), atol=TOL, rtol=0)


# Exports compute what the network computes at odd sizes, and from_pretrained is strict: for every
# published network in tests/test_nets_contract.py.


def test_adain_transfer_is_forward_and_the_original(family):
    if family.name != "adain":
        pytest.skip("AdaIN only")
    x = _image(1, 70, 90, seed=13)
    with torch.no_grad():
        torch.testing.assert_close(family.zoo.net.transfer(x, family.style), family.zoo(x), atol=0, rtol=0)
        _check(family, x, family.zoo.net.transfer(x, family.style))


# ----------------------------------------------------------------------------------------- AdaIN options
@pytest.fixture(scope="module")
def adain(tmp_path_factory) -> Family:
    return _adain(tmp_path_factory.mktemp("adain-options"))


def test_adain_alpha_and_interpolation_are_the_originals(adain):
    net = adain.zoo.net
    x = _image(1, 41, 53, seed=14)
    styles = [_image(1, 43, 37, seed=15), _image(1, 43, 37, seed=16)]
    vgg, decoder = _adain_parts(adain)
    with torch.no_grad():
        ours = net(x, styles[0], alpha=0.6)
        ref = originals.adain_style_transfer(vgg, decoder, x, styles[0], alpha=0.6)
        torch.testing.assert_close(ours, ref[..., :41, :53], atol=TOL, rtol=0)
        # test.py: weights given as integers, normalised to sum 1; one content image repeated per style
        ours = net(x, styles, style_weights=[1, 3])
        ref = originals.adain_style_transfer(vgg, decoder, x.expand(2, -1, -1, -1), torch.cat(styles),
                                             interpolation_weights=[0.25, 0.75])
        torch.testing.assert_close(ours, ref[..., :41, :53], atol=TOL, rtol=0)


def test_adain_coral_is_pytorch_adains_preserve_color(adain):
    from zoo.color import coral

    vgg, decoder = _adain_parts(adain)
    x, style = _image(1, 41, 53, seed=17), _image(1, 50, 30, seed=18)
    torch.testing.assert_close(coral(style, x)[0], originals.coral(style[0], x[0]), atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        ours = adain.zoo.net(x, style, preserve_color="coral")
        ref = originals.adain_style_transfer(vgg, decoder, x, originals.coral(style[0], x[0])[None])
        torch.testing.assert_close(ours, ref[..., :41, :53], atol=TOL, rtol=0)
        # and it is not Gatys et al.'s histogram matching, which is a different picture
        assert (adain.zoo.net(x, style, preserve_color="histogram") - ours).abs().max() > 1e-3


def _adain_parts(family: Family):
    """The original vgg and decoder inside ``family.original``."""
    vgg = originals.adain_vgg()
    vgg.load_state_dict(torch.load(family.files["vgg"], weights_only=True))
    decoder = originals.adain_decoder()
    decoder.load_state_dict(torch.load(family.files["pth"], weights_only=True))
    return vgg.eval(), decoder.eval()


# ----------------------------------------------------------------------------------------- user paths
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The three families' original files placed where the pretrained tags look for them (offline): the
    canonical download paths, and pytorch-AdaIN's vgg_normalised.pth in torch's checkpoint cache."""
    from test_download import CAFFE_VGG19, pinned_stand_ins
    from zoo import download

    root = tmp_path_factory.mktemp("served")
    fams = {"johnson": _johnson(root), "adain": _adain(root), "cyclegan": _cyclegan(root, ngf=64, n_blocks=9)}
    # pytorch-AdaIN's files are pinned to the published ones' sha256: pin them to the stand-ins' instead
    stand_ins = {TAGS["adain"]: fams["adain"].files["pth"].read_bytes(), CAFFE_VGG19: fams["adain"].files["vgg"].read_bytes()}
    with offline_cache(root) as env, pinned_stand_ins(stand_ins, root / "site") as pin_env:
        env.update(pin_env)
        for name, fam in fams.items():
            dst = download.canonical_download_path(TAGS[name])
            dst.parent.mkdir(parents=True, exist_ok=True)
            if name == "johnson":  # pytorch/examples' saved_models.zip
                with zipfile.ZipFile(dst, "w") as zf:
                    zf.write(fam.files["pth"], "saved_models/candy.pth")
            else:
                dst.write_bytes(fam.files["pth"].read_bytes())
        # every official CycleGAN file is the same generator layout: one more tag, served the same way
        download.canonical_download_path("cyclegan_style_monet").write_bytes(fams["cyclegan"].files["pth"].read_bytes())
        (dst.parent / "vgg_normalised.pth").write_bytes(fams["adain"].files["vgg"].read_bytes())
        yield fams, env


@pytest.mark.parametrize("name, tag", [*TAGS.items(), ("cyclegan", "cyclegan_style_monet")])
def test_create_model_and_torch_hub_give_the_originals_picture(served, name, tag):
    import zoo

    fams, _ = served
    fam = fams[name]
    x = _image(2, 70, 90, seed=19)
    nets = [zoo.create_model(tag, pretrained=True)]
    nets.append(torch.hub.load(str(REPO), tag, source="local", pretrained=True))
    for net in nets:
        with torch.no_grad():
            _check(fam, x, net(x, fam.style) if name == "adain" else net(x))
    if name == "adain":
        assert nets[0].unbiased_std  # the tag computes pytorch-AdaIN's statistics


def _read(path: Path) -> torch.Tensor:
    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1)[None]


def _same_8bit(ours_file: Path, ref: torch.Tensor) -> None:
    """The saved picture is the reference rounded to 8 bits (one level where the two straddle a rounding
    boundary: the float pictures agree within TOL)."""
    ours = _read(ours_file)
    expected = (ref.clamp(0, 1) * 255).round() / 255
    diff = (ours - expected).abs()
    assert ours.shape == expected.shape
    assert diff.max() <= 1 / 255 + 1e-6 and (diff > 0).float().mean() < 0.01


@pytest.mark.parametrize("name", list(TAGS))
def test_zoo_stylize_folder_and_file_give_the_originals_picture(served, name, run, offline_env, tmp_path):
    fams, env = served
    offline_env.update(env)
    fam = fams[name]
    folder = tmp_path / "in"
    files = [make_image(folder / "a.png", (90, 70), seed=20), make_image(folder / "b.png", (131, 57), seed=21)]
    style = []
    if name == "adain":
        Image.fromarray((fam.style[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(tmp_path / "s.png")
        style = ["--style", str(tmp_path / "s.png")]
        fam_style = _read(tmp_path / "s.png")
    many = run("-m", "zoo", "stylize", str(folder), "--model", TAGS[name], *style, "-o", str(tmp_path / "out"), "--quiet")
    assert many.returncode == 0, many.stderr
    checks = [(files[0], tmp_path / "out" / "a.png"), (files[1], tmp_path / "out" / "b.png")]
    if name == "johnson":  # one image to one file: the same stylizer as the folder path
        one = run("-m", "zoo", "stylize", str(files[0]), "--model", TAGS[name], "-o", str(tmp_path / "one.png"), "--quiet")
        assert one.returncode == 0, one.stderr
        checks.append((files[0], tmp_path / "one.png"))
    for src, out in checks:
        x = _read(src)
        if name == "adain":
            vgg, decoder = _adain_parts(fam)
            ref = originals.adain_style_transfer(vgg, decoder, x, fam_style)
        else:
            ref = fam.original(x)
        _same_8bit(out, ref[..., :x.shape[-2], :x.shape[-1]])


def test_zoo_convert_then_load_gives_the_originals_picture(family, run, tmp_path):
    import zoo

    name = family.name
    model = name  # the family
    extra = ["--backbone-weights", str(family.files["vgg"])] if name == "adain" else []
    out = tmp_path / "converted"
    result = run("-m", "zoo", "convert", str(family.files["pth"]), "--model", model, *extra, "-o", str(out))
    assert result.returncode == 0, result.stderr
    net = zoo.create_model(name, pretrained=out)
    x = _image(1, 70, 90, seed=22)
    with torch.no_grad():
        _check(family, x, net(x, family.style) if name == "adain" else net(x))


# ----------------------------------------------------------------------------------------- configs, loading
@pytest.mark.parametrize("tag", [t for t in TAGS.values()])
def test_converted_tag_config_is_the_converters(tag):
    """The config in zoo/weights.py equals the one the converter's own path builds (all arguments)."""
    import inspect

    from zoo.families import FAMILIES
    from zoo.weights import WEIGHTS

    entry = WEIGHTS.get(tag)
    if entry.arch == "johnson":
        produced = fast_neural_style_config()
    elif entry.arch == "adain":
        produced = pytorch_adain_config()
    else:
        produced = config_from_official_state_dict(convert_official_state_dict(ResnetGenerator().state_dict()))
    cls = {"johnson": TransformerNet, "adain": AdaINNet, "cyclegan": ResnetGenerator}[entry.arch]
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    assert {**defaults, **entry.config} == {**defaults, **produced}
    assert isinstance(FAMILIES[entry.arch].build_network(**entry.config_dict()), cls)
