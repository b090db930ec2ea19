"""Drop folder adapter: files dropped into a folder become articles.

Layout (created if missing)::

    <root>/            incoming: people and scrapers drop files here
    <root>/processed/  files whose articles were all handed to ``ingest``
    <root>/failed/     files that could not be read, each with ``<name>.reason`` beside it

A file may hold one article (``.txt``/``.md``/``.html``/``.json``), a JSON list of
articles, or an RSS/Atom feed; reading is ``bot.ingest.readers.read_file_data``, so a
dropped file reads exactly like a seed folder's file.

Crash safety: *moving the file is the commit point*. Articles are handed to ``ingest``
first, the file is moved afterwards; ingest is idempotent downstream (the same article
twice is a no-op), so a crash between ingest and move only re-ingests the file on
restart. A file is never deleted and never overwritten: a name clash in ``processed/``
or ``failed/`` gets a timestamp (and, if needed, a counter) before the suffix. If
``ingest`` raises, the file stays where it is and is retried, so a database outage
loses nothing.

Hostile writers: whoever can write the drop folder must not be able to make the bot read,
move or write anything outside it. So the folder is held open as a directory handle and
every open, move and write is relative to it, never following a symbolic link:
``processed/`` and ``failed/`` must be real folders (a symlink in their place is refused),
and a dropped file is opened once, without following links and without blocking
(``O_NOFOLLOW | O_NONBLOCK``), checked with ``fstat`` on that handle and read from it. A
symbolic link, a FIFO or a socket goes to ``failed/`` with a reason; nothing can swap a
file between the check and the read, and nothing can make the reader wait forever.

Slow writers: a file announced by inotify close-after-write (or renamed in) is complete.
A file found by polling must first have been quiet for ``quiet_period`` (a setting, long
by default: a writer pausing between chunks must not be read half-written). A file whose
content still changes after it was moved (the writer kept it open) is re-read once it is
quiet again and ingested as a new version of the same article; a file filed as
unreadable that then becomes readable (JSON finished late) is ingested and moved to
``processed/``.

Database outages: the first database error stops the batch; the folder backs off
(doubling up to ``backoff_max``), logs the traceback once per outage and one line per
later attempt, and says when the database works again.

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
import sqlite3
import stat
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import sqlalchemy.exc
from watchdog.events import (
    DirMovedEvent,
    FileClosedEvent,
    FileMovedEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

from adapters.dropfs import (
    DIR_FLAGS,
    FILE_FLAGS,
    DropFolderError,
    FileReplaced,
    display_name,
    move_no_overwrite,
    open_for_writing,
    open_subdir,
    write_new_file,
)
from bot.domain.articles import Article
from bot.ingest.errors import ArticleReadError, IngestError
from bot.ingest.feeds import DEFAULT_FEED_MAX_BYTES
from bot.ingest.files import DEFAULT_MAX_BYTES, file_kind, read_fd
from bot.ingest.readers import MANIFEST_NAMES, ReadResult, read_file_data

__all__ = [
    "DEFAULT_QUIET_PERIOD_S",
    "DropFolder",
    "DropFolderError",
    "DropFolderWatcher",
    "DropOutcome",
    "DropStatus",
    "IngestHandler",
    "display_name",
    "is_storage_error",
]

log = logging.getLogger(__name__)

IngestHandler = Callable[[Article], Awaitable[None]]
"""Receives each article of a file, in order; must be idempotent (see the module doc)."""

PROCESSED = "processed"
FAILED = "failed"
REASON_SUFFIX = ".reason"
DEFAULT_QUIET_PERIOD_S = 30.0
"""How long a file found by polling must be unchanged before it is read."""

# Names that writers use while a file is incomplete, and editors' scratch files.
_TEMP_SUFFIXES = frozenset(
    {".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp", ".swx"}
)
_MAX_REASON_ERRORS = 50
_MAX_INGEST_ATTEMPTS = 3
"""A file whose articles fail to ingest this often (not a database outage) goes to failed/."""
_OUR_PROBLEMS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EINTR})
"""Errors opening a file that say nothing about the file: retried, never filed as failed."""
_MAX_WATCHED = 256
"""Moved files held open to notice late writes; the oldest are let go beyond this."""
_STORAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes ConnectionError and TimeoutError
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
)


class DropStatus(StrEnum):
    """What happened to a dropped file."""

    PROCESSED = "processed"
    """All its articles were ingested and it was moved to ``processed/``."""
    FAILED = "failed"
    """It could not be read; it was moved to ``failed/`` with a ``.reason`` file."""
    SKIPPED = "skipped"
    """Not an input (hidden, temporary, gone, a folder): left alone."""
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
    ino: int

    @classmethod
    def of(cls, st: os.stat_result) -> _Snapshot:
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(slots=True)
class _Watched:
    """A file moved away while its writer may still have it open (held by descriptor)."""

    fd: int
    folder: str
    name: str
    """Its name in ``folder`` (may carry a timestamp after a clash)."""
    display: str
    """The name it was dropped under, shown safely: the article identity comes from it."""
    read: _Snapshot
    """The version read last."""
    until: float
    """Monotonic time after which it is no longer watched."""
    changed: _Snapshot | None = None
    changed_at: float = 0.0
    reason_name: str | None = None


@dataclass(slots=True)
class _Outage:
    """The database is failing: when to try again, and how often it failed."""

    since: float
    delay: float
    next_try: float
    attempts: int = 1


@dataclass(slots=True)
class _Handles:
    """Open descriptors, closed when the folder is closed or garbage-collected."""

    root: int
    watched: dict[tuple[str, str], _Watched] = field(default_factory=dict)

    def close(self) -> None:
        for item in self.watched.values():
            with contextlib.suppress(OSError):
                os.close(item.fd)
        self.watched.clear()
        if self.root >= 0:
            with contextlib.suppress(OSError):
                os.close(self.root)
            self.root = -1


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the database or the disk failing, not the file."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _STORAGE_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def is_ignored_name(name: str) -> bool:
    """Whether a file name is hidden, temporary or configuration rather than input.

    Writers that follow the safe protocol (write ``x.part``/``x.tmp``, then rename) are
    seen only once the name is final; dotfiles and ``~`` backups are never input.
    ``README*`` and the manifest are skipped like ``read_folder`` does.
    """
    if not name or name.startswith((".", "~")) or name.endswith("~"):
        return True
    if name in (PROCESSED, FAILED):  # ours, even when something else stands in their place
        return True
    if name.startswith("#") and name.endswith("#"):  # editor autosave
        return True
    if name in MANIFEST_NAMES or name.upper().startswith("README"):
        return True
    return Path(name).suffix.lower() in _TEMP_SUFFIXES


def _format_reason(display: str, errors: Iterable[BaseException]) -> str:
    errors = list(errors)
    lines = [
        f"file: {display}",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"errors: {len(errors)}",
    ]
    for error in errors[:_MAX_REASON_ERRORS]:
        lines.append(f"- {type(error).__name__}: {error}")
    if len(errors) > _MAX_REASON_ERRORS:
        lines.append(f"- … and {len(errors) - _MAX_REASON_ERRORS} more")
    return "\n".join(lines) + "\n"


def _short_reason(errors: list[BaseException]) -> str:
    reason = "; ".join(e.reason if isinstance(e, IngestError) else str(e) for e in errors[:3])
    return reason + (f"; … ({len(errors)} errors)" if len(errors) > 3 else "")


@dataclass(slots=True)
class _Opened:
    """A dropped file opened once: its handle and what it was when read."""

    fd: int
    before: _Snapshot
    data: bytes
    dev: int


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
        quiet_period: float = DEFAULT_QUIET_PERIOD_S,
        watch_moved_for: float | None = None,
        backoff_base: float = 2.0,
        backoff_max: float = 60.0,
        is_outage: Callable[[BaseException], bool] = is_storage_error,
    ) -> None:
        """``settle_interval``: gap between the two size checks of a file found by polling.

        ``quiet_period``: a polled file must also not have changed for this long, because a
        writer pausing between chunks would otherwise be read half-written. Files announced
        by close-after-write or rename skip both checks.

        ``watch_moved_for``: how long a moved file is watched for late writes (default
        ten quiet periods). ``backoff_base``/``backoff_max``: waits after a database error.
        ``is_outage``: which ingest errors are the database failing (stop the batch, back
        off) rather than one file's problem (retried, then filed as failed).

        Raises ``DropFolderError`` if the folder or a sub-folder is not a usable folder.
        """
        path = Path(root).absolute()
        if path.exists() and not path.is_dir():
            kind = file_kind(path.stat().st_mode)
            kind = "a file" if kind == "not a regular file" and path.is_file() else kind
            raise DropFolderError(errno.ENOTDIR, f"drop folder {path} is {kind}, not a folder")
        try:
            path.mkdir(parents=True, exist_ok=True)
            self.root = path.resolve()
            # The folder itself is the operator's choice (a link to it is followed once,
            # here); everything inside it is the droppers', and is never followed.
            root_fd = os.open(self.root, DIR_FLAGS)
        except OSError as exc:
            raise DropFolderError(
                exc.errno, f"drop folder {path}: {exc.strerror or exc} (it must be a folder)"
            ) from exc
        self._handles = _Handles(root_fd)
        self._finalizer = weakref.finalize(self, self._handles.close)
        self.processed_dir = self.root / PROCESSED
        self.failed_dir = self.root / FAILED
        for name in (PROCESSED, FAILED):
            os.close(open_subdir(root_fd, name, self.root))
        self.ingest = ingest
        self.outlet = outlet
        self.max_bytes = max_bytes
        self.settle_interval = settle_interval
        self.quiet_period = quiet_period
        self.watch_moved_for = watch_moved_for if watch_moved_for is not None else 10 * quiet_period
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.is_outage = is_outage
        self._lock = asyncio.Lock()
        # name -> (snapshot, monotonic time first seen with it): "unchanged for how long",
        # measured on our clock because a network mount's mtime comes from another host's.
        self._seen: dict[str, tuple[_Snapshot, float]] = {}
        # name -> the version last read whole: known complete if it is still that version.
        self._complete: dict[str, _Snapshot] = {}
        self._ingest_failures: dict[str, tuple[_Snapshot, int]] = {}
        self._outage: _Outage | None = None
        self._folder_problems: dict[str, str] = {}

    def close(self) -> None:
        """Let go of the folder's handles (also done when the object is collected)."""
        self._finalizer()

    @property
    def _root_fd(self) -> int:
        return self._handles.root

    # -- public API -------------------------------------------------------------------

    def candidates(self) -> list[Path]:
        """Entries now in the folder that are not folders, oldest first (mtime, then name).

        Links, FIFOs and sockets are included: they are filed as failed with a reason
        rather than left to puzzle whoever dropped them.
        """
        found: list[tuple[int, str, Path]] = []
        try:
            with os.scandir(self._root_fd) as listing:
                entries = list(listing)
        except OSError as exc:
            log.warning("cannot list drop folder %s: %s", self.root, exc)
            return []
        for entry in entries:
            if is_ignored_name(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                continue
            found.append((st.st_mtime_ns, entry.name, self.root / entry.name))
        found.sort()
        return [path for _, _, path in found]

    @property
    def waiting_for_database(self) -> bool:
        """Whether a database outage is being waited out (nothing is ingested meanwhile)."""
        return self._outage is not None and time.monotonic() < self._outage.next_try

    async def scan(self) -> list[DropOutcome]:
        """Process every eligible file present, oldest first; used at start and by polling.

        Completeness is checked for the whole batch at once (one pause, not one per file),
        so a backlog of thousands of files does not cost thousands of pauses.

        The batch holds the lock from start to end: a file announced by an event meanwhile
        waits for the older files listed before it instead of slipping in between them
        (after a restart, a backlog and newly dropped files would otherwise interleave,
        and a toll update could be ingested before the report it updates).

        During a database outage a scan does nothing until the back-off has passed, and
        the batch stops at the first database error.
        """
        if self.waiting_for_database:
            return []
        async with self._lock:
            await self._recheck_moved()
        paths = self.candidates()
        if not paths or self.waiting_for_database:
            return []
        outcomes: list[DropOutcome] = []
        async with self._lock:
            before = {path: self._snapshot(path.name) for path in paths}
            await asyncio.sleep(self.settle_interval)
            for path in paths:
                if self.waiting_for_database:
                    break  # the database failed on an earlier file of this batch
                not_ready = self._not_complete(path, before[path], self._snapshot(path.name))
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
        if path.parent != self.root and path.parent.resolve() != self.root:
            return DropOutcome(path, DropStatus.SKIPPED, reason="not in the drop folder")
        if is_ignored_name(path.name):
            return DropOutcome(path, DropStatus.SKIPPED, reason="hidden or temporary name")
        if not wait_until_complete:
            # Announced complete (closed after writing, or renamed in): if it has to wait
            # (a database outage), the scan that retries it need not wait for it to be quiet.
            announced = self._snapshot(path.name)
            if announced is not None:
                self._complete[path.name] = announced
        if self.waiting_for_database:
            return DropOutcome(path, DropStatus.RETRY, reason="waiting for the database")
        if wait_until_complete:
            first = self._snapshot(path.name)
            await asyncio.sleep(self.settle_interval)
            not_ready = self._not_complete(path, first, self._snapshot(path.name))
            if not_ready is not None:
                return not_ready
        async with self._lock:
            return await self._process_locked(path)

    # -- internals: completeness --------------------------------------------------------

    def _snapshot(self, name: str) -> _Snapshot | None:
        """Size, mtime and inode of an entry that is not a folder (links not followed)."""
        try:
            st = os.stat(name, dir_fd=self._root_fd, follow_symlinks=False)
        except (OSError, ValueError):
            return None
        if stat.S_ISDIR(st.st_mode):
            return None
        return _Snapshot.of(st)

    def _not_complete(
        self, path: Path, first: _Snapshot | None, second: _Snapshot | None
    ) -> DropOutcome | None:
        """An outcome if the file is gone or still being written, None if it looks complete.

        A file that no process has open for writing is complete, like one announced by
        close-after-write (this covers files closed before the watch began, e.g. during
        start-up). One still open for writing, or whose state cannot be told (another
        user's file, a network mount), must have been quiet for ``quiet_period``.
        """
        name = path.name
        if first is None or second is None:
            self._seen.pop(name, None)
            return DropOutcome(path, DropStatus.SKIPPED, reason="gone or a folder")
        if first != second:
            self._seen[name] = (second, time.monotonic())
            return DropOutcome(path, DropStatus.RETRY, reason="still being written (growing)")
        if self._complete.get(name) == second:
            return None  # read whole before (an ingest failure left it): no need to wait
        if open_for_writing(self._root_fd, name) is False:
            return None  # no writer has it open: as complete as after close-after-write
        now = time.monotonic()
        seen = self._seen.get(name)
        if seen is None or seen[0] != second:
            seen = (second, now)
            self._seen[name] = seen
        age = time.time() - second.mtime_ns / 1e9
        if age < self.quiet_period and now - seen[1] < self.quiet_period:
            return DropOutcome(path, DropStatus.RETRY, reason="still being written (recent)")
        return None

    # -- internals: one file --------------------------------------------------------------

    def _open_and_read(self, name: str, display: Path) -> _Opened | list[BaseException] | None:
        """Open ``name`` once (no links, no blocking), check it, read it from that handle.

        Returns the handle and bytes, the reasons it must go to ``failed/``, or None if it
        is gone or is a folder (left alone).
        """
        try:
            fd = os.open(name, FILE_FLAGS, dir_fd=self._root_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in _OUR_PROBLEMS:
                raise  # the bot's own trouble (out of descriptors), not the file's
            if exc.errno == errno.ELOOP:
                why = "is a symbolic link; links are not followed: drop the file itself"
            elif exc.errno == errno.ENXIO:
                why = "is a socket or a device, not a file"
            else:
                why = f"cannot be opened: {exc.strerror or exc}"
            return [ArticleReadError(display, why)]
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                os.close(fd)
                return None
            if not stat.S_ISREG(st.st_mode):
                os.close(fd)
                why = f"is {file_kind(st.st_mode)}, not a regular file"
                return [ArticleReadError(display, why)]
            limit = max(self.max_bytes, DEFAULT_FEED_MAX_BYTES)
            if st.st_size > limit:
                data = b""
                problem: list[BaseException] = [
                    ArticleReadError(
                        display,
                        f"file too large ({st.st_size:,} bytes; the limit is {limit:,} bytes)",
                    )
                ]
            else:
                data = read_fd(fd, limit)
                problem = []
        except OSError as exc:
            os.close(fd)
            return [ArticleReadError(display, f"cannot be read: {exc.strerror or exc}")]
        except BaseException:
            os.close(fd)
            raise
        if problem:
            os.close(fd)
            return problem
        return _Opened(fd, _Snapshot.of(st), data, st.st_dev)

    def _read(self, display: Path, data: bytes) -> ReadResult:
        return read_file_data(display, data, outlet=self.outlet, max_bytes=self.max_bytes)

    async def _process_locked(self, path: Path) -> DropOutcome:
        name = path.name
        display = self.root / display_name(name)
        try:
            opened = await asyncio.to_thread(self._open_and_read, name, display)
        except OSError as exc:
            log.warning("cannot open %s now (%s); it is tried again", display.name, exc.strerror)
            return DropOutcome(path, DropStatus.RETRY, reason=f"cannot open now: {exc.strerror}")
        if opened is None:  # handled meanwhile by the other path, or removed
            self._seen.pop(name, None)
            return DropOutcome(path, DropStatus.SKIPPED, reason="gone or a folder")
        if isinstance(opened, list):
            return await self._fail(path, opened, 0, None)
        keep_fd = False
        try:
            try:
                result = await asyncio.to_thread(self._read, display, opened.data)
                errors: list[BaseException] = list(result.errors)
                articles = result.articles
            except Exception as exc:  # read_file_data promises not to raise
                log.exception("unexpected error reading %s", display)
                errors, articles = [exc], []
            if _Snapshot.of(os.fstat(opened.fd)) != opened.before:
                # The writer is not done: what was read is a part. Read it again later.
                self._seen.pop(name, None)
                return DropOutcome(path, DropStatus.RETRY, reason="changed while being read")
            self._complete[name] = opened.before
            if not errors and not articles:
                errors = [IngestError(f"{display}: no article found", "no article found")]
            if errors:
                outcome = await self._fail(path, errors, len(articles), opened)
                keep_fd = outcome.status is DropStatus.FAILED
                return outcome
            failure = await self._ingest_all(path, articles, opened.before)
            if failure is not None:
                return failure
            outcome = await self._file_away(path, PROCESSED, len(articles), None, opened)
            keep_fd = outcome.status is DropStatus.PROCESSED
            if keep_fd:
                log.info(
                    "ingested %d article(s) from %s -> %s",
                    len(articles),
                    display.name,
                    display_name(str(outcome.moved_to)),
                )
            return outcome
        finally:
            if not keep_fd:
                os.close(opened.fd)

    async def _ingest_all(
        self, path: Path, articles: list[Article], version: _Snapshot
    ) -> DropOutcome | None:
        """Hand every article to ``ingest``; an outcome if that failed, None if all went in."""
        shown = display_name(path.name)
        for count, article in enumerate(articles):
            try:
                await self.ingest(article)
            except Exception as exc:
                reason = f"ingest failed: {_first_line(exc)}"
                if self.is_outage(exc):
                    self._database_failed(exc, shown)
                    return DropOutcome(path, DropStatus.RETRY, count, reason)
                return await self._ingest_bug(path, exc, version, count, len(articles))
        self._database_works()
        self._ingest_failures.pop(path.name, None)
        return None

    async def _ingest_bug(
        self, path: Path, exc: Exception, version: _Snapshot, count: int, total: int
    ) -> DropOutcome:
        """One file's articles make ``ingest`` fail (not the database): retry, then give up.

        The traceback is logged once per file version; after ``_MAX_INGEST_ATTEMPTS`` the
        file goes to ``failed/`` so that it does not block or flood the folder forever.
        """
        shown = display_name(path.name)
        previous = self._ingest_failures.get(path.name)
        attempts = previous[1] + 1 if previous and previous[0] == version else 1
        self._ingest_failures[path.name] = (version, attempts)
        reason = f"ingest failed: {_first_line(exc)}"
        if attempts == 1:
            log.error(
                "ingest failed for %s (article %d of %d); left in place for retry",
                shown,
                count + 1,
                total,
                exc_info=exc,
            )
        if attempts < _MAX_INGEST_ATTEMPTS:
            return DropOutcome(path, DropStatus.RETRY, count, reason)
        self._ingest_failures.pop(path.name, None)
        error = IngestError(f"{shown}: {reason} ({attempts} attempts)", reason)
        return await self._fail(path, [error], count, None)

    def _database_failed(self, exc: BaseException, what: str) -> None:
        now = time.monotonic()
        outage = self._outage
        if outage is None:
            self._outage = _Outage(now, self.backoff_base, now + self.backoff_base)
            log.error(
                "database error while ingesting %s; the batch stops, files stay in place "
                "and are retried in %.0f s (later failures are logged in one line)",
                what,
                self.backoff_base,
                exc_info=exc,
            )
            return
        outage.attempts += 1
        outage.delay = min(outage.delay * 2, self.backoff_max)
        outage.next_try = now + outage.delay
        log.warning(
            "database still failing (attempt %d, for %.0f s): %s; next try in %.0f s",
            outage.attempts,
            now - outage.since,
            _first_line(exc),
            outage.delay,
        )

    def _database_works(self) -> None:
        outage, self._outage = self._outage, None
        if outage is not None:
            log.warning(
                "database works again after %d failed attempt(s) over %.0f s; "
                "the drop folder resumes",
                outage.attempts,
                time.monotonic() - outage.since,
            )

    async def _fail(
        self, path: Path, errors: list[BaseException], read: int, opened: _Opened | None
    ) -> DropOutcome:
        """Move an unreadable file to ``failed/`` and write why beside it."""
        return await self._file_away(path, FAILED, read, errors, opened)

    async def _file_away(
        self,
        path: Path,
        folder: str,
        read: int,
        errors: list[BaseException] | None,
        opened: _Opened | None,
    ) -> DropOutcome:
        """Move ``path`` into ``processed/`` or (with ``errors``) ``failed/``."""
        name = path.name
        shown = display_name(name)
        reason = _short_reason(errors) if errors else None
        expect = (opened.before.ino, opened.dev) if opened is not None else None
        try:
            target, reason_name = await asyncio.to_thread(self._move, name, folder, errors, expect)
        except FileReplaced as exc:
            log.info("%s was %s; it is read again", shown, exc.strerror)
            self._complete.pop(name, None)
            return DropOutcome(path, DropStatus.RETRY, read, str(exc.strerror))
        except OSError as exc:
            self._cannot_move(shown, folder, exc)
            why = f"move failed: {exc}"
            return DropOutcome(path, DropStatus.RETRY, read, f"{reason} ({why})" if reason else why)
        self._folder_problems.pop(folder, None)
        self._seen.pop(name, None)
        self._complete.pop(name, None)
        moved_to = self.root / folder / target
        if errors is None:
            status = DropStatus.PROCESSED
        else:
            status = DropStatus.FAILED
            log.warning("unreadable drop %s -> %s: %s", shown, display_name(str(moved_to)), reason)
        if opened is not None:
            self._watch(opened, folder, target, shown, reason_name)
        return DropOutcome(path, status, read, reason, moved_to)

    def _move(
        self,
        name: str,
        folder: str,
        errors: list[BaseException] | None,
        expect: tuple[int, int] | None,
    ) -> tuple[str, str | None]:
        """In a thread: move ``name`` into ``folder`` (and write its reason); the new names."""
        dst_fd = open_subdir(self._root_fd, folder, self.root)
        try:
            target = move_no_overwrite(self._root_fd, name, dst_fd, expect=expect)
            if errors is None:
                return target, None
            text = _format_reason(display_name(name), errors)
            try:
                reason_name = write_new_file(dst_fd, target + REASON_SUFFIX, text)
            except OSError as exc:
                log.error("cannot write the reason for %s: %s", display_name(target), exc)
                return target, None
            return target, reason_name
        finally:
            os.close(dst_fd)

    def _cannot_move(self, shown: str, folder: str, exc: OSError) -> None:
        """Log a move that failed: in full once, then only when the problem changes."""
        problem = f"{type(exc).__name__}: {exc}"
        if self._folder_problems.get(folder) == problem:
            log.debug("cannot move %s to %s/: %s", shown, folder, problem)
            return
        self._folder_problems[folder] = problem
        log.error(
            "cannot move %s to %s/: %s; files stay in place and are retried", shown, folder, exc
        )

    # -- internals: files still written to after they were moved -----------------------

    def _watch(
        self, opened: _Opened, folder: str, name: str, display: str, reason: str | None
    ) -> None:
        watched = self._handles.watched
        key = (folder, name)
        old = watched.pop(key, None)
        if old is not None:
            os.close(old.fd)
        watched[key] = _Watched(
            fd=opened.fd,
            folder=folder,
            name=name,
            display=display,
            read=opened.before,
            until=time.monotonic() + self.watch_moved_for,
            reason_name=reason,
        )
        while len(watched) > _MAX_WATCHED:
            oldest = next(iter(watched))
            os.close(watched.pop(oldest).fd)

    async def _recheck_moved(self) -> None:
        """Re-read moved files that changed since they were read, once they are quiet.

        A writer that paused longer than the quiet period had its file read and moved
        half-written, and went on writing into the moved file (same inode). The new
        version is read from the handle kept open, and ingested as a new version of the
        same article (its identity is the dropped name); a file filed as unreadable that
        became readable is ingested and moved to ``processed/``.
        """
        now = time.monotonic()
        watched = self._handles.watched
        for key, item in list(watched.items()):
            try:
                current = _Snapshot.of(os.fstat(item.fd))
            except OSError:
                current = None
            if current is None or (current == item.read and now > item.until):
                os.close(watched.pop(key).fd)
                continue
            if current == item.read:
                continue
            if current != item.changed:
                item.changed, item.changed_at = current, now
                item.until = max(item.until, now + self.watch_moved_for)
                continue
            if now - item.changed_at < self.quiet_period:
                continue
            if not await self._reread(item, current):
                return  # the database failed: try again after the back-off

    async def _reread(self, item: _Watched, current: _Snapshot) -> bool:
        """Read a watched file again and ingest it; False if the database failed."""
        display = self.root / item.display
        try:
            data = await asyncio.to_thread(
                read_fd, item.fd, max(self.max_bytes, DEFAULT_FEED_MAX_BYTES)
            )
        except OSError as exc:
            log.warning("cannot re-read %s: %s", item.display, exc)
            item.read, item.changed = current, None
            return True
        result = await asyncio.to_thread(self._read, display, data)
        if result.errors and (item.folder == FAILED or not result.articles):
            log.warning(
                "%s changed after it was filed in %s/ and still cannot be read: %s",
                item.display,
                item.folder,
                _short_reason(list(result.errors)),
            )
            item.read, item.changed = current, None
            return True
        for article in result.articles:
            try:
                await self.ingest(article)
            except Exception as exc:
                if self.is_outage(exc):
                    self._database_failed(exc, item.display)
                    return False
                log.error("ingest of the new version of %s failed", item.display, exc_info=exc)
                item.read, item.changed = current, None
                return True
        self._database_works()
        item.read, item.changed = current, None
        log.info(
            "%s changed after it was filed in %s/: read again, %d article(s) ingested",
            item.display,
            item.folder,
            len(result.articles),
        )
        if item.folder == FAILED:
            await asyncio.to_thread(self._unfail, item)
        return True

    def _unfail(self, item: _Watched) -> None:
        """Move a file that became readable from ``failed/`` to ``processed/``."""
        try:
            src = open_subdir(self._root_fd, FAILED, self.root)
        except OSError as exc:
            log.error("cannot move %s out of failed/: %s", item.display, exc)
            return
        try:
            dst = open_subdir(self._root_fd, PROCESSED, self.root)
            st = os.fstat(item.fd)
            try:
                target = move_no_overwrite(src, item.name, dst, expect=(st.st_ino, st.st_dev))
            finally:
                os.close(dst)
            if item.reason_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(item.reason_name, dir_fd=src)
        except OSError as exc:
            log.error("cannot move %s out of failed/: %s", item.display, exc)
            return
        finally:
            os.close(src)
        watched = self._handles.watched
        watched.pop((FAILED, item.name), None)
        item.folder, item.name, item.reason_name = PROCESSED, target, None
        old = watched.pop((PROCESSED, target), None)
        if old is not None:
            os.close(old.fd)
        watched[(PROCESSED, target)] = item


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
