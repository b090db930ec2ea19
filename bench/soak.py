"""A compressed-time soak: one ``claimwatch run`` for ``SOAK_MINUTES`` (default 10).

Issue 5: "a compressed-time soak (fast intervals, many feeds, many alerts, some failing
feeds and an intermittently failing chat fake) for at least 10 minutes in a benchmark
run: memory flat, no task or connection leaks, no growth of pending deliveries."

What runs:

* the bot: one ``claimwatch run`` subprocess (role ``all``) on **SQLite**, with Slack
  enabled against ``tests.fakes.slack_server.FakeSlack`` (Socket Mode plus Web API), one
  channel subscribed to every story, an admin channel for the feed and health alerts,
  ``CLAIMWATCH_METRICS_PORT`` set. SQLite because this is the deployment the README gives
  for "a desk with a few hundred feeds" (one process, the default database), so the only
  process whose memory, descriptors and tasks are measured is the bot itself; a server
  database would add a second process with its own memory and connection pool to watch.
  The several-workers-on-PostgreSQL deployment is ``bench.ingest_workers`` and
  ``tests/test_scale.py``.
* fast intervals: every feed every 4 s (±10 % jitter), poll tick 0.2 s, no full-text
  fetches or page re-checks, failures backing off from 2 s up to 30 s and never disabled
  (``CLAIMWATCH_DISABLE_AFTER=0``), so the failing feeds fail all along;
* a feed farm on 127.0.0.1 (threads, HTTP/1.1 keep-alive, ETag/304) of 300 feeds:
  240 quiet ones (one old item, then 304 for ever), 30 news feeds that each publish an
  item every 12 s with a rising toll, and every 8 items move on to another event (many
  ``new_story`` and ``figure_rise`` alerts), and 30 failing ones: 10 answer 500, 8 hang
  past the 2 s fetch deadline, 7 send garbage bytes, 5 flap (503 every other minute, so
  they go failing and come back, each time with an admin alert). The reports are
  ``bench.feedserver.news_item`` texts (another town, kind of event, victims and source
  for each story) with the toll replaced: reports that share their wording and differ
  only in the town are grouped into one story by the bot, and then raise few alerts;
* the chat fails intermittently: a burst of 6 × 429 (``Retry-After: 1``) every 45 s and a
  5 s 503 outage every 100 s on Slack's write methods.

Every ``SAMPLE_S`` seconds it records ``VmRSS`` (``/proc/<pid>/status``), the number of
open descriptors (``/proc/<pid>/fd``), and from ``/metrics``: asyncio tasks, pending
deliveries (the health check's count of unsent outbox rows, refreshed every 5 s), polls,
articles, alerts raised and delivered. The samples go to ``bench/results/soak-<time>.csv``
and the bot's log beside it.

Verdicts, each over the **second half** of the run (the first half is warm-up: caches,
the first fetch of every feed, the database growing its first pages):

* memory: growing if the least-squares slope of RSS exceeds ``RSS_SLOPE_MAX_MIB_PER_MIN``
  (1 MiB/min); RSS at 2 min vs the end is printed beside it;
* descriptors, tasks, pending deliveries: growing if they climb steadily: every sample of
  the last quarter of the second half is above every sample of its first quarter *and*
  the slope exceeds the series' floor (``FD_SLOPE_MIN``, ``TASK_SLOPE_MIN``,
  ``PENDING_SLOPE_MIN`` per minute). Noise (connections opened and closed, a backlog
  during a chat outage that drains again) overlaps and does not count;
* the bot must still be running at the end, exit 0 on SIGTERM, and have delivered
  alerts (a soak without alerts proves nothing).

The bot's warnings and errors are counted and the first ones shown (feed failures are
expected, one warning per failed poll), but do not decide the verdict.

Exit status 1 when any verdict is "growing" or one of those checks fails.

Run: ``SOAK_MINUTES=10 .venv/bin/python -m bench.soak`` (``make bench`` runs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import http.server
import os
import random
import re
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from types import FrameType

from prometheus_client.parser import text_string_to_metric_families

from bench.feedserver import news_item, town
from tests.botproc import ROOT, BotProcess
from tests.deployment import add_feeds_and_subscribe
from tests.fakes.slack_server import FakeSlack
from tests.localhttp import LoopbackServer

RESULTS = ROOT / "bench" / "results"

# -- the load ------------------------------------------------------------------------------

QUIET = 240
NEWS = 30
ERRORS = 10
TIMEOUTS = 8
GARBAGE = 7
FLAPPING = 5
FEEDS = QUIET + NEWS + ERRORS + TIMEOUTS + GARBAGE + FLAPPING
INTERVAL_S = 4.0
"""Every feed's polling interval."""
NEWS_EVERY_S = 12.0
"""Each news feed publishes one item this often (staggered across the feeds)."""
STORY_ITEMS = 8
"""A news feed moves on to a new story (another town) after this many items."""
NEWS_KEPT = 5
"""Items in a news feed's body (the newest)."""
FETCH_TIMEOUT_S = 2.0
TIMEOUT_HOLD_S = 4.0
"""How long a "timeout" feed keeps the request before answering (past the deadline)."""
FLAP_PERIOD_S = 60.0
"""Flapping feeds answer 503 in every other window of this length."""

RATE_LIMIT_EVERY_S = 45.0
RATE_LIMIT_BURST = 6
OUTAGE_EVERY_S = 100.0
OUTAGE_S = 5.0

DEFAULT_MINUTES = 10.0
SAMPLE_S = 10.0
HEALTH_TICK_S = 5.0

# -- verdict thresholds ----------------------------------------------------------------

RSS_SLOPE_MAX_MIB_PER_MIN = 1.0
FD_SLOPE_MIN = 0.5
TASK_SLOPE_MIN = 0.5
PENDING_SLOPE_MIN = 1.0
"""Per minute, over the second half (see the module docstring)."""

_STATUS = re.compile(r"^VmRSS:\s+(\d+)\s+kB", re.MULTILINE)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# -- feed farm -----------------------------------------------------------------------------

_TOLL = re.compile(r"(?<![\d.])\d+(?= [a-z]+)")
"""The death toll in a ``news_item`` text: its first whole number followed by a word."""


def _kind(index: int) -> str:
    """What feed ``index`` does: quiet, news, error, timeout, garbage or flapping."""
    bounds = (
        (QUIET, "quiet"),
        (QUIET + NEWS, "news"),
        (QUIET + NEWS + ERRORS, "error"),
        (QUIET + NEWS + ERRORS + TIMEOUTS, "timeout"),
        (QUIET + NEWS + ERRORS + TIMEOUTS + GARBAGE, "garbage"),
    )
    return next((kind for bound, kind in bounds if index < bound), "flapping")


class FeedFarm:
    """The soak's feeds over HTTP/1.1 on 127.0.0.1, one thread per connection."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.started_wall = datetime.now(UTC)
        self.lock = threading.Lock()
        self.requests: dict[str, int] = {}
        farm = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                try:
                    index = int(self.path.rsplit("/", 1)[-1].removesuffix(".xml"))
                except ValueError:
                    self._send(404, b"not found", "text/plain")
                    return
                kind = _kind(index)
                with farm.lock:
                    farm.requests[kind] = farm.requests.get(kind, 0) + 1
                if kind == "error":
                    self._send(500, b"internal error", "text/plain")
                    return
                if kind == "timeout":
                    time.sleep(TIMEOUT_HOLD_S)
                elif kind == "garbage":
                    junk = random.randbytes(random.randrange(200, 3000))
                    self._send(200, junk, "application/rss+xml")
                    return
                elif kind == "flapping" and farm.flap_down():
                    self._send(503, b"unavailable", "text/plain")
                    return
                body = farm.feed(index, kind)
                tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == tag:
                    self._send(304, b"", None, tag)
                else:
                    self._send(200, body, "application/rss+xml", tag)

            def _send(self, status: int, body: bytes, kind: str | None, tag: str = "") -> None:
                try:
                    self.send_response(status)
                    if kind is not None:
                        self.send_header("Content-Type", kind)
                    if tag:
                        self.send_header("ETag", tag)
                    if status != 304:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if status != 304:
                        self.wfile.write(body)
                except OSError:
                    self.close_connection = True  # the bot gave up (the deadline): fine

            def log_message(self, *args: object) -> None:
                pass

        self.server = LoopbackServer(Handler)
        self.port = self.server.port

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.port}/feeds/{index}.xml"

    def flap_down(self) -> bool:
        return int((time.monotonic() - self.started) / FLAP_PERIOD_S) % 2 == 1

    def published(self, news: int) -> int:
        """Items news feed ``news`` has published so far (two at the start)."""
        offset = NEWS_EVERY_S * news / NEWS
        return 2 + int((time.monotonic() - self.started + offset) / NEWS_EVERY_S)

    def feed(self, index: int, kind: str) -> bytes:
        if kind == "news":
            news = index - QUIET
            newest = self.published(news)
            kept = range(newest - 1, max(newest - 1 - NEWS_KEPT, -1), -1)
            items = [self._news_item(news, s) for s in kept]
        else:
            items = [self._old_item(index)]
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Soak outlet {index}</title><link>http://127.0.0.1/</link>"
            f"<description>soak feed {index}</description>{''.join(items)}</channel></rss>"
        ).encode()

    def _news_item(self, news: int, seq: int) -> str:
        """Item ``seq`` of news feed ``news``: the same report with the toll risen each
        time; every ``STORY_ITEMS`` items the feed moves on to another event elsewhere
        (``bench.feedserver.news_item``: another town, kind of event, victims, source)."""
        story, step = divmod(seq, STORY_ITEMS)
        report = news_item(news + NEWS * story)
        killed = 8 + 5 * step + news % 4
        text = _TOLL.sub(str(killed), report.text, count=1)
        when = self.started_wall + timedelta(seconds=NEWS_EVERY_S * (seq - 2))
        link = f"http://127.0.0.1:{self.port}/a/{news}/{seq}"
        return (
            f"<item><title>{escape(report.title)}: {killed} dead</title>"
            f"<link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )

    def _old_item(self, index: int) -> str:
        place = town(20_000 + index)
        link = f"http://127.0.0.1:{self.port}/old/{index}"
        when = self.started_wall - timedelta(days=1, minutes=index)
        return (
            f"<item><title>Council in {place} approves new budget</title>"
            f"<link>{link}</link><guid>{link}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"<description>The council of {place} approved next year's budget on Monday "
            f"after a long debate about road repairs.</description></item>"
        )

    def __enter__(self) -> FeedFarm:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__()


# -- samples -------------------------------------------------------------------------------


@dataclass
class Sample:
    t_s: float
    cpu_s: float
    """The bot's CPU time so far (user + system), in seconds."""
    rss_mib: float
    fds: int
    tasks: float
    pending: float
    oldest_pending_s: float
    polls: float
    polls_failed: float
    articles: float
    alerts_raised: float
    alerts_delivered: float
    delivery_failures: float
    healthy: float


FIELDS = tuple(Sample.__dataclass_fields__)


def _rss_mib(pid: int) -> float:
    found = _STATUS.search(Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) / 1024 if found else float("nan")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _get(url: str, timeout: float = 5.0) -> str:
    with _NO_PROXY.open(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body.decode()


def scrape(port: int) -> dict[str, float]:
    """``/metrics`` summed over labels, by sample name (``…_total`` for counters)."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(_get(f"http://127.0.0.1:{port}/metrics")):
        for s in family.samples:
            if s.name == "claimwatch_feeds_polled_total" and s.labels.get("outcome") == "failed":
                totals["polls_failed"] = totals.get("polls_failed", 0.0) + s.value
            totals[s.name] = totals.get(s.name, 0.0) + s.value
    return totals


def take_sample(pid: int, port: int, t_s: float) -> Sample:
    m = scrape(port)
    return Sample(
        t_s=round(t_s, 1),
        cpu_s=round(_cpu_s(pid), 2),
        rss_mib=round(_rss_mib(pid), 2),
        fds=_fds(pid),
        tasks=m.get("claimwatch_asyncio_tasks", float("nan")),
        pending=m.get("claimwatch_deliveries_pending", float("nan")),
        oldest_pending_s=round(m.get("claimwatch_oldest_pending_delivery_seconds", 0.0), 1),
        polls=m.get("claimwatch_feeds_polled_total", 0.0),
        polls_failed=m.get("polls_failed", 0.0),
        articles=m.get("claimwatch_articles_ingested_total", 0.0),
        alerts_raised=m.get("claimwatch_alerts_raised_total", 0.0),
        alerts_delivered=m.get("claimwatch_alerts_delivered_total", 0.0),
        delivery_failures=m.get("claimwatch_delivery_failures_total", 0.0),
        healthy=m.get("claimwatch_healthy", float("nan")),
    )


# -- analysis ------------------------------------------------------------------------------


def slope_per_min(ts: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` over ``ts`` (seconds), per minute."""
    if len(ts) < 2:
        return 0.0
    mt, my = statistics.fmean(ts), statistics.fmean(ys)
    var = sum((t - mt) ** 2 for t in ts)
    if var == 0:
        return 0.0
    return 60 * sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var


@dataclass
class Trend:
    name: str
    unit: str
    first: float
    last: float
    low: float
    high: float
    slope: float
    climbing: bool
    """Every sample of the last quarter above every sample of the first quarter."""
    growing: bool
    rule: str
    notes: list[str] = field(default_factory=list)


def steady_climb(name: str, unit: str, ts: list[float], ys: list[float], floor: float) -> Trend:
    """Growing = the last quarter entirely above the first quarter and slope > ``floor``/min."""
    q = max(1, len(ys) // 4)
    climbing = len(ys) >= 4 and min(ys[-q:]) > max(ys[:q])
    slope = slope_per_min(ts, ys)
    return Trend(
        name,
        unit,
        ys[0],
        ys[-1],
        min(ys),
        max(ys),
        slope,
        climbing,
        climbing and slope > floor,
        f"growing = last quarter entirely above first quarter and slope > {floor:g} {unit}/min",
    )


def analyse(samples: list[Sample], minutes: float) -> tuple[list[str], bool]:
    """Summary lines, and whether a leak is evident."""
    lines: list[str] = []
    half = minutes * 30
    second = [s for s in samples if s.t_s >= half]
    if len(second) < 4:
        return [f"too few samples in the second half ({len(second)}): no verdict"], True
    ts = [s.t_s for s in second]
    at_2min = min(samples, key=lambda s: abs(s.t_s - 120))
    end = samples[-1]
    rss_slope = slope_per_min(ts, [s.rss_mib for s in second])
    growth = end.rss_mib - at_2min.rss_mib
    rss_growing = rss_slope > RSS_SLOPE_MAX_MIB_PER_MIN
    lines.append(
        f"memory    RSS {at_2min.rss_mib:.1f} MiB at {at_2min.t_s / 60:.1f} min → "
        f"{end.rss_mib:.1f} MiB at {end.t_s / 60:.1f} min ({growth:+.1f} MiB, "
        f"{100 * growth / at_2min.rss_mib:+.1f} %); second half min/max "
        f"{min(s.rss_mib for s in second):.1f}/{max(s.rss_mib for s in second):.1f} MiB, "
        f"slope {rss_slope:+.2f} MiB/min → {'GROWING' if rss_growing else 'flat'} "
        f"(growing = slope > {RSS_SLOPE_MAX_MIB_PER_MIN:g} MiB/min)"
    )
    trends = [
        steady_climb("fds", "fds", ts, [float(s.fds) for s in second], FD_SLOPE_MIN),
        steady_climb("tasks", "tasks", ts, [s.tasks for s in second], TASK_SLOPE_MIN),
        steady_climb("pending", "rows", ts, [s.pending for s in second], PENDING_SLOPE_MIN),
    ]
    for tr in trends:
        lines.append(
            f"{tr.name:9} second half min/max {tr.low:.0f}/{tr.high:.0f}, first {tr.first:.0f}"
            f" → last {tr.last:.0f}, slope {tr.slope:+.2f} {tr.unit}/min, "
            f"{'climbing' if tr.climbing else 'not climbing'} → "
            f"{'GROWING' if tr.growing else 'flat'} ({tr.rule})"
        )
    oldest = max(s.oldest_pending_s for s in second)
    lines.append(
        f"          pending deliveries over the whole run: max "
        f"{max(s.pending for s in samples):.0f}, last {end.pending:.0f}; oldest pending row "
        f"in the second half at most {oldest:.0f} s old"
    )
    unhealthy = sum(1 for s in samples if s.healthy == 0)
    lines.append(
        f"cpu       the bot used {100 * _cpu_share(samples[0], end):.0f} % of a core over the "
        f"run, {100 * _cpu_share(second[0], end):.0f} % over the second half"
    )
    lines.append(
        f"totals    {end.polls:.0f} polls ({end.polls_failed:.0f} failed, "
        f"{end.polls / end.t_s:.1f}/s), {end.articles:.0f} articles ingested, "
        f"{end.alerts_raised:.0f} alerts raised, {end.alerts_delivered:.0f} deliveries sent "
        f"(+{end.pending:.0f} pending), {end.delivery_failures:.0f} failed send attempts; "
        f"{unhealthy} of {len(samples)} samples unhealthy"
    )
    return lines, rss_growing or any(t.growing for t in trends)


# -- the run -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db_url: str, fake: FakeSlack, metrics_port: int) -> dict[str, str]:
    return {
        "CLAIMWATCH_DB_URL": db_url,
        "CLAIMWATCH_ADAPTERS": "slack",
        "CLAIMWATCH_SLACK_BOT_TOKEN": fake.bot_token,
        "CLAIMWATCH_SLACK_APP_TOKEN": fake.app_token,
        "CLAIMWATCH_SLACK_API_BASE": fake.api_base,
        "CLAIMWATCH_SLACK_ADMIN_CHANNEL": fake.channel_ids["admin"],
        "CLAIMWATCH_METRICS_PORT": str(metrics_port),
        "CLAIMWATCH_HEALTH_TICK_S": str(HEALTH_TICK_S),
        "CLAIMWATCH_ALLOW_PRIVATE_URLS": "true",
        "CLAIMWATCH_FULL_TEXT": "false",
        "CLAIMWATCH_RECHECK_ARTICLES": "false",
        "CLAIMWATCH_FEED_INTERVAL_S": str(INTERVAL_S),
        "CLAIMWATCH_MIN_FEED_INTERVAL_S": "1",
        "CLAIMWATCH_POLL_TICK_S": "0.2",
        "CLAIMWATCH_FETCH_TIMEOUT_S": str(FETCH_TIMEOUT_S),
        "CLAIMWATCH_BACKOFF_BASE_S": "2",
        "CLAIMWATCH_BACKOFF_MAX_S": "30",
        "CLAIMWATCH_DISABLE_AFTER": "0",
        "CLAIMWATCH_PER_HOST_FETCHES": "50",
        "CLAIMWATCH_MAX_CONCURRENT_FETCHES": "50",
        "CLAIMWATCH_DELIVERY_TICK_S": "0.2",
        "CLAIMWATCH_DELIVERY_RETRY_MAX_S": "5",
        "CLAIMWATCH_DELIVERY_LEASE_S": "30",
        "CLAIMWATCH_LOG_LEVEL": "WARNING",
    }


def _log_summary(log: str) -> list[str]:
    """Counts of the bot's log lines by level, tracebacks, and the first error lines."""
    levels: dict[str, int] = {}
    for level in ("WARNING", "ERROR", "CRITICAL"):
        levels[level] = len(re.findall(rf"\b{level}\b", log))
    tracebacks = log.count("Traceback (most recent call last)")
    failed_feeds = len(re.findall(r"WARNING.*feed \S+ \(.*\) failed:", log))
    lines = [
        f"bot log   {levels['WARNING']} warnings ({failed_feeds} of them feed failures, "
        f"expected), {levels['ERROR']} errors, {levels['CRITICAL']} critical, "
        f"{tracebacks} tracebacks"
    ]
    shown = 0
    for line in log.splitlines():
        if re.search(r"\b(ERROR|CRITICAL)\b|Traceback", line) and shown < 5:
            lines.append(f"          {line[:200]}")
            shown += 1
    other = [
        line
        for line in log.splitlines()
        if "WARNING" in line and not re.search(r"feed \S+ \(.*\) failed:|health:", line)
    ]
    for line in other[:5]:
        lines.append(f"          {line[:200]}")
    return lines


class _Stop(Exception):
    """SIGTERM/SIGHUP to the benchmark: unwind so that everything is stopped."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the cleanup short
    raise _Stop(f"signal {signum}")


def run(minutes: float) -> int:
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    csv_path = RESULTS / f"soak-{stamp}.csv"
    log_path = RESULTS / f"soak-{stamp}-bot.log"
    samples: list[Sample] = []
    problems: list[str] = []
    print(
        f"soak: {minutes:g} min, one `claimwatch run` (role all, SQLite, Slack fake), "
        f"{FEEDS} feeds every {INTERVAL_S:g} s ({QUIET} quiet, {NEWS} news with an item each "
        f"{NEWS_EVERY_S:g} s, {ERRORS} × 500, {TIMEOUTS} × timeout, {GARBAGE} × garbage, "
        f"{FLAPPING} flapping); Slack: {RATE_LIMIT_BURST} × 429 every {RATE_LIMIT_EVERY_S:g} s, "
        f"{OUTAGE_S:g} s of 503 every {OUTAGE_EVERY_S:g} s; a sample every {SAMPLE_S:g} s",
        flush=True,
    )
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="claimwatch-soak-")))
        fake = stack.enter_context(FakeSlack(channels=("alerts", "admin"), admins=("UADMIN",)))
        farm = stack.enter_context(FeedFarm())
        db_url = f"sqlite+aiosqlite:///{tmp / 'soak.db'}"
        asyncio.run(
            add_feeds_and_subscribe(
                db_url,
                [(farm.url(i), f"soak {_kind(i)} {i}") for i in range(FEEDS)],
                interval_s=INTERVAL_S,
                slack_channel=fake.channel_ids["alerts"],
                created_by="soak",
            )
        )
        port = _free_port()
        bot = BotProcess(tmp, _env(db_url, fake, port), "soak")
        stack.callback(_save_log, bot, log_path)  # runs after the bot is stopped or killed
        stack.enter_context(bot)
        bot.start()
        assert bot.proc is not None
        pid = bot.proc.pid
        bot.wait_for(lambda: _answers(port), 60, "/metrics")
        fake.wait_connected(60)
        started = time.monotonic()
        deadline = started + minutes * 60
        next_sample = started
        next_rate_limit = started + RATE_LIMIT_EVERY_S
        next_outage = started + OUTAGE_EVERY_S
        rate_limits = outages = 0
        while True:
            now = time.monotonic()
            if not bot.alive():
                problems.append(f"the bot exited early (status {bot.proc.returncode})")
                break
            if now >= next_rate_limit:
                fake.rate_limit(RATE_LIMIT_BURST, retry_after=1)
                rate_limits += 1
                next_rate_limit += RATE_LIMIT_EVERY_S
            if now >= next_outage:
                fake.outage(OUTAGE_S, 503)
                outages += 1
                next_outage += OUTAGE_EVERY_S
            if now >= next_sample:
                try:
                    sample = take_sample(pid, port, now - started)
                except OSError as exc:
                    problems.append(f"sampling failed at {now - started:.0f} s: {exc}")
                else:
                    samples.append(sample)
                    _write_csv(csv_path, samples)
                    if len(samples) % 6 == 1:
                        print(_progress(samples), flush=True)
                next_sample += SAMPLE_S
                if now >= deadline:
                    break
            time.sleep(0.2)
        posted = sum(1 + len(m.replies) for m in fake.messages("alerts"))
        status_429 = sum(1 for r in fake.requests if r.status == 429)
        status_503 = sum(1 for r in fake.requests if r.status == 503)
        if bot.alive():
            code = bot.stop()
            if code != 0:
                problems.append(f"the bot exited {code} on SIGTERM (expected 0)")
        farm_requests = dict(farm.requests)
    lines, leak = analyse(samples, minutes)
    print("\n".join(lines))
    print(
        f"fakes     feed farm answered {sum(farm_requests.values())} requests "
        f"({', '.join(f'{k} {v}' for k, v in sorted(farm_requests.items()))}); Slack: "
        f"{posted} messages in the alerts channel (threads included), {status_429} × 429 in "
        f"{rate_limits} bursts, {status_503} × 503 in {outages} outages"
    )
    log = log_path.read_text("utf-8", errors="replace") if log_path.exists() else ""
    print("\n".join(_log_summary(log)))
    if samples and samples[-1].alerts_delivered == 0:
        problems.append("no alert was delivered: the soak proves nothing")
    for problem in problems:
        print(f"PROBLEM   {problem}")
    print(f"samples   {csv_path.relative_to(ROOT)}; bot log {log_path.relative_to(ROOT)}")
    ok = not leak and not problems
    print(f"verdict   {'PASS: no leak evident' if ok else 'FAIL'}")
    return 0 if ok else 1


def _answers(port: int) -> bool:
    try:
        _get(f"http://127.0.0.1:{port}/metrics", timeout=1)
    except OSError:
        return False
    return True


def _save_log(bot: BotProcess, path: Path) -> None:
    with contextlib.suppress(OSError):
        path.write_text(bot.output(), "utf-8")


def _write_csv(path: Path, samples: list[Sample]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for s in samples:
            writer.writerow([getattr(s, name) for name in FIELDS])


def _cpu_share(a: Sample, b: Sample) -> float:
    """The bot's CPU use between two samples, as a share of one core."""
    return (b.cpu_s - a.cpu_s) / (b.t_s - a.t_s) if b.t_s > a.t_s else 0.0


def _progress(samples: list[Sample]) -> str:
    s = samples[-1]
    cpu = _cpu_share(samples[-2], s) if len(samples) > 1 else 0.0
    return (
        f"  {s.t_s / 60:5.1f} min  CPU {100 * cpu:3.0f} %  RSS {s.rss_mib:6.1f} MiB  fds "
        f"{s.fds:3d}  tasks "
        f"{s.tasks:4.0f}  pending {s.pending:4.0f}  polls {s.polls:7.0f}  articles "
        f"{s.articles:5.0f}  alerts {s.alerts_raised:5.0f} raised / {s.alerts_delivered:5.0f} "
        f"delivered"
    )


def main() -> int:
    try:
        return run(float(os.environ.get("SOAK_MINUTES") or DEFAULT_MINUTES))
    except (_Stop, KeyboardInterrupt) as exc:
        print(f"soak interrupted ({exc or 'Ctrl-C'}): the bot and the fakes were stopped")
        return 2


if __name__ == "__main__":
    sys.exit(main())
