"""The one entry point of the data modules: a data option (a local path, ``hf://datasets/...`` or
``https://...#sha256=...``) as a local folder or file, fetched and verified first where it is remote
(:mod:`zoo.data.hub`, :mod:`zoo.data.urls`, docs/data.md).

``python -m zoo.data.sources SOURCE [--limit N]`` fetches and verifies a source ahead of time (for example on a
machine with internet, before copying ``$HF_HUB_CACHE`` to one without) and prints its local folder or file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

from .hub import HUB_PREFIX, hub_folder, is_remote, parse_hub
from .urls import url_file, url_folder
from ..errors import ConfigError

__all__ = ["data_folder", "data_file", "is_remote"]


def data_folder(source: str | os.PathLike, limit: int | None = None) -> Path:
    """The local folder a data option names: the path itself, or Hub / URL data made local and verified."""
    if not is_remote(source):
        return Path(os.path.expanduser(os.fspath(source)))
    text = str(source)
    if text.startswith(HUB_PREFIX):
        return hub_folder(parse_hub(text), limit)
    if text.startswith("hf://"):
        raise ConfigError(f"{text}: only Hub datasets are read (hf://datasets/ORG/NAME...)")
    return url_folder(text)


def data_file(source: str | os.PathLike) -> Path:
    """The local file a data option names: the path itself, or a file by URL, verified."""
    if isinstance(source, str) and source.startswith(("https://", "http://")):
        return url_file(source)
    if isinstance(source, str) and source.startswith("hf://"):
        raise ConfigError(f"{source}: a single image is given as a path or an https:// URL")
    return Path(os.path.expanduser(os.fspath(source)))


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from .folder import EmptyFolderError

    p = argparse.ArgumentParser(prog="python -m zoo.data.sources",
                                description="Fetch and verify data named by a Hub dataset id or a URL; print where it is.")
    p.add_argument("source", nargs="+", help="hf://datasets/ORG/NAME@REVISION[/PART][#COLUMN] or https://...#sha256=HEX")
    p.add_argument("--limit", type=int, help="only what the first N images need")
    args = p.parse_args(argv)
    try:
        for source in args.source:
            is_file = isinstance(source, str) and source.startswith(("https://", "http://")) and "path=" not in source
            print(data_file(source) if is_file else data_folder(source, args.limit))
    except (EmptyFolderError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
