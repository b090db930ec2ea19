"""Posting alerts to Slack through slack-sdk, with its errors mapped to delivery outcomes.

slack-sdk retries only connection errors unless told otherwise; the client built
by :func:`web_client` also waits out one 429 (``Retry-After``) and one 5xx before
giving up, and what still fails is translated for the delivery worker:

* 429 / ``ratelimited`` → :class:`~bot.ports.RateLimited` with Slack's
  ``Retry-After``;
* 5xx, ``service_unavailable``, timeouts and connection errors →
  :class:`~bot.ports.TransientFailure`;
* ``channel_not_found``, ``not_in_channel``, ``is_archived`` … →
  :class:`~bot.ports.ChannelGone`; other errors → :class:`~bot.ports.MessageRejected`.

Every shape of answer is translated, not only Slack's JSON: a proxy's HTML error
page, an empty body or plain text (slack-sdk then hands over a string, or the raw
aiohttp response) become one of the above by their HTTP status, named by the kind
of body, so a log line says "slack HTTP 503 (HTML body)" instead of a traceback.

A ``chat.postMessage`` answered with a 5xx may have posted all the same, so the
client never repeats it on its own: the outbox retries it after looking for it.

Slack has no idempotency key for ``chat.postMessage``; each alert carries its
delivery key in the message *metadata*, and after an attempt whose outcome is
unknown :meth:`SlackTransport.find_posted` reads the channel (or thread) history
for that key before anything is posted again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_chat.render import admin_message, alert_message, card_message, digest_message
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert
from bot.domain.delivery import StoryCard, StoryThread
from bot.ports import (
    ChannelGone,
    DeliveryError,
    MessageRejected,
    Posted,
    RateLimited,
    TransientFailure,
)

METADATA_EVENT = "claimwatch_delivery"
GONE = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "channel_is_archived",
    "restricted_action",
    "team_access_not_granted",
}
TRANSIENT = {"service_unavailable", "fatal_error", "internal_error", "request_timeout"}
HISTORY_PAGE = 200
"""Messages per history page (Slack recommends at most 200)."""
HISTORY_PAGES = 25
"""Pages read when looking for an uncertain post: threads up to 5,000 messages."""


NOT_REPEATED = ("chat.postMessage",)
"""Methods that create something: a 5xx answer does not say it was not created."""


class _ServerErrorRetry(AsyncServerErrorRetryHandler):
    """slack-sdk's one retry of a 500/503, except for methods that create a message.

    A post answered with a 5xx may be in the channel already; repeating it here
    would post it twice. The outbox retries it instead, after looking for it.
    """

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith(NOT_REPEATED):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """One client for everything, retrying one 429 and one 5xx before the outbox takes over."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            _ServerErrorRetry(max_retry_count=1),
        ],
    )


def _status(response: object) -> int | None:
    """The HTTP status of a ``SlackResponse`` or of the raw aiohttp response."""
    for name in ("status_code", "status"):
        value = getattr(response, name, None)
        if isinstance(value, int):
            return value
    return None


def _body(response: object) -> tuple[str, str]:
    """(Slack's ``error`` code or ""; what kind of body came instead of Slack's JSON)."""
    data = getattr(response, "data", None)
    if isinstance(data, Mapping) and data:
        error = str(data.get("error", "") or "")
        return error, "" if error else "JSON without an error code"
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if isinstance(data, str) and data.strip():
        return "", "HTML body" if data.strip().startswith("<") else "text body"
    # Nothing read: slack-sdk gives an empty dict for a body that is not JSON.
    headers = getattr(response, "headers", None)
    try:
        content_type = str(headers.get("Content-Type", "")) if headers is not None else ""
    except AttributeError:
        content_type = ""
    if "html" in content_type:
        return "", "HTML body"
    if content_type.startswith("text/"):
        return "", "text body"
    return "", "empty or non-JSON body"


def _retry_after(response: object) -> float:
    headers = getattr(response, "headers", None) or {}
    try:
        raw = headers.get("Retry-After") or headers.get("retry-after")
        return float(raw) if raw is not None else 1.0
    except (TypeError, ValueError, AttributeError):
        return 1.0


def translate(exc: BaseException) -> DeliveryError:
    """Any failure of a slack-sdk call as what the delivery worker should do about it."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = _status(response)
        error, odd_body = _body(response)
        shown = f"{status}" if status is not None else "?"
        what = f"slack HTTP {shown} {error or f'({odd_body})'}".rstrip()
        if status == 429 or error == "ratelimited":
            wait = _retry_after(response)
            return RateLimited(wait, f"slack {error or status}")
        if status is None or status >= 500 or error in TRANSIENT:
            return TransientFailure(what)
        if status < 300 and not error:
            # A 200 that is not Slack's JSON (a captive proxy, a truncated answer) is no
            # verdict on the message: never a reason to drop it.
            return TransientFailure(what)
        if error in GONE:
            return ChannelGone(f"slack {error}")
        return MessageRejected(what)
    # Network errors, timeouts, anything unexpected: retry with back-off.
    return TransientFailure(f"{type(exc).__name__}: {exc}")


def _oldest(since: datetime | None) -> str | None:
    """Slack's ``oldest`` for a look-up from ``since``, a minute early for clock skew."""
    return None if since is None else f"{since.timestamp() - 60:.6f}"


def _lookup_error(error: DeliveryError) -> DeliveryError:
    """A look-up's failure: "the channel is gone" from a history read only means the
    bot may not read it (``not_in_channel``); the post that follows decides."""
    if isinstance(error, ChannelGone):
        return MessageRejected(f"{error} (reading history)")
    return error


def _metadata(key: str) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


class SlackTransport:
    """Implements ``bot.ports.ChatTransport`` over an ``AsyncWebClient``."""

    platform = "slack"
    threads = True

    def __init__(self, client: AsyncWebClient, *, admin_channel: str | None = None) -> None:
        self._client = client
        self._admin_channel = admin_channel

    async def post_alert(
        self,
        channel_id: str,
        alert: Alert,
        *,
        thread: StoryThread | None,
        idempotency_key: str,
        card: StoryCard | None,
    ) -> Posted:
        text, blocks = alert_message(alert)
        thread_ts = thread.thread_id if thread is not None else None
        ts = await self._post(channel_id, text, blocks, idempotency_key, thread_ts=thread_ts)
        # A top-level post is the story's first message here: its ts names the thread.
        return Posted(ts, thread_ts or ts)

    async def find_posted(
        self,
        channel_id: str,
        idempotency_key: str,
        *,
        thread: StoryThread | None,
        since: datetime | None = None,
    ) -> Posted | None:
        """Read the thread (or channel) for a message carrying ``idempotency_key``.

        A thread lists oldest first, so the post we are unsure about is on its *last*
        page: every page is read, up to ``HISTORY_PAGES`` of them. A channel lists
        newest first, so it is usually on the first; ``since`` bounds it (``oldest``).

        Without the history scopes Slack answers ``missing_scope`` (or
        ``not_in_channel`` for a channel the bot posts to from outside): that is a
        refusal to look, raised as such, never a sign that the channel is gone.
        """
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                if thread is not None and thread.thread_id is not None:
                    resp = await self._client.conversations_replies(
                        channel=channel_id,
                        ts=thread.thread_id,
                        limit=HISTORY_PAGE,
                        cursor=cursor,
                        include_all_metadata=True,
                    )
                else:
                    resp = await self._client.conversations_history(
                        channel=channel_id,
                        limit=HISTORY_PAGE,
                        cursor=cursor,
                        include_all_metadata=True,
                        oldest=_oldest(since),
                    )
            except Exception as exc:
                raise _lookup_error(translate(exc)) from exc
            messages: list[dict[str, Any]] = resp.get("messages", []) or []
            for message in messages:
                meta = message.get("metadata") or {}
                if (
                    meta.get("event_type") == METADATA_EVENT
                    and (meta.get("event_payload") or {}).get("key") == idempotency_key
                ):
                    ts = str(message["ts"])
                    return Posted(ts, thread.thread_id if thread else ts)
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None
        return None

    async def update_card(self, thread: StoryThread, card: StoryCard) -> None:
        text, blocks = card_message(card)
        try:
            await self._client.chat_update(
                channel=thread.channel.id, ts=thread.root_message_id, text=text, blocks=blocks
            )
        except Exception as exc:
            raise translate(exc) from exc

    async def post_digest(
        self, channel_id: str, alerts: Sequence[Alert], *, idempotency_key: str
    ) -> Posted:
        text, blocks = digest_message(alerts)
        return Posted(await self._post(channel_id, text, blocks, idempotency_key))

    @property
    def admin_channel(self) -> str | None:
        return self._admin_channel

    async def post_admin(
        self, channel_id: str, alert: AdminAlert, *, idempotency_key: str
    ) -> Posted:
        text, blocks = admin_message(alert)
        return Posted(await self._post(channel_id, text, blocks, idempotency_key))

    async def _post(
        self,
        channel_id: str,
        text: str,
        blocks: list[Any],
        key: str,
        *,
        thread_ts: str | None = None,
    ) -> str:
        """``chat.postMessage`` carrying ``key`` in its metadata; the new message's ts."""
        try:
            resp = await self._client.chat_postMessage(
                channel=channel_id,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata=_metadata(key),
            )
        except Exception as exc:
            raise translate(exc) from exc
        return str(resp["ts"])
