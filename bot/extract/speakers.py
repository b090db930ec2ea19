"""The speakers of one article: fullest names, roles and the forms used for each.

Speaker *identity* (keys, resolution against a story) is domain logic shared with
change detection: see ``bot.domain.speakers``, re-exported here for the extractor.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from bot.domain.places import country_in, country_of_word
from bot.domain.speakers import (
    NAME_PARTICLES,
    TITLE_WORDS,
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
from bot.extract.lexicon import (
    BODY_WORDS,
    NON_OFFICIAL_ROLE_WORDS,
    OFFICE_VERBS,
    PRIVATE_PERSON_WORDS,
    ROLE_MODIFIERS,
    ROLE_WORDS,
    SPEECH_VERBS,
    words,
)

__all__ = [
    "ArticleSpeakers",
    "body_identity",
    "is_body",
    "is_place",
    "person_name_words",
    "resolve_speaker",
    "speaker_key",
]

_fold = fold


# --- within one article -----------------------------------------------------------------------

_TRAILING_CAPS = re.compile(r"(?:[A-Z][\w'’\-]*[ \t]+){1,4}(?:al-|el-)?$")


def _word_key(word: str) -> str:
    w = _fold(word).lower().removesuffix("'s").rstrip("'")
    for p in NAME_PARTICLES:
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


# --- is a named person an official? -----------------------------------------------------------
#
# News introduces an official by office or organisation ("Governor Ana Ruiz", "Tom Lee, a
# spokesman for the Red Cross", "Lee heads the district's disaster office") and a private
# person by circumstance ("Ana Ruiz is a teacher", "39-year-old Ana Ruiz", or nothing at
# all). So a named speaker is an official only when the article gives them an office.

# "major" and "general" are ranks but far more often adjectives ("18 major victories").
_OFFICIAL_WORDS = ROLE_WORDS - NON_OFFICIAL_ROLE_WORDS - PRIVATE_PERSON_WORDS - {"major", "general"}
# Lower-case words a title phrase before a name is made of ("the head of Italy's civil
# defense department, …"); any other lower-case word ("praised") ends it.
_TITLE_PHRASE_WORDS = (
    ROLE_WORDS
    | ROLE_MODIFIERS
    | BODY_WORDS
    | frozenset({"of", "for", "the", "in", "at", "a", "an", "and", "to", "on"})
)


_LOW_WORDS = re.compile(r"[a-z][a-z'’\-]*")
_POSSESSIVE = re.compile(r"['’]s\b")
_CAP_WORDS = re.compile(r"\b[A-Z][a-z]+\b")


class Evidence:
    """What a phrase says about a person: office (True), private (False), nothing (None)."""

    @staticmethod
    @lru_cache(maxsize=8192)
    def of_text(phrase: str) -> bool | None:
        """Set lookups on the phrase's words (no per-word Python loop: a hot path; roles
        such as "President" recur, hence the memo)."""
        if not phrase:
            return None
        low = _POSSESSIVE.sub("", phrase.lower())
        found = set(_LOW_WORDS.findall(low))
        if found & PRIVATE_PERSON_WORDS or "-year-old" in low:
            return False
        if found & _OFFICIAL_WORDS:
            return True
        capitalised = {w.lower() for w in _CAP_WORDS.findall(phrase)}
        return True if capitalised & BODY_WORDS else None


_BEFORE_STOP = re.compile(r"[;:!?\"“”()\n]")


def _before(text: str, start: int) -> str:
    """Up to 8 words right before ``start`` within its clause ("… the Ministry of
    Information, Nick Mangwana": commas are crossed, quotes and line ends are not)."""
    window = text[max(0, start - 90) : start]
    stops = list(_BEFORE_STOP.finditer(window))
    if stops:
        window = window[stops[-1].end() :]
    words = window.split()[-8:]
    for k in range(len(words) - 1, -1, -1):
        w = words[k].strip(",")
        low = w.lower()
        if w[:1].islower() and low not in _TITLE_PHRASE_WORDS and _verb_like(low):
            words = words[k + 1 :]  # "Obama praised Woods": "praised" ends the title phrase
            break
    return " ".join(words)


def _verb_like(low: str) -> bool:
    """A word that ends a title phrase read leftwards: a past or reporting verb ("praised",
    "told", "met"), not a name's part ("the local search and rescue agency")."""
    return low.endswith("ed") or low in SPEECH_VERBS or low in _CONTACT_VERBS


_CONTACT_VERBS = frozenset({"met", "meets", "saw", "sees", "told", "thanked", "visited"})


_AFTER_DESCRIPTION = re.compile(
    r"\s*(?:,\s*(?:who\s+(?P<verb>is|was|heads|headed|leads|led|runs|ran|directs|chairs)\s+)?"
    r"|\s+(?:is|was)\s+)(?P<np>[^.;:\"“”\n]{2,90})"
)


def _after(text: str, end: int) -> str:
    """The description right after a name: ", a spokesman for …", " is a teacher in …",
    ", who heads the city's emergency office" (to head a body is an office)."""
    m = _AFTER_DESCRIPTION.match(text, end)
    if m is None:
        return ""
    np = " ".join(m.group("np").split(",")[0].split()[:12])
    return _as_office(m.group("verb"), np)


def _as_office(verb: str | None, np: str) -> str:
    """ "heads the agency" → "head the agency": leading a body names an office."""
    if verb and verb not in ("is", "was"):
        return "head " + np
    return np


# What follows a name up to "He …"/"She …": the rest of the sentence, its end, space.
# Read as ``[^.!?\n]*[.!?”"]*\s+`` + ``_PRONOUN_CLAUSE`` matched at the name's end, but
# found by ``_pronoun_clause`` without backtracking over the rest of the sentence once per
# mention (quadratic: "said Ahmed said Ahmed …" without a period took 20 s per 100 KB).
_SENTENCE_END = re.compile(r"[.!?\n]")
_END_AND_SPACE = re.compile(r"[.!?”\"]*\s+")
_PRONOUN_CLAUSE = re.compile(r"(?:He|She)\s+(?P<verb>\w+)\s+(?P<np>[^.;\n]{2,80})")


def _next_sentence(text: str, end: int) -> str:
    """ "… said Tom Lee. He led a Red Cross team …": the office told in the next sentence."""
    m = _pronoun_clause(text, end)
    if m is None or m.group("verb").lower() not in OFFICE_VERBS:
        return ""
    return _as_office(m.group("verb").lower(), " ".join(m.group("np").split()[:10]))


def _pronoun_clause(text: str, end: int) -> re.Match[str] | None:
    """The last "He/She …" clause the regex above would reach from ``end``: the one
    starting the next sentence, else the last one inside this sentence after ``end``."""
    sentence_ends, clauses = _pronoun_index(text)
    k = bisect_left(sentence_ends, end)
    stop = sentence_ends[k] if k < len(sentence_ends) else len(text)
    gap = _END_AND_SPACE.match(text, stop)
    if gap is not None:
        m = _PRONOUN_CLAUSE.match(text, gap.end())
        if m is not None:
            return m
    # Inside this sentence: the last clause after a space at or after ``end``.
    j = bisect_left(clauses, stop) - 1
    if j >= 0 and clauses[j] > end:
        return _PRONOUN_CLAUSE.match(text, clauses[j])
    return None


@lru_cache(maxsize=4)
def _pronoun_index(text: str) -> tuple[list[int], list[int]]:
    """Where ``text``'s sentences end, and where a "He/She …" clause follows a space."""
    ends = [m.start() for m in _SENTENCE_END.finditer(text)]
    clauses = [m.start() for m in _SPACED_PRONOUN_CLAUSE.finditer(text)]
    return ends, clauses


_SPACED_PRONOUN_CLAUSE = re.compile(r"(?<=\s)(?=" + _PRONOUN_CLAUSE.pattern + ")")


def _occurrences(text: str, word: str) -> list[tuple[int, int]]:
    """Spans of ``word`` as a whole word in ``text`` (str.find: no regex per name)."""
    out: list[tuple[int, int]] = []
    i = text.find(word)
    while i >= 0:
        j = i + len(word)
        if (i == 0 or not text[i - 1].isalnum()) and (j == len(text) or not text[j].isalnum()):
            out.append((i, j))
        i = text.find(word, j)
    return out


def office_evidence(text: str, surname: str, acronyms: dict[str, str] | None = None) -> bool | None:
    """What the article says about the person called ``surname``: an office (True), a
    private person (False) or nothing (None). Private descriptions win: "a journalist".
    Acronyms the article defines count as their names ("ERC Stephen O'Brien", with "UN
    Emergency Relief Coordinator (ERC)" earlier, is a coordinator)."""
    verdict: bool | None = None
    for name_start, name_end in _occurrences(text, surname):
        for phrase in (
            _before(text, name_start),
            _after(text, name_end),
            _next_sentence(text, name_end),
        ):
            if acronyms:
                phrase = " ".join(acronyms.get(w, w) for w in phrase.split())
            found = Evidence.of_text(phrase)
            if found is False:
                return False
            verdict = verdict or found
    return verdict


_TITLED_NAME = r"\s+((?:[A-Z][\w'’\-]+\s+|[A-Z]\.\s+){0,2}[A-Z][\w'’\-]+)"


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
        self._offices: dict[str, bool] = {}
        self._acronyms: dict[str, str] | None = None
        self._titled: dict[str, dict[str, str | None]] = {}

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
            run = _TRAILING_CAPS.findall(before)[-1:]
            words = " ".join([*run, m.group(0)]).split()
            if run and re.search(r"\b(?:of|for|at)\s+$", before[: len(before) - len(run[0])]):
                # "Secretary of Homeland Security Kirstjen Nielsen": the name is the last
                # two words (three with an initial), the rest ends the title.
                initial = len(words) >= 3 and len(words[-2].rstrip(".")) == 1
                words = words[-3:] if initial else words[-2:]
            kept: list[str] = []
            for x in words:
                lx = x.lower().rstrip(".")
                if (
                    lx in TITLE_WORDS
                    or lx in _STOP_CAPS
                    or lx.endswith(("'s", "’s"))
                    or (lx in BODY_WORDS)
                    or (len(x) >= 2 and x.isupper())  # an office's initials: "ERC"
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

    def has_office(self, key: str, role: str | None) -> bool:
        """The article gives the person ``key`` an office (see ``office_evidence``)."""
        cached = self._offices.get(key)
        if cached is not None:
            return cached
        p = self._persons.get(key)
        roles = [role, p.role if p else None]
        verdicts = [Evidence.of_text(r) for r in roles if r]
        if False in verdicts:
            result = False
        elif True in verdicts:
            result = True
        else:
            surnames = {
                f.split()[-1].removesuffix("'s").removesuffix("’s") for f in (p.forms if p else ())
            }
            surnames = {w for w in surnames if len(w) >= 3}
            acronyms = self._definitions()
            result = any(office_evidence(self._text, w, acronyms) for w in surnames)
        self._offices[key] = result
        return result

    def _definitions(self) -> dict[str, str]:
        if self._acronyms is None:
            self._acronyms = acronym_definitions(self._text)
        return self._acronyms

    def expand_acronym(self, name: str) -> str:
        """``name`` with a leading acronym the article defines written out."""
        first, _, rest = name.partition(" ")
        full = self._definitions().get(first)
        if full is None:
            return name
        return f"{full} {rest}".strip() if rest else full

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
        if not hits:
            # "Chile's President says …" + "President Ana Soto visited …": the holder named
            # elsewhere in the article, when only one fits the office's country.
            country = country_in(role_text)
            names = {
                n
                for n, c in self._persons_with_title(want.head).items()
                if c is None or country is None or c == country
            }
            if len(names) == 1:
                return self.add_person(names.pop(), want.head.capitalize())
        return hits[0] if len(hits) == 1 else None

    def _persons_with_title(self, head: str) -> dict[str, str | None]:
        """Names written right after the capitalised title ``head`` anywhere in the article
        ("Chilean President Ana Soto visited …"), with the country before the title."""
        found = self._titled.get(head)
        if found is None:
            pattern = re.compile(r"\b" + re.escape(head.capitalize()) + _TITLED_NAME)
            found = {}
            for m in pattern.finditer(self._text):
                if speaker_key(m.group(1)):
                    prev = self._text[max(0, m.start() - 40) : m.start()].split()
                    before = prev[-1] if prev else ""
                    found[m.group(1)] = country_of_word(before) if before[:1].isupper() else None
            self._titled[head] = found
        return found

    def aliases(self, key: str, canonical: str) -> tuple[str, ...]:
        forms = set(self._forms.get(key, set()))
        p = self._persons.get(key)
        if p is not None:
            forms |= p.forms
        return tuple(sorted(f for f in forms if f and f != canonical))


# --- acronyms the article defines ------------------------------------------------------------

_ACRONYM_IN_PARENS = re.compile(r"\((?:or\s+|the\s+)?([A-Z][A-Za-z]{1,7})\)")
_DEF_WORDS = re.compile(r"(?:[A-Z][\w'’.\-]*|of|the|for|and|on|in|de|del)$")
_DEF_FUNCTION = frozenset({"of", "the", "for", "and", "on", "in", "de", "del"})


def acronym_definitions(text: str) -> dict[str, str]:
    """Acronyms defined as "Full Name (ACR)" → the full name ("GoE" → "Government of
    Ecuador"). The name is the shortest run of words before the parenthesis whose
    capitalised initials spell the acronym's capitals; a country or organisation name
    right before it is kept ("Mozambique Ministry of Health (MoH)")."""
    out: dict[str, str] = {}
    for m in _ACRONYM_IN_PARENS.finditer(text):
        acr = m.group(1)
        if acr in out:
            continue
        words = text[max(0, m.start() - 120) : m.start()].split()[-9:]
        while words and not _DEF_WORDS.match(words[0]):
            words = words[1:]
        for i in range(len(words) - 1, -1, -1):
            if not _DEF_WORDS.match(words[i]):
                words = words[i + 1 :]
                break
        name = _definition_name(words, "".join(c for c in acr if c.isupper()))
        if name:
            out[acr] = name
    return out


def _definition_name(words: list[str], capitals: str) -> str | None:
    for n in range(1, len(words) + 1):
        run = words[-n:]
        if run[0].lower() in _DEF_FUNCTION:
            continue
        initials = "".join(
            w.replace(".", "")[0] if "." not in w.rstrip(".") else w.replace(".", "")
            for w in run
            if w.lower() not in _DEF_FUNCTION
        )
        if initials.upper() == capitals:
            if n < len(words) and words[-n - 1][:1].isupper():
                prev = words[-n - 1]
                if body_identity(prev) is not None or prev.isupper():
                    run = [prev, *run]
            return " ".join(run)
    return None
