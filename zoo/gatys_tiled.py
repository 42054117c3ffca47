"""Gatys at high resolution in bounded memory: the exact loss and gradient of an image, tile by tile
(``zoo stylize --model gatys --tile N``).

Every Gatys loss is a function of sums over feature positions: the content loss of sum_p (F(p) - T(p))^2, the
Gram loss of G = sum_p f_p f_p^T / (C h w), the guided Gram loss of the same with each region's guide.
:class:`TiledLoss` computes the loss of an image ``x`` and its gradient without holding the whole image's VGG
activations:

1. pass 1, without autograd: each window's features, cropped to the tile's own region, give that tile's
   share Q_t of the sums; Q = sum_t Q_t, and the loss phi(Q) (float64 sums, float32 loss as the untiled one);
2. dphi/dQ by autograd on phi alone (small: C x C matrices and scalars);
3. pass 2, with autograd, one window at a time: the surrogate <dphi/dQ, Q_t(window)> is back-propagated into the
   window's pixels and added to the image's gradient. phi is linear in each tile's share up to dphi/dQ, so
   the sum over tiles is the whole image's gradient (chain rule through Q).

Windows reach :data:`MARGIN` pixels past each tile's own region (VGG19's receptive-field radius at relu5_1:
70 px per side, rounded up to 16) and start on multiples of 16 (four poolings), so every own-region feature is
the whole image's (:func:`zoo.tiling.tile_windows`). The targets -- the content's features at relu4_2, the
style images' Gram matrices at the output's size -- are computed the same way, without autograd. Memory: one
window's activations and their gradients, the image, its gradient and the optimiser's history; time: about
1.3 untiled steps (one more forward) plus the margins' share.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import Tensor, nn

from .losses import ContentLoss, GramLoss
from .losses.guided import layer_guides, resize_mask
from .tiling import check_tile, min_tile, tile_windows
from .errors import ConfigError

__all__ = ["TiledLoss", "MARGIN", "ALIGN", "tiled_min_tile", "channels_last"]

MARGIN = 80  # VGG19 to relu5_1: 2 + 4 + 16 + 32 + 16 = 70 px per side (3x3 convs at strides 1..16), to 16
ALIGN = 16   # four 2x2 poolings


def tiled_min_tile() -> int:
    """The smallest ``--tile`` Gatys takes: two margins and 128 pixels of its own."""
    return min_tile(MARGIN, ALIGN)


def _stride(layer: str) -> int:
    """The total stride of VGG layer ``reluB_n`` / ``convB_n``: 2 ** (B - 1)."""
    return 2 ** (int(layer[4]) - 1)


def _own(feat: Tensor, own: tuple[slice, slice], win: tuple[slice, slice], size: tuple[int, int],
         stride: int) -> Tensor:
    """The own region of a window's feature map (window and own region in image pixels)."""
    def axis(o: slice, w: slice, length: int, n: int) -> slice:
        return slice((o.start - w.start) // stride, (o.stop - w.start) // stride if o.stop < length else n)
    return feat[:, :, axis(own[0], win[0], size[0], feat.shape[-2]), axis(own[1], win[1], size[1], feat.shape[-1])]


def channels_last(x: Tensor) -> Tensor:
    """On CPU, the image in channels_last: every convolution then runs in oneDNN's channels_last kernels
    (about 1.3x the NCHW ones in float32, 2x in bf16) and the Gram matrices read the features in place.
    The optimised parameter itself stays NCHW (L-BFGS flattens it)."""
    return x.contiguous(memory_format=torch.channels_last) if x.device.type == "cpu" else x


class TiledLoss:
    """The Gatys loss of an image and its gradient, computed in windows of at most ``tile`` x ``tile`` pixels,
    equal to the untiled :func:`zoo.gatys.compute_loss` and its backward within float rounding.

    ``losses`` may hold ``content``, ``gram`` (``gram_l1``) and ``guided_gram`` losses (the others are refused:
    ``tv``, ``mean_std`` and ``content_l1`` are not tiled). A Gram loss is computed as R regions (the plain one:
    one region, the whole image; :meth:`zoo.losses.GramLoss.region_distance`)."""

    def __init__(self, encoder: nn.Module, losses: nn.ModuleDict, layers: Sequence[str], tile: int,
                 progress: Any = None) -> None:
        for name, loss in losses.items():
            if not isinstance(loss, GramLoss) and not (isinstance(loss, ContentLoss) and loss.norm == "mse"):
                raise ConfigError(f"--tile: loss {name!r} cannot be tiled (content, gram and guided_gram can)")
        check_tile(tile, MARGIN, "gatys", ALIGN)
        self.encoder, self.losses, self.layers, self.tile = encoder, losses, list(layers), tile
        self.progress = progress

    # ------------------------------------------------------------------ plumbing
    def _channels(self, x: Tensor) -> dict[str, int]:
        """Each layer's channel count (from a 32 x 32 probe, once)."""
        if not hasattr(self, "_n_channels"):
            with torch.no_grad():
                feats = self._features(x.new_zeros(1, 3, 32, 32), self.layers)
            self._n_channels = {l: f.shape[1] for l, f in feats.items()}
        return self._n_channels

    def _windows(self, size: tuple[int, int]):
        return tile_windows(*size, max(self.tile, min_tile(MARGIN, ALIGN)), MARGIN, ALIGN)

    def _features(self, x: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        return self.encoder(channels_last(x), layers)

    @torch.no_grad()
    def _each_tile(self, image: Tensor, layers: Sequence[str]):
        """(own region, window, own-region features) of every tile of ``image``, without autograd."""
        size = tuple(image.shape[-2:])
        for own, win in self._windows(size):
            feats = self._features(image[:, :, win[0], win[1]], layers)
            yield own, win, {l: _own(f, own, win, size, _stride(l)) for l, f in feats.items()}

    # ------------------------------------------------------------------ targets
    @torch.no_grad()
    def targets(self, content: Tensor, styles: Sequence[Tensor], style_weights: Sequence[float],
                masks: Sequence | None = None) -> dict[str, Any]:
        """As :func:`zoo.gatys.compute_targets` (``content`` at the output's size, ``styles`` as resized for it), in
        tiles: the content's features assembled from the tiles, the styles' (guided) Gram matrices summed."""
        targets: dict[str, Any] = {}
        size = tuple(content.shape[-2:])
        content_layers = sorted({l for loss in self.losses.values() if isinstance(loss, ContentLoss)
                                 for l in loss.layers})
        full: dict[str, Tensor] = {}
        for own, _, feats in self._each_tile(content, content_layers):
            for l, f in feats.items():
                s = _stride(l)
                if l not in full:
                    full[l] = f.new_zeros(f.shape[0], f.shape[1], *self._feature_size(l, size))
                full[l][:, :, own[0].start // s:own[0].start // s + f.shape[-2],
                        own[1].start // s:own[1].start // s + f.shape[-1]] = f
        guided = [name for name, loss in self.losses.items() if getattr(loss, "guided", False)]
        if guided and (not masks or len(masks) != len(styles)):
            raise ConfigError("guided_gram needs one mask per style image")
        sums = []
        for i, s in enumerate(styles):
            s_size = tuple(s.shape[-2:])
            region = masks[i][1] if guided else None
            m = torch.ones(1, 1, *s_size) if region is None else resize_mask(region, s_size)
            sums.append(self._sums(s, None, {name: self._guides(m, s_size) for name in guided}))
        for name, loss in self.losses.items():
            if isinstance(loss, ContentLoss):
                targets[name] = {l: full[l] for l in loss.layers}
            else:
                per_style = [{l: q[name][l][0].float() for l in loss.layers} for q in sums]
                targets[name] = {"style": loss.region_targets(per_style, style_weights),
                                 "masks": torch.cat([resize_mask(c, size) for c, _ in masks]) if loss.guided else None}
        return targets

    def _feature_size(self, layer: str, size: tuple[int, int]) -> tuple[int, int]:
        """The whole image's feature-map size at ``layer``: the poolings' floor (or ceil) halvings."""
        s = _stride(layer)
        ceil = bool(getattr(self.encoder, "ceil_mode", False))
        return tuple((-(-n // s) if ceil else n // s) for n in size)

    # ------------------------------------------------------------------ the sums and the loss
    def _guides(self, masks: Tensor, size: tuple[int, int]) -> dict[str, Tensor]:
        return {l: layer_guides(masks, self._feature_size(l, size)) for l in self.layers}

    @torch.no_grad()
    def _sums(self, image: Tensor, targets: Mapping[str, Any] | None,
              guides: Mapping[str, Mapping[str, Tensor]] | None) -> dict[str, dict[str, Tensor]]:
        """The whole image's sums, tile by tile (pass 1), float64 while adding."""
        size = tuple(image.shape[-2:])
        sizes = {l: self._feature_size(l, size) for l in self.layers}
        total: dict[str, dict[str, Tensor]] = {}
        for own, win, feats in self._each_tile(image, self.layers):
            for name, q in self._tile_sums(feats, own, win, size, sizes, targets, guides).items():
                acc = total.setdefault(name, {})
                for l, v in q.items():
                    acc[l] = v.double() if l not in acc else acc[l] + v.double()
        return total

    def _tile_sums(self, feats: Mapping[str, Tensor], own, win, size, sizes: Mapping[str, tuple[int, int]],
                   targets: Mapping[str, Any] | None, guides: Mapping[str, Mapping[str, Tensor]] | None,
                   only: str | None = None) -> dict[str, dict[str, Tensor]]:
        """One tile's share of every loss's sums (with autograd when ``feats`` has it)."""
        out: dict[str, dict[str, Tensor]] = {}
        for name, loss in self.losses.items():
            if only is not None and name != only:
                continue
            q = {}
            for l in loss.layers:
                f = feats[l].float()
                c, (h, w) = f.shape[1], sizes[l]
                if isinstance(loss, ContentLoss):
                    if targets is None:
                        continue
                    s = _stride(l)
                    t = targets[name][l]
                    r0, c0 = own[0].start // s, own[1].start // s
                    q[l] = (f - t[:, :, r0:r0 + f.shape[-2], c0:c0 + f.shape[-1]].float()).pow(2).sum()
                else:  # one Gram matrix per region (the plain loss: one, the whole image), the region's guide
                    # cropped like the features: the whole map's guide at the tile's own region
                    whole = (slice(0, size[0]), slice(0, size[1]))
                    g = _own(guides[name][l], own, whole, size, _stride(l)) if name in (guides or {}) else None
                    regions = g if g is not None else torch.ones(1, 1, *f.shape[-2:])
                    grams = []
                    for r in range(regions.shape[0]):
                        fg = (f * regions[r:r + 1].to(f)).reshape(f.shape[0], c, -1)
                        grams.append(torch.bmm(fg, fg.transpose(1, 2)) / (c * h * w))
                    q[l] = torch.stack(grams)
            out[name] = q
        return out

    def _phi(self, sums: Mapping[str, Mapping[str, Tensor]], targets: Mapping[str, Any],
             sizes: Mapping[str, tuple[int, int]], n_channels: Mapping[str, int]) -> tuple[Tensor, dict[str, Tensor]]:
        parts = {}
        for name, loss in self.losses.items():
            total = 0.0
            for l, w in loss.layer_weights.items():
                q = sums[name][l]
                if isinstance(loss, ContentLoss):
                    d = q / (n_channels[l] * sizes[l][0] * sizes[l][1])
                else:
                    d = loss.region_distance(q, targets[name]["style"][l])
                total = total + w * d
            parts[name] = loss.weight * total
        return sum(parts.values()), parts

    def loss_and_grad(self, x: Tensor, targets: Mapping[str, Any]) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """(loss, {loss name: value}, d loss / d x) of the image ``x`` (1, 3, H, W): two passes over the tiles."""
        size = tuple(x.shape[-2:])
        sizes = {l: self._feature_size(l, size) for l in self.layers}
        masks = {name: targets[name]["masks"] for name, loss in self.losses.items() if getattr(loss, "guided", False)}
        guides = {name: self._guides(m, size) for name, m in masks.items()} or None
        x = x.detach()
        # pass 1: the sums, and the loss
        total = self._sums(x, targets, guides)
        n_channels = {l: c for l, c in self._channels(x).items()}
        leaves = {name: {l: v.float().requires_grad_() for l, v in q.items()} for name, q in total.items()}
        with torch.enable_grad():
            loss, parts = self._phi(leaves, targets, sizes, n_channels)
            flat = [v for q in leaves.values() for v in q.values()]
            dq = torch.autograd.grad(loss, flat)
        dphi = iter(dq)
        dleaves = {name: {l: next(dphi) for l in q} for name, q in leaves.items()}
        # pass 2: each window's share of the gradient
        grad = torch.zeros_like(x)
        for own, win in self._windows(size):
            patch = x[:, :, win[0], win[1]].clone().requires_grad_()
            with torch.enable_grad():
                feats = self._features(patch, self.layers)
                feats = {l: _own(f, own, win, size, _stride(l)) for l, f in feats.items()}
                q = self._tile_sums(feats, own, win, size, sizes, targets, guides)
                surrogate = sum((dleaves[name][l] * v).sum() for name, qs in q.items() for l, v in qs.items())
                (g,) = torch.autograd.grad(surrogate, patch)
            grad[:, :, win[0], win[1]] += g
        return loss.detach(), {k: v.detach() for k, v in parts.items()}, grad
