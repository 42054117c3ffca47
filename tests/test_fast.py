"""The CPU inference helpers behind the networks' ``forward_fast`` (zoo/nets/fast.py): each is the plain
layer's function within float rounding, at odd and non-square sizes, borders included."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from zoo.nets.fast import cached_weight, fast_norm, is_narrow, is_upsample_conv, narrow_conv2d, upsample_conv2d

CL = torch.channels_last


def _randomize(module: nn.Module, seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((1.0 if p.ndim == 1 and p is getattr(module, "weight", None) else 0.0)
                    + 0.3 * torch.randn(p.shape, generator=g))
    return module


@pytest.mark.parametrize("shape, mean, spread", [((2, 8, 64, 64), 10.0, 0.01), ((2, 4, 1024, 1024), 5.0, 3.0)],
                         ids=["mean-dwarfs-spread", "1024px-batch2"])
def test_fast_norm_is_as_accurate_as_instance_norm(shape, mean, spread):
    """Instance norm in place on channels_last: as accurate as nn.InstanceNorm2d when a channel's mean
    dwarfs its spread (E[x^2] - E[x]^2 would be off by ~10) and on 1024 x 1024 maps (the channels_last
    group-norm kernel, summing in plain float32, was off by ~6e-4 there)."""
    c = shape[1]
    for affine in (False, True):
        norm = _randomize(nn.InstanceNorm2d(c, affine=affine), seed=12)
        g = torch.Generator().manual_seed(13)
        x = mean + spread * torch.randn(shape, generator=g) + torch.linspace(0, 4, shape[-1])  # a ramp across
        ref = F.instance_norm(x.double(), weight=None if not affine else norm.weight.double(),
                              bias=None if not affine else norm.bias.double())
        with torch.no_grad():
            scratch = {}
            out = fast_norm(norm, x.contiguous(memory_format=CL), scratch)
            plain = norm(x)
        assert out.is_contiguous(memory_format=CL) and scratch["squares"].numel() >= x.numel()
        plain_err = (plain.double() - ref).abs().max().item()
        assert (out.double() - ref).abs().max().item() <= max(1e-5, 2 * plain_err), affine


def test_upsample_conv_equals_upsample_pad_conv():
    conv = _randomize(nn.Conv2d(5, 7, 3), seed=14)
    assert is_upsample_conv(conv) and not is_upsample_conv(nn.Conv2d(5, 7, 3, padding=1))
    g = torch.Generator().manual_seed(15)
    for h, w in [(2, 2), (3, 5), (9, 4)]:
        x = torch.randn(2, 5, h, w, generator=g).contiguous(memory_format=CL)
        with torch.no_grad():
            ref = conv(F.pad(F.interpolate(x, scale_factor=2.0, mode="nearest"), (1, 1, 1, 1), mode="reflect"))
            out = upsample_conv2d(conv, x, {})
        assert out.shape == ref.shape == (2, 7, 2 * h, 2 * w)
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kernel, padding, bias", [(7, 0, True), (9, 0, True), (3, 1, False), ((3, 5), (1, 2), True)])
def test_narrow_conv_equals_conv(kernel, padding, bias):
    conv = _randomize(nn.Conv2d(6, 3, kernel, padding=padding, bias=bias), seed=16)
    assert is_narrow(conv)
    g = torch.Generator().manual_seed(17)
    for h, w in [(70, 90), (257, 131), (9, 13)]:
        x = torch.randn(2, 6, h, w, generator=g)
        with torch.no_grad():
            ref = conv(x)
            for fmt in (torch.contiguous_format, CL):
                out = narrow_conv2d(conv, x.contiguous(memory_format=fmt), {})
                assert out.shape == ref.shape
                torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_narrow_is_only_for_few_output_channels_at_stride_one():
    assert is_narrow(nn.Conv2d(64, 3, 7))
    for conv in (nn.Conv2d(64, 16, 7), nn.Conv2d(64, 3, 1), nn.Conv2d(64, 3, 3, stride=2),
                 nn.Conv2d(64, 3, 3, padding=1, padding_mode="reflect"), nn.Conv2d(64, 3, 3, padding="same")):
        assert not is_narrow(conv), conv


def test_cached_weight_follows_in_place_changes_and_new_parameters():
    conv = nn.Conv2d(2, 2, 3)
    cache, calls = {}, []

    def make(w):
        calls.append(1)
        return w * 2

    first = cached_weight(conv.weight, cache, "k", make)
    assert cached_weight(conv.weight, cache, "k", make) is first and len(calls) == 1
    with torch.no_grad():
        conv.weight.add_(1.0)  # in place: the version counter moves
    torch.testing.assert_close(cached_weight(conv.weight, cache, "k", make), conv.weight.detach() * 2)
    conv.weight = nn.Parameter(torch.zeros_like(conv.weight))  # a new parameter
    assert cached_weight(conv.weight, cache, "k", make).abs().max() == 0
    assert len(calls) == 3


@pytest.mark.parametrize("make", ["cyclegan", "johnson"])
def test_forward_fast_keeps_only_converted_weights_between_calls(make):
    """The norms' scratch buffer (as large as the largest activation) lives for one pass: a long-lived
    network (the demo, a video) holds only its converted weights after stylising a large picture."""
    from zoo.nets.cyclegan import ResnetGenerator
    from zoo.nets.johnson import TransformerNet

    net = (ResnetGenerator(ngf=4, n_blocks=1) if make == "cyclegan"
           else TransformerNet(channels=[4, 8, 8], num_residual=1)).eval()
    net.forward_fast(torch.rand(1, 3, 96, 80))
    held = sum(t.numel() for _, t in net._fast_weights.values())
    params = sum(p.numel() for p in net.parameters())
    assert 0 < held <= 2 * params  # weights (phase-folded ones are 16/9 as large), no activation-sized buffer
