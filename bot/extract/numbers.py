"""Finding and parsing number spans: "at least 22", "3.7 million", "a further 39", "dozens".

Why our own parser: every number-word library tried rewrites text it should not touch
("a ceasefire" → "1 ceasefire") or fails on "950,000" (see docs/dependencies.md). So
the extractor *finds* candidate spans with one regex, and parses only the span matched.

A span is ``[qualifier] number [range]``; the parser turns it into a ``Quantity``.
Filters here are purely about the number's own shape (money, percentages, ordinals,
hyphenated compounds such as "27-nation" or "10-year-old", times, ISO dates); whether
a number counts *people* is decided in ``figures.py``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.domain.claims import Qualifier, Quantity
from bot.extract.fastre import ascii_lower, trie_alternation
from bot.extract.lexicon import words

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100.0, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_SUFFIX_SCALES = {"m": 1e6, "mn": 1e6, "mln": 1e6, "bn": 1e9, "b": 1e9, "k": 1e3}

# Vague quantities: (value, high). "dozens" is 24..99 by the domain's convention.
_VAGUE: dict[str, tuple[float, float]] = {
    "dozens": (24, 99),
    "scores": (40, 99),
    "hundreds": (200, 999),
    "thousands": (2_000, 9_999),
    "tens of thousands": (20_000, 99_999),
    "hundreds of thousands": (200_000, 999_999),
    "millions": (2_000_000, 9_999_999),
    "tens of millions": (20_000_000, 99_999_999),
    "hundreds of millions": (200_000_000, 999_999_999),
}

# Qualifiers, longest first; value = the Qualifier they imply.
_QUALIFIERS: tuple[tuple[str, Qualifier], ...] = (
    ("no fewer than", Qualifier.AT_LEAST),
    ("no less than", Qualifier.AT_LEAST),
    ("a minimum of", Qualifier.AT_LEAST),
    ("at least", Qualifier.AT_LEAST),
    ("in excess of", Qualifier.MORE_THAN),
    ("upwards of", Qualifier.MORE_THAN),
    ("more than", Qualifier.MORE_THAN),
    ("over", Qualifier.MORE_THAN),
    ("past", Qualifier.MORE_THAN),  # "the toll climbed past 500"
    ("above", Qualifier.MORE_THAN),  # "the toll rose above 300"
    ("just under", Qualifier.NEARLY),
    ("close to", Qualifier.NEARLY),
    ("nearly", Qualifier.NEARLY),
    ("almost", Qualifier.NEARLY),
    ("approximately", Qualifier.ABOUT),
    ("an estimated", Qualifier.ABOUT),
    ("estimated", Qualifier.ABOUT),
    ("roughly", Qualifier.ABOUT),
    ("around", Qualifier.ABOUT),
    ("about", Qualifier.ABOUT),
    ("some", Qualifier.ABOUT),
    ("approx.", Qualifier.ABOUT),
    ("up to", Qualifier.UP_TO),
    ("as many as", Qualifier.UP_TO),
    ("fewer than", Qualifier.LESS_THAN),
    ("less than", Qualifier.LESS_THAN),
    ("under", Qualifier.LESS_THAN),
    ("into the", Qualifier.APPROXIMATE),  # "the number of dead reached into the hundreds"
    ("a further", Qualifier.EXACT),
    ("another", Qualifier.EXACT),
    ("an additional", Qualifier.EXACT),
    ("a total of", Qualifier.EXACT),
    ("only", Qualifier.EXACT),
    ("just", Qualifier.EXACT),
)
_QUAL_MAP = {q: v for q, v in _QUALIFIERS}


def _alt(words: list[str]) -> str:
    return trie_alternation(words)


_SMALL = (
    rf"(?:{_alt(list(_TENS))}(?:[-\s]{_alt([w for w, v in _UNITS.items() if 0 < v < 10])})?"
    rf"|{_alt([w for w in _UNITS if w != 'zero'])})"
)
_DIG = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_DIGNUM = rf"{_DIG}(?:\s?(?:million|billion|thousand|mln|mn|bn|m|k)(?![\w-]))?(?![\w,]\d)"
# "two dozen" before "two": the first alternative that fits wins. Scale words may be
# hyphenated ("three-thousand", "two-hundred").
_WORDNUM = (
    rf"(?:a|one|two|three|four|five|six|several|a\s+few|a\s+couple\s+of)\s+dozen"
    rf"|(?:{_SMALL})(?:[\s-]+hundred(?:\s+(?:and\s+)?(?:{_SMALL}))?)?"
    rf"(?:[\s-]+(?:thousand|million|billion))?"
    rf"|(?:a|an|one)\s+(?:hundred|thousand|million|billion)(?:\s+(?:thousand|million))?"
    rf"|half\s+a\s+(?:million|billion|dozen)"
    rf"|(?:several|a\s+few|a\s+couple\s+of)\s+(?:hundred|thousand|million)"
)
_VAGUE_RE = (
    r"(?:tens|hundreds)\s+of\s+(?:thousands|millions)|dozens|scores|hundreds|thousands|millions"
)
_NUM = rf"(?:{_DIGNUM}|{_WORDNUM}|{_VAGUE_RE})"
_QUAL = _alt([q for q, _ in _QUALIFIERS])

NUMBER_RE = re.compile(
    rf"(?<![\w$€£¥₹.,:\-/#])"
    rf"(?:(?P<qual>{_QUAL})\s+)?"
    rf"(?:between\s+(?P<lo>{_NUM})\s+and\s+(?P<hi>{_NUM})"
    rf"|(?P<num>{_NUM})(?:\s*(?:-|–|—|to)\s*(?P<num2>{_NUM}))?)"
    rf"(?![\w$€£¥])",
)
# A quick pre-filter: sentences without any of these cannot hold a number span.
_MONTHS_RE = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_AFTER_REJECT = re.compile(
    r"(?:\s*(?:%|per\s*cent\b|percent\b|pc\b|percentage\b|p\.?m\b\.?|a\.m\.|am\b|"
    r"(?:year|month|week|day|hour|minute)s?[-\s]old\b|"
    r"°|:\d|/\d|'s\b|’s\b|"
    rf"(?:{_MONTHS_RE})\b\.?)"
    r"|-[A-Za-z]|st\b|nd\b|rd\b|th\b)",
    re.IGNORECASE,
)
# Money and labels: "$3.7 million", "US$2m", "magnitude 7.1", "Flight 370", "aged 72".
_CURRENCY_BEFORE = re.compile(
    r"(?:[$€£¥₹#]|\b(?:US|USD|EUR|GBP|Rs|HK|NZ|A|C|S|R|Rp|RM|P|Php)\$?)\s*$"
)
_LABEL_WORDS = words(
    """
        aged age ages magnitude flight article route highway no. nos. no nos chapter section
        resolution room gate platform apollo boeing airbus level category grade page
        paragraph score scored rs rupees usd eur gbp inr cny rmb jpy php idr version item
        size zone ward unit block lot phase stage exit pier terminal sector rank ranked
        number top channel interstate road street avenue km kilometre mile runway precinct
        lane district tier form class mark model series squad batch bill
        """
)
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\s*$")
_CAPITALISED_BEFORE = re.compile(r"(?<![.!?:;\"“]\s)\b([A-Z][A-Za-z]*)\s+$")
_MONTH_PREFIXES = frozenset(
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)
_NOT_LABELS = frozenset(
    {
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "I",
        "A",
        "The",
        "At",
        "And",
        "But",
        "Some",
        "About",
        "Over",
        "Nearly",
        "Almost",
        "More",
        "Around",
        "Up",
        "In",
        "On",
        "Of",
        "With",
        "Only",
        "Another",
        "Just",
        "Between",
        "Less",
        "Fewer",
        "As",
        "An",
        "After",
        "Before",
        "By",
        "Since",
        "When",
        "While",
        "So",
        "That",
        "Killing",
        "Leaving",
        "Injuring",
        "Including",
        "Among",
        "Roughly",
        "Approximately",
        "Estimated",
        "Under",
        "Officials",
        "Police",
        "Authorities",
    }
)
# "… said on Twitter 86 deaths were reported": a number that counts casualties is no label.
_COUNTED_AFTER = re.compile(r"\s+(?:deaths|fatalities|dead|killed|injured|missing)\b", re.I)
_YEAR_RE = re.compile(r"^(?:1[89]\d\d|20\d\d)$")


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """A parsed number span in a sentence: [start, end) of the whole span incl. qualifier."""

    start: int
    end: int
    num_start: int
    """Where the number itself starts (after the qualifier)."""
    quantity: Quantity
    is_year: bool = False


def find_numbers(sentence: str, low: str | None = None) -> list[NumberSpan]:
    """All number spans in a sentence that could count something (not money, %, ages …).

    ``low`` is ``ascii_lower(sentence)`` when the caller already has it.
    """
    if low is None:
        low = ascii_lower(sentence)
    out: list[NumberSpan] = []
    for m in NUMBER_RE.finditer(low):
        span = _from_match(sentence, m)
        if span is not None:
            out.append(span)
    return out


def _from_match(sentence: str, m: re.Match[str]) -> NumberSpan | None:
    qual = m.group("qual")
    num_start = m.start("num") if m.group("num") else m.start()
    tail = sentence[m.end() : m.end() + 16]
    if _AFTER_REJECT.match(tail):
        return None
    head = sentence[max(0, m.start() - 24) : m.start()]
    if not qual:
        last = _LAST_WORD.search(head[-14:])
        if (last is not None and last.group(1).lower() in _LABEL_WORDS) or (
            _CURRENCY_BEFORE.search(head[-6:])
        ):
            return None
        cap = _CAPITALISED_BEFORE.search(head) if last is not None else None
        if (
            cap is not None
            and m.group(0)[:1].isdigit()
            and cap.group(1) not in _NOT_LABELS
            and not _COUNTED_AFTER.match(tail)
            and (m.start() - len(cap.group(0)) > 0 or cap.group(1).lower()[:3] in _MONTH_PREFIXES)
        ):
            return None  # "Article 4", "Boeing 737", "March 12", "Route 66"
    text = sentence[m.start() : m.end()]
    if m.group("lo"):
        lo = parse_number(m.group("lo"))
        hi = parse_number(m.group("hi"))
        if lo is None or hi is None or not lo[0] < hi[0]:
            return None
        value, vague = lo[0], False
        high: float | None = hi[0]
    else:
        first = parse_number(m.group("num"))
        if first is None:
            return None
        value, high, vague = first
        if m.group("num2"):
            second = parse_number(m.group("num2"))
            if second is None or second[0] <= value:
                # "3-1" (a score), "2020-02" (a date): not a range of people.
                return None
            if second[0] > value * 20 and value < 1000 and second[0] >= 1000:
                return None
            high = second[0]
    if not math.isfinite(value) or value < 0 or (high is not None and not math.isfinite(high)):
        return None
    if value != int(value) and value < 1000:
        return None  # "3.5" people: a measurement, not a count
    qualifier = (
        _QUAL_MAP.get(" ".join(qual.lower().split()), Qualifier.EXACT)
        if qual
        else (Qualifier.EXACT)
    )
    if vague and qualifier is Qualifier.EXACT:
        qualifier = Qualifier.APPROXIMATE
    raw = " ".join(text.split())
    is_year = bool(_YEAR_RE.match(raw)) and "," not in raw
    return NumberSpan(
        start=m.start(),
        end=m.end(),
        num_start=num_start if m.group("num") else (m.start("lo") if m.group("lo") else m.start()),
        quantity=Quantity(value=value, qualifier=qualifier, high=high, text=raw),
        is_year=is_year,
    )


def parse_number(span: str) -> tuple[float, float | None, bool] | None:
    """Parse one number (no qualifier) → (value, high, vague), or None if it is not one.

    >>> parse_number("3.7 million")
    (3700000.0, None, False)
    >>> parse_number("twenty-two")
    (22.0, None, False)
    >>> parse_number("dozens")
    (24.0, 99.0, True)
    """
    s = " ".join(span.lower().replace("-", " ").split())
    if not s:
        return None
    if s in _VAGUE:
        lo, hi = _VAGUE[s]
        return (float(lo), float(hi), True)
    if s[0].isdigit():
        return _parse_digits(s)
    return _parse_words(s)


def _parse_digits(s: str) -> tuple[float, float | None, bool] | None:
    m = re.fullmatch(r"([\d,]+(?:\.\d+)?)\s?([a-z]*)", s)
    if m is None:
        return None
    digits, suffix = m.group(1), m.group(2)
    if "," in digits and not re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", digits):
        return None
    try:
        value = float(digits.replace(",", ""))
    except ValueError:
        return None
    if suffix:
        scale = _SCALES.get(suffix) or _SUFFIX_SCALES.get(suffix)
        if scale is None:
            return None
        value *= scale
    if not math.isfinite(value) or value > 1e10:
        return None
    return (round(value, 6), None, False)


def _parse_words(s: str) -> tuple[float, float | None, bool] | None:
    words = s.split()
    vague = False
    if words[:2] == ["a", "few"] or words[:3] == ["a", "couple", "of"] or words[:1] == ["several"]:
        # "several hundred": an approximate quantity between 3 and 9 of the unit.
        unit = words[-1]
        scale = 12.0 if unit == "dozen" else _SCALES.get(unit)
        if scale is None:
            return None
        low = 2 if words[1] == "couple" else 3
        return (low * scale, 9 * scale, True)
    total = 0.0
    current = 0.0
    seen = False
    for i, w in enumerate(words):
        if w in ("a", "an"):
            if i > 0 and words[i - 1] == "half":
                continue
            if i + 1 < len(words) and words[i + 1] in (
                "hundred",
                "thousand",
                "million",
                "billion",
                "dozen",
            ):
                current = 1.0
                seen = True
                continue
            return None
        if w == "half":
            current = 0.5
            seen = True
            continue
        if w == "and":
            continue
        if w in _UNITS:
            current += _UNITS[w]
            seen = True
        elif w in _TENS:
            current += _TENS[w]
            seen = True
        elif w == "dozen":
            current = (current or 1.0) * 12
            seen = True
        elif w == "hundred":
            current = (current or 1.0) * 100
            seen = True
        elif w in ("thousand", "million", "billion"):
            total += (current or 1.0) * _SCALES[w]
            current = 0.0
            seen = True
        else:
            return None
    if not seen:
        return None
    return (total + current, None, vague)
