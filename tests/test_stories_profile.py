"""Story profiles: creation, bounded updates, facts as finite intervals, fact agreement."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from bot.domain.articles import Article
from bot.domain.claims import (
    Evidence,
    Extraction,
    Figure,
    Metric,
    Qualifier,
    Quantity,
    Scope,
    ScopeKind,
    Temporal,
)
from bot.stories.grouping import GroupingConfig, fact_agreement
from bot.stories.similarity import (
    MAX_PLACES,
    MAX_TERMS,
    OPEN_HIGH,
    article_facts,
    article_features,
    cosine,
    merge_fact,
    new_profile,
    update_profile,
)

T0 = datetime(2020, 2, 27, 20, 0, tzinfo=UTC)
SOLDIERS = "killed|soldiers|event"


def fig(
    value: float,
    qualifier: Qualifier = Qualifier.EXACT,
    *,
    metric: Metric = Metric.KILLED,
    group: str = "soldiers",
    scope: Scope | None = None,
    temporal: Temporal = Temporal.CURRENT,
) -> Figure:
    return Figure(
        metric=metric,
        quantity=Quantity(value, qualifier),
        subject=group,
        subject_group=group,
        evidence=Evidence("", 0, 0),
        scope=scope or Scope(),
        temporal=temporal,
    )


def art(text: str, published: datetime | None = None, name: str = "a.txt") -> Article:
    return Article.create(title="", text=text, filename=name, published=published)


def test_cosine_basics() -> None:
    assert cosine({}, {"a": 1.0}) == 0.0
    assert math.isclose(cosine({"a": 1.0, "b": 1.0}, {"a": 2.0, "b": 2.0}), 1.0)
    assert cosine({"a": 1.0}, {"b": 1.0}) == 0.0
    assert math.isclose(cosine({"a": 1.0, "b": 1.0}, {"a": 1.0}), 1 / math.sqrt(2))


def test_article_facts_keep_current_event_values_as_finite_hulls() -> None:
    ext = Extraction(
        figures=(
            fig(29, Qualifier.AT_LEAST),
            fig(34),
            fig(9, temporal=Temporal.EARLIER),
            fig(54, scope=Scope(ScopeKind.CUMULATIVE, "this month")),
            fig(39, metric=Metric.INJURED),
        )
    )
    facts = article_facts(ext)
    assert facts == {SOLDIERS: (29, OPEN_HIGH), "injured|soldiers|event": (39, 39)}
    assert all(math.isfinite(v) for iv in facts.values() for v in iv)


def test_merge_fact_rises_narrows_and_ignores_lower() -> None:
    assert merge_fact((22, OPEN_HIGH), (29, 29)) == (29, 29)  # narrows
    assert merge_fact((29, 29), (33, OPEN_HIGH)) == (33, OPEN_HIGH)  # rises
    assert merge_fact((33, OPEN_HIGH), (33, 33)) == (33, 33)
    assert merge_fact((33, 33), (9, 9)) == (33, 33)  # a stale report does not lower it


def test_new_and_updated_profile() -> None:
    a = art("Turkish soldiers were killed in Idlib near Saraqeb.", T0)
    ext = Extraction(figures=(fig(22, Qualifier.AT_LEAST),))
    p = new_profile(article_features(a, ext, T0 + timedelta(hours=1)))
    assert p.first_at == p.last_at == T0  # published time wins over arrival
    assert p.article_count == 1
    assert p.facts == {SOLDIERS: (22, OPEN_HIGH)}
    assert "saraqeb" in p.places and "idlib" in p.terms

    undated = art("Hatay governor said 29 Turkish soldiers were killed in Idlib.", name="b.txt")
    arrival = datetime(2020, 2, 28, 9, 0)  # naive: taken as UTC
    p2 = update_profile(p, article_features(undated, Extraction(figures=(fig(29),)), arrival))
    assert p2.article_count == 2
    assert p2.first_at == T0
    assert p2.last_at == arrival.replace(tzinfo=UTC)
    assert p2.facts == {SOLDIERS: (29, 29)}
    assert "hatay" in p2.places and "hatay" in p2.terms
    assert math.isclose(math.hypot(*p2.terms.values()), 1.0)

    older = art("Early report: soldiers killed in Idlib.", T0 - timedelta(hours=5), "c.txt")
    p3 = update_profile(p2, article_features(older, Extraction(), T0 + timedelta(days=1)))
    assert p3.first_at == T0 - timedelta(hours=5)
    assert p3.last_at == p2.last_at


def _letters(n: int) -> str:
    """A made-up word wordfreq does not know (a name: maximal weight)."""
    out = "zq"
    while True:
        n, r = divmod(n, 26)
        out += chr(ord("a") + r)
        if n == 0:
            return out


def test_profile_stays_bounded_and_json_friendly() -> None:
    p = new_profile(article_features(art("Idlib."), Extraction(), T0))
    for i in range(30):
        words = " ".join(_letters(i * 100 + j).capitalize() for j in range(60))
        ext = Extraction(figures=(fig(i + 1, Qualifier.AT_LEAST),))
        p = update_profile(
            p, article_features(art(f"Soldiers met {words} in Idlib.", name=f"{i}.txt"), ext, T0)
        )
    assert len(p.terms) <= MAX_TERMS
    assert len(p.places) <= MAX_PLACES
    assert p.article_count == 31
    assert p.facts == {SOLDIERS: (30, OPEN_HIGH)}
    payload = json.dumps(asdict(p), default=str, allow_nan=False)  # no inf, no NaN
    assert "zqa" in payload


def test_fact_agreement_cases() -> None:
    story = {SOLDIERS: (29.0, 34.0), "injured|soldiers|event": (39.0, 39.0)}
    agree = fact_agreement({SOLDIERS: (33.0, OPEN_HIGH)}, story)
    assert agree.agreement == 1.0 and agree.agreeing == (SOLDIERS,)
    rise = fact_agreement({SOLDIERS: (40.0, 40.0)}, story)
    assert rise.agreement == 0.5
    sources_differ = fact_agreement({SOLDIERS: (25.0, 25.0)}, story)  # within 25 %
    assert sources_differ.agreement == 0.0 and not sources_differ.conflicting
    lower_later = fact_agreement({SOLDIERS: (2.0, 2.0)}, story)
    assert lower_later.agreement == -1.0 and lower_later.conflicting == (SOLDIERS,)
    lower_stale = fact_agreement({SOLDIERS: (9.0, 9.0)}, story, newer=False)
    assert lower_stale.agreement == -GroupingConfig().stale_lower
    other_victims = fact_agreement({"killed|civilians|event": (15.0, 15.0)}, story)
    assert other_victims.agreement == -GroupingConfig().victim_clash
    generic = fact_agreement({"killed|people|event": (33.0, 33.0)}, story)
    assert generic.agreement == 0.0 and not generic.conflicting
    other_harm = fact_agreement({"evacuated|people|event": (500.0, 500.0)}, story)
    assert other_harm.agreement == -GroupingConfig().other_metrics
    assert fact_agreement({}, story).agreement == 0.0
    assert fact_agreement({SOLDIERS: (1.0, 1.0)}, {}).agreement == 0.0
