"""How ``python -m zoo.fit`` tells a user's mistake or a fault of the machine from a bug: the one-line message of
an exception (a :class:`zoo.errors.ZooError`, a recipe value a class refuses, Lightning's word for a wrong trainer
setting, a full disk, out of memory, a checkpoint of another configuration), or None for a bug, which keeps its
traceback."""

from __future__ import annotations

import os
from typing import Iterator

from .errors import ZooError, out_of_memory

__all__ = ["zoo_error_in", "section_of", "user_message"]


def _chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then its causes and contexts, breadth first, each once."""
    seen, stack = set(), [error]
    while stack:
        e = stack.pop(0)
        if id(e) not in seen:
            seen.add(id(e))
            yield e
            stack += [c for c in (e.__cause__, e.__context__) if c is not None]


def zoo_error_in(error: BaseException) -> BaseException | None:
    """``error`` or the first of its causes and contexts that is a :class:`ZooError`; None if none is."""
    return next((e for e in _chain(error) if isinstance(e, ZooError)), None)


def section_of(error: BaseException) -> str:
    """The recipe section whose class raised ``error``: ``data`` when the raise is in zoo/data, else ``model``."""
    tb, section = error.__traceback__, "model"
    while tb is not None:
        if f"{os.sep}zoo{os.sep}data{os.sep}" in tb.tb_frame.f_code.co_filename:
            section = "data"
        elif "lightning" in tb.tb_frame.f_code.co_filename and "trainer" in tb.tb_frame.f_code.co_filename:
            section = "trainer"
        tb = tb.tb_next
    return section


def user_message(error: BaseException, ckpt_path: str | None) -> str | None:
    """The one-line message for a user error or an environment fault behind ``error`` (a
    :class:`zoo.errors.ZooError`, Lightning's word for a wrong trainer setting, a full or read-only disk, out
    of memory, a checkpoint of another configuration); None for anything else (a bug keeps its traceback)."""
    from .fileio import DISK_ERRNOS, describe_os_error

    for e in _chain(error):
        if isinstance(e, ZooError):
            return str(e)
        text = str(e)
        if type(e).__name__ == "MisconfigurationException":  # Lightning's word for a wrong trainer setting
            return " ".join(text.split())
        if isinstance(e, OSError) and e.errno in DISK_ERRNOS:
            return describe_os_error(e.filename or "a run file", e)
        if out_of_memory(e):
            return ("out of memory: use smaller images (--data.size, --data.image_size, --data.crop_size), a smaller "
                    "--data.batch_size or a smaller network")
        if isinstance(e, RuntimeError) and text.startswith("Error(s) in loading state_dict") and ckpt_path:
            detail = next((line.strip() for line in text.splitlines()[1:] if line.strip()), "")
            return (f"--ckpt_path={ckpt_path}: the checkpoint was written with another configuration ({detail[:300]}); "
                    "resume with the options of the run that wrote it, or start without --ckpt_path")
    return None
