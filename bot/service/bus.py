"""The message bus: commands in, events (alerts) out to every sink.

Kept deliberately small (cosmicpython's bus without the ceremony): one command
type, ``IngestArticle``; its events are the alerts the ingest committed,
published to the sinks only *after* the commit so a sink never sees an alert
that a rollback then takes back. Admin alerts (raised by feed polling, committed
with the feed's new state) go out the same way through :meth:`publish_admin`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.domain.admin import AdminAlert
from bot.metrics import Metrics
from bot.ports import AlertSink
from bot.service.ingest import IngestArticle, Ingestor, IngestResult

log = logging.getLogger(__name__)


class MessageBus:
    def __init__(
        self, ingest: Ingestor, sinks: Sequence[AlertSink] = (), metrics: Metrics | None = None
    ) -> None:
        self._ingest = ingest
        self._sinks = list(sinks)
        self.metrics = metrics

    def add_sink(self, sink: AlertSink) -> None:
        self._sinks.append(sink)

    async def handle(self, command: IngestArticle) -> IngestResult:
        result = await self._ingest(command)
        if self.metrics is not None:
            self.metrics.observe_ingest(result.outcome.value, [a.type.value for a in result.alerts])
        if result.alerts:
            for sink in self._sinks:
                try:
                    await sink.publish(result.alerts)
                except Exception:
                    # The alerts are committed; a failing sink must not undo or block ingest.
                    log.exception("alert sink %r failed", sink)
        return result

    async def publish_admin(self, alerts: Sequence[AdminAlert]) -> None:
        """Hand committed admin alerts to every sink; a failing sink is only logged."""
        if not alerts:
            return
        if self.metrics is not None:
            for alert in alerts:
                self.metrics.admin_alerts.labels(kind=alert.kind.value).inc()
        for sink in self._sinks:
            try:
                await sink.publish_admin(alerts)
            except Exception:
                log.exception("alert sink %r failed on admin alerts", sink)
