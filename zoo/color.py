"""Colour preservation for style transfer (Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving Color
in Neural Artistic Style Transfer", arXiv:1606.05897).

* :func:`preserve_luminance` ("luminance-only transfer", sec. 2.2): keep the stylised image's luminance
  and take the colour (chrominance) of the content image, in YIQ space.
* :func:`match_color` ("colour histogram matching", sec. 2.1): recolour the *style* image so that its
  pixel mean and covariance equal the content image's, before stylising: x' = A (x - mu_s) + mu_c with
  A = Sigma_c^{1/2} Sigma_s^{-1/2} (the symmetric "image analogies" variant of the paper).

Both take and return RGB (N, 3, H, W) in [0, 1] and compute in float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["preserve_luminance", "match_color", "rgb_to_yiq", "yiq_to_rgb", "COLOR_MODES", "check_preserve_color"]

COLOR_MODES = ("luminance", "histogram")

# NTSC YIQ (FCC 1953 definition, as used by the paper).
_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114],
                         [0.595716, -0.274453, -0.321263],
                         [0.211456, -0.522591, 0.311135]])


def rgb_to_yiq(x: Tensor) -> Tensor:
    return torch.einsum("ij,njhw->nihw", _RGB2YIQ.to(x.device), x.float())


def yiq_to_rgb(x: Tensor) -> Tensor:
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB2YIQ).to(x.device), x.float())


def preserve_luminance(output: Tensor, content: Tensor) -> Tensor:
    """``output``'s luminance with ``content``'s chrominance (content is resized to output if needed)."""
    if content.shape[-2:] != output.shape[-2:]:
        content = F.interpolate(content.float(), size=output.shape[-2:], mode="bilinear",
                                align_corners=False, antialias=True)
    yiq = torch.cat([rgb_to_yiq(output)[:, :1], rgb_to_yiq(content)[:, 1:]], dim=1)
    return yiq_to_rgb(yiq).clamp(0, 1).to(output.dtype)


def _sqrtm(c: Tensor, inverse: bool = False, eps: float = 1e-5) -> Tensor:
    vals, vecs = torch.linalg.eigh(c)
    vals = vals.clamp_min(eps)
    d = vals.rsqrt() if inverse else vals.sqrt()
    return vecs @ torch.diag_embed(d) @ vecs.transpose(-1, -2)


def match_color(source: Tensor, target: Tensor) -> Tensor:
    """``source`` recoloured so its per-image RGB mean and covariance match ``target``'s."""
    s = source.float().flatten(2)  # (N, 3, P)
    t = target.float().flatten(2)
    mu_s, mu_t = s.mean(-1, keepdim=True), t.mean(-1, keepdim=True)
    cs = (s - mu_s) @ (s - mu_s).transpose(1, 2) / s.shape[-1]
    ct = (t - mu_t) @ (t - mu_t).transpose(1, 2) / t.shape[-1]
    a = _sqrtm(ct) @ _sqrtm(cs, inverse=True)
    out = a @ (s - mu_s) + mu_t
    return out.reshape(source.shape).clamp(0, 1).to(source.dtype)


def check_preserve_color(mode: str | None) -> str | None:
    """Validate a ``preserve_color`` option; returns it (``None`` means off)."""
    if mode in (None, "none"):
        return None
    if mode not in COLOR_MODES:
        raise ValueError(f"preserve_color must be one of {', '.join(COLOR_MODES)} (or none), got {mode!r}")
    return mode
