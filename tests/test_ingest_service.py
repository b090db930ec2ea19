"""The ingest service end to end on a real database: revisions, copies, replays, restarts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import build_app
from bot.config import Settings
from bot.domain.alerts import Alert, AlertType
from bot.domain.articles import Article
from bot.service.bus import MessageBus
from bot.service.ingest import IngestArticle, Ingestor, Outcome
from storage.uow import SqlUnitOfWork

T0 = datetime(2023, 9, 8, 23, 30, tzinfo=UTC)
URL = "https://wire.example/quake-morocco"

QUAKE_22 = """Updated 08:05 GMT
MARRAKECH, Morocco — At least 22 people were killed when a powerful earthquake struck the High
Atlas mountains late on Friday, the interior ministry said. Rescue teams from Marrakech were
searching collapsed houses in the villages around Ighil, where the quake was centred.
"""
QUAKE_22_RESTAMPED = QUAKE_22.replace("Updated 08:05 GMT", "Updated 09:40 GMT")
QUAKE_29 = QUAKE_22.replace("At least 22 people", "At least 29 people").replace("08:05", "10:15")
BUDGET = """The city council approved a budget of $3.7 million for road repairs on Tuesday, with
12 new buses and a 5 percent rise in parking fees. Mayor Lena Ortiz said the plan was balanced.
"""


def article(text: str, *, url: str = URL, outlet: str = "Wire", minutes: int = 0) -> Article:
    return Article.create(
        title="Morocco earthquake",
        text=text,
        outlet=outlet,
        url=url,
        published=T0 + timedelta(minutes=minutes),
    )


@pytest.fixture
def ingest(uow_factory: Callable[[], SqlUnitOfWork]) -> Ingestor:
    return Ingestor(uow_factory)


async def run(ingest: Ingestor, a: Article) -> tuple[Outcome, list[AlertType]]:
    result = await ingest(IngestArticle(a, arrived=T0))
    return result.outcome, [x.type for x in result.alerts]


async def test_a_revised_toll_raises_article_revised_and_figure_rise(ingest: Ingestor) -> None:
    assert (await run(ingest, article(QUAKE_22)))[1][0] is AlertType.NEW_STORY
    outcome, kinds = await run(ingest, article(QUAKE_29, minutes=50))
    assert outcome is Outcome.REVISED
    assert kinds == [AlertType.ARTICLE_REVISED, AlertType.FIGURE_RISE]


async def test_a_cosmetic_edit_is_a_new_version_without_alerts(
    ingest: Ingestor, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    await run(ingest, article(QUAKE_22))
    assert await run(ingest, article(QUAKE_22_RESTAMPED, minutes=90)) == (Outcome.REVISED, [])
    async with uow_factory() as uow:
        stored = await uow.articles.get(article(QUAKE_22).id)
    assert stored is not None and stored.version == 2


async def test_seen_content_is_a_no_op_and_a_copy_confirms_without_alerts(ingest: Ingestor) -> None:
    await run(ingest, article(QUAKE_22))
    assert await run(ingest, article(QUAKE_22)) == (Outcome.UNCHANGED, [])
    copy = article(QUAKE_22, url="https://other.example/syndicated/quake", outlet="Other")
    assert await run(ingest, copy) == (Outcome.COPY, [])


async def test_a_reprinted_wire_copy_joins_the_story_and_confirms(
    ingest: Ingestor, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    first = await ingest(IngestArticle(article(QUAKE_22), arrived=T0))
    # Another outlet's reprint: its own headline and byline, the timestamp line dropped,
    # published 20 minutes later (not a concurrent report, so no conflict logic either).
    reprint = Article.create(
        title="Quake kills 22 in Morocco's High Atlas",
        text="By Wire staff\n" + QUAKE_22.split("\n", 1)[1],
        outlet="Gazette",
        url="https://gazette.example/world/morocco-quake",
        published=T0 + timedelta(minutes=20),
    )
    again = await ingest(IngestArticle(reprint, arrived=T0))
    assert again.outcome is Outcome.COPY and again.duplicate_of == first.article_id
    assert again.story_id == first.story_id and again.alerts == ()
    async with uow_factory() as uow:
        story = await uow.stories.get(first.story_id or "")
    assert story is not None and story.profile.article_count == 2


async def test_a_new_feeds_backlog_is_stored_quietly(
    ingest: Ingestor, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    quiet = await ingest(IngestArticle(article(QUAKE_22), arrived=T0, quiet=True))
    assert quiet.outcome is Outcome.NEW and quiet.alerts == ()
    later = await ingest(IngestArticle(article(QUAKE_29, minutes=50), arrived=T0))
    assert [a.type for a in later.alerts] == [AlertType.ARTICLE_REVISED, AlertType.FIGURE_RISE]
    async with uow_factory() as uow:
        assert [a.type for a in await uow.alerts.recent()] == [
            AlertType.FIGURE_RISE,
            AlertType.ARTICLE_REVISED,
        ]


async def test_news_without_impact_figures_is_stored_but_silent(
    ingest: Ingestor, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    budget = Article.create(title="Council budget", text=BUDGET, url="https://city.example/budget")
    outcome, kinds = await run(ingest, budget)
    assert (outcome, kinds) == (Outcome.NEW, [])
    async with uow_factory() as uow:
        stored = await uow.articles.get(budget.id)
        assert stored is not None and stored.story_id is not None
        assert await uow.stories.search(query="budget", tracked_only=False, limit=5)
        assert await uow.stories.search(query="budget", tracked_only=True, limit=5) == []


async def test_unrelated_news_starts_its_own_story(ingest: Ingestor) -> None:
    quake = await ingest(IngestArticle(article(QUAKE_22), arrived=T0))
    ferry = Article.create(
        title="Ferry sinks off Sulawesi",
        text="At least 15 passengers drowned and 40 were missing after a ferry capsized in heavy "
        "seas off Sulawesi on Saturday, Indonesia's search and rescue agency said.",
        url="https://wire.example/ferry",
        published=T0 + timedelta(hours=2),
    )
    other = await ingest(IngestArticle(ferry, arrived=T0))
    assert other.story_id != quake.story_id
    assert other.alerts[0].type is AlertType.NEW_STORY


class Exploding:
    async def publish(self, alerts: Sequence[Alert]) -> None:
        raise RuntimeError("chat platform down")


class Collecting:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    async def publish(self, alerts: Sequence[Alert]) -> None:
        self.alerts.extend(alerts)


async def test_a_failing_sink_neither_undoes_commit_nor_starves_others(ingest: Ingestor) -> None:
    collecting = Collecting()
    bus = MessageBus(ingest, [Exploding(), collecting])
    result = await bus.handle(IngestArticle(article(QUAKE_22), arrived=T0))
    assert result.alerts and collecting.alerts == list(result.alerts)
    again = await bus.handle(IngestArticle(article(QUAKE_22), arrived=T0))
    assert again.outcome is Outcome.UNCHANGED


async def test_a_restart_loses_nothing_and_replays_nothing(db_url: str, tmp_path: Path) -> None:
    settings = Settings()
    sink = Collecting()
    app = await build_app(settings, db_url=db_url, sinks=[sink])
    await app.bus.handle(IngestArticle(article(QUAKE_22), arrived=T0))
    await app.close()
    first = len(sink.alerts)
    assert first >= 1

    app = await build_app(settings, db_url=db_url, sinks=[sink])
    try:
        again = await app.bus.handle(IngestArticle(article(QUAKE_22), arrived=T0))
        assert again.outcome is Outcome.UNCHANGED and len(sink.alerts) == first
        async with app.uow_factory() as uow:
            assert len(await uow.alerts.recent(50)) == first
        rise = await app.bus.handle(IngestArticle(article(QUAKE_29, minutes=50), arrived=T0))
        assert AlertType.FIGURE_RISE in [a.type for a in rise.alerts]
    finally:
        await app.close()
