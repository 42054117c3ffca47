"""The LightningModules: training logic only; networks and losses are injected."""

from .adain import AdaINGAN
from .cyclegan import CycleGAN
from .gatys import Gatys

__all__ = ["AdaINGAN", "CycleGAN", "Gatys"]
