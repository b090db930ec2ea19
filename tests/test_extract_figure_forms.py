"""How news writes a number and what kind of figure it is: forms, projections, estimates.

Sentences are written for these tests (none is copied from a real report).
"""

from __future__ import annotations

import pytest

from bot.domain.claims import Metric, Qualifier, Temporal
from bot.extract import extract

K, INJ, MIS = Metric.KILLED, Metric.INJURED, Metric.MISSING
Q = Qualifier


@pytest.mark.parametrize(
    ("sentence", "metric", "value", "qualifier"),
    [
        # a toll that passes a mark is above it
        ("The death toll from the floods tops 1,200, the ministry said.", K, 1200, Q.MORE_THAN),
        ("By evening the death toll had topped 4,000.", K, 4000, Q.MORE_THAN),
        ("The death toll climbed past 700 on Thursday.", K, 700, Q.MORE_THAN),
        ("The toll surpassed 90 after rescuers reached the village.", K, 90, Q.MORE_THAN),
        ("The death toll rose above 300 on Friday.", K, 300, Q.MORE_THAN),
        # number words, hyphenated scales, dozens
        ("Nearly four-thousand people were injured in the blast.", INJ, 4000, Q.NEARLY),
        ("Two dozen fishermen are missing after the storm.", MIS, 24, Q.EXACT),
        ("Three dozen people died when the bridge gave way.", K, 36, Q.EXACT),
        ("Officials said a further 17 people had died overnight.", K, 17, Q.EXACT),
        # vague quantities by the value conventions
        ("By dawn the flood had killed into the hundreds, rescuers said.", K, 200, Q.APPROXIMATE),
        ("Dozens of people were killed in the attack on the market.", K, 24, Q.APPROXIMATE),
        (
            "Tens of thousands of people were displaced by the eruption.",
            Metric.DISPLACED,
            20000,
            Q.APPROXIMATE,
        ),
    ],
)
def test_number_forms(sentence: str, metric: Metric, value: float, qualifier: Qualifier) -> None:
    figures = extract(sentence).figures
    assert [(f.metric, f.quantity.value, f.quantity.qualifier) for f in figures] == [
        (metric, value, qualifier)
    ]
    assert figures[0].temporal is Temporal.CURRENT


def test_a_range_keeps_its_low_end_and_its_high_end() -> None:
    (f,) = extract("Between 60 and 75 miners remain trapped or missing, the company said.").figures
    assert (f.quantity.value, f.quantity.high) == (60, 75)


@pytest.mark.parametrize(
    "sentence",
    [
        "It appears that we may register more than 2,000 deaths, the governor said.",
        "More than 500 people are feared dead after the dam burst.",
        "Officials warned the death toll could reach 3,000.",
        "The number of dead may rise to 150 as rescuers dig through the mud.",
        "Aid groups said the toll was expected to exceed 800.",
    ],
)
def test_forecasts_and_fears_are_projections(sentence: str) -> None:
    figures = extract(sentence).figures
    assert figures and all(f.temporal is Temporal.FORECAST for f in figures)
    assert not extract(sentence).impact_figures


def test_a_forecast_about_one_number_does_not_reach_the_next_statement() -> None:
    text = "The toll is likely to rise, with police saying more than 40 people are missing."
    (f,) = extract(text).figures
    assert (f.metric, f.quantity.value, f.temporal) == (MIS, 40, Temporal.CURRENT)


def test_an_estimate_of_the_current_toll_is_a_current_figure() -> None:
    (f,) = extract("Local media estimate the death toll at 310.").figures
    assert (f.quantity.value, f.temporal) == (310, Temporal.CURRENT)


@pytest.mark.parametrize(
    ("sentence", "metric", "group", "value"),
    [
        # counts that differ in kind from the plain metric are their own series
        (
            "About 2.3 million people are in need of humanitarian aid, the UN said.",
            Metric.AFFECTED,
            "people in need",
            2_300_000,
        ),
        (
            "Relief agencies estimate 90,000 people in Tarvania require urgent assistance.",
            Metric.AFFECTED,
            "people in need",
            90_000,
        ),
        (
            "Some 12,400 people were sheltering in 40 evacuation centers on Tuesday.",
            Metric.DISPLACED,
            "people in shelters",
            12_400,
        ),
        # a count adjective between the number and its noun
        ("The ministry reported at least 212 confirmed deaths by Monday night.", K, "", 212),
        ("Doctors said 31 other people were being treated for burn injuries.", INJ, "people", 31),
    ],
)
def test_kinds_and_count_adjectives(
    sentence: str, metric: Metric, group: str, value: float
) -> None:
    (f,) = extract(sentence).figures
    assert (f.metric, f.subject_group, f.quantity.value) == (metric, group, value)


def test_an_official_death_count_is_a_toll() -> None:
    (f,) = extract("He said the official death count stood at 57 on Sunday.").figures
    assert (f.metric, f.quantity.value) == (K, 57)


@pytest.mark.parametrize(
    "sentence",
    [
        "Volunteers are helping to support about 8,000 people affected by the floods.",
        "The program assisted 15,000 displaced families last month.",
        "Mobile kitchens fed 2,500 evacuated residents on Sunday.",
    ],
)
def test_aid_reaching_people_is_not_an_impact_figure(sentence: str) -> None:
    assert extract(sentence).figures == ()


def test_a_state_before_a_person_noun_is_its_adjective() -> None:
    (f,) = extract("More than 9,000 displaced persons are living in the stadium.").figures
    assert (f.metric, f.subject_group, f.quantity.value) == (Metric.DISPLACED, "people", 9000)
    (g,) = extract("Some 40 injured people were flown to the capital.").figures
    assert (g.metric, g.subject_group, g.quantity.value) == (INJ, "people", 40)


def test_a_casualty_count_after_a_capitalised_word_is_not_a_label() -> None:
    # "Article 4" is a label; "on Twitter 86 deaths were reported" is a count.
    (f,) = extract("The agency chief said on Twitter 61 deaths were reported.").figures
    assert (f.metric, f.quantity.value) == (K, 61)


@pytest.mark.parametrize(
    "sentence",
    [
        "Last November, a jet of the same model crashed into the sea, killing 94 people.",
        "The previous derailment on the line, in 2011, killed 40 passengers.",
        "The storm is the strongest since 1998, when 1,100 people died.",
    ],
)
def test_a_past_disaster_cited_for_context_is_another_event(sentence: str) -> None:
    (f,) = extract(sentence).figures
    assert f.temporal is Temporal.OTHER_EVENT


@pytest.mark.parametrize(
    "sentence",
    [
        "The death toll is now 310, the ministry said.",
        "Officials now say 44 people died in the collapse.",
        "Police have since confirmed 19 deaths.",
        "The death toll climbed to 88 overnight.",
    ],
)
def test_a_value_given_as_the_latest_is_framed_as_an_update(sentence: str) -> None:
    (f,) = extract(sentence).figures
    assert f.framed_as_update


def test_a_total_given_as_superseded_is_an_earlier_value() -> None:
    (f,) = extract("She revised the figures down from an earlier total of 412 dead.").figures
    assert (f.quantity.value, f.temporal) == (412, Temporal.EARLIER)
    (g,) = extract("That is up sharply from the initial estimate of 90 dead.").figures
    assert g.temporal is Temporal.EARLIER
