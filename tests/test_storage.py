"""The SQL repositories and unit of work, against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.alerts import AlertType
from bot.domain.articles import Article
from bot.domain.claims import Evidence, Extraction
from bot.domain.stories import Story, StoryProfile, StoryState
from bot.ports import StoredArticle
from storage.engine import create_engine
from storage.tables import AlertRow, ArticleVersionRow, FigureRow, StatementRow
from storage.uow import SqlUnitOfWork, make_uow_factory
from tests.test_storage_serialize import (
    T0,
    sample_alert,
    sample_extraction,
    sample_profile,
    sample_state,
)

Factory = Callable[[], SqlUnitOfWork]


def article(
    n: int = 1, *, text: str = "At least 22 Turkish soldiers were killed.", **kw: object
) -> Article:
    fields: dict[str, object] = {
        "title": f"Strike kills soldiers ({n})",
        "text": text,
        "outlet": "Example",
        "url": f"https://example.org/{n}",
        "published": T0 + timedelta(hours=n),
        "source": "feed:https://example.org/rss",
    }
    fields.update(kw)
    return Article.create(**fields)  # type: ignore[arg-type]


def stored(
    a: Article, version: int = 1, story_id: str | None = "abc234", **kw: object
) -> StoredArticle:
    fields: dict[str, object] = {
        "extraction": sample_extraction(),
        "seen_at": T0 + timedelta(hours=version, minutes=5),
    }
    fields.update(kw)
    return StoredArticle(article=a, version=version, story_id=story_id, **fields)  # type: ignore[arg-type]


def story(
    story_id: str = "abc234",
    *,
    created: datetime = T0,
    updated: datetime | None = None,
    title: str = "Strike kills soldiers",
    tracked: bool = True,
    profile: StoryProfile | None = None,
) -> Story:
    return Story(
        id=story_id,
        title=title,
        created_at=created,
        updated_at=updated or created,
        profile=profile or sample_profile(),
        state=replace(sample_state(), tracked=tracked),
    )


async def count(uow: SqlUnitOfWork, model: type, **where: object) -> int:
    stmt = select(func.count()).select_from(model)
    for col, value in where.items():
        stmt = stmt.where(getattr(model, col) == value)
    return int((await uow.session.execute(stmt)).scalar_one())


# --- articles ---------------------------------------------------------------------


async def test_article_round_trip(uow_factory: Factory) -> None:
    a = article(1)
    async with uow_factory() as uow:
        assert await uow.articles.get(a.id) is None
        await uow.articles.save(stored(a))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.articles.get(a.id)
        assert got == stored(a)
        assert got is not None and got.article.published is not None
        assert got.article.published.utcoffset() == timedelta(0)
        assert await uow.articles.find_by_hash(a.content_hash) == got
        assert await uow.articles.find_by_hash("nope") is None
        assert await uow.articles.for_story("abc234") == [got]
        assert await uow.articles.for_story("other") == []


async def test_naive_and_offset_datetimes_are_stored_as_utc(uow_factory: Factory) -> None:
    aware = datetime(2024, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    naive = datetime(2024, 3, 1, 12, 0)
    a = article(1, published=aware)
    b = article(2, published=naive, text="other text")
    async with uow_factory() as uow:
        await uow.articles.save(stored(a))
        await uow.articles.save(stored(b))
        await uow.commit()
    async with uow_factory() as uow:
        ga, gb = await uow.articles.get(a.id), await uow.articles.get(b.id)
        assert ga is not None and gb is not None
        assert ga.article.published == aware == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
        assert ga.article.published.tzinfo == UTC
        assert gb.article.published == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


async def test_versions_of_an_article(uow_factory: Factory) -> None:
    a1 = article(1)
    a2 = replace(article(1, text="At least 29 Turkish soldiers were killed."), title="Toll rises")
    assert a1.id == a2.id and a1.content_hash != a2.content_hash
    async with uow_factory() as uow:
        await uow.articles.save(stored(a1, 1))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.articles.save(stored(a2, 2))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.articles.get(a1.id)
        assert got is not None
        assert got.version == 2
        assert got.article.title == "Toll rises"
        assert got.article.text == a2.text
        assert got.seen_at == T0 + timedelta(hours=2, minutes=5)
        assert await count(uow, ArticleVersionRow, article_id=a1.id) == 2
        # The old content is no longer "the latest version" of anything.
        assert await uow.articles.find_by_hash(a1.content_hash) is None
        assert await uow.articles.find_by_hash(a2.content_hash) == got
        old = await uow.session.get(ArticleVersionRow, (a1.id, 1))
        assert old is not None and old.text == a1.text


async def test_older_version_is_refused(uow_factory: Factory) -> None:
    a = article(1)
    async with uow_factory() as uow:
        await uow.articles.save(stored(a, 2))
        with pytest.raises(ValueError, match="older"):
            await uow.articles.save(stored(a, 1))


async def test_resaving_latest_version_updates_it(uow_factory: Factory) -> None:
    a = article(1)
    async with uow_factory() as uow:
        await uow.articles.save(stored(a, 1, story_id=None))
        await uow.articles.save(stored(a, 1, story_id="zzz999"))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.articles.get(a.id)
        assert got is not None and got.story_id == "zzz999" and got.version == 1
        assert await count(uow, FigureRow, story_id="zzz999") == 2


async def test_claim_rows_are_replaced_on_a_new_version(uow_factory: Factory) -> None:
    a = article(1)
    ex = sample_extraction()
    async with uow_factory() as uow:
        await uow.articles.save(stored(a, 1))
        await uow.articles.save(stored(article(2, text="x"), 1))  # another article, same story
        await uow.commit()
    async with uow_factory() as uow:
        assert await count(uow, FigureRow, story_id="abc234") == 4
        assert await count(uow, StatementRow, story_id="abc234") == 2
        # New version: one figure, two statements, moved to another story.
        st = ex.statements[0]
        ex2 = Extraction(
            figures=ex.figures[:1],
            statements=(
                st,
                replace(
                    st,
                    speaker="UN spokesman",
                    direct=False,
                    official=False,
                    evidence=Evidence("The UN said…", 3, 15),
                ),
            ),
        )
        await uow.articles.save(stored(a, 2, story_id="new234", extraction=ex2))
        await uow.commit()
    async with uow_factory() as uow:
        assert await count(uow, FigureRow, article_id=a.id) == 1
        assert await count(uow, FigureRow, story_id="new234") == 1
        assert await count(uow, FigureRow, story_id="abc234") == 2  # the other article's
        rows = (
            await uow.session.scalars(
                select(StatementRow)
                .where(StatementRow.story_id == "new234")
                .order_by(StatementRow.id)
            )
        ).all()
        assert [(r.speaker, r.version, r.direct, r.official, r.start, r.end) for r in rows] == [
            ("Fahrettin Altun", 2, True, True, 67, 97),
            ("UN spokesman", 2, False, False, 3, 15),
        ]
        fig = (
            await uow.session.scalars(select(FigureRow).where(FigureRow.article_id == a.id))
        ).one()
        assert (fig.metric, fig.value, fig.high, fig.qualifier, fig.value_text) == (
            "killed",
            22.0,
            None,
            "at least",
            "at least 22",
        )
        assert (fig.scope_kind, fig.scope_label, fig.temporal, fig.attributed_to) == (
            "event",
            "",
            "current",
            "Ministry of Defence",
        )
        got = await uow.articles.get(a.id)
        assert got is not None and got.extraction == ex2


async def test_for_story_is_oldest_first(uow_factory: Factory) -> None:
    late = article(5)
    early = article(2, text="b")
    undated = article(3, text="c", published=None)  # falls back to first seen (T0 + 1h05)
    async with uow_factory() as uow:
        for a in (late, early, undated):
            await uow.articles.save(stored(a))
        await uow.commit()
    async with uow_factory() as uow:
        ids = [s.article.id for s in await uow.articles.for_story("abc234")]
    assert ids == [undated.id, early.id, late.id]


# --- stories -----------------------------------------------------------------------


async def test_story_round_trip_and_update(uow_factory: Factory) -> None:
    s = story()
    async with uow_factory() as uow:
        assert await uow.stories.get(s.id) is None
        assert not await uow.stories.exists(s.id)
        await uow.stories.save(s)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.stories.exists(s.id)
        assert await uow.stories.get(s.id) == s
        s2 = replace(
            s,
            title="Toll rises",
            updated_at=T0 + timedelta(hours=5),
            state=StoryState(),
            profile=StoryProfile(article_count=7),
        )
        await uow.stories.save(s2)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.stories.get(s.id) == s2


async def test_candidates_window(uow_factory: Factory) -> None:
    day = timedelta(days=1)
    async with uow_factory() as uow:
        await uow.stories.save(story("old222", created=T0 - 10 * day, updated=T0 - 5 * day))
        await uow.stories.save(story("span22", created=T0 - 10 * day, updated=T0 + 1 * day))
        await uow.stories.save(story("near22", created=T0 + day, updated=T0 + 2 * day))
        await uow.stories.save(story("future", created=T0 + 5 * day, updated=T0 + 6 * day))
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.stories.candidates(around=T0, window=timedelta(days=2), limit=10)
        assert [s.id for s in got] == ["near22", "span22"]  # newest first
        got = await uow.stories.candidates(around=T0, window=timedelta(days=2), limit=1)
        assert [s.id for s in got] == ["near22"]
        got = await uow.stories.candidates(around=T0 + 20 * day, window=day, limit=10)
        assert got == []


def ids(stories: list[Story]) -> list[str]:
    return [s.id for s in stories]


async def test_search(uow_factory: Factory) -> None:
    async with uow_factory() as uow:
        await uow.stories.save(
            story(
                "quake2",
                title="Earthquake in Hatay",
                updated=T0,
                profile=StoryProfile(places=("Antakya",), terms={"rubble": 1.0}),
            )
        )
        await uow.stories.save(
            story(
                "strike",
                title="Drone STRIKE kills 22",
                updated=T0 + timedelta(1),
                profile=StoryProfile(places=("Idlib",), terms={"drone": 2.0}),
            )
        )
        await uow.stories.save(
            story(
                "untrak",
                title="Minor strike at port",
                tracked=False,
                updated=T0 + timedelta(2),
                profile=StoryProfile(),
            )
        )
        await uow.stories.save(
            story("pct100", title="100% turnout", updated=T0 - timedelta(1), profile=StoryProfile())
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert ids(await uow.stories.search(query=None, tracked_only=False, limit=10)) == [
            "untrak",
            "strike",
            "quake2",
            "pct100",
        ]
        assert ids(await uow.stories.search(query=None, tracked_only=True, limit=2)) == [
            "strike",
            "quake2",
        ]
        assert ids(await uow.stories.search(query="strike", tracked_only=False, limit=10)) == [
            "untrak",
            "strike",
        ]
        assert ids(await uow.stories.search(query="Strike", tracked_only=True, limit=10)) == [
            "strike"
        ]
        assert ids(await uow.stories.search(query="antakya", tracked_only=True, limit=10)) == [
            "quake2"
        ]
        assert ids(await uow.stories.search(query="RUBBLE", tracked_only=True, limit=10)) == [
            "quake2"
        ]
        assert ids(await uow.stories.search(query="%", tracked_only=False, limit=10)) == ["pct100"]
        assert ids(await uow.stories.search(query="_", tracked_only=False, limit=10)) == []
        assert await uow.stories.search(query="nothing", tracked_only=False, limit=10) == []


# --- alerts ------------------------------------------------------------------------


async def test_alert_key_is_unique(uow_factory: Factory) -> None:
    alert = sample_alert()
    async with uow_factory() as uow:
        assert await uow.alerts.add(alert) is True
        assert await uow.alerts.add(alert) is False
        # Same key, different presentation: still the same alert.
        assert await uow.alerts.add(replace(alert, summary="reworded")) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.alerts.add(alert) is False
        await uow.commit()
    async with uow_factory() as uow:
        assert await count(uow, AlertRow) == 1
        assert await uow.alerts.recent() == [alert]
        assert await uow.alerts.for_story(alert.story_id) == [alert]


async def test_alert_seq_increases_and_lists_newest_first(uow_factory: Factory) -> None:
    alerts = [sample_alert(value=float(v), summary=f"v{v}") for v in (22, 29, 33)]
    other = sample_alert(story_id="zzz999", type=AlertType.NEW_STORY)
    async with uow_factory() as uow:
        assert await uow.alerts.add(alerts[0])
        assert await uow.alerts.add(other)
        await uow.commit()
    async with uow_factory() as uow:
        for a in alerts[1:]:
            assert await uow.alerts.add(a)
        await uow.commit()
    async with uow_factory() as uow:
        rows = (await uow.session.scalars(select(AlertRow).order_by(AlertRow.seq))).all()
        assert [r.key for r in rows] == [alerts[0].key, other.key, alerts[1].key, alerts[2].key]
        seqs = [r.seq for r in rows]
        assert seqs == sorted(seqs) and len(set(seqs)) == 4
        assert all(r.created_at.tzinfo is not None for r in rows)
        assert rows[0].payload["summary"] == "v22"
        assert await uow.alerts.for_story("abc234") == alerts[::-1]
        assert await uow.alerts.for_story("abc234", limit=2) == alerts[:0:-1]
        assert await uow.alerts.recent(limit=2) == [alerts[2], alerts[1]]
        assert (await uow.alerts.recent())[-1] == alerts[0]


# --- unit of work ------------------------------------------------------------------


async def test_exception_rolls_back(uow_factory: Factory) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with uow_factory() as uow:
            await uow.articles.save(stored(article(1)))
            await uow.stories.save(story())
            await uow.alerts.add(sample_alert())
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        await uow.stories.save(story("kept22"))
        # no commit: leaving the block discards this too
    async with uow_factory() as uow:
        assert await uow.articles.get(article(1).id) is None
        assert not await uow.stories.exists("abc234")
        assert not await uow.stories.exists("kept22")
        assert await uow.alerts.recent() == []


async def test_explicit_rollback_then_continue(uow_factory: Factory) -> None:
    async with uow_factory() as uow:
        await uow.stories.save(story("gone22"))
        await uow.rollback()
        await uow.stories.save(story("kept22"))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.stories.exists("gone22")
        assert await uow.stories.exists("kept22")


async def test_restart_keeps_everything(db_url: str, engine: AsyncEngine) -> None:
    a = article(1)
    s = story()
    alert = sample_alert()
    async with make_uow_factory(engine)() as uow:
        await uow.articles.save(stored(a))
        await uow.stories.save(s)
        assert await uow.alerts.add(alert)
        await uow.commit()
    await engine.dispose()

    again = create_engine(db_url)
    try:
        async with make_uow_factory(again)() as uow:
            assert await uow.articles.get(a.id) == stored(a)
            assert await uow.stories.get(s.id) == s
            assert await uow.alerts.recent() == [alert]
            assert await uow.alerts.add(alert) is False
            assert await uow.alerts.add(replace(alert, value=99.0)) is True
            await uow.commit()
            rows = (await uow.session.scalars(select(AlertRow.seq).order_by(AlertRow.seq))).all()
            assert len(rows) == 2 and rows[0] < rows[1]
    finally:
        await again.dispose()


async def test_lock_story_assignment_serialises_read_modify_write(uow_factory: Factory) -> None:
    """Concurrent workers each read the story, wait, and write it back incremented.

    Without the lock the increments would overwrite each other (or, on SQLite,
    fail with "database is locked" on the read→write upgrade).
    """
    async with uow_factory() as uow:
        await uow.stories.save(story("count2", profile=StoryProfile(article_count=0)))
        await uow.commit()

    async def worker() -> None:
        async with uow_factory() as uow:
            await uow.lock_story_assignment()
            s = await uow.stories.get("count2")
            assert s is not None
            await asyncio.sleep(0.02)
            profile = replace(s.profile, article_count=s.profile.article_count + 1)
            await uow.stories.save(replace(s, profile=profile))
            await uow.commit()

    await asyncio.gather(*(worker() for _ in range(5)))
    async with uow_factory() as uow:
        s = await uow.stories.get("count2")
        assert s is not None and s.profile.article_count == 5


async def test_lock_after_reads_is_allowed_and_after_writes_refused_on_sqlite(
    uow_factory: Factory, engine: AsyncEngine
) -> None:
    async with uow_factory() as uow:
        assert await uow.stories.get("nope22") is None
        await uow.lock_story_assignment()  # restarts a read-only transaction on SQLite
        await uow.stories.save(story("after2"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.stories.exists("after2")
        await uow.stories.save(story("before"))
        if engine.dialect.name == "sqlite":
            with pytest.raises(RuntimeError, match="before any write"):
                await uow.lock_story_assignment()
        else:
            await uow.lock_story_assignment()  # PostgreSQL: fine at any point
            await uow.commit()


async def test_unit_of_work_is_not_reentrant(uow_factory: Factory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError, match="not open"):
        _ = uow.session
    async with uow:
        with pytest.raises(RuntimeError, match="already open"):
            await uow.__aenter__()
    # Reusable after closing: a new session each time.
    async with uow:
        assert await uow.alerts.recent() == []


async def test_dict_order_survives_both_backends(uow_factory: Factory) -> None:
    """Grouping sums term weights in dict order; the same story must come back alike."""
    terms = {"zulu": 0.1, "a": 0.3, "mike": 0.2, "bb": 0.4}
    altun = sample_state().speakers["altun"]
    speakers = {"zz": replace(altun, name="Zed"), "altun": altun, "b": replace(altun, name="B")}
    base = story()
    s = replace(
        base,
        profile=replace(base.profile, terms=terms),
        state=replace(base.state, speakers=speakers),
    )
    async with uow_factory() as uow:
        await uow.stories.save(s)
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.stories.get(s.id)
    assert got == s
    assert list(got.profile.terms) == ["zulu", "a", "mike", "bb"]
    assert list(got.state.speakers) == ["zz", "altun", "b"]
