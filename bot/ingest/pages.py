"""Article pages fetched over HTTP: the full text behind a feed's teaser.

A feed often carries only a summary; the article itself is on its page. The page's
bytes are decoded (a ``<meta charset>`` is honoured), stripped of navigation and
boilerplate by trafilatura, and cleaned like any other article text. The result
*replaces the text* of the feed's article but keeps its identity, outlet and date,
so the page and the feed item remain one article.
"""

from __future__ import annotations

from dataclasses import replace

from bot.domain.articles import Article, content_hash
from bot.ingest.cleaning import clean_text
from bot.ingest.decoding import DecodeProblem, decode_text, html_declared_charset
from bot.ingest.errors import IngestError
from bot.ingest.html import html_to_text


class PageReadError(IngestError):
    """A fetched page had no readable article text."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"{url}: {reason}", reason)


def page_text(body: bytes, *, url: str, title: str | None = None) -> str:
    """The cleaned main text of an HTML page; raises PageReadError if there is none."""
    try:
        html, _encoding = decode_text(body, declared=html_declared_charset(body))
    except DecodeProblem as exc:
        raise PageReadError(url, str(exc)) from exc
    page = html_to_text(html, url)
    cleaned = clean_text(page.text, known_title=title or page.title)
    if not cleaned.text:
        raise PageReadError(url, "no article text found on the page")
    return cleaned.text


def with_page_text(article: Article, body: bytes, *, url: str) -> Article:
    """``article`` with the page's text, if that says more than the article already does.

    A page whose text is shorter than the summary is most likely a paywall or a
    consent wall: the summary is kept then (the caller gets the article unchanged).
    """
    text = page_text(body, url=url, title=article.title)
    if len(text) <= len(article.text):
        return article
    return replace(article, text=text, content_hash=content_hash(article.title, text))
