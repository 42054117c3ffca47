"""Stylezoo: neural style transfer models (Gatys, Johnson, CycleGAN, AdaIN) for PyTorch Lightning.

Public API::

    import zoo
    image = zoo.load_image("photo.jpg")                  # (1, 3, H, W) float in [0, 1]
    out = zoo.stylize(image, [zoo.load_image("style.jpg")], model="gatys")
    zoo.save_image(out, "out.png")
    net = zoo.create_model("johnson_candy", pretrained=True)   # a network of the zoo
    zoo.list_models(pretrained=True)
    zoo.FAMILIES.names()                                  # the model families (zoo.families)
    zoo.stylize_video("clip.mp4", "out.mp4", "johnson_candy", temporal=True)   # a video, frames streamed
"""

from __future__ import annotations

from .backbone import VGGEncoder
from .io import load_image, save_image
from .losses import build_losses
from .factory import create_model, list_models
from .families import FAMILIES, Family
from .registry import LOSSES, MODELS
from .stylize import StylizeOptions, stylize
from .video import stylize_frames, stylize_video

# Importing the networks registers their architectures in MODELS. The families (zoo.families) name their
# code by dotted string: the training variants (zoo.variants), which import Lightning, are imported by the
# commands that use them only.
from . import nets  # noqa: F401,E402

__version__ = "0.1.0"

__all__ = [
    "VGGEncoder", "load_image", "save_image", "stylize", "StylizeOptions", "stylize_video", "stylize_frames",
    "create_model", "list_models", "FAMILIES", "Family",
    "build_losses", "MODELS", "LOSSES", "__version__",
]
