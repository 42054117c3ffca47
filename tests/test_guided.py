"""Gatys spatial control (Gatys et al. 2017, guided Gram matrices): the loss against the authors' notebook and
pystiche's operator restated in tests/originals.py, masks of any size, and `zoo stylize --model gatys --masks`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_image
from PIL import Image

import originals
from zoo.guided import GuidedGramLoss, guided_gram, layer_guides, parse_masks, resize_mask
from zoo.losses import LOSSES, GramLoss, build_losses


def _feats(seed: int, c: int = 6, h: int = 11, w: int = 9) -> torch.Tensor:
    return torch.rand(1, c, h, w, generator=torch.Generator().manual_seed(seed))


def _soft_masks(h: int, w: int) -> torch.Tensor:
    """Two overlapping soft regions (left, right) (2, 1, h, w)."""
    x = torch.linspace(0, 1, w)
    left = (1.2 - 2 * x).clamp(0, 1).expand(h, w)
    return torch.stack([left, 1 - 0.5 * left])[:, None]


def test_guided_gram_is_the_authors_notebook():
    """NeuralImageSynthesis' gram_matrix_guided on guides normalised as there, divided by the channel count
    (the zoo's Gram is F F^T / (C H W), the notebook's F F^T / (H W))."""
    f, masks = _feats(1), _soft_masks(11, 9)
    guides = layer_guides(masks, (11, 9))
    guides_np = originals.nis_normalise_guides(masks[:, 0].double().numpy())
    ref = originals.nis_gram_matrix_guided(f[0].double().numpy(), guides_np)
    ours = torch.stack([guided_gram(f, guides[r:r + 1])[0] for r in range(2)]).double()
    np.testing.assert_allclose(ours.numpy() * f.shape[1], ref, rtol=1e-5, atol=1e-7)


def test_guided_gram_is_pystiches_operator_with_the_guide_normalised():
    f, masks = _feats(2, c=4, h=7, w=13), _soft_masks(7, 13)
    for r in range(2):
        t = masks[r:r + 1]
        ref = originals.pystiche_guided_gram(f, t) / t.pow(2).mean() / f.shape[1]
        torch.testing.assert_close(guided_gram(f, layer_guides(t, (7, 13))), ref, rtol=1e-5, atol=1e-7)


def test_one_white_mask_is_the_plain_gram_loss_and_regions_differ():
    """A region covering everything is the paper's unguided style loss (GramLoss); two regions with their own
    style images give another loss, with each style weighted 1/R."""
    assert LOSSES.get("guided_gram") is GuidedGramLoss and "guided_gram" in build_losses({"guided_gram": {}})
    layers = ["relu1_1", "relu2_1"]
    out = {"relu1_1": _feats(3, h=12, w=10), "relu2_1": _feats(4, h=6, w=5)}
    s1 = {"relu1_1": _feats(5, h=9, w=8), "relu2_1": _feats(6, h=5, w=4)}
    s2 = {"relu1_1": _feats(7, h=10, w=10) * 2, "relu2_1": _feats(8, h=5, w=5) * 2}
    sizes = {k: tuple(v.shape[-2:]) for k, v in out.items()}
    guided, plain = GuidedGramLoss(weight=3.0, layers=layers), GramLoss(weight=3.0, layers=layers)
    white = torch.ones(1, 1, 24, 20)
    target = guided.guided_target(sizes, white, [s1], [None])
    torch.testing.assert_close(guided(out, target), plain(out, plain.target(s1)))
    masks = _soft_masks(24, 20)
    two = guided.guided_target(sizes, masks, [s1, s2], [None, None])
    g = {k: [guided_gram(out[k], layer_guides(masks, sizes[k])[r:r + 1]) for r in range(2)] for k in layers}
    expected = 3.0 * sum(sum(torch.nn.functional.mse_loss(g[k][r], guided_gram(s[k], torch.ones(1, 1, 1, 1)))
                             for r, s in enumerate([s1, s2])) / 2 for k in layers)
    torch.testing.assert_close(guided(out, two), expected)
    # a style region: only the masked part of the style image's features makes the target
    half = torch.zeros(1, 1, 10, 10)
    half[..., :5] = 1
    region = guided.guided_target(sizes, masks, [s1, s2], [None, half])
    assert not torch.allclose(region["relu1_1"][1], two["relu1_1"][1])
    torch.testing.assert_close(region["relu1_1"][1][1], guided_gram(s2["relu1_1"], layer_guides(half, (10, 10))))


def test_masks_of_any_size_are_resized_and_normalised(tmp_path):
    """A 5 x 7 mask file for a 40 x 30 picture: resized (bilinear, antialiased) to the picture, then to each
    feature map, where its mean square is one; an all-black mask is refused in one line naming it."""
    mask = np.zeros((7, 5), np.uint8)
    mask[:, :2] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    (c, s), = parse_masks([str(tmp_path / "m.png")])
    assert s is None and c.shape == (1, 1, 7, 5)
    big = resize_mask(c, (40, 30))
    assert big.shape == (1, 1, 40, 30) and float(big[..., :, :8].min()) > 0.99 and float(big[..., :, -10:].max()) < 0.01
    g = layer_guides(big, (10, 8))
    assert g.shape == (1, 1, 10, 8) and abs(float(g.pow(2).mean()) - 1) < 1e-5
    Image.fromarray(np.zeros((7, 5), np.uint8)).save(tmp_path / "black.png")
    with pytest.raises(ValueError, match=r"black.png: the mask is empty"):
        parse_masks([str(tmp_path / "black.png")])
    (c, s), = parse_masks([f"{tmp_path / 'm.png'}:{tmp_path / 'm.png'}"])  # CONTENT:STYLE
    assert s is not None and s.shape == c.shape
    with pytest.raises(ValueError, match="no such mask image"):
        parse_masks([str(tmp_path / "missing.png")])


def test_gatys_with_one_white_mask_is_gatys_without_masks():
    """The whole optimisation: one all-white mask for the one style image gives the unmasked picture."""
    import zoo

    content = torch.rand(1, 3, 24, 20, generator=torch.Generator().manual_seed(9))
    style = torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(10))
    kw = dict(model="gatys", steps=3, backbone_weights="none", progress=False, seed=0, device="cpu")
    plain = zoo.stylize(content, [style], **kw)
    masked = zoo.stylize(content, [style], masks=[torch.ones(1, 1, 5, 5)], **kw)
    torch.testing.assert_close(masked, plain, atol=1e-5, rtol=0)


def _two_regions(tmp_path):
    """A content image, two style images, and masks a.png (the left half) and b.png (the rest)."""
    content = make_image(tmp_path / "c.png", (28, 24), seed=1)
    styles = [str(make_image(tmp_path / f"s{i}.png", (20, 20), seed=2 + i)) for i in range(2)]
    left = np.zeros((9, 9), np.uint8)
    left[:, :4] = 255
    Image.fromarray(left).save(tmp_path / "a.png")
    Image.fromarray(255 - left).save(tmp_path / "b.png")
    return content, styles


def test_zoo_stylize_gatys_masks_cli(run, tmp_path):
    """Two regions, two styles (one of them a style region, CONTENT:STYLE) end to end; a mask count that does
    not match the styles, and --masks with --style-weights, are refused in one line, writing nothing."""
    content, styles = _two_regions(tmp_path)
    base = ["-m", "zoo", "stylize", str(content), "--model", "gatys", "--weights", "random", "--steps", "2",
            "--style", *styles, "--quiet"]
    ok = run(*base, "--masks", str(tmp_path / "a.png"), f"{tmp_path / 'b.png'}:{tmp_path / 'a.png'}",
             "-o", str(tmp_path / "out.png"))
    assert ok.returncode == 0, ok.stderr
    assert Image.open(tmp_path / "out.png").size == (28, 24)
    one = run(*base, "--masks", str(tmp_path / "a.png"), "-o", str(tmp_path / "one.png"))
    assert one.returncode != 0 and not (tmp_path / "one.png").exists()
    assert one.stderr.strip() == "error: --masks: 1 masks for 2 style images: give one mask per style"
    both = run(*base, "--masks", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--style-weights", "1,2",
               "-o", str(tmp_path / "both.png"))
    assert both.returncode != 0 and not (tmp_path / "both.png").exists()
    assert both.stderr.strip() == "error: --masks and --style-weights cannot be combined: each mask takes one style"


def test_recipe_takes_masks(run, tmp_path):
    """`python -m zoo.fit recipes/gatys.yaml --model.masks=[...]`: the recipe's LightningModule runs the guided
    Gram loss in place of its gram loss; a missing mask file is one line naming it."""
    from conftest import REPO

    content, styles = _two_regions(tmp_path)
    args = ["-m", "zoo.fit", str(REPO / "recipes/gatys.yaml"), f"--data.content={content}",
            f"--data.style=[{styles[0]}, {styles[1]}]", "--data.size=28", "--model.backbone.weights=none",
            "--trainer.max_steps=2", "--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={tmp_path}"]
    ok = run(*args, f"--model.masks=[{tmp_path / 'a.png'}, {tmp_path / 'b.png'}]",
             f"--model.output={tmp_path / 'o.png'}")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert Image.open(tmp_path / "o.png").size == (28, 24)
    bad = run(*args, f"--model.masks=[{tmp_path / 'nope.png'}, {tmp_path / 'b.png'}]")
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines()[-1] == f"error: --masks {tmp_path / 'nope.png'}: no such mask image"
