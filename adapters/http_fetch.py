"""The Fetcher port over httpx: one shared client, bounded in time, size and reach.

What a fetch does, in order:

* :func:`bot.fetching.check_url` on the URL and on every redirect target;
* waits for a slot of the target host (at most ``per_host`` requests in flight per
  host — httpx only limits connections in total), then starts the overall deadline
  (``FetchLimits.timeout_s``; waiting for the first slot is not the server's fault,
  so it does not count);
* GET with ``Accept-Encoding: gzip, deflate`` and the conditional headers of the
  given validators; redirects are followed here, not by httpx, so that every hop goes
  through the same checks and the count is bounded;
* streams the raw body and decodes it itself (``adapters.http_decode``): one gzip or
  deflate layer at most, inflated in bounded pieces, aborting as soon as the decoded
  size passes ``max_bytes`` (and up front when Content-Length already says so).

SSRF guard and DNS rebinding: the address check is done where the connection is made.
:class:`GuardedBackend` is the httpcore network backend of the client's transport; it
resolves the host itself, refuses the connection if *any* resolved address fails the
address policy, and then connects to one of exactly those checked addresses. A name that
resolves to a public address for the check and to 127.0.0.1 for the connection is thus
impossible. TLS still uses the host name for SNI and certificate checks (httpcore passes
the origin's host to ``start_tls``) and the Host header is the URL's. The one private
detail relied on is ``AsyncHTTPTransport._pool`` (httpx 0.28), replaced with a pool that
uses this backend; tests fail loudly if that changes (the blocked-address tests count
the requests the server receives).

Proxies from the environment are ignored (``trust_env=False``): a proxy would do its
own resolution and defeat the guard. Cookies are not kept between fetches.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import http.cookiejar
import ipaddress
import logging
import socket
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from adapters.http_decode import BoundedDecoder, CorruptBody, EncodingRefused, content_coding
from bot.fetching import (
    AddressPolicy,
    FetchError,
    FetchErrorKind,
    FetchLimits,
    FetchResult,
    IPAddress,
    Validators,
    address_allowed,
    address_class,
    check_url,
    redact_url,
)

log = logging.getLogger(__name__)

# Resolves a host name (or IP literal) and port to the addresses it stands for.
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """All addresses of ``host`` from the system resolver (loop.getaddrinfo)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        # IPv6 sockaddrs may carry a zone ("fe80::1%eth0"); the zone is not part of the
        # address class.
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the policy allows.

    Resolution, check and connection use the same list of addresses (no DNS-rebinding
    window between check and connect).
    """

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target = f"{host}:{port}"
        try:
            addresses = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            try:
                addresses = await self._resolver(host, port)
            except OSError as exc:
                raise FetchError(
                    FetchErrorKind.NETWORK, f"cannot resolve {host}: {exc}", url=target
                ) from exc
        if not addresses:
            raise FetchError(FetchErrorKind.NETWORK, f"{host} has no address", url=target)
        for ip in addresses:
            if not self._policy(ip):
                raise FetchError(
                    FetchErrorKind.BLOCKED_ADDRESS,
                    f"{host} resolves to {ip}, a {address_class(ip)} address",
                    url=target,
                )
        last_error: Exception | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError(FetchErrorKind.BLOCKED_ADDRESS, "unix sockets are not fetched", url=path)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool on a :class:`GuardedBackend`."""

    def __init__(self, backend: GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, http1=True, http2=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )


@dataclass
class _HostSlots:
    semaphore: asyncio.Semaphore
    users: int = field(default=0)


class HttpxFetcher:
    """The :class:`bot.fetching.Fetcher` port over one shared ``httpx.AsyncClient``."""

    def __init__(
        self,
        limits: FetchLimits | None = None,
        *,
        max_connections: int = 50,
        per_host: int = 4,
        address_policy: AddressPolicy | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        if max_connections < 1 or per_host < 1:
            raise ValueError("max_connections and per_host must be at least 1")
        self.limits = limits if limits is not None else FetchLimits()
        self.per_host = per_host
        policy = address_policy or functools.partial(
            address_allowed, allow_private=self.limits.allow_private
        )
        http_limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=min(max_connections, 20),
            keepalive_expiry=30.0,
        )
        transport = GuardedTransport(GuardedBackend(policy, resolver), http_limits)
        # No cookie is ever stored: fetches of unrelated sites must not share state.
        no_cookies = http.cookiejar.CookieJar(
            policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
        )
        self._client = httpx.AsyncClient(
            transport=transport,
            trust_env=False,
            follow_redirects=False,
            timeout=httpx.Timeout(self.limits.timeout_s),
            cookies=no_cookies,
            headers={
                "User-Agent": self.limits.user_agent,
                "Accept-Encoding": "gzip, deflate",
            },
        )
        self._hosts: dict[str, _HostSlots] = {}

    async def __aenter__(self) -> typing.Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        """At most ``per_host`` requests in flight to ``host`` across all fetches."""
        slots = self._hosts.get(host)
        if slots is None:
            slots = self._hosts[host] = _HostSlots(asyncio.Semaphore(self.per_host))
        slots.users += 1
        try:
            async with slots.semaphore:
                yield
        finally:
            slots.users -= 1
            if slots.users == 0:
                del self._hosts[host]  # keep the table as small as the current work

    async def fetch(self, url: str, *, validators: Validators | None = None) -> FetchResult:
        check_url(url)
        loop = asyncio.get_running_loop()
        started: float | None = None
        current = url
        redirects: list[str] = []
        headers = validators.request_headers() if validators is not None else {}
        try:
            async with asyncio.timeout(None) as deadline:
                while True:
                    host = (urlsplit(current).hostname or "").lower()
                    async with self._host_slot(host):
                        if started is None:
                            started = time.monotonic()
                            deadline.reschedule(loop.time() + self.limits.timeout_s)
                        outcome = await self._request(current, headers)
                    if isinstance(outcome, _Body):
                        return self._result(current, outcome, started, redirects)
                    target = outcome
                    check_url(target)
                    loop_found = target == url or target in redirects
                    if loop_found or len(redirects) >= self.limits.max_redirects:
                        reason = "loop" if loop_found else "limit"
                        raise FetchError(
                            FetchErrorKind.TOO_MANY_REDIRECTS,
                            f"redirect {reason} after {len(redirects)} redirects "
                            f"(max {self.limits.max_redirects})",
                            url=url,
                        )
                    redirects.append(target)
                    current = target
        except TimeoutError:
            raise FetchError(
                FetchErrorKind.TIMEOUT,
                f"no complete response within {self.limits.timeout_s:g} s",
                url=current,
            ) from None

    async def _request(self, url: str, headers: dict[str, str]) -> _Body | str:
        """One hop: the body of a 2xx/304, or the absolute URL a redirect points to."""
        log.debug("GET %s", redact_url(url))
        try:
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
        except FetchError as exc:  # from GuardedBackend, which knows only host:port
            raise FetchError(exc.kind, exc.reason, url=url, status=exc.status) from None
        except httpx.TimeoutException as exc:
            raise FetchError(FetchErrorKind.TIMEOUT, f"{type(exc).__name__}", url=url) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError(FetchErrorKind.BAD_URL, str(exc), url=url) from exc
        except httpx.HTTPError as exc:
            raise FetchError(FetchErrorKind.NETWORK, _describe(exc), url=url) from exc
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(
                        FetchErrorKind.HTTP_STATUS,
                        f"redirect {status} without Location",
                        url=url,
                        status=status,
                    )
                target: str = urljoin(url, location.strip())
                return target
            validators = Validators(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
            if status == 304:
                # Drain the (empty, but capped) body: a response closed unread takes its
                # connection with it, and every 304 poll would open a new one.
                await self._read_body(response, url)
                return _Body(status, b"", validators)
            if not 200 <= status < 300:
                raise FetchError(
                    FetchErrorKind.HTTP_STATUS,
                    f"HTTP {status} {response.reason_phrase}".rstrip(),
                    url=url,
                    status=status,
                )
            body = await self._read_body(response, url)
            return _Body(status, body, validators)
        finally:
            await response.aclose()

    async def _read_body(self, response: httpx.Response, url: str) -> bytes:
        """The decoded body, never holding more than ``max_bytes`` of it (+ one piece).

        The raw stream is decoded here (``adapters.http_decode``), not by httpx, whose
        decoders inflate each chunk whole: the cap must apply to what the bytes
        expand to, while they expand.
        """
        limit = self.limits.max_bytes
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            raise FetchError(
                FetchErrorKind.TOO_LARGE,
                f"Content-Length {int(declared)} exceeds {limit} bytes",
                url=url,
            )
        try:
            decoder = BoundedDecoder(
                content_coding(response.headers.get_list("Content-Encoding")), limit
            )
        except EncodingRefused as exc:
            raise FetchError(FetchErrorKind.BAD_ENCODING, str(exc), url=url) from None
        chunks: list[bytes] = []
        raw_size = 0
        try:
            async for raw in response.aiter_raw():
                raw_size += len(raw)
                if raw_size > limit:
                    raise FetchError(
                        FetchErrorKind.TOO_LARGE, f"body exceeds {limit} bytes", url=url
                    )
                await self._decode_into(chunks, decoder.feed(raw), decoder, url)
            await self._decode_into(chunks, decoder.flush(), decoder, url)
        except CorruptBody as exc:
            raise FetchError(FetchErrorKind.BAD_ENCODING, str(exc), url=url) from None
        except httpx.TimeoutException as exc:
            raise FetchError(FetchErrorKind.TIMEOUT, f"{type(exc).__name__}", url=url) from exc
        except httpx.HTTPError as exc:
            raise FetchError(FetchErrorKind.NETWORK, _describe(exc), url=url) from exc
        return b"".join(chunks)

    @staticmethod
    async def _decode_into(
        chunks: list[bytes], pieces: Iterator[bytes], decoder: BoundedDecoder, url: str
    ) -> None:
        """Collect decoded pieces, letting other tasks run between them; stop at the cap."""
        for n, piece in enumerate(pieces):
            chunks.append(piece)
            if decoder.over_limit:
                raise FetchError(
                    FetchErrorKind.TOO_LARGE,
                    f"decoded body exceeds {decoder.limit} bytes",
                    url=url,
                )
            if n % 8 == 7:
                await asyncio.sleep(0)  # a long run of pieces must not hold the loop

    @staticmethod
    def _result(url: str, body: _Body, started: float, redirects: list[str]) -> FetchResult:
        not_modified = body.status == 304
        return FetchResult(
            url=url,
            status=body.status,
            body=body.content,
            validators=body.validators,
            not_modified=not_modified,
            content_hash="" if not_modified else hashlib.sha256(body.content).hexdigest(),
            elapsed_s=time.monotonic() - started,
            redirects=tuple(redirects),
        )


@dataclass(frozen=True, slots=True)
class _Body:
    status: int
    content: bytes
    validators: Validators


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
