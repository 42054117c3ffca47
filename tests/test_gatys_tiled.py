"""Gatys at high resolution: the loss and gradient in tiles (zoo/gatys_tiled.py) equal the untiled ones, the
optimisation with --tile equals the untiled one step by step, and too small a tile is refused in one line."""

from __future__ import annotations

import pytest
import torch

import zoo.gatys_tiled as gt
from zoo.backbone import VGGEncoder
from zoo.gatys import DEFAULT_LOSSES, check_losses, compute_loss, compute_targets, guided_losses, resize, resize_long
from zoo.losses import build_losses

SIZE = (301, 97)  # odd; 3 windows of 288 px along H (own regions of 128 px, 80-pixel margins)


def _rand(*shape, seed):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def setup():
    content, style = _rand(1, 3, *SIZE, seed=1), _rand(1, 3, 150, 200, seed=2)
    style2 = _rand(1, 3, 120, 90, seed=3)
    left = torch.zeros(1, 1, *SIZE)
    left[..., :120, :] = 1
    masks = [(left, None), (1 - left, (torch.arange(90.0) < 50).float().expand(1, 1, 120, 90))]
    return content, [style, style2], masks


def _case(losses_spec, content, styles, masks, tile=288):
    losses = build_losses(losses_spec)
    layers = check_losses(losses)
    torch.manual_seed(0)
    enc = VGGEncoder(arch="vgg19", weights="none", pool="avg", layers=layers).eval().requires_grad_(False)
    weights = [1.0] * len(styles) if masks is None else [1.0] * len(styles)
    untiled_targets = compute_targets(enc, losses, layers, content, styles, weights, SIZE, masks=masks)
    x = (0.7 * content + 0.3 * _rand(1, 3, *SIZE, seed=4)).requires_grad_()
    loss, _ = compute_loss(enc, losses, layers, x, untiled_targets)
    loss.backward()
    tiled = gt.TiledLoss(enc, losses, layers, tile)
    targets = tiled.targets(resize(content, SIZE), [resize_long(s, max(SIZE)) for s in styles], weights, masks)
    t_loss, _, t_grad = tiled.loss_and_grad(x.detach(), targets)
    return loss.detach(), x.grad, t_loss, t_grad


@pytest.mark.parametrize("guided", [False, True], ids=["gram", "masks"])
def test_loss_and_gradient_in_tiles_are_the_untiled_ones(setup, guided, monkeypatch):
    """Exact Gram (and guided Gram) sums collected tile by tile and each window's share of the gradient: the
    whole image's loss and gradient (relative 1e-5); with half the margin they are not."""
    content, styles, masks = setup
    spec = guided_losses(DEFAULT_LOSSES) if guided else DEFAULT_LOSSES
    styles, masks = (styles, masks) if guided else (styles[:1], None)
    loss, grad, t_loss, t_grad = _case(spec, content, styles, masks)
    assert abs(float(t_loss) - float(loss)) <= 1e-5 * float(loss)
    scale = float(grad.abs().max())
    assert float((t_grad - grad).abs().max()) <= 1e-5 * scale
    if not guided:
        monkeypatch.setattr(gt, "MARGIN", 16)
        short = _case(spec, content, styles, masks)[3]
        assert float((short - grad).abs().max()) > 1e-3 * scale, float((short - grad).abs().max()) / scale


def test_every_step_of_the_untiled_optimisation_has_the_tiled_loss_and_gradient():
    """Along an untiled L-BFGS run (4 steps), the tiled loss and gradient at each iterate are the untiled ones
    (relative 1e-5); `zoo.stylize(..., tile=288)` gives the untiled picture after one step within 1e-4. (Later
    L-BFGS steps amplify float rounding -- the first step is scaled to |g|_1 = 1, so its gradient difference is
    mostly rounding -- and the pictures drift apart by about 2e-4 after two steps, as much as a change of the
    summation order does; the loss and gradient of each step stay equal.)"""
    import zoo

    content, style = _rand(1, 3, *SIZE, seed=5), _rand(1, 3, 80, 90, seed=6)
    losses = build_losses(DEFAULT_LOSSES)
    layers = check_losses(losses)
    enc = VGGEncoder(arch="vgg19", weights="none", pool="avg", layers=layers).eval().requires_grad_(False)
    targets = compute_targets(enc, losses, layers, content, [style], [1.0], SIZE)
    tiled = gt.TiledLoss(enc, losses, layers, 288)
    t_targets = tiled.targets(content, [resize_long(style, max(SIZE))], [1.0])
    param = torch.nn.Parameter(content.clone())
    opt = torch.optim.LBFGS([param], lr=1.0, max_iter=1, history_size=50)

    def closure():
        opt.zero_grad()
        loss = compute_loss(enc, losses, layers, param, targets)[0]
        loss.backward()
        return loss

    for _ in range(4):
        loss = closure()
        t_loss, _, t_grad = tiled.loss_and_grad(param.detach(), t_targets)
        assert abs(float(t_loss) - float(loss)) <= 1e-5 * float(loss)
        assert float((t_grad - param.grad).abs().max()) <= 1e-5 * float(param.grad.abs().max())
        opt.step(closure)
    kw = dict(model="gatys", backbone_weights="none", progress=False, seed=0, device="cpu", steps=1)
    torch.testing.assert_close(zoo.stylize(content, [style], tile=288, **kw), zoo.stylize(content, [style], **kw),
                               atol=1e-4, rtol=0)


def test_too_small_a_tile_is_refused_in_one_line(run, tmp_path):
    from conftest import make_image

    src, style = make_image(tmp_path / "c.png", (40, 30), seed=1), make_image(tmp_path / "s.png", (30, 30), seed=2)
    r = run("-m", "zoo", "stylize", str(src), "--model", "gatys", "--weights", "random", "--style", str(style),
            "--tile", "200", "-o", str(tmp_path / "o.png"))
    assert r.returncode != 0 and not (tmp_path / "o.png").exists()
    assert r.stderr.strip() == ("error: --tile must be at least 288 pixels for this gatys network (a 80-pixel "
                                "margin on each side), got 200")


@pytest.mark.parametrize("name", ["tv", "mean_std", "content_l1"])
def test_a_loss_the_tiles_cannot_compute_is_refused(name):
    """The tiles sum squared content errors and (guided) Gram matrices: an L1 content loss, a TV or a mean/std loss
    is refused by name, before any work (an L1 Gram loss is a Gram loss and tiles)."""
    from zoo.errors import ConfigError

    with pytest.raises(ConfigError, match=f"^--tile: loss '{name}' cannot be tiled"):
        gt.TiledLoss(None, build_losses({"gram_l1": {}, name: {}}), ["relu1_1"], 288)
