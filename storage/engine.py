"""Engines for the two supported backends: embedded SQLite and PostgreSQL.

SQLite is the default because a single-process bot needs no server; PostgreSQL is
for several workers sharing one database. Both run behind the same async API
(aiosqlite / asyncpg), so the repositories never branch on the backend except
where the databases genuinely differ (advisory locks, see ``storage.uow``).

SQLite needs some care to behave like a server database:

* WAL journal mode, so readers never block the writer (and vice versa);
* ``busy_timeout``, so a second writer waits for the lock instead of failing at once;
* ``foreign_keys=ON``, which SQLite leaves off by default;
* we issue ``BEGIN`` ourselves. Python's ``sqlite3`` module otherwise starts
  transactions lazily, only before the first DML statement, so reads before a write
  would run outside the transaction, and it cannot start a ``BEGIN IMMEDIATE``
  (write) transaction on request. With the driver in autocommit mode and a
  ``begin`` event hook, SQLAlchemy's transaction boundaries are SQLite's, and a
  connection carrying the :data:`SQLITE_BEGIN_OPTION` execution option starts its
  transaction as ``BEGIN IMMEDIATE`` (used by ``lock_story_assignment``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

SQLITE_BEGIN_OPTION = "claimwatch_sqlite_begin"
"""Execution option: ``"IMMEDIATE"`` makes the connection's next transaction a write transaction."""

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another writer's lock before ``database is locked``."""

_SQLITE_DRIVER = "sqlite+aiosqlite"
_POSTGRES_DRIVER = "postgresql+asyncpg"


def async_url(url: str | URL) -> URL:
    """The URL with its async driver: ``sqlite:///x.db`` → ``sqlite+aiosqlite:///x.db``,
    ``postgresql://…`` / ``postgres://…`` → ``postgresql+asyncpg://…``.

    Plain URLs are accepted because that is what people (and Heroku-style
    ``DATABASE_URL`` variables) write; the async driver is an implementation detail.
    """
    u = make_url(url) if isinstance(url, str) else url
    backend = u.get_backend_name()
    if backend == "sqlite":
        return u.set(drivername=_SQLITE_DRIVER)
    if backend in ("postgresql", "postgres"):
        return u.set(drivername=_POSTGRES_DRIVER)
    raise ValueError(
        f"unsupported database URL {u.render_as_string(hide_password=True)!r}: "
        "use sqlite:///path or postgresql://…"
    )


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An :class:`AsyncEngine` for ``url`` (SQLite or PostgreSQL), configured for the bot.

    Extra keyword arguments go to :func:`sqlalchemy.ext.asyncio.create_async_engine`.
    """
    u = async_url(url)
    if u.get_backend_name() == "sqlite":
        return _sqlite_engine(u, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(u, **kwargs)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_engine(url: URL, **kwargs: Any) -> AsyncEngine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory and not url.query.get("uri"):
        # A fresh install should just work: create the folder the database lives in.
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: transactions are begun by _on_begin below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                _switch_to_wal(cursor)
                # NORMAL is durable across application crashes in WAL mode; only an OS
                # crash can lose the last transactions, never corrupt the database.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def _switch_to_wal(cursor: Any) -> None:
    """Put the database in WAL mode, waiting out other connections doing the same.

    The mode is stored in the file, so this is a no-op after the first time. But
    several workers opening a *fresh* database at once each try the switch, and
    SQLite refuses one of two such connections at once (its deadlock avoidance
    skips the busy handler): CI saw ``database is locked`` here. So a refused
    switch is retried, sleeping on the event loop (this runs inside SQLAlchemy's
    greenlet bridge), for as long as the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except (OperationalError, sqlite3.OperationalError) as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        await_only(asyncio.sleep(delay))
        delay = min(delay * 2, 0.2)
