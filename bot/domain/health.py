"""The bot's own health: what is wrong with it, judged from a snapshot (no I/O).

A monitoring desk trusts silence only if it knows the bot is alive: no alerts must
mean no news, not a stuck outbox or a set of dead feeds. The health check reads a
:class:`HealthSnapshot` of the whole deployment from the database, :func:`assess`
turns it into :class:`Problem` s, and an episode of each problem (from the moment
it is found until it is gone) raises one admin alert when it opens and one when it
closes, however many workers look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.feeds import FeedState


class ProblemKind(StrEnum):
    DELIVERY_LAG = "delivery_lag"
    """The oldest unsent alert has waited longer than the policy allows."""
    FEEDS_FAILING = "feeds_failing"
    """Every feed that should be polled is failing or disabled."""
    DATABASE = "database"
    """The database cannot be reached (reported by ``/healthz``; no alert can be stored)."""


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    max_delivery_lag: timedelta = timedelta(minutes=10)
    """Longer than a platform's worst ordinary rate-limit wait; shorter than a desk's
    patience with a silent channel."""


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    at: datetime
    feeds_by_state: dict[str, int] = field(default_factory=dict)
    oldest_pending_delivery: datetime | None = None
    """``created_at`` of the oldest outbox row still waiting to be sent."""
    pending_deliveries: int = 0
    database_error: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    message: str


def assess(snapshot: HealthSnapshot, policy: HealthPolicy = HealthPolicy()) -> list[Problem]:
    """The problems a snapshot shows, most fundamental first (pure)."""
    if snapshot.database_error is not None:
        return [Problem(ProblemKind.DATABASE, f"database unreachable: {snapshot.database_error}")]
    problems: list[Problem] = []
    oldest = snapshot.oldest_pending_delivery
    if oldest is not None and snapshot.at - oldest > policy.max_delivery_lag:
        waited = _duration(snapshot.at - oldest)
        problems.append(
            Problem(
                ProblemKind.DELIVERY_LAG,
                f"alerts are not going out: the oldest of {snapshot.pending_deliveries} "
                f"unsent alert(s) has waited {waited} (limit "
                f"{_duration(policy.max_delivery_lag)})",
            )
        )
    polled = {s: n for s, n in snapshot.feeds_by_state.items() if s != FeedState.PAUSED.value}
    broken = polled.get(FeedState.FAILING.value, 0) + polled.get(FeedState.DISABLED.value, 0)
    total = sum(polled.values())
    if total > 0 and broken == total:
        problems.append(
            Problem(
                ProblemKind.FEEDS_FAILING,
                f"all {total} polled feed(s) are failing or disabled: no news is coming in",
            )
        )
    return problems


def _duration(d: timedelta) -> str:
    seconds = int(d.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
