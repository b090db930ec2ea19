"""Health episodes, and the two aggregate reads the health check needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.delivery import DeliveryState
from storage.source_repositories import _insert, _written
from storage.tables import AdminDeliveryRow, DeliveryRow, FeedRow, HealthEpisodeRow


class SqlHealthRepository:
    """Implements ``bot.ports.HealthRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def open_episode(self, problem: str, since: datetime, message: str) -> bool:
        s = self._session
        stmt = (
            _insert(s)(HealthEpisodeRow)
            .values(problem=problem, since=since, message=message)
            .on_conflict_do_nothing(index_elements=[HealthEpisodeRow.problem])
            .returning(HealthEpisodeRow.problem)
        )
        _written(s)
        return (await s.execute(stmt)).scalar_one_or_none() is not None

    async def close_episode(self, problem: str) -> datetime | None:
        s = self._session
        stmt = (
            delete(HealthEpisodeRow)
            .where(HealthEpisodeRow.problem == problem)
            .returning(HealthEpisodeRow.since)
        )
        _written(s)
        return (await s.execute(stmt)).scalar_one_or_none()

    async def open_episodes(self) -> dict[str, datetime]:
        rows = await self._session.execute(select(HealthEpisodeRow.problem, HealthEpisodeRow.since))
        return {problem: since for problem, since in rows.all()}

    async def feeds_by_state(self) -> dict[str, int]:
        stmt = select(FeedRow.state, func.count()).group_by(FeedRow.state)
        return {state: n for state, n in (await self._session.execute(stmt)).all()}

    async def delivery_backlog(self) -> tuple[int, datetime | None]:
        """(unsent rows, ``created_at`` of the oldest), story and admin alerts alike.

        Held digest rows are not late. Admin alerts count too: an "unhealthy" that
        cannot reach the operators is itself a delivery problem.
        """
        count, oldest = 0, None
        for rows in (DeliveryRow, AdminDeliveryRow):
            stmt = select(func.count(), func.min(rows.created_at)).where(
                rows.state == DeliveryState.PENDING.value
            )
            n, first = (await self._session.execute(stmt)).one()
            count += int(n)
            if first is not None and (oldest is None or first < oldest):
                oldest = first
        return count, oldest
