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
    assert str(e.value).startswith("unknown loss 'styel'; valid names: adversarial, content, cycle, gram")
