import pytest

from zoo.registry import LOSSES, Registry, UnknownNameError


def test_register_get_and_list():
    reg = Registry("thing")

    @reg.register("b")
    def b():
        return 2

    reg.register("a", 1)
    assert reg.get("a") == 1 and reg.get("b") is b
    assert reg.names() == ["a", "b"] and list(reg) == ["a", "b"] and len(reg) == 2 and "a" in reg


def test_duplicate_names_are_refused():
    reg = Registry("thing")
    reg.register("a", 1)
    with pytest.raises(KeyError, match="thing 'a' is already registered"):
        reg.register("a", 2)
    assert reg.get("a") == 1


def test_unknown_name_lists_valid_ones():
    with pytest.raises(UnknownNameError) as e:
        LOSSES.get("styel")
    assert str(e.value).startswith("unknown loss 'styel'; valid names: ") and ", gram," in str(e.value)


def test_lazy_entries_import_on_first_get():
    reg = Registry("thing")
    reg.register_lazy("dumps", "json:dumps")
    assert "dumps" in reg and reg.names() == ["dumps"]
    import json

    assert reg.get("dumps") is json.dumps and reg.get("dumps") is json.dumps
    with pytest.raises(ValueError, match="must be 'module:attribute'"):
        reg.register_lazy("bad", "json.dumps")
    reg.register_lazy("missing", "zoo.no_such_module:x")
    with pytest.raises(ModuleNotFoundError):
        reg.get("missing")


def test_import_zoo_and_the_gatys_stylizer_leave_lightning_to_training(run):
    """`zoo stylize` starts without importing Lightning (seconds of start-up), with a feed-forward model and
    with Gatys alike: Gatys' stylizer is a plain optimisation loop; only training (zoo.fit) imports Lightning."""
    code = ("import sys, zoo; from zoo.families import load; before = 'lightning' in sys.modules; "
            "load(zoo.FAMILIES['gatys'].stylizer); print(before, 'lightning' in sys.modules)")
    r = run("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
