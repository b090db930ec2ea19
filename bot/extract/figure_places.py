"""Which place a figure counts, settled over the whole article.

A sentence can tie a figure to a named place ("the death toll in Zimbabwe rose to 344");
whether that place is *narrower than the event* only the article as a whole shows:

* An article that names a single place for its figures, and gives no other value for the
  same count without a place, is about that place as a whole ("2.1 million people affected
  in Haiti" in a report on a hurricane in Haiti): its figures are event-wide (the scope
  keeps the place as its label, so a story that already counts the place as a part of a
  larger event files them under the place).
* An article that gives counts for several places, or a place's count beside a different
  event-wide one ("at least 305 killed", "167 in Mexico City"), reports sub-areas: each
  place is its own series, never compared with the event toll.
* The same count given once with a place and once without (a fact sheet's box "493
  Official Confirmed Deaths in Mozambique" and its body "at least 493 confirmed deaths")
  is one figure: the place carries over.
* A section heading that names a place ("Earthquakes and aftershocks in Japan") ties the
  figures under it to that place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bot.domain.claims import Figure, Scope, ScopeKind, Temporal
from bot.extract.figures import PLACE_BEFORE, place_named_last

# A line that ends "in <Place>" (found from its end: most lines do not; then the line is
# checked to be a short heading of its own).
_LINE_ENDS_IN_PLACE = re.compile(
    r"(?m)\bin[ \t]+(?P<place>[A-Z][\w'’\-]*(?:[ \t]+[A-Z][\w'’\-]*){0,2})[ \t]*$"
)
_NOT_HEADING = re.compile(r"[.!?:;]")
# A line that is only a number: the next line is its label, not a heading.
_NUMBER_LINE = re.compile(
    r"(?:^|\n)[ \t]*(?:more\s+than\s+|over\s+|nearly\s+|about\s+)?[\d.,]+"
    r"(?:\s*(?:million|billion|thousand))?[ \t]*\s*$",
    re.IGNORECASE,
)
_HEADING_MAX_WORDS = 8
_NARROWER = re.compile(r"\balone\b|\bincluding\b", re.IGNORECASE)


def settle_places(text: str, figures: Sequence[Figure]) -> list[Figure]:
    out = _same_count_same_place(_resolve_before(text, figures))
    out = _whole_area(out)
    # After the whole-area test: a heading marks a section about a part, by construction.
    return _under_headings(text, out)


def _resolve_before(text: str, figures: Sequence[Figure]) -> list[Figure]:
    """ "the official death count in his country stood at 84": the place named last."""
    out = []
    for f in figures:
        if f.scope.kind is ScopeKind.LOCAL and f.scope.label == PLACE_BEFORE:
            place = place_named_last(text[: f.evidence.start], country=True)
            f = replace(f, scope=Scope(ScopeKind.LOCAL, place) if place else Scope())
        out.append(f)
    return out


def _unplaced(f: Figure) -> bool:
    return f.scope.kind is ScopeKind.EVENT and not f.scope.label and f.temporal is Temporal.CURRENT


def _placed(f: Figure) -> bool:
    return f.scope.kind is ScopeKind.LOCAL and f.temporal is not Temporal.FORECAST


def _under_headings(text: str, figures: list[Figure]) -> list[Figure]:
    """Figures under a heading that names a place are that place's."""
    headings = []
    for m in _LINE_ENDS_IN_PLACE.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        line = text[start : m.end()].strip()
        if not line[:1].isupper() or _NOT_HEADING.search(line):
            continue
        if len(line.split()) > _HEADING_MAX_WORDS:
            continue
        if _NUMBER_LINE.search(text, max(0, start - 40), start):
            continue  # the label of a number on the line before (a glance box)
        headings.append((m.end(), m.group("place")))
    if not headings:
        return figures
    out = []
    for f in figures:
        # where the number itself is: a heading may share a "sentence" with the text under it
        at = f.evidence.start + max(0, f.evidence.sentence.find(f.quantity.text))
        place = _section_place(headings, at)
        if place and _unplaced(f):
            f = replace(f, scope=Scope(ScopeKind.LOCAL, _label(place)))
        out.append(f)
    return out


def _section_place(headings: list[tuple[int, str]], at: int) -> str:
    place = ""
    for end, name in headings:
        if end <= at:
            place = name
    return place


def _label(place: str) -> str:
    return " ".join(place.lower().replace("’", "'").removesuffix("'s").split())


def _same_count(a: Figure, b: Figure) -> bool:
    """The same metric of the same people (in need of aid and affected are two counts)."""
    return a.metric is b.metric and (
        a.subject_group == b.subject_group or not a.subject_group or not b.subject_group
    )


def _same_count_same_place(figures: list[Figure]) -> list[Figure]:
    """An unplaced figure equal to a placed one of the same count is that place's."""
    placed = {(f.metric, f.quantity.value): f.scope for f in figures if _placed(f)}
    out = []
    for f in figures:
        scope = placed.get((f.metric, f.quantity.value))
        if scope is not None and _unplaced(f):
            f = replace(f, scope=scope)
        out.append(f)
    return out


def _whole_area(figures: list[Figure]) -> list[Figure]:
    """A single place, with no other value for its counts, is the article's whole area."""
    places = {f.scope.label for f in figures if _placed(f)}
    if len(places) != 1:
        return figures
    (place,) = places
    placed = [f for f in figures if _placed(f)]
    if any(_NARROWER.search(f.evidence.sentence) for f in placed):
        return figures  # "in Hatay alone", "including 40 in Hatay": said to be a part
    for f in figures:
        if not _unplaced(f):
            continue
        if any(_same_count(g, f) and g.quantity.value != f.quantity.value for g in placed):
            return figures  # "167 in Mexico City" beside "at least 305": a part of the event
    # Event-wide, but the place is kept: a story that already counts this place as a part of
    # a larger event (two countries hit) files the figure under the place (``changes``).
    whole = Scope(ScopeKind.EVENT, place)
    return [
        replace(f, scope=whole) if f.scope.kind is ScopeKind.LOCAL and f.scope.label == place else f
        for f in figures
    ]
