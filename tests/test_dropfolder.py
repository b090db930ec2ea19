"""The drop folder with real files and a real watchdog observer (no mocks)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from adapters.dropfolder import (
    DropFolder,
    DropFolderWatcher,
    DropOutcome,
    DropStatus,
    is_ignored_name,
)
from bot.domain.articles import Article

BUS = (
    "At least 12 people were killed when a bus plunged into a ravine in Nepal on Monday, "
    "police said."
)
QUAKE = (
    "A magnitude 6.1 earthquake struck off the coast of Japan on Tuesday, the meteorological "
    "agency said. There were no immediate reports of damage."
)
FLOOD = "Floods in northern Italy have forced 3,000 people from their homes, officials said."


class Collector:
    """The ingest handler: records articles and when they arrived."""

    def __init__(self) -> None:
        self.articles: list[Article] = []
        self.times: list[float] = []

    async def __call__(self, article: Article) -> None:
        self.times.append(time.perf_counter())
        self.articles.append(article)

    @property
    def texts(self) -> list[str]:
        return [a.text for a in self.articles]


async def wait_for(cond: Callable[[], bool], within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(0.01)
    return cond()


def make_old(path: Path, seconds: float = 60.0) -> None:
    """Files that were there before the bot started are not fresh."""
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def folder(tmp_path: Path, collector: Collector) -> DropFolder:
    return DropFolder(tmp_path / "drop", collector)


@pytest.fixture
async def watcher(folder: DropFolder) -> AsyncIterator[DropFolderWatcher]:
    w = DropFolderWatcher(folder, poll_interval=2.0)
    w.start()
    await asyncio.sleep(0.1)  # let the initial scan of an empty folder finish
    yield w
    await w.stop()


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


# -- DropFolder on its own ------------------------------------------------------------


def test_layout_is_created(tmp_path: Path, collector: Collector) -> None:
    f = DropFolder(tmp_path / "a" / "drop", collector)
    assert f.root.is_dir() and f.processed_dir.is_dir() and f.failed_dir.is_dir()


@pytest.mark.parametrize(
    "name",
    [".hidden.txt", "x.part", "x.TMP", "x.txt~", "x.crdownload", "~$x.docx", "README.md"],
)
def test_temporary_and_hidden_names_are_ignored(name: str) -> None:
    assert is_ignored_name(name)


def test_article_names_are_not_ignored() -> None:
    assert not is_ignored_name("report.txt")
    assert not is_ignored_name("feed.xml")


async def test_ignored_file_is_skipped_and_left(folder: DropFolder, collector: Collector) -> None:
    path = folder.root / "story.txt.part"
    path.write_text(BUS, encoding="utf-8")
    outcome = await folder.process_file(path)
    assert outcome.status is DropStatus.SKIPPED
    assert path.exists() and collector.articles == []


async def test_files_present_are_processed_by_scan_in_mtime_order(
    folder: DropFolder, collector: Collector
) -> None:
    (folder.root / "b.txt").write_text(QUAKE, encoding="utf-8")
    (folder.root / "a.txt").write_text(BUS, encoding="utf-8")
    make_old(folder.root / "b.txt", 120)
    make_old(folder.root / "a.txt", 60)
    outcomes = await folder.scan()
    assert [o.status for o in outcomes] == [DropStatus.PROCESSED, DropStatus.PROCESSED]
    assert collector.texts == [QUAKE, BUS]  # older first, although "a" < "b"
    assert names(folder.processed_dir) == ["a.txt", "b.txt"]
    assert names(folder.root) == []


async def test_json_list_ingests_each_article_in_order(
    folder: DropFolder, collector: Collector
) -> None:
    path = folder.root / "batch.json"
    items = [{"title": "Bus crash", "text": BUS}, {"title": "Floods", "text": FLOOD}]
    path.write_text(json.dumps(items), encoding="utf-8")
    outcome = await folder.process_file(path, wait_until_complete=False)
    assert outcome.status is DropStatus.PROCESSED and outcome.articles == 2
    assert collector.texts == [BUS, FLOOD]


async def test_rss_feed_file_is_read(folder: DropFolder, collector: Collector) -> None:
    path = folder.root / "wire.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
        f"<item><guid>w-1</guid><title>Bus crash</title><description>{BUS}</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    outcome = await folder.process_file(path, wait_until_complete=False)
    assert outcome.status is DropStatus.PROCESSED, outcome.reason
    assert collector.texts == [BUS]


def read_reason(outcome: DropOutcome) -> str:
    assert outcome.moved_to is not None
    reason_file = outcome.moved_to.with_name(outcome.moved_to.name + ".reason")
    return reason_file.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
        ("blob.dat", bytes(range(256)) * 8, "binary"),
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\t\n", "empty"),
        ("garbage.txt", b"Police said " + b"\xe9\xe8\xe0\xc3\x28" * 40, "not valid UTF-8"),
        ("broken.json", b'{"title": "Bus crash", "text": "At least 12', "broken JSON"),
        ("notext.json", b'{"title": "Bus crash"}', "no article text"),
    ],
)
async def test_unreadable_files_go_to_failed_with_a_reason(
    folder: DropFolder, collector: Collector, name: str, content: bytes, expected: str
) -> None:
    path = folder.root / name
    path.write_bytes(content)
    outcome = await folder.process_file(path, wait_until_complete=False)
    assert outcome.status is DropStatus.FAILED
    assert collector.articles == []
    assert not path.exists()
    assert outcome.moved_to == folder.failed_dir / name
    assert outcome.moved_to.read_bytes() == content  # kept intact, not deleted
    reason = read_reason(outcome)
    assert expected.lower() in reason.lower()
    assert "ArticleReadError" in reason
    assert "time: 20" in reason


async def test_too_large_file_fails(tmp_path: Path, collector: Collector) -> None:
    f = DropFolder(tmp_path / "drop", collector, max_bytes=100)
    path = f.root / "long.txt"
    path.write_text(BUS * 5, encoding="utf-8")
    outcome = await f.process_file(path, wait_until_complete=False)
    assert outcome.status is DropStatus.FAILED
    assert "too large" in read_reason(outcome)


async def test_failing_handler_leaves_the_file_for_a_later_scan(tmp_path: Path) -> None:
    calls = 0

    async def broken(article: Article) -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("database is down")

    root = tmp_path / "drop"
    failing = DropFolder(root, broken)
    path = root / "bus.txt"
    path.write_text(BUS, encoding="utf-8")
    make_old(path)
    [outcome] = await failing.scan()
    assert outcome.status is DropStatus.RETRY
    assert "database is down" in (outcome.reason or "")
    assert calls == 1 and path.exists()
    assert names(failing.processed_dir) == [] and names(failing.failed_dir) == []

    collector = Collector()
    working = DropFolder(root, collector)
    [outcome] = await working.scan()
    assert outcome.status is DropStatus.PROCESSED
    assert collector.texts == [BUS]
    assert names(working.processed_dir) == ["bus.txt"]


async def test_name_clash_in_processed_keeps_both(folder: DropFolder, collector: Collector) -> None:
    path = folder.root / "bus.txt"
    path.write_text(BUS, encoding="utf-8")
    first = await folder.process_file(path, wait_until_complete=False)
    path.write_text(BUS.replace("12", "14"), encoding="utf-8")
    second = await folder.process_file(path, wait_until_complete=False)
    third_path = folder.root / "bus.txt"
    third_path.write_text(BUS.replace("12", "15"), encoding="utf-8")
    third = await folder.process_file(third_path, wait_until_complete=False)
    targets = [o.moved_to for o in (first, second, third)]
    assert None not in targets and len(set(targets)) == 3
    kept = sorted(p.read_text(encoding="utf-8") for p in folder.processed_dir.iterdir())
    assert kept == sorted([BUS, BUS.replace("12", "14"), BUS.replace("12", "15")])
    assert all(t is not None and t.suffix == ".txt" for t in targets)
    assert len(collector.articles) == 3


async def test_name_clash_in_failed_keeps_both(folder: DropFolder) -> None:
    for _ in range(2):
        (folder.root / "empty.txt").write_bytes(b"")
        outcome = await folder.process_file(folder.root / "empty.txt", wait_until_complete=False)
        assert outcome.status is DropStatus.FAILED
    files = names(folder.failed_dir)
    assert len([n for n in files if n.endswith(".txt")]) == 2
    assert len([n for n in files if n.endswith(".reason")]) == 2


async def test_growing_file_is_not_read_by_polling(
    folder: DropFolder, collector: Collector
) -> None:
    path = folder.root / "bus.txt"
    with path.open("w", encoding="utf-8") as writer:  # fresh and still open for writing
        writer.write(BUS)
        writer.flush()
        outcome = await folder.process_file(path)
    assert outcome.status is DropStatus.RETRY
    assert collector.articles == [] and path.exists()


async def test_a_fresh_file_no_one_writes_is_read_by_polling_at_once(
    folder: DropFolder, collector: Collector
) -> None:
    """Closed before the watch began (e.g. while the bot started): no close-after-write
    will come, and no writer has it open, so it need not wait for the quiet period."""
    path = folder.root / "bus.txt"
    path.write_text(BUS, encoding="utf-8")
    outcome = await folder.process_file(path)
    assert outcome.status is DropStatus.PROCESSED
    assert collector.texts == [BUS]


# -- the watcher ------------------------------------------------------------------------


async def test_dropped_file_is_ingested_quickly(
    watcher: DropFolderWatcher, folder: DropFolder, collector: Collector
) -> None:
    assert watcher.events_active
    path = folder.root / "bus.txt"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(BUS)
    closed = time.perf_counter()
    assert await wait_for(lambda: (folder.processed_dir / "bus.txt").exists(), 1.0)
    assert collector.texts == [BUS]
    assert collector.times[0] - closed < 1.0
    assert not path.exists()


@pytest.mark.parametrize("outside", [True, False])
async def test_renamed_in_file_is_ingested_once(
    watcher: DropFolderWatcher,
    folder: DropFolder,
    collector: Collector,
    tmp_path: Path,
    outside: bool,
) -> None:
    tmp = (tmp_path / "x.tmp") if outside else (folder.root / "x.tmp")
    tmp.write_text(QUAKE, encoding="utf-8")
    await asyncio.sleep(0.1)
    assert collector.articles == []  # the temporary name is not read
    os.rename(tmp, folder.root / "quake.txt")
    assert await wait_for(lambda: (folder.processed_dir / "quake.txt").exists(), 1.0)
    await asyncio.sleep(0.3)
    assert collector.texts == [QUAKE]


async def test_files_present_before_start_are_processed(
    folder: DropFolder, collector: Collector
) -> None:
    for name, text in (("a.txt", BUS), ("b.txt", FLOOD)):
        (folder.root / name).write_text(text, encoding="utf-8")
        make_old(folder.root / name)
    (folder.root / "bad.json").write_text("{", encoding="utf-8")
    make_old(folder.root / "bad.json")
    w = DropFolderWatcher(folder, poll_interval=60)
    w.start()
    try:
        assert await wait_for(lambda: len(names(folder.processed_dir)) == 2, 2.0)
        assert await wait_for(lambda: "bad.json" in names(folder.failed_dir), 1.0)
    finally:
        await w.stop()
    assert sorted(collector.texts) == sorted([BUS, FLOOD])


async def test_polling_only_picks_up_a_dropped_file(tmp_path: Path, collector: Collector) -> None:
    folder = DropFolder(tmp_path / "drop", collector, quiet_period=1.0)
    w = DropFolderWatcher(folder, poll_interval=0.2, use_inotify=False)
    w.start()
    try:
        assert not w.events_active
        (folder.root / "flood.txt").write_text(FLOOD, encoding="utf-8")
        dropped = time.perf_counter()
        assert await wait_for(lambda: bool(collector.articles), 5.0)
        latency = collector.times[0] - dropped
    finally:
        await w.stop()
    assert collector.texts == [FLOOD]
    assert (folder.processed_dir / "flood.txt").exists()
    assert latency < 3.0  # quiet_period (1 s) + a poll interval, with slack for load


@pytest.mark.parametrize("use_inotify", [True, False])
async def test_slowly_written_file_is_read_complete_once(
    tmp_path: Path, collector: Collector, use_inotify: bool
) -> None:
    folder = DropFolder(tmp_path / "drop", collector, quiet_period=1.0)
    chunks = [BUS + "\n\n", QUAKE + "\n\n", FLOOD + "\n"]
    w = DropFolderWatcher(folder, poll_interval=0.1, use_inotify=use_inotify)
    w.start()
    try:
        with (folder.root / "slow.txt").open("w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
                await asyncio.sleep(0.3)  # longer than the 50 ms size check
        assert await wait_for(lambda: bool(collector.articles), 4.0)
        await asyncio.sleep(0.3)
    finally:
        await w.stop()
    assert len(collector.articles) == 1
    text = collector.articles[0].text
    assert BUS in text and QUAKE in text and FLOOD in text
    assert names(folder.processed_dir) == ["slow.txt"]


async def test_failing_handler_is_retried_by_polling(tmp_path: Path) -> None:
    attempts: list[str] = []

    async def flaky(article: Article) -> None:
        attempts.append(article.text)
        if len(attempts) == 1:
            raise ConnectionError("database is down")

    f = DropFolder(tmp_path / "drop", flaky)
    w = DropFolderWatcher(f, poll_interval=0.2)
    w.start()
    try:
        (f.root / "bus.txt").write_text(BUS, encoding="utf-8")
        assert await wait_for(lambda: (f.processed_dir / "bus.txt").exists(), 4.0)
    finally:
        await w.stop()
    assert attempts == [BUS, BUS]


async def test_stop_is_clean_and_idempotent(folder: DropFolder, collector: Collector) -> None:
    w = DropFolderWatcher(folder, poll_interval=0.1)
    w.start()
    (folder.root / "bus.txt").write_text(BUS, encoding="utf-8")
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    await w.stop()
    stopped_in = time.perf_counter() - started
    await w.stop()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert not w.running and not w.events_active
    assert stopped_in < 2.0
    # Nothing arrives after stop.
    (folder.root / "late.txt").write_text(FLOOD, encoding="utf-8")
    await asyncio.sleep(0.3)
    assert FLOOD not in collector.texts
    assert (folder.root / "late.txt").exists()


async def test_stop_before_start_is_harmless(folder: DropFolder) -> None:
    w = DropFolderWatcher(folder)
    await w.stop()
    assert asyncio.all_tasks() == {asyncio.current_task()}
