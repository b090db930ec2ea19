"""Story profiles: what a story looks like to grouping, kept small and JSON-friendly.

A profile is updated with every article the story takes in, so it must stay
bounded however long the story runs: at most ``MAX_TERMS`` terms and
``MAX_PLACES`` names, and one interval per figure series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.stories import EventSignature, StoryProfile, series_key
from bot.stories.signature import article_signature, merge_signature
from bot.stories.terms import article_terms, normalise, salient_names

MAX_TERMS = 300
"""Terms kept in a profile: enough for a story's vocabulary, small enough to score fast."""
MAX_PLACES = 40
"""Names kept in a profile."""
ARTICLE_NAMES = 20
"""Names of one article that take part in grouping: the rest are passing mentions."""
CENTROID_MEMORY = 10
"""The profile's terms are a running mean over at most this many articles, then an
exponential moving average: a story that runs for days drifts with its vocabulary
(strike → retaliation → NATO talks) instead of being frozen by its first reports."""
OPEN_HIGH = 1e15
"""Stored in place of an unbounded upper end ("at least 33" → (33, OPEN_HIGH)):
profiles are persisted as JSON, which has no infinity."""


def as_utc(dt: datetime) -> datetime:
    """Timezone-aware UTC; a naive datetime is taken to be UTC (feeds often omit the zone)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def article_time(article: Article, at: datetime) -> datetime:
    """When the article speaks of: its publication time, else when it arrived."""
    return as_utc(article.published if article.published is not None else at)


def dot(a: dict[str, float], b: dict[str, float]) -> float:
    """Dot product of two sparse vectors, over their shared terms only.

    The key intersection runs in C, so scoring an article against a story it shares
    few words with (most candidates) costs little.
    """
    return sum([a[t] * b[t] for t in a.keys() & b.keys()])


def norm(vec: dict[str, float]) -> float:
    """Euclidean length of a sparse vector."""
    return math.hypot(*vec.values()) if vec else 0.0


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine similarity of two sparse vectors (0.0 if either is empty or zero)."""
    d = dot(a, b)
    return d / (norm(a) * norm(b)) if d else 0.0


def _finite(interval: tuple[float, float]) -> tuple[float, float]:
    lo, hi = interval
    return (max(0.0, lo), hi if math.isfinite(hi) and hi < OPEN_HIGH else OPEN_HIGH)


def article_facts(extraction: Extraction) -> dict[str, tuple[float, float]]:
    """Series key → interval of the article's current event-scope values.

    When an article gives several values for one series (the governor's 29, the
    monitor's 34) the interval spans them all: the article is consistent with either.
    """
    facts: dict[str, tuple[float, float]] = {}
    for f in extraction.impact_figures:
        key = series_key(f.metric, f.subject_group, f.scope)
        lo, hi = _finite(f.quantity.interval())
        if key in facts:
            plo, phi = facts[key]
            lo, hi = min(lo, plo), max(hi, phi)
        facts[key] = (lo, hi)
    return facts


def merge_fact(old: tuple[float, float], new: tuple[float, float]) -> tuple[float, float]:
    """The story's interval after an article reports ``new`` for a series it had at ``old``.

    Tolls rise: a value above the story's range replaces it (22 → 29 → 33). An
    overlapping value narrows it ("at least 33" then "33" → 33). A value below the
    story's range is a late or stale report and does not lower the story's toll.
    """
    olo, ohi = old
    nlo, nhi = new
    if nlo > ohi:
        return new
    if nhi < olo:
        return old
    return (max(olo, nlo), min(ohi, nhi))


def _merge_places(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    """Rank names by a decayed vote: the profile's order counts fully, the article's half.

    Names both agree on rise; a name the new article stresses can displace the
    profile's tail, so the list follows the story without counts being stored.
    """
    score: dict[str, float] = {}
    for i, n in enumerate(old):
        score[n] = score.get(n, 0.0) + (len(old) - i) / len(old)
    for j, n in enumerate(new):
        score[n] = score.get(n, 0.0) + 0.5 * (len(new) - j) / len(new)
    return tuple(sorted(score, key=lambda n: (-score[n], n))[:MAX_PLACES])


def _top_terms(vec: dict[str, float]) -> dict[str, float]:
    if len(vec) > MAX_TERMS:
        vec = dict(sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS])
    return normalise(vec)


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """What grouping and profiles need from an article: computed once per article.

    Tokenising and weighting an article is the costly part of grouping; the same
    features score every candidate story and then update the chosen story's profile.
    """

    terms: dict[str, float]
    places: tuple[str, ...]
    """The article's names, most frequent first (at most ``MAX_PLACES``)."""
    facts: dict[str, tuple[float, float]]
    at: datetime
    norm: float = 1.0
    """Length of ``terms`` (1 for ``article_terms`` output; kept so cosine needs one norm)."""
    signature: EventSignature = field(default_factory=EventSignature)
    """What happened, where, and the event's name (see ``bot.stories.signature``)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The names that take part in grouping (the rest are passing mentions)."""
        return self.places[:ARTICLE_NAMES]


def article_features(article: Article, extraction: Extraction, at: datetime) -> ArticleFeatures:
    """Terms, names, facts and time of an article (``at`` stands in for a missing date)."""
    terms = article_terms(article.title, article.text)
    return ArticleFeatures(
        terms=terms,
        places=salient_names(f"{article.title}\n{article.text}")[:MAX_PLACES],
        facts=article_facts(extraction),
        at=article_time(article, at),
        norm=norm(terms),
        signature=article_signature(article.title, article.text),
    )


def new_profile(features: ArticleFeatures) -> StoryProfile:
    """The profile of a story that starts with this article."""
    return StoryProfile(
        terms=_top_terms(features.terms),
        places=features.places,
        first_at=features.at,
        last_at=features.at,
        article_count=1,
        facts=dict(features.facts),
        signature=features.signature,
    )


def update_profile(profile: StoryProfile, features: ArticleFeatures) -> StoryProfile:
    """The profile after the story takes in ``article``.

    Terms: running centroid (see ``CENTROID_MEMORY``), top ``MAX_TERMS``, unit length.
    Places: decayed vote, top ``MAX_PLACES``. Times: widened to include the article's
    time (an old report arriving late can move ``first_at`` back). Facts: per series,
    ``merge_fact``; finite numbers only (``OPEN_HIGH`` for "no upper bound").
    """
    when = features.at
    n = min(profile.article_count, CENTROID_MEMORY)
    merged = {t: w * n for t, w in profile.terms.items()}
    for t, w in features.terms.items():
        merged[t] = merged.get(t, 0.0) + w
    names = features.names
    facts = dict(profile.facts)
    for key, interval in features.facts.items():
        facts[key] = merge_fact(facts[key], interval) if key in facts else interval
    first = profile.first_at
    last = profile.last_at
    return StoryProfile(
        terms=_top_terms(merged),
        places=_merge_places(profile.places, names),
        first_at=when if first is None else min(as_utc(first), when),
        last_at=when if last is None else max(as_utc(last), when),
        article_count=profile.article_count + 1,
        facts=facts,
        signature=merge_signature(profile.signature, features.signature, profile.article_count),
    )
