"""Drop-folder latency: from a file's close to the alert it raises, one file at a time.

The path measured is the production one: inotify close-after-write (watchdog thread) →
``DropFolderWatcher`` queue → ``DropFolder.process_file`` (read in a worker thread) →
``MessageBus.handle`` (extract, group, detect, store in SQLite) → the alert sink. The
sink stamps ``time.perf_counter()`` when alerts are published; ``t0`` is taken right
after ``close()``. Files are written one after another, each only once the previous one
has been ingested and moved, so every figure is the latency of an idle bot, not of a
queue.

Every file is a distinct report (another town, event and victims) so that it raises
at least one alert (usually ``new_story``); files that raise none are counted. Before
timing, some unrelated stories are ingested, so that grouping compares each file with a
realistic number of candidate stories rather than with an empty database.

If inotify is unavailable the watcher falls back to polling every 2 s and a file must
also be quiet for 1 s, so latency is then seconds, by design; ``events_active`` says
which case was measured.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from adapters.dropfolder import (
    DropFolder,
    DropFolderWatcher,
    DropOutcome,
    DropStatus,
    IngestHandler,
)
from bench.feeds import open_database
from bench.feedserver import news_item
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert, AlertType
from bot.domain.articles import Article
from bot.service.bus import MessageBus
from bot.service.ingest import IngestArticle, Ingestor

FILE_TIMEOUT_S = 15.0
"""How long to wait for one file before counting it as missed (polling alone needs ~3 s).
Not a limit on the figures: a missed file is reported, not failed."""
FIRST_FILE_KEY = 100_000
"""Dropped files use other towns than the background stories (news_item keys)."""


class StampingSink:
    """Records when alerts are published (the moment a chat sink would send them)."""

    def __init__(self) -> None:
        self.first_at: float | None = None
        self.new_story = False
        self.alerts = 0

    def reset(self) -> None:
        self.first_at = None
        self.new_story = False

    async def publish(self, alerts: Sequence[Alert]) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.alerts += len(alerts)
        self.new_story = self.new_story or any(a.type is AlertType.NEW_STORY for a in alerts)

    async def publish_admin(self, alerts: Sequence[AdminAlert]) -> None:
        pass


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is a measured latency)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class NotifyingDropFolder(DropFolder):
    """The real ``DropFolder``, announcing each file it has finished with (moved away)."""

    def __init__(self, root: Path, ingest: IngestHandler) -> None:
        super().__init__(root, ingest)
        self.finished: asyncio.Queue[DropOutcome] = asyncio.Queue()

    async def process_file(self, path: Path, *, wait_until_complete: bool = True) -> DropOutcome:
        outcome = await super().process_file(path, wait_until_complete=wait_until_complete)
        if outcome.status in (DropStatus.PROCESSED, DropStatus.FAILED):
            self.finished.put_nowait(outcome)
        return outcome


async def _ingest_background(bus: MessageBus, n: int) -> None:
    for k in range(n):
        item = news_item(k)
        article = Article.create(
            title=item.title, text=item.text, outlet="wire", filename=f"bg-{k}.txt"
        )
        await bus.handle(IngestArticle(article, datetime.now(UTC)))


async def _run(files: int, background: int) -> dict[str, float | bool]:
    latencies: list[float] = []
    missed = failed = no_alert = new_stories = 0
    with tempfile.TemporaryDirectory() as tmp:
        engine, uow_factory = await open_database(Path(tmp) / "drop.db")
        try:
            sink = StampingSink()
            bus = MessageBus(Ingestor(uow_factory), [sink])
            await _ingest_background(bus, background)
            background_alerts, sink.alerts = sink.alerts, 0

            async def ingest(article: Article) -> None:
                await bus.handle(IngestArticle(article, datetime.now(UTC)))

            root = Path(tmp) / "drop"
            folder = NotifyingDropFolder(root, ingest)
            watcher = DropFolderWatcher(folder, poll_interval=2.0)
            watcher.start()
            events_active = watcher.events_active
            try:
                for i in range(files):
                    item = news_item(FIRST_FILE_KEY + i)
                    sink.reset()
                    path = root / f"report-{i:04d}.txt"
                    # Blocking on purpose: t0 is the moment close() returns.
                    with open(path, "w", encoding="utf-8") as handle:  # noqa: ASYNC230
                        handle.write(f"{item.title}\n\n{item.text}\n")
                    t0 = time.perf_counter()
                    try:
                        # Processed and moved: the next file never queues behind this one.
                        outcome = await asyncio.wait_for(
                            folder.finished.get(), timeout=FILE_TIMEOUT_S
                        )
                    except TimeoutError:
                        missed += 1
                        continue
                    if outcome.status is DropStatus.FAILED:
                        failed += 1
                    elif sink.first_at is None:
                        no_alert += 1
                    else:
                        latencies.append(sink.first_at - t0)
                        new_stories += sink.new_story
            finally:
                await watcher.stop()
        finally:
            await engine.dispose()
    ms = [1000 * v for v in latencies]
    return {
        "files": float(files),
        "background_articles": float(background),
        "background_alerts": float(background_alerts),
        "alerted_files": float(len(latencies)),
        "new_story_files": float(new_stories),
        "files_without_alert": float(no_alert),
        "failed_files": float(failed),
        "missed_files": float(missed),
        "alerts": float(sink.alerts),
        "events_active": events_active,
        "p50_ms": percentile(ms, 50),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else math.nan,
        "mean_ms": sum(ms) / len(ms) if ms else math.nan,
    }


def run(files: int = 200, *, background: int = 200) -> dict[str, float | bool]:
    return asyncio.run(_run(files, background))
