"""One timing and memory helper for every speed script (``benchmarks/bench_*.py``).

:func:`interleaved` runs the sides of a comparison round-robin (one call of each, then the next round), so
that a changing load on a shared machine hits them alike; it records each side's first (warm-up) call
time (for compiled paths: the compilation), every timed call, the median, and the peak memory of a call
(CUDA: ``max_memory_allocated`` above the level before it; CPU: resident set size above the level before
it, sampled by a thread). :func:`set_threads` fixes torch's thread count and :func:`load_record` says how
busy the machine was from the start to the end of a run.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from typing import Any, Callable

import torch

from benchmarks.env import load_average

__all__ = ["RSSPeak", "interleaved", "set_threads", "load_record", "sync"]


class RSSPeak:
    """Peak resident memory (bytes) above the level at ``__enter__``, sampled by a thread (Linux)."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss() - self.base)
            time.sleep(self.interval)

    def __enter__(self) -> "RSSPeak":
        self.base = self._rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss() - self.base)


def sync(device: torch.device | str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def set_threads(threads: int | None) -> int:
    """Use ``threads`` torch threads (None: leave torch's default); returns the number in use."""
    if threads:
        torch.set_num_threads(int(threads))
    return torch.get_num_threads()


def interleaved(fns: dict[str, Callable[[], Any]], device: torch.device | str, warmup: int = 1,
                repeats: int = 3, memory: bool = True, keep_results: bool = False) -> dict[str, dict]:
    """Time each zero-argument ``fns[name]`` ``repeats`` times, round-robin, after ``warmup`` untimed calls
    of each. Returns ``{name: {"median_s", "samples_s", "first_call_s" (with warmup), "peak_memory_mib"
    (with memory), "results" (with keep_results: what each timed call returned)}}``."""
    device = torch.device(device)
    first: dict[str, float] = {}
    for name, fn in fns.items():
        for i in range(warmup):
            t = time.perf_counter()
            fn()
            sync(device)
            if i == 0:
                first[name] = time.perf_counter() - t
    times: dict[str, list[float]] = {name: [] for name in fns}
    peaks = {name: 0 for name in fns}
    results: dict[str, list] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            if memory and device.type == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats(device)
                base = torch.cuda.memory_allocated(device)
            ctx = RSSPeak() if memory and device.type == "cpu" else contextlib.nullcontext()
            with ctx:
                t = time.perf_counter()
                result = fn()
                sync(device)
                times[name].append(time.perf_counter() - t)
            if keep_results:
                results[name].append(result)
            del result
            if memory:
                peak = torch.cuda.max_memory_allocated(device) - base if device.type == "cuda" else ctx.peak
                peaks[name] = max(peaks[name], peak)
    out = {}
    for name in fns:
        out[name] = {"median_s": round(statistics.median(times[name]), 4),
                     "samples_s": [round(t, 4) for t in times[name]]}
        if keep_results:
            out[name]["results"] = results[name]
        if name in first:
            out[name]["first_call_s"] = round(first[name], 3)
        if memory:
            out[name]["peak_memory_mib"] = round(peaks[name] / 2 ** 20, 1)
    return out


def load_record(at_start: list[float] | None) -> dict:
    """The load averages at the start and end of a run and whether the machine was busy (a 1- or 5-minute
    load above its core count: then other processes shared the cores, the absolute times are inflated and
    only the same-run ratios of interleaved sides mean something)."""
    at_end = load_average()
    cores = os.cpu_count() or 1
    high = any(v[i] > cores for v in (at_start, at_end) if v for i in (0, 1))
    rec = {"load_average_at_start": at_start, "load_average_at_end": at_end, "load_high": high}
    if high:
        rec["load_note"] = (f"load above the {cores} cores during the run (a shared machine): absolute times are "
                            "inflated and noisy; the ratios are of sides interleaved call by call in one process")
    return rec
