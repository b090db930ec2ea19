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
from adapters.dropfolder import DropFolder, DropFolderWatcher
from adapters.http_fetch import HttpxFetcher
from bot.changes.detect import ChangeConfig
from bot.clock import Clock, utc_now
from bot.config import Settings
from bot.domain.articles import Article
from bot.domain.feeds import BackoffPolicy
from bot.fetching import FetchLimits
from bot.ports import AlertSink, UnitOfWorkFactory
from bot.service.bus import MessageBus
from bot.service.catalog import CatalogConfig, FeedCatalog
from bot.service.ingest import IngestArticle, IngestConfig, Ingestor
from bot.service.polling import FeedPoller, PollerConfig
from bot.service.recheck import Rechecker
from bot.service.runner import Runner, RunnerConfig, Service, worker_id
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


def feed_catalog(settings: Settings, app: App, clock: Clock = utc_now) -> FeedCatalog:
    return FeedCatalog(
        app.uow_factory,
        CatalogConfig(
            default_interval=timedelta(seconds=settings.feed_interval_s),
            min_interval=timedelta(seconds=settings.min_feed_interval_s),
            allow_private=settings.allow_private_urls,
        ),
        clock,
    )


def fetch_limits(settings: Settings) -> FetchLimits:
    return FetchLimits(
        timeout_s=settings.fetch_timeout_s,
        max_bytes=settings.max_fetch_bytes,
        max_redirects=settings.max_redirects,
        allow_private=settings.allow_private_urls,
    )


@dataclass
class Running:
    """What ``claimwatch run`` holds: the runner and what must be closed after it."""

    runner: Runner
    fetcher: HttpxFetcher
    drop: DropFolder | None

    async def close(self) -> None:
        await self.fetcher.aclose()


def build_runner(settings: Settings, app: App, *, clock: Clock = utc_now) -> Running:
    """Wire the long-running parts: fetcher, poller, re-checker, drop folder, scheduler."""
    owner = settings.worker_id or worker_id()
    fetcher = HttpxFetcher(
        fetch_limits(settings),
        max_connections=settings.max_concurrent_fetches,
        per_host=settings.per_host_fetches,
    )
    poller = FeedPoller(
        app.uow_factory,
        app.bus,
        fetcher,
        owner=owner,
        config=PollerConfig(
            backoff=BackoffPolicy(
                base=timedelta(seconds=settings.backoff_base_s),
                maximum=timedelta(seconds=settings.backoff_max_s),
                failing_after=settings.failing_after,
                disable_after=settings.disable_after,
            ),
            full_text=settings.full_text,
        ),
        clock=clock,
    )
    rechecker = (
        Rechecker(app.uow_factory, app.bus, fetcher, clock=clock)
        if settings.recheck_articles
        else None
    )
    services: list[Service] = []
    drop: DropFolder | None = None
    if settings.drop_dir is not None:

        async def ingest(article: Article) -> None:
            await app.bus.handle(IngestArticle(article, clock()))

        drop = DropFolder(settings.drop_dir, ingest)
        services.append(DropFolderWatcher(drop, poll_interval=settings.drop_poll_interval_s))
    runner = Runner(
        app.uow_factory,
        poller,
        rechecker,
        owner=owner,
        services=services,
        config=RunnerConfig(
            tick=timedelta(seconds=settings.poll_tick_s),
            max_concurrent_polls=settings.max_concurrent_fetches,
            recheck=settings.recheck_articles,
        ),
        clock=clock,
    )
    return Running(runner=runner, fetcher=fetcher, drop=drop)
