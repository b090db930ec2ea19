"""End-to-end replay throughput into SQLite: read → extract → group → detect → store."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.corpus import variants
from bot.bootstrap import build_app
from bot.config import Settings
from bot.service.replay import replay_commands


async def _run(n: int) -> dict[str, float]:
    articles = variants(n)
    with tempfile.TemporaryDirectory() as tmp:
        app = await build_app(Settings(), db_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            t0 = time.perf_counter()
            alerts = 0
            for cmd in replay_commands(articles):
                alerts += len((await app.bus.handle(cmd)).alerts)
            elapsed = time.perf_counter() - t0
            t1 = time.perf_counter()
            for cmd in replay_commands(articles):
                await app.bus.handle(cmd)
            again = time.perf_counter() - t1
        finally:
            await app.close()
    return {
        "articles": n,
        "seconds": elapsed,
        "articles_per_s": n / elapsed,
        "alerts": alerts,
        "second_replay_articles_per_s": n / again,
    }


def run(n: int = 500) -> dict[str, float]:
    return asyncio.run(_run(n))
