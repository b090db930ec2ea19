"""Repositories for where articles come from: feeds, their items, page watches.

Leases (``claim_due``) are taken with one ``UPDATE … WHERE id IN (SELECT … LIMIT n)
RETURNING`` statement. On PostgreSQL the inner select is ``FOR UPDATE SKIP LOCKED``,
so concurrent workers take disjoint sets without waiting for each other; on SQLite
the statement runs under the database's single write lock, which serialises it.
Either way a row is handed to one worker until its lease expires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.feeds import Feed, FeedState
from bot.ports import WatchedArticle
from storage.repositories import WROTE
from storage.tables import FeedItemRow, FeedRow, WatchRow

_POLLED = (FeedState.ACTIVE.value, FeedState.FAILING.value)


def _written(session: AsyncSession) -> None:
    session.info[WROTE] = True


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


Leased = type[FeedRow] | type[WatchRow]


async def _claim(
    session: AsyncSession,
    table: Leased,
    key: Any,
    due_at: Any,
    *conditions: Any,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
) -> Sequence[Any]:
    """Lease up to ``limit`` rows of ``table`` whose ``due_at`` has come (see module doc)."""
    due = (
        select(key)
        .where(
            *conditions,
            due_at <= now,
            or_(table.lease_expires_at.is_(None), table.lease_expires_at <= now),
        )
        .order_by(due_at, key)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    _written(session)
    stmt = (
        update(table)
        .where(key.in_(due.scalar_subquery()))
        .values(lease_owner=owner, lease_expires_at=now + lease)
        .returning(table)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(stmt)).all()


async def _release(session: AsyncSession, table: Leased, owner: str) -> int:
    """Drop every lease ``owner`` holds on ``table``; how many there were."""
    _written(session)
    result = await session.execute(
        update(table)
        .where(table.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .returning(table.lease_owner)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


def _feed_values(feed: Feed) -> dict[str, Any]:
    return {
        "id": feed.id,
        "url": feed.url,
        "name": feed.name,
        "tags": ",".join(feed.tags),
        "interval_s": feed.interval.total_seconds(),
        "state": feed.state.value,
        "added_at": feed.added_at,
        "added_by": feed.added_by,
        "next_poll_at": feed.next_poll_at,
        "etag": feed.etag,
        "last_modified": feed.last_modified,
        "last_hash": feed.last_hash,
        "primed": feed.primed,
        "failures": feed.failures,
        "polls": feed.polls,
        "last_polled_at": feed.last_polled_at,
        "last_success_at": feed.last_success_at,
        "last_error": feed.last_error,
        "last_error_at": feed.last_error_at,
        "items_seen": feed.items_seen,
        "lease_owner": feed.lease_owner,
        "lease_expires_at": feed.lease_expires_at,
        "items_deferred": feed.items_deferred,
        "items_passed_over": feed.items_passed_over,
        "entries_skipped": feed.entries_skipped,
    }


def _feed(row: FeedRow) -> Feed:
    return Feed(
        id=row.id,
        url=row.url,
        name=row.name,
        tags=tuple(t for t in row.tags.split(",") if t),
        interval=timedelta(seconds=row.interval_s),
        state=FeedState(row.state),
        added_at=row.added_at,
        added_by=row.added_by,
        next_poll_at=row.next_poll_at,
        etag=row.etag,
        last_modified=row.last_modified,
        last_hash=row.last_hash,
        primed=row.primed,
        failures=row.failures,
        polls=row.polls,
        last_polled_at=row.last_polled_at,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        items_seen=row.items_seen,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        items_deferred=row.items_deferred,
        items_passed_over=row.items_passed_over,
        entries_skipped=row.entries_skipped,
    )


class SqlFeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, feed: Feed) -> bool:
        s = self._session
        stmt = _insert(s)(FeedRow).values(**_feed_values(feed)).on_conflict_do_nothing()
        _written(s)
        result = await s.execute(stmt.returning(FeedRow.id))
        return result.scalar_one_or_none() is not None

    async def get(self, feed_id: str) -> Feed | None:
        stmt = select(FeedRow).where(FeedRow.id == feed_id)
        row = (
            await self._session.execute(stmt.execution_options(populate_existing=True))
        ).scalar_one_or_none()
        return None if row is None else _feed(row)

    async def by_url(self, url: str) -> Feed | None:
        row = (
            await self._session.execute(
                select(FeedRow).where(FeedRow.url == url).execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        return None if row is None else _feed(row)

    async def all(self) -> list[Feed]:
        stmt = (
            select(FeedRow)
            .order_by(FeedRow.added_at, FeedRow.id)
            .execution_options(populate_existing=True)
        )
        return [_feed(r) for r in (await self._session.scalars(stmt)).all()]

    async def count(self) -> int:
        return int((await self._session.execute(select(func.count(FeedRow.id)))).scalar_one())

    async def save(self, feed: Feed, *, lease_owner: str | None = None) -> bool:
        s = self._session
        values = _feed_values(feed)
        del values["id"]
        cond = FeedRow.id == feed.id
        if lease_owner is not None:
            cond = and_(cond, FeedRow.lease_owner == lease_owner)
        _written(s)
        result = await s.execute(
            update(FeedRow)
            .where(cond)
            .values(**values)
            .returning(FeedRow.id)
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none() is not None

    async def remove(self, feed_id: str) -> bool:
        s = self._session
        _written(s)
        # Items first: SQLite enforces the foreign key only with PRAGMA foreign_keys.
        await s.execute(delete(FeedItemRow).where(FeedItemRow.feed_id == feed_id))
        result = await s.execute(delete(FeedRow).where(FeedRow.id == feed_id).returning(FeedRow.id))
        return result.scalar_one_or_none() is not None

    async def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[Feed]:
        rows = await _claim(
            self._session,
            FeedRow,
            FeedRow.id,
            FeedRow.next_poll_at,
            FeedRow.state.in_(_POLLED),
            now=now,
            owner=owner,
            lease=lease,
            limit=limit,
        )
        return sorted((_feed(r) for r in rows), key=lambda f: (f.next_poll_at, f.id))

    async def release(self, owner: str) -> int:
        return await _release(self._session, FeedRow, owner)

    async def renew_leases(self, feed_ids: Sequence[str], owner: str, until: datetime) -> int:
        _written(self._session)
        result = await self._session.execute(
            update(FeedRow)
            .where(FeedRow.id.in_(list(feed_ids)), FeedRow.lease_owner == owner)
            .values(lease_expires_at=until)
            .returning(FeedRow.id)
            .execution_options(synchronize_session=False)
        )
        return len(result.all())

    async def item_hashes(self, feed_id: str, article_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        ids = list(dict.fromkeys(article_ids))
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            stmt = select(FeedItemRow.article_id, FeedItemRow.content_hash).where(
                FeedItemRow.feed_id == feed_id, FeedItemRow.article_id.in_(chunk)
            )
            found.update({a: h for a, h in (await self._session.execute(stmt)).all()})
        return found

    async def mark_items(self, feed_id: str, hashes: Mapping[str, str], now: datetime) -> None:
        if not hashes:
            return
        s = self._session
        _written(s)
        rows = [
            {
                "feed_id": feed_id,
                "article_id": a,
                "content_hash": h,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for a, h in hashes.items()
        ]
        stmt = _insert(s)(FeedItemRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=[FeedItemRow.feed_id, FeedItemRow.article_id],
            set_={
                "content_hash": stmt.excluded.content_hash,
                "last_seen_at": stmt.excluded.last_seen_at,
            },
        )
        await s.execute(stmt, rows)


def _watch(row: WatchRow) -> WatchedArticle:
    return WatchedArticle(
        article_id=row.article_id,
        url=row.url,
        first_seen_at=row.first_seen_at,
        next_check_at=row.next_check_at,
        checks=row.checks,
        etag=row.etag,
        last_modified=row.last_modified,
        page_hash=row.page_hash,
    )


class SqlWatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, article_id: str) -> WatchedArticle | None:
        stmt = (
            select(WatchRow)
            .where(WatchRow.article_id == article_id)
            .execution_options(populate_existing=True)
        )
        row = (await self._session.execute(stmt)).scalar_one_or_none()
        return None if row is None else _watch(row)

    async def save(self, watch: WatchedArticle) -> None:
        s = self._session
        values = {
            "article_id": watch.article_id,
            "url": watch.url,
            "first_seen_at": watch.first_seen_at,
            "next_check_at": watch.next_check_at,
            "checks": watch.checks,
            "etag": watch.etag,
            "last_modified": watch.last_modified,
            "page_hash": watch.page_hash,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        stmt = _insert(s)(WatchRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[WatchRow.article_id],
            set_={k: v for k, v in values.items() if k != "article_id"},
        )
        _written(s)
        await s.execute(stmt)

    async def remove(self, article_id: str) -> None:
        _written(self._session)
        await self._session.execute(delete(WatchRow).where(WatchRow.article_id == article_id))

    async def claim_due(
        self, *, now: datetime, owner: str, lease: timedelta, limit: int
    ) -> list[WatchedArticle]:
        rows = await _claim(
            self._session,
            WatchRow,
            WatchRow.article_id,
            WatchRow.next_check_at,
            now=now,
            owner=owner,
            lease=lease,
            limit=limit,
        )
        return sorted((_watch(r) for r in rows), key=lambda w: (w.next_check_at, w.article_id))

    async def release(self, owner: str) -> int:
        return await _release(self._session, WatchRow, owner)
