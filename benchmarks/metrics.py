"""Metric implementations of the benchmarks, torchmetrics first; every network is injectable.

All metrics take RGB images (N, 3, H, W) in [0, 1] and accumulate over calls to ``update``;
``compute()`` returns a Python float.

``FID``
    Frechet Inception Distance (Heusel et al. 2017): torchmetrics' ``FrechetInceptionDistance``
    (feature sums and covariances in float64) on :class:`FIDInception`, the TensorFlow 2015-12-05
    Inception-v3 graph as ported by torch-fidelity (its modules, weights
    ``weights-inception-2015-12-05-6726825d.pth``, the same file as pytorch-fid's), pool3, 2048 features.
    How images reach the network (see :data:`FID_PIPELINES`) is what the published numbers the
    benchmarks are shown beside used: ``pipeline="pytorch-fid"`` (default) is pytorch-fid's and
    mmagic's ``TransFID(inception_style='PyTorch')``, the pipeline of mmagic's CycleGAN FIDs: the 0-255
    values scaled to [-1, 1] with (x - 127.5) / 127.5 and resized to 299 x 299 *inside* the network
    with ``F.interpolate(bilinear, align_corners=False)``, no antialiasing (upsampling from 256 px it
    has none to do). ``pipeline="clean"`` is clean-fid's: PIL bicubic (antialiased) resize of the uint8
    image to 299 x 299 before the network, and the TensorFlow graph's (x - 128) / 128.
``art_fid_distance`` / ``ArtInception``
    The FID part of ArtFID (Wright & Ommer 2022): the same Frechet distance in the 2048 pool features
    of their Inception-v3 fine-tuned on art (weights ``art_inception.pth`` on the Hugging Face Hub,
    repository ``matthias-wright/art_inception``), fed RGB in [0, 1] without normalisation at the
    image's own size, as their reference code (art_fid/art_fid.py) does. StyleID's evaluation
    (evaluation/eval_artfid.py, Chung et al. CVPR 2024), which produced the published numbers, first
    resizes the shorter side to 512 with torchvision's ``Resize(512)`` on the PIL image (PIL bilinear):
    that is ``art_size=512``, our default.
``LPIPS``
    Learned perceptual distance (Zhang et al. 2018) with torchmetrics' public LPIPS metric
    (``LearnedPerceptualImagePatchSimilarity``, inputs in [0, 1]; the linear layers of LPIPS v0.1 shipped
    inside torchmetrics), backbone AlexNet (``"alex"``, as ArtFID) or VGG16 (``"vgg"``); backbone weights are
    torchvision's ImageNet weights.
``artfid``
    ArtFID = (1 + LPIPS) * (1 + FID_art) (Wright & Ommer 2022, eq. 3).
``FeatureLosses``
    Content loss (MSE of relu4_2 features) and Gram style loss (relu1_1..relu5_1) of zoo.losses on the
    shared :class:`zoo.backbone.VGGEncoder`, and CFSD (content feature structural distance, Chung et
    al. 2024): the KL divergence between the softmax-normalised patch self-similarities of the content
    and the stylised image in VGG19 relu3_1 features.

Every weights file fetched from outside is verified by :mod:`zoo.download` before it is read (a
modified cached copy is refused) and read with ``weights_only=True`` or safetensors: nothing in it is
unpickled but tensors. The one exception, LPIPS's backbone file, is read by torchvision inside torchmetrics'
metric (``torch.load`` without ``weights_only``), after its sha256 matched the pinned one.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from zoo.backbone import VGGEncoder, WeightsUnavailableError, load_state_dict_file
from zoo.download import checkpoints_dir, fetch_hub_file, fetch_url, torchvision_weights_file
from zoo.pins import Pin
from zoo.losses import ContentLoss, GramLoss

__all__ = [
    "to_uint8", "resize_uint8", "resize_shorter_side", "prepare_inception", "FrechetDistance", "FID",
    "FIDInception", "FID_PIPELINES", "load_fid_inception", "ArtInception", "load_art_inception",
    "art_fid_distance", "LPIPS", "lpips_network", "artfid", "cfsd", "FeatureLosses", "RandomFeatures",
    "WeightsUnavailableError", "INCEPTION_URL", "INCEPTION_SHA256", "INCEPTION_SOURCE", "ART_INCEPTION_REPO", "ART_INCEPTION_FILE",
    "ART_INCEPTION_REVISION", "ART_INCEPTION_SHA256",
]

# torch-fidelity's Inception-v3 weights (torch_fidelity/feature_extractor_inceptionv3.py: URL_INCEPTION_V3).
# The name publishes the first 8 hex digits of the sha256; the full sha256 is the one Hugging Face's LFS
# pointers record for this file (huggingface.co, RaphaelLiu/EvalCrafter-Models commit 6040b4d: pytorch-fid's
# pt_inception-2015-12-05-6726825d.pth, the same weights, size 95628359) and that a project pinning
# torch-fidelity's file states for it; it begins with the published prefix.
INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
INCEPTION_SOURCE = ("the Hugging Face LFS pointer of pytorch-fid's identical file (huggingface.co, "
                    "RaphaelLiu/EvalCrafter-Models commit 6040b4d, pt_inception-2015-12-05-6726825d.pth), "
                    "beginning with the prefix torch-fidelity publishes in the name")
# ArtFID's art-fine-tuned Inception-v3 (matthias-wright/art-fid, art_fid/art_fid.py: CKPT_URL), pinned to the
# commit that uploaded it ("Upload art_inception.pth", 2022-08-10, the latest) and the LFS sha256 the Hub
# publishes for it (huggingface.co/matthias-wright/art_inception/blob/main/art_inception.pth).
ART_INCEPTION_REPO = "matthias-wright/art_inception"
ART_INCEPTION_FILE = "art_inception.pth"
ART_INCEPTION_REVISION = "70c27a861d43379d5016b16b03b5324ab4ffae4b"
ART_INCEPTION_SHA256 = "5bc1c20380401911d99d528b7b6e4430044b56edd5f7f26467222f3fb7c54e7e"

# How images reach the FID network: {pipeline: description recorded with the results}.
FID_PIPELINES = {
    "pytorch-fid": ("pytorch-fid / mmagic TransFID(inception_style='PyTorch'): 0-255 -> (x-127.5)/127.5, "
                    "bilinear F.interpolate to 299x299 inside the network (align_corners=False, no antialias)"),
    "clean": "clean-fid: PIL bicubic (antialiased) resize of the uint8 image to 299x299, then (x-128)/128",
}


# ----------------------------------------------------------------------------------------- resizing
def to_uint8(images: Tensor) -> Tensor:
    """(N, 3, H, W) float in [0, 1] -> uint8 in [0, 255] (rounded, clamped); uint8 input is returned as is."""
    if images.dtype == torch.uint8:
        return images
    return images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)


_RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def resize_uint8(images: Tensor, size: tuple[int, int], resample: str = "bicubic") -> Tensor:
    """Resize uint8 images (N, 3, H, W) to ``size`` = (height, width) with PIL's ``Image.resize`` on each
    image: its filters are widened by the scale factor when shrinking, i.e. antialiased (clean-fid's
    "clean" resize, and what torchvision's ``Resize`` does to a PIL image)."""
    if images.dtype != torch.uint8:
        raise TypeError(f"resize_uint8 expects uint8 images, got {images.dtype}")
    if resample not in _RESAMPLE:
        raise ValueError(f"resample must be one of {', '.join(_RESAMPLE)}, got {resample!r}")
    h, w = int(size[0]), int(size[1])
    if tuple(images.shape[-2:]) == (h, w):
        return images
    out = []
    for img in images.cpu():
        pil = Image.fromarray(img.permute(1, 2, 0).contiguous().numpy(), "RGB")
        out.append(torch.from_numpy(np.array(pil.resize((w, h), resample=_RESAMPLE[resample]))).permute(2, 0, 1))
    return torch.stack(out).to(images.device)


def resize_shorter_side(images: Tensor, size: int, resample: str = "bilinear") -> Tensor:
    """Resize uint8 images so the shorter side is ``size``, like torchvision's ``Resize(size)`` on a PIL
    image (the longer side becomes ``int(size * long / short)``)."""
    h, w = images.shape[-2:]
    if min(h, w) == size:
        return images
    if h <= w:
        new = (size, int(size * w / h))
    else:
        new = (int(size * h / w), size)
    return resize_uint8(images, new, resample=resample)


def prepare_inception(images: Tensor) -> Tensor:
    """Images in [0, 1] (or uint8) -> uint8 (N, 3, 299, 299) with PIL bicubic: the "clean" FID input."""
    return resize_uint8(to_uint8(images), (299, 299), resample="bicubic")


@contextmanager
def _no_init():
    """Skip the random initialisation of modules built inside (torchvision's VGG16 classifier alone takes
    seconds to initialise); every weight that is used is loaded or initialised afterwards."""
    names = ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "constant_", "trunc_normal_")
    saved = {n: getattr(nn.init, n) for n in names}
    try:
        for n in names:
            setattr(nn.init, n, lambda tensor, *a, **k: tensor)
        yield
    finally:
        for n, f in saved.items():
            setattr(nn.init, n, f)


# ----------------------------------------------------------------------------------------- FID
class FrechetDistance:
    """Frechet distance between the Gaussians fitted to two feature sets, with torchmetrics.

    ``d^2 = |mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))`` (Dowson & Landau 1982; Heusel et al.
    2017). ``extractor`` maps what ``preprocess(images)`` returns to (N, D) features and has a
    ``num_features`` attribute (D); torchmetrics keeps the feature sums and outer-product sums in
    float64. ``update(images, real=True)`` adds reference images, ``real=False`` generated ones.
    """

    def __init__(self, extractor: nn.Module, preprocess: Callable[[Tensor], Tensor],
                 device: str | torch.device = "cpu") -> None:
        from torchmetrics.image.fid import FrechetInceptionDistance

        if not hasattr(extractor, "num_features"):
            raise ValueError("the feature extractor needs a `num_features` attribute (its output dimension)")
        self.metric = FrechetInceptionDistance(feature=extractor, normalize=False).to(device)
        self.preprocess = preprocess
        self.device = torch.device(device)

    def to(self, device: str | torch.device) -> "FrechetDistance":
        self.metric = self.metric.to(device)
        self.device = torch.device(device)
        return self

    @torch.no_grad()
    def update(self, images: Tensor, real: bool) -> None:
        self.metric.update(self.preprocess(images).to(self.device), real=real)

    @property
    def counts(self) -> tuple[int, int]:
        """(real, generated) numbers of images seen."""
        return int(self.metric.real_features_num_samples), int(self.metric.fake_features_num_samples)

    def compute(self) -> float:
        return float(self.metric.compute())


# The trunk of torch-fidelity's FeatureExtractorInceptionV3 up to the 2048-d pool3 features, in forward
# order (torch_fidelity/feature_extractor_inceptionv3.py; pytorch-fid's InceptionV3 block 3 is the same).
_FID_TRUNK = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
              "MaxPool_2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
              "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool")


def _load_trunk(model: nn.Module, sd: dict[str, Tensor], error: str) -> nn.Module:
    """Load every tensor of ``model`` from ``sd``, strictly; any difference raises ValueError(``error`` ...)."""
    missing, unexpected = sorted(set(model.state_dict()) - set(sd)), sorted(set(sd) - set(model.state_dict()))
    if not missing and not unexpected:
        try:
            model.load_state_dict(sd)
            return model
        except RuntimeError as e:  # shapes
            raise ValueError(f"{error} ({str(e).strip().splitlines()[-1].strip()[:200]})") from None
    raise ValueError(f"{error} (missing {missing[:3]}{' ...' if len(missing) > 3 else ''}, "
                     f"unexpected {unexpected[:3]}{' ...' if len(unexpected) > 3 else ''})")


class FIDInception(nn.Module):
    """The FID Inception-v3 (TensorFlow 2015-12-05 graph, torch-fidelity's modules): uint8 (N, 3, H, W) ->
    (N, 2048) pool3 features, with the input handling of ``pipeline`` (:data:`FID_PIPELINES`):
    ``"pytorch-fid"`` takes any size and resizes inside; ``"clean"`` takes the 299 x 299 output of
    :func:`prepare_inception`. The weights are left uninitialised: build it with :func:`load_fid_inception`.
    """

    num_features = 2048

    def __init__(self, pipeline: str = "pytorch-fid") -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import (BasicConv2d, InceptionA, InceptionB, InceptionC,
                                                                   InceptionD, InceptionE_1, InceptionE_2)

        if pipeline not in FID_PIPELINES:
            raise ValueError(f"FID pipeline must be one of {', '.join(FID_PIPELINES)}, got {pipeline!r}")
        self.pipeline = pipeline
        with _no_init():  # every weight is loaded afterwards (load_fid_inception)
            self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
            self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
            self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
            self.MaxPool_1 = nn.MaxPool2d(kernel_size=3, stride=2)
            self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
            self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
            self.MaxPool_2 = nn.MaxPool2d(kernel_size=3, stride=2)
            self.Mixed_5b = InceptionA(192, pool_features=32)
            self.Mixed_5c = InceptionA(256, pool_features=64)
            self.Mixed_5d = InceptionA(288, pool_features=64)
            self.Mixed_6a = InceptionB(288)
            self.Mixed_6b = InceptionC(768, channels_7x7=128)
            self.Mixed_6c = InceptionC(768, channels_7x7=160)
            self.Mixed_6d = InceptionC(768, channels_7x7=160)
            self.Mixed_6e = InceptionC(768, channels_7x7=192)
            self.Mixed_7a = InceptionD(768)
            self.Mixed_7b = InceptionE_1(1280)
            self.Mixed_7c = InceptionE_2(2048)
        self.AvgPool = nn.AdaptiveAvgPool2d(output_size=(1, 1))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FIDInception":
        return super().train(False)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"FIDInception expects images of shape (N, 3, H, W), got {tuple(x.shape)}")
        x = x.float()
        if self.pipeline == "pytorch-fid":
            # mmagic FrechetInceptionDistance.forward_inception: (x - 127.5) / 127.5, then pytorch-fid's
            # InceptionV3(resize_input=True): F.interpolate(bilinear, align_corners=False) to 299 x 299.
            x = (x - 127.5) / 127.5
            if tuple(x.shape[-2:]) != (299, 299):
                x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        else:
            if tuple(x.shape[-2:]) != (299, 299):
                raise ValueError(f"the clean FID pipeline takes 299 x 299 input (prepare_inception), got "
                                 f"{tuple(x.shape[-2:])}")
            x = (x - 128.0) / 128.0  # the TensorFlow graph's Sub/Mul
        for name in _FID_TRUNK:
            x = getattr(self, name)(x)
        return torch.flatten(x, 1)


def load_fid_inception(weights: str | os.PathLike | None = None, pipeline: str = "pytorch-fid",
                       progress: bool = True) -> FIDInception:
    """:class:`FIDInception` with torch-fidelity's weights.

    ``weights=None`` uses (and if needed downloads) ``$TORCH_HOME/hub/checkpoints/
    weights-inception-2015-12-05-6726825d.pth``, verified against :data:`INCEPTION_SHA256` before every
    read; a path is a file given by hand (``--inception-weights``), read as it is. Either is read with
    ``weights_only=True`` (torch-fidelity itself unpickles it without restriction; it never sees it here)
    and loaded strictly (the 1008-class ``fc`` head is unused).
    """
    if weights is None:
        file = fetch_url(INCEPTION_URL, checkpoints_dir() / INCEPTION_URL.rsplit("/", 1)[-1],
                         Pin(sha256=INCEPTION_SHA256, source=INCEPTION_SOURCE),
                         what="Inception-v3 FID weights", manual="; or pass --inception-weights PATH",
                         progress=progress)
    else:
        file = Path(weights)
        if not file.is_file():
            raise WeightsUnavailableError(f"{file}: no such Inception weights file")
    try:
        sd = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"{file}: not a plain state dict of tensors, refusing to load it ({type(e).__name__})") from None
    if not isinstance(sd, dict) or "Conv2d_1a_3x3.conv.weight" not in sd:
        raise ValueError(f"{file}: not torch-fidelity Inception-v3 weights (no Conv2d_1a_3x3.conv.weight)")
    return _load_trunk(FIDInception(pipeline), {k: v for k, v in sd.items() if not k.startswith("fc.")},
                       f"{file}: not torch-fidelity Inception-v3 weights")


class FID(FrechetDistance):
    """FID on :class:`FIDInception` fed by ``pipeline`` (:data:`FID_PIPELINES`); ``extractor`` replaces the
    network (it then receives what the pipeline gives it: uint8 (N, 3, H, W) for ``"pytorch-fid"``, uint8
    (N, 3, 299, 299) for ``"clean"``)."""

    def __init__(self, extractor: nn.Module | None = None, weights: str | os.PathLike | None = None,
                 pipeline: str = "pytorch-fid", device: str | torch.device = "cpu", progress: bool = True) -> None:
        if pipeline not in FID_PIPELINES:
            raise ValueError(f"FID pipeline must be one of {', '.join(FID_PIPELINES)}, got {pipeline!r}")
        net = extractor if extractor is not None else load_fid_inception(weights, pipeline, progress)
        super().__init__(net, to_uint8 if pipeline == "pytorch-fid" else prepare_inception, device)


# ----------------------------------------------------------------------------------------- ArtFID
_ART_TRUNK = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
              "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
              "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool")
# Heads of the art checkpoint (two classifiers and their auxiliary heads, art_fid/inception.py), unused by
# the FID, which reads the 2048 pooled features.
_ART_HEADS = ("fc1.", "fc2.", "AuxLogits1.", "AuxLogits2.", "fc.", "AuxLogits.")


class ArtInception(nn.Module):
    """The Inception-v3 trunk of ArtFID: RGB [0, 1] (N, 3, H, W), any H, W >= 75 -> (N, 2048).

    torchvision's Inception3 modules with the key names of the art checkpoint; no input transform (the
    art model was fine-tuned on unnormalised [0, 1] input, art_fid's ``transform_input=False``).
    The weights are left uninitialised: build it with :func:`load_art_inception`.
    """

    num_features = 2048

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models.inception import Inception3

        with _no_init():  # every weight is loaded afterwards (load_art_inception)
            tv = Inception3(aux_logits=False, transform_input=False, init_weights=False)
        for name in _ART_TRUNK:
            self.add_module(name, getattr(tv, name))
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "ArtInception":
        return super().train(False)

    def forward(self, x: Tensor) -> Tensor:
        for name in _ART_TRUNK:
            x = getattr(self, name)(x)
        return torch.flatten(x, 1)


def load_art_inception(source: str | os.PathLike | None = None) -> ArtInception:
    """ArtFID's Inception with the published weights.

    ``source``: a local ``.pth``/``.safetensors`` file in the art checkpoint's layout (given by hand, read
    as it is), or ``None`` for ``art_inception.pth`` of ``matthias-wright/art_inception`` on the Hugging
    Face Hub at :data:`ART_INCEPTION_REVISION` (downloaded with huggingface_hub, cached in the HF cache,
    honours ``HF_HUB_OFFLINE``), verified against :data:`ART_INCEPTION_SHA256` before every read. Read
    with ``weights_only=True``; every trunk tensor must be present (strict), the classifier heads are dropped.
    """
    if source is None:
        file = fetch_hub_file(ART_INCEPTION_REPO, ART_INCEPTION_FILE, ART_INCEPTION_REVISION, ART_INCEPTION_SHA256,
                              what="ArtFID Inception weights", manual="; or pass --art-inception PATH")
    else:
        file = source
        if not Path(file).is_file():
            raise WeightsUnavailableError(f"{file}: no such ArtFID Inception weights file")
    sd = load_state_dict_file(file)
    return _load_trunk(ArtInception(), {k: v for k, v in sd.items() if not k.startswith(_ART_HEADS)},
                       f"{file}: not ArtFID's Inception-v3 layout")


def art_fid_distance(extractor: nn.Module | None = None, weights: str | os.PathLike | None = None,
                     art_size: int | None = 512, device: str | torch.device = "cpu") -> FrechetDistance:
    """The FID of ArtFID: Frechet distance in art-Inception features, stylised vs style images.

    Images are quantised to uint8 (they are read from PNG files in the reference code too), resized so
    the shorter side is ``art_size`` with PIL bilinear (torchvision ``Resize(512)`` of StyleID's
    evaluation; ``None`` keeps the size, as the original art-fid package) and fed in [0, 1].
    """
    net = extractor if extractor is not None else load_art_inception(weights)

    def preprocess(images: Tensor) -> Tensor:
        x = to_uint8(images)
        if art_size is not None:
            x = resize_shorter_side(x, art_size, resample="bilinear")
        return x.float() / 255.0

    return FrechetDistance(net, preprocess, device)


def artfid(fid: float, lpips: float) -> float:
    """ArtFID = (1 + LPIPS) * (1 + FID) (Wright & Ommer 2022, eq. 3); lower is better."""
    return (1.0 + float(lpips)) * (1.0 + float(fid))


# ----------------------------------------------------------------------------------------- LPIPS
_LPIPS_BACKBONES = {"alex": "alexnet", "vgg": "vgg16"}  # LPIPS net_type -> torchvision architecture


def _lpips_metric(net_type: str):
    """torchmetrics' public LPIPS metric (inputs in [0, 1]: ``normalize=True``; one score per image pair:
    ``reduction="none"``). It builds its backbone with torchvision's ImageNet weights, which torchvision reads
    from ``$TORCH_HOME/hub/checkpoints`` when the file is there (and downloads otherwise)."""
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    if net_type not in _LPIPS_BACKBONES:
        raise ValueError(f"LPIPS net must be one of {', '.join(_LPIPS_BACKBONES)}, got {net_type!r}")
    metric = LearnedPerceptualImagePatchSimilarity(net_type=net_type, reduction="none", normalize=True)
    return metric.requires_grad_(False).eval()


def lpips_network(net_type: str = "alex", progress: bool = True) -> nn.Module:
    """torchmetrics' LPIPS metric (:class:`torchmetrics.image.lpip.LearnedPerceptualImagePatchSimilarity`) with the
    LPIPS v0.1 linear layers it ships and torchvision's ImageNet backbone weights.

    The backbone weights file (``alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth`` in ``$TORCH_HOME/hub/checkpoints``)
    is verified first (:func:`zoo.download.torchvision_weights_file`: fetched if missing, checked against its pinned
    sha256 before every read), so torchvision then reads that verified copy and nothing is downloaded behind it.
    """
    if net_type not in _LPIPS_BACKBONES:
        raise ValueError(f"LPIPS net must be one of {', '.join(_LPIPS_BACKBONES)}, got {net_type!r}")
    arch = _LPIPS_BACKBONES[net_type]
    torchvision_weights_file(arch, what=f"LPIPS backbone weights ({arch})", progress=progress)
    return _lpips_metric(net_type)


class LPIPS:
    """Mean LPIPS distance between paired images in [0, 1] (Zhang et al. 2018), torchmetrics' metric.

    ``net`` replaces the metric (a :class:`~torchmetrics.image.lpip.LearnedPerceptualImagePatchSimilarity` with
    ``reduction="none"`` and ``normalize=True``, e.g. :func:`random_lpips_network`); by default
    :func:`lpips_network` of ``net_type``. The mean over the pairs is taken in float64.
    """

    def __init__(self, net_type: str = "alex", net: nn.Module | None = None, device: str | torch.device = "cpu",
                 progress: bool = True) -> None:
        self.metric = (net if net is not None else lpips_network(net_type, progress=progress)).to(device)
        self.device = torch.device(device)
        self.metric.reset()

    def to(self, device: str | torch.device) -> "LPIPS":
        self.metric = self.metric.to(device)
        self.device = torch.device(device)
        return self

    @torch.no_grad()
    def update(self, a: Tensor, b: Tensor) -> None:
        if a.shape != b.shape:
            raise ValueError(f"LPIPS compares images of the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
        self.metric.update(a.to(self.device).float(), b.to(self.device).float())

    def compute(self) -> float:
        if not self.metric.all_scores:
            raise RuntimeError("LPIPS: no image pairs were added")
        return float(self.metric.compute().reshape(-1).double().cpu().mean())


# ----------------------------------------------------------------------------------------- VGG metrics
def cfsd(content_feats: Tensor, stylized_feats: Tensor, chunk: int = 4096) -> Tensor:
    """Content Feature Structural Distance per image (Chung et al. 2024, StyleID evaluation/image_metrics.py).

    With F the (HW, C) features divided by C, S = F F^T; p_i = softmax(S_content[i]), q_i =
    softmax(S_stylised[i]); CFSD = sum_i KL(p_i || q_i) (``F.kl_div(..., reduction="batchmean")`` with a
    batch of one). Rows are processed ``chunk`` at a time so 512 px images fit in memory.
    """
    if content_feats.shape != stylized_feats.shape:
        raise ValueError(f"CFSD needs features of the same shape, got {tuple(content_feats.shape)} and "
                         f"{tuple(stylized_feats.shape)}")
    n, c = content_feats.shape[:2]
    fc = content_feats.float().flatten(2).transpose(1, 2) / c
    fs = stylized_feats.float().flatten(2).transpose(1, 2) / c
    total = torch.zeros(n, dtype=torch.float64, device=content_feats.device)
    for start in range(0, fc.shape[1], chunk):
        log_p = torch.log_softmax(fc[:, start:start + chunk] @ fc.transpose(1, 2), dim=-1)
        log_q = torch.log_softmax(fs[:, start:start + chunk] @ fs.transpose(1, 2), dim=-1)
        total += (log_p.exp() * (log_p - log_q)).sum(dim=(1, 2)).double()
    return total


class FeatureLosses:
    """Content loss, Gram style loss and CFSD on the shared VGG19 encoder, averaged over pairs.

    content: zoo.losses ContentLoss on relu4_2 (MSE), stylised vs content; style: zoo.losses GramLoss on
    relu1_1..relu5_1 (Gram / (C H W), MSE, layers summed), stylised vs style; cfsd on relu3_1, content vs
    stylised. ``encoder`` replaces the VGG19 ImageNet encoder (e.g. ``VGGEncoder(weights="none")``).
    """

    CFSD_LAYER = "relu3_1"  # torchvision vgg19.features[11], StyleID's "conv3"

    def __init__(self, encoder: VGGEncoder | None = None, device: str | torch.device = "cpu",
                 progress: bool = True) -> None:
        self.content_loss = ContentLoss()
        self.style_loss = GramLoss()
        layers = list(dict.fromkeys([*self.content_loss.layers, *self.style_loss.layers, self.CFSD_LAYER]))
        if encoder is None:
            encoder = VGGEncoder("vgg19", weights="imagenet", layers=layers, progress=progress)
        self.encoder = encoder.to(device)
        self.layers = layers
        self.device = torch.device(device)
        self.sums = {"content_loss": 0.0, "style_loss": 0.0, "cfsd": 0.0}
        self.n = 0

    def to(self, device: str | torch.device) -> "FeatureLosses":
        self.encoder = self.encoder.to(device)
        self.device = torch.device(device)
        return self

    @torch.no_grad()
    def update(self, stylized: Tensor, content: Tensor, style: Tensor | None = None) -> None:
        out = self.encoder(stylized.to(self.device).float(), self.layers)
        ref = self.encoder(content.to(self.device).float(), self.layers)
        self.sums["content_loss"] += float(self.content_loss(out, self.content_loss.target(ref))) * stylized.shape[0]
        self.sums["cfsd"] += float(cfsd(ref[self.CFSD_LAYER], out[self.CFSD_LAYER]).sum())
        if style is not None:
            sty = self.encoder(style.to(self.device).float(), self.style_loss.layers)
            self.sums["style_loss"] += float(self.style_loss(out, self.style_loss.target(sty))) * stylized.shape[0]
        self.n += stylized.shape[0]

    def compute(self) -> dict[str, float]:
        if not self.n:
            raise RuntimeError("FeatureLosses: no images were added")
        return {k: v / self.n for k, v in self.sums.items()}


# ----------------------------------------------------------------------------------------- test extractor
class RandomFeatures(nn.Module):
    """A tiny random feature extractor for tests and smoke runs (``--feature-extractor random``).

    uint8 or float images (N, 3, H, W) -> (N, ``num_features``): a fixed random 3x3 conv, ReLU, global
    average pool. Seeded, so runs are repeatable. Numbers computed with it mean nothing: results that
    use it are marked unusable.
    """

    def __init__(self, num_features: int = 16, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.num_features = num_features
        self.register_buffer("weight", torch.randn(num_features, 3, 3, 3, generator=g) / 5.0)
        self.register_buffer("bias", torch.randn(num_features, generator=g) / 5.0)

    def forward(self, x: Tensor) -> Tensor:
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        return F.relu(F.conv2d(x, self.weight, self.bias, padding=1)).mean(dim=(2, 3))


def random_lpips_network(net_type: str = "alex") -> nn.Module:
    """torchmetrics' LPIPS metric with a seeded *random* backbone and no download: tests and smoke runs only.

    The metric is built from a placeholder weights file in torchvision's layout (every tensor one stored zero,
    broadcast: a few kilobytes) in a temporary ``$TORCH_HOME`` of its own, then every backbone convolution is
    given seeded random weights; the LPIPS linear layers are the ones torchmetrics ships."""
    import tempfile

    from torchvision import models

    arch = _LPIPS_BACKBONES.get(net_type)
    if arch is None:
        raise ValueError(f"LPIPS net must be one of {', '.join(_LPIPS_BACKBONES)}, got {net_type!r}")
    url = getattr(models, f"{'AlexNet' if arch == 'alexnet' else 'VGG16'}_Weights").IMAGENET1K_V1.url
    with torch.device("meta"):  # the layout only: nothing allocated or initialised
        shapes = {k: v.shape for k, v in getattr(models, arch)(weights=None).state_dict().items()}
    previous = os.environ.get("TORCH_HOME")
    with tempfile.TemporaryDirectory() as home:
        cached = Path(home) / "hub" / "checkpoints" / url.rsplit("/", 1)[-1]
        cached.parent.mkdir(parents=True)
        torch.save({k: torch.zeros(()).expand(shape) for k, shape in shapes.items()}, cached)
        os.environ["TORCH_HOME"] = home
        try:
            metric = _lpips_metric(net_type)
        finally:
            if previous is None:
                del os.environ["TORCH_HOME"]
            else:
                os.environ["TORCH_HOME"] = previous
    g = torch.Generator().manual_seed(0)
    for conv in metric.net.net.modules():
        if isinstance(conv, nn.Conv2d):
            fan_in = conv.weight[0].numel()
            conv.weight.data = torch.randn(conv.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5
            conv.bias.data = torch.zeros_like(conv.bias)
    return metric


def metric_versions() -> dict[str, str]:
    """Versions of everything a number depends on."""
    import platform

    import PIL
    import torchmetrics
    import torchvision

    out = {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
           "torchmetrics": torchmetrics.__version__, "numpy": np.__version__, "pillow": PIL.__version__}
    try:
        import torch_fidelity

        out["torch_fidelity"] = torch_fidelity.__version__
    except ImportError:
        out["torch_fidelity"] = "not installed"
    return out
