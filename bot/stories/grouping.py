"""Choosing the story an article belongs to, online, in arrival order.

Text similarity alone cannot decide: every method rates a report from the same
place on another day as highly similar to the story, and rates a fact sheet about
the story's own disaster as unlike the wire reports. So an article is compared with
each candidate story on five things — words, names, the event signature (what
happened, where, which named event: ``bot.stories.signature``), time and facts — and
joins the best-scoring story only if the score clears a threshold; otherwise it
starts a new story.

    life   = story_life when the story is a one-off disaster the article also
             reports (same kind of event), else max_gap
    gap    = distance from the article's time to the story's [first_at, last_at]
             (beyond ``life``: the story is not a candidate at all)
    decay  = 1 - time_penalty × gap / life
    event  = w_kind × kind⁺ (if place ≥ 0) + w_place × place⁺ + w_event_name × name⁺
             (only for a one-off disaster: an air strike in Idlib identifies nothing)
    clash  = w_kind_clash × kind⁻ + w_place_clash × place⁻ (unless name⁺)
             + w_name_clash × name⁻
    score  = decay × (w_text × cosine
                      + w_names × names
                      + w_facts × min(1, cosine / facts_gate) × max(0, facts)
                      + event)
             - w_conflict × max(0, -facts) × (identified_conflict if the story is a
               one-off disaster and the signature identifies it, else 1)
             - clash

``cosine`` is that of the article's terms with the story's; ``names`` ∈ [0, 1] the
rarity-weighted amount of the article's names found among the story's; ``facts`` ∈
[-1, 1] the agreement of the article's figures with the story's (see
``fact_agreement``); ``kind``, ``place``, ``name`` ∈ [-1, 1] the signature's parts
(⁺ the agreeing part, ⁻ the clashing one). The best story at or above ``threshold`` wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.articles import Article
from bot.domain.claims import Extraction
from bot.domain.stories import Story
from bot.stories.signature import SignatureMatch, compare, is_lasting
from bot.stories.similarity import ArticleFeatures, article_features, as_utc, dot, norm
from bot.stories.terms import MAX_IDF, idf


@dataclass(frozen=True, slots=True)
class GroupingConfig:
    """Thresholds and weights of ``choose_story``.

    The word, name and fact weights were tuned on tests/data/stories; the event
    signature's weights were set so that the same kind of disaster in the same country
    (about 0.45) or under the same name (0.3) joins a story whatever its register, and
    checked on the real dev set: there the lowest join scores 0.61 (a report 44 days
    on), the highest rejected story 0.05."""

    threshold: float = 0.35
    """Minimum score to join a story. On the test set, unrelated news of the same days
    scored at most 0.23 against any story (two earthquakes a day apart); the seed reports
    joined their story with at least 0.49 in every one of their 120 arrival orders."""
    max_gap: timedelta = timedelta(hours=72)
    """An article further than this from a story's time span never joins it, unless both
    report the same one-off disaster (see ``story_life``). From
    ``CLAIMWATCH_CANDIDATE_WINDOW_HOURS``."""
    story_life: timedelta = timedelta(days=60)
    """How long a one-off disaster (earthquake, storm, flood, crash …) stays open to
    reports of the same kind of event: situation reports, fact sheets and "two months
    after the quake" pieces come for weeks. From ``CLAIMWATCH_STORY_LIFE_DAYS``."""
    time_penalty: float = 0.5
    """Share of the score lost at the end of the story's life (linearly): a report a day
    later is still news of the same event, but with less benefit of the doubt."""
    w_text: float = 1.0
    """Weight of the cosine of the article's terms with the story's."""
    w_names: float = 0.25
    """Weight of shared names and places."""
    names_saturation: float = 2.0
    """Sum of shared-name rarities (idf / MAX_IDF, 0–1 each) that counts as full agreement:
    two or three rare names ("Idlib", "Hatay", "Saraqeb") are enough."""
    w_facts: float = 0.15
    """Weight of agreeing figures (same series, overlapping or rising values)."""
    facts_gate: float = 0.25
    """Agreeing figures count fully only from this text similarity on, proportionally below:
    unrelated disasters agree by chance ("at least 4 killed" overlaps "7 killed"), so
    agreement corroborates what the words suggest and cannot make a match on its own."""
    w_conflict: float = 0.6
    """Weight of contradicting figures. Large on purpose: a newer report of a clearly lower
    toll, or of other victims, from the same place is the case text similarity gets wrong
    (cosine 0.4-0.5 with the story), and only facts can tell."""
    lower_tolerance: float = 0.25
    """A value up to this share below the story's range is sources disagreeing (29 vs 34),
    not a different incident."""
    stale_lower: float = 0.3
    """Conflict counted for a clearly lower value inside the story's time span (a late copy
    of an early report), instead of the full 1."""
    victim_clash: float = 0.8
    """Conflict counted when the article counts other victims for a metric the story has."""
    other_metrics: float = 0.3
    """Conflict counted when the two share no metric at all."""
    w_kind: float = 0.2
    """Weight of the same kind of event (share of event-type mentions in common)."""
    w_place: float = 0.25
    """Weight of the same place (share of place mentions in common, by country)."""
    w_event_name: float = 0.3
    """Weight of the same named event (a storm's name, a flight number)."""
    w_kind_clash: float = 0.4
    """Lost when both say what happened and it differs (an air crash, a shooting)."""
    w_place_clash: float = 0.6
    """Lost when both name places and share no country (unless they share the event's
    name: a storm moves from one country to the next). As much as a strong word match:
    a flood in Pakistan and a flood in Bangladesh the same week are written alike."""
    w_name_clash: float = 0.5
    """Lost when both name the event and the names differ (Harvey, Irma)."""
    identified_conflict: float = 0.25
    """Share of the figures' conflict counted when the signature identifies the event:
    a fact sheet that counts one province, or repeats an older figure, is still the
    same earthquake."""


@dataclass(frozen=True, slots=True)
class FactCheck:
    """How an article's figures compare with a story's."""

    agreement: float = 0.0
    """-1 (contradicts) … 0 (nothing to compare) … 1 (agrees)."""
    agreeing: tuple[str, ...] = ()
    conflicting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryMatch:
    """The chosen story, with the score and what made it."""

    story: Story
    score: float
    similarity: float
    """Cosine of the article's terms with the story's."""
    shared_names: tuple[str, ...]
    gap: timedelta
    """Distance from the article's time to the story's time span (zero inside it)."""
    facts: FactCheck = field(default_factory=FactCheck)
    event: SignatureMatch = field(default_factory=SignatureMatch)
    """How the article's event signature compares with the story's."""
    life: timedelta = timedelta(hours=72)
    """How far from the story the article could be and still join."""

    @property
    def story_id(self) -> str:
        return self.story.id

    @property
    def fact_agreement(self) -> float:
        return self.facts.agreement

    def reasons(self) -> str:
        """One line for logs and the audit trail."""
        hours = self.gap.total_seconds() / 3600
        parts = [
            f"score={self.score:.3f}",
            f"similarity={self.similarity:.3f}",
            f"gap={hours:.1f}h",
            f"names={','.join(self.shared_names) or '-'}",
            f"facts={self.facts.agreement:+.2f}",
        ]
        e = self.event
        if e.kind or e.place or e.name:
            parts.append(f"event=kind{e.kind:+.2f}/place{e.place:+.2f}/name{e.name:+.2f}")
        if self.facts.agreeing:
            parts.append(f"agree={','.join(self.facts.agreeing)}")
        if self.facts.conflicting:
            parts.append(f"conflict={','.join(self.facts.conflicting)}")
        return " ".join(parts)


def time_gap(at: datetime, story: Story) -> timedelta:
    """Distance from ``at`` to the story's span; a profile without times uses the story's."""
    first = as_utc(story.profile.first_at or story.created_at)
    last = as_utc(story.profile.last_at or story.updated_at)
    if at < first:
        return first - at
    if at > last:
        return at - last
    return timedelta(0)


GENERIC_SUBJECTS = frozenset({"", "people", "person", "persons", "individuals"})
"""Subject groups that may cover any victims: "33 people killed" can be the soldiers."""


def _metric_subject(key: str) -> tuple[str, str]:
    metric, subject, _ = key.split("|", 2)
    return metric, subject


def _disjoint_penalty(
    article: Iterable[str], story: Iterable[str], config: GroupingConfig
) -> float:
    """Conflict when the two share no series: other victims, or other kinds of harm.

    0 when either counts generic "people" for a metric the other has (that may well be
    the same victims); ``victim_clash`` when the article counts a metric the story has,
    for other specific victims; ``other_metrics`` when they share no metric at all.
    """
    story_subjects: dict[str, set[str]] = {}
    for key in story:
        metric, subject = _metric_subject(key)
        story_subjects.setdefault(metric, set()).add(subject)
    clash = False
    for key in article:
        metric, subject = _metric_subject(key)
        subjects = story_subjects.get(metric)
        if subjects is None:
            continue
        if subject in GENERIC_SUBJECTS or subjects & GENERIC_SUBJECTS:
            return 0.0
        clash = True
    return config.victim_clash if clash else config.other_metrics


def fact_agreement(
    article: dict[str, tuple[float, float]],
    story: dict[str, tuple[float, float]],
    *,
    newer: bool = True,
    config: GroupingConfig = GroupingConfig(),
) -> FactCheck:
    """Do the article's figures describe the story's event? -1 (no) … +1 (yes).

    Per series both report, averaged: overlapping values agree (+1); a higher value
    is a rise (+0.5: tolls grow). A lower value within ``lower_tolerance`` is sources
    disagreeing (29 vs 34: 0). A clearly lower value contradicts (-1) when the article
    is ``newer`` than everything the story holds — updates never lower a toll, so it
    is another incident — but only mildly (``stale_lower``) when it falls inside the
    story's span: a late copy of an early report ("nine soldiers killed").

    If both carry figures but share no series, see ``_disjoint_penalty``: "killed
    civilians" against "killed soldiers" is another incident, "killed people" may not be.
    """
    if not article or not story:
        return FactCheck()
    shared = sorted(article.keys() & story.keys())
    if not shared:
        penalty = _disjoint_penalty(article, story, config)
        return FactCheck(agreement=-penalty, conflicting=tuple(sorted(article)) if penalty else ())
    total = 0.0
    agreeing: list[str] = []
    conflicting: list[str] = []
    for key in shared:
        alo, ahi = article[key]
        slo, shi = story[key]
        if alo <= shi and slo <= ahi:
            total += 1.0
            agreeing.append(key)
        elif alo > shi:
            total += 0.5
            agreeing.append(key)
        elif ahi >= slo * (1.0 - config.lower_tolerance):
            continue
        else:
            total -= 1.0 if newer else config.stale_lower
            conflicting.append(key)
    return FactCheck(
        agreement=total / len(shared), agreeing=tuple(agreeing), conflicting=tuple(conflicting)
    )


def _name_score(
    names: tuple[str, ...], places: tuple[str, ...], saturation: float
) -> tuple[float, tuple[str, ...]]:
    place_set = set(places)
    shared = tuple(n for n in names if n in place_set)
    weight = sum(idf(n) / MAX_IDF for n in shared)
    return min(1.0, weight / saturation), shared


def _same_disaster(event: SignatureMatch, story: Story) -> bool:
    """Is the story a one-off disaster, and does the article report that kind of event?"""
    return event.kind > 0 and is_lasting(story.profile.signature)


def _event_evidence(event: SignatureMatch, lasting: bool, config: GroupingConfig) -> float:
    """The same kind of event counts only where the places do not clash: an earthquake
    a thousand kilometres away is another earthquake."""
    if not lasting:
        return 0.0
    kind = max(0.0, event.kind) if event.place >= 0 else 0.0
    return (
        config.w_kind * kind
        + config.w_place * max(0.0, event.place)
        + config.w_event_name * max(0.0, event.name)
    )


def _event_clash(event: SignatureMatch, config: GroupingConfig) -> float:
    place_clash = 0.0 if event.name > 0 else config.w_place_clash * max(0.0, -event.place)
    return (
        config.w_kind_clash * max(0.0, -event.kind)
        + place_clash
        + config.w_name_clash * max(0.0, -event.name)
    )


def score_story(
    features: ArticleFeatures, story: Story, config: GroupingConfig = GroupingConfig()
) -> StoryMatch | None:
    """The article's score against one story, or None when the story is out of time range."""
    gap = time_gap(features.at, story)
    if gap > max(config.story_life, config.max_gap):
        return None  # out of range whatever the events share: skip comparing them
    event = compare(features.signature, story.profile.signature)
    lasting = _same_disaster(event, story)
    life = max(config.story_life, config.max_gap) if lasting else config.max_gap
    if gap > life:
        return None
    profile = story.profile
    shared_dot = dot(features.terms, profile.terms)
    similarity = shared_dot / (features.norm * norm(profile.terms)) if shared_dot else 0.0
    names, shared = _name_score(features.names, profile.places, config.names_saturation)
    newer = profile.last_at is None or features.at >= as_utc(profile.last_at)
    facts = fact_agreement(features.facts, profile.facts, newer=newer, config=config)
    decay = 1.0 - config.time_penalty * (gap / life)
    corroboration = min(1.0, similarity / config.facts_gate) * max(0.0, facts.agreement)
    evidence = (
        config.w_text * similarity
        + config.w_names * names
        + config.w_facts * corroboration
        + _event_evidence(event, lasting, config)
    )
    conflict = config.w_conflict * max(0.0, -facts.agreement)
    if lasting and event.identifies:
        conflict *= config.identified_conflict
    score = decay * evidence - conflict - _event_clash(event, config)
    return StoryMatch(
        story=story,
        score=score,
        similarity=similarity,
        shared_names=shared,
        gap=gap,
        facts=facts,
        event=event,
        life=life,
    )


def choose_story(
    article: Article,
    extraction: Extraction,
    at: datetime,
    candidates: Sequence[Story],
    *,
    config: GroupingConfig = GroupingConfig(),
) -> StoryMatch | None:
    """The story ``article`` belongs to, or None to start a new story.

    ``at`` is the arrival time, used when the article has no publication time.
    Ties go to the higher score, then the smaller story id, so replays group alike.
    """
    return best_story(article_features(article, extraction, at), candidates, config=config)


def best_story(
    features: ArticleFeatures,
    candidates: Sequence[Story],
    *,
    config: GroupingConfig = GroupingConfig(),
) -> StoryMatch | None:
    """``choose_story`` for features already computed (the ingest path reuses them)."""
    match = nearest_story(features, candidates, config=config)
    return match if match is not None and match.score >= config.threshold else None


def nearest_story(
    features: ArticleFeatures,
    candidates: Sequence[Story],
    *,
    config: GroupingConfig = GroupingConfig(),
) -> StoryMatch | None:
    """The best-scoring candidate in time range, whether or not it clears the threshold
    (so that a new story can say which story came nearest, and by how much)."""
    best: StoryMatch | None = None
    for story in candidates:
        match = score_story(features, story, config)
        if match is None:
            continue
        if best is None or (-match.score, match.story.id) < (-best.score, best.story.id):
            best = match
    return best
