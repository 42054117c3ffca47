"""Ways past the direct 3x3 convolution's float32 peak on this CPU, measured (none is used by the zoo).

    python -m benchmarks.bench_conv_paths        # ~15 s on 2 cores -> benchmarks/results/conv-paths-cpu-<cores>core.json

Most of CycleGAN's and Gatys' time is 3x3 convolutions that already run at oneDNN's peak (the README's
speed section), so their missed float32 targets could only be met by a convolution that beats the direct
one. This script measures the two candidates on the CycleGAN residual convolution (3x3, 256 -> 256
channels, reflection-padded, 64 x 64 at 256 px, 128 x 128 at 512 px), after checking each against a
float64 convolution:

* **Winograd F(2x2, 3x3)** (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks",
  eq. 7-8: input tiles 4x4 with stride 2, ``B^T d B``, 16 products per tile, ``A^T m A``), written in PyTorch
  ops in channels-last order: 2.25x fewer multiplies, done as 16 batched matmuls, plus the tile transforms.
  Timed per convolution and inside the official ``ResnetBlock`` (``tests/originals.py``) against that block.
* **float32 from bf16 hardware** (native-bf16 CPUs only): oneDNN's bf16 math mode for float32
  convolutions (``torch.backends.mkldnn.conv.fp32_precision = "bf16"``: bf16 products, float32 sums and
  output), alone (bf16 accuracy) and with each operand split into two bf16 halves, three products
  (``hi*hi + hi*lo + lo*hi``, one convolution over 3x the input channels): close to float32 accuracy.

Ratios are direct float32 channels_last seconds over the candidate's (higher: the candidate is faster).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmarks import peers
from benchmarks.env import conv_ceiling, environment, write_json
from benchmarks.timing import interleaved, load_record, set_threads

ROOT = Path(__file__).resolve().parent.parent
MAX_ERR = 1e-4  # a candidate must match the float64 convolution this closely (absolute, outputs of size ~1-5)

# Lavin & Gray 2016 eq. 7-8, F(2x2, 3x3): G (4x3) transforms the filter, B^T and A^T are applied below.
_G = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def winograd_weight(w: Tensor) -> Tensor:
    """``G g G^T`` of each (out, in) 3x3 filter -> (16, in, out)."""
    return torch.einsum("ai,ocij,bj->abco", _G, w, _G).reshape(16, w.shape[1], w.shape[0]).contiguous()


def winograd_conv3x3(x: Tensor, u: Tensor) -> Tensor:
    """A 3x3 valid convolution of the padded channels-last map ``x`` (N, H + 2, W + 2, C), H and W even,
    with :func:`winograd_weight` ``u`` -> (N, H, W, out)."""
    n, hp, wp, c = x.shape
    th, tw = (hp - 2) // 2, (wp - 2) // 2
    # B^T d B: rows first (B^T = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]), then columns.
    r = [x[:, k::2][:, :th] for k in range(4)]
    t = x.new_empty(4, n, th, wp, c)
    torch.sub(r[0], r[2], out=t[0]), torch.add(r[1], r[2], out=t[1])
    torch.sub(r[2], r[1], out=t[2]), torch.sub(r[1], r[3], out=t[3])
    q = [t[:, :, :, k::2][:, :, :, :tw] for k in range(4)]
    v = x.new_empty(4, 4, n, th, tw, c)
    torch.sub(q[0], q[2], out=v[:, 0]), torch.add(q[1], q[2], out=v[:, 1])
    torch.sub(q[2], q[1], out=v[:, 2]), torch.sub(q[1], q[3], out=v[:, 3])
    m = torch.bmm(v.view(16, n * th * tw, c), u).view(4, 4, n, th, tw, -1)
    # A^T m A with A^T = [[1,1,1,0],[0,1,-1,-1]]: rows, then columns straight into the interleaved output.
    s = m.new_empty(2, 4, n, th, tw, m.shape[-1])
    torch.add(m[0], m[1], out=s[0]), s[0].add_(m[2])
    torch.sub(m[1], m[2], out=s[1]), s[1].sub_(m[3])
    y = m.new_empty(n, th, 2, tw, 2, m.shape[-1])
    even, odd = y[:, :, :, :, 0].permute(2, 0, 1, 3, 4), y[:, :, :, :, 1].permute(2, 0, 1, 3, 4)
    torch.add(s[:, 0], s[:, 1], out=even), even.add_(s[:, 2])
    torch.sub(s[:, 1], s[:, 2], out=odd), odd.sub_(s[:, 3])
    return y.view(n, 2 * th, 2 * tw, -1)


def _reflect_nhwc(x: Tensor) -> Tensor:
    return F.pad(x.permute(0, 3, 1, 2), (1, 1, 1, 1), mode="reflect").permute(0, 2, 3, 1).contiguous()


def _instance_norm_nhwc(x: Tensor, eps: float = 1e-5) -> Tensor:
    mean = x.mean((1, 2), keepdim=True)
    var = (x - mean).square().mean((1, 2), keepdim=True)
    return (x - mean) * torch.rsqrt(var + eps)


def winograd_block(block, u1: Tensor, u2: Tensor, x: Tensor) -> Tensor:
    """The official ``ResnetBlock`` (reflection pad, conv, instance norm, ReLU, pad, conv, instance norm, skip)
    on a channels-last map, its convolutions by :func:`winograd_conv3x3`."""
    c1, c2 = block.conv_block[1], block.conv_block[5]
    y = _instance_norm_nhwc(winograd_conv3x3(_reflect_nhwc(x), u1) + c1.bias).relu_()
    return x + _instance_norm_nhwc(winograd_conv3x3(_reflect_nhwc(y), u2) + c2.bias)


def _split3(x: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """Inputs of one convolution equal to ``x_hi*w_hi + x_hi*w_lo + x_lo*w_hi``: halves exact in bf16."""
    def halves(t):
        hi = t.bfloat16().float()
        return hi, (t - hi).bfloat16().float()
    (xh, xl), (wh, wl) = halves(x), halves(w)
    return (torch.cat([xh, xh, xl], 1).contiguous(memory_format=torch.channels_last),
            torch.cat([wh, wl, wh], 1).contiguous(memory_format=torch.channels_last))


def _bf16_math(fn):
    def run():
        torch.backends.mkldnn.conv.fp32_precision = "bf16"
        try:
            return fn()
        finally:
            torch.backends.mkldnn.conv.fp32_precision = "none"
    return run


def measure(size: int, channels: int, warmup: int, reps: int, bf16: bool) -> dict:
    g = torch.Generator().manual_seed(size)
    x = torch.randn(1, channels, size, size, generator=g)
    w = torch.randn(channels, channels, 3, 3, generator=g) / (3 * channels ** 0.5)
    xp = F.pad(x, (1, 1, 1, 1), mode="reflect")
    xp_cl, w_cl = xp.contiguous(memory_format=torch.channels_last), w.contiguous(memory_format=torch.channels_last)
    xh = xp.permute(0, 2, 3, 1).contiguous()
    u = winograd_weight(w)
    conv = {"direct_nchw": lambda: F.conv2d(xp, w), "direct_channels_last": lambda: F.conv2d(xp_cl, w_cl),
            "winograd": lambda: winograd_conv3x3(xh, u)}
    v = torch.randn(16, (size // 2) ** 2, channels, generator=g)  # the transformed tiles' shape
    conv["winograd_matmuls_only"] = lambda: torch.bmm(v, u)
    if bf16:
        xs, ws = _split3(xp, w)
        conv["bf16_math"] = _bf16_math(lambda: F.conv2d(xp_cl, w_cl))
        conv["bf16_math_split3"] = _bf16_math(lambda: F.conv2d(*_split3(xp, w)))
        conv["bf16_math_split3_conv_only"] = _bf16_math(lambda: F.conv2d(xs, ws))
    ref = F.conv2d(xp.double(), w.double())
    with torch.no_grad():
        outputs = {name: fn() for name, fn in conv.items() if name != "winograd_matmuls_only"}
        outputs["winograd"] = outputs["winograd"].permute(0, 3, 1, 2)  # channels-last order back to NCHW
        errors = {name: (y.double() - ref).abs().max().item() for name, y in outputs.items()}
    for name in ("direct_nchw", "direct_channels_last", "winograd"):
        if errors[name] > MAX_ERR:
            raise SystemExit(f"error: {name} differs from the float64 convolution by {errors[name]:.2e} (> {MAX_ERR})")
    with torch.no_grad():
        t = interleaved(conv, "cpu", warmup=warmup, repeats=reps, memory=False)
    base = t["direct_channels_last"]["median_s"]
    gflop = 2 * channels * channels * 9 * size * size / 1e9
    per_conv = {name: {"median_s": t[name]["median_s"], "gflops_equivalent": _ratio(gflop, t[name]["median_s"], 1),
                       "max_abs_err_vs_float64": None if name not in errors else float(f"{errors[name]:.2e}"),
                       "vs_direct_channels_last": _ratio(base, t[name]["median_s"])} for name in conv}

    block = peers.originals.randomize(peers.originals._CycleBlock(channels), seed=size).eval()
    u1, u2 = winograd_weight(block.conv_block[1].weight.detach()), winograd_weight(block.conv_block[5].weight.detach())
    sides = {"official": lambda: block(x),
             "winograd": lambda: winograd_block(block, u1, u2, x.permute(0, 2, 3, 1).contiguous())}
    with torch.no_grad():
        diff = (sides["winograd"]().permute(0, 3, 1, 2) - sides["official"]()).abs().max().item()
        if diff > MAX_ERR:
            raise SystemExit(f"error: the Winograd residual block differs from the official one by {diff:.2e}")
        tb = interleaved(sides, "cpu", warmup=warmup, repeats=reps, memory=False)
    return {"size": size, "channels": channels, "per_convolution": per_conv,
            "residual_block": {"max_abs_diff_winograd_vs_official": float(f"{diff:.2e}"),
                               "official_s": tb["official"]["median_s"], "winograd_s": tb["winograd"]["median_s"],
                               "official_vs_winograd": _ratio(tb["official"]["median_s"], tb["winograd"]["median_s"])}}


def _ratio(a: float, b: float, digits: int = 3) -> float | None:
    """a / b, None where b rounds to 0 s (tiny test sizes)."""
    return round(a / b, digits) if b else None


def main(argv: list[str] | None = None) -> int:
    from zoo.fit import cpu_has_native_bf16

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128], help="even map sizes (64: CycleGAN at 256 px)")
    p.add_argument("--channels", type=int, default=256)
    p.add_argument("--reps", type=int, default=10, help="timed calls per path (interleaved)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--no-bf16", action="store_true", help="skip the bf16 paths even where the CPU has native bf16")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, the core count)")
    p.add_argument("--out", default=None,
                   help="results JSON (default benchmarks/results/conv-paths-cpu-<cores>core.json)")
    args = p.parse_args(argv)
    if any(s % 2 for s in args.sizes):
        p.error("--sizes must be even (Winograd F(2x2, 3x3) tiles)")
    set_threads(args.threads)
    env = environment("cpu")
    bf16 = cpu_has_native_bf16() and not args.no_bf16
    ceiling = conv_ceiling()
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"conv-paths-cpu-{os.cpu_count()}core.json"
    rows = [measure(size, args.channels, args.warmup, args.reps, bf16) for size in args.sizes]
    env.update(load_record(env["load_average_at_start"]))
    write_json(out, {"benchmark": "conv_paths", "environment": env, "conv_ceiling": ceiling,
                     "peer": {**peers.OFFICIAL_CYCLEGAN, "deviations": ["the official ResnetBlock alone (NCHW, "
                              "float32, no_grad), random weights"]},
                     "bf16_measured": bf16, "ratio": "direct float32 channels_last seconds / the path's seconds "
                     "(residual_block: official seconds / Winograd seconds)", "results": rows})
    for r in rows:
        pc = r["per_convolution"]
        print(f"{r['size']}x{r['size']}: " + ", ".join(f"{k} {v['gflops_equivalent']} GFLOP/s" for k, v in pc.items())
              + f"; residual block official/Winograd {r['residual_block']['official_vs_winograd']}x")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
