"""Drop folder adapter: files dropped into a folder become articles.

Layout (created if missing)::

    <root>/            incoming: people and scrapers drop files here
    <root>/processed/  files whose articles were all handed to ``ingest``
    <root>/failed/     files that could not be read, each with ``<name>.reason`` beside it

A file may hold one article (``.txt``/``.md``/``.html``/``.json``), a JSON list of
articles, or an RSS/Atom feed; reading is ``bot.ingest.readers.read_path``, so a dropped
file reads exactly like a seed folder.

Crash safety: *moving the file is the commit point*. Articles are handed to ``ingest``
first, the file is moved afterwards; ingest is idempotent downstream (the same article
twice is a no-op), so a crash between ingest and move only re-ingests the file on
restart. A file is never deleted and never overwritten: a name clash in ``processed/``
or ``failed/`` gets a timestamp (and, if needed, a counter) before the suffix. If
``ingest`` raises, the file stays where it is and is retried by the next scan, so a
database outage loses nothing.

Watching: ``DropFolderWatcher`` reacts to inotify close-after-write and moved-in events
(never to creation: a created file is usually still empty), and also polls, because
inotify does not see files written by other hosts on network mounts. Both paths go
through one lock, so a file is never processed twice at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import stat
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from watchdog.events import (
    DirMovedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

from bot.domain.articles import Article
from bot.ingest.errors import IngestError
from bot.ingest.files import DEFAULT_MAX_BYTES
from bot.ingest.readers import MANIFEST_NAMES, read_path

__all__ = [
    "DropFolder",
    "DropFolderWatcher",
    "DropOutcome",
    "DropStatus",
    "IngestHandler",
]

log = logging.getLogger(__name__)

IngestHandler = Callable[[Article], Awaitable[None]]
"""Receives each article of a file, in order; must be idempotent (see the module doc)."""

PROCESSED = "processed"
FAILED = "failed"
REASON_SUFFIX = ".reason"

# Names that writers use while a file is incomplete, and editors' scratch files.
_TEMP_SUFFIXES = frozenset(
    {".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp", ".swx"}
)
_MAX_REASON_ERRORS = 50


class DropStatus(StrEnum):
    """What happened to a dropped file."""

    PROCESSED = "processed"
    """All its articles were ingested and it was moved to ``processed/``."""
    FAILED = "failed"
    """It could not be read; it was moved to ``failed/`` with a ``.reason`` file."""
    SKIPPED = "skipped"
    """Not an input (hidden, temporary, gone, not a regular file): left alone."""
    RETRY = "retry"
    """Left in place on purpose (still being written, or ``ingest`` failed): tried again later."""


@dataclass(frozen=True, slots=True)
class DropOutcome:
    """The result of handling one file, for logs and tests."""

    path: Path
    """The file as it was found in the drop folder."""
    status: DropStatus
    articles: int = 0
    """Articles read (failed) or handed to ``ingest`` (processed, retry)."""
    reason: str | None = None
    moved_to: Path | None = None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    size: int
    mtime_ns: int


def is_ignored_name(name: str) -> bool:
    """Whether a file name is hidden, temporary or configuration rather than input.

    Writers that follow the safe protocol (write ``x.part``/``x.tmp``, then rename) are
    seen only once the name is final; dotfiles and ``~`` backups are never input.
    ``README*`` and the manifest are skipped like ``read_folder`` does.
    """
    if not name or name.startswith((".", "~")) or name.endswith("~"):
        return True
    if name.startswith("#") and name.endswith("#"):  # editor autosave
        return True
    if name in MANIFEST_NAMES or name.upper().startswith("README"):
        return True
    return Path(name).suffix.lower() in _TEMP_SUFFIXES


def _snapshot(path: Path) -> _Snapshot | None:
    """Size and mtime of a regular file (not following symlinks), or None."""
    try:
        st = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return _Snapshot(st.st_size, st.st_mtime_ns)


def _unique_target(folder: Path, name: str) -> Path:
    """A path in ``folder`` for ``name`` that does not exist yet (timestamp, then counter)."""
    target = folder / name
    if not target.exists():
        return target
    base = Path(name)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    for counter in range(1, 10_000):
        extra = stamp if counter == 1 else f"{stamp}-{counter}"
        target = folder / f"{base.stem}.{extra}{base.suffix}"
        if not target.exists():
            return target
    raise FileExistsError(errno.EEXIST, "no free name", str(folder / name))


def _linked_into(src: Path, folder: Path) -> Path | None:
    """The name ``src`` already has in ``folder`` (same inode), if it has one."""
    try:
        st = src.lstat()
    except OSError:
        return None
    if st.st_nlink < 2:  # the common case: no other name anywhere
        return None
    for candidate in (folder / src.name, *folder.iterdir()):
        try:
            other = candidate.lstat()
        except OSError:
            continue
        if (other.st_ino, other.st_dev) == (st.st_ino, st.st_dev):
            return candidate
    return None


def _move_no_overwrite(src: Path, folder: Path) -> Path:
    """Move ``src`` into ``folder`` without ever replacing an existing file; return the target.

    ``os.rename`` silently replaces on POSIX, so the move is a hard link (which fails
    if the target exists) followed by unlinking the source. A crash between the two
    leaves the file in both places (one inode, two names): it is re-ingested (a no-op)
    and the interrupted move is finished by unlinking the source, so no second copy is
    filed and nothing is lost. File systems without hard links fall back to
    check-then-rename, which is safe against ourselves because moves are serialised.
    """
    linked = _linked_into(src, folder)
    if linked is not None:
        os.unlink(src)
        return linked
    for _ in range(100):
        target = _unique_target(folder, src.name)
        try:
            os.link(src, target, follow_symlinks=False)
        except FileExistsError:
            continue  # someone took the name between the check and the link
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if target.exists():
                continue
            os.rename(src, target)
            return target
        os.unlink(src)
        return target
    raise FileExistsError(errno.EEXIST, "no free name", str(folder / src.name))


def _format_reason(path: Path, errors: Iterable[BaseException]) -> str:
    errors = list(errors)
    lines = [
        f"file: {path.name}",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"errors: {len(errors)}",
    ]
    for error in errors[:_MAX_REASON_ERRORS]:
        lines.append(f"- {type(error).__name__}: {error}")
    if len(errors) > _MAX_REASON_ERRORS:
        lines.append(f"- … and {len(errors) - _MAX_REASON_ERRORS} more")
    return "\n".join(lines) + "\n"


class DropFolder:
    """One drop folder: reads each dropped file, hands its articles to ``ingest``, files it.

    ``process_file`` and ``scan`` may be called from several tasks (watcher events and
    polling); a lock serialises them so one file is never read or moved twice at once,
    and a scan keeps it for its whole batch so files go oldest first across both paths.
    """

    def __init__(
        self,
        root: Path,
        ingest: IngestHandler,
        *,
        outlet: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        settle_interval: float = 0.05,
        quiet_period: float = 1.0,
    ) -> None:
        """``settle_interval``: gap between the two size checks of a file found by polling.

        ``quiet_period``: a polled file must also not have changed for this long, because a
        writer pausing between chunks longer than ``settle_interval`` would otherwise be
        read half-written. Files announced by close-after-write or rename skip both checks.
        """
        self.root = Path(root).absolute()
        self.processed_dir = self.root / PROCESSED
        self.failed_dir = self.root / FAILED
        for folder in (self.root, self.processed_dir, self.failed_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.ingest = ingest
        self.outlet = outlet
        self.max_bytes = max_bytes
        self.settle_interval = settle_interval
        self.quiet_period = quiet_period
        self._lock = asyncio.Lock()
        # path -> (snapshot, monotonic time first seen with it): "unchanged for how long",
        # measured on our clock because a network mount's mtime comes from another host's.
        self._seen: dict[Path, tuple[_Snapshot, float]] = {}

    # -- public API -------------------------------------------------------------------

    def candidates(self) -> list[Path]:
        """Eligible files now in the folder, oldest first (mtime, then name)."""
        found: list[tuple[int, str, Path]] = []
        try:
            entries = list(os.scandir(self.root))
        except OSError as exc:
            log.warning("cannot list drop folder %s: %s", self.root, exc)
            return []
        for entry in entries:
            if is_ignored_name(entry.name):
                continue
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                mtime = entry.stat(follow_symlinks=False).st_mtime_ns
            except OSError:
                continue
            found.append((mtime, entry.name, self.root / entry.name))
        found.sort()
        return [path for _, _, path in found]

    async def scan(self) -> list[DropOutcome]:
        """Process every eligible file present, oldest first; used at start and by polling.

        Completeness is checked for the whole batch at once (one pause, not one per file),
        so a backlog of thousands of files does not cost thousands of pauses.

        The batch holds the lock from start to end: a file announced by an event meanwhile
        waits for the older files listed before it instead of slipping in between them
        (after a restart, a backlog and newly dropped files would otherwise interleave,
        and a toll update could be ingested before the report it updates).
        """
        paths = self.candidates()
        if not paths:
            return []
        outcomes: list[DropOutcome] = []
        async with self._lock:
            before = {path: _snapshot(path) for path in paths}
            await asyncio.sleep(self.settle_interval)
            for path in paths:
                not_ready = self._not_complete(path, before[path], _snapshot(path))
                if not_ready is not None:
                    outcomes.append(not_ready)
                    continue
                outcomes.append(await self._process_locked(path))
        return outcomes

    async def process_file(self, path: Path, *, wait_until_complete: bool = True) -> DropOutcome:
        """Read ``path``, ingest its articles in order, then move it; never raises for bad input.

        ``wait_until_complete`` (for files found by polling) first checks that the file
        is not growing: same size and mtime across two checks ``settle_interval`` apart
        and unchanged for ``quiet_period``; otherwise the outcome is ``RETRY``. A file
        announced by close-after-write or a rename is complete and skips the check.
        """
        path = Path(path)
        if not path.is_absolute():
            path = self.root / path
        if path.parent != self.root and path.parent.resolve() != self.root.resolve():
            return DropOutcome(path, DropStatus.SKIPPED, reason="not in the drop folder")
        if is_ignored_name(path.name):
            return DropOutcome(path, DropStatus.SKIPPED, reason="hidden or temporary name")
        if wait_until_complete:
            first = _snapshot(path)
            await asyncio.sleep(self.settle_interval)
            not_ready = self._not_complete(path, first, _snapshot(path))
            if not_ready is not None:
                return not_ready
        async with self._lock:
            return await self._process_locked(path)

    # -- internals --------------------------------------------------------------------

    def _not_complete(
        self, path: Path, first: _Snapshot | None, second: _Snapshot | None
    ) -> DropOutcome | None:
        """An outcome if the file is gone or still being written, None if it looks complete."""
        if first is None or second is None:
            self._seen.pop(path, None)
            return DropOutcome(path, DropStatus.SKIPPED, reason="gone or not a regular file")
        if first != second:
            self._seen[path] = (second, time.monotonic())
            return DropOutcome(path, DropStatus.RETRY, reason="still being written (growing)")
        now = time.monotonic()
        seen = self._seen.get(path)
        if seen is None or seen[0] != second:
            seen = (second, now)
            self._seen[path] = seen
        age = time.time() - second.mtime_ns / 1e9
        if age < self.quiet_period and now - seen[1] < self.quiet_period:
            return DropOutcome(path, DropStatus.RETRY, reason="still being written (recent)")
        return None

    async def _process_locked(self, path: Path) -> DropOutcome:
        if _snapshot(path) is None:  # handled meanwhile by the other path, or removed
            self._seen.pop(path, None)
            return DropOutcome(path, DropStatus.SKIPPED, reason="gone or not a regular file")
        try:
            result = await asyncio.to_thread(
                read_path, path, outlet=self.outlet, max_bytes=self.max_bytes
            )
            errors: list[BaseException] = list(result.errors)
            articles = result.articles
        except Exception as exc:  # read_path promises not to raise; keep the file if it does
            log.exception("unexpected error reading %s", path)
            errors, articles = [exc], []
        if not errors and not articles:
            errors = [IngestError(f"{path}: no article found", "no article found")]
        if errors:
            return await self._fail(path, errors, len(articles))

        for count, article in enumerate(articles):
            try:
                await self.ingest(article)
            except Exception as exc:
                log.error(
                    "ingest failed for %s (article %d of %d, %s); left in place for retry",
                    path,
                    count + 1,
                    len(articles),
                    article.id,
                    exc_info=True,
                )
                reason = f"ingest failed: {type(exc).__name__}: {exc}"
                return DropOutcome(path, DropStatus.RETRY, count, reason)

        try:
            target = await asyncio.to_thread(_move_no_overwrite, path, self.processed_dir)
        except OSError as exc:
            log.error("cannot move %s to %s: %s; will retry", path, self.processed_dir, exc)
            return DropOutcome(path, DropStatus.RETRY, len(articles), f"move failed: {exc}")
        self._seen.pop(path, None)
        log.info("ingested %d article(s) from %s -> %s", len(articles), path.name, target)
        return DropOutcome(path, DropStatus.PROCESSED, len(articles), None, target)

    async def _fail(self, path: Path, errors: list[BaseException], read: int) -> DropOutcome:
        """Move an unreadable file to ``failed/`` and write why beside it."""
        reason = "; ".join(
            e.reason if isinstance(e, IngestError) else str(e) for e in errors[:3]
        ) + (f"; … ({len(errors)} errors)" if len(errors) > 3 else "")
        text = _format_reason(path, errors)
        try:
            target = await asyncio.to_thread(_move_no_overwrite, path, self.failed_dir)
        except OSError as exc:
            log.error("cannot move unreadable %s to %s: %s", path, self.failed_dir, exc)
            return DropOutcome(path, DropStatus.RETRY, read, f"{reason} (move failed: {exc})")
        self._seen.pop(path, None)
        reason_path = target.with_name(target.name + REASON_SUFFIX)
        try:
            await asyncio.to_thread(_write_new_text, reason_path, text)
        except OSError as exc:
            log.error("cannot write %s: %s", reason_path, exc)
        log.warning("unreadable drop %s -> %s: %s", path.name, target, reason)
        return DropOutcome(path, DropStatus.FAILED, read, reason, target)


def _write_new_text(path: Path, text: str) -> None:
    """Write a new UTF-8 file, never replacing one (a stray ``.reason`` gets a new name)."""
    target = path
    for counter in range(2, 1000):
        try:
            with target.open("x", encoding="utf-8") as handle:
                handle.write(text)
            return
        except FileExistsError:
            target = path.with_name(f"{path.name}.{counter}")
    raise FileExistsError(errno.EEXIST, "no free name", str(path))


class _EventBridge(FileSystemEventHandler):
    """Runs in watchdog's thread: hands finished files to the asyncio loop, nothing more."""

    def __init__(self, root: Path, push: Callable[[Path], None]) -> None:
        super().__init__()
        self._root = root
        self._push = push

    def on_closed(self, event: FileClosedEvent) -> None:
        self._offer(event.src_path)

    def on_moved(self, event: DirMovedEvent | FileMovedEvent) -> None:
        if not event.is_directory and event.dest_path:
            self._offer(event.dest_path)

    def _offer(self, raw: bytes | str) -> None:
        path = Path(os.fsdecode(raw))
        if path.parent == self._root and not is_ignored_name(path.name):
            self._push(path)


def _make_observer() -> BaseObserver:
    """inotify with full move events (a rename from outside arrives as a move, not a
    creation); elsewhere the platform's observer (polling covers what it misses)."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:
        from watchdog.observers import Observer

        return Observer()
    return InotifyObserver(generate_full_events=True)


class DropFolderWatcher:
    """Keeps a ``DropFolder`` processed while running: inotify events plus polling.

    Events go into an ``asyncio.Queue`` (de-duplicated) drained by one consumer task, so
    files are handled one at a time. Polling every ``poll_interval`` seconds calls
    ``scan()``: it catches what inotify cannot see (network mounts) and retries files
    whose ingest failed. ``start()`` begins with a scan, so files present at start are
    processed. Stopping cancels work in progress; an interrupted file was not moved yet
    and is simply processed again next time.
    """

    def __init__(
        self, folder: DropFolder, *, poll_interval: float = 2.0, use_inotify: bool = True
    ) -> None:
        self.folder = folder
        self.poll_interval = poll_interval
        self.use_inotify = use_inotify
        self._observer: BaseObserver | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._queue: asyncio.Queue[Path] = asyncio.Queue()
        self._queued: set[Path] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stopping

    @property
    def events_active(self) -> bool:
        """Whether file-system events are being watched (False: polling only)."""
        return self._observer is not None

    def start(self) -> None:
        """Start watching; must be called from inside the running event loop."""
        if self._tasks:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        if self.use_inotify:
            self._start_observer()  # before the first scan, so no file falls in between
        self._tasks = [
            asyncio.create_task(self._consume(), name="dropfolder-consumer"),
            asyncio.create_task(self._poll(), name="dropfolder-poll"),
        ]

    async def stop(self) -> None:
        """Stop the observer thread and the tasks; safe to call twice or before ``start``."""
        if self._stopping:
            return
        self._stopping = True
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            await asyncio.to_thread(observer.join, 5.0)
            if observer.is_alive():
                log.warning("drop folder observer thread did not stop within 5 s")
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._queued.clear()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._stopping = False

    async def __aenter__(self) -> DropFolderWatcher:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- internals --------------------------------------------------------------------

    def _start_observer(self) -> None:
        observer: BaseObserver | None = None
        try:
            observer = _make_observer()
            observer.schedule(
                _EventBridge(self.folder.root, self._push_threadsafe),
                str(self.folder.root),
                recursive=False,
                event_filter=[FileClosedEvent, FileMovedEvent],
            )
            observer.start()
        except Exception as exc:  # e.g. inotify watch limit reached, unsupported platform
            log.warning(
                "cannot watch %s for events (%s: %s); relying on polling every %.1f s",
                self.folder.root,
                type(exc).__name__,
                exc,
                self.poll_interval,
            )
            if observer is not None:
                with contextlib.suppress(Exception):
                    observer.stop()
            return
        self._observer = observer

    def _push_threadsafe(self, path: Path) -> None:
        """Called from the observer thread."""
        loop = self._loop
        if loop is None or self._stopping:
            return
        with contextlib.suppress(RuntimeError):  # loop closed while stopping
            loop.call_soon_threadsafe(self._enqueue, path)

    def _enqueue(self, path: Path) -> None:
        if self._stopping or path in self._queued:
            return
        self._queued.add(path)
        self._queue.put_nowait(path)

    async def _consume(self) -> None:
        while True:
            path = await self._queue.get()
            # Forget it before processing: an event arriving meanwhile queues it again.
            self._queued.discard(path)
            try:
                outcome = await self.folder.process_file(path, wait_until_complete=False)
            except Exception:
                log.exception("error processing %s; polling will retry it", path)
                continue
            log.debug("drop %s: %s", outcome.path.name, outcome.status)

    async def _poll(self) -> None:
        while True:
            try:
                await self.folder.scan()
            except Exception:
                log.exception("scanning %s failed; will try again", self.folder.root)
            await asyncio.sleep(self.poll_interval)
