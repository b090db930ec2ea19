"""The story index (candidates by event signature) and "why is this in that story?".

Real databases (SQLite, and PostgreSQL where available), the real pipeline and the
real command line; the articles are the ones of ``test_stories_events``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.domain.articles import Article
from bot.domain.stories import EventSignature, Story, StoryProfile
from bot.service.ingest import IngestArticle
from storage.uow import SqlUnitOfWork
from tests.test_stories_events import CRASH, DAY0, FACT_SHEET, MILITARY, QUAKE_WIRE

Factory = Callable[[], SqlUnitOfWork]

QUAKE_PE = EventSignature(kinds={"quake": 1.0}, countries={"PE": 1.0})
STORM_PH = EventSignature(kinds={"weather": 1.0}, countries={"PH": 1.0})


def story(story_id: str, signature: EventSignature, days: float) -> Story:
    at = DAY0 + timedelta(days=days)
    profile = StoryProfile(first_at=at, last_at=at, article_count=1, signature=signature)
    return Story(story_id, story_id, at, at, profile)


async def test_candidates_by_signature_keys_within_the_story_life(uow_factory: Factory) -> None:
    async with uow_factory() as uow:
        await uow.stories.save(story("quake", QUAKE_PE, 0))
        await uow.stories.save(story("storm", STORM_PH, 0))
        await uow.stories.save(story("old-quake", QUAKE_PE, -200))
        await uow.commit()
    around = DAY0 + timedelta(days=10)
    async with uow_factory() as uow:
        plain = await uow.stories.candidates(around=around, window=timedelta(hours=72), limit=10)
        keyed = await uow.stories.candidates(
            around=around,
            window=timedelta(hours=72),
            limit=10,
            keys=QUAKE_PE.index_keys(),
            key_window=timedelta(days=60),
        )
    assert plain == []  # ten days on, the recent-stories window finds nothing
    assert [s.id for s in keyed] == ["quake"]  # the index does; not the old one, not the storm


async def test_index_keys_follow_the_story(uow_factory: Factory) -> None:
    async with uow_factory() as uow:
        await uow.stories.save(story("s", QUAKE_PE, 0))
        await uow.stories.save(story("s", STORM_PH, 1))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.stories.candidates(
            around=DAY0 + timedelta(days=5),
            window=timedelta(hours=1),
            limit=10,
            keys=("kind:quake",),
            key_window=timedelta(days=60),
        )
        assert found == []
        found = await uow.stories.candidates(
            around=DAY0 + timedelta(days=5),
            window=timedelta(hours=1),
            limit=10,
            keys=("country:PH",),
            key_window=timedelta(days=60),
        )
        assert [s.id for s in found] == ["s"]


async def test_pipeline_joins_a_fact_sheet_a_week_later_and_says_why(db_url: str) -> None:
    from bot.bootstrap import build_app

    app = await build_app(Settings(), db_url=db_url)
    try:
        results = []
        for a in (QUAKE_WIRE, CRASH, FACT_SHEET, MILITARY):
            assert a.published is not None
            results.append(await app.bus.handle(IngestArticle(a, arrived=a.published)))
    finally:
        await app.close()
    wire, crash, sheet, military = results
    assert sheet.story_id == wire.story_id == military.story_id != crash.story_id
    assert wire.grouping is not None and wire.grouping.decision == "started"
    assert sheet.grouping is not None and sheet.grouping.decision == "joined"
    match = sheet.grouping.match
    assert match is not None and match.event_types == ("quake",)
    assert "PE" in match.places and match.gap_hours > 72
    for alert in sheet.alerts:
        assert alert.grouping == sheet.grouping
    assert crash.grouping is not None and crash.grouping.decision == "started"


def _write(folder: Path, articles: list[Article]) -> None:
    for i, a in enumerate(articles):
        assert a.published is not None
        record = {"title": a.title, "text": a.text, "published": a.published.isoformat()}
        (folder / f"{i:02d}.json").write_text(json.dumps(record), encoding="utf-8")


def test_replay_explain_and_grouping_in_every_jsonl_alert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder, [QUAKE_WIRE, CRASH, FACT_SHEET, MILITARY])
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    code = main(["replay", str(folder), "--db", db, "--format", "jsonl", "--explain"])
    captured = capsys.readouterr()
    assert code == 0
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    assert alerts and all(a["grouping"]["story"] == a["story"] for a in alerts)
    first = next(a for a in alerts if a["type"] == "new_story")
    assert first["grouping"]["decision"] == "started"
    joined = [a for a in alerts if a["grouping"]["decision"] == "joined"]
    for a in joined:
        matched = a["grouping"]["matched"]
        assert matched["event_type"] == ["quake"] and "PE" in matched["places"]
        assert matched["time_gap_hours"] > 72 and a["grouping"]["score"] >= 0.35
    lines = captured.err.strip().splitlines()
    assert len(lines) == 4  # one per article, on stderr beside a JSON Lines stream
    assert "started" in lines[0] and "no story in time range" in lines[0]
    assert "started" in lines[1] and "nearest" in lines[1] and "clash" in lines[1]
    assert "joined" in lines[2] and "event quake" in lines[2] and "places PE" in lines[2]
    assert "joined" in lines[3]


def test_replay_explain_in_text_mode_prints_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write(folder, [QUAKE_WIRE, QUAKE_WIRE])
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert main(["replay", str(folder), "--db", db, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "started" in out
    assert "copy of" in out or "unchanged" in out


async def test_a_report_without_figures_joins_and_its_official_is_announced(
    sqlite_url: str,
) -> None:
    """No casualty figure, three weeks on: it still belongs to the earthquake, so the
    minister it quotes is news of that story."""
    from bot.bootstrap import build_app

    minister = Article.create(
        title="Peru to rebuild schools in quake zone",
        text="Peru's Education Minister Carla Vega said on Thursday that 60 schools damaged "
        "by the earthquake in Arequipa and Moquegua would be rebuilt before the next school "
        "year, and that classes would continue in tents until then.",
        guid="quake-minister",
        published=DAY0 + timedelta(days=21),
    )
    app = await build_app(Settings(), db_url=sqlite_url)
    try:
        wire = await app.bus.handle(IngestArticle(QUAKE_WIRE, arrived=DAY0))
        later = await app.bus.handle(IngestArticle(minister, arrived=DAY0 + timedelta(days=21)))
    finally:
        await app.close()
    assert later.story_id == wire.story_id
    assert later.grouping is not None and later.grouping.decision == "joined"
    speakers = [a.speaker or "" for a in later.alerts if a.type.value == "new_statement"]
    assert any("Vega" in s for s in speakers), later.alerts


def test_grouping_survives_storage_and_older_payloads_still_load() -> None:
    """The alert payload keeps its ``grouping``; alerts stored before it existed load
    with none (the field is new, the JSON stays backward compatible)."""
    from datetime import UTC, datetime

    from bot.domain.alerts import Alert, AlertType, Severity
    from bot.domain.stories import Grouping, GroupingMatch
    from storage import serialize

    match = GroupingMatch(
        "abc234", 0.8, 0.3, ("quake",), ("PE", "PE/arequipa"), (), ("arequipa",), 50.0, 60.0
    )
    alert = Alert(
        type=AlertType.NEW_STATEMENT,
        severity=Severity.LOW,
        story_id="abc234",
        story_title="Quake",
        article_id="a1",
        url=None,
        outlet="wire",
        published=datetime(2031, 5, 6, tzinfo=UTC),
        summary="Minister speaks",
        grouping=Grouping("joined", "abc234", 0.35, match),
    )
    data = json.loads(json.dumps(serialize.dump_alert(alert)))
    assert serialize.load_alert(data) == alert
    record = alert.as_record()["grouping"]
    assert isinstance(record, dict)
    assert record["decision"] == "joined" and record["score"] == 0.8
    assert record["matched"]["event_type"] == ["quake"]
    assert record["nearest"] is None
    del data["grouping"]
    old = serialize.load_alert(data)
    assert old.grouping is None and old.as_record()["grouping"] is None
    assert old.key == alert.key  # grouping is not part of the alert's identity
