"""Resident memory of the bot polling many feeds, measured in a fresh process.

Run by ``bench.__main__`` as ``python -m bench.memory --feeds N --json`` so that what
the other benchmarks allocated (Python rarely gives freed memory back to the system)
does not count. The feed server is yet another process, so its pre-rendered bodies do
not count either.

Steps, with ``VmRSS`` read from ``/proc/self/status`` after each:

* ``start``: interpreter and the bot's modules imported;
* ``empty_db``: SQLite database migrated, no feeds yet;
* ``configured``: N feeds added and primed as after an earlier round (validators, body
  hash, the items each feed has shown; see ``bench.feeds.prime``); a first fetch of
  10,000 feeds would ingest 60,000 backlog items, which takes far longer than a
  benchmark should, and is a one-off;
* ``after_round``: one full polling round of all N feeds by the real ``Runner`` (2 % of
  the feeds have one new item, which is ingested and raises alerts; the rest answer 304).

``VmHWM`` (the peak) is reset before the round where the kernel allows it
(``/proc/self/clear_refs``), so ``round_peak`` is the peak of the round alone.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from adapters.http_fetch import HttpxFetcher
from bench.feeds import (
    AlertCounter,
    Concurrency,
    LogTally,
    add_feeds,
    make_due,
    open_database,
    poll_round,
    prime,
)
from bench.feedserver import ROOT, FeedServerProcess, FeedSpec
from bot.fetching import FetchLimits
from bot.service.bus import MessageBus
from bot.service.ingest import Ingestor
from bot.service.polling import FeedPoller

_STATUS_FIELD = re.compile(r"^(VmRSS|VmHWM):\s+(\d+)\s+kB", re.MULTILINE)
ROUND_BUDGET_S = 600.0
"""Generous: "after a full round" is the point here (a stopped round is still reported)."""
CHANGE_EVERY = 50
"""One feed in 50 has a new item in the measured round (ingest dominates the round's time)."""


def memory_kib() -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident set size of this process, in KiB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return {}
    return {name: int(value) for name, value in _STATUS_FIELD.findall(status)}


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _mib(kib: int | None) -> float:
    return (kib or 0) / 1024


async def _measure(n: int) -> dict[str, object]:
    figures: dict[str, object] = {"feeds": float(n)}
    tally = LogTally.install()
    figures["start_mib"] = _mib(memory_kib().get("VmRSS"))
    spec = FeedSpec(n, items=6, new_per_round=1, rounds=2, change_every=CHANGE_EVERY)
    concurrency = Concurrency()
    with FeedServerProcess(spec) as server, tempfile.TemporaryDirectory() as tmp:
        engine, uow_factory = await open_database(Path(tmp) / "memory.db")
        try:
            figures["empty_db_mib"] = _mib(memory_kib().get("VmRSS"))
            feeds, _ = await add_feeds(uow_factory, server.feed_urls(), catalog_adds=0)
            await prime(uow_factory, feeds, spec)
            del feeds
            gc.collect()
            mem = memory_kib()
            figures["configured_mib"] = _mib(mem.get("VmRSS"))
            figures["setup_peak_mib"] = _mib(mem.get("VmHWM"))
            figures["peak_reset"] = reset_peak()

            sink = AlertCounter()
            bus = MessageBus(Ingestor(uow_factory), [sink])
            fetcher = HttpxFetcher(
                FetchLimits(allow_private=True),
                max_connections=concurrency.max_connections,
                per_host=concurrency.per_host,
            )
            async with fetcher:
                poller = FeedPoller(uow_factory, bus, fetcher, owner="bench")
                server.set_round(2)
                await make_due(uow_factory)
                polled = await poll_round(
                    uow_factory,
                    poller,
                    n,
                    concurrency=concurrency,
                    server=server,
                    budget_s=ROUND_BUDGET_S,
                )
                mem = memory_kib()
            figures["after_round_mib"] = _mib(mem.get("VmRSS"))
            figures["round_peak_mib"] = _mib(mem.get("VmHWM"))
            for key in ("feeds", "complete", "seconds", "feeds_per_s", "ok", "not_modified"):
                figures[f"round_{key}"] = polled[key]
            figures["round_errors"] = polled["errors"]
            figures["round_ingested"] = polled["ingested"]
            figures["round_alerts"] = float(sink.alerts)
            figures["round_not_ingested"] = polled["not_ingested"]
            figures["round_stuck_at"] = polled.get("stuck_at", "")
        finally:
            await engine.dispose()
    figures["log"] = tally.summary()
    return figures


def run(feeds: int = 10_000) -> dict[str, object]:
    """Measure in a fresh subprocess (``python -m bench.memory``) and return its figures."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--feeds", str(feeds), "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    p = argparse.ArgumentParser(prog="bench.memory")
    p.add_argument("--feeds", type=int, default=10_000)
    p.add_argument("--json", action="store_true", help="print one line of JSON")
    args = p.parse_args()
    figures = asyncio.run(_measure(args.feeds))
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:20} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
