"""Figure series: how one article's figures move what a story knows about one count.

A *series* is one count in one story: a metric × the people counted × a scope ("people
killed, event-wide", "people killed in one province", "a running total this month").
Counts of different places or kinds are different series and are never compared.

The rules, per series:

* **Rise.** The article's value for the series is its highest figure (not counting a
  figure the text sets against another source's, "… but the Observatory puts it at 34").
  It is a ``figure_rise`` when it is above the highest value the story has seen for the
  series from any source, including a value the article itself gives as superseded
  ("revised down from an earlier 248"): a toll is news when it is higher than anything
  reported, not when it is higher than the last report. The first value is a
  ``new_figure``; a repeat, a vague "dozens" that admits it, or a lower, older value
  re-reported ("stale") raises nothing.
* **Drop.** A lower value from the source that gave the current one, or framed as a
  revision, is a ``figure_drop``.
* **Conflict.** Two sources that speak for the same moment (both dated, within the
  concurrency window) give values for the series that cannot both hold, and the new one
  is not framed as an update ("rose to", "now") → ``figure_conflict``. A conflict does not
  replace a rise: a value above the story's peak that contradicts a same-day report from
  another source is both. Inside one article, two sources contradict each other only when
  they are in one sentence or the text contrasts them ("but", "however"); otherwise two
  values are usually counts of different places.
* Each conflict (source=value) is raised once; five outlets repeating "33" are five
  confirmations of one fact.
* Running totals ("54 this month") are recorded but raise nothing after their first
  value unless configured: the event figure already alerted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from bot.changes.compare import Relation, compatible, consistent, refines, relate
from bot.changes.model import ChangeConfig, Draft, Observed, SourceKey
from bot.domain.alerts import AlertType
from bot.domain.articles import Article
from bot.domain.claims import Figure, Metric, Quantity, Scope, ScopeKind, Temporal
from bot.domain.stories import FigureStep, Series, StoryState, series_key

# Words that set one figure against another ("… but the Observatory puts the figure at 34").
# Without them, two values from two sources in one article are usually counts of
# different places ("538 in Syria", "1,541 in Turkey"), not a disagreement.
CONTRAST_RE = re.compile(
    r"\b(?:but|however|yet|disputed?|disputes|contradict\w*|contested|"
    r"puts?\s+(?:the|its)\s+(?:figure|toll|number|count)|"
    r"(?:higher|lower|different|other|own|independent)\s+(?:figure|toll|estimate|count|tally)s?)\b",
    re.IGNORECASE,
)


def by_series(figures: Iterable[Figure], state: StoryState) -> dict[str, list[Figure]]:
    """Comparable figures grouped by series, in text order; unspecified subjects resolved.

    Forecasts and figures about other events are never compared with anything.
    """
    usable = [
        _in_story_scope(f, state)
        for f in figures
        if f.temporal in (Temporal.CURRENT, Temporal.EARLIER)
    ]
    grouped: dict[str, list[Figure]] = {}
    for f in usable:
        group = f.subject_group or _default_group(f, usable, state)
        if group != f.subject_group:
            f = replace(f, subject_group=group)
        grouped.setdefault(series_key(f.metric, group, f.scope), []).append(f)
    return grouped


def _in_story_scope(figure: Figure, state: StoryState) -> Figure:
    """An event-wide figure that names its place ("event:mozambique": the article was about
    Mozambique only) is that place's count when the story already counts the place as a
    part of the event (a cyclone across three countries); otherwise it is the event's."""
    scope = figure.scope
    if scope.kind is not ScopeKind.EVENT or not scope.label:
        return figure
    part = Scope(ScopeKind.LOCAL, scope.label)
    known = any(s.scope == part for s in state.series.values())
    return replace(figure, scope=part if known else Scope())


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


def figure_source(figure: Figure, article: Article) -> str:
    """Who stands behind a figure: its attribution, else the outlet's own voice."""
    return figure.attributed_to or article.outlet


def _step(figure: Figure, observed: Observed, *, earlier: bool = False) -> FigureStep:
    return FigureStep(
        quantity=figure.quantity,
        source=figure_source(figure, observed.article),
        article_id=observed.article.id,
        outlet=observed.article.outlet,
        url=observed.article.url,
        sentence=figure.evidence.sentence,
        at=observed.at,
        earlier=earlier,
        dated=observed.dated,
    )


@dataclass(slots=True)
class _Work:
    """One series being updated by one article."""

    series: Series
    lineage: list[FigureStep]
    by_source: dict[str, FigureStep]
    alerted: list[str]
    confirmations: int
    drafts: list[Draft]
    observed: Observed
    key_of: Callable[[Figure], str]
    source_key: SourceKey
    alerts_on: bool
    config: ChangeConfig


def update_series(
    old: Series | None,
    figures: Sequence[Figure],
    observed: Observed,
    source_key: SourceKey,
    config: ChangeConfig,
) -> tuple[Series, list[Draft]]:
    """The series after this article's ``figures`` for it, and the alerts they raise."""
    work = _start(old, figures, observed, source_key, config)
    _record_earlier(work, figures)
    current = [f for f in figures if f.temporal is Temporal.CURRENT]
    if current:
        _read_current(work, current)
    return _finish(work)


def _start(
    old: Series | None,
    figures: Sequence[Figure],
    observed: Observed,
    source_key: SourceKey,
    config: ChangeConfig,
) -> _Work:
    first = figures[0]
    series = old or Series(
        metric=first.metric,
        subject_group=first.subject_group,
        subject=next((f.subject for f in figures if f.subject), first.subject_group),
        scope=first.scope,
    )

    def key_of(f: Figure) -> str:
        return source_key(figure_source(f, observed.article), f.attributed_role)

    return _Work(
        series=series,
        lineage=list(series.lineage),
        by_source=dict(series.by_source),
        alerted=list(series.alerted_conflicts),
        confirmations=series.confirmations,
        drafts=[],
        observed=observed,
        key_of=key_of,
        source_key=source_key,
        alerts_on=series.scope.kind is not ScopeKind.CUMULATIVE or config.alert_cumulative_changes,
        config=config,
    )


def _record_earlier(work: _Work, figures: Sequence[Figure]) -> None:
    """Values given as superseded ("initially nine") join the history, never the head."""
    known = {s.quantity.value for s in work.lineage}
    for f in figures:
        if f.temporal is Temporal.EARLIER and f.quantity.value not in known:
            work.lineage.append(_step(f, work.observed, earlier=True))
            known.add(f.quantity.value)


def _read_current(work: _Work, current: list[Figure]) -> None:
    headline = _headline(current, work.key_of)
    voice = _voice(current, headline)
    # The value as the article gives it ("at least 22"), in the words of the named source
    # that gives it ("the death toll has increased to 22," Dogan said).
    head_step = replace(_step(voice, work.observed), quantity=headline.quantity)
    shown = replace(voice, quantity=headline.quantity)  # what rise/drop alerts report
    others = dict(work.by_source)  # what other sources said before this article
    became_head = _judge(work, shown, head_step)
    if became_head:
        work.by_source[work.key_of(voice)] = head_step
    _conflicts_across_reports(work, shown, others)
    _dissent_in_article(work, current, headline, voice, head_step if became_head else None)


def _headline(current: Sequence[Figure], key_of: Callable[[Figure], str]) -> Figure:
    """The article's value for the series: its highest figure that is not set against another.

    A figure is *set against* the article's first precise one when it comes from another
    source, disagrees with it and the text contrasts the two; it is dissent, not the
    article's own value.
    """
    base = next((f for f in current if not f.quantity.is_vague), current[0])
    own = [
        f
        for f in current
        if f is base
        or key_of(f) == key_of(base)
        or consistent(f.quantity, base.quantity)
        or not _contrasted(f, base)
    ]
    return max(own, key=lambda f: (f.quantity.value, not f.quantity.is_vague))


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


def _peak(lineage: Sequence[FigureStep]) -> FigureStep | None:
    """The highest value the story has seen for the series, from any source."""
    return max(lineage, key=lambda s: s.quantity.value, default=None)


def _above_peak(new: Quantity, peak: Quantity) -> bool:
    """Is ``new`` news against the highest value so far?

    A count after a vague quantity is news when it is above the vague one's number: "into
    the hundreds" then "at least 336" is the first count, "dozens" then 49 tells the desk
    how many. A vague quantity after a count is news only when its whole range is above
    it ("hundreds" after 33, not "dozens" after 33).
    """
    if peak.is_vague and not new.is_vague:
        return new.value > peak.value
    return relate(new, peak) is Relation.HIGHER


def _judge(work: _Work, shown: Figure, head_step: FigureStep) -> bool:
    """New figure, rise, refinement, drop or stale re-report; True when it becomes the head."""
    prev = work.series.head
    peak = _peak(work.lineage)
    if prev is None or peak is None:
        work.lineage.append(head_step)
        work.drafts.append(Draft(AlertType.NEW_FIGURE, figure=shown))
        return True
    new = shown.quantity
    if _above_peak(new, peak.quantity):
        work.lineage.append(head_step)
        if work.alerts_on:
            work.drafts.append(Draft(AlertType.FIGURE_RISE, figure=shown, previous=peak))
        return True
    relation = relate(new, prev.quantity)
    if relation is Relation.SAME:
        work.confirmations += 1
        return _refine(work, prev, head_step)
    if relation is Relation.HIGHER:
        # Up from the current value but not above the peak (a toll revised down, then up
        # again): the history moves, nothing was not already known.
        work.lineage.append(head_step)
        return True
    return _lower(work, shown, prev, head_step)


def _refine(work: _Work, prev: FigureStep, head_step: FigureStep) -> bool:
    """ "dozens" → "33": the precise value replaces the vague one, as a refinement, not news."""
    if refines(head_step.quantity, prev.quantity):
        work.lineage.append(head_step)
        return True
    return False


def _lower(work: _Work, shown: Figure, prev: FigureStep, head_step: FigureStep) -> bool:
    new = shown.quantity
    if any(
        not s.quantity.is_vague and relate(new, s.quantity) is Relation.SAME for s in work.lineage
    ):
        work.confirmations += 1  # a stale re-report of a value the story already passed through
        return False
    same_source = work.key_of(shown) == work.source_key(prev.source, None)
    if same_source or shown.framed_as_update:
        work.lineage.append(head_step)
        if work.alerts_on:
            work.drafts.append(Draft(AlertType.FIGURE_DROP, figure=shown, previous=prev))
        return True
    return False  # another source's lower, older value: stale unless it conflicts (below)


def _conflicts_across_reports(work: _Work, shown: Figure, others: dict[str, FigureStep]) -> None:
    """Another source's value from the same moment that cannot hold with this one."""
    if shown.framed_as_update or not work.observed.dated:
        return
    mine = work.key_of(shown)
    for key, step in others.items():
        if key == mine or step.earlier or not step.dated:
            continue
        if abs(work.observed.at - step.at) > work.config.concurrency_window:
            continue
        if compatible(shown.quantity, step.quantity):
            continue
        _conflict(work, shown, step)


def _dissent_in_article(
    work: _Work,
    current: Sequence[Figure],
    headline: Figure,
    voice: Figure,
    head_step: FigureStep | None,
) -> None:
    """Another source, another value in this article, set against the article's own."""
    against = head_step or work.series.head or _step(voice, work.observed)
    for f in current:
        if f is headline or f is voice or f.quantity.is_vague:
            continue
        if consistent(f.quantity, voice.quantity):
            work.by_source.setdefault(work.key_of(f), _step(f, work.observed))
            continue
        if work.key_of(f) == work.key_of(voice):
            continue  # one source, two values: the extractor's job to mark one as earlier
        if not _contrasted(f, voice):
            continue  # likely a count for a part (one country, one district), not dissent
        _conflict(work, f, against)


def _conflict(work: _Work, f: Figure, against: FigureStep) -> None:
    """Raise a conflict once: per source=value, and once per pair of sources over a value.

    Markers: "src=34" (this value was raised), "other=29@src" (src was set against the
    other's 29): a governor moving from 29 to 33 while the observatory still says 34 is
    the same, known disagreement.
    """
    step = _step(f, work.observed)
    key = work.key_of(f)
    other = work.source_key(against.source, None)
    work.by_source[key] = step
    mine = f"{key}={f.quantity.value:g}"
    theirs = f"{other}={against.quantity.value:g}"
    if mine in work.alerted or f"{theirs}@{key}" in work.alerted:
        return
    work.alerted.extend((mine, f"{theirs}@{key}", f"{mine}@{other}"))
    if work.alerts_on:
        work.drafts.append(
            Draft(
                AlertType.FIGURE_CONFLICT,
                figure=f,
                previous=against,
                source=step.source,
                conflict_with=against.source,
            )
        )


def _contrasted(dissent: Figure, voice: Figure) -> bool:
    """Does the text present ``dissent`` as disagreeing with ``voice``?"""
    if dissent.evidence.start == voice.evidence.start:
        return True  # one sentence, two sources, two numbers
    return bool(CONTRAST_RE.search(dissent.evidence.sentence))


def _finish(work: _Work) -> tuple[Series, list[Draft]]:
    updated = replace(
        work.series,
        lineage=tuple(work.lineage),
        by_source=work.by_source,
        alerted_conflicts=tuple(work.alerted),
        confirmations=work.confirmations,
    )
    for d in work.drafts:
        d.series = updated
        d.history = updated.lineage
    return updated, work.drafts


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
