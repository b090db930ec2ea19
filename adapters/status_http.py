"""``/metrics`` (Prometheus text format) and ``/healthz`` over HTTP (aiohttp).

A ``Service`` for the runner, started only when ``CLAIMWATCH_METRICS_PORT`` is set:
each process (worker or gateway) serves its own, so a Prometheus scrape config
lists them all. ``/healthz`` answers from the last health check (never waiting on
the database) and says 503 when that check found a problem or is overdue — an
overdue check means the event loop or the scheduler is stuck.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.clock import Clock, utc_now
from bot.metrics import Metrics
from bot.service.health import HealthReport

log = logging.getLogger(__name__)


class StatusServer:
    def __init__(
        self,
        metrics: Metrics,
        last_health: Callable[[], HealthReport | None],
        *,
        host: str,
        port: int,
        role: str,
        overdue_after: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self._metrics = metrics
        self._last_health = last_health
        self._host = host
        self._port = port
        self._role = role
        self._overdue_after = overdue_after
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._started_at = clock()
        self.port: int | None = None
        self.ready = asyncio.Event()

    def start(self) -> None:
        self._started_at = self._clock()
        self._task = asyncio.get_running_loop().create_task(self._serve(), name="status-http")

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics_page)
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            log.error("metrics: cannot listen on %s:%s (%s)", self._host, self._port, exc)
            return
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port
        log.info("metrics on http://%s:%s/metrics, health on /healthz", self._host, self.port)
        self.ready.set()

    async def stop(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=self._metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def _healthz(self, _request: web.Request) -> web.Response:
        now = self._clock()
        report = self._last_health()
        problems: list[dict[str, str]] = []
        if report is None:
            # Just started: healthy until the first check is overdue.
            if now - self._started_at > self._overdue_after:
                problems.append({"kind": "stalled", "message": "no health check has run yet"})
        else:
            problems = [{"kind": p.kind.value, "message": p.message} for p in report.problems]
            if now - report.at > self._overdue_after:
                problems.append(
                    {
                        "kind": "stalled",
                        "message": f"the last health check ran at {report.at.isoformat()}",
                    }
                )
        body: dict[str, object] = {
            "status": "unhealthy" if problems else "ok",
            "role": self._role,
            "checked_at": report.at.isoformat() if report else None,
            "problems": problems,
        }
        if report is not None and report.snapshot is not None:
            snap = report.snapshot
            body["feeds"] = snap.feeds_by_state
            body["pending_deliveries"] = snap.pending_deliveries
        return web.Response(
            text=json.dumps(body),
            status=503 if problems else 200,
            content_type="application/json",
        )
