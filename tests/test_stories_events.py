"""Grouping by event: one real-world event in one story for weeks; other events apart.

The articles are our own, written in the registers real coverage uses: a wire story,
a fact sheet, a military press release, an easy-English rewrite, a "weeks after"
piece, and the distractors that sit between them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import Settings
from bot.domain.articles import Article
from bot.domain.claims import Evidence, Extraction, Figure, Metric, Qualifier, Quantity, Scope
from bot.domain.stories import Story
from bot.stories.grouping import GroupingConfig, StoryMatch, choose_story, score_story
from bot.stories.similarity import article_features, new_profile, update_profile

DAY0 = datetime(2031, 5, 4, 9, 0, tzinfo=UTC)


def killed(
    value: float, group: str = "people", qualifier: Qualifier = Qualifier.AT_LEAST
) -> Extraction:
    return Extraction(
        figures=(
            Figure(
                metric=Metric.KILLED,
                quantity=Quantity(value, qualifier),
                subject=group,
                subject_group=group,
                evidence=Evidence("", 0, 0),
                scope=Scope(),
            ),
        )
    )


def article(key: str, title: str, text: str, days: float) -> Article:
    return Article.create(title=title, text=text, guid=key, published=DAY0 + timedelta(days=days))


QUAKE_WIRE = article(
    "quake-wire",
    "Strong earthquake kills dozens in southern Peru",
    "A magnitude 7.0 earthquake struck southern Peru on Sunday, killing at least 40 people "
    "and toppling adobe homes across the Arequipa region, officials said. Rescuers dug "
    "through rubble in the town of Camana, where a church collapsed during morning mass. "
    "President Ana Ruiz flew to Arequipa and declared a state of emergency.",
    0,
)
QUAKE_UPDATE = article(
    "quake-update",
    "Peru quake toll climbs as rescuers search rubble",
    "The death toll from Sunday's earthquake in southern Peru rose to 75 on Monday, the "
    "national civil defence institute said. Aftershocks rattled Arequipa overnight and "
    "families slept in the streets of Camana and Moquegua.",
    1,
)
FACT_SHEET = article(
    "quake-factsheet",
    "Peru - Earthquake Fact Sheet #2, Fiscal Year (FY) 2031",
    "HIGHLIGHTS\nGoP reports 112 deaths and 3,400 damaged houses\nUSAID/BHA deploys a "
    "Disaster Assistance Response Team (DART) to Arequipa and Moquegua\n\nKEY DEVELOPMENTS\n"
    "The Government of Peru (GoP) continues to lead response activities. The DART is "
    "coordinating shelter and water, sanitation, and hygiene assistance with OCHA.",
    6,
)
MILITARY = article(
    "quake-military",
    "Joint Task Force airlifts tents to Arequipa",
    "SOTO CANO AIR BASE, Honduras - Joint Task Force-Bravo airlifted water purification "
    "units and 400 family tents to Arequipa, Peru, on Tuesday at the request of the "
    "Peruvian government, following the earthquake that struck the region. Two CH-47 "
    "Chinook helicopters will remain in the area for two weeks.",
    9,
)
EASY = article(
    "quake-easy",
    "Families in Peru Still Live in Tents After Quake",
    "An earthquake hit southern Peru two weeks ago. Now many families in Arequipa still "
    "live in tents. The quake killed 120 people. Children go to school in big tents too. "
    "The government says it will build new homes before the cold season.",
    14,
)
WEEKS_AFTER = article(
    "quake-weeks-after",
    "United States adds earthquake assistance for Peru",
    "Six weeks after a magnitude 7.0 earthquake struck southern Peru, the U.S. Embassy in "
    "Lima announced $3 million in additional assistance for families in Arequipa and "
    "Moquegua who lost their homes.",
    42,
)
CRASH = article(
    "crash-wire",
    "Passenger plane crashes after takeoff from Nairobi",
    "A passenger plane carrying 30 people crashed shortly after takeoff from Nairobi on "
    "Tuesday, killing everyone on board, Kenya's transport ministry said. The jet went "
    "down in farmland outside the city minutes after leaving the airport.",
    2,
)
CRASH_FOLLOWUP = article(
    "crash-followup",
    "Investigators recover flight recorders from Kenya crash",
    "Investigators on Thursday recovered both flight recorders from the jet that crashed "
    "near Nairobi, Kenyan officials said, as families gathered at the airport. The "
    "airline grounded the rest of its fleet pending inspections.",
    4,
)
SHOOTING = article(
    "shooting-wire",
    "Gunman kills six at Toronto shopping centre",
    "A gunman opened fire in a Toronto shopping centre on Wednesday, killing six people "
    "before police shot him, Canadian officials said. The shooting began near the food "
    "court and lasted several minutes.",
    3,
)
BUDGET = article(
    "budget",
    "Peru lawmakers approve budget",
    "Lawmakers in Lima approved the national budget for next year on Monday by 80 votes "
    "to 40, raising spending on roads and schools by 4 percent. The finance minister said "
    "the deficit would stay below 2 percent of output.",
    1.5,
)
ANNIVERSARY = article(
    "quake-anniversary",
    "Peru remembers earthquake victims one year on",
    "One year after the earthquake that killed 120 people in southern Peru, survivors in "
    "Arequipa gathered on Sunday to remember the dead. Many families still live in "
    "temporary homes.",
    365,
)

EXTRACTIONS = {
    "quake-wire": killed(40),
    "quake-update": killed(75),
    "quake-factsheet": killed(112),
    "quake-easy": killed(120),
    "crash-wire": killed(30),
    "shooting-wire": killed(6),
    "quake-anniversary": killed(120),
}


def run(articles: list[Article], config: GroupingConfig | None = None) -> dict[str, str]:
    """Feed in arrival (publication) order; article id → story id."""
    config = config or GroupingConfig()
    stories: dict[str, Story] = {}
    assigned: dict[str, str] = {}
    for a in sorted(articles, key=lambda a: a.published or DAY0):
        at = a.published or DAY0
        ext = EXTRACTIONS.get(a.id.removeprefix("guid:"), Extraction())
        match = choose_story(a, ext, at, list(stories.values()), config=config)
        features = article_features(a, ext, at)
        if match is None:
            story = Story(a.id, a.title, at, at, new_profile(features))
        else:
            old = match.story
            story = replace(old, updated_at=at, profile=update_profile(old.profile, features))
        stories[story.id] = story
        assigned[a.id] = story.id
    return assigned


FEED = [
    QUAKE_WIRE,
    QUAKE_UPDATE,
    BUDGET,
    CRASH,
    SHOOTING,
    CRASH_FOLLOWUP,
    FACT_SHEET,
    MILITARY,
    EASY,
    WEEKS_AFTER,
    ANNIVERSARY,
]


def test_one_event_reported_for_weeks_is_one_story() -> None:
    """Fact sheet (day 6), military release (day 9), easy English (day 14), "six weeks
    after" (day 42): all past the 72-hour window, all the same earthquake."""
    assigned = run(FEED)
    quake = {assigned[a.id] for a in (QUAKE_WIRE, QUAKE_UPDATE, FACT_SHEET, EASY)}
    assert quake == {assigned[QUAKE_WIRE.id]}
    assert assigned[MILITARY.id] == assigned[QUAKE_WIRE.id]  # no figure, still joins
    assert assigned[WEEKS_AFTER.id] == assigned[QUAKE_WIRE.id]


def test_two_disasters_in_one_week_in_other_places_stay_apart() -> None:
    assigned = run(FEED)
    assert assigned[CRASH_FOLLOWUP.id] == assigned[CRASH.id]
    stories = {assigned[QUAKE_WIRE.id], assigned[CRASH.id], assigned[SHOOTING.id]}
    assert len(stories) == 3


def test_distractors_do_not_join_a_tracked_story() -> None:
    """A budget from the disaster's capital, and the anniversary a year later."""
    assigned = run(FEED)
    assert assigned[BUDGET.id] == BUDGET.id
    assert assigned[ANNIVERSARY.id] == ANNIVERSARY.id


def test_without_a_story_life_the_later_reports_split() -> None:
    """The rule that makes the difference: a one-off disaster's story lives for weeks."""
    short = GroupingConfig(story_life=timedelta(hours=72))
    assigned = run(FEED, short)
    assert assigned[FACT_SHEET.id] != assigned[QUAKE_WIRE.id]


def _story_of(articles: list[Article]) -> Story:
    stories: dict[str, Story] = {}
    for a in articles:
        at = a.published or DAY0
        f = article_features(a, EXTRACTIONS.get(a.id.removeprefix("guid:"), Extraction()), at)
        if not stories:
            stories["s"] = Story("s", a.title, at, at, new_profile(f))
        else:
            s = stories["s"]
            stories["s"] = replace(s, updated_at=at, profile=update_profile(s.profile, f))
    return stories["s"]


def _score(a: Article, story: Story, days: float) -> StoryMatch | None:
    at = DAY0 + timedelta(days=days)
    later = replace(a, published=at)
    return score_story(article_features(later, Extraction(), at), story)


def test_the_score_falls_with_the_gap_and_ends_with_the_story_life() -> None:
    story = _story_of([QUAKE_WIRE, QUAKE_UPDATE])
    near, far = _score(MILITARY, story, 5), _score(MILITARY, story, 40)
    assert near is not None and far is not None
    assert near.score > far.score
    assert near.life == GroupingConfig().story_life
    assert _score(MILITARY, story, 1 + GroupingConfig().story_life.days + 1) is None


def test_recurring_incidents_keep_the_short_window() -> None:
    """Air strikes recur in one place; a strike a week later is another incident."""
    strike = article(
        "strike",
        "Air strike hits market in Idlib",
        "An air strike hit a crowded market in Idlib province on Monday, killing 12 "
        "civilians, a monitoring group said. Shelling continued overnight.",
        0,
    )
    story = _story_of([strike])
    assert _score(strike, story, 2) is not None
    assert _score(strike, story, 7) is None


def test_two_named_storms_in_one_country_and_week_stay_apart() -> None:
    lidia = article(
        "lidia",
        "Hurricane Lidia makes landfall in western Mexico",
        "Hurricane Lidia came ashore near Puerto Vallarta in Jalisco on Tuesday, flooding "
        "streets and killing two people, Mexican officials said.",
        0,
    )
    norma = article(
        "norma",
        "Hurricane Norma heads for Baja California",
        "Hurricane Norma strengthened off Mexico's Pacific coast on Thursday and forecasters "
        "said the storm would reach Los Cabos by the weekend, where hotels were evacuated.",
        2,
    )
    assigned = run([lidia, norma])
    assert assigned[lidia.id] != assigned[norma.id]


def test_figures_of_one_province_do_not_split_an_identified_event() -> None:
    """A later report counting one province (a lower number) is still the same quake."""
    story = _story_of([QUAKE_WIRE, QUAKE_UPDATE])
    at = DAY0 + timedelta(days=5)
    province = replace(FACT_SHEET, published=at)
    features = article_features(province, killed(30, qualifier=Qualifier.EXACT), at)
    match = score_story(features, story)
    assert match is not None and match.facts.conflicting
    assert match.score >= GroupingConfig().threshold
    # counted in full, the conflict would cost four times as much
    strict = GroupingConfig(identified_conflict=1.0)
    unforgiven = score_story(features, story, strict)
    assert unforgiven is not None
    assert match.score - unforgiven.score == pytest.approx(strict.w_conflict * 0.75)


def test_grouping_windows_come_from_the_settings() -> None:
    from bot.bootstrap import ingest_config

    config = ingest_config(Settings(candidate_window_hours=24, story_life_days=10))
    assert config.grouping.max_gap == timedelta(hours=24)
    assert config.grouping.story_life == timedelta(days=10)
    assert config.candidate_window == timedelta(hours=24)


def test_an_anniversary_does_not_reopen_the_story_however_long_it_lives() -> None:
    """With a story life of more than a year, the one-year-on piece still stays out:
    it recalls the earthquake, it does not report it."""
    long_life = GroupingConfig(story_life=timedelta(days=400))
    assigned = run([QUAKE_WIRE, QUAKE_UPDATE, FACT_SHEET, ANNIVERSARY], long_life)
    assert assigned[FACT_SHEET.id] == assigned[QUAKE_WIRE.id]
    assert assigned[ANNIVERSARY.id] == ANNIVERSARY.id


def test_a_real_disaster_does_not_join_a_drill_of_the_same_kind() -> None:
    drill = article(
        "drill",
        "Peru holds national earthquake drill",
        "Millions of Peruvians left their homes and offices on Thursday in a national "
        "earthquake drill, practising evacuation in Lima and Arequipa under a scenario of a "
        "magnitude 8.0 quake.",
        -20,
    )
    assigned = run([drill, QUAKE_WIRE, FACT_SHEET])
    assert assigned[QUAKE_WIRE.id] == QUAKE_WIRE.id
    assert assigned[FACT_SHEET.id] == QUAKE_WIRE.id


def test_the_same_kind_of_disaster_in_two_countries_stays_apart() -> None:
    """Monsoon floods in two countries in one week read alike; the places tell them apart."""
    first = article(
        "floods-a",
        "Monsoon floods kill dozens in Pakistan",
        "Flash floods triggered by monsoon rains swept through villages in Pakistan's Swat "
        "valley on Monday, killing at least 30 people and washing away bridges and roads, "
        "the provincial disaster management authority said. Rescue teams used boats to "
        "reach families stranded on rooftops.",
        0,
    )
    second = article(
        "floods-b",
        "Floods kill 25 as monsoon rains lash Bangladesh",
        "At least 25 people were killed as monsoon rains flooded villages across Sylhet in "
        "north-eastern Bangladesh on Wednesday, the disaster management ministry said. "
        "Rivers burst their banks, washing away roads and bridges, and rescue boats "
        "ferried stranded families to shelters.",
        2,
    )
    assigned = run([first, second])
    assert assigned[first.id] != assigned[second.id]
    # the words alone would have joined them
    story = _story_of([first])
    blind = GroupingConfig(w_place_clash=0.0, w_place=0.0)
    at = second.published or DAY0
    match = score_story(article_features(second, Extraction(), at), story, blind)
    assert match is not None and match.score >= blind.threshold


def test_two_earthquakes_far_apart_in_one_country_stay_apart() -> None:
    """Weeks apart and a thousand kilometres apart, in one country: two earthquakes."""
    first = article(
        "island-quake",
        "Strong earthquake hits Indonesia's Lombok island",
        "A magnitude 6.9 earthquake struck the Indonesian island of Lombok on Sunday evening, "
        "killing at least 90 people and damaging thousands of houses, the national disaster "
        "agency said. Tremors were felt on neighbouring Bali, where tourists fled hotels in "
        "Denpasar.",
        0,
    )
    update = article(
        "island-quake-2",
        "Lombok quake toll rises as aid arrives",
        "The death toll from the earthquake on Lombok rose to 131 on Tuesday, Indonesia's "
        "disaster agency said, as aid began reaching villages in the north of the island "
        "where landslides had cut roads near Mataram.",
        2,
    )
    other = article(
        "other-quake",
        "Earthquake and tsunami strike Indonesia's Sulawesi",
        "A magnitude 7.5 earthquake struck central Sulawesi on Friday, sending a tsunami into "
        "the city of Palu and killing at least 384 people, Indonesia's disaster agency said. "
        "Waves up to six metres high swept away houses along the bay.",
        30,
    )
    assigned = run([first, update, other])
    assert assigned[update.id] == assigned[first.id]
    assert assigned[other.id] == other.id
