"""Extracting an article's text and metadata from an HTML page.

trafilatura does the work: it found the whole article without navigation,
"related stories" grids or footers on our test pages, where readability-lxml
returned nothing. It is run with ``favor_precision`` because a missed paragraph
costs less than boilerplate figures ("54 killed this month" from a sidebar) read
as part of the report. When it finds nothing (short fragments, odd markup) a plain
walk over the block elements is used instead, and garbage gives empty text
rather than an exception: deciding that an empty article is an error is the
caller's job, which knows the file name to report.

Paragraphs in ``HtmlArticle.text`` are separated by blank lines, as ``clean_text``
expects; the text is otherwise not cleaned here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import trafilatura

from bot.ingest.dates import parse_datetime

__all__ = ["HtmlArticle", "html_fragment_to_text", "html_to_text"]

_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "iframe",
    "button",
    "select",
    "figcaption",
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "section",
        "article",
        "main",
        "table",
        "tr",
        "td",
        "th",
        "dd",
        "dt",
        "dl",
        "figure",
        "figcaption",
        "hr",
        "body",
    }
)
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "source"})
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


@dataclass(frozen=True, slots=True)
class HtmlArticle:
    """What a page says and, when the page tells, its title, date, outlet and author."""

    text: str
    title: str | None = None
    published: datetime | None = None
    outlet: str | None = None
    author: str | None = None
    url: str | None = None


def html_to_text(html: str | bytes, url: str | None = None) -> HtmlArticle:
    """Extract the main text and metadata of a page; never raises, may return empty text."""
    if isinstance(html, str):
        # lxml refuses str input that carries an XML encoding declaration.
        html = _XML_DECLARATION.sub("", html, count=1)
    doc = _trafilatura(html, url)
    fallback: HtmlArticle | None = None
    text = _paragraphs(_str(doc.get("text"))) if doc else ""
    if not text:
        fallback = _plain_extract(html)
        text = fallback.text
    if not doc:
        return fallback or HtmlArticle(text="")
    outlet = _str(doc.get("sitename")) or None
    title = _str(doc.get("title")) or (fallback.title if fallback else None)
    return HtmlArticle(
        text=text,
        title=title or None,
        published=_published(doc.get("date")),
        outlet=outlet,
        author=_str(doc.get("author")) or None,
        url=_str(doc.get("url")) or url,
    )


def html_fragment_to_text(html: str) -> str:
    """Text of an HTML fragment (a feed entry's content), paragraphs separated by blank lines.

    No boilerplate detection: a feed's content is already the article, and trafilatura
    on a fragment drops short but real paragraphs or returns nothing.
    """
    return _plain_extract(html).text


def _trafilatura(html: str | bytes, url: str | None) -> dict[str, Any] | None:
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
            date_extraction_params={
                "outputformat": _DATE_FORMAT,
                "original_date": True,
                "extensive_search": False,
            },
        )
    except Exception:  # garbage in must not stop a batch; see the module doc
        return None
    if isinstance(doc, dict):
        return doc
    if doc is not None and hasattr(doc, "as_dict"):
        result: dict[str, Any] = doc.as_dict()
        return result
    return None


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _paragraphs(text: str) -> str:
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _published(value: object) -> datetime | None:
    # htmldate writes "2024-03-05T08:30:00+0200", or a bare date when it found no time;
    # fromisoformat (3.11) reads both, a bare date as UTC midnight.
    return parse_datetime(_str(value))


def _plain_extract(html: str | bytes) -> HtmlArticle:
    """Block-aware text of any markup via the standard library's lenient parser."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    parser = _TextParser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's rare complaints on garbage
        pass
    title = " ".join("".join(parser.title).split())
    return HtmlArticle(text=_paragraphs("".join(parser.parts)), title=title or None)


class _TextParser(HTMLParser):
    """Collects text outside dropped elements, with a line break around each block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skip_stack: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            if tag in _BLOCK_TAGS:
                self.parts.append("\n")
            return
        if tag == "title":
            self._in_title = True
        elif tag in _DROP_TAGS or tag == "head":
            self._skip_stack.append(tag)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._skip_stack:  # also closes dropped elements left open inside it
            while self._skip_stack.pop() != tag:
                pass
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip_stack:
            self.parts.append(data)
