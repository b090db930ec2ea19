"""Speaker identity in the domain: one body under several names, offices of a known body."""

from __future__ import annotations

import pytest

from bot.domain.places import country_of_word, is_place_name
from bot.domain.speakers import body_identity, resolve_speaker, same_body, speaker_key
from bot.domain.stories import SpeakerRecord


def _known(*names: str) -> dict[str, SpeakerRecord]:
    return {speaker_key(n): SpeakerRecord(n, None, (), "a1") for n in names}


@pytest.mark.parametrize(
    ("word", "iso"),
    [
        ("Peruvian", "PE"),
        ("Chilean", "CL"),
        ("Kenya's", "KE"),
        ("Mozambican", "MZ"),
        ("Austrian", "AT"),
        ("Australian", "AU"),
        ("French", "FR"),
        ("Tuesday", None),
        ("Spokesman", None),
    ],
)
def test_country_adjectives(word: str, iso: str | None) -> None:
    assert country_of_word(word) == iso


def test_places_are_not_people() -> None:
    assert is_place_name("Oregon") and is_place_name("Chile") and is_place_name("Nairobi")
    assert not is_place_name("Fernando Ruiz") and not is_place_name("Thursday")


SAME_BODY = [
    ("Peru's Interior Ministry", "the Peruvian ministry"),
    ("the Government of Chile (GoC)", "the Chilean government"),
    ("Chile", "the Government of Chile"),
    ("the Government of the Republic of Kenya", "Kenyan government"),
    ("Kenya Airways", "the Kenyan airline"),
    ("the U.S. Storm Prediction Center", "Storm Prediction Center"),
]


@pytest.mark.parametrize(("a", "b"), SAME_BODY)
def test_same_body_under_two_names(a: str, b: str) -> None:
    ia, ib = body_identity(a), body_identity(b)
    assert ia is not None and ib is not None
    assert same_body(ia, ib)
    assert resolve_speaker(b, None, _known(a)) == speaker_key(a)


DIFFERENT_BODY = [
    ("Peru's Interior Ministry", "Chile's Interior Ministry"),
    ("Peru's Interior Ministry", "Peru's Health Ministry"),
    ("the ministry", "the Health Ministry"),  # no country, no shared name: too vague
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT_BODY)
def test_different_bodies_stay_apart(a: str, b: str) -> None:
    assert resolve_speaker(b, None, _known(a)) is None


def test_an_ambiguous_short_name_matches_nothing() -> None:
    known = _known("Peru's Interior Ministry", "Peru's Health Ministry")
    assert resolve_speaker("the Peruvian ministry", None, known) is None


def test_an_office_named_after_a_known_agency_is_that_agency() -> None:
    known = _known("FEMA")
    assert resolve_speaker("FEMA Office of Response and Recovery", None, known) == "fema"
    # a ministry speaks for itself, even when named after a known government
    assert resolve_speaker("FEMA Ministry of Health", None, known) is None


def test_a_parenthesised_acronym_does_not_change_the_key() -> None:
    assert speaker_key("Government of Chile (GoC)") == speaker_key("Government of Chile")


def test_a_qualified_office_is_not_a_known_person_with_a_bare_title() -> None:
    known = {"reyes": SpeakerRecord("Ana Reyes", "Secretary", (), "a1")}
    assert resolve_speaker("Chile's housing secretary", None, known) is None
    known = {"reyes": SpeakerRecord("Ana Reyes", "Chile's housing secretary", (), "a1")}
    assert resolve_speaker("the secretary", None, known) == "reyes"


def test_a_place_qualified_office_matches_the_known_holder() -> None:
    known = {"soto": SpeakerRecord("Ana Soto", "President", (), "a1")}
    assert resolve_speaker("Chile's President", None, known) == "soto"
