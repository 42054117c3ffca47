"""Content hashes pinned in the package for the files Stylezoo downloads, and how a file is checked.

A :class:`Pin` is the expected content of one downloaded file, from a source independent of the
download itself, cited in ``source``:

* ``sha256``: the full sha256 of the file, as its host publishes it (the Hugging Face Hub's LFS metadata
  at a pinned commit, a release's asset digest) or as several independent projects pin it;
* ``git_blob``: the id git gives the file in the original repository's tree at a pinned commit, that is
  the sha1 of ``b"blob <size>\\0" + content`` (``git ls-tree`` shows it; checking it needs no trust in
  the download).

A file for which no such hash exists has ``unpinned`` set to the reason instead (docs/hub.md lists
them); it is used with a warning on stderr. Pins live in the package, next to the URL they belong to:
nothing written beside a cached file is ever trusted.

This module sits at the bottom of the package: it imports nothing from it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

__all__ = ["Pin", "Digests", "file_digests", "bytes_digests", "SHORT"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
SHORT = 12  # hex digits shown in messages


@dataclass(frozen=True)
class Digests:
    """The hashes of one file's content: its sha256 and its git blob id (sha1 of the git object)."""

    sha256: str
    git_blob: str
    size: int


def _blob_header(size: int) -> bytes:
    return b"blob %d\0" % size


def file_digests(path: str | os.PathLike) -> Digests:
    """The sha256 and the git blob id of a file, read once."""
    size = os.stat(path).st_size
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(_blob_header(size))
    n = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha256.update(block)
            sha1.update(block)
            n += len(block)
    if n != size:  # the file changed while it was read
        raise OSError(f"{path} changed while it was being hashed ({size} bytes announced, {n} read)")
    return Digests(sha256.hexdigest(), sha1.hexdigest(), size)


def bytes_digests(data: bytes) -> Digests:
    return Digests(hashlib.sha256(data).hexdigest(), hashlib.sha1(_blob_header(len(data)) + data).hexdigest(),
                   len(data))


@dataclass(frozen=True)
class Pin:
    """The expected content of a downloaded file (see the module doc). Exactly one of: a hash
    (``sha256`` and/or ``git_blob``, with ``source`` citing where it is published), or ``unpinned``
    (why no independent hash exists). ``size`` (bytes), where known, is checked too."""

    sha256: str | None = None
    git_blob: str | None = None
    source: str = ""
    unpinned: str = ""
    size: int | None = None

    @property
    def pinned(self) -> bool:
        return self.sha256 is not None or self.git_blob is not None

    def problems(self) -> list[str]:
        """What is wrong with this pin (empty when it is well formed)."""
        out = []
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256):
            out.append(f"sha256 {self.sha256!r} is not 64 lower-case hex digits")
        if self.git_blob is not None and not _SHA1.fullmatch(self.git_blob):
            out.append(f"git blob id {self.git_blob!r} is not 40 lower-case hex digits")
        if self.size is not None and (not isinstance(self.size, int) or self.size <= 0):
            out.append(f"size {self.size!r} is not a positive number of bytes")
        if self.pinned:
            if len(self.source.strip()) < 10:
                out.append("a pinned hash must cite where it is published (source)")
            if self.unpinned:
                out.append("a pin has a hash or a reason why there is none, not both")
        elif len(self.unpinned.strip()) < 10:
            out.append("no hash and no reason (unpinned) why none is published")
        return out

    def check(self) -> "Pin":
        """This pin, or ValueError naming what is wrong with it."""
        bad = self.problems()
        if bad:
            raise ValueError("; ".join(bad))
        return self

    def mismatch(self, d: Digests) -> str | None:
        """None when ``d`` is the pinned content, else what differs, in words (short hashes)."""
        if self.size is not None and d.size != self.size:
            return f"{d.size} bytes, expected {self.size}"
        if self.sha256 is not None and d.sha256 != self.sha256:
            return f"sha256 {d.sha256[:SHORT]}..., expected {self.sha256[:SHORT]}..."
        if self.git_blob is not None and d.git_blob != self.git_blob:
            return f"git blob id {d.git_blob[:SHORT]}..., expected {self.git_blob[:SHORT]}..."
        return None

    def describe(self) -> str:
        """One line for tables: the kind of hash and its first digits, or 'not pinned'."""
        if self.sha256 is not None:
            return f"sha256 {self.sha256[:SHORT]}..."
        if self.git_blob is not None:
            return f"git blob {self.git_blob[:SHORT]}..."
        return "not pinned"


def coerce(expected: "Pin | str | None", url: str = "") -> Pin:
    """A :class:`Pin` from what callers pass: a Pin, a full sha256 string (cited by the caller's
    constant), or None (a file without a pinned hash)."""
    if isinstance(expected, Pin):
        return expected.check()
    if expected is None:
        return Pin(unpinned=f"no independent checksum is known for {url or 'this file'}")
    if not _SHA256.fullmatch(expected):
        raise ValueError(f"expected sha256 {expected!r} is not 64 lower-case hex digits (a full published sha256)")
    return Pin(sha256=expected, source="cited beside the constant that holds it")
