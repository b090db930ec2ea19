"""Content-Encoding against real servers on 127.0.0.1: one layer, decoded under the cap.

The bombs are built here, streamed through zlib so that building them costs little:
``gzip, gzip`` and a triple layer must be refused, and a single gzip layer of far more
than the cap must stop at the cap *while inflating* (the memory peak shows whether the
bytes were inflated whole first, which is what httpx's own decoders do).
"""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from adapters.http_fetch import HttpxFetcher
from bot.fetching import FetchError, FetchErrorKind, FetchLimits
from tests.localhttp import MiniServer, Request, respond

MiB = 2**20


def gzip_of_zeros(size: int) -> bytes:
    """gzip of ``size`` zero bytes, compressed piecewise (never ``size`` bytes in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MiB)
    parts = [packer.compress(block) for _ in range(size // MiB)]
    parts.append(packer.flush())
    return b"".join(parts)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[MiniServer]:
    srv = MiniServer()
    await srv.start()
    yield srv
    await srv.stop()


def serve(server: MiniServer, path: str, body: bytes, encoding: str) -> None:
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, body, {"Content-Encoding": encoding})

    server.routes[path] = handler


async def fetch_error(server: MiniServer, path: str, *, max_bytes: int = MiB) -> FetchError:
    async with HttpxFetcher(FetchLimits(allow_private=True, max_bytes=max_bytes)) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url(path))
    return info.value


@pytest.mark.parametrize("layers", [2, 3])
async def test_stacked_gzip_bomb_is_refused(server: MiniServer, layers: int) -> None:
    body = gzip_of_zeros(256 * MiB)  # 256 MiB inside
    for _ in range(layers - 1):
        body = gzip.compress(body, 9)
    assert len(body) < 64 * 1024
    serve(server, "/bomb", body, ", ".join(["gzip"] * layers))
    tracemalloc.start()
    try:
        error = await fetch_error(server, "/bomb")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.kind is FetchErrorKind.BAD_ENCODING
    assert "stacked" in error.reason and not error.permanent
    assert peak < 16 * MiB


async def test_stacked_encoding_in_two_headers_is_refused(server: MiniServer) -> None:
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        body = gzip.compress(gzip.compress(b"<rss/>"))
        writer.write(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Encoding: gzip\r\n"
            b"Content-Encoding: gzip\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        writer.write(body)
        await writer.drain()

    server.routes["/two"] = handler
    assert (await fetch_error(server, "/two")).kind is FetchErrorKind.BAD_ENCODING


async def test_single_gzip_bomb_stops_at_the_cap_while_inflating(server: MiniServer) -> None:
    body = gzip_of_zeros(128 * MiB)
    serve(server, "/bomb", body, "gzip")
    tracemalloc.start()
    try:
        error = await fetch_error(server, "/bomb")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.kind is FetchErrorKind.TOO_LARGE
    # The cap is 1 MiB: what was held is the cap and a few pieces, not 128 MiB.
    assert peak < 8 * MiB


@pytest.mark.parametrize("coding", ["br", "zstd", "compress", "gzip;q=1"])
async def test_unknown_encoding_is_refused(server: MiniServer, coding: str) -> None:
    serve(server, "/odd", b"\x8b\x00whatever", coding)
    error = await fetch_error(server, "/odd")
    assert error.kind is FetchErrorKind.BAD_ENCODING
    assert "not supported" in error.reason


@pytest.mark.parametrize(
    ("coding", "pack"),
    [
        ("gzip", lambda b: gzip.compress(b)),
        ("x-gzip", lambda b: gzip.compress(b)),
        ("deflate", lambda b: zlib.compress(b)),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),  # raw, as some send
        ("identity", lambda b: b),
        ("gzip, identity", lambda b: gzip.compress(b)),
    ],
)
async def test_one_layer_is_decoded(server: MiniServer, coding: str, pack: object) -> None:
    text = b"<html>" + b"the toll rose to 41 " * 20_000 + b"</html>"  # 400 KB: many pieces
    assert callable(pack)
    serve(server, "/page", pack(text), coding)
    async with HttpxFetcher(FetchLimits(allow_private=True, max_bytes=MiB)) as f:
        assert (await f.fetch(server.url("/page"))).body == text


async def test_gzip_members_in_a_row_are_one_body(server: MiniServer) -> None:
    serve(server, "/multi", gzip.compress(b"first half, ") + gzip.compress(b"second half"), "gzip")
    async with HttpxFetcher(FetchLimits(allow_private=True)) as f:
        assert (await f.fetch(server.url("/multi"))).body == b"first half, second half"


async def test_decoded_body_at_exactly_the_cap_is_accepted(server: MiniServer) -> None:
    serve(server, "/exact", gzip.compress(b"a" * 5000), "gzip")
    async with HttpxFetcher(FetchLimits(allow_private=True, max_bytes=5000)) as f:
        assert len((await f.fetch(server.url("/exact"))).body) == 5000
    serve(server, "/over", gzip.compress(b"a" * 5001), "gzip")
    assert (await fetch_error(server, "/over", max_bytes=5000)).kind is FetchErrorKind.TOO_LARGE


async def test_corrupt_gzip_is_a_clear_failure(server: MiniServer) -> None:
    serve(server, "/bad", b"\x1f\x8b\x08\x00garbage-not-deflate", "gzip")
    error = await fetch_error(server, "/bad")
    assert error.kind is FetchErrorKind.BAD_ENCODING and "corrupt gzip" in error.reason
