"""Small HTTP servers on 127.0.0.x for tests, serving feeds to a bot under test.

``MiniServer`` (asyncio streams, on the test's own loop) gives byte-level control:
no Content-Length, a body dripped a byte at a time, a Content-Length that is never
honoured. One request per connection; every response closes it.

``LoopbackServer`` (threads) is for the feed farms of the multi-process tests and the
benchmarks, which take a hundred and more fetches at once. With the standard library's
listen backlog of 5 a busy machine drops connection attempts, and a feed whose first
fetch fails waits out the bot's 60 s first backoff (a CI run of the scale test timed
out on exactly that), so its backlog is large. A bot that gives up on a request (its
fetch deadline, a worker killed mid-poll) leaves a broken connection behind: expected,
not printed. Any other error in a handler is, so a bug in a farm still shows.

Nothing may contact anything but 127.0.0.x.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names


Handler = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class MiniServer:
    """HTTP/1.1, one request per connection (every response closes the connection)."""

    host: str = "127.0.0.1"
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            request = Request(method, path, headers)
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                handler = self.routes.get(path.split("?", 1)[0], not_found)
                await handler(request, writer)
            finally:
                self.in_flight -= 1
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._tasks.discard(task)


def head(status: int, headers: dict[str, str] | None = None, *, length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def respond(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    writer.write(head(status, headers, length=len(body)) + body)
    await writer.drain()


async def not_found(request: Request, writer: asyncio.StreamWriter) -> None:
    await respond(writer, 404, b"no such page")


def redirect_to(location: str, status: int = 302) -> Handler:
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, status, headers={"Location": location})

    return handler


def status_handler(status: int) -> Handler:
    async def handler(request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, status, b"error page")

    return handler


class LoopbackServer(ThreadingHTTPServer):
    """``with LoopbackServer(Handler) as server:`` serves on ``server.port`` until the end."""

    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.port = self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away mid-request
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
