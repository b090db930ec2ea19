"""Re-checking a page that fights back: a stacked-gzip bomb, a process out of memory.

The page is a stranger's. Whatever it does is a failed check of that page, saved with
its lease released and tried again at its next time; nothing escapes as a "work item
failed" that leaves the lease to expire.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio

from bot.fetching import FetchResult, Validators
from bot.service.bus import MessageBus
from bot.service.ingest import Ingestor
from bot.service.recheck import Rechecker
from tests.localhttp import Request, respond
from tests.test_recheck import T0, PageServer, UowFactory, setup, watch_of


@pytest_asyncio.fixture
async def server() -> AsyncIterator[PageServer]:
    srv = PageServer()
    await srv.start()
    yield srv
    await srv.stop()


def stacked_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(2**20)
    inner = b"".join(packer.compress(block) for _ in range(256)) + packer.flush()
    return gzip.compress(inner, 9)


async def test_a_stacked_gzip_page_is_a_failed_check_and_stays_watched(
    uow_factory: UowFactory, server: PageServer
) -> None:
    rechecker, sink, clock = await setup(uow_factory, server)
    bomb = stacked_bomb()

    async def hostile(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, bomb, {"Content-Encoding": "gzip, gzip"})

    server.routes["/quake"] = hostile
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None
    clock.now = T0 + timedelta(minutes=5)
    report = await rechecker.check(watch)
    assert report.error is not None and "bad_encoding" in report.error
    after = await watch_of(uow_factory, server.url("/quake"))
    assert after is not None and after.checks == 1 and after.next_check_at > clock.now
    assert sink.alerts == []


class ExhaustedFetcher:
    async def fetch(self, url: str, *, validators: Validators | None = None) -> FetchResult:
        raise MemoryError

    async def aclose(self) -> None:
        return None


async def test_a_memory_error_is_a_failed_check_not_an_escaped_exception(
    uow_factory: UowFactory, server: PageServer
) -> None:
    _real, sink, clock = await setup(uow_factory, server)
    bus = MessageBus(Ingestor(uow_factory), [sink])
    rechecker = Rechecker(uow_factory, bus, ExhaustedFetcher(), clock=clock)
    watch = await watch_of(uow_factory, server.url("/quake"))
    assert watch is not None
    clock.now = T0 + timedelta(minutes=5)
    report = await rechecker.check(watch)
    assert report.error == "re-check failed: MemoryError" and not report.fetched
    after = await watch_of(uow_factory, server.url("/quake"))
    assert after is not None and after.checks == 1
    assert after.next_check_at == clock.now + timedelta(minutes=5)
    assert sink.alerts == []
