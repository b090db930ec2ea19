"""Feeds: the sources the bot polls, and the rules for when to poll them next.

A feed's life is a small state machine, kept here as pure functions so the rules
("back off exponentially, say so after N failures, give up on 410") can be read and
tested without a network or a database:

    active ──failure──▶ active (backing off) ──N failures──▶ failing ──M──▶ disabled
      ▲                                                          │
      └───────────────────────── success ◀───────────────────────┘
    410 Gone ──▶ disabled (at once)          paused: only by a person

``next_poll_at`` is the only schedule there is: workers take feeds whose time has
come (the database is the queue, so several processes can share it), and every
outcome sets the next time. Jitter spreads feeds added together so they do not
poll in lockstep forever.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.admin import AdminAlert, AdminKind
from bot.fetching import redact_url, redact_urls_in


class FeedState(StrEnum):
    ACTIVE = "active"
    """Polled on its interval (possibly backing off after recent failures)."""
    FAILING = "failing"
    """Polled, but rarely: it has failed ``failing_after`` times in a row."""
    DISABLED = "disabled"
    """Not polled: gone (410) or failed ``disable_after`` times. ``resume`` revives it."""
    PAUSED = "paused"
    """Not polled, on purpose."""

    @property
    def polled(self) -> bool:
        return self in (FeedState.ACTIVE, FeedState.FAILING)


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """How failures slow a feed down, and when they are reported."""

    base: timedelta = timedelta(minutes=1)
    """Delay after the first failure; doubles with each further one."""
    maximum: timedelta = timedelta(hours=6)
    failing_after: int = 3
    """Consecutive failures before the feed is marked failing and admins are told."""
    disable_after: int = 20
    """Consecutive failures before the feed is disabled (0: never)."""
    jitter: float = 0.1
    """Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]."""

    def delay(self, failures: int, interval: timedelta) -> timedelta:
        """Wait after ``failures`` consecutive failures: never sooner than the interval."""
        exp: timedelta = self.base * (2 ** min(max(failures - 1, 0), 30))
        return max(interval, min(exp, self.maximum))


def feed_id_for(url: str) -> str:
    """A short stable id for a feed, from its URL (typeable in chat: ``f-3k9x2a``)."""
    digest = hashlib.sha256(url.encode("utf-8")).digest()
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(6):
        n, r = divmod(n, len(alphabet))
        chars.append(alphabet[r])
    return "f-" + "".join(chars)


@dataclass(frozen=True, slots=True)
class Feed:
    """One polled feed, with everything needed to poll it politely and report on it."""

    id: str
    url: str
    name: str
    interval: timedelta
    added_at: datetime
    next_poll_at: datetime
    tags: tuple[str, ...] = ()
    state: FeedState = FeedState.ACTIVE
    etag: str | None = None
    last_modified: str | None = None
    last_hash: str | None = None
    """sha256 of the last body parsed: an identical body is not parsed again."""
    primed: bool = False
    """False until the first successful read: those items are stored without alerts."""
    failures: int = 0
    """Consecutive failures (0 after any success)."""
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    items_seen: int = 0
    """Distinct items read from this feed over its life."""
    polls: int = 0
    added_by: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    items_deferred: int = 0
    """New items the last read left for later polls (over the per-poll cap)."""
    items_passed_over: int = 0
    """Older items not read at the feed's first read (over the cap; history, not news)."""
    entries_skipped: int = 0
    """Entries of the last read that could not be read (too large, no text, no id)."""

    @property
    def label(self) -> str:
        """The feed's name for logs and admin alerts, never showing a URL's secrets.

        A feed named after its URL (the default) is shown without the query string or
        user info, which often carry an API key.
        """
        if self.name == self.url or "://" in self.name:
            return redact_url(self.name)
        return self.name

    @classmethod
    def new(
        cls,
        url: str,
        *,
        now: datetime,
        interval: timedelta,
        name: str | None = None,
        tags: Sequence[str] = (),
        added_by: str | None = None,
    ) -> Feed:
        """A feed to poll at once (its first poll primes it without alerting)."""
        return cls(
            id=feed_id_for(url),
            url=url,
            name=name or redact_url(url),
            interval=interval,
            added_at=now,
            next_poll_at=now,
            tags=tuple(dict.fromkeys(t.strip().lower() for t in tags if t.strip())),
            added_by=added_by,
        )


@dataclass(frozen=True, slots=True)
class ReadCounts:
    """What one read of a feed's body left out, for ``feeds list``."""

    deferred: int = 0
    passed_over: int = 0
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll found, as far as the feed's schedule and health are concerned."""

    at: datetime
    ok: bool
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    new_items: int = 0
    error: str | None = None
    permanent: bool = False
    """The error says the feed is gone for good (410, an invalid URL)."""
    read: ReadCounts | None = None
    """What reading the body left out; None when the body was not read (304, same hash)."""


@dataclass(frozen=True, slots=True)
class PollTransition:
    feed: Feed
    admin: tuple[AdminAlert, ...] = field(default=())


def _shown(feed: Feed) -> Feed:
    """The feed as admin alerts may show it: named by its label, not a URL with a key."""
    return replace(feed, name=feed.label)


def _jittered(delay: timedelta, policy: BackoffPolicy, rng: random.Random) -> timedelta:
    if policy.jitter <= 0:
        return delay
    return delay * rng.uniform(1 - policy.jitter, 1 + policy.jitter)


def after_poll(
    feed: Feed,
    outcome: PollOutcome,
    policy: BackoffPolicy = BackoffPolicy(),
    rng: random.Random | None = None,
) -> PollTransition:
    """The feed after a poll: new validators, health, state, next poll time, admin alerts.

    The lease is released in the same step: the poll that held it is over.
    """
    rng = rng or random.Random()
    base = replace(
        feed,
        last_polled_at=outcome.at,
        polls=feed.polls + 1,
        lease_owner=None,
        lease_expires_at=None,
    )
    if outcome.ok:
        recovered = feed.state is FeedState.FAILING
        updated = replace(
            base,
            state=FeedState.ACTIVE if feed.state.polled else feed.state,
            failures=0,
            primed=True,
            last_success_at=outcome.at,
            # A 304 may omit the validators; the previous ones still apply then.
            etag=(outcome.etag or feed.etag) if outcome.not_modified else outcome.etag,
            last_modified=(
                (outcome.last_modified or feed.last_modified)
                if outcome.not_modified
                else outcome.last_modified
            ),
            last_hash=feed.last_hash if outcome.not_modified else outcome.body_hash,
            items_seen=feed.items_seen + outcome.new_items,
            next_poll_at=outcome.at + _jittered(feed.interval, policy, rng),
        )
        if outcome.read is not None:
            updated = replace(
                updated,
                items_deferred=outcome.read.deferred,
                items_passed_over=feed.items_passed_over + outcome.read.passed_over,
                entries_skipped=outcome.read.skipped,
            )
        admin = (
            (AdminAlert.about_feed(AdminKind.FEED_RECOVERED, _shown(updated), outcome.at, None),)
            if recovered
            else ()
        )
        return PollTransition(updated, admin)

    failures = feed.failures + 1
    # Errors name URLs (redirect targets, pages); their query strings may be keys.
    error = redact_urls_in(outcome.error or "unknown error")
    failed = replace(base, failures=failures, last_error=error, last_error_at=outcome.at)
    if outcome.permanent or (policy.disable_after and failures >= policy.disable_after):
        disabled = replace(failed, state=FeedState.DISABLED)
        return PollTransition(
            disabled,
            (AdminAlert.about_feed(AdminKind.FEED_DISABLED, _shown(disabled), outcome.at, error),),
        )
    delay = _jittered(policy.delay(failures, feed.interval), policy, rng)
    state = feed.state if not feed.state.polled else FeedState.ACTIVE
    told: tuple[AdminAlert, ...] = ()
    if feed.state.polled and failures >= policy.failing_after:
        state = FeedState.FAILING
        if feed.state is not FeedState.FAILING:
            told = (
                AdminAlert.about_feed(AdminKind.FEED_FAILING, _shown(failed), outcome.at, error),
            )
    return PollTransition(replace(failed, state=state, next_poll_at=outcome.at + delay), told)


def resumed(feed: Feed, now: datetime) -> Feed:
    """A paused or disabled feed, polled again at once with a clean failure count."""
    return replace(feed, state=FeedState.ACTIVE, failures=0, next_poll_at=now)


def paused(feed: Feed) -> Feed:
    return replace(feed, state=FeedState.PAUSED, lease_owner=None, lease_expires_at=None)


# --- re-checking young articles -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecheckSchedule:
    """How often an article of a tracked story is re-fetched, by its age.

    Tolls are edited into articles most in the first hours; after a few days an
    article is history, and re-fetching it is only load on someone else's server.
    """

    steps: tuple[tuple[timedelta, timedelta], ...] = (
        (timedelta(hours=1), timedelta(minutes=5)),
        (timedelta(hours=6), timedelta(minutes=15)),
        (timedelta(hours=24), timedelta(hours=1)),
        (timedelta(hours=72), timedelta(hours=6)),
    )
    """(age below, re-fetch every): the first step whose age bound is above the age wins."""

    def next_check(self, first_seen: datetime, now: datetime) -> datetime | None:
        """When to re-fetch next, or None once the article is too old to bother."""
        age = now - first_seen
        for below, every in self.steps:
            if age < below:
                return now + every
        return None
