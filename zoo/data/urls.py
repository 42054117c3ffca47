"""Data files by URL (``https://...#sha256=HEX[&path=FOLDER]``): a single image, or a folder of a ``.zip``,
fetched with :func:`zoo.download.fetch_url` into ``$HF_HUB_CACHE/stylezoo-data/url/`` and verified (see
:mod:`zoo.data.hub` for the syntax and docs/data.md)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit

from ..download import ChecksumMismatchError, WeightsUnavailableError, fetch_url
from .hub import DatasetChecksumError, DatasetUnavailableError, store_dir
from ..errors import ConfigError

__all__ = ["url_file", "url_folder"]


def _url_parts(source: str) -> tuple[str, str | None, str | None]:
    url, _, fragment = source.partition("#")
    query = parse_qs(fragment)
    sha = (query.get("sha256") or [None])[0]
    inner = (query.get("path") or [None])[0]
    if sha is not None and not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ConfigError(f"{source}: sha256= takes 64 lower-case hex digits")
    return url, sha, inner


def url_file(source: str) -> Path:
    url, sha, _ = _url_parts(source)
    name = PurePosixPath(urlsplit(url).path).name or "download"
    key = sha[:16] if sha else hashlib.sha256(url.encode()).hexdigest()[:16]
    try:
        return fetch_url(url, store_dir() / "url" / key / name, sha, what=f"data file {name}",
                         manual="; or pass a local file or folder instead")
    except WeightsUnavailableError as e:
        kind = DatasetChecksumError if isinstance(e, ChecksumMismatchError) else DatasetUnavailableError
        text = str(e).replace(" are not available", " is not available").replace(
            "(or set TORCH_HOME)", "(or point HF_HUB_CACHE at a cache that has it)")
        raise kind(text) from None


def url_folder(source: str) -> Path:
    """The folder ``path=`` of a verified ``.zip`` (unpacked once, renamed into place when whole)."""
    _, _, inner = _url_parts(source)
    archive = url_file(source)
    out = archive.with_name(archive.name + ".unpacked")
    if not out.is_dir():
        tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with zipfile.ZipFile(archive) as zf:
                for member in zf.infolist():  # no absolute paths or '..' escape the folder
                    parts = PurePosixPath(member.filename).parts
                    if member.is_dir() or member.filename.startswith("/") or ".." in parts:
                        continue
                    target = tmp.joinpath(*parts)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(member) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
            os.replace(tmp, out)
        except zipfile.BadZipFile:
            raise DatasetUnavailableError(f"{archive}: not a zip archive; delete it and run again") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    folder = out.joinpath(*PurePosixPath(inner).parts) if inner else out
    if not folder.is_dir():
        raise DatasetUnavailableError(f"{source.split('#')[0]}: the archive has no folder {inner!r}")
    return folder


