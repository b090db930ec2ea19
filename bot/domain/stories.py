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
class EventSignature:
    """What happened, where, and under which name: the identity of a real-world event.

    Words change as a story runs (rescue → aid → rebuilding) and outlets write it in
    very different registers (a wire story, a fact sheet, a military release), but the
    event itself stays put: an earthquake in Ecuador, Hurricane Harvey in Texas. Each
    mapping is a share (0–1, summing to 1) of the mentions read so far.
    """

    kinds: dict[str, float] = field(default_factory=dict)
    """Event family ("quake", "storm", "air_crash", …) → share of event-type mentions."""
    countries: dict[str, float] = field(default_factory=dict)
    """ISO 3166 alpha-2 code → share of the place mentions resolved to that country."""
    places: dict[str, float] = field(default_factory=dict)
    """Finer places ("MX/puebla", "US/houston") → share of place mentions."""
    names: dict[str, float] = field(default_factory=dict)
    """Names of the event itself ("storm:harvey", "flight:302", "airline:ET") → share."""

    @property
    def empty(self) -> bool:
        return not (self.kinds or self.countries or self.names)

    def index_keys(self) -> tuple[str, ...]:
        """Keys a story is looked up by: its main event kinds and countries, its names.

        A kind or country counts from ``INDEX_SHARE`` of the mentions on: a passing
        mention ("a rescue team from Kenya") should not make a story a candidate.
        """
        keys = [f"kind:{k}" for k, v in self.kinds.items() if v >= INDEX_SHARE]
        keys += [f"country:{c}" for c, v in self.countries.items() if v >= INDEX_SHARE]
        keys += [f"name:{n}" for n in self.names]
        return tuple(sorted(set(keys)))


INDEX_SHARE = 0.2
"""See ``EventSignature.index_keys``."""


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
    signature: EventSignature = field(default_factory=EventSignature)
    """What, where and which named event the story is about (empty in profiles stored
    before signatures existed: such stories are matched on words alone)."""


@dataclass(frozen=True, slots=True)
class Story:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    profile: StoryProfile = field(default_factory=StoryProfile)
    state: StoryState = field(default_factory=StoryState)


@dataclass(frozen=True, slots=True)
class GroupingMatch:
    """What an article has in common with one story, as grouping scored it."""

    story_id: str
    score: float
    similarity: float
    """Cosine of the article's words with the story's."""
    event_types: tuple[str, ...] = ()
    """Event families both report ("quake", "weather", "air_crash")."""
    places: tuple[str, ...] = ()
    """Countries (ISO codes) and finer places ("MX/puebla") both name."""
    event_names: tuple[str, ...] = ()
    """Names of the event both give ("storm:harvey", "flight:302")."""
    names: tuple[str, ...] = ()
    """Other names and places both mention (words)."""
    gap_hours: float = 0.0
    """Time from the article to the story's span (0 inside it)."""
    life_days: float = 3.0
    """How far apart they could be: weeks for a one-off disaster both report."""
    facts_agreeing: tuple[str, ...] = ()
    facts_conflicting: tuple[str, ...] = ()
    clashes: tuple[str, ...] = ()
    """Parts of the event signature that disagree: "event_type", "place", "event_name"."""

    def as_record(self) -> dict[str, object]:
        return {
            "story": self.story_id,
            "score": round(self.score, 3),
            "similarity": round(self.similarity, 3),
            "event_type": list(self.event_types),
            "places": list(self.places),
            "event_names": list(self.event_names),
            "names": list(self.names),
            "time_gap_hours": round(self.gap_hours, 1),
            "story_life_days": round(self.life_days, 1),
            "facts": {"agree": list(self.facts_agreeing), "conflict": list(self.facts_conflicting)},
            "clashes": list(self.clashes),
        }


@dataclass(frozen=True, slots=True)
class Grouping:
    """Why an article is in its story: the answer to "why is this in that story?"."""

    decision: str
    """"joined" (scored highest and cleared the threshold), "started" (no story did),
    "copy" (a near-copy of an article already in the story), "revised" (a new version
    of an article of the story)."""
    story_id: str
    threshold: float
    match: GroupingMatch | None = None
    """For "joined": the match with the story. For "started": the nearest story that
    did not clear the threshold (None when there was no candidate)."""
    copy_of: str | None = None
    """For "copy": the article it repeats."""

    def as_record(self) -> dict[str, object]:
        joined = self.decision == "joined" and self.match is not None
        return {
            "decision": self.decision,
            "story": self.story_id,
            "score": round(self.match.score, 3) if joined and self.match else None,
            "threshold": self.threshold,
            "matched": self.match.as_record() if joined and self.match else None,
            "nearest": self.match.as_record() if not joined and self.match else None,
            "copy_of": self.copy_of,
        }
