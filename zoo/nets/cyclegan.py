"""CycleGAN networks (Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", ICCV; arXiv:1703.10593).

* :class:`ResnetGenerator`: the generator of the paper (sec. 4 and appendix 7.2, after Johnson et al.
  2016): ``c7s1-64, d128, d256, R256 x n_blocks, u128, u64, c7s1-3`` with reflection padding, instance
  normalisation (Ulyanov et al. 2016) and 6 blocks for 128 px / 9 blocks for 256 px training images.
  The layer structure (and so the state-dict keys ``model.N.*``) is exactly that of ``ResnetGenerator``
  in the reference code (junyanz/pytorch-CycleGAN-and-pix2pix, ``models/networks.py``), upsampling by
  transposed convolutions included, so the official ``latest_net_G.pth`` files load without change of
  numbers (:func:`convert_official_state_dict`).
* :class:`NLayerDiscriminator`: the PatchGAN discriminator (Isola et al. 2017; CycleGAN appendix 7.2):
  ``C64-C128-C256-C512`` 4x4 convolutions, LeakyReLU(0.2), instance norm except on the first layer,
  then a 1-channel output map; ``n_layers=3`` gives 70x70 receptive fields.

Both take RGB images in [0, 1]; the mapping to the [-1, 1] range the networks were designed for is done
inside. The generator takes any H, W and runs on the image as it is, as the reference does (no padding to
a multiple of 4: that would enter the instance norm statistics); its output is then
4 * ceil(H / 4) x 4 * ceil(W / 4) and the top-left H x W is kept. Sides under :data:`MIN_SIZE` (5 px, where
the reference's reflection pads fail) are first padded by repeating the last row/column (the contract of
:class:`zoo.nets.base.ZooNet`).
Weights are initialised from N(0, 0.02) with zero biases (paper, appendix 7.1; reference ``init_weights``).
:data:`FAMILY` declares the ``cyclegan`` family with its tags: the 18 official generators and ours.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import NotFoundError
from ..checkpoint import Importer
from ..families import Family
from ..pins import Pin
from ..registry import MODELS
from ..weights import HUB_OWNER, CanonicalSource, PretrainedWeights
from .base import ZooNet, moved_names
from .fast import cached_weight, channels_last, fast_norm, is_narrow, narrow_conv2d

__all__ = [
    "ResnetGenerator", "ResnetBlock", "NLayerDiscriminator", "init_weights", "convert_official_state_dict",
    "config_from_official_state_dict", "CANONICAL", "OFFICIAL_URL", "build_generator",
]

# The smallest side the reference generator takes: ReflectionPad2d(3) needs >= 4 px and the 1/4-resolution
# map, ceil(ceil(H / 2) / 2) px, must be >= 2 for the residual blocks' ReflectionPad2d(1).
MIN_SIZE = 5


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """N(0, gain) conv weights, zero biases (Zhu et al. 2017, appendix 7.1: "weights are initialized from a
    Gaussian distribution N(0, 0.02)"); affine norm weights N(1, gain) as in the reference ``init_weights``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)


def _norm(channels: int) -> nn.Module:
    # Reference: functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False): no
    # parameters and no buffers, so no running-statistics keys in the state dict.
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """``x + [ReflectionPad(1), conv3x3, IN, ReLU, (Dropout 0.5), ReflectionPad(1), conv3x3, IN](x)``
    (He et al. 2016 residual block as used by Johnson et al. 2016 and the CycleGAN reference code)."""

    def __init__(self, dim: int, dropout: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), _norm(dim),
                                   nn.ReLU(True)]
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), _norm(dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(ZooNet):
    """CycleGAN ResNet generator: RGB [0, 1] (N, 3, H, W) -> RGB [0, 1] (N, 3, H, W), any H, W.

    Args:
        n_blocks: residual blocks at 1/4 resolution; the paper uses 6 for 128 px and 9 for 256 px training.
        ngf: filters of the first layer (64 in the paper).
        dropout: dropout 0.5 inside the blocks (off for CycleGAN; the reference's ``--no_dropout``).
        in_channels / out_channels: 3 for RGB.

    Inside, ``x`` is mapped to [-1, 1], run through ``self.model`` (the reference layer list, ending in
    tanh) as it is, the top-left H x W of the output kept and mapped to [0, 1]. Sides under
    :data:`MIN_SIZE` are padded by repetition first.
    """

    min_size = MIN_SIZE

    def __init__(self, n_blocks: int = 9, ngf: int = 64, dropout: bool = False, in_channels: int = 3,
                 out_channels: int = 3) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        self.n_blocks, self.ngf, self.dropout = int(n_blocks), int(ngf), bool(dropout)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=True), _norm(ngf),
                                   nn.ReLU(True)]
        for i in range(2):  # d128, d256: 3x3 stride-2 convolutions
            c = ngf * 2 ** i
            layers += [nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=True), _norm(2 * c), nn.ReLU(True)]
        layers += [ResnetBlock(ngf * 4, dropout) for _ in range(n_blocks)]
        for i in range(2):  # u128, u64: 3x3 fractionally-strided convolutions, stride 1/2
            c = ngf * 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=True),
                       _norm(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def tile_margin(self) -> int:
        """Pixels of context a tile needs on each side for :func:`zoo.tiling.tiled_apply_exact`: the
        receptive-field radius (3 + 1 + 2 down, 8 per residual block, 4 + 2 for the transposed convolutions,
        3 for the last conv) with 4 px to spare, as a multiple of 4."""
        return 4 * -(-(19 + 8 * self.n_blocks) // 4)

    def forward_raw(self, x: Tensor) -> Tensor:
        """The reference network as is: [-1, 1] in, [-1, 1] out, H, W >= :data:`MIN_SIZE`; the output is
        4 * ceil(H / 4) x 4 * ceil(W / 4)."""
        return self.model(x)

    def forward(self, x: Tensor) -> Tensor:
        return (self.any_size(self.model, x * 2 - 1) + 1) / 2

    @torch.no_grad()
    def forward_fast(self, x: Tensor) -> Tensor:
        """The same function as :meth:`forward` (equal within float rounding, ~1e-5), for inference only:
        what ``zoo stylize`` runs on CPU (``benchmarks/bench_cyclegan.py`` measures it against the official
        code). The layers of :attr:`model` are run one by one with:

        * activations in channels_last (NHWC), oneDNN's native layout: the transposed convolutions are
          ~3x faster there than in NCHW, where PyTorch runs them through a slower path;
        * instance norm in place on the NHWC tensor (:func:`zoo.nets.fast.fast_norm`);
        * the 7x7 convolution to RGB as a 7x1 convolution to 21 channels and 7 shifted sums
          (:func:`zoo.nets.fast.narrow_conv2d`; oneDNN would compute 16 channels and keep 3);
        * weights converted to NHWC once, ReLU, tanh and the residual additions in place.

        Inputs under 16 pixels on a side run the plain forward.
        """
        if min(x.shape[-2], x.shape[-1]) < 16:
            return self(x)
        cache = self.__dict__.setdefault("_fast_weights", {})  # plain attribute: never in the state_dict
        y = self.any_size(lambda z: _fast_layers(self.model, z.contiguous(memory_format=torch.channels_last),
                                                 cache, scratch={}), x * 2 - 1)
        return y.add_(1).div_(2).contiguous()


def _fast_layers(layers: nn.Sequential, x: Tensor, cache: dict, scratch: dict) -> Tensor:
    """``layers(x)`` for :meth:`ResnetGenerator.forward_fast`; ``x`` in channels_last, may be overwritten;
    ``cache``: the converted weights, ``scratch``: buffers for this pass."""
    for layer in layers:
        if isinstance(layer, ResnetBlock):
            x = _fast_layers(layer.conv_block, x, cache, scratch).add_(x)
        elif isinstance(layer, nn.Conv2d) and is_narrow(layer):
            x = narrow_conv2d(layer, x, cache)
        elif isinstance(layer, nn.Conv2d):
            x = layer._conv_forward(x, cached_weight(layer.weight, cache, id(layer), channels_last), layer.bias)
        elif isinstance(layer, nn.ConvTranspose2d):
            x = F.conv_transpose2d(x, cached_weight(layer.weight, cache, id(layer), channels_last), layer.bias,
                                   layer.stride, layer.padding, layer.output_padding, layer.groups, layer.dilation)
        elif isinstance(layer, nn.InstanceNorm2d):
            x = fast_norm(layer, x, scratch)
        elif isinstance(layer, nn.ReLU):
            x = x.relu_()
        elif isinstance(layer, nn.Tanh):
            x = x.tanh_()
        else:  # reflection pads (they keep channels_last), dropout
            x = layer(x)
    return x


class NLayerDiscriminator(ZooNet):
    """PatchGAN discriminator: RGB [0, 1] (N, 3, H, W) -> logits (N, 1, H', W'), one per image patch.
    A part of training, not an image-to-image network: of :class:`ZooNet` it uses the hub mixin only.

    ``n_layers=3`` is the 70x70 PatchGAN of CycleGAN (appendix 7.2): C64 (no norm) - C128 - C256 - C512
    (stride 1) - conv to 1 channel, 4x4 kernels, LeakyReLU(0.2), instance norm. Channel multipliers are
    capped at 8 as in the reference ``NLayerDiscriminator``.
    """

    def __init__(self, n_layers: int = 3, ndf: int = 64, in_channels: int = 3) -> None:
        super().__init__()
        self.n_layers, self.ndf, self.in_channels = int(n_layers), int(ndf), int(in_channels)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=True),
                       _norm(ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def receptive_field(self) -> int:
        """Side of the input patch each output logit sees (70 for n_layers=3)."""
        rf = 1
        for m in reversed(self.model):
            if isinstance(m, nn.Conv2d):
                rf = (rf - 1) * m.stride[0] + m.kernel_size[0]
        return rf

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x * 2 - 1)


@MODELS.register("cyclegan")
def build_generator(**config: Any) -> ResnetGenerator:
    """CycleGAN ResNet generator (Zhu et al. 2017): ``n_blocks`` (9), ``ngf`` (64), ``dropout`` (False)."""
    return ResnetGenerator(**config)


@MODELS.register("cyclegan_patchgan")
def build_discriminator(**config: Any) -> NLayerDiscriminator:
    """CycleGAN 70x70 PatchGAN discriminator: ``n_layers`` (3), ``ndf`` (64)."""
    return NLayerDiscriminator(**config)


# --------------------------------------------------------------------------------------------------------
# Official checkpoints

_RUNNING_STATS = ("running_mean", "running_var", "num_batches_tracked")
_BLOCK_KEY = re.compile(r"^model\.(\d+)\.conv_block\.")


def convert_official_state_dict(sd: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """State dict of the reference code's ``ResnetGenerator`` (``latest_net_G.pth``) -> ours.

    The layouts are identical (``model.N.weight``, ``model.N.conv_block.M.weight``); this strips a
    ``module.`` prefix left by ``DataParallel`` saves and drops the InstanceNorm running-statistics keys
    that checkpoints written by PyTorch < 0.4 carry (the reference ``test.py`` deletes them too,
    ``__patch_instance_norm_state_dict``): with ``track_running_stats=False`` they are never used.
    """
    out: dict[str, Tensor] = {}
    for key, value in sd.items():
        if key.startswith("module."):
            key = key[len("module."):]
        if key.rsplit(".", 1)[-1] in _RUNNING_STATS:
            continue
        if not key.startswith("model."):
            raise NotFoundError(f"not a CycleGAN ResnetGenerator state dict: unexpected key {key!r}")
        out[key] = value
    if "model.1.weight" not in out:
        raise NotFoundError("not a CycleGAN ResnetGenerator state dict: no 'model.1.weight' (first 7x7 conv)")
    return out


def config_from_official_state_dict(sd: Mapping[str, Tensor]) -> dict[str, Any]:
    """The :class:`ResnetGenerator` arguments that fit a converted official state dict."""
    first = sd["model.1.weight"]
    blocks = {int(m.group(1)) for k in sd if (m := _BLOCK_KEY.match(k))}
    dropout = any(k.endswith("conv_block.6.weight") for k in sd)
    last = max(int(k.split(".")[1]) for k in sd if _BLOCK_KEY.match(k) is None)
    return {"n_blocks": len(blocks), "ngf": int(first.shape[0]), "dropout": dropout,
            "in_channels": int(first.shape[1]), "out_channels": int(sd[f"model.{last}.weight"].shape[0])}


# Loading and inference moved to zoo.stylizers; the old names work, with a DeprecationWarning, for one release.


# How zoo.loading.load_network recognises an official generator file (the cyclegan family's importer).
OFFICIAL = Importer("an official CycleGAN .pth", lambda sd: "model.1.weight" in sd or "module.model.1.weight" in sd,
                    convert_official_state_dict, config_from_official_state_dict)


# --------------------------------------------------------------------------------------------------------
# The family
CONVERTER = f"{__name__}.convert_official_state_dict"

_CYCLEGAN_PAPER = ("Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using Cycle-Consistent "
                   "Adversarial Networks. ICCV 2017")
# 9 residual blocks, 64 filters, no dropout: the paper's 256 px generator, the recipes' network and the
# official test settings (--no_dropout) of the published generators.
_CYCLEGAN_CONFIG = {"n_blocks": 9, "ngf": 64, "dropout": False}

# The official CycleGAN generators: scripts/download_cyclegan_model.sh of
# junyanz/pytorch-CycleGAN-and-pix2pix downloads <name>.pth from this host (the 18 names of its list are
# CANONICAL below); the code is BSD-licensed (repository LICENSE: BSD 2-clause text,
# Copyright (c) 2017 Jun-Yan Zhu and Taesung Park), and the weights are published with it under the same
# terms. The script says http://, but the host serves https: Taesung Park's pointer to
# https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/ (taesungp/contrastive-unpaired-translation
# issue #171, "worked for me") and the scripts of other projects that fetch this host over https
# (eriklindernoren/PyTorch-GAN pull request #203). No checksum is published and no independent copy's hash
# was found: used unverified, with a warning (docs/hub.md).
# Each file is one generator, named after its direction; the tag's network maps its first domain to its
# second. Training data: docs/datasets.md of the same repository (what each dataset holds and where it was
# collected); the style_* generators map a photo to the painter's style and were trained on the
# <painter>2photo sets (CycleGAN paper, section 5.2 "collection style transfer").
OFFICIAL_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/{name}.pth"
_CYCLEGAN_PIN = Pin(unpinned="the CycleGAN authors publish no checksum for their generators (plain files on "
                             "efrosgans.eecs.berkeley.edu) and no hash of them from an independent source is known")
_IMAGENET = "downloaded from ImageNet by the CycleGAN authors"
_PAINTINGS = ("{painter} paintings from WikiArt and Flickr landscape photos (the {set} set of the "
              "CycleGAN authors)")
_CYCLEGAN_OFFICIAL = (
    # (name, what the generator does, training data, Hugging Face dataset id or None)
    ("apple2orange", "apple -> orange", f"apple2orange: 996 apple and 1020 navel orange images {_IMAGENET}",
     "huggan/apple2orange"),
    ("orange2apple", "orange -> apple", f"apple2orange: 996 apple and 1020 navel orange images {_IMAGENET}",
     "huggan/apple2orange"),
    ("summer2winter_yosemite", "Yosemite summer -> winter",
     "summer2winter_yosemite: 1273 summer and 854 winter Yosemite photos from Flickr",
     "huggan/summer2winter_yosemite"),
    ("winter2summer_yosemite", "Yosemite winter -> summer",
     "summer2winter_yosemite: 1273 summer and 854 winter Yosemite photos from Flickr",
     "huggan/summer2winter_yosemite"),
    ("horse2zebra", "horse -> zebra", f"horse2zebra: 939 wild horse and 1177 zebra images {_IMAGENET}",
     "huggan/horse2zebra"),
    ("zebra2horse", "zebra -> horse", f"horse2zebra: 939 wild horse and 1177 zebra images {_IMAGENET}",
     "huggan/horse2zebra"),
    ("monet2photo", "Monet painting -> photo", _PAINTINGS.format(painter="Monet", set="monet2photo"),
     "huggan/monet2photo"),
    ("style_monet", "photo -> Monet's style", _PAINTINGS.format(painter="Monet", set="monet2photo"),
     "huggan/monet2photo"),
    ("style_cezanne", "photo -> Cezanne's style", _PAINTINGS.format(painter="Cezanne", set="cezanne2photo"),
     "huggan/cezanne2photo"),
    ("style_ukiyoe", "photo -> Ukiyo-e style", _PAINTINGS.format(painter="Ukiyo-e", set="ukiyoe2photo"),
     "huggan/ukiyoe2photo"),
    ("style_vangogh", "photo -> Van Gogh's style", _PAINTINGS.format(painter="Van Gogh", set="vangogh2photo"),
     "huggan/vangogh2photo"),
    ("sat2map", "satellite photo -> map", "maps: 1096 Google Maps satellite/map pairs (used unpaired)",
     "huggan/maps"),
    ("map2sat", "map -> satellite photo", "maps: 1096 Google Maps satellite/map pairs (used unpaired)",
     "huggan/maps"),
    ("cityscapes_photo2label", "street photo -> semantic label map",
     "cityscapes: 2975 images of the Cityscapes training set (used unpaired)", "huggan/cityscapes"),
    ("cityscapes_label2photo", "semantic label map -> street photo",
     "cityscapes: 2975 images of the Cityscapes training set (used unpaired)", "huggan/cityscapes"),
    ("facades_photo2label", "facade photo -> label map",
     "facades: 400 images of the CMP Facades dataset (used unpaired)", "huggan/facades"),
    ("facades_label2photo", "facade label map -> photo",
     "facades: 400 images of the CMP Facades dataset (used unpaired)", "huggan/facades"),
    ("iphone2dslr_flower", "iPhone flower photo -> DSLR (shallow depth of field)",
     "iphone2dslr_flower: 1813 iPhone and 3316 DSLR flower photos from Flickr", "huggan/iphone2dslr_flower"),
)


FAMILY = Family(
    name="cyclegan",
    description="CycleGAN ResNet generator of Zhu et al. 2017 (unpaired image-to-image translation)",
    stylizer="zoo.stylizers:build_image_stylizer",
    options=frozenset({"direction", "tile", "preserve_color"}),
    network=f"{__name__}:ResnetGenerator",
    module="zoo.variants.cyclegan:CycleGAN",
    checkpoint_prefix={"AtoB": "G_AB.", "BtoA": "G_BA."},
    loader_options=("direction",),
    converters=(CONVERTER,),
    importers=(f"{__name__}:OFFICIAL",),
    recipes=("cyclegan_horse2zebra", "cyclegan_photo2anime"),
    bytes_per_pixel=1300,
    training_networks=("cyclegan_patchgan",),
    aliases=("cyclegan_resnet",),
    pretrained=(PretrainedWeights(
        tag="cyclegan_photo2anime",
        name="cyclegan.photo2anime",
        arch="cyclegan",
        description="CycleGAN ResNet generator, photo -> anime face (A -> B), trained by Stylezoo",
        licence="apache-2.0",
        training_data="selfie2anime (unpaired selfies and anime faces, trainA/trainB)",
        repo_id=f"{HUB_OWNER}/cyclegan-photo2anime",
        config=_CYCLEGAN_CONFIG,
        recipe="recipes/cyclegan_photo2anime.yaml",
        datasets=("huggan/selfie2anime",),
        paper=_CYCLEGAN_PAPER,
    ), *(PretrainedWeights(
        tag=f"cyclegan_{name}",
        name=f"cyclegan.{name}",
        arch="cyclegan",
        description=f"CycleGAN ResNet generator, {what} (official weights of the CycleGAN authors)",
        licence="bsd-2-clause",
        training_data=data,
        repo_id=f"{HUB_OWNER}/cyclegan-{name.replace('_', '-')}",
        config=_CYCLEGAN_CONFIG,
        canonical=CanonicalSource(
            url=OFFICIAL_URL.format(name=name),
            converter=CONVERTER,
            licence="bsd-2-clause",
            citation="junyanz/pytorch-CycleGAN-and-pix2pix, scripts/download_cyclegan_model.sh",
            pin=_CYCLEGAN_PIN,
        ),
        datasets=(dataset,),
        paper=_CYCLEGAN_PAPER,
    ) for name, what, data, dataset in _CYCLEGAN_OFFICIAL)),
)

# The 18 public CycleGAN generators of the reference PyTorch code, one direction each (name -> https URL).
# Each is a 9-block ResnetGenerator with ngf=64, instance norm and no dropout (the test script's
# ``--model test --no_dropout`` settings).
CANONICAL: dict[str, str] = {e.tag.removeprefix("cyclegan_"): e.canonical.url
                             for e in FAMILY.pretrained if e.canonical is not None}


__getattr__ = moved_names(__name__, {
    "load_generator": "zoo.stylizers.load_generator",
    "CycleGANStylizer": "zoo.stylizers.ImageStylizer",
    "build_cyclegan_stylizer": "zoo.stylizers.build_image_stylizer",
})
