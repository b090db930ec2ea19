"""Re-checking developing stories: edited article pages are caught, politely and not forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from adapters.http_fetch import HttpxFetcher
from bot.domain.alerts import AlertType
from bot.domain.articles import Article
from bot.fetching import FetchLimits
from bot.ports import WatchedArticle
from bot.service.bus import MessageBus
from bot.service.ingest import IngestArticle, Ingestor
from bot.service.recheck import Rechecker
from storage.uow import SqlUnitOfWork
from tests.localhttp import MiniServer, Request, respond

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
UowFactory = Callable[[], SqlUnitOfWork]

LEAD = (
    "At least {n} people were killed when a magnitude 6.4 earthquake struck the mountain "
    "province of Herat on Saturday, the provincial disaster agency said."
)
BODY = (
    "Rescue teams were digging through collapsed mud-brick homes in the villages around Zinda "
    "Jan, where the quake was centred. Aid agencies said roads into the district were blocked "
    "by landslides and that tents and blankets were most urgently needed."
)


def page(n: int, *, stamp: str = "06:10") -> bytes:
    return f"""<!doctype html><html><head><title>Herat earthquake</title>
<meta charset="utf-8"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>Herat earthquake</h1><p class="time">Updated {stamp} GMT</p>
<p>{LEAD.format(n=n)}</p><p>{BODY}</p></article>
<footer>© Wire 2026. All rights reserved. Cookie settings.</footer></body></html>""".encode()


class PageServer(MiniServer):
    def __init__(self) -> None:
        super().__init__()
        self.body = page(22)
        self.status = 200
        self.routes["/quake"] = self._page

    async def _page(self, request: Request, writer: asyncio.StreamWriter) -> None:
        etag = f'"{hash(self.body) & 0xFFFF:x}"'
        if self.status != 200:
            await respond(writer, self.status, b"gone")
        elif request.headers.get("if-none-match") == etag:
            await respond(writer, 304, b"", {"ETag": etag})
        else:
            await respond(writer, 200, self.body, {"ETag": etag, "Content-Type": "text/html"})


class Sink:
    def __init__(self) -> None:
        self.alerts: list[AlertType] = []

    async def publish(self, alerts: object) -> None:
        self.alerts.extend(a.type for a in alerts)  # type: ignore[attr-defined]

    async def publish_admin(self, alerts: object) -> None:
        pass


@pytest_asyncio.fixture
async def server() -> AsyncIterator[PageServer]:
    srv = PageServer()
    await srv.start()
    yield srv
    await srv.stop()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def quake_article(url: str) -> Article:
    return Article.create(
        title="Herat earthquake",
        text=f"{LEAD.format(n=22)}\n\n{BODY}",
        outlet="Wire",
        url=url,
        published=T0 - timedelta(minutes=10),
    )


async def setup(uow_factory: UowFactory, server: PageServer) -> tuple[Rechecker, Sink, Clock]:
    clock = Clock()
    sink = Sink()
    bus = MessageBus(Ingestor(uow_factory), [sink])
    fetcher = HttpxFetcher(FetchLimits(allow_private=True, timeout_s=3))
    result = await bus.handle(IngestArticle(quake_article(server.url("/quake")), T0))
    assert AlertType.NEW_STORY in [a.type for a in result.alerts]
    sink.alerts.clear()
    return Rechecker(uow_factory, bus, fetcher, clock=clock), sink, clock


async def watch_of(uow_factory: UowFactory, url: str) -> WatchedArticle | None:
    async with uow_factory() as uow:
        return await uow.watches.get(f"url:{url}")


async def test_an_edited_toll_on_the_page_is_caught(
    uow_factory: UowFactory, server: PageServer
) -> None:
    rechecker, sink, clock = await setup(uow_factory, server)
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None, "a tracked story's young article is watched"
    assert watch.next_check_at == T0 + timedelta(minutes=5)  # minutes while it is young

    # The page says what the article said (in its own layout): a version, no alert.
    clock.now = T0 + timedelta(minutes=5)
    report = await rechecker.check(watch)
    assert report.fetched and sink.alerts == []
    # A cosmetic edit (the timestamp line): a new version at most, no alert.
    server.body = page(22, stamp="06:20")
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None and watch.page_hash is not None
    clock.now = T0 + timedelta(minutes=10)
    await rechecker.check(watch)
    assert sink.alerts == []

    # Unchanged since: a conditional GET answered 304.
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None and watch.etag
    clock.now = T0 + timedelta(minutes=15)
    await rechecker.check(watch)
    assert server.requests[-1].headers.get("if-none-match") == watch.etag

    # The toll is edited in place: article_revised and figure_rise 22 → 29.
    server.body = page(29, stamp="07:05")
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None
    clock.now = T0 + timedelta(minutes=65)
    report = await rechecker.check(watch)
    assert report.revised
    assert sink.alerts == [AlertType.ARTICLE_REVISED, AlertType.FIGURE_RISE]
    after = await watch_of(uow_factory, server.url("/quake"))
    assert after is not None and after.checks == 4
    assert after.next_check_at == clock.now + timedelta(minutes=15)  # an hour old: rarer


async def test_a_paywall_or_error_page_is_not_taken_for_an_edit(
    uow_factory: UowFactory, server: PageServer
) -> None:
    rechecker, sink, clock = await setup(uow_factory, server)
    server.body = b"<html><body><p>Subscribe to read this article.</p></body></html>"
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None
    clock.now = T0 + timedelta(minutes=5)
    report = await rechecker.check(watch)
    assert not report.changed and sink.alerts == []
    assert await watch_of(uow_factory, server.url("/quake")) is not None  # still watched


async def test_watching_ends_when_the_article_is_old_or_gone(
    uow_factory: UowFactory, server: PageServer
) -> None:
    rechecker, _sink, clock = await setup(uow_factory, server)
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None
    clock.now = T0 + timedelta(days=4)
    report = await rechecker.check(watch)
    assert await watch_of(uow_factory, server.url("/quake")) is None
    assert report.fetched

    # Seen again (a feed repeating it): no new watch.
    await Ingestor(uow_factory)(IngestArticle(quake_article(server.url("/quake")), clock.now))
    assert await watch_of(uow_factory, server.url("/quake")) is None


async def test_a_page_that_is_gone_ends_its_watch(
    uow_factory: UowFactory, server: PageServer
) -> None:
    rechecker, sink, clock = await setup(uow_factory, server)
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None
    server.status = 410
    clock.now = T0 + timedelta(minutes=5)
    report = await rechecker.check(watch)
    assert report.error and "410" in report.error
    assert await watch_of(uow_factory, server.url("/quake")) is None
    assert sink.alerts == []


async def test_old_or_untracked_articles_are_not_watched(uow_factory: UowFactory) -> None:
    ingest = Ingestor(uow_factory)
    old = Article.create(
        title="Herat earthquake",
        text=f"{LEAD.format(n=22)}\n\n{BODY}",
        url="https://wire.example/old",
        published=T0 - timedelta(days=5),
    )
    chatter = Article.create(
        title="Council budget",
        text="The city council approved a budget for road repairs on Tuesday, the mayor said.",
        url="https://wire.example/budget",
        published=T0,
    )
    for a in (old, chatter):
        await ingest(IngestArticle(a, T0))
    async with uow_factory() as uow:
        assert await uow.watches.get(old.id) is None
        assert await uow.watches.get(chatter.id) is None
