"""The ``gatys`` family's declaration. Gatys et al. 2016 has no network of its own: it optimises the image
through a VGG (:mod:`zoo.gatys`; ``recipes/gatys.yaml`` runs the same functions in :mod:`zoo.variants.gatys`). Its record lives here, among the networks, so that every family is found the
same way: the ``FAMILY`` of a module of :mod:`zoo.nets`."""

from __future__ import annotations

from ..families import Family

__all__ = ["FAMILY"]

FAMILY = Family(
    name="gatys",
    description="Gatys et al. 2016 optimisation-based style transfer (no trained network)",
    stylizer="zoo.gatys:GatysStylizer",
    # weights: only ``random`` (a random VGG, the smoke path every family shares)
    options=frozenset({"weights", "style_weights", "steps", "scales", "preserve_color", "backbone_weights", "seed",
                       "masks", "tile"}),
    module="zoo.variants.gatys:Gatys",
    needs_weights=False,
    needs_style=True,
    random_weights=True,
    recipes=("gatys",),
    # Peak memory per output pixel, measured with `zoo stylize` on CPU at 384 and 768 px (random weights,
    # ru_maxrss): gatys ~2.2-2.4 KB (VGG19 activations and their gradients), adain ~1.2 KB, cyclegan
    # ~1.2 KB, johnson ~0.6-0.8 KB. Rounded up.
    bytes_per_pixel=2600,
    # --tile: the image, its gradient and L-BFGS's 2 x 5 history vectors at the least (zoo.gatys shrinks the
    # history from 50 where the memory is short) at 12 B each, the content's relu4_2 target (32 B).
    state_bytes_per_pixel=14 * 12 + 32,
)
