"""A fake Slack platform on 127.0.0.1 that the real slack-sdk / slack-bolt clients talk to.

Why a server rather than mocks: what breaks a Slack adapter is what the clients put on the
wire — the body encoding slack-sdk picks per method, the three-step files v2 upload, Socket
Mode envelopes and their acks, signed HTTP requests, ``Retry-After`` handling. Only a server
that speaks the protocol catches mistakes there, so nothing in the clients is patched.

Why its own thread and event loop: one fake must serve a bot running in the test's event loop
*and* a ``claimwatch run`` subprocess. A server living in the test's loop would stall whenever
the test blocks (``time.sleep``, a synchronous wait helper, waiting on a subprocess). All state
sits behind one lock and every public method is synchronous and thread-safe; the ``*_async``
variants poll with ``asyncio.sleep`` so that a bot in the caller's loop keeps running while the
test waits.

What slack-sdk 3.47 / slack-bolt 1.30 actually send (the reason for some choices below):

- The body encoding depends on the method: ``chat.postMessage``, ``chat.update`` and
  ``chat.postEphemeral`` send JSON; ``auth.test``, ``apps.connections.open`` and both
  ``files.*External`` methods send their arguments in the *query string* of a POST with an
  empty form body; ``users.info`` and ``conversations.info`` are GETs. Every endpoint therefore
  merges query string, form, multipart and JSON arguments.
- ``files_upload_v2`` POSTs the raw bytes (``application/octet-stream``, no ``Authorization``
  header) to the upload URL, reads a ``text/plain`` answer and only checks for status 200.
- The retry handlers read ``Retry-After`` as an integer number of seconds (plus up to one second
  of jitter) and retry only once unless ``max_retry_count`` is raised.
- The Socket Mode client acks an envelope with ``{"envelope_id": ..., "payload": {...}}`` (the
  payload only when the listener acked with content) and follows ``{"type": "disconnect"}`` by
  asking ``apps.connections.open`` for a new URL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import hashlib
import hmac
import itertools
import json
import mimetypes
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple, TypeVar
from urllib.parse import urlencode

import aiohttp
import httpx
from aiohttp import web

T = TypeVar("T")
Json = dict[str, Any]

HOST = "127.0.0.1"
_POLL_INTERVAL = 0.01
_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,20}$")
_FORM = "application/x-www-form-urlencoded"
SCOPES = "chat:write,commands,files:write,users:read,channels:read,incoming-webhook"
HISTORY_METHODS = frozenset({"conversations.history", "conversations.replies"})
OutageBody = Literal["json", "html", "empty", "text"]
"""What an outage answers with: Slack's JSON error, or a proxy's HTML page, nothing, text."""


# --------------------------------------------------------------------------------------------
# Records handed to tests. They are snapshots (deep copies) so a test can inspect them while
# the server keeps changing its own state.
# --------------------------------------------------------------------------------------------


class RequestRecord(NamedTuple):
    """One HTTP call the fake answered: ``method`` is the Web API method or the endpoint kind
    (``upload``, ``respond``, ``webhook``, ``socket``, ``file_download``), ``status`` the HTTP
    status it got (so a rate-limited and then retried call shows up several times)."""

    method: str
    status: int
    time: float


@dataclass
class ApiCall:
    """One Web API call with the arguments the client sent (token removed), kept so tests can
    check *how* the bot called Slack (``unfurl_links``, ``thread_ts``, …), rejected calls
    included (``status`` / ``error`` say how it ended)."""

    method: str
    params: Json
    status: int
    error: str | None
    time: float

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (HTTP 200 and ``ok: true``)."""
        return self.status == 200 and self.error is None


@dataclass
class Edit:
    """One ``chat.update`` of a message; the previous version is kept so the whole history of
    a message can be checked (an alert that is edited as a story changes)."""

    text: str | None
    blocks: list[Json] | None
    edited_at: float
    previous_text: str | None
    previous_blocks: list[Json] | None


@dataclass
class UploadedFile:
    """A file that went through the v2 upload flow. ``data`` holds the bytes exactly as they
    were POSTed to the upload URL; ``channel`` is None until ``files.completeUploadExternal``
    shares it."""

    id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    uploaded_at: float | None = None
    completed_at: float | None = None

    @property
    def mimetype(self) -> str:
        """The MIME type Slack would derive from the file name."""
        return mimetypes.guess_type(self.filename)[0] or "application/octet-stream"


@dataclass
class Message:
    """A message in a channel. ``replies`` holds the thread under a top-level message;
    ``files`` is set on the ``file_share`` message a completed upload creates; ``user`` is the
    bot's user id except for messages seeded with :meth:`FakeSlack.seed_message`."""

    ts: str
    channel: str
    text: str | None
    blocks: list[Json] | None
    thread_ts: str | None
    user: str
    received_at: float
    via_webhook: bool = False
    subtype: str | None = None
    unfurl_links: bool | None = None
    unfurl_media: bool | None = None
    reply_broadcast: bool = False
    params: Json = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)
    replies: list[Message] = field(default_factory=list)
    files: list[UploadedFile] = field(default_factory=list)


@dataclass
class Ephemeral:
    """A ``chat.postEphemeral`` message (only ``user`` would have seen it)."""

    channel: str
    user: str
    text: str | None
    blocks: list[Json] | None
    thread_ts: str | None
    message_ts: str
    received_at: float


@dataclass
class _Channel:
    id: str
    name: str
    created: int
    archived: bool = False
    member: bool = True
    deleted: bool = False


@dataclass
class _SocketConnection:
    number: int
    ws: web.WebSocketResponse
    opened_at: float
    closed_at: float | None = None


# --------------------------------------------------------------------------------------------
# Polling: the one way every wait helper works, in a blocking and an asyncio flavour.
# --------------------------------------------------------------------------------------------


def _poll(check: Callable[[], tuple[bool, T]], timeout: float, what: Callable[[], str]) -> T:
    """Call ``check`` until it reports done; blocking, for tests whose bot is elsewhere."""
    deadline = time.monotonic() + timeout
    while True:
        done, value = check()
        if done:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what()} (waited {timeout:g} s)")
        time.sleep(_POLL_INTERVAL)


async def _poll_async(
    check: Callable[[], tuple[bool, T]], limit: float, what: Callable[[], str]
) -> T:
    """Same as :func:`_poll` but yields to the caller's loop, where the bot may be running."""
    deadline = time.monotonic() + limit
    while True:
        done, value = check()
        if done:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what()} (waited {limit:g} s)")
        await asyncio.sleep(_POLL_INTERVAL)


def slack_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``X-Slack-Signature`` for ``body``: ``v0=`` + HMAC-SHA256(secret, ``v0:{ts}:{body}``)."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# Slash commands
# --------------------------------------------------------------------------------------------


class SlashCommand:
    """A slash command the fake sent to the bot, updated live as the bot acks and responds.

    It is returned before the bot has done anything, because the point of most tests is the
    timing (ack within 3 s, then the slower answer through ``response_url``). Reads go through
    the fake's lock, so the record can be polled from any thread.
    """

    def __init__(
        self,
        lock: threading.RLock,
        *,
        via: Literal["socket", "http"],
        envelope_id: str,
        response_token: str,
        payload: dict[str, str],
    ) -> None:
        self._lock = lock
        self.via = via
        self.envelope_id = envelope_id
        self.response_token = response_token
        self.payload: dict[str, str] = dict(payload)
        self._sent_at: float | None = None
        self._acked_at: float | None = None
        self._ack_payload: Json | None = None
        self._ack_status: int | None = None
        self._error: str | None = None
        self._responses: list[Json] = []

    def __repr__(self) -> str:
        return (
            f"SlashCommand({self.command} {self.text!r}, via={self.via}, "
            f"acked={self.acked_at is not None}, responses={len(self.responses)})"
        )

    @property
    def command(self) -> str:
        """The command, e.g. ``/claimwatch``."""
        return self.payload["command"]

    @property
    def text(self) -> str:
        """The text after the command."""
        return self.payload["text"]

    @property
    def response_url(self) -> str:
        """Where the bot POSTs its delayed answers; they land in :attr:`responses`."""
        return self.payload["response_url"]

    @property
    def form_body(self) -> bytes:
        """The payload form-encoded, as Slack POSTs it to a bot in HTTP mode."""
        return urlencode(self.payload).encode()

    @property
    def sent_at(self) -> float | None:
        """``time.time()`` when the envelope / HTTP request left the fake."""
        with self._lock:
            return self._sent_at

    @property
    def acked_at(self) -> float | None:
        """``time.time()`` when the ack arrived (Socket Mode ack frame, or HTTP 2xx answer)."""
        with self._lock:
            return self._acked_at

    @property
    def ack_payload(self) -> Json | None:
        """What the bot put in its ack (``{"text": ...}`` for ``ack("...")``), else None."""
        with self._lock:
            return copy.deepcopy(self._ack_payload)

    @property
    def ack_status(self) -> int | None:
        """HTTP status of the bot's answer (HTTP mode only)."""
        with self._lock:
            return self._ack_status

    @property
    def ack_seconds(self) -> float | None:
        """How long the bot took to ack; Slack shows an error to the user after 3 s."""
        with self._lock:
            if self._sent_at is None or self._acked_at is None:
                return None
            return self._acked_at - self._sent_at

    @property
    def error(self) -> str | None:
        """Why delivery failed (HTTP mode: connection error or non-2xx answer)."""
        with self._lock:
            return self._error

    @property
    def responses(self) -> list[Json]:
        """JSON bodies the bot POSTed to :attr:`response_url`, in arrival order."""
        with self._lock:
            return copy.deepcopy(self._responses)

    def _ack_state(self) -> tuple[bool, Json | None]:
        with self._lock:
            if self._acked_at is not None:
                return True, copy.deepcopy(self._ack_payload)
            if self._error is not None:
                raise RuntimeError(f"{self!r} was not acked: {self._error}")
            return False, None

    def _response_state(self, count: int) -> tuple[bool, list[Json]]:
        with self._lock:
            if len(self._responses) >= count:
                return True, copy.deepcopy(self._responses)
            if self._error is not None and self._acked_at is None:
                raise RuntimeError(f"{self!r} was not delivered: {self._error}")
            return False, []

    def wait_acked(self, timeout: float = 5.0) -> Json | None:
        """Block until the bot acked; return the ack payload (None for a bare ``ack()``)."""
        return _poll(self._ack_state, timeout, lambda: f"{self!r} not acked")

    async def wait_acked_async(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the sync helper
    ) -> Json | None:
        """:meth:`wait_acked` for a test whose bot runs in the same event loop."""
        return await _poll_async(self._ack_state, timeout, lambda: f"{self!r} not acked")

    def wait_response(self, timeout: float = 5.0, count: int = 1) -> list[Json]:
        """Block until ``count`` bodies reached the response_url; return all of them."""
        return _poll(
            lambda: self._response_state(count),
            timeout,
            lambda: f"{self!r}: fewer than {count} responses",
        )

    async def wait_response_async(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the sync helper
        count: int = 1,
    ) -> list[Json]:
        """:meth:`wait_response` for a test whose bot runs in the same event loop."""
        return await _poll_async(
            lambda: self._response_state(count),
            timeout,
            lambda: f"{self!r}: fewer than {count} responses",
        )


# --------------------------------------------------------------------------------------------
# The fake platform
# --------------------------------------------------------------------------------------------

_ApiHandler = Callable[[Json], Json]


class FakeSlack:
    """Slack's Web API, Socket Mode, file uploads, response_url and an incoming webhook.

    Use it as a context manager (``with`` or ``async with``); it listens on 127.0.0.1 on a free
    port. Point ``AsyncWebClient(base_url=fake.api_base)`` at it and use ``fake.bot_token`` /
    ``fake.app_token``; channel ids are in ``fake.channel_ids``.
    """

    #: Calls that write and therefore see injected rate limits and outages (plus the upload
    #: URL and the incoming webhook). Reads stay healthy so a test can still inspect state.
    FAULTY_METHODS: ClassVar[frozenset[str]] = frozenset(
        {
            "chat.postMessage",
            "chat.update",
            "chat.postEphemeral",
            "files.getUploadURLExternal",
            "files.completeUploadExternal",
            "upload",
            "webhook",
        }
    )

    def __init__(
        self,
        channels: Iterable[str] = ("alerts", "general"),
        admins: Iterable[str] = (),
        *,
        users: Mapping[str, str] | None = None,
        alerts_channel: str | None = None,
    ) -> None:
        """``channels`` are created with the bot as a member; ``admins`` are user ids that
        ``users.info`` reports as workspace admins; ``users`` maps user ids to names (any
        ``U…``/``W…`` id is a known user); the webhook and slash commands default to
        ``alerts_channel`` (``"alerts"`` if present, else the first channel)."""
        names = list(channels)
        if not names:
            raise ValueError("FakeSlack needs at least one channel")
        self.team_id = "T0FAKE0001"
        self.team_domain = "claimwatch-test"
        self.team_name = "Claimwatch Test"
        self.app_id = "A0FAKE0001"
        self.bot_user_id = "U0FAKEBOT1"
        self.bot_id = "B0FAKEBOT1"
        self.bot_name = "claimwatch"
        self.bot_token = f"xoxb-{secrets.token_hex(12)}"
        self.app_token = f"xapp-1-{self.app_id}-{secrets.token_hex(12)}"
        self.signing_secret = secrets.token_hex(16)
        self.verification_token = secrets.token_hex(12)
        self.admins = frozenset(admins)
        self.port = 0
        self._user_names = dict(users or {})
        self._webhook_secret = secrets.token_hex(12)

        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        created = int(time.time()) - 86_400
        self._channels: dict[str, _Channel] = {}
        for name in names:
            channel = _Channel(id=self._new_id("C"), name=name.lstrip("#"), created=created)
            self._channels[channel.id] = channel
        default = alerts_channel or ("alerts" if "alerts" in names else names[0])
        alerts = self._find_channel(default)
        if alerts is None:
            raise ValueError(f"alerts_channel {default!r} is not one of {names}")
        self.alerts_channel_id = alerts.id

        self._messages: dict[str, list[Message]] = {cid: [] for cid in self._channels}
        self._by_ts: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[Ephemeral] = []
        self._files: dict[str, UploadedFile] = {}
        self._requests: list[RequestRecord] = []
        self._calls: list[ApiCall] = []
        self._last_ts_us = 0
        self._rate_limit_left = 0
        self._rate_limit_retry_after = 1
        self._outage_until = 0.0
        self._outage_status = 503
        self._outage_body: OutageBody = "json"
        self._outage_lands = False
        self._outage_reads = False
        self._history_refusal: str | None = None
        self._socket_numbers = itertools.count(1)
        self._issued_sockets: set[int] = set()
        self._connections: list[_SocketConnection] = []
        self._socket_frames: list[Json] = []
        self._slashes: list[SlashCommand] = []
        self._holds_left = 0
        self._hold_seconds = 0.0
        self._slash_by_envelope: dict[str, SlashCommand] = {}
        self._slash_by_token: dict[str, SlashCommand] = {}

        self._api: dict[str, _ApiHandler] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._background: set[concurrent.futures.Future[None]] = set()

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeSlack:
        """Start from a thread so the caller's loop (maybe a bot's) keeps running meanwhile."""
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop from a thread: closing the websockets needs the bot's loop to answer."""
        await asyncio.to_thread(self.stop)

    def start(self) -> FakeSlack:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread with its own loop."""
        if self._thread is not None:
            raise RuntimeError("FakeSlack is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        self.port = sock.getsockname()[1]
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"FakeSlack:{self.port}", daemon=True
        )
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(sock), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Close websockets and the server, then end the loop thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with self._lock:
            background = list(self._background)
        for future in background:
            future.cancel()
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
        self._loop = None
        self._thread = None

    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/files/{file_id}/{name}", self._handle_file_download)
        app.router.add_post("/respond/{token}", self._handle_respond)
        app.router.add_post("/services/{team}/{bot}/{secret}", self._handle_webhook)
        app.router.add_get("/socket/{number}", self._handle_socket)
        # shutdown_timeout: a bot that never answers a close must not hold the test for 60 s.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def _shutdown(self) -> None:
        with self._lock:
            open_sockets = [c.ws for c in self._connections if c.closed_at is None]
        for ws in open_sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=aiohttp.WSCloseCode.GOING_AWAY), 0.5)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 5)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` on the fake's loop without waiting; cancelled by :meth:`stop`."""
        future = asyncio.run_coroutine_threadsafe(coro, self._running_loop())
        with self._lock:
            self._background.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._background.discard(future)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("FakeSlack is not running (use it as a context manager)")
        return self._loop

    def _call_in_loop(self, coro: Coroutine[Any, Any, T], timeout: float = 5.0) -> T:
        """Run ``coro`` on the fake's loop and wait; safe from any thread but the fake's own."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("blocking FakeSlack call from inside its own event loop")
        return asyncio.run_coroutine_threadsafe(coro, self._running_loop()).result(timeout)

    # ---------------------------------------------------------------- addresses

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running fake."""
        if self.port == 0:
            raise RuntimeError("FakeSlack is not running (use it as a context manager)")
        return f"http://{HOST}:{self.port}"

    @property
    def api_base(self) -> str:
        """Web API base for ``AsyncWebClient(base_url=...)`` (ends with a slash)."""
        return f"{self.base_url}/api/"

    @property
    def webhook_url(self) -> str:
        """Incoming webhook; what is posted here lands in the alerts channel."""
        return f"{self.base_url}/services/T000/B000/{self._webhook_secret}"

    @property
    def channel_ids(self) -> dict[str, str]:
        """Channel name → id, deleted channels included."""
        with self._lock:
            return {c.name: c.id for c in self._channels.values()}

    # ---------------------------------------------------------------- fault injection

    def rate_limit(self, count: int, retry_after: int = 1) -> None:
        """Answer the next ``count`` write calls with HTTP 429 and ``Retry-After``."""
        with self._lock:
            self._rate_limit_left = count
            self._rate_limit_retry_after = int(retry_after)

    def outage(
        self,
        seconds: float,
        status: int = 503,
        *,
        body: OutageBody = "json",
        lands: bool = False,
        reads: bool = False,
    ) -> None:
        """Answer write calls with ``status`` for the next ``seconds``.

        ``body`` is what comes with it: Slack's JSON error, or what a proxy or load
        balancer in front of Slack sends instead (an HTML error page, an empty body,
        plain text). ``lands``: ``chat.postMessage`` is carried out all the same and
        only its answer is the error (a gateway that timed out on a backend that
        went on), so the client cannot know that its message is in the channel.
        ``reads``: history reads (the bot's "did it land?" look-ups) fail as well.
        """
        with self._lock:
            self._outage_until = time.monotonic() + seconds
            self._outage_status = status
            self._outage_body = body
            self._outage_lands = lands
            self._outage_reads = reads

    def refuse_history(self, error: str | None = "missing_scope") -> None:
        """``conversations.history`` / ``conversations.replies`` fail as Slack fails them
        for an app that may post but not read: ``missing_scope`` (no
        ``channels:history``/``groups:history``), ``not_in_channel`` (posting from
        outside with ``chat:write.public``), or ``unknown_method`` (a Slack-compatible
        server without the method). ``None`` answers them again."""
        with self._lock:
            self._history_refusal = error

    def clear_faults(self) -> None:
        """End any pending rate limit, outage or history refusal."""
        with self._lock:
            self._rate_limit_left = 0
            self._outage_until = 0.0
            self._history_refusal = None

    def archive_channel(self, channel: str) -> None:
        """Writes to the channel now fail with ``is_archived``."""
        with self._lock:
            self._channel(channel).archived = True

    def remove_bot_from(self, channel: str) -> None:
        """Writes to the channel now fail with ``not_in_channel``."""
        with self._lock:
            self._channel(channel).member = False

    def delete_channel(self, channel: str) -> None:
        """Every call naming the channel now fails with ``channel_not_found``."""
        with self._lock:
            self._channel(channel).deleted = True

    def restore_channel(self, channel: str) -> None:
        """Undo :meth:`archive_channel`, :meth:`remove_bot_from` and :meth:`delete_channel`."""
        with self._lock:
            target = self._channel(channel)
            target.archived = target.deleted = False
            target.member = True

    # ---------------------------------------------------------------- inspection

    @property
    def requests(self) -> list[RequestRecord]:
        """Every HTTP call answered so far, rejected ones included."""
        with self._lock:
            return list(self._requests)

    def calls(self, method: str) -> list[ApiCall]:
        """Web API calls of ``method`` (e.g. ``"chat.postMessage"``) with their arguments."""
        with self._lock:
            return [copy.deepcopy(c) for c in self._calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """Top-level messages of a channel (id or name) in arrival order, threads attached."""
        with self._lock:
            return copy.deepcopy(self._messages[self._channel(channel).id])

    def thread(self, channel: str, ts: str) -> list[Message]:
        """Replies under the message ``ts``."""
        with self._lock:
            parent = self._by_ts.get((self._channel(channel).id, ts))
            if parent is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(parent.replies)

    def files(self) -> list[UploadedFile]:
        """Files whose upload was completed (``files.completeUploadExternal``)."""
        with self._lock:
            return [copy.deepcopy(f) for f in self._files.values() if f.completed_at is not None]

    def ephemerals(self) -> list[Ephemeral]:
        """``chat.postEphemeral`` messages in arrival order."""
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    def slash_commands(self) -> list[SlashCommand]:
        """Every command sent with :meth:`slash` (live records)."""
        with self._lock:
            return list(self._slashes)

    def socket_frames(self) -> list[Json]:
        """Frames the bot sent over Socket Mode that were not acks of a known envelope."""
        with self._lock:
            return copy.deepcopy(self._socket_frames)

    @property
    def connection_count(self) -> int:
        """Socket Mode connections opened so far (a restarted bot adds one)."""
        with self._lock:
            return len(self._connections)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block until ``predicate()`` is truthy; return its value."""
        return _poll(lambda: _truthy(predicate()), timeout, lambda: f"{predicate!r} stayed false")

    async def wait_for_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the sync helper
    ) -> T:
        """:meth:`wait_for` for a test whose bot runs in the same event loop."""
        return await _poll_async(
            lambda: _truthy(predicate()), timeout, lambda: f"{predicate!r} stayed false"
        )

    def wait_for_messages(
        self, channel: str, count: int = 1, timeout: float = 5.0
    ) -> list[Message]:
        """Block until the channel has ``count`` top-level messages; return them all."""
        return _poll(
            lambda: self._messages_state(channel, count),
            timeout,
            lambda: f"fewer than {count} messages in {channel}: {self._texts(channel)}",
        )

    async def wait_for_messages_async(
        self,
        channel: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the sync helper
    ) -> list[Message]:
        """:meth:`wait_for_messages` for a test whose bot runs in the same event loop."""
        return await _poll_async(
            lambda: self._messages_state(channel, count),
            timeout,
            lambda: f"fewer than {count} messages in {channel}: {self._texts(channel)}",
        )

    def wait_connected(self, timeout: float = 5.0, count: int = 1) -> int:
        """Block until ``count`` Socket Mode connections were opened and one is still open
        (``count=2`` waits for a reconnect); return the number opened so far."""
        return _poll(lambda: self._connected_state(count), timeout, self._connected_what)

    async def wait_connected_async(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - mirrors the sync helper
        count: int = 1,
    ) -> int:
        """:meth:`wait_connected` for a test whose bot runs in the same event loop."""
        return await _poll_async(
            lambda: self._connected_state(count), timeout, self._connected_what
        )

    def _messages_state(self, channel: str, count: int) -> tuple[bool, list[Message]]:
        messages = self.messages(channel)
        return len(messages) >= count, messages

    def _texts(self, channel: str) -> list[str | None]:
        return [m.text for m in self.messages(channel)]

    def _connected_state(self, count: int) -> tuple[bool, int]:
        with self._lock:
            opened = len(self._connections)
            live = any(c.closed_at is None for c in self._connections)
            return opened >= count and live, opened

    def _connected_what(self) -> str:
        with self._lock:
            live = sum(c.closed_at is None for c in self._connections)
            return f"Socket Mode: {len(self._connections)} connections opened, {live} open"

    # ---------------------------------------------------------------- driving the bot

    def seed_message(
        self, channel: str, text: str, *, user_id: str = "U1", thread_ts: str | None = None
    ) -> str:
        """Put a human's message into a channel (e.g. a thread for the bot to answer in);
        return its ts. No event is sent to the bot."""
        with self._lock:
            target = self._channel(channel)
            message = Message(
                ts=self._next_ts(),
                channel=target.id,
                text=text,
                blocks=None,
                thread_ts=None,
                user=user_id,
                received_at=time.time(),
            )
            if thread_ts is not None:
                parent = self._thread_parent(target.id, thread_ts)
                if parent is None:
                    raise KeyError(f"no message {thread_ts} in {channel}")
                message.thread_ts = parent.ts
                parent.replies.append(message)
            else:
                self._messages[target.id].append(message)
            self._by_ts[(target.id, message.ts)] = message
            return message.ts

    def prepare_slash(
        self,
        text: str,
        *,
        command: str = "/claimwatch",
        user_id: str = "U1",
        channel_id: str | None = None,
        via: Literal["socket", "http"] = "http",
    ) -> SlashCommand:
        """Build and register a slash command without sending it: its ``response_url`` works
        and :attr:`SlashCommand.form_body` is what Slack would POST in HTTP mode. For tests
        that send it themselves (e.g. with :meth:`signed_request` and a bad signature)."""
        with self._lock:
            channel = self._channel(channel_id or self.alerts_channel_id)
            response_token = secrets.token_hex(16)
            payload = {
                "token": self.verification_token,
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "channel_id": channel.id,
                "channel_name": channel.name,
                "user_id": user_id,
                "user_name": self._user_name(user_id),
                "command": command,
                "text": text,
                "api_app_id": self.app_id,
                "is_enterprise_install": "false",
                "response_url": f"{self.base_url}/respond/{response_token}",
                "trigger_id": f"{len(self._slashes) + 1}.{self.team_id}.{secrets.token_hex(16)}",
            }
            record = SlashCommand(
                self._lock,
                via=via,
                envelope_id=str(uuid.uuid4()),
                response_token=response_token,
                payload=payload,
            )
            self._slashes.append(record)
            self._slash_by_envelope[record.envelope_id] = record
            self._slash_by_token[record.response_token] = record
            return record

    def slash(
        self,
        text: str,
        *,
        command: str = "/claimwatch",
        user_id: str = "U1",
        channel_id: str | None = None,
        via: Literal["socket", "http"] = "socket",
        url: str | None = None,
    ) -> SlashCommand:
        """Send a slash command to the bot and return its record at once.

        ``via="socket"`` sends a ``slash_commands`` envelope over the newest open Socket Mode
        connection; ``via="http"`` POSTs the same payload form-encoded and signed with
        :attr:`signing_secret` to ``url`` (the bot's request URL), in the background.
        """
        if via not in ("socket", "http"):
            raise ValueError(f"via must be 'socket' or 'http', not {via!r}")
        if via == "http" and url is None:
            raise ValueError('slash(via="http") needs the url of the bot')
        with self._lock:
            connection = self._newest_connection()
        if via == "socket" and connection is None:
            raise RuntimeError("no open Socket Mode connection; is the bot connected?")
        record = self.prepare_slash(
            text, command=command, user_id=user_id, channel_id=channel_id, via=via
        )
        if connection is not None and via == "socket":
            envelope = {
                "envelope_id": record.envelope_id,
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": record.payload,
            }
            self._call_in_loop(self._send_envelope(connection, envelope, record))
        elif url is not None:
            self._spawn(self._post_slash(url, record.form_body, record))
        return record

    def disconnect_socket(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message on the newest connection (the client must open
        a new one, as it must every few hours against the real service)."""
        with self._lock:
            connection = self._newest_connection()
        if connection is None:
            raise RuntimeError("no open Socket Mode connection")
        frame = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-slack"}}
        self._call_in_loop(connection.ws.send_json(frame))

    def signed_request(
        self,
        url: str,
        body: bytes,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        bad: bool = False,
        content_type: str = _FORM,
    ) -> tuple[int, str]:
        """POST ``body`` to a bot in HTTP mode with Slack's signature headers; return
        (status, text). ``secret`` defaults to :attr:`signing_secret`; ``bad`` signs with a
        wrong secret; an old ``timestamp`` makes a stale request. Blocking: from a test whose
        bot runs in the same loop use :meth:`signed_request_async`."""
        headers = self._signed_headers(body, secret, timestamp, bad, content_type)
        with httpx.Client(trust_env=False, timeout=10) as client:
            response = client.post(url, content=body, headers=headers)
        return response.status_code, response.text

    async def signed_request_async(
        self,
        url: str,
        body: bytes,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
        bad: bool = False,
        content_type: str = _FORM,
    ) -> tuple[int, str]:
        """:meth:`signed_request` without blocking the caller's loop."""
        headers = self._signed_headers(body, secret, timestamp, bad, content_type)
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            response = await client.post(url, content=body, headers=headers)
        return response.status_code, response.text

    def _signed_headers(
        self, body: bytes, secret: str | None, timestamp: int | None, bad: bool, content_type: str
    ) -> dict[str, str]:
        stamp = int(time.time()) if timestamp is None else timestamp
        key = self.signing_secret if secret is None else secret
        if bad:
            key += "-wrong"
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": slack_signature(key, stamp, body),
        }

    def _newest_connection(self) -> _SocketConnection | None:
        live = [c for c in self._connections if c.closed_at is None]
        return live[-1] if live else None

    async def _send_envelope(
        self, connection: _SocketConnection, envelope: Json, record: SlashCommand
    ) -> None:
        with self._lock:
            record._sent_at = time.time()  # before sending: the ack may beat the next line
        await connection.ws.send_json(envelope)

    async def _post_slash(self, url: str, body: bytes, record: SlashCommand) -> None:
        assert self._session is not None
        headers = self._signed_headers(body, None, None, False, _FORM)
        with self._lock:
            record._sent_at = time.time()
        try:
            async with self._session.post(url, data=body, headers=headers) as response:
                text = await response.text()
                status, ctype = response.status, response.content_type
        except (aiohttp.ClientError, TimeoutError) as error:
            with self._lock:
                record._error = f"{type(error).__name__}: {error}"
            return
        with self._lock:
            record._ack_status = status
            if not 200 <= status < 300:
                record._error = f"HTTP {status}: {text[:200]}"
                return
            record._acked_at = time.time()
            if text:
                try:
                    record._ack_payload = json.loads(text) if ctype == "application/json" else None
                except ValueError:
                    record._ack_payload = None
                # Bolt answers a plain-text ack as text/plain; Slack shows it like {"text": ...}.
                record._ack_payload = record._ack_payload or {"text": text}

    # ---------------------------------------------------------------- HTTP plumbing

    def _record(self, method: str, status: int) -> None:
        with self._lock:
            self._requests.append(RequestRecord(method, status, time.time()))

    def _take_fault(self, method: str) -> _Fault | None:
        """The injected failure for this call, if any (consumes one rate-limit slot)."""
        if method in HISTORY_METHODS:
            with self._lock:
                if self._outage_reads and time.monotonic() < self._outage_until:
                    return _Fault(self._outage_status, "service_unavailable", {}, "html")
            return None
        if method not in self.FAULTY_METHODS:
            return None
        with self._lock:
            if self._rate_limit_left > 0:
                self._rate_limit_left -= 1
                retry_after = {"Retry-After": str(self._rate_limit_retry_after)}
                return _Fault(429, "ratelimited", retry_after)
            if time.monotonic() < self._outage_until:
                return _Fault(
                    self._outage_status,
                    "service_unavailable",
                    {},
                    self._outage_body,
                    self._outage_lands and method == "chat.postMessage",
                )
        return None

    def _fault_response(self, method: str, fault: _Fault) -> web.Response:
        self._record(method, fault.status)
        shape = fault.body if fault.status != 429 else "json"
        if shape == "html":
            page = f"<html><body><h1>{fault.status} Service Unavailable</h1></body></html>"
            return web.Response(
                text=page, status=fault.status, content_type="text/html", headers=fault.headers
            )
        if shape == "text":
            return web.Response(
                text="upstream connect error or disconnect/reset before headers",
                status=fault.status,
                content_type="text/plain",
                headers=fault.headers,
            )
        if shape == "empty":
            return web.Response(
                body=b"",
                status=fault.status,
                content_type="application/json",
                headers=fault.headers,
            )
        body = {"ok": False, "error": fault.error}
        return web.json_response(body, status=fault.status, headers=fault.headers)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ValueError:
            return self._api_answer(method, {}, {"ok": False, "error": "invalid_json"})
        token = _bearer(request) or params.get("token")
        params.pop("token", None)
        handler = self._api.get(method)
        if handler is None:
            return self._api_answer(method, params, {"ok": False, "error": "unknown_method"})
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            return self._api_answer(method, params, {"ok": False, "error": "invalid_auth"})
        fault = self._take_fault(method)
        if fault is not None:
            with self._lock:
                if fault.lands:
                    with contextlib.suppress(_ApiError):
                        handler(params)
                self._calls.append(ApiCall(method, params, fault.status, fault.error, time.time()))
            return self._fault_response(method, fault)
        if method in HISTORY_METHODS:
            with self._lock:
                refusal = self._history_refusal
            if refusal == "unknown_method":
                return self._api_answer(method, params, {"ok": False, "error": refusal})
            if refusal is not None:
                body = {"ok": False, "error": refusal}
                if refusal == "missing_scope":
                    body |= {"needed": "channels:history,groups:history", "provided": SCOPES}
                return self._api_answer(method, params, body)
        with self._lock:
            try:
                body = handler(params)
            except _ApiError as error:
                body = {"ok": False, "error": error.code}
            hold = 0.0
            if method == "chat.postMessage" and self._holds_left > 0:
                self._holds_left -= 1
                hold = self._hold_seconds
        if hold:
            # Done, but the answer is late: a client that dies now never learns it posted.
            await asyncio.sleep(hold)
        return self._api_answer(method, params, body)

    def hold_responses(self, count: int, seconds: float) -> None:
        """The next ``count`` chat.postMessage calls post at once but answer ``seconds`` late."""
        with self._lock:
            self._holds_left = count
            self._hold_seconds = seconds

    def _api_answer(self, method: str, params: Json, body: Json) -> web.Response:
        error = None if body.get("ok") else str(body.get("error"))
        with self._lock:
            self._calls.append(ApiCall(method, params, 200, error, time.time()))
        self._record(method, 200)
        return web.json_response(body, headers={"x-oauth-scopes": SCOPES})

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        """The upload URL: slack-sdk POSTs the raw bytes; a multipart body is accepted too."""
        fault = self._take_fault("upload")
        if fault is not None:
            return self._fault_response("upload", fault)
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            parts = [v for v in form.values() if isinstance(v, web.FileField)]
            data = parts[0].file.read() if parts else b""
        else:
            data = await request.read()
        with self._lock:
            upload = self._files.get(request.match_info["file_id"])
            if upload is not None:
                upload.data = data
                upload.uploaded_at = time.time()
        if upload is None:
            self._record("upload", 404)
            return web.Response(status=404, text="file_not_found")
        self._record("upload", 200)
        return web.Response(text=f"OK - {len(data)}")

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        """``url_private`` of an uploaded file; needs the bot token like the real one."""
        with self._lock:
            upload = self._files.get(request.match_info["file_id"])
        if _bearer(request) != self.bot_token:
            self._record("file_download", 403)
            return web.Response(status=403, text="forbidden")
        if upload is None or upload.data is None:
            self._record("file_download", 404)
            return web.Response(status=404, text="file_not_found")
        self._record("file_download", 200)
        return web.Response(body=upload.data, content_type=upload.mimetype)

    async def _handle_respond(self, request: web.Request) -> web.StreamResponse:
        """A slash command's response_url: record the JSON body against that command."""
        with self._lock:
            record = self._slash_by_token.get(request.match_info["token"])
        if record is None:
            self._record("respond", 404)
            return web.Response(status=404, text="no_service")
        try:
            body = await _read_json_body(request)
        except ValueError:
            self._record("respond", 400)
            return web.Response(status=400, text="invalid_payload")
        with self._lock:
            record._responses.append(body)
        self._record("respond", 200)
        return web.Response(text="ok")

    async def _handle_webhook(self, request: web.Request) -> web.StreamResponse:
        """Incoming webhook: JSON ``{text, blocks}`` becomes a message in the alerts channel."""
        if request.match_info["secret"] != self._webhook_secret:
            self._record("webhook", 404)
            return web.Response(status=404, text="no_service")
        fault = self._take_fault("webhook")
        if fault is not None:
            return self._fault_response("webhook", fault)
        try:
            body = await _read_json_body(request)
        except ValueError:
            self._record("webhook", 400)
            return web.Response(status=400, text="invalid_payload")
        with self._lock:
            channel = self._channels[self.alerts_channel_id]
            status, answer = 200, "ok"
            if channel.deleted:
                status, answer = 404, "channel_not_found"
            elif channel.archived:
                status, answer = 410, "channel_is_archived"
            else:
                try:
                    message = self._new_message(channel.id, body, via_webhook=True)
                except _ApiError as error:
                    status, answer = 400, error.code
                else:
                    self._messages[channel.id].append(message)
                    self._by_ts[(channel.id, message.ts)] = message
        self._record("webhook", status)
        return web.Response(status=status, text=answer)

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        """Socket Mode: hello on connect, then collect acks (pings are answered by aiohttp)."""
        number = int(request.match_info["number"]) if request.match_info["number"].isdigit() else 0
        with self._lock:
            issued = number in self._issued_sockets
        if not issued:
            self._record("socket", 404)
            return web.Response(status=404, text="unknown socket url")
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        self._record("socket", 101)
        connection = _SocketConnection(number=number, ws=ws, opened_at=time.time())
        with self._lock:
            live = 1 + sum(c.closed_at is None for c in self._connections)
        hello = {
            "type": "hello",
            "num_connections": live,
            "debug_info": {
                "host": "fake-slack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        try:
            await ws.send_json(hello)
            with self._lock:
                self._connections.append(connection)
            async for frame in ws:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    self._on_socket_frame(frame.data)
        finally:
            with self._lock:
                connection.closed_at = time.time()
        return ws

    def _on_socket_frame(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            frame = {"unparsed": data}
        with self._lock:
            record = None
            if isinstance(frame, dict):
                record = self._slash_by_envelope.get(str(frame.get("envelope_id")))
            if record is None or record._acked_at is not None:
                self._socket_frames.append(frame if isinstance(frame, dict) else {"frame": frame})
                return
            record._acked_at = time.time()
            record._ack_payload = frame.get("payload")

    # ---------------------------------------------------------------- Web API methods
    # Called with the lock held; they return the JSON body or raise _ApiError.

    def _auth_test(self, params: Json) -> Json:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _connections_open(self, params: Json) -> Json:
        number = next(self._socket_numbers)
        self._issued_sockets.add(number)
        return {"ok": True, "url": f"ws://{HOST}:{self.port}/socket/{number}"}

    def _post_message(self, params: Json) -> Json:
        channel = self._writable_channel(params.get("channel"))
        message = self._new_message(channel.id, params)
        thread_ts = params.get("thread_ts") or None
        if thread_ts is not None:
            parent = self._thread_parent(channel.id, str(thread_ts))
            if parent is None:
                raise _ApiError("thread_not_found")
            message.thread_ts = parent.ts
            message.reply_broadcast = bool(_as_bool(params.get("reply_broadcast")))
            parent.replies.append(message)
            if message.reply_broadcast:
                self._messages[channel.id].append(message)
        else:
            self._messages[channel.id].append(message)
        self._by_ts[(channel.id, message.ts)] = message
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": self._message_json(message),
        }

    def _update(self, params: Json) -> Json:
        channel = self._writable_channel(params.get("channel"))
        message = self._by_ts.get((channel.id, str(params.get("ts"))))
        if message is None:
            raise _ApiError("message_not_found")
        text, blocks = params.get("text"), _json_param(params, "blocks")
        if not text and not blocks:
            raise _ApiError("no_text")
        message.edits.append(
            Edit(
                text=text,
                blocks=blocks,
                edited_at=time.time(),
                previous_text=message.text,
                previous_blocks=message.blocks,
            )
        )
        message.text, message.blocks = text, blocks
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_json(message),
        }

    def _post_ephemeral(self, params: Json) -> Json:
        channel = self._writable_channel(params.get("channel"))
        user = str(params.get("user") or "")
        if not _USER_ID.match(user):
            raise _ApiError("user_not_found")
        text, blocks = params.get("text"), _json_param(params, "blocks")
        if not text and not blocks:
            raise _ApiError("no_text")
        ephemeral = Ephemeral(
            channel=channel.id,
            user=user,
            text=text,
            blocks=blocks,
            thread_ts=params.get("thread_ts") or None,
            message_ts=self._next_ts(),
            received_at=time.time(),
        )
        self._ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.message_ts}

    def _users_info(self, params: Json) -> Json:
        user = str(params.get("user") or "")
        if not _USER_ID.match(user):
            raise _ApiError("user_not_found")
        name = self._user_name(user)
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": name,
                "real_name": name.title(),
                "deleted": False,
                "is_admin": user in self.admins,
                "is_owner": False,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": user == self.bot_user_id,
                "tz": "UTC",
                "profile": {"display_name": name, "real_name": name.title()},
            },
        }

    def _conversations_info(self, params: Json) -> Json:
        channel = self._find_channel(params.get("channel"))
        if channel is None or channel.deleted:
            raise _ApiError("channel_not_found")
        return {"ok": True, "channel": self._channel_json(channel)}

    def _get_upload_url(self, params: Json) -> Json:
        filename = params.get("filename")
        try:
            length = int(params.get("length", ""))
        except ValueError:
            raise _ApiError("invalid_arguments") from None
        if not filename or length < 0:
            raise _ApiError("invalid_arguments")
        upload = UploadedFile(id=self._new_id("F"), filename=str(filename), length=length)
        self._files[upload.id] = upload
        return {
            "ok": True,
            "upload_url": f"{self.base_url}/upload/{upload.id}",
            "file_id": upload.id,
        }

    def _complete_upload(self, params: Json) -> Json:
        entries = _json_param(params, "files")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        uploads: list[tuple[UploadedFile, str | None]] = []
        for entry in entries:
            upload = self._files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if upload is None or upload.data is None or upload.completed_at is not None:
                raise _ApiError("file_not_found")
            uploads.append((upload, entry.get("title")))
        channel_ref = params.get("channel_id") or str(params.get("channels") or "").split(",")[0]
        channel = self._writable_channel(channel_ref) if channel_ref else None
        thread_ts = params.get("thread_ts") or None
        parent = None
        if thread_ts is not None:
            if channel is None:
                raise _ApiError("invalid_arguments")
            parent = self._thread_parent(channel.id, str(thread_ts))
            if parent is None:
                raise _ApiError("thread_not_found")
        now = time.time()
        for upload, title in uploads:
            upload.title = title or upload.filename
            upload.channel = channel.id if channel else None
            upload.thread_ts = parent.ts if parent else None
            upload.initial_comment = params.get("initial_comment")
            upload.completed_at = now
        share_ts = None
        if channel is not None:
            share = Message(
                ts=self._next_ts(),
                channel=channel.id,
                text=params.get("initial_comment") or "",
                blocks=None,
                thread_ts=parent.ts if parent else None,
                user=self.bot_user_id,
                received_at=now,
                subtype="file_share",
                params={k: v for k, v in params.items() if k != "files"},
                files=[copy.deepcopy(u) for u, _ in uploads],
            )
            (parent.replies if parent else self._messages[channel.id]).append(share)
            self._by_ts[(channel.id, share.ts)] = share
            share_ts = share.ts
        return {"ok": True, "files": [self._file_json(u, share_ts) for u, _ in uploads]}

    # ---------------------------------------------------------------- state helpers (locked)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def _next_ts(self) -> str:
        """A unique, increasing, current-looking message ts (``1700000000.000100``)."""
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _find_channel(self, ref: object) -> _Channel | None:
        """A channel by id or by name (``alerts`` / ``#alerts``), deleted ones included."""
        if not isinstance(ref, str) or not ref:
            return None
        if ref in self._channels:
            return self._channels[ref]
        name = ref.lstrip("#")
        return next((c for c in self._channels.values() if c.name == name), None)

    def _channel(self, ref: str) -> _Channel:
        channel = self._find_channel(ref)
        if channel is None:
            raise KeyError(f"unknown channel {ref!r}; known: {sorted(self.channel_ids)}")
        return channel

    def _writable_channel(self, ref: object) -> _Channel:
        channel = self._find_channel(ref)
        if channel is None or channel.deleted:
            raise _ApiError("channel_not_found")
        if channel.archived:
            raise _ApiError("is_archived")
        if not channel.member:
            raise _ApiError("not_in_channel")
        return channel

    def _thread_parent(self, channel_id: str, ts: str) -> Message | None:
        """The top-level message of the thread ``ts`` names (a reply's ts leads to its parent,
        as in Slack)."""
        message = self._by_ts.get((channel_id, ts))
        if message is not None and message.thread_ts and message.thread_ts != message.ts:
            return self._by_ts.get((channel_id, message.thread_ts))
        return message

    def _new_message(self, channel_id: str, params: Json, *, via_webhook: bool = False) -> Message:
        text, blocks = params.get("text"), _json_param(params, "blocks")
        if not text and not blocks and not params.get("attachments"):
            raise _ApiError("no_text")
        return Message(
            ts=self._next_ts(),
            channel=channel_id,
            text=text,
            blocks=blocks,
            thread_ts=None,
            user=self.bot_user_id,
            received_at=time.time(),
            via_webhook=via_webhook,
            unfurl_links=_as_bool(params.get("unfurl_links")),
            unfurl_media=_as_bool(params.get("unfurl_media")),
            params=copy.deepcopy(params),
        )

    def _message_json(self, message: Message) -> Json:
        body: Json = {
            "type": "message",
            "user": message.user,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": message.text or "",
            "ts": message.ts,
        }
        if message.blocks:
            body["blocks"] = message.blocks
        if message.thread_ts:
            body["thread_ts"] = message.thread_ts
        if message.edits:
            body["edited"] = {"user": self.bot_user_id, "ts": f"{message.edits[-1].edited_at:.6f}"}
        metadata = _json_param(message.params, "metadata") if message.params else None
        if metadata:
            body["metadata"] = metadata
        return body

    def _history(self, params: Json) -> Json:
        """``conversations.history``, newest first (metadata only with include_all_metadata)."""
        channel = self._find_channel(params.get("channel"))
        if channel is None or channel.deleted:
            raise _ApiError("channel_not_found")
        with_meta = bool(_as_bool(params.get("include_all_metadata")))
        found = list(reversed(self._messages[channel.id]))
        oldest = params.get("oldest")
        if oldest:
            found = [m for m in found if float(m.ts) > float(oldest)]
        return self._page(found, params, with_meta)

    def _replies(self, params: Json) -> Json:
        """``conversations.replies``: the parent first, then its replies, oldest first."""
        channel = self._find_channel(params.get("channel"))
        if channel is None or channel.deleted:
            raise _ApiError("channel_not_found")
        parent = self._thread_parent(channel.id, str(params.get("ts")))
        if parent is None:
            raise _ApiError("thread_not_found")
        with_meta = bool(_as_bool(params.get("include_all_metadata")))
        return self._page([parent, *parent.replies], params, with_meta)

    def _page(self, found: list[Message], params: Json, with_meta: bool) -> Json:
        """One page of a listing: ``limit`` items from ``cursor``, Slack's pagination shape."""
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        cursor = str(params.get("cursor") or "")
        start = int(cursor.removeprefix("off:")) if cursor.startswith("off:") else 0
        page = found[start : start + limit]
        more = start + limit < len(found)
        return {
            "ok": True,
            "messages": [self._listed(m, with_meta) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": f"off:{start + limit}" if more else ""},
        }

    def _listed(self, message: Message, with_meta: bool) -> Json:
        body = self._message_json(message)
        if not with_meta:
            body.pop("metadata", None)
        return body

    def _channel_json(self, channel: _Channel) -> Json:
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": False,
            "is_archived": channel.archived,
            "is_general": channel.name == "general",
            "is_member": channel.member,
            "created": channel.created,
            "creator": "U0CREATOR1",
            "context_team_id": self.team_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _file_json(self, upload: UploadedFile, share_ts: str | None) -> Json:
        created = int(upload.completed_at or time.time())
        extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        shares: Json = {}
        if upload.channel and share_ts:
            share: Json = {"ts": share_ts, "channel_name": self._channels[upload.channel].name}
            if upload.thread_ts:
                share["thread_ts"] = upload.thread_ts
            shares = {"public": {upload.channel: [share]}}
        return {
            "id": upload.id,
            "created": created,
            "timestamp": created,
            "name": upload.filename,
            "title": upload.title,
            "mimetype": upload.mimetype,
            "filetype": extension or "binary",
            "user": self.bot_user_id,
            "size": len(upload.data or b""),
            "is_external": False,
            "is_public": True,
            "url_private": f"{self.base_url}/files/{upload.id}/{upload.filename}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{upload.id}",
            "channels": [upload.channel] if upload.channel else [],
            "groups": [],
            "ims": [],
            "shares": shares,
        }

    def _user_name(self, user_id: str) -> str:
        if user_id == self.bot_user_id:
            return self.bot_name
        return self._user_names.get(user_id, user_id.lower())


class _Fault(NamedTuple):
    """An injected failure: HTTP status, Slack error code, extra headers, the body's shape,
    and whether the call is carried out all the same (only its answer fails)."""

    status: int
    error: str
    headers: dict[str, str]
    body: OutageBody = "json"
    lands: bool = False


class _ApiError(Exception):
    """A Web API failure answered as ``{"ok": false, "error": code}`` with HTTP 200."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


async def _read_params(request: web.Request) -> Json:
    """Arguments from the query string and a form, multipart or JSON body, merged (slack-sdk
    uses each, depending on the method). Raises ValueError for malformed JSON."""
    params: Json = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in (_FORM, "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            params[key] = value.file.read() if isinstance(value, web.FileField) else value
    return params


async def _read_json_body(request: web.Request) -> Json:
    """A JSON object body, or a form with a ``payload`` JSON field (both reach webhooks)."""
    if request.content_type == _FORM:
        form = await request.post()
        body = json.loads(str(form.get("payload", "")))
    else:
        body = json.loads(await request.text())
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len("Bearer ") :].strip() if header.startswith("Bearer ") else None


def _json_param(params: Json, key: str) -> Any:
    """A structured argument: a list/dict in JSON bodies, a JSON string in form bodies."""
    value = params.get(key)
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            raise _ApiError(f"invalid_{key}") from None
    return value


def _as_bool(value: object) -> bool | None:
    """Slack booleans arrive as true/false in JSON and as "1"/"0"/"true" in forms."""
    if value is None or isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def _truthy(value: T) -> tuple[bool, T]:
    return bool(value), value


__all__ = [
    "ApiCall",
    "Edit",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "RequestRecord",
    "SlashCommand",
    "UploadedFile",
    "slack_signature",
]
