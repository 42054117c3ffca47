"""The networks we publish: plain nn.Modules on one base (:class:`zoo.nets.base.ZooNet`: any-size contract,
strict loading, hub mixin) with JSON-serialisable constructor arguments, their converters, and each family's
declaration (``FAMILY``, with its pretrained tags), which :data:`zoo.families.FAMILIES` finds by scanning this
package: a new family is its module here, no line of this file."""

from .animeganv2 import AnimeGANv2Generator, convert_bryandlee_state_dict
from .adain import AdaINNet, StyleCode, convert_pytorch_adain_state_dict
from .base import ZooNet, moved_names
from .cyclegan import NLayerDiscriminator, ResnetGenerator, convert_official_state_dict
from .johnson import TransformerNet, convert_fast_neural_style_state_dict

__all__ = ["ZooNet", "AnimeGANv2Generator", "convert_bryandlee_state_dict", "AdaINNet", "StyleCode",
           "convert_pytorch_adain_state_dict", "NLayerDiscriminator", "ResnetGenerator", "convert_official_state_dict",
           "TransformerNet", "convert_fast_neural_style_state_dict"]


__getattr__ = moved_names(__name__, {"load_transformer": "zoo.stylizers.load_transformer"})  # for one release
