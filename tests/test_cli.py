"""The command line: extract, replay errors, and untrusted text in console output."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.console import ConsoleSink
from bot.cli import main
from bot.domain.alerts import Alert, AlertType, Severity

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_extract_prints_claims_and_statements_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(SEEDS / "002_2cd0230308c69816.txt"), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["published"].startswith("2020-02-28")
    figures = record["figures"]
    killed = {(f["value"], f["attributed_to"]) for f in figures if f["metric"] == "killed"}
    assert (34, "Syrian Observatory for Human Rights") in killed
    for f in record["figures"]:
        assert f["sentence"] and f["end"] > f["start"]


def test_replay_reports_unreadable_input_and_processes_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(
        "At least 12 people were killed when a bus plunged into a ravine in Nepal on Monday, "
        "police said.\n",
        encoding="utf-8",
    )
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    code = main(["replay", str(folder), str(tmp_path / "missing"), "--db", db, "--format", "jsonl"])
    captured = capsys.readouterr()
    assert code == 1
    assert "photo.txt" in captured.err and "missing" in captured.err
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    assert [a["type"] for a in alerts] == ["new_story"]
    assert alerts[0]["value"] == 12


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["replay"])
    assert exc.value.code == 2


async def test_console_output_never_interprets_article_text_as_markup() -> None:
    out = io.StringIO()
    sink = ConsoleSink("text", stream=out)
    hostile = "[bold red]@everyone[/bold red] [link=https://evil.example]click[/link] 5 killed"
    alert = Alert(
        type=AlertType.NEW_STORY,
        severity=Severity.HIGH,
        story_id="abc234",
        story_title=hostile,
        article_id="url:https://x.example/a",
        url="https://x.example/a",
        outlet="[red]Outlet[/red]",
        published=datetime(2024, 1, 1, tzinfo=UTC),
        summary=hostile,
        sentence=hostile,
    )
    await sink.publish([alert])
    text = out.getvalue()
    assert "[bold red]@everyone[/bold red]" in text
    assert "[red]Outlet[/red]" in text


DATA = Path(__file__).resolve().parent / "data" / "ingest"


def test_replay_reads_rss_and_atom_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'feeds.db'}"
    code = main(
        [
            "replay",
            str(DATA / "quake_rss.xml"),
            str(DATA / "ferry_atom.xml"),
            "--db",
            db,
            "--format",
            "jsonl",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1  # the RSS fixture holds two broken entries: reported, the rest ingested
    assert "has no content or summary text" in captured.err
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    new_stories = [a for a in alerts if a["type"] == "new_story"]
    assert len({a["story"] for a in new_stories}) == len(new_stories) >= 2
    assert all(a["url"] and a["url"].startswith("http") for a in new_stories)


def test_replay_refuses_an_entity_bomb_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'bomb.db'}"
    assert main(["replay", str(DATA / "billion_laughs.xml"), "--db", db, "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "entity" in captured.err.lower()


def test_unreadable_file_names_are_printed_as_text_not_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "[red]x.txt").write_bytes(b"")  # empty: unreadable, reported by name
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert main(["replay", str(folder), "--db", db, "--format", "jsonl"]) == 1
    assert "[red]x.txt" in capsys.readouterr().err
