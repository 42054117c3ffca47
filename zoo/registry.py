"""A small, explicit name -> object registry (one instance per kind of thing we register)."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Generic, Iterator, TypeVar

from .errors import ZooError

T = TypeVar("T")


class UnknownNameError(ZooError, KeyError):
    """A name that is not in a registry. ``str()`` is the plain message (KeyError would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0])


class _Lazy:
    def __init__(self, target: str) -> None:
        self.target = target

    def __repr__(self) -> str:
        return f"<lazy {self.target}>"


class Registry(Generic[T]):
    """Maps names to objects. Names are explicit and unique: registering a name twice is an error.

    >>> LOSSES = Registry("loss")
    >>> @LOSSES.register("tv")
    ... class TVLoss: ...
    >>> LOSSES.get("tv") is TVLoss
    True
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None) -> Any:
        """Register ``obj`` under ``name``; without ``obj`` it returns a decorator."""
        if obj is None:
            def decorator(o: T) -> T:
                self.register(name, o)
                return o
            return decorator
        if name in self._items:
            raise KeyError(f"{self.kind} {name!r} is already registered (by {self._items[name]!r})")
        self._items[name] = obj
        return obj

    def register_lazy(self, name: str, target: str) -> None:
        """Register ``"package.module:attribute"`` under ``name``, imported on the first :meth:`get`, so
        that a heavy dependency (Lightning) is only imported by the commands that use it."""
        if ":" not in target:
            raise ValueError(f"lazy {self.kind} target must be 'module:attribute', got {target!r}")
        self.register(name, _Lazy(target))

    def get(self, name: str) -> T:
        try:
            obj = self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items)) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid names: {valid}") from None
        if isinstance(obj, _Lazy):
            module, attribute = obj.target.split(":")
            obj = self._items[name] = getattr(importlib.import_module(module), attribute)
        return obj

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


# The registries shared by the whole package. Builders are registered where they are defined.
MODELS: Registry[Callable[..., Any]] = Registry("model")  # name -> builder returning an nn.Module
LOSSES: Registry[type] = Registry("loss")  # name -> nn.Module subclass
