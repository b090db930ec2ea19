"""Who gets which alert: subscriptions, mutes, digests, and the outbox rows they produce.

A desk subscribes a channel to everything tracked, to one story, or to a keyword,
optionally only to some alert types and from a minimum severity. When alerts are
raised, :func:`plan_deliveries` turns *alert × channel* into outbox rows, in the
same transaction as the alerts, so an alert is either stored with all of its
deliveries or not at all. A channel gets an alert once, however many of its
subscriptions match: five matching rules are one message, not five.

Everything here is pure; ``storage/`` persists it and ``bot.service.delivery``
sends it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert, AlertType, Severity

SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


@dataclass(frozen=True, slots=True, order=True)
class Channel:
    """A place alerts go: a platform and its own channel id ("discord", "1234")."""

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Channel:
        platform, sep, ident = text.partition(":")
        if not sep or not platform or not ident:
            raise ValueError(f"a channel is written platform:id, not {text!r}")
        return cls(platform, ident)


class Target(StrEnum):
    ALL = "all"
    """Every tracked story."""
    STORY = "story"
    KEYWORD = "keyword"


@dataclass(frozen=True, slots=True)
class Subscription:
    channel: Channel
    target: Target
    value: str = ""
    """The story id or the keyword (lower case); empty for ``all``."""
    types: frozenset[AlertType] = frozenset()
    """Alert types wanted; empty means all of them."""
    min_severity: Severity = Severity.LOW
    created_by: str = ""
    created_at: datetime | None = None
    paused_reason: str | None = None
    """Set when delivery found the channel gone; a paused subscription gets nothing."""

    @property
    def id(self) -> str:
        """Stable and short: the same rule in the same channel is the same subscription."""
        raw = f"{self.channel}\x1f{self.target.value}\x1f{self.value}"
        return "sub-" + hashlib.sha256(raw.encode()).hexdigest()[:8]

    @property
    def active(self) -> bool:
        return self.paused_reason is None

    def matches(self, alert: Alert) -> bool:
        if not self.active:
            return False
        if self.types and alert.type not in self.types:
            return False
        if SEVERITY_RANK[alert.severity] < SEVERITY_RANK[self.min_severity]:
            return False
        if self.target is Target.STORY:
            return alert.story_id == self.value
        if self.target is Target.KEYWORD:
            return keyword_in(self.value, alert)
        return True

    def describe(self) -> str:
        what = {
            Target.ALL: "all tracked stories",
            Target.STORY: f"story {self.value}",
            Target.KEYWORD: f"keyword “{self.value}”",
        }[self.target]
        types = ",".join(sorted(t.value for t in self.types)) if self.types else "all types"
        paused = f" · PAUSED: {self.paused_reason}" if self.paused_reason else ""
        return f"{self.id} · {what} · {types} · from {self.min_severity.value}{paused}"


def keyword_in(keyword: str, alert: Alert) -> bool:
    """Whole-word (or whole-phrase), case-insensitive match on the alert's own text."""
    haystack = " ".join(
        part
        for part in (alert.story_title, alert.summary, alert.sentence, alert.quote, alert.outlet)
        if part
    )
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in keyword.split()) + r"(?!\w)"
    return re.search(pattern, haystack, re.IGNORECASE) is not None


@dataclass(frozen=True, slots=True)
class Mute:
    """No alerts about ``story_id`` in ``channel`` until ``until`` (None: until unmuted)."""

    channel: Channel
    story_id: str
    until: datetime | None = None

    def silences(self, alert: Alert, now: datetime) -> bool:
        return alert.story_id == self.story_id and (self.until is None or now < self.until)


@dataclass(frozen=True, slots=True)
class Digest:
    """Low-severity alerts for ``channel`` are held and sent together every ``interval``."""

    channel: Channel
    interval: timedelta
    next_at: datetime

    def holds(self, alert: Alert) -> bool:
        return alert.severity is Severity.LOW


class DeliveryState(StrEnum):
    PENDING = "pending"
    """To send, in order per (channel, story)."""
    HELD = "held"
    """Waiting for the channel's next digest."""
    SENT = "sent"
    DROPPED = "dropped"
    """Never to be sent: the channel is gone, or the platform refused this message."""


@dataclass(frozen=True, slots=True)
class NewDelivery:
    alert_key: str
    story_id: str
    channel: Channel
    state: DeliveryState
    subscription_id: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """An outbox row as the delivery worker sees it (with its alert)."""

    id: int
    alert: Alert
    channel: Channel
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    uncertain: bool = False
    """A previous attempt started and never reported back (the process died mid-send):
    the message may be on the platform already, so look before sending again."""
    started_at: datetime | None = None
    """When the first unresolved attempt began: the look-up searches from there."""

    @property
    def idempotency_key(self) -> str:
        """What the platform sees (Discord nonce, Slack metadata): ≤ 25 characters."""
        return f"cw{self.id}-{self.alert.key[:12]}"


@dataclass(frozen=True, slots=True)
class AdminDelivery:
    """An admin outbox row: one admin alert for one admin channel.

    Sent like a story alert (leased, retried, looked for before a resend when an
    attempt's outcome is unknown), but in no thread and with no card.
    """

    id: int
    alert: AdminAlert
    channel: Channel
    attempts: int
    uncertain: bool = False
    started_at: datetime | None = None
    """When the first unresolved attempt began: the look-up searches from there."""

    @property
    def idempotency_key(self) -> str:
        """What the platform sees (Discord nonce, Slack metadata): ≤ 25 characters."""
        return f"cwa{self.id}-{self.alert.key[:10]}"


def plan_deliveries(
    alerts: Sequence[Alert],
    subscriptions: Iterable[Subscription],
    mutes: Iterable[Mute],
    digests: Iterable[Digest],
    now: datetime,
    also_to: Sequence[Channel] = (),
) -> list[NewDelivery]:
    """Outbox rows for newly raised alerts: one per alert and channel, in alert order.

    ``also_to`` are channels that get every one of these alerts whatever their
    subscriptions (``replay seeds`` shows the demo in the channel that asked).
    Mutes apply to them too; a digest holds low-severity alerts for them as well.
    """
    subs = list(subscriptions)
    mutes = list(mutes)
    digest_of = {d.channel: d for d in digests}
    out: list[NewDelivery] = []
    for alert in alerts:
        chosen: dict[Channel, str | None] = {}
        for sub in subs:
            if sub.channel not in chosen and sub.matches(alert):
                chosen[sub.channel] = sub.id
        for channel in also_to:
            chosen.setdefault(channel, None)
        for channel, sub_id in sorted(chosen.items(), key=lambda kv: kv[0]):
            if any(m.channel == channel and m.silences(alert, now) for m in mutes):
                continue
            digest = digest_of.get(channel)
            state = (
                DeliveryState.HELD
                if digest is not None and digest.holds(alert)
                else DeliveryState.PENDING
            )
            out.append(NewDelivery(alert.key, alert.story_id, channel, state, sub_id))
    return out


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait after a failed send: doubling from ``base``, at most ``cap``."""

    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(seconds=30)

    def delay(self, attempts: int) -> timedelta:
        factor = 1 << max(0, min(attempts - 1, 20))
        return min(self.cap, self.base * factor)


@dataclass(frozen=True, slots=True)
class StoryThread:
    """Where a story lives in a channel: its first message (the card) and its thread."""

    channel: Channel
    story_id: str
    root_message_id: str
    thread_id: str | None = None
    """Discord: the thread channel's id; Slack: the root message's ts (replies use it)."""


@dataclass(frozen=True, slots=True)
class FigureLine:
    label: str
    current: str
    lineage: str
    source: str
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryCard:
    """The story's first message, edited in place as figures change."""

    story_id: str
    title: str
    figures: tuple[FigureLine, ...]
    officials: tuple[str, ...]
    articles: int
    updated_at: datetime
    latest: str | None = None
    """The latest alert's one-line summary."""
    url: str | None = None
    severity: Severity = Severity.LOW
