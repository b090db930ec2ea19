"""Number spans: digits, words, vague quantities, ranges, qualifiers — and what is not a count."""

from __future__ import annotations

import pytest

from bot.domain.claims import Qualifier
from bot.extract.numbers import find_numbers, parse_number
from bot.extract.sentences import split_sentences

Q = Qualifier

PARSE = [
    ("950,000", 950_000, None),
    ("3.7 million", 3_700_000, None),
    ("1.2m", 1_200_000, None),
    ("nine", 9, None),
    ("twenty-two", 22, None),
    ("twenty two", 22, None),
    ("a dozen", 12, None),
    ("two hundred and fifty", 250, None),
    ("a million", 1_000_000, None),
    ("half a million", 500_000, None),
    ("dozens", 24, 99),
    ("scores", 40, 99),
    ("hundreds", 200, 999),
    ("thousands", 2_000, 9_999),
    ("hundreds of thousands", 200_000, 999_999),
    ("tens of thousands", 20_000, 99_999),
]


@pytest.mark.parametrize(("span", "value", "high"), PARSE)
def test_parse_number(span: str, value: float, high: float | None) -> None:
    parsed = parse_number(span)
    assert parsed is not None
    assert parsed[0] == value and parsed[1] == high


SPANS = [
    ("At least 22 soldiers", 22, None, Q.AT_LEAST, "At least 22"),
    ("almost 950,000 civilians", 950_000, None, Q.NEARLY, "almost 950,000"),
    ("nearly a million people", 1_000_000, None, Q.NEARLY, "nearly a million"),
    ("a further 39 injured", 39, None, Q.EXACT, "a further 39"),
    ("between 20 and 30 people", 20, 30, Q.EXACT, "between 20 and 30"),
    ("20 to 30 people", 20, 30, Q.EXACT, "20 to 30"),
    ("20-30 people", 20, 30, Q.EXACT, "20-30"),
    ("more than 300 people", 300, None, Q.MORE_THAN, "more than 300"),
    ("up to 1,000 people", 1000, None, Q.UP_TO, "up to 1,000"),
    ("about 120,000 people", 120_000, None, Q.ABOUT, "about 120,000"),
    ("some 3.6 million Syrians", 3_600_000, None, Q.ABOUT, "some 3.6 million"),
    ("fewer than 50 people", 50, None, Q.LESS_THAN, "fewer than 50"),
    ("dozens of soldiers", 24, 99, Q.APPROXIMATE, "dozens"),
    ("several hundred protesters", 300, 900, Q.APPROXIMATE, "several hundred"),
]


@pytest.mark.parametrize(("text", "value", "high", "qualifier", "surface"), SPANS)
def test_find_numbers(
    text: str, value: float, high: float | None, qualifier: Qualifier, surface: str
) -> None:
    spans = find_numbers(text)
    assert len(spans) == 1, spans
    q = spans[0].quantity
    assert (q.value, q.high, q.qualifier, q.text) == (value, high, qualifier, surface)


NOT_COUNTS = [
    "$3.7 million in aid",
    "a 34-year-old man",
    "magnitude 7.1",
    "5 percent",
    "the 27-nation bloc",
    "the nine-year conflict",
    "Flight 370",
    "Article 4 of the treaty",
    "at 3 p.m. local time",
    "at 10:45",
    "on March 12",
    "the 21st century",
    "a two-hour meeting",
    "€40m in damages",
    "won 3-1",
]


@pytest.mark.parametrize("text", NOT_COUNTS)
def test_not_counts(text: str) -> None:
    assert find_numbers(text) == []


def test_year_is_flagged() -> None:
    spans = find_numbers("in 2015, 40 people died")
    assert [s.is_year for s in spans] == [True, False]


SPLITS = [
    ("Mr. Smith said 3.7 million people fled. Officials agreed.", 2),
    ("The U.N. Secretary-General spoke. The U.S. military said 12 died.", 2),
    ("Gen. Ahmed said the attack began at 3 p.m. local time.", 1),
    ('"We are heartbroken," she said. "It is terrible."', 2),
    ("First paragraph\n\nSecond paragraph.", 2),
    ("Troops left at 9 a.m. The convoy was hit an hour later.", 2),
]


@pytest.mark.parametrize(("text", "n"), SPLITS)
def test_sentence_splitting(text: str, n: int) -> None:
    spans = split_sentences(text)
    assert len(spans) == n, [text[a:b] for a, b in spans]
    for a, b in spans:
        assert text[a:b] == text[a:b].strip() and text[a:b]


def test_number_forms_of_news_copy() -> None:
    from bot.extract.numbers import find_numbers

    def one(text: str) -> tuple[float, float | None, str]:
        (span,) = find_numbers(text)
        q = span.quantity
        return (q.value, q.high, q.qualifier.value)

    assert one("nearly three-thousand homes") == (3000, None, "nearly")
    assert one("some two-hundred villagers") == (200, None, "about")
    assert one("two dozen sailors") == (24, None, "exact")
    assert one("climbed past 500") == (500, None, "more than")
    assert one("reached into the hundreds") == (200, 999, "approximate")
