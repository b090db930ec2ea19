"""The lexicon is data (bot/extract/data/lexicon.toml), read once on the first extraction."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from bot.domain.claims import Metric

DATA = Path(__file__).resolve().parent.parent / "bot" / "extract" / "data" / "lexicon.toml"


def test_importing_the_bot_reads_no_lexicon_and_the_first_extraction_does() -> None:
    probe = (
        "import sys\n"
        "import bot.cli, bot.bootstrap, bot.service.runner, bot.extract\n"
        "print('bot.extract.lexicon' in sys.modules)\n"
        "from bot.extract import extract\n"
        "found = extract('At least 12 people were killed in the fire, police said.')\n"
        "print('bot.extract.lexicon' in sys.modules, found.figures[0].metric)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "False"
    assert out[1] == "True killed"


def test_every_metric_named_in_the_data_is_a_metric() -> None:
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    named: list[str] = []
    for key in ("STATE_TRIGGERS", "ACTIVE_TRIGGERS", "LEAVE_STATES", "METRIC_NOUNS"):
        named += data[key].values()
    named += [row[1] for row in data["PHRASE_TRIGGERS"] + data["KIND_TRIGGERS"]]
    named += data["PERSON_ONLY_METRICS"]
    assert named and {Metric(m) for m in named} <= set(Metric)


def test_the_typed_lists_come_from_the_data_file() -> None:
    from bot.extract import lexicon

    assert lexicon.STATE_TRIGGERS["wounded"] is Metric.INJURED
    assert lexicon.SUBJECT_GROUPS["soldiers"] == "soldiers"
    assert "killed" in {m.value for m in lexicon.PERSON_ONLY_METRICS}
    assert lexicon.MONTH_ABBREVIATIONS["sept"] == "september"
    assert all(isinstance(w, str) for w in lexicon.NON_PERSON_NOUNS)
