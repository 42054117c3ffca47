"""AdaIN stylisation speed and peak memory: our network against a plain fp32 eager baseline.

    python -m benchmarks.bench_adain                       # CPU: 256, 512, 1024 px -> benchmarks/results/
    python -m benchmarks.bench_adain --device cuda --sizes 256 512 1024 --repeats 20

Each (implementation, size) runs in its own subprocess so peak memory is measured cleanly:

* ``baseline``: what naive code does (pytorch-AdaIN test.py's shape), fp32, eager, ``torch.no_grad``: the
  VGG19 encoder runs to the end of the network (pool5) for the content *and* the style on every call, and
  relu4_1 is taken from it; AdaIN with the reference's unbiased std; the same decoder.
* ``ours``: :class:`zoo.nets.adain.AdaINNet` in ``torch.inference_mode``: the encoder stops at relu4_1,
  the style statistics are computed once (:meth:`AdaINNet.encode_style`, outside the timed calls, as a
  reused style is) and only the content is encoded per call.
* GPU only (skipped on CPU): ``ours_bf16_cl`` (bf16 autocast + channels_last) and ``ours_compile``
  (the same under ``torch.compile``).

The content image is size x size and the style image has the same size (a user stylising a photo with a
painting of similar resolution); batch 1. Images per second = 1 / median seconds per call. Peak memory:
CUDA ``max_memory_allocated``; on CPU the rise of the process's peak resident set size (VmHWM, reset
through /proc/self/clear_refs) above the resident size after building the model and inputs.

Weights are random (``backbone_weights="none"``, random decoder): speed and memory do not depend on the
values, and the results JSON says so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from benchmarks.env import environment

ROOT = Path(__file__).resolve().parents[1]
IMPLS_CPU = ("baseline", "ours")
IMPLS_GPU = ("baseline", "ours", "ours_bf16_cl", "ours_compile")
# Targets from issue 5: >= 1.3x the baseline on CPU; on GPU the paper's 15 images/s at 512 px
# (Huang & Belongie 2017, sec. 7.1: 15 FPS at 512x512 on a Pascal Titan X) many times over.
TARGETS = {"cpu_speedup_vs_baseline": 1.3, "paper_images_per_s_512": 15.0}


def _status(field: str) -> int:
    """A field of /proc/self/status in bytes (Linux), e.g. VmRSS, VmHWM; -1 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def worker(impl: str, size: int, device_name: str, warmup: int, repeats: int) -> dict:
    from zoo.backbone import VGGEncoder
    from zoo.nets.adain import AdaINNet

    device = torch.device(device_name)
    torch.manual_seed(0)
    content = torch.rand(1, 3, size, size, device=device)
    style = torch.rand(1, 3, size, size, device=device)
    net = AdaINNet(backbone_weights="none").to(device).eval()

    if impl == "baseline":
        full_vgg = VGGEncoder("vgg19", weights="none", layers=None).to(device)  # to pool5, like an uncut VGG
        decoder = net.decoder

        def calc_mean_std(f, eps=1e-5):  # the reference's statistics (unbiased Tensor.var)
            n, c = f.shape[:2]
            var = f.view(n, c, -1).var(dim=2) + eps
            return f.view(n, c, -1).mean(dim=2).view(n, c, 1, 1), var.sqrt().view(n, c, 1, 1)

        def run():
            with torch.no_grad():
                c = full_vgg(content)["relu4_1"]
                s = full_vgg(style)["relu4_1"]
                s_mean, s_std = calc_mean_std(s)
                c_mean, c_std = calc_mean_std(c)
                return decoder((c - c_mean) / c_std * s_std + s_mean).clamp(0, 1)
    else:
        if impl in ("ours_bf16_cl", "ours_compile") and device.type != "cuda":
            return {"impl": impl, "size": size, "skipped": "GPU-only path (bf16 autocast, channels_last)"}
        x = content
        if impl != "ours":
            net = net.to(memory_format=torch.channels_last)
            x = content.contiguous(memory_format=torch.channels_last)
        code = net.encode_style(style)  # once, outside the timed calls: a reused style
        fn = torch.compile(net) if impl == "ours_compile" else net

        def run():
            with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16,
                                                         enabled=impl != "ours"):
                return fn(x, code)

    _sync(device)
    rss0 = _status("VmRSS")
    peak_reset = _reset_peak_rss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(warmup):
        run()
    _sync(device)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = run()
        _sync(device)
        times.append(time.perf_counter() - t)
    assert out.shape == (1, 3, size, size)
    result = {"impl": impl, "size": size, "seconds_per_image": statistics.median(times),
              "images_per_s": 1.0 / statistics.median(times), "runs": repeats, "warmup": warmup,
              "times_s": [round(t, 4) for t in times]}
    if device.type == "cuda":
        result["peak_memory_bytes"] = int(torch.cuda.max_memory_allocated(device))
        result["peak_memory_kind"] = "cuda max_memory_allocated"
    else:
        hwm = _status("VmHWM")
        result["peak_memory_bytes"] = hwm - rss0 if peak_reset and hwm > 0 else None
        result["peak_rss_bytes"] = hwm
        result["peak_memory_kind"] = "peak RSS rise above the RSS after setup (VmHWM - VmRSS)"
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--repeats", type=int, nargs="+", default=None,
                   help="timed calls per size (one value, or one per size); default CPU 3,2,1, GPU 20")
    p.add_argument("--warmup", type=int, nargs="+", default=None, help="untimed calls first (default CPU 1,1,0; GPU 3)")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/adain-<device>-<n>core.json)")
    p.add_argument("--worker", nargs=2, metavar=("IMPL", "SIZE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    gpu = args.device.startswith("cuda")
    n = len(args.sizes)

    def per_size(values, default):
        values = values if values is not None else default
        return values * n if len(values) == 1 else values

    repeats = per_size(args.repeats, [20] if gpu else [3, 2, 1][:n] + [1] * max(0, n - 3))
    warmup = per_size(args.warmup, [3] if gpu else [1, 1, 0][:n] + [0] * max(0, n - 3))

    if args.worker:
        impl, size = args.worker[0], int(args.worker[1])
        i = args.sizes.index(size) if size in args.sizes else 0
        print(json.dumps(worker(impl, size, args.device, warmup[i], repeats[i])))
        return

    impls = IMPLS_GPU if gpu else IMPLS_CPU
    skipped = [] if gpu else [{"impl": i, "skipped": "GPU-only path (bf16 autocast, channels_last, torch.compile)"}
                              for i in IMPLS_GPU if i not in IMPLS_CPU]
    rows = []
    env_vars = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for size in args.sizes:
        for impl in impls:
            cmd = [sys.executable, "-m", "benchmarks.bench_adain", "--device", args.device, "--sizes",
                   *map(str, args.sizes), "--repeats", *map(str, repeats), "--warmup", *map(str, warmup),
                   "--worker", impl, str(size)]
            r = subprocess.run(cmd, cwd=ROOT, env=env_vars, capture_output=True, text=True)
            if r.returncode != 0:
                rows.append({"impl": impl, "size": size, "error": r.stderr.strip().splitlines()[-1:]})
            else:
                rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)

    ratios = {}
    for size in args.sizes:
        by = {r["impl"]: r for r in rows if r.get("size") == size and "images_per_s" in r}
        if "baseline" in by:
            for impl, r in by.items():
                if impl != "baseline":
                    ratios[f"{impl}_vs_baseline_{size}"] = round(r["images_per_s"] / by["baseline"]["images_per_s"], 3)
                    if r.get("peak_memory_bytes") and by["baseline"].get("peak_memory_bytes"):
                        ratios[f"{impl}_memory_vs_baseline_{size}"] = round(
                            r["peak_memory_bytes"] / by["baseline"]["peak_memory_bytes"], 3)
    best512 = max((r["images_per_s"] for r in rows if r.get("size") == 512 and "images_per_s" in r
                   and r["impl"] != "baseline"), default=None)
    targets = {"cpu_speedup_vs_baseline": {"target": TARGETS["cpu_speedup_vs_baseline"],
                                           "measured": {k: v for k, v in ratios.items() if k.startswith("ours_vs")},
                                           "met": None if gpu else all(v >= TARGETS["cpu_speedup_vs_baseline"]
                                                                       for k, v in ratios.items() if k.startswith("ours_vs"))},
               "paper_images_per_s_512": {"target": TARGETS["paper_images_per_s_512"],
                                          "best_measured": best512,
                                          "ratio": None if best512 is None else round(best512 / TARGETS["paper_images_per_s_512"], 3),
                                          "note": "the paper's GPU figure; compare on GPU runs only"}}
    env = {**environment(args.device),
           "weights": "random (backbone_weights='none', random decoder): speed/memory only, no quality"}
    result = {"benchmark": "adain stylisation", "environment": env, "content_and_style": "size x size",
              "results": rows + skipped, "ratios": ratios, "targets": targets}
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / (
        f"adain-{'gpu' if gpu else 'cpu'}-{os.cpu_count()}core.json")
    from zoo.fileio import write_bytes

    write_bytes(out, (json.dumps(result, indent=2) + "\n").encode())  # atomic (zoo.fileio)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
