"""AnimeGANv2 generator (Chen, Liu & Chen, "AnimeGAN: A Novel Lightweight GAN for Photo Animation", ISICA
2019, Springer CCIS 1205 (2020); its v2 generator from TachibanaYoshino/AnimeGANv2), as ported to PyTorch by
Bryan Lee (bryandlee/animegan2-pytorch, ``model.py``, commit 25d7b017267208dfaf34026aa3425e518372aa2f).

:class:`AnimeGANv2Generator` has the port's layer structure, so its state-dict keys are the port's
(``block_a.0.1.weight``, ``block_c.1.layers.1.1.bias``, ``out_layer.0.weight``, ...) and the port's four
published checkpoints load through :func:`convert_bryandlee_state_dict` without a change of numbers:

* ``block_a``: conv 7x7 3->32; conv 3x3 stride 2 32->64; conv 3x3 64->64 (1/2 resolution after it);
* ``block_b``: conv 3x3 stride 2 64->128; conv 3x3 128->128 (1/4 resolution);
* ``block_c``: conv 3x3 128->128; four inverted residual blocks 128->256, 256->256 x 3 (MobileNetV2-style:
  1x1 expansion x2, depthwise 3x3 with bias, 1x1 projection, norm; the skip only where in == out);
  conv 3x3 256->128;
* bilinear up-sampling (``align_corners=True``) to the exact size of ``block_a``'s output, then ``block_d``:
  conv 3x3 128->128 x 2;
* bilinear up-sampling (``align_corners=True``) to the exact input size, then ``block_e``: conv 3x3
  128->64; conv 3x3 64->64; conv 7x7 64->32;
* ``out_layer``: conv 1x1 32->3 without bias, tanh.

Every "conv" above is reflection padding (k // 2; the stride-2 ones pad only the bottom and right by 1),
a convolution without bias (except the depthwise ones), ``GroupNorm(1, C)`` with affine parameters (layer
normalisation over C, H and W of each image, the port's stand-in for the TensorFlow original's
``layer_norm``) and LeakyReLU(0.2).

Input and output are RGB in [0, 1] (N, 3, H, W): the port maps pictures to [-1, 1] (``to_tensor(img) * 2 - 1``
in its ``test.py`` and ``hubconf.py`` ``face2paint``) and its tanh output back with ``* 0.5 + 0.5``; that is
done inside. The up-sampling goes to the skip and input sizes, so the output is H x W at every size, as the
port's ``torch.hub`` entry point and ``face2paint`` compute it (``Generator.forward``'s default
``align_corners=True``). Its ``test.py`` defaults to ``--upsample_align False`` instead (scale-factor-2
up-sampling, a 4 * floor(H / 4) x 4 * floor(W / 4) output): that mode is not offered.

The port raises on sides under :data:`MIN_SIZE` (8 px: the 1/4-resolution map must be at least 2 px for the
reflection pads of ``block_b``); smaller images are padded at the bottom/right by repeating the last
row/column, run, and cropped. :data:`FAMILY` declares the ``animeganv2`` family with the port's four generators.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import Tensor, nn

from ..errors import NotFoundError
from ..checkpoint import Importer
from ..families import Family
from ..pins import Pin
from ..registry import MODELS
from ..tiling import AlignCornersResize
from ..weights import HUB_OWNER, CanonicalSource, PretrainedWeights
from .base import ZooNet

__all__ = ["AnimeGANv2Generator", "InvertedResBlock", "build_generator", "convert_bryandlee_state_dict",
           "BRYANDLEE", "MIN_SIZE"]

# The smallest side the port takes: H -> floor(H / 2) -> floor(H / 4) through the two stride-2 convs
# (reflection pad of 1 at the bottom/right, 3x3, stride 2), and ReflectionPad2d(1) needs >= 2 px.
MIN_SIZE = 8


def _conv(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1,
          bias: bool = False) -> nn.Sequential:
    """pad, conv, GroupNorm(1), LeakyReLU(0.2): keys ``1.weight`` (``1.bias``), ``2.weight``, ``2.bias``."""
    # stride 2: pad the bottom/right only (the port's padding=(0, 1, 0, 1)); else k // 2 on every side
    pad = nn.ReflectionPad2d((0, 1, 0, 1) if stride == 2 else kernel // 2)
    return nn.Sequential(pad, nn.Conv2d(c_in, c_out, kernel, stride, groups=groups, bias=bias),
                         nn.GroupNorm(1, c_out), nn.LeakyReLU(0.2, inplace=True))


class InvertedResBlock(nn.Module):
    """1x1 expansion (x2), depthwise 3x3 (with bias), 1x1 projection, GroupNorm(1); ``x +`` that when the
    widths agree. Keys ``layers.0`` ... ``layers.3`` as in the port."""

    def __init__(self, c_in: int, c_out: int, expansion: int = 2) -> None:
        super().__init__()
        mid = c_in * expansion
        self.residual = c_in == c_out
        self.layers = nn.Sequential(_conv(c_in, mid, kernel=1), _conv(mid, mid, groups=mid, bias=True),
                                    nn.Conv2d(mid, c_out, 1, bias=False), nn.GroupNorm(1, c_out))

    def forward(self, x: Tensor) -> Tensor:
        y = self.layers(x)
        return x + y if self.residual else y


class AnimeGANv2Generator(ZooNet):
    """AnimeGANv2 generator: RGB [0, 1] (N, 3, H, W) -> RGB [0, 1] (N, 3, H, W), any H, W.

    The architecture is fixed (the published checkpoints all have it): the constructor takes no
    arguments, and its JSON config is ``{}``. See the module docstring for the layers.
    """

    min_size = MIN_SIZE

    def __init__(self) -> None:
        super().__init__()
        self.block_a = nn.Sequential(_conv(3, 32, 7), _conv(32, 64, stride=2), _conv(64, 64))
        self.block_b = nn.Sequential(_conv(64, 128, stride=2), _conv(128, 128))
        self.block_c = nn.Sequential(_conv(128, 128), InvertedResBlock(128, 256), InvertedResBlock(256, 256),
                                     InvertedResBlock(256, 256), InvertedResBlock(256, 256), _conv(256, 128))
        self.block_d = nn.Sequential(_conv(128, 128), _conv(128, 128))
        self.block_e = nn.Sequential(_conv(128, 64), _conv(64, 64), _conv(64, 32, 7))
        self.out_layer = nn.Sequential(nn.Conv2d(32, 3, 1, bias=False), nn.Tanh())
        # bilinear, align_corners=True (layers without weights, so that tiles interpolate in whole-image terms)
        self.up_half, self.up_full = AlignCornersResize(), AlignCornersResize()

    def forward_raw(self, x: Tensor) -> Tensor:
        """The port's ``Generator.forward(x, align_corners=True)``: [-1, 1] in and out, H, W >= :data:`MIN_SIZE`."""
        half = self.block_a(x)
        y = self.block_c(self.block_b(half))
        y = self.block_d(self.up_half(y, half.shape[-2:]))
        y = self.up_full(y, x.shape[-2:])
        return self.out_layer(self.block_e(y))

    def tile_margin(self) -> int:
        """Pixels of context a tile needs on each side for :func:`zoo.tiling.tiled_apply_exact`: the
        receptive-field radius with the layer norms held fixed (51 px, measured at the worst place of a
        256 px side: it includes the up-samplings' drift, at most half a source pixel each, between the
        whole image's i * (in - 1) / (out - 1) and i / 2) with room to spare, as a multiple of 4."""
        return 56

    def forward(self, x: Tensor) -> Tensor:
        return (self.any_size(self.forward_raw, x * 2 - 1) + 1) / 2


@MODELS.register("animeganv2")
def build_generator(**config: Any) -> AnimeGANv2Generator:
    """AnimeGANv2 generator (fixed architecture; no config)."""
    if config:
        raise TypeError(f"the AnimeGANv2 generator takes no config, got {sorted(config)}")
    return AnimeGANv2Generator()


# --------------------------------------------------------------------------------------------------------
# bryandlee/animegan2-pytorch checkpoints

def convert_bryandlee_state_dict(sd: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """State dict of the port's ``Generator`` (``celeba_distill.pt``, ``face_paint_512_v1.pt``,
    ``face_paint_512_v2.pt``, ``paprika.pt``, as its ``convert_weights.py`` saves them) -> ours.

    The layouts are the same; this strips a ``module.`` prefix (a ``DataParallel`` save) and checks every
    key and shape against :class:`AnimeGANv2Generator`, so a file of another network is refused in one
    line naming the first mismatch.
    """
    with torch.device("meta"):
        expected = {k: v.shape for k, v in AnimeGANv2Generator().state_dict().items()}
    out = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}
    for key, value in out.items():
        if key not in expected:
            raise NotFoundError(f"not an AnimeGANv2 generator state dict (bryandlee/animegan2-pytorch layout): "
                           f"unexpected key {key!r}")
        if tuple(value.shape) != tuple(expected[key]):
            raise ValueError(f"not an AnimeGANv2 generator state dict: {key} has shape {tuple(value.shape)}, "
                             f"expected {tuple(expected[key])}")
    missing = sorted(set(expected) - set(out))
    if missing:
        raise NotFoundError(f"not a complete AnimeGANv2 generator state dict: missing {missing[:3]}"
                       f"{' ...' if len(missing) > 3 else ''}")
    return out


# How zoo.loading.load_network recognises one of the port's .pt files (the animeganv2 family's importer).
BRYANDLEE = Importer("a bryandlee/animegan2-pytorch .pt",
                     lambda sd: "block_a.0.1.weight" in sd or "module.block_a.0.1.weight" in sd,
                     convert_bryandlee_state_dict, lambda sd: {})


# --------------------------------------------------------------------------------------------------------
# The family
CONVERTER = f"{__name__}.convert_bryandlee_state_dict"

# AnimeGANv2 (Chen, Liu & Chen): the four generators of bryandlee/animegan2-pytorch, downloaded by its
# hubconf.py ``generator(pretrained=<name>)`` from https://github.com/bryandlee/animegan2-pytorch/raw/main/
# weights/<name>.pt (README "Torch Hub Usage"); pinned here to the commit of that repository we read
# (25d7b01, 2021-11-30). The files are plain git blobs there (not LFS), so git's tree at that commit names
# each one's content: its blob id, sha1 of b"blob <size>\0" + content, read with `git ls-tree -r 25d7b01
# weights/` in a clone of the repository; that is the pin (it is the same at the repository's HEAD).
# Licences: the port's repository (code and weight files) is MIT (its LICENSE, Copyright (c) 2021 Bryan Lee);
# AnimeGANv2 itself (TachibanaYoshino/AnimeGANv2, README "License") is "made freely available to academic and
# non-academic entities for non-commercial purposes such as academic research, teaching, scientific
# publications"; commercial use needs the author's authorisation letter. paprika.pt is converted from the
# original's Paprika checkpoint (the port's convert_weights.py); the other three were trained by Bryan Lee
# with the AnimeGANv2 generator. We record all four as "other" with the non-commercial restriction.
_ANIMEGAN_PAPER = ("Chen, Liu, Chen. AnimeGAN: A Novel Lightweight GAN for Photo Animation. ISICA 2019 "
                   "(AnimeGANv2: TachibanaYoshino/AnimeGANv2, 2020)")
_ANIMEGAN_TERMS = "non-commercial use only (AnimeGANv2 terms); port MIT"
_ANIMEGAN_LINK = "https://github.com/TachibanaYoshino/AnimeGANv2#license"
_ANIMEGAN_URL = ("https://github.com/bryandlee/animegan2-pytorch/raw/25d7b017267208dfaf34026aa3425e518372aa2f/"
                 "weights/{name}.pt")

_ANIMEGAN_BLOBS = {  # weights/<name>.pt -> git blob id at 25d7b01 (git ls-tree)
    "celeba_distill": "3b7ea61b02254980831cc3bc77af30666dbc999c",
    "face_paint_512_v1": "19c1a1da4d9580186109a2b055d91044e5127de6",
    "face_paint_512_v2": "d75102f8f201ddaf8dbe6b913b1a97585b55f838",
    "paprika": "58086c9db9fc7a9e5c2876ca31b8079599352643",
}

_ANIMEGAN_WEIGHTS = (  # (name, what it does, training data)
    ("celeba_distill", "photo -> webtoon-style face, distilled by Bryan Lee from his webtoon face model "
                       "(256 px faces)",
     "CelebA-HQ face photos, with a webtoon face model as the teacher (L2 + VGG + GAN loss; port README)"),
    ("face_paint_512_v1", "photo -> face portrait painting v1, trained by Bryan Lee (512 px faces)",
     "512x512 face images (port README, 'Face Portrait v1')"),
    ("face_paint_512_v2", "photo -> face portrait painting v2, trained by Bryan Lee (512 px faces; more robust "
                          "than v1)",
     "512x512 face images (port README, 'Face Portrait v2')"),
    ("paprika", "photo -> anime in the style of the film Paprika (Satoshi Kon), the AnimeGANv2 authors' "
                "weights converted from TensorFlow by Bryan Lee",
     "real photos and frames of the film Paprika (AnimeGANv2 dataset)"),
)

FAMILY = Family(
    name="animeganv2",
    description="AnimeGANv2 generator (Chen, Liu & Chen; bryandlee/animegan2-pytorch's port): photo to anime",
    stylizer="zoo.stylizers:build_image_stylizer",
    options=frozenset({"tile", "preserve_color"}),
    network=f"{__name__}:AnimeGANv2Generator",
    module="zoo.variants.animeganv2:AnimeGANv2",
    checkpoint_prefix={"": "generator."},
    converters=(CONVERTER,),
    importers=(f"{__name__}:BRYANDLEE",),
    default_tag="animeganv2_paprika",
    recipes=("animeganv2",),
    pretrained=tuple(PretrainedWeights(
        tag=f"animeganv2_{name}",
        name=f"animeganv2.{name}",
        arch="animeganv2",
        description=f"AnimeGANv2 generator, {what}; non-commercial use only",
        licence="other",
        licence_terms=_ANIMEGAN_TERMS,
        licence_link=_ANIMEGAN_LINK,
        training_data=data,
        repo_id=f"{HUB_OWNER}/animeganv2-{name.replace('_', '-')}",
        config={},
        canonical=CanonicalSource(
            url=_ANIMEGAN_URL.format(name=name),
            file=f"animegan2-pytorch_{name}.pt",
            converter=CONVERTER,
            licence="other",
            citation=f"bryandlee/animegan2-pytorch, hubconf.py generator(pretrained={name!r}), weights/{name}.pt",
            pin=Pin(git_blob=_ANIMEGAN_BLOBS[name],
                    source=f"git blob id of weights/{name}.pt in the tree of bryandlee/animegan2-pytorch at "
                           f"commit 25d7b017267208dfaf34026aa3425e518372aa2f (git ls-tree)"),
        ),
        paper=_ANIMEGAN_PAPER,
    ) for name, what, data in _ANIMEGAN_WEIGHTS),
)
