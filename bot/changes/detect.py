"""Change detection: (what the story knew, what the new article says) → alerts.

This is the product's reason to exist, so it is a pure function with no I/O:
``detect_changes(story, observed, extraction)`` returns the alerts and the
story's next state. The rules, per figure series (metric × subject × scope):

* The article's *headline* value for the series is its first precise current
  figure; the article's other values from *other* sources that disagree with it
  are dissent ("… but the Observatory puts the figure at 34").
* Headline vs the story's current value: higher → ``figure_rise``; the same (or
  a vague "dozens" that admits it) → a confirmation, no alert; lower → a stale
  re-report when the value is in the series' history, a ``figure_drop`` when the
  same source lowers it (or the text frames it as a revision), else a conflict.
* A higher value from another named source at the same time (both dated, within
  ``concurrency_window``) and not framed as an update is a conflict, not a rise.
* Each conflict (source=value) is raised once; five outlets repeating "33" are
  five confirmations of one fact.
* Values the article gives as superseded ("initially nine") only extend the
  history; forecasts and figures about other events are never compared.
* Running totals ("54 this month") are their own series: never compared with the
  event toll, announced once as ``new_figure``, then updated silently (a monthly
  total rises *because* of the event; the event figure already alerted).
* Only a *tracked* story alerts: one whose articles carry an impact figure for
  the event. The article that makes it tracked raises ``new_story``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.changes.compare import Relation, consistent, refines, relate
from bot.changes.severity import severity_for
from bot.changes.speakers import source_key, update_speakers
from bot.domain.alerts import Alert, AlertType
from bot.domain.articles import Article
from bot.domain.claims import Extraction, Figure, Metric, ScopeKind, Statement, Temporal
from bot.domain.speakers import speaker_key
from bot.domain.stories import FigureStep, Series, SpeakerRecord, Story, StoryState, series_key

# The order in which metrics headline a new story.
_METRIC_PRIORITY = list(Metric)

# Words that set one figure against another ("… but the Observatory puts it at 34").
# Without them, two values from two sources in one article are usually counts of
# different places ("538 in Syria", "1,541 in Turkey"), not a disagreement.
_CONTRAST = re.compile(
    r"\b(?:but|however|yet|disputed?|disputes|contradict\w*|contested|"
    r"puts?\s+(?:the|its)\s+(?:figure|toll|number|count)|"
    r"(?:higher|lower|different|other|own|independent)\s+(?:figure|toll|estimate|count|tally)s?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Observed:
    """An article as it reached us: when it speaks for, and whether that time is known."""

    article: Article
    at: datetime
    dated: bool

    @classmethod
    def of(cls, article: Article, arrived: datetime) -> Observed:
        if article.published is not None:
            return cls(article, article.published, True)
        return cls(article, arrived, False)


@dataclass(frozen=True, slots=True)
class ChangeConfig:
    concurrency_window: timedelta = timedelta(hours=1)
    """Two dated reports closer than this are "at the same time" for conflicts."""
    alert_cumulative_changes: bool = False
    """Raise rise/drop/conflict on running totals too (off: they follow the event figure)."""


@dataclass(frozen=True, slots=True)
class Changes:
    alerts: tuple[Alert, ...]
    state: StoryState


@dataclass(slots=True)
class _Draft:
    """An alert before we know whether the story is tracked (and so whether it is sent)."""

    type: AlertType
    series: Series | None = None
    figure: Figure | None = None
    previous: FigureStep | None = None
    source: str | None = None
    conflict_with: str | None = None
    statement: Statement | None = None
    history: tuple[FigureStep, ...] = field(default_factory=tuple)


def detect_changes(
    story: Story,
    observed: Observed,
    extraction: Extraction,
    config: ChangeConfig = ChangeConfig(),
) -> Changes:
    """What ``extraction`` (of ``observed.article``) changes in ``story``."""
    state = story.state
    speakers, statement_drafts = _update_speakers(state.speakers, extraction.statements, observed)
    series_map = dict(state.series)
    figure_drafts: list[_Draft] = []
    for key, figures in _by_series(extraction.figures, state).items():
        updated, drafts = _update_series(series_map.get(key), figures, observed, speakers, config)
        series_map[key] = updated
        figure_drafts.extend(drafts)

    tracked = state.tracked or bool(extraction.impact_figures)
    new_state = StoryState(series=series_map, speakers=speakers, tracked=tracked)
    if not tracked:
        return Changes((), new_state)

    drafts = []
    if not state.tracked:
        # The new_story alert carries this article's figures; a new_figure for each would be noise.
        drafts.append(_Draft(AlertType.NEW_STORY))
        figure_drafts = [d for d in figure_drafts if d.type is not AlertType.NEW_FIGURE]
    drafts.extend(figure_drafts)
    drafts.extend(statement_drafts)
    alerts = tuple(_render(d, story, new_state, observed) for d in drafts)
    return Changes(alerts, new_state)


def claims_changed(old: Extraction, new: Extraction) -> bool:
    """Whether a revision changed what the article claims (not just its wording or timestamp)."""
    return _claim_fingerprint(old) != _claim_fingerprint(new)


def detect_revision(
    story: Story,
    observed: Observed,
    old: Extraction,
    new: Extraction,
    config: ChangeConfig = ChangeConfig(),
) -> Changes:
    """A known article changed its text: ``article_revised`` plus what the new claims change."""
    if not claims_changed(old, new):
        return Changes((), story.state)
    changes = detect_changes(story, observed, new, config)
    if not changes.state.tracked:
        return changes
    revised = _render_revised(story, changes.state, observed, old, new)
    return Changes((revised, *changes.alerts), changes.state)


# --- figures -------------------------------------------------------------------------------


def _by_series(figures: Iterable[Figure], state: StoryState) -> dict[str, list[Figure]]:
    """Comparable figures grouped by series, in text order; unspecified subjects resolved."""
    usable = [f for f in figures if f.temporal in (Temporal.CURRENT, Temporal.EARLIER)]
    grouped: dict[str, list[Figure]] = {}
    for f in usable:
        group = f.subject_group or _default_group(f, usable, state)
        if group != f.subject_group:
            f = replace(f, subject_group=group)
        grouped.setdefault(series_key(f.metric, group, f.scope), []).append(f)
    return grouped


def _default_group(figure: Figure, figures: Sequence[Figure], state: StoryState) -> str:
    """The subject of "the death toll rose to 40": what this article or story counts."""
    event = ScopeKind.EVENT
    for candidates in (
        [f.subject_group for f in figures if f.metric is figure.metric and f.scope == figure.scope],
        [f.subject_group for f in figures if f.metric is figure.metric],
        [s.subject_group for s in state.series.values() if s.metric is figure.metric],
        # "39 injured" in a story about soldiers killed: the story's victims.
        [f.subject_group for f in figures if f.scope.kind is event and f.metric is Metric.KILLED],
        [s.subject_group for s in state.series.values() if s.scope.kind is event],
    ):
        named = [g for g in candidates if g]
        if named:
            return max(set(named), key=lambda g: (named.count(g), -named.index(g)))
    return "people"


def _source(figure: Figure, article: Article) -> str:
    return figure.attributed_to or article.outlet


def _source_key(name: str, role: str | None, speakers: Mapping[str, SpeakerRecord]) -> str:
    return source_key(name, role, speakers)


def _step(figure: Figure, observed: Observed, *, earlier: bool = False) -> FigureStep:
    return FigureStep(
        quantity=figure.quantity,
        source=_source(figure, observed.article),
        article_id=observed.article.id,
        outlet=observed.article.outlet,
        url=observed.article.url,
        sentence=figure.evidence.sentence,
        at=observed.at,
        earlier=earlier,
        dated=observed.dated,
    )


def _headline(current: Sequence[Figure]) -> Figure:
    """The article's value for the series: its first precise figure, else its first figure."""
    return next((f for f in current if not f.quantity.is_vague), current[0])


def _voice(current: Sequence[Figure], headline: Figure) -> Figure:
    """Who stands behind the headline: the first named source giving a consistent value."""
    for f in current:
        if (
            f.attributed_to
            and not f.quantity.is_vague
            and consistent(f.quantity, headline.quantity)
        ):
            return f
    return headline


def _update_series(
    old: Series | None,
    figures: Sequence[Figure],
    observed: Observed,
    speakers: Mapping[str, SpeakerRecord],
    config: ChangeConfig,
) -> tuple[Series, list[_Draft]]:
    first = figures[0]
    series = old or Series(
        metric=first.metric,
        subject_group=first.subject_group,
        subject=next((f.subject for f in figures if f.subject), first.subject_group),
        scope=first.scope,
    )
    lineage = list(series.lineage)
    by_source = dict(series.by_source)
    alerted = list(series.alerted_conflicts)
    confirmations = series.confirmations
    drafts: list[_Draft] = []
    alerts_on = series.scope.kind is not ScopeKind.CUMULATIVE or config.alert_cumulative_changes

    def key_of(f: Figure) -> str:
        return _source_key(_source(f, observed.article), f.attributed_role, speakers)

    def conflict(f: Figure, against: FigureStep) -> None:
        step = _step(f, observed)
        by_source[key_of(f)] = step
        marker = f"{key_of(f)}={f.quantity.value:g}"
        if marker not in alerted:
            alerted.append(marker)
            if alerts_on:
                drafts.append(
                    _Draft(
                        AlertType.FIGURE_CONFLICT,
                        figure=f,
                        previous=against,
                        source=step.source,
                        conflict_with=against.source,
                    )
                )

    # Earlier values ("initially nine") are history, never a head: only before anything current.
    if series.head is None:
        known = {s.quantity.value for s in lineage}
        for f in figures:
            if f.temporal is Temporal.EARLIER and f.quantity.value not in known:
                lineage.append(_step(f, observed, earlier=True))
                known.add(f.quantity.value)

    current = [f for f in figures if f.temporal is Temporal.CURRENT]
    if not current:
        return replace(series, lineage=tuple(lineage)), drafts

    headline = _headline(current)
    voice = _voice(current, headline)
    # The value as the article headlines it ("at least 22"), in the words of the named
    # source that gives it ("the death toll has increased to 22," Dogan said).
    head_step = replace(_step(voice, observed), quantity=headline.quantity)
    shown = replace(voice, quantity=headline.quantity)  # what rise/drop alerts report
    prev = series.head
    became_head = False
    if prev is None:
        lineage.append(head_step)
        became_head = True
        drafts.append(_Draft(AlertType.NEW_FIGURE, figure=shown))
    else:
        relation = relate(voice.quantity, prev.quantity)
        same_source = key_of(voice) == _source_key(prev.source, None, speakers)
        if relation is Relation.SAME:
            confirmations += 1
            if refines(voice.quantity, prev.quantity):
                lineage.append(head_step)  # "dozens" → "33": a refinement, not news
                became_head = True
        elif relation is Relation.HIGHER:
            if _concurrent_dissent(voice, prev, observed, same_source, config):
                conflict(voice, prev)
            else:
                lineage.append(head_step)
                became_head = True
                if alerts_on:
                    drafts.append(_Draft(AlertType.FIGURE_RISE, figure=shown, previous=prev))
        elif any(
            not s.quantity.is_vague and relate(voice.quantity, s.quantity) is Relation.SAME
            for s in lineage
        ):
            confirmations += 1  # a stale re-report of a value the story already passed through
        elif same_source or voice.framed_as_update:
            lineage.append(head_step)
            became_head = True
            if alerts_on:
                drafts.append(_Draft(AlertType.FIGURE_DROP, figure=shown, previous=prev))
        else:
            conflict(voice, prev)
    if became_head or prev is None:
        by_source[key_of(voice)] = head_step

    # Dissent inside the article: another source, another value, no update framing.
    for f in current:
        if f is headline or f is voice or f.quantity.is_vague:
            continue
        if consistent(f.quantity, voice.quantity):
            by_source.setdefault(key_of(f), _step(f, observed))
            continue
        if key_of(f) == key_of(voice):
            continue  # one source, two values: the extractor's job to mark one as earlier
        if not _contrasted(f, voice):
            continue  # likely a count for a part (one country, one district), not dissent
        conflict(f, head_step if became_head else (prev or head_step))

    updated = replace(
        series,
        lineage=tuple(lineage),
        by_source=by_source,
        alerted_conflicts=tuple(alerted),
        confirmations=confirmations,
    )
    for d in drafts:
        d.series = updated
        d.history = updated.lineage
    return updated, drafts


def _contrasted(dissent: Figure, voice: Figure) -> bool:
    """Does the text present ``dissent`` as disagreeing with ``voice``?"""
    if dissent.evidence.start == voice.evidence.start:
        return True  # one sentence, two sources, two numbers
    return bool(_CONTRAST.search(dissent.evidence.sentence))


def _concurrent_dissent(
    new: Figure, prev: FigureStep, observed: Observed, same_source: bool, config: ChangeConfig
) -> bool:
    """A higher figure is a conflict, not a rise, when two named sources speak at once."""
    if same_source or new.framed_as_update or not new.attributed_to:
        return False
    if not (observed.dated and prev.dated) or prev.source == prev.outlet:
        # Undated reports are not "at the same time"; an unattributed figure is the
        # outlet's own, not a named source's.
        return False
    return abs(observed.at - prev.at) <= config.concurrency_window


def open_conflicts(series: Series) -> list[FigureStep]:
    """Sources whose latest value disagrees with the series' current value."""
    head = series.head
    if head is None:
        return []
    return [
        s
        for s in series.by_source.values()
        if s.source != head.source
        and not s.quantity.is_vague
        and not consistent(s.quantity, head.quantity)
    ]


# --- statements ----------------------------------------------------------------------------


def _update_speakers(
    known: Mapping[str, SpeakerRecord], statements: Iterable[Statement], observed: Observed
) -> tuple[dict[str, SpeakerRecord], list[_Draft]]:
    speakers, first = update_speakers(known, statements, observed.article.id)
    return speakers, [_Draft(AlertType.NEW_STATEMENT, statement=st) for st in first]


# --- rendering -----------------------------------------------------------------------------


def _render(draft: _Draft, story: Story, state: StoryState, observed: Observed) -> Alert:
    if draft.type is AlertType.NEW_STORY:
        return _render_new_story(story, state, observed)
    if draft.type is AlertType.NEW_STATEMENT:
        assert draft.statement is not None
        return _render_statement(draft.statement, story, observed)
    return _render_figure(draft, story, observed)


def _base(alert_type: AlertType, story: Story, observed: Observed) -> dict[str, Any]:
    a = observed.article
    return {
        "type": alert_type,
        "story_id": story.id,
        "story_title": story.title,
        "article_id": a.id,
        "url": a.url,
        "outlet": a.outlet,
        "published": a.published,
    }


def _figure_fields(f: Figure, series: Series) -> dict[str, Any]:
    return {
        "sentence": f.evidence.sentence,
        "metric": f.metric.value,
        "subject": series.subject or f.subject or series.subject_group,
        "scope": series.scope.key,
        "value": f.quantity.value,
        "value_text": f.quantity.display(),
        "qualifier": f.quantity.qualifier.value,
    }


def _render_figure(draft: _Draft, story: Story, observed: Observed) -> Alert:
    f, series = draft.figure, draft.series
    assert f is not None and series is not None
    prev = draft.previous
    source = draft.source or _source(f, observed.article)
    what = f"{f.metric.value} ({series.subject or series.subject_group}, {series.scope.key})"
    if draft.type is AlertType.FIGURE_CONFLICT and prev is not None:
        summary = (
            f"Conflict on {what}: {source} says {f.quantity.display()}, "
            f"{draft.conflict_with or prev.source} says {prev.quantity.display()}"
        )
    elif prev is not None:
        arrow = "↑" if draft.type is AlertType.FIGURE_RISE else "↓"
        summary = (
            f"{f.metric.value.capitalize()} {arrow} {prev.quantity.display()} → "
            f"{f.quantity.display()} ({series.subject or series.subject_group}; {source})"
        )
    else:
        who = series.subject or series.subject_group
        summary = f"New figure: {f.quantity.display()} {who} {f.metric.value}"
        summary += f" ({series.scope.key}; {source})"
    return Alert(
        **_base(draft.type, story, observed),
        **_figure_fields(f, series),
        severity=severity_for(
            draft.type,
            metric=f.metric,
            scope=series.scope.kind,
            value=f.quantity.value,
            previous=prev.quantity.value if prev else None,
        ),
        summary=summary,
        previous=prev.quantity.value if prev else None,
        previous_text=prev.quantity.display() if prev else None,
        attributed_to=source,
        conflict_with=draft.conflict_with,
        history=draft.history,
    )


def _lead_series(state: StoryState, article_id: str) -> Series | None:
    """The series that headlines a story: the gravest metric of the event, this article's first."""
    event = [
        s for s in state.series.values() if s.scope.kind is ScopeKind.EVENT and s.head is not None
    ]
    if not event:
        return None

    def rank(s: Series) -> tuple[int, int, float]:
        head = s.head
        assert head is not None
        return (
            _METRIC_PRIORITY.index(s.metric),
            0 if head.article_id == article_id else 1,
            -head.quantity.value,
        )

    return min(event, key=rank)


def _render_new_story(story: Story, state: StoryState, observed: Observed) -> Alert:
    lead = _lead_series(state, observed.article.id)
    base = _base(AlertType.NEW_STORY, story, observed)
    if lead is None or lead.head is None:  # tracked through a non-event figure only
        return Alert(
            **base, severity=severity_for(AlertType.NEW_STORY), summary=f"New story: {story.title}"
        )
    head = lead.head
    others = [
        f"{s.head.quantity.display()} {s.metric.value}"
        for s in state.series.values()
        if s is not lead and s.head is not None and s.scope.kind is ScopeKind.EVENT
    ]
    who = lead.subject or lead.subject_group
    summary = f"New story: {head.quantity.display()} {who} {lead.metric.value}"
    summary += f" ({head.source})"
    if others:
        summary += "; also " + ", ".join(others)
    return Alert(
        **base,
        severity=severity_for(
            AlertType.NEW_STORY,
            metric=lead.metric,
            scope=ScopeKind.EVENT,
            value=head.quantity.value,
        ),
        summary=summary,
        sentence=head.sentence,
        metric=lead.metric.value,
        subject=lead.subject or lead.subject_group,
        scope=lead.scope.key,
        value=head.quantity.value,
        value_text=head.quantity.display(),
        qualifier=head.quantity.qualifier.value,
        attributed_to=head.source,
        history=lead.lineage,
    )


def _render_statement(st: Statement, story: Story, observed: Observed) -> Alert:
    who = f"{st.speaker} ({st.role})" if st.role else st.speaker
    quote = st.text if len(st.text) <= 280 else st.text[:277] + "…"
    return Alert(
        **_base(AlertType.NEW_STATEMENT, story, observed),
        severity=severity_for(AlertType.NEW_STATEMENT),
        summary=f"{who} speaks: “{quote}”",
        sentence=st.evidence.sentence,
        speaker=st.speaker,
        speaker_role=st.role,
        quote=st.text,
    )


def _render_revised(
    story: Story, state: StoryState, observed: Observed, old: Extraction, new: Extraction
) -> Alert:
    gone = _figure_lines(old) - _figure_lines(new)
    added = _figure_lines(new) - _figure_lines(old)
    parts = []
    if gone or added:
        parts.append(
            "figures: "
            + "; ".join([*(f"−{g}" for g in sorted(gone)), *(f"+{a}" for a in sorted(added))])
        )
    if _statement_keys(old) != _statement_keys(new):
        parts.append("statements changed")
    return Alert(
        **_base(AlertType.ARTICLE_REVISED, story, observed),
        severity=severity_for(AlertType.ARTICLE_REVISED),
        summary=f"Article revised ({observed.article.outlet}): " + ", ".join(parts),
    )


def _figure_lines(e: Extraction) -> set[str]:
    return {
        f"{f.quantity.display()} {f.subject or f.subject_group} {f.metric.value}"
        + (f" [{f.scope.key}]" if f.scope.kind is not ScopeKind.EVENT else "")
        + (f" ({f.temporal.value})" if f.temporal is not Temporal.CURRENT else "")
        for f in e.figures
    }


def _statement_keys(e: Extraction) -> set[tuple[str, str]]:
    return {(speaker_key(s.speaker), " ".join(s.text.split())) for s in e.statements if s.official}


def _claim_fingerprint(
    e: Extraction,
) -> tuple[frozenset[tuple[object, ...]], frozenset[tuple[str, str]]]:
    figures = frozenset(
        (
            f.metric,
            f.subject_group,
            f.scope.key,
            f.quantity.value,
            f.quantity.high,
            f.quantity.qualifier,
            f.temporal,
            f.attributed_to and speaker_key(f.attributed_to),
        )
        for f in e.figures
    )
    return figures, frozenset(_statement_keys(e))
