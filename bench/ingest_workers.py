"""Ingest throughput with 1, 2 and 3 workers on one PostgreSQL (issue 5), and the ratio to 1.

For each N in 1, 2, 3, on a throwaway PostgreSQL cluster (``tests.conftest_db``, Debian's
binaries, durability off):

* a fresh database, migrated, with ``FEEDS`` feeds added (``bench.feeds.add_feeds``);
* the feeds are served by ``bench.feedserver`` in its own process (pre-rendered bodies,
  keep-alive): each carries ``ITEMS`` distinct disaster reports (``news_item``: another
  town, kind of event, toll and second figure each, with the casualty sentence attributed
  to an agency or official, full text in ``content:encoded``), so every poll ingests;
* N ``claimwatch run --role worker`` subprocesses on that database. Each worker leases
  due feeds (up to 50 polls in flight), fetches and ingests them. This is each feed's
  first poll, which is quiet (no alerts), but every item is extracted, grouped into a
  story and stored in full: it is ingest that is measured;
* articles ingested per second are read from the database (``SELECT count(*) FROM
  articles`` every 0.25 s) in a steady window: from the moment ``WINDOW_FROM`` articles
  are stored (workers started, connections warm) until ``WINDOW_FROM + WINDOW`` are
  (or ``CAP_S`` seconds have passed). The window covers the same articles for every N,
  so each N pays the same for the database's growth (grouping reads candidate stories).

Also reported per N, over the window: each worker's articles and CPU (its
``claimwatch_articles_ingested_total`` and ``process_cpu_seconds_total`` from ``/metrics``),
and how busy the machine's CPUs were (``/proc/stat``). They tell a lack of cores (the
machine this was written on has 2, shared by the workers, PostgreSQL and the feed server;
the output says how many) from waiting: story assignment, grouping included, runs under
one advisory lock for the whole deployment (README, "Several processes"). The workers'
warnings and errors are counted; if there are errors, their logs are kept in
``bench/results/``.

Environment: ``INGEST_FEEDS`` [150], ``INGEST_ITEMS`` [8], ``INGEST_WINDOW`` [600],
``INGEST_WORKERS`` ["1,2,3"]. ``--json`` prints one JSON object.
Run: ``.venv/bin/python -m bench.ingest_workers`` (``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from types import FrameType
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bench.feeds import add_feeds
from bench.feedserver import FeedServerProcess, FeedSpec
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.uow import make_uow_factory
from tests.botproc import ROOT, BotProcess
from tests.conftest_db import PG_BIN, PgCluster, _pg_available, _start_cluster

FEEDS = int(os.environ.get("INGEST_FEEDS") or 150)
ITEMS = int(os.environ.get("INGEST_ITEMS") or 8)
WINDOW_FROM = 150
"""Articles stored before the window opens (the workers are up and busy by then)."""
WINDOW = int(os.environ.get("INGEST_WINDOW") or 600)
"""Articles the window covers."""
CAP_S = 90.0
"""A window still open after this long is closed and measured as it stands."""
WORKERS = tuple(int(n) for n in (os.environ.get("INGEST_WORKERS") or "1,2,3").split(","))
SAMPLE_S = 0.25

RESULTS = ROOT / "bench" / "results"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies over all CPUs, from the first line of ``/proc/stat``."""
    values = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def _scrape(port: int) -> tuple[float, float]:
    """This worker's articles ingested (all outcomes) and CPU seconds, from ``/metrics``."""
    with _NO_PROXY.open(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body = response.read().decode()
    found = {"claimwatch_articles_ingested_total": 0.0, "process_cpu_seconds_total": 0.0}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name in found:
                found[s.name] += s.value
    return found["claimwatch_articles_ingested_total"], found["process_cpu_seconds_total"]


def _env(db_url: str, worker: int, port: int) -> dict[str, str]:
    return {
        "CLAIMWATCH_DB_URL": db_url,
        "CLAIMWATCH_WORKER_ID": f"w{worker}",
        "CLAIMWATCH_METRICS_PORT": str(port),
        "CLAIMWATCH_ADAPTERS": "console",
        "CLAIMWATCH_ALLOW_PRIVATE_URLS": "true",
        "CLAIMWATCH_FULL_TEXT": "false",
        "CLAIMWATCH_RECHECK_ARTICLES": "false",
        "CLAIMWATCH_POLL_TICK_S": "0.2",
        "CLAIMWATCH_PER_HOST_FETCHES": "50",
        "CLAIMWATCH_MAX_CONCURRENT_FETCHES": "50",
        "CLAIMWATCH_FEED_LEASE_S": "60",
        "CLAIMWATCH_LOG_LEVEL": "WARNING",
    }


async def _prepare(db_url: str, urls: list[str]) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await add_feeds(make_uow_factory(engine), urls)
    finally:
        await engine.dispose()


class _Counter:
    """``SELECT count(*) FROM articles`` on one open connection (in its own loop)."""

    def __init__(self, db_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._engine = create_engine(db_url)

    def count(self) -> int:
        async def query() -> int:
            async with self._engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM articles"))).scalar_one())

        return self._loop.run_until_complete(query())

    def close(self) -> None:
        self._loop.run_until_complete(self._engine.dispose())
        self._loop.close()


def _measure(cluster: PgCluster, server: FeedServerProcess, n: int, tmp: Path) -> dict[str, Any]:
    name = f"ingest_{n}_{uuid.uuid4().hex[:8]}"
    cluster.client("createdb", name)
    db_url = cluster.url(name)
    asyncio.run(_prepare(db_url, server.feed_urls()))
    ports = [_free_port() for _ in range(n)]
    workers = [BotProcess(tmp, _env(db_url, i + 1, ports[i]), f"n{n}-w{i + 1}") for i in range(n)]
    counter = _Counter(db_url)
    try:
        started = time.monotonic()
        for w in workers:
            w.start("--role", "worker")
        at_from: list[tuple[float, float]] = []
        at_to: list[tuple[float, float]] = []
        t_from = t_to = 0.0
        c_from = c_to = 0
        cpu_from = cpu_to = (0.0, 0.0)
        while True:
            count = counter.count()
            now = time.monotonic()
            if not t_from and count >= WINDOW_FROM:
                t_from, c_from, cpu_from = now, count, _cpu_busy()
                at_from = [_scrape(port) for port in ports]
            if t_from and (count >= WINDOW_FROM + WINDOW or now - t_from >= CAP_S):
                t_to, c_to, cpu_to = now, count, _cpu_busy()
                at_to = [_scrape(port) for port in ports]
                break
            if not t_from and now - started > CAP_S:
                raise RuntimeError(f"{n} worker(s): only {count} articles after {CAP_S:.0f} s")
            dead = [w for w in workers if not w.alive()]
            if dead:
                raise RuntimeError(f"a worker exited:\n{dead[0].output()[-3000:]}")
            time.sleep(SAMPLE_S)
        codes = [w.stop() for w in workers]
        log = "".join(w.output() for w in workers)
        saved = None
        if " ERROR " in log or "Traceback" in log:
            RESULTS.mkdir(parents=True, exist_ok=True)
            saved = RESULTS / f"ingest-{time.strftime('%Y%m%d-%H%M%S')}-{n}-workers.log"
            saved.write_text(log, "utf-8")
    finally:
        for w in workers:
            w.__exit__()
        counter.close()
        with contextlib.suppress(subprocess.SubprocessError):
            cluster.client("dropdb", "--force", "--if-exists", name)
    busy = (cpu_to[0] - cpu_from[0]) / (cpu_to[1] - cpu_from[1]) if cpu_to[1] > cpu_from[1] else 0
    seconds = t_to - t_from
    return {
        "workers": n,
        "articles": c_to - c_from,
        "seconds": seconds,
        "articles_per_s": (c_to - c_from) / seconds if seconds else 0.0,
        "window_complete": c_to >= WINDOW_FROM + WINDOW,
        "start_to_window_s": t_from - started,
        "per_worker_ingested": [b[0] - a[0] for a, b in zip(at_from, at_to, strict=True)],
        "per_worker_cpu_share": [
            (b[1] - a[1]) / seconds if seconds else 0.0 for a, b in zip(at_from, at_to, strict=True)
        ],
        "cpu_busy_share": busy,
        "exit_codes": codes,
        "log_errors": log.count(" ERROR "),
        "log_warnings": log.count(" WARNING "),
        "tracebacks": log.count("Traceback (most recent call last)"),
        "log_saved": str(saved.relative_to(ROOT)) if saved else None,
    }


class _Stop(Exception):
    """SIGTERM/SIGHUP: unwind, so that the workers, the feed server and the cluster stop."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the cleanup short
    raise _Stop(f"signal {signum}")


def run() -> dict[str, Any]:
    if not _pg_available():
        return {"skipped": f"no PostgreSQL binaries in {PG_BIN}"}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    cluster, stop = _start_cluster()
    results: list[dict[str, Any]] = []
    try:
        with (
            FeedServerProcess(FeedSpec(FEEDS, items=ITEMS, rounds=1)) as server,
            tempfile.TemporaryDirectory(prefix="claimwatch-bench-ingest-") as tmp,
        ):
            for n in WORKERS:
                results.append(_measure(cluster, server, n, Path(tmp)))
    finally:
        stop()
    base = results[0]["articles_per_s"] if results and results[0]["workers"] == 1 else None
    for r in results:
        r["ratio_to_1"] = r["articles_per_s"] / base if base else None
    return {
        "cpus": os.cpu_count(),
        "feeds": FEEDS,
        "items_per_feed": ITEMS,
        "window_from": WINDOW_FROM,
        "window": WINDOW,
        "runs": results,
    }


def print_results(result: dict[str, Any]) -> None:
    if "skipped" in result:
        print(f"ingest/workers skipped: {result['skipped']}")
        return
    print(
        f"ingest on PostgreSQL with N workers: {result['feeds']} feeds × "
        f"{result['items_per_feed']} distinct reports, first poll (quiet, every item "
        f"ingested); window: articles {result['window_from']} → "
        f"{result['window_from'] + result['window']} (database count). This machine has "
        f"{result['cpus']} CPU cores, shared by the workers, PostgreSQL and the feed server."
    )
    for r in result["runs"]:
        ratio = f"{r['ratio_to_1']:.2f}×" if r["ratio_to_1"] is not None else "n/a"
        shares = " / ".join(f"{s:.0f}" for s in r["per_worker_ingested"])
        cpus = " / ".join(f"{100 * c:.0f} %" for c in r["per_worker_cpu_share"])
        note = "" if r["window_complete"] else " (window cut at the time cap)"
        trouble = (
            f"; bot log: {r['log_errors']} errors, {r['tracebacks']} tracebacks, "
            f"in {r['log_saved']}"
            if r["log_errors"] or r["tracebacks"]
            else ""
        )
        print(
            f"  {r['workers']} worker(s): {r['articles_per_s']:6.1f} articles/s  "
            f"(ratio to 1 worker {ratio}; {r['articles']} articles in {r['seconds']:.1f} s"
            f"{note}; per worker {shares} articles, {cpus} of a core; all CPUs "
            f"{100 * r['cpu_busy_share']:.0f} % busy; exit codes {r['exit_codes']}{trouble})"
        )


def main() -> int:
    p = argparse.ArgumentParser(prog="bench.ingest_workers")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    try:
        result = run()
    except (_Stop, KeyboardInterrupt) as exc:
        print(f"interrupted ({exc or 'Ctrl-C'}): workers, feed server and PostgreSQL stopped")
        return 2
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print_results(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
