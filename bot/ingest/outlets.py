"""Which outlet an entry of a feed comes from: the entry's own source, else the feed's.

An aggregator, a ministry's press feed or a relief-agency digest carries reports of
many producers in one channel. If every item took the channel's title, a UN agency,
a ministry and a broadcaster in one feed would be one "source": a figure that differs
between them would never be a conflict, and a change between two of them would read
as one outlet's update. So an entry's outlet is taken, in this order, from:

1. its ``<source>`` (RSS: the channel it came from; Atom: the source feed's title);
2. ``dc:publisher`` (the body that published it);
3. the author of an Atom ``<source>``;
4. its author (``dc:creator``, ``<author>``) *only when that names an organisation*
   (a news agency, a ministry, "UN News", an acronym like FEMA): a reporter's byline
   is a person of the outlet, not another outlet, and neither is a desk ("World
   Desk", "Staff") of the channel itself;
5. the host of a ``<source url>`` that gives no name;

and else the channel's title. A trailing parenthetical is a note on the copy, not
part of the producer's name: "USAID (fact sheet)", "VOA (republished by …)" are
USAID and VOA, so that two copies from one producer are one outlet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

MAX_OUTLET_CHARS = 120

# Words that make an author line the name of an organisation rather than a person.
_ORGANISATION_WORDS = frozenset(
    {
        "administration",
        "agence",
        "agency",
        "associated",
        "association",
        "authority",
        "bank",
        "broadcasting",
        "bureau",
        "center",
        "centre",
        "channel",
        "command",
        "commission",
        "committee",
        "corporation",
        "council",
        "crescent",
        "cross",
        "daily",
        "department",
        "embassy",
        "federation",
        "foundation",
        "fund",
        "gazette",
        "government",
        "group",
        "herald",
        "institute",
        "journal",
        "magazine",
        "media",
        "ministry",
        "nations",
        "network",
        "news",
        "office",
        "organisation",
        "organization",
        "police",
        "post",
        "press",
        "presse",
        "programme",
        "program",
        "radio",
        "service",
        "society",
        "telegraph",
        "television",
        "times",
        "tribune",
        "union",
        "university",
        "wire",
    }
)
# News agencies whose one-word names carry no organisation word.
_AGENCIES = frozenset(
    {
        "anadolu",
        "antara",
        "bernama",
        "bloomberg",
        "efe",
        "interfax",
        "kyodo",
        "reuters",
        "tass",
        "xinhua",
        "yonhap",
    }
)
# An author line naming the channel's own people: the channel stays the outlet.
_OWN_DESK_WORDS = frozenset(
    {"desk", "staff", "newsroom", "editor", "editors", "editorial", "team", "reporter"}
)
_ACRONYM = re.compile(r"^[A-Z][A-Z&.]{1,7}$")
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_EMAIL = re.compile(r"\S+@\S+")
_BYLINE = re.compile(r"^by\s+", re.IGNORECASE)


def entry_outlet(entry: Any, channel_outlet: str) -> str:
    """The outlet of one feedparser entry (see the module docstring for the order)."""
    for rule in OUTLET_RULES:
        name = rule(entry)
        if name:
            return name
    return channel_outlet


def outlet_name(raw: object) -> str | None:
    """A producer's name as an outlet: one line, no note in brackets, no e-mail, bounded."""
    if not isinstance(raw, str):
        return None
    text = _BYLINE.sub("", " ".join(_EMAIL.sub(" ", raw).split()))
    bare = _TRAILING_NOTE.sub("", text).strip(" ,;:-–—")
    name = bare or text.strip("() ")
    return name[:MAX_OUTLET_CHARS].rstrip() or None


def names_an_organisation(name: str) -> bool:
    """Whether an author line names an organisation (and not the channel's own desk)."""
    words = re.findall(r"[\w&.'-]+", name)
    lowered = {w.lower().strip(".'") for w in words}
    if lowered & _OWN_DESK_WORDS:
        return False
    if lowered & (_ORGANISATION_WORDS | _AGENCIES):
        return True
    return len(words) == 1 and bool(_ACRONYM.match(words[0]))


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if hasattr(obj, "get") else None


def _source_title(entry: Any) -> str | None:
    return outlet_name(_field(_field(entry, "source"), "title"))


def _publisher(entry: Any) -> str | None:
    detail = _field(entry, "publisher_detail")
    return outlet_name(_field(detail, "name")) or outlet_name(_field(entry, "publisher"))


def _source_author(entry: Any) -> str | None:
    source = _field(entry, "source")
    return outlet_name(_field(_field(source, "author_detail"), "name")) or outlet_name(
        _field(source, "author")
    )


def _organisation_author(entry: Any) -> str | None:
    for author in _field(entry, "authors") or [_field(entry, "author_detail")]:
        name = outlet_name(_field(author, "name"))
        if name and names_an_organisation(name):
            return name
    return None


def _source_host(entry: Any) -> str | None:
    href = _field(_field(entry, "source"), "href")
    if not isinstance(href, str):
        return None
    try:
        host = (urlsplit(href.strip()).hostname or "").lower()
    except ValueError:
        return None
    return host.removeprefix("www.") or None


OUTLET_RULES: tuple[Callable[[Any], str | None], ...] = (
    _source_title,
    _publisher,
    _source_author,
    _organisation_author,
    _source_host,
)
"""Tried in order; the first name found is the entry's outlet."""
