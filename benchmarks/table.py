"""``python -m benchmarks.table``: the zoo table of docs/models.md, from benchmarks/results/*.json and published numbers.

The table is written between the markers ``<!-- zoo-table:start -->`` and ``<!-- zoo-table:end -->`` of
docs/models.md (the README links to it); everything outside them is left alone. The results are read by :mod:`zoo.results`, and only
*usable* ones appear: a result computed with random weights, random metric networks or a reduced protocol
(``"usable": false`` in its JSON, see benchmarks/run.py) is listed on stderr as skipped and never written
into the table.

Published reference numbers sit beside ours, each with its source (:data:`REFERENCES`).
:func:`model_metrics` returns the measured metrics of one model for its model card.

::

    python -m benchmarks.table                 # rewrite the table in docs/models.md
    python -m benchmarks.table --check         # exit 1 if docs/models.md is not up to date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Iterable, Sequence

from zoo.results import METRICS, RESULTS_DIR, Record, load

__all__ = ["REFERENCES", "START", "END", "TableError", "render_table", "update_readme",
           "model_metrics", "main"]

START = "<!-- zoo-table:start -->"
END = "<!-- zoo-table:end -->"
ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "models.md"  # where the zoo table lives (the README links to it)

# Published numbers, each with where it was published.
REFERENCES: list[dict] = [
    {   # StyleID (Chung, Hyun & Heo, "Style Injection in Diffusion", CVPR 2024), quantitative comparison
        # table: AdaIN on their 800-pair set (20 MS-COCO x 40 WikiArt), ArtFID / FID (art Inception) / LPIPS.
        "model": "AdaIN (Huang & Belongie 2017)",
        "protocol": "styleid",
        "weights": "authors' published weights",
        "n": 800,
        "metrics": {"artfid": 30.93, "fid_art": 18.24, "lpips_alex": 0.608},
        "source": "StyleID, CVPR 2024 (comparison table)",
        "url": "https://arxiv.org/abs/2312.09008",
    },
    {   # mmagic, configs/cyclegan/README.md, "FID comparison with official": horse2zebra 62.111 (official).
        "model": "CycleGAN (Zhu et al. 2017)",
        "protocol": "cyclegan",
        "task": "horse2zebra A→B",
        "weights": "official (junyanz/pytorch-CycleGAN-and-pix2pix)",
        "n": 140,
        "metrics": {"fid_inception": 62.1},
        "source": "mmagic CycleGAN model zoo",
        "url": "https://github.com/open-mmlab/mmagic/tree/main/configs/cyclegan",
    },
    {   # same table, mmagic's own training (cyclegan_lsgan-resnet-in_1xb1-270kiters_horse2zebra): 64.5225.
        "model": "CycleGAN (Zhu et al. 2017)",
        "protocol": "cyclegan",
        "task": "horse2zebra A→B",
        "weights": "mmagic's own training",
        "n": 140,
        "metrics": {"fid_inception": 64.5},
        "source": "mmagic CycleGAN model zoo",
        "url": "https://github.com/open-mmlab/mmagic/tree/main/configs/cyclegan",
    },
]

# The metrics shown per protocol (names, headers and formats: zoo.results.METRICS).
_STYLE_COLS = ("artfid", "fid_art", "lpips_alex", "cfsd")
_GAN_COLS = ("fid_inception",)


class TableError(RuntimeError):
    """The README has no (or broken) table markers."""


def _fmt(value, fmt: str, published: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:g}" if published else fmt.format(value)


def _speed(r: Record) -> str:
    return "–" if r.images_per_s is None else f"{r.images_per_s:.3g}"


def _link(r: Record, base: Path) -> str:
    rel = os.path.relpath(r.file.resolve(), base.resolve()).replace(os.sep, "/")
    return f"[{r.file.name}]({rel})"


def _task(r: Record) -> str:
    arrow = "A→B" if r.protocol_info.get("direction", "AtoB") == "AtoB" else "B→A"
    return f"{r.dataset or '?'} {arrow}"


def render_table(results: Iterable[Record], references: Sequence[dict] = REFERENCES, base: str | Path = ROOT) -> str:
    """The markdown of the zoo table: one section per protocol, published rows first, then ours.

    ``base`` is the folder links to result files are relative to (the README's folder).
    """
    results = list(results)
    base = Path(base)
    lines: list[str] = []

    def section(protocol: str, title: str, cols, lead: list[str]) -> None:
        ours = sorted((r for r in results if r.protocol == protocol), key=lambda r: (str(r.model), str(r.file)))
        refs = [ref for ref in references if ref["protocol"] == protocol]
        lines.append(title)
        lines.append("")
        head = lead + [METRICS[k].column for k in cols] + ["img/s", "Device", "Source"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] * len(lead) + ["---:"] * (len(cols) + 1) + ["---", "---"]) + "|")
        for ref in refs:
            first = [f"{ref['model']}, published"] + ([ref["task"]] if protocol == "cyclegan" else [])
            row = first + [ref["weights"], str(ref.get("n", "–"))]
            row += [_fmt(ref["metrics"].get(k), METRICS[k].fmt, published=True) for k in cols]
            row += ["–", "–", f"[{ref['source']}]({ref['url']})"]
            lines.append("| " + " | ".join(row) + " |")
        for r in ours:
            first = [f"`{r.model}`"] + ([_task(r)] if protocol == "cyclegan" else [])
            row = first + [str(r.weights), str(r.n)]
            row += [_fmt(r.metrics.get(k), METRICS[k].fmt) for k in cols]
            row += [_speed(r), r.device, _link(r, base)]
            lines.append("| " + " | ".join(row) + " |")
        if not ours:
            lines.append("")
            lines.append("_No Stylezoo result for this protocol yet: benchmarks/results/ holds none computed with real "
                         "weights on the full protocol (see docs/benchmarks.md for the commands)._")
        lines.append("")

    section("styleid", "**Arbitrary style transfer**: 20 content x 40 style images = 800 pairs at 512 px "
                       "(StyleID's protocol); FID in ArtFID's art-Inception features against the style images, "
                       "LPIPS (AlexNet) against the content images, ArtFID = (1 + LPIPS)(1 + FID).",
            _STYLE_COLS, ["Model", "Weights", "N"])
    section("cyclegan", "**Unpaired translation**: CycleGAN test split at 256 px; FID (Inception-v3) of the "
                        "translated test images against the target domain's test images.",
            _GAN_COLS, ["Model", "Task", "Weights", "N"])
    lines += _weights_section(results)
    protocols = os.path.relpath(ROOT / "docs" / "benchmarks.md", base.resolve()).replace(os.sep, "/")
    lines.append("Generated by `python -m benchmarks.table` from the weights table (`zoo.weights`) and "
                 "`benchmarks/results/*.json`; "
                 f"protocols and commands in [docs/benchmarks.md]({protocols}).")
    return "\n".join(lines).rstrip() + "\n"


def _weights_section(results: Sequence[Record]) -> list[str]:
    """The pretrained tags of the weights table (zoo.weights), with the metrics ``results`` measured for them."""
    from zoo.weights import zoo_table_rows

    lines = ["**Pretrained weights** (`zoo.create_model(TAG, pretrained=True)`, `zoo stylize --model TAG`):", "",
             "| Tag | Architecture | Source | Licence | Weights | Metrics |", "|---|---|---|---|---|---|"]
    for row in zoo_table_rows():
        if row["published"]:
            status = "published on the Hub"
        elif row["kind"] == "canonical":
            status = "converted from the original on first use"
        else:
            status = f"not published yet: `python -m zoo.fit {row['recipe']}`"
        measured = {k: v for r in results if r.model == row["tag"] for k, v in r.metrics.items()}
        metrics = ", ".join(f"{k} {v:.3g}" for k, v in measured.items()) or "–"
        source = (f"[original checkpoint]({row['url']}), `{row['converter'].rsplit('.', 1)[-1]}`"
                  if row["kind"] == "canonical" else f"ours, `{row['recipe']}`")
        lines.append(f"| `{row['tag']}` | {row['arch']} | {source} | {row['licence']} | {status} | {metrics} |")
    lines.append("")
    return lines


def update_readme(readme: str | Path, table: str) -> bool:
    """Replace the text between the markers of ``readme`` by ``table``; True if the file changed."""
    readme = Path(readme)
    text = readme.read_text()
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise TableError(f"{readme}: needs exactly one {START} line followed by one {END} line "
                         "around the place where the zoo table goes")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table}{END}{tail}"
    if new == text:
        return False
    readme.write_text(new)
    return True


def model_metrics(model: str, results_dir: str | Path = RESULTS_DIR) -> dict[str, dict]:
    """Measured metrics of ``model`` (its ``--model`` name) for its model card, per protocol.

    ``{protocol: {"metrics": {...}, "n": N, "size": px, "weights": ..., "device": ..., "images_per_s": ...,
    "versions": {...}, "file": path}}``; only usable results; the newest file wins when several exist.
    """
    out: dict[str, dict] = {}
    usable, _ = load(results_dir)
    for r in sorted(usable, key=lambda r: str(r.data.get("created", ""))):
        if r.model != model:
            continue
        out[r.protocol] = {"metrics": r.metrics, "n": r.n, "size": r.protocol_info.get("size"), "weights": r.weights,
                           "device": r.device, "images_per_s": r.images_per_s,
                           "metric_implementation": r.data.get("metric_implementation", {}),
                           "versions": r.data.get("versions", {}), "file": str(r.file)}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.table", description=__doc__.splitlines()[0])
    p.add_argument("--results", default=str(RESULTS_DIR), help="folder of result JSON files")
    p.add_argument("--readme", default=str(DOCUMENT), help="markdown file with the table's markers "
                                                          "(default: docs/models.md)")
    p.add_argument("--check", action="store_true", help="do not write; exit 1 if the README is not up to date")
    p.add_argument("--print", dest="print_only", action="store_true", help="print the table, touch nothing")
    args = p.parse_args(argv)
    usable, skipped = load(args.results)
    for file, why in skipped:
        print(f"skipped {file}: {why}", file=sys.stderr)
    readme = Path(args.readme)
    table = render_table(usable, base=readme.parent)
    if args.print_only:
        print(table, end="")
        return 0
    try:
        if args.check:
            text = readme.read_text()
            expected = f"{START}\n{table}{END}"
            if expected not in text:
                print(f"{readme}: zoo table is out of date; run python -m benchmarks.table", file=sys.stderr)
                return 1
            return 0
        changed = update_readme(readme, table)
    except (TableError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{readme}: {'updated' if changed else 'already up to date'} ({len(usable)} results, {len(skipped)} skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
