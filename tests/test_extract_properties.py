"""Properties: ``extract`` never raises, and every claim it returns is well-formed."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.claims import Extraction, Qualifier
from bot.extract import extract
from bot.extract.pipeline import _extract as extract_strict  # no safety net: bugs must surface
from bot.extract.speakers import resolve_speaker, speaker_key

SEEDS = [
    p.read_text(encoding="utf-8")
    for p in sorted((Path(__file__).parent.parent / "seeds").glob("*.txt"))
]
QUALIFIERS = set(Qualifier)

FRAGMENTS = st.sampled_from(
    [
        " 33 ",
        "at least ",
        " dozens of ",
        '"',
        "“",
        "”",
        " said ",
        ", he said. ",
        "killed ",
        " were killed",
        "3.7 million",
        " 1,000,000 ",
        "-",
        ".",
        "\n\n",
        " Mr. ",
        " U.N. ",
        " according to ",
        " toll rose to ",
        " 9999999999999999999999 ",
        "$",
        "%",
        " since ",
        " this month",
        " alone",
        " initially ",
        " could reach ",
        " 2015 ",
        "’s ",
        "\u00a0",
    ]
)


def check(text: str, ex: Extraction) -> None:
    for f in ex.figures:
        e = f.evidence
        assert 0 <= e.start <= e.end <= len(text)
        assert text[e.start : e.end] == e.sentence
        q = f.quantity
        assert math.isfinite(q.value) and q.value >= 0
        assert q.high is None or (math.isfinite(q.high) and q.high >= q.value)
        assert q.qualifier in QUALIFIERS
        lo, hi = q.interval()
        assert lo <= hi
    for s in ex.statements:
        e = s.evidence
        assert text[e.start : e.end] == e.sentence
        assert s.speaker and s.verb


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_never_raises_on_any_text(text: str) -> None:
    check(text, extract_strict(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=40).map("".join))
def test_never_raises_on_newsy_garbage(text: str) -> None:
    check(text, extract_strict(text))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(SEEDS),
    st.integers(min_value=0, max_value=5000),
    st.integers(min_value=0, max_value=5000),
    st.lists(st.tuples(st.integers(0, 5000), FRAGMENTS), max_size=6),
)
def test_mutated_seeds(seed: str, a: int, b: int, inserts: list[tuple[int, str]]) -> None:
    text = seed[min(a, b) : max(a, b)] if a != b else seed
    for pos, frag in inserts:
        pos = min(pos, len(text))
        text = text[:pos] + frag + text[pos:]
    ex = extract_strict(text)
    check(text, ex)
    assert extract(text) == ex  # deterministic


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.one_of(st.none(), st.text(max_size=30)))
def test_speaker_functions_total(name: str, role: str | None) -> None:
    key = speaker_key(name)
    assert isinstance(key, str)
    assert resolve_speaker(name, role, {}) is None


def test_seed_title_does_not_change_offsets() -> None:
    for text in SEEDS:
        assert extract(text, title="Turkey: dozens of soldiers killed") == extract(text)
