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
the same bot with the message it already created — but only for "a few minutes".
A bot down longer than that after an uncertain attempt would post twice, so the
delivery key is also written at the end of the embed's footer, and
:meth:`DiscordTransport.find_posted` reads the channel (or thread) from the
attempt's start for a message of ours with that nonce or that footer.

A thread Discord will not open (no permission, 404, a channel type without
threads) is remembered per channel for ``THREAD_RETRY_AFTER``: the story's
follow-ups go in the channel, and the refusal is reported once
(``Posted.thread_refused``) instead of being retried and logged on every alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import discord

from adapters.discord_chat.render import (
    FOOTER,
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
HISTORY_LIMIT = 500
"""Messages read after an uncertain attempt's start when looking for it."""
CLOCK_SKEW = timedelta(minutes=1)
"""How much earlier than the attempt's start (our clock) the look-up starts reading."""
THREAD_RETRY_AFTER = 3600.0
"""Seconds a channel that refused a thread is left alone before the bot asks again."""
KEY_MARK = " · "
"""Separates the footer's text from the delivery key at its end."""


def _with_key(embed: discord.Embed, key: str) -> discord.Embed:
    """``embed`` with the delivery key at the end of its footer (what a look-up matches)."""
    text = embed.footer.text or "claimwatch"
    embed.set_footer(text=clip(text, FOOTER - len(key) - len(KEY_MARK)) + KEY_MARK + key)
    return embed


def _carries(message: discord.Message, key: str) -> bool:
    if message.nonce is not None and str(message.nonce) == key:
        return True
    return any((e.footer.text or "").endswith(KEY_MARK + key) for e in message.embeds)


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
        self._no_threads: dict[str, tuple[float, str]] = {}
        """Channel id → (when, why) Discord last refused to open a thread there."""

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
        if thread is not None and thread.thread_id is None:
            # The story's first message has no thread yet (refused, failed, or found by
            # a look-up): open it under that message now, unless the channel refuses.
            root = await self._root(channel_id, thread.root_message_id)
            opened, refused = await self._open_thread(channel_id, root, alert)
            if opened is None:
                sent = await self._send(channel_id, embed, idempotency_key)
                return Posted(str(sent.id), None, refused)
            thread = replace(thread, thread_id=opened)
        if thread is not None and thread.thread_id is not None:
            sent = await self._send(thread.thread_id, embed, idempotency_key)
            return Posted(str(sent.id), thread.thread_id)
        sent = await self._send(channel_id, embed, idempotency_key)
        opened, refused = await self._open_thread(channel_id, sent, alert)
        return Posted(str(sent.id), opened, refused)

    async def _root(self, channel_id: str, message_id: str) -> discord.PartialMessage | None:
        try:
            channel = await self._channel(int(channel_id))
        except DeliveryError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
        if not isinstance(channel, discord.TextChannel):
            return None
        return channel.get_partial_message(int(message_id))

    async def _send(self, channel_id: str, embed: discord.Embed, key: str) -> discord.Message:
        """Post ``embed`` with ``key`` as its nonce and at its footer's end, mentions off;
        errors translated."""
        try:
            channel = await self._channel(int(channel_id))
            return await channel.send(
                embed=_with_key(embed, key), nonce=key, allowed_mentions=MENTIONS_OFF
            )
        except DeliveryError:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    async def _open_thread(
        self, channel_id: str, message: discord.PartialMessage | None, alert: Alert
    ) -> tuple[str | None, str | None]:
        """The story's thread under its first message: (thread id, why Discord refused one).

        A refusal (403, 404, any other 4xx) is remembered for the channel, so the next
        stories there do not ask again; after a 5xx or a timeout the story's next alert
        asks again.
        """
        refused = self._no_threads.get(channel_id)
        if refused is not None and time.monotonic() - refused[0] < THREAD_RETRY_AFTER:
            return None, refused[1]
        if message is None:
            return None, None
        name = clip(one_line(f"{alert.story_id} · {alert.story_title}"), 100)
        try:
            thread = await message.create_thread(name=name)
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                return str(message.id), None  # a thread from a message has the message's id
            reason = f"HTTP {exc.status} {exc.code}: {one_line(exc.text)[:200]}"
            if 400 <= exc.status < 500 and exc.status != 429:
                self._no_threads[channel_id] = (time.monotonic(), reason)
                log.warning(
                    "no threads in channel %s (%s): follow-ups go in it", channel_id, reason
                )
                return None, reason
            log.warning("no thread for story %s: %s", alert.story_id, reason)
            return None, None
        except Exception as exc:  # timeouts, connection errors, an answer that is no thread
            # The alert is posted already: a thread that failed must not fail it.
            log.warning("no thread for story %s: %s: %s", alert.story_id, type(exc).__name__, exc)
            return None, None
        self._no_threads.pop(channel_id, None)
        return str(thread.id), None

    async def find_posted(
        self,
        channel_id: str,
        idempotency_key: str,
        *,
        thread: StoryThread | None,
        since: datetime | None = None,
    ) -> Posted | None:
        """Our message carrying ``idempotency_key`` (as nonce or footer) since ``since``.

        The nonce alone protects a retry for a few minutes; this look-up protects it
        after any downtime. Discord answers 403 when the bot may not read the
        channel's history: raised (translated) for the worker, which posts anyway.
        """
        where = thread.thread_id if thread is not None and thread.thread_id else channel_id
        after = discord.Object(discord.utils.time_snowflake(since - CLOCK_SKEW)) if since else None
        me = self._client.user
        try:
            channel = await self._channel(int(where))
            async for message in channel.history(
                limit=HISTORY_LIMIT, after=after, oldest_first=True
            ):
                if me is not None and message.author.id != me.id:
                    continue
                if _carries(message, idempotency_key):
                    in_thread = thread.thread_id if thread is not None else None
                    return Posted(str(message.id), in_thread)
        except DeliveryError:
            raise
        except Exception as exc:
            raise translate(exc) from exc
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
