"""What the bot counts, for ``/metrics`` (Prometheus text format) and for its health.

One :class:`Metrics` per running app, each with its own registry, so several apps
in one process (the tests, the benchmarks) never share counts. The services do not
know Prometheus: they take the small callbacks defined here (``observe_poll``,
``observe_ingest``, ``observe_delivery`` …), and the composition root hands them
over. Counters are per process; the gauges that describe the whole deployment
(pending deliveries, feeds by state) are read from the database by the health
check, so every worker reports the same numbers for them.

Names follow Prometheus conventions: ``_total`` for counters (added by the
client library), ``_seconds`` for durations.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.delivery import Delivery

_LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_EXTRACT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class Metrics:
    """The bot's counters, gauges and histograms in one registry."""

    def __init__(self, role: str = "all") -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # memory, CPU, open file descriptors (Linux)
        PlatformCollector(registry=r)
        self.info = Gauge("claimwatch_role_info", "This process's role", ["role"], registry=r)
        self.info.labels(role=role).set(1)
        self.feeds_polled = Counter(
            "claimwatch_feeds_polled",
            "Feed polls finished, by outcome (new_items, unchanged, not_modified, failed)",
            ["outcome"],
            registry=r,
        )
        self.fetch_failures = Counter(
            "claimwatch_fetch_failures", "Feed polls that failed (network, HTTP, parse)", registry=r
        )
        self.articles_ingested = Counter(
            "claimwatch_articles_ingested",
            "Articles handled by ingest, by outcome (new, revised, copy, unchanged)",
            ["outcome"],
            registry=r,
        )
        self.alerts_raised = Counter(
            "claimwatch_alerts_raised", "Story alerts raised, by type", ["type"], registry=r
        )
        self.admin_alerts = Counter(
            "claimwatch_admin_alerts", "Admin alerts raised, by kind", ["kind"], registry=r
        )
        self.alerts_delivered = Counter(
            "claimwatch_alerts_delivered",
            "Outbox rows sent to a chat platform, by platform",
            ["platform"],
            registry=r,
        )
        self.delivery_failures = Counter(
            "claimwatch_delivery_failures",
            "Failed send attempts, by platform and kind (rate_limited, transient, gone, rejected)",
            ["platform", "kind"],
            registry=r,
        )
        self.delivery_lag = Histogram(
            "claimwatch_delivery_lag_seconds",
            "From an alert's outbox row being written to its message being posted",
            ["platform"],
            buckets=_LAG_BUCKETS,
            registry=r,
        )
        self.extraction_time = Histogram(
            "claimwatch_extraction_seconds",
            "Time to extract the claims and statements of one article",
            buckets=_EXTRACT_BUCKETS,
            registry=r,
        )
        self.deliveries_pending = Gauge(
            "claimwatch_deliveries_pending",
            "Outbox rows not yet sent (whole deployment, read from the database)",
            registry=r,
        )
        self.oldest_pending_delivery = Gauge(
            "claimwatch_oldest_pending_delivery_seconds",
            "Age of the oldest due outbox row (whole deployment; 0 when none)",
            registry=r,
        )
        self.feeds = Gauge(
            "claimwatch_feeds", "Feeds by state (whole deployment)", ["state"], registry=r
        )
        self.healthy = Gauge(
            "claimwatch_healthy", "1 when the last health check found no problem", registry=r
        )
        self.asyncio_tasks = Gauge(
            "claimwatch_asyncio_tasks", "Tasks alive in this process's event loop", registry=r
        )
        self.healthy.set(1)

    # --- callbacks for the services ------------------------------------------------

    def observe_poll(self, *, ok: bool, not_modified: bool, new_items: int) -> None:
        if not ok:
            outcome = "failed"
            self.fetch_failures.inc()
        elif not_modified:
            outcome = "not_modified"
        elif new_items:
            outcome = "new_items"
        else:
            outcome = "unchanged"
        self.feeds_polled.labels(outcome=outcome).inc()

    def observe_ingest(self, outcome: str, alert_types: list[str]) -> None:
        self.articles_ingested.labels(outcome=outcome).inc()
        for kind in alert_types:
            self.alerts_raised.labels(type=kind).inc()

    def observe_delivery(self, delivery: Delivery, sent_at: datetime) -> None:
        platform = delivery.channel.platform
        self.alerts_delivered.labels(platform=platform).inc()
        lag = (sent_at - delivery.created_at).total_seconds()
        self.delivery_lag.labels(platform=platform).observe(max(lag, 0.0))

    def observe_delivery_failure(self, platform: str, kind: str) -> None:
        self.delivery_failures.labels(platform=platform, kind=kind).inc()

    def timed_extractor(
        self, extract: Callable[[Article], Extraction]
    ) -> Callable[[Article], Extraction]:
        """``extract``, timed into ``claimwatch_extraction_seconds``."""

        def timed(article: Article) -> Extraction:
            start = time.perf_counter()
            try:
                return extract(article)
            finally:
                self.extraction_time.observe(time.perf_counter() - start)

        return timed

    # --- exposition ------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text exposition (call inside the running loop)."""
        with contextlib.suppress(RuntimeError):  # no running loop: leave the last value
            self.asyncio_tasks.set(len(asyncio.all_tasks()))
        return generate_latest(self.registry)
