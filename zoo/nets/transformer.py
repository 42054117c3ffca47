"""Deprecated: the Johnson et al. 2016 network is :mod:`zoo.nets.johnson` (the family's name), its loading and
stylizer are in :mod:`zoo.stylizers`. Names used from here keep working, with a DeprecationWarning, for one
release."""

from .base import moved_names

__getattr__ = moved_names(__name__, {
    "load_transformer": "zoo.stylizers.load_transformer",
    "JohnsonStylizer": "zoo.stylizers.ImageStylizer",
    "build_johnson_stylizer": "zoo.stylizers.build_image_stylizer",
}, rest="zoo.nets.johnson")
