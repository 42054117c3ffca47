"""What an exact ``--tile`` costs, per network family, with and without resuming each pass.

    python -m benchmarks.bench_tiling      # ~10 min on 2 cores -> benchmarks/results/tiling-cpu-<cores>core.json

Every family whose ``--tile`` runs ``zoo.tiling.tiled_apply_exact`` (the families with a network: Gatys tiles
its optimisation instead), through its stylizer (``weights="random"``, labelled so) on a random picture, three
ways interleaved in one process: untiled; tiled, each pass resuming where the window's previous pass stopped
(what ``zoo stylize --tile`` does); and tiled with every pass starting from the image (``cache_bytes=0``, what
the zoo did before resuming, the peer here). Ratios are tiled seconds over the untiled seconds of the same run;
the resumed and the from-the-image pictures are checked equal bit for bit, and both against the untiled one.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from unittest import mock

import torch

from benchmarks.env import environment, write_json
from benchmarks.timing import interleaved, load_record, set_threads

ROOT = Path(__file__).resolve().parent.parent
CASES = [(512, 256), (1024, 512)]  # (picture side, --tile)


def tiled_families() -> list[str]:
    from zoo.families import FAMILIES
    from zoo.options import families_taking

    return [n for n in families_taking("tile") if FAMILIES.get(n).network]


def measure(family: str, size: int, tile: int, repeats: int) -> dict:
    import zoo.tiling
    from benchmarks.bench_memory import _options
    from zoo.stylize import StylizeOptions, build_stylizer

    def stylizer(t: int | None):
        torch.manual_seed(0)  # the same random weights for each
        return build_stylizer(StylizeOptions(**_options(family, size, t, steps=1)))

    untiled, tiled = stylizer(None), stylizer(tile)
    content = torch.rand(1, 3, size, size + size // 8)  # not square: windows differ along the two sides
    styles = [torch.rand(1, 3, 256, 256)] if untiled.needs_style else []

    def from_image():
        with mock.patch.object(zoo.tiling, "available_memory", lambda device: 0):  # cache_bytes 0: keep nothing
            return tiled(content, styles)

    sides = {"untiled": lambda: untiled(content, styles), "tiled_resumed": lambda: tiled(content, styles),
             "tiled_from_image": from_image}
    with torch.no_grad():
        t = interleaved(sides, "cpu", warmup=0, repeats=repeats, keep_results=True)
    pictures = {name: t[name].pop("results")[-1] for name in sides}
    if not torch.equal(pictures["tiled_resumed"], pictures["tiled_from_image"]):
        raise SystemExit(f"error: {family}: the resumed and the from-the-image tiled pictures differ")
    base = t["untiled"]["median_s"]
    diff = (pictures["tiled_resumed"] - pictures["untiled"]).abs().max()
    return {"family": family, "size": [size, size + size // 8], "tile": tile,
            "max_abs_diff_tiled_vs_untiled": float(f"{diff:.2e}"),
            **{name: {**t[name], "x_untiled": round(t[name]["median_s"] / base, 2)} for name in sides}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--families", nargs="+", default=None, help="default: every family that tiles with a network")
    p.add_argument("--cases", nargs="+", default=[f"{s}:{t}" for s, t in CASES], metavar="SIZE:TILE")
    p.add_argument("--repeats", type=int, default=1, help="timed calls per side (interleaved)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's, the core count)")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/tiling-cpu-<cores>core.json)")
    args = p.parse_args(argv)
    families = args.families or tiled_families()
    unknown = sorted(set(families) - set(tiled_families()))
    if unknown:
        p.error(f"--families: {', '.join(unknown)} do not tile with a network "
                f"(choose from {', '.join(tiled_families())})")
    try:
        cases = [tuple(int(v) for v in c.split(":")) for c in args.cases]
        assert all(len(c) == 2 and c[0] > c[1] > 0 for c in cases)
    except (ValueError, AssertionError):
        p.error("--cases: SIZE:TILE pairs with SIZE > TILE > 0, e.g. 1024:512")
    set_threads(args.threads)
    env = environment("cpu")
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"tiling-cpu-{os.cpu_count()}core.json"
    rows = []
    for size, tile in cases:
        for family in families:
            rows.append(measure(family, size, tile, args.repeats))
            r = rows[-1]
            print(f"{family} {r['size'][0]}x{r['size'][1]} --tile {tile}: untiled {r['untiled']['median_s']} s, "
                  f"tiled {r['tiled_resumed']['x_untiled']}x, from the image {r['tiled_from_image']['x_untiled']}x",
                  flush=True)
    env.update(load_record(env["load_average_at_start"]))
    write_json(out, {"benchmark": "tiling", "weights": "random (weights=random, backbone_weights=none)",
                     "environment": env, "peer": "the same tiled path with every pass starting from the image "
                     "(cache_bytes=0), as before resuming", "ratio": "x_untiled: the side's seconds / the untiled "
                     "seconds of the same run", "results": rows})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
