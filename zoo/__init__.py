"""Stylezoo: neural style transfer models (Gatys, Johnson, CycleGAN, AdaIN-GAN) for PyTorch Lightning.

Public API::

    import zoo
    image = zoo.load_image("photo.jpg")                  # (1, 3, H, W) float in [0, 1]
    out = zoo.stylize(image, [zoo.load_image("style.jpg")], model="gatys")
    zoo.save_image(out, "out.png")
    net = zoo.create_model("johnson_candy", pretrained=True)   # a network of the zoo
    zoo.list_models(pretrained=True)
    zoo.stylize_video("clip.mp4", "out.mp4", "johnson_candy", temporal=True)   # a video, frames streamed
"""

from __future__ import annotations

from .backbone import VGGEncoder
from .io import load_image, save_image
from .losses import build_losses
from .hub import create_model, list_models
from .registry import LOSSES, MODELS, STYLIZERS
from .stylize import StylizeOptions, stylize
from .video import stylize_frames, stylize_video

# Importing the networks and zoo.stylizers registers them (MODELS, STYLIZERS). The training variants (zoo.variants) import
# Lightning, which only training and Gatys need: Gatys' stylizer is imported on first use.
from . import nets, stylizers  # noqa: F401,E402

STYLIZERS.register_lazy("gatys", "zoo.variants.gatys:GatysStylizer")

__version__ = "0.1.0"

__all__ = [
    "VGGEncoder", "load_image", "save_image", "stylize", "StylizeOptions", "stylize_video", "stylize_frames",
    "create_model", "list_models",
    "build_losses", "MODELS", "LOSSES", "STYLIZERS", "__version__",
]
