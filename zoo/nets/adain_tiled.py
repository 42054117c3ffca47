"""AdaIN in tiles: the untiled picture of any size in bounded memory (``zoo stylize --model adain --tile N``).

AdaIN's one global operation is adaptive instance normalisation of the content's relu4_1 features (paper
eq. 8): each channel's mean and standard deviation over the whole image. Everything else -- the VGG19
encoder to relu4_1 and the decoder -- is local. :class:`AdaINLayer` is that operation as a
:class:`zoo.tiling.GlobalLayer`: its statistics are sums over positions (count, sum and sum of squares per
channel, float64; per region with masks), so :func:`zoo.tiling.tiled_apply_exact` collects them tile by
tile over each tile's own region, adds them, and runs every tile through the decoder with the whole image's
statistics -- with pytorch-AdaIN's *unbiased* variance where the network uses it (``unbiased_std``:
``calc_mean_std`` divides by n - 1, n the whole image's positions, not a tile's).

Each window reaches :data:`MARGIN` pixels past its tile's own region (the encoder's and decoder's
receptive-field radius, 62 px, rounded up to 8) and starts on a multiple of 8 (the encoder's total stride,
so ceil-mode pooling cuts the same 8 x 8 cells as on the whole image). Masks (spatial control) travel with
the content as extra input channels, so each tile gets its own part of them; colour preservation works as
untiled (``coral`` and ``histogram`` recolour the style to the whole content first; ``luminance`` is per
pixel). Memory: one window of at most ``tile`` x ``tile`` pixels at a time, plus the image and the output;
time: two encoder passes and one decoder pass over the image, plus the margins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ..io import masks_to_tensor
from ..tiling import GlobalLayer, check_tile, tiled_apply_exact
from .adain_stats import StyleCode, normalise_weights

if TYPE_CHECKING:
    from .adain import AdaINNet

__all__ = ["AdaINLayer", "tiled_adain", "stylize_tiled", "MARGIN", "ALIGN"]

# Receptive-field radius of relu4_1 -> decoder output, in pixels: a relu4_1 cell j depends on pixels
# [8j - 30, 8j + 37] (VGG19: 2 + 2 + 4 + 16 + 8, ceil-mode pooling), and an output pixel y on the cells
# within [y - 32, y + 25] / 8 (decoder: 2 px, up, 2 x 2, up, 4 x 4, up, 1 x 8, each nearest up-sampling
# adding its cell): 62 px at most on either side (tests/test_adain_tiled.py shows 56 is not enough).
MARGIN = 64
ALIGN = 8  # the encoder's total stride


class AdaINLayer(GlobalLayer):
    """AdaIN of content features ``c`` (N, C, h, w) with the style ``codes`` (paper eq. 8), the styles mixed
    with ``style_weights`` or placed by masks ``m`` (N, K, h, w) at feature resolution, then the content-style
    trade-off ``alpha`` (eq. 14): what :meth:`zoo.nets.adain.AdaINNet.target_features` computes, from sums.

    Sums (float64, (K or 1, 3, N, C)): per region (the whole image without masks) the weight, the weighted
    features and the weighted squares, whence the mean and the (biased or ``unbiased``) variance."""

    def __init__(self, codes: Sequence[StyleCode], style_weights: Sequence[float] | None, alpha: float,
                 eps: float, unbiased: bool) -> None:
        super().__init__()
        self.codes, self.alpha, self.eps, self.unbiased = list(codes), float(alpha), float(eps), bool(unbiased)
        self.style_weights = style_weights

    def partial_sums(self, c: Tensor, m: Tensor | None = None) -> Tensor:
        f = c.double()
        weights = [None] if m is None else [m[:, k:k + 1].double() for k in range(m.shape[1])]
        out = []
        for w in weights:
            if w is None:
                count = torch.full(f.shape[:2], float(f.shape[-2] * f.shape[-1]), dtype=f.dtype, device=f.device)
                out.append(torch.stack([count, f.sum((2, 3)), f.pow(2).sum((2, 3))]))
            else:
                out.append(torch.stack([w.sum((2, 3)).expand(f.shape[:2]), (w * f).sum((2, 3)),
                                        (w * f.pow(2)).sum((2, 3))]))
        return torch.stack(out)

    def _stats(self, s: Tensor) -> tuple[Tensor, Tensor]:
        """(mean, std) (N, C, 1, 1) float32 of one region's sums ``s`` (3, N, C), as zoo.stats.mean_std."""
        total, s1, s2 = s
        denom = total.clamp_min(1e-8)
        mean = s1 / denom
        sq = (s2 - 2 * mean * s1 + mean.pow(2) * total).clamp_min(0)  # sum of w (f - mean)^2
        var = sq / ((total - 1).clamp_min(1e-8) if self.unbiased else denom)
        return mean.float()[..., None, None], (var + self.eps).sqrt().float()[..., None, None]

    def forward_with(self, sums: Tensor, c: Tensor, m: Tensor | None = None) -> Tensor:
        c = c.float()
        if m is None:

            w = normalise_weights(self.style_weights, len(self.codes))
            s_mean = sum(wi * code.mean for wi, code in zip(w, self.codes))
            s_std = sum(wi * code.std for wi, code in zip(w, self.codes))
            mean, std = self._stats(sums[0])
            t = (c - mean) / std * s_std + s_mean
        else:
            m = m.float()
            total = m.sum(1, keepdim=True)
            out = torch.zeros_like(c)
            for k, code in enumerate(self.codes):
                if float(sums[k, 0].sum()) == 0:
                    continue  # the region vanished at feature resolution (in the whole image)
                mean, std = self._stats(sums[k])
                out = out + m[:, k:k + 1] * ((c - mean) / std * code.std + code.mean)
            t = torch.where(total > 0, out / total.clamp_min(1e-8), c)
        return t if self.alpha == 1.0 else self.alpha * t + (1.0 - self.alpha) * c


class _Stylize(nn.Module):
    """One image -> its picture, what :meth:`AdaINNet.forward` computes with the styles bound, the AdaIN step
    being :class:`AdaINLayer`; the input's channels past the first three are the masks (at image resolution)."""

    def __init__(self, net: "AdaINNet", layer: AdaINLayer) -> None:
        super().__init__()
        self.net, self.layer = net, layer

    def forward(self, x: Tensor) -> Tensor:
        net, content = self.net, x[:, :3]
        c = net.encode(net.pad_input(content))["relu4_1"]
        m = None
        if x.shape[1] > 3:  # masks: padded like the content, to the 8 x 8 cells of c, then their cell fractions
            m = net.pad_input(x[:, 3:])
            m = F.pad(m, (0, 8 * c.shape[-1] - m.shape[-1], 0, 8 * c.shape[-2] - m.shape[-2]), mode="replicate")
            m = F.interpolate(m, size=c.shape[-2:], mode="area")
        t = self.layer(c, m)
        return net.crop_output(net.decode(t.to(c.dtype)), content)


def tiled_adain(net: "AdaINNet", content: Tensor, codes: Sequence[StyleCode], tile: int, alpha: float = 1.0,
                style_weights: Sequence[float] | None = None, masks: Tensor | None = None,
                progress: bool = False, margin: int | None = None) -> Tensor:
    """``net``'s picture of ``content`` (N, 3, H, W) in [0, 1] with the style ``codes`` (mixed by
    ``style_weights``, or placed by ``masks`` (K, 1, H, W) at content resolution), ``alpha``, computed in
    windows of at most ``tile`` x ``tile`` pixels; equal to the untiled picture within float rounding.
    Unclamped (as the decoder gives it). ``margin``: the context around each tile (default and minimum for
    an exact picture: :data:`MARGIN`; tests pass less to show that it is needed)."""
    margin = net.tile_margin() if margin is None else margin
    if margin is None:
        raise ConfigError("this AdaIN network cannot be tiled exactly (its config pads the input to a multiple "
                         f"of {net.pad_multiple}, which changes the statistics)")
    layer = AdaINLayer(codes, style_weights, alpha, net.eps, net.unbiased_std)
    x = content
    if masks is not None:
        x = torch.cat([content, masks.to(content).expand(-1, content.shape[0], -1, -1).transpose(0, 1)], 1)
    with torch.no_grad():
        return tiled_apply_exact(_Stylize(net, layer), x, tile, margin, align=ALIGN, progress=progress)


def stylize_tiled(net: "AdaINNet", content: Tensor, styles, alpha: float, style_weights, masks, tile: int,
                  progress: bool = False) -> Tensor:
    """:meth:`AdaINNet.forward` with ``tile`` (before colour preservation by luminance): the options checked as
    the untiled path checks them, the styles encoded (cached as there), the masks at the content's size, then
    :func:`tiled_adain`. Unclamped."""
    if net.tile_margin() is None:
        raise ConfigError(f"tile: this AdaIN network (pad_multiple={net.pad_multiple}) cannot be tiled exactly")
    check_tile(tile, net.tile_margin(), "adain", net.tile_align)
    if isinstance(styles, Tensor) and styles.shape[0] > 1:
        raise ConfigError("tile: give the styles as a list of single images (or StyleCodes), not a batch")
    items = [styles] if isinstance(styles, (Tensor, StyleCode)) else list(styles)
    if not items:
        raise ConfigError("at least one style is needed")
    codes = [net._style_code(s) for s in items]
    if masks is not None:
        if style_weights is not None:
            raise ConfigError("masks and style weights cannot be combined: each mask takes one style")
        masks = masks_to_tensor(masks).to(content.device)
        if masks.shape[0] != len(codes):
            raise ConfigError(f"{masks.shape[0]} masks for {len(codes)} styles: give one mask per style")
        if masks.shape[-2:] != content.shape[-2:]:
            masks = F.interpolate(masks, size=content.shape[-2:], mode="nearest")
    else:
        normalise_weights(style_weights, len(codes))  # the untiled path's errors, before any work
    if not 0.0 <= float(alpha) <= 1.0:
        raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
    return tiled_adain(net, content, codes, tile, alpha, style_weights, masks, progress)
