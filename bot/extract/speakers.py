"""The speakers of one article: fullest names, roles and the forms used for each.

Speaker *identity* (keys, resolution against a story) is domain logic shared with
change detection: see ``bot.domain.speakers``, re-exported here for the extractor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.speakers import (
    body_identity,
    fold,
    is_body,
    is_place,
    person_name_words,
    resolve_speaker,
    role_signature,
    roles_match,
    speaker_key,
)
from bot.extract.lexicon import BODY_WORDS, HONORIFICS, ROLE_WORDS, words

__all__ = [
    "ArticleSpeakers",
    "body_identity",
    "is_body",
    "is_place",
    "person_name_words",
    "resolve_speaker",
    "speaker_key",
]

_NAME_PARTICLES = ("al-", "el-", "ad-", "as-", "at-", "ash-", "an-")
_TITLE_WORDS = ROLE_WORDS | HONORIFICS | frozenset({"secretary-general"})
_fold = fold


# --- within one article -----------------------------------------------------------------------

_TRAILING_CAPS = re.compile(r"(?:[A-Z][\w'’\-]*[ \t]+){1,4}(?:al-|el-)?$")


def _word_key(word: str) -> str:
    w = _fold(word).lower().removesuffix("'s").rstrip("'")
    for p in _NAME_PARTICLES:
        if w.startswith(p) and len(w) > len(p) + 1:
            return w[len(p) :]
    return w


_STOP_CAPS = words(
    """
    the a an and but then when while meanwhile earlier later in on at as after before
    for from with by of this that these those his her their its our my your if so
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """
)


@dataclass
class _Person:
    name: str
    role: str | None
    forms: set[str] = field(default_factory=set)


class ArticleSpeakers:
    """The speakers of one article: fullest names, roles, aliases."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._persons: dict[str, _Person] = {}
        self._bodies: dict[str, str] = {}
        self._forms: dict[str, set[str]] = {}

    def add_person(self, name: str, role: str | None) -> str:
        key = speaker_key(name)
        if not key:
            return key
        p = self._persons.get(key)
        if p is None:
            p = _Person(name=name, role=role)
            self._persons[key] = p
        else:
            if len(person_name_words(name)) > len(person_name_words(p.name)):
                p.name = name
            if p.role is None and role:
                p.role = role
        p.forms.add(name)
        return key

    def add_body(self, name: str) -> str:
        key = speaker_key(name)
        if key and len(name) > len(self._bodies.get(key, "")):
            self._bodies[key] = name
        return key

    def add_form(self, key: str, form: str) -> None:
        self._forms.setdefault(key, set()).add(form)

    def finish(self) -> None:
        """Look for fuller forms of each person's name anywhere in the text.

        Only occurrences of a known surname are examined: the capitalised words right
        before it ("Turkish President Recep Tayyip Erdogan") may complete the name.
        """
        surnames = {
            f.split()[-1].removesuffix("'s").removesuffix("’s")
            for p in self._persons.values()
            for f in p.forms
            if f.split()
        }
        surnames = {w for w in surnames if len(w) >= 3 and w[:1].isupper()}
        if not surnames:
            return
        best = {k: len(person_name_words(p.name)) for k, p in self._persons.items()}
        pattern = re.compile(
            r"\b(?:"
            + "|".join(re.escape(w) for w in sorted(surnames, key=len, reverse=True))
            + r")\b"
        )
        for m in pattern.finditer(self._text):
            key = _word_key(m.group(0))
            if key not in self._persons:
                continue
            before = self._text[max(0, m.start() - 60) : m.start()]
            words = [*_TRAILING_CAPS.findall(before)[-1:], m.group(0)]
            words = " ".join(words).split()
            kept: list[str] = []
            for x in words:
                lx = x.lower().rstrip(".")
                if (
                    lx in _TITLE_WORDS
                    or lx in _STOP_CAPS
                    or lx.endswith(("'s", "’s"))
                    or (lx in BODY_WORDS)
                ):
                    kept = []
                    continue
                kept.append(x)
            if (
                len(kept) > best[key]
                and len(kept) <= 4
                and all(not k.lower().endswith(("ish", "ian", "ese")) for k in kept[:-1])
            ):
                best[key] = len(kept)
                self._persons[key].name = " ".join(kept)

    def person(self, key: str) -> tuple[str, str | None] | None:
        p = self._persons.get(key)
        return (p.name, p.role) if p else None

    def body_name(self, key: str, default: str) -> str:
        return self._bodies.get(key, default)

    def resolve_role(self, role_text: str) -> str | None:
        """A person of this article holding the office ``role_text`` names, if unique."""
        want = role_signature(role_text)
        if want is None:
            return None
        hits = []
        for key, p in self._persons.items():
            sigs = [role_signature(p.role)] + [role_signature(f) for f in p.forms]
            if any(s is not None and roles_match(want, s) for s in sigs):
                hits.append(key)
        return hits[0] if len(hits) == 1 else None

    def aliases(self, key: str, canonical: str) -> tuple[str, ...]:
        forms = set(self._forms.get(key, set()))
        p = self._persons.get(key)
        if p is not None:
            forms |= p.forms
        return tuple(sorted(f for f in forms if f and f != canonical))
