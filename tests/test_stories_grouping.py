"""Grouping articles into stories, online, in arrival order.

The feed: the five seed reports of the Idlib strike on Turkish soldiers (27–28 Feb
2020) interleaved with twelve wire-style articles from the same days
(tests/data/stories/): two rewritten reports of one ferry disaster, two different
earthquakes, a typhoon, a train crash, markets, a rate decision, a budget, football,
and two Syria reports from the same place on other days.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
from bot.domain.stories import Story, story_id_for
from bot.stories.grouping import GroupingConfig, StoryMatch, choose_story, score_story
from bot.stories.similarity import article_features, cosine, new_profile, update_profile
from bot.stories.terms import article_terms

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "stories"

_DATE_LINE = re.compile(r"^\s*date (\d{4}-\d{2}-\d{2})\s*")

# ---------------------------------------------------------------- helpers


def fig(
    metric: Metric,
    value: float,
    group: str,
    qualifier: Qualifier = Qualifier.EXACT,
    *,
    high: float | None = None,
    scope: Scope | None = None,
    temporal: Temporal = Temporal.CURRENT,
) -> Figure:
    return Figure(
        metric=metric,
        quantity=Quantity(value, qualifier, high),
        subject=group,
        subject_group=group,
        evidence=Evidence("", 0, 0),
        scope=scope or Scope(),
        temporal=temporal,
    )


K, INJ, M = Metric.KILLED, Metric.INJURED, Metric.MISSING
AT_LEAST, ABOUT, MORE_THAN = Qualifier.AT_LEAST, Qualifier.ABOUT, Qualifier.MORE_THAN
DOZENS = Qualifier.APPROXIMATE

EXTRACTIONS: dict[str, Extraction] = {
    "seed003": Extraction(
        figures=(
            fig(K, 22, "soldiers", AT_LEAST),
            fig(K, 9, "soldiers", temporal=Temporal.EARLIER),
            fig(
                Metric.DISPLACED,
                1_000_000,
                "people",
                Qualifier.NEARLY,
                scope=Scope(ScopeKind.CUMULATIVE, "since december"),
            ),
        )
    ),
    "seed002": Extraction(
        figures=(
            fig(K, 29, "soldiers", AT_LEAST),
            fig(K, 9, "soldiers", temporal=Temporal.EARLIER),
            fig(K, 34, "soldiers"),
            fig(INJ, 39, "soldiers"),
        )
    ),
    "seed000": Extraction(
        figures=(fig(K, 33, "soldiers", AT_LEAST), fig(K, 24, "soldiers", DOZENS, high=99))
    ),
    "seed001": Extraction(figures=(fig(K, 33, "soldiers"), fig(INJ, 39, "soldiers"))),
    "seed004": Extraction(
        figures=(
            fig(K, 33, "soldiers", AT_LEAST),
            fig(INJ, 24, "soldiers", DOZENS, high=99),
            fig(K, 54, "soldiers", scope=Scope(ScopeKind.CUMULATIVE, "this month")),
        )
    ),
    "ferry_indonesia_a": Extraction(
        figures=(
            fig(K, 12, "people", AT_LEAST),
            fig(M, 30, "people", ABOUT),
            fig(Metric.RESCUED, 151, "people"),
        )
    ),
    "ferry_indonesia_b": Extraction(
        figures=(fig(K, 13, "people"), fig(M, 29, "people"), fig(Metric.RESCUED, 151, "people"))
    ),
    "quake_peru": Extraction(figures=(fig(K, 4, "people", AT_LEAST), fig(INJ, 35, "people"))),
    "quake_iran": Extraction(figures=(fig(K, 3, "people"), fig(INJ, 75, "people"))),
    "typhoon_philippines": Extraction(
        figures=(
            fig(K, 7, "people"),
            fig(Metric.EVACUATED, 40_000, "people", MORE_THAN),
            fig(M, 2, "people"),
        )
    ),
    "train_crash_egypt": Extraction(figures=(fig(K, 2, "people"), fig(INJ, 15, "people"))),
    "syria_market_strike": Extraction(
        figures=(fig(K, 15, "civilians"), fig(INJ, 40, "civilians", MORE_THAN))
    ),
    "idlib_earlier": Extraction(figures=(fig(K, 2, "soldiers"), fig(INJ, 5, "soldiers"))),
}

# Undated seeds arrive on 28 Feb in the afternoon; dated articles 15 minutes after publication.
SEED_ARRIVALS = {
    "seed003": datetime(2020, 2, 27, 22, 0, tzinfo=UTC),
    "seed002": datetime(2020, 2, 28, 7, 0, tzinfo=UTC),
    "seed000": datetime(2020, 2, 28, 12, 0, tzinfo=UTC),
    "seed001": datetime(2020, 2, 28, 13, 0, tzinfo=UTC),
    "seed004": datetime(2020, 2, 28, 14, 0, tzinfo=UTC),
}


def load_seed(key: str) -> Article:
    """A seed file: strip the leading " date YYYY-MM-DD" marker, title = first line."""
    (path,) = SEEDS.glob(f"{key.removeprefix('seed')}_*.txt")
    raw = path.read_text(encoding="utf-8")
    published = None
    m = _DATE_LINE.match(raw)
    if m:
        published = datetime.fromisoformat(m.group(1)).replace(tzinfo=UTC)
        raw = raw[m.end() :]
    text = raw.strip()
    title = text.splitlines()[0][:120]
    return Article.create(
        title=title, text=text, outlet="seed", filename=path.name, published=published
    )


def load_case(stem: str) -> Article:
    """A test article: "key: value" header lines (date, outlet, title), blank line, body."""
    path = DATA / f"{stem}.txt"
    head, body = path.read_text(encoding="utf-8").split("\n\n", 1)
    meta = dict(line.split(": ", 1) for line in head.splitlines())
    return Article.create(
        title=meta["title"],
        text=body.strip(),
        outlet=meta["outlet"],
        filename=path.name,
        published=datetime.fromisoformat(meta["date"].replace("Z", "+00:00")),
    )


def load(key: str) -> Article:
    return load_seed(key) if key.startswith("seed") else load_case(key)


def arrival(key: str, article: Article) -> datetime:
    if key in SEED_ARRIVALS:
        return SEED_ARRIVALS[key]
    assert article.published is not None
    return article.published + timedelta(minutes=15)


def extraction(key: str) -> Extraction:
    return EXTRACTIONS.get(key, Extraction())


def run_feed(
    items: Iterable[tuple[str, Article, Extraction, datetime]],
    config: GroupingConfig | None = None,
) -> tuple[dict[str, str], dict[str, Story], list[tuple[str, StoryMatch | None]]]:
    """Feed articles one at a time; returns article key → story id, the stories, the decisions."""
    stories: dict[str, Story] = {}
    assigned: dict[str, str] = {}
    log: list[tuple[str, StoryMatch | None]] = []
    for key, article, ext, at in items:
        match = choose_story(
            article, ext, at, list(stories.values()), config=config or GroupingConfig()
        )
        log.append((key, match))
        if match is None:
            sid = story_id_for(article.id)
            stories[sid] = Story(
                id=sid,
                title=article.title,
                created_at=at,
                updated_at=at,
                profile=new_profile(article_features(article, ext, at)),
            )
        else:
            sid = match.story.id
            old = stories[sid]
            stories[sid] = replace(
                old,
                updated_at=at,
                profile=update_profile(old.profile, article_features(article, ext, at)),
            )
        assigned[key] = sid
    return assigned, stories, log


CASES = sorted(p.stem for p in DATA.glob("*.txt"))
SEED_ORDER = ["seed003", "seed002", "seed000", "seed001", "seed004"]


def full_feed() -> list[tuple[str, Article, Extraction, datetime]]:
    items = []
    for key in SEED_ORDER + CASES:
        article = load(key)
        items.append((key, article, extraction(key), arrival(key, article)))
    items.sort(key=lambda it: (it[3], it[0]))
    return items


def groups(assigned: dict[str, str]) -> set[frozenset[str]]:
    by_story: dict[str, set[str]] = {}
    for key, sid in assigned.items():
        by_story.setdefault(sid, set()).add(key)
    return {frozenset(v) for v in by_story.values()}


def seed_story() -> Story:
    items = [(k, load(k), extraction(k), SEED_ARRIVALS[k]) for k in SEED_ORDER]
    _, stories, _ = run_feed(items)
    (story,) = stories.values()
    return story


# ---------------------------------------------------------------- the feed


def test_test_set_is_large_enough() -> None:
    assert len(CASES) >= 12
    for stem in CASES:
        words = len(load_case(stem).text.split())
        assert 150 <= words <= 400, (stem, words)


def test_feed_groups_exactly() -> None:
    items = full_feed()
    # the seeds arrive in the order 003, 002, 000, 001, 004
    assert [k for k, *_ in items if k.startswith("seed")] == SEED_ORDER
    assigned, _, log = run_feed(items)
    expected = {frozenset(SEED_ORDER), frozenset({"ferry_indonesia_a", "ferry_indonesia_b"})}
    expected |= {frozenset({k}) for k in CASES if not k.startswith("ferry_")}
    decisions = "\n".join(f"{k}: {m.reasons() if m else 'new'}" for k, m in log)
    assert groups(assigned) == expected, decisions


def test_seeds_alone_form_one_story_without_facts() -> None:
    """Text, names and time suffice for the seeds; facts are not needed to join them."""
    items = [(k, load(k), Extraction(), SEED_ARRIVALS[k]) for k in SEED_ORDER]
    _, stories, _ = run_feed(items)
    assert len(stories) == 1
    (story,) = stories.values()
    assert story.profile.article_count == 5
    assert {"idlib", "hatay", "turkish"} <= set(story.profile.places)


@pytest.mark.parametrize(
    "order",
    [
        list(reversed(SEED_ORDER)),
        ["seed004", "seed003", "seed001", "seed002", "seed000"],
        ["seed001", "seed000", "seed004", "seed002", "seed003"],
    ],
)
@pytest.mark.parametrize("with_facts", [True, False])
def test_seeds_form_one_story_in_other_orders(order: list[str], with_facts: bool) -> None:
    items = [
        (k, load(k), extraction(k) if with_facts else Extraction(), SEED_ARRIVALS[k]) for k in order
    ]
    _, stories, log = run_feed(items)
    assert len(stories) == 1, [(k, m.reasons() if m else "new") for k, m in log]


def test_seed_story_profile_facts() -> None:
    story = seed_story()
    facts = story.profile.facts
    lo, hi = facts["killed|soldiers|event"]
    assert (lo, hi) == (33, 33)  # 22+ → 29+ (29–34) → 33+ → exactly 33 (seed 001)
    assert facts["injured|soldiers|event"][0] <= 39 <= facts["injured|soldiers|event"][1]
    # cumulative and earlier figures are not the event's current value
    assert not any("cumulative" in k for k in facts)


def test_matches_carry_reasons() -> None:
    story = seed_story()
    article = load_case("idlib_earlier")
    late = replace(article, published=datetime(2020, 2, 28, 18, 0, tzinfo=UTC))
    match = score_story_for(late, Extraction(), story)
    assert match is not None
    assert match.similarity > 0.3
    assert {"idlib", "hatay"} <= set(match.shared_names)
    assert match.gap == timedelta(hours=4)
    assert "similarity=" in match.reasons()


def score_story_for(article: Article, ext: Extraction, story: Story) -> StoryMatch | None:
    at = article.published or datetime(2020, 2, 28, 12, tzinfo=UTC)
    return score_story(article_features(article, ext, at), story)


# ---------------------------------------------------------------- same place, other incident


@pytest.mark.parametrize("stem", ["idlib_earlier", "syria_market_strike"])
def test_same_place_other_incident_within_window_needs_facts(stem: str) -> None:
    """Moved to the day after the strike, the other Idlib incidents read like the story.

    Text and names alone would join them (the reason time and facts take part); the
    figures — a lower soldiers' toll reported later, or other victims — keep them apart.
    """
    story = seed_story()
    article = replace(load_case(stem), published=datetime(2020, 2, 29, 10, 0, tzinfo=UTC))
    at = datetime(2020, 2, 29, 10, 15, tzinfo=UTC)
    without_facts = choose_story(article, Extraction(), at, [story])
    assert without_facts is not None and without_facts.story_id == story.id
    assert choose_story(article, extraction(stem), at, [story]) is None


@pytest.mark.parametrize("stem", ["idlib_earlier", "syria_market_strike"])
def test_same_place_other_day_is_out_of_time(stem: str) -> None:
    story = seed_story()
    article = load_case(stem)
    assert article.published is not None
    assert choose_story(article, Extraction(), article.published, [story]) is None


def test_agreeing_facts_raise_the_score() -> None:
    story = seed_story()
    article = load_seed("seed001")
    plain = score_story_for(article, Extraction(), story)
    agreeing = score_story_for(article, extraction("seed001"), story)
    assert plain is not None and agreeing is not None
    assert agreeing.score > plain.score
    assert agreeing.facts.agreeing == ("injured|soldiers|event", "killed|soldiers|event")


def test_stale_lower_toll_inside_the_span_still_joins() -> None:
    """A late copy of the first report ("nine soldiers killed") is not another incident."""
    story = seed_story()
    article = replace(load_seed("seed003"), published=datetime(2020, 2, 28, 1, 0, tzinfo=UTC))
    stale = Extraction(figures=(fig(K, 9, "soldiers"),))
    match = choose_story(article, stale, article.published or datetime.now(UTC), [story])
    assert match is not None and match.facts.conflicting == ("killed|soldiers|event",)


def test_article_beyond_max_gap_never_joins() -> None:
    story = seed_story()
    article = load_seed("seed001")
    assert story.profile.last_at is not None
    later = story.profile.last_at + timedelta(hours=72, minutes=1)
    assert choose_story(article, extraction("seed001"), later, [story]) is None
    just_in = story.profile.last_at + timedelta(hours=71)
    match = choose_story(article, extraction("seed001"), just_in, [story])
    assert match is not None
    # the score decays with the gap
    now = choose_story(article, extraction("seed001"), story.profile.last_at, [story])
    assert now is not None and now.score > match.score


def test_undated_article_uses_arrival_time_and_naive_times_are_utc() -> None:
    story = seed_story()
    article = load_seed("seed001")
    assert article.published is None
    naive = datetime(2020, 2, 28, 15, 0)
    match = choose_story(article, Extraction(), naive, [story])
    assert match is not None and match.gap == timedelta(hours=1)


def test_ties_go_to_the_smaller_story_id() -> None:
    story = seed_story()
    twins = [replace(story, id="zzzzzz"), replace(story, id="bbbbbb"), replace(story, id="mmmmmm")]
    article = load_seed("seed001")
    match = choose_story(article, Extraction(), SEED_ARRIVALS["seed001"], twins)
    assert match is not None and match.story_id == "bbbbbb"


def test_threshold_is_configurable() -> None:
    story = seed_story()
    article = load_seed("seed001")
    strict = GroupingConfig(threshold=5.0)
    assert (
        choose_story(article, Extraction(), SEED_ARRIVALS["seed001"], [story], config=strict)
        is None
    )


# ---------------------------------------------------------------- similarity ranges


def _vectors() -> dict[str, dict[str, float]]:
    return {k: article_terms(a.title, a.text) for k in SEED_ORDER + CASES for a in [load(k)]}


def test_similarity_ranges() -> None:
    """Seeds pairwise vs unrelated news (the same-place Syria reports are the known exception)."""
    vec = _vectors()
    seeds = [cosine(vec[a], vec[b]) for a, b in itertools.combinations(SEED_ORDER, 2)]
    unrelated_keys = [k for k in CASES if k not in {"idlib_earlier", "syria_market_strike"}]
    unrelated = [cosine(vec[s], vec[u]) for s in SEED_ORDER for u in unrelated_keys]
    others = [
        cosine(vec[a], vec[b])
        for a, b in itertools.combinations(CASES, 2)
        if {a, b} != {"ferry_indonesia_a", "ferry_indonesia_b"}
        and {a, b} != {"idlib_earlier", "syria_market_strike"}
    ]
    print(f"seeds pairwise {min(seeds):.2f}-{max(seeds):.2f}")
    print(f"seeds vs unrelated {min(unrelated):.2f}-{max(unrelated):.2f}")
    print(f"unrelated pairwise max {max(others):.2f}")
    assert min(seeds) >= 0.30
    assert max(unrelated) <= 0.15
    assert max(others) <= 0.25
    assert cosine(vec["ferry_indonesia_a"], vec["ferry_indonesia_b"]) >= 0.40


# ---------------------------------------------------------------- speed


def test_choose_story_is_fast_over_200_candidates() -> None:
    story = seed_story()
    candidates = [replace(story, id=f"s{i:05d}") for i in range(200)]
    article = load_seed("seed000")
    text = (article.text * 2)[:4096]
    big = replace(article, text=text)
    at = SEED_ARRIVALS["seed000"]
    choose_story(big, extraction("seed000"), at, candidates)  # warm caches
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        choose_story(big, extraction("seed000"), at, candidates)
    per_call = (time.perf_counter() - start) / runs
    print(f"choose_story over 200 candidates, 4 KB article: {per_call * 1000:.2f} ms")
    assert per_call < 0.05  # budget 10 ms; generous here for loaded CI machines


# ---------------------------------------------------------------- with the real extractor


def test_seeds_group_with_the_real_extractor() -> None:
    extract_mod = pytest.importorskip("bot.extract")
    extract = getattr(extract_mod, "extract", None)
    if extract is None:
        pytest.skip("bot.extract.extract is not written yet")
    items = [(k, a, extract(a), SEED_ARRIVALS[k]) for k in SEED_ORDER for a in [load(k)]]
    _, stories, log = run_feed(items)
    assert len(stories) == 1, [(k, m.reasons() if m else "new") for k, m in log]
