"""Change detection: (what the story knew, what the new article says) → alerts.

This is the product's reason to exist, so it is a pure function with no I/O:
``detect_changes(story, observed, extraction)`` returns the alerts and the story's next
state. Figures move their series (``series``: rises, drops, conflicts); officials are
announced once per story (``speakers``); ``wording`` turns drafts into alerts.

Only a *tracked* story alerts: one whose articles carry an impact figure for the event.
The article that makes it tracked raises ``new_story``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.changes.model import ChangeConfig, Draft, Observed, SourceKey
from bot.changes.series import by_series, open_conflicts, update_series
from bot.changes.speakers import source_key, update_speakers
from bot.changes.wording import render, render_revised
from bot.domain.alerts import Alert, AlertType
from bot.domain.claims import Extraction, Statement
from bot.domain.speakers import speaker_key
from bot.domain.stories import SpeakerRecord, Story, StoryState

__all__ = [
    "ChangeConfig",
    "Changes",
    "Observed",
    "claims_changed",
    "detect_changes",
    "detect_revision",
    "open_conflicts",
]


_DEFAULTS = ChangeConfig()


@dataclass(frozen=True, slots=True)
class Changes:
    alerts: tuple[Alert, ...]
    state: StoryState


def detect_changes(
    story: Story,
    observed: Observed,
    extraction: Extraction,
    config: ChangeConfig = _DEFAULTS,
) -> Changes:
    """What ``extraction`` (of ``observed.article``) changes in ``story``."""
    state = story.state
    speakers, statement_drafts = _update_speakers(state.speakers, extraction.statements, observed)
    series_map = dict(state.series)
    figure_drafts: list[Draft] = []
    key = _source_key_in(speakers)
    for k, figures in by_series(extraction.figures, state).items():
        updated, drafts = update_series(series_map.get(k), figures, observed, key, config)
        series_map[k] = updated
        figure_drafts.extend(drafts)

    tracked = state.tracked or bool(extraction.impact_figures)
    if not tracked:
        # The desk has heard nothing from an untracked story, so nobody in it is known yet:
        # an official who spoke there is announced when they speak in the tracked story.
        return Changes((), StoryState(series=series_map, speakers=dict(state.speakers)))
    new_state = StoryState(series=series_map, speakers=speakers, tracked=tracked)

    drafts = []
    if not state.tracked:
        # The new_story alert carries this article's figures; a new_figure for each would be noise.
        drafts.append(Draft(AlertType.NEW_STORY))
        figure_drafts = [d for d in figure_drafts if d.type is not AlertType.NEW_FIGURE]
    drafts.extend(figure_drafts)
    drafts.extend(statement_drafts)
    alerts = tuple(render(d, story, new_state, observed) for d in drafts)
    return Changes(alerts, new_state)


def claims_changed(old: Extraction, new: Extraction) -> bool:
    """Whether a revision changed what the article claims (not just its wording or timestamp)."""
    return _claim_fingerprint(old) != _claim_fingerprint(new)


def detect_revision(
    story: Story,
    observed: Observed,
    old: Extraction,
    new: Extraction,
    config: ChangeConfig = _DEFAULTS,
) -> Changes:
    """A known article changed its text: ``article_revised`` plus what the new claims change."""
    if not claims_changed(old, new):
        return Changes((), story.state)
    changes = detect_changes(story, observed, new, config)
    if not changes.state.tracked:
        return changes
    revised = render_revised(
        story,
        observed,
        old,
        new,
        statements_changed=_statement_keys(old) != _statement_keys(new),
    )
    return Changes((revised, *changes.alerts), changes.state)


def _source_key_in(speakers: Mapping[str, SpeakerRecord]) -> SourceKey:
    """A figure source's identity: the story's speaker it names, else its own key."""

    def key(name: str, role: str | None) -> str:
        return source_key(name, role, speakers)

    return key


def _update_speakers(
    known: Mapping[str, SpeakerRecord], statements: Iterable[Statement], observed: Observed
) -> tuple[dict[str, SpeakerRecord], list[Draft]]:
    speakers, first = update_speakers(known, statements, observed.article.id)
    return speakers, [Draft(AlertType.NEW_STATEMENT, statement=st) for st in first]


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
