"""Routing: raised alerts become outbox rows, inside the transaction that raised them.

Reading subscriptions, mutes and digests here (rather than when sending) means a
channel gets the alerts it had asked for when they happened, and a delivery that
waits out a platform outage is still owed afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.alerts import Alert
from bot.domain.delivery import Channel, plan_deliveries
from bot.ports import UnitOfWork


async def route_alerts(
    uow: UnitOfWork, alerts: Sequence[Alert], now: datetime, also_to: Sequence[Channel] = ()
) -> int:
    """Queue every alert for every channel that wants it; how many rows were queued."""
    subscriptions = await uow.subscriptions.active()
    if also_to:
        # A channel found gone gets nothing, asked for or not, until someone subscribes again.
        gone = await uow.subscriptions.paused_channels()
        also_to = [c for c in also_to if c not in gone]
    if not subscriptions and not also_to:
        return 0
    planned = plan_deliveries(
        alerts,
        subscriptions,
        await uow.subscriptions.mutes(now),
        await uow.subscriptions.digests(),
        now,
        also_to,
    )
    return await uow.outbox.add(planned, now)
