"""Reading one article file: plain text, Markdown, HTML or JSON.

Every format goes through the same steps — bounded read, encoding rule
(``decoding``), format-specific extraction, ``clean_text`` — so that an article
looks the same whichever way it was saved. Identity follows the domain rule
(guid, else URL, else file name) with the *file name* rather than the path, so a
file keeps its identity when it is moved to ``processed/``. Every failure is an
``ArticleReadError`` naming the file and what to do about it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.domain.articles import Article
from bot.ingest.cleaning import clean_text
from bot.ingest.dates import parse_datetime
from bot.ingest.decoding import DecodeProblem, decode_text, html_declared_charset
from bot.ingest.errors import ArticleReadError
from bot.ingest.html import html_fragment_to_text, html_to_text
from bot.ingest.markdown import strip_markdown

__all__ = [
    "ARTICLE_SUFFIXES",
    "DEFAULT_MAX_BYTES",
    "ArticleHints",
    "check_file_bytes",
    "file_kind",
    "open_regular_file",
    "read_article_data",
    "read_article_file",
    "read_fd",
    "read_file_bytes",
    "read_json_articles",
    "read_json_articles_lenient",
    "read_json_data_lenient",
]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
TEXT_SUFFIXES = frozenset({".txt", ".text"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
JSON_SUFFIXES = frozenset({".json"})
ARTICLE_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES

_LOOKS_HTML = re.compile(
    r"<(?:p|div|br|span|a|h[1-6]|ul|ol|li|strong|em|b|i|figure|img)\b[^>]*>", re.I
)
_JSON_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "text": (
        "text",
        "body",
        "content",
        "articlebody",
        "article",
        "full_text",
        "fulltext",
        "description",
        "summary",
    ),
    "url": ("url", "link", "canonical_url", "canonicalurl", "href"),
    "guid": ("guid", "id", "uuid"),
    "outlet": ("outlet", "source", "publisher", "site", "site_name", "sitename"),
    "published": (
        "published",
        "date",
        "published_at",
        "publishedat",
        "pubdate",
        "datepublished",
        "published_date",
        "created_at",
        "updated",
        "datemodified",
    ),
}
_JSON_LIST_KEYS = ("articles", "items", "entries", "data", "results")
_JSON_MAX_DEPTH = 32
"""Text nested deeper than this in an article's fields is ignored (and recursion bounded)."""


@dataclass(frozen=True, slots=True)
class ArticleHints:
    """What the caller knows about a file (from a manifest): it wins over the content."""

    outlet: str | None = None
    url: str | None = None
    title: str | None = None
    published: datetime | None = None
    guid: str | None = None


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What a format-specific reader found, before cleaning and identity."""

    text: str
    title: str | None = None
    published: datetime | None = None
    outlet: str | None = None
    url: str | None = None
    guid: str | None = None


def open_regular_file(path: Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file (symlinks followed).

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` on that one handle: opening a
    FIFO by name otherwise blocks until a writer appears (``claimwatch extract fifo``
    hung for good), and a check by name before the open could be raced. The caller closes
    the descriptor; raises ``ArticleReadError`` with what the path is instead.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise ArticleReadError(path, "no such file") from exc
    except OSError as exc:
        raise ArticleReadError(path, f"cannot be opened: {exc.strerror or exc}") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ArticleReadError(path, f"is {file_kind(mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def file_kind(mode: int) -> str:
    """What a ``stat`` mode is, in words, for error messages."""
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    for test, name in kinds:
        if test(mode):
            return name
    return "not a regular file"


def read_fd(fd: int, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes from the start of an open file (one more tells "too large")."""
    chunks: list[bytes] = []
    offset = 0
    while offset <= limit:
        chunk = os.pread(fd, min(1 << 20, limit + 1 - offset), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def check_file_bytes(path: Path, data: bytes, max_bytes: int) -> bytes:
    """``data`` if it is a usable article file's content; refuses oversized and empty ones."""
    if len(data) > max_bytes:
        raise ArticleReadError(
            path, f"file too large (at least {len(data):,} bytes; the limit is {max_bytes:,} bytes)"
        )
    if not data.strip():
        raise ArticleReadError(path, "empty file")
    return data


def read_file_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of ``path``, refusing missing, oversized, empty and non-regular files."""
    fd = open_regular_file(path)
    try:
        size = os.fstat(fd).st_size
        if size > max_bytes:
            raise ArticleReadError(
                path, f"file too large ({size:,} bytes; the limit is {max_bytes:,} bytes)"
            )
        data = read_fd(fd, max_bytes)
    except OSError as exc:
        raise ArticleReadError(path, f"cannot be read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    return check_file_bytes(path, data, max_bytes)


def read_article_file(
    path: Path,
    *,
    outlet: str | None = None,
    hints: ArticleHints | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    source: str | None = None,
) -> Article:
    """Read one ``.txt``/``.md``/``.html``/``.json`` article (other suffixes: as plain text).

    ``outlet`` is the default outlet when neither ``hints`` nor the content name one.
    A JSON file holding a list must be read with ``read_json_articles``.
    """
    return read_article_data(
        path,
        read_file_bytes(path, max_bytes),
        outlet=outlet,
        hints=hints,
        source=source,
    )


def read_article_data(
    path: Path,
    data: bytes,
    *,
    outlet: str | None = None,
    hints: ArticleHints | None = None,
    source: str | None = None,
) -> Article:
    """``read_article_file`` for bytes already read; ``path`` names the file (identity, errors)."""
    hints = hints or ArticleHints()
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        value = _load_json(path, data)
        items = _json_items(value)
        if items is not None:
            raise ArticleReadError(
                path, f"holds a list of {len(items)} articles; read it with read_json_articles"
            )
        parsed = _parse_json_object(path, value)
    elif suffix in HTML_SUFFIXES:
        page = html_to_text(_decode(path, data, html=True))
        parsed = _Parsed(page.text, page.title, page.published, page.outlet, page.url)
    elif suffix in MARKDOWN_SUFFIXES:
        doc = strip_markdown(_decode(path, data))
        parsed = _Parsed(
            doc.text,
            doc.title,
            parse_datetime(doc.meta.get("published")),
            doc.meta.get("outlet"),
            doc.meta.get("url"),
        )
    else:
        parsed = _Parsed(_decode(path, data))
    return _build(path, parsed, hints, outlet, source or f"file:{path}", path.name)


def read_json_articles(
    path: Path,
    *,
    outlet: str | None = None,
    hints: ArticleHints | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    source: str | None = None,
) -> list[Article]:
    """All articles of a JSON file (one object, a list, or ``{"articles": [...]}``).

    Strict: any bad item raises an ``ArticleReadError`` naming it; use
    ``read_json_articles_lenient`` to keep the good items.
    """
    articles, errors = read_json_articles_lenient(
        path, outlet=outlet, hints=hints, max_bytes=max_bytes, source=source
    )
    if errors:
        raise errors[0]
    return articles


def read_json_articles_lenient(
    path: Path,
    *,
    outlet: str | None = None,
    hints: ArticleHints | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    source: str | None = None,
) -> tuple[list[Article], list[ArticleReadError]]:
    """Like ``read_json_articles`` but returns the bad items' errors beside the good articles.

    A whole-file problem (unreadable, broken JSON) is still raised.
    """
    return read_json_data_lenient(
        path, read_file_bytes(path, max_bytes), outlet=outlet, hints=hints, source=source
    )


def read_json_data_lenient(
    path: Path,
    data: bytes,
    *,
    outlet: str | None = None,
    hints: ArticleHints | None = None,
    source: str | None = None,
) -> tuple[list[Article], list[ArticleReadError]]:
    """``read_json_articles_lenient`` for bytes already read."""
    hints = hints or ArticleHints()
    source = source or f"file:{path}"
    value = _load_json(path, data)
    items = _json_items(value)
    if items is None:
        parsed = _parse_json_object(path, value)
        return [_build(path, parsed, hints, outlet, source, path.name)], []
    if not items:
        raise ArticleReadError(path, "the JSON list holds no articles")
    articles: list[Article] = []
    errors: list[ArticleReadError] = []
    for index, item in enumerate(items):
        where = f"item {index}"
        try:
            parsed = _parse_json_object(path, item, where=where)
            # One file, many articles: the file name alone would give them one identity.
            filename = f"{path.name}#{index}"
            item_hints = ArticleHints(outlet=hints.outlet, published=None)
            articles.append(_build(path, parsed, item_hints, outlet, source, filename, where))
        except ArticleReadError as exc:
            errors.append(exc)
    return articles, errors


def _decode(path: Path, data: bytes, *, html: bool = False) -> str:
    declared = html_declared_charset(data) if html else None
    try:
        text, _encoding = decode_text(data, declared=declared)
    except DecodeProblem as exc:
        raise ArticleReadError(path, str(exc)) from exc
    return text


def _load_json(path: Path, data: bytes) -> Any:
    text = _decode(path, data)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleReadError(
            path, f"broken JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise ArticleReadError(path, "broken JSON: nested too deeply") from exc
    except ValueError as exc:  # a number of more than 4,300 digits
        raise ArticleReadError(path, f"unreadable JSON: {str(exc).split(';')[0]}") from exc


def _json_items(value: Any) -> list[Any] | None:
    """The list of article objects if ``value`` is a list or wraps one, else None."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        has_text = any(k in lowered for k in _JSON_KEYS["text"])
        for key in _JSON_LIST_KEYS:
            if not has_text and isinstance(lowered.get(key), list):
                items: list[Any] = lowered[key]
                return items
    return None


def _json_field(obj: Mapping[str, Any], name: str) -> Any:
    for key in _JSON_KEYS[name]:
        if key in obj and obj[key] not in (None, "", [], {}):
            return obj[key]
    return None


def _json_string(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Mapping) and depth < _JSON_MAX_DEPTH:
        # {"name": "Reuters"}, WordPress {"rendered": "..."}
        for key in ("name", "title", "rendered", "value", "href", "url"):
            found = _json_string(value.get(key), depth + 1)
            if found:
                return found
    return None


def _json_text(value: Any, depth: int = 0) -> str:
    if isinstance(value, list):
        if depth >= _JSON_MAX_DEPTH:
            return ""
        parts = [_json_text(v, depth + 1) for v in value]
        return "\n\n".join(p for p in parts if p)
    text = _json_string(value, depth) or ""
    if _LOOKS_HTML.search(text):
        return html_fragment_to_text(text)
    return text


def _parse_json_object(path: Path, value: Any, *, where: str = "") -> _Parsed:
    prefix = f"{where}: " if where else ""
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise ArticleReadError(path, f"{prefix}expected a JSON object for an article, found {kind}")
    obj = {str(k).lower(): v for k, v in value.items()}
    text = _json_text(_json_field(obj, "text"))
    if not text.strip():
        keys = ", ".join(_JSON_KEYS["text"][:4])
        raise ArticleReadError(
            path, f"{prefix}the JSON object has no article text (looked for {keys}…)"
        )
    title = _json_string(_json_field(obj, "title"))
    if title and "<" in title:
        title = html_fragment_to_text(title) or title
    return _Parsed(
        text=text,
        title=title,
        published=parse_datetime(_json_field(obj, "published")),
        outlet=_json_string(_json_field(obj, "outlet")),
        url=_json_string(_json_field(obj, "url")),
        guid=_json_string(_json_field(obj, "guid")),
    )


def _build(
    path: Path,
    parsed: _Parsed,
    hints: ArticleHints,
    outlet: str | None,
    source: str,
    filename: str,
    where: str = "",
) -> Article:
    known_title = hints.title or parsed.title
    cleaned = clean_text(parsed.text, known_title=known_title)
    if not cleaned.text:
        prefix = f"{where}: " if where else ""
        raise ArticleReadError(path, f"{prefix}no article text left after removing scraping noise")
    return Article.create(
        title=cleaned.title or "",
        text=cleaned.text,
        outlet=hints.outlet or parsed.outlet or outlet or "unknown",
        url=hints.url or parsed.url,
        guid=hints.guid or parsed.guid,
        filename=filename,
        published=hints.published or parsed.published or cleaned.published,
        source=source,
    )
