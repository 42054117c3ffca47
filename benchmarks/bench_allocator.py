"""What keeping freed memory in the process (zoo/allocator.py) gains on CPU, each side in a fresh process.

    python -m benchmarks.bench_allocator              # a few minutes -> benchmarks/results/allocator-cpu.json
    python -m benchmarks.bench_allocator --gatys-sizes 64 --stylize-sizes 64 --rounds 1   # a quick look

glibc's settings are process-wide and cannot be put back to their start-up (dynamic) state once changed,
so the two sides cannot share a process: every run is a new Python process, with ``ZOO_RETAIN_MEMORY=0``
(glibc as it comes) or ``1`` (the zoo's default), the two alternating round by round. Workloads, as the
zoo runs them on CPU:

* ``gatys``: :class:`zoo.variants.gatys.Gatys` under a Lightning Trainer, L-BFGS, float32; seconds and minor
  page faults per iteration (the first iteration, which builds the targets, left out);
* ``stylize``: CycleGAN's ``forward_fast`` (what ``zoo stylize`` runs on CPU) on several images in a row
  inside :func:`zoo.allocator.retain_freed_memory`, as ``zoo stylize`` runs them; seconds and page faults
  per image (the first image left out).

``gain`` is off / on (higher: retaining is faster). Random weights: speed only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

from benchmarks.env import environment, write_json
from benchmarks.timing import load_record, set_threads


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def gatys_worker(size: int, iters: int) -> list[tuple[float, int]]:
    import lightning.pytorch as pl

    from benchmarks.bench_gatys import LOSSES, _images
    from zoo.data import GatysData
    from zoo.variants.gatys import Gatys

    samples = []

    class Clock(pl.Callback):
        def on_train_batch_start(self, *args):
            self.t0, self.f0 = time.perf_counter(), _faults()

        def on_train_batch_end(self, *args):
            samples.append((time.perf_counter() - self.t0, _faults() - self.f0))

    content, style = _images(size)
    model = Gatys(backbone={"arch": "vgg19", "weights": "none", "pool": "avg"}, losses=LOSSES)
    trainer = pl.Trainer(max_steps=iters, max_epochs=-1, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[Clock()])
    trainer.fit(model, GatysData.from_tensors(content, [style]))
    return samples[1:]


@torch.no_grad()
def stylize_worker(size: int, images: int) -> list[tuple[float, int]]:
    from zoo.allocator import retain_freed_memory
    from zoo.nets.cyclegan import ResnetGenerator

    net = ResnetGenerator().eval()
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    samples = []
    with retain_freed_memory():
        for _ in range(images):
            t0, f0 = time.perf_counter(), _faults()
            net.forward_fast(x)
            samples.append((time.perf_counter() - t0, _faults() - f0))
    return samples[1:]


WORKERS = {"gatys": gatys_worker, "stylize": stylize_worker}


def _run(workload: str, size: int, n: int, retain: bool, threads: int | None) -> list[tuple[float, int]]:
    cmd = [sys.executable, "-m", "benchmarks.bench_allocator", "--worker", workload, str(size), str(n)]
    if threads:
        cmd += ["--threads", str(threads)]
    env = {**os.environ, "ZOO_RETAIN_MEMORY": "1" if retain else "0"}
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"error: the {workload} {size} px worker failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure(workload: str, size: int, n: int, rounds: int, threads: int | None) -> dict:
    runs: dict[str, list] = {"off": [], "on": []}
    for _ in range(rounds):
        for side in runs:
            runs[side] += _run(workload, size, n, side == "on", threads)
    unit = "iteration" if workload == "gatys" else "image"
    row: dict = {"workload": workload, "size": size}
    for side, samples in runs.items():
        row[side] = {f"s_per_{unit}_median": round(statistics.median(t for t, _ in samples), 4),
                     f"page_faults_per_{unit}_median": int(statistics.median(f for _, f in samples)),
                     "samples_s": [round(t, 4) for t, _ in samples]}
    row["gain"] = round(row["off"][f"s_per_{unit}_median"] / row["on"][f"s_per_{unit}_median"], 3)
    print(f"[{workload} {size}px] off {row['off'][f's_per_{unit}_median']:.3f} s, on "
          f"{row['on'][f's_per_{unit}_median']:.3f} s per {unit}: gain {row['gain']}x", flush=True)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gatys-sizes", default="256,512")
    p.add_argument("--stylize-sizes", default="256,512")
    p.add_argument("--iters", type=int, default=4, help="Gatys iterations per run (the first is left out)")
    p.add_argument("--images", type=int, default=4, help="images per stylize run (the first is left out)")
    p.add_argument("--rounds", type=int, default=2, help="alternating off/on runs per workload")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, the core count)")
    p.add_argument("--out", default="benchmarks/results/allocator-cpu.json")
    p.add_argument("--worker", nargs=3, metavar=("WORKLOAD", "SIZE", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    set_threads(args.threads)
    if args.worker:
        workload, size, n = args.worker
        print(json.dumps(WORKERS[workload](int(size), int(n))))
        return 0
    if args.iters < 2 or args.images < 2 or args.rounds < 1:
        p.error("--iters and --images must be at least 2 (the first is left out), --rounds at least 1")
    from zoo.allocator import supported

    if not supported():
        raise SystemExit("error: freed memory is retained with glibc's malloc only (Linux), and not with "
                         "ZOO_RETAIN_MEMORY=0: nothing to measure here")
    env = environment("cpu")
    rows = [measure("gatys", int(s), args.iters, args.rounds, args.threads) for s in args.gatys_sizes.split(",") if s]
    rows += [measure("stylize", int(s), args.images, args.rounds, args.threads)
             for s in args.stylize_sizes.split(",") if s]
    env.update(load_record(env["load_average_at_start"]))
    result = {"benchmark": "allocator", "environment": env, "weights": "random (speed only)",
              "what": "each run a fresh process; off: ZOO_RETAIN_MEMORY=0 (glibc as it comes), on: the zoo's "
                      "default (zoo/allocator.py); gain = off / on", "results": rows}
    print(f"wrote {write_json(args.out, result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
