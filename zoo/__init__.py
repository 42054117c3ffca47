"""Stylezoo: neural style transfer models (Gatys, Johnson, CycleGAN, AdaIN-GAN) for PyTorch Lightning.

Public API::

    import zoo
    image = zoo.load_image("photo.jpg")                  # (1, 3, H, W) float in [0, 1]
    out = zoo.stylize(image, [zoo.load_image("style.jpg")], model="gatys")
    zoo.save_image(out, "out.png")
    net = zoo.create_model("johnson")                    # a network from the registry
    zoo.list_models()
"""

from __future__ import annotations

from typing import Any

from torch import nn

from .backbone import VGGEncoder
from .io import load_image, save_image
from .losses import build_losses
from .registry import LOSSES, MODELS, STYLIZERS
from .stylize import StylizeOptions, stylize

# Importing the networks and variants registers them (MODELS, STYLIZERS).
from . import nets, variants  # noqa: F401,E402

__version__ = "0.1.0"

__all__ = [
    "VGGEncoder", "load_image", "save_image", "stylize", "StylizeOptions", "create_model", "list_models",
    "build_losses", "MODELS", "LOSSES", "STYLIZERS", "__version__",
]


def list_models() -> list[str]:
    """Names accepted by :func:`create_model`."""
    return MODELS.names()


def create_model(name: str, **config: Any) -> nn.Module:
    """Build the network registered as ``name`` with its JSON config (random weights)."""
    return MODELS.get(name)(**config)
