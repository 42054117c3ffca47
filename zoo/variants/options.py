"""Typed recipe sections: the ``network``, ``discriminator``, ``backbone`` and ``losses`` arguments of the
variants, as dataclasses that LightningCLI (jsonargparse) understands.

Each dataclass is derived from the constructor it configures (its argument names, types and defaults),
so it cannot drift from the network or loss it describes. Because the sections are typed, every nested
key of a recipe can be overridden on the command line (``--model.network.ngf=32``,
``--model.losses.gram.weight=1e5``, ``--model.losses.tv=null`` removes a loss) and appears with its type
and default in ``--print_config`` and ``--model.help CLASS``.

The variants take these dataclasses or plain dicts (the Python API, and the hyper-parameters of
checkpoints) and store plain dicts in their hyper-parameters (:func:`to_dict`), so checkpoints hold
nothing but JSON values and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, Mapping, Optional, Sequence

from ..errors import ConfigError, ConfigTypeError

__all__ = ["options_of", "losses_options", "to_dict", "losses_spec", "check_optimiser"]


def _plain(value: Any) -> Any:
    """JSON-like copy: dataclasses and mappings to dicts, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def options_of(cls: type, name: str, *, only: Sequence[str] | None = None, exclude: Sequence[str] = (),
               defaults: Mapping[str, Any] | None = None, types: Mapping[str, Any] | None = None,
               module: str | None = None) -> type:
    """A frozen dataclass named ``name`` whose fields are the constructor arguments of ``cls`` (all of them,
    those in ``only``, less ``exclude``), with their annotated types (or ``types[arg]``) and defaults (or
    ``defaults[arg]``). Its docstring is ``cls``'s, so the help shows the argument descriptions."""
    hints = typing.get_type_hints(cls.__init__)
    fields = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in exclude or (
                only is not None and p.name not in only):
            continue
        default = (defaults or {}).get(p.name, p.default)
        if default is inspect.Parameter.empty:
            raise TypeError(f"{cls.__name__}.{p.name} has no default; a recipe section needs one for every key")
        kind = (types or {}).get(p.name, hints.get(p.name, Any))
        if isinstance(default, (list, dict, set)):
            fields.append((p.name, kind, dataclasses.field(default_factory=lambda d=default: _plain(d))))
        else:
            fields.append((p.name, kind, dataclasses.field(default=default)))
    options = dataclasses.make_dataclass(name, fields, frozen=True)
    options.__module__ = module or __name__
    options.__doc__ = inspect.getdoc(cls) or f"Arguments of {cls.__name__}."
    return options


def _loss_options(loss_name: str) -> type:
    """The options dataclass of a registered loss, made once and kept in this module (jsonargparse
    imports it by name)."""
    from .. import losses  # noqa: F401 - registers the losses
    from ..registry import LOSSES

    cls = LOSSES.get(loss_name)
    name = f"{cls.__name__}Options"
    if name not in globals():
        globals()[name] = options_of(cls, name, types={"layers": Sequence[str]})
    return globals()[name]


def losses_options(name: str, allowed: Sequence[str], defaults: Mapping[str, Mapping[str, Any]],
                   module: str | None = None) -> type:
    """A frozen dataclass ``name`` with one optional field per loss in ``allowed`` (registry names), each the
    options of that loss; the losses in ``defaults`` are on by default with those values, the others off
    (``None``). ``--model.losses.NAME=null`` turns one off."""
    fields = []
    for loss in allowed:
        opts = _loss_options(loss)
        if loss in defaults:
            value = dict(defaults[loss])
            factory = lambda o=opts, v=value: o(**_plain(v))  # noqa: E731 - one per loss, bound now
            fields.append((loss, Optional[opts], dataclasses.field(default_factory=factory)))
        else:
            fields.append((loss, Optional[opts], dataclasses.field(default=None)))
    options = dataclasses.make_dataclass(name, fields, frozen=True)
    options.__module__ = module or __name__
    options.__doc__ = (f"The losses (zoo.registry.LOSSES) and their arguments; on by default: "
                       f"{', '.join(defaults) or 'none'}. Set one to null to turn it off.")
    return options


def to_dict(value: Any, options: type, what: str) -> dict[str, Any]:
    """``value`` (an ``options`` dataclass, a mapping or None) as a plain dict with every field of
    ``options``: a mapping is laid over the defaults, unknown keys are an error naming ``what``."""
    base = _plain(options())
    if value is None:
        return base
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(value)
    if not isinstance(value, Mapping):
        raise ConfigTypeError(f"{what}: expected a mapping of options, got {type(value).__name__}")
    unknown = sorted(set(value) - set(base))
    if unknown:
        raise ConfigError(f"{what}: unknown option(s) {unknown}; valid: {', '.join(base)}")
    return {**base, **_plain(value)}


def losses_spec(value: Any, options: type) -> dict[str, dict[str, Any]]:
    """The loss registry spec (``{name: kwargs}``) of a ``losses`` argument (None: the defaults): an
    ``options`` dataclass or a mapping, taken as the whole spec. A loss set to None is off, in both."""
    if value is None:
        value = options()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None}
    if not isinstance(value, Mapping):
        raise ConfigTypeError(f"losses: expected a mapping of loss name to arguments, got {type(value).__name__}")
    return {k: _plain(v) for k, v in value.items() if v is not None}


def check_losses(spec: Mapping[str, Any], allowed: Sequence[str], required: Sequence[str], family: str,
                 why: str) -> None:
    """A variant's ``losses`` section: only the ``allowed`` names, and every ``required`` one (``why``: the
    objective they come from, for the message)."""
    bad = sorted(set(spec) - set(allowed))
    if bad:
        raise ConfigError(f"losses: {bad} not used by {family}; valid: {', '.join(allowed)}")
    for needed in required:
        if needed not in spec:
            raise ConfigError(f"losses: {needed!r} is required ({why})")


def check_optimiser(**settings: float | None) -> None:
    """Optimiser settings of a recipe, checked before training: learning rates and decays finite and
    >= 0 (``lr``, ``d_lr``, ``lr_decay``, ``weight_decay``), Adam betas in [0, 1). None passes."""
    from ..stylize import OptionError, check_number

    for key, value in settings.items():
        if value is None:
            continue
        if "beta" in key:
            if check_number(f"--model.{key}", value, 0.0, 1.0) >= 1.0:
                raise OptionError(f"--model.{key} {value:g}: must be in [0, 1)")
        else:
            check_number(f"--model.{key}", value, 0.0)
