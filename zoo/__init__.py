"""Stylezoo: neural style transfer models for PyTorch (the families: ``zoo.FAMILIES.names()``).

Public API::

    import zoo
    image = zoo.load_image("photo.jpg")                  # (1, 3, H, W) float in [0, 1]
    out = zoo.stylize(image, model="johnson_candy")      # a pretrained tag
    out = zoo.stylize(image, [zoo.load_image("style.jpg")], model="gatys")
    out = zoo.stylize(image, model="johnson", weights="random")   # the smoke run of any family: no download
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
# commands that train only; `import zoo` and every stylizer import none of the extras (zoo.extras;
# tests/test_extras.py; python -m benchmarks.bench_import measures the time).
from . import nets  # noqa: F401,E402

__version__ = "0.1.0"

__all__ = [
    "VGGEncoder", "load_image", "save_image", "stylize", "StylizeOptions", "stylize_video", "stylize_frames",
    "create_model", "list_models", "FAMILIES", "Family",
    "build_losses", "MODELS", "LOSSES", "__version__",
]
