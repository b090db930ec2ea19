"""What change detection reads and writes besides the story: the article as observed, the
settings, and alert drafts (an alert before we know whether the story is tracked)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.alerts import AlertType
from bot.domain.articles import Article
from bot.domain.claims import Figure, Statement
from bot.domain.stories import FigureStep, Series

SourceKey = Callable[[str, str | None], str]
"""(source name, role) → the source's identity key, so "Governor Dogan" and "Dogan" are one."""


@dataclass(frozen=True, slots=True)
class Observed:
    """An article as it reached us: when it speaks for, and whether that time is known."""

    article: Article
    at: datetime
    dated: bool

    @classmethod
    def of(cls, article: Article, arrived: datetime) -> Observed:
        if article.published is not None:
            return cls(article, article.published, True)
        return cls(article, arrived, False)


@dataclass(frozen=True, slots=True)
class ChangeConfig:
    concurrency_window: timedelta = timedelta(hours=24)
    """Two dated reports closer than this speak for the same moment, so values from two
    sources that cannot both hold are a conflict. News is mostly dated to the day (a fact
    sheet's "as of September 21"), hence a day."""
    alert_cumulative_changes: bool = False
    """Raise rise/drop/conflict on running totals too (off: they follow the event figure)."""


@dataclass(slots=True)
class Draft:
    """An alert before we know whether the story is tracked (and so whether it is sent)."""

    type: AlertType
    series: Series | None = None
    figure: Figure | None = None
    previous: FigureStep | None = None
    source: str | None = None
    conflict_with: str | None = None
    statement: Statement | None = None
    history: tuple[FigureStep, ...] = field(default_factory=tuple)
