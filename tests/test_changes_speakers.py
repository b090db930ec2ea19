"""The speaker part of change detection: a new official is announced once, under any name."""

from __future__ import annotations

from bot.changes.speakers import update_speakers
from bot.domain.claims import Evidence, Statement


def _st(speaker: str, *, official: bool = True, aliases: tuple[str, ...] = ()) -> Statement:
    text = f"{speaker} said the dam was safe."
    return Statement(
        speaker=speaker,
        role=None,
        verb="say",
        text="the dam was safe",
        direct=False,
        evidence=Evidence(text, 0, len(text)),
        official=official,
        aliases=aliases,
    )


def test_a_body_with_and_without_its_country_adjective_is_announced_once() -> None:
    known, first = update_speakers({}, [_st("Peru's Interior Ministry")], "a1")
    assert [s.speaker for s in first] == ["Peru's Interior Ministry"]
    known, first = update_speakers(known, [_st("Peruvian ministry")], "a2")
    assert first == []
    (record,) = known.values()
    assert "Peruvian ministry" in record.aliases and record.statements == 2


def test_a_government_and_its_country_are_one_speaker() -> None:
    known, first = update_speakers({}, [_st("Government of Chile (GoC)")], "a1")
    known, again = update_speakers(known, [_st("Chile"), _st("Chilean government")], "a2")
    assert len(first) == 1 and again == []


def test_two_ministries_of_one_country_are_two_speakers() -> None:
    known, _ = update_speakers({}, [_st("Peru's Interior Ministry")], "a1")
    known, second = update_speakers(known, [_st("Peru's Health Ministry")], "a2")
    assert [s.speaker for s in second] == ["Peru's Health Ministry"]


def test_unofficial_speakers_are_not_recorded() -> None:
    known, first = update_speakers({}, [_st("a resident", official=False)], "a1")
    assert known == {} and first == []
