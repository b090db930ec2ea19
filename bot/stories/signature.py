"""The event signature of an article: what happened, where, and under which name.

Reports of one disaster are written in very different registers — a wire story, a
fact sheet with a "numbers at a glance" box, a military press release, an
easy-English rewrite — and over weeks their words drift from rescue to aid to
rebuilding. What stays put is the event itself: *an earthquake* (what) *in Ecuador*
(where), *Hurricane Harvey* (its name). This module reads those three from an
article; ``compare`` says how far an article's signature agrees with a story's.

What happened is an ordered table of event kinds (``KINDS``), each a small rule:
trigger words, and for kinds a single word cannot tell ("plane" … "crashed"), a
second pattern the same sentence must contain. Kinds fall into families that
describe one event together (a hurricane floods; a cyclone's floods and landslides).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from wordfreq import zipf_frequency

from bot.domain.gazetteer import COUNTRY, distance_km, fold
from bot.domain.stories import EventSignature
from bot.stories.places import TITLE_WEIGHT, place_mentions, readings, shares

MAX_COUNTRIES = 12
MAX_PLACES = 24
MAX_NAMES = 12
"""A story's signature keeps at most this many entries each (profiles stay bounded)."""
MEMORY = 10
"""A story's signature is a running mean over at most this many articles, then an
exponential moving average (like its terms): it follows the story as it moves."""


@dataclass(frozen=True, slots=True)
class EventKind:
    """One rule of the event-type lexicon."""

    family: str
    """Kinds of one family describe one event together ("hurricane", "flood")."""
    trigger: re.Pattern[str]
    context: re.Pattern[str] | None = None
    """When set, the trigger counts only in a sentence that also matches this."""


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


KINDS: tuple[EventKind, ...] = (
    EventKind("quake", _words(r"(?:earth)?quakes?|tremors?|temblors?|aftershocks?|tsunamis?")),
    EventKind(
        "weather",
        _words(
            r"hurricanes?|(?:tropical\s+)?cyclones?|typhoons?|tropical\s+(?:storm|depression)s?"
            r"|storm\s+surges?|(?:super)?storms?|tornado(?:e?s)?|blizzards?"
            r"|floods?|flooding|floodwaters?|flash\s+floods?|landslides?|mudslides?|monsoon"
            r"|avalanches?|heat\s*waves?"
        ),
    ),
    EventKind("fire", _words(r"wildfires?|bushfires?|forest\s+fires?|brush\s+fires?")),
    EventKind(
        "fire",
        re.compile(r"(?<!opened )(?<!open )\b(?:fires?|blazes?|infernos?)\b", re.IGNORECASE),
        _words(
            r"buildings?|factory|factories|apartments?|hotels?|markets?|towers?|hospitals?"
            r"|nightclubs?|warehouses?|high-rises?|gutted|engulfed|firefighters?"
        ),
    ),
    EventKind("volcano", _words(r"volcano(?:e?s)?|volcanic|eruptions?|erupted")),
    EventKind(
        "air_crash",
        _words(r"planes?|airplanes?|airliners?|jets?|jetliners?|aircraft|helicopters?|flights?"),
        _words(r"crash(?:es|ed|ing)?|went\s+down|plunged"),
    ),
    EventKind(
        "sinking",
        _words(r"ferry|ferries|boats?|ships?|vessels?"),
        _words(r"sank|sink(?:s|ing)?|sunk|capsiz(?:ed|es|ing)|overturned"),
    ),
    EventKind(
        "rail_crash",
        _words(r"trains?"),
        _words(r"derail(?:ed|ment|s)?|crash(?:es|ed)?|collid(?:ed|es)|collision"),
    ),
    EventKind(
        "road_crash",
        _words(r"bus|buses|coach|minibus(?:es)?|trucks?|lorry|lorries|tanker"),
        _words(r"crash(?:es|ed)?|collid(?:ed|es)|collision|plunged|overturned|veered"),
    ),
    EventKind("crowd", _words(r"stampedes?|crowd\s+crush(?:es)?|crush\s+of\s+people")),
    EventKind("drought", _words(r"droughts?|famine")),
    EventKind(
        "outbreak",
        _words(r"outbreaks?|epidemics?|cholera|ebola|measles|dengue|diphtheria|meningitis"),
    ),
    EventKind(
        "attack",
        _words(
            r"(?:mass\s+)?shootings?|gunm[ae]n|shooters?|opened\s+fire|stabbings?"
            r"|bombings?|suicide\s+bomb(?:er|ers|ing)?|car\s+bombs?|terror(?:ist)?\s+attacks?"
        ),
    ),
    EventKind(
        "strike",
        _words(r"air\s*strikes?|drone\s+strikes?|missile\s+strikes?|shelling|bombardments?"),
    ),
)
"""The event-type lexicon, in order; one article may match several rows."""

LASTING = frozenset(
    {
        "quake",
        "weather",
        "fire",
        "volcano",
        "air_crash",
        "sinking",
        "rail_crash",
        "crowd",
        "drought",
        "outbreak",
    }
)
"""Families of one-off events that are reported for weeks (rescue, aid, inquiry) and do
not recur in the same place within that time. Attacks and air strikes are left out:
in a conflict the same place sees another strike days later, and only words and
figures can tell those incidents apart; so are road crashes, which recur on the same
roads and are rarely reported past a few days."""

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")

_IMAGINED = _words(r"exercises?|drills?|simulat(?:ed|ion|ions|es)|scenarios?|hypothetical|mock")
"""A drill or exercise: the disaster it describes did not happen."""
_LOOKS_BACK = re.compile(
    r"\b(?:\d+|one|a|two|three|four|five|six|seven|eight|nine|ten|\w+teen|twenty|thirty)"
    r"(?:th)?\s+(?:years?|decades?)\s+(?:ago|after|since|on|later)\b"
    r"|\banniversary\b|\bcommemorat\w+"
    r"|\bremember(?:s|ed|ing)?\s+(?:the\s+)?(?:\d+\s+)?(?:\w+\s+)?(?:victims|dead)\b",
    re.IGNORECASE,
)
"""A piece that looks back years ("one year after the cyclone", "15th anniversary"):
it recalls an event, it does not report one. Weeks and months after are follow-ups."""
_LEAD_MIN_WORDS = 6

_STORM_NAME = re.compile(
    r"(?<![\w.])(?P<before>(?!(?:Super|Severe|Tropical)\b)[A-Z][\w'’]*\s+)?"
    r"(?:(?:Super|Severe)\s+)?(?:Tropical\s+)?(?:Hurricane|Cyclone|Typhoon|Storm|Depression)"
    r"\s+(?P<name>[A-Z][a-z]{2,})\b"
)
_FLIGHT = re.compile(
    r"\b[Ff]light\s+(?:[Nn]umber\s+|[Nn]o\.?\s*)?(?:[A-Z]{2}\s?|[A-Z]\d\s?)?(?P<number>\d{1,4})\b"
)
_AIRLINE = re.compile(r"\b(?P<name>(?:[A-Z][\w'’]+\s+){1,2})(?:Airlines|Airways|Air\s+Lines)\b")
_STORM_NAME_MAX_ZIPF = 5.3
"""A capitalised word after "Hurricane" this common is not a name ("Season", "Watch")."""


def _kind_counts(text: str, weight: float) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for sentence in _SENTENCE.findall(text):
        for kind in KINDS:
            hits = len(kind.trigger.findall(sentence))
            if hits and (kind.context is None or kind.context.search(sentence)):
                counts[kind.family] += weight * hits
    return counts


def _storm_names(text: str, lowered: set[str]) -> Iterable[str]:
    """Names after a storm keyword ("Hurricane Harvey", "Tropical Cyclone Idai").

    Skipped: the keyword inside an organisation's name ("National Hurricane Center":
    a capitalised word before it), and a word the article also uses in lower case or
    that is very common: a title-case headline capitalises everything ("Hurricane
    Relief Efforts" over a text about relief supplies; "Hurricane Season").
    """
    for m in _STORM_NAME.finditer(text):
        before = (m.group("before") or "").strip()
        if before and before.lower() not in {"the", "a", "as", "after", "by", "of"}:
            continue
        name = m.group("name")
        low = name.lower()
        if low in lowered or zipf_frequency(low, "en") >= _STORM_NAME_MAX_ZIPF:
            continue
        yield f"storm:{low}"


def _event_names(title: str, text: str) -> Counter[str]:
    """Names of the event: storms, flight numbers, airlines."""
    names: Counter[str] = Counter()
    lowered = set(re.findall(r"\b[a-z]+\b", f"{title}\n{text}"))
    in_text = Counter(_storm_names(text, lowered))
    names.update(in_text)
    # A headline capitalises verbs too ("Cyclone Hits Mozambique"): a name read there
    # counts only if the text names the storm so as well.
    names.update(n for n in _storm_names(title, lowered) if n in in_text)
    for source in (title, text):
        names.update(f"flight:{m.group('number')}" for m in _FLIGHT.finditer(source))
        names.update(_airline(m.group("name")) for m in _AIRLINE.finditer(source))
    return names


def _airline(name: str) -> str:
    """An airline by its country when its name is one ("Ethiopian"/"Ethiopia Airlines")."""
    folded = fold(name)
    found = readings(folded)
    if found and found[0].rank == COUNTRY:
        return f"airline:{found[0].country}"
    return f"airline:{folded}"


def _lead(text: str) -> str:
    """The first sentence of prose (datelines, headings and list lines skipped)."""
    for sentence in _SENTENCE.findall(text):
        if len(sentence.split()) >= _LEAD_MIN_WORDS:
            return str(sentence)
    return ""


def reports_no_event(title: str, text: str) -> bool:
    """True when the headline or lead frames the disaster as imagined or long past.

    A drill's earthquake and an anniversary's cyclone are not events in progress:
    such a piece gets no event kind, so it neither keeps a disaster's story open for
    weeks nor joins one beyond the short window, and no later report of a real
    disaster takes it for the same event.
    """
    frame = (title, _lead(text))
    return any(rule.search(part) for part in frame for rule in (_IMAGINED, _LOOKS_BACK))


def article_signature(title: str, text: str) -> EventSignature:
    """What, where and which named event the article reports."""
    kinds: dict[str, float] = {}
    if not reports_no_event(title, text):
        kinds = _kind_counts(title, TITLE_WEIGHT)
        for family, count in _kind_counts(text, 1.0).items():
            kinds[family] = kinds.get(family, 0.0) + count
    places = place_mentions(title, text)
    return EventSignature(
        kinds=shares(kinds, len(KINDS)),
        countries=dict(list(places.countries.items())[:MAX_COUNTRIES]),
        places=dict(list(places.places.items())[:MAX_PLACES]),
        names=shares(_event_names(title, text), MAX_NAMES),
    )


def _blend(old: dict[str, float], new: dict[str, float], n: int, limit: int) -> dict[str, float]:
    if not new:
        return dict(old)
    if not old:
        return dict(new)
    merged = {k: v * n for k, v in old.items()}
    for k, v in new.items():
        merged[k] = merged.get(k, 0.0) + v
    return shares(merged, limit)


def merge_signature(story: EventSignature, article: EventSignature, n: int) -> EventSignature:
    """The story's signature after it takes in an article (``n``: articles it had)."""
    weight = max(1, min(n, MEMORY))
    return EventSignature(
        kinds=_blend(story.kinds, article.kinds, weight, len(KINDS)),
        countries=_blend(story.countries, article.countries, weight, MAX_COUNTRIES),
        places=_blend(story.places, article.places, weight, MAX_PLACES),
        names=_blend(story.names, article.names, weight, MAX_NAMES),
    )


def main_kind(signature: EventSignature) -> str | None:
    """The family most mentioned, if any."""
    if not signature.kinds:
        return None
    return max(signature.kinds.items(), key=lambda kv: (kv[1], kv[0]))[0]


def is_lasting(signature: EventSignature) -> bool:
    """True for a one-off disaster, reported for weeks (see ``LASTING``)."""
    return main_kind(signature) in LASTING


@dataclass(frozen=True, slots=True)
class SignatureMatch:
    """How an article's signature compares with a story's; each part in [-1, 1].

    Positive: agreement (share of mentions in common). Negative: both say and they
    disagree — another kind of event, another country, another storm. Zero: one of
    the two does not say.
    """

    kind: float = 0.0
    place: float = 0.0
    name: float = 0.0
    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def identifies(self) -> bool:
        """Same named event, or the same kind of event in the same country."""
        return self.name > 0 or (self.kind > 0 and self.place > 0)


def _overlap(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[float, tuple[str, ...]]:
    shared = sorted(a.keys() & b.keys(), key=lambda k: (-min(a[k], b[k]), k))
    return sum(min(a[k], b[k]) for k in shared), tuple(shared)


KIND_CLASH_BELOW = 0.2
"""Kinds agreeing less than this (share in common) are two kinds of event."""


def _kind_part(a: EventSignature, s: EventSignature) -> tuple[float, tuple[str, ...]]:
    if not a.kinds or not s.kinds:
        return 0.0, ()
    common, shared = _overlap(a.kinds, s.kinds)
    if common < KIND_CLASH_BELOW:
        return -1.0, shared
    return common, shared


NEAR_KM = 250.0
"""Cities this close are one area: a wire names the town, a fact sheet its neighbour."""
FAR_APART = -0.25
"""Place agreement of reports whose cities are all far apart in one country: a mild
clash (a nationwide flood names towns all over, so the story's places soon include a
near one)."""


def _nearest_km(a: Mapping[str, float], b: Mapping[str, float]) -> float | None:
    """Smallest distance between a city of ``a`` and one of ``b`` (None: no two cities)."""
    found = [d for x in a for y in b if (d := distance_km(x, y)) is not None]
    return min(found) if found else None


def _fine_credit(a: EventSignature, s: EventSignature) -> tuple[float, tuple[str, ...]]:
    """How far the finer places bear out the country: 1 (same or nearby places, or
    one of the two names none), 0.5 (places that cannot be compared: a province and a
    city), ``FAR_APART`` (cities far apart: two quakes in one country, hundreds of km
    apart — a mild clash)."""
    if not a.places or not s.places:
        return 1.0, ()
    fine, places = _overlap(a.places, s.places)
    if fine > 0.0:
        return 1.0, places
    nearest = _nearest_km(a.places, s.places)
    if nearest is None:
        return 0.5, ()
    return (1.0 if nearest <= NEAR_KM else FAR_APART), ()


def _place_part(
    a: EventSignature, s: EventSignature
) -> tuple[float, tuple[str, ...], tuple[str, ...]]:
    """Countries in common, borne out (or not) by the finer places (``_fine_credit``);
    -1 when both name places and share no country; below 0 when their cities are far
    apart."""
    if not a.countries or not s.countries:
        return 0.0, (), ()
    common, countries = _overlap(a.countries, s.countries)
    if common == 0.0:
        return -1.0, (), ()
    credit, places = _fine_credit(a, s)
    return min(1.0, common * credit), countries, places


IDENTIFYING_NAMES = frozenset({"storm", "flight"})
"""Name categories that identify one event: two storms, two flights are two events. An
airline is a party to a crash, not its name: a report on grounded fleets names other
airlines and is still about the crash."""


def _name_part(a: EventSignature, s: EventSignature) -> tuple[float, tuple[str, ...]]:
    """Shared event names agree; two storms' or two flights' names clash."""
    if not a.names or not s.names:
        return 0.0, ()
    _, shared = _overlap(a.names, s.names)
    if shared:
        return 1.0, shared
    a_cat = {n.split(":", 1)[0] for n in a.names} & IDENTIFYING_NAMES
    s_cat = {n.split(":", 1)[0] for n in s.names}
    return (-1.0 if a_cat & s_cat else 0.0), ()


def compare(article: EventSignature, story: EventSignature) -> SignatureMatch:
    """The article's signature against the story's (see ``SignatureMatch``)."""
    kind, kinds = _kind_part(article, story)
    place, countries, places = _place_part(article, story)
    name, names = _name_part(article, story)
    return SignatureMatch(kind, place, name, kinds, countries, places, names)
