"""``claimwatch run`` against a local fake Discord (REST + gateway), real discord.py.

The bot is a subprocess started as an operator would; the test plays the users
(slash commands dispatched over the fake gateway) and reads the fake's channels.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.botproc import BotProcess
from tests.fakes.discord_server import FakeDiscord, Interaction, MessageRecord

MANAGE_GUILD = "32"
BLAST = json.dumps(
    {
        "title": "@everyone 5 killed",
        "outlet": "@here News",
        "text": (
            "At least 5 people were killed when a gas cylinder exploded in a crowded market "
            "in Lakeview on Monday, police chief Maria Okafor said @everyone @here <@&123> "
            "<@456> **bold** > quote. Rescue teams were still searching the rubble."
        ),
    }
)


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord(channels=("alerts", "general")) as running:
        yield running


def discord_env(fake: FakeDiscord, **extra: str) -> dict[str, str]:
    return {
        "CLAIMWATCH_ADAPTERS": "discord",
        "CLAIMWATCH_DISCORD_TOKEN": fake.token,
        "CLAIMWATCH_DISCORD_API_BASE": fake.api_base,
        "CLAIMWATCH_DISCORD_GATEWAY_URL": fake.gateway_url,
        "CLAIMWATCH_DISCORD_GUILD_ID": fake.guild_id,
        **extra,
    }


def run(
    fake: FakeDiscord,
    sub: str,
    values: dict[str, str] | None = None,
    *,
    admin: bool = True,
    roles: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> Interaction:
    done = fake.slash(
        "claimwatch",
        sub,
        values or {},
        permissions=MANAGE_GUILD if admin else "0",
        roles=roles,
        channel_id=fake.channel_ids["alerts"],
    ).wait_done(timeout)
    assert done.callback_type == 5, "every command is deferred first"
    return done


def answer_text(done: Interaction) -> str:
    parts: list[Any] = []
    if done.original is not None:
        parts += [done.original.content, done.original.embeds]
    for f in done.followups:
        parts += [f.content, f.embeds]
    return json.dumps(parts, ensure_ascii=False)


def alert_messages(fake: FakeDiscord) -> list[MessageRecord]:
    """The alerts the bot posted: in the alerts channel and in the story threads."""
    channels = [fake.channel_ids["alerts"], *(t.id for t in fake.threads())]
    return [
        m
        for c in channels
        for m in fake.messages(c)
        if m.payload.get("nonce") and m.interaction_id is None
    ]


def wait_registered(bot: BotProcess, fake: FakeDiscord) -> None:
    bot.wait_for(lambda: fake.registered_commands(fake.guild_id), 60, "command registration")
    bot.wait_for(fake.connected, 60, "the gateway")


def db_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_replay_story_timeline_admin_mentions_and_a_429_storm(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    env = discord_env(fake, CLAIMWATCH_DROP_DIR=str(drop), CLAIMWATCH_DISCORD_ADMIN_ROLES="Editors")
    with BotProcess(tmp_path, env) as bot:
        bot.start()
        wait_registered(bot, fake)
        names = {o["name"] for o in fake.registered_commands(fake.guild_id)[0]["options"]}
        assert {"story", "timeline", "subscribe", "feeds", "replay", "mute"} <= names

        assert "subscribed" in answer_text(run(fake, "subscribe"))

        # A rate-limit storm while the seed stream goes out: delayed, nothing lost or doubled.
        fake.rate_limit(25, retry_after=0.2)
        assert "replayed 5 demo articles" in answer_text(run(fake, "replay"))
        expected = db_rows(tmp_path / "chat.db", "SELECT count(*) FROM alerts")[0][0]
        assert expected >= 10  # the seed stream (its exact size is the extractor's business)
        bot.wait_for(lambda: len(alert_messages(fake)) >= expected, 90, "the seed alerts")
        posted = alert_messages(fake)
        nonces = [m.payload["nonce"] for m in posted]
        assert len(posted) == len(set(nonces)) == expected
        assert sum(1 for r in fake.requests if r.status == 429) == 25
        for m in posted:
            assert m.allowed_mentions == {"parse": []}
            assert m.embeds and m.embeds[0]["color"] in (0x95A5A6, 0xF1C40F, 0xE67E22, 0xE74C3C)

        # One story: its first message in the channel (edited into the card), a thread below.
        top = [m for m in fake.messages(fake.channel_ids["alerts"]) if m.payload.get("nonce")]
        assert len(top) == 1 and top[0].edits
        [thread] = fake.threads()
        assert thread.message_id == top[0].id
        assert len(fake.messages(thread.id)) == expected - 1
        card = json.dumps(top[0].embeds)
        story_id = db_rows(tmp_path / "chat.db", "SELECT story_id FROM alerts LIMIT 1")[0][0]
        assert story_id in card and "33" in card

        # Autocomplete offers the story id; `story` answers with lineage, conflict, speakers.
        choices = fake.autocomplete("claimwatch", "story", "id", story_id[:2]).wait_done(10)
        assert story_id in [c["value"] for c in choices.choices]
        text = answer_text(run(fake, "story", {"id": story_id}, admin=False))
        assert "9 → 22 → 29 → 33" in text
        assert "open conflict" in text and "34" in text
        assert "Rahmi Dogan" in text and "Erdogan" in text

        # timeline: a PNG attachment on the answer.
        done = run(fake, "timeline", {"id": story_id}, admin=False)
        assert done.original is not None
        [png] = done.original.attachments
        (tmp_path / "timeline.png").write_bytes(png["bytes"])
        assert png["filename"].endswith(".png") and png["bytes"].startswith(b"\x89PNG")

        # Non-admins cannot add feeds; the refusal is shown to them only.
        done = run(
            fake, "feeds", {"action": "add", "target": "https://example.org/f.xml"}, admin=False
        )
        assert "only admins" in answer_text(done)
        assert all(f.ephemeral for f in done.followups)
        assert db_rows(tmp_path / "chat.db", "SELECT count(*) FROM feeds")[0][0] == 0
        # Without Manage Server, the configured admin role is enough.
        url = "https://example.org/f.xml"
        done = run(fake, "feeds", {"action": "add", "target": url}, admin=False, roles=("Editors",))
        assert "added" in answer_text(done)
        [(feed_id,)] = db_rows(tmp_path / "chat.db", "SELECT id FROM feeds")
        done = run(
            fake, "feeds", {"action": "remove", "target": feed_id}, admin=False, roles=("Editors",)
        )
        assert "removed" in answer_text(done)
        assert db_rows(tmp_path / "chat.db", "SELECT count(*) FROM feeds")[0][0] == 0

        # "@everyone 5 killed" pings nobody.
        drop.mkdir(exist_ok=True)
        (drop / "blast.json").write_text(BLAST, "utf-8")

        def blast() -> MessageRecord | None:
            found = [
                m
                for m in fake.messages(fake.channel_ids["alerts"])
                if "5 killed" in json.dumps(m.embeds, ensure_ascii=False)
            ]
            return found[0] if found else None

        bot.wait_for(blast, 30, "the blast alert")
        message = blast()
        assert message is not None
        assert message.allowed_mentions == {"parse": []}
        rendered = json.dumps([message.content, message.embeds], ensure_ascii=False)
        assert "@everyone" not in rendered and "@here" not in rendered
        assert "<@&123>" not in rendered and "<@456>" not in rendered
        assert "@\u200beveryone 5 killed" in message.embeds[0]["title"]

        assert bot.stop() == 0
    log = bot.output()
    assert "Traceback" not in log
    assert fake.token not in log


def test_outage_and_a_kill_mid_delivery_lose_and_duplicate_nothing(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    with BotProcess(tmp_path, discord_env(fake)) as bot:
        bot.start()
        wait_registered(bot, fake)
        assert "subscribed" in answer_text(run(fake, "subscribe"))
        assert "replayed" in answer_text(run(fake, "replay"))
        bot.wait_for(lambda: len(alert_messages(fake)) >= 2, 60, "the first alerts")
        # The next post lands, but its answer never reaches the bot: it is killed first.
        fake.hold_responses(1, 30)
        landed = len(alert_messages(fake))
        bot.wait_for(lambda: len(alert_messages(fake)) > landed, 30, "a held post")
        bot.kill()
        in_doubt = db_rows(
            tmp_path / "chat.db",
            "SELECT count(*) FROM deliveries WHERE state = 'pending' "
            "AND attempt_started_at IS NOT NULL",
        )[0][0]
        assert in_doubt >= 1, "the killed bot left a send whose outcome it never learned"

        # A 60-second outage: every post and edit answers 503 meanwhile.
        fake.outage(60, status=503)
        bot.start()
        expected = db_rows(tmp_path / "chat.db", "SELECT count(*) FROM alerts")[0][0]
        bot.wait_for(
            lambda: len(alert_messages(fake)) >= expected, 150, "delivery after the outage"
        )
        posted = alert_messages(fake)
        nonces = [m.payload["nonce"] for m in posted]
        assert len(posted) == len(set(nonces)) == expected
        # The restarted bot looked for the post it was unsure about and found it (by
        # the key in its footer), so it did not even need Discord's nonce check.
        looked = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/messages")]
        assert looked, "the uncertain send was looked for before posting again"
        assert sum(1 for r in fake.requests if r.status == 503) > 0
        states = db_rows(tmp_path / "chat.db", "SELECT state, count(*) FROM deliveries GROUP BY 1")
        assert states == [("sent", expected)]
        assert bot.stop() == 0
    assert "Traceback" not in bot.output()


def test_a_deleted_channel_pauses_its_subscription_and_tells_admins(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    admin_channel = fake.channel_ids["general"]
    env = discord_env(fake, CLAIMWATCH_DISCORD_ADMIN_CHANNEL=admin_channel)
    with BotProcess(tmp_path, env) as bot:
        bot.start()
        wait_registered(bot, fake)
        assert "subscribed" in answer_text(run(fake, "subscribe"))
        fake.delete_channel(fake.channel_ids["alerts"])
        run(fake, "replay")
        bot.wait_for(
            lambda: any(
                "channel_gone" in json.dumps(m.embeds) for m in fake.messages(admin_channel)
            ),
            60,
            "the admin alert",
        )
        subs = db_rows(tmp_path / "chat.db", "SELECT paused_reason FROM subscriptions")
        assert subs and subs[0][0] and "404" in subs[0][0]
        states = dict(
            db_rows(tmp_path / "chat.db", "SELECT state, count(*) FROM deliveries GROUP BY 1")
        )
        # Queued rows are dropped; alerts raised after that are not queued for it at all.
        assert set(states) == {"dropped"}
        assert db_rows(tmp_path / "chat.db", "SELECT count(*) FROM alerts")[0][0] >= 10
        # The sender works over REST only (workers hold no gateway cache), so it looks
        # the channel up first: the refusal may come there or at the post, once.
        gone = fake.channel_ids["alerts"]
        refused = sum(1 for r in fake.requests if f"/channels/{gone}" in r.path and r.status == 404)
        assert refused == 1, "one refused request, not a retry loop"
        assert bot.stop() == 0
