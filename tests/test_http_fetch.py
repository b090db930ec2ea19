"""HttpxFetcher against real HTTP servers on 127.0.0.x.

The servers are a few lines of asyncio streams rather than a framework: the tests need
byte-level control (no Content-Length, a body dripped a byte at a time, a
Content-Length that is never honoured), and nothing here contacts anything but
127.0.0.x. The servers are on loopback, so most fetchers are built with
``allow_private=True``; the SSRF tests use the default policy or a narrower one.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import ipaddress
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from adapters.http_fetch import HttpxFetcher
from bot.fetching import (
    FetchError,
    FetchErrorKind,
    FetchLimits,
    IPAddress,
    Validators,
)
from tests.localhttp import (
    MiniServer,
    Request,
    head,
    redirect_to,
    respond,
    status_handler,
)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[MiniServer]:
    srv = MiniServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest_asyncio.fixture
async def fetcher() -> AsyncIterator[HttpxFetcher]:
    f = HttpxFetcher(FetchLimits(allow_private=True, timeout_s=5))
    yield f
    await f.aclose()


FEED = b"<rss><channel><title>News</title></channel></rss>"
ETAG = '"abc123"'
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


async def feed_handler(request: Request, writer: asyncio.StreamWriter) -> None:
    """Answers 304 when the client presents the current validators."""
    if (
        request.headers.get("if-none-match") == ETAG
        or request.headers.get("if-modified-since") == LAST_MODIFIED
    ):
        await respond(writer, 304, headers={"ETag": ETAG})
        return
    await respond(writer, 200, FEED, {"ETag": ETAG, "Last-Modified": LAST_MODIFIED})


async def test_200_captures_validators_and_hash(server: MiniServer, fetcher: HttpxFetcher) -> None:
    server.routes["/feed"] = feed_handler
    result = await fetcher.fetch(server.url("/feed"))
    assert result.status == 200 and not result.not_modified
    assert result.body == FEED
    assert result.content_hash == hashlib.sha256(FEED).hexdigest()
    assert result.validators == Validators(etag=ETAG, last_modified=LAST_MODIFIED)
    assert result.url == server.url("/feed") and result.redirects == ()
    assert 0 < result.elapsed_s < 5
    sent = server.requests[0].headers
    assert sent["user-agent"] == "claimwatch/0.1 (+news monitoring bot)"
    assert "gzip" in sent["accept-encoding"]
    assert "if-none-match" not in sent and "if-modified-since" not in sent


@pytest.mark.parametrize(
    "validators",
    [
        Validators(etag=ETAG, last_modified=LAST_MODIFIED),
        Validators(etag=ETAG),
        Validators(last_modified=LAST_MODIFIED),
    ],
)
async def test_conditional_get_304(
    server: MiniServer, fetcher: HttpxFetcher, validators: Validators
) -> None:
    server.routes["/feed"] = feed_handler
    result = await fetcher.fetch(server.url("/feed"), validators=validators)
    assert result.not_modified and result.status == 304
    assert result.body == b"" and result.content_hash == ""
    sent = server.requests[0].headers
    assert sent.get("if-none-match") == validators.etag
    assert sent.get("if-modified-since") == validators.last_modified


async def test_stale_validators_get_the_new_body(server: MiniServer, fetcher: HttpxFetcher) -> None:
    server.routes["/feed"] = feed_handler
    result = await fetcher.fetch(server.url("/feed"), validators=Validators(etag='"old"'))
    assert result.status == 200 and result.body == FEED and not result.not_modified


async def test_gzip_body_is_decoded(server: MiniServer, fetcher: HttpxFetcher) -> None:
    text = b"<html>" + b"claim " * 5000 + b"</html>"

    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        assert "gzip" in request.headers["accept-encoding"]
        await respond(writer, 200, gzip.compress(text), {"Content-Encoding": "gzip"})

    server.routes["/page"] = handler
    result = await fetcher.fetch(server.url("/page"))
    assert result.body == text
    assert result.content_hash == hashlib.sha256(text).hexdigest()


async def test_gzip_bomb_stopped_by_decoded_size(server: MiniServer) -> None:
    bomb = gzip.compress(b"\0" * (4 * 2**20))  # ~4 KiB on the wire, 4 MiB decoded

    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, bomb, {"Content-Encoding": "gzip"})

    server.routes["/bomb"] = handler
    async with HttpxFetcher(FetchLimits(allow_private=True, max_bytes=2**20)) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/bomb"))
    assert info.value.kind is FetchErrorKind.TOO_LARGE


async def test_500_is_transient_http_status(server: MiniServer, fetcher: HttpxFetcher) -> None:
    server.routes["/boom"] = status_handler(500)
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/boom?token=secret"))
    error = info.value
    assert error.kind is FetchErrorKind.HTTP_STATUS and error.status == 500
    assert not error.permanent
    assert "secret" not in str(error) and "/boom" in str(error)


async def test_410_is_permanent(server: MiniServer, fetcher: HttpxFetcher) -> None:
    server.routes["/gone"] = status_handler(410)
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/gone"))
    assert info.value.kind is FetchErrorKind.HTTP_STATUS and info.value.status == 410
    assert info.value.permanent


async def test_slow_drip_is_cut_at_the_deadline(server: MiniServer) -> None:
    async def drip(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200))  # no Content-Length: the body ends when the server closes
        await writer.drain()
        for _ in range(100):  # 20 s if nobody stops it
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    server.routes["/drip"] = drip
    async with HttpxFetcher(FetchLimits(allow_private=True, timeout_s=1)) as f:
        started = time.monotonic()
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/drip"))
        elapsed = time.monotonic() - started
    assert info.value.kind is FetchErrorKind.TIMEOUT
    assert not info.value.permanent
    assert 0.9 <= elapsed < 1.5


async def test_streamed_body_over_limit_aborts(server: MiniServer) -> None:
    sent = 0

    async def big(request: Request, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        writer.write(head(200))  # no Content-Length
        chunk = b"y" * 65536
        for _ in range(32):  # 2 MiB
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)

    server.routes["/big"] = big
    async with HttpxFetcher(FetchLimits(allow_private=True, max_bytes=2**20)) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/big"))
    assert info.value.kind is FetchErrorKind.TOO_LARGE
    assert "exceeds" in str(info.value)


async def test_body_at_exactly_the_limit_is_accepted(server: MiniServer) -> None:
    async def exact(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, b"z" * 1000)

    server.routes["/exact"] = exact
    async with HttpxFetcher(FetchLimits(allow_private=True, max_bytes=1000)) as f:
        assert len((await f.fetch(server.url("/exact"))).body) == 1000


async def test_declared_length_over_limit_refused_without_reading(server: MiniServer) -> None:
    async def liar(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, length=10 * 2**20))  # then never sends the body
        await writer.drain()
        await asyncio.sleep(30)

    server.routes["/huge"] = liar
    async with HttpxFetcher(FetchLimits(allow_private=True, max_bytes=2**20)) as f:
        started = time.monotonic()
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/huge"))
    assert info.value.kind is FetchErrorKind.TOO_LARGE
    assert "Content-Length" in str(info.value)
    assert time.monotonic() - started < 0.5  # did not wait for a body


async def test_redirect_loop(server: MiniServer, fetcher: HttpxFetcher) -> None:
    server.routes["/a"] = redirect_to("/b")
    server.routes["/b"] = redirect_to("/a")
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/a"))
    assert info.value.kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert len(server.requests) == 2  # stopped at the first repeat


async def test_self_redirect_is_a_loop(server: MiniServer, fetcher: HttpxFetcher) -> None:
    server.routes["/self"] = redirect_to("/self", 301)
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/self"))
    assert info.value.kind is FetchErrorKind.TOO_MANY_REDIRECTS


async def test_redirect_chain_over_max(server: MiniServer) -> None:
    for i in range(10):
        server.routes[f"/r{i}"] = redirect_to(f"/r{i + 1}")
    async with HttpxFetcher(FetchLimits(allow_private=True, max_redirects=3)) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/r0"))
    assert info.value.kind is FetchErrorKind.TOO_MANY_REDIRECTS
    assert len(server.requests) == 4  # the original + 3 redirects followed


async def test_three_hop_redirect_followed_and_recorded(
    server: MiniServer, fetcher: HttpxFetcher
) -> None:
    server.routes["/start"] = redirect_to("/hop1", 301)
    server.routes["/hop1"] = redirect_to(server.url("/hop2"), 307)  # absolute
    server.routes["/hop2"] = redirect_to("final?x=1", 308)  # relative to /hop2
    server.routes["/final"] = feed_handler
    result = await fetcher.fetch(server.url("/start"))
    assert result.body == FEED and result.status == 200
    assert result.redirects == (
        server.url("/hop1"),
        server.url("/hop2"),
        server.url("/final?x=1"),
    )
    assert result.url == server.url("/final?x=1")
    assert [r.path for r in server.requests] == ["/start", "/hop1", "/hop2", "/final?x=1"]


async def test_redirect_to_bad_scheme_refused(server: MiniServer, fetcher: HttpxFetcher) -> None:
    server.routes["/r"] = redirect_to("file:///etc/passwd")
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(server.url("/r"))
    assert info.value.kind is FetchErrorKind.BAD_URL


async def test_per_host_concurrency_limit(server: MiniServer) -> None:
    async def slow(request: Request, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.1)
        await respond(writer, 200, b"ok")

    server.routes["/slow"] = slow
    async with HttpxFetcher(FetchLimits(allow_private=True, timeout_s=5), per_host=2) as f:
        results = await asyncio.gather(*(f.fetch(server.url("/slow")) for _ in range(10)))
        assert f._hosts == {}  # slots of idle hosts are dropped
    assert all(r.body == b"ok" for r in results)
    assert len(server.requests) == 10
    assert server.max_in_flight == 2


async def test_bad_url_refused_before_any_request(
    server: MiniServer, fetcher: HttpxFetcher
) -> None:
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(f"http://user:pw@127.0.0.1:{server.port}/")
    assert info.value.kind is FetchErrorKind.BAD_URL and info.value.permanent
    assert server.requests == []


async def test_connection_refused_is_network_error(fetcher: HttpxFetcher) -> None:
    probe = MiniServer()
    await probe.start()
    port = probe.port
    await probe.stop()  # nothing listens on this port any more
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(f"http://127.0.0.1:{port}/")
    assert info.value.kind is FetchErrorKind.NETWORK and not info.value.permanent


# --- SSRF guard -----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_default_policy_blocks_loopback_without_connecting(
    server: MiniServer, host: str
) -> None:
    async with HttpxFetcher() as f:  # allow_private=False
        with pytest.raises(FetchError) as info:
            await f.fetch(f"http://{host}:{server.port}/")
    assert info.value.kind is FetchErrorKind.BLOCKED_ADDRESS
    assert "loopback" in str(info.value)
    assert info.value.url == f"http://{host}:{server.port}/"
    assert server.requests == []


def only(*allowed: str) -> Callable[[IPAddress], bool]:
    addresses = {ipaddress.ip_address(a) for a in allowed}
    return lambda ip: ip in addresses


@pytest_asyncio.fixture
async def second_server() -> AsyncIterator[MiniServer]:
    srv = MiniServer(host="127.0.0.2")  # all of 127/8 is loopback on Linux
    await srv.start()
    yield srv
    await srv.stop()


async def test_redirect_to_blocked_address_refused(
    server: MiniServer, second_server: MiniServer
) -> None:
    second_server.routes["/secret"] = feed_handler
    server.routes["/go"] = redirect_to(second_server.url("/secret"))
    async with HttpxFetcher(FetchLimits(allow_private=True), address_policy=only("127.0.0.1")) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/go"))
        # The same policy lets the first server through.
        server.routes["/feed"] = feed_handler
        assert (await f.fetch(server.url("/feed"))).body == FEED
    assert info.value.kind is FetchErrorKind.BLOCKED_ADDRESS
    assert "127.0.0.2" in str(info.value)
    assert info.value.url == second_server.url("/secret")
    assert second_server.requests == []
    assert [r.path for r in server.requests] == ["/go", "/feed"]


async def test_host_blocked_if_any_address_is_blocked(server: MiniServer) -> None:
    async def resolver(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("169.254.169.254")]

    async with HttpxFetcher(
        FetchLimits(allow_private=True), address_policy=only("127.0.0.1"), resolver=resolver
    ) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch(f"http://news.test:{server.port}/")
    assert info.value.kind is FetchErrorKind.BLOCKED_ADDRESS
    assert "169.254.169.254" in str(info.value) and "link-local" in str(info.value)
    assert server.requests == []


async def test_connects_to_the_checked_address(server: MiniServer) -> None:
    """DNS rebinding: the address checked is the address connected to.

    The resolver answers an allowed address once and a blocked one afterwards; the
    fetch must connect to the first answer, and resolve once per connection.
    """
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address(next(answers))]

    # A second server at the rebound address, on the same port: a connection made after
    # a second resolution would land there.
    rebound = MiniServer(host="127.0.0.2", port=server.port)
    await rebound.start()
    rebound.routes["/feed"] = feed_handler
    server.routes["/feed"] = feed_handler
    async with HttpxFetcher(
        FetchLimits(allow_private=True), address_policy=only("127.0.0.1"), resolver=rebinding
    ) as f:
        try:
            result = await f.fetch(f"http://rebind.test:{server.port}/feed")
        finally:
            await rebound.stop()
    assert result.body == FEED
    assert calls == ["rebind.test"]
    assert rebound.requests == []
    assert server.requests[0].headers["host"] == f"rebind.test:{server.port}"


async def test_unresolvable_host_is_network_error() -> None:
    async def nxdomain(host: str, port: int) -> list[IPAddress]:
        raise OSError("Name or service not known")

    async with HttpxFetcher(resolver=nxdomain) as f:
        with pytest.raises(FetchError) as info:
            await f.fetch("http://does-not-exist.test/")
    assert info.value.kind is FetchErrorKind.NETWORK
