"""The acceptance story: replaying the five seed articles gives the expected alert stream.

Runs the real CLI (``claimwatch replay --format jsonl``) against a real database,
SQLite and PostgreSQL, and checks the stream a monitoring desk would see.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ORDER = ["003", "002", "000", "001", "004"]
CUMULATIVE_TOLLS = {21, 43, 54, 300}


def replay(capsys: pytest.CaptureFixture[str], db_url: str, *paths: Path) -> list[dict[str, Any]]:
    code = main(["replay", *map(str, paths), "--db", db_url, "--format", "jsonl"])
    assert code == 0
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def seed_no(alert: dict[str, Any]) -> str:
    return str(alert["article"]).split(":", 1)[1][:3]


@pytest.fixture
def stream(capsys: pytest.CaptureFixture[str], db_url: str) -> list[dict[str, Any]]:
    return replay(capsys, db_url, SEEDS)


def test_the_seeds_replay_in_the_documented_order(stream: list[dict[str, Any]]) -> None:
    seen = list(dict.fromkeys(seed_no(a) for a in stream))
    assert seen == [n for n in ORDER if n in seen]
    assert seen[0] == "003"


def test_one_story(stream: list[dict[str, Any]]) -> None:
    assert len({a["story"] for a in stream}) == 1


def test_the_killed_stream_is_exactly_the_expected_one(stream: list[dict[str, Any]]) -> None:
    killed = [
        (a["type"], seed_no(a), a["previous"], a["value"])
        for a in stream
        if a["metric"] == "killed" and a["type"] in {"new_story", "figure_rise", "figure_conflict"}
    ]
    assert killed == [
        ("new_story", "003", None, 22),
        ("figure_rise", "002", 22, 29),
        ("figure_conflict", "002", 29, 34),
        ("figure_rise", "000", 29, 33),
    ]


def test_new_story_carries_provenance_and_history(stream: list[dict[str, Any]]) -> None:
    new = stream[0]
    assert new["type"] == "new_story"
    assert new["qualifier"] == "at least"
    assert [h["value"] for h in new["history"]] == [9, 22]
    assert "Dogan" in new["attributed_to"]
    assert "22" in new["sentence"]
    assert new["severity"] in {"high", "critical"}


def test_the_conflict_names_both_sources(stream: list[dict[str, Any]]) -> None:
    (conflict,) = [a for a in stream if a["type"] == "figure_conflict"]
    assert "Syrian Observatory" in conflict["attributed_to"]
    assert "Dogan" in conflict["conflict_with"]
    rise_33 = next(a for a in stream if a["type"] == "figure_rise" and a["value"] == 33)
    assert [h["value"] for h in rise_33["history"] if not h["earlier"]] == [22, 29, 33]
    assert [h["value"] for h in rise_33["history"]] == [9, 22, 29, 33]


def test_running_totals_never_meet_the_strike_toll(stream: list[dict[str, Any]]) -> None:
    for a in stream:
        if a["metric"] != "killed":
            continue
        values = {a["value"], a["previous"], *(h["value"] for h in a["history"])}
        if a["scope"] == "event":
            assert not values & CUMULATIVE_TOLLS, a
        if a["type"] in {"figure_rise", "figure_drop", "figure_conflict"}:
            assert a["scope"] == "event", a


def test_officials_speak_once_each(stream: list[dict[str, Any]]) -> None:
    speakers = [a["speaker"] for a in stream if a["type"] == "new_statement"]
    assert len(speakers) == len(set(speakers)), speakers
    joined = " | ".join(speakers)
    for name in ["Altun", "Celik", "Sinirlioglu", "Stoltenberg"]:
        assert sum(name in s for s in speakers) == 1, (name, speakers)
    assert "Guterres" in joined or "Dujarric" in joined
    assert not any("Ahelbarra" in s for s in speakers)


def test_a_second_replay_prints_nothing(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    first = replay(capsys, db_url, SEEDS)
    assert first
    assert replay(capsys, db_url, SEEDS) == []


def test_demo_runs_from_the_console_script(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        cwd=tmp_path,
        env={**env, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "new_story" in proc.stdout and "figure_rise" in proc.stdout
    assert "33" in proc.stdout and "open conflict" in proc.stdout
    assert not list(tmp_path.iterdir()), "the demo must not leave a database behind"
