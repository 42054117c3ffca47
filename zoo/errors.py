"""The one base class of the errors a user can fix, and how ``zoo`` and ``zoo.fit`` report errors.

:class:`ZooError` is raised for a mistake the user can correct (a file that cannot be read, an option with a
value that cannot work): its ``str()`` is the one line shown after ``error:``, and it names the file or
option and what to do. Each module's own error classes derive from it and keep their builtin base too
(``ImageReadError`` is still a ``ValueError``, ``WriteError`` an ``OSError``), so existing ``except``
clauses keep working.

Faults of the environment (a full or read-only disk, no permission, no memory) are reported the same way,
as one line naming the file. Anything else is a bug: it keeps its traceback, followed by :data:`REPORT`.
This module imports nothing heavy (no torch), so every module may import it.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from typing import Callable

__all__ = ["ZooError", "ConfigError", "ConfigTypeError", "MissingFileError", "NotFoundError", "Terminated", "REPORT", "environment_message", "report_bug", "terminate_as_exception",
           "DISK_ERRNOS", "describe_os_error"]

REPORT = ("this is a bug in stylezoo, not a mistake of yours: please report it, with the command you ran and the "
          "traceback above")


_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space or write elsewhere",
    errno.EDQUOT: "the disk quota is exceeded: free some space or write elsewhere",
    errno.EACCES: "no permission to write there: choose another folder",
    errno.EPERM: "no permission to write there: choose another folder",
    errno.EROFS: "the file system is read-only: choose another folder",
}

# The OS errors that are the environment's, not a bug: full disk, quota, permissions, read-only.
DISK_ERRNOS = frozenset(_ADVICE)


def describe_os_error(path: str | os.PathLike, error: OSError) -> str:
    """``"PATH: cannot write (REASON); ADVICE"`` for an OSError met while writing ``path``."""
    reason = error.strerror or type(error).__name__
    advice = _ADVICE.get(error.errno or 0)
    return f"{path}: cannot write ({reason})" + (f"; {advice}" if advice else "")


class ZooError(Exception):
    """An error the user can fix; ``str()`` is the one line shown (naming the file or option)."""


class Terminated(BaseException):
    """SIGTERM (``kill``, a scheduler's stop, a container's shutdown) received: raised like
    ``KeyboardInterrupt`` so that every ``finally`` runs and no temporary file survives."""


def terminate_as_exception() -> Callable[[], None]:
    """Make SIGTERM raise :class:`Terminated` in the main thread; returns a function that restores the
    previous SIGTERM and SIGINT handlers (Lightning leaves SIGINT ignored after a Ctrl-C: a caller of
    ``zoo.cli.main`` / ``zoo.fit.main`` gets its Ctrl-C back). Does nothing outside the main thread."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
        interrupt = signal.getsignal(signal.SIGINT)
    except (ValueError, OSError):  # not allowed here (embedded interpreters)
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)
        if interrupt is not None:
            signal.signal(signal.SIGINT, interrupt)

    return restore


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is the machine running out of memory (Python's, or torch's on CPU or GPU)."""
    if isinstance(error, MemoryError):
        return True
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(error, getattr(torch, "OutOfMemoryError", ())):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)


def environment_message(error: BaseException, oom_advice: str) -> str | None:
    """The one line for a :class:`ZooError` or a fault of the environment (a full or read-only disk, a file
    that does not exist or may not be read, no memory); None for anything else (a bug)."""
    if isinstance(error, ZooError):
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__
    if isinstance(error, OSError):
        if error.errno in DISK_ERRNOS:
            return describe_os_error(error.filename or "a file", error)
        if error.filename and error.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.EIO, errno.ENAMETOOLONG):
            return f"{error.filename}: {error.strerror or error}"
        return None
    if out_of_memory(error):
        return oom_advice
    return None


def report_bug(error: BaseException) -> int:
    """Print the traceback of a bug and :data:`REPORT`; the exit status (1)."""
    import traceback

    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    print(f"error: {REPORT}", file=sys.stderr)
    return 1


class ConfigError(ZooError, ValueError):
    """A value that cannot work: an option, a recipe key, a config file's entry, a file's content."""


class ConfigTypeError(ConfigError, TypeError):
    """A value of the wrong type in a recipe or a config file."""


class MissingFileError(ZooError, FileNotFoundError):
    """A file or folder the user named does not exist; the message names it."""


class NotFoundError(ZooError, KeyError):
    """Something looked up in a file is not there (a network in a checkpoint). ``str()`` is the plain message
    (KeyError would quote it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
