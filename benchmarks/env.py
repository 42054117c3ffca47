"""The machine a benchmark ran on, recorded in every results JSON (``environment``)."""

from __future__ import annotations

import os
import platform

import torch

__all__ = ["environment", "load_average"]


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (how busy a shared machine was), None where unknown."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def environment(device: torch.device | str) -> dict:
    """Python, torch, platform, processor, cores, torch threads, device (and GPU name, CUDA version) and the
    load average at the start of the run."""
    device = torch.device(device)
    env = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
           "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
           "torch_threads": torch.get_num_threads(), "device": str(device), "device_type": device.type}
    if device.type == "cuda":
        env["device_name"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    env["load_average_at_start"] = load_average()
    return env
