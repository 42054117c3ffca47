"""Images/s of a dataset job (``python -m zoo.stylize_dataset``) on 1 and 2 processes against the single-image
path (``zoo stylize DIR``) on the same images, interleaved in each round:

    python -m benchmarks.bench_dataset                 # CPU: benchmarks/results/dataset-cpu-<n>core.json
    python -m benchmarks.bench_dataset --device cuda   # one GPU: 1 process only

Every command runs as a user runs it (a subprocess). ``zoo stylize`` runs once on N images and once on 1
image: its rate is (N - 1) / (t(N) - t(1)), start-up (imports, model loading) not counted. The job's rate is
its N images over the longest process's seconds from its first image to its last (the job records them in
``OUT/.stylezoo/timings/``): Lightning's launcher and model loading not counted either, the first image's
warm-up counted. On the CPU every process has ``--threads`` torch threads (default 1), so "per process"
compares like with like. The network is Johnson's default architecture with RANDOM weights: speed only.
Target: the job's images/s per process >= 0.9x ``zoo stylize``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.env import environment, load_average
from benchmarks.timing import load_record

REPO = Path(__file__).resolve().parent.parent


def make_images(folder: Path, n: int, size: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        array = (rng.random((size, size, 3)) * 255).astype(np.uint8)
        path = folder / f"class{i % 4}" / f"img{i:04d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(path, quality=90)


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return seconds


def commands(kind: str, src: Path, out: Path, weights: Path, device: str) -> list[str]:
    if kind == "zoo stylize":
        return [sys.executable, "-m", "zoo", "stylize", str(src), "-o", str(out), "--model", "johnson", "--weights",
                str(weights), "--device", device, "--quiet"]
    procs = 2 if kind.endswith("2 processes") else 1
    accel = "gpu" if device.startswith("cuda") else "cpu"
    return [sys.executable, "-m", "zoo.stylize_dataset", "folder", "--model.model=johnson",
            f"--model.weights={weights}", f"--data.input={src}", f"--data.output={out}", "--data.progress=false",
            "--data.num_workers=1", f"--trainer.accelerator={accel}", f"--trainer.devices={procs}",
            *(["--trainer.strategy=ddp"] if procs > 1 else [])]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--images", type=int, default=48)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="torch threads per process (CPU)")
    p.add_argument("--max-processes", type=int, default=2, choices=[1, 2], help="2: also the 2-process job (CPU)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    cuda = args.device.startswith("cuda")
    kinds = ["zoo stylize", "dataset job, 1 process"] + (
        [] if cuda or args.max_processes < 2 else ["dataset job, 2 processes"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": str(args.threads), "PYTHONWARNINGS": "ignore"}
    torch.set_num_threads(args.threads)
    result = {"benchmark": "dataset job (zoo.stylize_dataset) vs zoo stylize DIR, images/s",
              "environment": {**environment(args.device),
                              "weights": "RANDOM (Johnson default architecture): speed only, not a style",
                              "torch_threads_per_process": args.threads},
              "images": args.images, "size": [args.size, args.size], "rounds": []}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        from zoo.nets.johnson import TransformerNet

        torch.manual_seed(0)
        TransformerNet().save_pretrained(tmp / "net")
        make_images(tmp / "many", args.images, args.size)
        make_images(tmp / "one", 1, args.size)
        for r in range(args.rounds):
            row = {"load_average_before": load_average()}
            for kind in kinds:  # interleaved: every kind in every round
                if kind == "zoo stylize":
                    seconds = {}
                    for which in ("many", "one"):
                        out = tmp / f"out-{which}"
                        shutil.rmtree(out, ignore_errors=True)
                        seconds[which] = timed(commands(kind, tmp / which, out, tmp / "net", args.device), env)
                    diff = seconds["many"] - seconds["one"]  # <= 0: start-up noise swamped the work
                    rate = round((args.images - 1) / diff, 3) if diff > 0 else None
                    row[kind] = {"seconds_n_images": round(seconds["many"], 2),
                                 "seconds_1_image": round(seconds["one"], 2), "images_per_s": rate}
                else:
                    out = tmp / "out-job"
                    shutil.rmtree(out, ignore_errors=True)
                    wall = timed(commands(kind, tmp / "many", out, tmp / "net", args.device), env)
                    timings = [json.loads(f.read_text()) for f in (out / ".stylezoo" / "timings").glob("*.json")]
                    items, seconds = sum(t["items"] for t in timings), max(t["seconds"] for t in timings)
                    assert items == args.images, timings
                    row[kind] = {"command_seconds": round(wall, 2), "per_process": timings,
                                 "images_per_s": round(items / max(seconds, 1e-9), 3)}
                print(json.dumps({"round": r, kind: row[kind]}), flush=True)
            result["rounds"].append(row)
    def median(values):
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 3) if values else None

    rounds = result["rounds"]
    summary = {"zoo_stylize_images_per_s": median(row["zoo stylize"]["images_per_s"] for row in rounds)}
    for kind in kinds[1:]:
        procs = 2 if kind.endswith("2 processes") else 1
        ratios = [round(row[kind]["images_per_s"] / procs / row["zoo stylize"]["images_per_s"], 3)
                  if row["zoo stylize"]["images_per_s"] else None for row in rounds]
        ratio = median(ratios)
        summary[kind] = {"images_per_s": median(row[kind]["images_per_s"] for row in rounds),
                         "per_process_vs_zoo_stylize": ratio, "per_round_ratio": ratios, "target": 0.9,
                         "met": None if ratio is None else ratio >= 0.9}
    result["summary"] = summary
    result["environment"].update(load_record(result["environment"]["load_average_at_start"]))
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    out_path = Path(args.out) if args.out else REPO / "benchmarks" / "results" / (
        f"dataset-{torch.cuda.get_device_name(0).split()[-1].lower()}.json" if cuda
        else f"dataset-cpu-{os.cpu_count()}core.json")
    from zoo.fileio import write_bytes

    write_bytes(out_path, (json.dumps(result, indent=2) + "\n").encode())
    print(json.dumps(summary, indent=1))
    return result


if __name__ == "__main__":
    main()
