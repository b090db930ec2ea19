"""How loudly an alert should ring.

Severity lets a channel subscribe to "high and above" and batch the rest into a
digest. The rules favour deaths over other metrics, the event over running
totals, and big jumps over small ones.
"""

from __future__ import annotations

from bot.domain.alerts import AlertType, Severity
from bot.domain.claims import Metric, ScopeKind

_GRAVE = {Metric.KILLED, Metric.MISSING}


def severity_for(
    alert_type: AlertType,
    *,
    metric: Metric | None = None,
    scope: ScopeKind | None = None,
    value: float | None = None,
    previous: float | None = None,
) -> Severity:
    if alert_type is AlertType.NEW_STATEMENT:
        return Severity.LOW
    if alert_type is AlertType.ARTICLE_REVISED:
        return Severity.MEDIUM
    if scope is not None and scope is not ScopeKind.EVENT:
        # Running totals and sub-counts give context; they rarely need a human now.
        return Severity.LOW
    grave = metric in _GRAVE
    big = value is not None and value >= 100
    if alert_type is AlertType.NEW_STORY:
        if grave and big:
            return Severity.CRITICAL
        return Severity.HIGH if grave and value is not None and value >= 10 else Severity.MEDIUM
    if alert_type is AlertType.FIGURE_RISE:
        if grave and big and previous and value is not None and value >= 2 * previous:
            return Severity.CRITICAL
        return Severity.HIGH if grave else Severity.MEDIUM
    if alert_type is AlertType.FIGURE_DROP:
        return Severity.HIGH if grave else Severity.MEDIUM
    if alert_type is AlertType.FIGURE_CONFLICT:
        return Severity.HIGH if grave else Severity.MEDIUM
    if alert_type is AlertType.NEW_FIGURE:
        return Severity.MEDIUM if grave else Severity.LOW
    return Severity.LOW
