"""The image transformation network of Johnson, Alahi & Fei-Fei 2016, "Perceptual Losses for Real-Time
Style Transfer and Super-Resolution" (ECCV 2016; architecture in its supplementary material).

Layout (supplementary Table 1, with the changes the authors' own later code and pytorch/examples made):

* 9x9 conv (32) -> 3x3 stride-2 conv (64) -> 3x3 stride-2 conv (128),
* 5 residual blocks of two 3x3 convs (128) (He et al. 2016, Gross & Wilber's variant without a ReLU after
  the addition),
* two x2 upsampling steps (64, 32), and a 9x9 conv to 3 channels.

Changes from the paper, each switchable here:

* instance normalisation instead of batch normalisation (Ulyanov, Vedaldi & Lempitsky 2016, "Instance
  Normalization: The Missing Ingredient for Fast Stylization") -- ``norm="instance"``;
* reflection padding instead of zero padding, so borders do not darken (as in Johnson's
  ``fast-neural-style`` Torch code and pytorch/examples);
* resize-convolution (nearest-neighbour upsampling then a 3x3 conv) instead of fractionally strided
  convolution, which removes checkerboard artifacts (Odena, Dumoulin & Olah 2016, "Deconvolution and
  Checkerboard Artifacts", Distill) -- ``upsample="nearest"``.

Interface: RGB in [0, 1], (N, 3, H, W), any H and W, output RGB in [0, 1] of the same size. The network runs
on the image as it is, as pytorch/examples' does (no padding to a multiple of 4: it would enter the instance
norm statistics); its output is then 4 * ceil(H / 4) x 4 * ceil(W / 4) and the top-left H x W is kept.
Sides under :attr:`TransformerNet.min_size` (5 px, where the original's reflection pads fail) are first padded
by repeating the last row/column (the contract of :class:`zoo.nets.base.ZooNet`). ``output`` picks
how the last conv is mapped to [0, 1]: ``"tanh"`` ((tanh(y) + 1) / 2, the paper's "scaled tanh"),
``"sigmoid"`` or ``"clamp"`` (a plain clamp, used for imported networks that were trained without an
output non-linearity). ``input_scale``/``output_scale`` let a network trained on 0-255 pixels (the
pytorch/examples ones) run behind the [0, 1] interface: the body sees ``x * input_scale`` and its output
is multiplied by ``output_scale`` before the output mapping.

:func:`convert_fast_neural_style_state_dict` imports the published pytorch/examples checkpoints; :data:`FAMILY`
declares the ``johnson`` family with their four tags.
"""

from __future__ import annotations

import re
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import NotFoundError
from ..checkpoint import Importer
from ..families import Family
from ..pins import Pin
from ..registry import MODELS
from ..weights import HUB_OWNER, CanonicalSource, PretrainedWeights
from .base import ZooNet
from .fast import (cached_weight, channels_last, fast_norm, is_narrow, is_upsample_conv, narrow_conv2d,
                   upsample_conv2d)

__all__ = [
    "TransformerNet", "build_johnson", "convert_fast_neural_style_state_dict", "fast_neural_style_config",
]

NORMS = ("instance", "batch", "none")
UPSAMPLES = ("nearest", "bilinear")
OUTPUTS = ("tanh", "sigmoid", "clamp")
# The smallest side the original network takes: its first 9x9 conv reflection-pads by 4 (needs >= 5 px),
# and the 1/4-resolution map, ceil(ceil(H / 2) / 2) px, must be >= 2 for the residual blocks' pad of 1.
MIN_SIZE = 5

def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        # affine, no running statistics: normalise every image by its own statistics, also at test time.
        return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


class ConvLayer(nn.Module):
    """Reflection padding by k // 2, then a convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(self.pad(x))


class ConvNormReLU(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, norm: str,
                 upsample: str | None = None) -> None:
        super().__init__()
        self.upsample = upsample
        self.conv = ConvLayer(c_in, c_out, kernel, stride)
        self.norm = _norm(norm, c_out)

    def forward(self, x: Tensor) -> Tensor:
        if self.upsample is not None:  # resize-convolution
            x = F.interpolate(x, scale_factor=2.0, mode=self.upsample,
                              **({} if self.upsample == "nearest" else {"align_corners": False}))
        return F.relu(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    """x + norm(conv(relu(norm(conv(x))))) -- no ReLU after the sum (Gross & Wilber 2016, as in the paper)."""

    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.norm1 = _norm(norm, channels)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.norm2 = _norm(norm, channels)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        return x + self.norm2(self.conv2(y))


def _fast_conv(layer: "ConvLayer", x: Tensor, cache: dict) -> Tensor:
    """``layer(x)`` with the convolution weight in channels_last, converted once (otherwise oneDNN would
    reorder the weight on every call); a head to RGB as :func:`zoo.nets.fast.narrow_conv2d`."""
    if is_narrow(layer.conv):
        return narrow_conv2d(layer.conv, layer.pad(x), cache)
    weight = cached_weight(layer.conv.weight, cache, id(layer.conv), channels_last)
    return F.conv2d(layer.pad(x), weight, layer.conv.bias, layer.conv.stride)


def _fast_conv_norm_relu(layer: "ConvNormReLU", x: Tensor, cache: dict, scratch: dict) -> Tensor:
    conv = layer.conv.conv
    if (layer.upsample == "nearest" and is_upsample_conv(conv) and isinstance(layer.conv.pad, nn.ReflectionPad2d)
            and layer.conv.pad.padding == (1, 1, 1, 1)):
        x = upsample_conv2d(conv, x, cache)
    else:
        if layer.upsample is not None:
            x = F.interpolate(x, scale_factor=2.0, mode=layer.upsample,
                              **({} if layer.upsample == "nearest" else {"align_corners": False}))
        x = _fast_conv(layer.conv, x, cache)
    return fast_norm(layer.norm, x, scratch).relu_()


class TransformerNet(ZooNet, library_name="stylezoo", tags=["style-transfer", "johnson2016"]):
    """Johnson et al. 2016 image transformation network; RGB [0, 1] in and out, any H and W.

    Args:
        channels: widths of the three down-sampling convolutions (paper: 32, 64, 128); the up-sampling
            path mirrors them.
        num_residual: residual blocks at 1/4 resolution (paper: 5).
        norm: ``"instance"`` (Ulyanov et al. 2016; default), ``"batch"`` (the paper) or ``"none"``.
        upsample: ``"nearest"`` or ``"bilinear"`` resize before each up-sampling conv.
        output: ``"tanh"``, ``"sigmoid"`` or ``"clamp"`` (see module docstring).
        input_scale: the body sees ``x * input_scale`` (255 for networks trained on 0-255 pixels).
        output_scale: the body's output is multiplied by this before ``output`` (1/255 for those).

    All arguments are JSON values, so ``save_pretrained``/``from_pretrained`` write and read
    ``config.json`` + ``model.safetensors``; ``from_pretrained`` loads strictly.
    """

    min_size = MIN_SIZE

    def __init__(self, channels: list[int] = [32, 64, 128], num_residual: int = 5,  # noqa: B006 (JSON config)
                 norm: str = "instance", upsample: str = "nearest", output: str = "tanh",
                 input_scale: float = 1.0, output_scale: float = 1.0) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if len(channels) != 3 or min(channels) < 1:
            raise ValueError(f"channels must be three positive widths, got {channels}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {norm!r}")
        if upsample not in UPSAMPLES:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLES)}, got {upsample!r}")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        if int(num_residual) < 0:
            raise ValueError(f"num_residual must be >= 0, got {num_residual}")
        self.config_dict = dict(channels=channels, num_residual=int(num_residual), norm=norm, upsample=upsample,
                                output=output, input_scale=float(input_scale), output_scale=float(output_scale))
        self.output, self.input_scale, self.output_scale = output, float(input_scale), float(output_scale)
        c1, c2, c3 = channels
        self.down = nn.Sequential(
            ConvNormReLU(3, c1, 9, 1, norm),
            ConvNormReLU(c1, c2, 3, 2, norm),
            ConvNormReLU(c2, c3, 3, 2, norm),
        )
        self.res = nn.Sequential(*[ResidualBlock(c3, norm) for _ in range(int(num_residual))])
        self.up = nn.Sequential(
            ConvNormReLU(c3, c2, 3, 1, norm, upsample=upsample),
            ConvNormReLU(c2, c1, 3, 1, norm, upsample=upsample),
        )
        self.head = ConvLayer(c1, 3, 9)

    def tile_margin(self) -> int:
        """Pixels of context a tile needs on each side for :func:`zoo.tiling.tiled_apply_exact`: the
        receptive-field radius (4 + 1 + 2 down, 8 per residual block, 2 + 2 per up-sampling step including
        its rounding, 4 for the last conv) with room for bilinear up-sampling, as a multiple of 4."""
        return 4 * -(-(22 + 8 * self.config_dict["num_residual"]) // 4)

    @property
    def config(self) -> dict:
        """The constructor arguments (JSON values)."""
        return dict(self.config_dict)

    def body(self, x: Tensor) -> Tensor:
        """The raw network (no scaling, no output mapping) on H, W >= :data:`MIN_SIZE`; its output is
        4 * ceil(H / 4) x 4 * ceil(W / 4), as pytorch/examples' ``TransformerNet`` gives."""
        return self.head(self.up(self.res(self.down(x))))

    def forward(self, x: Tensor) -> Tensor:
        if self.input_scale != 1.0:
            x = x * self.input_scale
        y = self.any_size(self.body, x)
        if self.output_scale != 1.0:
            y = y * self.output_scale
        if self.output == "tanh":
            return (torch.tanh(y) + 1) * 0.5
        if self.output == "sigmoid":
            return torch.sigmoid(y)
        return y.clamp(0, 1)

    @torch.no_grad()
    def forward_fast(self, x: Tensor) -> Tensor:
        """The same function as :meth:`forward` (equal within float rounding, ~1e-5), for inference only.

        This is what ``zoo stylize --model johnson`` runs on CPU. Measured on 2 AVX2 cores
        (``benchmarks/bench_johnson.py``) it is 1.5-2.0x faster than :meth:`forward` (see docs/johnson.md),
        because:

        * activations are kept in channels_last (NHWC) memory format, the layout oneDNN's convolutions
          work in natively -- in NCHW every convolution reorders its input and output (the convolutions
          alone are ~1.5x faster in NHWC);
        * instance normalisation is computed in place on the NHWC tensor, with pairwise sums
          (:func:`zoo.nets.fast.fast_norm`), whereas ``nn.InstanceNorm2d`` (batch norm over a reshaped
          copy) is ~4x slower in NHWC -- the reason plain channels_last did not help;
        * each nearest-upsampling + 3x3 convolution runs as one 2x2 convolution per output phase at the
          low resolution, interleaved into the upsampled output (:func:`zoo.nets.fast.upsample_conv2d`):
          16/36 of the multiply-adds, and the upsampled image is never made;
        * the 9x9 convolution to RGB runs as a 9x1 convolution to 27 channels and 9 shifted sums
          (:func:`zoo.nets.fast.narrow_conv2d`: oneDNN would compute 16 channels and keep 3);
        * ReLU and the residual addition are done in place.

        Runs without autograd (gradients are never needed at stylisation time); the output is a contiguous
        NCHW tensor like :meth:`forward`'s. Inputs under 16 pixels on a side run the plain forward.
        """
        if min(x.shape[-2], x.shape[-1]) < 16:  # 1/4-resolution maps of a few pixels: keep the plain arithmetic
            return self(x)
        image, x = x, x.contiguous(memory_format=torch.channels_last)
        if self.input_scale != 1.0:
            x = x * self.input_scale
        cache = self.__dict__.setdefault("_fast_weights", {})  # plain attribute: never in the state_dict
        scratch: dict = {}  # buffers for this pass only
        for layer in self.down:
            x = _fast_conv_norm_relu(layer, x, cache, scratch)
        for block in self.res:
            y = fast_norm(block.norm1, _fast_conv(block.conv1, x, cache), scratch).relu_()
            x = fast_norm(block.norm2, _fast_conv(block.conv2, y, cache), scratch).add_(x)
        for layer in self.up:
            x = _fast_conv_norm_relu(layer, x, cache, scratch)
        y = self.crop_output(_fast_conv(self.head, x, cache), image)
        if self.output_scale != 1.0:
            y = y * self.output_scale
        if self.output == "tanh":
            y = (torch.tanh(y) + 1) * 0.5
        elif self.output == "sigmoid":
            y = torch.sigmoid(y)
        else:
            y = y.clamp(0, 1)
        return y.contiguous()


    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config_dict.items())


@MODELS.register("johnson")
def build_johnson(**config) -> TransformerNet:
    """Johnson et al. 2016 image transformation network (instance norm, reflection padding,
    resize-convolution); see :class:`zoo.nets.johnson.TransformerNet` for the arguments."""
    return TransformerNet(**config)


# --------------------------------------------------------------------------------------------- importer
def fast_neural_style_config() -> dict:
    """Config of a :class:`TransformerNet` that reproduces pytorch/examples' ``TransformerNet`` exactly
    through the [0, 1] interface: that network reads 0-255 pixels and writes 0-255 pixels with no output
    non-linearity (its ``stylize`` clamps to 0-255 when saving), hence ``input_scale=255``,
    ``output_scale=1/255`` and ``output="clamp"``."""
    return dict(channels=[32, 64, 128], num_residual=5, norm="instance", upsample="nearest", output="clamp",
                input_scale=255.0, output_scale=1.0 / 255.0)


# pytorch/examples key -> our key. Their layout (fast_neural_style/neural_style/transformer_net.py):
# conv1..conv3 / deconv1..deconv3 are ConvLayer or UpsampleConvLayer holding ``conv2d``; in1..in5 are the
# InstanceNorm2d layers; res1..res5 are ResidualBlocks with conv1/in1/conv2/in2.
_FNS_PREFIXES = {
    "conv1.conv2d.": "down.0.conv.conv.", "in1.": "down.0.norm.",
    "conv2.conv2d.": "down.1.conv.conv.", "in2.": "down.1.norm.",
    "conv3.conv2d.": "down.2.conv.conv.", "in3.": "down.2.norm.",
    "deconv1.conv2d.": "up.0.conv.conv.", "in4.": "up.0.norm.",
    "deconv2.conv2d.": "up.1.conv.conv.", "in5.": "up.1.norm.",
    "deconv3.conv2d.": "head.conv.",
}
_FNS_RES = {"conv1.conv2d.": "conv1.conv.", "in1.": "norm1.", "conv2.conv2d.": "conv2.conv.", "in2.": "norm2."}
_RUNNING_STAT = re.compile(r"(^|\.)in\d+\.(running_mean|running_var|num_batches_tracked)$")


def convert_fast_neural_style_state_dict(sd: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Map a pytorch/examples ``fast_neural_style`` checkpoint (``candy.pth``, ``mosaic.pth``,
    ``rain_princess.pth``, ``udnie.pth``) to :class:`TransformerNet` keys; build the network with
    :func:`fast_neural_style_config`.

    The published files were saved by an old PyTorch whose InstanceNorm2d kept ``running_mean`` /
    ``running_var``; they are unused at inference (instance norm always uses the image's statistics) and
    are dropped, as pytorch/examples' own ``stylize`` does. Any other unknown key is an error.
    """
    out: dict[str, Tensor] = {}
    unknown = []
    for key, value in sd.items():
        if _RUNNING_STAT.search(key):
            continue
        m = re.match(r"res(\d)\.(.*)$", key)
        new = None
        if m:
            for old, repl in _FNS_RES.items():
                if m.group(2).startswith(old):
                    new = f"res.{int(m.group(1)) - 1}.{repl}{m.group(2)[len(old):]}"
                    break
        else:
            for old, repl in _FNS_PREFIXES.items():
                if key.startswith(old):
                    new = repl + key[len(old):]
                    break
        if new is None:
            unknown.append(key)
        else:
            out[new] = value
    if unknown:
        raise NotFoundError(f"not a pytorch/examples fast_neural_style checkpoint: unexpected keys {unknown[:5]}")
    return out


# How zoo.loading.load_network recognises a pytorch/examples file (the johnson family's importer).
FAST_NEURAL_STYLE = Importer("a fast_neural_style .pth",
                             lambda sd: "conv1.conv2d.weight" in sd and "deconv3.conv2d.weight" in sd,
                             convert_fast_neural_style_state_dict, lambda sd: fast_neural_style_config())


# --------------------------------------------------------------------------------------------- the family
CONVERTER = f"{__name__}.convert_fast_neural_style_state_dict"

# pytorch/examples fast_neural_style: the four pretrained styles ship in one zip, downloaded by
# fast_neural_style/download_saved_models.py; the repository is BSD-3-Clause (pytorch/examples LICENSE).
# No checksum is published for the zip (nor for the four .pth in it), and no independent copy's hash was
# found: it is used unverified, with a warning (docs/hub.md).
_FNS_PIN = Pin(unpinned="pytorch/examples publishes no checksum for saved_models.zip (served from Dropbox) "
                        "and no hash of it from an independent source is known")
_FNS_ZIP = "https://www.dropbox.com/s/lrvwfehqdcxoza8/saved_models.zip?dl=1"
_JOHNSON_PAPER = ("Johnson, Alahi, Fei-Fei. Perceptual Losses for Real-Time Style Transfer and "
                  "Super-Resolution. ECCV 2016")

FAMILY = Family(
    name="johnson",
    description="Johnson et al. 2016 feed-forward image transformation network (one style per network)",
    stylizer="zoo.stylizers:build_image_stylizer",
    options=frozenset({"tile", "preserve_color"}),
    network=f"{__name__}:TransformerNet",
    module="zoo.variants.johnson:PerceptualVariant",
    former_modules=("zoo.variants.perceptual.PerceptualVariant",),
    converters=(CONVERTER,),
    importers=(f"{__name__}:FAST_NEURAL_STYLE",),
    recipes=("johnson",),
    bytes_per_pixel=900,
    pretrained=tuple(PretrainedWeights(
        tag=f"johnson_{style}",
        name=f"johnson.{style}",
        arch="johnson",
        description=f"Johnson et al. 2016 feed-forward network for the {title} style "
                    f"(pytorch/examples fast_neural_style weights)",
        licence="bsd-3-clause",
        training_data=f"MS-COCO 2014 train (content) and the {style}.jpg style image of "
                      f"pytorch/examples fast_neural_style",
        repo_id=f"{HUB_OWNER}/johnson-{style.replace('_', '-')}",
        config=fast_neural_style_config(),
        canonical=CanonicalSource(
            url=_FNS_ZIP,
            member=f"saved_models/{style}.pth",
            file="fast_neural_style_saved_models.zip",  # one download for the four styles
            converter=CONVERTER,
            licence="bsd-3-clause",
            citation="pytorch/examples, fast_neural_style (download_saved_models.py), BSD-3-Clause",
            pin=_FNS_PIN,
        ),
        paper=_JOHNSON_PAPER,
    ) for style, title in (("candy", "Candy"), ("mosaic", "Mosaic"), ("rain_princess", "Rain Princess"),
                           ("udnie", "Udnie (Francis Picabia)"))),
)
