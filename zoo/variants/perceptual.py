"""Deprecated module name (kept for one release): ``zoo.variants.perceptual`` is now ``zoo.variants.johnson``.

Recipes and checkpoints that name ``zoo.variants.perceptual.PerceptualVariant`` still load, with one deprecation warning."""

from ..families import deprecated
from .johnson import *  # noqa: F401,F403
from .johnson import PerceptualVariant  # noqa: F401

deprecated("zoo.variants.perceptual", "zoo.variants.johnson", "module")
