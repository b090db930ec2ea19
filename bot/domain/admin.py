"""Admin alerts: events about the bot itself, for the people who run it.

Story alerts tell a desk that the news changed; admin alerts tell its operators
that a source broke ("feed X failing: HTTP 500 five times since 09:12"), came back,
or was given up on. They are stored and delivered like story alerts, to the admin
channel instead of story subscribers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.alerts import Severity

if TYPE_CHECKING:
    from bot.domain.feeds import Feed


class AdminKind(StrEnum):
    FEED_FAILING = "feed_failing"
    FEED_DISABLED = "feed_disabled"
    FEED_RECOVERED = "feed_recovered"
    CHANNEL_GONE = "channel_gone"
    UNHEALTHY = "unhealthy"
    HEALTHY_AGAIN = "healthy_again"
    LOOKUP_REFUSED = "lookup_refused"
    THREADS_REFUSED = "threads_refused"


ONCE_PER_SUBJECT = frozenset({AdminKind.LOOKUP_REFUSED, AdminKind.THREADS_REFUSED})
"""Standing conditions of a channel, said once: their key leaves out the time, so the
second, tenth and hundredth alert that hits the same condition adds nothing."""


_SEVERITY = {
    AdminKind.FEED_FAILING: Severity.MEDIUM,
    AdminKind.FEED_DISABLED: Severity.HIGH,
    AdminKind.FEED_RECOVERED: Severity.LOW,
    AdminKind.CHANNEL_GONE: Severity.HIGH,
    AdminKind.UNHEALTHY: Severity.HIGH,
    AdminKind.HEALTHY_AGAIN: Severity.LOW,
    AdminKind.LOOKUP_REFUSED: Severity.MEDIUM,
    AdminKind.THREADS_REFUSED: Severity.MEDIUM,
}


@dataclass(frozen=True, slots=True)
class AdminAlert:
    kind: AdminKind
    severity: Severity
    subject: str
    """What it is about: a feed id, a channel."""
    message: str
    at: datetime
    reason: str | None = None

    @property
    def key(self) -> str:
        """Idempotency key: the same event about the same thing at the same time.

        A standing condition (``ONCE_PER_SUBJECT``) is keyed by its subject alone.
        """
        when = "" if self.kind in ONCE_PER_SUBJECT else self.at.isoformat()
        raw = "\x1f".join([self.kind.value, self.subject, when])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    @classmethod
    def about_feed(
        cls, kind: AdminKind, feed: Feed, at: datetime, reason: str | None
    ) -> AdminAlert:
        label = f"{feed.name} ({feed.id})" if feed.name != feed.url else f"{feed.url} ({feed.id})"
        if kind is AdminKind.FEED_FAILING:
            message = f"feed {label} is failing: {feed.failures} failures in a row; last: {reason}"
        elif kind is AdminKind.FEED_DISABLED:
            message = (
                f"feed {label} is disabled after {feed.failures} failure(s); last: {reason}. "
                "`feeds resume` polls it again."
            )
        else:
            message = f"feed {label} is working again"
        return cls(kind, _SEVERITY[kind], feed.id, message, at, reason)

    @classmethod
    def channel_gone(cls, channel: str, reason: str, at: datetime, paused: int) -> AdminAlert:
        message = (
            f"channel {channel} no longer takes alerts ({reason}); {paused} subscription(s) "
            "paused and its queued alerts dropped. Subscribe again once the bot can post there."
        )
        return cls(AdminKind.CHANNEL_GONE, Severity.HIGH, channel, message, at, reason)

    @classmethod
    def lookup_refused(cls, channel: str, reason: str, at: datetime) -> AdminAlert:
        """The platform would not say whether an interrupted post landed in ``channel``."""
        message = (
            f"channel {channel}: the bot may not read its history ({reason}), so after an "
            "interrupted post (an outage, a timeout, a restart) it cannot check whether the "
            "alert landed. It posts again rather than risk losing it: alerts here are "
            "delivered at least once, and may appear twice, instead of exactly once. Give the "
            "bot read access to the channel's history (Slack: the channels:history and "
            "groups:history scopes; Discord: Read Message History) for exactly-once delivery."
        )
        return cls(AdminKind.LOOKUP_REFUSED, Severity.MEDIUM, channel, message, at, reason)

    @classmethod
    def threads_refused(cls, channel: str, reason: str, at: datetime) -> AdminAlert:
        """The platform would not open a story thread in ``channel``."""
        message = (
            f"channel {channel}: the bot may not open threads there ({reason}); story "
            "follow-ups are posted in the channel itself. Allow the bot to create public "
            "threads to keep each story's follow-ups in its own thread."
        )
        return cls(AdminKind.THREADS_REFUSED, Severity.MEDIUM, channel, message, at, reason)

    @classmethod
    def health(cls, problem: str, message: str, since: datetime, *, over: bool) -> AdminAlert:
        """An episode of a health problem opening (or, ``over``, closing).

        Keyed by the episode's start, which every worker reads from the database,
        so the same episode never alerts twice.
        """
        if over:
            return cls(AdminKind.HEALTHY_AGAIN, Severity.LOW, problem, message, since)
        return cls(AdminKind.UNHEALTHY, Severity.HIGH, problem, message, since)

    def as_record(self) -> dict[str, object]:
        return {
            "type": "admin",
            "kind": self.kind.value,
            "severity": self.severity.value,
            "subject": self.subject,
            "message": self.message,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "key": self.key,
        }
