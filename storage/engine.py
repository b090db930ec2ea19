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
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

SQLITE_BEGIN_OPTION = "claimwatch_sqlite_begin"
"""Execution option: ``"IMMEDIATE"`` makes the connection's next transaction a write transaction."""

SQLITE_BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another writer's lock before ``database is locked``."""

_SQLITE_DRIVER = "sqlite+aiosqlite"
_POSTGRES_DRIVER = "postgresql+asyncpg"


class DatabaseUrlError(ValueError):
    """The database URL cannot be used (unparseable, unsupported, or a folder that is missing)."""


def async_url(url: str | URL) -> URL:
    """The URL with its async driver: ``sqlite:///x.db`` → ``sqlite+aiosqlite:///x.db``,
    ``postgresql://…`` / ``postgres://…`` → ``postgresql+asyncpg://…``.

    Plain URLs are accepted because that is what people (and Heroku-style
    ``DATABASE_URL`` variables) write; the async driver is an implementation detail.
    """
    try:
        u = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise DatabaseUrlError(
            "cannot read the database URL: use sqlite:///path or postgresql://user@host/name"
        ) from exc
    backend = u.get_backend_name()
    if backend == "sqlite":
        return u.set(drivername=_SQLITE_DRIVER)
    if backend in ("postgresql", "postgres"):
        return u.set(drivername=_POSTGRES_DRIVER)
    raise DatabaseUrlError(
        f"unsupported database URL {u.render_as_string(hide_password=True)!r}: "
        "use sqlite:///path or postgresql://…"
    )


def create_engine(url: str | URL, *, create_folder: bool = True, **kwargs: Any) -> AsyncEngine:
    """An :class:`AsyncEngine` for ``url`` (SQLite or PostgreSQL), configured for the bot.

    ``create_folder``: create a SQLite file's folder if missing (a fresh install with a
    configured path just works); False for a path typed on the command line, where a
    missing folder is more likely a typo than a wish (``DatabaseUrlError``).
    Extra keyword arguments go to :func:`sqlalchemy.ext.asyncio.create_async_engine`.
    """
    u = async_url(url)
    if u.get_backend_name() == "sqlite":
        return _sqlite_engine(u, create_folder=create_folder, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(u, **kwargs)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_engine(url: URL, *, create_folder: bool, **kwargs: Any) -> AsyncEngine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory and not url.query.get("uri"):
        folder = Path(database).expanduser().parent
        if create_folder:
            # A fresh install should just work: create the folder the database lives in.
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise DatabaseUrlError(
                f"the folder {folder} of the database does not exist (mistyped?); "
                "claimwatch creates the database file, not its folder"
            )
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


# -- errors people can act on ----------------------------------------------------------

_SQLITE_PROBLEMS: tuple[tuple[str, str], ...] = (
    (
        "database is locked",
        "is locked by another process (waited {wait:g} s); stop the other "
        "writer (another claimwatch, a sqlite3 shell) and try again",
    ),
    (
        "readonly database",
        "is read-only; claimwatch must write it (check the permissions of "
        "the file, its -wal/-shm files and its folder)",
    ),
    (
        "unable to open database file",
        "cannot be opened (does its folder exist, and may claimwatch write there?)",
    ),
    ("file is not a database", "is not a SQLite database (wrong file, or damaged)"),
    ("malformed", "is damaged (SQLite says: database disk image is malformed)"),
    ("disk i/o error", "cannot be written: disk I/O error (disk full, or a file-size limit?)"),
    ("database or disk is full", "cannot be written: the disk is full"),
)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it, outermost first."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _where(url: str | URL) -> str:
    """The database for a message: a SQLite file's path, else the URL without password."""
    try:
        u = async_url(url)
    except DatabaseUrlError:
        return "(unreadable URL)"
    if u.get_backend_name() == "sqlite" and u.database:
        return u.database
    return u.render_as_string(hide_password=True)


def describe_database_error(exc: BaseException, url: str | URL) -> str | None:
    """One line saying what is wrong with the database and what to do, or None if ``exc``
    is not a database problem (then it is a bug, and its traceback is worth seeing).

    The URL is shown with its password hidden; SQL statements and their parameters are
    never part of the line.
    """
    where = _where(url)
    for error in _chain(exc):
        if isinstance(error, DatabaseUrlError):
            return str(error)
        if isinstance(error, ModuleNotFoundError) and error.name in ("asyncpg", "aiosqlite"):
            extra = "postgres" if error.name == "asyncpg" else ""
            hint = f"pip install 'claimwatch[{extra}]'" if extra else f"pip install {error.name}"
            return f"the database driver {error.name} is not installed ({hint})"
        if isinstance(error, ArgumentError | NoSuchModuleError):
            return f"bad database URL {where}: {str(error).splitlines()[0]}"
    for error in _chain(exc):
        if isinstance(error, sqlite3.Error):
            text = str(error)
            for needle, problem in _SQLITE_PROBLEMS:
                if needle in text.lower():
                    wait = SQLITE_BUSY_TIMEOUT_MS / 1000
                    return f"the database {where} " + problem.format(wait=wait)
            first = text.splitlines()[0] if text else type(error).__name__
            return f"database error on {where}: {first}"
        if type(error).__module__.startswith("asyncpg"):
            return f"PostgreSQL at {where} refused: {str(error).splitlines()[0]}"
        if isinstance(error, OSError):
            return f"cannot connect to the database {where}: {error.strerror or error}"
    if isinstance(exc, DBAPIError):
        return f"database error on {where}: {str(exc.orig).splitlines()[0]}"
    return None
