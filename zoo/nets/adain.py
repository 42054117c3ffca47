"""AdaIN: arbitrary style transfer in real time with adaptive instance normalisation.

Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization",
ICCV 2017 (arXiv:1703.06868). Reference code: naoto0804/pytorch-AdaIN (``net.py``, ``function.py``,
``test.py``), a port of the authors' Torch code xunhuang/AdaIN-style.

The network (:class:`AdaINNet`) has three parts:

* the shared :class:`zoo.backbone.VGGEncoder` (VGG19), truncated at ``relu4_1`` and frozen; its weights
  are non-persistent buffers, so they are never written to ``model.safetensors`` or Lightning
  checkpoints: the encoder is re-created from the weight source named in the config
  (``backbone_weights``: ``"caffe"`` -- the Caffe-normalised VGG of the original code -- by default);
* adaptive instance normalisation (paper eq. 8), ``AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y)``
  with per-channel statistics over H, W computed in float32 and ``sigma = sqrt(var + eps)``;
* a decoder that mirrors the encoder (paper sec. 6.1): nearest-neighbour upsampling instead of pooling,
  reflection padding everywhere, no normalisation layers; its layout is pytorch-AdaIN's ``decoder``
  (convolutions 512-256 | up | 256-256 x3, 256-128 | up | 128-128, 128-64 | up | 64-64, 64-3), and each
  convolution is named after the encoder layer it mirrors (``conv4_1`` ... ``conv1_1``).

Inference (:meth:`AdaINNet.forward`) supports the paper's controls (sec. 7.2): the content-style
trade-off ``alpha`` (eq. 14), interpolation of several styles with weights (a convex combination of
their feature statistics, which is the same as pytorch-AdaIN's weighted sum of AdaIN outputs), spatial
control (a style per region, given as masks), and colour preservation:

* ``"coral"``: pytorch-AdaIN's ``--preserve_color``: the style image is recoloured to the content's
  colours by :func:`zoo.color.coral` *before* it is encoded (the original's picture, tested);
* ``"histogram"``: the same place, with Gatys et al. 2016b's colour histogram matching
  (:func:`zoo.color.match_color`: the style's pixel mean and covariance become the content's), the
  method the paper's colour control (sec. 7.2) refers to;
* ``"luminance"``: the stylised output keeps its luminance and takes the content's chrominance
  (:func:`zoo.color.preserve_luminance`), applied *after* decoding.

Statistics of a reused style image are computed once: :meth:`AdaINNet.encode_style` returns a
:class:`StyleCode` (mean and std at relu4_1) that ``forward`` accepts in place of an image, and style
*tensors* passed to ``forward`` are cached by identity (invalidated when the tensor is modified in
place or freed).

Matching the reference code exactly: pytorch-AdaIN computes the variance with ``Tensor.var``, i.e.
*unbiased* (divides by H*W - 1), while the paper and :func:`zoo.losses.mean_std` use the biased
estimate. ``unbiased_std=True`` reproduces the reference; checkpoints imported with
:func:`convert_pytorch_adain_state_dict` are meant to be run with it (``from_pytorch_adain`` sets it).
The difference is a factor sqrt(n / (n - 1)) on both standard deviations -- invisible at real sizes.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError, NotFoundError
from ..io import masks_to_tensor
from ..backbone import CAFFE_VGG19_URL, VGGEncoder
from ..checkpoint import Importer, load_strict
from ..losses import mean_std
from ..registry import MODELS
from ..tiling import check_tile, min_tile
from .adain_tiled import MARGIN, _normalise_weights, tiled_adain
from .base import ZooNet, moved_names, pad_to_min
from .fast import (cached_weight, channels_last, inference_on_cpu, is_narrow, is_upsample_conv, narrow_conv2d,
                   upsample_conv2d)

__all__ = [
    "AdaINNet", "AdaINDecoder", "StyleCode", "adaptive_instance_norm", "feature_stats", "masks_to_tensor",
    "convert_pytorch_adain_state_dict", "pytorch_adain_config", "net_config_from_hparams", "CANONICAL",
    "ENCODER_LAYERS",
]

# Canonical published weights of the reference implementation (README of naoto0804/pytorch-AdaIN,
# GitHub release v0.0.0; trained on MS-COCO content and WikiArt style images, the paper's data).
CANONICAL = {
    # the decoder trained by pytorch-AdaIN's train.py (nn.Sequential state dict, see convert_... below)
    "decoder": "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/decoder.pth",
    # the Caffe-normalised VGG19 of Gatys' and AdaIN's original code; zoo.backbone reads it as is
    # (VGGEncoder(weights="caffe") downloads it, or weights=<path to vgg_normalised.pth>)
    "vgg_normalised": CAFFE_VGG19_URL,
}

# Layers the encoder provides: the style loss reads relu1_1..relu4_1, AdaIN works on relu4_1 (paper sec. 6.1).
ENCODER_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
EPS = 1e-5  # pytorch-AdaIN function.py calc_mean_std(eps=1e-5)
# The smallest side pytorch-AdaIN takes: relu4_1 is at 1/8 scale (three ceil-mode poolings,
# ceil(ceil(ceil(H / 2) / 2) / 2) px), which must be >= 2 for the reflection pad of 1 around conv4_1.
MIN_SIZE = 9

# The decoder, top to bottom: (name, in, out, upsample x2 after this layer). Mirrors VGG19 from relu4_1
# down to the image; pytorch-AdaIN net.py `decoder` (nn.Sequential index of each conv in the last column).
_DECODER = [
    ("conv4_1", 512, 256, True, 1),
    ("conv3_4", 256, 256, False, 5),
    ("conv3_3", 256, 256, False, 8),
    ("conv3_2", 256, 256, False, 11),
    ("conv3_1", 256, 128, True, 14),
    ("conv2_2", 128, 128, False, 18),
    ("conv2_1", 128, 64, True, 21),
    ("conv1_2", 64, 64, False, 25),
    ("conv1_1", 64, 3, False, 28),
]


# ---------------------------------------------------------------------------------------- statistics
def feature_stats(f: Tensor, eps: float = EPS, unbiased: bool = False,
                  weight: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std over H, W of ``f`` (N, C, H, W) -> (N, C, 1, 1) each, in float32.

    ``std = sqrt(var + eps)``; ``var`` is biased (divides by n, the paper; :func:`zoo.losses.mean_std`)
    or ``unbiased`` (divides by n - 1, pytorch-AdaIN). With ``weight`` (N or 1, 1, H, W), the statistics
    are weighted (a region's statistics for a binary mask; unbiased then divides by sum(w) - 1).
    """
    if weight is None:
        if not unbiased:
            return mean_std(f, eps)
        f = f.float()
        with torch.autocast(device_type=f.device.type, enabled=False):
            var, mean = torch.var_mean(f, dim=(2, 3), keepdim=True, correction=1)
            return mean, torch.sqrt(var + eps)
    f = f.float()
    with torch.autocast(device_type=f.device.type, enabled=False):
        w = weight.float()
        total = w.sum(dim=(2, 3), keepdim=True)
        denom = total.clamp_min(1e-8)
        mean = (w * f).sum(dim=(2, 3), keepdim=True) / denom
        sq = (w * (f - mean).pow(2)).sum(dim=(2, 3), keepdim=True)
        var = sq / ((total - 1).clamp_min(1e-8) if unbiased else denom)
        return mean, torch.sqrt(var + eps)


def adaptive_instance_norm(content: Tensor, style_mean: Tensor, style_std: Tensor, eps: float = EPS,
                           unbiased: bool = False) -> Tensor:
    """AdaIN (paper eq. 8): content features normalised per channel, then given the style's mean/std.

    Computed in float32; returns float32 features of ``content``'s shape.
    """
    c_mean, c_std = feature_stats(content, eps, unbiased)
    with torch.autocast(device_type=content.device.type, enabled=False):
        return (content.float() - c_mean) / c_std * style_std.float() + style_mean.float()


@dataclass(frozen=True)
class StyleCode:
    """What AdaIN needs of a style image: mean and std of its relu4_1 features, (1, C, 1, 1) float32."""

    mean: Tensor
    std: Tensor

    def to(self, device: torch.device | str) -> "StyleCode":
        return StyleCode(self.mean.to(device), self.std.to(device))


# ---------------------------------------------------------------------------------------- networks
class AdaINDecoder(nn.Module):
    """The decoder of pytorch-AdaIN: 9 reflection-padded 3x3 convolutions, ReLU after all but the last,
    nearest-neighbour x2 upsampling after conv4_1, conv3_1 and conv2_1. relu4_1 features -> RGB."""

    def __init__(self) -> None:
        super().__init__()
        for name, c_in, c_out, _, _ in _DECODER:
            self.add_module(name, nn.Conv2d(c_in, c_out, 3))

    def forward(self, h: Tensor) -> Tensor:
        last = _DECODER[-1][0]
        for name, _, _, up, _ in _DECODER:
            h = getattr(self, name)(F.pad(h, (1, 1, 1, 1), mode="reflect"))
            if name != last:
                h = F.relu(h)
            if up:
                h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        return h

    @torch.no_grad()
    def forward_fast(self, h: Tensor) -> Tensor:
        """:meth:`forward` within float rounding (~1e-6), for inference on CPU (what :meth:`AdaINNet.decode`
        runs there without autograd), in channels_last: each upsampling + convolution as one 2x2
        convolution per output phase at the low resolution (:func:`zoo.nets.fast.upsample_conv2d`: 16/36
        of the multiply-adds), the last convolution to RGB as a 3x1 convolution to 9 channels and 3
        shifted sums (:func:`zoo.nets.fast.narrow_conv2d`), weights converted once, ReLU in place."""
        cache = self.__dict__.setdefault("_fast_weights", {})  # plain attribute: never in the state_dict
        h, last, upsampled = h.contiguous(memory_format=torch.channels_last), _DECODER[-1][0], False
        for name, _, _, up, _ in _DECODER:
            conv = getattr(self, name)
            if upsampled and is_upsample_conv(conv):
                h = upsample_conv2d(conv, h, cache)
            else:
                if upsampled:
                    h = F.interpolate(h, scale_factor=2.0, mode="nearest")
                h = F.pad(h, (1, 1, 1, 1), mode="reflect")
                h = narrow_conv2d(conv, h, cache) if is_narrow(conv) else F.conv2d(
                    h, cached_weight(conv.weight, cache, id(conv), channels_last), conv.bias)
            if name != last:
                h = h.relu_()
            upsampled = up
        return h


class AdaINNet(ZooNet):
    """AdaIN style transfer network: frozen VGG19 encoder to relu4_1, AdaIN, trained decoder.

    Args (all JSON, saved in ``config.json``):
        backbone_weights: weight source of the encoder (see :class:`zoo.backbone.VGGEncoder`):
            ``"caffe"`` (the original's Caffe-normalised VGG19), ``"imagenet"``, ``"timm"``, a path, or
            ``"none"`` (random, tests only). The decoder is trained for one source; do not mix.
        eps: added to the variance before the square root.
        unbiased_std: variance divided by n - 1 as in pytorch-AdaIN (``Tensor.var``); the paper's biased
            estimate otherwise.
        pad_multiple: 1 (default): the network runs on the image as it is, as pytorch-AdaIN does, and the
            top-left H x W of its output (8 * ceil(H / 8) x 8 * ceil(W / 8): the encoder pools in ceil mode)
            is kept. A larger value reflection-pads the input to a multiple of it first, which changes the
            instance statistics at other sizes: the behaviour of configs saved before (``8``), kept so that
            they load and give the pictures they gave.

    Any H, W: sides under :data:`MIN_SIZE` (9 px, where pytorch-AdaIN's reflection pads fail at 1/8 scale)
    are padded by repeating the last row/column, for content and style images alike.

    Only the decoder is a parameter of this module (``model.safetensors`` holds ``decoder.*`` only).
    """

    min_size = MIN_SIZE
    input_names = ("content", "style")

    def __init__(self, backbone_weights: str | None = "caffe", eps: float = EPS, unbiased_std: bool = False,
                 pad_multiple: int = 1) -> None:
        super().__init__()
        backbone_weights = "none" if backbone_weights is None else str(backbone_weights)
        self.backbone_weights = backbone_weights
        self.eps = float(eps)
        self.unbiased_std = bool(unbiased_std)
        self.pad_multiple = int(pad_multiple)
        if self.pad_multiple < 1:
            raise ConfigError(f"pad_multiple must be >= 1, got {pad_multiple}")
        # ceil-mode pooling for every weight source (the Caffe one implies it): the decoder's output then
        # covers the input at any size, as in pytorch-AdaIN (net.py: MaxPool2d(..., ceil_mode=True))
        self.encoder = VGGEncoder("vgg19", weights=backbone_weights, layers=ENCODER_LAYERS, ceil_mode=True,
                                  progress=False)
        self.decoder = AdaINDecoder()
        self._style_cache: dict[int, tuple[Any, int, torch.device, torch.dtype, StyleCode]] = {}

    # ------------------------------------------------------------------ building blocks
    def encode(self, x: Tensor, layers: Sequence[str] = ("relu4_1",)) -> dict[str, Tensor]:
        """Encoder features ``{layer: tensor}`` of RGB [0, 1] images (no padding here)."""
        return self.encoder(x, layers)

    def stats(self, feats: Tensor, weight: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Mean/std of features with this network's eps and estimator (float32)."""
        return feature_stats(feats, self.eps, self.unbiased_std, weight)

    def adain(self, content_feat: Tensor, style_mean: Tensor, style_std: Tensor) -> Tensor:
        return adaptive_instance_norm(content_feat, style_mean, style_std, self.eps, self.unbiased_std)

    def decode(self, feat: Tensor) -> Tensor:
        """Decoder output (unclamped), as used by the training losses. Without autograd on CPU (inference)
        (:func:`zoo.nets.fast.inference_on_cpu`) the decoder's :meth:`AdaINDecoder.forward_fast`, the same
        function within float rounding."""
        if inference_on_cpu(feat):
            return self.decoder.forward_fast(feat)
        return self.decoder(feat)

    @torch.no_grad()
    def encode_style(self, style: Tensor) -> StyleCode:
        """The :class:`StyleCode` of one style image (1, 3, h, w) in [0, 1]. Not cached: keep the result to
        reuse it (``forward`` accepts it wherever it accepts a style image)."""
        if style.ndim != 4 or style.shape[0] != 1 or style.shape[1] != 3:
            raise ConfigError(f"a style image must have shape (1, 3, H, W), got {tuple(style.shape)}")
        mean, std = self.stats(self.encode(self._pad(style))["relu4_1"])
        return StyleCode(mean, std)

    def _style_code(self, style: Tensor | StyleCode) -> StyleCode:
        """StyleCode of a style given as code or image; images are cached by identity + version."""
        if isinstance(style, StyleCode):
            return style.to(self._device())
        if not isinstance(style, Tensor):
            raise TypeError(f"a style must be an image tensor or a StyleCode, got {type(style).__name__}")
        key = id(style)
        hit = self._style_cache.get(key)
        device, dtype = self._device(), style.dtype
        if hit is not None:
            ref, version, dev, dt, code = hit
            if ref() is style and version == _version_of(style) and dev == device and dt == dtype:
                return code
        code = self.encode_style(style.to(device))
        # drop entries whose tensor is gone (ids can be reused) and keep the cache small
        self._style_cache = {k: v for k, v in self._style_cache.items() if v[0]() is not None}
        if len(self._style_cache) >= 16:
            self._style_cache.pop(next(iter(self._style_cache)))
        self._style_cache[key] = (weakref.ref(style), _version_of(style), device, dtype, code)
        return code

    def clear_style_cache(self) -> None:
        self._style_cache.clear()

    def _device(self) -> torch.device:
        return self.decoder.conv4_1.weight.device

    def pad_input(self, x: Tensor) -> Tensor:
        """``x`` as the encoder takes it: padded below :data:`MIN_SIZE` only (or, for ``pad_multiple`` > 1,
        reflection-padded to that multiple as well). On CPU in channels_last, oneDNN's faster layout, which
        the encoder and decoder keep (within 1e-4 of NCHW; benchmarks/bench_adain.py)."""
        x = x.contiguous(memory_format=torch.channels_last) if x.device.type == "cpu" else x
        m = self.pad_multiple
        if m == 1:
            return super().pad_input(x)
        x = pad_to_min(x, max(MIN_SIZE, m))  # so that the reflection below fits
        return F.pad(x, (0, (-x.shape[-1]) % m, 0, (-x.shape[-2]) % m), mode="reflect")

    _pad = pad_input  # the name AdaIN's own paths use

    def _apply(self, fn, *args, **kwargs):  # .to()/.cuda()/.half(): cached codes belong to the old device
        self._style_cache = {}
        return super()._apply(fn, *args, **kwargs)

    # ------------------------------------------------------------------ inference
    def target_features(self, content_feat: Tensor, styles: Sequence[Tensor | StyleCode] | Tensor,
                        alpha: float = 1.0, style_weights: Sequence[float] | None = None,
                        masks: Tensor | Sequence[Tensor] | None = None) -> Tensor:
        """The features the decoder turns into the output (float32).

        * one style (a batch tensor paired with the content batch, or one image / code): AdaIN;
        * several styles with ``style_weights``: AdaIN with the weighted mean of their statistics (weights
          normalised to sum 1), equal to the weighted sum of the single-style AdaIN outputs;
        * ``masks`` (one per style, each (1, 1, H, W) or (H, W) in [0, 1] at content resolution, or a
          (K, 1, H, W) tensor): each region gets its own style; the content statistics are those of the
          region (as AdaIN-style's spatial control), the regions are blended with the mask weights
          (normalised per pixel), and pixels no mask covers keep the content features;
        * then ``alpha * t + (1 - alpha) * content`` (paper eq. 14).
        """
        if not 0.0 <= float(alpha) <= 1.0:
            raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
        c = content_feat.float()
        if isinstance(styles, Tensor) and styles.shape[0] > 1:  # a batch of styles paired with the contents
            if masks is not None or style_weights is not None:
                raise ConfigError("style_weights and masks need the styles as a list of single images")
            if styles.shape[0] != c.shape[0]:
                raise ConfigError(f"{styles.shape[0]} style images for {c.shape[0]} content images")
            s_mean, s_std = self.stats(self.encode(styles)["relu4_1"])
            t = self.adain(c, s_mean, s_std)
        else:
            styles = [styles] if isinstance(styles, (Tensor, StyleCode)) else list(styles)
            if not styles:
                raise ConfigError("at least one style is needed")
            codes = [self._style_code(s) for s in styles]
            if masks is not None:
                if style_weights is not None:
                    raise ConfigError("masks and style weights cannot be combined: each mask takes one style")
                t = self._masked_adain(c, codes, masks)
            else:
                w = _normalise_weights(style_weights, len(codes))
                s_mean = sum(wi * code.mean for wi, code in zip(w, codes))
                s_std = sum(wi * code.std for wi, code in zip(w, codes))
                t = self.adain(c, s_mean, s_std)
        alpha = float(alpha)
        return t if alpha == 1.0 else alpha * t + (1.0 - alpha) * c

    def _masked_adain(self, c: Tensor, codes: Sequence[StyleCode], masks: Tensor | Sequence[Tensor]) -> Tensor:
        m = masks_to_tensor(masks).to(c.device)
        if m.shape[0] != len(codes):
            raise ConfigError(f"{m.shape[0]} masks for {len(codes)} styles: give one mask per style")
        if m.shape[-2:] != c.shape[-2:]:  # to feature resolution: the fraction of each cell in the region
            m = F.interpolate(m, size=c.shape[-2:], mode="area")
        total = m.sum(0, keepdim=True)
        out = torch.zeros_like(c)
        for k, code in enumerate(codes):
            if m[k].sum() == 0:
                continue  # the region vanished at feature resolution
            c_mean, c_std = self.stats(c, weight=m[k:k + 1])
            t_k = (c - c_mean) / c_std * code.std + code.mean
            out = out + m[k:k + 1] * t_k
        covered = total > 0
        return torch.where(covered, out / total.clamp_min(1e-8), c)

    def transfer(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        """pytorch-AdaIN's ``style_transfer``: ``content`` (N, 3, H, W) and ``style`` (N or 1, 3, h, w) in
        [0, 1] -> (N, 3, H, W) in [0, 1]. No cache and no options beyond ``alpha``, so that it traces and
        exports (:func:`zoo.export.export_model`); :meth:`forward` is the general entry point."""
        c = self.encode(self._pad(content))["relu4_1"]
        s_mean, s_std = self.stats(self.encode(self._pad(style))["relu4_1"])
        t = self.adain(c, s_mean, s_std)
        if alpha != 1.0:
            t = alpha * t + (1.0 - alpha) * c.float()
        return self.crop_output(self.decode(t.to(c.dtype)), content).clamp(0, 1)

    def for_export(self, alpha: float = 1.0) -> nn.Module:
        """A (content, style) -> picture module: :meth:`transfer` with ``alpha`` fixed (what
        :func:`zoo.export.export_model` traces)."""
        return _Transfer(self, alpha)

    def forward(self, content: Tensor, styles: Sequence[Tensor | StyleCode] | Tensor | StyleCode,
                alpha: float = 1.0, style_weights: Sequence[float] | None = None,
                masks: Tensor | Sequence[Tensor] | None = None, preserve_color: str | None = None,
                tile: int | None = None, progress: bool = False) -> Tensor:
        """Stylise ``content`` (N, 3, H, W) in [0, 1]; returns (N, 3, H, W) in [0, 1].

        ``styles``: a tensor (N or 1, 3, h, w) paired with (or broadcast over) the content batch, or a list
        of single style images / :class:`StyleCode` s (several styles: ``style_weights`` or ``masks``).
        ``preserve_color``: ``None``; ``"coral"`` (pytorch-AdaIN's ``--preserve_color``: recolour the styles
        to the content with :func:`zoo.color.coral` before encoding; one content image); ``"histogram"``
        (the same with Gatys et al.'s colour histogram matching, :func:`zoo.color.match_color`); or
        ``"luminance"`` (keep the content's chrominance in the output).
        ``tile``: compute the picture in windows of at most ``tile`` x ``tile`` pixels (bounded memory) with
        the whole image's feature statistics: the untiled picture within float rounding
        (:mod:`zoo.nets.adain_tiled`; at least :meth:`min_tile` pixels; ``progress``: a bar over the tiles).
        """
        from ..color import COLOR_MODES, check_preserve_color, coral, match_color, preserve_luminance

        mode = check_preserve_color(preserve_color, COLOR_MODES)
        if content.ndim != 4 or content.shape[1] != 3:
            raise ConfigError(f"content must have shape (N, 3, H, W), got {tuple(content.shape)}")
        if mode in ("histogram", "coral"):
            if content.shape[0] != 1:
                raise ConfigError(f"preserve_color={mode!r} works on one content image at a time")
            items = list(styles) if not isinstance(styles, (Tensor, StyleCode)) else [styles]
            if any(isinstance(s, StyleCode) for s in items):
                raise ConfigError(f"preserve_color={mode!r} recolours style images; pass images, not StyleCodes")
            recolour = match_color if mode == "histogram" else coral
            recoloured = [recolour(s, content.to(s.device).expand(s.shape[0], -1, -1, -1)) for s in items]
            codes = [self.encode_style(s.to(self._device())) for s in recoloured]  # not cached: depends on content
            styles = codes if not isinstance(styles, (Tensor, StyleCode)) else codes[0]
        h, w = content.shape[-2], content.shape[-1]
        if tile is not None:
            out = self._tiled(content, styles, alpha, style_weights, masks, tile, progress).clamp(0, 1)
            return preserve_luminance(out, content) if mode == "luminance" else out
        x = self._pad(content)
        c = self.encode(x)["relu4_1"]
        if masks is not None:  # at content resolution, padded like the content, then to the 8 x 8 cells of c
            masks = masks_to_tensor(masks).to(x.device)
            if masks.shape[-2:] != (h, w):
                masks = F.interpolate(masks, size=(h, w), mode="nearest")
            masks = self._pad(masks)
            ph, pw = 8 * c.shape[-2] - masks.shape[-2], 8 * c.shape[-1] - masks.shape[-1]
            masks = F.pad(masks, (0, pw, 0, ph), mode="replicate")
        t = self.target_features(c, styles, alpha, style_weights, masks)
        out = self.crop_output(self.decode(t.to(c.dtype)), content).clamp(0, 1)
        if mode == "luminance":
            out = preserve_luminance(out, content)
        return out

    # ------------------------------------------------------------------ tiles
    tile_align = 8  # the encoder's total stride: windows start on multiples of it (ZooNet.tile_align)

    def tile_margin(self) -> int | None:
        """Pixels of context a tile needs on each side (:mod:`zoo.nets.adain_tiled`: the encoder's and
        decoder's receptive-field radius, 62 px, rounded up to 8); ``None`` for configs that pad the input to
        a multiple (``pad_multiple`` > 1), whose statistics depend on the padding and cannot be tiled."""
        return MARGIN if self.pad_multiple == 1 else None

    def min_tile(self) -> int:
        """The smallest ``tile`` :meth:`forward` takes (two margins and 64 pixels of its own)."""
        return min_tile(self.tile_margin() or 0, self.tile_align)

    def _tiled(self, content: Tensor, styles, alpha: float, style_weights, masks, tile: int,
               progress: bool) -> Tensor:
        """:meth:`forward` with ``tile`` (before colour preservation by luminance): the options checked as the
        untiled path checks them, the styles encoded (cached as there), the masks at the content's size, then
        :func:`zoo.nets.adain_tiled.tiled_adain`. Unclamped."""
        if self.tile_margin() is None:
            raise ConfigError(f"tile: this AdaIN network (pad_multiple={self.pad_multiple}) cannot be tiled exactly")
        check_tile(tile, self.tile_margin(), "adain", self.tile_align)
        if isinstance(styles, Tensor) and styles.shape[0] > 1:
            raise ConfigError("tile: give the styles as a list of single images (or StyleCodes), not a batch")
        items = [styles] if isinstance(styles, (Tensor, StyleCode)) else list(styles)
        if not items:
            raise ConfigError("at least one style is needed")
        codes = [self._style_code(s) for s in items]
        if masks is not None:
            if style_weights is not None:
                raise ConfigError("masks and style weights cannot be combined: each mask takes one style")
            masks = masks_to_tensor(masks).to(content.device)
            if masks.shape[0] != len(codes):
                raise ConfigError(f"{masks.shape[0]} masks for {len(codes)} styles: give one mask per style")
            if masks.shape[-2:] != content.shape[-2:]:
                masks = F.interpolate(masks, size=content.shape[-2:], mode="nearest")
        else:
            _normalise_weights(style_weights, len(codes))  # the untiled path's errors, before any work
        if not 0.0 <= float(alpha) <= 1.0:
            raise ConfigError(f"alpha must be in [0, 1], got {alpha}")
        return tiled_adain(self, content, codes, tile, alpha, style_weights, masks, progress)

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_pytorch_adain(cls, decoder: str | os.PathLike | Mapping[str, Tensor],
                           vgg: str | os.PathLike | None = "caffe") -> "AdaINNet":
        """The published pytorch-AdaIN model: its ``decoder.pth`` (path or state dict) with its
        ``vgg_normalised.pth`` (``"caffe"`` downloads it; or a path) and its unbiased std."""
        if not isinstance(decoder, Mapping):
            from ..backbone import load_state_dict_file

            decoder = load_state_dict_file(decoder)
        net = cls(**{**pytorch_adain_config(), "backbone_weights": "none" if vgg is None else str(vgg)})

        load_strict(net, convert_pytorch_adain_state_dict(decoder), "pytorch-AdaIN decoder")
        return net


class _Transfer(nn.Module):
    def __init__(self, net: AdaINNet, alpha: float) -> None:
        super().__init__()
        self.net, self.alpha = net, float(alpha)

    def forward(self, content: Tensor, style: Tensor) -> Tensor:
        return self.net.transfer(content, style, self.alpha)


def _version_of(t: Tensor) -> int:
    """The in-place modification counter of ``t``; inference-mode tensors have none (-1: identity only)."""
    try:
        return t._version
    except RuntimeError:
        return -1


# ---------------------------------------------------------------------------------------- importer
def convert_pytorch_adain_state_dict(sd: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """pytorch-AdaIN's ``decoder.pth`` -> an :class:`AdaINNet` state dict (``decoder.<name>.*``).

    ``decoder.pth`` is the state dict of net.py's ``decoder`` ``nn.Sequential``, whose convolutions are at
    indices 1, 5, 8, 11, 14, 18, 21, 25, 28 (``"1.weight"``, ...); a ``decoder.`` prefix (from a whole
    ``Net``) is accepted. The encoder is not part of the state dict: its ``vgg_normalised.pth`` is read by
    :class:`zoo.backbone.VGGEncoder` (``weights="caffe"`` or the file's path).
    """
    sd = dict(sd)
    if "0.weight" in sd and tuple(sd["0.weight"].shape) == (3, 3, 1, 1):
        raise ConfigError("this is pytorch-AdaIN's vgg_normalised.pth (the encoder), not decoder.pth: "
                         "use it as backbone weights (--backbone-weights PATH, VGGEncoder(weights=PATH))")
    if any(k.startswith("decoder.") for k in sd):
        sd = {k[len("decoder."):]: v for k, v in sd.items() if k.startswith("decoder.")}
    out: dict[str, Tensor] = {}
    for name, c_in, c_out, _, index in _DECODER:
        for p in ("weight", "bias"):
            key = f"{index}.{p}"
            if key not in sd:
                raise NotFoundError(f"not a pytorch-AdaIN decoder state dict: {key!r} missing (has {sorted(sd)[:6]}...)")
            out[f"decoder.{name}.{p}"] = sd.pop(key)
        shape = tuple(out[f"decoder.{name}.weight"].shape)
        if shape != (c_out, c_in, 3, 3):
            raise ConfigError(f"pytorch-AdaIN decoder {index}.weight has shape {shape}, expected {(c_out, c_in, 3, 3)}")
    if sd:
        raise NotFoundError(f"unexpected keys in pytorch-AdaIN decoder state dict: {sorted(sd)[:6]}")
    return out


def pytorch_adain_config() -> dict[str, Any]:
    """The :class:`AdaINNet` config that computes what pytorch-AdaIN computes with its published weights:
    its Caffe-normalised VGG19 and its unbiased std (``function.py`` ``calc_mean_std``: ``Tensor.var``)."""
    return {"backbone_weights": "caffe", "unbiased_std": True}


# ---------------------------------------------------------------------------------------- registry


# How zoo.stylizers.load_network recognises pytorch-AdaIN's decoder.pth (the adain family's importer).
PYTORCH_ADAIN = Importer("pytorch-AdaIN's decoder.pth", lambda sd: "28.weight" in sd or "decoder.28.weight" in sd,
                         convert_pytorch_adain_state_dict, lambda sd: pytorch_adain_config())


@MODELS.register("adain")
def adain(**config: Any) -> AdaINNet:
    """AdaIN network (Huang & Belongie 2017): frozen VGG19 encoder to relu4_1, AdaIN, mirrored decoder.
    Config: backbone_weights ("caffe"), eps (1e-5), unbiased_std (False), pad_multiple (1)."""
    return AdaINNet(**config)


_NET_KEYS = ("backbone_weights", "eps", "unbiased_std", "pad_multiple")


def net_config_from_hparams(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """AdaINNet config from a Lightning checkpoint's hyper-parameters (``network`` + ``backbone``) or a
    ``config.json`` (the net's own keys)."""
    if "network" in hparams or "backbone" in hparams:
        config = dict(hparams.get("network") or {})
        backbone = dict(hparams.get("backbone") or {})
        if "weights" in backbone:
            config.setdefault("backbone_weights", backbone["weights"])
    else:
        config = dict(hparams)
    return {k: v for k, v in config.items() if k in _NET_KEYS}


# Loading and inference moved to zoo.stylizers; the old names work, with a DeprecationWarning, for one release.
__getattr__ = moved_names(__name__, {
    "load_adain": "zoo.stylizers.load_adain",
    "AdaINStylizer": "zoo.stylizers.AdaINStylizer",
    "build_adain_stylizer": "zoo.stylizers.build_adain_stylizer",
})
