"""The unit of work: one transaction (one ``AsyncSession``) over all repositories.

Use one unit of work per task and never share it between tasks: an
``AsyncSession`` is not safe for concurrent use. Nothing is committed unless
:meth:`SqlUnitOfWork.commit` is called; leaving the ``async with`` block rolls back
whatever is left, so an exception can never persist half of a change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.admin_repositories import SqlAdminAlertRepository, SqlAdminOutboxRepository
from storage.delivery_repositories import SqlOutboxRepository, SqlSubscriptionRepository
from storage.engine import SQLITE_BEGIN_OPTION
from storage.health_repositories import SqlHealthRepository
from storage.repositories import (
    WROTE,
    SqlAlertRepository,
    SqlArticleRepository,
    SqlStoryRepository,
)
from storage.source_repositories import SqlFeedRepository, SqlWatchRepository

STORY_ASSIGNMENT_LOCK = 0x636C_6D77_0001  # "clmw" + 1: any constant bigint, unique to this use
"""PostgreSQL advisory lock key taken by :meth:`SqlUnitOfWork.lock_story_assignment`."""


class SqlUnitOfWork:
    """Implements ``bot.ports.UnitOfWork`` over an ``async_sessionmaker``."""

    articles: SqlArticleRepository
    stories: SqlStoryRepository
    alerts: SqlAlertRepository
    admin_alerts: SqlAdminAlertRepository
    feeds: SqlFeedRepository
    watches: SqlWatchRepository
    subscriptions: SqlSubscriptionRepository
    outbox: SqlOutboxRepository
    admin_outbox: SqlAdminOutboxRepository
    health: SqlHealthRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        writer_gate: WriterGate | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None
        self._gate = writer_gate
        self._holding_gate = False

    @property
    def session(self) -> AsyncSession:
        """The open session (for queries the repositories do not offer, e.g. in tests)."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open; make a new one per task")
        session = self._session_factory()
        self._session = session
        self.articles = SqlArticleRepository(session)
        self.stories = SqlStoryRepository(session)
        self.alerts = SqlAlertRepository(session)
        self.admin_alerts = SqlAdminAlertRepository(session)
        self.feeds = SqlFeedRepository(session)
        self.watches = SqlWatchRepository(session)
        self.subscriptions = SqlSubscriptionRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.admin_outbox = SqlAdminOutboxRepository(session)
        self.health = SqlHealthRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed, and release the connection."""
        session = self.session
        self._session = None
        try:
            await session.rollback()
        finally:
            await session.close()
            if self._holding_gate and self._gate is not None:
                self._holding_gate = False
                self._gate.release()

    async def commit(self) -> None:
        await self.session.commit()
        self.session.info.pop(WROTE, None)

    async def rollback(self) -> None:
        await self.session.rollback()
        self.session.info.pop(WROTE, None)

    async def lock_story_assignment(self) -> None:
        """Serialise story assignment and change detection across workers until commit.

        PostgreSQL: a transaction-scoped advisory lock (``pg_advisory_xact_lock``);
        it is released by commit or rollback, so it cannot leak.

        SQLite allows one writer at a time, but a transaction that starts as a
        reader (plain ``BEGIN``) and later writes fails with ``SQLITE_BUSY`` instead
        of waiting if another writer committed in between, so "read stories, decide,
        write" would not be serialised. The transaction is therefore (re)started as
        ``BEGIN IMMEDIATE``, which takes the write lock up front and waits up to the
        busy timeout for it. If the transaction has already begun with reads only,
        it is rolled back and restarted: like PostgreSQL's READ COMMITTED, reads made
        before the lock are not protected by it, reads after it see every earlier
        commit. Having *written* before taking the lock is a programming error on
        SQLite (the writes would be lost) and raises ``RuntimeError``.
        """
        session = self.session
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_ASSIGNMENT_LOCK}
            )
            return
        await self.begin_write()

    async def begin_write(self) -> None:
        """Make this a write transaction from the start (SQLite); nothing on PostgreSQL.

        On SQLite a transaction that reads and then writes cannot wait for another
        writer: it fails at once with "database is locked". Starting it as ``BEGIN
        IMMEDIATE`` takes the write lock first, waiting up to the busy timeout. A
        transaction that has only read so far is rolled back and restarted (its reads
        were not protected anyway); one that has written raises ``RuntimeError``.
        """
        session = self.session
        if session.get_bind().dialect.name == "postgresql":
            return
        if self._gate is not None and not self._holding_gate:
            await self._gate.acquire()
            self._holding_gate = True
        if session.in_transaction():
            if session.info.get(WROTE):
                raise RuntimeError("begin_write() must come before any write in the unit of work")
            await session.rollback()
        await session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (no lazy reload in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


class WriterGate:
    """First come, first served among this process's SQLite writers.

    SQLite has one write lock, and its busy handler retries by sleeping (up to 100 ms
    at a time), so with dozens of concurrent writers the lock sits idle while long
    waiters starve until they hit the busy timeout ("database is locked"). Queueing
    writers on an ``asyncio.Lock`` first hands the lock over at once and in order;
    the busy timeout then only arbitrates between processes.
    """

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None

    async def acquire(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        await self._lock.acquire()

    def release(self) -> None:
        assert self._lock is not None
        self._lock.release()


def make_uow_factory(engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    """A ``bot.ports.UnitOfWorkFactory``: each call makes a fresh unit of work."""
    gate = WriterGate() if engine.dialect.name == "sqlite" else None
    return partial(SqlUnitOfWork, make_session_factory(engine), gate)
