"""The machine a benchmark ran on, recorded in every results JSON (``environment``)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

__all__ = ["environment", "load_average", "conv_ceiling", "count_flops", "ceiling_fraction"]


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (how busy a shared machine was), None where unknown."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        return None


def environment(device: torch.device | str) -> dict:
    """Python, torch, platform, processor (model name from /proc/cpuinfo where there is one) and the SIMD level
    torch's CPU kernels use (AVX2, AVX512: the ratios differ between them), cores, torch threads, device (and
    GPU name, CUDA version) and the load average at the start of the run."""
    device = torch.device(device)
    env = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
           "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
           "cpu_model": _cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
           "torch_threads": torch.get_num_threads(), "device": str(device), "device_type": device.type}
    if device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    env["load_average_at_start"] = load_average()
    return env


def conv_ceiling(reps: int = 5, size: int = 64, channels: int = 256) -> dict:
    """What this machine's convolution library reaches: GFLOP/s of one 3x3, ``channels`` -> ``channels``
    convolution on a ``size`` x ``size`` map (batch 1, the best of ``reps`` calls after a warm-up), in
    float32 NCHW, float32 channels_last and, where the CPU has native bf16, bf16 channels_last. A script's
    "fraction of the ceiling" is its FLOPs per second over the float32 channels_last figure (bf16 paths:
    over the bf16 one). Takes a few seconds."""
    from zoo.fit import cpu_has_native_bf16

    flops = 2 * channels * channels * 9 * size * size
    g = torch.Generator().manual_seed(0)
    configs = {"fp32_nchw": (torch.float32, False), "fp32_channels_last": (torch.float32, True)}
    if cpu_has_native_bf16():
        configs["bf16_channels_last"] = (torch.bfloat16, True)
    out = {"what": f"3x3 conv {channels}->{channels}, {size}x{size}, batch 1, torch.nn.functional.conv2d, "
                   f"best of {reps}", "threads": torch.get_num_threads()}
    with torch.no_grad():
        for name, (dtype, cl) in configs.items():
            x = torch.randn(1, channels, size, size, generator=g).to(dtype)
            w = torch.randn(channels, channels, 3, 3, generator=g).to(dtype)
            if cl:
                x, w = (t.contiguous(memory_format=torch.channels_last) for t in (x, w))
            F.conv2d(x, w, padding=1)
            best = float("inf")
            for _ in range(reps):
                t0 = time.perf_counter()
                F.conv2d(x, w, padding=1)
                best = min(best, time.perf_counter() - t0)
            out[f"{name}_gflops"] = round(flops / best / 1e9, 1)
    return out


def count_flops(fn) -> int:
    """Floating-point operations of one call of ``fn`` (convolutions and matrix products, forward and
    backward, as torch.utils.flop_counter counts them)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def ceiling_fraction(flops: float, seconds: float, ceiling: dict, bf16: bool = False) -> float | None:
    """Achieved GFLOP/s over the ceiling (float32 channels_last, or bf16 channels_last for bf16 paths)."""
    key = "bf16_channels_last_gflops" if bf16 else "fp32_channels_last_gflops"
    if key not in ceiling or not seconds:
        return None
    return round(flops / seconds / 1e9 / ceiling[key], 3)


def write_json(path: str | os.PathLike, result: dict) -> Path:
    """Write a results JSON atomically (:func:`zoo.fileio.write_bytes`: a cut run never leaves half a file)."""
    from zoo.fileio import write_bytes

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes(path, (json.dumps(result, indent=2) + "\n").encode())
