"""Reading RSS/Atom feed bytes into articles.

Fetching is someone else's job: this takes the bytes, so it is testable offline.

Safety first: feedparser hands well-formed XML to the system expat, which
expanded a billion-laughs document for 1.5 s and 91 MB before giving up. So the
bytes are first run through defusedxml with entity declarations forbidden, which
rejects such a document in milliseconds. The policy: **no ENTITY declaration of
any kind** (internal, external, parameter) is accepted; a plain ``<!DOCTYPE rss>``
or an RSS 0.91 ``PUBLIC`` doctype is fine (external DTDs are never fetched), and
HTML entities such as ``&nbsp;`` inside content are left to feedparser. When the
document is too broken for defusedxml to judge, a byte scan for ``<!ENTITY``
decides, then feedparser's lenient parser gets its chance.

Each entry becomes an ``Article`` (identity: the entry's guid, else its link). Its
outlet is the entry's own producer where the entry names one (``<source>``,
``dc:publisher``, an organisation as author: ``bot.ingest.outlets``), else the
feed's title (or the feed's host). The entry's full
``content`` is preferred over its ``summary``; ``FeedItem.summary_only`` tells
which articles are only a teaser, for a later stage to fetch the page.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as defused_et
import feedparser
from defusedxml import DefusedXmlException

from bot.domain.articles import Article
from bot.ingest.cleaning import clean_text
from bot.ingest.errors import FeedReadError
from bot.ingest.html import html_fragment_to_text
from bot.ingest.outlets import entry_outlet

__all__ = ["DEFAULT_FEED_MAX_BYTES", "FeedItem", "FeedRead", "read_feed"]

DEFAULT_FEED_MAX_BYTES = 10 * 1024 * 1024
ENTITY_REJECTION = "XML entity declarations are not allowed in feeds"

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
_MARKUP = re.compile(r"<[A-Za-z/!][^>]*>|&[#A-Za-z0-9]+;")


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry read as an article; ``summary_only`` if the feed gave only a teaser."""

    article: Article
    summary_only: bool
    link: str | None


@dataclass(frozen=True, slots=True)
class FeedRead:
    """A feed's entries, the entries that could not be read, and feedparser's complaint."""

    title: str | None
    outlet: str
    items: tuple[FeedItem, ...]
    errors: tuple[FeedReadError, ...]
    bozo_reason: str | None
    """Why feedparser thought the XML was malformed, even if it recovered entries."""

    @property
    def articles(self) -> list[Article]:
        return [item.article for item in self.items]


def read_feed(
    data: bytes,
    *,
    feed_url: str | None = None,
    source: str | None = None,
    max_bytes: int = DEFAULT_FEED_MAX_BYTES,
) -> FeedRead:
    """Parse RSS/Atom ``data``; raise ``FeedReadError`` if it is unsafe or not a feed at all.

    ``feed_url`` resolves relative links and names the outlet when the feed has no
    title; ``source`` (default ``feed_url``) is recorded on each article for provenance.
    """
    where = source or feed_url
    if not data.strip():
        raise FeedReadError("empty feed", source=where)
    if len(data) > max_bytes:
        raise FeedReadError(
            f"feed too large ({len(data):,} bytes; the limit is {max_bytes:,})", source=where
        )
    _reject_entity_declarations(data, where)
    # The base URL resolves relative links. Any headers make feedparser want a content
    # type; application/xml lets the document's own encoding declaration decide.
    headers = (
        {"content-location": feed_url, "content-type": "application/xml"} if feed_url else None
    )
    try:
        parsed: Any = feedparser.parse(data, response_headers=headers)
    except (ValueError, LookupError, OverflowError) as exc:
        # feedparser on garbage: an encoding name with a NUL, a character reference
        # beyond any integer (&#99999999999999999999;)…
        detail = " ".join(str(exc).split())[:120]
        raise FeedReadError(
            f"not a readable RSS/Atom feed: its encoding or markup is broken ({detail})",
            source=where,
        ) from None
    bozo_reason = str(parsed.get("bozo_exception") or "malformed XML") if parsed.bozo else None
    entries: list[Any] = list(parsed.entries)
    if not entries and (parsed.bozo or not parsed.get("version")):
        raise FeedReadError(
            f"not a readable RSS/Atom feed: {bozo_reason or 'no feed elements found'}", source=where
        )
    feed: Any = parsed.feed
    title = _title(feed) or None
    outlet = title or _host(feed.get("link")) or _host(feed_url) or "unknown"
    provenance = f"feed:{feed_url or source or 'unknown'}"
    items: list[FeedItem] = []
    errors: list[FeedReadError] = []
    for index, entry in enumerate(entries):
        try:
            items.append(_item(entry, index, outlet, provenance, where))
        except FeedReadError as exc:
            errors.append(exc)
    return FeedRead(title, outlet, tuple(items), tuple(errors), bozo_reason)


def _reject_entity_declarations(data: bytes, where: str | None) -> None:
    try:
        defused_et.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        name = getattr(exc, "name", None)
        detail = f" (entity {name!r} declared)" if name else ""
        raise FeedReadError(
            f"{ENTITY_REJECTION}{detail}; rejected before parsing", source=where
        ) from exc
    except (ParseError, ValueError, LookupError):
        # Too broken (or an encoding expat lacks) to judge by parsing: scan the bytes.
        if any(_ENTITY_DECL.search(candidate) for candidate in _scan_forms(data)):
            raise FeedReadError(
                f"{ENTITY_REJECTION}; rejected before parsing", source=where
            ) from None


def _scan_forms(data: bytes) -> list[bytes]:
    """``data`` in forms an ASCII pattern can search, including UTF-16/32 documents."""
    forms = [data]
    if b"\x00" in data[:64]:  # a wide encoding: NULs between ASCII characters
        for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
            forms.append(data.decode(codec, errors="replace").encode("utf-8"))
    return forms


MAX_ENTRY_CHARS = 200_000
"""An entry longer than this is not an article (the extractor reads no further anyway)."""


def _item(entry: Any, index: int, outlet: str, provenance: str, where: str | None) -> FeedItem:
    link = _plain_str(entry.get("link")) or None
    guid = _plain_str(entry.get("id")) or None
    if link is None and guid and entry.get("guidislink"):
        link = guid
    if link is not None and not link.lower().startswith(("http://", "https://")):
        link = None  # javascript:, data:, file: … are never article links
    title = _title(entry) or None
    short = title if title is None or len(title) <= 80 else title[:80] + "…"
    label = f"entry {index}" + (f" ({short!r})" if short else "")
    if guid is None and link is None:
        raise FeedReadError(f"{label} has neither a guid nor a link", source=where)
    text, summary_only = _entry_text(entry)
    if len(text) > MAX_ENTRY_CHARS:
        raise FeedReadError(
            f"{label} is too large ({len(text):,} characters; the limit is {MAX_ENTRY_CHARS:,})",
            source=where,
            link=link,
        )
    cleaned = clean_text(text, known_title=title)
    if not cleaned.text:
        raise FeedReadError(f"{label} has no content or summary text", source=where, link=link)
    article = Article.create(
        title=cleaned.title or "",
        text=cleaned.text,
        outlet=entry_outlet(entry, outlet),
        url=link,
        guid=guid,
        published=_entry_published(entry),
        source=provenance,
    )
    return FeedItem(article=article, summary_only=summary_only, link=link)


def _entry_text(entry: Any) -> tuple[str, bool]:
    for content in entry.get("content") or []:
        text = _detail_text(content)
        if text:
            return text, False
    summary_detail = entry.get("summary_detail")
    if summary_detail:
        return _detail_text(summary_detail), True
    summary = _plain_str(entry.get("summary"))
    return (html_fragment_to_text(summary) if _MARKUP.search(summary) else summary), True


def _detail_text(detail: Any) -> str:
    value = detail.get("value") if hasattr(detail, "get") else None
    if not isinstance(value, str):
        return ""
    kind = str(detail.get("type") or "").lower()
    if kind in _HTML_TYPES or _MARKUP.search(value):
        return html_fragment_to_text(value)
    return value.strip()


def _entry_published(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        stamp = entry.get(key)
        if stamp:
            try:
                return datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)
            except (TypeError, ValueError, OverflowError, OSError):
                continue
    return None


def _plain_str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _title(obj: Any) -> str:
    """A feed's or entry's title as plain words (an HTML-typed title loses its markup)."""
    text = _plain_str(obj.get("title"))
    detail = obj.get("title_detail")
    kind = str(detail.get("type") or "").lower() if hasattr(detail, "get") else ""
    if text and kind in _HTML_TYPES:
        text = html_fragment_to_text(text) or text
    return " ".join(text.split())


def _host(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        return ""
    host = (urlsplit(url.strip()).hostname or "").lower()
    return host.removeprefix("www.")
