"""``claimwatch run`` against a local fake Slack (Web API + Socket Mode), real slack-bolt/sdk.

The bot runs as a subprocess exactly as an operator starts it; the test plays the
users (slash commands over the Socket Mode websocket) and reads what landed in
the fake's channels.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.botproc import BotProcess
from tests.fakes.slack_server import FakeSlack, Message

ADMIN = "UADMIN"
MENTION_ARTICLE = json.dumps(
    {
        "title": "@everyone 5 killed",
        "outlet": "@here News <!channel>",
        "text": (
            "At least 5 people were killed when a gas cylinder exploded in a crowded market "
            "in Lakeview on Monday, police chief Maria Okafor said <!channel> <!here> "
            "<@U999> <!everyone> *bold* `code`. Rescue teams were still searching the rubble."
        ),
    }
)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(channels=("alerts", "general"), admins=(ADMIN,)) as running:
        yield running


def slack_env(fake: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        "CLAIMWATCH_ADAPTERS": "slack",
        "CLAIMWATCH_SLACK_BOT_TOKEN": fake.bot_token,
        "CLAIMWATCH_SLACK_APP_TOKEN": fake.app_token,
        "CLAIMWATCH_SLACK_API_BASE": fake.api_base,
        **extra,
    }


def alert_messages(fake: FakeSlack, channel: str) -> list[Message]:
    """Every alert the bot posted in ``channel``: top-level messages and thread replies."""
    out = []
    for top in fake.messages(channel):
        if top.subtype == "file_share":
            continue
        out.append(top)
        out.extend(r for r in top.replies if r.subtype != "file_share")
    return [m for m in out if (m.params or {}).get("metadata")]


def delivery_key(message: Message) -> str:
    meta = message.params["metadata"]
    if isinstance(meta, str):
        meta = json.loads(meta)
    return str(meta["event_payload"]["key"])


def ask(fake: FakeSlack, text: str, user: str = ADMIN, timeout: float = 30.0) -> dict[str, Any]:
    cmd = fake.slash(text, user_id=user)
    cmd.wait_acked(timeout)
    return cmd.wait_response(timeout)[0]


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_replay_story_timeline_admin_and_mentions(fake: FakeSlack, tmp_path: Path) -> None:
    alerts = fake.channel_ids["alerts"]
    drop = tmp_path / "drop"
    env = slack_env(fake, CLAIMWATCH_DROP_DIR=str(drop), CLAIMWATCH_SLACK_ADMIN_USERS="U2, U3")
    with BotProcess(tmp_path, env) as bot:
        bot.start()
        bot.wait_for(lambda: fake.connection_count >= 1, what="the socket mode connection")

        # Slash commands are acknowledged at once, then answered.
        answer = ask(fake, "subscribe")
        assert "subscribed" in answer["text"], answer

        answer = ask(fake, "replay seeds")
        assert "replayed 5 demo articles" in answer["text"], answer
        story_id = rows(tmp_path / "chat.db", "SELECT story_id FROM alerts LIMIT 1")[0][0]
        expected = rows(tmp_path / "chat.db", "SELECT count(*) FROM alerts")[0][0]
        assert expected >= 10  # the seed stream (its exact size is the extractor's business)
        bot.wait_for(
            lambda: len(alert_messages(fake, alerts)) >= expected, 60, "the seed alert stream"
        )
        posted = alert_messages(fake, alerts)
        keys = [delivery_key(m) for m in posted]
        assert len(keys) == len(set(keys)) == expected  # every alert once, none twice

        # One story → one top-level message (edited into the card), the rest in its thread.
        top = [m for m in fake.messages(alerts) if m.subtype != "file_share"]
        assert len(top) == 1
        root = top[0]
        assert len(root.replies) == expected - 1
        assert root.edits, "the story's first message is updated in place"
        card = " ".join(str(b) for b in root.blocks or [])
        assert "33" in card and story_id in card
        # Alerts arrive in the order they were raised.
        sent_order = [
            r[0]
            for r in rows(
                tmp_path / "chat.db",
                "SELECT d.id FROM deliveries d JOIN alerts a ON a.key = d.alert_key ORDER BY a.seq",
            )
        ]
        assert sent_order == sorted(sent_order)
        assert [int(k[2:].split("-")[0]) for k in keys] == sorted(sent_order)

        # story ID: lineage, the open conflict, the speakers.
        answer = ask(fake, f"story {story_id}", user="U1")
        text = str(answer.get("blocks")) + answer["text"]
        assert "9 → 22 → 29 → 33" in text
        assert "open conflict" in text and "34" in text
        assert "Rahmi Dogan" in text and "Erdogan" in text

        # timeline ID: a PNG uploaded to the channel with the files v2 flow.
        cmd = fake.slash(f"timeline {story_id}", user_id="U1")
        cmd.wait_acked(10)
        fake.wait_for(lambda: fake.files(), 60)
        chart = fake.files()[0]
        assert chart.data.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.data) > 10_000
        assert chart.channel == alerts
        (tmp_path / "timeline.png").write_bytes(chart.data)

        # A non-admin cannot add a feed (and nothing is added).
        answer = ask(fake, "feeds add https://example.org/feed.xml", user="U1")
        assert "only admins" in answer["text"]
        assert answer.get("response_type") == "ephemeral"
        assert rows(tmp_path / "chat.db", "SELECT count(*) FROM feeds")[0][0] == 0
        # Not a workspace admin, but on the configured list: allowed.
        answer = ask(fake, "feeds add https://example.org/feed.xml", user="U2")
        assert "added" in answer["text"], answer
        [(feed_id,)] = rows(tmp_path / "chat.db", "SELECT id FROM feeds")
        assert "removed" in ask(fake, f"feeds remove {feed_id}", user="U2")["text"]

        # Untrusted text never pings: "@everyone 5 killed", <!channel>, <!here>, <@U999>.
        drop.mkdir(exist_ok=True)
        (drop / "blast.json").write_text(MENTION_ARTICLE, "utf-8")

        def blast_alert() -> Message | None:
            return next((m for m in fake.messages(alerts) if "5 killed" in str(m.blocks)), None)

        bot.wait_for(blast_alert, 30, "the blast alert")
        blast = blast_alert()
        assert blast is not None
        for piece in _mrkdwn_pieces(blast):
            assert "<!" not in piece and "<@" not in piece, piece
        header = blast.blocks[0]["text"] if blast.blocks else {}
        assert header["type"] == "plain_text" and "@everyone 5 killed" in header["text"]

        assert bot.stop() == 0
    log = bot.output()
    assert "Traceback" not in log
    assert fake.bot_token not in log and fake.app_token not in log


def _mrkdwn_pieces(message: Message) -> list[str]:
    """The parts Slack parses for mentions: ``text`` and every mrkdwn object in the blocks."""
    pieces = [message.text or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                pieces.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.blocks or [])
    return pieces


def test_http_mode_rejects_bad_and_stale_signatures(fake: FakeSlack, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = slack_env(
        fake,
        CLAIMWATCH_SLACK_MODE="http",
        CLAIMWATCH_SLACK_SIGNING_SECRET=fake.signing_secret,
        CLAIMWATCH_HTTP_PORT=str(port),
    )
    url = f"http://127.0.0.1:{port}/slack/events"
    with BotProcess(tmp_path, env) as bot:
        bot.start()
        cmd = fake.prepare_slash("help", user_id="U1")

        def up() -> bool:
            try:
                status, _ = fake.signed_request(url, cmd.form_body, bad=True)
            except Exception:
                return False
            return status == 401

        bot.wait_for(up, 30, "the HTTP listener")
        status, _ = fake.signed_request(url, cmd.form_body)
        assert status == 200
        assert "claimwatch commands" in cmd.wait_response(10)[0]["text"]
        status, _ = fake.signed_request(url, cmd.form_body, bad=True)
        assert status == 401
        status, _ = fake.signed_request(url, cmd.form_body, timestamp=int(time.time()) - 600)
        assert status == 401
        assert bot.stop() == 0
    assert fake.signing_secret not in bot.output()


def test_missing_settings_are_one_clear_startup_error(tmp_path: Path) -> None:
    env = {"CLAIMWATCH_ADAPTERS": "slack,discord", "CLAIMWATCH_SLACK_MODE": "socket"}
    with BotProcess(tmp_path, env) as bot:
        bot.start()
        assert bot.proc is not None
        assert bot.proc.wait(timeout=60) == 2
    out = bot.output()
    assert "CLAIMWATCH_SLACK_BOT_TOKEN" in out and "CLAIMWATCH_DISCORD_TOKEN" in out
    assert "Traceback" not in out


def test_429_storm_outage_and_kill_mid_delivery_lose_and_duplicate_nothing(
    fake: FakeSlack, tmp_path: Path
) -> None:
    alerts, admin = fake.channel_ids["alerts"], fake.channel_ids["general"]
    # Alerts held up for 20 s make the deployment unhealthy: the outage below raises an
    # admin alert while Slack cannot take it, and it must arrive all the same.
    env = slack_env(
        fake,
        CLAIMWATCH_SLACK_ADMIN_CHANNEL=admin,
        CLAIMWATCH_MAX_DELIVERY_LAG_S="20",
        CLAIMWATCH_HEALTH_TICK_S="2",
    )
    with BotProcess(tmp_path, env) as bot:
        bot.start()
        bot.wait_for(lambda: fake.connection_count >= 1, what="the socket mode connection")
        assert "subscribed" in ask(fake, "subscribe")["text"]
        fake.rate_limit(12, retry_after=1)  # a storm of 429s with Retry-After
        assert "replayed" in ask(fake, "replay seeds")["text"]
        bot.wait_for(lambda: len(alert_messages(fake, alerts)) >= 3, 60, "the first alerts")
        # The next post lands, but its answer never reaches the bot: it is killed first.
        fake.hold_responses(1, 30)
        landed = len(alert_messages(fake, alerts))
        bot.wait_for(lambda: len(alert_messages(fake, alerts)) > landed, 30, "a held post")
        bot.kill()

        fake.outage(60, status=503)
        bot.start()
        expected = rows(tmp_path / "chat.db", "SELECT count(*) FROM alerts")[0][0]
        bot.wait_for(lambda: len(alert_messages(fake, alerts)) >= expected, 150, "all alerts")
        keys = [delivery_key(m) for m in alert_messages(fake, alerts)]
        assert len(keys) == len(set(keys)) == expected
        ratelimited = [r for r in fake.requests if r.status == 429]
        unavailable = [r for r in fake.requests if r.status == 503]
        assert len(ratelimited) == 12 and unavailable
        # The restarted bot looked for the post it was unsure about before sending again.
        assert fake.calls("conversations.replies") or fake.calls("conversations.history")
        states = rows(tmp_path / "chat.db", "SELECT state, count(*) FROM deliveries GROUP BY 1")
        assert states == [("sent", expected)]

        # The admin alerts raised during the outage: each once, in order, none lost.
        def admin_kinds() -> list[str]:
            return [m.text.split(")")[0] for m in alert_messages(fake, admin)]

        bot.wait_for(
            lambda: "Admin (healthy_again" in admin_kinds(), 60, "the healthy-again admin alert"
        )
        assert admin_kinds() == ["Admin (unhealthy", "Admin (healthy_again"]
        admin_keys = [delivery_key(m) for m in alert_messages(fake, admin)]
        assert len(set(admin_keys)) == 2 and all(k.startswith("cwa") for k in admin_keys)
        raised_during_outage = rows(
            tmp_path / "chat.db",
            "SELECT count(*) FROM admin_deliveries WHERE attempts > 1 AND state = 'sent'",
        )[0][0]
        assert raised_during_outage >= 1, "the unhealthy alert waited out the outage"
        assert bot.stop() == 0
    assert "Traceback" not in bot.output()
