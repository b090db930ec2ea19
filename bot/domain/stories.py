"""Stories: articles about one event, and what the story knows so far.

A ``Story`` is the aggregate that change detection reads and updates. Its
``state`` is everything needed to decide whether a new article changes anything:
per figure series (metric × subject × scope) the lineage of the headline value and
the latest value per source, and the officials who have spoken. Its ``profile`` is
what grouping needs to decide whether a new article belongs to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.claims import Metric, Quantity, Scope

_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/1/i/l/o: easy to read aloud and type


def story_id_for(first_article_id: str, attempt: int = 0) -> str:
    """A short, typeable story id derived from its first article (deterministic across replays).

    ``attempt`` > 0 derives another id when the first one is taken.
    """
    digest = hashlib.sha256(f"{first_article_id}#{attempt}".encode()).digest()
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(6):
        n, r = divmod(n, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[r])
    return "".join(chars)


@dataclass(frozen=True, slots=True)
class FigureStep:
    """One observation of a figure: the value, who said it, where it was read, when."""

    quantity: Quantity
    source: str
    """Who the figure is attributed to, or the outlet when the article attributes it to nobody."""
    article_id: str
    outlet: str
    url: str | None
    sentence: str
    at: datetime
    earlier: bool = False
    """True for a value the article mentions as superseded ("initially nine")."""
    dated: bool = True
    """False when ``at`` is the arrival time because the article carried no date."""


def lineage_text(steps: Sequence[FigureStep]) -> str:
    """A figure's history as one line: "9 [Dogan] (earlier) → at least 22 [Dogan] → …"."""
    return " → ".join(
        f"{s.quantity.display()} [{s.source}]" + (" (earlier)" if s.earlier else "") for s in steps
    )


@dataclass(frozen=True, slots=True)
class Series:
    """Everything a story knows about one figure (e.g. soldiers killed in the strike)."""

    metric: Metric
    subject_group: str
    subject: str
    scope: Scope
    lineage: tuple[FigureStep, ...] = ()
    """The headline value over time, oldest first: 9 → 22 → 29 → 33."""
    by_source: dict[str, FigureStep] = field(default_factory=dict)
    """Latest value per source: the basis for conflicts."""
    alerted_conflicts: tuple[str, ...] = ()
    """Conflict keys already alerted ("source=value"), so a conflict is raised once."""
    confirmations: int = 0

    @property
    def key(self) -> str:
        return series_key(self.metric, self.subject_group, self.scope)

    @property
    def head(self) -> FigureStep | None:
        """The current headline value: the latest step that is not an earlier-mentioned value."""
        for step in reversed(self.lineage):
            if not step.earlier:
                return step
        return None


def series_key(metric: Metric, subject_group: str, scope: Scope) -> str:
    return f"{metric.value}|{subject_group}|{scope.key}"


@dataclass(frozen=True, slots=True)
class SpeakerRecord:
    """An official who has spoken in the story."""

    name: str
    role: str | None
    aliases: tuple[str, ...]
    first_article_id: str
    statements: int = 1


@dataclass(frozen=True, slots=True)
class StoryState:
    series: dict[str, Series] = field(default_factory=dict)
    speakers: dict[str, SpeakerRecord] = field(default_factory=dict)
    """Keyed by the speaker's canonical key (see ``bot.extract.speakers.speaker_key``)."""
    tracked: bool = False
    """True once the story carries an impact figure; only tracked stories alert."""


@dataclass(frozen=True, slots=True)
class StoryProfile:
    """What grouping compares a new article with."""

    terms: dict[str, float] = field(default_factory=dict)
    """Weighted salient terms of the story's articles (bounded in size)."""
    places: tuple[str, ...] = ()
    """Place and proper names the story's articles mention most."""
    first_at: datetime | None = None
    last_at: datetime | None = None
    article_count: int = 0
    facts: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Series key → interval of the story's current value: for fact agreement."""


@dataclass(frozen=True, slots=True)
class Story:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    profile: StoryProfile = field(default_factory=StoryProfile)
    state: StoryState = field(default_factory=StoryState)
