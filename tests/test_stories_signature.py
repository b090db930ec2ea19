"""The event signature: what happened, where, and the event's name (sentences of our own)."""

from __future__ import annotations

import pytest

from bot.domain.stories import EventSignature
from bot.stories.places import fold, gazetteer, place_mentions, readings
from bot.stories.signature import (
    article_signature,
    compare,
    is_lasting,
    main_kind,
    merge_signature,
    reports_no_event,
)

# ---------------------------------------------------------------- what happened


@pytest.mark.parametrize(
    ("title", "text", "family"),
    [
        ("Strong tremor shakes the coast", "The quake toppled walls in three towns.", "quake"),
        ("Typhoon batters the islands", "Floodwaters cut the main road north.", "weather"),
        ("Landslides bury a village", "Days of monsoon rain loosened the hillside.", "weather"),
        ("Wildfire forces thousands to flee", "The bushfire jumped the river overnight.", "fire"),
        ("Airliner goes down after takeoff", "The plane crashed in a field.", "air_crash"),
        ("Ferry capsizes in a storm", "The ferry sank within minutes of leaving port.", "sinking"),
        ("Gunman opens fire at a concert", "The shooting lasted ten minutes.", "attack"),
        ("Air strikes hit a market town", "Shelling went on through the night.", "strike"),
        ("Blaze guts garment factory", "Firefighters fought the fire for six hours.", "fire"),
        ("Bus plunges into gorge", "The bus veered off the mountain road at night.", "road_crash"),
        ("Stampede at festival", "A crowd crush near the gate killed pilgrims.", "crowd"),
        ("Avalanche hits ski resort", "The avalanche buried a chalet.", "weather"),
        ("Cholera spreads in camps", "Health workers fight the outbreak.", "outbreak"),
        ("Drought pushes millions to hunger", "The rains failed for a third season.", "drought"),
    ],
)
def test_event_kinds(title: str, text: str, family: str) -> None:
    assert main_kind(article_signature(title, text)) == family


def test_a_gunman_opening_fire_in_a_building_is_not_a_fire() -> None:
    sig = article_signature("Shooting", "A gunman opened fire in an office building on Monday.")
    assert sig.kinds == {"attack": 1.0}


def test_a_kind_needing_context_counts_only_with_it() -> None:
    """A plane that lands safely is not an air crash; a ship that docks did not sink."""
    sig = article_signature("Budget talks", "The plane landed on time. The ship docked at noon.")
    assert sig.kinds == {}
    assert not is_lasting(sig)


def test_one_off_disasters_last_and_strikes_do_not() -> None:
    assert is_lasting(article_signature("Earthquake", "An earthquake struck at dawn."))
    assert not is_lasting(article_signature("Strike", "An air strike hit the depot."))
    assert not is_lasting(EventSignature())


# ---------------------------------------------------------------- where


def test_gazetteer_resolves_countries_regions_cities_and_demonyms() -> None:
    table = gazetteer()
    assert table["peru"][0].key == "PE"
    assert table["nepalese"][0].country == "NP"
    assert table["chilean"][0].country == "CL"
    assert table["cusco"][0].country == "PE"
    assert table["gujarat"][0].country == "IN"
    assert table["kathmandu"][0].country == "NP"


def test_common_words_are_not_read_as_places() -> None:
    """Cities named after words ("Nice", "Mobile") and direction words are read as words;
    countries always count, and so do rarer city names."""
    assert gazetteer()["nice"]  # the gazetteer has the city …
    assert readings("nice") == ()  # … but running text means the word
    assert readings("central") == ()
    assert readings("chad")[0].key == "TD"
    assert readings("pokhara")[0].country == "NP"


def test_places_resolve_to_countries_and_finer_places() -> None:
    found = place_mentions(
        "Quake shakes Nepal",
        "Buildings fell in Kathmandu and in Pokhara. Nepalese soldiers dug through rubble.",
    )
    assert set(found.countries) == {"NP"}
    assert {"NP/kathmandu", "NP/pokhara"} <= set(found.places)


def test_ambiguous_place_goes_to_the_country_the_text_supports() -> None:
    """A state that shares its name with a country is read by the rest of the text."""
    found = place_mentions("Storm nears", "The storm moved from Alabama into Georgia on Tuesday.")
    assert found.countries == {"US": 1.0}
    abroad = place_mentions("Talks", "Armenia and Georgia signed a border accord.")
    assert set(abroad.countries) == {"AM", "GE"}


def test_persons_and_organisations_named_after_places_are_not_places() -> None:
    """ "Lenin Moreno" is a person, "UN" an organisation, "Nice" at a sentence start a word."""
    found = place_mentions(
        "Visit", "President Lenin Moreno met the UN envoy. Nice weather greeted them."
    )
    assert found.places == {}


def test_role_words_split_a_place_from_a_name() -> None:
    found = place_mentions("Floods", "Queensland Premier Anna Bligh toured the flooded towns.")
    assert "AU" in found.countries


def test_fold_strips_case_diacritics_and_dots() -> None:
    assert fold("Manabí") == "manabi"
    assert fold("  Port-au-Prince ") == "port-au-prince"


# ---------------------------------------------------------------- the event's name


def test_storm_flight_and_airline_names() -> None:
    sig = article_signature(
        "Typhoon Koinu nears",
        "Typhoon Koinu brought gusts of 200 km/h. Flight 714 of Andes Airlines was cancelled.",
    )
    assert set(sig.names) == {"storm:koinu", "flight:714", "airline:andes"}


def test_airline_named_by_its_country_in_either_form() -> None:
    one = article_signature("x", "A Nepalese Airlines plane crashed near the runway.")
    other = article_signature("x", "Nepal Airlines said the crew had reported no fault.")
    assert set(one.names) == set(other.names) == {"airline:NP"}


def test_organisations_and_common_words_after_a_storm_keyword_are_not_names() -> None:
    sig = article_signature(
        "Hurricane Relief Efforts Grow",
        "The National Hurricane Center warned of surge. Relief flights resumed. "
        "The Hurricane Season began early.",
    )
    assert sig.names == {}


def test_a_headline_verb_is_not_a_storm_name() -> None:
    """Title case capitalises verbs ("Cyclone Hits"); the text must name the storm so too."""
    sig = article_signature("Cyclone Hits Coast", "A cyclone hit the coast on Monday.")
    assert sig.names == {}
    named = article_signature("Cyclone Freddy Hits Coast", "Cyclone Freddy hit the coast.")
    assert set(named.names) == {"storm:freddy"}


# ---------------------------------------------------------------- comparing


def _sig(**kw: dict[str, float]) -> EventSignature:
    return EventSignature(**kw)


def test_same_event_agrees_on_every_part() -> None:
    story = _sig(kinds={"weather": 1.0}, countries={"PH": 1.0}, names={"storm:koinu": 1.0})
    match = compare(story, story)
    assert (match.kind, match.place, match.name) == (1.0, 1.0, 1.0)
    assert match.identifies
    assert match.names == ("storm:koinu",)


def test_other_kind_other_country_other_storm_clash() -> None:
    story = _sig(kinds={"weather": 1.0}, countries={"PH": 1.0}, names={"storm:koinu": 1.0})
    article = _sig(kinds={"quake": 1.0}, countries={"CL": 1.0}, names={"storm:lola": 1.0})
    match = compare(article, story)
    assert (match.kind, match.place, match.name) == (-1.0, -1.0, -1.0)
    assert not match.identifies


def test_names_of_other_categories_do_not_clash() -> None:
    """A storm's name and an airline's are not two names of one thing."""
    match = compare(_sig(names={"airline:NP": 1.0}), _sig(names={"storm:koinu": 1.0}))
    assert match.name == 0.0


def test_silence_is_neither_agreement_nor_clash() -> None:
    match = compare(EventSignature(), _sig(kinds={"quake": 1.0}, countries={"NP": 1.0}))
    assert (match.kind, match.place, match.name) == (0.0, 0.0, 0.0)


def test_finer_places_bear_out_the_country_or_not() -> None:
    """Same town or a neighbouring one: full credit. Towns far apart in one country (two
    earthquakes in one archipelago): a mild clash. A province against a town: half."""
    story = _sig(countries={"ID": 1.0}, places={"ID/mataram": 1.0})
    same = compare(_sig(countries={"ID": 1.0}, places={"ID/mataram": 1.0}), story)
    near = compare(_sig(countries={"ID": 1.0}, places={"ID/denpasar": 1.0}), story)
    far = compare(_sig(countries={"ID": 1.0}, places={"ID/palu": 1.0}), story)
    province = compare(_sig(countries={"ID": 1.0}, places={"ID/central sulawesi": 1.0}), story)
    assert (same.place, near.place, far.place, province.place) == (1.0, 1.0, -0.25, 0.5)


def test_story_signature_follows_its_articles_and_stays_bounded() -> None:
    first = _sig(kinds={"quake": 1.0}, countries={"NP": 1.0})
    merged = merge_signature(first, _sig(countries={"NP": 0.5, "IN": 0.5}), 1)
    assert merged.kinds == {"quake": 1.0}  # the article said nothing about the kind
    assert merged.countries["NP"] > merged.countries["IN"] > 0
    many = first
    for i in range(40):
        many = merge_signature(many, _sig(names={f"flight:{i}": 1.0}), i + 1)
    assert len(many.names) <= 12


def test_index_keys_leave_out_passing_mentions() -> None:
    sig = _sig(
        kinds={"quake": 0.9, "weather": 0.1},
        countries={"NP": 0.85, "IN": 0.15},
        names={"storm:koinu": 1.0},
    )
    assert sig.index_keys() == ("country:NP", "kind:quake", "name:storm:koinu")


# ---------------------------------------------------------------- imagined or past events


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Guard units rehearse flood response",
            "Soldiers and county crews spent Tuesday on a flood exercise along the river, "
            "practising sandbagging and evacuations.",
        ),
        (
            "Schools hold earthquake drill",
            "Thousands of pupils took part in a national earthquake drill on Friday morning.",
        ),
        (
            "Town marks fifth anniversary of the landslide",
            "Residents laid flowers on Sunday where the landslide buried forty homes.",
        ),
        (
            "Survivors look back",
            "Two years after the typhoon flattened the coastal villages, many families still "
            "live in temporary shelters.",
        ),
        (
            "Village remembers flood victims",
            "Church bells rang on Saturday for the people who died when the river burst.",
        ),
    ],
)
def test_drills_and_anniversaries_report_no_event(title: str, text: str) -> None:
    assert reports_no_event(title, text)
    assert article_signature(title, text).kinds == {}


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Aid reaches quake zone",
            "Two months after the earthquake struck the valley, the first aid convoys reached "
            "the highest villages on Monday.",
        ),
        (
            "Floods return",
            "Heavy rain flooded the same districts on Monday, weeks after the last floods "
            "receded, officials said.",
        ),
    ],
)
def test_weeks_and_months_after_are_follow_ups(title: str, text: str) -> None:
    assert not reports_no_event(title, text)
    assert article_signature(title, text).kinds


def test_other_airlines_do_not_clash_but_other_flights_do() -> None:
    """A report on grounded fleets names other airlines; another flight is another crash."""
    story = _sig(names={"airline:NP": 0.5, "flight:714": 0.5})
    assert compare(_sig(names={"airline:delta": 1.0}), story).name == 0.0
    assert compare(_sig(names={"flight:88": 1.0}), story).name == -1.0
