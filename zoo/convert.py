"""Canonical checkpoints of the weights table converted on every use (``zoo.create_model(tag, pretrained=True)``
for a tag served from its reference implementation's file, :mod:`zoo.factory`).

The reference file is downloaded from its original URL into ``$TORCH_HOME/hub/checkpoints`` and verified
against the entry's pin (:func:`zoo.download.fetch_url`), read with ``torch.load(weights_only=True)`` (a
pickle holding anything but tensors and plain containers is refused:
:class:`~zoo.download.UnsafeCheckpointError`), converted by the converter named in the entry and loaded
strictly into its network, on every use: the original is the only cached file, so it is the only thing to
verify; there is no second, unpinnable cache to trust.

The network to load into is given by the caller (``make_net``), so this module imports no network and no
factory: it sits below them, beside :mod:`zoo.download`.
"""

from __future__ import annotations

import importlib
import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

from .checkpoint import load_strict
from .download import (ChecksumMismatchError, UnreadableDownloadError, UnsafeCheckpointError, WeightsUnavailableError,
                       canonical_download_path, fetch_url, move_aside, read_torch_bytes, redownload_advice)
from .pins import bytes_digests
from .weights import PretrainedWeights

if TYPE_CHECKING:
    from torch import Tensor, nn

__all__ = ["canonical_state_dict"]


def _resolve_converter(dotted: str) -> Callable[[Mapping[str, Tensor]], Mapping[str, Tensor]]:
    module_name, _, attr = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise WeightsUnavailableError(
            f"converter {dotted} is not available: module {module_name} cannot be imported ({e})"
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise WeightsUnavailableError(f"converter {dotted} is not available: {module_name} has no function {attr}")
    return fn


def _fetch_canonical(entry: PretrainedWeights, progress: bool) -> Path:
    c = entry.canonical
    assert c is not None
    return fetch_url(c.url, canonical_download_path(entry), c.pin, progress=progress,
                     what=f"pretrained weights {entry.tag!r} (the canonical checkpoint)")


def canonical_state_dict(entry: PretrainedWeights, progress: bool, make_net: Callable[[], nn.Module]
                         ) -> tuple[dict[str, Tensor], nn.Module]:
    """(state dict, network loaded with it): the canonical file, verified against its pin, read as plain
    tensors, converted and loaded strictly into ``make_net()`` (a network of the entry's config).

    A file without a pinned hash that cannot be read, converted or loaded is moved aside
    (:class:`~zoo.download.UnreadableDownloadError`), so that the next run downloads it afresh. A pinned file
    that verified but does not convert is a bug here, and keeps its traceback.
    """
    c = entry.canonical
    assert c is not None
    original = _fetch_canonical(entry, progress)  # verified
    try:
        return _convert(entry, original, make_net)
    except (WeightsUnavailableError, UnsafeCheckpointError, ValueError, KeyError, RuntimeError, EOFError) as e:
        if c.pin.pinned or not original.is_file():
            raise
        first = (str(e).strip().splitlines() or [""])[0][:1000]
        moved = move_aside(original)
        raise UnreadableDownloadError(
            f"pretrained weights {entry.tag!r}: {original} cannot be used ({first}); it has no pinned hash, "
            f"so it may be truncated or swapped; {moved}. {redownload_advice(c.url, original, '')}"
        ) from e


def _convert(entry: PretrainedWeights, original: Path, make_net: Callable[[], nn.Module]
             ) -> tuple[dict[str, Tensor], nn.Module]:
    c = entry.canonical
    assert c is not None
    raw = original.read_bytes()
    bad = c.pin.mismatch(bytes_digests(raw)) if c.pin.pinned else None
    if bad is not None:  # the bytes read are the bytes verified: refuse a file swapped in between
        raise ChecksumMismatchError(f"refusing to load {original}: it changed after it was verified ({bad})")
    what = str(original)
    if c.member is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                raw = zf.read(c.member)
        except KeyError:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = zf.namelist()
            raise WeightsUnavailableError(f"{original} has no member {c.member} (it has: {', '.join(names[:10])})") from None
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise WeightsUnavailableError(f"{original} is not a readable zip archive ({type(e).__name__})") from None
        what = f"{original}!{c.member}"
    state_dict = read_torch_bytes(raw, what)
    converted = dict(_resolve_converter(c.converter)(state_dict))
    net = make_net()
    load_strict(net, converted, source=f"{what} converted by {c.converter}")
    return converted, net
