"""Extraction runs off the event loop, and a time budget stops a runaway one.

One long article used to freeze the whole bot (polls, deliveries, ``/healthz``, chat
heartbeats) while it was extracted on the event loop. These tests hold the loop to
account by ordering, not by the clock: the loop must get turns *while* an article is
being extracted, which it cannot if extraction blocks it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.request
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.error import HTTPError

import pytest

from bench.corpus import seed_articles
from bot.domain.articles import Article
from bot.service.analysis import Analyser, ProcessAnalyser, ThreadAnalyser, analyse
from bot.service.ingest import IngestArticle, Ingestor, Outcome
from storage.uow import SqlUnitOfWork
from tests.botproc import BotProcess
from tests.localhttp import LoopbackServer

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
LISTED = "4 killed, 9 injured, "
"""Figure after figure without a sentence end: the costliest text per character there is
for the extractor (every number is a figure to read in a sentence of the longest kind)."""


def slow_article(chars: int = 1_000_000, name: str = "slow.txt") -> Article:
    """An article that takes a while to analyse: the extractor reads its first 200,000
    characters (bot.extract.MAX_TEXT), the near-duplicate fingerprint all of them."""
    return Article.create(
        title="Casualty list",
        text=LISTED * (chars // len(LISTED)),
        outlet="Wire",
        filename=name,
        published=T0,
    )


async def turns_while(work: asyncio.Task[object]) -> int:
    """How many times the loop ran something else before ``work`` finished."""
    turns = 0
    while True:
        await asyncio.sleep(0.001)
        if work.done():
            return turns
        turns += 1


@pytest.fixture
async def processes() -> AsyncIterator[ProcessAnalyser]:
    analyser = ProcessAnalyser(1, timeout_s=120)
    yield analyser
    await analyser.close()


async def test_a_worker_process_finds_what_the_extractor_finds(
    processes: ProcessAnalyser,
) -> None:
    for article in seed_articles():
        assert await processes(article) == analyse(article)


@pytest.mark.parametrize("kind", ["thread", "process"])
async def test_the_loop_runs_while_the_ingestor_extracts_a_long_article(
    kind: str, uow_factory: Callable[[], SqlUnitOfWork], processes: ProcessAnalyser
) -> None:
    analyser: Analyser = processes if kind == "process" else ThreadAnalyser()
    ingest = Ingestor(uow_factory, analyser=analyser)
    work = asyncio.create_task(ingest(IngestArticle(slow_article(), arrived=T0)))
    assert await turns_while(work) > 0  # 0 if extraction held the loop until it was done
    assert work.result().outcome is Outcome.NEW
    async with uow_factory() as uow:
        stored = await uow.articles.get(slow_article().id)
    assert stored is not None and len(stored.extraction.figures) > 100


async def test_an_article_past_its_budget_is_stored_without_claims_and_the_next_is_read(
    uow_factory: Callable[[], SqlUnitOfWork], caplog: pytest.LogCaptureFixture
) -> None:
    analyser = ProcessAnalyser(1, timeout_s=0.5)
    ingest = Ingestor(uow_factory, analyser=analyser)
    try:
        # Warm up: the first article also starts the worker (not counted in the budget).
        quake = seed_articles()[0]
        assert (await ingest(IngestArticle(quake, arrived=T0))).extraction_failed is None
        # 8 MB: far more than half a second of work on any machine.
        slow = slow_article(8_000_000)
        with caplog.at_level(logging.WARNING, logger="bot.service.analysis"):
            result = await ingest(IngestArticle(slow, arrived=T0))
        assert result.outcome is Outcome.NEW
        assert result.extraction_failed is not None
        assert "budget" in result.extraction_failed
        warning = next(r for r in caplog.records if r.levelno == logging.WARNING)
        assert slow.id in warning.getMessage() and "without claims" in warning.getMessage()
        async with uow_factory() as uow:
            stored = await uow.articles.get(slow.id)
        assert stored is not None and stored.article.text == slow.text
        assert stored.extraction.figures == () and stored.extraction.statements == ()
        # A fresh worker reads the next article.
        other = seed_articles()[1]
        after = await ingest(IngestArticle(other, arrived=T0))
        assert after.extraction_failed is None
        async with uow_factory() as uow:
            read = await uow.articles.get(other.id)
        assert read is not None and read.extraction == analyse(other).extraction
    finally:
        await ingest.close()


async def test_a_revision_past_its_budget_is_stored_but_raises_no_revision_alert(
    uow_factory: Callable[[], SqlUnitOfWork],
) -> None:
    # Its claims are unknown, not gone: "article revised, figures withdrawn" would be false.
    first = Article.create(
        title="Ferry capsizes",
        text="At least 14 people drowned when a ferry capsized, police said.",
        outlet="Wire",
        filename="ferry.txt",
        published=T0,
    )
    revised = Article.create(
        title="Ferry capsizes",
        text=first.text + " " + LISTED * (8_000_000 // len(LISTED)),
        outlet="Wire",
        filename="ferry.txt",
        published=T0,
    )
    assert revised.id == first.id and revised.content_hash != first.content_hash
    generous = Ingestor(uow_factory, analyser=ThreadAnalyser())
    assert (await generous(IngestArticle(first, arrived=T0))).outcome is Outcome.NEW
    hurried = Ingestor(uow_factory, analyser=ProcessAnalyser(1, timeout_s=0.5))
    try:
        await hurried(IngestArticle(seed_articles()[0], arrived=T0))  # starts the worker
        result = await hurried(IngestArticle(revised, arrived=T0))
    finally:
        await hurried.close()
    assert result.outcome is Outcome.REVISED and result.extraction_failed is not None
    assert result.alerts == ()
    async with uow_factory() as uow:
        stored = await uow.articles.get(first.id)
    assert stored is not None and stored.version == 2 and stored.extraction.figures == ()


async def test_closing_stops_the_workers() -> None:
    analyser = ProcessAnalyser(2, timeout_s=60)
    articles = seed_articles()[:2]
    await asyncio.gather(*(analyser(a) for a in articles))
    workers = list(analyser._idle)  # the processes themselves are the point
    assert len(workers) == 2
    await analyser.close()
    for worker in workers:
        assert worker._process.returncode is not None


# --- a running bot ---------------------------------------------------------------------


class _EmptyFeed(BaseHTTPRequestHandler):
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        b"<title>Quiet Wire</title><link>https://wire.example/</link></channel></rss>"
    )

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except HTTPError as exc:
        return exc.code, exc.read().decode()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _polls(metrics: str) -> float:
    """Feed polls finished so far, whatever their outcome."""
    return sum(
        float(m.group(1))
        for m in re.finditer(r"^claimwatch_feeds_polled_total\{[^}]*\} (\S+)$", metrics, re.M)
    )


def test_a_running_bot_answers_and_polls_while_it_extracts_a_slow_file(tmp_path: Path) -> None:
    port = _free_port()
    drop = tmp_path / "drop"
    drop.mkdir()
    base = f"http://127.0.0.1:{port}"
    with LoopbackServer(_EmptyFeed) as feed_server:
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(
            f'[[feed]]\nurl = "http://127.0.0.1:{feed_server.port}/feed.xml"\ninterval = 0.2\n',
            "utf-8",
        )
        env = {
            "CLAIMWATCH_METRICS_PORT": str(port),
            "CLAIMWATCH_HEALTH_TICK_S": "0.5",
            "CLAIMWATCH_DROP_DIR": str(drop),
            "CLAIMWATCH_FEEDS_FILE": str(feeds),
            "CLAIMWATCH_ALLOW_PRIVATE_URLS": "true",
            "CLAIMWATCH_MIN_FEED_INTERVAL_S": "0.1",
            "CLAIMWATCH_POLL_TICK_S": "0.1",
            "CLAIMWATCH_FULL_TEXT": "false",
            "no_proxy": "*",
        }
        with BotProcess(tmp_path, env) as bot:
            bot.start()

            def metrics() -> str:
                try:
                    return _get(f"{base}/metrics")[1]
                except OSError:
                    return ""

            bot.wait_for(lambda: _polls(metrics()) >= 1, 60, "a first feed poll")
            staged = tmp_path / "slow.txt"
            staged.write_text(slow_article(4_000_000).text, "utf-8")
            staged.rename(drop / "slow.txt")
            started = "extracting article file:slow.txt"
            finished = "extracted article file:slow.txt"
            bot.wait_for(lambda: started in bot.output(), 60, "the slow file's extraction")
            polls_before = _polls(metrics())
            status, _ = _get(f"{base}/healthz")
            assert status in (200, 503)  # an answer: the loop is serving
            bot.wait_for(lambda: _polls(metrics()) > polls_before, 60, "a feed poll")
            # Both happened after the extraction started and before it ended: the loop
            # cannot do either while extraction holds it.
            assert finished not in bot.output(), bot.output()[-3000:]
            bot.wait_for(lambda: finished in bot.output(), 120, "the end of the extraction")
            bot.wait_for(lambda: (drop / "processed" / "slow.txt").exists(), 60, "the file")
            assert bot.stop() == 0
        assert "Traceback" not in bot.output(), bot.output()[-3000:]
