"""Optical flow for video stylisation: estimation, warping, occlusion masks, and the temporal warping error.

Conventions. Images are RGB float tensors (N, 3, H, W) in [0, 1]. A *flow from a to b* is a float32 tensor
(N, 2, H, W) in pixels, channel 0 horizontal (x, to the right) and channel 1 vertical (y, down), such
that ``a(p) ~ b(p + flow(p))``; so ``warp(b, flow)`` is ``b`` moved onto ``a``'s pixel grid.

Estimators (no training needed):

* :class:`DISFlow`: OpenCV's Dense Inverse Search (Kroeger et al., "Fast Optical Flow using Dense Inverse
  Search", ECCV 2016; ``cv2.DISOpticalFlow``), a classical estimator without weights, on the CPU;
* :class:`RAFTFlow`: torchvision's RAFT (Teed & Deng, ECCV 2020) with its published weights, fetched by
  :func:`zoo.download.torchvision_weights_file` like every other download: from the torch hub cache
  (``$TORCH_HOME/hub/checkpoints``, downloaded there when missing), checked against the sha256 pinned in
  the package before it is read, and read as plain tensors (``weights_only=True``).

Occlusion (:func:`reliable_mask`) is the forward-backward consistency check of Ruder, Dosovitskiy & Brox,
"Artistic style transfer for videos" (GCPR 2016; manuelruder/artistic-videos
``consistencyChecker/consistencyChecker.cpp`` at 40e7447), which Lai et al. 2018 use too: a pixel is
unreliable where following the flow there and back misses the start by more than
``0.01 (|f|^2 + |b|^2) + 0.5`` (squared pixels), on a motion boundary (``|grad f|^2 > 0.01 |f|^2 + 0.002``)
or where the flow leaves the frame.

:func:`warping_error` is the temporal warping error of Lai et al., "Learning Blind Video Temporal
Consistency" (ECCV 2018), as their ``evaluate_WarpError.py`` computes it (phoenix104104/
fast_blind_video_consistency at bce0c7e): for each pair of consecutive output frames, frame t warped back
onto frame t-1 with the flow of the *input* frames t-1 -> t, the squared difference to frame t-1 averaged
over the non-occluded pixels and the three channels; then averaged over the pairs.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from .errors import ConfigError

__all__ = ["FlowEstimator", "DISFlow", "RAFTFlow", "build_flow", "FLOW_METHODS", "warp", "reliable_mask",
           "pair_flows", "warping_error"]

FLOW_METHODS = ("dis", "dis-fast", "raft", "raft-small")


class FlowEstimator(Protocol):
    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        """The flow from ``a`` to ``b`` (both (N, 3, H, W) in [0, 1]): (N, 2, H, W) float32 on the CPU."""


def _gray_uint8(x: Tensor) -> np.ndarray:
    """(N, 3, H, W) in [0, 1] -> (N, H, W) uint8 luma (ITU-R BT.601 weights)."""
    w = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float32).view(1, 3, 1, 1)
    y = (x.detach().float().cpu() * w).sum(1).clamp(0, 1).mul(255).round().to(torch.uint8)
    return y.numpy()


class DISFlow:
    """OpenCV's DIS optical flow. ``preset``: ``"medium"`` (default, better on large motion) or ``"fast"``
    (about 5x quicker). DIS needs one side of at least 12 pixels: smaller frames are edge-padded to 16."""

    MIN_SIDE = 16

    def __init__(self, preset: str = "medium") -> None:
        from .extras import require

        cv2 = require("cv2", "video")

        presets = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
                   "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
        if preset not in presets:
            raise ConfigError(f"unknown DIS preset {preset!r}; valid: {', '.join(presets)}")
        self._dis = cv2.DISOpticalFlow_create(presets[preset])

    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        import cv2

        ga, gb = _gray_uint8(a), _gray_uint8(b)
        h, w = ga.shape[-2:]
        ph, pw = max(0, self.MIN_SIDE - h), max(0, self.MIN_SIDE - w)
        out = []
        for ia, ib in zip(ga, gb):
            if ph or pw:
                ia = cv2.copyMakeBorder(ia, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
                ib = cv2.copyMakeBorder(ib, 0, ph, 0, pw, cv2.BORDER_REPLICATE)
            flow = self._dis.calc(np.ascontiguousarray(ia), np.ascontiguousarray(ib), None)[:h, :w]
            out.append(torch.from_numpy(flow).permute(2, 0, 1))
        return torch.stack(out).float()


class RAFTFlow:
    """torchvision's RAFT (``large``: Raft_Large_Weights.C_T_SKHT_V2, ``small``: Raft_Small_Weights.C_T_V2)
    with its published weights; inputs are edge-padded to a multiple of 8 (and at least 128 px)."""

    def __init__(self, size: str = "large", device: torch.device | str = "cpu", num_flow_updates: int = 12) -> None:
        from torchvision.models import optical_flow as of

        from .download import read_torch_file, torchvision_weights_file

        build = {"large": of.raft_large, "small": of.raft_small}[size]
        # zoo.download.TORCHVISION_WEIGHTS["raft_<size>"]: the file of Raft_<Size>_Weights.DEFAULT, its sha256 pinned
        file = torchvision_weights_file(f"raft_{size}", what="RAFT weights",
                                        manual="; or use --flow dis (no weights)")
        state = read_torch_file(file)
        self.net = build(weights=None)
        self.net.load_state_dict(state, strict=True)
        self.net = self.net.eval().to(device)
        self.device, self.num_flow_updates = torch.device(device), num_flow_updates

    @torch.inference_mode()
    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        h, w = a.shape[-2:]
        ph, pw = max((-h) % 8, 128 - h), max((-w) % 8, 128 - w)
        x = torch.cat([a, b]).float().to(self.device) * 2 - 1  # RAFT's transforms: [-1, 1]
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        n = a.shape[0]
        flow = self.net(x[:n], x[n:], num_flow_updates=self.num_flow_updates)[-1]
        return flow[..., :h, :w].float().cpu()


def build_flow(method: str = "dis", device: torch.device | str = "cpu") -> FlowEstimator:
    """A flow estimator by name: ``dis`` (DIS medium), ``dis-fast``, ``raft`` (RAFT large), ``raft-small``."""
    if method == "dis":
        return DISFlow("medium")
    if method == "dis-fast":
        return DISFlow("fast")
    if method in ("raft", "raft-small"):
        return RAFTFlow("small" if method == "raft-small" else "large", device)
    raise ConfigError(f"unknown flow method {method!r}; valid: {', '.join(FLOW_METHODS)}")


def _grid(flow: Tensor) -> Tensor:
    """Sampling grid of ``grid_sample`` (align_corners=True) for the positions ``p + flow(p)``."""
    n, _, h, w = flow.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype, device=flow.device),
                            torch.arange(w, dtype=flow.dtype, device=flow.device), indexing="ij")
    gx = (xs + flow[:, 0]) * (2 / max(w - 1, 1)) - 1
    gy = (ys + flow[:, 1]) * (2 / max(h - 1, 1)) - 1
    return torch.stack([gx, gy], -1)


def warp(image: Tensor, flow: Tensor) -> Tensor:
    """``image`` (N, C, H, W) sampled at ``p + flow(p)`` (bilinear; positions outside repeat the edge)."""
    flow = flow.to(image.device, torch.float32)
    out = F.grid_sample(image.float(), _grid(flow), mode="bilinear", padding_mode="border", align_corners=True)
    return out.to(image.dtype)


def reliable_mask(flow: Tensor, back: Tensor) -> Tensor:
    """Where ``flow`` (a -> b) can be trusted, given ``back`` (b -> a): (N, 1, H, W) bool.

    Ruder et al. 2016's consistency check (see the module doc), binary (their checker then blurs the mask).
    """
    n, _, h, w = flow.shape
    back_w = warp(back, flow)  # b -> a flow at the point each pixel of a lands on
    mag = lambda v: (v ** 2).sum(1, keepdim=True)  # noqa: E731
    inconsistent = mag(flow + back_w) > 0.01 * (mag(flow) + mag(back_w)) + 0.5
    du = torch.zeros_like(flow)
    dv = torch.zeros_like(flow)
    du[..., :, :-1] = flow[..., :, 1:] - flow[..., :, :-1]
    dv[..., :-1, :] = flow[..., 1:, :] - flow[..., :-1, :]
    boundary = mag(du) + mag(dv) > 0.01 * mag(flow) + 0.002
    ys, xs = torch.meshgrid(torch.arange(h, dtype=flow.dtype, device=flow.device),
                            torch.arange(w, dtype=flow.dtype, device=flow.device), indexing="ij")
    x, y = xs + flow[:, :1], ys + flow[:, 1:]
    outside = (x < 0) | (x > w - 1) | (y < 0) | (y > h - 1)
    return ~(inconsistent | boundary | outside)


def pair_flows(a: Tensor, b: Tensor, estimator: FlowEstimator) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Both flows between ``a`` and ``b`` and where each is reliable: (a->b, b->a, mask on a, mask on b)."""
    ab, ba = estimator(a, b), estimator(b, a)
    return ab, ba, reliable_mask(ab, ba), reliable_mask(ba, ab)


def warping_error(outputs: Sequence[Tensor] | Tensor, inputs: Sequence[Tensor] | Tensor | None = None,
                  flows: Sequence[Tensor] | None = None, masks: Sequence[Tensor] | None = None,
                  estimator: FlowEstimator | None = None) -> float:
    """Temporal warping error (Lai et al. 2018) of a clip: frames (1, 3, H, W) in [0, 1], or one (T, 3, H, W).

    ``flows[t - 1]`` is the flow from input frame t-1 to t and ``masks[t - 1]`` where it is reliable; both
    are estimated from ``inputs`` (with ``estimator``, default :class:`DISFlow`) when not given (e.g. ground
    truth of a synthetic clip). A pair whose mask is empty is compared over every pixel, as Lai et al. do.
    """
    frames = [f[None] if f.ndim == 3 else f for f in outputs]
    if len(frames) < 2:
        raise ConfigError("the warping error needs at least two frames")
    if flows is None:
        if inputs is None:
            raise ConfigError("give the input frames (to estimate the flow) or the flows and masks")
        src = [f[None] if f.ndim == 3 else f for f in inputs]
        if len(src) != len(frames):
            raise ConfigError(f"{len(src)} input frames for {len(frames)} output frames")
        estimator = estimator or DISFlow()
        flows, masks = [], []
        for a, b in zip(src[:-1], src[1:]):
            ab, _, mask_a, _ = pair_flows(a, b, estimator)
            flows.append(ab)
            masks.append(mask_a)
    if masks is None or len(flows) != len(frames) - 1 or len(masks) != len(flows):
        raise ConfigError(f"need {len(frames) - 1} flows and masks for {len(frames)} frames")
    total = 0.0
    for prev, cur, flow, mask in zip(frames[:-1], frames[1:], flows, masks):
        diff = (warp(cur.float(), flow) - prev.float()) ** 2
        m = mask.float().expand_as(diff)
        total += float((diff * m).sum() / m.sum()) if m.sum() > 0 else float(diff.mean())
    return total / (len(frames) - 1)
