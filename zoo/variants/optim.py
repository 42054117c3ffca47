"""The optimisers of the variants: the recipe's ``optimizer`` section (which ``torch.optim`` class every
optimiser of a model is) and the one manual optimisation step of the GANs.

A recipe keeps its learning rates and betas where they are (``model.lr``, ``model.beta1`` ...); the
``optimizer`` section picks the class, Adam by default, and adds arguments::

    model:
      init_args:
        optimizer: {class_name: torch.optim.SGD, arguments: {momentum: 0.9}}

The model's own settings fill the arguments of the class that have their names (``lr`` always; ``betas`` and
``weight_decay`` where the class takes them, e.g. Adam, AdamW, NAdam), then ``arguments`` adds to or overrides
them. A class that is no optimiser, or an argument the class does not take, is a one-line
:class:`~zoo.errors.ConfigError` when the model is built.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Union

import torch
from torch import Tensor

from ..errors import ConfigError
from .options import to_dict

__all__ = ["OptimizerOptions", "optimizer_spec", "make_optimizer", "manual_step"]

ArgValue = Union[bool, int, float, str, list[float]]


@dataclasses.dataclass(frozen=True)
class OptimizerOptions:
    """The optimiser class of every optimiser of the model and its extra arguments.

    Args:
        class_name: a ``torch.optim.Optimizer`` subclass, as a dotted path (``torch.optim.SGD``,
            ``mypackage.MyOptimizer``) or a name in ``torch.optim`` (``SGD``).
        arguments: arguments of that class beyond the model's learning rate(s), betas and weight decay
            (checked against the class's signature when the model is built).
    """

    class_name: str = "torch.optim.Adam"
    arguments: dict[str, ArgValue] = dataclasses.field(default_factory=dict)


def _optimizer_class(class_name: str) -> type:
    module, _, name = str(class_name).rpartition(".")
    try:
        cls = getattr(importlib.import_module(module or "torch.optim"), name)
    except (ImportError, AttributeError, ValueError):
        cls = None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ConfigError(f"--model.optimizer.class_name={class_name}: not an optimiser class (a torch.optim.Optimizer "
                          "subclass, e.g. torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)")
    return cls


def _accepted(cls: type) -> set[str]:
    return set(list(inspect.signature(cls.__init__).parameters)[2:])  # after self and params


def optimizer_spec(value: Any) -> dict[str, Any]:
    """The ``optimizer`` argument of a variant (an :class:`OptimizerOptions`, a mapping or None) as a plain dict,
    checked: its class is an optimiser and takes every one of ``arguments``."""
    spec = to_dict(value, OptimizerOptions, "optimizer")
    cls = _optimizer_class(spec["class_name"])
    unknown = sorted(set(spec["arguments"]) - _accepted(cls))
    if unknown:
        raise ConfigError(f"--model.optimizer.arguments: {cls.__name__} takes no {', '.join(unknown)}; it takes "
                          f"{', '.join(sorted(_accepted(cls)))}")
    return spec


def make_optimizer(spec: Mapping[str, Any], params: Iterable[Tensor], **settings: Any) -> torch.optim.Optimizer:
    """The optimiser of ``spec`` (:func:`optimizer_spec`) over ``params``: the model's ``settings`` (``lr``,
    ``betas``, ``weight_decay``) that the class takes, then ``arguments``."""
    cls = _optimizer_class(spec["class_name"])
    accepted = _accepted(cls)
    kwargs = {**{k: v for k, v in settings.items() if k in accepted}, **spec["arguments"]}
    try:
        return cls(params, **kwargs)
    except (TypeError, ValueError) as e:  # torch.optim's own checks (a negative momentum ...)
        raise ConfigError(f"--model.optimizer: {cls.__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())}): "
                          f"{e}") from None


@contextmanager
def manual_step(module: Any, optimizer: Any, toggle: bool = True) -> Iterator[Callable[[Tensor], None]]:
    """One manual optimisation step of ``optimizer`` (a LightningModule with ``automatic_optimization = False``)::

        with manual_step(self, opt_g) as step:
            loss = ...          # the other optimisers' parameters get no gradient (toggle_optimizer)
            step(loss)          # zero_grad(set_to_none=True), manual_backward(loss), optimizer.step()

    ``toggle=False`` leaves the other parameters' ``requires_grad`` alone (a model with one optimiser)."""
    if toggle:
        module.toggle_optimizer(optimizer)

    def step(loss: Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        module.manual_backward(loss)
        optimizer.step()

    try:
        yield step
    finally:
        if toggle:
            module.untoggle_optimizer(optimizer)
