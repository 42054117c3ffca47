"""The networks we publish: plain nn.Modules with JSON-serialisable constructor arguments."""

from .animeganv2 import AnimeGANv2Generator, convert_bryandlee_state_dict
from .adain import AdaINNet, StyleCode, convert_pytorch_adain_state_dict
from .cyclegan import NLayerDiscriminator, ResnetGenerator, convert_official_state_dict
from .transformer import TransformerNet, convert_fast_neural_style_state_dict, load_transformer

__all__ = ["AnimeGANv2Generator", "convert_bryandlee_state_dict", "AdaINNet", "StyleCode", "convert_pytorch_adain_state_dict", "NLayerDiscriminator", "ResnetGenerator",
           "convert_official_state_dict", "TransformerNet", "convert_fast_neural_style_state_dict", "load_transformer"]
