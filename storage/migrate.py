"""Run the Alembic migrations programmatically, on an engine or a URL.

No ``alembic.ini`` is needed: the configuration is built here from the location
of the packaged ``storage/migrations`` folder, so this works from an installed
wheel as well as from a checkout. Migrations run in one transaction on the given
engine (DDL is transactional on both SQLite and PostgreSQL): a failing migration
leaves the schema as it was.

Command line: ``python -m storage.migrate sqlite:///claimwatch.db [revision]``.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import SQLITE_BEGIN_OPTION, create_engine

_Command = Callable[[Config], None]
_SyncFn = Callable[[Connection], None]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x636C_6D77_0002
"""PostgreSQL advisory lock key held while migrating (see ``storage.uow`` for 0001)."""


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """The newest revision in the packaged migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(engine_or_url: AsyncEngine | str | URL, revision: str = "head") -> None:
    """Migrate the database forward to ``revision`` (default: the newest)."""
    await _run(engine_or_url, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(engine_or_url: AsyncEngine | str | URL, revision: str) -> None:
    """Migrate the database back to ``revision`` (``"base"``: drop everything)."""
    await _run(engine_or_url, lambda cfg: command.downgrade(cfg, revision))


async def current_revision(engine_or_url: AsyncEngine | str | URL) -> str | None:
    """The revision the database is at (None for an empty database)."""
    result: list[str | None] = []

    def read(conn: Connection) -> None:
        result.append(MigrationContext.configure(conn).get_current_revision())

    await _with_connection(engine_or_url, read)
    return result[0]


class UnknownSchemaError(RuntimeError):
    """The database is at a schema revision these migrations do not know (a newer release)."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"the database is at schema revision {revision!r}, which this version of "
            "claimwatch does not know: it was written by a newer claimwatch; upgrade "
            "claimwatch (or point it at another database)"
        )


def _check_known(conn: Connection, cfg: Config) -> None:
    """Refuse a database written by a newer release before Alembic fails on it obscurely."""
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        return
    try:
        known = ScriptDirectory.from_config(cfg).get_revision(current)
    except (RevisionError, CommandError):  # Alembic wraps one in the other
        known = None
    if known is None:
        raise UnknownSchemaError(current)


async def _run(engine_or_url: AsyncEngine | str | URL, cmd: _Command) -> None:
    def migrate(conn: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        _check_known(conn, cfg)
        cmd(cfg)

    await _with_connection(engine_or_url, migrate)


async def _with_connection(engine_or_url: AsyncEngine | str | URL, fn: _SyncFn) -> None:
    if isinstance(engine_or_url, AsyncEngine):
        await _locked(engine_or_url, fn)
        return
    engine = create_engine(engine_or_url)
    try:
        await _locked(engine, fn)
    finally:
        await engine.dispose()


async def _locked(engine: AsyncEngine, fn: _SyncFn) -> None:
    """Run ``fn`` in a transaction that excludes every other migrator.

    Several workers may start at once and each migrate: on PostgreSQL a
    transaction-scoped advisory lock makes the later ones wait and then find the
    schema at head; on SQLite the transaction starts as ``BEGIN IMMEDIATE``.
    """
    async with engine.connect() as conn:
        await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            await conn.run_sync(fn)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print("usage: python -m storage.migrate DATABASE_URL [REVISION]", file=sys.stderr)
        return 2
    asyncio.run(upgrade(args[0], args[1] if len(args) > 1 else "head"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
