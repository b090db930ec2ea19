"""Posting alerts to Discord through discord.py, with its errors mapped to delivery outcomes.

discord.py already waits out short rate limits and retries 500/502/504 itself; what
still reaches us is translated for the delivery worker:

* ``discord.RateLimited`` (a wait longer than ``max_ratelimit_timeout``) and a
  429 that got through → :class:`~bot.ports.RateLimited`;
* 5xx, timeouts, connection errors → :class:`~bot.ports.TransientFailure`;
* 404 Unknown Channel / 403 Missing Access or Permissions →
  :class:`~bot.ports.ChannelGone`; any other 4xx → :class:`~bot.ports.MessageRejected`.

Every post carries a nonce derived from the delivery with ``enforce_nonce`` (which
discord.py sets whenever a nonce is given): Discord answers a repeated nonce from
the same bot with the message it already created, so a retry after an uncertain
attempt cannot post twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
import discord

from adapters.discord_chat.render import (
    MENTIONS_OFF,
    admin_embed,
    alert_embed,
    card_embed,
    digest_embed,
)
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
from bot.text import clip, one_line

log = logging.getLogger(__name__)

GONE_CODES = {10003, 50001, 50013, 10004}
"""Unknown Channel, Missing Access, Missing Permissions, Unknown Guild."""
THREAD_EXISTS = 160004


def translate(exc: BaseException) -> DeliveryError:
    """A discord.py / network error as what the delivery worker should do about it."""
    if isinstance(exc, discord.RateLimited):
        return RateLimited(exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        detail = f"HTTP {exc.status} {exc.code}: {one_line(exc.text)[:200]}"
        if exc.status == 429:
            return RateLimited(5.0, detail)
        if exc.status >= 500 or exc.status == 401:
            # 401 is our token (revoked, or not logged in yet), not this message: the
            # row must wait for an operator, never be dropped.
            return TransientFailure(detail)
        if exc.code in GONE_CODES or exc.status in (403, 404):
            return ChannelGone(detail)
        return MessageRejected(detail)
    # Network errors, timeouts, anything unexpected: retry with back-off.
    return TransientFailure(f"{type(exc).__name__}: {exc}")


class DiscordTransport:
    """Implements ``bot.ports.ChatTransport`` over a connected ``discord.Client``."""

    platform = "discord"
    threads = True

    def __init__(self, client: discord.Client, *, admin_channel: int | None = None) -> None:
        self._client = client
        self._admin_channel = admin_channel

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        found = self._client.get_channel(channel_id)
        if found is None:
            found = await self._client.fetch_channel(channel_id)
        if not isinstance(found, discord.abc.Messageable):
            raise ChannelGone(f"channel {channel_id} cannot take messages")
        return found

    async def post_alert(
        self,
        channel_id: str,
        alert: Alert,
        *,
        thread: StoryThread | None,
        idempotency_key: str,
        card: StoryCard | None,
    ) -> Posted:
        embed = alert_embed(alert)
        if thread is not None and thread.thread_id is not None:
            sent = await self._send(thread.thread_id, embed, idempotency_key)
            return Posted(str(sent.id), thread.thread_id)
        sent = await self._send(channel_id, embed, idempotency_key)
        return Posted(str(sent.id), await self._open_thread(sent, alert))

    async def _send(self, channel_id: str, embed: discord.Embed, key: str) -> discord.Message:
        """Post ``embed`` with ``key`` as its nonce, mentions off; errors translated."""
        try:
            channel = await self._channel(int(channel_id))
            return await channel.send(embed=embed, nonce=key, allowed_mentions=MENTIONS_OFF)
        except DeliveryError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    async def _open_thread(self, message: discord.Message, alert: Alert) -> str | None:
        """The story's thread under its first message; None if threads are not allowed here."""
        name = clip(one_line(f"{alert.story_id} · {alert.story_title}"), 100)
        try:
            thread = await message.create_thread(name=name)
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                return str(message.id)  # a thread started from a message has the message's id
            log.warning("no thread for story %s: %s", alert.story_id, exc)
            return None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.warning("no thread for story %s: %s", alert.story_id, exc)
            return None
        return str(thread.id)

    async def find_posted(
        self, channel_id: str, idempotency_key: str, *, thread: StoryThread | None
    ) -> Posted | None:
        # The nonce makes re-posting idempotent on Discord's side; nothing to look up.
        return None

    async def update_card(self, thread: StoryThread, card: StoryCard) -> None:
        try:
            channel = await self._channel(int(thread.channel.id))
            if not isinstance(channel, discord.TextChannel | discord.Thread):
                return
            await channel.get_partial_message(int(thread.root_message_id)).edit(
                embed=card_embed(card), allowed_mentions=MENTIONS_OFF
            )
        except DeliveryError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    async def post_digest(
        self, channel_id: str, alerts: Sequence[Alert], *, idempotency_key: str
    ) -> Posted:
        return Posted(str((await self._send(channel_id, digest_embed(alerts), idempotency_key)).id))

    @property
    def admin_channel(self) -> str | None:
        return str(self._admin_channel) if self._admin_channel is not None else None

    async def post_admin(
        self, channel_id: str, alert: AdminAlert, *, idempotency_key: str
    ) -> Posted:
        return Posted(str((await self._send(channel_id, admin_embed(alert), idempotency_key)).id))
