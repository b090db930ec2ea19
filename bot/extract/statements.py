"""Resolving speech events into speakers, and building ``Statement``s.

Resolution runs in article order so pronouns ("he added", "He later confirmed") refer
to the most recent person-like speaker and "it said" to the most recent body; office
titles ("the governor of Hatay") resolve to the article's named holder of that office.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.claims import Evidence, Statement
from bot.extract.attribution import Kind, Mention, SpeechEvent
from bot.extract.lexicon import ATTRIBUTION_ONLY_VERBS
from bot.extract.speakers import ArticleSpeakers, is_place, speaker_key


@dataclass(frozen=True, slots=True)
class Resolved:
    """Who a speech event's subject is, as far as the article tells."""

    key: str
    speaker: str
    """Canonical display name: fullest person name, body name, office, or the phrase."""
    role: str | None
    attributable: bool
    """True when figures may name this speaker in ``attributed_to`` (not unnamed/media)."""
    official: bool
    person_like: bool
    form: str
    """The surface form used here (for aliases)."""


class SpeakerTracker:
    """Article-order state for pronoun resolution."""

    def __init__(self, registry: ArticleSpeakers) -> None:
        self.registry = registry
        self.last_person: Resolved | None = None
        self.last_body: Resolved | None = None

    def resolve(self, m: Mention) -> Resolved | None:
        r = self._resolve(m)
        if r is not None and m.kind is not Kind.PRONOUN:
            if r.person_like:
                self.last_person = r
            elif m.kind is Kind.BODY:
                self.last_body = r
        return r

    def _resolve(self, m: Mention) -> Resolved | None:
        reg = self.registry
        if m.kind is Kind.PRONOUN:
            if m.name in ("he", "she"):
                return self.last_person
            if m.name == "it":
                return self.last_body
            return None
        if m.kind is Kind.PERSON:
            key = speaker_key(m.name)
            found = reg.person(key)
            name, role = found if found else (m.name, m.role)
            role = m.role or role
            official = not m.non_official_role
            reg.add_form(key, m.name)
            return Resolved(key, name, role, True, official, True, m.name)
        if m.kind is Kind.ROLE:
            k = reg.resolve_role(m.name)
            if k is not None:
                found = reg.person(k)
                if found is not None:
                    reg.add_form(k, m.name)
                    return Resolved(k, found[0], found[1] or m.name, True, True, True, m.name)
            key = speaker_key(m.name)
            return Resolved(
                key, m.name, m.role or m.name, True, not m.non_official_role, True, m.name
            )
        if m.kind is Kind.BODY:
            key = speaker_key(m.name)
            name = reg.body_name(key, m.name)
            reg.add_form(key, m.name)
            return Resolved(key, name, None, True, True, False, m.name)
        if m.kind is Kind.UNNAMED:
            return Resolved("", m.name, m.name, False, False, not m.plural, m.name)
        return Resolved("", m.name, m.name, False, False, False, m.name)  # media


def build_statement(
    event: SpeechEvent,
    who: Resolved,
    sentence: str,
    evidence: Evidence,
) -> Statement | None:
    if event.lemma in ATTRIBUTION_ONLY_VERBS or event.mention.kind is Kind.MEDIA:
        return None
    text = sentence[event.content_start : event.content_end].strip(" \t\n,;:")
    if not text:
        return None
    if not event.direct:
        text = text.rstrip(" .")
    return Statement(
        speaker=who.speaker,
        role=who.role,
        verb=event.lemma,
        text=text,
        direct=event.direct,
        evidence=evidence,
        official=who.official and not is_place(who.speaker),
    )
