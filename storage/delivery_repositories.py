"""Repositories for chat delivery: who wants what (subscriptions, mutes, digests) and the outbox.

The outbox is claimed like feeds (see ``storage.source_repositories``): a worker
leases rows with one statement, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share it without sending a row twice. Only the *head* of each
(channel, story) queue is claimable — the oldest pending row — which keeps a
story's alerts in order in its thread while other stories and channels proceed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.domain.alerts import AlertType, Severity
from bot.domain.delivery import (
    Channel,
    Delivery,
    DeliveryState,
    Digest,
    Mute,
    NewDelivery,
    StoryThread,
    Subscription,
    Target,
)
from storage import serialize
from storage.source_repositories import _insert, _written
from storage.tables import (
    AdminDeliveryRow,
    AlertRow,
    DeliveryRow,
    DigestRow,
    MuteRow,
    StoryThreadRow,
    SubscriptionRow,
)


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        channel=Channel(row.platform, row.channel_id),
        target=Target(row.target),
        value=row.value,
        types=frozenset(AlertType(t) for t in row.types.split(",") if t),
        min_severity=Severity(row.min_severity),
        created_by=row.created_by,
        created_at=row.created_at,
        paused_reason=row.paused_reason,
    )


class SqlSubscriptionRepository:
    """Subscriptions, mutes and digests: everything routing reads when alerts are raised."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, sub: Subscription) -> None:
        """Insert, or update the rule with the same id (same channel, target and value)."""
        values = {
            "id": sub.id,
            "platform": sub.channel.platform,
            "channel_id": sub.channel.id,
            "target": sub.target.value,
            "value": sub.value,
            "types": ",".join(sorted(t.value for t in sub.types)),
            "min_severity": sub.min_severity.value,
            "created_by": sub.created_by,
            "created_at": sub.created_at,
            "paused_reason": sub.paused_reason,
        }
        stmt = _insert(self._session)(SubscriptionRow).values(**values)
        changed = {k: v for k, v in values.items() if k not in ("id", "created_at", "created_by")}
        _written(self._session)
        await self._session.execute(
            stmt.on_conflict_do_update(index_elements=[SubscriptionRow.id], set_=changed)
        )

    async def get(self, sub_id: str) -> Subscription | None:
        row = await self._session.get(SubscriptionRow, sub_id)
        return None if row is None else _subscription(row)

    async def remove(self, sub_id: str) -> bool:
        _written(self._session)
        result = await self._session.execute(
            delete(SubscriptionRow)
            .where(SubscriptionRow.id == sub_id)
            .returning(SubscriptionRow.id)
        )
        return result.first() is not None

    async def for_channel(self, channel: Channel) -> list[Subscription]:
        stmt = (
            select(SubscriptionRow)
            .where(
                SubscriptionRow.platform == channel.platform,
                SubscriptionRow.channel_id == channel.id,
            )
            .order_by(SubscriptionRow.created_at, SubscriptionRow.id)
        )
        return [_subscription(r) for r in (await self._session.scalars(stmt)).all()]

    async def active(self) -> list[Subscription]:
        stmt = select(SubscriptionRow).where(SubscriptionRow.paused_reason.is_(None))
        return [_subscription(r) for r in (await self._session.scalars(stmt)).all()]

    async def paused_channels(self) -> set[Channel]:
        """Channels with a paused subscription (delivery found them gone)."""
        stmt = (
            select(SubscriptionRow.platform, SubscriptionRow.channel_id)
            .where(SubscriptionRow.paused_reason.is_not(None))
            .distinct()
        )
        return {Channel(p, c) for p, c in (await self._session.execute(stmt)).all()}

    async def pause_channel(self, channel: Channel, reason: str) -> int:
        """Pause every active subscription of ``channel``; how many were paused."""
        _written(self._session)
        result = await self._session.execute(
            update(SubscriptionRow)
            .where(
                SubscriptionRow.platform == channel.platform,
                SubscriptionRow.channel_id == channel.id,
                SubscriptionRow.paused_reason.is_(None),
            )
            .values(paused_reason=reason)
            .returning(SubscriptionRow.id)
        )
        return len(result.all())

    async def save_mute(self, mute: Mute) -> None:
        stmt = _insert(self._session)(MuteRow).values(
            platform=mute.channel.platform,
            channel_id=mute.channel.id,
            story_id=mute.story_id,
            until=mute.until,
        )
        _written(self._session)
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[MuteRow.platform, MuteRow.channel_id, MuteRow.story_id],
                set_={"until": mute.until},
            )
        )

    async def remove_mute(self, channel: Channel, story_id: str) -> bool:
        _written(self._session)
        result = await self._session.execute(
            delete(MuteRow)
            .where(
                MuteRow.platform == channel.platform,
                MuteRow.channel_id == channel.id,
                MuteRow.story_id == story_id,
            )
            .returning(MuteRow.story_id)
        )
        return result.first() is not None

    async def mutes(self, now: datetime) -> list[Mute]:
        """Mutes still in force (expired ones are ignored, not deleted: cheap and harmless)."""
        stmt = select(MuteRow).where(or_(MuteRow.until.is_(None), MuteRow.until > now))
        return [
            Mute(Channel(r.platform, r.channel_id), r.story_id, r.until)
            for r in (await self._session.scalars(stmt)).all()
        ]

    async def save_digest(self, digest: Digest) -> None:
        values = {
            "platform": digest.channel.platform,
            "channel_id": digest.channel.id,
            "interval_s": digest.interval.total_seconds(),
            "next_at": digest.next_at,
        }
        stmt = _insert(self._session)(DigestRow).values(**values)
        _written(self._session)
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[DigestRow.platform, DigestRow.channel_id],
                set_={"interval_s": values["interval_s"], "next_at": values["next_at"]},
            )
        )

    async def advance_digest(self, digest: Digest, *, next_at: datetime) -> bool:
        """Move the digest's schedule on if nobody else has (compare-and-set on next_at)."""
        _written(self._session)
        result = await self._session.execute(
            update(DigestRow)
            .where(
                DigestRow.platform == digest.channel.platform,
                DigestRow.channel_id == digest.channel.id,
                DigestRow.next_at == digest.next_at,
            )
            .values(next_at=next_at)
            .returning(DigestRow.channel_id)
        )
        return result.first() is not None

    async def remove_digest(self, channel: Channel) -> bool:
        _written(self._session)
        result = await self._session.execute(
            delete(DigestRow)
            .where(DigestRow.platform == channel.platform, DigestRow.channel_id == channel.id)
            .returning(DigestRow.channel_id)
        )
        return result.first() is not None

    async def digests(self) -> list[Digest]:
        rows = (await self._session.scalars(select(DigestRow))).all()
        return [
            Digest(Channel(r.platform, r.channel_id), timedelta(seconds=r.interval_s), r.next_at)
            for r in rows
        ]


def _delivery(row: DeliveryRow, payload: dict[str, Any], uncertain: bool) -> Delivery:
    return Delivery(
        id=row.id,
        alert=serialize.load_alert(payload),
        channel=Channel(row.platform, row.channel_id),
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        uncertain=uncertain,
        started_at=row.attempt_started_at,
    )


class _Outbox:
    """What both outboxes (story alerts, admin alerts) do with a row once it is claimed."""

    _rows: ClassVar[type[DeliveryRow] | type[AdminDeliveryRow]]

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _claim_heads(
        self,
        payload: Any,
        joined: ColumnElement[bool],
        queue: Sequence[str],
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        platforms: Sequence[str],
    ) -> list[Any]:
        """Lease due rows that are the oldest pending of their queue, with their payload.

        ``queue`` names the columns that make a queue (a channel, or a channel and a
        story): a row waits while an earlier row of its queue is unsent, which keeps
        each queue in order while other queues go ahead.
        """
        s = self._session
        rows: Any = self._rows
        earlier: Any = aliased(rows)
        blocked = (
            select(earlier.id)
            .where(
                *(getattr(earlier, c) == getattr(rows, c) for c in queue),
                earlier.id < rows.id,
                earlier.state == DeliveryState.PENDING.value,
            )
            .exists()
        )
        due = (
            select(rows, payload)
            .join(payload.class_, joined)
            .where(
                rows.state == DeliveryState.PENDING.value,
                rows.platform.in_(list(platforms)),
                rows.next_attempt_at <= now,
                or_(rows.lease_expires_at.is_(None), rows.lease_expires_at <= now),
                ~blocked,
            )
            .order_by(rows.next_attempt_at, rows.id)
            .limit(limit)
        )
        if s.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(of=rows, skip_locked=True)
        _written(s)
        found = list((await s.execute(due)).all())
        if found:
            await s.execute(
                update(rows)
                .where(rows.id.in_([row.id for row, _ in found]))
                .values(
                    lease_owner=owner,
                    lease_expires_at=now + lease,
                    attempt_started_at=func.coalesce(rows.attempt_started_at, now),
                    attempts=rows.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
        return found

    async def mark_sent(
        self,
        delivery_id: int,
        message_id: str | None,
        now: datetime,
        *,
        lookup_refused: str | None = None,
    ) -> None:
        """Sent. ``lookup_refused`` (why): sent without knowing whether an earlier
        attempt had landed, so the platform may show it twice; kept on the row."""
        await self._finish(
            delivery_id,
            state=DeliveryState.SENT.value,
            sent_at=now,
            message_id=message_id,
            attempt_started_at=None,
            last_error=None if lookup_refused is None else f"look-up refused: {lookup_refused}",
            lookup_refused=lookup_refused is not None,
        )

    async def retry_at(
        self, delivery_id: int, at: datetime, error: str, *, uncertain: bool
    ) -> None:
        """Try again at ``at``. ``uncertain``: the failed attempt may have posted anyway."""
        values: dict[str, Any] = {"next_attempt_at": at, "last_error": error[:500]}
        if not uncertain:
            values["attempt_started_at"] = None
        await self._finish(delivery_id, **values)

    async def drop(self, delivery_id: int, error: str) -> None:
        await self._finish(
            delivery_id,
            state=DeliveryState.DROPPED.value,
            last_error=error[:500],
            attempt_started_at=None,
        )

    async def _finish(self, delivery_id: int, **values: Any) -> None:
        _written(self._session)
        await self._session.execute(
            update(self._rows)
            .where(self._rows.id == delivery_id)
            .values(lease_owner=None, lease_expires_at=None, **values)
            .execution_options(synchronize_session=False)
        )

    async def release(self, owner: str) -> int:
        """Drop ``owner``'s leases (clean shutdown). Started attempts stay marked uncertain."""
        _written(self._session)
        result = await self._session.execute(
            update(self._rows)
            .where(self._rows.lease_owner == owner)
            .values(lease_owner=None, lease_expires_at=None)
            .returning(self._rows.id)
        )
        return len(result.all())

    async def counts(self) -> dict[str, int]:
        """Rows per state (for ``status`` and the metrics)."""
        stmt = select(self._rows.state, func.count()).group_by(self._rows.state)
        return {state: n for state, n in (await self._session.execute(stmt)).all()}


class SqlOutboxRepository(_Outbox):
    """The ``deliveries`` outbox and the ``story_threads`` it posts into."""

    _rows = DeliveryRow

    async def add(self, deliveries: Sequence[NewDelivery], now: datetime) -> int:
        """Queue deliveries; a row for the same alert and channel is never queued twice."""
        if not deliveries:
            return 0
        rows = [
            {
                "alert_key": d.alert_key,
                "story_id": d.story_id,
                "platform": d.channel.platform,
                "channel_id": d.channel.id,
                "subscription_id": d.subscription_id,
                "state": d.state.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for d in deliveries
        ]
        stmt = (
            _insert(self._session)(DeliveryRow)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=[DeliveryRow.alert_key, DeliveryRow.platform, DeliveryRow.channel_id]
            )
            .returning(DeliveryRow.id)
        )
        _written(self._session)
        return len((await self._session.execute(stmt)).all())

    async def claim_due(
        self,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        platforms: Sequence[str],
    ) -> list[Delivery]:
        """Lease up to ``limit`` due heads of their (channel, story) queues, oldest first.

        Each returned delivery says whether an earlier attempt was left unresolved
        (``uncertain``); the claim itself records that this attempt has started.
        """
        found = await self._claim_heads(
            AlertRow.payload,
            AlertRow.key == DeliveryRow.alert_key,
            ("platform", "channel_id", "story_id"),
            now=now,
            owner=owner,
            lease=lease,
            limit=limit,
            platforms=platforms,
        )
        return [
            _delivery(row, payload, row.attempt_started_at is not None) for row, payload in found
        ]

    async def drop_channel(self, channel: Channel, reason: str) -> int:
        """Drop every unsent row of ``channel`` (it is gone); how many."""
        _written(self._session)
        result = await self._session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.platform == channel.platform,
                DeliveryRow.channel_id == channel.id,
                DeliveryRow.state.in_([DeliveryState.PENDING.value, DeliveryState.HELD.value]),
            )
            .values(
                state=DeliveryState.DROPPED.value,
                last_error=reason[:500],
                lease_owner=None,
                lease_expires_at=None,
            )
            .returning(DeliveryRow.id)
        )
        return len(result.all())

    async def held(self, channel: Channel, limit: int) -> list[Delivery]:
        """Rows waiting for ``channel``'s digest, oldest first."""
        stmt = (
            select(DeliveryRow, AlertRow.payload)
            .join(AlertRow, AlertRow.key == DeliveryRow.alert_key)
            .where(
                DeliveryRow.platform == channel.platform,
                DeliveryRow.channel_id == channel.id,
                DeliveryRow.state == DeliveryState.HELD.value,
            )
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [_delivery(r, p, False) for r, p in (await self._session.execute(stmt)).all()]

    async def mark_digested(
        self, delivery_ids: Sequence[int], message_id: str | None, now: datetime
    ) -> None:
        _written(self._session)
        await self._session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id.in_(list(delivery_ids)))
            .values(state=DeliveryState.SENT.value, sent_at=now, message_id=message_id)
            .execution_options(synchronize_session=False)
        )

    async def release_held(self, channel: Channel) -> int:
        """The digest was turned off: held rows are sent one by one after all."""
        _written(self._session)
        result = await self._session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.platform == channel.platform,
                DeliveryRow.channel_id == channel.id,
                DeliveryRow.state == DeliveryState.HELD.value,
            )
            .values(state=DeliveryState.PENDING.value)
            .returning(DeliveryRow.id)
        )
        return len(result.all())

    async def next_due(self, platforms: Sequence[str]) -> datetime | None:
        """When the soonest pending row becomes due (the worker sleeps until then)."""
        stmt = select(func.min(DeliveryRow.next_attempt_at)).where(
            DeliveryRow.state == DeliveryState.PENDING.value,
            DeliveryRow.platform.in_(list(platforms)),
        )
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def sent(self, channel: Channel) -> list[tuple[str, str | None]]:
        """(alert key, platform message id) of the channel's sent rows, in send order."""
        stmt = (
            select(DeliveryRow.alert_key, DeliveryRow.message_id)
            .where(
                DeliveryRow.platform == channel.platform,
                DeliveryRow.channel_id == channel.id,
                DeliveryRow.state == DeliveryState.SENT.value,
            )
            .order_by(DeliveryRow.sent_at, DeliveryRow.id)
        )
        return [(k, m) for k, m in (await self._session.execute(stmt)).all()]

    async def thread(self, channel: Channel, story_id: str) -> StoryThread | None:
        row = await self._session.get(StoryThreadRow, (channel.platform, channel.id, story_id))
        if row is None:
            return None
        return StoryThread(channel, story_id, row.root_message_id, row.thread_id)

    async def save_thread(self, thread: StoryThread, now: datetime) -> None:
        values = {
            "platform": thread.channel.platform,
            "channel_id": thread.channel.id,
            "story_id": thread.story_id,
            "root_message_id": thread.root_message_id,
            "thread_id": thread.thread_id,
            "created_at": now,
        }
        stmt = _insert(self._session)(StoryThreadRow).values(**values)
        _written(self._session)
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    StoryThreadRow.platform,
                    StoryThreadRow.channel_id,
                    StoryThreadRow.story_id,
                ],
                set_={"root_message_id": thread.root_message_id, "thread_id": thread.thread_id},
            )
        )
