"""The package as users import it: every public name a module lists in __all__ exists."""

import importlib
import pkgutil

import zoo


def test_every_module_all_names_exist():
    modules = [zoo] + [importlib.import_module(m.name) for m in pkgutil.walk_packages(zoo.__path__, "zoo.")
                     if not m.name.endswith("__main__")]
    checked = 0
    for module in modules:
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{module.__name__}.__all__ lists {name!r}, which it does not define"
            checked += 1
    assert checked > 50
