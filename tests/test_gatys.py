import lightning.pytorch as pl
import pytest
import torch

from zoo.color import match_color, rgb_to_yiq
from zoo.data import GatysData
from zoo.losses import NonFiniteLossError
from zoo.variants.gatys import Gatys

NO_WEIGHTS = {"arch": "vgg19", "weights": "none"}
SMALL_LOSSES = {"content": {"weight": 1.0, "layers": ["relu2_1"]},
                "gram": {"weight": 1e4, "layers": ["relu1_1", "relu2_1"]}}


def _fit(model, dm, steps):
    trainer = pl.Trainer(max_steps=steps, max_epochs=-1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(model, dm)
    return trainer


def _images(seed=123):
    g = torch.Generator().manual_seed(seed)
    content = torch.rand(1, 3, 40, 48, generator=g)
    return content, [torch.rand(1, 3, 32, 32, generator=g), torch.rand(1, 3, 36, 28, generator=g)]


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_optimisation_lowers_the_loss(optimizer):
    content, styles = _images()
    model = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, optimizer=optimizer)
    dm = GatysData.from_tensors(content, styles[:1])
    _fit(model, dm, 1)
    first = model.compute_loss()[0].item()
    model2 = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, optimizer=optimizer)
    _fit(model2, GatysData.from_tensors(content, styles[:1]), 15)
    assert model2.compute_loss()[0].item() < 0.7 * first
    out = model2.result()
    assert out.shape == (1, 3, 40, 48) and out.min() >= 0 and out.max() <= 1


def test_targets_once_per_scale_and_coarse_to_fine_sizes(monkeypatch):
    content, styles = _images()
    model = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, scales=[0.5, 1.0], scale_steps=[3], optimizer="adam")
    calls, sizes = [], []
    original = model._compute_targets
    monkeypatch.setattr(model, "_compute_targets", lambda h, w: calls.append((h, w)) or original(h, w))
    orig_step = model.training_step

    def step(batch, batch_idx):
        out = orig_step(batch, batch_idx)
        sizes.append(tuple(model.image.shape[-2:]))
        return out

    monkeypatch.setattr(model, "training_step", step)
    content = torch.rand(1, 3, 64, 80)
    _fit(model, GatysData.from_tensors(content, styles), 6)
    assert calls == [(32, 40), (64, 80)]
    assert sizes == [(32, 40)] * 3 + [(64, 80)] * 3
    assert model.result().shape == (1, 3, 64, 80)


def test_style_blend_weights():
    content, styles = _images()
    one = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES)
    _fit(one, GatysData.from_tensors(content, styles[:1]), 1)
    both = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES)
    _fit(both, GatysData.from_tensors(content, styles, style_weights=[1.0, 0.0]), 1)
    for layer, g in one._targets["gram"].items():
        assert torch.allclose(both._targets["gram"][layer], g, atol=1e-6)
    mixed = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES)
    _fit(mixed, GatysData.from_tensors(content, styles, style_weights=[1.0, 1.0]), 1)
    assert not torch.allclose(mixed._targets["gram"]["relu1_1"], one._targets["gram"]["relu1_1"])


@pytest.mark.parametrize("init", ["content", "noise", "style"])
def test_initialisation(init):
    content, styles = _images()
    model = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, init=init, optimizer="adam", lr=1e-9)
    _fit(model, GatysData.from_tensors(content, styles[:1]), 1)
    if init == "content":
        assert torch.allclose(model.image.detach(), content, atol=1e-4)
    else:
        assert (model.image.detach() - content).abs().mean() > 0.05


@pytest.mark.parametrize("init", ["content", "style"])
def test_the_callers_images_are_left_as_they_were(init):
    """The image starts as a copy: optimising it in place must not overwrite the caller's content or style
    (it did at the content's own size, and then the colour preservation read the stylised picture)."""
    content, styles = _images()
    styles = [torch.rand(1, 3, 40, 48)]  # the content's size: no resize, which would copy anyway
    before = [content.clone(), styles[0].clone()]
    model = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, init=init)
    _fit(model, GatysData.from_tensors(content, styles), 2)
    assert (model.image.detach() - before[0 if init == "content" else 1]).abs().max() > 1e-3  # it did optimise
    assert torch.equal(content, before[0]) and torch.equal(styles[0], before[1])


def test_preserve_color_luminance_keeps_content_chroma():
    content, styles = _images()
    model = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, preserve_color="luminance")
    _fit(model, GatysData.from_tensors(content.clone(), styles[:1]), 3)  # a clone: `content` stays the original
    out = model.result()
    raw = model.image.detach().clamp(0, 1)
    assert torch.allclose(rgb_to_yiq(out)[:, 0], rgb_to_yiq(raw)[:, 0], atol=0.02)
    inside = (out > 0.01).all(1) & (out < 0.99).all(1)  # where clamping did not bite
    assert torch.allclose(rgb_to_yiq(out)[:, 1:][:, :, inside[0]], rgb_to_yiq(content)[:, 1:][:, :, inside[0]], atol=1e-4)


def test_preserve_color_histogram_recolours_styles():
    content, styles = _images()
    model = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, preserve_color="histogram")
    _fit(model, GatysData.from_tensors(content * 0.3, styles[:1]), 1)
    assert torch.allclose(model._styles[0], match_color(styles[0], content * 0.3))
    assert torch.allclose(model._styles[0].mean((2, 3)), (content * 0.3).mean((2, 3)), atol=1e-3)


def test_non_finite_loss_stops_with_the_step():
    content, styles = _images()
    model = Gatys(backbone=NO_WEIGHTS, losses={"content": {"weight": float("nan"), "layers": ["relu1_1"]}})
    with pytest.raises(NonFiniteLossError, match="loss 'total' is nan at step 0"):
        _fit(model, GatysData.from_tensors(content, styles[:1]), 2)


@pytest.mark.parametrize("kwargs,match", [
    ({"scales": [0.5, 0.8]}, "ending with 1.0"),
    ({"scales": [0.5, 1.0], "scale_steps": []}, "scale_steps needs 1"),
    ({"optimizer": "sgd"}, "'lbfgs' or 'adam'"),
    ({"init": "zeros"}, "init must be"),
    ({"losses": {"cycle": {}}}, "cannot be used by Gatys"),
    ({"preserve_color": "yes"}, "preserve_color must be one of luminance, histogram"),
])
def test_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Gatys(backbone=NO_WEIGHTS, **kwargs)


def test_too_small_scale_is_refused():
    content, styles = _images()
    model = Gatys(backbone=NO_WEIGHTS, losses=SMALL_LOSSES, scales=[0.1, 1.0], scale_steps=[1])
    with pytest.raises(ValueError, match="smaller side must be at least 16 px"):
        _fit(model, GatysData.from_tensors(content, styles[:1]), 3)
