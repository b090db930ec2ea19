"""Alert-only mode: ``claimwatch run`` posting to a Discord webhook and a Slack incoming webhook."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from adapters.webhooks import WEBHOOK_CHANNEL, DiscordWebhookTransport, SlackWebhookTransport
from bot.ports import MessageRejected
from tests.botproc import BotProcess
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack

ARTICLE = json.dumps(
    {
        "title": "@everyone 5 killed",
        "outlet": "Lakeview Courier",
        "text": (
            "At least 5 people were killed when a gas cylinder exploded in a crowded market "
            "in Lakeview on Monday, police chief Maria Okafor said. <!channel> @here"
        ),
    }
)


def test_webhooks_get_alerts_through_the_outbox(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    with FakeDiscord() as discord_fake, FakeSlack() as slack_fake:
        env = {
            "CLAIMWATCH_ADAPTERS": "console",
            "CLAIMWATCH_DISCORD_WEBHOOK_URL": discord_fake.webhook_url,
            "CLAIMWATCH_SLACK_WEBHOOK_URL": slack_fake.webhook_url,
            "CLAIMWATCH_DROP_DIR": str(drop),
        }
        with BotProcess(tmp_path, env) as bot:
            bot.start()
            bot.wait_for(drop.exists, 30, "the drop folder")
            discord_fake.rate_limit(2, retry_after=0.2)
            slack_fake.rate_limit(1, retry_after=1)
            (drop / "blast.json").write_text(ARTICLE, "utf-8")
            alerts_d = discord_fake.webhook_channel_id
            alerts_s = slack_fake.channel_ids["alerts"]
            bot.wait_for(lambda: discord_fake.messages(alerts_d), 30, "the discord webhook")
            bot.wait_for(lambda: slack_fake.messages(alerts_s), 30, "the slack webhook")
            time.sleep(1.0)  # time for anything that would arrive twice
            assert bot.stop() == 0
        with sqlite3.connect(tmp_path / "chat.db") as conn:
            raised = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
        assert raised >= 1
        # Each alert once on each webhook, 429s notwithstanding.
        assert len(discord_fake.messages(alerts_d)) == len(slack_fake.messages(alerts_s)) == raised
        for d in discord_fake.messages(alerts_d):
            assert d.via_webhook and d.allowed_mentions == {"parse": []}
            assert "@everyone" not in json.dumps(d.embeds, ensure_ascii=False)
        for s in slack_fake.messages(alerts_s):
            assert s.via_webhook and "<!channel>" not in (s.text or "")
        assert "Traceback" not in bot.output()
        assert discord_fake.webhook_token not in bot.output()


async def test_a_webhook_lookup_is_a_refusal_so_a_resend_is_marked_at_least_once() -> None:
    """A webhook cannot be read back: after an uncertain attempt the worker is told "refused"
    (not "not there"), posts again and marks the row (see test_delivery for the worker)."""
    for transport in (
        DiscordWebhookTransport("http://127.0.0.1:9/hook"),
        SlackWebhookTransport("http://127.0.0.1:9/hook"),
    ):
        with pytest.raises(MessageRejected, match="cannot be read back"):
            await transport.find_posted(WEBHOOK_CHANNEL, "cw1-k", thread=None)
        await transport.aclose()
