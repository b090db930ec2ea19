"""The composition root: the one place that wires the core to storage and adapters.

Everything else in ``bot/`` depends on ports only (an import-boundary test keeps it
so). Entry points (the CLI, later the long-running bot) ask this module for a
ready ``App`` and never construct storage or adapters themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.console import ConsoleSink, Format
from bot.changes.detect import ChangeConfig
from bot.config import Settings
from bot.ports import AlertSink, UnitOfWorkFactory
from bot.service.bus import MessageBus
from bot.service.ingest import IngestConfig, Ingestor
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.uow import make_uow_factory


@dataclass
class App:
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    bus: MessageBus

    async def close(self) -> None:
        await self.engine.dispose()


def console_sink(fmt: Format) -> ConsoleSink:
    return ConsoleSink(fmt)


def ingest_config(settings: Settings) -> IngestConfig:
    return IngestConfig(
        candidate_window=timedelta(hours=settings.candidate_window_hours),
        changes=ChangeConfig(
            concurrency_window=timedelta(minutes=settings.conflict_window_minutes)
        ),
    )


async def build_app(
    settings: Settings,
    *,
    db_url: str | None = None,
    sinks: Sequence[AlertSink] = (),
    migrate: bool = True,
) -> App:
    engine = create_engine(db_url or settings.db_url)
    if migrate:
        await upgrade(engine)
    uow_factory = make_uow_factory(engine)
    ingestor = Ingestor(uow_factory, config=ingest_config(settings))
    return App(engine=engine, uow_factory=uow_factory, bus=MessageBus(ingestor, sinks))
