"""Alerts: the events the bot exists to raise.

An alert is a domain event — something changed in a story — carrying its full
provenance so that a reader can judge it without opening anything else: outlet,
link, sentence, who the figure is attributed to, and the figure's history.
Alerts are platform-neutral; adapters render them as embeds, Block Kit or text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.stories import FigureStep, Grouping


class AlertType(StrEnum):
    NEW_STORY = "new_story"
    FIGURE_RISE = "figure_rise"
    FIGURE_DROP = "figure_drop"
    FIGURE_CONFLICT = "figure_conflict"
    NEW_FIGURE = "new_figure"
    NEW_STATEMENT = "new_statement"
    ARTICLE_REVISED = "article_revised"

    @property
    def label(self) -> str:
        """What a reader sees as the alert's heading ("Figure rises"), on every platform."""
        return _LABELS[self]


_LABELS = {
    AlertType.NEW_STORY: "New story",
    AlertType.FIGURE_RISE: "Figure rises",
    AlertType.FIGURE_DROP: "Figure revised down",
    AlertType.FIGURE_CONFLICT: "Sources disagree",
    AlertType.NEW_FIGURE: "New figure",
    AlertType.NEW_STATEMENT: "Official speaks",
    AlertType.ARTICLE_REVISED: "Article revised",
}


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Alert:
    type: AlertType
    severity: Severity
    story_id: str
    story_title: str
    article_id: str
    url: str | None
    outlet: str
    published: datetime | None
    summary: str
    """One line a human reads first: "Killed: 22 → 29 (Rahmi Dogan)"."""
    sentence: str | None = None
    metric: str | None = None
    subject: str | None = None
    scope: str | None = None
    value: float | None = None
    value_text: str | None = None
    previous: float | None = None
    previous_text: str | None = None
    qualifier: str | None = None
    attributed_to: str | None = None
    conflict_with: str | None = None
    """For conflicts: the source whose value this one disagrees with."""
    speaker: str | None = None
    speaker_role: str | None = None
    quote: str | None = None
    history: tuple[FigureStep, ...] = ()
    grouping: Grouping | None = None
    """Why the article is in this story (score and what matched). Not part of the key:
    the same change is the same alert however the article was grouped."""

    @property
    def key(self) -> str:
        """Idempotency key: the same change seen twice is the same alert."""
        parts = [
            self.type.value,
            self.story_id,
            self.article_id,
            self.metric or "",
            self.subject or "",
            self.scope or "",
            "" if self.value is None else repr(self.value),
            "" if self.previous is None else repr(self.previous),
            self.attributed_to or "",
            self.speaker or "",
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def as_record(self) -> dict[str, object]:
        """The flat, JSON-ready form (the ``jsonl`` output and the stored payload)."""
        return {
            "type": self.type.value,
            "story": self.story_id,
            "story_title": self.story_title,
            "article": self.article_id,
            "url": self.url,
            "outlet": self.outlet,
            "published": self.published.isoformat() if self.published else None,
            "metric": self.metric,
            "subject": self.subject,
            "scope": self.scope,
            "value": self.value,
            "value_text": self.value_text,
            "previous": self.previous,
            "previous_text": self.previous_text,
            "qualifier": self.qualifier,
            "attributed_to": self.attributed_to,
            "conflict_with": self.conflict_with,
            "speaker": self.speaker,
            "speaker_role": self.speaker_role,
            "quote": self.quote,
            "sentence": self.sentence,
            "severity": self.severity.value,
            "summary": self.summary,
            "history": [
                {
                    "value": s.quantity.value,
                    "text": s.quantity.display(),
                    "source": s.source,
                    "outlet": s.outlet,
                    "article": s.article_id,
                    "url": s.url,
                    "at": s.at.isoformat(),
                    "earlier": s.earlier,
                }
                for s in self.history
            ],
            "grouping": self.grouping.as_record() if self.grouping else None,
            "key": self.key,
        }
