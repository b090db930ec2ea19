"""What a poll does with hostile volume and hostile failures, on real servers and databases.

* any exception of a poll (MemoryError included) is a recorded failure of the feed;
* a feed of thousands of items is read ``max_items`` at a time, newest first, and
  ``feeds list`` says so; items are marked as they are stored; a feed is never polled
  twice at once by one process;
* a skipped entry is a warning and a count in ``feeds list``;
* a feed URL's query string (an API key) never reaches a log line or an admin alert.

The stack is test_feed_polling's: ``HttpxFetcher`` over 127.0.0.1, the real bus and
ingest on SQLite and PostgreSQL. The one stand-in is ``ExhaustedFetcher``, an
implementation of our own Fetcher port that fails the way an exhausted process does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.domain.admin import AdminKind
from bot.domain.feeds import FeedState
from bot.fetching import FetchResult, Validators
from bot.service.bus import MessageBus
from bot.service.catalog import health_line
from bot.service.polling import FeedPoller, PollerConfig
from tests.localhttp import Request, respond
from tests.test_feed_polling import (
    BACKOFF,
    EVENTS,
    OWNER,
    T0,
    Env,
    Item,
    UowFactory,
    rss,
    running,
    static,
)


@pytest_asyncio.fixture
async def env(uow_factory: UowFactory) -> AsyncIterator[Env]:
    async with running(uow_factory) as environment:
        yield environment


def poller(env: Env, *, max_items: int = 200, fetcher: object = None) -> FeedPoller:
    """A poller of this test's process, on the environment's bus, sink and database."""
    bus = MessageBus(env.ingestor, [env.sink])
    return FeedPoller(
        env.uow_factory,
        bus,
        fetcher or env.stack.fetcher,  # type: ignore[arg-type]
        owner=OWNER,
        config=PollerConfig(backoff=BACKOFF, max_items=max_items),
        clock=env.clock,
    )


def numbered(env: Env, n: int, *, minutes: float) -> Item:
    """A distinct dated item (no casualty figure: quiet, cheap to extract)."""
    return Item(
        guid=f"urn:wire:note-{n}",
        title=f"Council notice number {n}",
        text=f"The town council published notice number {n} about road works on Main Street.",
        link=env.url(f"/wire/note-{n}"),
        published=T0 + timedelta(minutes=minutes),
    )


# --- any exception is the feed's failure ---------------------------------------------------


class ExhaustedFetcher:
    """Our Fetcher port failing as a process out of memory does (not a FetchError)."""

    async def fetch(self, url: str, *, validators: Validators | None = None) -> FetchResult:
        raise MemoryError

    async def aclose(self) -> None:
        return None


async def test_a_memory_error_is_a_recorded_failure_of_the_feed(env: Env) -> None:
    feed = await env.add("/feed.xml")
    exhausted = poller(env, fetcher=ExhaustedFetcher())
    for n in range(1, 4):
        (claimed,) = await env.claim_due()
        report = await exhausted.poll(claimed)
        assert not report.ok and report.saved
        assert report.error == "poll failed: MemoryError"
        state = await env.feed(feed.id)
        assert state.failures == n and state.last_error == "poll failed: MemoryError"
        assert state.lease_owner is None  # released: not left to expire
        env.clock.advance(3600)
    assert (await env.feed(feed.id)).state is FeedState.FAILING
    assert await env.stored_admin(feed.id) == [AdminKind.FEED_FAILING]
    assert env.sink.admin_kinds(feed.id) == [AdminKind.FEED_FAILING]


class ExhaustedOnPages:
    """The real fetcher for feeds; article pages fail as in an exhausted process."""

    def __init__(self, env: Env) -> None:
        self._env = env

    async def fetch(self, url: str, *, validators: Validators | None = None) -> FetchResult:
        if "/wire/" in url:
            raise MemoryError
        return await self._env.stack.fetcher.fetch(url, validators=validators)

    async def aclose(self) -> None:
        return None


async def test_a_page_that_exhausts_memory_keeps_the_summary_and_the_poll(env: Env) -> None:
    teaser = Item(
        guid="urn:wire:teaser",
        title="Ferry capsizes off Sulawesi",
        text=EVENTS["ferry"][1],
        link=env.url("/wire/teaser"),
        published=T0,
        summary_only=True,
    )
    env.site("/feed.xml", rss([teaser]))
    feed = await env.add("/feed.xml")
    (claimed,) = await env.claim_due()
    report = await poller(env, fetcher=ExhaustedOnPages(env)).poll(claimed)
    assert report.ok and report.ingested == 1
    stored = await env.article(teaser.article_id)
    assert stored is not None and stored.article.text == teaser.text
    assert (await env.feed(feed.id)).failures == 0


# --- volume: a cap per poll, newest first ------------------------------------------------


async def test_a_huge_feed_is_read_newest_first_within_the_cap(env: Env) -> None:
    archive = [numbered(env, n, minutes=-n) for n in range(1, 41)]  # n=1 is the newest
    site = env.site("/feed.xml", rss(archive))
    feed = await env.add("/feed.xml")
    capped = poller(env, max_items=10)

    (claimed,) = await env.claim_due()
    first = await capped.poll(claimed)
    assert first.ok and first.quiet
    assert (first.items, first.ingested, first.passed_over, first.deferred) == (40, 10, 30, 0)
    for item in archive[:10]:
        assert await env.article(item.article_id) is not None
    for item in archive[10:]:  # the archive: seen, never read
        assert await env.article(item.article_id) is None
    state = await env.feed(feed.id)
    assert (state.items_passed_over, state.items_deferred, state.items_seen) == (30, 0, 40)
    assert "30 older items passed over at first read" in health_line(state)

    # 25 new items at once: the 10 newest now, the rest on the next polls.
    fresh = [numbered(env, 100 + n, minutes=60 - n) for n in range(25)]  # 100 is the newest
    site.publish(rss([*fresh, *archive]))
    rounds = []
    for _ in range(3):
        env.clock.advance(120)
        (claimed,) = await env.claim_due()
        rounds.append(await capped.poll(claimed))
    assert [(r.ingested, r.deferred) for r in rounds] == [(10, 15), (10, 5), (5, 0)]
    assert [r.quiet for r in rounds] == [False, False, False]
    for item in fresh:
        assert env.ingestor.outcomes_for(item.article_id) != []
        assert len(env.ingestor.outcomes_for(item.article_id)) == 1  # never read twice
    newest_first = [r.article_id for r in env.ingestor.results[10:20]]
    assert set(newest_first) == {i.article_id for i in fresh[:10]}
    state = await env.feed(feed.id)
    assert state.items_deferred == 0 and "capped" not in health_line(state)


async def test_feeds_list_says_a_poll_was_capped(env: Env) -> None:
    site = env.site("/feed.xml", rss([numbered(env, 0, minutes=0)]))
    feed = await env.add("/feed.xml")
    capped = poller(env, max_items=2)
    (claimed,) = await env.claim_due()
    await capped.poll(claimed)
    site.publish(rss([numbered(env, n, minutes=n) for n in range(1, 8)]))
    env.clock.advance(120)
    (claimed,) = await env.claim_due()
    report = await capped.poll(claimed)
    assert (report.ingested, report.deferred) == (2, 5)
    state = await env.feed(feed.id)
    assert state.items_deferred == 5 and state.etag is None and state.last_hash is None
    assert "capped: 5 new items left for the next polls" in health_line(state)


async def test_items_are_marked_as_they_are_stored(env: Env) -> None:
    """A poll cut short (here: cancelled on a page that never answers) loses no marks."""
    env.site("/feed.xml", rss([numbered(env, 0, minutes=0)]))
    feed = await env.add("/feed.xml")
    await env.poll_due()  # primed

    hung = asyncio.Event()

    async def never(request: Request, writer: asyncio.StreamWriter) -> None:
        hung.set()
        await asyncio.sleep(30)

    env.server.routes["/wire/teaser"] = never
    teaser = Item(
        guid="urn:wire:teaser",
        title="A teaser whose page hangs",
        text="Only a teaser.",
        link=env.url("/wire/teaser"),
        published=T0 + timedelta(minutes=50),  # newest: read last
        summary_only=True,
    )
    early = [numbered(env, n, minutes=n) for n in range(1, 4)]
    env.server.routes["/feed.xml"] = static(rss([teaser, *early, numbered(env, 0, minutes=0)]))
    env.clock.advance(120)
    (claimed,) = await env.claim_due()
    poll = asyncio.create_task(env.stack.poller.poll(claimed))
    await asyncio.wait_for(hung.wait(), 10)
    poll.cancel()  # the process stops mid-poll
    with pytest.raises(asyncio.CancelledError):
        await poll
    async with env.uow_factory() as uow:
        marked = await uow.feeds.item_hashes(feed.id, [i.article_id for i in early])
    assert set(marked) == {i.article_id for i in early}

    # Next poll (the lease expired): only the teaser is left to read.
    env.server.routes["/wire/teaser"] = static(b"<html><body>gone</body></html>", "text/html")
    env.clock.advance(600)
    (claimed,) = await env.claim_due()
    report = await env.stack.poller.poll(claimed)
    assert report.ok and report.changed_items == 1
    for item in early:
        assert len(env.ingestor.outcomes_for(item.article_id)) == 1


async def test_one_process_never_polls_a_feed_twice_at_once(env: Env) -> None:
    asked, release = asyncio.Event(), asyncio.Event()
    body = rss([numbered(env, 1, minutes=0)])

    async def slow(request: Request, writer: asyncio.StreamWriter) -> None:
        asked.set()
        await release.wait()
        await respond(writer, 200, body, {"Content-Type": "application/rss+xml"})

    env.server.routes["/feed.xml"] = slow
    feed = await env.add("/feed.xml")
    (claimed,) = await env.claim_due()
    first = asyncio.create_task(env.stack.poller.poll(claimed))
    await asyncio.wait_for(asked.wait(), 10)
    # The lease ran out under the slow poll, and this same process claims the feed again.
    env.clock.advance(600)
    (again,) = await env.claim_due()
    assert env.stack.poller.polling(feed.id)
    second = await env.stack.poller.poll(again)
    assert second.already_polling and not second.saved and second.ingested == 0
    release.set()
    done = await first
    assert done.ok and done.saved and done.ingested == 1
    assert len(env.server.requests) == 1
    assert not env.stack.poller.polling(feed.id)


# --- skipped entries ----------------------------------------------------------------------


async def test_a_skipped_entry_is_a_warning_and_counted(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    huge = Item(
        guid="urn:wire:endless",
        title="An endless entry",
        text="\n".join(f"Paragraph {n} of a report that never ends." for n in range(6000)),
    )
    ferry_title, ferry_text = EVENTS["ferry"]
    ok = Item(guid="urn:wire:ferry", title=ferry_title, text=ferry_text, published=T0)
    env.restart(max_bytes=1024 * 1024)
    env.site("/feed.xml", rss([huge, ok]))
    feed = await env.add("/feed.xml")
    with caplog.at_level(logging.WARNING, logger="bot.service.polling"):
        report = (await env.poll_due())[feed.id]
    assert report.ok and report.skipped_entries == 1 and report.ingested == 1
    warned = [r for r in caplog.records if "skipped an entry" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert "too large" in warned[0].getMessage()
    state = await env.feed(feed.id)
    assert state.entries_skipped == 1
    assert "1 entry skipped at last read" in health_line(state)


# --- secrets in feed URLs -----------------------------------------------------------------


async def test_a_feed_url_key_is_never_logged_or_sent_to_admins(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.server.routes["/feed.xml"] = static(b"<html>not a feed</html>", "text/html")
    url = env.url("/feed.xml?api_key=SECRET-123&x=1")
    feed = await env.catalog.add(url, interval_s=60)
    assert feed.url == url  # the key is needed to fetch
    assert "SECRET" not in feed.name and feed.name == env.url("/feed.xml")
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            await env.poll_due()
            env.clock.advance(3600)
    state = await env.feed(feed.id)
    assert state.state is FeedState.FAILING
    assert state.last_error is not None and "SECRET" not in state.last_error
    (alert,) = env.sink.admin
    assert alert.kind is AdminKind.FEED_FAILING
    assert "SECRET" not in alert.message and "SECRET" not in (alert.reason or "")
    assert env.url("/feed.xml") in alert.message
    # Ours, that is: httpx logs request URLs at INFO, which the CLI turns off.
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("bot", "adapters", "storage")]
    assert any("failed" in r.getMessage() for r in ours)
    assert not [r.getMessage() for r in ours if "SECRET" in r.getMessage()]
