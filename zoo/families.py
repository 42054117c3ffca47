"""What a model family is, declared once, and the one resolver of model names.

A :class:`Family` record says everything the rest of Stylezoo needs to know about a family: its
network builder, its LightningModule, the state-dict prefix of the network inside a training
checkpoint, its converters of canonical checkpoints, its stylizer and the ``zoo stylize`` options that
stylizer supports, whether it needs trained weights or style images, its default pretrained tag, its
recipes and its peak memory per pixel. Code is referenced by dotted string (``"module:attribute"``) and
imported on first use, so reading the declarations imports neither the networks nor Lightning.

Everything that lists or dispatches on families reads :data:`FAMILIES`: ``zoo.create_model`` and
``list_models`` (:mod:`zoo.factory`), ``zoo stylize`` (:mod:`zoo.stylize`), ``zoo export``,
``zoo convert``, ``zoo publish`` (:mod:`zoo.publish`), ``zoo list``, ``zoo demo``, ``benchmarks.run``,
``hubconf.py`` and the parametrised tests.

Third-party packages add families through the ``stylezoo.families`` entry-point group; an entry point
names a :class:`Family` (or a list of them)::

    [project.entry-points."stylezoo.families"]
    mynet = "mypackage.family:FAMILY"

Names (:func:`resolve`): a family name (``johnson``), a pretrained tag (``johnson_candy``), its
timm-style name (``johnson.candy``), or a deprecated name (``cyclegan_resnet``, ``adain.pytorch_adain``),
which still works for one release with one :class:`ZooDeprecationWarning` line.
"""

from __future__ import annotations

import importlib
import logging
import sys
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterator, Mapping

from .errors import ConfigError
from .registry import UnknownNameError

__all__ = ["Family", "FAMILIES", "Resolved", "resolve", "load", "ENTRY_POINT_GROUP", "ZooDeprecationWarning",
           "UNIVERSAL_OPTIONS", "deprecated_names", "one_line_warnings", "deprecated",
           "model_names"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "stylezoo.families"
# zoo stylize options every family takes (StylizeOptions fields).
UNIVERSAL_OPTIONS = frozenset({"model", "size", "device", "progress"})


class ZooDeprecationWarning(DeprecationWarning):
    """A deprecated Stylezoo name was used; the message says which name replaces it. Unlike Python's
    DeprecationWarning it is shown by default, once per name and process (unless ``-W`` /
    ``PYTHONWARNINGS`` say otherwise); the ``zoo`` command prints it as one ``warning:`` line."""


if not sys.warnoptions:
    warnings.filterwarnings("once", category=ZooDeprecationWarning)


def one_line_warnings() -> None:
    """For the command-line programs (``zoo``, ``benchmarks.run``): show each :class:`ZooDeprecationWarning`
    once, as one line ``warning: ...`` on stderr, whatever other warnings filters are in place."""
    warnings.filterwarnings("once", category=ZooDeprecationWarning)
    if getattr(warnings.showwarning, "_zoo_one_line", False):
        return
    previous = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 - warnings' signature
        if issubclass(category, ZooDeprecationWarning):
            print(f"warning: {message}", file=sys.stderr)
        else:
            previous(message, category, filename, lineno, file, line)

    show._zoo_one_line = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def deprecated(old: str, new: str, what: str = "name") -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (:class:`ZooDeprecationWarning`)."""
    warnings.warn(f"{what} {old!r} is deprecated and will be removed in the next release; use {new!r}",
                  ZooDeprecationWarning, stacklevel=3)


def load(target: Any) -> Any:
    """The object named by ``"package.module:attribute"`` (``"package.module.attribute"`` works too); an
    object that is not a string (a family declared with the function itself) is returned as is."""
    if not isinstance(target, str):
        return target
    module, sep, attribute = target.partition(":")
    if not sep:
        module, _, attribute = target.rpartition(".")
    obj = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Family:
    """One model family. Code is named by dotted string, ``"module:attribute"``, imported on first use (or
    given as the object itself, e.g. by a test or a plugin that has imported it anyway).

    Args:
        name: the family's one name: architecture in ``create_model``, module ``zoo/nets/<name>.py``,
            LightningModule module ``zoo/variants/<name>.py``, recipe ``recipes/<name>.yaml``.
        description: one line, for ``zoo list``, hubconf docstrings and model cards.
        stylizer: builder ``(StylizeOptions) -> Stylizer`` of ``zoo stylize``.
        options: the StylizeOptions fields the stylizer reads besides :data:`UNIVERSAL_OPTIONS` (and
            ``weights``, implied by ``needs_weights``); :func:`zoo.stylize.build_stylizer` refuses the others.
        network: the inference network's class (or a builder ``(**config) -> nn.Module`` with named
            arguments: loading keeps only the config keys it takes); None for families that
            optimise the image (Gatys).
        module: the LightningModule ``"module:Class"`` that trains the network.
        former_modules: class paths of that LightningModule under earlier names (deprecated), as
            training checkpoints record them.
        checkpoint_prefix: ``{direction: state-dict prefix}`` of the network in a training checkpoint; the
            first item is what ``zoo publish`` exports; ``""`` for families with one network.
        network_config: ``(hparams) -> config`` of the network from a training checkpoint's
            hyper-parameters (default: ``hparams["network"]``).
        loader: ``(weights, **options) -> nn.Module``: the trained network from a checkpoint, an export,
            a canonical file or a pretrained tag (``zoo export``, ``zoo convert``). Default, for a family
            with a network: :func:`zoo.loading.load_network` over this declaration
            (:func:`zoo.loading.load_trained` calls the one or the other).
        loader_options: the StylizeOptions fields ``zoo export`` / ``zoo convert`` pass to the loader (by
            default: ``direction`` picks a training checkpoint's network, the others override its config).
        converters: dotted names of the functions importing canonical published checkpoints (the
            weights table's ``canonical.converter`` must be one of them).
        importers: dotted names of :class:`zoo.checkpoint.Importer` s: the reference implementations'
            files ``--weights`` may name, recognised by their keys and converted on load.
        needs_weights: the stylizer needs trained weights (``--weights`` or a tag).
        needs_style: the stylizer needs style images at run time.
        random_weights: the stylizer draws ``--weights random`` itself, its own way (Gatys: a random VGG;
            AdaIN: a random decoder and VGG); the page and the benchmarks export a random network of the other
            families once and pass its folder. Every family takes ``--weights random`` on the command line
            and in ``zoo.stylize`` (:func:`zoo.loading.load_network`): the smoke path.
        default_tag: the pretrained tag a bare family name means (``--model adain``,
            ``create_model("adain", pretrained=True)``).
        recipes: recipe names (``recipes/<name>.yaml``) that train the family.
        bytes_per_pixel: peak memory of ``zoo stylize`` per output pixel, rounded up (the memory check); with
            ``--tile`` it is paid per pixel of one tile.
        state_bytes_per_pixel: memory per output pixel that tiling does not bound, besides the input and output
            (Gatys: the image's gradient, the L-BFGS history at its smallest, the content target).
        training_networks: names in ``zoo.registry.MODELS`` that are parts of training only
            (discriminators): ``create_model`` builds them, listings leave them out.
        aliases: deprecated names of the family (architecture names of an earlier release).
    """

    name: str
    description: str
    stylizer: str
    options: frozenset[str] = frozenset()
    network: str | None = None
    module: str | None = None
    former_modules: tuple[str, ...] = ()
    checkpoint_prefix: Mapping[str, str] = field(default_factory=lambda: {"": "net."})
    network_config: str | None = None
    loader: str | None = None
    loader_options: tuple[str, ...] = ()
    converters: tuple[str, ...] = ()
    importers: tuple[str, ...] = ()
    needs_weights: bool = True
    needs_style: bool = False
    random_weights: bool = False
    default_tag: str | None = None
    recipes: tuple[str, ...] = ()
    bytes_per_pixel: int = 2600
    state_bytes_per_pixel: int = 0
    training_networks: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", frozenset(self.options))
        object.__setattr__(self, "checkpoint_prefix", MappingProxyType(dict(self.checkpoint_prefix)))
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"family name {self.name!r} must be a lower-case Python identifier")
        if not self.checkpoint_prefix:
            raise ValueError(f"family {self.name!r}: checkpoint_prefix needs at least one entry")

    @property
    def supports(self) -> frozenset[str]:
        """Every StylizeOptions field the family's stylizer reads."""
        return self.options | UNIVERSAL_OPTIONS | ({"weights"} if self.needs_weights else frozenset())

    @property
    def directions(self) -> tuple[str, ...]:
        """The networks of a training checkpoint by direction (``("AtoB", "BtoA")``); ``("",)`` for one."""
        return tuple(self.checkpoint_prefix)

    @property
    def module_path(self) -> str | None:
        """The LightningModule as LightningCLI records it (``package.module.Class``)."""
        return self.module.replace(":", ".") if self.module else None

    @property
    def loads_networks(self) -> bool:
        """Whether ``zoo export`` / ``zoo convert`` can load a trained network of this family."""
        return self.loader is not None or self.network is not None

    def build_network(self, **config: Any) -> Any:
        if self.network is None:
            raise ConfigError(f"family {self.name!r} has no network of its own (it optimises the image)")
        return load(self.network)(**config)


# --------------------------------------------------------------------------------------------------
# The registry of families: the built-in declarations, then the entry points
# --------------------------------------------------------------------------------------------------

class FamilyRegistry(Mapping[str, Family]):
    """The families by name. Like :class:`zoo.registry.Registry`: registering a name twice is an error and
    an unknown name lists the valid ones. Entry-point families are discovered on first use."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}
        self._discovered = False

    def register(self, family: Family) -> Family:
        if not isinstance(family, Family):
            raise TypeError(f"expected a zoo.families.Family, got {type(family).__name__}")
        taken = {n for f in self._families.values() for n in (f.name, *f.aliases)}
        for key in (family.name, *family.aliases):
            if key in taken:
                raise KeyError(f"family {key!r} is already registered")
        self._families[family.name] = family
        return family

    def unregister(self, name: str) -> Family:
        """Remove a family (tests register temporary ones)."""
        return self._families.pop(name)

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
                for family in obj if isinstance(obj, (list, tuple)) else [obj]:
                    if self._families.get(family.name) is not family:  # a name clash is refused, logged
                        self.register(family)
            except Exception as e:  # one broken plugin must not break the zoo
                log.warning("entry point %s = %s (%s): not loaded: %s: %s", ep.name, ep.value, ENTRY_POINT_GROUP,
                            type(e).__name__, e)

    def get(self, name: str, default: Any = None) -> Family:  # type: ignore[override]
        """The family ``name``; an unknown name raises :class:`UnknownNameError` (``default`` is not used:
        a missing family is always an error)."""
        self._discover()
        if name in self._families:
            return self._families[name]
        raise UnknownNameError(f"unknown family {name!r}; valid families: {', '.join(self.names()) or '(none)'}")

    def __getitem__(self, name: str) -> Family:
        return self.get(name)

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._families)

    def __contains__(self, name: object) -> bool:
        self._discover()
        return name in self._families

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def alias_of(self, name: str) -> str | None:
        """The family a deprecated family name stands for, or None."""
        self._discover()
        return next((f.name for f in self._families.values() if name in f.aliases), None)


FAMILIES = FamilyRegistry()


# The built-in families.
FAMILIES.register(Family(
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
))
FAMILIES.register(Family(
    name="johnson",
    description="Johnson et al. 2016 feed-forward image transformation network (one style per network)",
    stylizer="zoo.stylizers:build_image_stylizer",
    options=frozenset({"tile", "preserve_color"}),
    network="zoo.nets.johnson:TransformerNet",
    module="zoo.variants.johnson:PerceptualVariant",
    former_modules=("zoo.variants.perceptual.PerceptualVariant",),
    converters=("zoo.nets.johnson.convert_fast_neural_style_state_dict",),
    importers=("zoo.nets.johnson:FAST_NEURAL_STYLE",),
    recipes=("johnson",),
    bytes_per_pixel=900,
))
FAMILIES.register(Family(
    name="cyclegan",
    description="CycleGAN ResNet generator of Zhu et al. 2017 (unpaired image-to-image translation)",
    stylizer="zoo.stylizers:build_image_stylizer",
    options=frozenset({"direction", "tile", "preserve_color"}),
    network="zoo.nets.cyclegan:ResnetGenerator",
    module="zoo.variants.cyclegan:CycleGAN",
    checkpoint_prefix={"AtoB": "G_AB.", "BtoA": "G_BA."},
    loader_options=("direction",),
    converters=("zoo.nets.cyclegan.convert_official_state_dict",),
    importers=("zoo.nets.cyclegan:OFFICIAL",),
    recipes=("cyclegan_horse2zebra", "cyclegan_photo2anime"),
    bytes_per_pixel=1300,
    training_networks=("cyclegan_patchgan",),
    aliases=("cyclegan_resnet",),
))
FAMILIES.register(Family(
    name="adain",
    description="AdaIN network of Huang & Belongie 2017 (arbitrary style transfer: content and style images)",
    stylizer="zoo.stylizers:build_adain_stylizer",
    options=frozenset({"style_weights", "alpha", "preserve_color", "masks", "backbone_weights", "tile"}),
    network="zoo.nets.adain:AdaINNet",
    module="zoo.variants.adain:AdaINGAN",
    former_modules=("zoo.variants.adain_gan.AdaINGAN",),
    network_config="zoo.nets.adain:net_config_from_hparams",
    loader_options=("backbone_weights",),
    converters=("zoo.nets.adain.convert_pytorch_adain_state_dict",),
    importers=("zoo.nets.adain:PYTORCH_ADAIN",),
    needs_style=True,
    random_weights=True,
    default_tag="adain_original",
    recipes=("adain", "adain_plain"),
    bytes_per_pixel=1300,
))


FAMILIES.register(Family(
    name="animeganv2",
    description="AnimeGANv2 generator (Chen, Liu & Chen; bryandlee/animegan2-pytorch's port): photo to anime",
    stylizer="zoo.stylizers:build_image_stylizer",
    options=frozenset({"tile", "preserve_color"}),
    network="zoo.nets.animeganv2:AnimeGANv2Generator",
    module="zoo.variants.animeganv2:AnimeGANv2",
    checkpoint_prefix={"": "generator."},
    converters=("zoo.nets.animeganv2.convert_bryandlee_state_dict",),
    importers=("zoo.nets.animeganv2:BRYANDLEE",),
    default_tag="animeganv2_paprika",
    recipes=("animeganv2",),
))


# --------------------------------------------------------------------------------------------------
# The one name resolver
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Resolved:
    """What a model name means: its family and, for a pretrained tag, the weights-table tag."""

    name: str                # the name as given
    family: Family
    tag: str | None = None   # canonical tag when the name is a tag (or a deprecated one)

    @property
    def is_family(self) -> bool:
        return self.tag is None

    @property
    def weights(self) -> str | None:
        """The weights a bare name brings: its tag, or the family's default tag."""
        return self.tag or self.family.default_tag


def deprecated_names() -> dict[str, str]:
    """{deprecated name: the name that replaces it}: family aliases and the weights entries' former names."""
    from .weights import WEIGHTS

    out = {alias: f.name for f in (FAMILIES.get(n) for n in FAMILIES.names()) for alias in f.aliases}
    for tag in WEIGHTS.names():
        entry = WEIGHTS.get(tag)
        out.update({old: tag for old in entry.former if old not in FAMILIES})
    return out


def _family_of_arch(arch: str) -> Family | None:
    if arch in FAMILIES:
        return FAMILIES.get(arch)
    alias = FAMILIES.alias_of(arch)
    return FAMILIES.get(alias) if alias else None


def resolve(name: str, *, warn: bool = True, prefix_tags: bool = False) -> Resolved:
    """The family (and tag) of ``name``: a family name, a pretrained tag (``johnson_candy``) or its
    timm-style name (``johnson.candy``), or a deprecated name (one :class:`ZooDeprecationWarning`, unless
    ``warn=False``). A family name wins over a tag of the same spelling (``adain`` is the family; its
    default tag is ``adain_original``). ``prefix_tags``: a name ``<family>_<tag>`` that is no weights
    entry still resolves to ``<family>`` with the name as its tag (stylizers registered by other code,
    ``benchmarks.run --import``). Unknown names raise :class:`UnknownNameError` listing the valid ones."""
    from .weights import WEIGHTS

    if not isinstance(name, str):
        raise TypeError(f"a model name must be a string, not {type(name).__name__}")
    if name in FAMILIES:
        return Resolved(name, FAMILIES.get(name))
    if name in WEIGHTS:
        entry = WEIGHTS.get(name)
        family = _family_of_arch(entry.arch)
        if family is None:
            raise UnknownNameError(f"pretrained weights {name!r} are a {entry.arch!r} network, which is not a "
                                   f"registered family ({', '.join(FAMILIES.names())})")
        return Resolved(name, family, entry.tag)
    old = deprecated_names()
    family_part, dot, rest = name.partition(".")
    if name in old or (dot and family_part in old):
        new = old[name] if name in old else f"{old[family_part]}.{rest}"
        if warn:
            deprecated(name, new)
        target = resolve(new, warn=False)
        return Resolved(name, target.family, target.tag)
    if prefix_tags:
        prefixes = [f for f in FAMILIES.names() if name.startswith(f + "_")]
        if prefixes:
            return Resolved(name, FAMILIES.get(max(prefixes, key=len)), name)
    raise UnknownNameError(f"unknown model {name!r}; valid names: {', '.join(model_names())}")


def model_names() -> list[str]:
    """Every family and pretrained tag (the names ``zoo stylize --model`` takes), sorted."""
    from .weights import WEIGHTS

    return sorted(set(FAMILIES.names()) | set(WEIGHTS.names()))
