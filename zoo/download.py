"""Every file Stylezoo fetches from outside is fetched, verified and cached here (docs/hub.md).

* A file is verified each time before it is read: a cached copy as much as a fresh download.
* The expected checksum is the full sha256 published for the file (each constant cites where), or the
  sha256 prefix published in its name (torchvision's ``<name>-<prefix>.pth`` convention, which
  ``torch.hub`` checks only when it downloads). Where no full sha256 is published, the one seen the
  first time the file is verified on this machine is recorded beside it, in ``<file>.sha256``
  (``sha256sum`` format, so ``sha256sum -c <file>.sha256`` checks it too), and every later use and
  every re-download is checked against that record.
* :func:`fetch_url` downloads to a temporary name in the target folder, hashes while it streams (with a
  progress bar), checks the length and the checksum, and only then renames the file into place: a
  failed or refused download leaves nothing behind. ``https://`` and ``file://`` URLs (a local mirror)
  are accepted, plain ``http://`` too (tests serve from 127.0.0.1), where verification is the protection.
* :func:`fetch_hub_file` serves a file of a Hugging Face Hub repository pinned to a commit, from the
  Hugging Face cache, and checks it against the Hub's LFS sha256 of that commit.
* A mismatch raises :class:`ChecksumMismatchError`, one line naming the file, the actual and expected
  sha256 (first 12 hex digits) and what to do. ``HF_HUB_OFFLINE=1`` (or ``TRANSFORMERS_OFFLINE=1``)
  forbids every download: a file that is not cached is then an error naming where to put it.

Pretrained weights of the weights table (:mod:`zoo.weights`, loaded by ``zoo.create_model(tag,
pretrained=True)``, :mod:`zoo.factory`):

* **published on the Hub**: ``hf_hub_download(repo_id, filename, revision=<pinned commit>)``. Only
  ``.safetensors`` files are fetched; the file's sha256 is compared with the table's before it is read.
* **canonical checkpoint**: the reference implementation's file is downloaded from its original URL into
  ``$TORCH_HOME/hub/checkpoints`` and verified by :func:`fetch_url`, read with
  ``torch.load(weights_only=True)`` (a pickle holding anything but tensors and plain containers is
  refused: :class:`UnsafeCheckpointError`), converted by the importer named in the entry, loaded strictly
  into its network, and cached as safetensors under :func:`converted_dir`. The cached file's sha256 is
  recorded beside it and checked on every use.
* **not published**: :class:`NotPublishedError`, naming the recipe that trains the weights.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import pickle
import re
import urllib.request
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .fileio import write_bytes
from .errors import ZooError
from .weights import PretrainedWeights, get_weights

if TYPE_CHECKING:
    from torch import Tensor, nn

__all__ = [
    "WeightsUnavailableError", "ChecksumMismatchError", "sha256_file", "record_path", "verify_file",
    "fetch_url", "fetch_hub_file", "torchvision_weights_file", "checkpoints_dir", "hf_cache_dir", "offline",
    "TORCHVISION_WEIGHTS", "NotPublishedError", "UnsafeCheckpointError", "converted_dir", "canonical_download_path",
    "load_pretrained_state_dict", "pretrained_state", "safetensors_bytes", "cached", "WEIGHTS_FILE", "CONFIG_FILE",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_PREFIX = re.compile(r"[0-9a-f]{8,64}")
_SHORT = 12  # hex digits shown in messages

# torchvision's ImageNet weights that Stylezoo reads: {architecture: (url, sha256)}. torchvision publishes
# the first 8 hex digits of each file's sha256 in its name (torchvision/models/vgg.py, alexnet.py:
# ``IMAGENET1K_V1``), which is what is checked where no full sha256 is published.
TORCHVISION_WEIGHTS: dict[str, tuple[str, str]] = {
    # Full sha256 as Hugging Face's LFS pointers of two mirrors of this file record it (huggingface.co,
    # CSWRY/VOSR and blanchon/image-gs-models-utils, torch_cache|torch/checkpoints/alexnet-owt-7be5be79.pth);
    # it begins with the published prefix 7be5be79.
    "alexnet": ("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
                "7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02"),
    # Full sha256 as the LFS pointer of a mirror records it (huggingface.co, Keiser41/mangaaa,
    # model/vgg16-397923af.pth); it begins with the published prefix 397923af.
    "vgg16": ("https://download.pytorch.org/models/vgg16-397923af.pth",
              "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0"),
    # Only the prefix in the name is published; the full sha256 is recorded at first use.
    "vgg19": ("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", "dcbb9e9d"),
}


class WeightsUnavailableError(ZooError, RuntimeError):
    """Pretrained weights are neither cached nor downloadable. The message says how to provide them."""


class ChecksumMismatchError(WeightsUnavailableError):
    """A downloaded or cached file whose sha256 is not the expected one. It is never loaded."""


# --------------------------------------------------------------------------------------------------
# Environment, read at call time (huggingface_hub reads its constants once, at import)
# --------------------------------------------------------------------------------------------------

def _truthy(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set: never touch the network."""
    if "HF_HUB_OFFLINE" in os.environ:
        return _truthy(os.environ["HF_HUB_OFFLINE"])
    from huggingface_hub import constants

    return _truthy(os.environ.get("TRANSFORMERS_OFFLINE")) or bool(constants.HF_HUB_OFFLINE)


def hf_cache_dir() -> Path:
    """The Hugging Face cache: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return Path(os.path.expandvars(os.path.expanduser(env)))
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "huggingface")
    return Path(os.path.expandvars(os.path.expanduser(home))) / "hub"


def checkpoints_dir() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (default ``~/.cache/torch/hub/checkpoints``), where torch.hub keeps files."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


# --------------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a file, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_path(path: str | os.PathLike) -> Path:
    """Where the sha256 of ``path`` seen at its first download is recorded: ``<path>.sha256``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def _recorded(path: Path) -> str | None:
    rec = record_path(path)
    if not rec.is_file():
        return None
    words = rec.read_text().split()
    if not words or not _SHA256.fullmatch(words[0]):
        raise ChecksumMismatchError(
            f"{rec} is not a checksum record ('<sha256>  {path.name}'); delete it and {path}, then download again")
    return words[0]


def _needs_record(expected: str | None) -> bool:
    return expected is None or len(expected) < 64


def _mismatch(digest: str, path: Path, expected: str | None) -> tuple[str, str, bool] | None:
    """None if ``digest`` is the one expected for ``path``, else (expected value, where it comes from,
    whether that is the record of the first download)."""
    if expected is not None and not digest.startswith(expected):
        return expected, ("its published sha256" if len(expected) == 64
                          else "the sha256 prefix published in its name"), False
    if _needs_record(expected):
        recorded = _recorded(path)
        if recorded is not None and recorded != digest:
            return recorded, f"the sha256 recorded at its first download in {record_path(path)}", True
    return None


def _accept(digest: str, path: Path, expected: str | None, source: str) -> None:
    """Record the first-seen sha256 of a file that has no full published one."""
    if not _needs_record(expected) or _recorded(path) is not None:
        return
    rec = record_path(path)
    tmp = rec.with_name(f".{rec.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{digest}  {path.name}\n")
    os.replace(tmp, rec)
    if expected is None:
        warnings.warn(f"{source} has no published checksum: recorded the sha256 of {path} ({digest[:_SHORT]}...) "
                      f"in {rec}; every later use is checked against it", stacklevel=4)


def _well_formed(expected: str | None) -> str | None:
    if expected is not None and not _PREFIX.fullmatch(expected):
        raise ValueError(f"expected sha256 {expected!r} is not 8 to 64 lower-case hex digits")
    return expected


def verify_file(path: str | os.PathLike, expected: str | None = None, *, what: str, fix: str) -> str:
    """Check ``path`` before it is read and return its sha256.

    ``expected``: the full published sha256, a published prefix, or None. Without a full one, the sha256
    recorded beside the file is checked too (and recorded now if there is none yet). A mismatch raises
    :class:`ChecksumMismatchError` naming ``what`` and ``path``, ending with ``fix`` (what to do).
    """
    path, expected = Path(path), _well_formed(expected)
    digest = sha256_file(path)
    bad = _mismatch(digest, path, expected)
    if bad is not None:
        again = f" If the source changed on purpose, delete {record_path(path)} as well." if bad[2] else ""
        raise ChecksumMismatchError(
            f"refusing to load {what}: {path} has sha256 {digest[:_SHORT]}..., expected {bad[0][:_SHORT]}... "
            f"({bad[1]}); the file is corrupted or was tampered with and was not loaded. {fix}{again}")
    _accept(digest, path, expected, str(path))
    return digest


# --------------------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------------------

def _download(url: str, tmp: Path, progress: bool, name: str) -> str:
    """Stream ``url`` into ``tmp``; return its sha256. A short read (fewer bytes than announced) is an error."""
    from tqdm.auto import tqdm

    h, done = hashlib.sha256(), 0
    request = urllib.request.Request(url, headers={"User-Agent": "stylezoo"})
    with urllib.request.urlopen(request, timeout=60) as response, open(tmp, "wb") as out:
        size = response.headers.get("Content-Length")
        total = int(size) if size and size.isdigit() else None
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                  disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                h.update(block)
                done += len(block)
                bar.update(len(block))
    if total is not None and done != total:
        raise OSError(f"the download stopped after {done} of {total} bytes")
    return h.hexdigest()


def fetch_url(url: str, dst: str | os.PathLike, expected: str | None = None, *, what: str, manual: str = "",
              progress: bool = True) -> Path:
    """The verified file ``dst``, downloaded from ``url`` if it is not there yet (see the module doc).

    ``what`` names the file in messages, in the plural ("Caffe-normalised VGG19 weights": "... are not
    available: ..."); ``manual`` is the way to give a file by hand, appended to them ("; or pass
    --backbone-weights PATH").
    """
    dst, expected = Path(dst), _well_formed(expected)
    if dst.is_file():
        verify_file(dst, expected, what=what, fix=f"Delete it and download {url} again{manual}.")
        return dst
    place = f"Download {url} on a machine with internet and copy it to {dst} (or set TORCH_HOME){manual}."
    if offline():
        raise WeightsUnavailableError(
            f"{what} are not available: {dst} is not cached and HF_HUB_OFFLINE=1 forbids downloading it. {place}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.partial")
    try:
        try:
            digest = _download(url, tmp, progress, dst.name)
        except Exception as e:  # URLError/HTTPError (OSError), http.client errors, timeouts, bad URLs
            first = (str(e).strip().splitlines() or [""])[0][:200]
            raise WeightsUnavailableError(
                f"{what} are not available: {dst} is not cached and could not be downloaded from {url} "
                f"({type(e).__name__}: {first}). {place}") from e
        bad = _mismatch(digest, dst, expected)
        if bad is not None:
            trust = f"; if the new file is genuine, delete {record_path(dst)} and download again" if bad[2] else ""
            raise ChecksumMismatchError(
                f"refusing {what} downloaded from {url}: sha256 {digest[:_SHORT]}..., expected "
                f"{bad[0][:_SHORT]}... ({bad[1]}); nothing was saved. Check the source (a changed upload, a "
                f"proxy or login page answering for it, or tampering){trust}{manual}.")
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    _accept(digest, dst, expected, url)
    return dst


def fetch_hub_file(repo_id: str, filename: str, revision: str, sha256: str, *, what: str, manual: str = "",
                   token: str | bool | None = None) -> Path:
    """``filename`` of the Hub repository ``repo_id`` at commit ``revision``, from the Hugging Face cache
    (downloaded there when missing and allowed), checked against ``sha256`` (the LFS sha256 at that commit)."""
    from huggingface_hub import hf_hub_download

    if not _SHA256.fullmatch(sha256 or ""):
        raise ValueError(f"{repo_id}/{filename}: a Hub file needs its full sha256, got {sha256!r}")
    cache, off = hf_cache_dir(), offline()
    where = f"{repo_id}/{filename} (revision {revision})"
    get = f"`hf download {repo_id} {filename} --revision {revision}`"
    folder = f"models--{repo_id.replace('/', '--')}"
    try:
        path = Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache,
                                    local_files_only=off, token=token))
    except Exception as e:  # huggingface_hub raises several types: not cached, offline, HTTP, network
        if off:
            raise WeightsUnavailableError(
                f"{what} are not available: {where} is not in the Hugging Face cache {cache} and "
                f"HF_HUB_OFFLINE=1 forbids downloading it. On a machine with internet run {get} and copy its cache folder {folder} "
                f"into {cache} (or point HF_HUB_CACHE at it){manual}.") from e
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise WeightsUnavailableError(
            f"{what} are not available: {where} could not be downloaded ({type(e).__name__}: {first}). "
            f"Check the network, or run {get} where there is one and copy the cache to {cache}{manual}.") from e
    verify_file(path, sha256, what=f"{what} ({where})",
                fix=f"Delete the cache folder {cache / folder} and download again with {get}{manual}.")
    return path


def torchvision_weights_file(arch: str, *, what: str, manual: str = "", progress: bool = True) -> Path:
    """torchvision's ImageNet weights of ``arch`` (:data:`TORCHVISION_WEIGHTS`), verified, in
    ``$TORCH_HOME/hub/checkpoints`` under the name torchvision gives them (a copy torchvision downloaded
    before is used as is, once verified)."""
    if arch not in TORCHVISION_WEIGHTS:
        raise ValueError(f"no torchvision weights known for {arch!r}; known: {', '.join(TORCHVISION_WEIGHTS)}")
    url, expected = TORCHVISION_WEIGHTS[arch]
    return fetch_url(url, checkpoints_dir() / url.rsplit("/", 1)[-1], expected, what=what, manual=manual,
                     progress=progress)


# --------------------------------------------------------------------------------------------------
# Pretrained weights of the weights table (zoo.weights): from the Hub, or converted from their
# canonical checkpoint and cached as safetensors. zoo.factory builds the networks that load them.
# --------------------------------------------------------------------------------------------------

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


class NotPublishedError(WeightsUnavailableError):
    """``pretrained=True`` on a tag whose weights are not published; the message names the recipe."""


class UnsafeCheckpointError(ZooError, ValueError):
    """A torch file that ``torch.load(weights_only=True)`` refuses: it pickles more than tensors."""


def _zoo_cache() -> Path:
    import torch

    env = os.environ.get("STYLEZOO_CACHE")
    return Path(env).expanduser() if env else Path(torch.hub.get_dir()) / "stylezoo"


def converted_dir(tag: str) -> Path:
    """Where the safetensors conversion of a canonical checkpoint is cached:
    ``$STYLEZOO_CACHE/converted/<tag>`` (default ``$TORCH_HOME/hub/stylezoo/converted/<tag>``)."""
    return _zoo_cache() / "converted" / tag


def canonical_download_path(entry: PretrainedWeights | str) -> Path:
    """Where the canonical file of ``entry`` is downloaded: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    entry = get_weights(entry) if isinstance(entry, str) else entry
    if entry.canonical is None:
        raise ValueError(f"{entry.tag!r} is not served from a canonical checkpoint")
    return checkpoints_dir() / entry.canonical.filename


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _safetensors_from_bytes(data: bytes, what: str) -> dict[str, Tensor]:
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as e:  # truncated or not a safetensors file
        raise ValueError(f"{what}: not a readable safetensors file ({type(e).__name__}: {e})") from None


def _torch_load_weights_only(data: bytes, what: str) -> dict[str, Tensor]:
    """A state dict from torch-file bytes, with ``weights_only=True``: nothing else is unpickled."""
    import torch
    from torch import Tensor

    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, TypeError, ValueError, EOFError) as e:
        first = (str(e).strip().splitlines() or [""])[0][:300]
        raise UnsafeCheckpointError(
            f"{what}: refused: torch.load(weights_only=True) cannot read it as plain tensors "
            f"({type(e).__name__}: {first}). Stylezoo never unpickles arbitrary objects; convert the file "
            f"to a state dict of tensors (or safetensors) with code you trust."
        ) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise UnsafeCheckpointError(f"{what}: expected a state dict of tensors, got {type(obj).__name__}")
    return dict(obj)


def safetensors_bytes(state_dict: Mapping[str, Tensor], arch: str, config: Mapping[str, Any],
                       extra: Mapping[str, str] | None = None) -> bytes:
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    meta = {"format": "pt", "architecture": arch, "config": json.dumps(dict(config), sort_keys=True)}
    meta.update(extra or {})
    return _canonical_header(save(tensors, metadata=meta))


def _canonical_header(data: bytes) -> bytes:
    """The same safetensors file with its JSON header written with sorted keys.

    safetensors writes the metadata in hash-map order, which changes from run to run; sorting it makes
    an export byte-for-byte reproducible, so the same weights always have the same sha256. The data
    offsets are explicit in the header, so the tensor bytes are untouched.
    """
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    return len(text).to_bytes(8, "little") + text + data[8 + n:]


def load_pretrained_state_dict(entry: PretrainedWeights | str, token: str | bool | None = None,
                               progress: bool = True) -> dict[str, Tensor]:
    """The verified state dict of a tag: from the Hub when published, else from its canonical source.

    Raises :class:`NotPublishedError` (naming the recipe) for weights that are not published,
    :class:`ChecksumMismatchError` for a file whose sha256 is wrong, and
    :class:`~zoo.backbone.WeightsUnavailableError` when a file is neither cached nor downloadable.
    """
    entry = get_weights(entry) if isinstance(entry, str) else entry
    return pretrained_state(entry, token, progress, None)[0]


def pretrained_state(entry: PretrainedWeights, token: str | bool | None, progress: bool,
                      make_net: Callable[[], nn.Module] | None) -> tuple[dict[str, Tensor], nn.Module | None]:
    if entry.published:
        return _hub_state_dict(entry, token), None
    if entry.canonical is not None:
        return _canonical_state_dict(entry, progress, make_net)
    raise NotPublishedError(
        f"pretrained weights {entry.tag!r} are not published yet. Train them with "
        f"`python -m zoo.fit {entry.recipe}` (see docs/hub.md), export the checkpoint with "
        f"`zoo publish runs/.../last.ckpt --repo-id {entry.repo_id} --dry-run DIR` and load it with "
        f"`zoo.create_model({entry.tag!r}, pretrained=DIR)`; pretrained=False gives random weights."
    )


# --------------------------------------------------------------------------------------------------
# The Hub
# --------------------------------------------------------------------------------------------------

def _hub_state_dict(entry: PretrainedWeights, token: str | bool | None) -> dict[str, Tensor]:
    assert entry.revision is not None and entry.sha256 is not None  # validated by the table
    if not entry.filename.endswith(".safetensors"):
        raise ValueError(f"{entry.tag}: only .safetensors files are loaded from the Hub, not {entry.filename}")
    path = fetch_hub_file(entry.repo_id, entry.filename, entry.revision, entry.sha256,
                          what=f"pretrained weights {entry.tag!r}", token=token)
    return _safetensors_from_bytes(path.read_bytes(), str(path))


# --------------------------------------------------------------------------------------------------
# Canonical checkpoints
# --------------------------------------------------------------------------------------------------

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
    return fetch_url(c.url, canonical_download_path(entry), c.sha256, progress=progress,
                     what=f"pretrained weights {entry.tag!r} (the canonical checkpoint)")


def _canonical_state_dict(entry: PretrainedWeights, progress: bool, make_net: Callable[[], nn.Module] | None
                          ) -> tuple[dict[str, Tensor], nn.Module | None]:
    """(state dict, None) from the converted cache, or (state dict, network loaded with it) after a
    fresh conversion, which is checked by loading it strictly into ``make_net()`` (default: the entry's
    config) before it is cached."""
    c = entry.canonical
    assert c is not None
    folder = converted_dir(entry.tag)
    st_path, record_path = folder / WEIGHTS_FILE, folder / "source.json"
    again = f"Delete {folder} to convert the canonical checkpoint again."
    if st_path.is_file():
        try:
            expected = json.loads(record_path.read_text())["sha256"]
            if not (isinstance(expected, str) and len(expected) == 64):
                raise ValueError(expected)
        except (OSError, ValueError, KeyError, TypeError):
            raise ChecksumMismatchError(
                f"refusing to load {st_path}: its checksum record {record_path} is missing or unreadable. {again}"
            ) from None
        verify_file(st_path, expected, what=f"converted weights {entry.tag!r}", fix=again)
        return _safetensors_from_bytes(st_path.read_bytes(), str(st_path)), None

    original = _fetch_canonical(entry, progress)  # verified
    raw = original.read_bytes()
    digest = _sha256(raw)
    what = str(original)
    if c.member is not None:
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                raw = zf.read(c.member)
        except KeyError:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                names = zf.namelist()
            raise WeightsUnavailableError(
                f"{original} has no member {c.member} (it has: {', '.join(names[:10])}); delete it and "
                f"download {c.url} again."
            ) from None
        except zipfile.BadZipFile:
            raise WeightsUnavailableError(f"{original} is not a zip archive; delete it and download {c.url} again.") from None
        what = f"{original}!{c.member}"
    state_dict = _torch_load_weights_only(raw, what)
    converter = _resolve_converter(c.converter)
    converted = dict(converter(state_dict))
    # Check the conversion against the network before caching it: only loadable weights are cached.
    from .checkpoint import load_strict

    if make_net is None:
        from .factory import build_network

        net = build_network(entry.arch, entry.config_dict(), f"pretrained weights {entry.tag!r}")
    else:
        net = make_net()
    load_strict(net, converted, source=f"{what} converted by {c.converter}")
    data = safetensors_bytes(converted, entry.arch, entry.config_dict(),
                              {"source": c.url, "converter": c.converter})
    write_bytes(st_path, data)
    write_bytes(folder / CONFIG_FILE, json.dumps(entry.config_dict(), sort_keys=True, indent=2).encode())
    write_bytes(record_path, json.dumps({
        "tag": entry.tag, "url": c.url, "member": c.member, "original_sha256": digest,
        "converter": c.converter, "sha256": _sha256(data),
    }, indent=2).encode())
    return _safetensors_from_bytes(data, str(st_path)), net


def cached(entry: PretrainedWeights) -> bool:
    if entry.published:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(entry.repo_id, entry.filename, cache_dir=hf_cache_dir(), revision=entry.revision)
        return isinstance(hit, str)
    if entry.canonical is not None:
        return (converted_dir(entry.tag) / WEIGHTS_FILE).is_file() or canonical_download_path(entry).is_file()
    return False
