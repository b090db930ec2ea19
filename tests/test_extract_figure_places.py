"""Where a figure counts: a named place narrower than the event is its own series.

Sentences are written for these tests.
"""

from __future__ import annotations

import pytest

from bot.domain.claims import ScopeKind
from bot.extract import extract


def _scopes(text: str) -> list[tuple[float, str]]:
    return [(f.quantity.value, f.scope.key) for f in extract(text).figures]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the figure's own phrase names the place, beside a different event-wide toll
        (
            "The storm has killed at least 120 people. Officials said 45 deaths were recorded "
            "in Port Harbour.",
            [(120, "event"), (45, "local:port harbour")],
        ),
        # the toll of one country of several
        (
            "The cyclone killed 300 people in Malawi and 210 in Madagascar. The death toll in "
            "Malawi rose to 310 on Friday.",
            [(300, "local:malawi"), (310, "local:malawi")],
        ),
        # "the death toll from … in <place>"
        (
            "The storm killed 30 people in Varna. The death toll from the storm in Ruse "
            "rose to 12.",
            [(30, "local:varna"), (12, "local:ruse")],
        ),
        # "in <place>, where …"
        (
            "At least 90 people died across the region. Most died in the capital of San "
            "Marcos, where police counted 61 bodies and 61 deaths.",
            [(90, "event"), (61, "local:san marcos")],
        ),
        # a sentence fronted by its place
        (
            "Floods killed 70 people in the north. In Valdera, 12 people drowned.",
            [(70, "event"), (12, "local:valdera")],
        ),
        # "the toll in that country" is the country the sentence named
        (
            "Storms killed 40 people across the islands. Officials in Tarvania said the death "
            "toll in that country had risen to 19.",
            [(40, "event"), (19, "local:tarvania")],
        ),
    ],
)
def test_a_named_place_beside_another_count_is_a_sub_area(
    text: str, expected: list[tuple[float, str]]
) -> None:
    got = _scopes(text)
    for item in expected:
        assert item in got, got


def test_a_place_that_is_the_whole_article_s_area_is_the_event() -> None:
    # Every count of the report is for one country, and no other value is given without it:
    # the country is the event's area, not a part of it.
    text = (
        "The hurricane killed 210 people in Belmora, the government said. About 900,000 "
        "people were affected in Belmora."
    )
    figures = extract(text).figures
    assert {f.scope.kind for f in figures} == {ScopeKind.EVENT}
    assert {f.scope.label for f in figures} == {"belmora"}  # kept for the story to judge
    assert len(extract(text).impact_figures) == 2


def test_the_same_count_with_and_without_its_place_is_one_figure() -> None:
    text = (
        "Numbers at a glance\n\n"
        "The death toll in Arvenia rose to 512.\n\n"
        "The death toll in Korvath rose to 96.\n\n"
        "The government confirmed 512 deaths as of Tuesday."
    )
    scopes = {(v, s) for v, s in _scopes(text)}
    assert scopes == {(512, "local:arvenia"), (96, "local:korvath")}


def test_a_section_heading_names_the_place_of_the_figures_under_it() -> None:
    text = (
        "A quake killed at least 300 people in the mountains on Sunday.\n"
        "Aftershocks in Norland\n"
        "Seven people are missing. More than 60 people were injured."
    )
    got = _scopes(text)
    assert (300, "event") in got
    assert (7, "local:norland") in got and (60, "local:norland") in got


@pytest.mark.parametrize(
    "text",
    [
        "In addition, 14 people were injured in the blast.",
        "In March, 30 people were killed in a similar attack.",
        "More than 20 people were killed in clashes on Monday.",
        "At least 40 people were killed in Hurricane Delta on Monday.",
        "Twelve people were killed in Tuesday's bombing, police said.",
    ],
)
def test_words_after_in_that_are_not_places(text: str) -> None:
    assert all(f.scope.kind is not ScopeKind.LOCAL for f in extract(text).figures)


def test_that_country_is_the_country_the_article_named_last() -> None:
    # Across sentences only a country counts ("his country" is not the port named since).
    text = (
        "The storm killed 40 people in Malawi and 25 in Zambia. It then hit the port of "
        "Kasama. Officials later said the death count in that country stood at 31."
    )
    got = {(f.quantity.value, f.scope.key) for f in extract(text).figures}
    assert got == {(40, "local:malawi"), (25, "local:zambia"), (31, "local:zambia")}


def test_a_list_of_places_is_not_one_place() -> None:
    text = (
        "The quake killed more than 2,300 people in Arnia and Belor. In Arnia alone, "
        "1,541 people were killed."
    )
    got = {(f.quantity.value, f.scope.key) for f in extract(text).figures}
    assert got == {(2300, "event"), (1541, "local:arnia")}
