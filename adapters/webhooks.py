"""Alert-only mode: alerts posted to a Discord webhook or a Slack incoming webhook.

For teams that want alerts without installing a bot. The same outbox feeds them
(so an outage or a 429 delays alerts, it does not lose them), but a webhook has no
threads, no edits and no commands, and neither platform takes an idempotency key
on webhooks, nor can a webhook be read back: after an attempt whose outcome is
unknown (a timeout mid-request) the retry posts the alert again, possibly a
second time, and the row is marked ``lookup_refused``. Plain httpx: a webhook is
one POST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from adapters.discord_chat.render import alert_embed, digest_embed
from adapters.slack_chat.render import alert_message, digest_message
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert
from bot.domain.delivery import StoryCard, StoryThread
from bot.ports import (
    ChannelGone,
    MessageRejected,
    Posted,
    RateLimited,
    TransientFailure,
)

DISCORD_WEBHOOK = "discord-webhook"
SLACK_WEBHOOK = "slack-webhook"
WEBHOOK_CHANNEL = "default"
"""Webhooks post to one fixed channel; the outbox addresses it by this id."""


def _retry_after(response: httpx.Response) -> float:
    try:
        body = response.json()
        if isinstance(body, dict) and "retry_after" in body:
            return float(body["retry_after"])
    except ValueError:
        pass
    try:
        return float(response.headers.get("Retry-After", "1"))
    except ValueError:
        return 1.0


def _check(response: httpx.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    detail = f"webhook HTTP {status}: {response.text[:200]}"
    if status == 429:
        raise RateLimited(_retry_after(response), detail)
    if status >= 500:
        raise TransientFailure(detail)
    if status in (401, 403, 404, 410):
        raise ChannelGone(detail)
    raise MessageRejected(detail)


class _Webhook:
    threads = False
    platform = ""

    def __init__(self, url: str, client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._client = client or httpx.AsyncClient(timeout=15.0, follow_redirects=False)

    async def _post(
        self, body: dict[str, Any], params: dict[str, str] | None = None
    ) -> httpx.Response:
        try:
            response = await self._client.post(self._url, json=body, params=params)
        except httpx.HTTPError as exc:
            raise TransientFailure(f"{type(exc).__name__}: {exc}") from exc
        _check(response)
        return response

    async def find_posted(
        self,
        channel_id: str,
        idempotency_key: str,
        *,
        thread: StoryThread | None,
        since: datetime | None = None,
    ) -> Posted | None:
        """Webhooks cannot be read back: a refusal to look, so the worker posts again
        and marks the row at-least-once (and the operators hear so once)."""
        raise MessageRejected("a webhook cannot be read back")

    async def update_card(self, thread: StoryThread, card: StoryCard) -> None:
        return None

    # Admin alerts are for operators; a webhook reaches readers, so it has no admin
    # channel and the admin outbox queues nothing for it.
    admin_channel: str | None = None

    async def post_admin(
        self, channel_id: str, alert: AdminAlert, *, idempotency_key: str
    ) -> Posted:
        raise MessageRejected("webhooks do not take admin alerts")

    async def aclose(self) -> None:
        await self._client.aclose()


class DiscordWebhookTransport(_Webhook):
    platform = DISCORD_WEBHOOK

    async def _send(self, embed: dict[str, Any]) -> Posted:
        body = {"embeds": [embed], "allowed_mentions": {"parse": []}}
        response = await self._post(body, params={"wait": "true"})
        try:
            message_id = str(response.json().get("id", ""))
        except ValueError:
            message_id = ""
        return Posted(message_id or "webhook")

    async def post_alert(
        self,
        channel_id: str,
        alert: Alert,
        *,
        thread: StoryThread | None,
        idempotency_key: str,
        card: StoryCard | None,
    ) -> Posted:
        return await self._send(alert_embed(alert).to_dict())  # type: ignore[arg-type]

    async def post_digest(
        self, channel_id: str, alerts: Sequence[Alert], *, idempotency_key: str
    ) -> Posted:
        return await self._send(digest_embed(alerts).to_dict())  # type: ignore[arg-type]


class SlackWebhookTransport(_Webhook):
    platform = SLACK_WEBHOOK

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
        await self._post({"text": text, "blocks": blocks})
        return Posted("webhook")

    async def post_digest(
        self, channel_id: str, alerts: Sequence[Alert], *, idempotency_key: str
    ) -> Posted:
        text, blocks = digest_message(alerts)
        await self._post({"text": text, "blocks": blocks})
        return Posted("webhook")
