"""The import graph of zoo: no circle, imports only go down the layers, and every module imports on its own.

The graph is read from the source (every ``import`` of a zoo module, at module level and inside functions,
less those under ``if TYPE_CHECKING:``), so a circle hidden by a function-level import is found too. Code a
family names by dotted string (``"zoo.nets.johnson:TransformerNet"``) is no import: it is not in the graph.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "zoo"

# The layers, bottom to top (docs/design.md): records and schemas, files, networks, loading, stylizers, then the
# commands and the page. A module may import its own layer and those below; a module no pattern names is not
# checked against the layers (the circle check still covers it).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("records", ("zoo.errors", "zoo.pins", "zoo.registry", "zoo.fileio", "zoo.resources", "zoo.results",
                 "zoo.weights", "zoo.families")),
    ("files", ("zoo.checkpoint", "zoo.download", "zoo.convert", "zoo.io", "zoo.color", "zoo.tiling",
               "zoo.devices", "zoo.extras")),
    ("networks", ("zoo.backbone", "zoo.losses", "zoo.losses.*", "zoo.guided", "zoo.nets", "zoo.nets.*")),
    ("loading", ("zoo.factory", "zoo.loading", "zoo.publish", "zoo.export")),
    ("stylizers", ("zoo.stylizers", "zoo.stylize", "zoo.gatys", "zoo.gatys_tiled")),
    ("commands", ("zoo", "zoo.cli", "zoo.cli_*", "zoo.demo", "zoo.demo_*", "zoo.hub", "zoo.video", "zoo.fit",
                  "zoo.variants", "zoo.variants.*", "zoo.__main__")),
]
# Inference does not import Lightning (nor the other extras' heavy packages).
TRAINING_ONLY = ("lightning", "pytorch_lightning", "jsonargparse")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if "demo_examples" not in parts:  # pictures and their drawing script, no module of the package
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(zoo module imported, line) of every import in ``path`` (module ``name``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[str, int]] = []

    def target(module: str) -> str | None:
        while module and module not in MODULES:
            module = module.rpartition(".")[0]
        return module or None

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            for child in getattr(node, "orelse", []):
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.extend((t, node.lineno) for a in node.names if (t := target(a.name)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:  # ``from . import guided``: the module zoo.guided
                t = target(f"{module}.{a.name}") if f"{module}.{a.name}" in MODULES else target(module)
                if t:
                    out.append((t, node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return [(t, line) for t, line in out if t != name]


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _where(a: str, b: str) -> str:
    line = next(line for t, line in GRAPH[a] if t == b)
    return f"{MODULES[a].relative_to(ROOT)}:{line}"


def _circle() -> list[str] | None:
    """One import circle (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt, _ in GRAPH[node]:
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(GRAPH):
        if start not in state and (found := visit(start)):
            return found
    return None


def _layer(module: str) -> int | None:
    return next((i for i, (_, patterns) in enumerate(LAYERS) if any(fnmatch.fnmatchcase(module, p) for p in patterns)),
                None)


def test_the_graph_is_read_from_the_source(tmp_path):
    # function-level, relative and ``from . import module`` imports count; TYPE_CHECKING ones do not
    source = tmp_path / "probe.py"
    source.write_text("from typing import TYPE_CHECKING\n"
                      "import torch\n"
                      "from . import guided\n"
                      "from .errors import ConfigError\n"
                      "if TYPE_CHECKING:\n"
                      "    from .nets.base import ZooNet\n"
                      "def load():\n"
                      "    from .loading import load_network\n"
                      "    import zoo.nets.adain\n")
    assert _imports("zoo.probe", source) == [("zoo.guided", 3), ("zoo.errors", 4), ("zoo.loading", 8),
                                             ("zoo.nets.adain", 9)]
    assert len(MODULES) > 40 and all(_layer(m) is not None for m in ("zoo.loading", "zoo.nets.adain", "zoo.cli"))


def test_no_import_circle():
    circle = _circle()
    assert circle is None, "import circle: " + " -> ".join(circle) + " (" + ", ".join(
        f"{a} imports {b} at {_where(a, b)}" for a, b in zip(circle, circle[1:])) + ")"


def test_imports_only_go_down_the_layers():
    up = [f"{a} ({LAYERS[_layer(a)][0]}) imports {b} ({LAYERS[_layer(b)][0]}) at {_where(a, b)}"
          for a in sorted(GRAPH) for b in sorted({t for t, _ in GRAPH[a]})
          if _layer(a) is not None and _layer(b) is not None and _layer(b) > _layer(a)]
    assert not up, "imports climbing back up the layers:\n" + "\n".join(up)


_EACH_ALONE = """
import importlib, json, sys, traceback
names = json.loads(sys.argv[1])
for entry in ("zoo.loading", "zoo.stylizers"):
    importlib.import_module(entry)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in json.loads(sys.argv[2]))
failed = {}
for name in names:
    for loaded in [m for m in sys.modules if m == "zoo" or m.startswith("zoo.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException as e:
        failed[name] = "".join(traceback.format_exception_only(type(e), e)).strip()
print(json.dumps({"heavy": heavy, "failed": failed}))
"""


def test_each_module_imports_alone_and_inference_imports_no_lightning():
    names = [m for m in sorted(MODULES) if m != "zoo.__main__"]  # __main__ runs the command
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    r = subprocess.run([sys.executable, "-c", _EACH_ALONE, json.dumps(names), json.dumps(TRAINING_ONLY)],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"import zoo.loading / zoo.stylizers imported {result['heavy']}"
    assert result["failed"] == {}, "modules that fail to import alone:\n" + "\n".join(
        f"{n}: {e}" for n, e in result["failed"].items())
