"""Freed memory goes back to the system when the runner asks (glibc's malloc_trim).

The soak found resident memory climbing while the memory in use stayed flat: glibc's
per-thread arenas keep freed pages. This recreates that in a thread (allocate, free
nine tenths, so every page still holds a survivor's neighbour's free space) and checks
that the call hands the free pages back.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from bot.service.memory import can_release, release_free_memory


def _rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1)) / 1024


@pytest.mark.skipif(not can_release(), reason="no malloc_trim in this C library (not glibc)")
def test_pages_a_thread_freed_are_handed_back() -> None:
    survivors: list[bytes] = []

    def churn() -> None:
        # 2 KB objects come from malloc (above pymalloc's 512 bytes), in this thread's arena.
        blocks = [bytes(2000) for _ in range(40_000)]  # ~80 MB
        survivors.extend(blocks[::10])

    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    before = _rss_mib()
    assert release_free_memory()
    after = _rss_mib()
    assert before - after > 30, f"RSS {before:.0f} → {after:.0f} MiB"
    assert len(survivors) == 4_000  # what is still in use is untouched
    assert all(b == bytes(2000) for b in survivors[::100])
