import math

import pytest
import torch

from zoo.backbone import VGGEncoder
from zoo.losses import (
    AdversarialLoss, ContentLoss, CycleLoss, GramLoss, IdentityLoss, MeanStdLoss, NonFiniteLossError, TVLoss,
    blend_targets, build_losses, check_finite, feature_layers, gram_matrix, mean_std,
)


def test_gram_matrix_by_hand():
    f = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]).reshape(1, 2, 2, 2)
    expected = torch.tensor([[30.0, 6.0], [6.0, 2.0]]) / 8  # F F^T / (C H W)
    assert torch.allclose(gram_matrix(f)[0], expected)


def test_gram_loss_value_and_layer_weights():
    a = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]).reshape(1, 2, 2, 2)
    loss = GramLoss(weight=2.0, layers=["x", "y"], layer_weights=[1.0, 0.5])
    target = loss.target({"x": torch.zeros_like(a), "y": torch.zeros_like(a)})
    g = torch.tensor([30.0, 6.0, 6.0, 2.0]) / 8
    per_layer = (g ** 2).mean()
    assert torch.allclose(loss({"x": a, "y": a}, target), 2.0 * (1.0 + 0.5) * per_layer)


def test_content_loss_is_weighted_mse():
    a, b = torch.arange(8.0).reshape(1, 2, 2, 2), torch.ones(1, 2, 2, 2)
    loss = ContentLoss(weight=3.0, layers=["relu4_2"])
    assert torch.allclose(loss({"relu4_2": a}, loss.target({"relu4_2": b})), 3.0 * ((a - b) ** 2).mean())


def test_mean_std_by_hand():
    f = torch.tensor([1.0, 3.0, 5.0, 7.0]).reshape(1, 1, 2, 2)
    mean, std = mean_std(f, eps=1e-5)
    assert mean.item() == pytest.approx(4.0)
    assert std.item() == pytest.approx(math.sqrt(5.0 + 1e-5))  # population variance 5
    loss = MeanStdLoss(weight=10.0, layers=["a"])
    target = loss.target({"a": torch.zeros_like(f)})
    expected = 10.0 * (4.0 ** 2 + (math.sqrt(5.0 + 1e-5) - math.sqrt(1e-5)) ** 2)
    assert loss({"a": f}, target).item() == pytest.approx(expected, rel=1e-5)


def test_tv_by_hand():
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    # vertical: (2-0)^2 + (3-1)^2 = 8; horizontal: (1-0)^2 + (3-2)^2 = 2
    assert TVLoss(weight=0.5)(x).item() == pytest.approx(5.0)
    assert TVLoss(weight=1.0)(torch.cat([x, x])).item() == pytest.approx(10.0)  # averaged over the batch


@pytest.mark.parametrize("mode,g,d", [
    ("lsgan", (0.5 - 1) ** 2, 0.5 * ((2.0 - 1) ** 2 + 0.5 ** 2)),
    ("vanilla", -math.log(1 / (1 + math.exp(-0.5))),
     0.5 * (-math.log(1 / (1 + math.exp(-2.0))) - math.log(1 - 1 / (1 + math.exp(-0.5))))),
    ("hinge", -0.5, 0.5 * (0.0 + 1.5)),
])
def test_adversarial_sides_by_hand(mode, g, d):
    loss = AdversarialLoss(weight=2.0, mode=mode)
    real, fake = torch.full((1, 1, 2, 2), 2.0), torch.full((1, 1, 2, 2), 0.5)
    assert loss.generator(fake).item() == pytest.approx(2.0 * g, rel=1e-5)
    assert loss.discriminator(real, fake).item() == pytest.approx(d, rel=1e-5)
    with pytest.raises(ValueError, match="valid: lsgan, vanilla, hinge"):
        AdversarialLoss(mode="wgan")


def test_cycle_and_identity_are_weighted_l1():
    x, y = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.25)
    assert CycleLoss()(x, y).item() == pytest.approx(10 * 0.25)
    assert IdentityLoss(weight=2.0)(x, y).item() == pytest.approx(0.5)


def test_build_losses_from_recipe_spec_and_errors():
    losses = build_losses({"content": {"weight": 1.0, "layers": ["relu4_2"]}, "gram": {"weight": 1e5}, "tv": None})
    assert list(losses) == ["content", "gram", "tv"] and losses["gram"].weight == 1e5
    assert feature_layers(losses) == ["relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    with pytest.raises(KeyError, match=r"unknown loss 'grma'; valid names: .*\bgram\b"):
        build_losses({"grma": {}})
    with pytest.raises(TypeError, match="loss 'tv'"):
        build_losses({"tv": {"layers": ["relu1_1"]}})


def test_blended_target_gives_the_gradient_of_the_weighted_sum():
    torch.manual_seed(0)
    loss = GramLoss(layers=["a"])
    s1, s2 = torch.rand(1, 4, 3, 3), torch.rand(1, 4, 3, 3)
    t1, t2 = loss.target({"a": s1}), loss.target({"a": s2})
    x = torch.rand(1, 4, 3, 3, requires_grad=True)
    (0.25 * loss({"a": x}, t1) + 0.75 * loss({"a": x}, t2)).backward()
    g_sum = x.grad.clone()
    x.grad = None
    loss({"a": x}, blend_targets([t1, t2], [1.0, 3.0])).backward()
    assert torch.allclose(x.grad, g_sum, atol=1e-6)
    with pytest.raises(ValueError, match="non-negative"):
        blend_targets([t1, t2], [1.0, -1.0])


def test_gradients_are_finite_on_constant_images():
    enc = VGGEncoder(weights=None, layers=["relu1_1", "relu2_1"])
    losses = build_losses({"gram": {"layers": ["relu1_1", "relu2_1"]}, "mean_std": {"layers": ["relu1_1", "relu2_1"]},
                           "content": {"layers": ["relu2_1"]}, "tv": {}})
    for value in (0.0, 1.0):
        x = torch.full((1, 3, 16, 16), value, requires_grad=True)
        feats = enc(x)
        style = enc(torch.full((1, 3, 16, 16), 0.5))
        total = sum(l(feats, l.target(style)) if hasattr(l, "target") else l(x) for l in losses.values())
        total.backward()
        assert torch.isfinite(total) and torch.isfinite(x.grad).all()


def test_statistics_are_float32_under_autocast_and_do_not_overflow():
    f = torch.full((1, 8, 64, 64), 300.0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g = gram_matrix(f.bfloat16())
        m, s = mean_std(f.bfloat16())
    assert g.dtype == m.dtype == s.dtype == torch.float32
    half = f.half()
    assert (half.float() @ half.float().transpose(-1, -2)).isfinite().all()
    assert torch.isfinite(gram_matrix(half)).all() and gram_matrix(half)[0, 0, 0].item() == pytest.approx(90000 / 8)


def test_check_finite_names_loss_and_step():
    check_finite({"a": torch.tensor(1.0)}, 3)
    with pytest.raises(NonFiniteLossError, match="loss 'gram' is nan at step 7"):
        check_finite({"a": torch.tensor(1.0), "gram": torch.tensor(float("nan"))}, 7)


@pytest.mark.parametrize("channels_last", [False, True])
def test_gram_matrix_gradient_equals_autograds_of_the_plain_product(channels_last):
    """The one-matmul backward of gram_matrix gives autograd's gradient of F F^T / (CHW), float32 and bf16 in."""
    g = torch.Generator().manual_seed(0)
    for dtype, tol in ((torch.float32, 1e-6), (torch.bfloat16, 1e-6)):
        f = torch.randn(2, 5, 7, 6, generator=g).to(dtype)
        if channels_last:
            f = f.contiguous(memory_format=torch.channels_last)
        f.requires_grad_(True)
        upstream = torch.randn(2, 5, 5, generator=g)
        (gram_matrix(f) * upstream).sum().backward()
        ours, f.grad = f.grad, None
        flat = f.float().reshape(2, 5, 42)
        (torch.bmm(flat, flat.transpose(1, 2)) / (5 * 42) * upstream).sum().backward()
        assert ours.dtype == dtype and ours.shape == f.shape
        assert torch.allclose(ours.float(), f.grad.float(), atol=tol, rtol=1e-5)
        assert ours.abs().max() > 1e-3  # a real gradient, not zeros
