"""The shared VGG feature encoder: named layers, several weight sources, preprocessing inside.

Every variant extracts features through :class:`VGGEncoder`. It takes RGB images in [0, 1] of shape
(N, 3, H, W) and returns a ``dict`` of the requested layers, named after the papers' convention
(``conv4_2``, ``relu4_1``, ``pool3``). The network is truncated after the deepest layer that will ever
be asked for, and each forward stops at the deepest layer asked for in that call.

The encoder is frozen. Its weights are stored as *non-persistent buffers*: they move with ``.to()``
but are neither trained nor written into the checkpoints of the networks that use it; a network
re-creates its encoder from the weight source named in its config.

Weight sources (``weights=``), each downloaded once into a cache and verified by :mod:`zoo.download`
before every read (a modified cached copy is refused):

``"imagenet"``
    torchvision's ImageNet weights (``VGG19_Weights.IMAGENET1K_V1``: ``vgg19-dcbb9e9d.pth``), in
    ``$TORCH_HOME/hub/checkpoints``; input normalised with the ImageNet mean/std.
``"timm"``
    The same torchvision weights as published on the Hugging Face Hub by timm (``timm/vgg19.tv_in1k``,
    safetensors), pinned to a commit and its LFS sha256 (honours ``HF_HUB_OFFLINE`` and the HF cache).
``"caffe"``
    The "normalised" Caffe VGG19 used by the original Gatys and AdaIN code, as converted by
    pytorch-AdaIN (``vgg_normalised.pth``, release v0.0.0 of naoto0804/pytorch-AdaIN; verified against the
    sha256 independent projects pin for it, ``CAFFE_VGG19_PIN``). It starts with
    a 1x1 convolution that turns RGB [0, 1] into mean-subtracted BGR 0-255 (the Caffe preprocessing),
    uses reflection padding and ceil-mode pooling, as that code does.
``"none"`` / ``None``
    Random weights (Kaiming init), for tests and smoke runs only.
a path
    A local ``.safetensors`` / ``.pth`` file in torchvision/timm key layout (``features.N.weight``,
    ImageNet preprocessing) or in pytorch-AdaIN's ``vgg_normalised.pth`` layout (Caffe preprocessing).
    A file given by hand is read as it is (with ``weights_only=True``), not checked against a checksum.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Literal, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .errors import ConfigError
from .download import WeightsUnavailableError, checkpoints_dir, fetch_hub_file, fetch_url, torchvision_weights_file
from .pins import Pin

__all__ = ["VGGEncoder", "WeightsUnavailableError", "layer_names", "load_state_dict_file"]

# Layer configurations of Simonyan & Zisserman 2015 (VGG16 = "D", VGG19 = "E"); "M" is a pooling layer.
_CFGS: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Where the published weights live. torchvision's: zoo.download.TORCHVISION_WEIGHTS; these are the others.
# timm's copies on the Hugging Face Hub: {arch: (repository, pinned commit, LFS sha256 of model.safetensors)},
# as the Hub publishes them (huggingface.co/timm/<repo>/blob/<commit>/model.safetensors, "Git LFS Details";
# the commit is "Add model", the last one to change the file).
TIMM_WEIGHTS = {
    "vgg16": ("timm/vgg16.tv_in1k", "3394518cba29aee1ea82a49d971be90d2dd1dab7",
              "57b026918159a6bf9faf8405c3a551903768e7138989d9c6224a14227203fad8"),
    "vgg19": ("timm/vgg19.tv_in1k", "128d4708565b3a414bcbb9bbad440b2fe37b9f18",
              "11aea017b543ff59233749d8f1cf544cda749378f5790d2fedab841fb86b7669"),
}
# pytorch-AdaIN's converted Caffe VGG19 (README of naoto0804/pytorch-AdaIN, release v0.0.0). The release
# (2017) predates GitHub's asset digests and the repository publishes no checksum; the sha256 and size pinned
# here are the ones independent public projects pin for this file (zoo.download checks them before reading).
CAFFE_VGG19_URL = "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/vgg_normalised.pth"
CAFFE_VGG19_PIN = Pin(sha256="804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a", size=80102481,
                      source="pinned, with this size, by at least 5 independent public projects (weight manifests, "
                             "download scripts, and the Git LFS record of a project shipping the file; GitHub code "
                             "search, 2026-12)")
_BY_HAND = "; or pass a local file with --backbone-weights PATH"
# Index of each conv layer of vgg_normalised.pth's nn.Sequential (1x1 input conv at 0, then a
# ReflectionPad2d before every 3x3 conv), in order conv1_1 .. conv5_4 (pytorch-AdaIN net.py).
_CAFFE_CONV_INDICES = [2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51]


def _layers(arch: str) -> list[tuple[str, str, int | None]]:
    """(name, kind, torchvision ``features`` index of the conv) for every layer, in order."""
    if arch not in _CFGS:
        raise ConfigError(f"unknown VGG architecture {arch!r}; valid: {', '.join(_CFGS)}")
    out: list[tuple[str, str, int | None]] = []
    block, n, index = 1, 1, 0
    for v in _CFGS[arch]:
        if v == "M":
            out.append((f"pool{block}", "pool", None))
            block, n, index = block + 1, 1, index + 1
        else:
            out.append((f"conv{block}_{n}", "conv", index))
            out.append((f"relu{block}_{n}", "relu", None))
            n, index = n + 1, index + 2
    return out


def layer_names(arch: str = "vgg19") -> list[str]:
    """All named layers of ``arch`` in forward order: conv1_1, relu1_1, conv1_2, ..., pool5."""
    return [name for name, _, _ in _layers(arch)]


def load_state_dict_file(path: str | os.PathLike) -> dict[str, Tensor]:
    """A state dict from ``.safetensors`` or a torch file, never unpickling arbitrary objects."""
    from .checkpoint import read_checkpoint

    return read_checkpoint(path)[0]


def _torchvision_weights(arch: str, progress: bool) -> dict[str, Tensor]:
    file = torchvision_weights_file(
        arch, what=f"{arch} ImageNet weights", progress=progress,
        manual=f"{_BY_HAND} (--backbone-weights none runs with random weights, smoke tests only)")
    return load_state_dict_file(file)


def _timm_weights(arch: str) -> dict[str, Tensor]:
    repo, revision, sha256 = TIMM_WEIGHTS[arch]
    return load_state_dict_file(fetch_hub_file(repo, "model.safetensors", revision, sha256,
                                               what=f"{arch} weights of timm", manual=_BY_HAND))


def _caffe_weights(progress: bool) -> dict[str, Tensor]:
    file = fetch_url(CAFFE_VGG19_URL, checkpoints_dir() / "vgg_normalised.pth", CAFFE_VGG19_PIN, progress=progress,
                     what="Caffe-normalised VGG19 weights (vgg_normalised.pth)", manual=_BY_HAND)
    return load_state_dict_file(file)


def _is_caffe_layout(sd: Mapping[str, Tensor]) -> bool:
    w = sd.get("0.weight")
    return w is not None and tuple(w.shape) == (3, 3, 1, 1)


class VGGEncoder(nn.Module):
    """Frozen VGG16/19 feature extractor with named layers and its preprocessing inside.

    Args:
        arch: ``"vgg19"`` or ``"vgg16"``.
        weights: ``"imagenet"``, ``"timm"``, ``"caffe"``, ``"none"``/``None``, or a path (see module doc).
        layers: every layer name this encoder will ever be asked for; the network is cut after the
            deepest of them. ``None`` keeps the whole feature extractor.
        pool: ``"max"`` (the trained network) or ``"avg"`` (Gatys et al. 2016 found average pooling gives
            slightly more appealing results).
        padding_mode / ceil_mode: override what the weight source implies (``"zeros"``/``"reflect"``).
        progress: show a progress bar while downloading.

    ``forward(x, layers)`` takes RGB in [0, 1], shape (N, 3, H, W), and returns ``{name: tensor}``.
    """

    def __init__(
        self,
        arch: Literal["vgg16", "vgg19"] = "vgg19",
        weights: str | os.PathLike | None = "imagenet",
        layers: Sequence[str] | None = None,
        pool: str = "max",
        padding_mode: str | None = None,
        ceil_mode: bool | None = None,
        progress: bool = True,
    ) -> None:
        super().__init__()
        all_layers = _layers(arch)
        names = [n for n, _, _ in all_layers]
        if layers is not None:
            layers = list(layers)
            unknown = [n for n in layers if n not in names]
            if unknown:
                raise ConfigError(f"unknown {arch} layer(s) {unknown}; valid layers: {', '.join(names)}")
            if not layers:
                raise ConfigError("layers must name at least one layer")
            all_layers = all_layers[: max(names.index(n) for n in layers) + 1]
        if pool not in ("max", "avg"):
            raise ConfigError(f"pool must be 'max' or 'avg', got {pool!r}")
        self.arch = arch
        self.weights_source = "none" if weights is None else str(weights)
        self.pool = pool
        self._plan = all_layers
        self.layer_names = [n for n, _, _ in all_layers]

        state, layout = self._fetch(arch, weights, progress)
        caffe = layout == "caffe"
        self.padding_mode = padding_mode or ("reflect" if caffe else "zeros")
        if self.padding_mode not in ("zeros", "reflect"):
            raise ConfigError(f"padding_mode must be 'zeros' or 'reflect', got {self.padding_mode!r}")
        self.ceil_mode = caffe if ceil_mode is None else ceil_mode
        self.preprocessing = "caffe" if caffe else "imagenet"

        if caffe:  # the 1x1 conv of vgg_normalised.pth *is* the Caffe preprocessing
            self.register_buffer("input_weight", state.pop("input.weight"), persistent=False)
            self.register_buffer("input_bias", state.pop("input.bias"), persistent=False)
        else:
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        for name, kind, index in all_layers:
            if kind == "conv":
                w, b = state[f"features.{index}.weight"], state[f"features.{index}.bias"]
                self.register_buffer(f"{name}_weight", w.detach().float().contiguous(), persistent=False)
                self.register_buffer(f"{name}_bias", b.detach().float().contiguous(), persistent=False)
        self.requires_grad_(False)
        self.eval()

    # ------------------------------------------------------------------ weights
    def _fetch(self, arch: str, weights, progress: bool) -> tuple[dict[str, Tensor], str]:
        """Return (state dict in torchvision layout + optional ``input.*``, layout name)."""
        if weights is None or str(weights) == "none":
            return self._random(arch), "torchvision"
        if weights == "imagenet":
            return _torchvision_weights(arch, progress), "torchvision"
        if weights == "timm":
            return _timm_weights(arch), "torchvision"
        if weights == "caffe":
            if arch != "vgg19":
                raise ConfigError("the Caffe-normalised weights exist for vgg19 only")
            return self._from_caffe(_caffe_weights(progress)), "caffe"
        path = Path(weights)
        if not path.exists():
            raise WeightsUnavailableError(
                f"{path}: no such weights file (valid --backbone-weights: imagenet, timm, caffe, none, or a path)"
            )
        sd = load_state_dict_file(path)
        if _is_caffe_layout(sd):
            return self._from_caffe(sd), "caffe"
        self._check_torchvision_layout(arch, sd, path)
        return sd, "torchvision"

    @staticmethod
    def _random(arch: str) -> dict[str, Tensor]:
        g = torch.Generator().manual_seed(0)
        sd: dict[str, Tensor] = {}
        c_in = 3
        for _, kind, index in _layers(arch):
            if kind != "conv":
                continue
            c_out = _conv_channels(arch, index)
            w = torch.randn(c_out, c_in, 3, 3, generator=g) * (2.0 / (c_in * 9)) ** 0.5
            sd[f"features.{index}.weight"], sd[f"features.{index}.bias"] = w, torch.zeros(c_out)
            c_in = c_out
        return sd

    @staticmethod
    def _from_caffe(sd: Mapping[str, Tensor]) -> dict[str, Tensor]:
        out = {"input.weight": sd["0.weight"], "input.bias": sd["0.bias"]}
        tv_convs = [i for _, k, i in _layers("vgg19") if k == "conv"]
        for src, dst in zip(_CAFFE_CONV_INDICES, tv_convs):
            if f"{src}.weight" not in sd:
                break  # truncated copies (pytorch-AdaIN keeps only up to relu4_1 in some scripts)
            out[f"features.{dst}.weight"], out[f"features.{dst}.bias"] = sd[f"{src}.weight"], sd[f"{src}.bias"]
        return out

    def _check_torchvision_layout(self, arch: str, sd: Mapping[str, Tensor], path: Path) -> None:
        needed = [f"features.{i}.{p}" for _, k, i in self._plan if k == "conv" for p in ("weight", "bias")]
        missing = [k for k in needed if k not in sd]
        if missing:
            raise ConfigError(
                f"{path}: not a {arch} state dict in torchvision/timm layout (missing {missing[:3]}"
                f"{' ...' if len(missing) > 3 else ''})"
            )
        for _, k, i in self._plan:
            if k == "conv":
                expected = (_conv_channels(arch, i),)
                got = tuple(sd[f"features.{i}.weight"].shape[:1])
                if got != expected:
                    raise ConfigError(f"{path}: features.{i}.weight has {got[0]} output channels, {arch} needs {expected[0]}")

    # ------------------------------------------------------------------ forward
    def train(self, mode: bool = True) -> "VGGEncoder":
        return super().train(False)  # frozen: always in eval mode

    def preprocess(self, x: Tensor) -> Tensor:
        if self.preprocessing == "caffe":
            return F.conv2d(x, self.input_weight.to(x.dtype), self.input_bias.to(x.dtype))
        return (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)

    def forward(self, x: Tensor, layers: Iterable[str] | None = None) -> dict[str, Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"VGGEncoder expects RGB images of shape (N, 3, H, W), got {tuple(x.shape)}")
        wanted = set(self.layer_names if layers is None else layers)
        missing = wanted.difference(self.layer_names)
        if missing:
            raise ValueError(
                f"layer(s) {sorted(missing)} not available: this encoder was built up to "
                f"{self.layer_names[-1]}; pass them in `layers=` when constructing it"
            )
        out: dict[str, Tensor] = {}
        h, prev = self.preprocess(x), None
        for name, kind, _ in self._plan:
            if not wanted.difference(out):
                break  # nothing deeper is needed
            if kind == "conv":
                w, b = getattr(self, f"{name}_weight"), getattr(self, f"{name}_bias")
                if self.padding_mode == "reflect":
                    h = F.conv2d(F.pad(h, (1, 1, 1, 1), mode="reflect"), w.to(h.dtype), b.to(h.dtype))
                else:
                    h = F.conv2d(h, w.to(h.dtype), b.to(h.dtype), padding=1)
            elif kind == "relu":  # in place on a conv output no one keeps (a conv's backward does not need it)
                h = F.relu(h, inplace=prev not in wanted)
            elif self.pool == "max":
                h = F.max_pool2d(h, 2, 2, ceil_mode=self.ceil_mode)
            else:
                h = F.avg_pool2d(h, 2, 2, ceil_mode=self.ceil_mode)
            if name in wanted:
                out[name] = h
            prev = name
        return out

    def extra_repr(self) -> str:
        return (f"arch={self.arch}, weights={self.weights_source}, up_to={self.layer_names[-1]}, "
                f"pool={self.pool}, padding={self.padding_mode}, preprocessing={self.preprocessing}")


def _conv_channels(arch: str, index: int) -> int:
    i = 0
    for v in _CFGS[arch]:
        if v == "M":
            i += 1
        else:
            if i == index:
                return int(v)
            i += 2
    raise ValueError(f"{arch} has no conv at features.{index}")
