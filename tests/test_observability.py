"""Health, metrics, JSON logs and the gateway lease: on real databases and a real process."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.error import HTTPError

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.admin import AdminAlert, AdminKind
from bot.domain.delivery import Channel, plan_deliveries
from bot.domain.feeds import Feed, FeedState
from bot.domain.health import HealthPolicy, HealthSnapshot, ProblemKind, assess
from bot.metrics import Metrics
from bot.service.gateway import GatewayGuard
from bot.service.health import HealthMonitor
from storage.engine import create_engine
from storage.gateway_lock import gateway_lock
from storage.uow import SqlUnitOfWork
from tests.botproc import BotProcess
from tests.test_delivery import alert

UowFactory = Callable[[], SqlUnitOfWork]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# --- judging a snapshot (pure) ---------------------------------------------------------------


def test_assess_names_each_problem() -> None:
    policy = HealthPolicy(max_delivery_lag=timedelta(minutes=10))
    fine = HealthSnapshot(NOW, {"active": 3, "failing": 1}, NOW - timedelta(minutes=9), 4)
    assert assess(fine, policy) == []

    late = replace(fine, oldest_pending_delivery=NOW - timedelta(minutes=11))
    (problem,) = assess(late, policy)
    assert problem.kind is ProblemKind.DELIVERY_LAG and "11 min" in problem.message

    dead = replace(fine, feeds_by_state={"failing": 2, "disabled": 1, "paused": 5})
    (problem,) = assess(dead, policy)
    assert problem.kind is ProblemKind.FEEDS_FAILING and "all 3 polled" in problem.message

    # Paused feeds are not polled: only paused ones (or none) is not "all failing".
    assert assess(replace(fine, feeds_by_state={"paused": 2}), policy) == []
    assert assess(replace(fine, feeds_by_state={}), policy) == []

    down = HealthSnapshot(NOW, database_error="OSError")
    assert [p.kind for p in assess(down, policy)] == [ProblemKind.DATABASE]


# --- episodes on both databases -----------------------------------------------------------


async def _queue_old_alerts(uow_factory: UowFactory) -> None:
    alerts = [alert(n=n) for n in (1, 2)]
    async with uow_factory() as uow:
        await uow.begin_write()
        for a in alerts:
            await uow.alerts.add(a)
        await uow.outbox.add(
            plan_deliveries(alerts, [], [], [], NOW, also_to=[Channel("slack", "C1")]), NOW
        )
        await uow.commit()


async def test_one_episode_one_alert_however_many_workers_check(uow_factory: UowFactory) -> None:
    await _queue_old_alerts(uow_factory)
    published: list[AdminAlert] = []

    async def publish(alerts: object) -> None:
        published.extend(alerts)  # type: ignore[call-overload]

    clock = [NOW + timedelta(minutes=30)]
    metrics = Metrics()
    workers = [
        HealthMonitor(uow_factory, metrics=metrics, on_admin=publish, clock=lambda: clock[0])
        for _ in range(3)
    ]
    for _ in range(2):
        for w in workers:
            report = await w.check()
            assert [p.kind for p in report.problems] == [ProblemKind.DELIVERY_LAG]
    assert [a.kind for a in published] == [AdminKind.UNHEALTHY]
    assert "2 unsent" in published[0].message and "30 min" in published[0].message
    page = metrics.render().decode()
    assert "claimwatch_deliveries_pending 2.0" in page
    assert "claimwatch_healthy 0.0" in page
    assert "claimwatch_oldest_pending_delivery_seconds 1800.0" in page

    # The backlog is sent: the episode closes, once.
    async with uow_factory() as uow:
        await uow.begin_write()
        for d in await uow.outbox.claim_due(
            now=clock[0], owner="w", lease=timedelta(minutes=1), limit=10, platforms=["slack"]
        ):
            await uow.outbox.mark_sent(d.id, "m", clock[0])
        for d in await uow.outbox.claim_due(
            now=clock[0], owner="w", lease=timedelta(minutes=1), limit=10, platforms=["slack"]
        ):
            await uow.outbox.mark_sent(d.id, "m", clock[0])
        await uow.commit()
    for w in workers:
        assert (await w.check()).ok
    assert [a.kind for a in published] == [AdminKind.UNHEALTHY, AdminKind.HEALTHY_AGAIN]
    assert "claimwatch_healthy 1.0" in metrics.render().decode()
    async with uow_factory() as uow:
        kinds = [a.kind for a in await uow.admin_alerts.recent()]
    assert sorted(kinds) == [AdminKind.HEALTHY_AGAIN, AdminKind.UNHEALTHY]


async def test_an_admin_alert_that_cannot_be_sent_is_late_too(uow_factory: UowFactory) -> None:
    """Story alerts all sent, but the operators' channel has had a warning unsent for
    20 minutes: the deployment is not healthy, and the metrics show the row."""
    admin = Channel("slack", "CADMIN")
    async with uow_factory() as uow:
        await uow.begin_write()
        await uow.admin_outbox.register_channels([admin], NOW)
        warning = AdminAlert.health("feeds_failing", "all feeds failing", NOW, over=False)
        assert await uow.admin_alerts.add(warning)
        await uow.commit()
    metrics = Metrics()
    # The row's age counts from when it was queued (the wall clock), not the alert's time.
    clock = [datetime.now(UTC) + timedelta(minutes=20)]
    monitor = HealthMonitor(uow_factory, metrics=metrics, clock=lambda: clock[0])
    report = await monitor.check()
    assert [p.kind for p in report.problems] == [ProblemKind.DELIVERY_LAG]
    assert "1 unsent" in report.problems[0].message
    page = metrics.render().decode()
    assert "claimwatch_deliveries_pending 1.0" in page
    (age,) = [
        float(line.split()[-1])
        for line in page.splitlines()
        if line.startswith("claimwatch_oldest_pending_delivery_seconds ")
    ]
    assert 1200 <= age < 1260  # queued just before the clock was read

    # The warning is sent, and so is the "unhealthy" the check itself queued.
    sent = []
    while True:
        async with uow_factory() as uow:
            await uow.begin_write()
            rows = await uow.admin_outbox.claim_due(
                now=clock[0], owner="w", lease=timedelta(minutes=1), limit=10, platforms=["slack"]
            )
            for row in rows:
                await uow.admin_outbox.mark_sent(row.id, "m", clock[0])
                sent.append(row.alert.kind)
            await uow.commit()
        if not rows:
            break
    assert sent == [AdminKind.UNHEALTHY, AdminKind.UNHEALTHY]  # the warning, then the check's
    assert (await monitor.check()).ok
    assert "claimwatch_deliveries_pending 0.0" in metrics.render().decode()


async def test_all_feeds_failing_is_an_episode(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.begin_write()
        for i in range(3):
            feed = Feed.new(f"https://news{i}.example/rss", now=NOW, interval=timedelta(minutes=5))
            await uow.feeds.add(replace(feed, state=FeedState.FAILING))
        await uow.commit()
    published: list[AdminAlert] = []

    async def publish(alerts: object) -> None:
        published.extend(alerts)  # type: ignore[call-overload]

    monitor = HealthMonitor(uow_factory, on_admin=publish, clock=lambda: NOW)
    report = await monitor.check()
    assert [p.kind for p in report.problems] == [ProblemKind.FEEDS_FAILING]
    assert [a.subject for a in published] == ["feeds_failing"]


# --- the gateway lease ------------------------------------------------------------------------


async def test_one_gateway_holds_the_lease_and_a_standby_takes_over(engine: AsyncEngine) -> None:
    first, second = gateway_lock(engine), gateway_lock(engine)
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await first.still_held()
    await first.release()
    assert await second.try_acquire()
    await second.release()


async def test_a_lost_connection_loses_the_lease(pg_url: str) -> None:
    """The holder's session dies (a crash, a network cut): the lease is free again."""
    engine, other = create_engine(pg_url), create_engine(pg_url)
    try:
        holder, standby = gateway_lock(engine), gateway_lock(other)
        assert await holder.try_acquire()
        assert not await standby.try_acquire()
        async with other.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                )
            )
        assert not await holder.still_held()
        assert await standby.try_acquire()
        await standby.release()
    finally:
        await engine.dispose()
        await other.dispose()


class _Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


async def test_the_guard_runs_services_only_while_holding(engine: AsyncEngine) -> None:
    a, b = _Recorder(), _Recorder()
    guard_a = GatewayGuard([a], gateway_lock(engine), retry=timedelta(seconds=0.05))
    guard_b = GatewayGuard([b], gateway_lock(engine), retry=timedelta(seconds=0.05))
    guard_a.start()
    while not guard_a.holding:
        await guard_a.changed.wait()
    guard_b.start()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert not guard_b.holding
        await asyncio.sleep(0.05)
    await guard_a.stop()
    while not guard_b.holding:
        await guard_b.changed.wait()
    await guard_b.stop()
    assert a.events == ["start", "stop"] and b.events == ["start", "stop"]


# --- /metrics, /healthz and JSON logs from a running process ------------------------------


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except HTTPError as exc:
        return exc.code, exc.read()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_healthz_and_json_logs_of_a_running_bot(tmp_path: Path) -> None:
    port = _free_port()
    drop = tmp_path / "drop"
    drop.mkdir()
    env = {
        "CLAIMWATCH_METRICS_PORT": str(port),
        "CLAIMWATCH_LOG_FORMAT": "json",
        "CLAIMWATCH_DROP_DIR": str(drop),
        "CLAIMWATCH_HEALTH_TICK_S": "0.5",
        "no_proxy": "*",
    }
    base = f"http://127.0.0.1:{port}"
    with BotProcess(tmp_path, env) as bot:
        bot.start()

        def page() -> str:
            try:
                return _get(f"{base}/metrics")[1].decode()
            except OSError:
                return ""

        bot.wait_for(lambda: "claimwatch_healthy" in page(), 30, "/metrics")
        for seed in sorted(SEEDS.iterdir()):
            if seed.suffix in (".txt", ".md", ".html", ".json"):
                (drop / seed.name).write_bytes(seed.read_bytes())
        bot.wait_for(
            lambda: 'claimwatch_articles_ingested_total{outcome="new"}' in page(), 30, "ingest"
        )
        text_ = page()
        for name in (
            "claimwatch_alerts_raised_total",
            "claimwatch_extraction_seconds_count",
            "claimwatch_deliveries_pending",
            "claimwatch_asyncio_tasks",
            "process_resident_memory_bytes",
            "process_open_fds",
        ):
            assert name in text_, name
        status, body = _get(f"{base}/healthz")
        assert status == 200, body
        health = json.loads(body)
        assert health["status"] == "ok" and health["role"] == "all"
        assert bot.stop() == 0
    lines = [line for line in bot.output().splitlines() if line.startswith("{")]
    assert lines, bot.output()[-2000:]
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any("metrics on http://" in r["message"] for r in records)
