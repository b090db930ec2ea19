"""The one gazetteer: speaker identity and story grouping read the same place table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.domain import gazetteer as g
from bot.domain.places import country_in, country_of_word, is_place_name
from bot.stories import places as story_places


def test_country_layer_has_spellings_capitals_and_derived_demonyms() -> None:
    layer = g.countries()
    assert layer.names["kenya"] == "KE"
    assert layer.names["russian federation"] == "RU"  # pycountry's spelling
    assert layer.capitals["nairobi"] == "KE"
    assert layer.demonyms["kenyan"].country == "KE"
    assert layer.demonyms["nigerian"].country == "NG"  # not Niger's
    assert layer.demonyms["japanese"].country == "JP"
    assert not any("," in name or "(" in name for name in layer.names)


def test_full_table_reads_a_name_as_every_place_it_can_be_broadest_first() -> None:
    georgia = g.places_named("georgia")
    assert georgia[0] == g.Place("GE", "GE", g.COUNTRY, 10**9)
    assert any(p.rank == g.REGION and p.key == "US/georgia" for p in georgia)
    mombasa = g.places_named("mombasa")  # a Kenyan county and its city
    assert [p.rank for p in mombasa][:2] == [g.REGION, g.CITY]
    assert {p.country for p in mombasa} == {"KE"}
    assert g.places_named("no such place anywhere") == ()


def test_every_country_spelling_reads_as_that_country_in_the_full_table() -> None:
    layer = g.countries()
    for name, code in layer.names.items():
        assert any(p.rank == g.COUNTRY and p.country == code for p in g.places_named(name)), name


def test_distance_between_cities_from_their_coordinates() -> None:
    km = g.distance_km("FR/paris", "GB/london")
    assert km is not None and km == pytest.approx(344, abs=15)
    assert g.distance_km("FR/paris", "FR/paris") == 0.0
    assert g.distance_km("FR", "GB/london") is None  # a country has no one location


def test_fold_is_the_one_lookup_key() -> None:
    assert g.fold("Bogotá") == "bogota"
    assert g.fold("St.  Louis") == "st louis"
    assert g.fold("Côte d’Ivoire") == "cote d'ivoire"


def test_us_states_are_read_from_the_subdivisions() -> None:
    states = g.regions_of("US")
    assert {"vermont", "new mexico", "district of columbia"} <= states
    assert "queensland" not in states


def test_speaker_places_read_the_shared_table() -> None:
    assert country_of_word("Kenyan") == "KE"
    assert country_of_word("Philippine") == "PH"  # read from "Philippines", not listed
    assert country_of_word("Netherlands") == "NL"  # pycountry's spelling of the country
    assert country_of_word("Bogotá") == country_of_word("Bogota") == "CO"
    assert country_in("a spokesperson for the Kenyan Red Cross") == "KE"
    assert country_in("the Sao Tome and Principe government") == "ST"
    assert is_place_name("Vermont")
    assert is_place_name("the Netherlands")
    assert not is_place_name("Queensland")  # a region, but not a U.S. state
    assert not is_place_name("Margaret Okafor")


def test_story_places_read_the_shared_table() -> None:
    assert story_places.gazetteer() is g.gazetteer().readings
    found = story_places.place_mentions(
        "Floods hit Kenya", "Rescuers in Mombasa said Kenyan roads were cut."
    )
    assert list(found.countries) == ["KE"]
    assert "KE/mombasa" in found.places


def test_speaker_identity_does_not_load_the_cities() -> None:
    """The country layer is all speaker identity needs: it must not pay for the cities."""
    code = (
        "from bot.domain.places import country_in, is_place_name\n"
        "from bot.domain import gazetteer\n"
        "assert country_in('the Kenyan police') == 'KE' and is_place_name('Ohio')\n"
        "print(gazetteer.gazetteer.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
