"""Casualty-style figures in one sentence: what happened to how many of whom, and in what frame.

A number span (``numbers.find_numbers``) becomes a figure only when the sentence
links it to an impact metric through one of a few grammatical patterns:

1. *toll*: "the death toll has increased to 22", "the number of personnel killed … stands at 33";
2. *active verb before the number*: "the strike killed 33 soldiers", "police arrested 23";
   "claimed the lives of 12", "the deaths of 12 migrants", "left 12 people dead";
3. *state after the noun phrase*: "33 soldiers were killed", "39 injured", "34 solders dead",
   "nearly a million have been displaced", "three children were among the dead";
4. *coordination*: "…, up from 9" (an earlier value), "…, including 12 children".

The noun phrase after the number must be people (``lexicon.SUBJECT_GROUPS``) or absent;
a non-person head ("12 observation posts", "20 villages", "two days") rejects the number.
This precision-first design is deliberate: a false figure raises a false alert.

Framing (scope, temporal, update) is read from the figure's clause: a window bounded by
clause breaks (";", ", and", " but ", " while ") around the number.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import islice

from bot.domain.claims import Metric, Qualifier, Quantity, Scope, ScopeKind, Temporal
from bot.domain.places import country_in
from bot.extract.fastre import ascii_lower, trie_alternation
from bot.extract.lexicon import (
    ACTIVE_TRIGGERS,
    COMPOUND_HEADS,
    HOST_CONTEXT,
    KIND_TRIGGERS,
    LEAVE_STATES,
    LEAVE_VERBS,
    LIVES_VERBS,
    METRIC_NOUNS,
    MODIFIER_GROUPS,
    MONTHS,
    NON_PERSON_NOUNS,
    PERSON_ONLY_METRICS,
    PHRASE_TRIGGERS,
    STATE_TRIGGERS,
    SUBJECT_GROUPS,
    TOLL_METRICS,
    WEEKDAYS,
    words,
)
from bot.extract.numbers import NumberSpan, find_numbers

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*|\d[\d,.]*\d|\d|[^\sA-Za-z\d]")

# Words allowed between a noun phrase and its state trigger: "have now been", "were
# reportedly", "are feared", "remain", "who were".
_CHAIN = words(
    """
    have has had were was are is be been being remain remained remains reportedly now already
    also later still all both each seriously critically severely slightly badly fatally lightly
    gravely mortally reported confirmed believed thought said known presumed to who that so
    far initially previously subsequently eventually allegedly apparently officially may might
    could would will likely probably feared expected either among them were being listed
    declared counted left officially since then further yet again
    """
)
_FORECAST_CHAIN = frozenset(
    {
        "may",
        "might",
        "could",
        "would",
        "will",
        "likely",
        "feared",
        "expected",
        "presumed",
        "probably",
    }
)
_EARLIER_CHAIN = frozenset({"initially", "previously", "originally"})
_NEGATION = frozenset({"not", "never", "no", "none", "nobody", "n't"})
_FUNCTION = words(
    """
    in on at of and or the a an to from by with for since as so this that these those were was
    have has had are is be been being who which whom when where while but than then there their
    his her its our your my into onto over under after before during across around about near
    per each every more most less least other others' such than than via said says told
    """
)
_OBJECT_START = frozenset(
    {
        "the",
        "a",
        "an",
        "his",
        "her",
        "their",
        "its",
        "him",
        "them",
        "at",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "dozens",
        "hundreds",
        "scores",
        "thousands",
        "more",
        "least",
    }
)
_PERSONISH_SUFFIX = re.compile(
    r"(?:ers|ors|ists|ians|ans|ants|ents|ees|men|ren|ople|ites|ese|is|ers')$"
)

_TOLL_LEFT = re.compile(
    r"\b(?:(?:(?P<kind>death|casualty|fatality|injury)\s+)?(?:toll|tally)|death\s+count)"
    r"(?P<gap>(?:\s+[^\s.;:!?\"“”]+){0,10}?)\s+"
    r"(?P<link>to|at|of|was|is|were|are|stood|stands|reached|reaches|reach|hit|hits|topped|tops|"
    r"top|passed|passes|exceeded|exceeds|exceed|surpassed|surpasses|climbed|climbs|rose|rises|"
    r"jumped|increased|increases|risen|now)"
    r"(?:\s+(?:now|already|initially|previously|just|officially|only|about|to|at))*\s*$",
    re.IGNORECASE,
)
_NUMBER_OF_LEFT = re.compile(
    r"\bnumber\s+of\s+(?P<what>(?:[A-Za-z'’\-]+\s+){0,3}?)"
    r"(?P<trig>dead|deaths|killed|fatalities|injured|wounded|injuries|missing|displaced|"
    r"evacuated|arrested|detained|rescued|homeless|victims|casualties|people)"
    r"(?P<gap>(?:\s+[^\s.;:!?\"“”]+){0,8}?)\s+"
    r"(?P<link>to|at|of|was|is|were|are|stood|stands|reached|hit|topped|passed|exceeded|"
    r"climbed|rose|jumped|increased|risen)"
    r"(?:\s+(?:now|already|initially|previously|just|officially|about|to|at))*\s*$",
    re.IGNORECASE,
)
_HOST_LEFT = re.compile(rf"\b{HOST_CONTEXT}\s*$", re.IGNORECASE)
# Aid to people is a responder figure, not an impact: "helping to support 10,000
# people affected by the storm", "food aid fed 40,000 displaced people". ("reached" is
# not one: it is a toll's verb.)
_AID_VERBS = words(
    """
    support supports supported supporting assist assists assisted assisting help helps helped
    helping serve serves served serving feed feeds fed feeding
    target targets targeted targeting benefit benefiting benefitting aid aiding
    """
)
_AID_LEFT = re.compile(
    r"\b(?:" + "|".join(sorted(_AID_VERBS)) + r")\s+(?:(?:an?|the|some)\s+)?$", re.IGNORECASE
)
_LIVES_LEFT = re.compile(
    r"\b(?:claim(?:ed|ing|s)?|cost(?:ing|s)?|took|taken)\s+the\s+lives\s+of\s*$", re.IGNORECASE
)
_DEATHS_OF_LEFT = re.compile(
    r"\b(?:deaths?|killings?|killing|bodies|remains|murders?)\s+of\s*$", re.IGNORECASE
)
_UP_FROM_LEFT = re.compile(
    r"\b(?:up|down|rising|rose|risen|increased|increasing|climbed|jumped|revised(?:\s+\w+)?|"
    r"raised|lowered|compared\s+with|compared\s+to|higher\s+than)\s+from\s*$",
    re.IGNORECASE,
)
_INCLUDING_LEFT = re.compile(r"(?:\bincluding|\bamong\s+them|\bof\s+whom|\bof\s+them)\s*$", re.I)

_CLAUSE_BREAK = re.compile(
    r";|:\s|,\s+(?:and|but|while|whereas|although|though)\b|\s(?:but|while|whereas|although)\s"
    r"|\s—\s|\s–\s|\swhen\s",
    re.IGNORECASE,
)
_EARLIER_LEFT = re.compile(
    r"\b(?:initially|originally|previously|formerly|"
    r"earlier\s+(?:put|said|gave|reported|estimated|stated|counted)|had\s+earlier|"
    r"(?:an?|the)\s+(?:earlier|previous|initial|preliminary)\s+(?:death\s+)?(?:toll|total|figure|estimates?|count|"
    r"report|tally)|"
    r"earlier\s+(?:reports?|figures?|estimates?|tallies|counts?)\s+(?:had\s+)?"
    r"(?:put|said|gave|given|suggested|estimated|reported)|"
    r"had\s+(?:already\s+)?(?:reached|risen|climbed|stood|hit|been\s+put|put|given|estimated))\b",
    re.IGNORECASE,
)
_FORECAST_LEFT = re.compile(
    r"\b(?:(?:could|may|might|would|will)\s+(?:(?:well|soon|eventually|further|also)\s+)?"
    r"(?:rise|reach|climb|exceed|increase|top|hit|surpass|be|have|kill|leave|affect|displace)|"
    r"expected\s+to|feared|fears?\s+(?:that\s+)?|likely\s+to|projected|forecasts?|predicted|"
    r"predicts?|risk\s+of|at\s+risk|"
    # "It appears that we can register more than 1,000 deaths": a speaker's expectation.
    r"(?:appears?|seems?)\s+(?:that|likely)|"
    r"(?:can|could|may|might|will|would)\s+(?:well\s+)?(?:register|record|count|see|expect))\b",
    re.IGNORECASE,
)
_UPDATE_LEFT = re.compile(
    r"\b(?:rose|risen|rises|rising|increased|increases|climbed|climbs|jumped|jumps|surged|"
    r"soared|grew|raising|raised|bringing|brought|pushing|pushed|now\s+stands|now\s+stood|"
    r"updated|revised|later\s+confirmed|now\s+at|has\s+now\s+reached|"
    # "the death toll is now 300", "officials now say 40 died": the latest value
    r"(?:is|are|was|stands?)\s+now|now\s+(?:say|says|said|put|puts|report|reports|count|counts|"
    r"total|totals|number|numbers|confirm|confirms)|since\s+(?:confirmed|risen|climbed))\b",
    re.IGNORECASE,
)
# One pass for the three left-context markers (each alternative is a named group).
_MARKERS = re.compile(
    "(?P<earlier>"
    + _EARLIER_LEFT.pattern
    + ")|(?P<forecast>"
    + _FORECAST_LEFT.pattern
    + ")|(?P<update>"
    + _UPDATE_LEFT.pattern
    + ")",
    re.IGNORECASE,
)
_CUMULATIVE_HINT = re.compile(r"this|since|total|past|last")
_OTHER_EVENT_HINT = re.compile(
    r"\d\d\d\d|last|ago|previous|similar|separate|earlier|prior|every|each|annual|a year"
)
_OTHER_EVENT = re.compile(
    # "last year", "last October": a live report never dates its own event so.
    r"\blast\s+(?:year|month|decade|spring|summer|autumn|fall|winter|"
    + "|".join(MONTHS)
    + r")\b|\b(?:years?|decades?)\s+ago\b|"
    # Habitual figures are statistics, not this event: "kill hundreds every year".
    r"\b(?:every|each)\s+(?:year|month|week|winter|summer|season)\b|\bannually\b|"
    r"\b(?:a|per)\s+year\b|"
    r"\b(?:a|an|the)\s+(?:previous|similar|separate|earlier|prior)\s+(?:\w+\s+)?"
    r"(?:attack|quake|earthquake|storm|typhoon|flood|floods|disaster|crash|incident|fire|tsunami|"
    r"hurricane|cyclone|bombing|shooting|outbreak|eruption|landslide|sinking|accident)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\d,.\-/])(?:1[89]\d\d|20\d\d)(?!\d|[,\-/.]\d)")
_SINCE_YEAR_WHEN = re.compile(r"\bsince\s+(?:1[89]\d\d|20\d\d),?\s+when\s+", re.IGNORECASE)
_MONTHS_ALT = "|".join(MONTHS)
_CUMULATIVE = re.compile(
    rf"(?P<month>(?<!earlier\s)(?<!later\s)(?<!early\s)(?<!late\s)(?<!of\s)\b(?:so\s+far\s+)?"
    rf"this\s+(?P<period>month|year|week))\b"
    rf"|\bsince\s+(?:(?:early|late|mid|mid-)\s*|the\s+(?:start|beginning|end|middle)\s+of\s+)?"
    rf"(?P<since>{_MONTHS_ALT}|1[89]\d\d|20\d\d|last\s+(?:year|month|week)|"
    rf"the\s+(?:war|conflict|outbreak|pandemic|epidemic|crisis|uprising|fighting|year|invasion)"
    rf"(?:\s+(?:began|started|erupted|broke\s+out))?"
    rf"|the\s+(?:\w+\s+)?\w+\s+(?:began|started|erupted|broke\s+out))\b(?![\s,]*when\b)"
    rf"|\b(?P<total>in\s+total)\b"
    rf"|\b(?:in|over|during)\s+the\s+(?:past|last)\s+(?P<window>(?:\d+|two|three|four|five|six|"
    rf"seven|ten|24|48|72)\s+(?:hours|days|weeks|months))\b",
    re.IGNORECASE,
)
_SUPERLATIVE_BEFORE = re.compile(
    r"\b(?:worst|deadliest|largest|biggest|highest|most|first|strongest|heaviest)\b[^.;]{0,60}$",
    re.IGNORECASE,
)
_LOCAL_ALONE = re.compile(
    r"\b[Ii]n\s+(?:the\s+(?:\w+\s+)?(?:city|province|state|region|district|county|town|prefecture|"
    r"village|municipality|capital)\s+of\s+)?(?P<place>[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,2})"
    r"(?:\s+(?:province|state|region|district|county|city|prefecture|town|municipality))?"
    r"\s+alone\b"
)
_LOCAL_IN = re.compile(
    r"\s*(?:[\w'’\-]+\s+){0,3}?in\s+(?:the\s+(?:\w+\s+)?(?:city|province|state|region|district|"
    r"county|town|prefecture|village|municipality|capital)\s+of\s+)?"
    r"(?P<place>[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,2})"
)
_EVENT_MARKERS = re.compile(
    r"\b(?:on\s+(?:" + "|".join(WEEKDAYS) + r")|yesterday|today|overnight|in\s+the\s+(?:latest|"
    r"attack|strike|blast|quake|earthquake|crash|explosion|fire|storm|raid|bombing|shooting))\b",
    re.IGNORECASE,
)
_AMONG = re.compile(
    r"\s*(?:were|are|was|is)?\s*(?:also\s+)?among\s+(?:the\s+)?(?:those\s+)?"
    r"(?P<w>dead|killed|fatalities|injured|wounded|missing|hurt|victims\s+killed)\b",
    re.IGNORECASE,
)
# Participles that, followed by an object, are active verbs ("3 gunmen killed 12 people").
_TRANSITIVE = frozenset(
    {
        Metric.KILLED,
        Metric.INJURED,
        Metric.ARRESTED,
        Metric.RESCUED,
        Metric.EVACUATED,
        Metric.ABDUCTED,
        Metric.AFFECTED,
        Metric.DISPLACED,
    }
)
# All multi-word triggers in one regex; the matching group's index gives the metric.
_PHRASES = re.compile(
    "|".join(f"(?P<p{i}>{p})" for i, (p, _) in enumerate(PHRASE_TRIGGERS)), re.IGNORECASE
)
_PHRASE_METRICS = {f"p{i}": m for i, (_, m) in enumerate(PHRASE_TRIGGERS)}
_YEAR_PREPOSITIONS = frozenset(
    {
        "in",
        "since",
        "of",
        "from",
        "by",
        "until",
        "till",
        "during",
        "before",
        "after",
        "early",
        "late",
        "mid",
        "and",
        "to",
        "around",
    }
)


_EVENT_SCOPE = Scope()


@dataclass(frozen=True, slots=True)
class SentenceFigure:
    """A figure found in one sentence, before attribution (offsets are sentence-relative)."""

    metric: Metric
    quantity: Quantity
    subject: str
    subject_group: str
    start: int
    end: int
    scope: Scope = _EVENT_SCOPE
    temporal: Temporal = Temporal.CURRENT
    framed_as_update: bool = False


@dataclass(frozen=True, slots=True)
class _NP:
    subject: str
    group: str
    end: int
    """Position after the noun phrase (after the number if there is none)."""
    status: str
    """"person", "none", "unknown" (an unlisted noun), "reject"."""
    noun_metric: Metric | None = None


def _words_from(s: str, pos: int, limit: int = 12) -> list[tuple[str, int, int]]:
    return [(m[0], m.start(), m.end()) for m in islice(_WORD.finditer(s, pos), limit)]


_Tok = tuple[str, int, int]
_OF_DETERMINERS = frozenset({"the", "them", "those", "these", "whom", "which", "its", "their"})
_OF_PRONOUNS = frozenset({"them", "whom", "which"})
# Words that may sit between a number and the noun it counts without making it another
# thing: "493 confirmed deaths", "12 more deaths", "48 other people", "167 reported deaths".
_COUNT_ADJECTIVES = words("confirmed reported recorded official additional new further known other")


def _noun_phrase(sentence: str, pos: int) -> _NP:
    """The noun phrase after a number: whom it counts, or why it cannot count people."""
    toks = _words_from(sentence, pos, 10)
    i, pronoun = _skip_of(toks)
    if pronoun is not None:
        return pronoun
    mods: list[_Tok] = []
    while i < len(toks) and len(mods) <= 3:
        if not mods and toks[i][0].lower() in _COUNT_ADJECTIVES and _next_is_head(toks, i):
            i += 1
            continue
        found = _head_at(sentence, toks, i, mods) or _state_adjective(sentence, toks, i, mods)
        if found is not None:
            return found
        w, _, b = toks[i]
        lw = w.lower().replace("’", "'")
        if _ends_phrase(w, lw):
            break
        if lw in MONTHS or lw in WEEKDAYS:
            return _NP("", "", b, "reject")
        mods.append(toks[i])
        i += 1
    return _unlisted(sentence, mods, pos)


def _skip_of(toks: list[_Tok]) -> tuple[int, _NP | None]:
    """ "dozens of Turkish soldiers", "hundreds of them": where the noun phrase starts."""
    if len(toks) < 2 or toks[0][0].lower() != "of":
        return 0, None
    nxt = toks[1][0].lower()
    if nxt in _OF_PRONOUNS:
        return 2, _NP("", "", toks[1][2], "none")
    return (2 if nxt in _OF_DETERMINERS else 1), None


def _head_at(sentence: str, toks: list[_Tok], i: int, mods: list[_Tok]) -> _NP | None:
    """The phrase's head if token ``i`` is one (a metric noun, a person noun, "lives" …)."""
    w, _, b = toks[i]
    lw = w.lower().replace("’", "'")
    if lw in METRIC_NOUNS:
        return _NP("", "", b, "person", METRIC_NOUNS[lw])
    if lw in ("more", "others", "other") and not mods:
        # "12 more died", "14 others": the group carries over from the previous figure
        return _NP("", "", b, "none")
    if lw == "lives" and not mods:
        return _NP("", "", b, "lives")
    if lw in SUBJECT_GROUPS:
        return _person_head(sentence, toks, i, mods)
    if lw in COMPOUND_HEADS and mods:
        group = MODIFIER_GROUPS.get((mods[-1][0].lower(), lw), "")
        if group:
            return _NP(sentence[mods[0][1] : b], group, b, "person")
    if lw in NON_PERSON_NOUNS or lw.rstrip(".") in NON_PERSON_NOUNS:
        return _NP("", "", b, "reject")
    return None


def _state_adjective(sentence: str, toks: list[_Tok], i: int, mods: list[_Tok]) -> _NP | None:
    """ "150,000 displaced persons", "40 injured people": the state is the noun's adjective."""
    lw = toks[i][0].lower()
    if mods or lw not in STATE_TRIGGERS or i + 1 >= len(toks):
        return None
    if toks[i + 1][0].lower() not in SUBJECT_GROUPS:
        return None
    head = _person_head(sentence, toks, i + 1, [])
    return replace(head, noun_metric=STATE_TRIGGERS[lw])


def _next_is_head(toks: list[_Tok], i: int) -> bool:
    if i + 1 >= len(toks):
        return False
    nxt = toks[i + 1][0].lower()
    return nxt in METRIC_NOUNS or nxt in SUBJECT_GROUPS


def _person_head(sentence: str, toks: list[_Tok], i: int, mods: list[_Tok]) -> _NP:
    w, a, b = toks[i]
    lw = w.lower()
    group = SUBJECT_GROUPS[lw]
    if mods:
        group = MODIFIER_GROUPS.get((mods[-1][0].lower(), lw), group)
    # "police officers", "crew members": the last of consecutive person nouns heads
    while i + 1 < len(toks) and toks[i + 1][0].lower() in SUBJECT_GROUPS:
        nxt = toks[i + 1][0].lower()
        group = MODIFIER_GROUPS.get((lw, nxt), SUBJECT_GROUPS[nxt])
        i += 1
        lw, b = nxt, toks[i][2]
    end = b
    if i + 1 < len(toks) and toks[i + 1][0].lower() in COMPOUND_HEADS:
        group = MODIFIER_GROUPS.get((lw, toks[i + 1][0].lower()), group)
        end = toks[i + 1][2]
    start = mods[0][1] if mods else a
    return _NP(sentence[start:end], group, end, "person")


# Time words that may follow a toll's number: "rose to 88 overnight".
_TIME_ADVERBS = words("overnight yesterday today tonight meanwhile")


def _ends_phrase(w: str, lw: str) -> bool:
    return (
        lw in _TIME_ADVERBS
        or lw in STATE_TRIGGERS
        or lw in _CHAIN
        or lw in _FUNCTION
        or not w[0].isalpha()
        or lw in LEAVE_STATES
    )


def _unlisted(sentence: str, mods: list[_Tok], pos: int) -> _NP:
    """No listed head: a person-like unlisted noun ("12 pilgrims") or a thing."""
    if not mods:
        return _NP("", "", pos, "none")
    last = mods[-1][0]
    if len(mods) <= 3 and (_PERSONISH_SUFFIX.search(last.lower()) or last[0].isupper()):
        return _NP(sentence[mods[0][1] : mods[-1][2]], last.lower(), mods[-1][2], "unknown")
    return _NP("", "", mods[-1][2], "reject")


def _state_after(sentence: str, pos: int) -> tuple[Metric | None, int, set[str], bool]:
    """The state trigger after a noun phrase: (metric, end, chain words, used auxiliaries)."""
    toks = _words_from(sentence, pos, 10)
    chain: set[str] = set()
    i = 0
    while i < len(toks):
        w = toks[i][0].lower()
        if w in _NEGATION:
            return None, pos, chain, True
        at = toks[i][1]
        among = _AMONG.match(sentence, at) if w in ("among", "were", "are", "was", "is") else None
        if among is not None and "among" in among.group(0).lower():
            word = among.group("w").lower().split()[0]
            metric = STATE_TRIGGERS.get(word, METRIC_NOUNS.get(word))
            if word == "fatalities":
                metric = Metric.KILLED
            return metric, among.end(), chain, True
        pm = _PHRASES.match(sentence, at)
        if pm is not None and pm.lastgroup is not None:
            return _PHRASE_METRICS[pm.lastgroup], pm.end(), chain, bool(chain)
        if w in STATE_TRIGGERS:
            return STATE_TRIGGERS[w], toks[i][2], chain, bool(chain)
        if w in _CHAIN:
            chain.add(w)
            i += 1
            continue
        break
    return None, pos, chain, bool(chain)


def _clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause around ``[start, end)``: from the last break before it to the next after it.

    The sentence's breaks are found once (cached) and looked up by bisection: scanning
    the whole sentence again for each of its numbers made a 100 KB list of figures
    quadratic. Where the cached breaks could differ from a scan cut at ``start`` or
    begun at ``end`` (a break spanning either, or a word ending at ``start``), scan.
    """
    starts, ends = _clause_breaks(sentence)
    if (
        _within_break(starts, ends, start)
        or _within_break(starts, ends, end)
        or (start > 0 and _WORD_CHAR.match(sentence, start - 1))
    ):
        return _clause_scan(sentence, start, end)
    i, j = bisect_right(ends, start), bisect_left(starts, end)
    return (ends[i - 1] if i else 0), (starts[j] if j < len(starts) else len(sentence))


_WORD_CHAR = re.compile(r"\w")


@lru_cache(maxsize=8)
def _clause_breaks(sentence: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    found = [(m.start(), m.end()) for m in _CLAUSE_BREAK.finditer(sentence)]
    return tuple(a for a, _ in found), tuple(b for _, b in found)


def _within_break(starts: tuple[int, ...], ends: tuple[int, ...], pos: int) -> bool:
    k = bisect_left(starts, pos)
    return k > 0 and ends[k - 1] > pos


def _clause_scan(sentence: str, start: int, end: int) -> tuple[int, int]:
    lo = 0
    for m in _CLAUSE_BREAK.finditer(sentence, 0, start):
        lo = m.end()
    hi_m = _CLAUSE_BREAK.search(sentence, end)
    hi = hi_m.start() if hi_m else len(sentence)
    return lo, hi


def _prev_words(sentence: str, pos: int, n: int) -> list[str]:
    return [
        w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'’\-]*", sentence[max(0, pos - 60) : pos])
    ][-n:]


# Stems without which a sentence cannot hold a figure: a cheap pre-filter so that most
# sentences never reach the number parser.
FIGURE_HINT_RE = re.compile(
    r"\b"
    + trie_alternation(
        words(
            """
        kill dead die death injur wound hurt missing displac fled flee evacu arrest detain
        affect rescu trap homeless hospital abduct kidnap toll tally lives fatalit drown
        perish slain murder execut unaccounted forced custody hostage bodies number
        need shelter treated requir
        """
        )
    )
)


def figures_in_sentence(sentence: str, low: str | None = None) -> list[SentenceFigure]:
    """Figures of one sentence, in order of appearance."""
    if low is None:
        low = ascii_lower(sentence)
    if not FIGURE_HINT_RE.search(low):
        return []
    spans = find_numbers(sentence, low)
    if not spans:
        return []
    out: list[SentenceFigure] = []
    for span in spans:
        fig = _figure_for(sentence, span, out)
        if fig is not None:
            out.append(fig)
    return out


@dataclass(slots=True)
class _Reading:
    """One number being read: what the rules have established about it so far."""

    sentence: str
    span: NumberSpan
    np: _NP
    left: str
    """Up to 120 characters before the number."""
    prev: list[str]
    """The last four words before the number, lower-cased."""
    previous: list[SentenceFigure]
    """Figures already read in this sentence (for coordination: "…, up from 9")."""
    metric: Metric | None = None
    trigger_end: int = 0
    subject: str = ""
    group: str = ""
    chain: set[str] = field(default_factory=set)
    earlier: bool = False
    toll: re.Match[str] | None = None
    rejected: bool = False

    @property
    def near(self) -> str:
        return self.left[-40:]

    @property
    def status(self) -> str:
        return self.np.status


_ReadRule = Callable[[_Reading], bool]
"""A rule reads the number's context; True when it decided (set the metric or rejected)."""


def _figure_for(
    sentence: str, span: NumberSpan, previous: list[SentenceFigure]
) -> SentenceFigure | None:
    """The figure a number states, if any: the first trigger rule that links it to a metric,
    then the follow-up rules, then the figure's frame (time, scope, update)."""
    r = _reading(sentence, span, previous)
    if r is None:
        return None
    for rule in _TRIGGER_RULES:
        if rule(r):
            break
    for rule in _FOLLOW_UP_RULES:
        if r.rejected:
            return None
        rule(r)
    if r.rejected or r.metric is None or not _acceptable(r):
        return None
    return _framed(r)


def _reading(sentence: str, span: NumberSpan, previous: list[SentenceFigure]) -> _Reading | None:
    """Start reading a number; None when its shape or context rules out a count of people."""
    np = _noun_phrase(sentence, span.end)
    if np.status == "reject":
        return None
    prev = _prev_words(sentence, span.start, 4)
    if span.is_year and (
        not prev or prev[-1] in _YEAR_PREPOSITIONS or sentence[span.end : span.end + 1] in ",."
    ):
        return None  # "in 2015", "2015," : a year, not a count
    left = sentence[max(0, span.start - 120) : span.start]
    if _HOST_LEFT.search(left[-40:]) or _AID_LEFT.search(left[-30:]):
        return None  # "home to 3 million", "supporting 10,000": not an impact
    low_left = left.lower()
    toll = _TOLL_LEFT.search(left) if _TOLL_WORD.search(low_left) else None
    r = _Reading(sentence, span, np, left, prev, previous, None, np.end, np.subject, np.group)
    r.toll = toll
    return r


# --- trigger rules: the first that decides wins ---------------------------------------------


def _by_metric_noun(r: _Reading) -> bool:
    """ "12 deaths", "39 fatalities": the noun after the number carries the metric."""
    if r.np.noun_metric is not None and r.status == "person":
        r.metric = r.np.noun_metric
        return True
    return False


def _by_toll(r: _Reading) -> bool:
    """ "the death toll has increased to 22", "the toll stood at 33"."""
    if r.toll is None or _DIGIT.search(r.toll.group("gap") or ""):
        return False
    r.metric = TOLL_METRICS.get((r.toll.group("kind") or "death").lower(), Metric.KILLED)
    return True


def _by_number_of(r: _Reading) -> bool:
    """ "the number of people killed … stands at 33", "the number of dead reached 200"."""
    if r.toll is not None or "number of" not in r.left.lower():
        return False
    m = _NUMBER_OF_LEFT.search(r.left)
    if m is None or _DIGIT.search(m.group("gap") or ""):
        return False
    trig = m.group("trig").lower()
    r.metric = STATE_TRIGGERS.get(trig) or METRIC_NOUNS.get(trig)
    if trig in ("dead", "victims", "casualties", "fatalities", "deaths"):
        r.metric = Metric.KILLED
    if trig == "people":
        r.metric = _state_after(m.group("gap") + " ", 0)[0]
    what = m.group("what").strip()
    if not r.subject and what:
        head = what.split()[-1].lower()
        if head in SUBJECT_GROUPS:
            r.subject, r.group = what, SUBJECT_GROUPS[head]
    elif not r.subject and trig == "people":
        r.subject, r.group = "people", "people"
    return True


_NOT_ACTIVE_BEFORE = words("not never n't to be been was were is are")


def _by_active_verb(r: _Reading) -> bool:
    """ "the strike killed 33 soldiers", "police arrested 23" (not "to kill 33")."""
    prev = r.prev
    if not prev or prev[-1] not in ACTIVE_TRIGGERS:
        return False
    if len(prev) >= 2 and prev[-2] in _NOT_ACTIVE_BEFORE:
        return False
    metric = ACTIVE_TRIGGERS[prev[-1]]
    if r.status in ("person", "none") or (r.status == "unknown" and metric in PERSON_ONLY_METRICS):
        r.metric = metric
    return True


_FLEE_AFTER = re.compile(r"\s*(?:to\s+flee|from\s+their\s+homes|out\s+of\s+their\s+homes)")


def _by_forced(r: _Reading) -> bool:
    """ "forced 3,000 people to flee"."""
    if not r.prev or r.prev[-1] not in ("forced", "forcing", "forces", "force"):
        return False
    if _FLEE_AFTER.match(r.sentence[r.np.end : r.np.end + 40]):
        r.metric = Metric.DISPLACED
    return True


_LEAVE_AFTER = re.compile(r"\s*(?:\w+\s+)?(\w+)")


def _by_leave(r: _Reading) -> bool:
    """ "left 12 people dead", "leaving 3,000 homeless"."""
    if not r.prev or r.prev[-1] not in LEAVE_VERBS:
        return False
    m = _LEAVE_AFTER.match(r.sentence[r.np.end : r.np.end + 30])
    if m is not None and m.group(1).lower() in LEAVE_STATES:
        r.metric = LEAVE_STATES[m.group(1).lower()]
        r.trigger_end = r.np.end + m.end()
    return True


def _by_lives_of(r: _Reading) -> bool:
    """ "claimed the lives of 12", "the deaths of 12 migrants"."""
    near = r.near
    if not (_LIVES_LEFT.search(near) or _DEATHS_OF_LEFT.search(near)):
        return False
    if r.status in ("person", "none", "unknown"):
        r.metric = Metric.KILLED
        return True
    return False


# "1.85 million people are in need of assistance", "750,000 people in Haiti require
# humanitarian assistance", "140,800 people were sheltering in accommodation sites".
_KINDS = re.compile(
    r"\s*(?:in\s+[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)?\s+)?"
    r"(?:(?:are|were|is|was|remain|remained|have\s+been|had\s+been)\s+)?(?:now\s+|still\s+)?"
    r"(?:" + "|".join(f"(?P<k{i}>{p})" for i, (p, _, _) in enumerate(KIND_TRIGGERS)) + ")",
    re.IGNORECASE,
)
_KIND_OF = {f"k{i}": (m, g) for i, (_, m, g) in enumerate(KIND_TRIGGERS)}


def _by_kind(r: _Reading) -> bool:
    """Counts of a different kind than the plain metric: in need of aid, in shelters."""
    if r.status not in ("person", "none") or r.np.noun_metric is not None:
        return False
    m = _KINDS.match(r.sentence, r.np.end)
    if m is None or m.lastgroup is None:
        return False
    r.metric, r.group = _KIND_OF[m.lastgroup]
    r.subject = r.group
    r.trigger_end = m.end()
    return True


_TRIGGER_RULES: tuple[_ReadRule, ...] = (
    _by_metric_noun,
    _by_kind,
    _by_toll,
    _by_number_of,
    _by_active_verb,
    _by_forced,
    _by_leave,
    _by_lives_of,
)


# --- follow-up rules: each may set the metric or reject ---------------------------------------


def _lives_object(r: _Reading) -> bool:
    """ "claimed 61 lives": "lives" needs its verb."""
    if r.status != "lives":
        return False
    if not (r.prev and r.prev[-1] in LIVES_VERBS):
        r.rejected = True
        return True
    r.metric, r.trigger_end = Metric.KILLED, r.np.end
    return True


def _state_after_noun(r: _Reading) -> bool:
    """ "33 soldiers were killed", "39 injured", "34 soldiers dead"."""
    if r.metric is not None or r.status not in ("person", "none", "unknown"):
        return False
    metric, end, r.chain, used_aux = _state_after(r.sentence, r.np.end)
    if metric is None:
        return False
    if _state_is_not_a_count(r, metric, end, used_aux):
        r.rejected = True
        return True
    r.metric, r.trigger_end = metric, end
    return True


def _state_is_not_a_count(r: _Reading, metric: Metric, end: int, used_aux: bool) -> bool:
    if r.status == "unknown" and metric not in PERSON_ONLY_METRICS:
        return True
    q = r.span.quantity
    lone = r.status == "none" and not r.np.subject and not used_aux
    if lone and q.qualifier.value == "exact" and q.value < 2:
        return True
    # "3 gunmen killed 12 people": a participle followed by an object is an agent.
    nxt = _words_from(r.sentence, end, 1)
    takes_object = bool(nxt) and (nxt[0][0].lower() in _OBJECT_START or nxt[0][0][:1].isdigit())
    bare = r.sentence[r.np.end : end].strip().lower() in ("dead", "missing", "fled")
    if not used_aux and takes_object and metric in _TRANSITIVE and not bare:
        return True
    # "the 10 affected provinces": the participle is an adjective of a thing.
    return bool(nxt) and nxt[0][0].lower() in NON_PERSON_NOUNS


def _coordinated(r: _Reading) -> bool:
    """ "…, up from 9" (an earlier value), "…, including 12 children", "… 71 deaths in one
    state, 43 in another": the last figure's metric."""
    if r.metric is not None or not r.previous or r.status not in ("person", "none"):
        return False
    near = r.near
    up_from = _UP_FROM_LEFT.search(near) if "from" in near else None
    listed = _LISTED_BEFORE.search(near) and _PLACE_AFTER.match(r.sentence, r.np.end)
    if not (up_from or listed or _INCLUDING_LEFT.search(near)):
        return False
    base = r.previous[-1]
    r.metric = base.metric
    if not r.subject:
        r.subject, r.group = base.subject, base.subject_group
    r.earlier = bool(up_from)
    return True


# "…, 43 in Puebla", "… and 210 in Madagascar": the next item of a list of places.
_LISTED_BEFORE = re.compile(r"(?:,|\band)\s*$")


_FOLLOW_UP_RULES: tuple[_ReadRule, ...] = (_lives_object, _state_after_noun, _coordinated)


def _acceptable(r: _Reading) -> bool:
    if r.status == "unknown" and r.metric not in PERSON_ONLY_METRICS:
        return False
    # "one of", "a man": a lone "one" must name its person ("one soldier was killed").
    return not (r.span.quantity.text.lower() == "one" and r.status != "person")


# --- the figure's frame ------------------------------------------------------------------------


def _framed(r: _Reading) -> SentenceFigure:
    sentence, span = r.sentence, r.span
    assert r.metric is not None
    c_lo, c_hi = _clause(sentence, span.start, r.trigger_end)
    clause_text = sentence[c_lo:c_hi]
    _carry_subject(r)
    markers = _markers(sentence[max(c_lo, span.start - 70) : span.start])
    temporal = _temporal(r, markers, c_lo, c_hi)
    return SentenceFigure(
        metric=r.metric,
        quantity=_passed(r),
        subject=" ".join(r.subject.split()),
        subject_group=r.group,
        start=span.start,
        end=max(span.end, r.trigger_end),
        scope=_figure_scope(r, clause_text, c_lo),
        temporal=temporal,
        framed_as_update=_update_framed(r, temporal, markers, sentence[r.trigger_end : c_hi]),
    )


_PASSING_LINKS = frozenset(
    {"topped", "tops", "top", "passed", "passes", "exceeded", "exceeds", "exceed", "surpassed"}
    | {"surpasses"}
)


def _passed(r: _Reading) -> Quantity:
    """ "the toll topped 5,000": more than the number written."""
    q = r.span.quantity
    if r.toll is None or q.qualifier is not Qualifier.EXACT or q.high is not None:
        return q
    if r.toll.group("link").lower() not in _PASSING_LINKS:
        return q
    return replace(q, qualifier=Qualifier.MORE_THAN)


def _carry_subject(r: _Reading) -> None:
    """The subject carried over from the previous figure of a coordinated sentence."""
    if not r.previous:
        return
    if not r.subject and r.status == "none":
        r.subject, r.group = r.previous[-1].subject, r.previous[-1].subject_group
    elif r.status == "person" and r.group == "people" and r.subject.lower() in ("others", "more"):
        r.group = r.previous[-1].subject_group or r.group


# Reported speech starts a new statement: "likely to grow, with officials saying 200 are
# missing" forecasts the toll, not the 200.
_NEW_STATEMENT = re.compile(
    r",\s+with\b|\b(?:saying|said|says|told|reported|reports|reporting|according\s+to)\b",
    re.IGNORECASE,
)


def _markers(near_left: str) -> set[str]:
    """Earlier / forecast / update markers before the number.

    A forecast must be in the number's own statement ("… likely to grow, with officials
    saying 200 are missing": the 200 is not forecast); a time marker may frame the report
    ("he previously said that nine were killed").
    """
    found = {k for m in _MARKERS.finditer(near_left) for k, v in m.groupdict().items() if v}
    if "forecast" in found:
        cut = 0
        for m in _NEW_STATEMENT.finditer(near_left):
            cut = m.end()
        if cut and not _FORECAST_LEFT.search(near_left, cut):
            found.discard("forecast")
    return found


def _temporal(r: _Reading, markers: set[str], c_lo: int, c_hi: int) -> Temporal:
    if r.earlier or "earlier" in markers or r.chain & _EARLIER_CHAIN:
        return Temporal.EARLIER
    if "forecast" in markers or r.chain & _FORECAST_CHAIN:
        return Temporal.FORECAST
    if _is_other_event(r.sentence, c_lo, r.span, r.trigger_end, c_hi):
        return Temporal.OTHER_EVENT
    return Temporal.CURRENT


def _figure_scope(r: _Reading, clause_text: str, c_lo: int) -> Scope:
    scope = _scope(r.sentence, clause_text, c_lo, r.span, r.left, r.trigger_end)
    if (
        scope.kind is ScopeKind.EVENT
        and r.previous
        and r.previous[-1].scope.kind is ScopeKind.CUMULATIVE
        and not _EVENT_MARKERS.search(clause_text)
    ):
        return r.previous[-1].scope
    return scope


_RISE_LINKS = frozenset({"rose", "climbed", "jumped", "increased", "risen"})


def _update_framed(r: _Reading, temporal: Temporal, markers: set[str], right: str) -> bool:
    """ "rose to", "has increased to", "now stands at": the value is given as a change."""
    if temporal is not Temporal.CURRENT:
        return False
    if r.toll is not None and r.toll.group("link").lower() in _RISE_LINKS:
        return True
    return "update" in markers or bool(r.chain and "now" in r.chain and "stands" in right)


_DIGIT = re.compile(r"\d")
_TOLL_WORD = re.compile(r"toll|tally|death count")


def _is_other_event(
    sentence: str, c_lo: int, span: NumberSpan, trigger_end: int, c_hi: int
) -> bool:
    window_lo = max(c_lo, span.start - 80)
    left = sentence[window_lo : span.start]
    right = _RIGHT_STOP.split(sentence[trigger_end : min(c_hi, trigger_end + 30)], maxsplit=1)[0]
    window = left + " " + right
    if _OTHER_EVENT_HINT.search(window.lower()):
        if _OTHER_EVENT.search(left) or _OTHER_EVENT.search(right):
            return True
        for m in _YEAR.finditer(window):
            if "since" not in window[max(0, m.start() - 8) : m.start()].lower():
                return True
    # "the deadliest since 2015, when 300 died"
    if not sentence.startswith("when", c_lo) and "when" not in sentence[max(0, c_lo - 6) : c_lo]:
        return False
    pre = sentence[max(0, c_lo - 40) : c_lo + 6]
    return bool(_SINCE_YEAR_WHEN.search(pre)) or bool(
        _YEAR_AT_END.search(sentence[max(0, c_lo - 30) : c_lo - 5])
        and _WHEN_AT_START.match(sentence[max(0, c_lo - 6) : c_lo + 1])
    )


_RIGHT_STOP = re.compile(
    r"\b(?:marking|making|since|the\s+largest|the\s+deadliest|which|who|as|after|"
    r"before|while|,)\b"
)
_YEAR_AT_END = re.compile(r"\b(?:1[89]\d\d|20\d\d),?\s*$")
_WHEN_AT_START = re.compile(r"\s*when\b")


def _scope(
    sentence: str, clause_text: str, c_lo: int, span: NumberSpan, left: str, trigger_end: int
) -> Scope:
    low = ascii_lower(clause_text)
    local = _LOCAL_ALONE.search(clause_text) if "alone" in low else None
    if local is not None:
        return Scope(ScopeKind.LOCAL, _place_label(local.group("place")))
    if _INCLUDING_LEFT.search(left[-30:]):
        m = _LOCAL_IN.match(sentence, span.end)
        if m is not None and m.group("place").lower() not in MONTHS:
            return Scope(ScopeKind.LOCAL, _place_label(m.group("place")))
    cumulative = _cumulative_scope(clause_text, low)
    if cumulative is not None:
        return cumulative
    place = _place_of(sentence, span, left, trigger_end)
    return Scope(ScopeKind.LOCAL, place) if place else Scope()


@lru_cache(maxsize=64)  # a sentence's figures share their clause: read it once, not per figure
def _cumulative_scope(clause_text: str, low: str) -> Scope | None:
    if not _CUMULATIVE_HINT.search(low):
        return None
    for m in _CUMULATIVE.finditer(clause_text):
        if m.group("since"):
            if _SUPERLATIVE_BEFORE.search(clause_text[: m.start()]):
                continue
            label = m.group("since").lower()
            label = re.sub(r"\s+(?:began|started|erupted|broke\s+out)$", "", label)
            label = re.sub(r"^the\s+", "the ", label)
            return Scope(ScopeKind.CUMULATIVE, "since " + " ".join(label.split()))
        if m.group("period"):
            before = clause_text[max(0, m.start() - 12) : m.start()].lower()
            if re.search(r"\b(?:earlier|later|early|late|of)\s*$", before):
                continue
            return Scope(ScopeKind.CUMULATIVE, "this " + m.group("period").lower())
        if m.group("total"):
            return Scope(ScopeKind.CUMULATIVE, "total")
        if m.group("window"):
            return Scope(
                ScopeKind.CUMULATIVE, "past " + " ".join(m.group("window").lower().split())
            )
    return None


# --- where a figure counts: a place narrower than the event --------------------------------
#
# A figure the text ties to a named place ("86 deaths were reported in Mexico City", "the
# death toll in Zimbabwe rose to 344", "In Japan, … 41 people") is that place's count.
# Whether the place is narrower than the event is settled per article (``places``).

_PLACE = r"(?P<place>[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*){0,2})"
_AREA_OF = (
    r"(?:the\s+(?:city|province|state|region|district|county|town|capital|department)\s+of\s+)?"
)
# A list of places ("in Turkey and Syria", "in Manta, Pedernales and …") is no one place.
_NOT_A_LIST = r"\b(?!\s*(?:,|and|or)\s+(?:the\s+)?[A-Z])"
_PLACE_AFTER = re.compile(
    r"\s*,?\s*(?:(?:were|was|are|is|have\s+been|has\s+been|had\s+been)\s+)?"
    r"(?:(?:reported|recorded|confirmed|registered|counted|occurred)\s+)?"
    rf"in\s+{_AREA_OF}{_PLACE}{_NOT_A_LIST}"
)
_PLACE_IN_TOLL = re.compile(
    # "the death toll in Zimbabwe", "the death toll from the storm in Florida"
    r"\b(?:toll|tally|deaths|dead|fatalities|casualties|count|injuries)"
    rf"(?:\s+(?:from|of)\s+(?:[\w'’\-]+\s+){{1,4}}?)?\s*in\s+{_PLACE}{_NOT_A_LIST}"
    r"\b[^,;.\d]{0,50}$"
)
_PLACE_WHERE = re.compile(rf"\bin\s+{_AREA_OF}{_PLACE},?\s+where\b[^.;]{{0,90}}$")
_PLACE_FRONTED = re.compile(rf"\W*In\s+{_AREA_OF}{_PLACE}\s*,")
_PLACE_ANAPHOR = re.compile(
    r"\bin\s+(?:that|this|his|her|their|its|the)\s+(?:country|nation)\b", re.IGNORECASE
)
_PLACE_IN = re.compile(rf"\bin\s+{_AREA_OF}{_PLACE}")
# Capitalised words after "in" that are not places ("In addition, …", "in English").
_NOT_PLACES = words(
    """
    addition total all general particular short fact response turn contrast
    english spanish french arabic portuguese chinese some many most the a an its their
    hurricane typhoon cyclone storm tropical super superstorm operation flight islamic
    god allah christ
    """
)


def _place_of(sentence: str, span: NumberSpan, left: str, trigger_end: int) -> str:
    """The named place a figure is tied to, if the sentence ties it to one."""
    m = _PLACE_AFTER.match(sentence, trigger_end)
    if m is not None and _is_place(m.group("place")):
        return _place_label(m.group("place"))
    near = left[-90:]
    for rule in (_PLACE_IN_TOLL, _PLACE_WHERE):
        found = rule.search(near)
        if found is not None and _is_place(found.group("place")):
            return _place_label(found.group("place"))
    fronted = _PLACE_FRONTED.match(sentence)
    if fronted is not None and fronted.end() <= span.start and _is_place(fronted.group("place")):
        return _place_label(fronted.group("place"))
    anaphor = _PLACE_ANAPHOR.search(near)
    if anaphor is not None:
        return _place_named_before(sentence[: span.start - len(near) + anaphor.start()])
    return ""


def _place_named_before(text: str) -> str:
    """ "Authorities in Mozambique say the toll in that country …": the place named last."""
    return place_named_last(text) or PLACE_BEFORE


PLACE_BEFORE = "@before"
"""Scope label of "the toll in that country" when the sentence names no place: the place
is the one the article named last before it (resolved per article, ``figure_places``)."""


def place_named_last(text: str, *, country: bool = False) -> str:
    """The last place ``text`` names with "in <Place>", as a scope label ("" if none).

    With ``country``, only a country counts ("his country" is not the port city named
    since).
    """
    for m in reversed(list(_PLACE_IN.finditer(text))):
        place = m.group("place")
        if not _is_place(place):
            continue
        if country and (country_in(place) is None or place.lower().endswith(" city")):
            continue
        return _place_label(place)
    return ""


def _is_place(name: str) -> bool:
    """Not a month, a weekday's event ("in Tuesday's attack"), a storm or an operation."""
    first = name.split()[0].lower().replace("’", "'").removesuffix("'s")
    return first not in _NOT_PLACES and first not in MONTHS and first not in WEEKDAYS


_AREA_SUFFIX = re.compile(
    r"\s+(?:province|state|region|district|county|prefecture|department)$", re.IGNORECASE
)


def _place_label(place: str) -> str:
    """ "Manabí Province’s Manta" → "manabí"; "Hatay province" → "hatay"."""
    label = re.split(r"['’]s\b", place.replace("’", "'"), maxsplit=1)[0]
    label = _AREA_SUFFIX.sub("", label.strip())
    return " ".join(label.lower().split())


# --- the article's frame -------------------------------------------------------------------

_NUMBER_WORD = (
    r"(?:\d+|one|a|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"twenty-five|thirty|forty|fifty|a\s+hundred|several|many|a\s+few)"
)
# A lead that looks back on a disaster: "One year ago, …", "A year after the cyclone …",
# "… to mark the 15th anniversary of the tsunami", "one year on from the earthquake".
_RETROSPECTIVE_LEAD = re.compile(
    rf"\b{_NUMBER_WORD}\s+(?:years?|decades?)\s+(?:ago|after|since|on\s+from|on\s+since|later)\b"
    r"|\b(?:\w+\s+)?anniversary\b|\bcommemorat\w+|\bin\s+memory\s+of\b"
    r"|\bremember(?:s|ed|ing)?\s+(?:the\s+)?(?:\d+\s+)?(?:victims|dead|those\s+who)",
    re.IGNORECASE,
)
# A lead that reports statistics over a period: "deaths … decreased in 2016", "… die every
# year", "37,461 lives were lost on U.S. roads in 2016".
_STATISTICAL_LEAD = re.compile(
    r"\b(?:every|each|per)\s+year\b|\bannual(?:ly)?\b|\byear[-\s](?:to|over)[-\s]year\b"
    r"|\b(?:increased|decreased|rose|fell|declined|dropped|grew)\s+(?:by\s+[\d.]+\s+percent\s+)?"
    r"in\s+(?:calendar\s+|fiscal\s+)?(?:year\s+)?(?:19|20)\d\d\b"
    r"|\b(?:deaths|fatalities|lives\s+were\s+lost|were\s+killed|died)\b[^.;]{0,60}?"
    r"\bin\s+(?:calendar\s+|fiscal\s+)?(?:year\s+)?(?:19|20)\d\d\b(?!\s*,?\s*when)",
    re.IGNORECASE,
)
# A fresh event in the lead ("on Monday", "today") means the period figures are context.
_FRESH_EVENT = re.compile(
    r"\b(?:on\s+(?:" + "|".join(WEEKDAYS) + r")|today|yesterday|overnight|this\s+morning|"
    r"(?:" + "|".join(WEEKDAYS) + r")['’]s)\b",
    re.IGNORECASE,
)
_LEAD_SENTENCES = 1
_LEAD_MIN_WORDS = 6


def lead_of(sentences: Sequence[str]) -> str:
    """The article's lead: its first sentence of prose (datelines and headings skipped).

    Only the lead frames the whole article; a later "on the anniversary of …" does not.
    """
    prose = [s for s in sentences if len(s.split()) >= _LEAD_MIN_WORDS]
    return " ".join(prose[:_LEAD_SENTENCES])


# A disaster exercise: "The exercise simulated a magnitude 7.0 earthquake", "the drill's
# scenario". Both words are needed: soldiers killed *during* a training exercise are real.
_EXERCISE = re.compile(r"\b(?:exercises?|drills?)\b", re.IGNORECASE)
_HYPOTHETICAL = re.compile(r"\b(?:simulat\w*|scenarios?|hypothetical|mock)\b", re.IGNORECASE)
_OPENING_SENTENCES = 3


def article_is_an_exercise(sentences: Sequence[str]) -> bool:
    """Does the article's opening describe a drill or exercise scenario (all hypothetical)?"""
    prose = [s for s in sentences if len(s.split()) >= _LEAD_MIN_WORDS][:_OPENING_SENTENCES]
    opening = " ".join(prose)
    return bool(_EXERCISE.search(opening) and _HYPOTHETICAL.search(opening))


def article_looks_back(lead: str) -> bool:
    """Is the whole article about the past, so that none of its figures is news?

    Anniversary and one-year-on pieces recall a disaster's toll ("One year ago, …
    308 people were killed"); statistical releases count deaths over a period ("37,461
    lives were lost on U.S. roads in 2016"). Their figures, even in sentences that do not
    say so themselves, describe the past, not an event in progress.
    """
    if _RETROSPECTIVE_LEAD.search(lead):
        return True
    return bool(_STATISTICAL_LEAD.search(lead)) and not _FRESH_EVENT.search(lead)
