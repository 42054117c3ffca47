"""Atomic file writing: the one way Stylezoo writes a file.

Every file the project writes (images, checkpoints, exports, benchmark results) goes through
:func:`atomic_path`: the content is written to a temporary file in the destination's folder, flushed to
disk (``fsync``) and only then renamed over the destination (``os.replace``, atomic on POSIX and
Windows). A crash, a kill or a full disk therefore never leaves a truncated file under the real name and
never damages the file that was there before; the temporary file is removed on failure. Only a killed
process (SIGKILL, power loss) can leave its hidden temporary behind (SIGTERM and Ctrl-C end ``zoo`` and
``zoo.fit`` through every ``finally``, zoo.errors). Each temporary's name records the writer's machine
and process, so :func:`remove_stale_temporaries` removes those of a killed writer wherever the next run
writes, never a live writer's; :func:`remove_temporaries` clears all of a folder where the work resumes
(``zoo.fit --ckpt_path=last``).

Failures are raised as :class:`WriteError`, an ``OSError`` whose one-line message names the file and
says what to do (``No space left on device``, ``Permission denied``, read-only file systems).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import DISK_ERRNOS, ZooError, describe_os_error

__all__ = ["WriteError", "OutputExistsError", "atomic_path", "write_bytes", "save_pretrained", "check_writable",
           "describe_os_error", "new_temp", "new_temp_dir", "publish", "remove_temporaries", "remove_stale_temporaries",
           "DISK_ERRNOS"]

class WriteError(ZooError, OSError):
    """A file could not be written. ``str()`` is one line that names the file and what to do; ``errno``
    is the operating system's error number (None when it was not an OS failure)."""

    def __init__(self, message: str, errno_: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_


class OutputExistsError(WriteError, FileExistsError):
    """The destination exists and the caller did not ask to replace it."""


def _flush_to_disk(path: Path) -> None:
    """Force the file's data onto the disk: a full disk may only say so here."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; not possible on every OS or file system, and then not needed."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _rename_new(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path`` unless ``path`` exists, even if it appeared a moment ago."""
    try:
        os.link(tmp, path)  # fails with FileExistsError if the file appeared meanwhile: never clobber
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system (FAT, some network shares)
        if path.exists():
            raise FileExistsError(errno.EEXIST, str(path)) from None
        os.replace(tmp, path)


# The names new_temp and new_temp_dir give: .<stem>.<8 hex>[-<host>-<pid>].tmp[<suffix>|dir]; the writer's
# machine and process let a later run tell the leftovers of a killed writer from the files of a live one.
_TEMPORARY = re.compile(r"\..*\.[0-9a-f]{8}(?:-([0-9a-f]{4})-(\d+))?\.tmp(\.[^.]+|dir)?")


def _host() -> str:
    import hashlib
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:4]


def _temp_name(path: Path, suffix: str) -> Path:
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}-{_host()}-{os.getpid()}.tmp{suffix}")


def new_temp(path: Path) -> Path:
    """A new empty file ``.<stem>.<8 hex digits>-<host>-<pid>.tmp<suffix>`` beside ``path``, with the
    permissions a plain ``open`` would give (``tempfile.mkstemp`` makes files only their owner can read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = _temp_name(path, path.suffix)
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue


def new_temp_dir(path: Path) -> Path:
    """A new empty folder ``.<stem>.<8 hex digits>-<host>-<pid>.tmpdir`` beside ``path`` (a result of several
    files built there, then moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = _temp_name(path, "dir")
        try:
            tmp.mkdir()
            return tmp
        except FileExistsError:
            continue


def _writer_is_gone(match: re.Match) -> bool:
    """Whether the process that made this temporary (named by :func:`_temp_name`) no longer runs: on this
    machine, with a process id that no process has. Unknown (an older name, another machine, Windows): False."""
    host, pid = match.group(1), match.group(2)
    if host is None or pid is None or host != _host() or os.name == "nt":
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's)
        return False
    return False


def remove_stale_temporaries(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Delete the temporaries (files and folders of :func:`new_temp` / :func:`new_temp_dir`) in ``folder``
    (and its subfolders when ``recursive``) whose writer was killed (SIGKILL, power loss): a process of this
    machine that no longer runs. A live writer's temporaries are never touched. Returns what was removed."""
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    candidates = folder.rglob(".*.tmp*") if recursive else folder.glob(".*.tmp*")
    for p in sorted(candidates):
        match = _TEMPORARY.fullmatch(p.name)
        if match is None or not _writer_is_gone(match):
            continue
        try:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        except FileNotFoundError:
            continue
        except OSError:  # not ours to remove (permissions): leave it
            continue
        removed.append(p)
    return removed


@contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error, the temporary file is
    synced and renamed to ``path``. On error it is removed and ``path`` is untouched.

    The temporary name keeps the suffix (writers that pick the format from it work) and starts with a dot.
    ``overwrite=False`` refuses an existing ``path`` with :class:`OutputExistsError`, both before the work
    and at the rename (a file that appeared meanwhile is not replaced either).

    >>> with atomic_path("out/result.png") as tmp:
    ...     image.save(tmp)
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise OutputExistsError(f"{path}: file exists; pass --overwrite to replace it", errno.EEXIST)
    try:
        tmp = new_temp(path)
    except OSError as e:
        raise WriteError(describe_os_error(path, e), e.errno) from e
    try:
        yield tmp
        publish(tmp, path, overwrite)
    except WriteError:
        raise
    except OSError as e:  # the writer's own failure (a full disk mid-write)
        raise WriteError(describe_os_error(path, e), e.errno) from e
    finally:
        tmp.unlink(missing_ok=True)


def publish(tmp: Path, path: Path, overwrite: bool = True) -> None:
    """Sync the finished temporary file ``tmp`` (from :func:`new_temp`) and rename it to ``path``; ``tmp`` is
    gone afterwards, whatever happens. ``overwrite=False`` never replaces a ``path`` that exists, even one
    that appeared a moment ago (:class:`OutputExistsError`); OS failures are :class:`WriteError` s."""
    try:
        _flush_to_disk(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            _rename_new(tmp, path)
    except FileExistsError:
        raise OutputExistsError(f"{path}: file exists; pass --overwrite to replace it", errno.EEXIST) from None
    except WriteError:
        raise
    except OSError as e:
        raise WriteError(describe_os_error(path, e), e.errno) from e
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def remove_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files of :func:`new_temp` in ``folder``: writes a killed process never finished
    (no live writer may be using the folder). Returns what was removed."""
    folder = Path(folder)
    found = sorted(p for p in folder.iterdir() if _TEMPORARY.fullmatch(p.name) and p.is_file() and
                   not p.name.endswith(".tmpdir")) \
        if folder.is_dir() else []
    for p in found:
        p.unlink(missing_ok=True)
    return found


def write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`); returns the path."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return Path(path)


def save_pretrained(net, folder: str | os.PathLike) -> Path:
    """``net.save_pretrained(folder)`` (the hub mixin's layout) with each file appearing whole: written in a
    temporary folder beside them, then renamed into ``folder``."""
    import shutil

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_dir(folder / "export")
    try:
        net.save_pretrained(tmp)
        for f in tmp.iterdir():
            os.replace(f, folder / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def check_writable(folder: str | os.PathLike, what: str) -> None:
    """Fail now, before any work, if files cannot be created in ``folder`` (created if missing).

    ``what`` names the option or setting that chose the folder, for the message.
    """
    try:
        new_temp(Path(folder) / "write-test").unlink()
    except OSError as e:
        raise WriteError(f"{describe_os_error(folder, e)} ({what})", e.errno) from e
