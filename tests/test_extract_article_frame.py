"""Articles whose figures are all about the past: anniversaries and statistical releases.

Sentences are written for these tests. A figure in such an article is not news even when
its own sentence does not say it is old ("Forty people were killed and thousands lost
their homes."): the lead does.
"""

from __future__ import annotations

import pytest

from bot.domain.claims import Temporal
from bot.extract import extract


@pytest.mark.parametrize(
    "text",
    [
        # anniversary pieces
        "Two years ago, a landslide buried the mountain village of Santa Rita. Forty people "
        "were killed and thousands lost their homes. Survivors gathered at the church on Sunday.",
        "A year after floods swept through the northern valleys, many families still live in "
        "tents. The floods killed 212 people and displaced 40,000.",
        "Residents of the port city held a vigil to mark the tenth anniversary of the ferry "
        "disaster. The ship sank in a storm and 300 passengers drowned.",
        "Five years on from the mine collapse that killed 29 workers, the company has still "
        "paid no compensation. At least 29 miners died underground.",
        # statistical releases
        "Drowning deaths among children fell in 2021, according to figures released by the "
        "national safety council. A total of 812 children drowned, down from 866.",
        "Road crashes kill about 1,300 people every year in the province, the report says. "
        "Last winter 140 people were killed on icy roads.",
    ],
)
def test_figures_of_a_look_back_article_are_about_the_past(text: str) -> None:
    figures = extract(text).figures
    assert figures, "the figures are still read"
    assert all(f.temporal is Temporal.OTHER_EVENT for f in figures)
    assert not extract(text).impact_figures


@pytest.mark.parametrize(
    "text",
    [
        # a fresh event that mentions a year in its lead
        "A bus plunged into a gorge on Monday, killing 31 people in the deadliest crash "
        "reported in 2024. Another 12 passengers were injured.",
        # a live report that recalls an earlier disaster in a later sentence
        "Floods have killed at least 45 people in the south of the country, officials said. "
        "It is the worst flooding since the 2010 anniversary storms, which killed 90.",
        # "days after" is not a retrospective
        "Four days after the earthquake, rescuers pulled 3 survivors from the rubble. "
        "The death toll rose to 1,204, the disaster agency said.",
    ],
)
def test_a_live_report_keeps_its_current_figures(text: str) -> None:
    assert extract(text).impact_figures


def test_a_drill_scenario_is_not_news() -> None:
    text = (
        "CITY HALL, May 2 — Emergency crews spent the week preparing for the worst. Hundreds "
        "of responders took part in a regional exercise at the fairgrounds. The drill "
        "simulated a dam failure upstream of the town. In the scenario, 240 people were "
        "killed and 1,100 were injured."
    )
    figures = extract(text).figures
    assert figures and all(f.temporal is Temporal.OTHER_EVENT for f in figures)


def test_soldiers_killed_during_a_training_exercise_are_news() -> None:
    text = (
        "Two soldiers were killed and five injured during a training exercise on Tuesday, "
        "the army said. The drill was suspended."
    )
    assert extract(text).impact_figures
