"""Why an article is in its story: the grouping decision as data and as one line.

Users ask "why is this in that story?" and so do developers. Every alert carries a
``Grouping`` (``--format jsonl``: the ``grouping`` object), and ``claimwatch replay
--explain`` prints one line per article with the story it joined or started, the
score against the threshold, and what matched: event type, places, the event's
name, shared names, the time gap, and figures that agree or conflict.
"""

from __future__ import annotations

from bot.domain.stories import Grouping, GroupingMatch
from bot.stories.grouping import StoryMatch


def grouping_match(match: StoryMatch) -> GroupingMatch:
    """The explainable part of a scored match."""
    e = match.event
    clashes = tuple(
        part
        for part, value in (("event_type", e.kind), ("place", e.place), ("event_name", e.name))
        if value < 0
    )
    return GroupingMatch(
        story_id=match.story.id,
        score=match.score,
        similarity=match.similarity,
        event_types=e.kinds if e.kind > 0 else (),
        places=(e.countries + e.places) if e.place > 0 else (),
        event_names=e.names,
        names=match.shared_names,
        gap_hours=match.gap.total_seconds() / 3600,
        life_days=match.life.total_seconds() / 86400,
        facts_agreeing=match.facts.agreeing,
        facts_conflicting=match.facts.conflicting,
        clashes=clashes,
    )


def grouping_for(
    story_id: str,
    *,
    nearest: StoryMatch | None,
    threshold: float,
    copy_of: str | None = None,
) -> Grouping:
    """The decision for an article now in ``story_id``.

    ``nearest`` is the best-scoring candidate (None when there was none or the
    article's story was found otherwise); it is the story joined when it is
    ``story_id``, else the nearest story that was not good enough.
    """
    match = grouping_match(nearest) if nearest is not None else None
    if copy_of is not None:
        return Grouping("copy", story_id, threshold, match, copy_of=copy_of)
    if nearest is not None and nearest.story.id == story_id:
        return Grouping("joined", story_id, threshold, match)
    return Grouping("started", story_id, threshold, match)


def _listing(label: str, items: tuple[str, ...]) -> str | None:
    return f"{label} {', '.join(items)}" if items else None


def match_summary(match: GroupingMatch) -> str:
    """What matched, in words: "score 1.21; quake; EC, EC/manabi; gap 42h; …"."""
    parts = [
        f"score {match.score:.2f}",
        f"words {match.similarity:.2f}",
        _listing("event", match.event_types),
        _listing("places", match.places[:4]),
        _listing("named", match.event_names),
        _listing("names", match.names[:5]),
        f"gap {match.gap_hours:.0f}h of {match.life_days:.0f}d",
        _listing("facts agree", match.facts_agreeing),
        _listing("facts conflict", match.facts_conflicting),
        _listing("clash", match.clashes),
    ]
    return "; ".join(p for p in parts if p)


def explain_line(article_id: str, title: str, grouping: Grouping | None) -> str:
    """One readable line: the article, the story it joined or started, and why."""
    head = f"{article_id} {title[:60]!r}"
    if grouping is None:
        return f"{head}: unchanged (seen before)"
    g = grouping
    if g.decision == "copy":
        return f"{head}: copy of {g.copy_of} -> story {g.story_id}"
    if g.decision == "revised":
        return f"{head}: new version -> stays in story {g.story_id}"
    if g.decision == "joined" and g.match is not None:
        return f"{head}: joined {g.story_id} ({match_summary(g.match)}; threshold {g.threshold})"
    if g.match is None:
        return f"{head}: started {g.story_id} (no story in time range)"
    return (
        f"{head}: started {g.story_id} (nearest {g.match.story_id}: "
        f"{match_summary(g.match)}; below threshold {g.threshold})"
    )
