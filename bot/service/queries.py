"""Read-side queries: where a story stands (figures with lineage, conflicts, speakers).

Used by the demo's closing summary and, later, by the chat ``story`` command; they
return plain data and a plain-text rendering, never platform markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.changes.detect import open_conflicts
from bot.domain.alerts import Alert, Severity
from bot.domain.claims import Metric, ScopeKind
from bot.domain.delivery import FigureLine, StoryCard
from bot.domain.stories import FigureStep, Series, SpeakerRecord, Story, lineage_text
from bot.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class SeriesView:
    series: Series
    conflicts: tuple[FigureStep, ...]


@dataclass(frozen=True, slots=True)
class StoryOverview:
    story: Story
    figures: tuple[SeriesView, ...]
    speakers: tuple[SpeakerRecord, ...]

    def render_text(self) -> str:
        s = self.story
        lines = [f"story {s.id} · {s.title} · {s.profile.article_count} article(s)"]
        for view in self.figures:
            ser = view.series
            lines.append(
                f"  {ser.metric.value} · {ser.subject or ser.subject_group} · {ser.scope.key}: "
                f"{lineage_text(ser.lineage)}  (confirmed {ser.confirmations}×)"
            )
            head = ser.head
            for c in view.conflicts:
                against = head.quantity.display() if head else "?"
                lines.append(
                    f"      open conflict: {c.source} says {c.quantity.display()} vs {against}"
                )
        if self.speakers:
            names = [f"{sp.name} ({sp.role})" if sp.role else sp.name for sp in self.speakers]
            lines.append("  officials: " + "; ".join(names))
        return "\n".join(lines)


def overview(story: Story) -> StoryOverview:
    # Event figures first, gravest first; running totals after.
    ordered = sorted(
        story.state.series.values(),
        key=lambda s: (s.scope.kind is not ScopeKind.EVENT, list(Metric).index(s.metric), s.key),
    )
    views = tuple(SeriesView(s, tuple(open_conflicts(s))) for s in ordered if s.head is not None)
    return StoryOverview(story, views, tuple(story.state.speakers.values()))


async def story_overviews(
    uow: UnitOfWork, *, query: str | None = None, limit: int = 20
) -> list[StoryOverview]:
    stories = await uow.stories.search(query=query, tracked_only=True, limit=limit)
    return [overview(s) for s in stories]


def figure_label(series: Series) -> str:
    """ "killed · soldiers · event" — what a figure counts, for headings."""
    return f"{series.metric.value} · {series.subject or series.subject_group} · {series.scope.key}"


def compact_lineage(series: Series) -> str:
    """The headline values only: "9 → 22 → 29 → 33"."""
    return " → ".join(_bare(step.quantity.value) for step in series.lineage)


def _bare(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def story_card(story: Story, latest: Alert | None = None) -> StoryCard:
    """What the story's first message in a channel shows: where the story stands now."""
    view = overview(story)
    figures = []
    for sv in view.figures[:8]:
        ser = sv.series
        head = ser.head
        if head is None:
            continue
        conflicts = tuple(f"{c.source} says {c.quantity.display()}" for c in sv.conflicts)
        figures.append(
            FigureLine(
                label=figure_label(ser),
                current=head.quantity.display(),
                lineage=compact_lineage(ser),
                source=f"{head.source} ({head.outlet})",
                conflicts=conflicts,
            )
        )
    officials = tuple(f"{sp.name} ({sp.role})" if sp.role else sp.name for sp in view.speakers)
    return StoryCard(
        story_id=story.id,
        title=story.title,
        figures=tuple(figures),
        officials=officials[:10],
        articles=story.profile.article_count,
        updated_at=story.updated_at,
        latest=latest.summary if latest else None,
        url=latest.url if latest else None,
        severity=latest.severity if latest else Severity.LOW,
    )
