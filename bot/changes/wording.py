"""Alert wording: how a draft becomes the alert a desk reads.

Each alert says what changed in one line (``summary``) and carries the facts behind it
(the sentence, the value and the one before, who said it, the series' history), so a
reader can check the claim without opening the article.
"""

from __future__ import annotations

from typing import Any

from bot.changes.model import Draft, Observed
from bot.changes.series import figure_source
from bot.changes.severity import severity_for
from bot.domain.alerts import Alert, AlertType
from bot.domain.claims import Extraction, Figure, Metric, ScopeKind, Statement, Temporal
from bot.domain.stories import Series, Story, StoryState

# The order in which metrics headline a new story.
_METRIC_PRIORITY = list(Metric)


def render(draft: Draft, story: Story, state: StoryState, observed: Observed) -> Alert:
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


def _figure_summary(draft: Draft, f: Figure, series: Series, source: str) -> str:
    prev = draft.previous
    who = series.subject or series.subject_group
    if draft.type is AlertType.FIGURE_CONFLICT and prev is not None:
        what = f"{f.metric.value} ({who}, {series.scope.key})"
        return (
            f"Conflict on {what}: {source} says {f.quantity.display()}, "
            f"{draft.conflict_with or prev.source} says {prev.quantity.display()}"
        )
    if prev is not None:
        arrow = "↑" if draft.type is AlertType.FIGURE_RISE else "↓"
        return (
            f"{f.metric.value.capitalize()} {arrow} {prev.quantity.display()} → "
            f"{f.quantity.display()} ({who}; {source})"
        )
    counted = _counted(who, f.metric)
    return f"New figure: {f.quantity.display()} {counted} ({series.scope.key}; {source})"


def _counted(who: str, metric: Metric) -> str:
    """ "people killed", but "people in need" and "people in shelters" say it themselves."""
    return who if who.startswith("people in ") else f"{who} {metric.value}"


def _render_figure(draft: Draft, story: Story, observed: Observed) -> Alert:
    f, series = draft.figure, draft.series
    assert f is not None and series is not None
    prev = draft.previous
    source = draft.source or figure_source(f, observed.article)
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
        summary=_figure_summary(draft, f, series, source),
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
    summary = f"New story: {head.quantity.display()} {_counted(who, lead.metric)}"
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


def render_revised(
    story: Story,
    observed: Observed,
    old: Extraction,
    new: Extraction,
    *,
    statements_changed: bool,
) -> Alert:
    gone = figure_lines(old) - figure_lines(new)
    added = figure_lines(new) - figure_lines(old)
    parts = []
    if gone or added:
        parts.append(
            "figures: "
            + "; ".join([*(f"−{g}" for g in sorted(gone)), *(f"+{a}" for a in sorted(added))])
        )
    if statements_changed:
        parts.append("statements changed")
    return Alert(
        **_base(AlertType.ARTICLE_REVISED, story, observed),
        severity=severity_for(AlertType.ARTICLE_REVISED),
        summary=f"Article revised ({observed.article.outlet}): " + ", ".join(parts),
    )


def figure_lines(e: Extraction) -> set[str]:
    return {
        f"{f.quantity.display()} {f.subject or f.subject_group} {f.metric.value}"
        + (f" [{f.scope.key}]" if f.scope.kind is not ScopeKind.EVENT else "")
        + (f" ({f.temporal.value})" if f.temporal is not Temporal.CURRENT else "")
        for f in e.figures
    }
