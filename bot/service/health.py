"""The health check: snapshot the deployment, judge it, alert on episodes.

Runs on every process's health tick. The snapshot is read from the database, so
all workers see the same deployment; the episode rows (``uow.health``) make sure
one episode raises one "unhealthy" and one "healthy again" admin alert in total.
``/healthz`` answers from the last report, so a probe never waits on the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock, utc_now
from bot.domain.admin import AdminAlert
from bot.domain.health import HealthPolicy, HealthSnapshot, Problem, ProblemKind, assess
from bot.metrics import Metrics
from bot.ports import AdminPublisher, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthReport:
    at: datetime
    problems: tuple[Problem, ...] = ()
    snapshot: HealthSnapshot | None = None
    raised: tuple[AdminAlert, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


class HealthMonitor:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        metrics: Metrics | None = None,
        on_admin: AdminPublisher | None = None,
        policy: HealthPolicy = HealthPolicy(),
        clock: Clock = utc_now,
    ) -> None:
        self._uow_factory = uow_factory
        self._metrics = metrics
        self._on_admin = on_admin
        self._policy = policy
        self._clock = clock
        self.last: HealthReport | None = None

    async def check(self) -> HealthReport:
        snapshot = await self._snapshot()
        problems = tuple(assess(snapshot, self._policy))
        raised: tuple[AdminAlert, ...] = ()
        if snapshot.database_error is None:
            try:
                raised = tuple(await self._episodes(problems, snapshot.at))
            except Exception:
                log.exception("health: recording the episodes failed; next check retries")
        if raised and self._on_admin is not None:
            await self._on_admin(raised)
        for problem in problems:
            log.warning("health: %s", problem.message)
        self._export(snapshot, problems)
        self.last = HealthReport(snapshot.at, problems, snapshot, raised)
        return self.last

    async def _snapshot(self) -> HealthSnapshot:
        now = self._clock()
        try:
            async with self._uow_factory() as uow:
                feeds = await uow.health.feeds_by_state()
                pending, oldest = await uow.health.delivery_backlog()
        except Exception as exc:
            log.warning("health: database check failed: %s", type(exc).__name__)
            return HealthSnapshot(now, database_error=type(exc).__name__)
        return HealthSnapshot(now, feeds, oldest, pending)

    async def _episodes(self, problems: tuple[Problem, ...], now: datetime) -> list[AdminAlert]:
        current = {p.kind.value: p for p in problems if p.kind is not ProblemKind.DATABASE}
        raised: list[AdminAlert] = []
        async with self._uow_factory() as uow:
            await uow.begin_write()
            open_now = await uow.health.open_episodes()
            for kind, problem in current.items():
                if kind in open_now:
                    continue
                if await uow.health.open_episode(kind, now, problem.message):
                    alert = AdminAlert.health(kind, problem.message, now, over=False)
                    if await uow.admin_alerts.add(alert):
                        raised.append(alert)
            for kind in open_now:
                if kind in current:
                    continue
                started = await uow.health.close_episode(kind)
                if started is not None:
                    message = (
                        f"resolved: {kind.replace('_', ' ')} (since {started:%Y-%m-%d %H:%M} UTC)"
                    )
                    alert = AdminAlert.health(kind, message, started, over=True)
                    if await uow.admin_alerts.add(alert):
                        raised.append(alert)
            await uow.commit()
        return raised

    def _export(self, snapshot: HealthSnapshot, problems: tuple[Problem, ...]) -> None:
        m = self._metrics
        if m is None:
            return
        m.healthy.set(0 if problems else 1)
        if snapshot.database_error is not None:
            return
        m.deliveries_pending.set(snapshot.pending_deliveries)
        oldest = snapshot.oldest_pending_delivery
        m.oldest_pending_delivery.set(
            max((snapshot.at - oldest).total_seconds(), 0.0) if oldest else 0.0
        )
        for state, n in snapshot.feeds_by_state.items():
            m.feeds.labels(state=state).set(n)
