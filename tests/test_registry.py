import pytest

from zoo.families import FAMILIES
from zoo.registry import LOSSES, MODELS, Registry, UnknownNameError
from zoo.weights import WEIGHTS


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


def test_aliases_find_reserved_names_only_block_and_unregister_frees_both():
    reg = Registry("thing", listing="things")
    reg.register("a", 1, aliases=("a.one",), reserved=("old_a",))
    assert reg.get("a.one") == 1 and "a.one" in reg and reg.names() == ["a"] and len(reg) == 1
    assert "old_a" not in reg and reg.reserved_by("old_a") == "a"
    with pytest.raises(UnknownNameError, match="unknown thing 'old_a'; valid things: a"):
        reg.get("old_a")
    for taken in ("a", "a.one", "old_a"):  # a name, an alias or a reserved name: each is refused to others
        with pytest.raises(KeyError, match=f"thing '{taken}' is already registered"):
            reg.register(taken, 2)
        with pytest.raises(KeyError, match="already registered"):
            reg.register("b", 2, aliases=(taken,))
    assert reg.names() == ["a"]  # a refused registration leaves nothing behind
    assert reg.unregister("a") == 1
    assert len(reg) == 0 and "a.one" not in reg and reg.reserved_by("old_a") is None
    reg.register("old_a", 3)
    assert reg["old_a"] == 3


def test_discovery_runs_once_before_the_first_lookup():
    calls = []
    reg = Registry("thing", discover=lambda: calls.append(reg.register(f"found{len(calls)}", len(calls))))
    reg.register("mine", 9)  # registering does not discover
    assert calls == []
    assert reg.names() == ["found0", "mine"] and "found0" in reg and reg.get("found0") == 0 and len(reg) == 2
    assert calls == [0]
    found = Registry("thing", discover=lambda: found.register("found", 1))
    assert found.unregister("found") == 1 and "found" not in found  # removing a found name finds it first


def test_the_zoo_registries_are_one_class():
    """Models, losses, families and pretrained weights: one Registry, one set of rules and messages."""
    for registry in (MODELS, LOSSES, FAMILIES, WEIGHTS):
        assert isinstance(registry, Registry)
    with pytest.raises(UnknownNameError, match="unknown family 'nope'; valid families: "):
        FAMILIES.get("nope")
    with pytest.raises(UnknownNameError, match="unknown pretrained weights 'nope'; valid tags: "):
        WEIGHTS.get("nope")
    with pytest.raises(UnknownNameError, match="unknown model 'nope'; valid names: "):
        MODELS.get("nope")
    some = FAMILIES[FAMILIES.names()[0]]
    with pytest.raises(KeyError, match=f"family '{some.name}' is already registered"):
        FAMILIES.register(some)


def test_import_zoo_and_the_gatys_stylizer_leave_lightning_to_training(run):
    """`zoo stylize` starts without importing Lightning (seconds of start-up), with a feed-forward model and
    with Gatys alike: Gatys' stylizer is a plain optimisation loop; only training (zoo.fit) imports Lightning."""
    code = ("import sys, zoo; from zoo.families import load; before = 'lightning' in sys.modules; "
            "load(zoo.FAMILIES['gatys'].stylizer); print(before, 'lightning' in sys.modules)")
    r = run("-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
