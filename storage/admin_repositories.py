"""Admin alerts and the admin outbox that carries them to the admin channels.

An admin alert is stored with one ``admin_deliveries`` row per registered admin
channel in the same transaction, exactly as a story alert is stored with its
``deliveries``: if the chat platform is down when a feed starts failing, the row
waits and the operators still hear about it when the platform is back.

The outbox is claimed like the story outbox (``storage.delivery_repositories``):
one statement leases due rows, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and only
the oldest pending row of each channel is claimable, so "feed failing" is never
overtaken by its "feed working again".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.admin import AdminAlert
from bot.domain.delivery import AdminDelivery, Channel, DeliveryState
from storage import serialize
from storage.delivery_repositories import _Outbox
from storage.source_repositories import _insert, _written
from storage.tables import AdminAlertRow, AdminChannelRow, AdminDeliveryRow


class SqlAdminAlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, alert: AdminAlert) -> bool:
        """Store the alert and queue it for every registered admin channel, once."""
        s = self._session
        now = datetime.now(UTC)
        stmt = (
            _insert(s)(AdminAlertRow)
            .values(
                key=alert.key,
                kind=alert.kind.value,
                severity=alert.severity.value,
                subject=alert.subject,
                created_at=now,
                payload=serialize.dump_admin_alert(alert),
            )
            .on_conflict_do_nothing(index_elements=[AdminAlertRow.key])
            .returning(AdminAlertRow.seq)
        )
        _written(s)
        if (await s.execute(stmt)).scalar_one_or_none() is None:
            return False
        channels = (await s.execute(select(AdminChannelRow))).scalars().all()
        if channels:
            await s.execute(
                _insert(s)(AdminDeliveryRow).values(
                    [
                        {
                            "admin_key": alert.key,
                            "platform": c.platform,
                            "channel_id": c.channel_id,
                            "state": DeliveryState.PENDING.value,
                            "attempts": 0,
                            "next_attempt_at": alert.at,  # due from when it happened
                            "created_at": now,
                        }
                        for c in channels
                    ]
                )
            )
        return True

    async def recent(self, limit: int = 20) -> list[AdminAlert]:
        stmt = select(AdminAlertRow.payload).order_by(AdminAlertRow.seq.desc()).limit(limit)
        rows = (await self._session.scalars(stmt)).all()
        return [serialize.load_admin_alert(p) for p in rows]


class SqlAdminOutboxRepository(_Outbox):
    """``admin_channels`` (where admin alerts go) and ``admin_deliveries`` (what to send)."""

    _rows = AdminDeliveryRow

    async def register_channels(self, channels: Sequence[Channel], now: datetime) -> int:
        """Make the registered admin channels exactly ``channels`` (the configuration).

        Rows still pending for a channel no longer configured are dropped: no worker
        would send them. Returns how many were dropped.
        """
        s = self._session
        _written(s)
        wanted = [(c.platform, c.id) for c in channels]
        gone = tuple_(AdminChannelRow.platform, AdminChannelRow.channel_id).not_in(wanted)
        await s.execute(delete(AdminChannelRow).where(gone) if wanted else delete(AdminChannelRow))
        if wanted:
            await s.execute(
                _insert(s)(AdminChannelRow)
                .values([{"platform": p, "channel_id": c, "registered_at": now} for p, c in wanted])
                .on_conflict_do_nothing(
                    index_elements=[AdminChannelRow.platform, AdminChannelRow.channel_id]
                )
            )
        stale = AdminDeliveryRow.state == DeliveryState.PENDING.value
        if wanted:
            stale = stale & tuple_(AdminDeliveryRow.platform, AdminDeliveryRow.channel_id).not_in(
                wanted
            )
        result = await s.execute(
            update(AdminDeliveryRow)
            .where(stale)
            .values(
                state=DeliveryState.DROPPED.value,
                last_error="admin channel no longer configured",
                lease_owner=None,
                lease_expires_at=None,
            )
            .returning(AdminDeliveryRow.id)
        )
        return len(result.all())

    async def claim_due(
        self,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        limit: int,
        platforms: Sequence[str],
    ) -> list[AdminDelivery]:
        """Lease up to ``limit`` due rows, each the oldest pending of its channel."""
        found = await self._claim_heads(
            AdminAlertRow.payload,
            AdminAlertRow.key == AdminDeliveryRow.admin_key,
            ("platform", "channel_id"),
            now=now,
            owner=owner,
            lease=lease,
            limit=limit,
            platforms=platforms,
        )
        return [
            AdminDelivery(
                id=row.id,
                alert=serialize.load_admin_alert(payload),
                channel=Channel(row.platform, row.channel_id),
                attempts=row.attempts,
                uncertain=row.attempt_started_at is not None,
                started_at=row.attempt_started_at,
            )
            for row, payload in found
        ]
