"""Keep freed CPU memory in the process while the zoo works on CPU (glibc's malloc; elsewhere nothing).

PyTorch's CPU allocator caches nothing: every activation is a ``malloc`` and a ``free``. glibc hands large
freed blocks back to the kernel (a block over its mmap threshold, at most 32 MiB, is unmapped when freed;
the top of the heap is trimmed once more than the trim threshold is free), so the next activation of that
size is faulted in again page by page, each page zeroed by the kernel. A network that makes and frees the
same activation-sized tensors at every step pays those faults at every step: a 512 px Gatys iteration
faults in ~600 MB (~150k pages, about a tenth of the iteration on the 2-core machines this project is tested
on; a page fault costs more in a virtual machine). Intel's PyTorch CPU guides give the same advice through
another allocator (jemalloc or tcmalloc, ``LD_PRELOAD``); this does it in the process.

:func:`retain_freed_memory` (a context manager) and :class:`RetainFreedMemory` (a Lightning callback, for
the training loop) switch glibc to serving every block from its heap and never trimming it: memory freed
by one step is reused by the next. On leaving, glibc's limits are set back and the retained memory is
returned to the system (``malloc_trim``). glibc cannot return to its *dynamic* thresholds once they have
been set, so they are restored to the values its dynamic rule reaches once a process has freed a 32 MiB
block, as any run on images from ~350 px does (mmap above 32 MiB, trim above 64 MiB; glibc
``malloc/malloc.c``: ``DEFAULT_MMAP_THRESHOLD_MAX`` and the ``free`` path that sets the trim threshold to
twice the mmap threshold).

Used by Gatys' optimisation on CPU and for the whole of ``zoo stylize``. ``ZOO_RETAIN_MEMORY=0`` turns it
off (the process then keeps glibc's behaviour).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import lightning.pytorch as pl

__all__ = ["retain_freed_memory", "RetainFreedMemory", "is_retaining", "supported"]

# glibc malloc.h parameter numbers, and the values restored on leaving (see the module docstring)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_RESTORE = {_M_MMAP_MAX: 65536, _M_MMAP_THRESHOLD: 32 << 20, _M_TRIM_THRESHOLD: 64 << 20}
_RETAIN = {_M_MMAP_MAX: 0, _M_TRIM_THRESHOLD: 2**31 - 1}  # no mmap'd blocks; trim only past 2 GiB free

_lock = threading.Lock()
_depth = 0
_libc: Any = None


def _glibc() -> Any:
    """The process's glibc (``mallopt`` and ``malloc_trim``), or None on any other C library or system."""
    global _libc
    if _libc is None:
        _libc = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None)
                if all(hasattr(libc, f) for f in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
                    libc.mallopt.argtypes, libc.malloc_trim.argtypes = [ctypes.c_int, ctypes.c_int], [ctypes.c_size_t]
                    _libc = libc
            except OSError:
                pass
    return _libc or None


def supported() -> bool:
    """Whether freed memory can be retained here: glibc, and not turned off by ``ZOO_RETAIN_MEMORY=0``."""
    return os.environ.get("ZOO_RETAIN_MEMORY", "1") != "0" and _glibc() is not None


def is_retaining() -> bool:
    """Whether a :func:`retain_freed_memory` block is active in this process."""
    return _depth > 0


def _set(values: dict[int, int]) -> None:
    for param, value in values.items():
        _glibc().mallopt(param, value)


@contextmanager
def retain_freed_memory() -> Iterator[bool]:
    """Within the block, freed memory stays in the process for the next allocation (see the module
    docstring); yields whether that is in effect. Blocks nest (and may be entered from several threads):
    the outermost one sets and restores glibc's limits."""
    global _depth
    if not supported():
        yield False
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _set(_RETAIN)
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set(_RESTORE)
                _glibc().malloc_trim(0)


class RetainFreedMemory(pl.Callback):
    """Lightning callback: :func:`retain_freed_memory` from the first training batch to the end of
    training (or an exception), when the model trains on CPU."""

    def __init__(self) -> None:
        self._block: Any = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if trainer.strategy.root_device.type == "cpu" and self._block is None:
            self._block = retain_freed_memory()
            self._block.__enter__()

    def _leave(self) -> None:
        if self._block is not None:
            block, self._block = self._block, None
            block.__exit__(None, None, None)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._leave()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self._leave()
