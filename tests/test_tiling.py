"""Exact tiling resumes each pass where the tile's previous pass stopped (``zoo.tiling._Resume``): the picture is
the one passes from the image give, for every family that tiles, with the layers before the last statistic run
once per tile instead of once per pass; what it keeps fits the memory it is given; and a layer that changes its
input in place does not corrupt what is kept."""

from __future__ import annotations

import pytest
import torch
from test_exactness import TILED, TOL, _image, _tiled, _tiny
from torch import nn

import zoo.tiling
from zoo.tiling import min_tile, tile_windows, tiled_apply_exact


def _first_conv(net: nn.Module, x: torch.Tensor, name: str) -> nn.Module | None:
    """The first convolution layer ``net`` runs on ``x`` (the one every pass from the image runs again), if it
    runs any (AdaIN's encoder and decoder run theirs as functions)."""
    order: list[nn.Module] = []
    handles = [m.register_forward_hook(lambda m, *_: order.append(m)) for m in net.modules()
               if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        _tiled(name, net, x, 10**6, 0)  # the untiled picture (one window)
    for h in handles:
        h.remove()
    return order[0] if order else None


def _tiled_only(name: str, net: nn.Module, x: torch.Tensor, tile: int, margin: int, counting: list) -> torch.Tensor:
    """The tiled picture through the API a user calls for ``name``; ``counting[0]`` is True while it is made."""
    if name != "adain":
        counting[0] = True
        return tiled_apply_exact(net, x, tile, margin, net.tile_align)
    from zoo.nets.adain_tiled import tiled_adain

    codes = [net.encode_style(_image(1, 43, 37, seed=29))]  # _tiled's style
    counting[0] = True
    return tiled_adain(net, x, codes, tile, margin=margin).clamp(0, 1)


@pytest.mark.parametrize("name", TILED)
def test_resumed_passes_give_the_picture_of_passes_from_the_image(name, monkeypatch):
    net = _tiny(name)
    margin, align = net.tile_margin(), net.tile_align
    tile = min_tile(margin, align) + 4 * align
    x = _image(1, tile + 3, tile + 9, seed=41)
    windows = len(tile_windows(x.shape[-2], x.shape[-1], tile, margin, align))
    assert windows >= 4
    calls, counting = [], [False]
    first = _first_conv(net, x, name)
    if first is not None:
        first.register_forward_hook(lambda *_: calls.append(1) if counting[0] else None)

    def run() -> tuple[torch.Tensor, int]:
        calls.clear()
        counting[0] = False
        with torch.no_grad():
            return _tiled_only(name, net, x, tile, margin, counting), len(calls)

    with torch.no_grad():
        full = _tiled(name, net, x, tile, margin)[0]
    resumed, resumed_calls = run()
    monkeypatch.setattr(zoo.tiling, "available_memory", lambda device: 0)  # nothing may be kept
    fresh, fresh_calls = run()
    assert torch.equal(resumed, fresh)
    torch.testing.assert_close(resumed, full, atol=TOL, rtol=0)
    if first is not None:  # (AdaIN's layers run as functions: nothing to count, and no chain to resume)
        assert fresh_calls > windows + 1  # from the image, the first layer runs in several passes (+ the probe)...
        assert resumed_calls <= 2 * windows + 1  # ...resumed, in at most two


def test_what_is_kept_fits_the_budget_and_the_tiles_over_it_start_from_the_image():
    net = _tiny("cyclegan")
    margin, align = net.tile_margin(), net.tile_align
    tile = min_tile(margin, align) + 4 * align
    x = _image(1, 2 * tile, tile + 9, seed=42)
    sizes: list[int] = []
    nbytes = zoo.tiling._nbytes
    calls = []
    net.model[1].register_forward_hook(lambda *_: calls.append(1))  # the first convolution

    def run(budget: int, mp: pytest.MonkeyPatch) -> tuple[torch.Tensor, int]:
        calls.clear()
        mp.setattr(zoo.tiling, "_nbytes", lambda kept: sizes.append(nbytes(kept)) or sizes[-1])
        return tiled_apply_exact(net, x, tile, margin, align, cache_bytes=budget), len(calls)

    with torch.no_grad(), pytest.MonkeyPatch.context() as mp:
        whole, whole_calls = run(10**12, mp)
        part, part_calls = run(max(sizes), mp)  # room for the largest tile's tensors only
        none, none_calls = run(0, mp)
    assert torch.equal(part, whole) and torch.equal(none, whole)
    assert whole_calls < part_calls < none_calls


class _SquareInPlace(nn.Module):
    """Squares its input in place, then a convolution and an instance norm: a pass that collects that norm
    changes the input the outer chain noted for this child."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.norm = nn.Conv2d(4, 4, 3, padding=1), nn.InstanceNorm2d(4, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x.square_()))


def test_a_layer_that_changes_its_input_in_place_does_not_change_what_is_kept():
    torch.manual_seed(43)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.InstanceNorm2d(4), _SquareInPlace(),
                        nn.Conv2d(4, 3, 3, padding=1)).eval()
    x = torch.rand(1, 3, 50, 41)
    with torch.no_grad():
        full = net(x.clone())
        tiled = tiled_apply_exact(net, x, 24, margin=8, align=1, cache_bytes=10**12)
    assert len(tile_windows(50, 41, 24, 8, 1)) > 4
    torch.testing.assert_close(tiled, full, atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_tiles_build_no_autograd_graph(mode):
    """No graph across the windows (one would hold every window's layers until the picture is done: memory
    growing with the picture, as a bug here once did), under no_grad and inference mode (the stylizers')."""
    net = _tiny("johnson")
    margin, align = net.tile_margin(), net.tile_align
    tile = min_tile(margin, align)
    x = _image(1, tile + 20, tile + 20, seed=44)
    assert any(p.requires_grad for p in net.parameters())
    seen = []
    norm = next(m for m in net.modules() if isinstance(m, nn.InstanceNorm2d))
    norm.register_forward_pre_hook(lambda m, args: seen.append(args[0].requires_grad))
    with mode():
        y = tiled_apply_exact(net, x, tile, margin, align)
    assert seen and not any(seen) and not y.requires_grad and y.grad_fn is None


def test_nothing_more_is_kept_once_the_memory_available_runs_low(monkeypatch):
    """The default budget comes from an estimate of a window's memory, which can be low: once the memory
    available falls under a quarter of the start's, the windows keep nothing more (and the picture is the
    same)."""
    net = _tiny("cyclegan")
    margin, align = net.tile_margin(), net.tile_align
    tile = min_tile(margin, align) + 4 * align
    x = _image(1, 2 * tile, tile + 9, seed=45)
    calls = []
    net.model[1].register_forward_hook(lambda *_: calls.append(1))
    with torch.no_grad():
        plenty = tiled_apply_exact(net, x, tile, margin, align)
        plenty_calls, free = len(calls), iter([10**12])
        calls.clear()
        monkeypatch.setattr(zoo.tiling, "available_memory", lambda device: next(free, 10**12 // 4 - 1))
        low = tiled_apply_exact(net, x, tile, margin, align)
        low_calls = len(calls)
        calls.clear()
        none = tiled_apply_exact(net, x, tile, margin, align, cache_bytes=0)
    assert torch.equal(low, plenty) and torch.equal(none, plenty)
    assert plenty_calls < low_calls == len(calls)  # low on memory: the work of passes from the image
