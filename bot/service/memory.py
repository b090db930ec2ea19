"""Handing freed heap pages back to the system, so resident memory follows what is in use.

The soak benchmark measured what a long run does to glibc's allocator: the memory the
bot *uses* stays flat (``malloc_stats``: in use 46.6 → 46.9 MB over six minutes), but
the per-thread arenas (aiosqlite's connection threads, the default executor's) keep the
pages that were freed (system bytes 57.8 → 67.6 MB), and resident memory climbs ~1.5 MiB a
minute with them. glibc only gives such pages back on request: ``malloc_trim(0)``
releases every whole free page in every arena. It takes a few milliseconds, so the
runner calls it on a timer (``CLAIMWATCH_MALLOC_TRIM_S``, 10 s; in a scheduler thread,
not on the event loop). In the soak this took the growth from 9–12 MiB over minutes
2–10 to 4.6 MiB (slope +0.5 MiB/min); every 60 s it left a 10 MiB sawtooth.

Elsewhere (musl, macOS) there is no ``malloc_trim`` and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_MALLOC_TRIM = _find_malloc_trim()


def can_release() -> bool:
    """Whether this C library can hand free pages back (glibc)."""
    return _MALLOC_TRIM is not None


def release_free_memory() -> bool:
    """Give free heap pages back to the system; True if any were released."""
    if _MALLOC_TRIM is None:
        return False
    return bool(_MALLOC_TRIM(0))
