"""The one entry point of the data modules: a data option (a local path, ``hf://datasets/...`` or
``https://...#sha256=...``) as a local folder or file, fetched and verified first where it is remote
(:mod:`zoo.data.hub`, :mod:`zoo.data.urls`, docs/data.md)."""

from __future__ import annotations

import os
from pathlib import Path

from .hub import HUB_PREFIX, hub_folder, is_remote, parse_hub
from .urls import url_file, url_folder

__all__ = ["data_folder", "data_file", "is_remote"]


def data_folder(source: str | os.PathLike, limit: int | None = None) -> Path:
    """The local folder a data option names: the path itself, or Hub / URL data made local and verified."""
    if not is_remote(source):
        return Path(os.path.expanduser(os.fspath(source)))
    text = str(source)
    if text.startswith(HUB_PREFIX):
        return hub_folder(parse_hub(text), limit)
    if text.startswith("hf://"):
        raise ValueError(f"{text}: only Hub datasets are read (hf://datasets/ORG/NAME...)")
    return url_folder(text)


def data_file(source: str | os.PathLike) -> Path:
    """The local file a data option names: the path itself, or a file by URL, verified."""
    if isinstance(source, str) and source.startswith(("https://", "http://")):
        return url_file(source)
    if isinstance(source, str) and source.startswith("hf://"):
        raise ValueError(f"{source}: a single image is given as a path or an https:// URL")
    return Path(os.path.expanduser(os.fspath(source)))
