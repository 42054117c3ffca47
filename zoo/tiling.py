"""Tiled inference: apply an image-to-image network to an image of any size in bounded memory.

The image is cut into overlapping ``tile`` x ``tile`` windows; each is run through ``fn`` on its own, and
the outputs are blended with weights that are zero in a margin along every inner window edge (where a
tile lacks context) and ramp linearly to one across the rest of the overlap, so no seam shows. For a
network whose receptive-field radius is at most ``overlap // 4`` and which has no global operations,
the result equals the untiled output; networks with instance normalisation see per-tile statistics,
close but not identical. :func:`tiled_apply_exact` gives the untiled output of networks whose global
operations are instance or group normalisation, :class:`GlobalLayer` s (AdaIN's adaptive instance
normalisation) and :class:`AlignCornersResize` up-sampling.
"""

from __future__ import annotations

import weakref
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .devices import available_memory
from .errors import ConfigError

__all__ = ["tiled_apply", "tiled_apply_exact", "min_tile", "check_tile", "tile_windows", "AlignCornersResize",
           "GlobalLayer"]


def _starts(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def _ramp(n: int, start: int, end: int, length: int, overlap: int) -> Tensor:
    """1-D blend weights of a window [start, end) of a signal of ``length``."""
    w = torch.ones(n)
    margin = overlap // 4
    width = max(1, overlap - 2 * margin)
    ramp = ((torch.arange(n, dtype=torch.float32) - margin + 0.5) / width).clamp(0, 1)
    if start > 0:
        w = torch.minimum(w, ramp)
    if end < length:
        w = torch.minimum(w, ramp.flip(0))
    return w


@torch.no_grad()
def tiled_apply(fn: Callable[[Tensor], Tensor], image: Tensor, tile: int, overlap: int | None = None,
                progress: bool = False) -> Tensor:
    """``fn`` applied to ``image`` (N, C, H, W) tile by tile; the result stays on ``image``'s device.

    ``fn`` must map (N, C, h, w) to (N, C', h, w). ``overlap`` defaults to ``tile // 4``.
    """
    n, _, h, w = image.shape
    if tile <= 0:
        raise ConfigError(f"tile must be positive, got {tile}")
    overlap = tile // 4 if overlap is None else overlap
    if not 0 <= overlap < tile:
        raise ConfigError(f"overlap must be in [0, tile), got {overlap} for tile {tile}")
    if h <= tile and w <= tile:
        return fn(image)
    stride = tile - overlap
    ys, xs = _starts(h, tile, stride), _starts(w, tile, stride)
    out: Tensor | None = None
    weight = torch.zeros(1, 1, h, w, device=image.device)
    windows = [(y, x) for y in ys for x in xs]
    if progress:
        from tqdm.auto import tqdm

        windows = tqdm(windows, desc="tiles", unit="tile", leave=False)
    for y, x in windows:
        y1, x1 = min(y + tile, h), min(x + tile, w)
        result = fn(image[:, :, y:y1, x:x1]).float()
        if out is None:
            out = torch.zeros(n, result.shape[1], h, w, device=image.device)
        wy = _ramp(y1 - y, y, y1, h, overlap).to(image.device)
        wx = _ramp(x1 - x, x, x1, w, overlap).to(image.device)
        mask = (wy[:, None] * wx[None, :])[None, None]
        out[:, :, y:y1, x:x1] += result * mask
        weight[:, :, y:y1, x:x1] += mask
    assert out is not None
    return (out / weight.clamp_min(1e-8)).to(image.dtype)


def min_tile(margin: int, align: int = 4) -> int:
    """The smallest ``tile`` :func:`tiled_apply_exact` takes with ``margin``: 8 aligned steps of its own."""
    return 2 * margin + 8 * align


def check_tile(tile: int | None, margin: int, family: str, align: int = 4) -> None:
    """Refuse a ``--tile`` too small for ``family``'s margin (windows aligned to ``align``), in one line."""
    if tile is not None and tile < min_tile(margin, align):
        raise ConfigError(f"--tile must be at least {min_tile(margin, align)} pixels for this {family} network "
                         f"(a {margin}-pixel margin on each side), got {tile}")


class GlobalLayer(nn.Module):
    """A layer whose output at each position depends on the rest of its input only through sums over all
    positions, per image (AdaIN's adaptive instance normalisation: the content features' mean and variance).

    :func:`tiled_apply_exact` adds :meth:`partial_sums` over each tile's own region (each 4-d input cropped
    to it) and runs every tile with :meth:`forward_with` the whole image's sums, so the layer computes what it
    computes on the whole image. ``forward`` is the two in a row."""

    def partial_sums(self, *inputs: Tensor | None) -> Tensor:
        """Sums over the positions of ``inputs`` (float64), additive over disjoint regions."""
        raise NotImplementedError

    def forward_with(self, sums: Tensor, *inputs: Tensor | None) -> Tensor:
        """The layer's output for ``inputs`` given the whole input's :meth:`partial_sums`."""
        raise NotImplementedError

    def forward(self, *inputs: Tensor | None) -> Tensor:
        return self.forward_with(self.partial_sums(*inputs), *inputs)


def _own_spans(length: int, tile: int, margin: int, align: int) -> list[tuple[int, int]]:
    """The tiles' own spans [a, b) along a side of ``length``: ``tile - 2 margin`` rounded down to ``align``."""
    own = (tile - 2 * margin) // align * align
    return [(a, min(a + own, length)) for a in range(0, length, own)]


def tile_windows(h: int, w: int, tile: int, margin: int,
                 align: int) -> list[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """The tiles of an ``h`` x ``w`` image as :func:`tiled_apply_exact` cuts it: for each, its own region and
    its window (the own region and up to ``margin`` pixels around it, inside the image), ``(rows, columns)``
    slices each. Own regions start on multiples of ``align`` and cover the image once."""
    if tile < min_tile(margin, align) or margin % align:
        raise ConfigError(f"tile {tile} leaves too little room inside a margin of {margin} px (aligned to "
                         f"{align}): use tiles of at least {min_tile(margin, align)} px")
    out = []
    for y0, y1 in _own_spans(h, tile, margin, align):
        for x0, x1 in _own_spans(w, tile, margin, align):
            window = (slice(max(0, y0 - margin), min(h, y1 + margin)), slice(max(0, x0 - margin), min(w, x1 + margin)))
            out.append(((slice(y0, y1), slice(x0, x1)), window))
    return out


class _Collected(Exception):
    """Raised inside a tile's forward once the statistics being collected are taken (nothing later is needed)."""


@torch.no_grad()
def tiled_apply_exact(net: nn.Module, image: Tensor, tile: int, margin: int, align: int = 4,
                      progress: bool = False, cache_bytes: int | None = None) -> Tensor:
    """``net(image)`` in bounded memory, equal to the untiled output within float rounding.

    For image-to-image networks whose only global operations are ``nn.InstanceNorm2d`` and ``nn.GroupNorm``
    layers (Johnson, CycleGAN, AnimeGANv2's layer norms), :class:`GlobalLayer` s (AdaIN) and
    :class:`AlignCornersResize` up-samplings (AnimeGANv2). Every norm is given the *whole image's* statistics
    (a global layer its whole-image sums), collected tile by tile: pass k runs
    each tile up to norm k (norms before it frozen at their whole-image mean and variance) and sums that
    norm's input over the tile's own region; a last pass runs the tiles through and keeps each tile's own
    region. Every up-sampling in a tile interpolates at the whole image's coordinates (the whole feature
    map's rows and columns, from the whole map's sizes). The network is then local, so a tile whose window
    extends ``margin`` pixels (at least the network's receptive-field radius) past its own region computes
    that region exactly as the whole image does. Windows start on multiples of ``align`` (the network's total
    stride) so every feature map lines up with the whole image's.

    Each pass resumes where the tile's previous one stopped: every ``nn.Sequential`` the network calls once
    per forward keeps, per tile, the input of the child it had reached (:class:`_Resume`), so a pass computes
    little more than the layers between two norms, and the whole costs a few untiled forwards (times the
    windows' overlap) instead of one per norm. Those kept tensors take at most ``cache_bytes`` (default: half
    the memory available on the image's device at the start, less an estimate of one window's working
    memory, and nothing more once the memory available falls under a quarter of the start's: the estimate
    can be low); the tiles that do not fit start each pass from the image, as does every tile with
    ``cache_bytes=0``. The picture is the same either way.

    Memory: one window of at most ``tile`` x ``tile`` pixels at a time, the output and the kept tensors.
    """
    n, _, h, w = image.shape
    if h <= tile and w <= tile:
        return net(image)
    if tile < min_tile(margin, align) or margin % align:
        raise ConfigError(f"tile {tile} leaves too little room inside a margin of {margin} px (aligned to "
                         f"{align}): use tiles of at least {min_tile(margin, align)} px")
    ys, xs = _own_spans(h, tile, margin, align), _own_spans(w, tile, margin, align)
    windows = [(y, x) for y in ys for x in xs]

    def region(own_span: tuple[int, int], start: int, length: int, size: int, scale: float) -> slice:
        a, b = own_span  # the tile's own pixels, in image coordinates; start: its window's first pixel
        return slice(int((a - start) * scale), int((b - start) * scale) if b < length else size)

    def window(span: tuple[int, int], length: int) -> tuple[int, int]:
        return max(0, span[0] - margin), min(length, span[1] + margin)

    norms, scales, resize_scales, chains, window_bytes = _probe(net, image)
    floor = None  # by default, keep nothing more once the memory available falls under a quarter of the start's
    if cache_bytes is None:
        free = available_memory(image.device)
        cache_bytes = 0 if free is None else max(0, free // 2 - window_bytes * tile * tile)
        floor = None if free is None else free // 4
    kept: list[dict[nn.Module, tuple[int, Tensor]]] = [{} for _ in windows]  # per tile: chain -> (child, input)
    held = [0] * len(windows)  # the bytes each tile's kept tensors take
    stats: dict[nn.Module, Tensor] = {}
    # each resize's whole-image (input, output) sizes: the bottom-right window's, shifted by its start
    corner = (window(ys[-1], h)[0], window(xs[-1], w)[0])
    sizes: dict = {}
    if resize_scales:
        with _ResizeSizes(resize_scales) as sizes:
            net(image[:, :, corner[0]:, corner[1]:])
    whole = {m: [tuple(round(c * s) + n for c, s, n in zip(corner, scale, size))
                 for scale, size in zip(resize_scales[m], sizes[m])] for m in resize_scales}

    steps = [(k, norm) for k, norm in enumerate(norms)] + [(len(norms), None)]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(steps) * len(windows), desc="tiles (whole-image statistics)", unit="tile", leave=False)
    out: Tensor | None = None
    for k, target in steps:
        sums = None
        for t, (ys_own, xs_own) in enumerate(windows):
            (y0, y1), (x0, x1) = window(ys_own, h), window(xs_own, w)
            patch = image[:, :, y0:y1, x0:x1]
            if patch.is_inference():  # a normal tensor, so that the layers' in-place changes are seen (_Resume)
                with torch.inference_mode(False), torch.no_grad():  # (leaving inference mode enables autograd)
                    patch = patch.clone()

            def collect(m: nn.Module, *inputs: Tensor | None) -> None:
                nonlocal sums
                own = [x[:, :, region(ys_own, y0, h, x.shape[-2], scales[k]),
                         region(xs_own, x0, w, x.shape[-1], scales[k])]
                       if isinstance(x, Tensor) and x.ndim == 4 else x for x in inputs]
                s = _partial_sums(m, *own)
                sums = s if sums is None else sums + s
                raise _Collected

            placed = {m: [(round(y0 * s[0]), round(x0 * s[1])) for s in resize_scales[m]] + whole[m]
                      for m in resize_scales}
            try:
                with _frozen_norms(stats, target, collect), _whole_image_resizes(placed), \
                        torch.inference_mode(False), torch.no_grad(), _Resume(chains, kept[t]) as reached:
                    y = net(patch)
            except _Collected:  # kept for the next pass if it fits beside the others', else it starts from the image
                entries = reached.valid()
                size = _nbytes(entries)
                fits = sum(held) - held[t] + size <= cache_bytes and (  # (the new tensors are in memory now)
                    floor is None or size <= held[t] or (available_memory(image.device) or 0) >= floor)
                kept[t], held[t] = (entries, size) if fits else ({}, 0)
            else:
                kept[t], held[t] = {}, 0
                if out is None:
                    out = torch.zeros(n, y.shape[1], h, w, dtype=y.dtype, device=image.device)
                out[:, :, ys_own[0]:ys_own[1], xs_own[0]:xs_own[1]] = y[
                    :, :, ys_own[0] - y0:ys_own[1] - y0, xs_own[0] - x0:xs_own[1] - x0]
            if bar is not None:
                bar.update()
        if target is not None:
            stats[target] = sums
    if bar is not None:
        bar.close()
    assert out is not None
    return out


class AlignCornersResize(nn.Module):
    """``F.interpolate(x, size, mode="bilinear", align_corners=True)`` as a layer, so that
    :func:`tiled_apply_exact` can make a tile interpolate at the whole image's coordinates: output pixel i
    of the whole map is read at input coordinate i * (in - 1) / (out - 1) of the whole map."""

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        return F.interpolate(x, size=size, mode="bilinear", align_corners=True)


def _groups(m: nn.Module) -> int:
    """How many (mean, variance) pairs per image the norm ``m`` takes: one per channel, or per group."""
    return m.num_groups if isinstance(m, nn.GroupNorm) else m.num_features


_GLOBAL = (nn.InstanceNorm2d, nn.GroupNorm, GlobalLayer)  # the layers whose statistics are whole-image


def _partial_sums(m: nn.Module, *inputs: Tensor | None) -> Tensor:
    """A global layer's sums over ``inputs`` (a norm's: sum, sum of squares and count per image and group)."""
    if isinstance(m, GlobalLayer):
        return m.partial_sums(*inputs)
    part = inputs[0].double()
    part = part.reshape(part.shape[0], _groups(m), -1)  # the values each mean and variance cover
    return torch.stack([part.sum(2), part.pow(2).sum(2),
                        torch.full(part.shape[:2], float(part.shape[2]), dtype=part.dtype, device=part.device)])


def _probe(net: nn.Module, image: Tensor) -> tuple[list[nn.Module], list[float], dict[nn.Module, list],
                                                   list[nn.Module], int]:
    """From a 64 x 64 probe: the network's global layers (InstanceNorm2d, GroupNorm, GlobalLayer) in the order
    its forward calls them, the scale of each one's input relative to the network's input, each
    :class:`AlignCornersResize`'s (input, output) scales per axis, the plain ``nn.Sequential`` s it calls once
    per forward (the ones :class:`_Resume` may resume), and the most bytes per input pixel its layers' outputs
    held at once (a window's working memory)."""
    seen: list[tuple[nn.Module, float]] = []
    calls: dict[nn.Module, int] = {}
    live: dict[int, int] = {}  # the layers' outputs alive now: data pointer -> bytes
    peak = [0]
    probe = 64

    def count(m: nn.Module, args: tuple, out: object) -> None:
        calls[m] = calls.get(m, 0) + 1
        if isinstance(out, Tensor) and not next(m.children(), None) and out.data_ptr() not in live:
            live[out.data_ptr()] = out.numel() * out.element_size()
            peak[0] = max(peak[0], sum(live.values()))
            weakref.finalize(out, live.pop, out.data_ptr(), None)
    handles = [m.register_forward_pre_hook(lambda m, args: seen.append((m, args[0].shape[-2] / probe)))
               for m in net.modules() if isinstance(m, _GLOBAL)]
    handles += [m.register_forward_hook(count) for m in net.modules()]
    try:
        with _ResizeSizes([m for m in net.modules() if isinstance(m, AlignCornersResize)]) as sizes:
            net(image.new_zeros(1, image.shape[1], probe, probe))
    finally:
        for handle in handles:
            handle.remove()
    resizes = {m: [tuple(n / probe for n in size) for size in pair] for m, pair in sizes.items()}
    chains = [m for m, n in calls.items() if n == 1 and type(m).forward is nn.Sequential.forward]
    return [m for m, _ in seen], [s for _, s in seen], resizes, chains, -(-peak[0] // (probe * probe))


def _nbytes(kept: dict[nn.Module, tuple[int, Tensor]]) -> int:
    """The bytes of the distinct tensors in ``kept``."""
    tensors = {id(x): x for _, x in kept.values()}
    return sum(x.numel() * x.element_size() for x in tensors.values())


class _Resume:
    """Within the block: each ``nn.Sequential`` in ``chains`` starts at the child and with the input ``start``
    keeps for it (from an earlier pass over the same tile, which reached that child with that input; a chain
    ``start`` has completed returns its output), and :meth:`valid` gives, after the block, where each chain
    called in it got to. A chain's children see exactly the inputs they saw in the pass that reached them:
    those before the statistic being collected depend only on the frozen ones, which do not change."""

    def __init__(self, chains: list[nn.Module], start: dict[nn.Module, tuple[int, Tensor]]) -> None:
        self.chains, self.start = chains, start
        self.reached: dict[nn.Module, tuple[int, Tensor, int]] = {}

    def __enter__(self) -> "_Resume":
        for chain in self.chains:
            chain.forward = self._forward(chain)
        return self

    def __exit__(self, *exc) -> bool:
        for chain in self.chains:
            chain.__dict__.pop("forward", None)
        return False

    def _forward(self, chain: nn.Module) -> Callable[[Tensor], Tensor]:
        def forward(x: Tensor) -> Tensor:
            i, x = self.start.get(chain, (0, x))
            for j in range(i, len(chain)):
                self._note(chain, j, x)
                x = chain[j](x)
            self._note(chain, len(chain), x)
            return x
        return forward

    def _note(self, chain: nn.Module, i: int, x: object) -> None:
        if isinstance(x, Tensor) and not x.is_inference():
            self.reached[chain] = (i, x, x._version)
        else:
            self.reached.pop(chain, None)

    def valid(self) -> dict[nn.Module, tuple[int, Tensor]]:
        """Where each chain got to, leaving out the inputs changed in place since (by a later layer)."""
        return {chain: (i, x) for chain, (i, x, version) in self.reached.items() if x._version == version}


class _ResizeSizes:
    """Within the block: records each of ``resizes``' (input, output) sizes, (h, w) each, as called."""

    def __init__(self, resizes) -> None:
        self.resizes, self.sizes, self.handles = list(resizes), {}, []

    def __enter__(self) -> dict:
        def record(m: nn.Module, args: tuple) -> None:
            self.sizes[m] = [tuple(args[0].shape[-2:]), tuple(args[1])]
        self.handles = [m.register_forward_pre_hook(record) for m in self.resizes]
        return self.sizes

    def __exit__(self, *exc) -> bool:
        for handle in self.handles:
            handle.remove()
        return False


class _whole_image_resizes:
    """Within the block: each :class:`AlignCornersResize` in ``placed`` (its tile's first input and output
    pixel in the whole feature maps, and the whole maps' sizes, (y, x) each) interpolates at the whole image's
    coordinates; the rows and columns it reads outside the tile's input are clamped to it (they fall in the
    margin)."""

    def __init__(self, placed: dict) -> None:
        self.placed = placed

    def __enter__(self) -> None:
        for m, (start_in, start_out, whole_in, whole_out) in self.placed.items():
            m.forward = self._apply(start_in, start_out, whole_in, whole_out)

    def __exit__(self, *exc) -> bool:
        for m in self.placed:
            m.__dict__.pop("forward", None)
        return False

    @staticmethod
    def _apply(start_in, start_out, whole_in, whole_out) -> Callable[[Tensor, tuple[int, int]], Tensor]:
        def axis(n_in: int, n_out: int, a_in: int, a_out: int, full_in: int, full_out: int, device):
            scale = (full_in - 1) / (full_out - 1) if full_out > 1 else 0.0
            at = ((torch.arange(n_out, dtype=torch.float64, device=device) + a_out) * scale - a_in).clamp(0, n_in - 1)
            i0 = at.floor().long()
            return i0, (i0 + 1).clamp_max(n_in - 1), (at - i0)

        def forward(x: Tensor, size: tuple[int, int]) -> Tensor:
            (y0, y1, fy), (x0, x1, fx) = (
                axis(x.shape[d - 2], size[d], start_in[d], start_out[d], whole_in[d], whole_out[d], x.device)
                for d in range(2))
            fy, fx = fy.to(x.dtype)[:, None], fx.to(x.dtype)
            rows = x[:, :, y0] * (1 - fy) + x[:, :, y1] * fy
            return rows[..., x0] * (1 - fx) + rows[..., x1] * fx
        return forward


class _frozen_norms:
    """Within the block: each global layer in ``stats`` runs with those whole-image sums (a norm normalises with
    their mean and biased variance per image and group); ``target`` calls ``collect(module, *inputs)`` instead."""

    def __init__(self, stats: dict, target: nn.Module | None, collect: Callable) -> None:
        self.stats, self.target, self.collect = stats, target, collect

    def __enter__(self) -> None:
        for m, sums in self.stats.items():
            m.forward = (lambda *inputs, m=m, sums=sums: m.forward_with(sums, *inputs)) \
                if isinstance(m, GlobalLayer) else self._apply(m, sums)
        if self.target is not None:
            self.target.forward = lambda *inputs, m=self.target: self.collect(m, *inputs)

    def __exit__(self, *exc) -> bool:
        for m in [*self.stats, self.target]:
            if m is not None:
                m.__dict__.pop("forward", None)
        return False

    @staticmethod
    def _apply(m: nn.Module, sums: Tensor) -> Callable[[Tensor], Tensor]:
        mean = sums[0] / sums[2]
        var = (sums[1] / sums[2] - mean.pow(2)).clamp_min(0)

        def forward(x: Tensor) -> Tensor:
            g = x.reshape(x.shape[0], mean.shape[1], -1)  # each image's groups (instance norm: its channels)
            g = (g - mean[:, :, None].to(x.dtype)) * torch.rsqrt(var[:, :, None] + m.eps).to(x.dtype)
            y = g.reshape(x.shape)
            if m.weight is not None:
                y = y * m.weight[None, :, None, None] + m.bias[None, :, None, None]
            return y
        return forward
