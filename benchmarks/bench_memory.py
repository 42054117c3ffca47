"""Peak memory and time of `zoo stylize` for large outputs, every family, with and without --tile.

    python -m benchmarks.bench_memory --sizes 1024 2048 4096 --tile 1024 [--families gatys adain ...]
        [--steps 1] [--timeout 1800] [--out benchmarks/results/memory-cpu-2core.json]

Each case (family, output size, tile or none) runs in a fresh subprocess: the family's stylizer with RANDOM
weights (``--weights random``; VGG ``--backbone-weights none``: the arithmetic and memory of the real networks,
not their pictures), a random square content image (and a 512 px style image where the family takes one),
Gatys for ``--steps`` L-BFGS steps. The child reports its wall time for the one picture and its peak resident
memory (``VmHWM`` from /proc/self/status; ``ru_maxrss`` where there is none), the parent writes one JSON with the
environment (:mod:`benchmarks.env`). Before a case runs, :func:`zoo.stylize.check_output_size` -- the memory
check ``zoo stylize`` makes -- is asked whether it fits on this machine; a case it refuses is recorded as
``"refused"`` with its one-line message and not run, and a case over ``--timeout`` as ``"timeout"``. Cases
with ``--skip`` (``family:size[:tile]``, e.g. ``gatys:4096``) are recorded as ``"not run"`` with ``--why``. The
JSON is rewritten after every case (``"complete": false`` until the last one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "peak_rss_mib", "run_case"]

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _options(family: str, size: int, tile: int | None, steps: int) -> dict:
    from zoo.families import FAMILIES

    supports = FAMILIES.get(family).supports
    opts = {"model": family, "weights": "random", "device": "cpu", "progress": False, "tile": tile}
    if "backbone_weights" in supports:
        opts["backbone_weights"] = "none"
    if family == "gatys":
        opts["steps"] = steps
    return opts


def _child(family: str, size: int, tile: int | None, steps: int) -> dict:
    """Run one case in this process; the result as a dict."""
    import torch

    from zoo.stylize import StylizeOptions, build_stylizer

    torch.manual_seed(0)
    stylizer = build_stylizer(StylizeOptions(**_options(family, size, tile, steps)))
    content = torch.rand(1, 3, size, size)
    styles = [torch.rand(1, 3, 512, 512)] if stylizer.needs_style else []
    before = peak_rss_mib()
    start = time.perf_counter()
    out = stylizer(content, styles)
    seconds = time.perf_counter() - start
    assert out.shape[-2:] == (size, size), out.shape
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(peak_rss_mib(), 1),
            "peak_rss_before_mib": round(before, 1)}


def run_case(family: str, size: int, tile: int | None, steps: int, timeout: float, check: bool = True) -> dict:
    """One case in a subprocess: ``{"family", "size", "tile", "status", ...}``."""
    from zoo.stylize import OptionError, StylizeOptions, check_output_size

    case = {"family": family, "size": size, "tile": tile, "steps": steps if family == "gatys" else None}
    if check:
        try:
            check_output_size(StylizeOptions(**_options(family, size, tile, steps)), size, size, max_pixels=10**10)
        except OptionError as e:
            return {**case, "status": "refused", "message": str(e)}
    cmd = [sys.executable, "-m", "benchmarks.bench_memory", "--child", family, str(size), str(tile or 0), str(steps)]
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {**os.environ, "PYTHONPATH": path}
    start = time.perf_counter()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {**case, "status": "timeout", "message": f"over {timeout:g} s"}
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
        killed = r.returncode < 0 or r.returncode == 137
        return {**case, "status": "killed" if killed else "error", "message": tail[:300],
                "wall_seconds": round(time.perf_counter() - start, 1)}
    result = json.loads(r.stdout.strip().splitlines()[-1])
    return {**case, "status": "ok", **result}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--child", nargs=4, metavar=("FAMILY", "SIZE", "TILE", "STEPS"), help=argparse.SUPPRESS)
    p.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096])
    p.add_argument("--families", nargs="+", default=None, help="default: every family")
    p.add_argument("--tile", type=int, default=1024, help="the --tile of the tiled cases (0: untiled only)")
    p.add_argument("--steps", type=int, default=1, help="Gatys' L-BFGS steps per case")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per case")
    p.add_argument("--skip", nargs="*", default=[], metavar="FAMILY:SIZE[:TILE]", help="cases not to run")
    p.add_argument("--why", default="", help="why the --skip cases were not run (recorded in the JSON)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "memory-cpu.json")
    p.add_argument("--resume", action="store_true", help="keep the cases --out already ran (ok, timeout, killed); run the others")
    args = p.parse_args(argv)
    if args.child:
        family, size, tile, steps = args.child
        print(json.dumps(_child(family, int(size), int(tile) or None, int(steps))))
        return 0

    import torch

    from benchmarks.env import environment
    from zoo.families import FAMILIES
    from zoo.options import takes

    families = args.families or FAMILIES.names()
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        p.error(f"--families: unknown {', '.join(unknown)} (known: {', '.join(FAMILIES.names())})")
    env = environment("cpu")
    from zoo.stylize import available_memory

    env["memory_available_gib_at_start"] = round((available_memory(torch.device("cpu")) or 0) / 2**30, 1)
    done = {}
    if args.resume and args.out.is_file():
        done = {(c["family"], c["size"], c["tile"]): c for c in json.loads(args.out.read_text())["cases"]
                if c["status"] in ("ok", "timeout", "killed")}
    cases: list[dict] = []
    doc = {"benchmark": "bench_memory", "weights": "random (--weights random, --backbone-weights none)",
           "what": "peak resident memory (VmHWM) and wall time of one zoo stylize picture per case, in a fresh process",
           "environment": env, "complete": False, "cases": cases}

    def write() -> None:  # after every case: a run stopped early leaves the cases it finished
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        tmp.replace(args.out)

    for size in args.sizes:
        for family in families:
            tiles = [None] + ([args.tile] if args.tile and takes(FAMILIES.get(family), "tile") else [])
            for tile in tiles:
                key = f"{family}:{size}" + (f":{tile}" if tile else "")
                if (family, size, tile) in done:
                    result = done[(family, size, tile)]
                elif key in args.skip or f"{family}:{size}" in args.skip:
                    result = {"family": family, "size": size, "tile": tile, "status": "not run", "message": args.why}
                else:
                    result = run_case(family, size, tile, args.steps, args.timeout)
                print(json.dumps(result), flush=True)
                cases.append(result)
                write()
    doc["complete"] = True
    write()
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
