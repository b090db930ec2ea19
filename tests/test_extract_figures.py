"""Figures from wire-style sentences about many kinds of events (not the seed story).

Each positive case lists the figures expected, checking only the fields given; each
negative case is a sentence full of numbers that are not casualty figures.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.claims import Figure, Metric, Qualifier, ScopeKind, Temporal
from bot.extract import extract

K, INJ, M, D = Metric.KILLED, Metric.INJURED, Metric.MISSING, Metric.DISPLACED
Q = Qualifier


def _check(fig: Figure, want: dict[str, Any]) -> None:
    for key, expected in want.items():
        if key == "value":
            got: Any = fig.quantity.value
        elif key == "high":
            got = fig.quantity.high
        elif key == "qualifier":
            got = fig.quantity.qualifier
        elif key == "text":
            got = fig.quantity.text
        elif key == "scope":
            got = fig.scope.key
        elif key == "group":
            got = fig.subject_group
        elif key == "attr":
            got = fig.attributed_to
        elif key == "update":
            got = fig.framed_as_update
        else:
            got = getattr(fig, key)
        assert got == expected, f"{key}: {got!r} != {expected!r} in {fig}"


POSITIVE: list[tuple[str, list[dict[str, Any]]]] = [
    # --- passive state after the noun phrase
    (
        "At least 12 people were killed when a magnitude 6.8 earthquake struck southern Peru "
        "on Sunday, officials said.",
        [
            {
                "metric": K,
                "value": 12,
                "qualifier": Q.AT_LEAST,
                "group": "people",
                "attr": None,
                "scope": "event",
                "temporal": Temporal.CURRENT,
            }
        ],
    ),
    (
        "Two police officers were shot dead in the northern city overnight.",
        [{"metric": K, "value": 2, "group": "police", "subject": "police officers"}],
    ),
    (
        "Between 20 and 30 people were missing after the landslide, rescuers said.",
        [{"metric": M, "value": 20, "high": 30, "qualifier": Q.EXACT, "group": "people"}],
    ),
    (
        "Nearly 100 people are unaccounted for in the flooded valley.",
        [{"metric": M, "value": 100, "qualifier": Q.NEARLY}],
    ),
    (
        "Five crew members are still missing after the cargo ship capsized.",
        [{"metric": M, "value": 5, "group": "crew"}],
    ),
    (
        "Nine miners remain trapped underground after the collapse in Zonguldak.",
        [{"metric": Metric.TRAPPED, "value": 9, "group": "workers"}],
    ),
    (
        "More than 5,000 residents were evacuated as the wildfire spread toward the town.",
        [{"metric": Metric.EVACUATED, "value": 5000, "qualifier": Q.MORE_THAN, "group": "people"}],
    ),
    (
        "Some 250 passengers were rescued by the coast guard.",
        [{"metric": Metric.RESCUED, "value": 250, "qualifier": Q.ABOUT, "group": "passengers"}],
    ),
    (
        "Twenty-two people were hospitalised after eating contaminated food at a wedding.",
        [{"metric": Metric.HOSPITALISED, "value": 22, "group": "people"}],
    ),
    (
        "Four firefighters were injured battling the blaze, the fire department said.",
        [{"metric": INJ, "value": 4, "group": "rescuers", "attr": "fire department"}],
    ),
    (
        "Three children were among the dead, hospital officials said.",
        [{"metric": K, "value": 3, "group": "children", "attr": None}],
    ),
    (
        "Hundreds of thousands of people fled their homes as the river burst its banks.",
        [{"metric": D, "value": 200_000, "high": 999_999, "qualifier": Q.APPROXIMATE}],
    ),
    (
        "Seven climbers are missing on the mountain after an avalanche.",
        [{"metric": M, "value": 7, "group": "tourists"}],
    ),
    (
        "Dozens of worshippers were wounded in the blast at the mosque.",
        [{"metric": INJ, "value": 24, "high": 99, "qualifier": Q.APPROXIMATE, "group": "pilgrims"}],
    ),
    (
        "Eleven people lost their lives in the stampede.",
        [{"metric": K, "value": 11, "group": "people"}],
    ),
    # --- active verbs before the number
    (
        "A ferry carrying 300 passengers sank off the coast of Bangladesh, killing at least "
        "40 people.",
        [{"metric": K, "value": 40, "qualifier": Q.AT_LEAST, "group": "people"}],
    ),
    (
        "Police arrested 23 protesters after clashes in the capital.",
        [{"metric": Metric.ARRESTED, "value": 23, "group": "protesters"}],
    ),
    (
        "Gunmen abducted 30 students from a boarding school in the north.",
        [{"metric": Metric.ABDUCTED, "value": 30, "group": "students"}],
    ),
    (
        "The storm has affected nearly 2 million people in the region.",
        [{"metric": Metric.AFFECTED, "value": 2_000_000, "qualifier": Q.NEARLY}],
    ),
    (
        "Floods left 3,000 people homeless.",
        [{"metric": Metric.HOMELESS, "value": 3000, "group": "people"}],
    ),
    (
        "A bus plunged into a ravine, leaving 18 dead and 30 injured.",
        [{"metric": K, "value": 18}, {"metric": INJ, "value": 30}],
    ),
    (
        "The heat wave has claimed 61 lives across the country.",
        [{"metric": K, "value": 61}],
    ),
    (
        "Three gunmen killed 12 people at a market.",
        [{"metric": K, "value": 12, "group": "people"}],
    ),
    (
        "The explosion killed two workers and injured 14 others.",
        [{"metric": K, "value": 2, "group": "workers"}, {"metric": INJ, "value": 14}],
    ),
    (
        "Typhoon Rai slammed into the central Philippines, forcing nearly 300,000 people to "
        "flee their homes.",
        [{"metric": D, "value": 300_000, "qualifier": Q.NEARLY, "group": "people"}],
    ),
    (
        "In Turkey alone, at least 1,541 people were killed and 9,733 injured, Vice President "
        "Fuat Oktay said.",
        [
            {"metric": K, "value": 1541, "scope": "local:turkey", "attr": "Fuat Oktay"},
            {"metric": INJ, "value": 9733, "scope": "local:turkey", "attr": "Fuat Oktay"},
        ],
    ),
    # --- tolls and updates
    (
        "The death toll from the typhoon rose to 3,621, the national disaster agency said.",
        [
            {
                "metric": K,
                "value": 3621,
                "update": True,
                "attr": "national disaster agency",
                "group": "",
            }
        ],
    ),
    (
        "The death toll rose to 22, up from 9 on Wednesday.",
        [
            {"metric": K, "value": 22, "update": True, "temporal": Temporal.CURRENT},
            {"metric": K, "value": 9, "temporal": Temporal.EARLIER},
        ],
    ),
    (
        "The toll was initially put at 9.",
        [{"metric": K, "value": 9, "temporal": Temporal.EARLIER}],
    ),
    (
        "Previously, officials had said 14 people died.",
        [{"metric": K, "value": 14, "temporal": Temporal.EARLIER}],
    ),
    (
        "The number of people killed in the quake now stands at 1,348.",
        [{"metric": K, "value": 1348, "group": "people", "update": True}],
    ),
    # --- scope
    (
        "The floods have displaced about 120,000 people since June, according to the United "
        "Nations.",
        [
            {
                "metric": D,
                "value": 120_000,
                "qualifier": Q.ABOUT,
                "scope": "cumulative:since june",
                "attr": "United Nations",
            }
        ],
    ),
    (
        "The epidemic has killed 1,200 people so far this year.",
        [{"metric": K, "value": 1200, "scope": "cumulative:this year"}],
    ),
    (
        "Health officials reported 40 new deaths in the past 24 hours.",
        [{"metric": K, "value": 40, "scope": "cumulative:past 24 hours"}],
    ),
    (
        "More than 300 demonstrators have been detained since the protests began.",
        [
            {
                "metric": Metric.ARRESTED,
                "value": 300,
                "group": "protesters",
                "scope": "cumulative:since the protests",
            }
        ],
    ),
    (
        "In Hatay province alone, 1,200 people died.",
        [{"metric": K, "value": 1200, "scope": "local:hatay"}],
    ),
    (
        "At least 40 people were killed, including 12 in the city of Antakya.",
        [
            {"metric": K, "value": 40, "scope": "event"},
            {"metric": K, "value": 12, "scope": "local:antakya"},
        ],
    ),
    (
        "At least 40 people were killed, including 12 children.",
        [
            {"metric": K, "value": 40, "group": "people"},
            {"metric": K, "value": 12, "group": "children"},
        ],
    ),
    (
        "A total of 54 soldiers have been killed in the region this month.",
        [{"metric": K, "value": 54, "scope": "cumulative:this month", "group": "soldiers"}],
    ),
    (
        "Flooding has killed 200 people since early March, and 12 more died on Monday.",
        [
            {"metric": K, "value": 200, "scope": "cumulative:since march"},
            {"metric": K, "value": 12, "scope": "event"},
        ],
    ),
    # --- temporal
    (
        "Dozens of people are feared trapped under the rubble.",
        [{"metric": Metric.TRAPPED, "value": 24, "temporal": Temporal.FORECAST}],
    ),
    (
        "Officials warned the death toll could reach 10,000.",
        [{"metric": K, "value": 10_000, "temporal": Temporal.FORECAST}],
    ),
    (
        "Up to 200 people may have died in the remote villages.",
        [{"metric": K, "value": 200, "qualifier": Q.UP_TO, "temporal": Temporal.FORECAST}],
    ),
    (
        "The 1999 earthquake killed more than 17,000 people.",
        [{"metric": K, "value": 17_000, "temporal": Temporal.OTHER_EVENT}],
    ),
    (
        "In 2012, 40 people died in a similar blast at the same mine.",
        [{"metric": K, "value": 40, "temporal": Temporal.OTHER_EVENT}],
    ),
    (
        "It was the deadliest quake since 2015, when 300 people died.",
        [{"metric": K, "value": 300, "temporal": Temporal.OTHER_EVENT}],
    ),
    # --- attribution
    (
        "Governor Maria Santos said 15 people had drowned in the flash floods.",
        [{"metric": K, "value": 15, "attr": "Maria Santos", "attributed_role": "Governor"}],
    ),
    (
        "The coast guard said 23 migrants had drowned.",
        [{"metric": K, "value": 23, "group": "migrants", "attr": "coast guard"}],
    ),
    (
        "At least 9 people died, according to the World Health Organization.",
        [{"metric": K, "value": 9, "attr": "World Health Organization"}],
    ),
    (
        "Twelve people were killed, an official said.",
        [{"metric": K, "value": 12, "attr": None, "attributed_role": "an official"}],
    ),
]


@pytest.mark.parametrize(("sentence", "expected"), POSITIVE, ids=[s[:40] for s, _ in POSITIVE])
def test_figures(sentence: str, expected: list[dict[str, Any]]) -> None:
    figs = extract(sentence).figures
    assert len(figs) == len(expected), [f"{f.metric} {f.quantity.text}" for f in figs]
    for fig, want in zip(figs, expected, strict=True):
        _check(fig, want)
        assert sentence[fig.evidence.start : fig.evidence.end] == fig.evidence.sentence


def test_pronoun_attribution_follows_named_speaker() -> None:
    text = (
        "Police Chief Tom Baker said 8 people were arrested overnight. "
        "He later confirmed 11 had been detained."
    )
    figs = extract(text).figures
    assert [f.quantity.value for f in figs] == [8, 11]
    assert all(f.attributed_to == "Tom Baker" for f in figs)
    assert figs[1].framed_as_update
    assert figs[1].metric is Metric.ARRESTED


def test_role_title_resolves_to_named_holder() -> None:
    text = (
        "The mayor of Valencia said at least 62 people had died. "
        "Mayor Ana Ruiz said rescue work would continue through the night."
    )
    figs = extract(text).figures
    assert figs[0].attributed_to == "Ana Ruiz"


def test_evidence_offsets_point_into_text() -> None:
    text = "Intro line.\n\nAt least 7 people were killed in the crash.  Another 3 were injured."
    for f in extract(text).figures:
        assert text[f.evidence.start : f.evidence.end] == f.evidence.sentence
        assert f.scope.kind is ScopeKind.EVENT


NEGATIVE = [
    "The city council approved a $45 million budget, including 3.2 million for road repairs.",
    "Unemployment fell to 4.5 percent in March, the lowest since 2019.",
    "Striker Diego Ruiz, 28, scored twice in the 67th and 89th minutes before 32,000 fans.",
    "About 18 million people live in the storm's path.",
    "The government approved $3.7 million in emergency aid for the region.",
    "A 72-year-old man was among the dead.",
    "The 10-year-old girl was among the dead.",
    "The magnitude 6.8 quake struck at 3 p.m. local time.",
    "Inflation rose 5 percent in March.",
    "Messi scored 3 goals in the final.",
    "Flight 370 disappeared in 2014 with 239 people on board.",
    "Twelve ambulances were sent to the scene.",
    "The country hosts 3.7 million refugees.",
    "The bloc's 27 member states met in Brussels.",
    "The city is home to more than three million people.",
    "Troops set up 12 observation posts in the region.",
    "Rebels captured more than 20 villages on Thursday.",
    "The nine-year conflict has devastated the region.",
    "Talks in the capital lasted two days.",
    "Article 4 of the treaty was invoked for the second time.",
    "The storm destroyed 1,500 homes and damaged 300 schools.",
    "Officials said 20 villages were evacuated.",
    "About 40 percent of the victims were children.",
    "The company said 300 workers would lose their jobs.",
    "The team won 3-1 on Saturday in front of 40,000 fans.",
    "Temperatures reached 45 degrees on Tuesday.",
    "The 5.9-magnitude quake struck 10 km below the surface.",
    "The 27-nation bloc stands ready to protect its security interests.",
    "The ministry allocated 2 billion pesos for reconstruction in 2024.",
    "Turkey hosts some 3.6 million Syrians.",
    "Train 409 left the station at 10:45 with 500 passengers.",
    "One of the survivors described the scene as chaos.",
    "The rescue operation involved 1,200 soldiers and 40 helicopters.",
    "The wildfire has burned 12,000 hectares since Monday.",
    "The shooting happened on March 12 at around 11 a.m.",
    "Nobody was killed in the blast.",
    "He was sentenced to 15 years in prison for the 2019 attack.",
    "The stock index fell 300 points on Monday.",
    "About 13.5 million people live in the 10 affected provinces.",
    "Relief reached 40 affected districts by Tuesday.",
]


@pytest.mark.parametrize(
    ("sentence", "temporal"),
    [
        ("Ferry accidents kill hundreds of people every year in Bangladesh.", Temporal.OTHER_EVENT),
        ("Floods kill about 1,000 people annually across the region.", Temporal.OTHER_EVENT),
        ("Earlier reports had put the toll at 23 dead.", Temporal.EARLIER),
        ("Police had earlier said 14 people were killed.", Temporal.EARLIER),
        ("The health ministry had put the number of dead at 40.", Temporal.EARLIER),
    ],
)
def test_habitual_and_superseded_figures(sentence: str, temporal: Temporal) -> None:
    figs = extract(sentence).figures
    assert figs and all(f.temporal is temporal for f in figs), figs


@pytest.mark.parametrize("sentence", NEGATIVE, ids=[s[:40] for s in NEGATIVE])
def test_not_figures(sentence: str) -> None:
    figs = extract(sentence).figures
    assert figs == (), [f"{f.metric} {f.quantity.text} {f.subject}" for f in figs]
