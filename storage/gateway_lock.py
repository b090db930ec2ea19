"""Which process holds the chat gateway connections: exactly one per database.

Discord allows one gateway session per bot token to receive each interaction, and
two Socket Mode connections would split Slack's commands between two processes
for no gain; so one process answers commands and the others only work. On
PostgreSQL the holder keeps a session-level advisory lock on a connection of its
own: if the process dies, PostgreSQL drops the connection and the lock, and a
standby takes over at its next try. On SQLite (one host by definition) an
exclusive ``flock`` on a file beside the database does the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

GATEWAY_LOCK = 0x636C_6D77_0003
"""PostgreSQL advisory lock key (see ``storage.uow`` and ``storage.migrate`` for 1 and 2)."""


class PostgresGatewayLock:
    """Implements ``bot.ports.GatewayLease`` with a session advisory lock."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = await self._engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": GATEWAY_LOCK})
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            await self._conn.scalar(text("SELECT 1"))
        except Exception:
            # The connection is gone, and the lock with it: someone else may hold it now.
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
            return False
        return True

    async def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": GATEWAY_LOCK})
        with contextlib.suppress(Exception):
            await self._conn.close()
        self._conn = None


class FileGatewayLock:
    """Implements ``bot.ports.GatewayLease`` with ``flock`` on ``<database>.gateway.lock``.

    ``path`` None: an in-memory database, which only this process can see, so the
    lease is always this process's.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._fd: int | None = None
        self._held = False

    async def try_acquire(self) -> bool:
        if self._held:
            return True
        if self._path is not None:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
        self._held = True
        return True

    async def still_held(self) -> bool:
        return self._held

    async def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
        self._fd = None
        self._held = False


def gateway_lock(engine: AsyncEngine) -> PostgresGatewayLock | FileGatewayLock:
    """The right lock for the engine's backend."""
    if engine.dialect.name == "postgresql":
        return PostgresGatewayLock(engine)
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return FileGatewayLock(None)
    return FileGatewayLock(Path(database + ".gateway.lock"))
