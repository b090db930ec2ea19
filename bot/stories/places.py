"""Where a report is about: the place names it mentions, resolved to countries.

A story is anchored in a place, and its reports name that place in many ways: the
country ("Ecuador"), its people ("Ecuadorian officials"), a province ("Manabi"), a
city ("Pedernales"). Resolving each to its country makes a fact sheet that lists
provinces and a wire story that names the capital agree, with no hand-kept list.

The names and their places come from the one gazetteer, ``bot.domain.gazetteer``
(countries with demonyms, ISO 3166-2 subdivisions, cities with coordinates); this module
only decides which capitalised words in running text are meant as places.

Names are ambiguous ("Georgia", "Puebla", "Florida"); a mention is resolved to the
reading whose country the rest of the text supports most, then to the broader place
(country over region over city), then to the more populous one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from wordfreq import zipf_frequency

from bot.domain import gazetteer as _shared
from bot.domain.gazetteer import CITY, COUNTRY, REGION, Place, distance_km, fold
from bot.domain.speaker_words import words as word_set

__all__ = [
    "CITY",
    "COUNTRY",
    "REGION",
    "Place",
    "PlaceMentions",
    "distance_km",
    "fold",
    "gazetteer",
    "place_mentions",
    "readings",
]

COMMON_WORD_ZIPF = 5.0
"""A one-word region name this common in English is read as the word ("Central"),
not the place. Countries are always places."""
COMMON_CITY_ZIPF = 4.6
"""The same for cities, stricter: there are tens of thousands of them, and many are
named after words ("Nice", "Mobile", "Republic", "Asia")."""


_NOT_PLACES = word_set(
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

_PLACE_TYPE_WORDS = word_set(
    "state province region district county department city town municipality"
)
"""Words that follow a place name without changing it ("Sofala Province")."""
_NAME_BREAKERS = word_set(
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
class PlaceMentions:
    """The places a text names, as shares of all its resolved place mentions."""

    countries: dict[str, float]
    places: dict[str, float]
    """Regions and cities only ("MX/puebla"): countries are in ``countries``."""


def gazetteer() -> dict[str, tuple[Place, ...]]:
    """Folded name → its readings, broadest and most populous first (the shared table)."""
    return _shared.gazetteer().readings


@lru_cache(maxsize=WORD_CACHE_SIZE)
def readings(name: str) -> tuple[Place, ...]:
    """The gazetteer's readings of a folded name that can be meant in running text.

    A one-word region or city name that is a common English word is read as the word
    ("Central", "Nice"): those readings are dropped here, on lookup, so that building
    the gazetteer does not look up tens of thousands of city names in a word list.
    """
    found = _shared.places_named(name)
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
    return PlaceMentions(shares(countries), shares(places))


def _is_title_case(line: str) -> bool:
    words = [w for w in _TOKEN.findall(line) if len(w) > 3]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) >= 0.6


def shares(counts: Mapping[str, float], limit: int | None = None) -> dict[str, float]:
    """Each key's share of the total, largest first (ties by key), the first ``limit``."""
    total = sum(counts.values())
    if total <= 0:
        return {}
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return {k: round(v / total, 4) for k, v in ranked}
