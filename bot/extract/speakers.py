"""Speaker identity: a canonical key per speaker, and resolution within and across articles.

Why keys, not names: one official appears as "Fahrettin Altun", "Mr Altun" and
"Altun"; an office as "U.N. Secretary-General", "the Secretary-General" and, with a
name, "Antonio Guterres". Change detection must see one speaker, so:

- a *person's* key is the normalised surname ("altun");
- a *body's* key is its normalised name up to any "for …" tail, acronyms expanded
  ("the Syrian Observatory for Human Rights" → "syrian observatory");
- an *office* without a name keys as its normalised title ("united nations
  secretary-general"), and ``resolve_speaker`` matches it to a known person whose
  recorded role carries the same title.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.domain.stories import SpeakerRecord
from bot.extract.lexicon import (
    BODY_WORDS,
    HONORIFICS,
    PLACE_BODIES,
    ROLE_MODIFIERS,
    ROLE_WORDS,
    words,
)

_WORD_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[^\W\d_][\w'\-]*|\d+")
_ACRONYMS: dict[str, tuple[str, ...]] = {
    "un": ("united", "nations"),
    "u.n.": ("united", "nations"),
    "eu": ("european", "union"),
    "e.u.": ("european", "union"),
    "us": ("united", "states"),
    "u.s.": ("united", "states"),
    "usa": ("united", "states"),
    "uk": ("united", "kingdom"),
    "u.k.": ("united", "kingdom"),
    "sohr": ("syrian", "observatory"),
    "who": ("world", "health", "organization"),
}
_NAME_PARTICLES = ("al-", "el-", "ad-", "as-", "at-", "ash-", "an-")
_PARTICLES = frozenset({"al", "bin", "van", "von", "de", "da", "der", "la", "le", "el", "du"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_TITLE_WORDS = ROLE_WORDS | HONORIFICS | frozenset({"secretary-general"})


def _fold(s: str) -> str:
    if s.isascii():
        return s
    s = unicodedata.normalize("NFKD", s.replace("’", "'"))
    return "".join(c for c in s if not unicodedata.combining(c))


def _words(name: str) -> list[str]:
    out: list[str] = []
    for w in _WORD_RE.findall(_fold(name)):
        lw = w.lower()
        if lw.endswith("'s"):
            lw = lw[:-2]
        lw = lw.rstrip("'")
        if lw:
            out.append(lw)
    return out


def _expand(words: Iterable[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        out.extend(_ACRONYMS.get(w, (w,)))
    return out


def _normalise_title(words: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if w == "general" and out and out[-1] == "secretary":
            out[-1] = "secretary-general"
            continue
        out.append(w)
    return out


def is_body(name: str) -> bool:
    words = _words(name)
    return any(w in BODY_WORDS for w in words) or (
        len(words) >= 1 and all(w in PLACE_BODIES or w == "the" for w in words)
    )


def is_place(name: str) -> bool:
    """A bare country or capital ("Moscow", "Turkey") used as a speaker.

    Such metonyms speak for a government as a whole; they are kept as statements but
    are not *officials* (no new_statement alert), since every report of a conflict says
    "Turkey said" and the desk wants to hear when a person or an institution speaks.
    """
    words = [w for w in _words(name) if w != "the"]
    return bool(words) and all(w in PLACE_BODIES for w in words)


def person_name_words(name: str) -> list[str]:
    return list(_person_name_words(name))


@lru_cache(maxsize=4096)
def _person_name_words(name: str) -> tuple[str, ...]:
    """The name words after the last title or honorific ("UN spokesman Stephane Dujarric" →
    ["stephane", "dujarric"]); empty for an office alone ("U.N. Secretary-General") or an
    office phrase ("the governor of Hatay")."""
    raw = [w for w in _WORD_RE.findall(_fold(name)) if w.lower() != "the"]
    words = _normalise_title([w.lower().removesuffix("'s") for w in raw])
    if len(words) != len(raw):  # "Secretary General" was merged: realign on the merged list
        raw = [w for w in raw if w.lower() != "general"] if "secretary-general" in words else raw
    last = -1
    for i, w in enumerate(words):
        if w in _TITLE_WORDS or w.rstrip(".") in _TITLE_WORDS:
            last = i
    rest_raw = raw[last + 1 :] if len(raw) == len(words) else []
    if not rest_raw or any(
        not w[:1].isupper() and not w.lower().startswith(_NAME_PARTICLES) and w not in _PARTICLES
        for w in rest_raw
    ):
        return ()
    return tuple(w.lower().removesuffix("'s") for w in rest_raw if w.lower() not in _SUFFIXES)


@lru_cache(maxsize=4096)
def speaker_key(name: str) -> str:
    """A canonical matching key for a speaker (see module docstring)."""
    words = [w for w in _words(name) if w != "the"]
    if not words:
        return ""
    rest = person_name_words(name)
    person = (
        bool(rest)
        and not any(w in BODY_WORDS for w in rest)
        and not all(w in _ACRONYMS or w in ROLE_MODIFIERS or w in PLACE_BODIES for w in rest)
    )
    if person:
        surname = rest[-1]
        for p in _NAME_PARTICLES:
            if surname.startswith(p) and len(surname) > len(p) + 1:
                surname = surname[len(p) :]
        return surname
    if is_body(name):
        if "for" in words and words.index("for") > 0:
            words = words[: words.index("for")]
        return " ".join(_expand(words))
    return " ".join(_expand(_normalise_title(words)))


@dataclass(frozen=True, slots=True)
class RoleSignature:
    head: str
    """The office: "secretary-general", "governor", "spokesman"."""
    places: frozenset[str]
    """Proper-noun qualifiers, cut to 4 letters so "Turkish"/"Turkey's" compare."""


@lru_cache(maxsize=4096)
def role_signature(text: str | None) -> RoleSignature | None:
    """The office a role phrase names, or None if it names none."""
    if not text:
        return None
    raw = _fold(text)
    words = _normalise_title(_words(raw))
    head = ""
    for w in words:
        if w in ROLE_WORDS or w == "secretary-general":
            head = w
    if not head or head in ("official", "officials", "officer", "officers"):
        return None
    caps = {
        w.lower().removesuffix("'s")
        for w in _WORD_RE.findall(raw)
        if w[:1].isupper() and w.lower().rstrip(".") not in _TITLE_WORDS
    }
    places = frozenset(x[:4] for x in _expand(c for c in caps if c not in ("the",)) if x)
    places = frozenset(p for p in places if p not in {"secr", "gene"})
    return RoleSignature(head, places)


def roles_match(a: RoleSignature, b: RoleSignature) -> bool:
    if a.head != b.head:
        return False
    return a.places <= b.places or b.places <= a.places


def resolve_speaker(name: str, role: str | None, known: Mapping[str, SpeakerRecord]) -> str | None:
    """The key in ``known`` for the same speaker as ``name`` (with ``role``), or None.

    Matches by key (surname, body name), by alias, then — for an office named without a
    person ("the Secretary-General") — by the title recorded as a known speaker's role.
    """
    key = speaker_key(name)
    if not key:
        return None
    if key in known:
        return key
    for k, rec in known.items():
        if speaker_key(rec.name) == key or any(speaker_key(a) == key for a in rec.aliases):
            return k
    rest = person_name_words(name)
    if rest and not any(w in BODY_WORDS for w in rest) and not _acronyms_only(name):
        return None  # a named person we have not seen: never matched by office alone
    want = role_signature(name) or role_signature(role)
    if want is None:
        return None
    matches = []
    for k, rec in known.items():
        sigs = [role_signature(rec.role), role_signature(rec.name)]
        sigs += [role_signature(a) for a in rec.aliases]
        if any(s is not None and roles_match(want, s) for s in sigs):
            matches.append(k)
    return matches[0] if len(matches) == 1 else None


def _acronyms_only(name: str) -> bool:
    rest = person_name_words(name)
    return all(w in _ACRONYMS or w in ROLE_MODIFIERS for w in rest)


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
