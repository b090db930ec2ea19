"""The drop folder against hostile and clumsy writers (issue 11: H3, H4, H5, H8).

Everything is real: files, links, FIFOs and sockets on disk, the real watchdog observer,
and, where the bot must survive as a process (a FIFO, SIGTERM), ``claimwatch run`` in a
subprocess. Whoever can write the drop folder must not make the bot read, move or write
anything outside it, nor hang it; a writer that pauses must not lose the rest of its file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import pytest

from adapters.dropfolder import DropFolder, DropFolderError, DropFolderWatcher, DropStatus
from bot.bootstrap import App, build_app
from bot.clock import utc_now
from bot.config import Settings
from bot.domain.articles import Article
from bot.service.ingest import IngestArticle
from tests.botproc import PROXY_VARS, ROOT

BUS = (
    "At least 12 people were killed when a bus plunged into a ravine in Nepal on Monday, "
    "police said."
)
FLOOD = "Floods in northern Italy have forced 3,000 people from their homes, officials said."
SECRET = "The outside file: 41 people were killed, said nobody who should be read."


class Collector:
    def __init__(self) -> None:
        self.articles: list[Article] = []

    async def __call__(self, article: Article) -> None:
        self.articles.append(article)

    @property
    def texts(self) -> list[str]:
        return [a.text for a in self.articles]


async def wait_for(cond: Callable[[], bool], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(0.02)
    return cond()


def make_old(path: Path, seconds: float = 600.0) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past), follow_symlinks=False)


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder the bot can reach but must never write to."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(SECRET, encoding="utf-8")
    return folder


@contextlib.asynccontextmanager
async def watching(folder: DropFolder, **kwargs: float | bool) -> AsyncIterator[DropFolderWatcher]:
    watcher = DropFolderWatcher(folder, **kwargs)  # type: ignore[arg-type]
    watcher.start()
    try:
        yield watcher
    finally:
        await watcher.stop()


# -- H3: symlinked processed/ and failed/ ----------------------------------------------


@pytest.mark.parametrize("sub", ["processed", "failed"])
def test_a_symlinked_subfolder_is_refused_at_start(tmp_path: Path, outside: Path, sub: str) -> None:
    root = tmp_path / "drop"
    root.mkdir()
    (root / sub).symlink_to(outside, target_is_directory=True)
    with pytest.raises(DropFolderError, match=f"{sub} is a symbolic link"):
        DropFolder(root, Collector())
    assert entries(outside) == ["secret.txt"]


@pytest.mark.parametrize("sub", ["processed", "failed"])
async def test_a_subfolder_swapped_for_a_symlink_while_running_gets_nothing(
    tmp_path: Path, outside: Path, sub: str, caplog: pytest.LogCaptureFixture
) -> None:
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector)
    async with watching(folder, poll_interval=0.1):
        await asyncio.sleep(0.1)
        (folder.root / sub).rename(tmp_path / f"{sub}.moved-away")
        (folder.root / sub).symlink_to(outside, target_is_directory=True)
        good, bad = folder.root / "bus.txt", folder.root / "empty.txt"
        good.write_text(BUS, encoding="utf-8")
        bad.write_bytes(b"")
        for path in (good, bad):
            make_old(path)
        await asyncio.sleep(1.0)  # several scans
        assert entries(outside) == ["secret.txt"]  # no file, no .reason written there
        moved = good if sub == "processed" else bad
        assert moved.exists()  # left in place, to be filed once the folder is fixed
        refusals = [r for r in caplog.records if "symbolic link" in r.getMessage()]
        assert len(refusals) == 1, "the refusal is logged once, not on every scan"

        (folder.root / sub).unlink()  # the operator puts a real folder back
        assert await wait_for(lambda: not good.exists() and not bad.exists(), 5.0)
    assert entries(outside) == ["secret.txt"]
    assert "bus.txt" in entries(folder.processed_dir)
    assert {"empty.txt", "empty.txt.reason"} <= set(entries(folder.failed_dir))


# -- H4: open once, no links followed, no blocking ------------------------------------


async def test_a_symlink_to_an_outside_file_is_filed_as_failed_not_read(
    tmp_path: Path, outside: Path
) -> None:
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector)
    link = folder.root / "leak.txt"
    link.symlink_to(outside / "secret.txt")
    outcome = await folder.process_file(link, wait_until_complete=False)
    assert outcome.status is DropStatus.FAILED
    assert collector.articles == []
    assert outcome.moved_to is not None and outcome.moved_to.is_symlink()  # the link itself
    reason = outcome.moved_to.with_name(outcome.moved_to.name + ".reason").read_text("utf-8")
    assert "symbolic link" in reason
    assert (outside / "secret.txt").read_text(encoding="utf-8") == SECRET


async def test_swapping_a_file_for_a_link_never_reads_the_outside_file(
    tmp_path: Path, outside: Path
) -> None:
    """A racer keeps replacing the dropped name by a regular file and by a link to an
    outside file; whatever the timing, the bot reads the file it opened and checked."""
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector)
    name = folder.root / "swap.txt"
    stop = threading.Event()

    def racer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            regular = folder.root / f".r{n}.tmp"
            regular.write_text(BUS, encoding="utf-8")
            os.replace(regular, name)
            link = folder.root / f".l{n}.tmp"
            link.symlink_to(outside / "secret.txt")
            os.replace(link, name)

    thread = threading.Thread(target=racer, daemon=True)
    thread.start()
    outcomes = []
    try:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            outcomes.append(await folder.process_file(name, wait_until_complete=False))
    finally:
        stop.set()
        thread.join(5)
    statuses = {o.status for o in outcomes}
    assert DropStatus.PROCESSED in statuses and DropStatus.FAILED in statuses  # both raced
    assert all(SECRET not in text for text in collector.texts)
    assert collector.texts and all(text == BUS for text in collector.texts)


async def test_fifos_and_sockets_go_to_failed_and_the_folder_keeps_working(
    tmp_path: Path,
) -> None:
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector)
    os.mkfifo(tmp_path / "outside.fifo")
    (folder.root / "pipe.txt").symlink_to(tmp_path / "outside.fifo")
    os.mkfifo(folder.root / "direct.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder.root / "sock.txt"))
    (folder.root / "bus.txt").write_text(BUS, encoding="utf-8")
    for name in ("pipe.txt", "direct.txt", "sock.txt", "bus.txt"):
        make_old(folder.root / name)
    try:
        outcomes = await asyncio.wait_for(folder.scan(), 10)
    finally:
        server.close()
    by_name = {o.path.name: o for o in outcomes}
    assert by_name["bus.txt"].status is DropStatus.PROCESSED
    assert collector.texts == [BUS]
    expected = {"pipe.txt": "symbolic link", "direct.txt": "FIFO", "sock.txt": "socket"}
    for name, words in expected.items():
        assert by_name[name].status is DropStatus.FAILED, by_name[name]
        reason = (folder.failed_dir / f"{name}.reason").read_text(encoding="utf-8")
        assert words in reason
    assert entries(folder.root) == ["failed", "processed"]


def _bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env.update(
        {
            "CLAIMWATCH_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "CLAIMWATCH_LOG_LEVEL": "INFO",
            "CLAIMWATCH_ADAPTERS": "console",
            "CLAIMWATCH_DROP_POLL_INTERVAL_S": "0.2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class LogPipe:
    """The bot's stderr read by a thread (a pipe: no file-size limit applies to it)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        self._stream = proc.stderr
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for raw in self._stream:
            self.lines.append(raw.decode("utf-8", "replace"))

    @property
    def text(self) -> str:
        return "".join(self.lines)


@contextlib.contextmanager
def bot(
    tmp_path: Path, drop: Path, *, prefix: Sequence[str] = (), **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], LogPipe]]:
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "bot.cli", "run", "--drop-dir", str(drop)],
        cwd=ROOT,
        env=_bot_env(tmp_path, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log = LogPipe(proc)
    try:
        yield proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def wait_until(cond: Callable[[], bool], within: float, log: LogPipe, what: str) -> None:
    deadline = time.monotonic() + within
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{log.text[-4000:]}")
        time.sleep(0.05)


def test_a_link_to_a_fifo_neither_hangs_the_bot_nor_stops_sigterm(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    os.mkfifo(tmp_path / "trap.fifo")
    (drop / "trap.txt").symlink_to(tmp_path / "trap.fifo")
    make_old(drop / "trap.txt")
    (drop / "bus.txt").write_text(BUS, encoding="utf-8")
    make_old(drop / "bus.txt", 60)  # newer than the trap: read after it
    with bot(tmp_path, drop) as (proc, log):
        wait_until(lambda: (drop / "processed" / "bus.txt").exists(), 30, log, "bus.txt")
        assert (drop / "failed" / "trap.txt").is_symlink()
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(15)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"SIGTERM did not stop the bot:\n{log.text[-3000:]}") from None
    assert code == 0
    assert "Traceback" not in log.text


# -- H5: slow writers ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["txt", "json"])
async def test_a_writer_pausing_mid_file_is_read_once_it_closes(
    tmp_path: Path, suffix: str
) -> None:
    """inotify is live: the polling scan must not read a file that merely went quiet
    for a second or two; the close-after-write event says when it is complete."""
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector)  # default quiet period
    body = f"{BUS}\n\n{FLOOD}\n"
    data = json.dumps({"title": "Bus", "text": body}) if suffix == "json" else body
    half = len(data) // 2
    async with watching(folder, poll_interval=0.1) as watcher:
        if not watcher.events_active:
            pytest.skip("no inotify here")
        with (folder.root / f"slow.{suffix}").open("w", encoding="utf-8") as handle:
            handle.write(data[:half])
            handle.flush()
            await asyncio.sleep(2.0)  # a writer waiting on its network
            handle.write(data[half:])
        assert await wait_for(lambda: bool(collector.articles), 5.0)
        await asyncio.sleep(0.3)
    assert len(collector.articles) == 1
    assert BUS in collector.texts[0] and FLOOD in collector.texts[0]
    assert entries(folder.failed_dir) == []
    assert entries(folder.processed_dir) == [f"slow.{suffix}"]


async def test_a_file_written_on_after_it_was_moved_is_read_again(tmp_path: Path) -> None:
    """Polling only, short quiet period: a pause longer than it gets the first half read
    and moved; the rest, written into the moved file, is read and ingested as a new
    version of the same article."""
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector, quiet_period=0.5)
    async with watching(folder, poll_interval=0.1, use_inotify=False):
        with (folder.root / "slow.txt").open("w", encoding="utf-8") as handle:
            handle.write(BUS + "\n\n")
            handle.flush()
            moved = folder.processed_dir / "slow.txt"
            assert await wait_for(moved.exists, 5.0)  # read and moved half-way
            assert collector.texts == [BUS]
            handle.write(FLOOD + "\n")
        assert await wait_for(lambda: len(collector.articles) == 2, 5.0)
    first, second = collector.articles
    assert first.text == BUS and BUS in second.text and FLOOD in second.text
    assert first.id == second.id  # a new version of the same article, not a new one
    assert (folder.processed_dir / "slow.txt").read_text(encoding="utf-8") == f"{BUS}\n\n{FLOOD}\n"


async def test_json_filed_as_broken_while_written_is_ingested_when_finished(
    tmp_path: Path,
) -> None:
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector, quiet_period=0.5)
    data = json.dumps({"title": "Bus", "text": BUS})
    async with watching(folder, poll_interval=0.1, use_inotify=False):
        with (folder.root / "late.json").open("w", encoding="utf-8") as handle:
            handle.write(data[:20])
            handle.flush()
            assert await wait_for(lambda: (folder.failed_dir / "late.json").exists(), 5.0)
            handle.write(data[20:])
        assert await wait_for(lambda: (folder.processed_dir / "late.json").exists(), 5.0)
    assert collector.texts == [BUS]
    assert entries(folder.failed_dir) == []  # its .reason went with it


# -- H8: names that are not UTF-8, entries that cannot be opened -----------------------


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    application = await build_app(Settings(), db_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        yield application
    finally:
        await application.close()


async def test_a_name_that_is_not_utf8_is_ingested_under_a_safe_name(
    tmp_path: Path, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    async def ingest(article: Article) -> None:
        await app.bus.handle(IngestArticle(article, utc_now()))

    folder = DropFolder(tmp_path / "drop", ingest)
    raw = os.fsencode(folder.root) + b"/bus-\xff\xfe.txt"
    fd = os.open(raw, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, BUS.encode())
    os.close(fd)
    os.utime(raw, (time.time() - 600, time.time() - 600))
    async with watching(folder, poll_interval=0.1):
        assert await wait_for(lambda: os.listdir(os.fsencode(folder.processed_dir)) != [], 10)
    assert os.listdir(os.fsencode(folder.processed_dir)) == [b"bus-\xff\xfe.txt"]
    assert os.listdir(os.fsencode(folder.root)) == [b"failed", b"processed"] or sorted(
        os.listdir(os.fsencode(folder.root))
    ) == [b"failed", b"processed"]
    db = sqlite3.connect(tmp_path / "x.db")
    try:
        ids = [row[0] for row in db.execute("SELECT id FROM articles")]
    finally:
        db.close()
    assert ids == ["file:bus-\\xff\\xfe.txt"]
    assert not any(r.exc_info for r in caplog.records)


async def test_an_entry_that_cannot_be_opened_is_failed_with_a_reason_and_the_scan_goes_on(
    tmp_path: Path,
) -> None:
    collector = Collector()
    folder = DropFolder(tmp_path / "drop", collector)
    server = socket.socket(socket.AF_UNIX)  # opening a socket file fails, even for root
    server.bind(str(folder.root / "a-unopenable.txt"))
    (folder.root / "b-bus.txt").write_text(BUS, encoding="utf-8")
    make_old(folder.root / "a-unopenable.txt", 900)
    make_old(folder.root / "b-bus.txt", 600)
    try:
        outcomes = await folder.scan()
    finally:
        server.close()
    assert [o.status for o in outcomes] == [DropStatus.FAILED, DropStatus.PROCESSED]
    reason = (folder.failed_dir / "a-unopenable.txt.reason").read_text(encoding="utf-8")
    assert "socket" in reason and "a-unopenable.txt" in reason
    assert collector.texts == [BUS]


def test_a_file_without_read_permission_is_failed_with_a_reason(tmp_path: Path) -> None:
    """Permissions stop no process running as root, so as root the bot runs without the
    capabilities that bypass them (``setpriv``), like a bot run as an ordinary user."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: no way to be refused a read")
        caps = "-dac_override,-dac_read_search"
        prefix = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a-locked.txt").write_text(BUS, encoding="utf-8")
    (drop / "a-locked.txt").chmod(0o000)
    (drop / "b-flood.txt").write_text(FLOOD, encoding="utf-8")
    make_old(drop / "a-locked.txt", 900)
    make_old(drop / "b-flood.txt", 600)
    with bot(tmp_path, drop, prefix=prefix) as (proc, log):
        wait_until(lambda: (drop / "processed" / "b-flood.txt").exists(), 30, log, "b-flood")
        reason = drop / "failed" / "a-locked.txt.reason"
        wait_until(reason.exists, 10, log, "the reason")
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    text = reason.read_text(encoding="utf-8")
    assert "permission denied" in text.lower() and "a-locked.txt" in text
    assert "Traceback" not in log.text


async def test_a_file_that_breaks_ingest_goes_to_failed_after_three_tries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not the database failing but one file's articles making ``ingest`` raise: the file
    is retried a few times (the traceback logged once), then filed as failed, and the
    files behind it are not held up."""
    ingested: list[str] = []

    async def picky(article: Article) -> None:
        if "ravine" in article.text:
            raise ValueError("cannot handle ravines")
        ingested.append(article.text)

    folder = DropFolder(tmp_path / "drop", picky)
    (folder.root / "a-bus.txt").write_text(BUS, encoding="utf-8")
    (folder.root / "b-flood.txt").write_text(FLOOD, encoding="utf-8")
    make_old(folder.root / "a-bus.txt", 900)
    make_old(folder.root / "b-flood.txt", 600)
    statuses = [[o.status for o in await folder.scan()] for _ in range(3)]
    assert statuses[0] == [DropStatus.RETRY, DropStatus.PROCESSED]
    assert statuses[1] == [DropStatus.RETRY]
    assert statuses[2] == [DropStatus.FAILED]
    assert ingested == [FLOOD]
    reason = (folder.failed_dir / "a-bus.txt.reason").read_text(encoding="utf-8")
    assert "cannot handle ravines" in reason and "3 attempts" in reason
    assert len([r for r in caplog.records if r.exc_info]) == 1
    assert await folder.scan() == []


async def test_a_file_swapped_after_it_was_read_is_not_filed_unread(tmp_path: Path) -> None:
    """The name is moved only if it still is the file that was read: another file
    swapped in meanwhile would otherwise be filed as processed without being read."""
    texts: list[str] = []
    swap = True

    async def ingest(article: Article) -> None:
        nonlocal swap
        texts.append(article.text)
        if swap:  # a writer replaces the file while its article is being ingested
            swap = False
            (folder.root / ".flood.tmp").write_text(FLOOD, encoding="utf-8")
            os.replace(folder.root / ".flood.tmp", folder.root / "news.txt")

    folder = DropFolder(tmp_path / "drop", ingest)
    (folder.root / "news.txt").write_text(BUS, encoding="utf-8")
    first = await folder.process_file(folder.root / "news.txt", wait_until_complete=False)
    assert first.status is DropStatus.RETRY and "replaced" in (first.reason or "")
    second = await folder.process_file(folder.root / "news.txt", wait_until_complete=False)
    assert second.status is DropStatus.PROCESSED
    assert texts == [BUS, FLOOD]
    assert (folder.processed_dir / "news.txt").read_text(encoding="utf-8") == FLOOD
