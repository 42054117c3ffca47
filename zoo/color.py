"""Colour preservation for style transfer (Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving Color
in Neural Artistic Style Transfer", arXiv:1606.05897).

* :func:`preserve_luminance` ("luminance-only transfer", sec. 2.2): keep the stylised image's luminance
  and take the colour (chrominance) of the content image, in YIQ space.
* :func:`match_color` ("colour histogram matching", sec. 2.1): recolour the *style* image so that its
  pixel mean and covariance equal the content image's, before stylising: x' = A (x - mu_s) + mu_c with
  A = Sigma_c^{1/2} Sigma_s^{-1/2} (the symmetric "image analogies" variant of the paper).
* :func:`coral`: pytorch-AdaIN's ``--preserve_color`` (``function.py`` ``coral``, after Sun, Feng & Saenko
  2016, "Return of Frustratingly Easy Domain Adaptation"): also recolours the style image, but on
  per-channel standardised pixels, with the unnormalised covariance plus the identity, and no clamping.
  It differs from :func:`match_color` and is offered under its own name so that AdaIN users get exactly
  the original's picture (tested against a restatement of that function).

All take RGB (N, 3, H, W) and compute in float32; all but :func:`coral` return values in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .errors import ConfigError

__all__ = ["preserve_luminance", "match_color", "coral", "rgb_to_yiq", "yiq_to_rgb", "COLOR_MODES",
           "check_preserve_color"]

COLOR_MODES = ("luminance", "histogram", "coral")

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


def coral(source: Tensor, target: Tensor) -> Tensor:
    """``source`` (N, 3, H, W) recoloured to ``target``'s colours as pytorch-AdaIN's ``coral`` does.

    Per image, with pixels as (3, P) matrices and per-channel mean ``mu`` and unbiased std ``sd``:
    ``z_s = (s - mu_s) / sd_s``, ``C = z z^T + I`` (not divided by P) for source and target, and
    ``out = (C_t^{1/2} C_s^{-1/2} z_s) * sd_t + mu_t``. Not clamped (the original feeds the result to the
    encoder as it is). ``target`` may differ from ``source`` in size.
    """
    def standardise(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        f = x.float().flatten(2)  # (N, 3, P)
        mean, std = f.mean(-1, keepdim=True), f.std(-1, keepdim=True)  # std: unbiased, as Tensor.std
        return (f - mean) / std, mean, std

    zs, _, _ = standardise(source)
    zt, mu_t, sd_t = standardise(target)
    eye = torch.eye(3, device=zs.device)
    cov_s, cov_t = zs @ zs.transpose(1, 2) + eye, zt @ zt.transpose(1, 2) + eye
    out = _sqrtm(cov_t) @ _sqrtm(cov_s, inverse=True) @ zs * sd_t + mu_t
    return out.reshape(source.shape).to(source.dtype)


def check_preserve_color(mode: str | None, allowed: tuple[str, ...] = ("luminance", "histogram")) -> str | None:
    """Validate a ``preserve_color`` option against the modes a family ``allowed``; returns it (``None``
    means off). ``coral`` is AdaIN's own and must be allowed explicitly."""
    if mode in (None, "none"):
        return None
    if mode not in allowed:
        raise ConfigError(f"preserve_color must be one of {', '.join(allowed)} (or none), got {mode!r}")
    return mode
