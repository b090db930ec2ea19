"""Replay: feeding stored articles through the pipeline as if they arrived live.

Articles are replayed dated ones first in publication order, then undated ones in
the order given (file name order for a folder). An undated article is taken to
arrive just after everything before it — the replay's own clock — so that a
five-year-old story replays as the developing story it was, not as news from today.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.commands.handlers import ReplayReport
from bot.domain.articles import Article
from bot.domain.delivery import Channel
from bot.ingest.readers import read_path
from bot.service.ingest import IngestArticle, IngestResult

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


class SeedReplayer:
    """``replay seeds``: the demo articles through the live pipeline, alerts to a channel.

    The alerts go to the channel that asked *and* to every subscription that wants
    them, like any other news. A second replay finds nothing new and says so.
    """

    def __init__(
        self, handle: Callable[[IngestArticle], Awaitable[IngestResult]], seeds: Path
    ) -> None:
        self._handle = handle
        self._seeds = seeds

    async def __call__(self, channel: Channel) -> ReplayReport:
        read = read_path(self._seeds)
        alerts = 0
        stories: list[str] = []
        for command in replay_commands(read.articles):
            result = await self._handle(replace(command, also_to=(channel,)))
            alerts += len(result.alerts)
            if result.alerts and result.story_id and result.story_id not in stories:
                stories.append(result.story_id)
        return ReplayReport(len(read.articles), alerts, tuple(stories))
