"""The long-running bot: one event loop, one scheduler, the sources, until a signal.

The database is the schedule: each feed's ``next_poll_at`` (and each watched
article's ``next_check_at``) says when it is due, and a worker *leases* due rows
before working on them. APScheduler (``AsyncIOScheduler``, started inside the
running loop) drives the clock: a short tick wakes the feed dispatcher, a slower
one the re-checker, and a housekeeping job logs health. Per-feed scheduler jobs
would not survive a restart or be shareable between processes; a lease is both.

The dispatcher keeps at most ``max_concurrent_polls`` polls in flight; when one
finishes it pulls the next due feeds at once instead of waiting for the tick, so a
backlog drains at the speed of the network, not of the tick. (Per-host limits are
the fetcher's.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock, utc_now
from bot.domain.delivery import Delivery
from bot.domain.feeds import Feed
from bot.ports import UnitOfWorkFactory, WatchedArticle
from bot.service.delivery import DeliveryWorker
from bot.service.health import HealthReport
from bot.service.memory import can_release, release_free_memory
from bot.service.polling import FeedPoller, PollReport
from bot.service.recheck import Rechecker, RecheckReport

log = logging.getLogger(__name__)

T = TypeVar("T")


class Service(Protocol):
    """Something that runs beside the scheduler (the drop folder, a chat gateway)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


def worker_id() -> str:
    """A lease owner name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    tick: timedelta = timedelta(seconds=1)
    recheck_tick: timedelta = timedelta(seconds=15)
    health_tick: timedelta = timedelta(seconds=30)
    max_concurrent_polls: int = 50
    max_concurrent_rechecks: int = 8
    lease: timedelta = timedelta(minutes=5)
    """Longer than any poll can take (the fetch deadline bounds it); a dead worker's
    feeds become due for others once it passes."""
    max_poll: timedelta = timedelta(minutes=10)
    """A poll running longer than this is stuck: its lease is no longer renewed."""
    shutdown_grace: timedelta = timedelta(seconds=10)
    recheck: bool = True
    poll_feeds: bool = True
    """False for a gateway-only process: it answers commands and leaves the work to workers."""
    delivery_tick: timedelta = timedelta(seconds=0.5)
    digest_tick: timedelta = timedelta(seconds=15)
    admin_tick: timedelta = timedelta(seconds=2)
    max_concurrent_deliveries: int = 4
    malloc_trim: timedelta | None = timedelta(seconds=10)
    """How often freed heap pages are handed back to the system (``bot.service.memory``);
    None: never."""


class _Pool(Generic[T]):
    """Leased work items in flight, at most ``limit`` at once, refilled as they finish."""

    def __init__(
        self,
        name: str,
        limit: int,
        claim: Callable[[int], Awaitable[Sequence[T]]],
        work: Callable[[T], Awaitable[object]],
    ) -> None:
        self.name = name
        self.limit = limit
        self._claim = claim
        self._work = work
        self.tasks: set[asyncio.Task[object]] = set()
        self._refills: set[asyncio.Task[None]] = set()  # strong references until they end
        self._pumping = False
        self._closed = False
        self.completed = 0

    async def pump(self) -> None:
        """Claim and start due work up to the limit; safe to call often (one at a time)."""
        if self._pumping or self._closed:
            return
        self._pumping = True
        try:
            while not self._closed and (free := self.limit - len(self.tasks)) > 0:
                try:
                    items = await self._claim(free)
                except Exception:
                    log.exception("%s: claiming due work failed; next tick retries", self.name)
                    return
                for item in items:
                    task = asyncio.create_task(self._run(item), name=f"{self.name}")
                    self.tasks.add(task)
                    task.add_done_callback(self._done)
                if len(items) < free:
                    return  # nothing more is due
        finally:
            self._pumping = False

    async def _run(self, item: T) -> object:
        try:
            return await self._work(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A bug or an outage: logged, and the lease expiring makes the item due again.
            log.exception("%s: work item failed", self.name)
            return None

    def _done(self, task: asyncio.Task[object]) -> None:
        self.tasks.discard(task)
        self.completed += 1
        if not self._closed:
            refill = asyncio.get_running_loop().create_task(self.pump())
            self._refills.add(refill)
            refill.add_done_callback(self._refills.discard)

    async def close(self, grace: float) -> None:
        """Let work in flight finish for up to ``grace`` seconds, then cancel it."""
        self._closed = True
        # A refill may be inside its claim: what it claims it starts (it holds the
        # leases), so wait for it before taking the list of tasks to wait for.
        if self._refills:
            await asyncio.wait(set(self._refills), timeout=grace)
        if self.tasks:
            _done, pending = await asyncio.wait(set(self.tasks), timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


class Runner:
    """Runs feed polling, page re-checks and the services until ``stop()``."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        poller: FeedPoller,
        rechecker: Rechecker | None,
        *,
        owner: str,
        services: Sequence[Service] = (),
        config: RunnerConfig = RunnerConfig(),
        clock: Clock = utc_now,
        on_poll: Callable[[PollReport], None] | None = None,
        delivery: DeliveryWorker | None = None,
        health: Callable[[], Awaitable[HealthReport]] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._poller = poller
        self._rechecker = rechecker
        self._owner = owner
        self._services = list(services)
        self._config = config
        self._clock = clock
        self._on_poll = on_poll
        self._stop = asyncio.Event()
        self._started = asyncio.Event()
        self._job_tasks: set[asyncio.Task[object]] = set()
        self._polling: dict[str, datetime] = {}  # feed id → when its poll started
        self.feeds = _Pool("poll", config.max_concurrent_polls, self._claim_feeds, self._poll)
        self.rechecks = _Pool(
            "recheck", config.max_concurrent_rechecks, self._claim_watches, self._check
        )
        self._delivery = delivery
        self._health_check = health
        self.deliveries: _Pool[Delivery] | None = (
            _Pool("deliver", config.max_concurrent_deliveries, delivery.claim, delivery.deliver)
            if delivery is not None
            else None
        )

    async def _claim_feeds(self, n: int) -> Sequence[Feed]:
        async with self._uow_factory() as uow:
            await uow.begin_write()
            feeds = await uow.feeds.claim_due(
                now=self._clock(), owner=self._owner, lease=self._config.lease, limit=n
            )
            await uow.commit()
        return feeds

    async def _poll(self, feed: Feed) -> PollReport:
        self._polling[feed.id] = self._clock()
        try:
            report = await self._poller.poll(feed)
        finally:
            self._polling.pop(feed.id, None)
        if self._on_poll is not None:
            self._on_poll(report)
        return report

    async def _renew_leases(self) -> None:
        """Renew the leases of the polls in flight: one statement every third of a lease.

        So the lease can be short (a dead worker's feeds are taken over quickly) and
        still never expire under a live poll that is slow (a big feed, a busy
        database): otherwise another worker would poll the same feed meanwhile. One
        batched UPDATE, not one per poll, so renewing never competes with the polls
        for database connections. A poll running longer than ``max_poll`` is left
        to expire: it is stuck, and the feed should go to someone else.
        """
        now = self._clock()
        ids = [i for i, since in self._polling.items() if now - since < self._config.max_poll]
        if not ids:
            return
        try:
            async with self._uow_factory() as uow:
                await uow.begin_write()
                await uow.feeds.renew_leases(ids, self._owner, now + self._config.lease)
                await uow.commit()
        except Exception:
            log.warning("renewing %d feed lease(s) failed; next tick retries", len(ids))

    async def _claim_watches(self, n: int) -> Sequence[WatchedArticle]:
        async with self._uow_factory() as uow:
            await uow.begin_write()
            watches = await uow.watches.claim_due(
                now=self._clock(), owner=self._owner, lease=self._config.lease, limit=n
            )
            await uow.commit()
        return watches

    async def _check(self, watch: WatchedArticle) -> RecheckReport | None:
        return await self._rechecker.check(watch) if self._rechecker else None

    async def _health(self) -> None:
        """The health check (admin alerts, gauges), then a log line about this process."""
        by_state: dict[str, int] | None = None
        if self._health_check is not None:
            report = await self._health_check()
            by_state = report.snapshot.feeds_by_state if report.snapshot else None
        if by_state is None:
            async with self._uow_factory() as uow:
                by_state = await uow.health.feeds_by_state()
        log.info(
            "health: %d feed(s) %s; %d poll(s) in flight, %d done",
            sum(by_state.values()),
            by_state,
            len(self.feeds.tasks),
            self.feeds.completed,
        )

    async def _release_leases(self) -> None:
        """Hand back what was cancelled, so a restart need not wait for leases to expire."""
        try:
            async with self._uow_factory() as uow:
                await uow.begin_write()
                await uow.feeds.release(self._owner)
                await uow.watches.release(self._owner)
                await uow.outbox.release(self._owner)
                await uow.admin_outbox.release(self._owner)
                await uow.commit()
        except Exception:
            log.exception("could not release leases; they expire on their own")

    def _tracked(self, tick: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """A scheduler job that the shutdown can wait for instead of cancelling."""

        async def job() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._job_tasks.add(task)
            try:
                await tick()
            finally:
                self._job_tasks.discard(task)

        return job

    async def _let_ticks_end(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for the running ticks, including one the scheduler
        submitted just before it was paused: its task registers itself only when it first
        runs, so one snapshot of the running ticks can miss it, and shutting the scheduler
        down would then cancel it mid-query."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        await asyncio.sleep(0)  # ticks submitted before the pause take their first step
        while self._job_tasks and (left := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._job_tasks), timeout=left)
            await asyncio.sleep(0)

    def stop(self) -> None:
        """Ask the runner to stop (signal handlers call this)."""
        self._stop.set()

    async def wait_started(self) -> None:
        await self._started.wait()

    async def run(self) -> None:
        """Run until ``stop()``; then stop taking work, finish or cancel it, stop services."""
        scheduler = AsyncIOScheduler(timezone="UTC")
        now = self._clock()
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
        if self._config.poll_feeds:
            scheduler.add_job(
                self._tracked(self._renew_leases),
                "interval",
                seconds=self._config.lease.total_seconds() / 3,
                id="feed-leases",
                **common,
            )
            scheduler.add_job(
                self._tracked(self.feeds.pump),
                "interval",
                seconds=self._config.tick.total_seconds(),
                next_run_time=now,
                id="feeds",
                **common,
            )
        if self._rechecker is not None and self._config.recheck and self._config.poll_feeds:
            scheduler.add_job(
                self._tracked(self.rechecks.pump),
                "interval",
                seconds=self._config.recheck_tick.total_seconds(),
                next_run_time=now,
                id="rechecks",
                **common,
            )
        if self.deliveries is not None and self._delivery is not None:
            scheduler.add_job(
                self._tracked(self.deliveries.pump),
                "interval",
                seconds=self._config.delivery_tick.total_seconds(),
                next_run_time=now,
                id="deliveries",
                **common,
            )
            scheduler.add_job(
                self._tracked(self._delivery.send_digests),
                "interval",
                seconds=self._config.digest_tick.total_seconds(),
                id="digests",
                **common,
            )
            scheduler.add_job(
                self._tracked(self._delivery.send_admin),
                "interval",
                seconds=self._config.admin_tick.total_seconds(),
                next_run_time=now,
                id="admin-alerts",
                **common,
            )
        if self._config.malloc_trim is not None and can_release():
            scheduler.add_job(
                release_free_memory,
                "interval",
                seconds=self._config.malloc_trim.total_seconds(),
                id="malloc-trim",
                **common,
            )
        scheduler.add_job(
            self._tracked(self._health),
            "interval",
            seconds=self._config.health_tick.total_seconds(),
            next_run_time=now,
            id="health",
            **common,
        )
        if self._delivery is not None:
            try:
                await self._delivery.register_admin_channels()
            except Exception:
                log.exception("could not register the admin channels; admin alerts may wait")
        started: list[Service] = []
        scheduler.start()  # inside the running loop: APScheduler 3 binds to it here
        try:
            for service in self._services:
                service.start()
                started.append(service)
            self._started.set()
            await self._stop.wait()
        finally:
            # Let the ticks that are running end (they only claim work and start it);
            # shutting APScheduler down under them would cancel them mid-query.
            grace = self._config.shutdown_grace.total_seconds()
            scheduler.pause()
            await self._let_ticks_end(grace)
            scheduler.shutdown(wait=False)
            await asyncio.gather(
                self.feeds.close(grace),
                self.rechecks.close(grace),
                *([self.deliveries.close(grace)] if self.deliveries is not None else []),
            )
            await self._release_leases()
            for service in reversed(started):
                with contextlib.suppress(Exception):
                    await service.stop()
            log.info("stopped")
