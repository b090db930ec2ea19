"""Chat benchmarks against the local fakes: slash-command acknowledgement latency with
100 commands in flight, and alerts delivered per second with rate limits on.

The bots run in this process with the real discord.py / slack-bolt clients; the
fakes run in their own threads (own event loops), so what is measured is the bot's
loop answering while it is busy with the other 99 commands.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.bootstrap import build_app, build_commands
from bot.config import Settings
from bot.domain.delivery import Channel
from bot.service.delivery import DeliveryWorker
from bot.service.replay import SeedReplayer
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _deliver_all(worker: DeliveryWorker, expected: int, in_flight: int) -> float:
    started = time.perf_counter()
    while worker.sent < expected:
        batch = await worker.claim(in_flight)
        if not batch:
            await asyncio.sleep(0.02)
            continue
        await asyncio.gather(*(worker.deliver(d) for d in batch))
    return time.perf_counter() - started


async def _slack(tmp: Path, commands_n: int) -> dict[str, Any]:
    from adapters.slack_chat.bot import SlackBot

    async with FakeSlack(admins=("UADMIN",)) as fake:
        settings = Settings(seeds_dir=Settings().seeds_dir)
        app = await build_app(settings, db_url=f"sqlite+aiosqlite:///{tmp / 'slack.db'}")
        commands = build_commands(settings, app)
        bot = SlackBot(
            commands, bot_token=fake.bot_token, api_base=fake.api_base, app_token=fake.app_token
        )
        bot.start()
        await fake.wait_connected_async(10)
        channel = Channel("slack", fake.channel_ids["alerts"])
        report = await SeedReplayer(app.bus.handle, settings.seeds_dir)(channel)
        story = report.stories[0]
        sent = [fake.slash(f"story {story}", user_id="U1") for _ in range(commands_n)]
        for cmd in sent:
            await cmd.wait_acked_async(60)
            await cmd.wait_response_async(60)
        acks = [c.ack_seconds or 0.0 for c in sent]
        # Delivery: the replay queued 24 alerts for the channel; more alerts, fewer slots.
        fake.rate_limit(10, retry_after=1)
        worker = DeliveryWorker(app.uow_factory, {"slack": bot.transport}, owner="bench")
        elapsed = await _deliver_all(worker, report.alerts, in_flight=4)
        await bot.stop()
        await app.close()
        return {
            "commands": commands_n,
            "ack_p50_ms": _pct(acks, 0.5),
            "ack_p99_ms": _pct(acks, 0.99),
            "alerts": report.alerts,
            "alerts_per_s": report.alerts / elapsed,
            "rate_limited": sum(1 for r in fake.requests if r.status == 429),
        }


async def _discord(tmp: Path, commands_n: int) -> dict[str, Any]:
    from adapters.discord_chat.bot import DiscordBot, point_at

    with FakeDiscord() as fake:
        settings = Settings(seeds_dir=Settings().seeds_dir)
        app = await build_app(settings, db_url=f"sqlite+aiosqlite:///{tmp / 'discord.db'}")
        commands = build_commands(settings, app)
        point_at(fake.api_base, fake.gateway_url)
        bot = DiscordBot(commands, token=fake.token, guild_id=int(fake.guild_id))
        bot.start()
        await fake.wait_ready_async(30)
        await asyncio.sleep(0.5)  # the client's own READY handling (guild cache) after that
        channel = Channel("discord", fake.channel_ids["alerts"])
        report = await SeedReplayer(app.bus.handle, settings.seeds_dir)(channel)
        story = report.stories[0]
        sent = [
            fake.slash("claimwatch", "story", {"id": story}, channel_id=channel.id)
            for _ in range(commands_n)
        ]
        for inter in sent:
            await inter.wait_done_async(60)
        acks = [(i.callback_at or i.created_at) - i.created_at for i in sent]
        fake.rate_limit(10, retry_after=0.5)
        worker = DeliveryWorker(app.uow_factory, {"discord": bot.transport}, owner="bench")
        elapsed = await _deliver_all(worker, report.alerts, in_flight=4)
        await bot.stop()
        await app.close()
        return {
            "commands": commands_n,
            "ack_p50_ms": _pct(acks, 0.5),
            "ack_p99_ms": _pct(acks, 0.99),
            "late_acks": sum(1 for i in sent if i.rejected),
            "alerts": report.alerts,
            "alerts_per_s": report.alerts / elapsed,
            "rate_limited": sum(1 for r in fake.requests if r.status == 429),
        }


def run(commands_n: int = 100) -> dict[str, Any]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-chat-") as tmp:
        return {
            "slack": asyncio.run(_slack(Path(tmp), commands_n)),
            "discord": asyncio.run(_discord(Path(tmp), commands_n)),
        }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
