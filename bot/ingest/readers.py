"""Reading a drop folder, a feed file or an article file into articles.

``read_path`` is the single entry point for "here is something to ingest": it
dispatches on what the path is and never raises for bad input; problems come back
as ``ReadResult.errors`` so that one broken file does not hide the good ones.

Folders are read flat, in file-name order (the seeds' names encode replay
order), skipping hidden files, sub-folders (``processed/`` and ``failed/`` are
where handled files go), partial downloads, ``README*`` and the manifest itself.

A folder may hold ``manifest.json`` (or ``manifest.toml``) describing its files,
because a scraped text file cannot say which outlet it came from::

    {"files": {"003_f27050b7da281b43.txt": {"outlet": "Al Jazeera", "url": null,
                                             "title": null, "published": "2020-02-27"}}}

(the ``"files"`` wrapper is optional). Keys: ``outlet``, ``url``, ``title``,
``published`` (ISO 8601 or RFC 2822), ``guid``; a value given there wins over
what the file says, a missing or null value leaves the file's own.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.articles import Article
from bot.ingest.dates import parse_datetime
from bot.ingest.decoding import DecodeProblem, decode_text
from bot.ingest.errors import ArticleReadError, FeedReadError, IngestError
from bot.ingest.feeds import DEFAULT_FEED_MAX_BYTES, FeedRead, read_feed
from bot.ingest.files import (
    ARTICLE_SUFFIXES,
    DEFAULT_MAX_BYTES,
    JSON_SUFFIXES,
    ArticleHints,
    check_file_bytes,
    open_regular_file,
    read_article_data,
    read_file_bytes,
    read_json_data_lenient,
)

__all__ = [
    "FEED_SUFFIXES",
    "MANIFEST_NAMES",
    "SKIPPED_FOLDERS",
    "ReadResult",
    "load_manifest",
    "looks_like_feed",
    "read_file_data",
    "read_folder",
    "read_folder_with_errors",
    "read_path",
]

log = logging.getLogger(__name__)

FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom"})
MANIFEST_NAMES = ("manifest.json", "manifest.toml")
SKIPPED_FOLDERS = frozenset({"processed", "failed"})
_PARTIAL_SUFFIXES = frozenset({".part", ".partial", ".tmp", ".crdownload", ".swp", ".download"})
_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF)\b", re.IGNORECASE)
_MANIFEST_KEYS = frozenset({"outlet", "url", "title", "published", "guid"})
_SNIFF_BYTES = 1024


@dataclass(slots=True)
class ReadResult:
    """Articles read, problems met, and files deliberately not read."""

    articles: list[Article] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    feeds: list[FeedRead] = field(default_factory=list)
    """The feeds read, for their per-entry ``summary_only`` flags."""

    def extend(self, other: ReadResult) -> None:
        self.articles.extend(other.articles)
        self.errors.extend(other.errors)
        self.skipped.extend(other.skipped)
        self.feeds.extend(other.feeds)


def read_path(
    path: Path, *, outlet: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ReadResult:
    """Read whatever ``path`` is: a folder, a feed file or an article file; never raises."""
    if path.is_dir():
        return read_folder_with_errors(path, outlet=outlet, max_bytes=max_bytes)
    if not path.exists():
        return ReadResult(errors=[ArticleReadError(path, "no such file or folder")])
    return _read_file(path, outlet=outlet, hints=None, max_bytes=max_bytes, source=f"file:{path}")


def read_folder(
    path: Path, *, outlet: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Article]:
    """The articles of a folder; unreadable files are logged and left out.

    Use ``read_folder_with_errors`` to handle them (e.g. move them to ``failed/``).
    """
    result = read_folder_with_errors(path, outlet=outlet, max_bytes=max_bytes)
    for error in result.errors:
        log.warning("skipped unreadable input: %s", error)
    return result.articles


def read_folder_with_errors(
    path: Path, *, outlet: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> ReadResult:
    """Read every supported file of ``path`` (not recursive), in file-name order."""
    result = ReadResult()
    if not path.is_dir():
        result.errors.append(ArticleReadError(path, "not a folder"))
        return result
    manifest: dict[str, ArticleHints] = {}
    for name in MANIFEST_NAMES:
        manifest_path = path / name
        if manifest_path.is_file():
            try:
                manifest = load_manifest(manifest_path)
            except ArticleReadError as exc:
                result.errors.append(exc)
            break
    source = f"folder:{path}"
    for entry in sorted(path.iterdir(), key=lambda p: p.name):
        if not _wanted(entry):
            if not entry.name.startswith(".") and entry.name not in MANIFEST_NAMES:
                result.skipped.append(entry)
            continue
        hints = manifest.get(entry.name)
        result.extend(
            _read_file(entry, outlet=outlet, hints=hints, max_bytes=max_bytes, source=source)
        )
    return result


def load_manifest(path: Path) -> dict[str, ArticleHints]:
    """File name → hints from a folder's manifest; raises ``ArticleReadError`` if it is unusable."""
    data = read_file_bytes(path)
    try:
        text, _ = decode_text(data)
        raw: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except DecodeProblem as exc:
        raise ArticleReadError(path, f"manifest: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ArticleReadError(
            path, f"manifest: broken JSON: {exc.msg} at line {exc.lineno}"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ArticleReadError(path, f"manifest: broken TOML: {exc}") from exc
    except RecursionError as exc:
        raise ArticleReadError(path, "manifest: nested too deeply") from exc
    except ValueError as exc:  # a number of more than 4,300 digits
        raise ArticleReadError(path, f"manifest: {str(exc).split(';')[0]}") from exc
    if isinstance(raw, Mapping) and isinstance(raw.get("files"), Mapping):
        raw = raw["files"]
    if not isinstance(raw, Mapping):
        raise ArticleReadError(path, "manifest: expected an object mapping file names to details")
    hints: dict[str, ArticleHints] = {}
    for name, details in raw.items():
        if not isinstance(details, Mapping):
            raise ArticleReadError(path, f"manifest: the entry for {_short(name)} is not an object")
        unknown = set(details) - _MANIFEST_KEYS
        if unknown:
            raise ArticleReadError(
                path,
                f"manifest: unknown keys {_short(sorted(unknown))} for {_short(name)} "
                f"(allowed: {sorted(_MANIFEST_KEYS)})",
            )
        published_raw = details.get("published")
        published = parse_datetime(published_raw)
        if published_raw not in (None, "") and published is None:
            raise ArticleReadError(
                path, f"manifest: unreadable date {_short(published_raw)} for {_short(name)}"
            )
        hints[str(name)] = ArticleHints(
            outlet=_opt_str(details.get("outlet")),
            url=_opt_str(details.get("url")),
            title=_opt_str(details.get("title")),
            published=published,
            guid=_opt_str(details.get("guid")),
        )
    return hints


def looks_like_feed(head: bytes) -> bool:
    """Whether the first bytes of a file look like an RSS/Atom/RDF document."""
    start = head[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"<") and bool(_FEED_ROOT.search(start))


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to about ``limit`` characters for an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _opt_str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _wanted(entry: Path) -> bool:
    name = entry.name
    if name.startswith(".") or name.endswith("~") or not entry.is_file():
        return False
    if name in MANIFEST_NAMES or name.upper().startswith("README"):
        return False
    suffix = entry.suffix.lower()
    if suffix in _PARTIAL_SUFFIXES:
        return False
    return suffix in ARTICLE_SUFFIXES or suffix in FEED_SUFFIXES


def _is_feed_file(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in FEED_SUFFIXES:
        return True
    if suffix in ARTICLE_SUFFIXES - {".txt", ".text"}:
        return False
    try:
        fd = open_regular_file(path)  # never blocks on a FIFO
    except ArticleReadError:
        return False  # reading it says why
    try:
        return looks_like_feed(os.pread(fd, _SNIFF_BYTES, 0))
    except OSError:
        return False
    finally:
        os.close(fd)


def _read_file(
    path: Path, *, outlet: str | None, hints: ArticleHints | None, max_bytes: int, source: str
) -> ReadResult:
    try:
        limit = max(max_bytes, DEFAULT_FEED_MAX_BYTES) if _is_feed_file(path) else max_bytes
        data = read_file_bytes(path, limit)
    except ArticleReadError as exc:
        return ReadResult(errors=[exc])
    return read_file_data(
        path, data, outlet=outlet, hints=hints, max_bytes=max_bytes, source=source
    )


def read_file_data(
    path: Path,
    data: bytes,
    *,
    outlet: str | None = None,
    hints: ArticleHints | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    source: str | None = None,
) -> ReadResult:
    """Read the bytes of one file (feed, JSON or article) already in hand; never raises.

    ``path`` only names the file: its suffix picks the format and its name is the
    article's identity. The drop folder reads through a handle it opened itself (so
    what it checked is what it reads) and hands the bytes here.
    """
    result = ReadResult()
    source = source or f"file:{path}"
    suffix = path.suffix.lower()
    is_feed = suffix in FEED_SUFFIXES or (
        suffix not in ARTICLE_SUFFIXES - {".txt", ".text"} and looks_like_feed(data)
    )
    try:
        if is_feed:
            check_file_bytes(path, data, max(max_bytes, DEFAULT_FEED_MAX_BYTES))
            feed = read_feed(data, source=str(path))
            result.feeds.append(feed)
            result.articles.extend(feed.articles)
            result.errors.extend(feed.errors)
        elif suffix in JSON_SUFFIXES:
            check_file_bytes(path, data, max_bytes)
            articles, errors = read_json_data_lenient(
                path, data, outlet=outlet, hints=hints, source=source
            )
            result.articles.extend(articles)
            result.errors.extend(errors)
        else:
            check_file_bytes(path, data, max_bytes)
            article = read_article_data(path, data, outlet=outlet, hints=hints, source=source)
            result.articles.append(article)
    except (ArticleReadError, FeedReadError) as exc:
        result.errors.append(exc)
    return result
