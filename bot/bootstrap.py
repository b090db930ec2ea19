"""The composition root: the one place that wires the core to storage and adapters.

Everything else in ``bot/`` depends on ports only (an import-boundary test keeps it
so). Entry points (the CLI, later the long-running bot) ask this module for a
ready ``App`` and never construct storage or adapters themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.console import ConsoleSink, Format
from adapters.dropfolder import DropFolder, DropFolderError, DropFolderWatcher
from adapters.http_fetch import HttpxFetcher
from adapters.status_http import StatusServer
from bot.changes.detect import ChangeConfig
from bot.clock import Clock, utc_now
from bot.commands.handlers import Commands
from bot.config import Settings
from bot.domain.alerts import Severity
from bot.domain.articles import Article
from bot.domain.delivery import Channel, RetryPolicy, Subscription, Target
from bot.domain.feeds import BackoffPolicy
from bot.domain.health import HealthPolicy
from bot.fetching import FetchLimits
from bot.metrics import Metrics
from bot.ports import AlertSink, ChatTransport, UnitOfWorkFactory
from bot.service.analysis import Analyser, ProcessAnalyser, ThreadAnalyser
from bot.service.bus import MessageBus
from bot.service.catalog import CatalogConfig, FeedCatalog
from bot.service.delivery import DeliveryConfig, DeliveryWorker
from bot.service.gateway import GatewayGuard
from bot.service.health import HealthMonitor
from bot.service.ingest import IngestArticle, IngestConfig, Ingestor, extract_article
from bot.service.polling import FeedPoller, PollerConfig, PollReport
from bot.service.recheck import Rechecker
from bot.service.replay import SeedReplayer
from bot.service.runner import Runner, RunnerConfig, Service, worker_id
from bot.stories.grouping import GroupingConfig
from storage.engine import create_engine, describe_database_error
from storage.gateway_lock import gateway_lock
from storage.migrate import UnknownSchemaError, upgrade
from storage.uow import make_uow_factory


@dataclass
class App:
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    bus: MessageBus
    metrics: Metrics = field(default_factory=Metrics)
    ingestor: Ingestor | None = None

    async def close(self) -> None:
        if self.ingestor is not None:
            await self.ingestor.close()  # its extraction workers
        await self.engine.dispose()


def console_sink(fmt: Format) -> ConsoleSink:
    return ConsoleSink(fmt)


def analyser(settings: Settings, metrics: Metrics) -> Analyser:
    """Where extraction runs: worker processes with a time budget, or (0) a thread."""
    if settings.extract_processes == 0:
        return ThreadAnalyser(metrics.timed_extractor(extract_article))
    return ProcessAnalyser(
        settings.extract_processes,
        timeout_s=settings.extract_timeout_s,
        observe=metrics.extraction_time.observe,
    )


def ingest_config(settings: Settings) -> IngestConfig:
    return IngestConfig(
        candidate_window=timedelta(hours=settings.candidate_window_hours),
        grouping=GroupingConfig(
            max_gap=timedelta(hours=settings.candidate_window_hours),
            story_life=timedelta(days=settings.story_life_days),
        ),
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
    # A path typed on the command line gets no folder created: a typo must not quietly
    # start an empty database somewhere new.
    engine = create_engine(db_url or settings.db_url, create_folder=db_url is None)
    if migrate:
        await upgrade(engine)
    uow_factory = make_uow_factory(engine)
    metrics = Metrics(settings.role)
    ingestor = Ingestor(
        uow_factory, analyser=analyser(settings, metrics), config=ingest_config(settings)
    )
    bus = MessageBus(ingestor, sinks, metrics)
    return App(engine=engine, uow_factory=uow_factory, bus=bus, metrics=metrics, ingestor=ingestor)


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
    commands: Commands | None = None
    chat: Chat | None = None
    gateway: GatewayGuard | None = None
    health: HealthMonitor | None = None
    status: StatusServer | None = None

    async def close(self) -> None:
        await self.fetcher.aclose()
        if self.chat is not None:
            await self.chat.close()


@dataclass
class Chat:
    """The chat side of a running bot: the platform services and their transports."""

    services: list[Service] = field(default_factory=list)
    """The gateway bots (run under the gateway lease)."""
    transports: dict[str, ChatTransport] = field(default_factory=dict)
    """Per platform, what the delivery worker and the admin sink send with."""
    webhooks: list[Channel] = field(default_factory=list)
    openers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def open(self) -> None:
        """Log the senders in before the first delivery (a failure is logged: retries
        happen per delivery)."""
        for opener in self.openers:
            try:
                await opener()
            except Exception:
                logging.getLogger(__name__).exception("a chat sender could not log in")

    async def close(self) -> None:
        for close in self.closers:
            await close()
        for transport in self.transports.values():
            closer = getattr(transport, "aclose", None)
            if closer is not None:
                await closer()


def build_chat(
    settings: Settings, commands: Commands, *, gateway: bool = True, send: bool = True
) -> Chat:
    """The enabled chat adapters (``CLAIMWATCH_ADAPTERS``) and webhooks, not yet started.

    ``gateway``: the bots that hold the platform connections and answer commands
    (run under the gateway lease, in one process). ``send``: REST-only transports
    that deliver alerts, in every worker. Imports each platform's library only when
    it is enabled.
    """
    chat = Chat()
    names = settings.adapter_names
    if "discord" in names and settings.discord_token is not None:
        from adapters.discord_chat.bot import DiscordBot, DiscordSender, point_at

        point_at(settings.discord_api_base, settings.discord_gateway_url)
        token = settings.discord_token.get_secret_value()
        if gateway:
            chat.services.append(
                DiscordBot(
                    commands,
                    token=token,
                    guild_id=settings.discord_guild_id,
                    admin_roles=settings.discord_admin_roles.split(","),
                    admin_channel=settings.discord_admin_channel,
                )
            )
        if send:
            sender = DiscordSender(token=token, admin_channel=settings.discord_admin_channel)
            chat.openers.append(sender.open)
            chat.closers.append(sender.aclose)
            chat.transports[sender.transport.platform] = sender.transport
    if "slack" in names and settings.slack_bot_token is not None:
        from adapters.slack_chat.bot import SlackBot
        from adapters.slack_chat.transport import SlackTransport, web_client

        bot_token = settings.slack_bot_token.get_secret_value()
        if gateway:
            chat.services.append(
                SlackBot(
                    commands,
                    bot_token=bot_token,
                    api_base=settings.slack_api_base,
                    mode=settings.slack_mode,
                    app_token=settings.slack_app_token.get_secret_value()
                    if settings.slack_app_token
                    else None,
                    signing_secret=settings.slack_signing_secret.get_secret_value()
                    if settings.slack_signing_secret
                    else None,
                    host=settings.http_host,
                    port=settings.http_port,
                    admin_users=settings.slack_admin_users.split(","),
                    admin_channel=settings.slack_admin_channel,
                )
            )
        if send:
            slack = SlackTransport(
                web_client(bot_token, settings.slack_api_base),
                admin_channel=settings.slack_admin_channel,
            )
            chat.transports[slack.platform] = slack
    if send and (
        settings.discord_webhook_url is not None or settings.slack_webhook_url is not None
    ):
        from adapters.webhooks import (
            WEBHOOK_CHANNEL,
            DiscordWebhookTransport,
            SlackWebhookTransport,
        )

        hooks: list[ChatTransport] = []
        if settings.discord_webhook_url is not None:
            hooks.append(DiscordWebhookTransport(settings.discord_webhook_url.get_secret_value()))
        if settings.slack_webhook_url is not None:
            hooks.append(SlackWebhookTransport(settings.slack_webhook_url.get_secret_value()))
        for hook in hooks:
            chat.transports[hook.platform] = hook
            chat.webhooks.append(Channel(hook.platform, WEBHOOK_CHANNEL))
    return chat


async def subscribe_webhooks(settings: Settings, app: App, chat: Chat) -> None:
    """A webhook takes every tracked story's alerts from the configured severity."""
    async with app.uow_factory() as uow:
        await uow.begin_write()
        for channel in chat.webhooks:
            await uow.subscriptions.save(
                Subscription(
                    channel,
                    Target.ALL,
                    min_severity=Severity(settings.webhook_min_severity),
                    created_by="config",
                    created_at=utc_now(),
                )
            )
        await uow.commit()


def build_commands(settings: Settings, app: App, *, clock: Clock = utc_now) -> Commands:
    return Commands(
        app.uow_factory,
        feed_catalog(settings, app, clock),
        replayer=SeedReplayer(app.bus.handle, settings.seeds_dir),
        clock=clock,
    )


def build_runner(settings: Settings, app: App, *, clock: Clock = utc_now) -> Running:
    """Wire the long-running parts for this process's role (``CLAIMWATCH_ROLE``).

    ``worker``: feeds, page re-checks, the drop folder, delivery. ``gateway``: the
    chat connections and their commands (under the gateway lease). ``all``: both.
    Every role runs the health check and, if configured, ``/metrics``.
    """
    role = settings.role
    works = role in ("all", "worker")
    owner = settings.worker_id or worker_id()
    commands = build_commands(settings, app, clock=clock)
    chat = build_chat(settings, commands, gateway=role in ("all", "gateway"), send=True)
    delivery = None
    # Admin alerts reach chat through the admin outbox (queued when they are stored,
    # sent by the delivery worker), so a gateway-only process needs no chat sink.
    if chat.transports and works:
        delivery = DeliveryWorker(
            app.uow_factory,
            chat.transports,
            owner=owner,
            clock=clock,
            config=DeliveryConfig(
                lease=timedelta(seconds=settings.delivery_lease_s),
                retry=RetryPolicy(cap=timedelta(seconds=settings.delivery_retry_max_s)),
            ),
            on_admin=app.bus.publish_admin,
            metrics=app.metrics,
        )
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
            max_items=settings.max_items_per_poll,
        ),
        clock=clock,
    )
    rechecker = (
        Rechecker(app.uow_factory, app.bus, fetcher, clock=clock)
        if settings.recheck_articles and works
        else None
    )
    services: list[Service] = []
    gateway: GatewayGuard | None = None
    if chat.services:
        gateway = GatewayGuard(
            chat.services,
            gateway_lock(app.engine),
            retry=timedelta(seconds=settings.gateway_retry_s),
        )
        services.append(gateway)
    drop: DropFolder | None = None
    if settings.drop_dir is not None and works:

        async def ingest(article: Article) -> None:
            await app.bus.handle(IngestArticle(article, clock()))

        drop = DropFolder(settings.drop_dir, ingest, quiet_period=settings.drop_quiet_s)
        services.append(DropFolderWatcher(drop, poll_interval=settings.drop_poll_interval_s))
    health = HealthMonitor(
        app.uow_factory,
        metrics=app.metrics,
        on_admin=app.bus.publish_admin,
        policy=HealthPolicy(max_delivery_lag=timedelta(seconds=settings.max_delivery_lag_s)),
        clock=clock,
    )
    status: StatusServer | None = None
    if settings.metrics_port is not None:
        status = StatusServer(
            app.metrics,
            lambda: health.last,
            host=settings.metrics_host,
            port=settings.metrics_port,
            role=role,
            overdue_after=timedelta(seconds=3 * settings.health_tick_s + 5),
            clock=clock,
        )
        services.insert(0, status)
    metrics = app.metrics

    def on_poll(report: PollReport) -> None:
        metrics.observe_poll(
            ok=report.ok, not_modified=report.not_modified, new_items=report.ingested
        )

    runner = Runner(
        app.uow_factory,
        poller,
        rechecker,
        owner=owner,
        services=services,
        config=RunnerConfig(
            tick=timedelta(seconds=settings.poll_tick_s),
            lease=timedelta(seconds=settings.feed_lease_s),
            max_concurrent_polls=settings.max_concurrent_fetches,
            recheck=settings.recheck_articles,
            delivery_tick=timedelta(seconds=settings.delivery_tick_s),
            max_concurrent_deliveries=settings.delivery_concurrency,
            health_tick=timedelta(seconds=settings.health_tick_s),
            malloc_trim=timedelta(seconds=settings.malloc_trim_s)
            if settings.malloc_trim_s
            else None,
            poll_feeds=works,
        ),
        clock=clock,
        delivery=delivery,
        health=health.check,
        on_poll=on_poll,
    )
    return Running(
        runner=runner,
        fetcher=fetcher,
        drop=drop,
        commands=commands,
        chat=chat,
        gateway=gateway,
        health=health,
        status=status,
    )


def describe_startup_error(exc: BaseException, db_url: str) -> str | None:
    """One line for an error that stops a command before it can work (the database or the
    drop folder as configured), or None for anything else (a bug: keep its traceback).

    The CLI prints it as ``error: …`` with exit code 2 instead of a traceback.
    """
    if isinstance(exc, DropFolderError | UnknownSchemaError):
        return str(exc)
    return describe_database_error(exc, db_url)
