"""Which device to run on: ``--device auto`` is this machine's accelerator (CUDA, MPS, XPU, ... through
``torch.accelerator``), else the CPU; the memory check and DataLoader pinning follow the chosen device.

* :func:`accelerator`: the accelerator torch sees (``torch.accelerator.current_accelerator()``), or None.
* :func:`resolve_device`: ``--device`` to a :class:`torch.device` (``auto``, ``cpu``, ``cuda``, ``cuda:1``,
  ``mps``, ``xpu``, ...), refused with one line when this machine has no such device.
* :func:`available_memory`: bytes free on a device now (the accelerator's free memory, or the RAM's).
* :func:`pin_memory`: whether DataLoaders should pin host memory (the device they feed copies from it).
"""

from __future__ import annotations

import os
from typing import Any

import torch

from .errors import ZooError

__all__ = ["accelerator", "resolve_device", "available_memory", "pin_memory", "DeviceError"]

# Device types that DataLoader's pinned memory speeds up (page-locked host memory for their copies).
PINNED_TYPES = ("cuda", "xpu")
# torch device types that are accelerators (torch.accelerator's); others (meta, ...) cannot run a model.
ACCELERATOR_TYPES = ("cuda", "mps", "xpu", "hpu", "mtia", "privateuseone")
EXPECTED = "expected auto, cpu or an accelerator such as cuda, cuda:1, mps or xpu"


class DeviceError(ZooError, ValueError):
    """A ``--device`` this machine does not have; the message names the option."""


def _legacy_accelerator() -> torch.device | None:
    """torch before 2.6 (no torch.accelerator): CUDA, XPU or MPS, in that order."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        return torch.device("xpu")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return None


def accelerator() -> torch.device | None:
    """The accelerator of this machine (``torch.accelerator``: CUDA, MPS, XPU, ...) when it is available, else
    None (the CPU)."""
    api = getattr(torch, "accelerator", None)
    if api is None or not hasattr(api, "current_accelerator"):
        return _legacy_accelerator()
    if not api.is_available():
        return None
    device = api.current_accelerator()
    return torch.device(device.type) if device is not None else None


def _device_count(device_type: str) -> int:
    api = getattr(torch, "accelerator", None)
    if api is not None and hasattr(api, "device_count"):
        return int(api.device_count())
    module = getattr(torch, device_type, None)
    return int(module.device_count()) if module is not None and hasattr(module, "device_count") else 1


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: this machine's accelerator (:func:`accelerator`), else the CPU. Otherwise ``cpu`` or a device
    of this machine's accelerator (``cuda``, ``cuda:1``, ``mps``, ``xpu``...): a :class:`DeviceError` naming
    ``--device`` when this machine has no such device."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return accelerator() or torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        dev = None
    if dev is None or dev.type not in ("cpu", *ACCELERATOR_TYPES):
        raise DeviceError(f"--device {device}: {EXPECTED}")
    if dev.type == "cpu":
        return dev
    found = accelerator()
    if found is None or found.type != dev.type:
        have = f"its accelerator is {found.type}" if found is not None else "it has none"
        raise DeviceError(f"--device {device}: this machine has no {dev.type.upper()} device ({have}); use "
                          "--device auto or cpu")
    count = _device_count(dev.type)
    if dev.index is not None and dev.index >= count:
        raise DeviceError(f"--device {device}: this machine has {count} {dev.type.upper()} device(s)")
    return dev


def available_memory(device: torch.device) -> int | None:
    """Bytes that can be allocated now on ``device`` (an accelerator's free memory, the CPU's MemAvailable),
    or None when it cannot be told (then nothing is refused)."""
    if device.type != "cpu":
        api = getattr(torch, "accelerator", None)
        try:
            if api is not None and hasattr(api, "get_memory_info"):
                return int(api.get_memory_info(device)[0])
            module = getattr(torch, device.type, None)
            if module is not None and hasattr(module, "mem_get_info"):
                return int(module.mem_get_info(device)[0])
        except (RuntimeError, AttributeError, TypeError):
            pass
        return None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def pin_memory(trainer: Any = None) -> bool:
    """Whether a DataLoader should pin host memory: the device it feeds (the ``trainer``'s root device, else
    this machine's accelerator) copies from pinned memory faster (CUDA, XPU). Never for CPU or MPS runs."""
    device = getattr(getattr(trainer, "strategy", None), "root_device", None)
    if device is None:
        device = accelerator()
    return device is not None and device.type in PINNED_TYPES
