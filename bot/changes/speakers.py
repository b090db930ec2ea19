"""The speaker part of change detection: who has spoken in a story, and who is new.

A ``new_statement`` alert means an official speaks in the story for the first time, so
each official statement is matched against the story's known speakers by identity
(``bot.domain.speakers.resolve_speaker``: surname, body identity, parent organisation,
office title), not by spelling. A known speaker only gains the new spellings as aliases,
so later articles that use them resolve too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from bot.domain.claims import Statement
from bot.domain.speakers import resolve_speaker, speaker_key
from bot.domain.stories import SpeakerRecord


def source_key(name: str, role: str | None, speakers: Mapping[str, SpeakerRecord]) -> str:
    """The identity key of a figure's source: a known speaker's key if it is one."""
    return resolve_speaker(name, role, speakers) or speaker_key(name)


def update_speakers(
    known: Mapping[str, SpeakerRecord], statements: Iterable[Statement], article_id: str
) -> tuple[dict[str, SpeakerRecord], list[Statement]]:
    """The story's speakers after ``statements``, and the statements of new officials."""
    speakers = dict(known)
    first: list[Statement] = []
    for st in statements:
        if not st.official:
            continue
        key = source_key(st.speaker, st.role, speakers)
        record = speakers.get(key)
        if record is None:
            speakers[key] = SpeakerRecord(
                name=st.speaker,
                role=st.role,
                aliases=tuple(a for a in st.aliases if a != st.speaker),
                first_article_id=article_id,
            )
            first.append(st)
            continue
        aliases = tuple(dict.fromkeys((*record.aliases, *st.aliases, st.speaker)))
        speakers[key] = replace(
            record,
            role=record.role or st.role,
            aliases=tuple(a for a in aliases if a != record.name),
            statements=record.statements + 1,
        )
    return speakers, first
