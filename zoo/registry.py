"""The one registry class: an explicit name -> object map (one instance per kind of thing we register).

Names are explicit and unique: registering a name twice (or a name another entry holds as an alias or
reserves) is an error, and an unknown name lists the valid ones. :data:`MODELS` and :data:`LOSSES` are
instances; :class:`zoo.families.FamilyRegistry` (the families) and :class:`zoo.weights.WeightsTable` (the
pretrained tags) are the same class, registering records under the name the record carries.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, TypeVar

from .errors import ZooError

T = TypeVar("T")


class UnknownNameError(ZooError, KeyError):
    """A name that is not in a registry. ``str()`` is the plain message (KeyError would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Mapping[str, T]):
    """Maps names to objects (a read-only Mapping). Names are explicit and unique: registering a name twice is an error.

    >>> LOSSES = Registry("loss")
    >>> @LOSSES.register("tv")
    ... class TVLoss: ...
    >>> LOSSES.get("tv") is TVLoss
    True

    Args:
        kind: what the registry holds, in error messages (``"unknown loss 'x'; valid names: ..."``).
        listing: the word before the valid names in that message (``"valid families: ..."``).
        duplicate: the message of a second registration of a name, ``{kind}`` and ``{name}`` filled in.
        discover: called once, before the first lookup or listing, to register what is found elsewhere
            (the families' modules and entry points); it may register into this registry.
    """

    def __init__(self, kind: str, *, listing: str = "names", duplicate: str = "{kind} {name!r} is already registered",
                 discover: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._listing = listing
        self._duplicate = duplicate
        self._discover = discover
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}  # alias -> name: found by get() and `in`
        self._reserved: dict[str, str] = {}  # reserved name -> name: refused to others, not found

    def register(self, name: str, obj: T | None = None, *, aliases: tuple[str, ...] = (),
                 reserved: tuple[str, ...] = ()) -> Any:
        """Register ``obj`` under ``name`` (``aliases``: further names that find it; ``reserved``: names
        nobody else may register, which do not find it); without ``obj`` it returns a decorator."""
        if obj is None:
            def decorator(o: T) -> T:
                self.register(name, o, aliases=aliases, reserved=reserved)
                return o
            return decorator
        keys = (name, *aliases, *reserved)
        for key in keys:
            if key in self._items or key in self._aliases or key in self._reserved or keys.count(key) > 1:
                raise KeyError(self._duplicate.format(kind=self.kind, name=key))
        self._items[name] = obj
        self._aliases.update(dict.fromkeys(aliases, name))
        self._reserved.update(dict.fromkeys(reserved, name))
        return obj

    def unregister(self, name: str) -> T:
        """Remove ``name`` with its aliases and reserved names (tests register temporary entries)."""
        self.discover()
        obj = self._items.pop(name)
        for table in (self._aliases, self._reserved):
            for key in [k for k, v in table.items() if v == name]:
                del table[key]
        return obj

    def discover(self) -> None:
        """Run the ``discover`` callback once (every lookup and listing calls this first)."""
        callback, self._discover = self._discover, None
        if callback is not None:
            callback()

    def discover_by(self, callback: Callable[[], None]) -> None:
        """Have ``callback`` register what this registry holds, once, before its first lookup or listing
        (the weights table: the families' discovery, which finds the entries with their families)."""
        self._discover = callback

    def get(self, name: str, default: Any = None) -> T:  # type: ignore[override]
        """The object of ``name`` (or of an alias); an unknown name raises :class:`UnknownNameError` listing
        the valid ones (``default`` is not used: a missing entry is always an error)."""
        self.discover()
        key = self._aliases.get(name, name)
        try:
            obj = self._items[key]
        except KeyError:
            valid = ", ".join(self.names()) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid {self._listing}: {valid}") from None
        return obj

    def reserved_by(self, name: str) -> str | None:
        """The entry that reserves ``name`` (a deprecated name of it), or None."""
        self.discover()
        return self._reserved.get(name)

    def names(self) -> list[str]:
        """The registered names (not the aliases), sorted."""
        self.discover()
        return sorted(self._items)

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        self.discover()
        return name in self._items or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self.discover()
        return len(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r}, {self.names()})"


# The registries shared by the whole package. Builders are registered where they are defined.
MODELS: Registry[Callable[..., Any]] = Registry("model")  # name -> builder returning an nn.Module
LOSSES: Registry[type] = Registry("loss")  # name -> nn.Module subclass
