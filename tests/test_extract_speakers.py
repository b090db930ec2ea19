"""Speaker keys and cross-article speaker resolution."""

from __future__ import annotations

import pytest

from bot.domain.stories import SpeakerRecord
from bot.extract.speakers import resolve_speaker, speaker_key

SAME = [
    ("Fahrettin Altun", "Mr Altun"),
    ("Fahrettin Altun", "Altun"),
    ("Mr. Altun", "Turkey's communications director Fahrettin Altun"),
    ("the Syrian Observatory for Human Rights", "Syrian Observatory"),
    ("Recep Tayyip Erdogan", "President Erdogan"),
    ("Bashar al-Assad", "Assad"),
    ("UN spokesman Stephane Dujarric", "Stephane Dujarric"),
    ("the European Union", "EU"),
    ("the United Nations", "U.N."),
    ("José Andrés", "Jose Andres"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_key(a: str, b: str) -> None:
    assert speaker_key(a) == speaker_key(b) != ""


DIFFERENT = [
    ("Fahrettin Altun", "Omer Celik"),
    ("Ministry of Health", "Ministry of Defence"),
    ("NATO Secretary General", "U.N. Secretary-General"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_key(a: str, b: str) -> None:
    assert speaker_key(a) != speaker_key(b)


def _rec(name: str, role: str | None, *aliases: str) -> SpeakerRecord:
    return SpeakerRecord(name=name, role=role, aliases=aliases, first_article_id="a1")


KNOWN = {
    speaker_key("Antonio Guterres"): _rec("Antonio Guterres", "United Nations Secretary-General"),
    speaker_key("Fahrettin Altun"): _rec("Fahrettin Altun", "Turkey's communications director"),
    speaker_key("Rahmi Dogan"): _rec("Rahmi Dogan", "governor of Hatay province"),
    speaker_key("Jens Stoltenberg"): _rec("Jens Stoltenberg", "NATO Secretary General"),
    speaker_key("Syrian Observatory for Human Rights"): _rec(
        "Syrian Observatory for Human Rights", None
    ),
}

RESOLVE = [
    ("Mr Altun", None, "altun"),
    ("Fahrettin Altun", "Turkish Communications Director", "altun"),
    ("U.N. Secretary-General", None, "guterres"),
    ("UN Secretary General", None, "guterres"),
    ("the governor of Hatay", None, "dogan"),
    ("Syrian Observatory", None, "syrian observatory"),
    ("NATO Secretary General", None, "stoltenberg"),
    ("Omer Celik", "spokesman", None),
    ("an official", None, None),
    ("the Secretary-General", None, None),  # ambiguous: two secretaries-general are known
    ("", None, None),
]


@pytest.mark.parametrize(("name", "role", "expected"), RESOLVE)
def test_resolve_speaker(name: str, role: str | None, expected: str | None) -> None:
    assert resolve_speaker(name, role, KNOWN) == expected


def test_secretary_general_alone_resolves_when_unique() -> None:
    known = {"guterres": _rec("Antonio Guterres", "United Nations Secretary-General")}
    assert resolve_speaker("the Secretary-General", None, known) == "guterres"
    assert resolve_speaker("Secretary-General", "UN chief", known) == "guterres"


def test_named_stranger_with_same_office_is_not_matched() -> None:
    known = {"guterres": _rec("Antonio Guterres", "United Nations Secretary-General")}
    assert resolve_speaker("Ban Ki-moon", "U.N. Secretary-General", known) is None
