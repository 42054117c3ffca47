"""One inference entry point for every model family: ``zoo.stylize`` and ``zoo stylize``.

Each family registers a *stylizer builder* in :data:`zoo.registry.STYLIZERS`::

    @STYLIZERS.register("johnson")
    def build_johnson(opts: StylizeOptions) -> Stylizer: ...

A :class:`Stylizer` is called with one content image (1, 3, H, W) in [0, 1] and the list of style
images (each (1, 3, h, w), possibly empty) and returns the stylised image (1, 3, H', W') in [0, 1].
``needs_style`` tells the CLI whether ``--style`` is required (``True``), forbidden (``False``).
Options a family does not support must be rejected by its builder with a clear message
(:func:`reject_options`), never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol, Sequence

import torch
from torch import Tensor

from .registry import STYLIZERS

__all__ = ["StylizeOptions", "Stylizer", "build_stylizer", "stylize", "reject_options", "resolve_device"]


@dataclass
class StylizeOptions:
    """Everything ``zoo stylize`` can be told; builders read the fields that concern them."""

    model: str
    weights: str | None = None              # checkpoint (.ckpt / .safetensors / folder) or pretrained tag
    style_weights: Sequence[float] | None = None  # blend weights of several styles
    size: int | None = None                 # long edge of the output (content is resized to it)
    steps: int | None = None                # optimisation steps (gatys)
    scales: Sequence[float] | None = None   # coarse-to-fine fractions of the output size (gatys)
    preserve_color: str | None = None       # None, "luminance" or "histogram"
    backbone_weights: str | None = None    # VGG weight source (imagenet, timm, caffe, none, a path); None: the family default
    device: str = "auto"
    seed: int | None = None
    alpha: float = 1.0                      # content-style trade-off (adain_gan)
    direction: str = "AtoB"                 # cyclegan
    tile: int | None = None                 # tiled inference for feed-forward nets (bounded memory)
    masks: Sequence[str] | None = None      # spatial masks, one per style (adain_gan)
    progress: bool = True

    # defaults of the fields above, to tell which ones a user set
    @classmethod
    def default(cls, name: str):
        return cls.__dataclass_fields__[name].default


class Stylizer(Protocol):
    needs_style: bool

    def __call__(self, content: Tensor, styles: Sequence[Tensor]) -> Tensor: ...


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` is CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: CUDA is not available on this machine")
    return dev


def reject_options(opts: StylizeOptions, family: str, *names: str) -> None:
    """Raise ValueError if any option in ``names`` differs from its default: the family ignores it."""
    set_ = [n for n in names if getattr(opts, n) != StylizeOptions.default(n)]
    if set_:
        flags = ", ".join("--" + n.replace("_", "-") for n in set_)
        raise ValueError(f"model {family!r} does not support {flags}")


# The stylizer family of each architecture that has pretrained tags (zoo.weights).
FAMILY_OF_ARCH = {"johnson": "johnson", "cyclegan_resnet": "cyclegan", "adain": "adain_gan"}


def build_stylizer(opts: StylizeOptions) -> Stylizer:
    """The stylizer for ``opts.model``: a family name, or a pretrained tag (``johnson_candy``), which selects
    its family and, unless ``--weights`` says otherwise, its weights. Unknown names list the valid ones."""
    from .weights import WEIGHTS

    if opts.model not in STYLIZERS and opts.model in WEIGHTS:
        entry = WEIGHTS.get(opts.model)
        opts = replace(opts, model=FAMILY_OF_ARCH[entry.arch], weights=opts.weights or opts.model)
    return STYLIZERS.get(opts.model)(opts)


def stylize(content: Tensor, styles: Sequence[Tensor] = (), model: str = "gatys", **options) -> Tensor:
    """Stylise one content image (1, 3, H, W) in [0, 1] with ``model``; options as :class:`StylizeOptions`.

    >>> out = zoo.stylize(content, [style], model="gatys", steps=50, backbone_weights="none")
    """
    stylizer = build_stylizer(StylizeOptions(model=model, **options))
    return stylizer(content, list(styles))
