"""Deprecated module name (kept for one release): ``zoo.variants.adain_gan`` is now ``zoo.variants.adain``.

Recipes and checkpoints that name ``zoo.variants.adain_gan.AdaINGAN`` still load, with one deprecation warning."""

from ..families import deprecated
from .adain import *  # noqa: F401,F403
from .adain import AdaINGAN  # noqa: F401

deprecated("zoo.variants.adain_gan", "zoo.variants.adain", "module")
