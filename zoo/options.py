"""Every ``zoo stylize`` option, declared once: its name, type, default, help, its one check and its page
control, in :data:`OPTIONS`. Generated from it: the command's flags (:func:`add_arguments`, video flags
included), :class:`StylizeOptions` (its fields and checks), the page's controls (:mod:`zoo.demo`) and their
visibility per family, the video options' checks (:func:`check_video_options`).

Which families take an option is not declared here: it is the family records' (:class:`zoo.families.Family`
``supports``; ``needs_style`` for ``--style``), read by :func:`takes`. An option is one of

* ``stylize``: a :class:`StylizeOptions` field, which a family's stylizer reads;
* ``video``: a keyword of :func:`zoo.video.stylize_video` (for clips only; refused on images);
* ``command``: the command's own (inputs, output, style images, overwrite, ...).

This module sits low in the house: it imports no network, loader or stylizer (the family records are read
through :data:`zoo.families.FAMILIES` when :func:`takes` asks).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field, make_dataclass
from typing import Any, Callable, Mapping, Sequence

from .errors import ConfigError
from .families import FAMILIES
from .flow import FLOW_METHODS

__all__ = ["Option", "Control", "OPTIONS", "StylizeOptions", "OptionError", "option", "takes", "families_taking",
           "add_arguments", "check_video_options", "video_options_given", "page_options", "flag",
           "check_number", "check_whole", "check_weights", "DEFAULT_TEMPORAL_WEIGHT", "DEFAULT_CRF", "DEFAULT_FPS",
           "LATER_STEPS_FRACTION", "DEFAULT_STEPS"]


class OptionError(ConfigError):
    """A stylisation option with a value that cannot work; the message names the option (its CLI flag)."""


def flag(name: str) -> str:
    """The command-line flag of an option: ``style_weights`` -> ``--style-weights``."""
    return "--" + name.replace("_", "-")


# ---------------------------------------------------------------------------------------- checks
def check_number(option: str, value: float, low: float | None = None, high: float | None = None) -> float:
    """``value`` as a finite float within [low, high], else :class:`OptionError` naming ``option``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"{option} {value!r}: expected a number") from None
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        bounds = f" in [{low:g}, {high:g}]" if low is not None and high is not None else (
            f" >= {low:g}" if low is not None else "")
        raise OptionError(f"{option} {value:g}: must be a finite number{bounds}")
    return value


def check_whole(option: str, value: int | None, minimum: int = 1) -> int | None:
    """``value`` as a whole number >= ``minimum`` (None passes), else :class:`OptionError`."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
        raise OptionError(f"{option} {value!r}: must be a whole number >= {minimum}")
    return value


def check_weights(option: str, weights) -> list[float]:
    """Blend weights: finite, >= 0, at least one > 0."""
    values = [check_number(option, w, 0.0) for w in weights]
    if not values or sum(values) <= 0:
        raise OptionError(f"{option} {','.join(f'{w:g}' for w in values)}: at least one weight must be > 0")
    return values


def _whole(name: str) -> Callable[[Any], Any]:
    return lambda value: check_whole(flag(name), value)


def _scales(value):
    scales = [check_number("--scales", x, 0.0, 1.0) for x in value]
    if not scales or min(scales) <= 0 or scales != sorted(scales) or scales[-1] != 1.0:
        raise OptionError(f"--scales {','.join(f'{x:g}' for x in scales)}: must be ascending fractions > 0 ending "
                          "with 1, e.g. 0.25,0.5,1")
    return value


def _at_least_one(name: str) -> Callable[[Any], Any]:
    def check(value):
        if value is not None and value < 1:
            raise OptionError(f"{flag(name)} must be at least 1, got {value}")
        return value
    return check


def _temporal_weight(value):
    if not 0.0 <= value < 1.0:
        raise OptionError(f"--temporal-weight must be in [0, 1), got {value}")
    return value


def _crf(value):
    if not 0 <= value <= 51:
        raise OptionError(f"--crf must be in [0, 51], got {value}")
    return value


def _fps(value):
    if value is not None and not (math.isfinite(value) and value > 0):  # 0 is a value, not "the default"
        raise OptionError(f"--fps {value:g}: must be a positive number of frames per second")
    return value


# ---------------------------------------------------------------------------------------- parsing text
def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None


def positive_int(text: str) -> int:
    """argparse type of a positive whole number (``--max-pixels``, ``zoo demo --max-size``)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


# ---------------------------------------------------------------------------------------- the records
@dataclass(frozen=True)
class Control:
    """How the page shows an option: ``kind`` is ``slider``, ``number``, ``text``, ``choice``, ``files`` or
    ``checkbox`` (:meth:`Option.from_page` reads its value: an empty one, 0 included, is the default)."""

    kind: str
    label: str
    minimum: float | None = None
    maximum: float | None = None   # None with a slider: the server's --max-size
    step: float | None = None
    value: Any = None              # the control's start value (default: the option's default)
    choices: Sequence[Any] = ()    # (label, value) pairs or values
    placeholder: str = ""


@dataclass(frozen=True)
class Option:
    """One ``zoo stylize`` option.

    Args:
        name: its Python name (a :class:`StylizeOptions` field, a ``stylize_video`` keyword); the flag is
            ``--name`` with dashes.
        help: the ``--help`` line.
        default: the value when not given.
        kind: ``stylize``, ``video`` or ``command`` (see the module doc).
        spellings: the flag's spellings in ``--help``'s order (default ``--name``); ``positional``: an argument
            without a flag.
        parse: text -> value (argparse's ``type``); ``cli``: argparse's other keywords (nargs, choices,
            const, metavar, action, required); ``cli=None``: no flag (``progress``).
        check: the one check of a value (returns it or raises :class:`OptionError` with the one message).
        page: the page's control (None: not on the page).
        example: a value other than the default (tests probe what each family takes with it).
        annotation: the field's type, for :class:`StylizeOptions`.
    """

    name: str
    help: str
    default: Any = None
    kind: str = "stylize"
    spellings: tuple[str, ...] = ()
    positional: bool = False
    parse: Callable[[str], Any] | None = None
    cli: Mapping[str, Any] | None = field(default_factory=dict)
    check: Callable[[Any], Any] | None = None
    page: Control | None = None
    example: Any = None
    annotation: str = "Any"

    @property
    def flag(self) -> str:
        return self.name if self.positional else flag(self.name)

    def from_page(self, raw: Any) -> Any:
        """The option's value from its page control's: an empty control (0, "", no file) is the default; text is
        read as on the command line (``0.3,0.7``); files are their paths."""
        kind = self.page.kind if self.page is not None else None
        if kind == "checkbox":
            return bool(raw)
        if raw is None or (isinstance(raw, str) and not raw.strip()) or (kind in ("slider", "number") and not raw
                                                                         and self.default is None):
            return self.default
        if kind == "files":
            return [str(getattr(f, "name", f)) for f in raw] or self.default
        if kind == "text" and self.parse is not None:
            try:
                return self.parse(raw)
            except argparse.ArgumentTypeError as e:
                raise OptionError(f"{self.flag}: {e}") from None
        if kind in ("slider", "number"):
            return type(self.default)(raw) if self.default is not None else int(raw)
        return raw

    @property
    def names(self) -> tuple[str, ...]:
        """What argparse is given: the name of a positional argument, else the flag's spellings."""
        return (self.name,) if self.positional else (self.spellings or (self.flag,))


DEFAULT_STEPS = 500             # gatys's optimisation steps (zoo.variants.gatys.DEFAULT_STEPS; a test checks it)
DEFAULT_TEMPORAL_WEIGHT = 0.6   # share of the warped previous output where the flow is reliable
DEFAULT_FPS = 25
DEFAULT_CRF = 18                # libx264 constant-quality setting: 18 is close to visually lossless
LATER_STEPS_FRACTION = 5        # gatys: frames after the first run steps // 5 (from the previous result)
BACKBONES = "{imagenet,timm,caffe,none,PATH}"

OPTIONS: tuple[Option, ...] = (
    Option("inputs", "content image(s) or folder(s) of images", kind="command", positional=True,
           cli={"nargs": "+", "metavar": "INPUT"}),
    Option("output", "output file (one input) or folder", kind="command", spellings=("-o", "--output"),
           cli={"required": True, "metavar": "OUT"}),
    Option("model", "model family or pretrained tag (see `zoo list`); default: the family --weights names (an export "
                    "folder, a checkpoint, a tag), else gatys", spellings=("--model", "-m"),
           annotation="str"),
    Option("style", "style image(s)", default=[], kind="command", cli={"nargs": "+", "metavar": "IMG"},
           page=Control("files", "Style images (--style)")),
    Option("style_weights", "blend weights of several styles, e.g. 0.3,0.7", parse=_floats,
           cli={"metavar": "W1,W2"}, check=lambda v: v if v is None else check_weights("--style-weights", v),
           page=Control("text", "Style weights (--style-weights)", placeholder="0.3,0.7"), example=[1.0],
           annotation="Sequence[float] | None"),
    Option("weights", "checkpoint (.ckpt, .safetensors, export folder), pretrained tag, or random (an untrained "
                      "network and VGG: the smoke run of every model, nothing downloaded)", example="x",
           annotation="str | None"),
    Option("size", "long edge of the output in pixels (default: input's)", parse=_integer, check=_whole("size"),
           page=Control("slider", "Size: long edge in pixels (--size; 0: the photo's own, up to --max-size)",
                        minimum=0, step=1, value=0), example=32, annotation="int | None"),
    Option("steps", f"optimisation steps (gatys; default {DEFAULT_STEPS})", parse=_integer, check=_whole("steps"),
           page=Control("slider", "Steps (--steps)", minimum=1, maximum=2000, step=1, value=DEFAULT_STEPS),
           example=3, annotation="int | None"),
    Option("scales", "coarse-to-fine schedule as fractions of --size, ending with 1 (gatys), e.g. 0.25,0.5,1",
           parse=_floats, cli={"metavar": "S1,S2,.."}, check=lambda v: v if v is None else _scales(v),
           example=[0.5, 1.0], annotation="Sequence[float] | None"),
    Option("preserve_color", "keep the content's colours: luminance (default when given alone: the output takes the "
                             "content's chrominance), histogram (the style is colour-matched to the content first, "
                             "Gatys et al. 2016b) or coral (adain: pytorch-AdaIN's --preserve_color)",
           cli={"nargs": "?", "const": "luminance", "choices": ["luminance", "histogram", "coral"]},
           page=Control("choice", "Keep the photo's colours (--preserve-color)", value="",
                        choices=[("off", ""), "luminance", "histogram"]),
           example="luminance", annotation="str | None"),
    Option("alpha", "content-style trade-off in [0, 1] (adain)", default=1.0, parse=float,
           check=lambda v: check_number("--alpha", v, 0.0, 1.0),
           page=Control("slider", "Alpha: content 0 .. style 1 (--alpha)", minimum=0, maximum=1, step=0.05),
           example=0.6, annotation="float"),
    Option("direction", "translation direction (cyclegan)", default="AtoB", cli={"choices": ["AtoB", "BtoA"]},
           page=Control("choice", "Direction (--direction)", choices=["AtoB", "BtoA"]), example="BtoA",
           annotation="str"),
    Option("tile", "tiled inference with N-pixel tiles (bounded memory)", parse=_integer, check=_whole("tile"),
           page=Control("number", "Tile: windows of N x N pixels, the same picture in bounded memory (--tile; 0: "
                                  "off)", minimum=0, step=1, value=0),
           example=288, annotation="int | None"),
    Option("masks", "one region mask per style image (adain, gatys; gatys also takes CONTENT_MASK:STYLE_MASK, "
                    "a region of the style image)", cli={"nargs": "+", "metavar": "MASK"},
           page=Control("files", "Masks: one per style image, white where it goes (--masks)"),
           example=["mask.png"], annotation="Sequence[str] | None"),
    Option("backbone_weights", "VGG weights (default: the model's own); 'none' = random, for smoke tests only",
           cli={"metavar": BACKBONES}, example="none", annotation="str | None"),
    Option("device", "auto (CUDA if available), cpu, cuda, cuda:1, ...", default="auto", annotation="str"),
    Option("seed", "random seed", parse=int, example=1, annotation="int | None"),
    Option("overwrite", "replace existing output files", default=False, kind="command", cli={"action": "store_true"}),
    Option("max_pixels", "refuse inputs with more pixels than this", kind="command", parse=positive_int),
    Option("quiet", "no progress bars", default=False, kind="command", spellings=("--quiet", "-q"),
           cli={"action": "store_true"}),
    Option("progress", "progress bars (the command's is --quiet)", default=True, cli=None, annotation="bool"),
    Option("temporal", "stabilise: blend each frame with the previous result warped by the optical flow",
           default=False, kind="video", cli={"action": "store_true"},
           page=Control("checkbox", "Video: temporal smoothing (--temporal)", value=False)),
    Option("flow", "optical flow for --temporal: OpenCV DIS (default, no weights) or torchvision RAFT", default="dis",
           kind="video", cli={"choices": FLOW_METHODS}),
    Option("temporal_weight", f"share of the warped previous result where the flow is reliable (default "
                              f"{DEFAULT_TEMPORAL_WEIGHT})", default=DEFAULT_TEMPORAL_WEIGHT, kind="video",
           parse=float, cli={"metavar": "W"}, check=_temporal_weight),
    Option("batch_size", "frames per forward pass of feed-forward models (default 4 on a GPU, 1 on the CPU)",
           kind="video", parse=int, cli={"metavar": "N"}, check=_at_least_one("batch_size")),
    Option("later_steps", f"gatys: steps for each frame after the first (default --steps / {LATER_STEPS_FRACTION})",
           kind="video", parse=int, cli={"metavar": "N"}, check=_at_least_one("later_steps")),
    Option("fps", f"frame rate of a folder of frames (default {DEFAULT_FPS})", kind="video", parse=float, check=_fps),
    Option("crf", f"H.264 quality, 0 (lossless) to 51 (default {DEFAULT_CRF})", default=DEFAULT_CRF, kind="video",
           parse=int, check=_crf),
)
_BY_NAME = {o.name: o for o in OPTIONS}
VIDEO_GROUP = "video (a video file as INPUT, or a folder of frames with --temporal or a video OUT)"


def option(name: str) -> Option:
    """The declaration of the option ``name``."""
    return _BY_NAME[name]


# ---------------------------------------------------------------------------------------- who takes what
def takes(family, name: str) -> bool:
    """Whether ``family`` (a :class:`zoo.families.Family`) takes the option ``name``: a stylize option if the
    family's record supports it, ``style`` if it needs style images; video and command options always."""
    if name == "style":
        return family.needs_style
    return option(name).kind != "stylize" or name in family.supports


def families_taking(name: str) -> list[str]:
    """The names of the registered families that take the option ``name`` (``tile``: the ones that tile)."""
    return [n for n in FAMILIES.names() if takes(FAMILIES.get(n), name)]


def page_options() -> list[Option]:
    """The options the page has a control for, in the page's (and its API's) order."""
    return [o for o in OPTIONS if o.page is not None]


# ---------------------------------------------------------------------------------------- argparse
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option's flag on ``zoo stylize``'s parser, in declaration order; the video options in their group."""
    group = parser.add_argument_group(VIDEO_GROUP)
    for o in OPTIONS:
        if o.cli is None:
            continue
        kwargs = dict(o.cli)
        if "action" not in kwargs:
            kwargs["default"] = o.default
            if o.parse is not None:
                kwargs["type"] = o.parse
        (group if o.kind == "video" else parser).add_argument(*o.names, help=o.help, **kwargs)


# ---------------------------------------------------------------------------------------- values
def _check_fields(self) -> None:
    """Every stylize option's one check, for every family, before any work."""
    for o in OPTIONS:
        if o.kind == "stylize" and o.check is not None:
            o.check(getattr(self, o.name))


def _default(cls, name: str):
    """The default of the field ``name``, to tell which ones a user set."""
    return cls.__dataclass_fields__[name].default


def _stylize_fields() -> list:
    """StylizeOptions' fields: the stylize options in declaration order; ``model`` has no default."""
    return [(o.name, o.annotation) if o.name == "model" else (o.name, o.annotation, field(default=o.default))
            for o in OPTIONS if o.kind == "stylize"]


StylizeOptions = make_dataclass(
    "StylizeOptions", _stylize_fields(),
    namespace={"__post_init__": _check_fields, "default": classmethod(_default),
               "__doc__": "Everything ``zoo stylize`` can be told about the stylisation (the ``stylize`` options of "
                          ":data:`zoo.options.OPTIONS`); builders read the fields that concern them. Every value is "
                          "checked at construction, with the option's one message."})
StylizeOptions.__module__ = __name__


def video_options_given(values: Mapping[str, Any]) -> list[str]:
    """The flags of the video options whose value in ``values`` is not their default."""
    return [o.flag for o in OPTIONS if o.kind == "video" and o.name in values and values[o.name] != o.default]


def check_video_options(**values: Any) -> None:
    """The one check of each video option given (``temporal_weight=..., crf=...``)."""
    for name, value in values.items():
        check = option(name).check
        if check is not None:
            check(value)
