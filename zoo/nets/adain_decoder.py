"""The decoder of pytorch-AdaIN (naoto0804/pytorch-AdaIN, ``net.py`` ``decoder``) and the importer of its
published ``decoder.pth``: the layout they share, :class:`AdaINDecoder` (the trained part of
:class:`zoo.nets.adain.AdaINNet`), :func:`convert_pytorch_adain_state_dict` and the config that computes what
pytorch-AdaIN computes (:func:`pytorch_adain_config`)."""

from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..backbone import CAFFE_VGG19_URL
from ..checkpoint import Importer
from ..errors import ConfigError, NotFoundError
from .fast import cached_weight, channels_last, is_narrow, is_upsample_conv, narrow_conv2d, upsample_conv2d

__all__ = ["AdaINDecoder", "DECODER", "CANONICAL", "convert_pytorch_adain_state_dict", "pytorch_adain_config",
           "PYTORCH_ADAIN"]

# Canonical published weights of the reference implementation (README of naoto0804/pytorch-AdaIN,
# GitHub release v0.0.0; trained on MS-COCO content and WikiArt style images, the paper's data).
CANONICAL = {
    # the decoder trained by pytorch-AdaIN's train.py (nn.Sequential state dict, see convert_... below)
    "decoder": "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/decoder.pth",
    # the Caffe-normalised VGG19 of Gatys' and AdaIN's original code; zoo.backbone reads it as is
    # (VGGEncoder(weights="caffe") downloads it, or weights=<path to vgg_normalised.pth>)
    "vgg_normalised": CAFFE_VGG19_URL,
}

# The decoder, top to bottom: (name, in, out, upsample x2 after this layer). Mirrors VGG19 from relu4_1
# down to the image; pytorch-AdaIN net.py `decoder` (nn.Sequential index of each conv in the last column).
DECODER = [
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


class AdaINDecoder(nn.Module):
    """The decoder of pytorch-AdaIN: 9 reflection-padded 3x3 convolutions, ReLU after all but the last,
    nearest-neighbour x2 upsampling after conv4_1, conv3_1 and conv2_1. relu4_1 features -> RGB."""

    def __init__(self) -> None:
        super().__init__()
        for name, c_in, c_out, _, _ in DECODER:
            self.add_module(name, nn.Conv2d(c_in, c_out, 3))

    def forward(self, h: Tensor) -> Tensor:
        last = DECODER[-1][0]
        for name, _, _, up, _ in DECODER:
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
        h, last, upsampled = h.contiguous(memory_format=torch.channels_last), DECODER[-1][0], False
        for name, _, _, up, _ in DECODER:
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
    for name, c_in, c_out, _, index in DECODER:
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


# How zoo.loading.load_network recognises pytorch-AdaIN's decoder.pth (the adain family's importer).
PYTORCH_ADAIN = Importer("pytorch-AdaIN's decoder.pth", lambda sd: "28.weight" in sd or "decoder.28.weight" in sd,
                         convert_pytorch_adain_state_dict, lambda sd: pytorch_adain_config())
