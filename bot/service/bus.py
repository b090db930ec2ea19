"""The message bus: commands in, events (alerts) out to every sink.

Kept deliberately small (cosmicpython's bus without the ceremony): one command
type today, ``IngestArticle``; its events are the alerts the ingest committed,
published to the sinks only *after* the commit so a sink never sees an alert
that a rollback then takes back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.ports import AlertSink
from bot.service.ingest import IngestArticle, Ingestor, IngestResult

log = logging.getLogger(__name__)


class MessageBus:
    def __init__(self, ingest: Ingestor, sinks: Sequence[AlertSink] = ()) -> None:
        self._ingest = ingest
        self._sinks = list(sinks)

    async def handle(self, command: IngestArticle) -> IngestResult:
        result = await self._ingest(command)
        if result.alerts:
            for sink in self._sinks:
                try:
                    await sink.publish(result.alerts)
                except Exception:
                    # The alerts are committed; a failing sink must not undo or block ingest.
                    log.exception("alert sink %r failed", sink)
        return result
