"""CPU inference helpers shared by the networks' fast paths (Johnson's and CycleGAN's ``forward_fast``,
AdaIN's decoder).

Each computes the same function as the plain layer within float rounding (~1e-6); they exist because
oneDNN, PyTorch's CPU convolution library, is fastest in channels_last (NHWC) memory format and wastes
most of its work on convolutions with a few output channels. Inference only: no autograd, and
:func:`fast_norm` overwrites its input.

* :func:`cached_weight`: a layer's weight in the layout a fast path wants, converted once.
* :func:`fast_norm`: instance norm in place on channels_last (``nn.InstanceNorm2d`` reshapes to NCHW).
* :func:`narrow_conv2d`: a convolution to a few output channels (an RGB head) as a (k x 1) convolution
  to ``out_channels * k`` channels and k shifted sums.
* :func:`upsample_conv2d`: nearest x2 up-sampling, reflection pad 1 and a 3x3 convolution as one 2x2
  convolution per output phase at the input's resolution (16/36 of the multiply-adds).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["inference_on_cpu", "cached_weight", "channels_last", "fast_norm", "narrow_conv2d", "is_narrow",
           "upsample_conv2d", "is_upsample_conv", "NARROW_CHANNELS"]

# oneDNN computes output channels in blocks of 16 (AVX-512) and throws away the rest of a block: a
# convolution to 3 channels runs at ~3/16 of the machine's speed. narrow_conv2d is used below this.
NARROW_CHANNELS = 8


def inference_on_cpu(x: Tensor) -> bool:
    """Whether a network given ``x`` may take its fast path: on CPU, without autograd, and not being traced,
    scripted, compiled or exported (those record the plain layers)."""
    recording = (torch.jit.is_tracing() or torch.jit.is_scripting() or torch.onnx.is_in_onnx_export()
                 or any(getattr(torch.compiler, f, lambda: False)() for f in ("is_compiling", "is_exporting")))
    return x.device.type == "cpu" and not torch.is_grad_enabled() and not recording


def cached_weight(weight: Tensor, cache: dict, key: object, make: Callable[[Tensor], Tensor]) -> Tensor:
    """``make(weight)``, computed once per ``key`` and cached in ``cache`` (keyed also on the parameter's
    storage and in-place version counter, so new or changed weights are picked up). Weights made under
    ``torch.inference_mode`` have no version counter, so they are never cached."""
    if weight.is_inference():
        return make(weight)
    stamp = (weight.data_ptr(), weight._version, weight.dtype, weight.device)
    hit = cache.get(key)
    if hit is None or hit[0] != stamp:
        hit = cache[key] = (stamp, make(weight.detach()))
    return hit[1]


def channels_last(w: Tensor) -> Tensor:
    """``w`` in channels_last memory format (the layout oneDNN wants a convolution weight in)."""
    return w.contiguous(memory_format=torch.channels_last)


def fast_norm(norm: nn.Module, x: Tensor, scratch: dict) -> Tensor:
    """``norm(x)`` for a fresh convolution output ``x`` in channels_last; overwrites ``x``.

    Instance norm (no running statistics) is computed in place on the (N, H W, C) view of the channels_last
    tensor: ``nn.InstanceNorm2d`` runs batch norm over an NCHW copy (~4x slower on channels_last input), and
    the channels_last kernels of ``F.group_norm`` / ``F.batch_norm`` sum in plain float32, which is off by up
    to ~1e-3 on a 1024 x 1024 map. Here the mean is a pairwise (cascade) sum, each channel is centred in
    place, and the variance is the mean of the centred squares, written to a buffer kept in ``scratch``
    (a dict that lives for one forward pass, so the buffer is allocated once per pass, not once per norm,
    and not held afterwards): as accurate as ``nn.InstanceNorm2d`` at every size (~1e-6, tested), and about
    as fast as the group-norm kernel. Anything else runs as is.
    """
    if not (isinstance(norm, nn.InstanceNorm2d) and not norm.track_running_stats):
        return norm(x)
    x = x.contiguous(memory_format=torch.channels_last)
    n, c, h, w = x.shape
    v = x.permute(0, 2, 3, 1).view(n, h * w, c)
    v.sub_(v.mean(1, keepdim=True))
    buffer = scratch.get("squares")
    if buffer is None or buffer.numel() < v.numel() or buffer.dtype != v.dtype or buffer.device != v.device:
        buffer = scratch["squares"] = torch.empty(v.numel(), dtype=v.dtype, device=v.device)
    squares = torch.mul(v, v, out=buffer[:v.numel()].view(v.shape))
    scale = squares.mean(1, keepdim=True).add_(norm.eps).rsqrt_()
    if norm.weight is None:
        v.mul_(scale)
    else:
        v.mul_(scale * norm.weight.view(1, 1, c)).add_(norm.bias.view(1, 1, c))
    return x


def _narrow_weight(w: Tensor) -> Tensor:
    """(O, I, kh, kw) -> (O kw, I, kh, 1): column j of output channel o becomes channel o kw + j."""
    o, i, kh, kw = w.shape
    return channels_last(w.permute(0, 3, 1, 2).reshape(o * kw, i, kh, 1))


def narrow_conv2d(conv: nn.Conv2d, x: Tensor, cache: dict) -> Tensor:
    """``conv(x)`` for a stride-1, undilated, ungrouped convolution to a few output channels.

    ``y[o, r, c] = sum_j q[o kw + j, r, c + j]`` where ``q`` is ``x`` convolved with the kernels' columns
    (a kh x 1 convolution to ``O * kw`` channels): the same multiply-adds as the convolution, in a shape
    oneDNN runs at full width (3 x 7 = 21 channels for a 7x7 RGB head instead of 3), then kw - 1 additions
    of shifted planes. ~3x faster than ``conv`` on CPU for a 7x7 or 9x9 head.
    """
    o, _, _, kw = conv.weight.shape
    q = F.conv2d(x, cached_weight(conv.weight, cache, (id(conv), "narrow"), _narrow_weight), None, 1, conv.padding)
    n, _, h, wq = q.shape
    q = q.view(n, o, kw, h, wq)
    w_out = wq - kw + 1
    y = q[:, :, 0, :, :w_out].clone()
    for j in range(1, kw):
        y += q[:, :, j, :, j:j + w_out]
    if conv.bias is not None:
        y += conv.bias.view(1, -1, 1, 1)
    return y


def is_narrow(conv: nn.Module) -> bool:
    """Whether :func:`narrow_conv2d` computes ``conv`` (and is worth it: a few output channels, kw > 1)."""
    return (type(conv) is nn.Conv2d and conv.out_channels < NARROW_CHANNELS and conv.kernel_size[1] > 1
            and conv.stride == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
            and conv.padding_mode == "zeros" and not isinstance(conv.padding, str))


def _phase_weights(w: Tensor) -> Tensor:
    """(O, I, 3, 3) -> (4 O, I, 2, 2): the 3x3 kernel seen through a x2 nearest upsampling, one 2x2 kernel
    per output phase (a, b) in the order (0, 0), (0, 1), (1, 0), (1, 1). Output row 2i lies on upsampled
    rows 2i-1, 2i, 2i+1 = input rows i-1, i, i, so its kernel rows are (w0, w1 + w2) on input rows
    (i-1, i); row 2i+1 lies on input rows i, i, i+1: (w0 + w1, w2) on (i, i+1). Columns likewise."""
    def split(t: Tensor, dim: int) -> tuple[Tensor, Tensor]:
        t0, t1, t2 = t.unbind(dim)
        return torch.stack([t0, t1 + t2], dim), torch.stack([t0 + t1, t2], dim)

    return channels_last(torch.cat([k for rows in split(w, 2) for k in split(rows, 3)], 0))


def upsample_conv2d(conv: nn.Conv2d, x: Tensor, cache: dict) -> Tensor:
    """``conv(reflection_pad_1(interpolate(x, scale_factor=2, mode="nearest")))`` for a 3x3, stride-1,
    unpadded ``conv``, without making the upsampled image: one 2x2 convolution with four output groups
    (one per phase, :func:`_phase_weights`) at the input's resolution, interleaved into the x2 output
    (channels_last) -- 16/36 of the multiply-adds. Border: reflecting the upsampled image by 1 reads the
    same pixels as replicating the input by 1 (upsampled row -1 is row 1, a copy of input row 0), so the
    input is padded by replication. Position p of the 2x2 convolution covers input rows p-1 and p: phase a
    of output row i sits at p = i + a.
    """
    n, _, h, w = x.shape
    bias = conv.bias
    weight = cached_weight(conv.weight, cache, (id(conv), "phases"), _phase_weights)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, None if bias is None else bias.repeat(4))
    c = y.shape[1] // 4
    y = y.permute(0, 2, 3, 1)  # (n, h + 1, w + 1, 4 c); contiguous for a channels_last y
    out = torch.empty(n, c, 2 * h, 2 * w, dtype=y.dtype, device=y.device, memory_format=torch.channels_last)
    phases = out.permute(0, 2, 3, 1).view(n, h, 2, w, 2, c)
    for a in (0, 1):
        for b in (0, 1):
            k = 2 * a + b
            phases[:, :, a, :, b, :] = y[:, a:a + h, b:b + w, k * c:(k + 1) * c]
    return out


def is_upsample_conv(conv: nn.Module) -> bool:
    """Whether :func:`upsample_conv2d` computes ``conv`` after an upsampling and a reflection pad by 1."""
    return (type(conv) is nn.Conv2d and conv.kernel_size == (3, 3) and conv.stride == (1, 1)
            and conv.padding == (0, 0) and conv.dilation == (1, 1) and conv.groups == 1)
