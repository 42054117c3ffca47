"""How light ``import zoo`` is: the wall time of a fresh interpreter that imports it (median of ``--rounds``),
against a bare ``import torch`` in the same interpreter, and which optional packages each entry point pulls in.

    python -m benchmarks.bench_import                # import zoo, zoo.cli, the Gatys stylizer
    python -m benchmarks.bench_import --rounds 9 --json out.json

Each case runs in its own ``python -c`` (nothing cached in this process); the extra time over ``import torch``
is what Stylezoo adds. The optional packages listed are the heavy ones of the extras (pyproject.toml): the core
entry points must list none. A measurement, not a test: the tests check *which* modules are imported
(tests/test_extras.py), never how long it takes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

HEAVY = ("lightning", "pytorch_lightning", "torchmetrics", "jsonargparse", "av", "cv2", "gradio", "wandb", "timm",
         "scipy", "onnx")
CASES = {
    "torch": "import torch",
    "zoo": "import zoo",
    "zoo.cli": "import zoo.cli",
    "gatys stylizer": "import zoo.gatys",
}
REPORT = "; import sys, json; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))))"


def measure(code: str, rounds: int) -> tuple[float, list[str]]:
    """(median wall seconds of a fresh interpreter running ``code``, the heavy packages it imported)."""
    times, heavy = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code + REPORT % (HEAVY,)], capture_output=True, text=True,
                             check=True)
        times.append(time.perf_counter() - start)
        heavy = json.loads(out.stdout.strip().splitlines()[-1])
    return statistics.median(times), heavy


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5, help="fresh interpreters per case (the median is reported)")
    p.add_argument("--json", default=None, help="also write the numbers to this file")
    args = p.parse_args(argv)
    results = {}
    for name, code in CASES.items():
        seconds, heavy = measure(code, args.rounds)
        results[name] = {"seconds": round(seconds, 3), "heavy_modules": heavy}
    base = results["torch"]["seconds"]
    print(f"{'case':<16} {'median s':>9} {'over torch':>11}  heavy optional packages imported")
    for name, r in results.items():
        print(f"{name:<16} {r['seconds']:>9.3f} {r['seconds'] - base:>+11.3f}  {', '.join(r['heavy_modules']) or '-'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version.split()[0], "rounds": args.rounds, "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
