"""``python -m benchmarks.families_table``: the README's table of model families, from the family records
(each family's FAMILY in zoo/nets/<name>.py, with its pretrained tags), so that no hand-written family list can go
stale.

The table is written between ``<!-- families-table:start -->`` and ``<!-- families-table:end -->`` of README.md.

::

    python -m benchmarks.families_table            # rewrite the table in README.md
    python -m benchmarks.families_table --check    # exit 1 if README.md is not up to date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.fileio import write_bytes

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "README.md"
START, END = "<!-- families-table:start -->", "<!-- families-table:end -->"


def render() -> str:
    """The markdown table: one row per family, its pretrained tags (converted originals first), what it takes."""
    from zoo.families import FAMILIES
    from zoo.factory import canonical_arch
    from zoo.weights import WEIGHTS

    lines = ["| Family | What it is | Takes a style image | Pretrained tags | Train with |", "|---|---|---|---|---|"]
    for name in FAMILIES.names():
        family = FAMILIES.get(name)
        tags = sorted(t for t in WEIGHTS.names() if canonical_arch(WEIGHTS.get(t).arch) == name)
        if not tags:
            shown = "– (none needed)" if not family.needs_weights else "–"
        elif len(tags) <= 3:
            shown = ", ".join(f"`{t}`" for t in tags)
        else:
            shown = f"{len(tags)}: {', '.join(f'`{t}`' for t in tags[:2])}, ..."
        recipes = ", ".join(f"`{r}`" for r in family.recipes) or "–"
        lines.append(f"| `{name}` | {family.description} | {'yes' if family.needs_style else 'no'} | {shown} | "
                     f"{recipes} |")
    return "\n".join(lines) + "\n"


def update(text: str, table: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"error: no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    return before + START + "\n" + table + END + rest.split(END, 1)[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the document is not up to date")
    p.add_argument("--readme", type=Path, default=DOCUMENT, help="markdown file with the markers (default: README.md)")
    args = p.parse_args(argv)
    text = args.readme.read_text()
    new = update(text, render())
    if args.check:
        if new != text:
            print(f"{args.readme}: the families table is out of date; run python -m benchmarks.families_table",
                  file=sys.stderr)
            return 1
        return 0
    write_bytes(args.readme, new.encode())
    print(f"updated the families table in {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
