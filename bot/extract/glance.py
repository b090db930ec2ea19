"""Figures in a fact sheet's "numbers at a glance" box.

Humanitarian fact sheets (UN, USAID, national agencies) open with a box of key figures:
a number on its own line, then its label ("493" / "Official Confirmed Deaths in
Mozambique"), or both on one line ("473 Estimated Number of Fatalities in Haiti GoH/OCHA
– October 11, 2016"). There is no sentence to parse; the label says what is counted, of
whom and where. Labels of things (houses, acres of crops, dollars) are not figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.domain.claims import Metric, Qualifier, Quantity, Scope, ScopeKind
from bot.extract.lexicon import words
from bot.extract.numbers import find_numbers

_NUM = (
    r"(?:(?:more\s+than|over|nearly|almost|about|approximately|at\s+least)\s+)?"
    r"[\d][\d,.]*(?:\s+(?:million|billion|thousand))?"
)
_LABEL = r"[A-Z][^\n]{5,140}"
_GLANCE = re.compile(
    rf"(?im)^[ \t]*(?P<num>{_NUM})[ \t]*(?:(?:\n[ \t]*){{1,3}}|[ \t]+)(?P<label>{_LABEL})$"
)
# What a label counts: (pattern, metric, group), first match wins (kinds before metrics).
_LABEL_METRICS: tuple[tuple[re.Pattern[str], Metric, str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), m, g)
    for p, m, g in (
        (r"\bin\s+need\b|\brequir\w*\s+(?:\w+\s+)?assistance", Metric.AFFECTED, "people in need"),
        (
            r"\bshelter|\baccommodation\s+(?:cent|site)|\bevacuation\s+cent",
            Metric.DISPLACED,
            "people in shelters",
        ),
        (r"\b(?:deaths|fatalities|dead|killed)\b", Metric.KILLED, "people"),
        (r"\b(?:injured|injuries)\b", Metric.INJURED, "people"),
        (r"\bmissing\b", Metric.MISSING, "people"),
        (r"\b(?:displaced|homeless)\b", Metric.DISPLACED, "people"),
        (r"\b(?:evacuated|evacuees)\b", Metric.EVACUATED, "people"),
        (r"\baffected\b", Metric.AFFECTED, "people"),
    )
)
# Labels that count things, not people.
_THINGS = re.compile(
    r"\b(?:houses?|homes|buildings?|acres?|hectares?|crops?|schools?|tons?|tonnes|dollars?|"
    r"funding|budget|flights?|teams?|kits?|vehicles?|roads?|bridges?|cases|livestock)\b",
    re.IGNORECASE,
)
_PLACE = re.compile(r"\bin\s+(?:the\s+)?(?P<place>[A-Z][a-z'’\-]+(?:\s+[A-Z][a-z'’\-]+){0,2})\b")
# Title-cased label words that are not part of a place ("in Need of …", "in Haiti Requiring").
_LABEL_WORDS = words(
    """
    need accommodation evacuation shelters shelter camps centers centres sites requiring
    humanitarian assistance due to region area areas
    """
)


@dataclass(frozen=True, slots=True)
class GlanceFigure:
    metric: Metric
    quantity: Quantity
    group: str
    scope: Scope
    start: int
    end: int
    """Offsets of number and label in the article text."""


def glance_figures(text: str) -> list[GlanceFigure]:
    """The figures of the article's glance box lines, in text order."""
    out: list[GlanceFigure] = []
    if "\n" not in text:
        return out
    for m in _GLANCE.finditer(text):
        fig = _read(m)
        if fig is not None:
            out.append(fig)
    return out


def _read(m: re.Match[str]) -> GlanceFigure | None:
    label = m.group("label")
    if _THINGS.search(label) or label.rstrip().endswith((".", ",", ";")):
        return None  # a sentence or a count of things
    kind = next(((mt, g) for p, mt, g in _LABEL_METRICS if p.search(label)), None)
    if kind is None:
        return None
    spans = find_numbers(m.group("num"))
    if len(spans) != 1:
        return None
    place = _place(label)
    scope = Scope(ScopeKind.LOCAL, place) if place else Scope()
    quantity = spans[0].quantity
    if label.lower().startswith("estimated") and quantity.qualifier is Qualifier.EXACT:
        quantity = replace(quantity, qualifier=Qualifier.ABOUT)
    return GlanceFigure(kind[0], quantity, kind[1], scope, m.start("num"), m.end())


def _place(label: str) -> str:
    """The last place the label names ("… in Need of Assistance in Mozambique" → mozambique)."""
    found = ""
    for m in _PLACE.finditer(label):
        words: list[str] = []
        for w in m.group("place").split():
            if w.lower() in _LABEL_WORDS:
                break
            words.append(w.lower())
        if words:
            found = " ".join(words)
    return found
