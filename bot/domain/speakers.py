"""Speaker identity: a canonical key per speaker, and resolution of a name against a story.

Why keys, not names: one official appears as "Fahrettin Altun", "Mr Altun" and
"Altun"; an office as "U.N. Secretary-General", "the Secretary-General" and, with a
name, "Antonio Guterres"; a body as "Russia's Defence Ministry", "the Russian
ministry" and "the ministry". Change detection must see one speaker, so:

- a *person's* key is the normalised surname ("altun");
- a *body's* key is its normalised name up to any "for …" tail, acronyms expanded
  ("the Syrian Observatory for Human Rights" → "syrian observatory");
- an *office* without a name keys as its normalised title ("united nations
  secretary-general");
- ``resolve_speaker`` then matches a new name to a speaker the story already knows:
  by key or alias; a body by its *identity* (head noun, country, name words: "the
  Russian ministry" is the known "Russia's Defence Ministry"); an office of a known
  organisation by its acronym ("USAID Office of …" is the known "USAID"); an office
  without a name by the title recorded as a known person's role.

This lives in the domain because extraction (within one article) and change detection
(across a story's articles) both need it, and change detection must not depend on the
extractor.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.domain.places import country_in, country_of_word, is_place_name
from bot.domain.speaker_words import (
    BODY_WORDS,
    HEAD_SYNONYMS,
    HONORIFICS,
    PLACE_BODIES,
    ROLE_MODIFIERS,
    ROLE_WORDS,
    SUB_UNIT_HEADS,
)
from bot.domain.stories import SpeakerRecord

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
NAME_PARTICLES = ("al-", "el-", "ad-", "as-", "at-", "ash-", "an-")
_PARTICLES = frozenset({"al", "bin", "van", "von", "de", "da", "der", "la", "le", "el", "du"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
TITLE_WORDS = ROLE_WORDS | HONORIFICS | frozenset({"secretary-general"})
_PAREN_RE = re.compile(r"\s*\([^)]*\)")
# Modifiers of rank, not of portfolio: "acting secretary" is still the secretary.
_RANKS = frozenset({"deputy", "senior", "junior", "acting", "former", "top", "assistant"})


def fold(s: str) -> str:
    """ASCII-fold accents and curly apostrophes ("José" → "Jose", "’" → "'")."""
    if s.isascii():
        return s
    s = unicodedata.normalize("NFKD", s.replace("’", "'"))
    return "".join(c for c in s if not unicodedata.combining(c))


def _words(name: str) -> list[str]:
    out: list[str] = []
    for w in _WORD_RE.findall(fold(name)):
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


@lru_cache(maxsize=4096)
def is_place(name: str) -> bool:
    """A bare country or capital ("Moscow", "Turkey") used as a speaker.

    Such metonyms speak for a government as a whole; they are kept as statements but
    are not *officials* (no new_statement alert), since every report of a conflict says
    "Turkey said" and the desk wants to hear when a person or an institution speaks.
    """
    words = [w for w in _words(name) if w != "the"]
    return bool(words) and (all(w in PLACE_BODIES for w in words) or is_place_name(name))


def person_name_words(name: str) -> list[str]:
    return list(_person_name_words(name))


@lru_cache(maxsize=4096)
def _person_name_words(name: str) -> tuple[str, ...]:
    """The name words after the last title or honorific ("UN spokesman Stephane Dujarric" →
    ["stephane", "dujarric"]); empty for an office alone ("U.N. Secretary-General") or an
    office phrase ("the governor of Hatay")."""
    raw = [w for w in _WORD_RE.findall(fold(name)) if w.lower() != "the"]
    words = _normalise_title([w.lower().removesuffix("'s") for w in raw])
    if len(words) != len(raw):  # "Secretary General" was merged: realign on the merged list
        raw = [w for w in raw if w.lower() != "general"] if "secretary-general" in words else raw
    last = -1
    for i, w in enumerate(words):
        if w in TITLE_WORDS or w.rstrip(".") in TITLE_WORDS:
            last = i
    rest_raw = raw[last + 1 :] if len(raw) == len(words) else []
    if not rest_raw or any(
        not w[:1].isupper() and not w.lower().startswith(NAME_PARTICLES) and w not in _PARTICLES
        for w in rest_raw
    ):
        return ()
    return tuple(w.lower().removesuffix("'s") for w in rest_raw if w.lower() not in _SUFFIXES)


@lru_cache(maxsize=4096)
def speaker_key(name: str) -> str:
    """A canonical matching key for a speaker (see module docstring)."""
    name = _PAREN_RE.sub("", name)  # "Government of Ecuador (GoE)": the acronym is an alias
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
        for p in NAME_PARTICLES:
            if surname.startswith(p) and len(surname) > len(p) + 1:
                surname = surname[len(p) :]
        return surname
    if is_body(name):
        if "for" in words and words.index("for") > 0:
            words = words[: words.index("for")]
        return " ".join(_expand(words))
    return " ".join(_expand(_normalise_title(words)))


# --- bodies: identity beyond the spelling ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class BodyIdentity:
    """What names a body, whatever the spelling: its head noun, its country, its other words.

    "Russia's Defence Ministry" → (ministry, RU, {defence}); "the Russian ministry" →
    (ministry, RU, {}); "Ethiopia Airlines" and "Ethiopian Airlines" → (airline, ET, {}).
    A bare country ("Canada announced …") is its government: (government, CA, {}).
    """

    head: str
    country: str | None
    words: frozenset[str]


_BODY_FILLER = frozenset({"the", "of", "and", "for", "in", "republic", "u.s", "us"})


def _singular(w: str) -> str:
    w = HEAD_SYNONYMS.get(w, w)
    return w[:-1] if w.endswith("s") and len(w) > 4 and not w.endswith("ss") else w


@lru_cache(maxsize=4096)
def body_identity(name: str) -> BodyIdentity | None:
    """The identity of a body named ``name``, or None if ``name`` does not name a body."""
    plain = _PAREN_RE.sub("", fold(name))
    country = country_in(plain)
    words = [w for w in _words(plain) if w not in _BODY_FILLER]
    heads = [w for w in words if w in BODY_WORDS]
    if not heads:
        if country is None or not words or not all(_is_country_word(w, country) for w in words):
            return None
        return BodyIdentity("government", country, frozenset())
    if len(heads) > 1 and heads[0] in ("government", "administration"):
        heads = heads[1:]  # "Government of Haiti Directorate of …": the directorate speaks
    head = _singular(heads[0] if heads[-1] in ("nations",) else heads[-1])
    rest = frozenset(
        _singular(w)
        for w in _expand(words)
        if _singular(w) != head and not (country and _is_country_word(w, country))
    )
    return BodyIdentity(head, country, rest)


def _is_country_word(word: str, country: str) -> bool:
    return country_of_word(word) == country or word in ("united", "states", "new", "south", "north")


def same_body(a: BodyIdentity, b: BodyIdentity) -> bool:
    """Two names of one body: same head, same country (or one says none), and the words of
    the shorter name are all in the longer one ("the ministry" ⊂ "Defence Ministry")."""
    if a.head != b.head:
        return False
    if a.country and b.country and a.country != b.country:
        return False
    if not (a.country or b.country) and not (a.words and b.words):
        return False  # "the ministry" vs "the Health Ministry", no country: too vague
    return a.words <= b.words or b.words <= a.words


# --- offices -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleSignature:
    head: str
    """The office: "secretary-general", "governor", "spokesman"."""
    places: frozenset[str]
    """Proper-noun qualifiers, cut to 4 letters so "Turkish"/"Turkey's" compare."""
    portfolio: frozenset[str] = frozenset()
    """Lower-case office modifiers: "education", "foreign", "interior"."""


@lru_cache(maxsize=4096)
def role_signature(text: str | None) -> RoleSignature | None:
    """The office a role phrase names, or None if it names none."""
    if not text:
        return None
    raw = fold(text)
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
        if w[:1].isupper() and w.lower().rstrip(".") not in TITLE_WORDS
    }
    places = frozenset(x[:4] for x in _expand(c for c in caps if c not in ("the",)) if x)
    places = frozenset(p for p in places if p not in {"secr", "gene"})
    portfolio = frozenset(w for w in words if w in ROLE_MODIFIERS and w not in _RANKS)
    return RoleSignature(head, places, portfolio)


def roles_match(a: RoleSignature, b: RoleSignature) -> bool:
    if a.head != b.head:
        return False
    return a.places <= b.places or b.places <= a.places


# --- resolution against a story's known speakers ----------------------------------------------


def resolve_speaker(name: str, role: str | None, known: Mapping[str, SpeakerRecord]) -> str | None:
    """The key in ``known`` for the same speaker as ``name`` (with ``role``), or None.

    Rules in order: key, alias, body identity, parent organisation, office title.
    """
    key = speaker_key(name)
    if not key:
        return None
    if key in known:
        return key
    for rule in _RULES:
        found = rule(name, role, key, known)
        if found is not None:
            return found
    return None


def _by_alias(
    name: str, role: str | None, key: str, known: Mapping[str, SpeakerRecord]
) -> str | None:
    for k, rec in known.items():
        if speaker_key(rec.name) == key or any(speaker_key(a) == key for a in rec.aliases):
            return k
    return None


def _by_body(
    name: str, role: str | None, key: str, known: Mapping[str, SpeakerRecord]
) -> str | None:
    """ "The Russian ministry" is the known "Russia's Defence Ministry" (if it is the only one)."""
    if _is_named_person(name):
        return None
    want = body_identity(name)
    if want is None:
        return None
    hits = []
    for k, rec in known.items():
        ids = (body_identity(n) for n in (rec.name, *rec.aliases))
        if any(i is not None and same_body(want, i) for i in ids):
            hits.append(k)
    return hits[0] if len(hits) == 1 else None


def _by_parent(
    name: str, role: str | None, key: str, known: Mapping[str, SpeakerRecord]
) -> str | None:
    """ "USAID Office of U.S. Foreign Disaster Assistance": an office of the known "USAID"
    speaks for it. Only offices, bureaux and teams (a ministry is a speaker of its own)."""
    raw = _WORD_RE.findall(fold(name))
    if len(raw) < 2 or not _is_acronym(raw[0]):
        return None
    if not any(w.lower() in SUB_UNIT_HEADS for w in raw[1:4]):
        return None
    parent = speaker_key(raw[0])
    return parent if parent in known else None


def _by_office(
    name: str, role: str | None, key: str, known: Mapping[str, SpeakerRecord]
) -> str | None:
    """An office named without a person ("the Secretary-General") is the known person
    whose role carries that title, if exactly one does."""
    if _is_named_person(name):
        return None  # a named person we have not seen: never matched by office alone
    want = role_signature(name) or role_signature(role)
    if want is None:
        return None
    matches = []
    for k, rec in known.items():
        sigs = [role_signature(rec.role), role_signature(rec.name)]
        sigs += [role_signature(a) for a in rec.aliases]
        if any(
            s is not None and roles_match(want, s) and want.portfolio <= s.portfolio for s in sigs
        ):
            matches.append(k)  # "education secretary" is not a known plain "Secretary"
    return matches[0] if len(matches) == 1 else None


_RULES = (_by_alias, _by_body, _by_parent, _by_office)


def _is_named_person(name: str) -> bool:
    rest = person_name_words(name)
    return (
        bool(rest)
        and not any(w in BODY_WORDS for w in rest)
        and not _acronyms_only(name)
        and not is_place_name(name)
    )


def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "")
    return len(letters) >= 2 and sum(c.isupper() for c in letters) >= 2 and letters.isalpha()


def _acronyms_only(name: str) -> bool:
    rest = person_name_words(name)
    return all(w in _ACRONYMS or w in ROLE_MODIFIERS for w in rest)
