"""Alembic environment: runs migrations on a connection we are given, or on a URL.

``storage.migrate`` passes an open (sync-facing) connection in
``config.attributes["connection"]``, so migrations run inside the caller's engine
and transaction. From the ``alembic`` command line, give the database with
``-x url=sqlite:///path.db`` (or ``sqlalchemy.url`` in an ini file); plain URLs are
converted to the async drivers by ``storage.engine.create_engine``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection

from storage.engine import async_url, create_engine
from storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database: pass -x url=… or set sqlalchemy.url")
    return url


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite can alter little in place; batch mode rebuilds tables when needed.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_url(url: str) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=async_url(_url()).render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
    else:
        asyncio.run(_run_on_url(_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
