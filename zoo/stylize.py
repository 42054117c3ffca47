"""One inference entry point for every model family: ``zoo.stylize`` and ``zoo stylize``.

Each family declares its *stylizer builder* and the options it supports (:class:`zoo.families.Family`:
``stylizer``, ``options``). :func:`build_stylizer` resolves the model name (a family, or a pretrained tag
that brings its weights), refuses every option the family does not support (one place, for every
family: never silently ignored) and calls the builder.

A :class:`Stylizer` is called with one content image (1, 3, H, W) in [0, 1] and the list of style
images (each (1, 3, h, w), possibly empty) and returns the stylised image (1, 3, H', W') in [0, 1].
``needs_style`` tells the CLI whether ``--style`` is required (``True``), forbidden (``False``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol, Sequence

import torch
from torch import Tensor

from .errors import ConfigError
from .families import Resolved, load, resolve
from .options import OptionError, StylizeOptions, check_number, check_whole, check_weights, flag, takes

__all__ = ["StylizeOptions", "Stylizer", "build_stylizer", "stylize", "check_image_tensor", "reject_options",
           "resolve_device", "resolve_family", "model_for", "DEFAULT_MODEL", "check_output_size", "check_pixels",
           "available_memory", "OptionError",
           "check_number", "check_whole", "check_weights", "check_styles"]


class Stylizer(Protocol):
    needs_style: bool

    def __call__(self, content: Tensor, styles: Sequence[Tensor]) -> Tensor: ...


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"``: this machine's accelerator (CUDA, MPS, XPU... through ``torch.accelerator``), else the CPU;
    otherwise ``cpu`` or a device of that accelerator (``cuda:1``), which this machine must have (an
    :class:`OptionError` naming ``--device`` if not). See :mod:`zoo.devices`."""
    from .devices import DeviceError, resolve_device as resolve

    try:
        return resolve(device)
    except DeviceError as e:
        raise OptionError(str(e)) from None


def reject_options(opts: StylizeOptions, family: str, *names: str) -> None:
    """Raise ConfigError if any option in ``names`` differs from its default: the family ignores it."""
    set_ = [n for n in names if getattr(opts, n) != StylizeOptions.default(n)]
    if set_:
        flags = ", ".join(flag(n) for n in set_)
        raise ConfigError(f"model {family!r} does not support {flags}")


DEFAULT_MODEL = "gatys"  # the model of zoo stylize and zoo.stylize when neither --model nor --weights names one


def model_for(model: str | None, weights: str | None) -> str:
    """The model to run: ``model`` when given; else the family that ``weights`` names (an export folder or
    ``.safetensors`` by its architecture, a checkpoint by the network it fits, a pretrained tag by its family);
    else (no weights, or ``random``) :data:`DEFAULT_MODEL`. An :class:`OptionError` when weights name none."""
    if model:
        return model
    if weights is None or weights == "random":
        return DEFAULT_MODEL
    from pathlib import Path

    if not Path(weights).exists():
        from .registry import UnknownNameError

        try:
            return resolve(str(weights)).name  # a tag is its own model
        except UnknownNameError:
            raise OptionError(f"--weights {weights}: no such file or folder, and not a pretrained tag (zoo list "
                              "--pretrained)") from None
    from .loading import family_of_weights

    family = family_of_weights(weights)
    if family is None:
        raise OptionError(f"--weights {weights}: its model family cannot be told from the file; name it with "
                          "--model (zoo list)")
    return family


def resolve_family(opts: StylizeOptions) -> tuple[Resolved, StylizeOptions]:
    """The family of ``opts.model`` and ``opts`` with ``model`` the family's name: a pretrained tag
    (``johnson_candy``), or a family with a default tag (``adain``), brings its weights unless ``weights``
    says otherwise."""
    resolved = resolve(opts.model)
    return resolved, replace(opts, model=resolved.family.name, weights=opts.weights or resolved.weights)


def check_styles(model: str, stylizer: Stylizer, n_styles: int, style_weights: Sequence[float] | None,
                 masks: Sequence | None = None) -> None:
    """Refuse style images a model does not take, none where it needs some, or ``--style-weights`` or
    ``--masks`` whose count is not the number of styles (one line each, :class:`OptionError`)."""
    if stylizer.needs_style and not n_styles:
        raise OptionError(f"model {model!r} needs at least one --style image")
    if not stylizer.needs_style and n_styles:
        raise OptionError(f"model {model!r} does not take --style images")
    if style_weights is not None and len(style_weights) != n_styles:
        raise OptionError(f"--style-weights has {len(style_weights)} values for {n_styles} style images")
    if masks is not None and len(masks) != n_styles:
        raise OptionError(f"--masks: {len(masks)} masks for {n_styles} style images: give one mask per style")


def build_stylizer(opts: StylizeOptions) -> Stylizer:
    """The stylizer for ``opts.model``: a family name, or a pretrained tag (``johnson_candy``), which selects
    its family and, unless ``--weights`` says otherwise, its weights. Unknown names list the valid ones;
    options the family does not support are refused, naming the model as given."""
    given = opts.model
    resolved, opts = resolve_family(opts)
    family = resolved.family
    reject_options(opts, given, *(n for n in StylizeOptions.__dataclass_fields__ if n not in family.supports))
    return load(family.stylizer)(opts)


def available_memory(device: torch.device) -> int | None:
    """Bytes that can be allocated now on ``device`` (an accelerator's free memory; CPU: MemAvailable), or
    None (:func:`zoo.devices.available_memory`)."""
    from .devices import available_memory as free

    return free(device)


def check_pixels(option: str, value: int, height: int, width: int, max_pixels: int | None = None) -> None:
    """Refuse an output of ``height`` x ``width`` over the pixel limit (``max_pixels``, default zoo.io's),
    naming the ``option`` (and its ``value``) that asked for that size."""
    from .io import _max_pixels

    pixels, limit = height * width, _max_pixels(max_pixels)
    if pixels > limit:
        raise OptionError(f"{option} {value}: the output would be {width}x{height} = {pixels:,} pixels, over the "
                          f"limit of {limit:,} (use a smaller {option}, or raise the limit with --max-pixels or "
                          "ZOO_MAX_PIXELS)")


def check_output_size(opts: StylizeOptions, height: int, width: int, max_pixels: int | None = None) -> None:
    """Refuse, before any work, an output of ``height`` x ``width`` pixels that is over the pixel limit
    (``max_pixels``, default zoo.io's) or needs more memory than ``opts.device`` has available."""
    check_pixels("--size", opts.size or max(height, width), height, width, max_pixels)
    pixels = height * width
    what = f"the output would be {width}x{height} = {pixels:,} pixels"
    family = resolve_family(opts)[0].family
    per_pixel = family.bytes_per_pixel
    tiled = opts.tile is not None and max(height, width) > opts.tile
    window = opts.tile * opts.tile if tiled else 0  # one window of at most tile x tile pixels at a time
    fixed = 3 * 4 * 4 + family.state_bytes_per_pixel  # input, output and their copies; what tiling leaves whole
    need = (window or pixels) * per_pixel + pixels * fixed
    device = resolve_device(opts.device)
    free = available_memory(device)
    if free is not None and need > free:
        budget = (free - window * per_pixel) / (fixed + (0 if tiled else per_pixel))  # pixels that fit
        edge = int((max(budget, 0) * max(height, width) / min(height, width)) ** 0.5)
        fits = f"about {edge} px on the long edge fits" if edge >= 16 else "nothing this large fits"
        hint = " or --tile 1024" if takes(family, "tile") and not opts.tile else ""
        tile = f" with --tile {opts.tile}" if tiled else ""
        raise OptionError(f"--size {opts.size or max(height, width)}: {what}, which needs about "
                          f"{need / 2**30:.1f} GiB on {device}{tile}, and {free / 2**30:.1f} GiB are available "
                          f"({fits}); use a smaller --size{hint}")


def stylize(content: Tensor, styles: Sequence[Tensor] = (), model: str | None = None, **options) -> Tensor:
    """Stylise one content image (1, 3, H, W) in [0, 1] with ``model`` (a family or a pretrained tag; default:
    the family ``weights`` names, else gatys); options as :class:`StylizeOptions`.

    >>> out = zoo.stylize(content, model="johnson_candy")
    >>> out = zoo.stylize(content, [style], model="adain", weights="random")   # the smoke path, any family
    """
    from .io import long_edge_size

    check_image_tensor(content, "content")
    for i, style in enumerate(styles):
        check_image_tensor(style, f"styles[{i}]")
    opts = StylizeOptions(model=model_for(model, options.get("weights")), **options)
    check_output_size(opts, *long_edge_size(*content.shape[-2:], opts.size))
    stylizer = build_stylizer(opts)
    return stylizer(content, list(styles))


_RANGE_SLACK = 0.01  # resampling overshoots [0, 1] a little (bicubic): such images are still pictures


def check_image_tensor(image: Any, name: str) -> None:
    """Refuse, naming ``name``, what is not an RGB float image batch (N, 3, H, W) with finite values in
    [0, 1] -- the Python API's picture format -- instead of returning a wrong picture for it."""
    if not isinstance(image, Tensor):
        raise TypeError(f"{name}: expected a tensor (N, 3, H, W), got {type(image).__name__} (zoo.load_image "
                        "reads a file)")
    if image.ndim != 4 or image.shape[1] != 3:
        hint = " (add the batch dimension: image[None])" if image.ndim == 3 and image.shape[0] == 3 else ""
        raise ConfigError(f"{name}: expected an RGB image batch (N, 3, H, W), got shape {tuple(image.shape)}{hint}")
    if not image.is_floating_point():
        raise ConfigError(f"{name}: expected float values in [0, 1], got {image.dtype}"
                         + (" (image.float() / 255)" if image.dtype == torch.uint8 else ""))
    if not bool(torch.isfinite(image).all()):
        raise ConfigError(f"{name}: has NaN or infinite values")
    low, high = float(image.min()), float(image.max())
    if low < -_RANGE_SLACK or high > 1 + _RANGE_SLACK:
        hint = " (a 0-255 image: divide it by 255)" if high > 2 else ""
        raise ConfigError(f"{name}: values span [{low:.4g}, {high:.4g}], expected [0, 1]{hint}")

