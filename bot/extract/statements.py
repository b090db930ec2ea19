"""Resolving speech events into speakers, and building ``Statement``s.

Resolution runs in article order so pronouns ("he added", "He later confirmed") refer
to the most recent person-like speaker and "it said" to the most recent body; office
titles ("the governor of Hatay") resolve to the article's named holder of that office.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.domain.claims import Evidence, Statement
from bot.extract.attribution import Kind, Mention, SpeechEvent, is_acronym
from bot.extract.lexicon import (
    ACT_VERBS,
    AGENT_VERBS,
    ATTRIBUTION_ONLY_VERBS,
    BODY_WORDS,
    GENERIC_BODY_HEADS,
    INSTITUTION_HEADS,
    PROPER_BODY_NOUNS,
    ROLE_WORDS,
    UNQUALIFIED_BODY_HEADS,
)
from bot.extract.speakers import ArticleSpeakers, body_identity, is_place, speaker_key


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
        self.bodies_by_head: dict[str, Resolved] = {}
        self.last_official_body: Resolved | None = None

    def resolve(self, m: Mention) -> Resolved | None:
        r = self._resolve(m)
        if r is not None and m.kind is not Kind.PRONOUN:
            if r.person_like:
                self.last_person = r
            elif m.kind is Kind.BODY:
                self.last_body = r
                self._remember_body(r)
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
            official = not m.non_official_role and reg.has_office(key, m.role)
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
            official = not m.non_official_role and _unique_office(m)
            return Resolved(key, m.name, m.role or m.name, True, official, True, m.name)
        if m.kind is Kind.BODY:
            return self._body(m)
        if m.kind is Kind.UNNAMED:
            return Resolved("", m.name, m.name, False, False, not m.plural, m.name)
        return Resolved("", m.name, m.name, False, False, False, m.name)  # media

    def _body(self, m: Mention) -> Resolved:
        """A body: acronyms the article defines are expanded ("GoE" → "Government of
        Ecuador"); a body named by common nouns ("the agency", "the ministry") is the
        article's latest body with that head noun; without one, only an institution the
        nouns single out ("the health ministry", "the government") speaks."""
        reg = self.registry
        name = reg.expand_acronym(m.name)
        # "The Pentagon said": a capitalised body noun after "the" is a name; at the very
        # start of a sentence ("Agency officials …") capitals prove nothing.
        opens_sentence = m.start == 0 and m.text == m.name
        if not _proper(name, sentence_start=opens_sentence):
            antecedent = self._antecedent(name)
            if antecedent is not None:
                reg.add_form(antecedent.key, m.name)
                return replace(antecedent, form=m.name)
            if not _qualified(name):
                return Resolved("", m.name, None, False, False, False, m.name)
        key = speaker_key(name)
        display = reg.body_name(key, name)
        reg.add_form(key, m.name)
        official = body_identity(name) is not None or is_place(name) or is_acronym(name)
        return Resolved(key, display, None, True, official, False, m.name)

    def _antecedent(self, name: str) -> Resolved | None:
        """The latest official body with the same head noun ("the ministry"), or the latest
        official body at all for a generic noun ("the agency")."""
        want = body_identity(name)
        if want is None:
            return None
        if want.head in GENERIC_BODY_HEADS:
            return self.last_official_body
        return self.bodies_by_head.get(want.head)

    def _remember_body(self, r: Resolved) -> None:
        found = body_identity(r.speaker) if r.official else None
        if found is not None:
            self.bodies_by_head[found.head] = r
            self.last_official_body = r


def _proper(name: str, *, sentence_start: bool = False) -> bool:
    """The name has a proper word: an acronym, or a capitalised word that is not just the
    first word of the sentence ("Mexico’s education secretary", not "The judge")."""
    words = name.split()
    if any(is_acronym(w) for w in words):
        return True
    first_counts = not sentence_start and words[:1] != [] and words[0][:1].isupper()
    if len(words) == 1:
        low = words[0].lower()
        if words[0][:1].isupper() and low in PROPER_BODY_NOUNS:
            return True
        return first_counts and low not in _COMMON_HEADS
    return first_counts or any(w[:1].isupper() for w in words[1:])


def _qualified(name: str) -> bool:
    """A body named by common nouns that still names one institution: "the health
    ministry", "the civil defense agency", "the government", "police" (of the country the
    story is about), unlike "the agency" or "the company" alone."""
    words = [w.lower() for w in name.split() if w.lower() not in ("the", "a", "an")]
    if not words or words[-1] in UNQUALIFIED_BODY_HEADS:
        return False
    return len(words) > 1 or words[0] in INSTITUTION_HEADS


_COMMON_HEADS = BODY_WORDS | ROLE_WORDS | frozenset({"official"})


def _unique_office(m: Mention) -> bool:
    """An office without a name is a speaker only when it is unique: qualified by a
    place or organisation ("Mexico's education secretary", "the governor of Hatay") or
    written as a title ("the Acting Secretary of Defense"), not "the judge"."""
    return _proper(m.name, sentence_start=m.start == 0)


ACT_LEMMAS = frozenset(ACT_VERBS.values()) | frozenset(AGENT_VERBS.values())


def build_statement(
    event: SpeechEvent,
    who: Resolved,
    sentence: str,
    evidence: Evidence,
) -> Statement | None:
    if event.lemma in ATTRIBUTION_ONLY_VERBS or event.mention.kind is Kind.MEDIA:
        return None
    text = sentence[event.content_start : event.content_end].strip(" \t\n,;:")
    if not text and event.lemma in ACT_LEMMAS:
        text = sentence[event.verb_start :].strip(" \t\n.")  # the act is what was said
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
