"""Claims: what an article asserts, each with its evidence.

Two kinds of claim matter to a monitoring desk: *figures* (how many were killed,
injured, displaced… and who says so) and *statements* (which official said what).
These types are the contract between the extractor, change detection and storage;
they are plain frozen dataclasses with no behaviour that needs I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class Metric(StrEnum):
    """What a figure counts. Every metric here is an *impact* metric."""

    KILLED = "killed"
    INJURED = "injured"
    MISSING = "missing"
    DISPLACED = "displaced"
    EVACUATED = "evacuated"
    ARRESTED = "arrested"
    AFFECTED = "affected"
    RESCUED = "rescued"
    TRAPPED = "trapped"
    HOMELESS = "homeless"
    HOSPITALISED = "hospitalised"
    ABDUCTED = "abducted"


class Qualifier(StrEnum):
    """How the number was hedged in the text."""

    EXACT = "exact"
    AT_LEAST = "at least"
    MORE_THAN = "more than"
    NEARLY = "nearly"
    ABOUT = "about"
    UP_TO = "up to"
    LESS_THAN = "less than"
    APPROXIMATE = "approximate"
    """A vague quantity: "dozens", "hundreds", "scores"."""


class ScopeKind(StrEnum):
    EVENT = "event"
    """The event the story is about (the strike, the quake)."""
    CUMULATIVE = "cumulative"
    """A running total over a period: "this month", "since December", "in total"."""
    LOCAL = "local"
    """A narrower place than the event: "in Hatay province alone"."""


class Temporal(StrEnum):
    """Where a figure sits in time relative to the report."""

    CURRENT = "current"
    """What the source says now."""
    EARLIER = "earlier"
    """An earlier value the article itself mentions ("initially nine")."""
    FORECAST = "forecast"
    """A projection ("could reach 10,000")."""
    OTHER_EVENT = "other_event"
    """About a different, usually past, event ("the 1999 quake killed 17,000")."""


@dataclass(frozen=True, slots=True)
class Scope:
    kind: ScopeKind = ScopeKind.EVENT
    label: str = ""
    """Normalised description of the period or place: "this month", "since december", "hatay".

    An event-wide figure may carry the one place its article was about ("haiti"): the
    series is still the event's (the label is not part of the key) unless the story
    already counts that place as a part (see ``bot.changes.series``)."""

    @property
    def key(self) -> str:
        if not self.label or self.kind is ScopeKind.EVENT:
            return self.kind.value
        return f"{self.kind.value}:{self.label}"


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number as stated, with its hedge.

    ``value`` is the number written (22 for "at least 22", 24 for "dozens");
    ``high`` is set for ranges ("20 to 30") and vague quantities ("dozens" → 99).
    """

    value: float
    qualifier: Qualifier = Qualifier.EXACT
    high: float | None = None
    text: str = ""
    """The surface form, e.g. "at least 22", "nearly a million"."""

    @property
    def is_vague(self) -> bool:
        return self.qualifier is Qualifier.APPROXIMATE

    def interval(self) -> tuple[float, float]:
        """The values this statement is consistent with, as a closed interval."""
        v = self.value
        q = self.qualifier
        if self.high is not None and q in (Qualifier.EXACT, Qualifier.APPROXIMATE, Qualifier.ABOUT):
            lo, hi = v, self.high
            if q is Qualifier.ABOUT:
                lo, hi = lo * 0.9, hi * 1.1
            return (lo, hi)
        if q is Qualifier.EXACT:
            return (v, v)
        if q is Qualifier.AT_LEAST:
            return (v, math.inf)
        if q is Qualifier.MORE_THAN:
            return (v + (1 if v < 100 else v * 0.001), math.inf)
        if q is Qualifier.NEARLY:
            return (v * 0.85, v)
        if q is Qualifier.ABOUT:
            return (v * 0.85, v * 1.15)
        if q is Qualifier.UP_TO:
            return (0.0, v if self.high is None else self.high)
        if q is Qualifier.LESS_THAN:
            return (0.0, v)
        # APPROXIMATE without an explicit high bound
        return (v * 0.5, v * 2.0)

    def display(self) -> str:
        """A normalised rendering ("at least 22", "nearly 1 million", "dozens").

        Vague quantities keep their words; everything else is qualifier + number, so a
        lineage reads the same whichever way each outlet wrote it ("nine", "A total of 54").
        """
        if self.is_vague and self.text:
            return " ".join(self.text.split()).lower()
        n = _fmt(self.value)
        if self.high is not None:
            n = f"{n}-{_fmt(self.high)}"
        return n if self.qualifier is Qualifier.EXACT else f"{self.qualifier.value} {n}"


def _fmt(x: float) -> str:
    if x >= 1_000_000:
        m = x / 1_000_000
        return f"{m:g} million"
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


@dataclass(frozen=True, slots=True)
class Evidence:
    """The sentence a claim was read from, with its character offsets in the article text."""

    sentence: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Figure:
    """A number of people to whom something happened, as one article states it."""

    metric: Metric
    quantity: Quantity
    subject: str
    """As written, lightly normalised: "Turkish soldiers", "people", "children"."""
    subject_group: str
    """A canonical class so that "troops", "solders" and "personnel" compare: "soldiers"."""
    evidence: Evidence
    scope: Scope = field(default_factory=Scope)
    temporal: Temporal = Temporal.CURRENT
    attributed_to: str | None = None
    """Canonical name of the person or body the figure is attributed to, if any."""
    attributed_role: str | None = None
    framed_as_update: bool = False
    """The text presents the value as a change ("rose to 29", "has increased to 22",
    "later confirmed 29", "now stands at"): a rise, never a conflict."""


@dataclass(frozen=True, slots=True)
class Statement:
    """Something a person or named body said, directly quoted or reported."""

    speaker: str
    """Canonical name within the article (its fullest form): "Fahrettin Altun"."""
    role: str | None
    """Role as written: "Turkey's communications director", "UN spokesman"."""
    verb: str
    """The reporting verb, lemmatised: "say", "tell", "condemn"."""
    text: str
    """The quote, or the reported speech."""
    direct: bool
    evidence: Evidence
    official: bool = True
    """False for residents, reporters and unnamed officials; such statements raise no alert."""
    aliases: tuple[str, ...] = ()
    """Other forms the article used for the same speaker ("Mr Altun", "the Secretary-General")."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything extracted from one article version."""

    figures: tuple[Figure, ...] = ()
    statements: tuple[Statement, ...] = ()

    @property
    def impact_figures(self) -> tuple[Figure, ...]:
        """Figures about this event as it stands now: what makes a story worth tracking."""
        return tuple(
            f
            for f in self.figures
            if f.temporal is Temporal.CURRENT and f.scope.kind is ScopeKind.EVENT
        )
