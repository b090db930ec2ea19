"""Delivery: the outbox rows become chat messages, in order, once each.

The worker leases due rows (the head of each channel × story queue), sends each
through its platform's :class:`~bot.ports.ChatTransport` and records the result:

* sent → the platform's message id; the story's first message in a channel opens
  its thread, later alerts go into it and the first message is edited to show the
  current figures;
* rate limited → due again after the platform's ``retry_after`` (not a failure);
* 5xx / network → retried with doubling back-off; the attempt may have posted, so
  the next one looks before posting (and the platform idempotency key makes a
  second post a no-op where the platform supports it). If the platform refuses
  that look-up (no history scope or permission, a webhook that cannot be read
  back) the alert is posted anyway — a possible duplicate beats a certain loss —
  the row is marked ``lookup_refused`` and the operators are told once per
  channel that delivery there is at-least-once;
* channel gone or forbidden → its subscriptions are paused, its queue dropped and
  the operators told, once — never retried forever;
* a message the platform refuses outright → dropped and logged, the queue moves on;
* a thread the platform will not open (no permission) → follow-ups go in the
  channel, and the operators are told once per channel.

A process that dies mid-send leaves the row leased with ``attempt_started_at``
set; when the lease expires another worker (or the restarted one) takes it and,
because the attempt is *uncertain*, asks the platform before posting again.

Admin alerts (feeds failing, channels gone, the deployment unhealthy) have their
own outbox, queued when they are stored, and go out the same way to each
platform's admin channel (:meth:`DeliveryWorker.send_admin`): an admin alert
raised during a chat outage arrives when the outage ends.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.clock import Clock, utc_now
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert
from bot.domain.delivery import (
    AdminDelivery,
    Channel,
    Delivery,
    Digest,
    RetryPolicy,
    StoryCard,
    StoryThread,
)
from bot.metrics import Metrics
from bot.ports import (
    AdminPublisher,
    ChannelGone,
    ChatTransport,
    DeliveryError,
    LeasedRows,
    MessageRejected,
    Posted,
    RateLimited,
    TransientFailure,
    UnitOfWorkFactory,
)
from bot.service.queries import story_card

log = logging.getLogger(__name__)

DIGEST_MAX = 40
"""At most this many alerts in one digest message; the rest go in the next one."""
ADMIN_BATCH = 10
"""Admin rows claimed per round (they are few; a burst drains over a few rounds)."""


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    lease: timedelta = timedelta(minutes=2)
    """Longer than one send can take (retries inside the client included)."""
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class DeliveryWorker:
    """Sends outbox rows for the platforms it has transports for."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        transports: Mapping[str, ChatTransport],
        *,
        owner: str,
        clock: Clock = utc_now,
        config: DeliveryConfig = DeliveryConfig(),
        on_admin: AdminPublisher | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._metrics = metrics
        self._transports = dict(transports)
        self._owner = owner
        self._clock = clock
        self._config = config
        self._on_admin = on_admin
        self.sent = 0
        self._refused_lookups: set[Channel] = set()
        self._told: set[str] = set()
        """Keys of standing-condition admin alerts already stored by this worker."""

    @property
    def platforms(self) -> list[str]:
        return sorted(self._transports)

    async def claim(self, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` due rows (each the oldest unsent of its channel × story)."""
        if not self._transports:
            return []
        async with self._uow_factory() as uow:
            await uow.begin_write()
            claimed = await uow.outbox.claim_due(
                now=self._clock(),
                owner=self._owner,
                lease=self._config.lease,
                limit=limit,
                platforms=self.platforms,
            )
            await uow.commit()
        return claimed

    async def deliver(self, delivery: Delivery) -> bool:
        """Send one leased row and record what happened; True if it was sent."""
        transport = self._transports[delivery.channel.platform]
        alert = delivery.alert
        thread: StoryThread | None = None
        card: StoryCard | None = None
        if transport.threads:
            async with self._uow_factory() as uow:
                thread = await uow.outbox.thread(delivery.channel, alert.story_id)
                story = await uow.stories.get(alert.story_id)
            card = story_card(story, alert) if story is not None else None
        key = delivery.idempotency_key
        refused: str | None = None
        try:
            posted = None
            if delivery.uncertain:
                posted, refused = await self._look(
                    transport, delivery.channel, key, thread, delivery.started_at
                )
                if posted is not None:
                    log.info("delivery %d had landed after all: not posted again", delivery.id)
            if posted is None:
                posted = await transport.post_alert(
                    delivery.channel.id, alert, thread=thread, idempotency_key=key, card=card
                )
        except DeliveryError as exc:
            await self._failed(delivery, exc)
            return False
        except Exception as exc:  # a bug in an adapter must not stall the queue for good
            log.exception("delivery %d: unexpected error", delivery.id)
            await self._failed(delivery, TransientFailure(f"{type(exc).__name__}: {exc}"))
            return False
        await self._sent(delivery, posted, thread, refused)
        now = self._clock()
        if refused is not None:
            await self._tell_once(AdminAlert.lookup_refused(str(delivery.channel), refused, now))
        if posted.thread_refused is not None:
            await self._tell_once(
                AdminAlert.threads_refused(str(delivery.channel), posted.thread_refused, now)
            )
        if thread is not None and card is not None:
            await self._refresh_card(transport, thread, card)
        return True

    async def _look(
        self,
        transport: ChatTransport,
        channel: Channel,
        key: str,
        thread: StoryThread | None,
        since: datetime | None,
    ) -> tuple[Posted | None, str | None]:
        """Did an earlier, unresolved attempt land? (the post found, why we could not tell).

        A platform that cannot answer *now* (5xx, timeout, 429) makes the send wait
        and look again later. A platform that refuses to answer at all (no history
        scope or permission, an unknown method, a transport that cannot read back)
        must not cost the alert: it is posted anyway, since a possible duplicate
        beats a certain loss, and the refusal is returned so the row is marked.
        """
        try:
            return await transport.find_posted(channel.id, key, thread=thread, since=since), None
        except (TransientFailure, RateLimited):
            raise
        except DeliveryError as exc:
            reason = str(exc)
        except Exception as exc:  # an adapter's surprise is a refusal, not a lost alert
            reason = f"{type(exc).__name__}: {exc}"
        reason = reason[:200]
        first = channel not in self._refused_lookups
        self._refused_lookups.add(channel)
        (log.warning if first else log.info)(
            "look-up in %s refused (%s): posting anyway, at-least-once", channel, reason
        )
        return None, reason

    async def _tell_once(self, admin: AdminAlert) -> None:
        """Store an admin alert about a standing condition; its key makes it once per channel."""
        if admin.key in self._told:
            return
        async with self._uow_factory() as uow:
            await uow.begin_write()
            fresh = await uow.admin_alerts.add(admin)
            await uow.commit()
        self._told.add(admin.key)
        if fresh:
            log.warning("%s", admin.message)
            if self._on_admin is not None:
                await self._on_admin([admin])

    async def _sent(
        self,
        delivery: Delivery,
        posted: Posted,
        thread: StoryThread | None,
        lookup_refused: str | None,
    ) -> None:
        now = self._clock()
        async with self._uow_factory() as uow:
            await uow.begin_write()
            await uow.outbox.mark_sent(
                delivery.id, posted.message_id, now, lookup_refused=lookup_refused
            )
            if self._transports[delivery.channel.platform].threads:
                if thread is None:
                    # The story's first message here: it is the story's root.
                    opened = StoryThread(
                        delivery.channel,
                        delivery.alert.story_id,
                        posted.message_id,
                        posted.thread_id,
                    )
                    await uow.outbox.save_thread(opened, now)
                elif thread.thread_id is None and posted.thread_id is not None:
                    # A thread opened late under the existing root (see ChatTransport).
                    await uow.outbox.save_thread(replace(thread, thread_id=posted.thread_id), now)
            await uow.commit()
        self.sent += 1
        if self._metrics is not None:
            self._metrics.observe_delivery(delivery, now)

    async def _refresh_card(
        self, transport: ChatTransport, thread: StoryThread, card: StoryCard
    ) -> None:
        """Best effort: a card that could not be edited is edited by the next alert.

        Nothing escapes: the alert is already recorded as sent, and a failed edit is
        one log line with its kind, never a traceback.
        """
        try:
            await transport.update_card(thread, card)
        except Exception as exc:
            kind = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            log.warning("story card %s in %s not updated: %s", card.story_id, thread.channel, kind)

    async def _failed(self, delivery: Delivery, exc: DeliveryError) -> None:
        now = self._clock()
        if self._metrics is not None:
            self._metrics.observe_delivery_failure(delivery.channel.platform, _failure_kind(exc))
        if isinstance(exc, ChannelGone):
            await self.channel_gone(delivery.channel, str(exc))
            return
        async with self._uow_factory() as uow:
            await uow.begin_write()
            await self._record_failure(
                uow.outbox,
                f"delivery {delivery.id} to {delivery.channel}",
                delivery.id,
                delivery.attempts,
                exc,
                now,
                was_uncertain=delivery.uncertain,
            )
            await uow.commit()

    async def _record_failure(
        self,
        outbox: LeasedRows,
        what: str,
        row_id: int,
        attempts: int,
        exc: DeliveryError,
        now: datetime,
        *,
        was_uncertain: bool,
    ) -> None:
        """Refused for good → dropped; 429 → due after ``retry_after``; else back off.

        A 429 posted nothing, but it does not settle an earlier attempt whose outcome
        is unknown (``was_uncertain``): that row still looks before it posts.
        """
        if isinstance(exc, MessageRejected | ChannelGone):
            log.error("%s refused: %s", what, exc)
            await outbox.drop(row_id, str(exc))
        elif isinstance(exc, RateLimited):
            at = now + timedelta(seconds=max(exc.retry_after, 0.05))
            await outbox.retry_at(row_id, at, str(exc), uncertain=was_uncertain)
        else:
            delay = self._config.retry.delay(attempts + 1)
            log.warning("%s failed (%s); retry in %.0fs", what, exc, delay.total_seconds())
            await outbox.retry_at(row_id, now + delay, str(exc), uncertain=True)

    async def channel_gone(self, channel: Channel, reason: str) -> None:
        """Pause the channel's subscriptions, drop its queue, tell the operators once."""
        now = self._clock()
        async with self._uow_factory() as uow:
            await uow.begin_write()
            paused = await uow.subscriptions.pause_channel(channel, reason)
            dropped = await uow.outbox.drop_channel(channel, reason)
            admin = AdminAlert.channel_gone(str(channel), reason, now, paused)
            fresh = await uow.admin_alerts.add(admin) if paused or dropped else False
            await uow.commit()
        log.error("channel %s gone (%s): %d subscription(s) paused", channel, reason, paused)
        if fresh and self._on_admin is not None:
            await self._on_admin([admin])

    async def send_digests(self) -> int:
        """Send every digest that is due; how many digest messages went out."""
        now = self._clock()
        async with self._uow_factory() as uow:
            digests = [
                d
                for d in await uow.subscriptions.digests()
                if d.next_at <= now and d.channel.platform in self._transports
            ]
        sent = 0
        for digest in digests:
            sent += await self._send_digest(digest, now)
        return sent

    async def _send_digest(self, digest: Digest, now: datetime) -> int:
        async with self._uow_factory() as uow:
            await uow.begin_write()
            # Claim this round by moving the schedule on; another worker sees it not due.
            claimed = await uow.subscriptions.advance_digest(
                digest, next_at=_next_digest(digest, now)
            )
            held = await uow.outbox.held(digest.channel, DIGEST_MAX) if claimed else []
            await uow.commit()
        if not held:
            return 0
        transport = self._transports[digest.channel.platform]
        alerts: list[Alert] = [d.alert for d in held]
        key = f"cwd{held[0].id}-{len(held)}"
        try:
            posted = await transport.post_digest(digest.channel.id, alerts, idempotency_key=key)
        except ChannelGone as exc:
            await self.channel_gone(digest.channel, str(exc))
            return 0
        except DeliveryError as exc:
            # Held rows stay held: they go out with the next digest.
            log.warning("digest for %s not sent (%s); next round takes them", digest.channel, exc)
            return 0
        async with self._uow_factory() as uow:
            await uow.begin_write()
            await uow.outbox.mark_digested([d.id for d in held], posted.message_id, now)
            await uow.commit()
        return 1

    async def register_admin_channels(self) -> None:
        """Record where admin alerts go (this worker's configuration) for the admin outbox."""
        channels = [
            Channel(platform, transport.admin_channel)
            for platform, transport in sorted(self._transports.items())
            if transport.admin_channel is not None
        ]
        async with self._uow_factory() as uow:
            await uow.begin_write()
            dropped = await uow.admin_outbox.register_channels(channels, self._clock())
            await uow.commit()
        if dropped:
            log.warning("%d admin alert(s) dropped: their admin channel is not configured", dropped)

    async def send_admin(self) -> int:
        """Send due admin outbox rows; how many were sent."""
        if not self._transports:
            return 0
        async with self._uow_factory() as uow:
            await uow.begin_write()
            claimed = await uow.admin_outbox.claim_due(
                now=self._clock(),
                owner=self._owner,
                lease=self._config.lease,
                limit=ADMIN_BATCH,
                platforms=self.platforms,
            )
            await uow.commit()
        sent = 0
        for delivery in claimed:
            sent += await self._deliver_admin(delivery)
        return sent

    async def _deliver_admin(self, delivery: AdminDelivery) -> bool:
        transport = self._transports[delivery.channel.platform]
        key = delivery.idempotency_key
        channel_id = delivery.channel.id
        refused: str | None = None
        try:
            posted = None
            if delivery.uncertain:
                posted, refused = await self._look(
                    transport, delivery.channel, key, None, delivery.started_at
                )
            if posted is None:
                posted = await transport.post_admin(channel_id, delivery.alert, idempotency_key=key)
        except Exception as exc:
            failure = exc if isinstance(exc, DeliveryError) else TransientFailure(repr(exc))
            if not isinstance(exc, DeliveryError):
                log.exception("admin delivery %d: unexpected error", delivery.id)
            # An admin channel that is gone is dropped and logged: nobody is left in
            # chat to tell.
            async with self._uow_factory() as uow:
                await uow.begin_write()
                await self._record_failure(
                    uow.admin_outbox,
                    f"admin delivery {delivery.id} to {delivery.channel}",
                    delivery.id,
                    delivery.attempts,
                    failure,
                    self._clock(),
                    was_uncertain=delivery.uncertain,
                )
                await uow.commit()
            return False
        async with self._uow_factory() as uow:
            await uow.begin_write()
            await uow.admin_outbox.mark_sent(
                delivery.id, posted.message_id, self._clock(), lookup_refused=refused
            )
            await uow.commit()
        if refused is not None:
            await self._tell_once(
                AdminAlert.lookup_refused(str(delivery.channel), refused, self._clock())
            )
        return True


def _failure_kind(exc: DeliveryError) -> str:
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, ChannelGone):
        return "gone"
    if isinstance(exc, MessageRejected):
        return "rejected"
    return "transient"


def _next_digest(digest: Digest, now: datetime) -> datetime:
    """The next slot after ``now`` on the digest's grid (no burst after a long downtime)."""
    if digest.interval <= timedelta(0):
        return now
    if digest.next_at > now:
        return digest.next_at
    periods = (now - digest.next_at) // digest.interval + 1
    return digest.next_at + digest.interval * periods
