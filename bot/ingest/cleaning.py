"""Removing scraping noise from article text.

Scraped text carries things that are not the report: a leading ``date`` line
written by the scraper, template placeholders left by page minifiers, photo
captions repeated wherever the photo appeared, "Read: …" links to other stories,
credit lines, a headline run into the body, and invisible characters. Left in,
they skew the content hash (the same report looks changed), confuse the claim
extractor and the story grouping. The rules here are general, none is written
for one seed file, and each is conservative: when unsure, text is kept.

Rules, applied in this order and repeated until the text stops changing, so that
cleaning is idempotent (``clean_text(clean_text(x).text).text == clean_text(x).text``):

1. Normalise: line breaks to ``\\n``; every other whitespace (tabs, no-break and
   narrow spaces…) to one space; zero-width characters, soft hyphens, BOMs and
   control characters removed; Unicode NFC. Quotes are kept as written.
2. A leading ``date YYYY-MM-DD`` (or ``Date: YYYY-MM-DD``) marker becomes
   ``published`` (UTC midnight) and is removed. Only at the very start of the text,
   and only if it is a real calendar date.
3. ``%MINIFYHTML<hex>%`` placeholders are removed.
4. Paragraphs: blank-line-separated blocks; inside a block each line is a paragraph,
   unless the block looks hard-wrapped (most of its line breaks fall mid-sentence:
   the line does not end a sentence and the next one starts in lower case), then its
   lines are joined. Output paragraphs are separated by ``\\n\\n``.
5. Related-link lines ("Read: …", "Read more: …", "Also read: …", "RELATED: …",
   "See also: …", "Watch: …") and bare boilerplate lines ("Advertisement",
   "Continue reading", "Share this article"…) are removed.
6. Credit lines that are a whole paragraph ("(With inputs from AP and AFP)",
   "(Reporting by …; Editing by …)") are removed: they are provenance, not report,
   and would make otherwise identical copies of a wire story hash differently.
7. Repeats: a short line (≤ 12 words, no sentence-final punctuation) that occurs more
   than once is a caption or a "share" widget and all its copies are removed;
   any other paragraph repeated verbatim is kept once (first occurrence).
8. Headline: if the caller knows the title (HTML ``<title>``, JSON ``title``) a first
   paragraph equal to it is removed. Otherwise the first paragraph is taken as the
   title and removed from the text only when it looks like a headline (≤ 20 words,
   starts with a capital or digit, no sentence-final punctuation) *and* the next
   paragraph looks like body text (a sentence of ≥ 6 words, or > 20 words). Both
   conditions are needed: a lone caption before a headline, or a list of short
   lines, is left alone. If no headline is found, ``title`` is the first sentence
   of the first body-like paragraph (so a caption is not taken for a title),
   truncated to about 100 characters at a word boundary; it stays in the text.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["CleanedText", "clean_text", "first_sentence_title"]

_MAX_PASSES = 10
_TITLE_CHARS = 100

_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # category Cc except "\n"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063"))
_DATE_PREFIX = re.compile(r"\A\s*date:?[ \t]+(\d{4})-(\d{2})-(\d{2})(?=\s|\Z)", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%MINIFYHTML[0-9a-fA-F]+%")
_BLOCK_SPLIT = re.compile(r"\n[ ]*\n")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’»)\]]*$")
_SENTENCE_BREAK = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s|$)")
_WORD = re.compile(r"\S+")

_RELATED = re.compile(
    r"^(?:read|read more|read also|also read|also see|see also|related|related stories|"
    r"related articles|related news|related coverage|related content|more on this story|"
    r"recommended|watch|watch more|listen|don['’]t miss|further reading|click here)"
    r"(?:\s*:|\s+[|»›–—-]\s+|\s*[»›]\s*)\s*\S",
    re.IGNORECASE,
)
_BOILERPLATE = frozenset(
    {
        "advertisement",
        "ad",
        "sponsored",
        "story continues below",
        "story continues below advertisement",
        "article continues below",
        "continue reading",
        "continue reading below",
        "read more",
        "read full story",
        "related",
        "related stories",
        "related articles",
        "related content",
        "share this article",
        "share this story",
        "share",
        "skip to content",
        "skip to main content",
    }
)
_CREDIT = re.compile(
    r"^\(?\s*(?:with inputs? from|inputs from|additional reporting by|reporting by|"
    r"writing by|written by|editing by|edited by|compiled by)\b[^()]*\)?\.?$",
    re.IGNORECASE,
)
_CAPTION_MAX_WORDS = 12
_CREDIT_MAX_WORDS = 30
_RELATED_MAX_WORDS = 30
_HEADLINE_MAX_WORDS = 20
_BODY_MIN_WORDS = 6


@dataclass(frozen=True, slots=True)
class CleanedText:
    """Text without scraping noise, and what the noise told us.

    ``title`` is the headline found at the start of the text (removed from ``text``)
    or, failing that, the known title passed in, or the first sentence (not removed);
    None only when the text is empty. ``published`` comes from a leading date marker.
    """

    text: str
    published: datetime | None = None
    title: str | None = None


def clean_text(raw: str, *, known_title: str | None = None) -> CleanedText:
    """Remove scraping noise from ``raw``; never raises on any string.

    ``known_title`` is the title given by the source (HTML, JSON, feed): a first
    paragraph repeating it is removed, and the headline heuristic is not applied.
    """
    text = raw
    published: datetime | None = None
    headline: str | None = None
    for _ in range(_MAX_PASSES):
        cleaned, date, found = _clean_once(text, known_title)
        published = published or date
        headline = headline or found
        if cleaned == text:
            break
        text = cleaned
    title = _normalise_title(known_title) or headline or _fallback_title(text)
    return CleanedText(text=text, published=published, title=title)


def first_sentence_title(text: str, limit: int = _TITLE_CHARS) -> str | None:
    """The first sentence of ``text``, cut at a word boundary to about ``limit`` characters.

    A "sentence" must have at least four words, so that "U.N." or "Mr." at the start
    does not end it. None if the text is empty.
    """
    flat = " ".join(text.split())
    if not flat:
        return None
    sentence = flat
    for match in _SENTENCE_BREAK.finditer(flat):
        candidate = flat[: match.end()]
        if len(candidate.split()) >= 4:
            sentence = candidate
            break
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:–—- ")
    return (cut or sentence[:limit]) + "…"


def _fallback_title(text: str) -> str | None:
    """First sentence of the first body-like paragraph (skipping captions), else of the text."""
    paragraphs = text.split("\n\n")
    body = next((p for p in paragraphs if _is_body_like(p)), paragraphs[0])
    return first_sentence_title(body)


def _clean_once(text: str, known_title: str | None) -> tuple[str, datetime | None, str | None]:
    text = _normalise(text)
    text, published = _take_date_prefix(text)
    text = _PLACEHOLDER.sub(" ", text)
    paragraphs = _paragraphs(text)
    paragraphs = [p for p in paragraphs if not _is_related_or_boilerplate(p)]
    paragraphs = [p for p in paragraphs if not _is_credit(p)]
    paragraphs = _drop_repeats(paragraphs)
    paragraphs, headline = _take_headline(paragraphs, known_title)
    return "\n\n".join(paragraphs), published, headline


def _normalise(text: str) -> str:
    text = _LINE_BREAKS.sub("\n", text)
    text = _INLINE_SPACE.sub(" ", text)
    text = text.translate(_INVISIBLE)
    text = _CONTROL.sub("", text)
    text = _INLINE_SPACE.sub(" ", text)  # spaces the removed characters left side by side
    return unicodedata.normalize("NFC", text)


def _take_date_prefix(text: str) -> tuple[str, datetime | None]:
    published: datetime | None = None
    while match := _DATE_PREFIX.match(text):
        try:
            date = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
        except ValueError:
            break
        published = published or date
        text = text[match.end() :]
    return text, published


def _paragraphs(text: str) -> list[str]:
    paragraphs: list[str] = []
    for block in _BLOCK_SPLIT.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if len(lines) > 1 and _looks_hard_wrapped(lines):
            paragraphs.append(" ".join(lines))
        else:
            paragraphs.extend(lines)
    return paragraphs


def _looks_hard_wrapped(lines: list[str]) -> bool:
    mid_sentence = sum(
        1
        for line, following in itertools.pairwise(lines)
        if not _SENTENCE_END.search(line) and following[:1].islower()
    )
    return mid_sentence * 2 >= len(lines) - 1


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _is_related_or_boilerplate(paragraph: str) -> bool:
    if _RELATED.match(paragraph) and _words(paragraph) <= _RELATED_MAX_WORDS:
        return True
    return paragraph.casefold().rstrip(" .:!…") in _BOILERPLATE


def _is_credit(paragraph: str) -> bool:
    return bool(_CREDIT.match(paragraph)) and _words(paragraph) <= _CREDIT_MAX_WORDS


def _is_caption_like(paragraph: str) -> bool:
    return _words(paragraph) <= _CAPTION_MAX_WORDS and not _SENTENCE_END.search(paragraph)


def _drop_repeats(paragraphs: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for p in paragraphs:
        counts[p] = counts.get(p, 0) + 1
    seen: set[str] = set()
    kept: list[str] = []
    for p in paragraphs:
        if counts[p] > 1 and _is_caption_like(p):
            continue
        if p in seen:
            continue
        seen.add(p)
        kept.append(p)
    return kept


def _is_headline_like(paragraph: str) -> bool:
    words = _words(paragraph)
    first = paragraph[:1]
    return (
        0 < words <= _HEADLINE_MAX_WORDS
        and (first.isupper() or first.isdigit() or first in "\"'“‘")
        and any(ch.isalpha() for ch in paragraph)
        and not _SENTENCE_END.search(paragraph)
    )


def _is_body_like(paragraph: str) -> bool:
    words = _words(paragraph)
    if words > _HEADLINE_MAX_WORDS:
        return True
    return words >= _BODY_MIN_WORDS and bool(_SENTENCE_END.search(paragraph))


def _title_key(title: str) -> str:
    return " ".join(title.casefold().split()).rstrip(" .:!?…")


def _normalise_title(title: str | None) -> str | None:
    if title is None:
        return None
    flat = " ".join(_normalise(title).split())
    return flat or None


def _take_headline(paragraphs: list[str], known_title: str | None) -> tuple[list[str], str | None]:
    if not paragraphs:
        return paragraphs, None
    known = _normalise_title(known_title)
    if known is not None:
        if _title_key(paragraphs[0]) == _title_key(known):
            return paragraphs[1:], None
        return paragraphs, None
    if len(paragraphs) > 1 and _is_headline_like(paragraphs[0]) and _is_body_like(paragraphs[1]):
        return paragraphs[1:], paragraphs[0]
    return paragraphs, None
