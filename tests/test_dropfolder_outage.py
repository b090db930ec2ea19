"""A database that cannot write during a drop-folder scan (issue 11, H6).

The bot runs as a real ``claimwatch run`` subprocess on a real SQLite file. The disk
"fills up" for real: the test lowers the process's file-size limit (``RLIMIT_FSIZE``,
set from outside with ``prlimit``), so every write SQLite makes past the first kilobyte
of a file fails in the kernel, as on a full disk. Python ignores ``SIGXFSZ``, so the
writes fail with an error instead of killing the process. The log goes to a pipe, which
no file-size limit applies to.

What must hold: the batch stops at the first database error, the traceback is logged
once for the outage and each later attempt in one line, the files stay where they are
(none is filed as failed), and once the limit is lifted every file is ingested, without
waiting for the quiet period (they were announced complete before the outage).
"""

from __future__ import annotations

import re
import resource
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.test_dropfolder_hostile import BUS, FLOOD, bot, wait_until

pytestmark = pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs prlimit")

TEXTS = [
    BUS,
    FLOOD,
    "A ferry capsized on the Meghna river on Sunday; 9 people drowned, the coast guard said.",
    "Wildfires near Athens forced 1,200 people to leave their homes, the fire service said.",
    "A landslide in Peru buried 14 houses and killed 6 people, local officials said.",
]


_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


def records_with_traceback(log: str) -> int:
    """Log records followed by a traceback (a chained one counts once)."""
    count, in_record = 0, False
    for line in log.splitlines():
        if _RECORD.match(line):
            in_record = True
        elif in_record and line.startswith("Traceback"):
            count += 1
            in_record = False
    return count


def articles_in(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    finally:
        conn.close()


def test_a_full_disk_stops_the_batch_logs_once_and_recovers(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    with bot(tmp_path, drop) as (proc, log):
        wait_until(lambda: "claimwatch running" in log.text, 60, log, "start-up")
        unlimited = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (1024, unlimited[1]))
        try:
            for n, text in enumerate(TEXTS):  # each announced by close-after-write
                (drop / f"report-{n}.txt").write_text(text, encoding="utf-8")
            wait_until(lambda: log.text.count("database still failing") >= 2, 60, log, "retries")
            time.sleep(1.0)
            during = log.text
            assert sorted(p.name for p in drop.glob("*.txt")) == [
                f"report-{n}.txt" for n in range(len(TEXTS))
            ]  # nothing lost, nothing filed as failed
            assert not list((drop / "failed").iterdir())
        finally:
            resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, unlimited)
        # Within the back-off and well within the 30 s quiet period: files announced
        # complete before the outage need not look quiet again.
        wait_until(
            lambda: len(list((drop / "processed").iterdir())) == len(TEXTS), 25, log, "recovery"
        )
        assert "database works again" in log.text
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert records_with_traceback(during) == 1, during[-6000:]
    assert during.count("database error while ingesting") == 1
    retries = [line for line in during.splitlines() if "database still failing" in line]
    assert all("next try in" in line for line in retries)
    assert articles_in(tmp_path / "bot.db") == len(TEXTS)
    assert not list((drop / "failed").iterdir())
