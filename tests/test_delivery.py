"""Routing and the outbox: pure planning, the repository on both databases, the worker.

The worker is driven through ``ChatTransport`` — our own port — by a recording
transport; the real platforms are exercised in test_chat_discord/test_chat_slack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.discord_chat.render import alert_embed, reply_parts, safe
from adapters.slack_chat.render import alert_message
from bot.commands import CommandRequest, parse_command
from bot.commands.channels import parse_duration
from bot.commands.handlers import Commands
from bot.commands.model import Reply, ReplyField
from bot.commands.parse import CommandError
from bot.config import default_seeds_dir
from bot.domain.admin import AdminAlert, AdminKind
from bot.domain.alerts import Alert, AlertType, Severity
from bot.domain.delivery import (
    Channel,
    Digest,
    Mute,
    StoryCard,
    StoryThread,
    Subscription,
    Target,
    plan_deliveries,
)
from bot.ingest.readers import read_path
from bot.ports import (
    ChannelGone,
    MessageRejected,
    Posted,
    RateLimited,
    TransientFailure,
)
from bot.service.catalog import CatalogConfig, FeedCatalog
from bot.service.delivery import DeliveryWorker
from bot.service.ingest import Ingestor
from bot.service.replay import replay_commands
from bot.text import clip
from storage.tables import AdminDeliveryRow, DeliveryRow
from storage.uow import SqlUnitOfWork

UowFactory = Callable[[], SqlUnitOfWork]
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
A = Channel("slack", "C1")
B = Channel("slack", "C2")


def alert(
    story: str = "s1",
    kind: AlertType = AlertType.FIGURE_RISE,
    severity: Severity = Severity.HIGH,
    title: str = "Ferry capsizes on the Meghna",
    n: int = 1,
) -> Alert:
    return Alert(
        type=kind,
        severity=severity,
        story_id=story,
        story_title=title,
        article_id=f"a{n}",
        url="https://news.example/a",
        outlet="Wire",
        published=NOW,
        summary=f"Killed: {n}",
        sentence=f"At least {n} people died.",
        value=float(n),
    )


# --- planning (pure) -----------------------------------------------------------------


def test_one_row_per_channel_however_many_rules_match() -> None:
    subs = [
        Subscription(A, Target.ALL),
        Subscription(A, Target.STORY, "s1"),
        Subscription(B, Target.ALL),
    ]
    rows = plan_deliveries([alert()], subs, [], [], NOW)
    assert sorted(r.channel.id for r in rows) == ["C1", "C2"]


def test_types_severity_story_and_keyword_filters() -> None:
    rise, low = alert(), alert(kind=AlertType.NEW_STATEMENT, severity=Severity.LOW, n=2)
    only_rises = Subscription(A, Target.ALL, types=frozenset({AlertType.FIGURE_RISE}))
    assert [r.alert_key for r in plan_deliveries([rise, low], [only_rises], [], [], NOW)] == [
        rise.key
    ]
    high_up = Subscription(A, Target.ALL, min_severity=Severity.HIGH)
    assert len(plan_deliveries([rise, low], [high_up], [], [], NOW)) == 1
    other_story = Subscription(A, Target.STORY, "s9")
    assert plan_deliveries([rise], [other_story], [], [], NOW) == []
    assert plan_deliveries([rise], [Subscription(A, Target.KEYWORD, "meghna")], [], [], NOW)
    # Whole words only: "ferr" is not "ferry"; phrases match across spaces.
    assert not plan_deliveries([rise], [Subscription(A, Target.KEYWORD, "ferr")], [], [], NOW)
    assert plan_deliveries(
        [rise], [Subscription(A, Target.KEYWORD, "ferry  capsizes")], [], [], NOW
    )
    paused = Subscription(A, Target.ALL, paused_reason="gone")
    assert plan_deliveries([rise], [paused], [], [], NOW) == []


def test_mutes_expire_and_digests_hold_low_severity() -> None:
    subs = [Subscription(A, Target.ALL)]
    muted = Mute(A, "s1", until=NOW + timedelta(hours=1))
    assert plan_deliveries([alert()], subs, [muted], [], NOW) == []
    assert plan_deliveries([alert()], subs, [muted], [], NOW + timedelta(hours=2))
    digest = Digest(A, timedelta(hours=1), NOW)
    low = alert(kind=AlertType.NEW_FIGURE, severity=Severity.LOW, n=3)
    states = [r.state.value for r in plan_deliveries([alert(), low], subs, [], [digest], NOW)]
    assert states == ["pending", "held"]
    # also_to: the replaying channel gets them without a subscription.
    assert [r.channel for r in plan_deliveries([alert()], [], [], [], NOW, also_to=[B])] == [B]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("1d", 86400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "5", "-1h", "0m", "2h and", "400d"])
def test_bad_durations_are_clear_errors(text: str) -> None:
    with pytest.raises(CommandError):
        parse_duration(text)


# --- untrusted text -------------------------------------------------------------------


def test_clip_respects_limits_and_marks_the_cut() -> None:
    assert clip("short", 10) == "short"
    cut = clip("word " * 100, 50)
    assert len(cut) <= 50 and cut.endswith("…")
    assert clip("x" * 10, 1) == "…" and clip("abc", 0) == ""


def test_discord_rendering_neutralises_mentions_and_fits_the_limits() -> None:
    hostile = alert(title="@everyone 5 killed <@123> <@&456> **x** # head")
    hostile = replace(hostile, sentence="@here " + "long " * 2000, outlet="<@&1> Wire")
    embed = alert_embed(hostile)
    data = embed.to_dict()
    text = str(data)
    assert "@everyone" not in text and "@here" not in text and "<@&" not in text
    assert len(embed) <= 6000 and len(data["title"]) <= 256 and len(data["description"]) <= 4096
    assert "\\*\\*x\\*\\*" in data["title"]
    assert safe("> quoted\n# heading", 100).startswith("\\>")
    _content, embeds = reply_parts(Reply("ok", (ReplyField("@everyone", "y" * 5000),)))
    assert len(embeds[0].fields[0].value or "") <= 1024


def test_slack_rendering_escapes_what_slack_parses() -> None:
    hostile = replace(
        alert(title="<!channel> 5 killed " + "x" * 300),
        outlet="<!here|x> & <@U1>",
        url="https://a/b|c>d",
    )
    text, blocks = alert_message(hostile)
    assert "<!channel>" not in text and "<!here" not in text and "&lt;" in text
    header = blocks[0]["text"]
    assert header["type"] == "plain_text" and len(header["text"]) <= 150
    context = blocks[-1]["elements"][0]["text"]
    assert context.startswith("<https://a/b%7Cc%3Ed|") and "<@U1>" not in context


# --- the outbox on both databases ---------------------------------------------------------


async def queue(
    uow_factory: UowFactory, alerts: Sequence[Alert], channels: Sequence[Channel]
) -> None:
    async with uow_factory() as uow:
        await uow.begin_write()
        for a in alerts:
            assert await uow.alerts.add(a)
        rows = plan_deliveries(alerts, [], [], [], NOW, also_to=channels)
        assert await uow.outbox.add(rows, NOW) == len(rows)
        assert await uow.outbox.add(rows, NOW) == 0  # never queued twice
        await uow.commit()


async def claim(uow_factory: UowFactory, owner: str = "w1", limit: int = 50) -> list[int]:
    async with uow_factory() as uow:
        await uow.begin_write()
        got = await uow.outbox.claim_due(
            now=NOW, owner=owner, lease=timedelta(minutes=1), limit=limit, platforms=["slack"]
        )
        await uow.commit()
    return [d.id for d in got]


async def test_only_the_head_of_each_story_queue_is_claimed(uow_factory: UowFactory) -> None:
    alerts = [alert("s1", n=1), alert("s1", n=2), alert("s2", n=3)]
    await queue(uow_factory, alerts, [A, B])
    first = await claim(uow_factory)
    assert sorted(first) == [1, 2, 5, 6]  # s1's first and s2's, in each of two channels
    assert await claim(uow_factory, "w2") == []  # leased, and the rest wait their turn
    async with uow_factory() as uow:
        await uow.begin_write()
        for d in first:
            await uow.outbox.mark_sent(d, f"m{d}", NOW)
        await uow.commit()
    second = await claim(uow_factory, "w2")
    assert sorted(second) == [3, 4]  # then s1's second alert, in each channel


async def test_uncertain_attempts_are_flagged_after_a_lease_expires(
    uow_factory: UowFactory,
) -> None:
    await queue(uow_factory, [alert()], [A])
    [row] = await claim(uow_factory)
    async with uow_factory() as uow:
        await uow.begin_write()
        later = await uow.outbox.claim_due(
            now=NOW + timedelta(minutes=2),
            owner="w2",
            lease=timedelta(minutes=1),
            limit=5,
            platforms=["slack"],
        )
        await uow.commit()
    assert [d.id for d in later] == [row] and later[0].uncertain and later[0].attempts == 1


# --- the worker, through our own port ---------------------------------------------------------


class Recording:
    """A ``ChatTransport`` that records and fails on demand (a test double of our port)."""

    platform = "slack"
    threads = True
    admin_channel: str | None = "CADMIN"

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, str | None]] = []
        self.cards: list[str] = []
        self.fail: list[Exception] = []
        self.digests: list[int] = []
        self.admin: list[tuple[str, AdminAlert, str]] = []
        self.admin_fail: list[Exception] = []
        self.landed: dict[str, Posted] = {}
        """Posts that reached the platform by key (what ``find_posted`` can see)."""
        self.lookups: list[tuple[str, datetime | None]] = []
        self.lookup_fail: list[Exception] = []
        self.thread_refused: str | None = None
        self.card_fail: list[Exception] = []

    async def post_alert(
        self,
        channel_id: str,
        alert: Alert,
        *,
        thread: StoryThread | None,
        idempotency_key: str,
        card: StoryCard | None,
    ) -> Posted:
        if self.fail:
            raise self.fail.pop(0)
        self.posts.append((channel_id, alert.key, thread.thread_id if thread else None))
        if thread is None and self.thread_refused is not None:
            return Posted(f"m{len(self.posts)}", None, self.thread_refused)
        return Posted(f"m{len(self.posts)}", thread.thread_id if thread else f"t{len(self.posts)}")

    async def find_posted(
        self,
        channel_id: str,
        key: str,
        *,
        thread: StoryThread | None,
        since: datetime | None = None,
    ) -> Posted | None:
        self.lookups.append((key, since))
        if self.lookup_fail:
            raise self.lookup_fail.pop(0)
        return self.landed.get(key)

    async def update_card(self, thread: StoryThread, card: StoryCard) -> None:
        if self.card_fail:
            raise self.card_fail.pop(0)
        self.cards.append(thread.root_message_id)

    async def post_digest(
        self, channel_id: str, alerts: Sequence[Alert], *, idempotency_key: str
    ) -> Posted:
        self.digests.append(len(alerts))
        return Posted("d1")

    async def post_admin(
        self, channel_id: str, alert: AdminAlert, *, idempotency_key: str
    ) -> Posted:
        if self.admin_fail:
            raise self.admin_fail.pop(0)
        self.admin.append((channel_id, alert, idempotency_key))
        posted = Posted(f"a{len(self.admin)}")
        self.landed[idempotency_key] = posted
        return posted


async def drain(worker: DeliveryWorker) -> int:
    done = 0
    for d in await worker.claim(50):
        done += await worker.deliver(d)
    return done


async def test_worker_threads_retries_and_gives_up_on_gone_channels(
    uow_factory: UowFactory,
) -> None:
    clock = [NOW]
    transport = Recording()
    admin: list[AdminAlert] = []

    async def on_admin(alerts: Sequence[AdminAlert]) -> None:
        admin.extend(alerts)

    worker = DeliveryWorker(
        uow_factory, {"slack": transport}, owner="w", clock=lambda: clock[0], on_admin=on_admin
    )
    async with uow_factory() as uow:
        await uow.begin_write()
        await uow.subscriptions.save(Subscription(A, Target.ALL, created_at=NOW))
        await uow.commit()
    await queue(uow_factory, [alert(n=1), alert(n=2)], [A])
    transport.fail = [RateLimited(5), TransientFailure("503")]
    assert await drain(worker) == 0  # 429: due again in 5 s
    clock[0] += timedelta(seconds=5)
    assert await drain(worker) == 0  # 503: backs off 2 s
    clock[0] += timedelta(seconds=1)
    assert await drain(worker) == 0  # not yet
    clock[0] += timedelta(seconds=1)
    assert await drain(worker) == 1  # the first: a top-level post opening the thread
    assert await drain(worker) == 1  # the second: in the thread, then the card is edited
    assert [p[2] for p in transport.posts] == [None, "t1"]
    assert transport.cards == []  # no story row in this test: no card to show
    await queue(uow_factory, [alert("s2", n=3)], [A])
    transport.fail = [ChannelGone("channel_not_found")]
    assert await drain(worker) == 0
    assert len(admin) == 1 and "C1" in admin[0].message
    async with uow_factory() as uow:
        assert (await uow.subscriptions.for_channel(A))[0].paused_reason == "channel_not_found"
    # No admin channel was registered: the admin alert is stored, queued for nobody.
    assert await worker.send_admin() == 0 and transport.admin == []


async def lookup_marks(
    uow_factory: UowFactory, rows: type[DeliveryRow] | type[AdminDeliveryRow]
) -> list[tuple[str, bool]]:
    async with uow_factory() as uow:
        found = await uow.session.execute(select(rows.state, rows.lookup_refused).order_by(rows.id))
        return [(state, bool(refused)) for state, refused in found.all()]


async def admin_kinds(uow_factory: UowFactory) -> list[str]:
    async with uow_factory() as uow:
        return [a.kind.value for a in reversed(await uow.admin_alerts.recent(50))]


@pytest.mark.parametrize(
    "refusal",
    [
        MessageRejected("slack HTTP 200 missing_scope"),
        MessageRejected("slack HTTP 200 unknown_method"),
        ChannelGone("slack not_in_channel"),  # may post there, may not read it
        ValueError("an adapter's own surprise"),
    ],
    ids=["missing_scope", "unknown_method", "not_in_channel", "bug"],
)
async def test_a_refused_lookup_posts_anyway_marks_the_row_and_tells_admins_once(
    uow_factory: UowFactory, refusal: Exception
) -> None:
    clock = [NOW]
    transport = Recording()
    told: list[AdminAlert] = []

    async def on_admin(alerts: Sequence[AdminAlert]) -> None:
        told.extend(alerts)

    worker = DeliveryWorker(
        uow_factory, {"slack": transport}, owner="w", clock=lambda: clock[0], on_admin=on_admin
    )
    async with uow_factory() as uow:
        await uow.begin_write()
        await uow.subscriptions.save(Subscription(A, Target.ALL, created_at=NOW))
        await uow.commit()
    await queue(uow_factory, [alert("s1", n=1), alert("s2", n=2), alert("s3", n=3)], [A])
    # Three sends whose outcome is unknown (a 503 after the platform may have posted).
    transport.fail = [TransientFailure("503")] * 3
    assert await drain(worker) == 0
    clock[0] += timedelta(seconds=2)
    # The first look-up cannot be answered now: the row waits and looks again.
    transport.lookup_fail = [TransientFailure("slack HTTP 503"), refusal, refusal, refusal]
    assert await drain(worker) == 2
    assert [k for k, _ in transport.lookups[:3]] == [
        f"cw{n}-" + alert(f"s{n}", n=n).key[:12] for n in (1, 2, 3)
    ]
    assert all(since == NOW for _, since in transport.lookups)  # from the attempt's start
    clock[0] += timedelta(seconds=4)
    assert await drain(worker) == 1
    assert len(transport.posts) == 3  # every alert posted: none dropped for want of a look-up
    assert await lookup_marks(uow_factory, DeliveryRow) == [("sent", True)] * 3
    async with uow_factory() as uow:
        assert (await uow.subscriptions.for_channel(A))[0].active  # not taken for "gone"
    # Told once, however many alerts hit the refusal, and once more by no other worker.
    assert [a.kind for a in told] == [AdminKind.LOOKUP_REFUSED]
    assert "at least once" in told[0].message and "channels:history" in told[0].message
    other = DeliveryWorker(
        uow_factory, {"slack": transport}, owner="w2", clock=lambda: clock[0], on_admin=on_admin
    )
    await queue(uow_factory, [alert("s4", n=4)], [A])
    transport.fail = [TransientFailure("503")]
    assert await drain(other) == 0
    clock[0] += timedelta(seconds=2)
    transport.lookup_fail = [refusal]
    assert await drain(other) == 1
    assert len(told) == 1 and await admin_kinds(uow_factory) == ["lookup_refused"]


async def test_a_429_does_not_settle_an_earlier_uncertain_attempt(
    uow_factory: UowFactory,
) -> None:
    """A 429 on the look-up (or on the post after it) posted nothing, but the attempt
    before it may have: the row keeps looking before it posts."""
    clock = [NOW]
    transport = Recording()
    worker = DeliveryWorker(uow_factory, {"slack": transport}, owner="w", clock=lambda: clock[0])
    await queue(uow_factory, [alert("s1", n=1)], [A])
    transport.fail = [TransientFailure("503"), RateLimited(1)]
    assert await drain(worker) == 0  # uncertain now
    clock[0] += timedelta(seconds=2)
    transport.lookup_fail = [RateLimited(1)]
    assert await drain(worker) == 0  # the look-up was rate limited
    clock[0] += timedelta(seconds=2)
    assert await drain(worker) == 0  # looked (nothing), posted: 429
    clock[0] += timedelta(seconds=2)
    key = f"cw1-{alert('s1', n=1).key[:12]}"
    transport.landed[key] = Posted("m-landed", "t-landed")  # the first attempt had landed
    assert await drain(worker) == 1
    assert len(transport.lookups) == 3 and transport.posts == []


async def test_a_lookup_that_works_is_not_marked_and_finds_the_landed_post(
    uow_factory: UowFactory,
) -> None:
    clock = [NOW]
    transport = Recording()
    worker = DeliveryWorker(uow_factory, {"slack": transport}, owner="w", clock=lambda: clock[0])
    await queue(uow_factory, [alert("s1", n=1), alert("s2", n=2)], [A])
    transport.fail = [TransientFailure("503"), TransientFailure("503")]
    assert await drain(worker) == 0
    first = f"cw1-{alert('s1', n=1).key[:12]}"
    transport.landed[first] = Posted("m-landed", "t-landed")  # it had landed after all
    clock[0] += timedelta(seconds=2)
    assert await drain(worker) == 2
    assert len(transport.posts) == 1  # only the one that had not landed
    assert await lookup_marks(uow_factory, DeliveryRow) == [("sent", False)] * 2
    assert await admin_kinds(uow_factory) == []


async def test_a_card_edit_that_fails_any_way_is_one_line_and_the_alert_stays_sent(
    uow_factory: UowFactory, commands: Commands, caplog: pytest.LogCaptureFixture
) -> None:
    story = (await commands.suggest_stories(""))[0][0]
    transport = Recording()
    worker = DeliveryWorker(uow_factory, {"slack": transport}, owner="w", clock=lambda: NOW)
    await queue(uow_factory, [alert(story, n=n) for n in range(1, 5)], [A])
    transport.card_fail = [
        AttributeError("'str' object has no attribute 'get'"),
        TransientFailure("slack HTTP 503 (HTML body)"),
    ]
    for _ in range(4):  # the first opens the thread; each later one edits the card
        assert await drain(worker) == 1
    assert await lookup_marks(uow_factory, DeliveryRow) == [("sent", False)] * 4
    assert len(transport.cards) == 1  # the fourth alert's edit went through
    lines = [r for r in caplog.records if "not updated" in r.getMessage()]
    assert len(lines) == 2 and all(r.exc_info is None for r in lines)
    assert "AttributeError" in lines[0].getMessage() and "HTML body" in lines[1].getMessage()


async def test_a_refused_thread_is_told_once_and_follow_ups_go_in_the_channel(
    uow_factory: UowFactory,
) -> None:
    transport = Recording()
    transport.thread_refused = "HTTP 403 50013: Missing Permissions"
    worker = DeliveryWorker(uow_factory, {"slack": transport}, owner="w", clock=lambda: NOW)
    await queue(uow_factory, [alert("s1", n=1), alert("s2", n=2), alert("s1", n=3)], [A])
    assert await drain(worker) == 2
    assert await drain(worker) == 1
    assert [p[2] for p in transport.posts] == [None, None, None]  # all in the channel
    assert await admin_kinds(uow_factory) == ["threads_refused"]


# --- admin alerts through their own outbox ------------------------------------------------------


def failing(feed: str) -> AdminAlert:
    return AdminAlert(
        AdminKind.FEED_FAILING, Severity.MEDIUM, feed, f"feed {feed} is failing", NOW, "HTTP 500"
    )


async def raise_admin(uow_factory: UowFactory, *alerts: AdminAlert) -> list[bool]:
    async with uow_factory() as uow:
        await uow.begin_write()
        fresh = [await uow.admin_alerts.add(a) for a in alerts]
        await uow.commit()
    return fresh


async def test_admin_alerts_are_queued_per_admin_channel_and_claimed_in_order(
    uow_factory: UowFactory,
) -> None:
    admin_a, admin_b = Channel("slack", "CADMIN"), Channel("discord", "42")
    async with uow_factory() as uow:
        await uow.begin_write()
        assert await uow.admin_outbox.register_channels([admin_a, admin_b], NOW) == 0
        await uow.commit()
    first, second = failing("f1"), failing("f2")
    assert await raise_admin(uow_factory, first, second, first) == [True, True, False]

    async def claim_admin(owner: str, platforms: Sequence[str]) -> list[tuple[str, str]]:
        async with uow_factory() as uow:
            await uow.begin_write()
            got = await uow.admin_outbox.claim_due(
                now=NOW, owner=owner, lease=timedelta(minutes=1), limit=10, platforms=platforms
            )
            await uow.commit()
        return [(d.channel.id, d.alert.subject) for d in got]

    # One row per admin channel, each channel's oldest first; the next waits its turn.
    assert sorted(await claim_admin("w1", ["slack", "discord"])) == [
        ("42", "f1"),
        ("CADMIN", "f1"),
    ]
    assert await claim_admin("w2", ["slack", "discord"]) == []
    # Slack is no longer configured: its pending rows are dropped, not kept forever.
    async with uow_factory() as uow:
        await uow.begin_write()
        assert await uow.admin_outbox.register_channels([admin_b], NOW) == 2
        await uow.commit()
    await raise_admin(uow_factory, failing("f3"))
    async with uow_factory() as uow:
        assert await uow.admin_outbox.counts() == {"pending": 3, "dropped": 2}
        assert await uow.admin_outbox.release("w1") == 1


async def test_admin_alerts_wait_out_an_outage_and_are_not_posted_twice(
    uow_factory: UowFactory,
) -> None:
    clock = [NOW]
    transport = Recording()
    worker = DeliveryWorker(uow_factory, {"slack": transport}, owner="w", clock=lambda: clock[0])
    await worker.register_admin_channels()
    await raise_admin(uow_factory, failing("f1"), failing("f2"))

    # The platform is down: nothing is lost, the row backs off and waits.
    transport.admin_fail = [TransientFailure("503"), RateLimited(3)]
    assert await worker.send_admin() == 0
    assert await worker.send_admin() == 0  # backing off: not due yet
    clock[0] += timedelta(seconds=2)
    assert await worker.send_admin() == 0  # 429: due again in 3 s
    clock[0] += timedelta(seconds=3)
    assert await worker.send_admin() == 1  # the first ("f2" waits behind it)
    assert await worker.send_admin() == 1
    assert [(c, a.subject) for c, a, _ in transport.admin] == [("CADMIN", "f1"), ("CADMIN", "f2")]

    # A worker killed after its post landed: the next one finds the post, sends nothing.
    await raise_admin(uow_factory, failing("f3"))
    async with uow_factory() as uow:
        await uow.begin_write()
        [row] = await uow.admin_outbox.claim_due(
            now=clock[0], owner="dead", lease=timedelta(minutes=2), limit=5, platforms=["slack"]
        )
        await uow.commit()
    transport.landed[row.idempotency_key] = Posted("a-before-the-kill")
    assert await worker.send_admin() == 0  # still leased by the dead worker
    clock[0] += timedelta(minutes=2)
    assert await worker.send_admin() == 1
    assert len(transport.admin) == 2
    async with uow_factory() as uow:
        assert await uow.admin_outbox.counts() == {"sent": 3}

    # Killed again, and this time the admin channel's history may not be read: the
    # admin alert is posted anyway (maybe twice, never lost) and the row says so.
    await raise_admin(uow_factory, failing("f4"))
    async with uow_factory() as uow:
        await uow.begin_write()
        await uow.admin_outbox.claim_due(
            now=clock[0], owner="dead", lease=timedelta(minutes=2), limit=5, platforms=["slack"]
        )
        await uow.commit()
    clock[0] += timedelta(minutes=2)
    transport.lookup_fail = [MessageRejected("slack HTTP 200 missing_scope")]
    assert await worker.send_admin() == 1
    assert [a.subject for _, a, _ in transport.admin] == ["f1", "f2", "f4"]
    assert (await lookup_marks(uow_factory, AdminDeliveryRow))[3] == ("sent", True)
    assert "lookup_refused" in await admin_kinds(uow_factory)


# --- channel commands on the replayed seeds ----------------------------------------------------


@pytest.fixture
async def commands(uow_factory: UowFactory) -> Commands:
    ingest = Ingestor(uow_factory)
    for command in replay_commands(read_path(default_seeds_dir()).articles):
        await ingest(command)
    return Commands(uow_factory, FeedCatalog(uow_factory, CatalogConfig()), clock=lambda: NOW)


async def say(commands: Commands, line: str, *, admin: bool = False, channel: str = "C1") -> Reply:
    name, args = parse_command(line)
    return await commands.handle(
        CommandRequest(name, args, user="u1", channel=channel, is_admin=admin, platform="slack")
    )


async def test_subscribe_mute_digest_commands(commands: Commands, uow_factory: UowFactory) -> None:
    assert (await say(commands, "subscribe")).error  # admins only
    reply = await say(
        commands,
        "subscribe keyword turkish soldiers --types figure_rise --min-severity high",
        admin=True,
    )
    assert not reply.error and "keyword “turkish soldiers”" in reply.text
    assert "updated" in (await say(commands, "subscribe keyword turkish soldiers", admin=True)).text
    assert (await say(commands, "subscribe --types nonsense", admin=True)).error
    story = (await commands.suggest_stories(""))[0][0]
    listing = await say(commands, "subscriptions")
    assert "turkish soldiers" in listing.text
    assert "muted" in (await say(commands, f"mute {story} 2h")).text
    assert (await say(commands, "mute nosuch")).error
    assert "digest on" in (await say(commands, "digest on 30m", admin=True)).text
    listing = await say(commands, "subscriptions")
    assert any(f.name == "muted" for f in listing.fields) and any(
        f.name == "digest" for f in listing.fields
    )
    assert "unmuted" in (await say(commands, f"unmute {story}")).text
    assert (
        "unsubscribed"
        in (await say(commands, "unsubscribe keyword turkish soldiers", admin=True)).text
    )
    assert (await say(commands, "subscribe", admin=True, channel="")).error  # console: no channel
    chart = await commands.handle(CommandRequest("timeline", (story,), channel="C1"))
    assert chart.image is not None and chart.image.startswith(b"\x89PNG")
