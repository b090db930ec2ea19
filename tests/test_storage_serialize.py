"""Domain ⇄ JSON round trips for the JSON columns (no database needed)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

from bot.domain.alerts import Alert, AlertType, Severity
from bot.domain.claims import (
    Evidence,
    Extraction,
    Figure,
    Metric,
    Qualifier,
    Quantity,
    Scope,
    ScopeKind,
    Statement,
    Temporal,
)
from bot.domain.stories import (
    FigureStep,
    Series,
    SpeakerRecord,
    StoryProfile,
    StoryState,
    series_key,
)
from storage import serialize

T0 = datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
PLUS3 = timezone(timedelta(hours=3))


def sample_extraction() -> Extraction:
    return Extraction(
        figures=(
            Figure(
                metric=Metric.KILLED,
                quantity=Quantity(22, Qualifier.AT_LEAST, text="at least 22"),
                subject="Turkish soldiers",
                subject_group="soldiers",
                evidence=Evidence("At least 22 Turkish soldiers were killed.", 0, 41),
                attributed_to="Ministry of Defence",
                attributed_role="ministry",
                framed_as_update=True,
            ),
            Figure(
                metric=Metric.DISPLACED,
                quantity=Quantity(24, Qualifier.APPROXIMATE, high=99, text="dozens"),
                subject="families",
                subject_group="families",
                evidence=Evidence("Dozens of families fled.", 42, 66),
                scope=Scope(ScopeKind.LOCAL, "hatay"),
                temporal=Temporal.EARLIER,
            ),
        ),
        statements=(
            Statement(
                speaker="Fahrettin Altun",
                role="communications director",
                verb="say",
                text="We will respond.",
                direct=True,
                evidence=Evidence('"We will respond," Altun said.', 67, 97),
                aliases=("Mr Altun", "Altun"),
            ),
        ),
    )


def sample_step(value: float, source: str, at: datetime, **kw: object) -> FigureStep:
    return FigureStep(
        quantity=Quantity(value, Qualifier.AT_LEAST, text=f"at least {value:g}"),
        source=source,
        article_id="url:https://example.org/a",
        outlet="Example",
        url="https://example.org/a",
        sentence=f"At least {value:g} killed.",
        at=at,
        **kw,  # type: ignore[arg-type]
    )


def sample_state() -> StoryState:
    scope = Scope()
    key = series_key(Metric.KILLED, "soldiers", scope)
    steps = (
        sample_step(9, "outlet", T0, earlier=True),
        sample_step(22, "MoD", T0 + timedelta(hours=2)),
    )
    return StoryState(
        series={
            key: Series(
                metric=Metric.KILLED,
                subject_group="soldiers",
                subject="Turkish soldiers",
                scope=scope,
                lineage=steps,
                by_source={"MoD": steps[1], "outlet": steps[0]},
                alerted_conflicts=("MoD=22",),
                confirmations=2,
            )
        },
        speakers={
            "altun": SpeakerRecord(
                "Fahrettin Altun", "director", ("Altun",), "url:https://example.org/a", 2
            )
        },
        tracked=True,
    )


def sample_profile() -> StoryProfile:
    return StoryProfile(
        terms={"strike": 1.5, "soldiers": 0.75},
        places=("Hatay", "Idlib"),
        first_at=datetime(2024, 3, 1, 11, 0, tzinfo=PLUS3),
        last_at=T0 + timedelta(days=1),
        article_count=3,
        # Quantity.interval() of "at least 22": open above. Must survive JSON.
        facts={"killed|soldiers|event": (22.0, math.inf), "injured|people|event": (5.0, 5.0)},
    )


def sample_alert(**kw: object) -> Alert:
    fields: dict[str, object] = {
        "type": AlertType.FIGURE_RISE,
        "severity": Severity.HIGH,
        "story_id": "abc234",
        "story_title": "Strike kills soldiers",
        "article_id": "url:https://example.org/a",
        "url": "https://example.org/a",
        "outlet": "Example",
        "published": datetime(2024, 3, 1, 11, 0, tzinfo=PLUS3),
        "summary": "Killed: 9 → 22 (MoD)",
        "metric": "killed",
        "value": 22.0,
        "previous": 9.0,
        "history": (sample_step(9, "outlet", T0), sample_step(22, "MoD", T0 + timedelta(hours=1))),
    }
    fields.update(kw)
    return Alert(**fields)  # type: ignore[arg-type]


def _no_infinity(data: object) -> None:
    text = json.dumps(data, allow_nan=False)  # raises on inf/nan: PostgreSQL would reject them
    assert "Infinity" not in text.replace('"Infinity"', "")


def test_extraction_round_trip() -> None:
    ex = sample_extraction()
    data = serialize.dump_extraction(ex)
    _no_infinity(data)
    # Quantity.interval() is a method, not a field: nothing of it is stored.
    assert "interval" not in json.dumps(data)
    assert data["figures"][0]["metric"] == "killed"
    assert data["figures"][0]["quantity"]["qualifier"] == "at least"
    back = serialize.load_extraction(json.loads(json.dumps(data)))
    assert back == ex
    assert isinstance(back.figures, tuple)
    assert back.figures[0].metric is Metric.KILLED
    assert back.statements[0].aliases == ("Mr Altun", "Altun")


def test_state_round_trip() -> None:
    state = sample_state()
    data = serialize.dump_state(state)
    _no_infinity(data)
    back = serialize.load_state(json.loads(json.dumps(data)))
    assert back == state
    series = next(iter(back.series.values()))
    assert isinstance(series.lineage, tuple)
    assert isinstance(series.by_source["MoD"], FigureStep)
    assert series.head is not None and series.head.quantity.value == 22
    assert series.lineage[0].at.utcoffset() == timedelta(0)


def test_profile_round_trip_keeps_infinite_intervals() -> None:
    profile = sample_profile()
    data = serialize.dump_profile(profile)
    _no_infinity(data)
    back = serialize.load_profile(json.loads(json.dumps(data, allow_nan=False)))
    assert back == profile
    assert back.facts["killed|soldiers|event"] == (22.0, math.inf)
    assert isinstance(back.facts["injured|people|event"], tuple)
    assert back.first_at is not None and back.first_at.utcoffset() == timedelta(hours=3)
    assert back.places == ("Hatay", "Idlib")


def test_negative_infinity_and_nan_survive() -> None:
    profile = StoryProfile(facts={"a": (-math.inf, 0.0), "b": (math.nan, 1.0)})
    back = serialize.load_profile(
        json.loads(json.dumps(serialize.dump_profile(profile), allow_nan=False))
    )
    assert back.facts["a"] == (-math.inf, 0.0)
    assert math.isnan(back.facts["b"][0])


def test_alert_round_trip() -> None:
    alert = sample_alert()
    data = serialize.dump_alert(alert)
    _no_infinity(data)
    assert data["type"] == "figure_rise" and data["severity"] == "high"
    back = serialize.load_alert(json.loads(json.dumps(data)))
    assert back == alert
    assert back.key == alert.key
    assert back.type is AlertType.FIGURE_RISE
    assert isinstance(back.history, tuple) and back.history[1].source == "MoD"


def test_empty_defaults_round_trip() -> None:
    assert serialize.load_state(serialize.dump_state(StoryState())) == StoryState()
    assert serialize.load_profile(serialize.dump_profile(StoryProfile())) == StoryProfile()
    assert serialize.load_extraction(serialize.dump_extraction(Extraction())) == Extraction()
