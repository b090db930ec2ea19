"""Engine configuration and Alembic migrations, on both backends."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import async_url, create_engine
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.tables import ArticleVersionRow, Base

CORE_TABLES = {"articles", "article_versions", "figures", "statements", "stories", "alerts"}
SOURCE_TABLES = {"feeds", "feed_items", "watches", "fingerprints", "admin_alerts"}
DELIVERY_TABLES = {"subscriptions", "mutes", "digests", "deliveries", "story_threads"}
HEALTH_TABLES = {"health_episodes"}
ADMIN_OUTBOX_TABLES = {"admin_channels", "admin_deliveries"}
STORY_INDEX_TABLES = {"story_keys"}
TABLES = (
    CORE_TABLES
    | SOURCE_TABLES
    | DELIVERY_TABLES
    | HEALTH_TABLES
    | ADMIN_OUTBOX_TABLES
    | STORY_INDEX_TABLES
)
HEAD = "0009_story_index"


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


async def tables_of(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(_tables)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_async_url(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


def test_unsupported_url() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://u@h/db")


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")  # folder is created
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == 10_000
    finally:
        await engine.dispose()


async def test_workers_opening_a_fresh_sqlite_database_together(tmp_path: Path) -> None:
    """Three engines migrating one *fresh* database at once, thirty times over.

    Each connection switches the file to WAL; SQLite refuses one of two racing
    switches at once (deadlock avoidance, no busy wait). CI once failed with
    "database is locked" here; before the retry in ``storage.engine`` about one
    round in six failed, so thirty rounds catch a regression.
    """
    for round_ in range(30):
        url = f"sqlite:///{tmp_path / f'fresh{round_}.db'}"
        engines = [create_engine(url) for _ in range(3)]
        try:
            await asyncio.gather(*(upgrade(e) for e in engines))
            assert await current_revision(engines[0]) == HEAD
        finally:
            for e in engines:
                await e.dispose()


async def test_in_memory_sqlite_works() -> None:
    engine = create_engine("sqlite://")
    try:
        await upgrade(engine)
        assert await tables_of(engine) == TABLES
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision() == HEAD
        assert await tables_of(engine) == TABLES
        await upgrade(engine)  # idempotent at head
        await downgrade(engine, "0001_core")
        assert await current_revision(engine) == "0001_core"
        assert await tables_of(engine) == CORE_TABLES
        await upgrade(engine)
        assert await tables_of(engine) == TABLES
        await downgrade(engine, "base")
        assert await current_revision(engine) is None
        assert await tables_of(engine) == set()
        await upgrade(engine, "head")
        assert await tables_of(engine) == TABLES
    finally:
        await engine.dispose()


async def test_upgrade_by_url(db_url: str) -> None:
    await upgrade(db_url)
    assert await current_revision(db_url) == HEAD
    await downgrade(db_url, "base")
    assert await current_revision(db_url) is None


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    """The hand-written migration creates exactly what ``storage.tables`` declares."""
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                insert(ArticleVersionRow).values(
                    article_id="missing",
                    version=1,
                    content_hash="h",
                    title="t",
                    text="x",
                    seen_at=datetime(2024, 1, 1, tzinfo=UTC),
                    extraction={},
                )
            )


def test_command_line_migrates(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    result = subprocess.run(
        [sys.executable, "-m", "storage.migrate", f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (rev,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert names >= TABLES and rev == HEAD


async def test_concurrent_upgrades_do_not_collide(db_url: str) -> None:
    """Workers starting together each migrate; one does the work, the others wait."""
    engines = [create_engine(db_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(e) for e in engines))
        assert await current_revision(engines[0]) == HEAD
        assert await tables_of(engines[0]) == TABLES
    finally:
        for e in engines:
            await e.dispose()
