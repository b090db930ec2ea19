"""A fake Discord platform (REST API + gateway) on 127.0.0.1 for the chat adapter tests.

The real discord.py client is pointed at it by assigning three class attributes
(``discord.http.Route.BASE``, ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``,
``discord.asset.Asset.BASE``); plain HTTP clients use :attr:`FakeDiscord.webhook_url`.

The server runs on its own event loop in a daemon thread so that one fake can serve a bot in
the test's own loop *and* a ``claimwatch run`` subprocess. Every public method is therefore
thread-safe: state lives behind one lock, inspection returns copies, and waiting helpers poll
(``wait_*`` block the calling thread, ``wait_*_async`` poll with ``asyncio.sleep`` so that a bot
sharing the test's loop keeps running).

Typical use (the bot in the test's loop)::

    with FakeDiscord() as fake:
        discord.http.Route.BASE = fake.api_base  # + DEFAULT_GATEWAY, Asset.BASE
        task = asyncio.create_task(client.start(fake.token))
        await fake.wait_ready_async()
        answer = await fake.slash("claimwatch", "story", {"id": "s-1"}).wait_done_async()
        assert answer.original is not None and "s-1" in answer.original.content

Faults (``rate_limit``, ``outage``) hit channel message POST/PATCH, thread creation and posts
through the alerts webhook; ``delete_channel``/``forbid_channel`` hit every request naming the
channel. Gateway traffic and interaction callbacks/followups are never faulted.

Times recorded by the fake (``received_at``, ``created_at``, ``callback_at``, request times) are
``time.monotonic()`` values, which are comparable across processes on the same host.

What discord.py 2.7 needs from a server (read from its source):

* JSON answers must carry ``Content-Type: application/json`` with no charset (http.py
  ``json_or_text``), so :func:`_json` builds bodies by hand: ``web.json_response`` adds a charset.
* A 429 needs a ``Via`` header or it is taken for a Cloudflare ban; the wait comes from
  ``retry_after`` in the JSON body.
* The gateway asks for ``compress=zlib-stream`` (zstd if ``zstandard`` imports, which this fake
  does not speak): one ``zlib.compressobj`` per connection, each payload ending in a sync flush.
* Interaction callbacks are POSTed with ``?with_response=1`` and parsed as an
  InteractionCallbackResponse (``{"interaction": {...}, "resource": {...}}``); INTERACTION_CREATE
  needs ``attachment_size_limit``; user objects need ``avatar``, members need ``flags``.
"""

# The async waiting helpers mirror the sync ones, ``timeout`` included, so that a test can switch
# between them; asyncio.timeout() would not let the same predicate be polled from a sync caller.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import re
import secrets
import socket
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, NamedTuple, Self, TypedDict, TypeVar

from aiohttp import BodyPartReader, WSMsgType, web

JSON = dict[str, Any]
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7
# What @everyone may do: view, send, embed, attach, read history, use commands, threads.
EVERYONE_PERMISSIONS = sum(1 << bit for bit in (10, 11, 14, 15, 16, 31, 35, 38))
APP_PERMISSIONS = (1 << 51) - 1
DISCORD_EPOCH_MS = 1_420_070_400_000
POLL_INTERVAL = 0.01
API_PREFIXES = ("/api/v10", "/api/v9", "/api")


class RequestRecord(NamedTuple):
    """One HTTP request as the fake answered it (rejected ones included)."""

    method: str
    path: str
    status: int
    at: float


class AttachmentRecord(TypedDict):
    """An uploaded file, kept byte for byte."""

    id: str
    filename: str
    bytes: bytes
    content_type: str
    size: int
    description: str | None


@dataclass
class MessageEdit:
    """One PATCH of a message: the raw payload and what the message looked like before."""

    at: float
    payload: JSON
    before: JSON


@dataclass
class MessageRecord:
    """A message as the fake stored it; ``edits`` keeps the history of PATCHes."""

    id: str
    channel_id: str
    content: str
    embeds: list[JSON]
    attachments: list[AttachmentRecord]
    allowed_mentions: JSON | None
    components: list[JSON]
    message_reference: JSON | None
    flags: int
    received_at: float
    author: JSON
    payload: JSON
    timestamp: str
    via_webhook: bool = False
    webhook_id: str | None = None
    interaction_id: str | None = None
    message_type: int = 0
    thread_id: str | None = None
    deleted: bool = False
    edited_timestamp: str | None = None
    edits: list[MessageEdit] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)


@dataclass
class ThreadRecord:
    """A thread channel; ``message_id`` is the message it was started from (if any)."""

    id: str
    parent_id: str
    message_id: str | None
    name: str
    type: int
    created_at: float


@dataclass
class _Upload:
    index: str
    filename: str
    data: bytes
    content_type: str


class Interaction:
    """One INTERACTION_CREATE the fake dispatched and everything the bot answered.

    The fake's thread updates it; each property takes the fake's lock and returns a copy, so a
    test may poll it from any thread while the bot answers.
    """

    def __init__(
        self,
        *,
        lock: threading.RLock,
        id: str,
        token: str,
        type: int,
        name: str,
        options: list[JSON],
        user_id: str,
        channel_id: str,
        payload: JSON,
        created_at: float,
    ) -> None:
        self._lock = lock
        self.id = id
        self.token = token
        self.type = type
        self.name = name
        self.options = options
        self.user_id = user_id
        self.channel_id = channel_id
        self.payload = payload
        self.created_at = created_at
        self._callback_type: int | None = None
        self._callback_at: float | None = None
        self._callback_data: JSON | None = None
        self._original: MessageRecord | None = None
        self._followups: list[MessageRecord] = []
        self._done_at: float | None = None
        self._rejected: list[str] = []

    def __repr__(self) -> str:
        return f"<Interaction {self.name} id={self.id} callback_type={self.callback_type}>"

    @property
    def callback_type(self) -> int | None:
        with self._lock:
            return self._callback_type

    @property
    def callback_at(self) -> float | None:
        with self._lock:
            return self._callback_at

    @property
    def callback_data(self) -> JSON | None:
        with self._lock:
            return copy.deepcopy(self._callback_data)

    @property
    def original(self) -> MessageRecord | None:
        """The original response as it stands after edits (None before a type 4/5 callback)."""
        with self._lock:
            return copy.deepcopy(self._original)

    @property
    def followups(self) -> list[MessageRecord]:
        with self._lock:
            return copy.deepcopy(self._followups)

    @property
    def rejected(self) -> list[str]:
        """Why callbacks were refused (too late, acknowledged twice): the bot saw an error."""
        with self._lock:
            return list(self._rejected)

    @property
    def ephemeral(self) -> bool:
        with self._lock:
            return bool(int((self._callback_data or {}).get("flags") or 0) & EPHEMERAL)

    @property
    def choices(self) -> list[JSON]:
        """Autocomplete choices of a type 8 callback."""
        with self._lock:
            return copy.deepcopy(list((self._callback_data or {}).get("choices") or []))

    @property
    def done(self) -> bool:
        with self._lock:
            return self._done_at is not None

    @property
    def done_at(self) -> float | None:
        """When the final answer arrived: the callback, or the edit/followup after a defer."""
        with self._lock:
            return self._done_at

    def _refresh_done(self, now: float) -> None:
        """Called under the lock after every change: a defer is final only once filled in."""
        kind = self._callback_type
        if self._done_at is not None or kind is None:
            return
        if kind in (5, 6):
            edited = self._original is not None and bool(self._original.edits)
            if not (edited or self._followups):
                return
        self._done_at = now

    def wait_done(self, timeout: float = 5.0) -> Self:
        _poll(lambda: self.done, timeout, f"an answer to {self!r}")
        return self

    async def wait_done_async(self, timeout: float = 5.0) -> Self:
        await _poll_async(lambda: self.done, timeout, f"an answer to {self!r}")
        return self


def _poll(check: Callable[[], T], timeout: float, what: str) -> T:
    """Block until ``check()`` is truthy; the fake's loop is elsewhere, so sleeping is safe."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


async def _poll_async(check: Callable[[], T], timeout: float, what: str) -> T:
    """Like :func:`_poll` but yields to the caller's loop (an in-process bot may live there)."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(POLL_INTERVAL)
        value = check()
    return value


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON answer without a charset suffix (discord.py compares the header exactly)."""
    body = json.dumps(data).encode()
    return web.Response(
        body=body, status=status, content_type="application/json", headers=dict(headers or {})
    )


def _error(status: int, message: str, code: int = 0) -> web.Response:
    return _json({"message": message, "code": code}, status)


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if ts is None else ts, UTC).isoformat()


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


async def _read_body(request: web.Request) -> tuple[JSON, list[_Upload]]:
    """JSON or multipart (``payload_json`` + ``files[n]``), as discord.py and webhooks send."""
    if not request.content_type.startswith("multipart/"):
        raw = await request.read()
        body = json.loads(raw) if raw else {}
        return (body if isinstance(body, dict) else {"_": body}), []
    payload: JSON = {}
    uploads: list[_Upload] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        if part.filename is not None:
            match = re.fullmatch(r"files\[(\d+)\]", name)
            index = match.group(1) if match else f"extra{len(uploads)}"
            data = bytes(await part.read(decode=False))
            ctype = part.headers.get("Content-Type", "")
            uploads.append(_Upload(index, part.filename, data, ctype))
        elif name == "payload_json":
            payload.update(json.loads(await part.text()))
        else:
            payload[name] = await part.text()
    return payload, uploads


class _Snowflakes:
    """Increasing Discord-style ids (timestamp << 22), so ``created_at`` looks right."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            value = max(self._last + 1, (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22)
            self._last = value
            return str(value)


@dataclass
class _Session:
    id: str
    intents: int
    seq: int = 0


class _Connection:
    """One gateway websocket; sends are serialised because the zlib stream is stateful."""

    def __init__(self, ws: web.WebSocketResponse, zlib_stream: bool) -> None:
        self.ws = ws
        self.compressor = zlib.compressobj() if zlib_stream else None
        self.session: _Session | None = None
        self.ready = False
        self.send_lock = asyncio.Lock()

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        async with self.send_lock:
            seq = None
            if op == 0 and self.session is not None:
                self.session.seq += 1
                seq = self.session.seq
            text = json.dumps({"op": op, "d": data, "s": seq, "t": event})
            if self.compressor is None:
                await self.ws.send_str(text)
            else:
                chunk = self.compressor.compress(text.encode()) + self.compressor.flush(
                    zlib.Z_SYNC_FLUSH
                )
                await self.ws.send_bytes(chunk)


class FakeDiscord:
    """Fake Discord: one guild, text channels, one webhook, slash commands over the gateway.

    Use as a context manager (or ``start()``/``stop()``); see the module docstring.
    """

    def __init__(
        self,
        *,
        channels: Sequence[str] = ("alerts", "general"),
        ack_deadline: float | None = 3.0,
        heartbeat_interval_ms: int = 41250,
        nonce_window: float | None = 300.0,
    ) -> None:
        """``nonce_window``: seconds for which a repeated ``enforce_nonce`` post gets the
        earlier message back (Discord: "a few minutes"); ``None`` for ever."""
        self._ids = _Snowflakes()
        self.nonce_window = nonce_window
        self._lock = threading.RLock()
        self.token = "fake." + secrets.token_urlsafe(24)
        self.application_id = self._ids.next()
        self.bot_user_id = self.application_id
        self.guild_id = self._ids.next()
        self.ack_deadline = ack_deadline
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.role_ids: dict[str, str] = {"@everyone": self.guild_id, "Editors": self._ids.next()}
        self.user_ids: dict[str, str] = {}
        self.owner_id = self.user_id_for("owner")
        self.channel_ids: dict[str, str] = {name: self._ids.next() for name in channels}
        self._channels: dict[str, JSON] = {
            cid: self._text_channel(name, position)
            for position, (name, cid) in enumerate(self.channel_ids.items())
        }
        self.webhook_id = self._ids.next()
        self.webhook_token = secrets.token_urlsafe(32)
        self.webhook_channel_id = self.channel_ids.get("alerts") or next(iter(self.channel_ids))
        self._messages: dict[str, MessageRecord] = {}
        self._listed: dict[str, list[str]] = {cid: [] for cid in self._channels}
        self._threads: dict[str, ThreadRecord] = {}
        self._commands: dict[str | None, list[JSON]] = {}
        self._interactions: dict[str, Interaction] = {}
        self._requests: list[RequestRecord] = []
        self._deleted: set[str] = set()
        self._forbidden: set[str] = set()
        self._rate_limited = 0
        self._retry_after = 0.5
        self._outage_until = 0.0
        self._outage_status = 503
        self._outage_html = False
        self._outage_lands = False
        self._outage_reads = False
        self._history_forbidden: set[str] = set()
        self._threads_refused: dict[str, int] = {}
        self._connections: list[_Connection] = []
        self._sessions: dict[str, _Session] = {}
        self.identify_count = 0
        self.resume_count = 0
        self.nonce_hits = 0
        self._holds_left = 0
        self._hold_seconds = 0.0
        """Posts answered with an earlier message because their nonce repeated."""
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Start the loop thread and listen on 127.0.0.1:<free port>."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="fake-discord", daemon=True
        )
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._serve(), loop).result(10)
        return self

    def stop(self) -> None:
        """Close gateway connections and the server, then end the loop thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> int:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app.router)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        return int(sock.getsockname()[1])

    async def _shutdown(self) -> None:
        for conn in list(self._connections):
            await conn.ws.close(code=1001, message=b"fake shutting down")
        if self._runner is not None:
            await self._runner.cleanup()

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the fake's loop from any other thread and wait for it."""
        if self._loop is None:
            raise RuntimeError("FakeDiscord is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # ----------------------------------------------------------------- addresses
    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/api/webhooks/{self.webhook_id}/{self.webhook_token}"

    def user_id_for(self, label: str) -> str:
        """A stable snowflake for a test's user label ("U1"); numeric labels are kept."""
        with self._lock:
            if label.isdigit():
                return label
            if label not in self.user_ids:
                self.user_ids[label] = self._ids.next()
            return self.user_ids[label]

    # ----------------------------------------------------------------- fault injection
    def rate_limit(self, count: int, retry_after: float = 0.5) -> None:
        """The next ``count`` message/thread/webhook writes answer 429 (a per-route limit)."""
        with self._lock:
            self._rate_limited = count
            self._retry_after = retry_after

    def outage(
        self,
        seconds: float,
        status: int = 503,
        *,
        html: bool = False,
        lands: bool = False,
        reads: bool = False,
    ) -> None:
        """For ``seconds``, message/thread/webhook writes answer ``status`` with a JSON error
        (``html``: a proxy's HTML page). ``lands``: a channel message POST is stored all the
        same and only its answer is the error, so the client cannot know it was posted.
        ``reads``: message history reads (the bot's look-ups) fail as well."""
        with self._lock:
            self._outage_until = time.monotonic() + seconds
            self._outage_status = status
            self._outage_html = html
            self._outage_lands = lands
            self._outage_reads = reads

    def forbid_history(self, channel_id: str | int) -> None:
        """Reading the channel's (and its threads') messages answers 403 Missing Access, as for
        a bot that may post but not read; posting still works."""
        with self._lock:
            self._history_forbidden.add(str(channel_id))

    def refuse_threads(self, channel_id: str | int, status: int = 403) -> None:
        """Opening a thread in the channel answers 403 Missing Permissions (or 404 Unknown
        Channel), as for a bot without Create Public Threads; posting still works."""
        with self._lock:
            self._threads_refused[str(channel_id)] = status

    def delete_channel(self, channel_id: str | int, *, notify: bool = False) -> None:
        """Requests to the channel answer 404 Unknown Channel (its webhook: Unknown Webhook).

        ``notify`` also sends CHANNEL_DELETE, so the bot's cache forgets the channel.
        """
        with self._lock:
            self._deleted.add(str(channel_id))
            payload = self._channels.get(str(channel_id))
        if notify and payload is not None:
            self._run(self._broadcast("CHANNEL_DELETE", payload))

    def forbid_channel(self, channel_id: str | int) -> None:
        """Requests to the channel answer 403 Missing Access."""
        with self._lock:
            self._forbidden.add(str(channel_id))

    def restore_channel(self, channel_id: str | int) -> None:
        with self._lock:
            self._deleted.discard(str(channel_id))
            self._forbidden.discard(str(channel_id))
            self._history_forbidden.discard(str(channel_id))
            self._threads_refused.pop(str(channel_id), None)

    def drop_connections(self, code: int = 4000) -> None:
        """Close every gateway connection (discord.py then RESUMEs); does not wait."""
        if self._loop is None:
            raise RuntimeError("FakeDiscord is not started")
        with self._lock:
            conns = list(self._connections)
            for conn in conns:
                conn.ready = False
        for conn in conns:
            asyncio.run_coroutine_threadsafe(conn.ws.close(code=code), self._loop)

    # ----------------------------------------------------------------- inspection
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def messages(self, channel_id: str | int) -> list[MessageRecord]:
        """Messages listed in a channel or thread, in arrival order (ephemeral ones are not)."""
        with self._lock:
            ids = self._listed.get(str(channel_id), [])
            return [copy.deepcopy(self._messages[mid]) for mid in ids]

    def all_messages(self) -> list[MessageRecord]:
        with self._lock:
            ids = sorted((mid for ids in self._listed.values() for mid in ids), key=int)
            return [copy.deepcopy(self._messages[mid]) for mid in ids]

    def message(self, message_id: str | int) -> MessageRecord | None:
        with self._lock:
            found = self._messages.get(str(message_id))
            return copy.deepcopy(found)

    def threads(self) -> list[ThreadRecord]:
        with self._lock:
            return [copy.copy(t) for t in self._threads.values()]

    def registered_commands(self, guild: str | int | None = None) -> list[JSON]:
        """Commands from the last PUT (global when ``guild`` is None)."""
        with self._lock:
            return copy.deepcopy(self._commands.get(None if guild is None else str(guild), []))

    def interactions(self) -> list[Interaction]:
        with self._lock:
            return list(self._interactions.values())

    def connected(self) -> bool:
        """True while a client that identified (or resumed) and got READY is connected."""
        with self._lock:
            return any(c.ready and not c.ws.closed for c in self._connections)

    def _ready_check(self, identifies: int) -> Callable[[], bool]:
        return lambda: self.connected() and self.identify_count >= identifies

    def wait_ready(self, timeout: float = 5.0, *, identifies: int = 1) -> None:
        """Wait for a connected client; ``identifies`` > 1 waits for a reconnect after restart."""
        _poll(self._ready_check(identifies), timeout, "a gateway client to be ready")

    async def wait_ready_async(self, timeout: float = 5.0, *, identifies: int = 1) -> None:
        await _poll_async(self._ready_check(identifies), timeout, "a gateway client to be ready")

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Poll ``predicate`` (called in this thread) until truthy; returns its value."""
        return _poll(predicate, timeout, getattr(predicate, "__name__", "predicate"))

    async def wait_for_async(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        return await _poll_async(predicate, timeout, getattr(predicate, "__name__", "predicate"))

    def _count_check(self, channel_id: str | int, count: int) -> Callable[[], list[MessageRecord]]:
        def enough() -> list[MessageRecord]:
            found = self.messages(channel_id)
            return found if len(found) >= count else []

        return enough

    def wait_for_messages(
        self, channel_id: str | int, count: int = 1, timeout: float = 5.0
    ) -> list[MessageRecord]:
        """Wait until the channel lists at least ``count`` messages; returns them all."""
        return _poll(self._count_check(channel_id, count), timeout, f"{count} messages")

    async def wait_for_messages_async(
        self, channel_id: str | int, count: int = 1, timeout: float = 5.0
    ) -> list[MessageRecord]:
        return await _poll_async(self._count_check(channel_id, count), timeout, f"{count} messages")

    # ----------------------------------------------------------------- driving commands
    def interact(
        self,
        name: str,
        options: Sequence[JSON] | None = None,
        *,
        user_id: str = "U1",
        permissions: str | int = "0",
        roles: Iterable[str] = (),
        channel_id: str | int | None = None,
        type: int = 2,
    ) -> Interaction:
        """Dispatch INTERACTION_CREATE (a guild slash command by default) to the bot."""
        now = time.monotonic()
        with self._lock:
            channel_id = str(
                channel_id or self.channel_ids.get("general") or self.webhook_channel_id
            )
            channel = self._channels.get(channel_id)
            if channel is None:
                raise KeyError(f"unknown channel {channel_id}")
            uid = self.user_id_for(user_id)
            iid, token = self._ids.next(), "itok." + secrets.token_urlsafe(32)
            command, in_guild = self._find_command(name)
            data: JSON = {
                "id": command["id"] if command else self._ids.next(),
                "name": name,
                "type": 1,
                "options": list(options or []),
            }
            if in_guild:
                data["guild_id"] = self.guild_id
            member = {
                "user": self._user_json(uid, user_id.lower(), bot=False),
                "roles": [self.role_ids.get(r, r) for r in roles],
                "permissions": str(int(permissions)),
                "joined_at": _iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "nick": None,
                "avatar": None,
                "premium_since": None,
                "communication_disabled_until": None,
            }
            payload: JSON = {
                "id": iid,
                "application_id": self.application_id,
                "type": type,
                "token": token,
                "version": 1,
                "guild_id": self.guild_id,
                "guild": {"id": self.guild_id, "locale": "en-US", "features": []},
                "channel_id": channel_id,
                "channel": copy.deepcopy(channel),
                "member": member,
                "app_permissions": str(APP_PERMISSIONS),
                "entitlements": [],
                "authorizing_integration_owners": {"0": self.guild_id},
                "context": 0,
                "attachment_size_limit": 10 * 1024 * 1024,
                "locale": "en-US",
                "guild_locale": "en-US",
                "data": data,
            }
            record = Interaction(
                lock=self._lock,
                id=iid,
                token=token,
                type=type,
                name=name,
                options=data["options"],
                user_id=uid,
                channel_id=channel_id,
                payload=payload,
                created_at=now,
            )
            self._interactions[token] = record
        self._run(self._dispatch_interaction(payload))
        return record

    def slash(
        self,
        group: str,
        sub: str | None,
        values: Mapping[str, str | int | float | bool] | None = None,
        **kw: Any,
    ) -> Interaction:
        """``/group sub name:value ...``; ``sub`` "grp sub" nests a subcommand group."""
        return self.interact(group, self._sub_options(sub, self._options(values)), **kw)

    def autocomplete(
        self,
        group: str,
        sub: str | None,
        focused_name: str,
        partial_value: str,
        *,
        values: Mapping[str, str | int | float | bool] | None = None,
        **kw: Any,
    ) -> Interaction:
        """A type 4 interaction with ``focused_name`` being typed (``partial_value`` so far)."""
        opts = self._options(values)
        opts.append({"name": focused_name, "type": 3, "value": partial_value, "focused": True})
        return self.interact(group, self._sub_options(sub, opts), type=4, **kw)

    @staticmethod
    def _options(values: Mapping[str, str | int | float | bool] | None) -> list[JSON]:
        def kind(value: object) -> int:
            if isinstance(value, bool):
                return 5
            if isinstance(value, int):
                return 4
            return 10 if isinstance(value, float) else 3

        return [{"name": k, "type": kind(v), "value": v} for k, v in (values or {}).items()]

    @staticmethod
    def _sub_options(sub: str | None, options: list[JSON]) -> list[JSON]:
        if sub is None:
            return options
        *groups, leaf = sub.split()
        result = [{"name": leaf, "type": 1, "options": options}]
        for group in reversed(groups):
            result = [{"name": group, "type": 2, "options": result}]
        return result

    def _find_command(self, name: str) -> tuple[JSON | None, bool]:
        for cmd in self._commands.get(self.guild_id, []):
            if cmd["name"] == name:
                return cmd, True
        for cmd in self._commands.get(None, []):
            if cmd["name"] == name:
                return cmd, False
        return None, False

    # ----------------------------------------------------------------- payload builders
    def _user_json(self, uid: str, name: str, *, bot: bool) -> JSON:
        return {
            "id": uid,
            "username": name,
            "global_name": None if bot else name,
            "discriminator": "0000" if bot else "0",
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }

    def _bot_user(self) -> JSON:
        return self._user_json(self.bot_user_id, "claimwatch", bot=True)

    def _text_channel(self, name: str, position: int) -> JSON:
        return {
            "id": self.channel_ids[name],
            "type": 0,
            "guild_id": self.guild_id,
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "default_auto_archive_duration": 1440,
            "flags": 0,
        }

    def _roles_json(self) -> list[JSON]:
        def role(name: str, rid: str, position: int, permissions: int) -> JSON:
            return {
                "id": rid,
                "name": name,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": position,
                "permissions": str(permissions),
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }

        everyone = role("@everyone", self.guild_id, 0, EVERYONE_PERMISSIONS)
        return [everyone, role("Editors", self.role_ids["Editors"], 1, 0)]

    def _bot_member(self) -> JSON:
        return {
            "user": self._bot_user(),
            "roles": [],
            "joined_at": _iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }

    def _guild_json(self) -> JSON:
        with self._lock:
            channels = [copy.deepcopy(c) for c in self._channels.values() if c["type"] == 0]
            threads = [copy.deepcopy(c) for c in self._channels.values() if c["type"] in (11, 12)]
        return {
            "id": self.guild_id,
            "name": "Claimwatch Test",
            "owner_id": self.owner_id,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "afk_timeout": 300,
            "afk_channel_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "vanity_url_code": None,
            "application_id": None,
            "large": False,
            "lazy": True,
            "unavailable": False,
            "joined_at": _iso(),
            "member_count": 1,
            "max_members": 500000,
            "roles": self._roles_json(),
            "emojis": [],
            "stickers": [],
            "channels": channels,
            "threads": threads,
            "members": [self._bot_member()],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _attachment_json(self, channel_id: str, att: AttachmentRecord) -> JSON:
        url = f"{self.base_url}/attachments/{channel_id}/{att['id']}/{att['filename']}"
        return {
            "id": att["id"],
            "filename": att["filename"],
            "size": att["size"],
            "url": url,
            "proxy_url": url,
            "content_type": att["content_type"],
            "description": att["description"],
        }

    def _message_json(self, rec: MessageRecord, *, listed: bool = False) -> JSON:
        """A message as Discord shows it; ``listed`` (a history read) has no nonce: Discord
        echoes a nonce in the answer to the post and the gateway event, it does not keep it."""
        data: JSON = {
            "id": rec.id,
            "channel_id": rec.channel_id,
            "guild_id": self.guild_id,
            "author": rec.author,
            "content": rec.content,
            "timestamp": rec.timestamp,
            "edited_timestamp": rec.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [self._attachment_json(rec.channel_id, a) for a in rec.attachments],
            "embeds": rec.embeds,
            "reactions": [],
            "pinned": False,
            "type": rec.message_type,
            "flags": rec.flags,
            "components": rec.components,
        }
        if rec.message_reference:
            data["message_reference"] = rec.message_reference
        if rec.webhook_id:
            data["webhook_id"] = rec.webhook_id
        if rec.interaction_id:
            data["application_id"] = self.application_id
        if "nonce" in rec.payload and not listed:
            data["nonce"] = rec.payload["nonce"]
        return data

    # ----------------------------------------------------------------- message storage
    def _stored_attachment(self, upload: _Upload, spec: JSON) -> AttachmentRecord:
        filename = str(spec.get("filename") or upload.filename)
        guessed = mimetypes.guess_type(filename)[0]
        return {
            "id": self._ids.next(),
            "filename": filename,
            "bytes": upload.data,
            "content_type": guessed or upload.content_type or "application/octet-stream",
            "size": len(upload.data),
            "description": spec.get("description"),
        }

    def _attachments(
        self, spec: list[JSON] | None, uploads: list[_Upload], existing: list[AttachmentRecord]
    ) -> list[AttachmentRecord]:
        """Discord's rule: ``attachments`` lists what to keep (old ids) and new files (index)."""
        by_index = {u.index: u for u in uploads}
        result = list(existing) if spec is None else []
        used: set[str] = set()
        for entry in spec or []:
            ident = str(entry.get("id"))
            old = next((a for a in existing if a["id"] == ident), None)
            if old is not None:
                result.append(old)
            elif ident in by_index and ident not in used:
                used.add(ident)
                result.append(self._stored_attachment(by_index[ident], entry))
        for index, upload in by_index.items():
            if index not in used:
                result.append(self._stored_attachment(upload, {}))
        return result

    def _new_message(
        self,
        channel_id: str,
        payload: JSON,
        uploads: list[_Upload],
        *,
        author: JSON,
        listed: bool = True,
        **extra: Any,
    ) -> MessageRecord:
        """Store a message (under the lock); ephemeral/unlisted ones are kept but not listed."""
        rec = MessageRecord(
            id=self._ids.next(),
            channel_id=channel_id,
            content=str(payload.get("content") or ""),
            embeds=list(payload.get("embeds") or []),
            attachments=self._attachments(payload.get("attachments"), uploads, []),
            allowed_mentions=payload.get("allowed_mentions"),
            components=list(payload.get("components") or []),
            message_reference=payload.get("message_reference"),
            flags=int(payload.get("flags") or 0),
            received_at=time.monotonic(),
            author=author,
            payload=payload,
            timestamp=_iso(),
            **extra,
        )
        if rec.message_reference and not rec.message_type:
            rec.message_type = 19
        self._messages[rec.id] = rec
        if listed and not rec.ephemeral:
            self._listed.setdefault(channel_id, []).append(rec.id)
            channel = self._channels.get(channel_id)
            if channel is not None:
                channel["last_message_id"] = rec.id
                if "message_count" in channel:
                    channel["message_count"] += 1
                    channel["total_message_sent"] += 1
        return rec

    def _edit_message(self, rec: MessageRecord, payload: JSON, uploads: list[_Upload]) -> None:
        before = {
            "content": rec.content,
            "embeds": copy.deepcopy(rec.embeds),
            "attachments": [a["filename"] for a in rec.attachments],
            "components": copy.deepcopy(rec.components),
            "flags": rec.flags,
        }
        if "content" in payload:
            rec.content = str(payload["content"] or "")
        if "embeds" in payload:
            rec.embeds = list(payload["embeds"] or [])
        if "components" in payload:
            rec.components = list(payload["components"] or [])
        if "allowed_mentions" in payload:
            rec.allowed_mentions = payload["allowed_mentions"]
        if payload.get("flags") is not None:
            rec.flags = (rec.flags & EPHEMERAL) | int(payload["flags"])
        if "attachments" in payload or uploads:
            rec.attachments = self._attachments(
                payload.get("attachments"), uploads, rec.attachments
            )
        rec.flags &= ~LOADING
        rec.edited_timestamp = _iso()
        rec.edits.append(MessageEdit(at=time.monotonic(), payload=payload, before=before))

    # ----------------------------------------------------------------- HTTP plumbing
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record every request, check the bot token, and give JSON errors for unknown routes."""
        status = 500
        try:
            response = await self._guarded(request, handler)
            status = response.status
            return response
        finally:
            with self._lock:
                self._requests.append(
                    RequestRecord(request.method, request.path, status, time.monotonic())
                )

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        needs_auth = path.startswith("/api") and not re.search(r"/(webhooks|interactions)/", path)
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            return _error(401, "401: Unauthorized")
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return _error(404, "404: Not Found")
        except web.HTTPMethodNotAllowed:
            return _error(405, "405: Method Not Allowed")
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            return _error(400, f"Invalid Form Body ({exc!r})", 50035)

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        rest: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self._get_me),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway),
            ("GET", "/applications/@me", self._get_application),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/{app}/commands", self._get_commands),
            ("PUT", "/applications/{app}/commands", self._put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands),
            ("GET", "/guilds/{guild}", self._get_guild),
            ("GET", "/channels/{channel}", self._get_channel),
            ("POST", "/channels/{channel}/typing", self._typing),
            ("GET", "/channels/{channel}/messages", self._list_messages),
            ("POST", "/channels/{channel}/messages", self._post_message),
            ("GET", "/channels/{channel}/messages/{message}", self._get_message),
            ("PATCH", "/channels/{channel}/messages/{message}", self._patch_message),
            ("DELETE", "/channels/{channel}/messages/{message}", self._delete_message),
            ("POST", "/channels/{channel}/messages/{message}/threads", self._start_thread),
            ("POST", "/channels/{channel}/threads", self._start_thread),
            ("POST", "/interactions/{interaction}/{token}/callback", self._callback),
            ("GET", "/webhooks/{hook}/{token}", self._get_webhook),
            ("POST", "/webhooks/{hook}/{token}", self._execute_webhook),
            ("GET", "/webhooks/{hook}/{token}/messages/{message}", self._webhook_message),
            ("PATCH", "/webhooks/{hook}/{token}/messages/{message}", self._webhook_message),
            ("DELETE", "/webhooks/{hook}/{token}/messages/{message}", self._webhook_message),
        ]
        for prefix in API_PREFIXES:
            for method, path, handler in rest:
                router.add_route(method, prefix + path, handler)
        router.add_get("/gateway", self._gateway)
        router.add_get("/gateway/", self._gateway)
        router.add_get("/attachments/{channel}/{attachment}/{filename}", self._get_attachment)

    def _fault(self, channel_id: str | None, *, transient: bool = True) -> web.Response | None:
        """The injected failure for a request to ``channel_id``, if any (under the lock)."""
        if transient:
            if time.monotonic() < self._outage_until:
                if self._outage_html:
                    page = f"<html><body><h1>{self._outage_status} Bad Gateway</h1></body></html>"
                    return web.Response(
                        text=page, status=self._outage_status, content_type="text/html"
                    )
                return _error(self._outage_status, "Service Unavailable (fake outage)")
            if self._rate_limited > 0:
                self._rate_limited -= 1
                return self._rate_limit_response()
        if channel_id is None:
            return None
        chain = [channel_id]
        thread = self._threads.get(channel_id)
        if thread is not None:
            chain.append(thread.parent_id)
        if channel_id not in self._channels or any(c in self._deleted for c in chain):
            return _error(404, "Unknown Channel", 10003)
        if any(c in self._forbidden for c in chain):
            return _error(403, "Missing Access", 50001)
        return None

    def _rate_limit_response(self) -> web.Response:
        retry = self._retry_after
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(max(1, round(retry + 0.499))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
            "X-RateLimit-Reset-After": f"{retry:.3f}",
            "X-RateLimit-Bucket": "fake-bucket",
            "X-RateLimit-Scope": "user",
        }
        body = {"message": "You are being rate limited.", "retry_after": retry, "global": False}
        return _json(body, 429, headers)

    # ----------------------------------------------------------------- REST handlers
    async def _get_me(self, request: web.Request) -> web.Response:
        me = self._bot_user() | {"verified": True, "mfa_enabled": False, "flags": 0}
        return _json(me | {"email": None, "locale": "en-US"})

    async def _get_gateway(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _get_application(self, request: web.Request) -> web.Response:
        owner = self._user_json(self.owner_id, "owner", bot=False)
        return _json(
            {
                "id": self.application_id,
                "name": "claimwatch",
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": 0,
                "owner": owner,
                "team": None,
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "bot": self._bot_user(),
            }
        )

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.registered_commands(request.match_info.get("guild")))

    async def _put_commands(self, request: web.Request) -> web.Response:
        """Bulk overwrite; a command keeps its id across syncs, as on Discord."""
        guild = request.match_info.get("guild")
        body = await request.json()
        with self._lock:
            old = {(c["name"], c["type"]): c["id"] for c in self._commands.get(guild, [])}
            stored = []
            for cmd in body:
                kind = int(cmd.get("type") or 1)
                base: JSON = {
                    "description": "",
                    "options": [],
                    "default_member_permissions": None,
                    "nsfw": False,
                }
                stored.append(
                    base
                    | cmd
                    | {
                        "id": old.get((cmd["name"], kind)) or self._ids.next(),
                        "application_id": self.application_id,
                        "version": self._ids.next(),
                        "type": kind,
                    }
                    | ({"guild_id": guild} if guild else {})
                )
            self._commands[guild] = stored
            return _json(copy.deepcopy(stored))

    async def _get_guild(self, request: web.Request) -> web.Response:
        if request.match_info["guild"] != self.guild_id:
            return _error(404, "Unknown Guild", 10004)
        return _json(self._guild_json())

    async def _get_channel(self, request: web.Request) -> web.Response:
        cid = request.match_info["channel"]
        with self._lock:
            fault = self._fault(cid, transient=False)
            return fault if fault is not None else _json(copy.deepcopy(self._channels[cid]))

    async def _typing(self, request: web.Request) -> web.Response:
        with self._lock:
            fault = self._fault(request.match_info["channel"], transient=False)
            return fault if fault is not None else web.Response(status=204)

    async def _list_messages(self, request: web.Request) -> web.Response:
        cid = request.match_info["channel"]
        limit = int(request.query.get("limit", "50"))
        before, after = request.query.get("before"), request.query.get("after")
        with self._lock:
            fault = self._fault(cid, transient=False)
            if fault is not None:
                return fault
            if self._outage_reads and time.monotonic() < self._outage_until:
                return _error(self._outage_status, "Service Unavailable (fake outage)")
            thread = self._threads.get(cid)
            if {cid, thread.parent_id if thread else cid} & self._history_forbidden:
                return _error(403, "Missing Access", 50001)
            found = [self._messages[m] for m in self._listed.get(cid, [])]
            found = [m for m in found if not m.deleted]
            if before:
                found = [m for m in found if int(m.id) < int(before)]
            if after:
                found = [m for m in found if int(m.id) > int(after)][:limit]
            else:
                found = found[-limit:]
            return _json([self._message_json(m, listed=True) for m in reversed(found)])

    async def _post_message(self, request: web.Request) -> web.Response:
        cid = request.match_info["channel"]
        payload, uploads = await _read_body(request)
        with self._lock:
            fault = self._fault(cid)
            if fault is not None and not (self._outage_lands and fault.status >= 500):
                return fault
            nonce = payload.get("nonce")
            if payload.get("enforce_nonce") and nonce is not None:
                # Real Discord: the same author's repeated nonce (within minutes) gets
                # the message it already created, not a second one.
                window = self.nonce_window
                for earlier in self._messages.values():
                    if (
                        earlier.channel_id == cid
                        and earlier.payload.get("nonce") == nonce
                        and (window is None or time.monotonic() - earlier.received_at <= window)
                    ):
                        self.nonce_hits += 1
                        return fault or _json(self._message_json(earlier))
            rec = self._new_message(cid, payload, uploads, author=self._bot_user())
            if fault is not None:
                return fault  # stored, but the answer is the outage's
            body = self._message_json(rec)
            hold = 0.0
            if self._holds_left > 0:
                self._holds_left -= 1
                hold = self._hold_seconds
        if hold:
            # Posted, but the answer is late: a client that dies now never learns it posted.
            await asyncio.sleep(hold)
        return _json(body)

    def hold_responses(self, count: int, seconds: float) -> None:
        """The next ``count`` message posts are stored at once but answered ``seconds`` late."""
        with self._lock:
            self._holds_left = count
            self._hold_seconds = seconds

    def _channel_message(self, request: web.Request) -> MessageRecord | web.Response:
        cid, mid = request.match_info["channel"], request.match_info["message"]
        rec = self._messages.get(mid)
        if rec is None or rec.channel_id != cid or rec.deleted:
            return _error(404, "Unknown Message", 10008)
        return rec

    async def _get_message(self, request: web.Request) -> web.Response:
        with self._lock:
            fault = self._fault(request.match_info["channel"], transient=False)
            found = fault if fault is not None else self._channel_message(request)
            return found if isinstance(found, web.Response) else _json(self._message_json(found))

    async def _patch_message(self, request: web.Request) -> web.Response:
        payload, uploads = await _read_body(request)
        with self._lock:
            fault = self._fault(request.match_info["channel"])
            found = fault if fault is not None else self._channel_message(request)
            if isinstance(found, web.Response):
                return found
            self._edit_message(found, payload, uploads)
            return _json(self._message_json(found))

    async def _delete_message(self, request: web.Request) -> web.Response:
        with self._lock:
            fault = self._fault(request.match_info["channel"], transient=False)
            found = fault if fault is not None else self._channel_message(request)
            if isinstance(found, web.Response):
                return found
            found.deleted = True
            return web.Response(status=204)

    async def _start_thread(self, request: web.Request) -> web.Response:
        """A thread from a message takes the message's id, as on Discord."""
        cid, mid = request.match_info["channel"], request.match_info.get("message")
        payload, _ = await _read_body(request)
        with self._lock:
            fault = self._fault(cid)
            if fault is not None:
                return fault
            refused = self._threads_refused.get(cid)
            if refused == 404:
                return _error(404, "Unknown Channel", 10003)
            if refused is not None:
                return _error(refused, "Missing Permissions", 50013)
            if mid is not None:
                found = self._channel_message(request)
                if isinstance(found, web.Response):
                    return found
                if found.thread_id:
                    return _error(400, "A thread has already been created", 160004)
                found.thread_id = tid = mid
            else:
                tid = self._ids.next()
            kind = int(payload.get("type") or 11) if mid is None else 11
            archive = int(payload.get("auto_archive_duration") or 1440)
            name = str(payload.get("name") or "thread")
            channel: JSON = {
                "id": tid,
                "type": kind,
                "guild_id": self.guild_id,
                "parent_id": cid,
                "owner_id": self.bot_user_id,
                "name": name,
                "last_message_id": None,
                "rate_limit_per_user": int(payload.get("rate_limit_per_user") or 0),
                "message_count": 0,
                "member_count": 1,
                "total_message_sent": 0,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": archive,
                    "archive_timestamp": _iso(),
                    "locked": False,
                    "create_timestamp": _iso(),
                },
                "member": {
                    "id": tid,
                    "user_id": self.bot_user_id,
                    "join_timestamp": _iso(),
                    "flags": 0,
                },
            }
            self._channels[tid] = channel
            self._listed[tid] = []
            self._threads[tid] = ThreadRecord(tid, cid, mid, name, kind, time.monotonic())
            answer = copy.deepcopy(channel)
        await self._broadcast("THREAD_CREATE", answer | {"newly_created": True})
        return _json(answer)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        aid = request.match_info["attachment"]
        with self._lock:
            for rec in self._messages.values():
                for att in rec.attachments:
                    if att["id"] == aid:
                        return web.Response(body=att["bytes"], content_type=att["content_type"])
        return _error(404, "Unknown Attachment")

    # ----------------------------------------------------------------- interactions + webhooks
    def _interaction_for(self, request: web.Request) -> Interaction | None:
        inter = self._interactions.get(request.match_info["token"])
        hook = request.match_info.get("hook", self.application_id)
        if inter is None or hook != self.application_id:
            return None
        return inter

    async def _callback(self, request: web.Request) -> web.Response:
        """Types 4/5 create the original response; 6/7/8/9 are recorded as they are."""
        payload, uploads = await _read_body(request)
        now = time.monotonic()
        with self._lock:
            inter = self._interactions.get(request.match_info["token"])
            if inter is None or inter.id != request.match_info["interaction"]:
                return _error(404, "Unknown interaction", 10062)
            if self.ack_deadline is not None and now - inter.created_at > self.ack_deadline:
                inter._rejected.append(f"late callback after {now - inter.created_at:.2f}s")
                return _error(404, "Unknown interaction", 10062)
            if inter._callback_type is not None:
                inter._rejected.append("acknowledged twice")
                return _error(400, "Interaction has already been acknowledged.", 40060)
            kind, data = int(payload["type"]), dict(payload.get("data") or {})
            inter._callback_type, inter._callback_at, inter._callback_data = kind, now, data
            message = None
            if kind in (4, 5):
                message = self._new_message(
                    inter.channel_id,
                    data,
                    uploads,
                    author=self._bot_user(),
                    webhook_id=self.application_id,
                    interaction_id=inter.id,
                    message_type=20,
                )
                if kind == 5:
                    message.flags |= LOADING
                    message.content = ""
                inter._original = message
            inter._refresh_done(now)
            if not _flag(request.query.get("with_response")):
                return web.Response(status=204)
            summary: JSON = {"id": inter.id, "type": inter.type}
            resource: JSON = {"type": kind}
            if message is not None:
                summary |= {
                    "response_message_id": message.id,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": message.ephemeral,
                }
                resource["message"] = self._message_json(message)
            return _json({"interaction": summary, "resource": resource})

    async def _get_webhook(self, request: web.Request) -> web.Response:
        hook, token = request.match_info["hook"], request.match_info["token"]
        if (hook, token) != (self.webhook_id, self.webhook_token):
            return _error(404, "Unknown Webhook", 10015)
        return _json(
            {
                "id": self.webhook_id,
                "type": 1,
                "token": self.webhook_token,
                "name": "claimwatch alerts",
                "avatar": None,
                "channel_id": self.webhook_channel_id,
                "guild_id": self.guild_id,
                "application_id": None,
            }
        )

    def _webhook_fault(self, channel_id: str, *, transient: bool = True) -> web.Response | None:
        fault = self._fault(channel_id, transient=transient)
        if fault is not None and fault.status == 404:
            return _error(404, "Unknown Webhook", 10015)
        if fault is not None and fault.status == 403:
            return None  # a webhook keeps posting where the bot lost access
        return fault

    async def _execute_webhook(self, request: web.Request) -> web.Response:
        """An interaction followup, or a post through the alerts webhook (``via_webhook``)."""
        payload, uploads = await _read_body(request)
        hook, token = request.match_info["hook"], request.match_info["token"]
        wait = _flag(request.query.get("wait"))
        with self._lock:
            inter = self._interaction_for(request)
            if inter is not None:
                now = time.monotonic()
                rec = self._new_message(
                    inter.channel_id,
                    payload,
                    uploads,
                    author=self._bot_user(),
                    webhook_id=self.application_id,
                    interaction_id=inter.id,
                    message_type=20,
                )
                inter._followups.append(rec)
                inter._refresh_done(now)
            elif (hook, token) == (self.webhook_id, self.webhook_token):
                cid = request.query.get("thread_id") or self.webhook_channel_id
                fault = self._webhook_fault(cid)
                if fault is not None:
                    return fault
                name = str(payload.get("username") or "claimwatch alerts")
                author = self._user_json(self.webhook_id, name, bot=True)
                rec = self._new_message(
                    cid, payload, uploads, author=author, via_webhook=True, webhook_id=hook
                )
            else:
                return _error(404, "Unknown Webhook", 10015)
            return _json(self._message_json(rec)) if wait else web.Response(status=204)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        """GET/PATCH/DELETE ``@original``, a followup, or a message of the alerts webhook."""
        payload, uploads = await _read_body(request) if request.method == "PATCH" else ({}, [])
        mid = request.match_info["message"]
        with self._lock:
            inter = self._interaction_for(request)
            rec: MessageRecord | None
            if inter is not None:
                own = [inter._original, *inter._followups]
                rec = inter._original if mid == "@original" else self._messages.get(mid)
                if not any(rec is mine for mine in own):
                    rec = None
            elif (request.match_info["hook"], request.match_info["token"]) == (
                self.webhook_id,
                self.webhook_token,
            ):
                rec = self._messages.get(mid)
                if rec is not None and rec.webhook_id != self.webhook_id:
                    rec = None
                fault = self._webhook_fault(
                    self.webhook_channel_id, transient=request.method == "PATCH"
                )
                if fault is not None:
                    return fault
            else:
                return _error(404, "Unknown Webhook", 10015)
            if rec is None or rec.deleted:
                return _error(404, "Unknown Message", 10008)
            if request.method == "DELETE":
                rec.deleted = True
                return web.Response(status=204)
            if request.method == "PATCH":
                self._edit_message(rec, payload, uploads)
                if inter is not None:
                    inter._refresh_done(time.monotonic())
            return _json(self._message_json(rec))

    # ----------------------------------------------------------------- gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """HELLO → IDENTIFY/RESUME → READY + GUILD_CREATE (or RESUMED) → heartbeats."""
        ws = web.WebSocketResponse(timeout=0.5, max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress", "")
        if compress not in ("", "zlib-stream"):
            await ws.close(code=4012, message=b"fake gateway speaks zlib-stream only")
            return ws
        conn = _Connection(ws, zlib_stream=bool(compress))
        with self._lock:
            self._connections.append(conn)
        try:
            await conn.send(10, {"heartbeat_interval": self.heartbeat_interval_ms})
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._on_gateway_op(conn, json.loads(msg.data))
        finally:
            with self._lock:
                conn.ready = False
                self._connections.remove(conn)
        return ws

    async def _on_gateway_op(self, conn: _Connection, msg: JSON) -> None:
        op, data = msg.get("op"), msg.get("d") or {}
        if op == 1:
            await conn.send(11, None)
        elif op == 2:
            if data.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            session = _Session(secrets.token_hex(16), int(data.get("intents") or 0))
            with self._lock:
                self._sessions[session.id] = session
            conn.session = session
            await conn.send(0, self._ready_json(session), "READY")
            await conn.send(0, self._guild_json(), "GUILD_CREATE")
            with self._lock:
                conn.ready = True
                self.identify_count += 1
        elif op == 6:
            with self._lock:
                known = self._sessions.get(str(data.get("session_id")))
            if known is None or data.get("token") != self.token:
                await conn.send(9, False)
                return
            conn.session = known
            await conn.send(0, {}, "RESUMED")
            with self._lock:
                conn.ready = True
                self.resume_count += 1
        elif op == 8:
            chunk: JSON = {"guild_id": self.guild_id, "members": [self._bot_member()]}
            chunk |= {"chunk_index": 0, "chunk_count": 1, "nonce": data.get("nonce")}
            await conn.send(0, chunk, "GUILD_MEMBERS_CHUNK")

    def _ready_json(self, session: _Session) -> JSON:
        return {
            "v": 10,
            "user": self._bot_user() | {"verified": True, "mfa_enabled": False, "flags": 0},
            "application": {"id": self.application_id, "flags": 0},
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": None,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }

    def _live(self) -> list[_Connection]:
        with self._lock:
            return [c for c in self._connections if c.ready and not c.ws.closed]

    async def _broadcast(self, event: str, data: JSON) -> None:
        for conn in self._live():
            try:
                await conn.send(0, data, event)
            except ConnectionError:
                continue

    async def _dispatch_interaction(self, payload: JSON) -> None:
        """Like Discord, one interaction goes to one connection: the newest ready one."""
        live = self._live()
        if not live:
            raise RuntimeError("no bot is connected to the fake gateway")
        await live[-1].send(0, payload, "INTERACTION_CREATE")
