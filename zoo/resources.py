"""Where the data the package needs lives: the recipes, the benchmark code and its results.

In the repository they stay where a reader looks for them: ``recipes/`` and ``benchmarks/`` (with
``benchmarks/results/``) at the top level. A wheel carries them *inside* the package, as ``zoo/recipes/``
and ``zoo/benchmarks/`` (mapped by setup.py at build time, never committed twice), so an installed
``zoo`` reads nothing outside its own folder and never puts anything on ``sys.path``.

When the package is imported from a source checkout (an editable install, or ``PYTHONPATH`` pointing at
the repository, recognised by its ``pyproject.toml``), the checkout's folders are used.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from .errors import ZooError

__all__ = ["PACKAGE", "ResourceMissingError", "checkout_root", "recipes_dir", "list_recipes", "find_recipe",
           "results_dir", "import_benchmarks"]

#: The folder of the ``zoo`` package (site-packages/zoo in a wheel install).
PACKAGE = Path(__file__).resolve().parent


class ResourceMissingError(ZooError, LookupError):
    """A recipe or a part of the benchmarks that neither the package nor a source checkout provides."""


def checkout_root() -> Path | None:
    """The repository the package is imported from, or None for an installed wheel."""
    root = PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "zoo" / "__init__.py").is_file() else None


def _resource(name: str) -> Path:
    """``<checkout>/<name>`` in a source checkout that has it, else ``zoo/<name>`` (a wheel's copy; it may not
    exist)."""
    root = checkout_root()
    return root / name if root is not None and (root / name).is_dir() else PACKAGE / name


def recipes_dir() -> Path:
    """The folder of the recipes (``recipes/*.yaml``)."""
    return _resource("recipes")


def list_recipes() -> list[Path]:
    """Every recipe file, sorted by name."""
    return sorted(recipes_dir().glob("*.yaml"))


def find_recipe(name: str) -> Path | None:
    """The recipe called ``name`` (``johnson``, ``johnson.yaml`` or ``recipes/johnson.yaml``), or None."""
    path = Path(name)
    if path.parent not in (Path("."), Path("recipes")):
        return None
    stem = path.name[:-5] if path.name.endswith(".yaml") else path.name
    return next((r for r in list_recipes() if r.stem == stem), None)


def results_dir() -> Path:
    """The folder of the committed benchmark results (``benchmarks/results/*.json``)."""
    return _resource("benchmarks") / "results"


def import_benchmarks(module: str) -> ModuleType:
    """``benchmarks.<module>``: ``zoo.benchmarks.<module>`` in a wheel; in a source checkout the top-level
    ``benchmarks`` package of the repository (``python -m benchmarks.run`` there), whose root is then put on
    ``sys.path`` if it is not already."""
    root = checkout_root()
    if root is None and (PACKAGE / "benchmarks" / f"{module}.py").is_file():
        return importlib.import_module(f"zoo.benchmarks.{module}")
    if root is None or not (root / "benchmarks" / f"{module}.py").is_file():
        raise ResourceMissingError(f"benchmarks.{module} is not installed: reinstall stylezoo (pip install stylezoo) "
                                   "or run from a source checkout")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(f"benchmarks.{module}")
