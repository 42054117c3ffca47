"""``python -m benchmarks.speed_table``: the speed table of docs/speed.md, from the speed scripts' JSON results.

Every ratio is *peer seconds / zoo seconds* against the peer's own code path named in its row (see
:mod:`benchmarks.peers`), measured in the same process by ``python -m benchmarks.bench_<model>``. The table
is written between ``<!-- speed-table:start -->`` and ``<!-- speed-table:end -->`` in docs/speed.md.

::

    python -m benchmarks.speed_table            # rewrite the table in docs/speed.md
    python -m benchmarks.speed_table --check    # exit 1 if docs/speed.md is not up to date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zoo.fileio import write_bytes
from zoo.results import RESULTS_DIR

ROOT = Path(__file__).resolve().parent.parent
RESULTS = RESULTS_DIR  # zoo/results.py: the one place that says where results live
START, END = "<!-- speed-table:start -->", "<!-- speed-table:end -->"
DOCUMENT = ROOT / "docs" / "speed.md"  # where the table lives (the README links to it)
FILES = {"gatys": "gatys-cpu.json", "gatys_to_loss": "gatys-to-loss-cpu.json", "johnson": "johnson-cpu-2core.json",
         "adain": "adain-cpu-2core.json", "cyclegan": "cyclegan-cpu-2core.json"}


def _x(v) -> str:
    return "n/a" if v is None else f"{v:.2f}x"


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.0f}%"


def _verdict(values, target) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "not measured"
    low = min(values)
    return f"met (>= {target}x)" if low >= target else f"missed: lowest {low:.2f}x, {100 * (1 - low / target):.0f}% short of {target}x"


def _load(results: Path, key: str) -> tuple[dict | None, str]:
    path = results / FILES[key]
    data = json.loads(path.read_text()) if path.exists() else None
    if data is not None and "peer" not in data:  # written before the scripts measured against peers
        print(f"skipped {path}: not measured against a peer (re-run python -m benchmarks.bench_{key.split('_')[0]})",
              file=sys.stderr)
        data = None
    return data, FILES[key]


def rows(results: Path = RESULTS) -> list[list[str]]:
    out: list[list[str]] = []
    g, f = _load(results, "gatys")
    if g and g["per_iteration"]:
        peer = g["peer"]["peer"] + " (VGG frozen)"
        per = g["per_iteration"]
        sizes = " / ".join(str(r["size"]) for r in per)
        fp = " / ".join(_x(r["zoo_vs_peer"]) for r in per)
        bf = " / ".join(_x(r.get("zoo_bf16_vs_peer")) for r in per)
        ceil = " / ".join(_pct(r["zoo"]["fraction_of_conv_ceiling"]) for r in per)
        pic = "; ".join(f"{r['size']} px: mean abs diff {r['bf16_picture_difference']['mean_abs']:.3f}, PSNR {r['bf16_picture_difference']['psnr_db']:.0f} dB"
                        for r in per if "bf16_picture_difference" in r)
        out.append(["Gatys", f"s per L-BFGS iteration vs {peer}, {sizes} px",
                    fp, (bf + (f" (picture vs float32 after {per[0]['bf16_picture_difference']['after_iterations']}"
                               f" iterations: {pic})" if pic else "")) if g.get("bf16_measured") else "not native here",
                    _verdict([r["zoo_vs_peer"] for r in per], 1.3), ceil, f"`{f}`"])
    for key in ("gatys_to_loss", "gatys"):  # the time to the tutorial's loss: its own file, or gatys-cpu.json's part
        t, f = _load(results, key)
        tl = t and t["to_loss"]
        if tl and not all("pairs" in r for r in tl):
            print(f"skipped the to-loss part of {f}: it predates the measurement over several image pairs (and "
                  "the fix of 65cc259); re-run python -m benchmarks.bench_gatys", file=sys.stderr)
        elif tl:
            peer = t["peer"]["peer"] + " (VGG frozen)"
            out.append(["Gatys", f"wall-clock vs {peer} to its loss after {tl[0]['peer_iterations']} iterations, "
                                 f"{' / '.join(str(r['size']) for r in tl)} px, median of {tl[0]['image_pairs']} "
                                 "image pairs (in brackets: the pairs that got there): single-scale ; "
                                 "coarse-to-fine 0.25-0.5-1",
                        " / ".join(" ; ".join(f"{_x(r[f'{k}_vs_peer'])} ({r[k].get('reached', 0)}/{r['image_pairs']})"
                                              for k in ("zoo_single_scale", "zoo_coarse_to_fine")) for r in tl), "-",
                        _verdict([max(r["zoo_single_scale_vs_peer"] or 0, r["zoo_coarse_to_fine_vs_peer"] or 0)
                                  for r in tl], 1.3), "-", f"`{f}`"])
            break
    j, f = _load(results, "johnson")
    if j:
        runs = [r for r in j["runs"] if "speedup" in r]
        what = " / ".join(f"{r['size']} px b{r['batch']}" for r in runs)
        ceil = " / ".join(_pct(r.get("fraction_of_conv_ceiling", {}).get("fast")) for r in runs)
        out.append(["Johnson", f"`forward_fast` (what `zoo stylize` runs) vs {j['peer']['peer']} stylize(), {what}",
                    " / ".join(_x(r["speedup"]["fast"]) for r in runs), "-",
                    _verdict([r["speedup"]["fast"] for r in runs], 1.5), ceil, f"`{f}`"])
    a, f = _load(results, "adain")
    if a:
        res = a["results"]
        sizes = " / ".join(str(r["size"]) for r in res)
        extra = next((k for k in ("zoo_jit_frozen", "zoo_channels_last") if f"{k}_vs_peer" in res[0]), None)
        label = {"zoo_jit_frozen": "traced + frozen (first call incl. freezing)",
                 "zoo_channels_last": "channels_last"}.get(extra)
        out.append(["AdaIN", f"a new content/style pair vs {a['peer']['peer']}, {sizes} px: zoo default"
                             + (f" ; {label}" if extra else ""),
                    " / ".join(_x(r["zoo_vs_peer"]) + (f" ; {_x(r[f'{extra}_vs_peer'])}" if extra else "")
                               + (f" ({r[extra]['first_call_s']:.0f} s)" if extra == "zoo_jit_frozen" else "")
                               for r in res),
                    " / ".join(_x(r.get("zoo_bf16_vs_peer")) for r in res) if a.get("bf16_measured") else "not measured",
                    f"default: {_verdict([r['zoo_vs_peer'] for r in res], 1.3)}"
                    + (f"; {label}: {_verdict([r[f'{extra}_vs_peer'] for r in res], 1.3)}" if extra else ""),
                    " / ".join(_pct(r["zoo"]["fraction_of_conv_ceiling"]) for r in res), f"`{f}`"])
    c, f = _load(results, "cyclegan")
    if c:
        for kind, what, default in (("inference", "generator forward", "default (`forward_fast`, what `zoo stylize` runs)"),
                                    ("train", "training step", "default float32")):
            rs = c[kind]
            if not rs:
                continue
            label = lambda r: f"{r['size']} px" + (f" b{r['batch']}" if "batch" in r else "")  # noqa: E731
            fp32 = [r for r in rs if r["config"] == "fp32"]
            others = [(name, {label(r): r for r in rs if r["config"] == config})
                      for config, name in (("fp32_cl", "channels_last"),
                                           ("fp32_compile", "torch.compile, steady state (compile time)"))]
            others = [(name, by) for name, by in others if by]
            bf = {label(r): r for r in rs if r["config"] == "bf16_cl"}

            def cell(r, by):
                o = by.get(label(r))
                return _x(o and o["zoo_vs_peer"]) + (f" ({o['zoo_first_call_s']:.0f} s)" if o and "zoo_first_call_s" in o else "")

            out.append(["CycleGAN", f"{what} vs the {c['peer']['peer']}, {' / '.join(label(r) for r in fp32)}: "
                                    + " ; ".join([default] + [name for name, _ in others]),
                        " / ".join(" ; ".join([_x(r["zoo_vs_peer"])] + [cell(r, by) for _, by in others]) for r in fp32),
                        " / ".join(_x(bf[label(r)]["zoo_vs_peer"]) if label(r) in bf else "n/a" for r in fp32)
                        if bf else "not measured",
                        "; ".join([f"default: {_verdict([r['zoo_vs_peer'] for r in fp32], 1.2)}"]
                                  + [f"{name}: {_verdict([by[label(r)]['zoo_vs_peer'] if label(r) in by else None for r in fp32], 1.2)}"
                                     for name, by in others]),
                        " / ".join(_pct(r.get("fraction_of_conv_ceiling", {}).get("zoo")) for r in fp32), f"`{f}`"])
    return out


def notes(results: Path = RESULTS) -> list[str]:
    """One line per results file: the CPU (where recorded) and the load it was measured under (busy machines
    flagged)."""
    out = []
    for key in FILES:
        data, f = _load(results, key)
        if not data:
            continue
        env = data.get("environment", {})
        cpu = f"{env['cpu_model']} ({env['cpu_capability']}); " if env.get("cpu_model") else ""
        line = f"* `{f}`: {cpu}load average at the start {env.get('load_average_at_start')}, end {env.get('load_average_at_end')}"
        if env.get("load_high"):
            how = "the sides ran one after the other" if key == "gatys_to_loss" else "ratios interleaved"
            line += f" on {env.get('cpu_count')} cores: a busy shared machine (absolute times inflated; {how})"
        out.append(line + ".")
    return out


def render(results: Path = RESULTS) -> str:
    head = ["model", "what, against which peer", "zoo float32 (default)", "zoo bf16 (opt-in, native bf16 only)",
            "target", "zoo float32: share of the conv ceiling", "file"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(results)]
    return "\n".join(lines + [""] + notes(results))


def update_readme(readme: Path, table: str) -> str:
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"error: {readme} has no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    return before + START + "\n" + table + "\n" + END + rest.split(END, 1)[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the document is not up to date")
    p.add_argument("--readme", type=Path, default=DOCUMENT, help="markdown file with the table's markers "
                                                                  "(default: docs/speed.md)")
    p.add_argument("--results", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    new = update_readme(args.readme, render(args.results))
    if args.check:
        if new != args.readme.read_text():
            print(f"{args.readme}: the speed table is out of date; run python -m benchmarks.speed_table", file=sys.stderr)
            return 1
        return 0
    write_bytes(args.readme, new.encode())
    print(f"updated the speed table in {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
