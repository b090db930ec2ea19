"""The five seed articles must yield the figures and statements change detection relies on."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from bot.domain.claims import Extraction, Figure, Metric, Qualifier, ScopeKind, Temporal
from bot.domain.stories import SpeakerRecord
from bot.extract import extract
from bot.extract.speakers import resolve_speaker, speaker_key

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@cache
def seed(prefix: str) -> tuple[str, Extraction]:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")
    return text, extract(text)


def find(ex: Extraction, metric: Metric, value: float) -> list[Figure]:
    return [f for f in ex.figures if f.metric is metric and f.quantity.value == value]


def one(ex: Extraction, metric: Metric, value: float, **want: object) -> Figure:
    hits = [f for f in find(ex, metric, value) if all(getattr(f, k) == v for k, v in want.items())]
    assert hits, (
        f"no {metric} {value} {want}: {[(f.quantity.text, f.attributed_to) for f in ex.figures]}"
    )
    return hits[0]


def values(ex: Extraction) -> set[float]:
    return {f.quantity.value for f in ex.figures}


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_evidence_offsets(prefix: str) -> None:
    text, ex = seed(prefix)
    for f in ex.figures:
        assert text[f.evidence.start : f.evidence.end] == f.evidence.sentence
    for s in ex.statements:
        assert text[s.evidence.start : s.evidence.end] == s.evidence.sentence


def test_003() -> None:
    _, ex = seed("003")
    lede = one(ex, Metric.KILLED, 22, temporal=Temporal.CURRENT, attributed_to=None)
    assert lede.quantity.qualifier is Qualifier.AT_LEAST
    assert lede.subject_group == "soldiers" and lede.scope.kind is ScopeKind.EVENT
    quote = one(ex, Metric.KILLED, 22, attributed_to="Rahmi Dogan")
    assert quote.framed_as_update
    earlier = one(ex, Metric.KILLED, 9, attributed_to="Rahmi Dogan")
    assert earlier.temporal is Temporal.EARLIER
    displaced = one(ex, Metric.DISPLACED, 1_000_000)
    assert displaced.quantity.qualifier is Qualifier.NEARLY
    assert displaced.scope.key == "cumulative:since december"
    assert not values(ex) & {3_000_000, 3_600_000}


def test_002() -> None:
    _, ex = seed("002")
    lede = one(ex, Metric.KILLED, 29, attributed_to=None)
    assert lede.quantity.qualifier is Qualifier.AT_LEAST and lede.subject_group == "soldiers"
    nine = one(ex, Metric.KILLED, 9, attributed_to="Rahmi Dogan")
    assert nine.temporal is Temporal.EARLIER
    later = one(ex, Metric.KILLED, 29, attributed_to="Rahmi Dogan")
    assert later.framed_as_update and later.temporal is Temporal.CURRENT
    sohr = one(ex, Metric.KILLED, 34)
    assert sohr.attributed_to == "Syrian Observatory for Human Rights"
    assert sohr.subject_group == "soldiers"
    injured = one(ex, Metric.INJURED, 39)
    assert injured.attributed_to == "Rahmi Dogan"
    cumulative = one(ex, Metric.KILLED, 43)
    assert cumulative.scope.key == "cumulative:since february"
    assert not values(ex) & {3_700_000, 12, 2, 20}


def test_000() -> None:
    _, ex = seed("000")
    vague = one(ex, Metric.KILLED, 24)
    assert vague.quantity.qualifier is Qualifier.APPROXIMATE and vague.subject_group == "soldiers"
    governor = one(ex, Metric.KILLED, 33)
    assert governor.attributed_to == "Rahmi Dogan"
    assert governor.quantity.qualifier is Qualifier.AT_LEAST
    month = one(ex, Metric.KILLED, 21)
    # never comparable with the strike toll: an earlier value and/or a monthly total
    assert month.temporal is Temporal.EARLIER or month.scope.kind is ScopeKind.CUMULATIVE
    assert month not in ex.impact_figures
    one(ex, Metric.DISPLACED, 1_000_000)


def test_001() -> None:
    _, ex = seed("001")
    lede = one(ex, Metric.KILLED, 33, attributed_to=None)
    assert lede.subject_group == "soldiers"
    dogan = one(ex, Metric.KILLED, 33, attributed_to="Rahmi Dogan")
    assert dogan.subject == "troops"
    one(ex, Metric.INJURED, 39, attributed_to="Rahmi Dogan")
    displaced = one(ex, Metric.DISPLACED, 950_000, attributed_to="United Nations")
    assert displaced.scope.key == "cumulative:since december"
    assert displaced.subject_group == "civilians"
    civilians = one(ex, Metric.KILLED, 300)
    assert civilians.scope.key == "cumulative:since december"
    assert civilians.subject_group == "civilians"
    assert civilians.quantity.qualifier is Qualifier.MORE_THAN
    assert not values(ex) & {12, 20, 9}


def test_004() -> None:
    _, ex = seed("004")
    assert len(find(ex, Metric.KILLED, 33)) >= 2
    one(ex, Metric.INJURED, 24)
    total = one(ex, Metric.KILLED, 54)
    assert total.scope.key == "cumulative:this month" and total.subject_group == "soldiers"
    latest = [f for f in find(ex, Metric.KILLED, 33) if f.subject == "personnel"]
    assert latest and latest[0].scope.kind is ScopeKind.EVENT
    assert not values(ex) & {29, 27, 3_600_000, 4}


def _officials(ex: Extraction) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in ex.statements:
        if s.official:
            out.setdefault(s.speaker, []).append(s.verb)
    return out


def test_statements_000() -> None:
    _, ex = seed("000")
    off = _officials(ex)
    assert "Fahrettin Altun" in off
    assert "Antonio Guterres" in off and "voice" in off["Antonio Guterres"]
    assert "Stephane Dujarric" in off
    assert "Omer Celik" in off
    assert "Rahmi Dogan" in off
    altun = next(s for s in ex.statements if s.speaker == "Fahrettin Altun")
    assert "Mr Altun" in altun.aliases
    assert altun.role == "Turkey's communications director"
    dujarric = next(s for s in ex.statements if s.speaker == "Stephane Dujarric")
    assert dujarric.role == "UN spokesman" and dujarric.direct
    unofficial = {s.speaker for s in ex.statements if not s.official}
    assert "two Turkish security officials" in unofficial
    assert "a senior Turkish official" in unofficial
    assert "Jens Stoltenberg" not in off


def test_statements_001() -> None:
    _, ex = seed("001")
    off = _officials(ex)
    assert "reiterate" in off["U.N. Secretary-General"]
    assert "tell" in off["Feridun Sinirlioglu"]
    assert "Rahmi Dogan" in off
    known = {
        speaker_key("Antonio Guterres"): SpeakerRecord(
            name="Antonio Guterres",
            role="United Nations Secretary-General",
            aliases=(),
            first_article_id="000",
        )
    }
    assert resolve_speaker("U.N. Secretary-General", None, known) == "guterres"


def test_statements_003_reporter_is_not_official() -> None:
    _, ex = seed("003")
    reporter = [s for s in ex.statements if s.speaker == "Hashem Ahelbarra"]
    assert reporter and not any(s.official for s in reporter)
    assert any(s.speaker == "Rahmi Dogan" and s.direct for s in ex.statements)
    assert "Jens Stoltenberg" not in _officials(ex)


def test_statements_004() -> None:
    _, ex = seed("004")
    off = _officials(ex)
    assert "condemn" in off["Jens Stoltenberg"]
    assert "call" in off["Antonio Guterres"]
    assert "Fahrettin Altun" in off
    assert "warn" in off["European Union"]
    written = next(s for s in ex.statements if s.verb == "write")
    assert written.direct and written.text.startswith("We have been targeting")
    assert not any(s.official for s in ex.statements if "spokesperson" in s.speaker)
    assert not any(s.official for s in ex.statements if "government official" in s.speaker)
