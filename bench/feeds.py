"""Feeds polled per second: one process, rounds of local feeds through the real pipeline.

The bot under test is the production wiring — ``Runner`` (lease, dispatch, at most
``max_concurrent_polls`` in flight) → ``FeedPoller`` (conditional GET through
``HttpxFetcher``, body hash, ``read_feed``, new items only) → ``MessageBus`` →
``Ingestor`` (extract, group, detect, store in SQLite) — against
``bench.feedserver`` in another process, so the server does not share the bot's core.

Rounds (each timed from ``runner.run()`` until every expected feed reported once, or
until ``ROUND_BUDGET_S``; an incomplete round is reported as such):

1. *first fetch* of a sample of feeds: every poll is a 200 and every item is ingested
   quietly (a new feed's backlog raises no alerts). This round is bound by ingest,
   a few dozen items/s on one core, so it is timed on a sample only: a first fetch
   of 2,000 feeds × 6 items would take many minutes. The other feeds are primed directly
   with the columns a first poll leaves (``after_poll``: validators, body hash; and the
   items it has shown, as ``mark_items`` records them) but without ingesting their
   backlog, which no later poll looks at again.
2. *nothing new*: all feeds answer 304 — the ceiling of the polling machinery itself.
3. *steady state*: all feeds; every other feed has a new item (200), the rest 304.

Beside it, the naive baseline: ``for url in urls: feedparser.parse(url)``, sequential,
no validators, nothing stored (on a sample when there are many feeds).

All feeds are on one host (127.0.0.1), so ``per_host`` is raised to the connection
limit; with the default of 4 this would measure the per-host cap, not the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http_fetch import HttpxFetcher
from bench.feedserver import FeedServerProcess, FeedSpec, etag, feed_index, render_feed
from bot.clock import utc_now
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert
from bot.domain.feeds import Feed, PollOutcome, after_poll
from bot.fetching import FetchLimits
from bot.ingest.feeds import read_feed
from bot.service.bus import MessageBus
from bot.service.catalog import CatalogConfig, FeedCatalog, normalise_feed_url
from bot.service.ingest import Ingestor
from bot.service.polling import FeedPoller, PollReport
from bot.service.runner import Runner, RunnerConfig
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.tables import FeedItemRow, FeedRow
from storage.uow import SqlUnitOfWork, make_uow_factory

OWNER = "bench"
INTERVAL = timedelta(hours=1)
"""Long, so a feed polled in a round never becomes due again within the same round."""
CATALOG_ADDS = 200
"""Feeds added through ``FeedCatalog.add``; the rest get the same row in batches, because
``add`` reads every feed to count them (quadratic: 2,000 adds take about a minute)."""
ROUND_BUDGET_S = 60.0
"""A round still running after this long is stopped and reported as incomplete, so that
a slow bot makes a slow figure, not an endless benchmark."""
STALL_S = 30.0
"""A round in which no poll finishes for this long is stopped the same way."""

UowFactory = Callable[[], SqlUnitOfWork]


@dataclass(frozen=True, slots=True)
class Concurrency:
    """The fetch settings used (all feeds are on one host, hence ``per_host``)."""

    max_connections: int = 50
    per_host: int = 50
    max_concurrent_polls: int = 50


class LogTally(logging.Handler):
    """Counts the bot's warnings and errors instead of printing their tracebacks.

    The benchmark output stays one line per figure; a count (and the first message)
    still shows that something went wrong, e.g. an ingest that hit "database is locked".
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1
        if record.levelname not in self.first:
            cause = record.exc_info[1] if record.exc_info else None
            detail = f" {type(cause).__name__}: {cause}" if cause is not None else ""
            message = record.getMessage() + detail
            self.first[record.levelname] = " ".join(message.split())[:200]

    def summary(self) -> dict[str, object]:
        return {"counts": dict(self.counts), "first": dict(self.first)}

    @classmethod
    def install(cls) -> LogTally:
        tally = cls()
        root = logging.getLogger()
        root.addHandler(tally)
        root.setLevel(logging.WARNING)
        return tally


class AlertCounter:
    """An alert sink that only counts (and timestamps the last publish)."""

    def __init__(self) -> None:
        self.alerts = 0
        self.admin = 0

    async def publish(self, alerts: Sequence[Alert]) -> None:
        self.alerts += len(alerts)

    async def publish_admin(self, alerts: Sequence[AdminAlert]) -> None:
        self.admin += len(alerts)


async def open_database(path: Path) -> tuple[AsyncEngine, UowFactory]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    return engine, make_uow_factory(engine)


async def add_feeds(
    uow_factory: UowFactory, urls: Sequence[str], *, catalog_adds: int = CATALOG_ADDS
) -> tuple[list[Feed], dict[str, float]]:
    """Add ``urls`` as feeds: the first ``catalog_adds`` through the catalog, the rest in bulk."""
    catalog = FeedCatalog(
        uow_factory, CatalogConfig(allow_private=True, min_interval=timedelta(seconds=1))
    )
    feeds: list[Feed] = []
    t0 = time.perf_counter()
    for url in urls[:catalog_adds]:
        feeds.append(await catalog.add(url, interval_s=INTERVAL.total_seconds()))
    catalog_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    rest = urls[catalog_adds:]
    for start in range(0, len(rest), 500):
        async with uow_factory() as uow:
            for url in rest[start : start + 500]:
                feed = Feed.new(
                    normalise_feed_url(url, allow_private=True), now=utc_now(), interval=INTERVAL
                )
                await uow.feeds.add(feed)
                feeds.append(feed)
            await uow.commit()
    bulk_s = time.perf_counter() - t1
    figures = {
        "catalog_adds": float(min(catalog_adds, len(urls))),
        "catalog_adds_per_s": min(catalog_adds, len(urls)) / catalog_s if catalog_s else 0.0,
        "bulk_adds_per_s": len(rest) / bulk_s if rest and bulk_s else 0.0,
    }
    return feeds, figures


def _first_poll(spec: FeedSpec, url: str) -> tuple[str, str, dict[str, str]]:
    """ETag, body hash and item hashes a first poll of ``url`` records (runs in a worker)."""
    index = feed_index(url)
    body = render_feed(spec, index, 1, url.split("/feeds/", 1)[0])
    read = read_feed(body, feed_url=url, source=url)
    marks = {i.article.id: i.article.content_hash for i in read.items}
    return etag(index, 1), hashlib.sha256(body).hexdigest(), marks


async def prime(uow_factory: UowFactory, feeds: Sequence[Feed], spec: FeedSpec) -> None:
    """Record for ``feeds`` what a successful first poll records, without ingesting items.

    The server's version-1 body is rendered here from the same deterministic generator
    and read with ``read_feed``; the feed's new state comes from ``after_poll`` and the
    item rows are those ``mark_items`` writes, as in ``FeedPoller._finish``. If any of
    it did not match what the server sends, the next round would show it (200 instead
    of 304, or every item counted as changed). Parsing (feedparser, ~3 ms a feed) runs in
    worker processes while earlier batches are written, and rows are written in bulk, so
    priming 10,000 feeds takes about 20 s rather than a minute. The workers are spawned,
    not forked: this process already runs threads (aiosqlite's).
    """
    at = utc_now()
    loop = asyncio.get_running_loop()
    batch = 200
    workers = ProcessPoolExecutor(
        max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")
    )
    with workers as pool:
        pending = [
            loop.run_in_executor(
                pool, _first_polls, spec, [f.url for f in feeds[start : start + batch]]
            )
            for start in range(0, len(feeds), batch)
        ]
        for start, parsed in zip(range(0, len(feeds), batch), pending, strict=True):
            polled: list[dict[str, object]] = []
            items: list[dict[str, object]] = []
            for feed, (tag, body_hash, marks) in zip(
                feeds[start : start + batch], await parsed, strict=True
            ):
                outcome = PollOutcome(
                    at, ok=True, etag=tag, body_hash=body_hash, new_items=len(marks)
                )
                polled.append(_polled_columns(after_poll(feed, outcome).feed))
                items.extend(
                    {
                        "feed_id": feed.id,
                        "article_id": article_id,
                        "content_hash": content_hash,
                        "first_seen_at": at,
                        "last_seen_at": at,
                    }
                    for article_id, content_hash in marks.items()
                )
            # One executemany per table per batch (``feeds.save``/``mark_items`` write the
            # same columns one feed at a time, which would make this setup a minute long).
            async with uow_factory() as uow:
                await uow.session.execute(update(FeedRow), polled)
                await uow.session.execute(insert(FeedItemRow), items)
                await uow.commit()


def _polled_columns(feed: Feed) -> dict[str, object]:
    """The columns ``after_poll`` changes after a successful poll, for a bulk UPDATE."""
    return {
        "id": feed.id,
        "state": feed.state.value,
        "etag": feed.etag,
        "last_modified": feed.last_modified,
        "last_hash": feed.last_hash,
        "primed": feed.primed,
        "failures": feed.failures,
        "polls": feed.polls,
        "last_polled_at": feed.last_polled_at,
        "last_success_at": feed.last_success_at,
        "items_seen": feed.items_seen,
        "next_poll_at": feed.next_poll_at,
        "lease_owner": None,
        "lease_expires_at": None,
    }


def _first_polls(spec: FeedSpec, urls: list[str]) -> list[tuple[str, str, dict[str, str]]]:
    return [_first_poll(spec, url) for url in urls]


async def make_due(uow_factory: UowFactory, feed_ids: Sequence[str] | None = None) -> None:
    """Make the given feeds (default: all) due now, so that the next round polls them.

    Each feed gets its own time (a millisecond apart, all in the past), as real schedules
    have: with one shared timestamp SQLite would sort every due row on each claim (the
    ``ORDER BY next_poll_at, id`` tie-break is not covered by the index), which costs
    ~5 ms a claim at 10,000 due feeds and is an artefact of the benchmark.
    """
    async with uow_factory() as uow:
        if feed_ids is None:
            found = await uow.session.execute(select(FeedRow.id).order_by(FeedRow.id))
            feed_ids = list(found.scalars())
        start = utc_now() - timedelta(minutes=1)
        rows = [
            {"id": feed_id, "next_poll_at": start - timedelta(milliseconds=i)}
            for i, feed_id in enumerate(feed_ids)
        ]
        await uow.session.execute(update(FeedRow), rows)
        await uow.commit()


async def poll_round(
    uow_factory: UowFactory,
    poller: FeedPoller,
    expected: int,
    *,
    concurrency: Concurrency,
    server: FeedServerProcess | None = None,
    budget_s: float = ROUND_BUDGET_S,
) -> dict[str, Any]:
    """Run the real ``Runner`` until ``expected`` distinct feeds have been polled once.

    The round also ends after ``budget_s`` seconds, or ``STALL_S`` without any poll
    finishing; ``complete`` says whether every feed was polled. The rate is then that of
    the part polled: a bounded benchmark run, not a verdict.
    """
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    done = asyncio.Event()

    def on_poll(report: PollReport) -> None:
        seen.add(report.feed_id)
        counts["polls"] += 1
        if not report.ok:
            counts["errors"] += 1
        elif report.not_modified:
            counts["not_modified"] += 1
        elif report.unchanged_body:
            counts["unchanged_body"] += 1
        else:
            counts["ok"] += 1
        counts["items"] += report.items
        counts["changed_items"] += report.changed_items
        counts["ingested"] += report.ingested
        counts["alerts"] += report.alerts
        if len(seen) >= expected:
            done.set()

    runner = Runner(
        uow_factory,
        poller,
        None,
        owner=OWNER,
        config=RunnerConfig(max_concurrent_polls=concurrency.max_concurrent_polls, recheck=False),
        on_poll=on_poll,
    )
    before = server.stats() if server else None
    cpu0, t0 = time.process_time(), time.perf_counter()
    task = asyncio.create_task(runner.run())
    progress, progress_at = 0, t0
    while not done.is_set() and not task.done():
        now = time.perf_counter()
        if now - t0 >= budget_s or now - progress_at >= STALL_S:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout=0.5)
        if len(seen) != progress:
            progress, progress_at = len(seen), time.perf_counter()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    after = server.stats() if server else None
    stuck = Counter(_where(t) for t in runner.feeds.tasks) if not done.is_set() else Counter()
    runner.stop()
    await task
    figures: dict[str, Any] = {
        "feeds": float(len(seen)),
        "expected": float(expected),
        "complete": float(len(seen) >= expected),
        "max_concurrent_polls": float(concurrency.max_concurrent_polls),
        "seconds": elapsed,
        "feeds_per_s": len(seen) / elapsed if elapsed else 0.0,
        "bot_cpu_share": cpu / elapsed if elapsed else 0.0,
        **{k: float(counts[k]) for k in ("polls", "ok", "not_modified", "unchanged_body")},
        **{k: float(counts[k]) for k in ("errors", "items", "changed_items", "ingested")},
        "alerts": float(counts["alerts"]),
        # New items whose ingest failed (the poll keeps them for its next round).
        "not_ingested": float(counts["changed_items"] - counts["ingested"]),
    }
    figures["in_flight_at_stop"] = float(sum(stuck.values()))
    if stuck:
        figures["stuck_at"] = "; ".join(f"{n}× {where}" for where, n in stuck.most_common(3))
    if before is not None and after is not None:
        figures["server_cpu_share"] = (after["cpu_s"] - before["cpu_s"]) / elapsed
        figures["server_requests"] = after["requests"] - before["requests"]
        figures["server_max_open_connections"] = after["max_open_connections"]
        figures["server_not_found"] = after["not_found"] - before["not_found"]
    return figures


def _where(task: asyncio.Task[object]) -> str:
    """Where a task is waiting: the innermost coroutine of its await chain (file:line name)."""
    coro: Any = task.get_coro()
    frame = None
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None) or frame
        coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None)
    if frame is None:
        return "unknown"
    code = frame.f_code
    path = Path(code.co_filename)
    return f"{path.parent.name}/{path.name}:{frame.f_lineno} {code.co_name}"


def naive_feedparser(urls: Sequence[str]) -> dict[str, float]:
    """``feedparser.parse(url)`` for each URL in turn: fetch (urllib) and parse, nothing else."""
    entries = failed = 0
    t0 = time.perf_counter()
    for url in urls:
        parsed = feedparser.parse(url)
        entries += len(parsed.entries)
        failed += parsed.get("status") != 200
    elapsed = time.perf_counter() - t0
    return {
        "feeds": float(len(urls)),
        "seconds": elapsed,
        "feeds_per_s": len(urls) / elapsed,
        "entries": float(entries),
        "failed": float(failed),
    }


async def _run(
    server: FeedServerProcess, cold: int, concurrency: Concurrency
) -> dict[str, dict[str, Any]]:
    spec = server.spec
    with tempfile.TemporaryDirectory() as tmp:
        engine, uow_factory = await open_database(Path(tmp) / "feeds.db")
        try:
            t0 = time.perf_counter()
            feeds, adding = await add_feeds(uow_factory, server.feed_urls())
            await prime(uow_factory, feeds[cold:], spec)
            adding["setup_seconds"] = time.perf_counter() - t0
            sink = AlertCounter()
            bus = MessageBus(Ingestor(uow_factory), [sink])
            fetcher = HttpxFetcher(
                FetchLimits(allow_private=True),
                max_connections=concurrency.max_connections,
                per_host=concurrency.per_host,
            )
            async with fetcher:
                poller = FeedPoller(uow_factory, bus, fetcher, owner=OWNER)

                async def round_(expected: int) -> dict[str, Any]:
                    return await poll_round(
                        uow_factory, poller, expected, concurrency=concurrency, server=server
                    )

                first = await round_(cold)
                # Every feed now holds version 1's validators: all of them answer 304 ...
                await make_due(uow_factory)
                idle = await round_(spec.feeds)
                # ... until round 2 gives every other feed a new item.
                server.set_round(2)
                await make_due(uow_factory)
                steady = await round_(spec.feeds)
            steady["sink_alerts"] = float(sink.alerts)
        finally:
            await engine.dispose()
    return {
        "setup": adding,
        "first_fetch": first,
        "steady": steady,
        "all_304": idle,
    }


def run(feeds: int = 2000, *, cold: int = 100, naive: int = 300) -> dict[str, object]:
    """Poll ``feeds`` local feeds in rounds and compare with a naive loop.

    First fetch on ``cold`` of the feeds, then all feeds twice: all 304, and steady state
    (half the feeds have a new item). The sequential ``feedparser.parse`` loop runs over
    ``naive`` of the feeds.
    """
    concurrency = Concurrency()
    spec = FeedSpec(feeds, items=6, new_per_round=1, rounds=2, change_every=2)
    cold = min(cold, feeds)
    with FeedServerProcess(spec) as server:
        rounds = asyncio.run(_run(server, cold, concurrency))
        # feedparser sends no validators, so every poll is a 200 with a body to parse.
        baseline = naive_feedparser(server.feed_urls()[: min(naive, feeds)])
    steady, idle, first = rounds["steady"], rounds["all_304"], rounds["first_fetch"]
    return {
        "feeds": feeds,
        "items_per_feed": spec.items,
        "new_items_per_changed_feed": spec.new_per_round,
        "changing_share": 1 / spec.change_every,
        "max_connections": concurrency.max_connections,
        "per_host": concurrency.per_host,
        "max_concurrent_polls": concurrency.max_concurrent_polls,
        "round_budget_s": ROUND_BUDGET_S,
        **rounds,
        "naive_feedparser": baseline,
        "steady_vs_naive": steady["feeds_per_s"] / baseline["feeds_per_s"],
        "all_304_vs_naive": idle["feeds_per_s"] / baseline["feeds_per_s"],
        "first_fetch_vs_naive": first["feeds_per_s"] / baseline["feeds_per_s"],
        "seconds_for_10k_steady": 10_000 / steady["feeds_per_s"],
        "seconds_for_10k_all_304": 10_000 / idle["feeds_per_s"],
        "seconds_for_10k_first_fetch": 10_000 / first["feeds_per_s"],
    }
