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
  with per-channel statistics over H, W computed in float32 and ``sigma = sqrt(var + eps)``
  (:mod:`zoo.nets.adain_stats`);
* a decoder that mirrors the encoder (paper sec. 6.1), pytorch-AdaIN's (:mod:`zoo.nets.adain_decoder`, with
  the importer of its published ``decoder.pth``).

The module also declares the ``adain`` family (:data:`FAMILY`) and its pretrained tags: pytorch-AdaIN's
decoder and our AdaIN-GAN (:mod:`zoo.variants.adain`).

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
*unbiased* (divides by H*W - 1), while the paper (and :func:`zoo.stats.mean_std` by default) use the biased
estimate. ``unbiased_std=True`` reproduces the reference; checkpoints imported with
:func:`convert_pytorch_adain_state_dict` are meant to be run with it (``from_pytorch_adain`` sets it).
The difference is a factor sqrt(n / (n - 1)) on both standard deviations -- invisible at real sizes.
"""

from __future__ import annotations

import os
import weakref
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..backbone import VGGEncoder
from ..checkpoint import load_strict
from ..errors import ConfigError
from ..families import Family
from ..io import masks_to_tensor
from ..pins import Pin
from ..registry import MODELS
from ..stats import mean_std
from ..tiling import min_tile
from ..weights import HUB_OWNER, CanonicalSource, PretrainedWeights
from .adain_decoder import CANONICAL, AdaINDecoder, convert_pytorch_adain_state_dict, pytorch_adain_config
from .adain_stats import EPS, StyleCode, adaptive_instance_norm, normalise_weights
from .adain_tiled import MARGIN, stylize_tiled
from .base import ZooNet, moved_names, pad_to_min
from .fast import inference_on_cpu

__all__ = [
    "AdaINNet", "AdaINDecoder", "StyleCode", "adaptive_instance_norm", "masks_to_tensor",
    "convert_pytorch_adain_state_dict", "pytorch_adain_config", "net_config_from_hparams", "CANONICAL",
    "ENCODER_LAYERS", "FAMILY",
]

# Layers the encoder provides: the style loss reads relu1_1..relu4_1, AdaIN works on relu4_1 (paper sec. 6.1).
ENCODER_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
# The smallest side pytorch-AdaIN takes: relu4_1 is at 1/8 scale (three ceil-mode poolings,
# ceil(ceil(ceil(H / 2) / 2) / 2) px), which must be >= 2 for the reflection pad of 1 around conv4_1.
MIN_SIZE = 9



# ---------------------------------------------------------------------------------------- networks
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
        return mean_std(feats, self.eps, self.unbiased_std, weight)

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
                w = normalise_weights(style_weights, len(codes))
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
            out = stylize_tiled(self, content, styles, alpha, style_weights, masks, tile, progress).clamp(0, 1)
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


# ---------------------------------------------------------------------------------------- the family
_ADAIN_PAPER = ("Huang, Belongie. Arbitrary Style Transfer in Real-time with Adaptive Instance "
                "Normalization. ICCV 2017")
CONVERTER = f"{__name__}.convert_pytorch_adain_state_dict"  # defined in zoo.nets.adain_decoder

FAMILY = Family(
    name="adain",
    description="AdaIN network of Huang & Belongie 2017 (arbitrary style transfer: content and style images)",
    stylizer="zoo.stylizers:build_adain_stylizer",
    options=frozenset({"style_weights", "alpha", "preserve_color", "masks", "backbone_weights", "tile"}),
    network=f"{__name__}:AdaINNet",
    module="zoo.variants.adain:AdaINGAN",
    former_modules=("zoo.variants.adain_gan.AdaINGAN",),
    network_config=f"{__name__}:net_config_from_hparams",
    loader_options=("backbone_weights",),
    converters=(CONVERTER,),
    importers=("zoo.nets.adain_decoder:PYTORCH_ADAIN",),
    needs_style=True,
    random_weights=True,
    default_tag="adain_original",
    recipes=("adain", "adain_plain"),
    bytes_per_pixel=1300,
    pretrained=(
        # pytorch-AdaIN (naoto0804, MIT licence): decoder.pth from the repository's release v0.0.0. The release
        # (2017) predates GitHub's release-asset digests and the repository publishes no checksum; the sha256
        # pinned here is the one independent public projects pin for this release file (weight manifests and
        # download scripts of at least 3 projects, GitHub code search, 2026-12).
        PretrainedWeights(
            tag="adain_original",
            name="adain.original",
            arch="adain",
            description="AdaIN decoder of pytorch-AdaIN (Huang & Belongie 2017), arbitrary style transfer",
            licence="mit",
            training_data="MS-COCO 2014 train (content) and WikiArt (style)",
            repo_id=f"{HUB_OWNER}/adain",
            config=pytorch_adain_config(),
            canonical=CanonicalSource(
                url=CANONICAL["decoder"],
                converter=CONVERTER,
                licence="mit",
                citation="naoto0804/pytorch-AdaIN, README (models), release v0.0.0, MIT licence",
                pin=Pin(sha256="379ca41d59f3a37eed3599bbbc2560c19da5c458870a5ffd3a9dd41aa88f9472",
                        source="pinned for releases/download/v0.0.0/decoder.pth by at least 3 independent public "
                               "projects' weight manifests and download scripts (GitHub code search, 2026-12)"),
            ),
            datasets=("huggan/wikiart",),
            paper=_ADAIN_PAPER,
            # until this release the tag was "adain", which now names the family (whose default tag this is)
            former=("adain", "adain.pytorch_adain"),
        ),
        PretrainedWeights(  # ours: AdaIN-GAN, recipes/adain.yaml (zoo.variants.adain)
            tag="adain_gan",
            name="adain.gan",
            arch="adain",
            description="AdaIN network trained with an additional adversarial loss (AdaIN-GAN), by Stylezoo",
            licence="apache-2.0",
            training_data="MS-COCO 2014 train (content) and WikiArt (style)",
            repo_id=f"{HUB_OWNER}/adain-gan",
            config={"backbone_weights": "caffe"},  # recipes/adain.yaml's backbone
            recipe="recipes/adain.yaml",
            datasets=("huggan/wikiart",),
            paper=_ADAIN_PAPER,
        ),
    ),
)


# Loading and inference moved to zoo.stylizers; the old names work, with a DeprecationWarning, for one release.
__getattr__ = moved_names(__name__, {
    "load_adain": "zoo.stylizers.load_adain",
    "AdaINStylizer": "zoo.stylizers.AdaINStylizer",
    "build_adain_stylizer": "zoo.stylizers.build_adain_stylizer",
})
