"""The base of every network we publish: the any-size contract, strict loading and the hub mixin, once.

A network of :mod:`zoo.nets` subclasses :class:`ZooNet` and so

* is a plain ``nn.Module`` with JSON-serialisable constructor arguments whose ``save_pretrained`` /
  ``from_pretrained`` (``huggingface_hub.PyTorchModelHubMixin``: ``config.json`` + ``model.safetensors``)
  round-trip exactly, and whose ``from_pretrained`` loads strictly: a file with a missing or an extra
  tensor is refused in one line naming the file (:class:`StrictHubMixin`);
* takes RGB images in [0, 1], (N, 3, H, W), any H and W, and returns (N, 3, H, W). The networks run on the
  image exactly as the original implementations do: no padding to a multiple of their stride (padding
  would enter the instance-norm statistics). Their output can then be a few pixels larger than the input
  (a stride-2 convolution of an odd size rounds up, and the up-sampling doubles that), and they keep its
  top-left H x W (:meth:`ZooNet.crop_output`), which is what the original's output holds for the input's
  pixels. Only a side under :attr:`ZooNet.min_size` (below which one of the original's reflection pads is
  not smaller than the feature map it pads, an error in the original) is first padded at the bottom/right
  by repeating its last row/column (:meth:`ZooNet.pad_input`). :meth:`ZooNet.any_size` puts the two
  around a network's original arithmetic.

The padding and the crop stay symbolic in the size, so exported graphs (``torch.onnx.export(dynamo=True)``,
``torch.jit.trace``) hold for every input size: no Python branch on a size (the crop is
``y[..., :h, :w]`` with ``h, w`` read from the input's shape, which traces symbolically too).
``tests/test_nets_contract.py`` checks all of this for every published architecture of
:data:`zoo.registry.MODELS`.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Callable, ClassVar, Mapping

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import Tensor, nn

from ..checkpoint import load_strict, read_checkpoint

__all__ = ["ZooNet", "StrictHubMixin", "pad_to_min", "moved_names"]


def _shortfall(n, minimum: int):
    """``max(minimum - n, 0)``; ``n`` is an int, a SymInt (torch.export) or a 0-dim tensor (jit.trace)."""
    if isinstance(n, Tensor):
        return (minimum - n).clamp_min(0)
    return torch.sym_max(minimum - n, 0)


def pad_to_min(x: Tensor, minimum: int) -> Tensor:
    """``x`` (N, C, H, W) replicate-padded at the bottom/right to at least ``minimum`` x ``minimum``;
    unchanged when it is that large already (the pad is always applied, by zero, so traces keep it)."""
    ph, pw = _shortfall(x.shape[-2], minimum), _shortfall(x.shape[-1], minimum)
    return F.pad(x, (0, pw, 0, ph), mode="replicate")


class StrictHubMixin(PyTorchModelHubMixin):
    """``PyTorchModelHubMixin`` whose ``from_pretrained`` loads strictly, whatever ``strict`` says.

    huggingface_hub loads with ``strict=False`` by default, which accepts a file with missing or extra
    tensors (the missing ones keep their random initialisation); its strict mode raises a multi-line
    error. Here the weights file is read by :func:`zoo.checkpoint.read_checkpoint` (safetensors, or a
    legacy ``pytorch_model.bin`` with ``weights_only=True``) and loaded by :func:`zoo.checkpoint.load_strict`:
    a mismatch is one line naming the file and the first missing/unexpected keys.
    """

    @classmethod
    def _load_as_safetensor(cls, model, model_file: str, map_location: str, strict: bool):
        load_strict(model, read_checkpoint(model_file)[0], source=str(model_file))
        return model.eval()

    _load_as_pickle = _load_as_safetensor


class ZooNet(nn.Module, StrictHubMixin):
    """Base of the published networks (see the module docstring for the contract).

    Class attributes a network sets:

    * :attr:`min_size`: the smallest side its original arithmetic takes (smaller inputs are padded by
      repetition, :meth:`pad_input`);
    * :attr:`input_names`: its image inputs, in the order ``forward`` takes them and the exported graph
      names them (``("image",)``; AdaIN: ``("content", "style")``).

    A network that can be tiled exactly (:func:`zoo.tiling.tiled_apply_exact`) returns its margin from
    :meth:`tile_margin` (and sets :attr:`tile_align`, its total stride, where it is not 4).
    """

    min_size: ClassVar[int] = 1
    input_names: ClassVar[tuple[str, ...]] = ("image",)
    tile_align: ClassVar[int] = 4  # tiles start on multiples of the network's total stride

    def pad_input(self, x: Tensor) -> Tensor:
        """``x`` as the original arithmetic takes it: unchanged from :attr:`min_size` on, smaller sides
        padded at the bottom/right by repeating the last row/column. Never to a multiple of a stride."""
        return pad_to_min(x, self.min_size)

    @staticmethod
    def crop_output(y: Tensor, like: Tensor) -> Tensor:
        """The top-left H x W of ``y``, where H x W is the size of ``like`` (the network's input)."""
        return y[..., :like.shape[-2], :like.shape[-1]]

    def any_size(self, original: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
        """``original`` (the reference arithmetic: H, W >= :attr:`min_size`, an output of at least H x W)
        on an ``x`` of any size: ``crop_output(original(pad_input(x)), x)``."""
        return self.crop_output(original(self.pad_input(x)), x)

    def tile_margin(self) -> int | None:
        """Pixels of context a tile needs on each side for :func:`zoo.tiling.tiled_apply_exact`, or
        ``None`` when the network cannot be tiled exactly (``--tile`` is then refused)."""
        return None

    def for_export(self, **options) -> nn.Module:
        """The module :func:`zoo.export.export_model` traces: its ``forward`` takes :attr:`input_names`
        and returns the picture. The network itself unless it has export-time options."""
        return self


def moved_names(module: str, names: Mapping[str, str], rest: str | None = None) -> Callable[[str], object]:
    """A module ``__getattr__`` that keeps names which moved importable from ``module`` for one release:
    ``names`` maps each old name to its new dotted path (``rest``: the module every other name moved to);
    using one emits a DeprecationWarning naming the new place. Imported lazily, so no import circle."""

    def __getattr__(name: str) -> object:
        target = names.get(name) or (f"{rest}.{name}" if rest and not name.startswith("__") else None)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        where, _, attr = target.rpartition(".")
        warnings.warn(f"{module}.{name} is now {target}; the old name will be removed in the next release",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(where), attr)

    return __getattr__
