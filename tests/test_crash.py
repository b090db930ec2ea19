"""Crash safety: ``kill -9`` the bot at random moments of ingest and delivery, restart it.

The issue's promise: every drop-folder file is processed exactly once, every alert is
delivered exactly once, nothing is lost — whatever moment the process dies at.

Design
------
One bot database, one drop folder and one fake Slack (the real slack-sdk/slack-bolt
talking to ``tests/fakes/slack_server.py`` over 127.0.0.1) live through the whole test,
and every restart continues the state the killed process left. That is the point of a
crash test: a restart must *recover* (re-ingest a file whose move did not happen, ask
Slack about a post whose answer never came, take over rows leased by the dead process),
and kills in a row also kill the bot *during* such a recovery. Independent rounds from a
clean database would never restart into an inherited story thread, an uncertain
delivery or a half-processed multi-article file. One long history is also cheaper than
many fresh databases, so more trials fit in the time budget (the whole file takes 1.5–2
minutes on the 2-core machine: 70–90 s SQLite, 25–35 s PostgreSQL, most of it the bot's
own start-up of about 1.3 s a run).

Each trial draws everything from a seeded ``random.Random`` (``CLAIMWATCH_CRASH_SEED``
overrides the seed; every failure message names it and the bot's log):

* a batch of new article files (JSON objects, JSON lists of several articles, Markdown
  with front matter): first reports of new incidents, rising tolls of earlier ones (so
  stories, threads and card edits continue across restarts), word-for-word copies from
  another outlet, and revisions (same guid, edited toll);
* how they arrive: dropped while the bot is down (found by its start-up scan) or renamed
  into the folder while it runs (inotify);
* when the kill comes, counted from the moment the bot says it is running. Each trial
  uses one of four ways, and every way gets its share of the trials:

  - ``timer``: a random delay of up to ``KILL_SPAN_S``, which spans start-up, ingest
    and delivery;
  - ``ingest``: after a random number of this batch's files have been filed, plus a
    random few milliseconds, so the kill lands inside the batch (often inside the next
    file's transaction, or between its commit and its move);
  - ``delivery``: after a random number of alerts have reached Slack, plus a random
    delay, so the kill lands amid the posts, card edits and outbox updates;
  - ``held``: the fake Slack posts the next message at once but answers ``HOLD_S``
    late, and the kill comes at a random moment of that wait: the message is in the
    channel, the bot never learned it. The restart must find it, not post it again.

  Each kill is classified from what it interrupted (files still incoming, deliveries
  unsent), and the test asserts that kills really did land during ingest, during
  delivery and inside a held post, so it cannot pass vacuously.

After every ``CHECK_EVERY`` trials, and after the last, the bot is restarted and left to
settle (nothing incoming, every delivery row sent), stopped with SIGTERM, and checked
against a reference: the same files ingested once, in the same order, into a fresh
SQLite database by the project's own pipeline (``build_app`` → ``MessageBus``).

* files: every dropped file is in ``processed/`` exactly once, under its own name, with
  its own bytes; nothing is left incoming, nothing is in ``failed/``, and there is no
  timestamped second copy;
* articles: the same article ids, each in the same story with the same number of
  versions (one, or two for a revision) and the same claims;
* alerts: exactly the reference's alert keys: none missing, none twice;
* delivery: one outbox row per alert, every row ``sent``; the fake Slack holds exactly
  one message per row (found by the delivery key in its metadata), the row's recorded
  message id is that message's, and each story's alerts form a single thread, in the
  order they were raised.

How it fails when the code is wrong (each tried on a copy of the tree, then discarded):
moving a file to ``processed/`` before ingesting it loses articles at the first check
(article ids missing against the reference); a claim that does not mark the attempt as
started (so a restart never asks Slack before resending) posts held alerts twice
("alerts posted more than once"); an ingest that is not idempotent (no "unchanged"
short-cut) gives a re-ingested article a second version.

Two bugs these trials led to, each pinned by a deterministic test below:

* ordering after a restart: the restart's scan works through the backlog a kill left
  while newly dropped files arrive by inotify; the scan used to release its lock between
  files, so new files slipped in between backlog files, and a toll update was ingested
  before the report it updates (alerts and stories then differed from the files ingested
  in order: a ``figure_drop`` instead of rises, an article in another story). Seen on
  PostgreSQL, where ingest is slower; ``test_files_dropped_while_a_backlog_is_scanned_…``;
* a kill between the two halves of a move (hard link, then unlink) left the file in
  both folders and the restart filed a timestamped second copy in ``processed/``; the
  window is too narrow for random kills, ``test_a_move_cut_short_…`` recreates it.

PostgreSQL runs a shorter history (``POSTGRES_TRIALS``) when its binaries are installed;
SQLite runs ``SQLITE_TRIALS`` (≥ 20).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from adapters.dropfolder import DropFolder, DropFolderWatcher, DropStatus
from bot.bootstrap import build_app
from bot.clock import utc_now
from bot.config import Settings
from bot.domain.articles import Article
from bot.ingest.readers import read_path
from bot.service.ingest import IngestArticle
from tests.botproc import BotProcess
from tests.fakes.slack_server import FakeSlack, Message

ADMIN = "UADMIN"
SEED = int(os.environ.get("CLAIMWATCH_CRASH_SEED", "20240527"))
SQLITE_TRIALS = 24
POSTGRES_TRIALS = 8
CHECK_EVERY = 8
"""Settle and check everything after this many trials (and after the last one)."""
KILL_MODES = ("timer", "ingest", "timer", "delivery", "held")
KILL_SPAN_S = 2.5
"""``timer`` kills land up to this long after the bot says it is running."""
LEASE_S = 3.0
"""Delivery lease: how long a dead process's rows wait before a restart takes them."""
HOLD_S = 1.5
"""How late the fake answers a held post (shorter than the lease)."""
RUNNING_MARK = "claimwatch running"
"""What ``claimwatch run`` prints once its signal handlers are set and it starts working."""

# --------------------------------------------------------------------------------------
# Synthetic news: incidents a week apart (so their stories never mix), each reported
# again and again with a rising toll, attributed to the same official.
# --------------------------------------------------------------------------------------

TOWNS = (
    "Marlow",
    "Kestrel Bay",
    "Durnholm",
    "Velden",
    "Ashgrove",
    "Brightwater",
    "Caldmoor",
    "Fennick",
    "Glenhaven",
    "Harrowgate",
    "Ironbridge",
    "Juniper Falls",
    "Kilbride",
    "Lowmoor",
    "Mirefield",
    "Northwick",
    "Oakhurst",
    "Pellham",
    "Quarrydale",
    "Redcliff",
    "Stonebury",
    "Thornbury",
    "Upton Vale",
    "Westmarch",
    "Yarrowby",
    "Zennor",
)
INCIDENTS = (
    ("a gas cylinder exploded in a crowded market", "market explosion"),
    ("a passenger bus plunged into a ravine", "bus crash"),
    ("flash floods swept through low-lying districts", "floods"),
    ("a fire tore through a textile factory", "factory fire"),
    ("a landslide buried homes on a hillside", "landslide"),
    ("an overcrowded ferry capsized on the river", "ferry disaster"),
    ("a residential building collapsed after heavy rain", "building collapse"),
    ("a train derailed near the central station", "train derailment"),
)
OFFICIALS = (
    ("police chief", "Maria Okafor"),
    ("regional governor", "Tomas Lindqvist"),
    ("health minister", "Amina Diallo"),
    ("fire service spokesman", "Jonas Berg"),
    ("mayor", "Elena Petrova"),
    ("civil defence director", "Rafael Moreno"),
)
QUOTES = (
    "We will not stop searching until everyone is accounted for",
    "Our thoughts are with the families of the victims",
    "Every available team has been sent to the scene",
    "The hospitals are overwhelmed and we need blood donors",
    "An investigation into the cause has already begun",
)
OUTLETS = ("Daily Ledger", "Coastal Times", "Morning Wire", "The Courier", "Evening Post")
EPOCH = datetime(2024, 1, 1, 6, 0, tzinfo=UTC)


@dataclass
class Incident:
    number: int
    town: str
    what: str
    short: str
    role: str
    official: str
    killed: int
    injured: int
    reports: int = 0
    last: dict[str, Any] | None = None
    """The latest article about it (a JSON-ready dict; ``_``-keys are ours, not written)."""

    @property
    def start(self) -> datetime:
        # A week apart: far outside the 72 h grouping window, so incidents never mix.
        return EPOCH + timedelta(days=7 * self.number)


@dataclass(frozen=True)
class DroppedFile:
    name: str
    data: bytes


@dataclass
class NewsDesk:
    """Writes each trial's batch of files and remembers everything it wrote, in order."""

    rng: random.Random
    incidents: list[Incident] = field(default_factory=list)
    written: list[DroppedFile] = field(default_factory=list)
    _files: int = 0
    _guids: int = 0

    def batch(self) -> list[DroppedFile]:
        """4–7 files: new incidents, updates of earlier ones, maybe a copy or a revision."""
        articles = [self._report(self._new_incident()) for _ in range(self.rng.randint(1, 2))]
        known = [i for i in self.incidents if i.last is not None]
        for incident in self.rng.sample(known, min(len(known), self.rng.randint(2, 4))):
            articles.append(self._report(incident))
        extra = self.rng.random()
        if extra < 0.3:
            articles.append(self._copy(self.rng.choice(known)))
        # Only an article written under its guid (JSON, in an earlier batch) can be revised.
        revisable = [i for i in known if i.last is not None and i.last.get("_json")]
        if 0.3 <= extra < 0.6 and revisable:
            articles.append(self._revision(self.rng.choice(revisable)))
        # A JSON list of 2–3 articles first (when there are enough), then one file each.
        files: list[DroppedFile] = []
        rest = articles
        if len(articles) >= 4:
            size = self.rng.randint(2, 3)
            files.append(self._json({"articles": [_public(a) for a in articles[:size]]}))
            for article in articles[:size]:
                article["_json"] = True
            rest = articles[size:]
        for article in rest:
            if self.rng.random() < 0.35 and not article.get("_revision"):
                files.append(self._markdown(article))
            else:
                files.append(self._json(_public(article)))
                article["_json"] = True
        self.written.extend(files)
        return files

    def _new_incident(self) -> Incident:
        n = len(self.incidents)
        what, short = INCIDENTS[n % len(INCIDENTS)]
        role, official = OFFICIALS[self.rng.randrange(len(OFFICIALS))]
        town = TOWNS[n % len(TOWNS)] + ("" if n < len(TOWNS) else f" {n // len(TOWNS) + 1}")
        incident = Incident(
            n,
            town,
            what,
            short,
            role,
            official,
            killed=self.rng.randint(3, 30),
            injured=self.rng.randint(10, 60),
        )
        self.incidents.append(incident)
        return incident

    def _report(self, incident: Incident) -> dict[str, Any]:
        """The next report on ``incident``: its first, or a rising toll."""
        i = incident
        published = i.start + timedelta(hours=3 * i.reports)
        if i.reports == 0:
            title = f"{i.killed} killed as {i.short} hits {i.town}"
            body = (
                f"At least {i.killed} people were killed when {i.what} in {i.town} on "
                f"Monday, {i.role} {i.official} said. Another {i.injured} people were "
                "injured. Rescue teams were still searching the area late into the night."
            )
        else:
            i.killed += self.rng.randint(1, 6)
            i.injured += self.rng.randint(0, 9)
            quote = QUOTES[self.rng.randrange(len(QUOTES))]
            title = f"{i.town} {i.short}: toll rises to {i.killed}"
            body = (
                f"The death toll from the {i.short} in {i.town} rose to {i.killed}, "
                f"{i.role} {i.official} said. At least {i.killed} people were killed and "
                f"{i.injured} were injured, {i.official} said. "
                f'"{quote}," {i.official} told reporters.'
            )
        i.reports += 1
        i.last = {
            "guid": self._guid(),
            "title": title,
            "text": body,
            "published": published.isoformat(),
            "outlet": self.rng.choice(OUTLETS),
        }
        return i.last

    def _copy(self, incident: Incident) -> dict[str, Any]:
        """Another outlet reprints the latest report word for word (it confirms, no alert)."""
        assert incident.last is not None
        source = _public(incident.last)
        others = [o for o in OUTLETS if o != source["outlet"]]
        return {**source, "guid": self._guid(), "outlet": self.rng.choice(others)}

    def _revision(self, incident: Incident) -> dict[str, Any]:
        """The latest report edited in place: same guid, a higher toll."""
        assert incident.last is not None
        source = _public(incident.last)
        before, after = incident.killed, incident.killed + 2
        incident.killed = after
        incident.last = {
            **source,
            "title": source["title"].replace(str(before), str(after)),
            "text": source["text"]
            .replace(f" {before} ", f" {after} ")
            .replace(f" {before},", f" {after},"),
            "_revision": True,
        }
        return incident.last

    def _guid(self) -> str:
        self._guids += 1
        return f"crash-{self._guids:04d}"

    def _name(self, suffix: str) -> str:
        self._files += 1
        return f"drop-{self._files:04d}.{suffix}"

    def _json(self, value: object) -> DroppedFile:
        return DroppedFile(self._name("json"), json.dumps(value, indent=1).encode())

    def _markdown(self, article: dict[str, Any]) -> DroppedFile:
        # Front matter carries no guid: a Markdown file's identity is its file name.
        doc = (
            f"---\ntitle: {article['title']}\npublished: {article['published']}\n"
            f"outlet: {article['outlet']}\n---\n\n{article['text']}\n"
        )
        return DroppedFile(self._name("md"), doc.encode())


def _public(article: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in article.items() if not k.startswith("_")}


def drop(folder: Path, files: Sequence[DroppedFile], clock: list[float]) -> None:
    """Write each file under a hidden name, then rename it in (what safe writers do).

    Modification times step one second per file from long ago, so the bot's scan
    (oldest first) processes them in the order written, and none looks still being
    written (a polled file must have been quiet for a second)."""
    for f in files:
        tmp = folder / f".{f.name}.tmp"
        tmp.write_bytes(f.data)
        clock[0] += 1
        os.utime(tmp, (clock[0], clock[0]))
        tmp.rename(folder / f.name)


# --------------------------------------------------------------------------------------
# Reading the state: the database (SQLite read-only, or PostgreSQL) and the fake Slack.
# --------------------------------------------------------------------------------------


class Db:
    """Read-only queries on a claimwatch database, also while the bot runs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._sqlite_path: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: AsyncEngine | None = None
        if url.startswith("sqlite"):
            self._sqlite_path = Path(url.split("///", 1)[1])
        else:
            self._loop = asyncio.new_event_loop()
            self._engine = create_async_engine(url, poolclass=NullPool)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self._sqlite_path is not None:
            if not self._sqlite_path.exists():
                return []
            conn = sqlite3.connect(f"file:{self._sqlite_path}?mode=ro", uri=True, timeout=10)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        assert self._loop is not None
        return self._loop.run_until_complete(self._server_rows(sql))

    async def _server_rows(self, sql: str) -> list[tuple[Any, ...]]:
        assert self._engine is not None
        async with self._engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    def count(self, sql: str) -> int:
        found = self.rows(sql)
        return int(found[0][0] or 0) if found else 0

    def close(self) -> None:
        if self._loop is not None and self._engine is not None:
            self._loop.run_until_complete(self._engine.dispose())
            self._loop.close()


# What a database holds, in comparable form (compared as multisets: the two backends
# sort NULLs differently).
ARTICLES_SQL = """
    SELECT a.id, a.story_id, a.version, count(v.version)
    FROM articles a JOIN article_versions v ON v.article_id = a.id
    GROUP BY a.id, a.story_id, a.version
"""
CLAIMS_SQL = "SELECT article_id, version, metric, value, attributed_to FROM figures"
ALERTS_SQL = "SELECT key, type, story_id, article_id FROM alerts"


def alert_messages(fake: FakeSlack, channel: str) -> list[tuple[Message, Message | None]]:
    """Every alert the bot posted in ``channel``, with its thread's root (None: top level)."""
    out: list[tuple[Message, Message | None]] = []
    for top in fake.messages(channel):
        out.append((top, None))
        out.extend((reply, top) for reply in top.replies)
    return [(m, root) for m, root in out if (m.params or {}).get("metadata")]


def delivery_key(message: Message) -> str:
    meta = message.params["metadata"]
    if isinstance(meta, str):
        meta = json.loads(meta)
    return str(meta["event_payload"]["key"])


def reference(db_url: str, files: Sequence[DroppedFile], folder: Path) -> None:
    """Ingest ``files`` once, in order, into a fresh database with the project's pipeline."""
    folder.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        app = await build_app(Settings(), db_url=db_url)
        try:
            for f in files:
                path = folder / f.name
                path.write_bytes(f.data)
                result = read_path(path)
                assert not result.errors, result.errors
                for article in result.articles:
                    await app.bus.handle(IngestArticle(article, utc_now()))
        finally:
            await app.close()

    asyncio.run(run())


def same(actual: Iterable[Hashable], expected: Iterable[Hashable], what: str) -> None:
    """Assert two multisets are equal, saying what is missing and what is extra."""
    got, want = Counter(actual), Counter(expected)
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"{what}: missing {sorted(missing.items(), key=repr)[:10]} "
        f"extra {sorted(extra.items(), key=repr)[:10]}"
    )


def until(check: Callable[[], bool], timeout: float) -> bool:
    """Poll ``check`` until it is true (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def reached(count: Callable[[], int], n: int) -> Callable[[], bool]:
    return lambda: count() >= n


def wait_running(bot: BotProcess) -> None:
    """Until the latest run has printed that it is running (signal handlers set)."""
    bot.wait_for(lambda: bot.output().count(RUNNING_MARK) >= bot.runs, 60, "start-up")


# --------------------------------------------------------------------------------------
# The crash trials
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One trial's random choices, all drawn up front (so the seed alone decides them)."""

    arrival: str
    """``cold``: dropped while the bot is down; ``live``: renamed in while it runs."""
    mode: str
    live_after: float
    progress: float
    """``ingest``/``delivery``: how far along (0–1) the kill waits for."""
    jitter: float
    """The random delay: the whole wait (``timer``) or the extra after the progress."""

    @classmethod
    def draw(cls, rng: random.Random, mode: str) -> Plan:
        arrival = "live" if rng.random() < 0.3 else "cold"
        live_after, progress, unit = rng.uniform(0, 0.5), rng.random(), rng.random()
        span = {"timer": KILL_SPAN_S, "ingest": 0.05, "delivery": 0.15, "held": HOLD_S - 0.5}
        return cls(arrival, mode, live_after, progress, unit * span[mode])


@dataclass(frozen=True)
class Kill:
    """One SIGKILL and what it interrupted (read right after the process died)."""

    trial: int
    arrival: str
    mode: str
    after: float
    """Seconds from "running" to the kill."""
    files_done: int
    """Files this run filed in ``processed/`` before it died."""
    files_left: int
    posted: int
    """Alerts this run posted before it died."""
    unsent: int
    in_hold: bool
    """A post was in Slack but its answer had not come back when the kill came."""

    @property
    def during_ingest(self) -> bool:
        return self.files_done > 0 and self.files_left > 0

    @property
    def during_delivery(self) -> bool:
        return self.posted > 0 and self.unsent > 0


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(channels=("alerts", "general"), admins=(ADMIN,)) as running:
        yield running


def test_kill_9_during_ingest_and_delivery_loses_and_repeats_nothing(
    db_url: str, fake: FakeSlack, tmp_path: Path
) -> None:
    backend = "sqlite" if db_url.startswith("sqlite") else "postgres"
    trials = SQLITE_TRIALS if backend == "sqlite" else POSTGRES_TRIALS
    rng = random.Random(f"{SEED}-{backend}")
    where = f"(seed {SEED}, {backend}, log {tmp_path / 'bot.log'})"
    folder = tmp_path / "drop"
    folder.mkdir()
    processed = folder / "processed"
    channel = fake.channel_ids["alerts"]
    env = {
        "CLAIMWATCH_ADAPTERS": "slack",
        "CLAIMWATCH_SLACK_BOT_TOKEN": fake.bot_token,
        "CLAIMWATCH_SLACK_APP_TOKEN": fake.app_token,
        "CLAIMWATCH_SLACK_API_BASE": fake.api_base,
        "CLAIMWATCH_DB_URL": db_url,
        "CLAIMWATCH_DROP_DIR": str(folder),
        "CLAIMWATCH_DROP_POLL_INTERVAL_S": "0.5",
        "CLAIMWATCH_DELIVERY_LEASE_S": str(LEASE_S),
        "CLAIMWATCH_RECHECK_ARTICLES": "false",
    }
    desk = NewsDesk(rng)
    mtime = [time.time() - 1_000_000]
    kills: list[Kill] = []
    db = Db(db_url)

    def files_in(path: Path) -> int:
        return sum(1 for p in path.iterdir() if p.is_file()) if path.exists() else 0

    def posted() -> int:
        return len(alert_messages(fake, channel))

    try:
        with BotProcess(tmp_path, env) as bot:
            # Subscribe the channel once, before any news; everything after goes to it.
            bot.start()
            wait_running(bot)
            bot.wait_for(lambda: fake.connection_count >= 1, 30, "the socket mode connection")
            cmd = fake.slash("subscribe", user_id=ADMIN, channel_id=channel)
            cmd.wait_acked(30)
            assert "subscribed" in cmd.wait_response(30)[0]["text"]
            assert bot.stop() == 0

            modes = [KILL_MODES[i % len(KILL_MODES)] for i in range(trials)]
            rng.shuffle(modes)
            for trial, mode in enumerate(modes):
                plan = Plan.draw(rng, mode)
                files = desk.batch()
                if plan.arrival == "cold":
                    drop(folder, files, mtime)
                done0, posted0 = files_in(processed), posted()
                if mode == "held":
                    fake.hold_responses(1, HOLD_S)
                bot.start()
                wait_running(bot)
                began = time.monotonic()
                if plan.arrival == "live":
                    time.sleep(plan.live_after)
                    drop(folder, files, mtime)
                landed, landed_at = False, 0.0
                if mode == "ingest":  # between two files of the batch, or inside one
                    target = done0 + 1 + int(plan.progress * max(0, files_in(folder) - 2))
                    until(reached(lambda: files_in(processed), target), 10)
                elif mode == "delivery":  # amid the posts
                    target = posted0 + 1 + int(plan.progress * 4)
                    until(reached(posted, target), 10)
                elif mode == "held":  # the post is in the channel, its answer is held
                    landed = until(reached(posted, posted0 + 1), 10)
                    landed_at = time.monotonic()
                time.sleep(plan.jitter)
                bot.kill()
                killed_at = time.monotonic()
                fake.hold_responses(0, 0)
                kills.append(
                    Kill(
                        trial,
                        plan.arrival,
                        mode,
                        round(killed_at - began, 3),
                        files_in(processed) - done0,
                        files_in(folder),
                        posted() - posted0,
                        db.count("SELECT count(*) FROM deliveries WHERE state <> 'sent'"),
                        landed and killed_at - landed_at < HOLD_S,
                    )
                )
                if (trial + 1) % CHECK_EVERY == 0 or trial == trials - 1:
                    settle_and_check(bot, db, fake, channel, folder, desk, tmp_path, where)
    finally:
        db.close()

    print(f"\n{backend}: {len(kills)} kills {where}")
    for k in kills:
        print(f"  {k}")
    # The kills landed where they matter; otherwise the checks above prove little.
    assert sum(k.during_ingest for k in kills) >= 2, kills
    assert sum(k.during_delivery for k in kills) >= 2, kills
    assert sum(k.in_hold for k in kills) >= 1, kills


def settle_and_check(
    bot: BotProcess,
    db: Db,
    fake: FakeSlack,
    channel: str,
    folder: Path,
    desk: NewsDesk,
    tmp_path: Path,
    where: str,
) -> None:
    """Restart, let everything finish, stop cleanly, compare with the reference."""
    bot.start()
    wait_running(bot)

    def settled() -> bool:
        if any(p.is_file() for p in folder.iterdir()):
            return False
        alerts = db.count("SELECT count(*) FROM alerts")
        sent = db.count("SELECT count(*) FROM deliveries WHERE state = 'sent'")
        total = db.count("SELECT count(*) FROM deliveries")
        return total == sent == alerts and len(alert_messages(fake, channel)) >= total

    bot.wait_for(settled, 90, f"the bot to settle {where}")
    assert bot.stop() == 0, f"no clean stop {where}"
    assert "Traceback" not in bot.output(), f"an error was logged {where}"

    # Files: each one filed once, under its own name, with its own bytes.
    assert not [p.name for p in folder.iterdir() if p.is_file()], where
    same(
        (p.name for p in (folder / "processed").iterdir()),
        (f.name for f in desk.written),
        f"processed/ {where}",
    )
    assert not list((folder / "failed").iterdir()), where
    for f in desk.written:
        assert (folder / "processed" / f.name).read_bytes() == f.data, f.name

    # The database holds what ingesting the files once gives: no more, no less.
    checkpoint = f"reference-{len(desk.written)}"
    ref_url = f"sqlite+aiosqlite:///{tmp_path / checkpoint}.db"
    reference(ref_url, desk.written, tmp_path / checkpoint)
    ref = Db(ref_url)
    same(db.rows(ARTICLES_SQL), ref.rows(ARTICLES_SQL), f"articles (id, story, versions) {where}")
    same(db.rows(CLAIMS_SQL), ref.rows(CLAIMS_SQL), f"figures {where}")
    alerts = db.rows(ALERTS_SQL)
    same(alerts, ref.rows(ALERTS_SQL), f"alerts {where}")
    types = Counter(a[1] for a in alerts)
    assert types["new_story"] and types["figure_rise"], types

    # Delivery: one row per alert, sent; one Slack message per row, none twice.
    deliveries = db.rows(
        "SELECT d.id, d.alert_key, d.state, d.message_id, a.story_id, a.seq "
        "FROM deliveries d JOIN alerts a ON a.key = d.alert_key"
    )
    same((d[1] for d in deliveries), (a[0] for a in alerts), f"delivery rows {where}")
    assert {d[2] for d in deliveries} == {"sent"}, where
    posted = alert_messages(fake, channel)
    twice = {k: n for k, n in Counter(delivery_key(m) for m, _ in posted).items() if n > 1}
    assert not twice, f"alerts posted more than once: {twice} {where}"
    expected = {f"cw{d[0]}-{d[1][:12]}": d for d in deliveries}
    same((delivery_key(m) for m, _ in posted), list(expected), f"alerts in Slack {where}")
    # The recorded message id is the message carrying the row's key, and each story's
    # alerts are one thread (its first alert at the top), in the order they were raised.
    roots: dict[str, set[str]] = {}
    for message, root in posted:
        _id, _key, _state, message_id, story, _seq = expected[delivery_key(message)]
        assert message.ts == message_id, (delivery_key(message), message.ts, message_id)
        roots.setdefault(story, set()).add(root.ts if root is not None else message.ts)
    assert all(len(r) == 1 for r in roots.values()), f"a story in several threads {where}"
    for top in fake.messages(channel):
        seqs = [expected[delivery_key(r)][5] for r in top.replies if r.params.get("metadata")]
        assert seqs == sorted(seqs), f"thread {top.ts} out of order {where}"
    print(f"checked: {len(desk.written)} files, {len(alerts)} alerts {dict(types)}")


# --------------------------------------------------------------------------------------
# The window random kills cannot hit: between the two halves of a move
# --------------------------------------------------------------------------------------


async def test_a_move_cut_short_between_link_and_unlink_is_finished(tmp_path: Path) -> None:
    """A file is moved to ``processed/`` by ``link`` then ``unlink``. A kill between the two
    leaves it in both folders (one inode, two names); the restart re-ingests it (a no-op
    downstream) and must finish that move, not file a timestamped second copy."""
    ingested: list[str] = []

    async def ingest(article: Article) -> None:
        ingested.append(article.id)

    folder = DropFolder(tmp_path / "drop", ingest, quiet_period=0.0)
    dropped = folder.root / "report.json"
    dropped.write_text(json.dumps({"guid": "g-1", "title": "t", "text": "3 people died."}))
    os.link(dropped, folder.processed_dir / "report.json")  # ... and then the kill came

    outcomes = await folder.scan()

    assert [o.status for o in outcomes] == [DropStatus.PROCESSED]
    assert outcomes[0].moved_to == folder.processed_dir / "report.json"
    assert ingested == ["guid:g-1"]
    assert not dropped.exists()
    assert sorted(p.name for p in folder.processed_dir.iterdir()) == ["report.json"]
    assert (folder.processed_dir / "report.json").stat().st_nlink == 1


# --------------------------------------------------------------------------------------
# After a restart: the backlog a crash left, and new files arriving meanwhile
# --------------------------------------------------------------------------------------


async def test_files_dropped_while_a_backlog_is_scanned_wait_for_the_backlog(
    tmp_path: Path,
) -> None:
    """A killed bot leaves files behind; the restart's scan takes them oldest first. A file
    announced by inotify meanwhile must not slip in between them: change detection is
    order-dependent, so a toll update ingested before the report it updates would raise
    a different alert (a drop instead of a rise) than the same files in order."""
    ingested: list[str] = []
    began = asyncio.Event()

    async def ingest(article: Article) -> None:
        ingested.append(article.id)
        began.set()
        await asyncio.sleep(0.1)  # a database that takes its time

    folder = DropFolder(tmp_path / "drop", ingest)
    backlog = [f"old-{i}" for i in range(4)]
    stamp = time.time() - 3600
    for i, name in enumerate(backlog):
        path = folder.root / f"{name}.json"
        path.write_text(json.dumps({"guid": name, "title": name, "text": "3 people died."}))
        os.utime(path, (stamp + i, stamp + i))
    watcher = DropFolderWatcher(folder, poll_interval=0.2)
    async with watcher:
        if not watcher.events_active:
            pytest.skip("no inotify here: only the scan runs, which keeps order anyway")
        await asyncio.wait_for(began.wait(), 10)  # the restart's scan is into the backlog
        late = folder.root / ".new.json.tmp"
        late.write_text(json.dumps({"guid": "new", "title": "new", "text": "5 people died."}))
        late.rename(folder.root / "new.json")
        for _ in range(500):
            if len(ingested) == len(backlog) + 1:
                break
            await asyncio.sleep(0.01)
    assert ingested == [f"guid:{name}" for name in backlog] + ["guid:new"]
