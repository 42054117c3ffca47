"""What a model family is, the registry that finds the families, and the one resolver of model names.

A :class:`Family` record says everything the rest of Stylezoo needs to know about a family: its
network builder, its LightningModule, the state-dict prefix of the network inside a training
checkpoint, its converters of canonical checkpoints, its stylizer and the ``zoo stylize`` options that
stylizer supports, whether it needs trained weights or style images, its default pretrained tag, its
pretrained weights entries, its recipes and its peak memory per pixel. Each family declares its record
beside its network, as ``FAMILY`` in ``zoo/nets/<name>.py`` (timm's pattern of configs in the model module);
code in other modules is referenced by dotted string (``"module:attribute"``) and imported on first use, so
reading the declarations imports no stylizer, no loader and not Lightning.

Everything that lists or dispatches on families reads :data:`FAMILIES`: ``zoo.create_model`` and
``list_models`` (:mod:`zoo.factory`), ``zoo stylize`` (:mod:`zoo.stylize`), ``zoo export``,
``zoo convert``, ``zoo publish`` (:mod:`zoo.publish`), ``zoo list``, ``zoo demo``, ``benchmarks.run``,
``hubconf.py`` and the parametrised tests.

Families are found on first use, the built-in ones the way plugins are: the ``FAMILY`` of each module of
``zoo.nets`` (a new family is its module there: no table to edit), then the ``stylezoo.families`` entry-point
group of third-party packages, where an entry point names a :class:`Family` (or a list of them)::

    [project.entry-points."stylezoo.families"]
    mynet = "mypackage.family:FAMILY"

Names (:func:`resolve`): a family name (``johnson``), a pretrained tag (``johnson_candy``), its
timm-style name (``johnson.candy``), or a deprecated name (``cyclegan_resnet``, ``adain.pytorch_adain``),
which still works for one release with one :class:`ZooDeprecationWarning` line.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any, Mapping

from .errors import ConfigError
from .registry import Registry, UnknownNameError
from .weights import WEIGHTS, PretrainedWeights, WeightsTable

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
        pretrained: the family's pretrained tags (:class:`zoo.weights.PretrainedWeights`, ``arch`` the
            family's name), registered in :data:`zoo.weights.WEIGHTS` with the family.
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
    pretrained: tuple[PretrainedWeights, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", frozenset(self.options))
        object.__setattr__(self, "pretrained", tuple(self.pretrained))
        object.__setattr__(self, "checkpoint_prefix", MappingProxyType(dict(self.checkpoint_prefix)))
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"family name {self.name!r} must be a lower-case Python identifier")
        if not self.checkpoint_prefix:
            raise ValueError(f"family {self.name!r}: checkpoint_prefix needs at least one entry")
        if any(entry.arch != self.name for entry in self.pretrained):
            raise ValueError(f"family {self.name!r}: its pretrained entries must have arch {self.name!r}")

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
# The registry of families: the built-in modules, then the entry points
# --------------------------------------------------------------------------------------------------

class FamilyRegistry(Registry[Family]):
    """The families by name: a :class:`zoo.registry.Registry` whose :meth:`register` takes the record
    (under its name; its deprecated ``aliases`` are reserved) and registers its ``pretrained`` entries in
    ``weights`` (by default a table of its own). On first use it finds the families the way plugins are found: the ``FAMILY`` of every
    module of ``packages`` (built-in: ``zoo.nets``), then the ``stylezoo.families`` entry points."""

    def __init__(self, packages: tuple[str, ...] = (), weights: WeightsTable | None = None) -> None:
        super().__init__("family", listing="families", discover=self._find)
        self._packages = packages
        self._weights = weights if weights is not None else WeightsTable()

    def register(self, family: Family) -> Family:  # type: ignore[override]
        if not isinstance(family, Family):
            raise TypeError(f"expected a zoo.families.Family, got {type(family).__name__}")
        super().register(family.name, family, reserved=family.aliases)
        done = []
        try:
            for entry in family.pretrained:
                done.append(self._weights.register(entry).tag)
        except BaseException:  # all of the family or none of it
            for tag in done:
                self._weights.unregister(tag)
            super().unregister(family.name)
            raise
        return family

    def unregister(self, name: str) -> Family:
        """Remove a family and its pretrained entries (tests register temporary ones)."""
        family = super().unregister(name)
        for entry in family.pretrained:
            self._weights.unregister(entry.tag)
        return family

    def alias_of(self, name: str) -> str | None:
        """The family a deprecated family name stands for, or None."""
        return self.reserved_by(name)

    def _find(self) -> None:
        for package in self._packages:  # a broken built-in module is a bug: it raises
            for info in pkgutil.iter_modules(importlib.import_module(package).__path__, f"{package}."):
                family = vars(importlib.import_module(info.name)).get("FAMILY")
                if isinstance(family, Family):
                    self.register(family)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                obj = ep.load()
                for family in obj if isinstance(obj, (list, tuple)) else [obj]:
                    if self._items.get(family.name) is not family:  # a name clash is refused, logged
                        self.register(family)
            except Exception as e:  # one broken plugin must not break the zoo
                log.warning("entry point %s = %s (%s): not loaded: %s: %s", ep.name, ep.value, ENTRY_POINT_GROUP,
                            type(e).__name__, e)


#: The families: every module of zoo.nets that declares a ``FAMILY``, and the plugins' entry points.
FAMILIES = FamilyRegistry(packages=("zoo.nets",), weights=WEIGHTS)
WEIGHTS.discover_by(FAMILIES.discover)  # the weights entries are declared with their families


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
    return sorted(set(FAMILIES.names()) | set(WEIGHTS.names()))
