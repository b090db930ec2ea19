"""Replay: feeding stored articles through the pipeline as if they arrived live.

Articles are replayed dated ones first in publication order, then undated ones in
the order given (file name order for a folder). An undated article is taken to
arrive just after everything before it — the replay's own clock — so that a
five-year-old story replays as the developing story it was, not as news from today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from bot.domain.articles import Article
from bot.service.ingest import IngestArticle

_STEP = timedelta(minutes=1)


def replay_commands(
    articles: Iterable[Article], *, now: datetime | None = None
) -> list[IngestArticle]:
    items = list(articles)
    dated = sorted(
        (a for a in items if a.published is not None),
        key=lambda a: (a.published or datetime.min.replace(tzinfo=UTC), a.id),
    )
    undated = [a for a in items if a.published is None]
    clock = now or datetime.now(UTC)
    if dated:
        clock = max(a.published for a in dated if a.published is not None)
    commands = []
    for a in dated:
        commands.append(IngestArticle(a, arrived=a.published or clock))
    for a in undated:
        clock += _STEP
        commands.append(IngestArticle(a, arrived=clock))
    return commands
