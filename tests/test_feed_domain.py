"""The feed state machine and schedules, as pure functions (no network, no database)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.admin import AdminAlert, AdminKind
from bot.domain.feeds import (
    BackoffPolicy,
    Feed,
    FeedState,
    PollOutcome,
    ReadCounts,
    RecheckSchedule,
    after_poll,
    feed_id_for,
    paused,
    resumed,
)

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
POLICY = BackoffPolicy(
    base=MINUTE, maximum=timedelta(hours=1), failing_after=3, disable_after=6, jitter=0
)


def feed(**kw: Any) -> Feed:
    return replace(
        Feed.new("https://wire.example/rss", now=T0, interval=5 * MINUTE, name="Wire"), **kw
    )


def fail(f: Feed, at: datetime, *, permanent: bool = False) -> tuple[Feed, list[AdminKind]]:
    t = after_poll(
        f, PollOutcome(at, ok=False, error="http_status: HTTP 500", permanent=permanent), POLICY
    )
    return t.feed, [a.kind for a in t.admin]


def succeed(f: Feed, at: datetime, **kw: Any) -> tuple[Feed, list[AdminKind]]:
    t = after_poll(f, PollOutcome(at, ok=True, **kw), POLICY)
    return t.feed, [a.kind for a in t.admin]


def test_a_new_feed_is_due_at_once_unprimed_and_has_a_typeable_id() -> None:
    f = feed()
    assert f.next_poll_at == T0 and not f.primed and f.state is FeedState.ACTIVE
    assert f.id == feed_id_for("https://wire.example/rss") and f.id.startswith("f-")
    assert len(f.id) == 8 and not set(f.id[2:]) & set("01ilo")
    assert feed_id_for("https://wire.example/rss2") != f.id


def test_success_stores_validators_primes_and_schedules_one_interval_later() -> None:
    f, admin = succeed(
        feed(),
        T0,
        etag='"v1"',
        last_modified="Sat, 21 Nov 2026 07:59:00 GMT",
        body_hash="abc",
        new_items=4,
    )
    assert (f.etag, f.last_modified, f.last_hash) == (
        '"v1"',
        "Sat, 21 Nov 2026 07:59:00 GMT",
        "abc",
    )
    assert f.primed and f.items_seen == 4 and f.polls == 1 and f.failures == 0
    assert f.next_poll_at == T0 + 5 * MINUTE and f.last_success_at == T0
    assert admin == []


def test_not_modified_keeps_the_previous_validators_and_hash() -> None:
    f, _ = succeed(feed(), T0, etag='"v1"', body_hash="abc")
    f, _ = succeed(f, T0 + 5 * MINUTE, not_modified=True)
    assert f.etag == '"v1"' and f.last_hash == "abc" and f.next_poll_at == T0 + 10 * MINUTE


def test_a_changed_body_without_validators_clears_stale_ones() -> None:
    f, _ = succeed(feed(), T0, etag='"v1"', body_hash="abc")
    f, _ = succeed(f, T0 + 5 * MINUTE, body_hash="def")
    assert f.etag is None and f.last_hash == "def"


def test_failures_back_off_exponentially_never_sooner_than_the_interval() -> None:
    f = feed()
    delays = []
    at = T0
    for _ in range(5):
        f, _ = fail(f, at)
        delays.append(f.next_poll_at - at)
        at = f.next_poll_at
    # base 1 min doubles: 1, 2, 4, 8, 16 min, but never below the 5-minute interval
    assert delays == [5 * MINUTE, 5 * MINUTE, 5 * MINUTE, 8 * MINUTE, 16 * MINUTE]
    assert POLICY.delay(30, 5 * MINUTE) == timedelta(hours=1)  # capped


def test_failing_is_announced_once_then_disabled_after_the_limit() -> None:
    f, at, kinds = feed(), T0, []
    for _ in range(6):
        f, admin = fail(f, at)
        kinds.append((f.state, admin))
        at = f.next_poll_at
    assert [s for s, _ in kinds] == [FeedState.ACTIVE] * 2 + [FeedState.FAILING] * 3 + [
        FeedState.DISABLED
    ]
    assert [a for _, a in kinds] == [
        [],
        [],
        [AdminKind.FEED_FAILING],
        [],
        [],
        [AdminKind.FEED_DISABLED],
    ]
    assert f.failures == 6 and f.last_error == "http_status: HTTP 500"
    assert not f.state.polled


def test_gone_disables_at_once() -> None:
    f, admin = fail(feed(), T0, permanent=True)
    assert f.state is FeedState.DISABLED and admin == [AdminKind.FEED_DISABLED]


def test_recovery_from_failing_resets_and_says_so() -> None:
    f, at = feed(), T0
    for _ in range(3):
        f, _ = fail(f, at)
        at = f.next_poll_at
    assert f.state is FeedState.FAILING
    f, admin = succeed(f, at, body_hash="x")
    assert f.state is FeedState.ACTIVE and f.failures == 0 and admin == [AdminKind.FEED_RECOVERED]
    assert f.last_error == "http_status: HTTP 500"  # the last error stays visible in health


def test_a_poll_releases_its_lease() -> None:
    leased = feed(lease_owner="w1", lease_expires_at=T0 + 5 * MINUTE)
    assert succeed(leased, T0)[0].lease_owner is None
    assert fail(leased, T0)[0].lease_expires_at is None


def test_pause_and_resume() -> None:
    f, at = feed(), T0
    for _ in range(6):
        f, _ = fail(f, at)
        at = f.next_poll_at
    assert f.state is FeedState.DISABLED
    f = resumed(f, T0 + timedelta(days=1))
    assert (
        f.state is FeedState.ACTIVE and f.failures == 0 and f.next_poll_at == T0 + timedelta(days=1)
    )
    assert paused(f).state is FeedState.PAUSED and not paused(f).state.polled


def test_a_paused_feed_polled_by_a_stale_lease_stays_paused() -> None:
    f = paused(feed())
    assert succeed(f, T0)[0].state is FeedState.PAUSED
    assert fail(f, T0)[0].state is FeedState.PAUSED


def test_jitter_spreads_feeds_added_together() -> None:
    policy = BackoffPolicy(jitter=0.1)
    rng = random.Random(7)
    times = {
        after_poll(feed(), PollOutcome(T0, ok=True), policy, rng).feed.next_poll_at
        for _ in range(20)
    }
    assert len(times) > 15
    assert all(T0 + 4.5 * MINUTE <= t <= T0 + 5.5 * MINUTE for t in times)


@pytest.mark.parametrize(
    ("age", "every"),
    [
        (timedelta(minutes=10), timedelta(minutes=5)),
        (timedelta(hours=3), timedelta(minutes=15)),
        (timedelta(hours=12), timedelta(hours=1)),
        (timedelta(hours=48), timedelta(hours=6)),
        (timedelta(days=4), None),
    ],
)
def test_recheck_schedule_by_age(age: timedelta, every: timedelta | None) -> None:
    now = T0 + age
    got = RecheckSchedule().next_check(T0, now)
    assert got == (None if every is None else now + every)


# --- what a read left out; secrets in feed URLs ---------------------------------------------


def test_a_read_records_what_it_left_out_and_a_304_keeps_it() -> None:
    counts = ReadCounts(deferred=7, passed_over=30, skipped=2)
    read = after_poll(feed(), PollOutcome(T0, ok=True, body_hash="h1", read=counts), POLICY).feed
    assert (read.items_deferred, read.items_passed_over, read.entries_skipped) == (7, 30, 2)
    unchanged = after_poll(read, PollOutcome(T0 + MINUTE, ok=True, not_modified=True), POLICY)
    assert unchanged.feed.items_deferred == 7 and unchanged.feed.entries_skipped == 2
    again = after_poll(read, PollOutcome(T0, ok=True, read=ReadCounts(passed_over=5)), POLICY)
    assert (again.feed.items_deferred, again.feed.items_passed_over) == (0, 35)
    assert again.feed.entries_skipped == 0


KEYED = "https://api.wire.example/v1/rss?api_key=SECRET-42&lang=en"


def test_a_feed_named_by_its_url_is_named_without_the_query() -> None:
    new = Feed.new(KEYED, now=T0, interval=5 * MINUTE)
    assert new.url == KEYED and new.name == "https://api.wire.example/v1/rss"
    legacy = replace(new, name=KEYED)  # stored before names were redacted
    assert legacy.label == "https://api.wire.example/v1/rss"
    assert replace(new, name="Wire desk").label == "Wire desk"


def test_failure_text_and_admin_alerts_never_show_the_key() -> None:
    legacy = replace(Feed.new(KEYED, now=T0, interval=5 * MINUTE), name=KEYED)
    error = f"timeout: no complete response within 15 s ({KEYED})"
    f, told = legacy, list[AdminAlert]()
    for n in range(3):
        t = after_poll(f, PollOutcome(T0 + n * MINUTE, ok=False, error=error), POLICY)
        f, told = t.feed, told + list(t.admin)
    assert f.last_error is not None and "SECRET" not in f.last_error
    assert "(https://api.wire.example/v1/rss)" in f.last_error
    (alert,) = told
    assert alert.kind is AdminKind.FEED_FAILING
    assert "SECRET" not in alert.message and "SECRET" not in (alert.reason or "")
    assert "https://api.wire.example/v1/rss" in alert.message
