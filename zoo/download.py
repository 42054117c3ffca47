"""Every file Stylezoo fetches from outside is fetched, verified and cached here (docs/hub.md).

* Every file is checked against a hash **pinned in the package** (:class:`zoo.pins.Pin`), from a source
  independent of the download (the host's published sha256, the git blob id of the original repository's
  tree at a pinned commit, or the sha256 several independent projects pin), each cited beside its
  constant. It is checked each time before it is read: a cached copy as much as a fresh download.
  Nothing written beside a cached file is trusted: a ``<file>.sha256`` record left there (by an earlier
  version, or by anyone) is ignored, with a one-line notice when it disagrees with the pin.
* A file for which no independent hash exists carries the reason instead (``Pin(unpinned=...)``, listed
  in docs/hub.md); it is used with a one-line warning on stderr, visible without ``-v``, once per
  process.
* :func:`fetch_url` downloads to a temporary name in the target folder (with a progress bar), checks the
  length and the pin, and only then renames the file into place: a failed or refused download leaves
  nothing behind. ``https://`` and ``file://`` URLs (a local mirror) are accepted, plain ``http://`` too
  (tests serve from 127.0.0.1), where the pin is the protection.
* A cached file that fails its pin (truncated, corrupted, swapped), or an unpinned one that cannot be
  read, is moved aside to ``<file>.rejected`` with a one-line error saying so and what to do; the next
  run downloads it afresh (or uses the good copy put in its place). A bad copy never blocks a good one.
* :func:`fetch_hub_file` serves a file of a Hugging Face Hub repository pinned to a commit, from the
  Hugging Face cache, and checks it against the Hub's LFS sha256 of that commit.
* A mismatch raises :class:`ChecksumMismatchError`, one line naming the file, the actual and expected
  hash (first 12 hex digits) and what to do. ``HF_HUB_OFFLINE=1`` (or ``TRANSFORMERS_OFFLINE=1``)
  forbids every download: a file that is not cached is then an error naming where to put it.

The files of pretrained weights of the weights table (:mod:`zoo.weights`, loaded by ``zoo.create_model(tag,
pretrained=True)``, :mod:`zoo.factory`):

* **published on the Hub**: ``hf_hub_download(repo_id, filename, revision=<pinned commit>)`` (:func:`hub_state_dict`).
  Only ``.safetensors`` files are fetched; the file's sha256 is compared with the table's before it is read.
* **canonical checkpoint**: the reference implementation's file, downloaded from its original URL into
  ``$TORCH_HOME/hub/checkpoints`` (:func:`canonical_download_path`) and verified by :func:`fetch_url`;
  :mod:`zoo.convert` converts it on every use.
* **not published**: :class:`NotPublishedError`, naming the recipe that trains the weights.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from .errors import ZooError
from .pins import SHORT as _SHORT
from .pins import Digests, Pin, coerce, file_digests
from .weights import PretrainedWeights, get_weights

if TYPE_CHECKING:
    from torch import Tensor

__all__ = [
    "WeightsUnavailableError", "ChecksumMismatchError", "UnreadableDownloadError", "sha256_file", "record_path",
    "rejected_path", "verify_file", "fetch_url", "fetch_hub_file", "torchvision_weights_file", "checkpoints_dir",
    "hf_cache_dir", "offline", "TORCHVISION_WEIGHTS", "NotPublishedError", "UnsafeCheckpointError", "converted_dir",
    "canonical_download_path", "hub_state_dict", "cached", "WEIGHTS_FILE", "CONFIG_FILE", "Pin", "read_torch_file",
    "read_torch_bytes", "move_aside", "redownload_advice",
]

# torchvision's weights that Stylezoo reads: {name: (url, pin)}. torchvision publishes only the first 8 hex
# digits of each file's sha256, in its name (``<name>-<prefix>.pth``; torch.hub checks them only when it
# downloads); the full sha256 pinned here begins with that prefix (the schema test checks it) and comes
# from sources independent of download.pytorch.org, cited with each.
TORCHVISION_WEIGHTS: dict[str, tuple[str, Pin | str]] = {
    "alexnet": ("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", Pin(
        sha256="7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
        source="Hugging Face LFS pointers of two mirrors of the file (huggingface.co CSWRY/VOSR and "
               "blanchon/image-gs-models-utils, torch_cache/torch/checkpoints/alexnet-owt-7be5be79.pth)")),
    "vgg16": ("https://download.pytorch.org/models/vgg16-397923af.pth", Pin(
        sha256="397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0", size=553433881,
        source="the Hugging Face LFS pointer of a mirror (huggingface.co Keiser41/mangaaa, "
               "model/vgg16-397923af.pth); the same sha256 and size in public projects' weight manifests")),
    "vgg19": ("https://download.pytorch.org/models/vgg19-dcbb9e9d.pth", Pin(
        sha256="dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44", size=574673361,
        source="pinned, with this size, by at least 8 independent public projects' weight manifests and "
               "download scripts (GitHub code search for the name and the prefix dcbb9e9d, 2026-12)")),
    # RAFT (torchvision.models.optical_flow): Raft_Large_Weights.C_T_SKHT_V2 and Raft_Small_Weights.C_T_V2,
    # the DEFAULT weights of torchvision 0.13 and later (zoo.flow).
    "raft_large": ("https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth", Pin(
        sha256="ff5fadd56d26b40647388883af1547351ea17868b765c05b27231e72dd16a322", size=21106607,
        source="pinned, with this size, by at least 10 independent public projects' manifests and loaders "
               "(GitHub code search for the prefix ff5fadd5, 2026-12)")),
    "raft_small": ("https://download.pytorch.org/models/raft_small_C_T_V2-01064c6d.pth", Pin(
        sha256="01064c6dba73b0fc9fc8edf772248560a00a3acfd62ac6677e9eeebad9680e27",
        source="pinned by at least 10 independent public projects' manifests and loaders "
               "(GitHub code search for the prefix 01064c6d, 2026-12)")),
}


class WeightsUnavailableError(ZooError, RuntimeError):
    """Pretrained weights are neither cached nor downloadable. The message says how to provide them."""


class ChecksumMismatchError(WeightsUnavailableError):
    """A downloaded or cached file whose content is not the pinned one. It is never loaded."""


class UnreadableDownloadError(WeightsUnavailableError):
    """A downloaded file without a pinned hash that cannot be read or converted; it was moved aside."""


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
# Checks
# --------------------------------------------------------------------------------------------------

def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a file, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record_path(path: str | os.PathLike) -> Path:
    """``<path>.sha256``: where earlier versions recorded a file's first-seen sha256. Never trusted now."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def rejected_path(path: str | os.PathLike) -> Path:
    """``<path>.rejected``: where a cached file that failed its check is moved aside."""
    path = Path(path)
    return path.with_name(path.name + ".rejected")


_told: set[str] = set()  # one-line notices already printed by this process


def _notice(key: str, line: str) -> None:
    """Print ``warning: <line>`` on stderr once per process (visible without -v: not a Python warning,
    which the CLI silences)."""
    if key in _told:
        return
    _told.add(key)
    print(f"warning: {line}", file=sys.stderr, flush=True)


def _stale_record(path: Path, pin: Pin, digests: Digests) -> None:
    """A ``<file>.sha256`` beside ``path`` is never trusted; one that disagrees with the pin is refused in one line."""
    rec = record_path(path)
    if not (pin.pinned and rec.is_file()):
        return
    # the sha256 the pin stands for: its own, or (a git blob pin) the file's when the file matches the pin
    expected = pin.sha256 or (digests.sha256 if pin.mismatch(digests) is None else None)
    try:
        words = rec.read_text(errors="replace").split()
    except OSError:
        return
    if expected is None or not words or words[0] != expected:
        seen = f"sha256 {words[0][:_SHORT]}..." if words else "nothing"
        _notice(f"record:{rec}", f"ignoring {rec}: it records {seen}, which is not the content pinned in Stylezoo "
                                 f"({pin.describe()}); checksums are never read from beside a file (delete it)")


def _warn_unpinned(path: Path, pin: Pin, what: str) -> None:
    _notice(f"unpinned:{path}", f"{what}: {path} is used unverified: {pin.unpinned} (docs/hub.md, "
                                f"'Files without a pinned hash'); compare it with a copy you trust")


def move_aside(path: Path) -> str:
    """Move ``path`` aside to ``<path>.rejected`` (replacing an earlier one); say so, in words."""
    dst = rejected_path(path)
    try:
        os.replace(path, dst)
    except OSError as e:  # a read-only cache: the user deletes it
        return f"it could not be moved aside ({type(e).__name__}: {e.strerror or e}): delete {path}"
    return f"it was moved aside to {dst}"


def verify_file(path: str | os.PathLike, expected: Pin | str | None = None, *, what: str, fix: str,
                quarantine: bool = False) -> str:
    """Check ``path`` against its pin before it is read; return its sha256.

    ``expected``: a :class:`Pin`, a full published sha256, or None (no pinned hash: the file is used with a
    warning). A mismatch raises :class:`ChecksumMismatchError` naming ``what`` and ``path`` and ending with
    ``fix`` (what to do); with ``quarantine`` the file is first moved aside to ``<path>.rejected``.
    """
    path = Path(path)
    pin = coerce(expected, str(path))
    digests = file_digests(path)
    _stale_record(path, pin, digests)
    bad = pin.mismatch(digests) if pin.pinned else None
    if bad is not None:
        moved = f"; {move_aside(path)}" if quarantine else ""
        raise ChecksumMismatchError(
            f"refusing to load {what}: {path} has {bad} (the hash pinned in Stylezoo): it is truncated, "
            f"corrupted or was tampered with and was not loaded{moved}. {fix}")
    if not pin.pinned:
        _warn_unpinned(path, pin, what)
    return digests.sha256


# --------------------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------------------

def _download(url: str, tmp: Path, progress: bool, name: str) -> None:
    """Stream ``url`` into ``tmp``. A short read (fewer bytes than announced) is an error."""
    from tqdm.auto import tqdm

    done = 0
    request = urllib.request.Request(url, headers={"User-Agent": "stylezoo"})
    with urllib.request.urlopen(request, timeout=60) as response, open(tmp, "wb") as out:
        size = response.headers.get("Content-Length")
        total = int(size) if size and size.isdigit() else None
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                  disable=not progress) as bar:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                done += len(block)
                bar.update(len(block))
    if total is not None and done != total:
        raise OSError(f"the download stopped after {done} of {total} bytes")


def _place(url: str, dst: Path, manual: str) -> str:
    return f"Download {url} on a machine with internet and copy it to {dst} (or set TORCH_HOME){manual}."


def redownload_advice(url: str, dst: Path, manual: str) -> str:
    """What to do about a bad cached file (now moved aside)."""
    if offline():
        return _place(url, dst, manual)
    return f"Run again to download {url} afresh, or copy the genuine file to {dst}{manual}."


def fetch_url(url: str, dst: str | os.PathLike, expected: Pin | str | None = None, *, what: str, manual: str = "",
              progress: bool = True) -> Path:
    """The verified file ``dst``, downloaded from ``url`` if it is not there yet (see the module doc).

    ``expected``: the file's :class:`Pin` (or its full sha256; None: no pinned hash, used with a warning).
    ``what`` names the file in messages, in the plural ("Caffe-normalised VGG19 weights": "... are not
    available: ..."); ``manual`` is the way to give a file by hand, appended to them ("; or pass
    --backbone-weights PATH").
    """
    dst, pin = Path(dst), coerce(expected, url)
    if dst.is_file():
        verify_file(dst, pin, what=what, fix=redownload_advice(url, dst, manual), quarantine=True)
        return dst
    if offline():
        raise WeightsUnavailableError(
            f"{what} are not available: {dst} is not cached and HF_HUB_OFFLINE=1 forbids downloading it. "
            f"{_place(url, dst, manual)}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.partial")
    try:
        try:
            _download(url, tmp, progress, dst.name)
        except Exception as e:  # URLError/HTTPError (OSError), http.client errors, timeouts, bad URLs
            first = (str(e).strip().splitlines() or [""])[0][:200]
            raise WeightsUnavailableError(
                f"{what} are not available: {dst} is not cached and could not be downloaded from {url} "
                f"({type(e).__name__}: {first}). {_place(url, dst, manual)}") from e
        bad = pin.mismatch(file_digests(tmp)) if pin.pinned else None
        if bad is not None:
            raise ChecksumMismatchError(
                f"refusing {what} downloaded from {url}: {bad} (the hash pinned in Stylezoo); nothing was saved. "
                f"Check the source (a changed upload, a proxy or login page answering for it, or tampering){manual}.")
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    if not pin.pinned:
        _warn_unpinned(dst, pin, what)
    return dst


def fetch_hub_file(repo_id: str, filename: str, revision: str, sha256: str, *, what: str, manual: str = "",
                   token: str | bool | None = None) -> Path:
    """``filename`` of the Hub repository ``repo_id`` at commit ``revision``, from the Hugging Face cache
    (downloaded there when missing and allowed), checked against ``sha256`` (the LFS sha256 at that commit)."""
    from huggingface_hub import hf_hub_download

    pin = coerce(sha256)
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
    verify_file(path, pin, what=f"{what} ({where})",
                fix=f"Delete the cache folder {cache / folder} and download again with {get}{manual}.")
    return path


def torchvision_weights_file(arch: str, *, what: str, manual: str = "", progress: bool = True) -> Path:
    """torchvision's weights ``arch`` (:data:`TORCHVISION_WEIGHTS`), verified, in ``$TORCH_HOME/hub/checkpoints``
    under the name torchvision gives them (a copy torchvision downloaded before is used, once verified)."""
    if arch not in TORCHVISION_WEIGHTS:
        raise ValueError(f"no torchvision weights known for {arch!r}; known: {', '.join(TORCHVISION_WEIGHTS)}")
    url, expected = TORCHVISION_WEIGHTS[arch]
    return fetch_url(url, checkpoints_dir() / url.rsplit("/", 1)[-1], expected, what=what, manual=manual,
                     progress=progress)


def read_torch_file(path: str | os.PathLike) -> dict[str, Tensor]:
    """A state dict of tensors from a torch file, read with ``torch.load(weights_only=True)``
    (:class:`UnsafeCheckpointError` for anything else)."""
    return read_torch_bytes(Path(path).read_bytes(), str(path))


# --------------------------------------------------------------------------------------------------
# Files of the weights table (zoo.weights): a Hub file, or the canonical checkpoint that zoo.convert
# converts. zoo.factory builds the networks that load them.
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
    """``$STYLEZOO_CACHE/converted/<tag>`` (default ``$TORCH_HOME/hub/stylezoo/converted/<tag>``), where
    earlier versions cached conversions. Nothing is read from or written there any more: a conversion
    cannot be checked against a pinned hash, so every use converts the verified original."""
    return _zoo_cache() / "converted" / tag


def canonical_download_path(entry: PretrainedWeights | str) -> Path:
    """Where the canonical file of ``entry`` is downloaded: ``$TORCH_HOME/hub/checkpoints/<file>``."""
    entry = get_weights(entry) if isinstance(entry, str) else entry
    if entry.canonical is None:
        raise ValueError(f"{entry.tag!r} is not served from a canonical checkpoint")
    return checkpoints_dir() / entry.canonical.filename


def _safetensors_from_bytes(data: bytes, what: str) -> dict[str, Tensor]:
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as e:  # truncated or not a safetensors file
        raise ValueError(f"{what}: not a readable safetensors file ({type(e).__name__}: {e})") from None


def read_torch_bytes(data: bytes, what: str) -> dict[str, Tensor]:
    """A state dict from torch-file bytes, with ``weights_only=True``: nothing else is unpickled."""
    import torch
    from torch import Tensor

    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except MemoryError:
        raise
    except Exception as e:  # pickle.UnpicklingError, RuntimeError, UnicodeDecodeError, EOFError...: bytes, not tensors
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


# --------------------------------------------------------------------------------------------------
# The Hub
# --------------------------------------------------------------------------------------------------

def hub_state_dict(entry: PretrainedWeights, token: str | bool | None) -> dict[str, Tensor]:
    """The state dict of a tag published on the Hub: its pinned file, verified, read from the bytes verified."""
    assert entry.revision is not None and entry.sha256 is not None  # validated by the table
    if not entry.filename.endswith(".safetensors"):
        raise ValueError(f"{entry.tag}: only .safetensors files are loaded from the Hub, not {entry.filename}")
    path = fetch_hub_file(entry.repo_id, entry.filename, entry.revision, entry.sha256,
                          what=f"pretrained weights {entry.tag!r}", token=token)
    return _safetensors_from_bytes(path.read_bytes(), str(path))


def cached(entry: PretrainedWeights) -> bool:
    """Whether the file of ``entry`` is in the cache already (``zoo list --pretrained``)."""
    if entry.published:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(entry.repo_id, entry.filename, cache_dir=hf_cache_dir(), revision=entry.revision)
        return isinstance(hit, str)
    if entry.canonical is not None:
        return canonical_download_path(entry).is_file()
    return False
