"""Data by name: a Hugging Face Hub dataset id at a pinned revision, or a file by URL and sha256, as a local
folder of verified image files (docs/data.md). This module: the Hub; :mod:`zoo.data.urls`: files by URL;
:mod:`zoo.data.sources`: the entry points the data modules call (``data_folder``, ``data_file``).

A data option of a recipe (``--data.root``, ``--data.content_dir``, ``--data.style`` ...) takes a local path,
as before, or one of:

``hf://datasets/ORG/NAME[@REVISION][/PART][#COLUMN]``
    A Hub dataset repository. ``REVISION`` is a commit sha (what the recipes pin), a branch or a tag (then
    resolved to its commit once, on first use, and recorded, so later runs, offline ones included, use
    that same commit); none means ``main``, resolved the same way. ``PART`` chooses the images:

    * a folder of image files in the repository (``trainA`` of a repository laid out like a local
      CycleGAN folder), or
    * a split of a parquet dataset (the layout of most Hub image datasets: ``data/<split>-*.parquet`` or
      ``<config>/<split>/*.parquet``), whose image column is ``COLUMN`` or the one image column there is.
      CycleGAN names map onto the Hub's CycleGAN copies: ``trainA`` is split ``train``, column ``imageA``
      (``huggan/horse2zebra``, ``huggan/selfie2anime``), where the repository has no ``trainA`` folder.

    Default ``PART``: split ``train``.

``https://...#sha256=HEX`` (optionally ``&path=FOLDER/IN/ARCHIVE``)
    A file from its original URL, checked against the sha256 (``zoo.download.fetch_url``: progress bar,
    temporary name, nothing kept on a mismatch). Without ``sha256=`` the sha256 seen at the first download
    is recorded and every later use is checked against it. A ``.zip`` with ``path=`` is unpacked once and
    the folder ``path`` inside it is the data.

What happens on first use (:func:`zoo.data.sources.data_folder`): the repository's file list at the commit is
read from the Hub API (``list_repo_tree``) and recorded; each file needed is downloaded into the Hugging Face
cache in its own layout (``$HF_HUB_CACHE``: progress bar with size and time left, an interrupted download
resumed: :mod:`zoo.data.fetch`), and verified against the sha256 the Hub publishes for it at that commit (LFS
files) or its git blob id (small files) before it is used; a file that does not match is deleted from the
cache, downloaded once more, and refused if it still does not match. Images of parquet
files are written out as image files. The verified images go to
``$HF_HUB_CACHE/stylezoo-data/ORG--NAME/<commit>/<PART>/``, one folder per file of the repository, each
renamed into place only when complete: a folder there is whole, a run killed half way leaves nothing a
later run trusts, and a later run only fetches what is missing. ``limit`` (``--data.limit=N``) fetches only
the files needed for the first N images (one parquet shard holds many), for smoke runs and quick
fine-tunes; the data modules then use those N images.

Offline (``HF_HUB_OFFLINE=1``) or with the Hub unreachable, data already there is used; anything missing is
one line (:class:`DatasetUnavailableError`) naming the dataset id, the revision and the command or folder
that provides it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..download import hf_cache_dir, offline
from ..fileio import write_bytes
from ..io import IMAGE_EXTENSIONS
from .folder import EmptyFolderError
from ..errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["HUB_PREFIX", "HubDataset", "DatasetUnavailableError", "DatasetChecksumError", "is_remote", "parse_hub",
           "join", "store_dir", "describe", "Plan", "hub_plan", "hub_folder"]

HUB_PREFIX = "hf://datasets/"
_COMMIT = re.compile(r"[0-9a-f]{40}")
_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_CYCLEGAN = re.compile(r"(train|test)([AB])")


class DatasetUnavailableError(EmptyFolderError):
    """Data named by a Hub id or URL that is neither here nor downloadable; one line naming the dataset id,
    the revision and how to provide it."""


class DatasetChecksumError(DatasetUnavailableError):
    """A downloaded data file whose checksum is not the one the Hub publishes for it; it was deleted."""


@dataclass(frozen=True)
class HubDataset:
    """``hf://datasets/<repo_id>@<revision>/<part>#<column>`` parsed."""

    repo_id: str
    revision: str | None = None
    part: str = ""
    column: str | None = None

    def __str__(self) -> str:
        rev = f"@{self.revision}" if self.revision else ""
        part = f"/{self.part}" if self.part else ""
        col = f"#{self.column}" if self.column else ""
        return f"{HUB_PREFIX}{self.repo_id}{rev}{part}{col}"


def is_remote(source: Any) -> bool:
    """Whether a data option names Hub data or a URL (else it is a local path)."""
    return isinstance(source, str) and (source.startswith("hf://") or source.startswith(("https://", "http://")))


def parse_hub(source: str) -> HubDataset:
    """Parse ``hf://datasets/ORG/NAME[@REV][/PART][#COLUMN]`` (``ValueError`` naming the text if malformed)."""
    if not source.startswith(HUB_PREFIX):
        raise ConfigError(f"{source}: a Hub dataset is written hf://datasets/ORG/NAME[@REVISION][/PART][#COLUMN]")
    rest, _, column = source[len(HUB_PREFIX):].partition("#")
    parts = rest.strip("/").split("/")
    if len(parts) < 2:
        raise ConfigError(f"{source}: a Hub dataset id has an organisation and a name (hf://datasets/ORG/NAME)")
    name, _, revision = parts[1].partition("@")
    repo_id = f"{parts[0]}/{name}"
    if not _ID.fullmatch(repo_id) or ".." in repo_id:
        raise ConfigError(f"{source}: {repo_id!r} is not a Hub dataset id")
    if revision and (not re.fullmatch(r"[\w.-]+", revision) or ".." in revision):
        raise ConfigError(f"{source}: {revision!r} is not a revision (a commit sha, a branch or a tag)")
    if ".." in parts[2:]:
        raise ConfigError(f"{source}: a part of a dataset cannot go up a folder ('..')")
    return HubDataset(repo_id, revision or None, "/".join(p for p in parts[2:] if p), column or None)


def join(source: str | os.PathLike, name: str) -> str | Path:
    """``source/name`` for a local folder or a Hub dataset (whose part becomes ``name``)."""
    if isinstance(source, str) and source.startswith(HUB_PREFIX):
        ds = parse_hub(source)
        part = f"{ds.part}/{name}" if ds.part else name
        return str(HubDataset(ds.repo_id, ds.revision, part, ds.column))
    return Path(os.path.expanduser(os.fspath(source))) / name


def describe(source: str) -> str:
    """How a remote source is named in messages: the dataset id and revision, or the URL."""
    if source.startswith(HUB_PREFIX):
        ds = parse_hub(source)
        return f"{ds.repo_id} (revision {ds.revision or 'main'}{', ' + ds.part if ds.part else ''})"
    return source.split("#", 1)[0]


def store_dir() -> Path:
    """Where verified data lives: ``$HF_HUB_CACHE/stylezoo-data``."""
    return hf_cache_dir() / "stylezoo-data"


def _endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT") or None


def _api():
    from huggingface_hub import HfApi

    return HfApi(endpoint=_endpoint())


def _first_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:200]}"


def _unavailable(ds: HubDataset, revision: str | None, why: str) -> DatasetUnavailableError:
    rev = revision or ds.revision or "main"
    source = HubDataset(ds.repo_id, rev, ds.part, ds.column)
    return DatasetUnavailableError(
        f"dataset {ds.repo_id} (revision {rev}) is not available: {why}. On a machine with internet run "
        f"`python -m zoo.data.sources {source}` (or the same zoo command once) and copy {hf_cache_dir()} here "
        f"(or point HF_HUB_CACHE at the copy), or pass a local folder instead (for example --data.root=PATH or "
        f"--data.content_dir=PATH).")


# ------------------------------------------------------------------------------------------ the Hub
def _repo_store(repo_id: str) -> Path:
    return store_dir() / repo_id.replace("/", "--")


def resolve_revision(ds: HubDataset) -> str:
    """The commit sha of ``ds.revision`` (a sha as is; a branch or tag as recorded at first use)."""
    if ds.revision and _COMMIT.fullmatch(ds.revision):
        return ds.revision
    ref = ds.revision or "main"
    record = _repo_store(ds.repo_id) / "refs" / ref.replace("/", "--")
    if record.is_file():
        return record.read_text().strip()
    if offline():
        raise _unavailable(ds, ref, f"its commit has not been resolved on this machine and HF_HUB_OFFLINE=1 "
                                    f"forbids asking the Hub")
    try:
        sha = _api().dataset_info(ds.repo_id, revision=ref).sha
    except Exception as e:  # noqa: BLE001 - network, HTTP, not found: one line
        raise _unavailable(ds, ref, f"the Hub did not answer ({_first_line(e)})") from None
    if not sha or not _COMMIT.fullmatch(sha):
        raise _unavailable(ds, ref, f"the Hub gave no commit for revision {ref!r}")
    record.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(record, (sha + "\n").encode(), overwrite=True)
    log.info("dataset %s: revision %s is commit %s (recorded in %s)", ds.repo_id, ref, sha, record)
    return sha


def repo_files(ds: HubDataset, sha: str) -> list[dict]:
    """Every file of the repository at commit ``sha``: path, size, sha256 (LFS files) and git blob id;
    read from the Hub once and recorded in ``<store>/<commit>/files.json``."""
    record = _repo_store(ds.repo_id) / sha / "files.json"
    if record.is_file():
        return json.loads(record.read_text())
    if offline():
        raise _unavailable(ds, sha, "its file list is not on this machine and HF_HUB_OFFLINE=1 forbids asking the Hub")
    try:
        entries = _api().list_repo_tree(ds.repo_id, recursive=True, revision=sha, repo_type="dataset")
        files = [{"path": f.path, "size": f.size, "blob_id": f.blob_id,
                  "sha256": f.lfs.sha256 if getattr(f, "lfs", None) is not None else None}
                 for f in entries if hasattr(f, "blob_id")]
    except Exception as e:  # noqa: BLE001
        raise _unavailable(ds, sha, f"its file list could not be read from the Hub ({_first_line(e)})") from None
    files.sort(key=lambda f: f["path"])
    record.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(record, json.dumps(files, indent=0).encode(), overwrite=True)
    return files


def _is_image(path: str) -> bool:
    name = PurePosixPath(path).name
    return PurePosixPath(path).suffix.lower() in IMAGE_EXTENSIONS and not name.startswith(".")


def plan(ds: HubDataset, files: list[dict]) -> tuple[str, list[dict], str | None]:
    """(layout, files, column): ``("images", image files under PART, None)`` or ``("parquet", the parquet
    files of the split, image column or None)``."""
    prefix = ds.part.strip("/")
    files = [f for f in files if ".." not in PurePosixPath(f["path"]).parts and not f["path"].startswith("/")]
    under = [f for f in files if _is_image(f["path"]) and (not prefix or f["path"].startswith(prefix + "/"))]
    if under:
        return "images", under, None
    split, column = prefix or "train", ds.column
    cyclegan = _CYCLEGAN.fullmatch(split)
    if cyclegan and not any(f["path"].startswith(split + "/") for f in files):
        split, column = cyclegan.group(1), column or f"image{cyclegan.group(2)}"
    tail = split.rsplit("/", 1)[-1]
    parquet = [f for f in files if f["path"].endswith(".parquet") and (
        PurePosixPath(f["path"]).name.startswith(f"{tail}-") or PurePosixPath(f["path"]).stem == tail
        or f"/{split}/" in "/" + f["path"])]
    if not parquet:
        raise DatasetUnavailableError(
            f"dataset {ds.repo_id}: no image files under {prefix or '/'} and no parquet files of split {split!r} "
            f"(it has: {', '.join(sorted({f['path'].split('/')[0] for f in files}))[:300]})")
    return "parquet", parquet, column


def _git_blob_sha1(path: Path) -> str:
    h = hashlib.sha1()
    h.update(b"blob %d\0" % path.stat().st_size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_verified(ds: HubDataset, sha: str, entry: dict) -> Path:
    """One file of the repository at ``sha``, from the Hugging Face cache (downloaded when missing and
    allowed), checked against the Hub's sha256 (LFS) or git blob id before it is returned. A file that does
    not match is removed from the cache (so nothing trusts it later); a cached copy that went bad is
    downloaded once more when that is allowed, and a download that does not match is refused."""
    name = entry["path"]
    expected = entry.get("sha256") or entry["blob_id"]
    for attempt in (1, 2):
        path = _download(ds, sha, entry)
        actual = _sha256(path) if entry.get("sha256") else _git_blob_sha1(path)
        if actual == expected:
            return path
        blob = path.resolve()
        path.unlink(missing_ok=True)
        blob.unlink(missing_ok=True)
        if offline() or attempt == 2:
            break
        log.warning("%s of dataset %s did not match its checksum; downloading it again", name, ds.repo_id)
    raise DatasetChecksumError(
        f"refusing {name} of dataset {ds.repo_id} (revision {sha}): its checksum is {actual[:12]}..., the Hub "
        f"publishes {expected[:12]}... for that commit; the file was deleted from the cache and nothing was kept "
        f"(a changed mirror, a proxy answering for the Hub, or a disk fault); run again to download it afresh")


def _download(ds: HubDataset, sha: str, entry: dict) -> Path:
    """The file in the Hugging Face cache (``hf download``'s copy or ours), downloaded (resumably) when missing
    and allowed."""
    from .fetch import download_resumable, hub_cache_paths

    name = entry["path"]
    link = hub_cache_paths(hf_cache_dir(), ds.repo_id, sha, entry)[1]
    if link.exists():
        return link
    if offline():
        raise _unavailable(ds, sha, f"{name} is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids "
                                    "downloading it")
    try:
        return download_resumable(hf_cache_dir(), ds.repo_id, sha, entry, _endpoint())
    except Exception as e:  # noqa: BLE001 - network, HTTP: one line; the partial file stays, to be resumed
        raise _unavailable(ds, sha, f"{name} could not be downloaded ({_first_line(e)}); run again to resume") from None


def _image_suffix(data: bytes, name: str | None) -> str | None:
    for magic, suffix in ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG", ".png"), (b"GIF8", ".gif"), (b"BM", ".bmp")):
        if data.startswith(magic):
            return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    suffix = PurePosixPath(name).suffix.lower() if name else ""
    return suffix if suffix in IMAGE_EXTENSIONS else None


def _image_columns(schema) -> list[str]:
    import pyarrow as pa

    return [f.name for f in schema if pa.types.is_struct(f.type) and f.type.get_field_index("bytes") >= 0]


def _extract_parquet(ds: HubDataset, path: Path, column: str | None, out: Path) -> int:
    """Write the images of one verified parquet file into the folder ``out`` (made whole, then renamed)."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetUnavailableError(
            f"dataset {ds.repo_id} is stored as parquet files; reading them needs pyarrow: pip install \"stylezoo[train]\" "
            "(or pass a local folder of images)") from None
    pf = pq.ParquetFile(path)
    columns = _image_columns(pf.schema_arrow)
    if column is None:
        if len(columns) != 1:
            raise DatasetUnavailableError(
                f"dataset {ds.repo_id}: {path.name} has {len(columns)} image columns ({', '.join(columns) or 'none'}); "
                f"name one with #COLUMN: {HubDataset(ds.repo_id, ds.revision, ds.part, columns[0] if columns else 'image')}")
        column = columns[0]
    elif column not in columns:
        raise DatasetUnavailableError(f"dataset {ds.repo_id}: {path.name} has no image column {column!r} "
                                      f"(image columns: {', '.join(columns) or 'none'})")
    # made outside the data folder (whose listing is recursive), renamed into it when whole
    tmp = out.parent.parent / ".partial" / f"{out.name}.{os.getpid()}.{threading.get_ident()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    seen: set[bytes] = set()
    n = row = 0
    try:
        for batch in pf.iter_batches(columns=[column], batch_size=256):
            for value in batch.column(0).to_pylist():
                row += 1
                data = (value or {}).get("bytes")
                if not data:
                    continue
                digest = hashlib.sha1(data).digest()
                suffix = _image_suffix(data, (value or {}).get("path"))
                if digest in seen or suffix is None:  # a column cycled to the longer domain's length
                    continue
                seen.add(digest)
                (tmp / f"{row - 1:06d}{suffix}").write_bytes(data)
                n += 1
        try:
            os.replace(tmp, out)
        except OSError:  # another process or worker made the same folder meanwhile: theirs is whole
            if not out.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return n


def _count(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and _is_image(p.name))


@dataclass(frozen=True)
class Plan:
    """What a Hub source resolves to: its commit, layout, the repository files that hold its images (the units
    fetched one at a time), the image column of parquet files, and the verified folder ``out``."""

    ds: HubDataset
    sha: str
    layout: str
    files: tuple
    column: str | None
    out: Path

    def target(self, entry: dict) -> Path:
        """Where the verified image(s) of one repository file go: a file (image layout) or a folder (parquet)."""
        prefix = self.ds.part.strip("/")
        if self.layout == "images":
            return self.out / (entry["path"][len(prefix) + 1:] if prefix else entry["path"])
        return self.out / entry["path"].replace("/", "--")

    def present(self, entry: dict) -> bool:
        target = self.target(entry)
        return target.is_file() if self.layout == "images" else target.is_dir()

    def fetch(self, entry: dict) -> Path:
        """The verified image file, or folder of images, of one repository file (downloaded when missing)."""
        target = self.target(entry)
        if self.present(entry):
            return target
        source = fetch_verified(self.ds, self.sha, entry)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.layout == "parquet":
            _extract_parquet(self.ds, source, self.column, target)
            return target
        tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
        tmp.unlink(missing_ok=True)
        try:
            os.link(source.resolve(), tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return target


def hub_plan(ds: HubDataset) -> Plan:
    """Resolve ``ds``: its commit and the files that hold its images (from the Hub once, then recorded)."""
    sha = resolve_revision(ds)
    layout, files, column = plan(ds, repo_files(ds, sha))
    label = (ds.part or "train").replace("/", "--") + (f"#{column}" if column else "")
    return Plan(ds, sha, layout, tuple(files), column, _repo_store(ds.repo_id) / sha / label)


def hub_folder(ds: HubDataset, limit: int | None = None) -> Path:
    """The local folder of verified images of ``ds`` (module doc); with ``limit``, at least the first
    ``limit`` images (when the dataset has that many)."""
    p = hub_plan(ds)
    p.out.mkdir(parents=True, exist_ok=True)
    have = 0
    for entry in p.files:
        if limit is not None and have >= limit:
            break
        unit = p.fetch(entry)
        have += 1 if p.layout == "images" else _count(unit)
    if have == 0:
        raise DatasetUnavailableError(f"dataset {ds} has no images")
    return p.out
