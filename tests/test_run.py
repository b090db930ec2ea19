"""The running bot end to end: feeds on a local HTTP server, the drop folder, restarts.

Everything is real: the scheduler, the HTTP client talking to a server on 127.0.0.1,
watchdog on a temporary folder, the database. ``claimwatch run`` itself is started as
a subprocess and must print alerts as they happen and stop cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.bootstrap import App, build_app, build_runner, feed_catalog
from bot.config import Settings
from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert, AlertType
from tests.localhttp import LoopbackServer, MiniServer, Request, respond

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC).replace(microsecond=0)

QUAKE = (
    "At least {n} people were killed when a magnitude 6.4 earthquake struck the mountain "
    "province of Herat on Saturday, the provincial disaster agency said. Rescue teams were "
    "digging through collapsed mud-brick homes in the villages around Zinda Jan."
)
FERRY = (
    "At least 14 people drowned when an overloaded ferry capsized on the Meghna river near "
    "Chandpur on Saturday, district police chief Anwar Hossain said. Divers were searching for "
    "dozens of passengers still missing."
)
OLD = (
    "At least 9 people were killed in a landslide that buried a road near Kandy last week, "
    "officials from the Disaster Management Centre said. Army units cleared the debris."
)


def rss(items: Sequence[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 document; items are (guid, title, text)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
        "<title>Local Wire</title><link>https://wire.example/</link>",
    ]
    for guid, title, text in items:
        parts.append(
            f"<item><guid>{guid}</guid><title>{title}</title>"
            f"<pubDate>{format_datetime(NOW)}</pubDate>"
            f"<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
            f"<![CDATA[<p>{text}</p>]]></content:encoded></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class FeedServer(MiniServer):
    """Serves ``/feed.xml`` with whatever ``body`` currently is; counts polls."""

    def __init__(self) -> None:
        super().__init__()
        self.body = rss([])
        self.routes["/feed.xml"] = self._feed

    async def _feed(self, request: Request, writer: asyncio.StreamWriter) -> None:
        await respond(writer, 200, self.body, {"Content-Type": "application/rss+xml"})

    def polls(self) -> int:
        return sum(1 for r in self.requests if r.path == "/feed.xml")


class Recorder:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.admin: list[AdminAlert] = []

    async def publish(self, alerts: Sequence[Alert]) -> None:
        self.alerts.extend(alerts)

    async def publish_admin(self, alerts: Sequence[AdminAlert]) -> None:
        self.admin.extend(alerts)


async def eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FeedServer]:
    srv = FeedServer()
    await srv.start()
    yield srv
    await srv.stop()


def settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        db_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        drop_dir=tmp_path / "drop",
        allow_private_urls=True,
        min_feed_interval_s=0.1,
        poll_tick_s=0.1,
        drop_poll_interval_s=0.5,
        fetch_timeout_s=5.0,
        full_text=False,
        **extra,
    )


class Bot:
    """``claimwatch run`` in-process: the same composition root, a recording sink."""

    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg
        self.sink = Recorder()
        self.app: App | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Bot:
        self.app = await build_app(self.cfg, sinks=[self.sink])
        self.running = build_runner(self.cfg, self.app)
        self._task = asyncio.create_task(self.running.runner.run())
        await asyncio.wait_for(self.running.runner.wait_started(), 10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.running.runner.stop()
        assert self._task is not None
        await asyncio.wait_for(self._task, 20)
        await self.running.close()
        assert self.app is not None
        await self.app.close()


async def test_running_bot_feeds_drop_folder_and_restart(
    server: FeedServer, tmp_path: Path
) -> None:
    cfg = settings(tmp_path)
    drop = tmp_path / "drop"
    server.body = rss([("landslide-1", "Landslide near Kandy", OLD)])
    async with Bot(cfg) as bot:
        assert bot.app is not None
        feed = await feed_catalog(cfg, bot.app).add(server.url("/feed.xml"), interval_s=0.2)
        # First fetch: the backlog is stored without a single alert.
        await eventually(lambda: server.polls() >= 2)
        assert bot.sink.alerts == []
        # A new item, then an edit of its toll: alerts as they happen.
        server.body = rss(
            [("quake-1", "Herat earthquake", QUAKE.format(n=22)), ("landslide-1", "Landslide", OLD)]
        )
        await eventually(lambda: any(a.type is AlertType.NEW_STORY for a in bot.sink.alerts))
        server.body = rss(
            [("quake-1", "Herat earthquake", QUAKE.format(n=29)), ("landslide-1", "Landslide", OLD)]
        )
        await eventually(lambda: any(a.type is AlertType.FIGURE_RISE for a in bot.sink.alerts))
        kinds = [a.type for a in bot.sink.alerts]
        assert kinds.count(AlertType.NEW_STORY) == 1
        assert AlertType.ARTICLE_REVISED in kinds
        rise = next(a for a in bot.sink.alerts if a.type is AlertType.FIGURE_RISE)
        assert (rise.previous, rise.value) == (22, 29)

        # A file dropped while running is ingested and filed; a binary one is quarantined.
        (drop / "ferry.txt").write_text("Ferry capsizes on the Meghna\n\n" + FERRY, "utf-8")
        (drop / "photo.txt").write_bytes(bytes(range(256)) * 8)
        await eventually(lambda: (drop / "processed" / "ferry.txt").exists())
        await eventually(lambda: (drop / "failed" / "photo.txt").exists())
        reason = (drop / "failed" / "photo.txt.reason").read_text("utf-8")
        assert "binary" in reason
        await eventually(lambda: any(a.article_id == "file:ferry.txt" for a in bot.sink.alerts))
        before_restart = len(bot.sink.alerts)
    assert before_restart >= 4

    # Restart on the same database and folder: polls go on, nothing is alerted again.
    polls = server.polls()
    async with Bot(cfg) as again:
        await eventually(lambda: server.polls() >= polls + 3)
        await asyncio.sleep(0.3)
        assert again.sink.alerts == []
        assert again.app is not None
        async with again.app.uow_factory() as uow:
            health = await uow.feeds.get(feed.id)
        assert health is not None and health.failures == 0 and health.items_seen == 2
        assert health.last_success_at is not None and health.next_poll_at > health.last_success_at
    assert sorted(p.name for p in (drop / "processed").iterdir()) == ["ferry.txt"]
    assert [p.name for p in drop.iterdir() if p.is_file()] == []


async def test_shutdown_releases_leases_for_the_next_start(
    server: FeedServer, tmp_path: Path
) -> None:
    cfg = settings(tmp_path)
    async with Bot(cfg) as bot:
        assert bot.app is not None
        await feed_catalog(cfg, bot.app).add(server.url("/feed.xml"), interval_s=60)
        await eventually(lambda: server.polls() >= 1)
    app = await build_app(cfg)
    try:
        async with app.uow_factory() as uow:
            feeds = await uow.feeds.all()
    finally:
        await app.close()
    assert len(feeds) == 1 and feeds[0].lease_owner is None and feeds[0].primed


# --- the real command, as a process ------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def threaded_server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"body": rss([])})
    with LoopbackServer(handler) as httpd:
        yield f"http://127.0.0.1:{httpd.port}/feed.xml", handler


def test_claimwatch_run_prints_alerts_as_they_happen(
    tmp_path: Path, threaded_server: tuple[str, type[_Handler]]
) -> None:
    url, handler = threaded_server
    env = {
        **os.environ,
        "CLAIMWATCH_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "CLAIMWATCH_ALLOW_PRIVATE_URLS": "true",
        "CLAIMWATCH_MIN_FEED_INTERVAL_S": "0.1",
        "CLAIMWATCH_POLL_TICK_S": "0.1",
        "CLAIMWATCH_FULL_TEXT": "false",
        "CLAIMWATCH_LOG_LEVEL": "WARNING",
    }
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feed]]\nurl = "{url}"\ninterval = 0.2\n', "utf-8")
    drop = tmp_path / "drop"
    cmd = [sys.executable, "-m", "bot.cli", "run", "--format", "jsonl"]
    cmd += ["--drop-dir", str(drop), "--feeds-file", str(feeds)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[dict[str, Any]] = []
    reader = threading.Thread(
        target=lambda: lines.extend(json.loads(line) for line in proc.stdout or []), daemon=True
    )
    reader.start()
    try:

        def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
            deadline = time.monotonic() + timeout
            while not check():
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, f"timed out; got {lines}"
                time.sleep(0.05)

        wait_for(drop.exists)
        time.sleep(1.0)  # the first (empty) fetch primes the feed
        handler.body = rss([("quake-1", "Herat earthquake", QUAKE.format(n=22))])
        wait_for(lambda: any(x["type"] == "new_story" for x in lines))
        (drop / "ferry.txt").write_text("Ferry capsizes on the Meghna\n\n" + FERRY, "utf-8")
        wait_for(lambda: any(x["article"] == "file:ferry.txt" for x in lines))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        reader.join(5)
    assert code == 0
    new_story = next(x for x in lines if x["type"] == "new_story")
    assert new_story["value"] == 22 and new_story["outlet"] == "Local Wire"
    assert "Herat" in new_story["sentence"]
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in stderr
