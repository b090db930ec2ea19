"""A tiny HTTP/1.1 server on 127.0.0.x for tests, written with asyncio streams.

The tests need byte-level control (no Content-Length, a body dripped a byte at a
time, a Content-Length that is never honoured), and nothing may contact anything
but 127.0.0.x. One request per connection; every response closes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


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
