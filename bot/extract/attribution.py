"""Who says what in a sentence: speech events and the noun phrases that name speakers.

A *speech event* is a reporting verb ("said", "told", "called for", "puts the figure at",
"according to") with its subject. Both figures (``attributed_to``) and statements are
built from them, so the rules live here once:

- subject before the verb: ``Governor Rahmi Dogan said``, ``UN spokesman X said``,
  appositives ``X, ROLE, said`` / ``ROLE, X, said``;
- subject after the verb (fronted speech): ``"…," said Hashem Ahelbarra of Al Jazeera``;
- ``according to X`` anywhere in the sentence.

Each subject is classified (person, body, role-only office, unnamed source, media,
pronoun); resolving pronouns and role titles against the rest of the article is done
in ``speakers.ArticleSpeakers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Literal

from bot.domain.places import is_place_name
from bot.extract.fastre import ascii_lower, trie_alternation
from bot.extract.lexicon import (
    ACT_OBJECTS,
    ACT_VERBS,
    AGENT_VERBS,
    AID_NOUNS,
    BODY_WORDS,
    CALL_VERBS,
    GROUP_PLURAL_HEADS,
    HONORIFICS,
    MEDIA_WORDS,
    MONTHS,
    NON_OFFICIAL_ROLE_WORDS,
    PLACE_BODIES,
    PRONOUNS,
    REPORT_NOUNS,
    ROLE_MODIFIERS,
    ROLE_WORDS,
    SPEECH_VERBS,
    TITLE_ABBREVIATIONS,
    UNNAMED_HEADS,
    WEEKDAYS,
    words,
)

TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[^\W\d_][\w'’\-]*|\d[\d,.]*\d|\d|[^\w\s]")

_QUOTE_CHARS = '"“”„«»'
_QUOTE_RE = re.compile("[" + re.escape(_QUOTE_CHARS) + "]")


class Kind(StrEnum):
    PERSON = "person"
    BODY = "body"
    ROLE = "role"
    """An office without a name: "U.N. Secretary-General", "the governor of Hatay"."""
    UNNAMED = "unnamed"
    MEDIA = "media"
    PRONOUN = "pronoun"


@dataclass(frozen=True, slots=True)
class Mention:
    """A speaker as a sentence names them."""

    kind: Kind
    text: str
    """The noun phrase as written ("Turkey's communications director, Fahrettin Altun")."""
    name: str
    """Person: the name without title ("Fahrettin Altun", "Altun"); body: its name
    without a leading "the"; role/unnamed/media: the phrase without a leading "the"."""
    role: str | None
    start: int
    end: int
    plural: bool = False
    non_official_role: bool = False


@dataclass(frozen=True, slots=True)
class SpeechEvent:
    mention: Mention
    lemma: str
    verb_start: int
    verb_end: int
    fronted: bool
    """True when the reported content precedes the subject (``"…," X said``)."""
    content_start: int
    content_end: int
    direct: bool


SPEECH_RE = re.compile(
    r"\b(?:(?P<call>called|calls|calling)\s+(?:for|on)\b"
    r"|(?P<put>puts?|putting)\s+(?:the|its|their|his|her)\s+(?:figure|toll|number|death\s+toll)"
    r"\s+at\b"
    r"|(?P<avail>made|makes)\s+(?:[\w\-]+\s+){0,4}?(?:" + "|".join(sorted(AID_NOUNS)) + r")"
    r"\s+available"
    r"|(?P<acc>according\s+to)\b"
    r"|(?P<by>" + trie_alternation(AGENT_VERBS) + r")\s+by\b"
    r"|(?P<act>" + trie_alternation(ACT_VERBS) + r")\s+(?:(?:a|an|the|his|her|their|its|our)\s+)?"
    r"(?:[\w\-]+\s+){0,4}?(?:" + "|".join(sorted(ACT_OBJECTS)) + r")"
    r"|(?P<verb>" + trie_alternation(SPEECH_VERBS) + r"))\b"
)
"""Reporting verbs; matched on the ASCII-lower-cased sentence (see ``fastre``)."""
_SKIP_BEFORE_VERB = words(
    """
    has have had also later previously earlier again further recently then repeatedly
    separately subsequently reportedly publicly initially first would will did does not
    once already last late now today yesterday
    """
)
_NP_FUNCTION = frozenset(
    {
        "of",
        "for",
        "the",
        "a",
        "an",
        "and",
        "de",
        "al",
        "el",
        "bin",
        "van",
        "von",
        "der",
        "la",
        "le",
        "du",
        "da",
        "&",
    }
)
_DETERMINERS = frozenset(
    {
        "the",
        "a",
        "an",
        "two",
        "three",
        "four",
        "five",
        "several",
        "some",
        "many",
        "both",
        "one",
        "another",
    }
)
_NP_LOWER = (
    ROLE_WORDS
    | ROLE_MODIFIERS
    | BODY_WORDS
    | UNNAMED_HEADS
    | MEDIA_WORDS
    | GROUP_PLURAL_HEADS
    | words(
        """
        state-run state-owned news armed coast border government opposition human rights
        presidency ruling turkish-backed authorities officials spokesperson unnamed
        anonymous hospital rescue aid civil defence protection weather meteorological
        geological survey disaster management red cross crescent relief ministry
        """
    )
)
_NP_LEADING_FUNCTION = _NP_FUNCTION - {"the", "a", "an"}
_RELATIVE = frozenset(
    {
        "which",
        "who",
        "whose",
        "where",
        "when",
        "that",
        "reporting",
        "speaking",
        "writing",
        "according",
        "while",
        "and",
        "but",
    }
)
_ADVERBIAL_AFTER = re.compile(
    r"^[\s,]*(?:(?:on|in|at|during|late|earlier|this|last|yesterday|today|tonight|later|"
    r"after|before|via|through|from|with|by|early|overnight|shortly)\b[^\"“”;:]*)?[.!?\s]*$",
    re.IGNORECASE,
)
# Between a verb and a direct quotation: "wrote on Twitter: \"…", "said in a statement: \"…".
_BEFORE_QUOTE = re.compile(
    r"[\s:,]*(?:(?:on|in|at|during|via|through|to)\b[^\"“”:]{0,60})?[\s:,]*", re.IGNORECASE
)
_LEADING_THE = re.compile(r"^(?:the|The)\s+")


def tokenize(sentence: str, lo: int = 0, hi: int | None = None) -> list[tuple[str, int, int]]:
    """Tokens (text, start, end) of ``sentence[lo:hi]`` with offsets into ``sentence``."""
    end = len(sentence) if hi is None else hi
    toks = [(m[0], m.start(), m.end()) for m in TOKEN_RE.finditer(sentence, lo, end)]
    return _join_title_periods(toks) if _TITLE_DOT.search(sentence, lo, end) else toks


_TITLE_DOT = re.compile(r"[A-Z][a-z]{0,4}\.(?=\s)")
"""Where a title abbreviation or an initial may end in its period (a cheap prefilter:
``_join_title_periods`` decides)."""


def _join_title_periods(toks: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """A title abbreviation or an initial keeps its period ("Col.", "Cmdr.", "M."), so
    "U.S. Army Col. Ana M. Reyes" is one speaker phrase, not a phrase cut at "Col"."""
    out: list[tuple[str, int, int]] = []
    for tok in toks:
        if (
            tok[0] == "."
            and out
            and out[-1][2] == tok[1]
            and out[-1][0][:1].isupper()
            and (out[-1][0].lower() in TITLE_ABBREVIATIONS or len(out[-1][0]) == 1)
        ):
            out[-1] = (out[-1][0] + ".", out[-1][1], tok[2])
            continue
        out.append(tok)
    return out


def quote_spans(sentence: str, open_at_start: bool) -> tuple[list[tuple[int, int]], bool]:
    """Spans inside double quotes; returns (spans, quote still open at sentence end).

    Curly quotes give direction; straight quotes toggle. ``open_at_start`` carries a
    quotation that continues from the previous sentence.
    """
    spans: list[tuple[int, int]] = []
    inside = open_at_start
    start = 0
    for qm in _QUOTE_RE.finditer(sentence):
        i, ch = qm.start(), qm.group(0)
        if ch in "“„«" and not inside:
            inside, start = True, i + 1
        elif ch in "”»" and inside:
            spans.append((start, i))
            inside = False
        elif ch == '"':
            if inside:
                spans.append((start, i))
                inside = False
            else:
                inside, start = True, i + 1
        elif ch in "“„«":  # a new opening while inside: treat as a restart
            start = i + 1
    if inside:
        spans.append((start, len(sentence)))
    return spans, inside


def in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _is_cap(tok: str) -> bool:
    return tok[:1].isupper()


_LOW_CACHE: dict[str, str] = {}
_LOW_CACHE_SIZE = 20_000  # ~3 MiB; the first tokens seen are the common ones, kept for good


def _low(tok: str) -> str:
    """Lower-cased token without a trailing period or possessive (memoised: hot path)."""
    low = _LOW_CACHE.get(tok)
    if low is None:
        low = tok.lower().rstrip(".").removesuffix("'s").removesuffix("’s")
        if len(_LOW_CACHE) < _LOW_CACHE_SIZE:
            _LOW_CACHE[tok] = low
    return low


def classify(
    sentence: str, toks: list[tuple[str, int, int]], lo: int, hi: int, *, role: str | None = None
) -> Mention | None:
    """Classify tokens ``toks[lo:hi]`` as a speaker mention: the first rule of ``_RULES``
    that decides (a mention, or False for "no speaker") wins."""
    if lo >= hi:
        return None
    if hi - lo == 1 and _low(toks[lo][0]) in PRONOUNS:
        low, (tok, start, end) = _low(toks[lo][0]), toks[lo]
        return Mention(Kind.PRONOUN, tok, low, None, start, end, plural=low in ("they", "we"))
    p = _Phrase.of(sentence, toks, lo, hi, role)
    if p is None:
        return None
    for rule in _RULES:
        found = rule(p)
        if found is not None:
            return found or None
    return p.mention(Kind.UNNAMED, p.bare, role, plural=p.plural, non_official_role=True)


@dataclass(slots=True)
class _Phrase:
    """A candidate speaker phrase, split into determiner and core words."""

    sentence: str
    toks: list[tuple[str, int, int]]
    hi: int
    role: str | None
    det: str
    core_lo: int
    core: list[str]
    core_lows: list[str]
    start: int
    end: int
    text: str
    bare: str
    _head: str = ""

    @classmethod
    def of(
        cls, sentence: str, toks: list[tuple[str, int, int]], lo: int, hi: int, role: str | None
    ) -> _Phrase | None:
        words = [t[0] for t in toks[lo:hi]]
        lows = [_low(w) for w in words]
        # Determiners first: "a senior Turkish official", "two officials", "the ministry".
        i = 0
        det = ""
        while i < len(words) and (lows[i] in _DETERMINERS or words[i][:1].isdigit()):
            det = det or lows[i]
            i += 1
        if i == len(words):
            return None
        start, end = toks[lo][1], toks[hi - 1][2]
        text = sentence[start:end]
        bare = _LEADING_THE.sub("", text)
        return cls(
            sentence, toks, hi, role, det, lo + i, words[i:], lows[i:], start, end, text, bare
        )

    def mention(self, kind: Kind, name: str, role: str | None = None, **kw: bool) -> Mention:
        return Mention(kind, self.text, name, role, self.start, self.end, **kw)

    @property
    def non_official(self) -> bool:
        role = self.role
        return any(lw in NON_OFFICIAL_ROLE_WORDS for lw in self.core_lows) or bool(
            role and any(_low(w) in _NON_OFFICIAL_OR_REPORTING for w in role.split())
        )

    @property
    def head(self) -> str:
        """The last office/body/group word before the first preposition ("the governor of
        … Hatay" → governor; "Syrian Observatory for Human Rights" → observatory)."""
        if not self._head:
            lows = self.core_lows
            cut = next((j for j in range(1, len(lows)) if lows[j] in _HEAD_CUTS), len(lows))
            pre = lows[:cut]
            self._head = next((w for w in reversed(pre) if w in _HEAD_WORDS), pre[-1])
        return self._head

    @property
    def plural(self) -> bool:
        return self.head in GROUP_PLURAL_HEADS or self.det not in ("", "the", "a", "an", "one")


Verdict = Mention | Literal[False] | None
"""A rule's answer: a mention, False for "not a speaker", None for "not my case"."""

_HEAD_CUTS = frozenset({"of", "for", "in", "at", "from", "on", "with", "part", "to"})


def _calendar(p: _Phrase) -> Verdict:
    """ "on Wednesday said": a date is never a speaker."""
    return False if all(lw in _CALENDAR_WORDS for lw in p.core_lows) else None


def _report_of(p: _Phrase) -> Verdict:
    """ "NHC forecasts", "Early reports from the U.S. Embassy", "figures from the health
    ministry": the body the report comes from speaks."""
    lows = p.core_lows
    if len(p.core) > 1 and lows[-1] in REPORT_NOUNS and _is_cap(p.core[-2]):
        return classify(p.sentence, p.toks, p.core_lo, p.hi - 1, role=p.role) or False
    source = _source_of_report(lows)
    if source:
        return classify(p.sentence, p.toks, p.core_lo + source, p.hi, role=p.role) or False
    return None


def _described(p: _Phrase) -> Verdict:
    """ "The man who claimed responsibility": a person described, not named ("who" is not
    the WHO)."""
    if any(w in _RELATIVE_PRONOUNS for w in p.core[1:]):
        return p.mention(Kind.UNNAMED, p.bare, non_official_role=True)
    return None


def _acronym_or_place(p: _Phrase) -> Verdict:
    """ "GoE", "FAA" are bodies; "California", "Chile" are places (bodies, never people)."""
    core = p.core
    if len(core) == 1 and is_acronym(core[0]) and p.core_lows[0] not in _NOT_BODY_ACRONYMS:
        return p.mention(Kind.BODY, p.bare)
    if len(core) <= 3 and all(_is_cap(w) for w in core) and is_place_name(" ".join(core)):
        return p.mention(Kind.BODY, p.bare)
    return None


def _titled_person(p: _Phrase) -> Verdict:
    """A person's name: capitalised tokens after the last title word ("UN spokesman
    Stephane Dujarric", "Turkey's U.N. Ambassador Feridun Sinirlioglu", "Mr Altun")."""
    core, lows = p.core, p.core_lows
    last_title = -1
    for j, lw in enumerate(lows):
        if lw in _TITLE_OR_HONORIFIC or (lw == "general" and j > 0 and lows[j - 1] == "secretary"):
            last_title = j
    if last_title < 0 and len(core) >= 3 and is_acronym(core[0]):
        last_title = 0  # "ERC Stephen O'Brien": an office's initials before the name
    last_title = _title_with_of(core, lows, last_title)
    name_toks = core[last_title + 1 :]
    if (
        not _is_name(name_toks)
        or p.det in ("a", "an")
        or (p.det and p.det != "the" and not p.det[:1].isdigit())  # "two officials"
        or not (last_title >= 0 or all(_is_cap(w) for w in core))
        or (len(name_toks) == 1 and _low(name_toks[0]) in PLACE_BODIES)
    ):
        return None
    title_words = core[: last_title + 1]
    role_text = p.role
    honorific_only = all(_low(w) in HONORIFICS for w in title_words)
    if role_text is None and title_words and not honorific_only:
        role_text = _LEADING_THE.sub("", p.sentence[p.start : p.toks[p.core_lo + last_title][2]])
    display = " ".join(name_toks)
    if title_words and honorific_only:
        display = " ".join([*title_words, *name_toks])
    return p.mention(Kind.PERSON, display, role_text, non_official_role=p.non_official)


def _is_name(name_toks: list[str]) -> bool:
    return bool(name_toks) and all(
        _is_cap(w)
        and _low(w) not in BODY_WORDS
        and _low(w) not in MEDIA_WORDS
        and not w.endswith(("'s", "’s"))
        for w in name_toks
    )


def _person_of(p: _Phrase) -> Verdict:
    """ "Hashem Ahelbarra of Al Jazeera": a named person of an organisation."""
    lows = p.core_lows
    if "of" not in lows[1:]:
        return None
    k = lows.index("of", 1)
    if k > 4 or not all(_is_cap(w) and _low(w) not in _HEAD_WORDS for w in p.core[:k]):
        return None
    media = any(lw in _MEDIA_NOT_AGENCY for lw in lows[k:])
    return p.mention(
        Kind.PERSON,
        " ".join(p.core[:k]),
        p.role or " ".join(p.core[k:]),
        non_official_role=p.non_official or media,
    )


def _media(p: _Phrase) -> Verdict:
    is_media = any(lw in _MEDIA_NOT_AGENCY for lw in p.core_lows) or "news" in p.core_lows
    if is_media and p.head not in _BODY_NOT_AGENCY:
        return p.mention(Kind.MEDIA, p.bare)
    return None


def _unnamed(p: _Phrase) -> Verdict:
    """ "a senior official", "two officials", "residents": nobody in particular; a proper
    body named with "the" ("the Red Cross") or alone ("Reuters") is somebody."""
    head, det, core = p.head, p.det, p.core
    proper_body = head in BODY_WORDS and any(_is_cap(w) for w in core)
    if not (det in ("a", "an", "one") or p.plural or head in UNNAMED_HEADS):
        return None
    if proper_body and head not in GROUP_PLURAL_HEADS and det not in ("a", "an"):
        return None
    if len(core) == 1 and _is_cap(core[0]) and head not in GROUP_PLURAL_HEADS:
        return None
    return p.mention(Kind.UNNAMED, p.bare, p.role, plural=p.plural, non_official_role=True)


def _office_or_body(p: _Phrase) -> Verdict:
    head = p.head
    if head in ROLE_WORDS:
        return p.mention(Kind.ROLE, p.bare, p.bare, non_official_role=p.non_official)
    if head in BODY_WORDS or head in PLACE_BODIES:
        return p.mention(Kind.BODY, p.bare)
    return None


def _bare_name(p: _Phrase) -> Verdict:
    """Capitalised words alone ("Celia Mendoza", "Bank of Ghana"): a person."""
    core = p.core
    if (
        all(_is_cap(w) or w.lower() in _NP_FUNCTION for w in core)
        and _is_cap(core[-1])
        and len(core) <= 5
    ):
        return p.mention(Kind.PERSON, " ".join(core), p.role, non_official_role=p.non_official)
    return None


_RULES: tuple[Callable[[_Phrase], Verdict], ...] = (
    _calendar,
    _report_of,
    _described,
    _acronym_or_place,
    _titled_person,
    _person_of,
    _media,
    _unnamed,
    _office_or_body,
    _bare_name,
)
"""Speaker-phrase rules, in order: the first that decides wins."""


_CALENDAR_WORDS = WEEKDAYS | frozenset(MONTHS)
_NOT_BODY_ACRONYMS = PRONOUNS | MEDIA_WORDS  # "AFP reported": a news agency, not a body
_RELATIVE_PRONOUNS = frozenset({"who", "whom", "whose", "which", "that"})


@lru_cache(maxsize=8192)
def is_acronym(word: str) -> bool:
    """An organisation's initials: "FAA", "GoE", "U.N.", "UNICEF" (two capitals or more)."""
    letters = word.replace(".", "")
    caps = sum(c.isupper() for c in letters)
    return letters.isalpha() and caps >= 2 and caps >= len(letters) - 1 and len(letters) <= 8


def _source_of_report(core_lows: list[str]) -> int:
    """Index of the source after "reports/figures/data from" (0 if the phrase is not that)."""
    for f in range(1, min(len(core_lows) - 1, 4)):
        if core_lows[f] in ("from", "by") and core_lows[f - 1] in REPORT_NOUNS:
            return f + 1
    return 0


def _title_with_of(core: list[str], core_lows: list[str], last_title: int) -> int:
    """Index of the title's last word when it continues with "of …" ("Secretary of State
    Rex Tillerson", "Minister of Health Ana Lee"): the name is the last two capitalised
    words (with any initial between), the rest belongs to the office."""
    j = last_title + 1
    if last_title < 0 or j >= len(core) or core_lows[j] != "of":
        return last_title
    rest = core[j + 1 :]
    if len(rest) < 3 or not all(_is_cap(w) for w in rest):
        return last_title
    name_len = 2 + sum(1 for w in rest[-3:-1] if len(w.rstrip(".")) == 1)
    return len(core) - name_len - 1


_MEDIA_NOT_AGENCY = MEDIA_WORDS - {"agency"}
_BODY_NOT_AGENCY = BODY_WORDS - {"agency"}
_NON_OFFICIAL_OR_REPORTING = NON_OFFICIAL_ROLE_WORDS | {"reporting"}
_ROLE_OR_BODY = ROLE_WORDS | BODY_WORDS
_TITLE_OR_HONORIFIC = ROLE_WORDS | HONORIFICS
_HEAD_WORDS = (
    ROLE_WORDS | BODY_WORDS | UNNAMED_HEADS | GROUP_PLURAL_HEADS | frozenset({"secretary-general"})
)


def _np_start(toks: list[tuple[str, int, int]], end_i: int, floor: int) -> int:
    """Walk left from ``end_i`` over tokens that can belong to a speaker noun phrase."""
    j = end_i
    while j >= floor:
        w = toks[j][0]
        lw = _low(w)
        if (
            (_is_cap(w) and w not in ("I",))
            or lw in _NP_LOWER
            or lw in _NP_FUNCTION
            or lw in _DETERMINERS
            or w[:1].isdigit()
        ):
            j -= 1
            continue
        break
    start = j + 1
    while start <= end_i and _low(toks[start][0]) in _NP_LEADING_FUNCTION:
        start += 1
    if end_i - start + 1 > 10:
        start = end_i - 9
        while start <= end_i and _low(toks[start][0]) in _NP_FUNCTION:
            start += 1
    return start


def _valid_head(tok: str) -> bool:
    lw = _low(tok)
    return (
        _is_cap(tok)
        or lw in PRONOUNS
        or lw in ROLE_WORDS
        or lw in BODY_WORDS
        or lw in UNNAMED_HEADS
        or lw in GROUP_PLURAL_HEADS
        or lw in MEDIA_WORDS
    )


def _boundary_index(toks: list[tuple[str, int, int]], i: int, floor: int) -> int:
    """Index of the nearest token at or before ``i`` that bounds a clause (",", quotes, …)."""
    while i >= floor:
        if toks[i][0] in (",", ";", ":", "(", ")", "—", "–") or toks[i][0] in _QUOTE_CHARS:
            return i
        i -= 1
    return floor - 1


_ADJUNCT_PREPS = frozenset({"in", "on", "at", "during", "via", "from", "after", "late", "early"})


def _skip_adjuncts(toks: list[tuple[str, int, int]], i: int) -> int:
    """The last token of the subject when adverbs, a parenthesis or a short prepositional
    phrase sit between it and the verb: "Trump on Wednesday said", "the minister in an
    interview with the radio warned", "the Aviation Administration (or FAA) said"."""
    while i >= 0:
        j = i
        while j >= 0 and _low(toks[j][0]) in _SKIP_BEFORE_VERB:
            j -= 1
        if j >= 0 and toks[j][0] == ")":
            k = j - 1
            while k >= 0 and j - k <= 8 and toks[k][0] not in ("(", ",", ";"):
                k -= 1
            if k >= 1 and toks[k][0] == "(":
                j = k - 1
        j = _skip_prepositional(toks, j)
        if j == i:
            return i
        i = j
    return i


def _skip_prepositional(toks: list[tuple[str, int, int]], j: int) -> int:
    """``j`` moved before a comma-free phrase "in/on/at … " of at most 8 tokens that follows
    a possible subject head ("Police in the capital said" → "Police")."""
    k = j
    while k >= 1 and j - k < 8:
        w = toks[k][0]
        if w in _PHRASE_BREAKS:
            return j
        if (
            w in _ADJUNCT_PREPS  # lower-case as written: "in", not "In"
            and (_valid_head(toks[k - 1][0]) or toks[k - 1][0] == ")")  # "(HCT) in Haiti"
            and _low(toks[k - 1][0]) not in REPORT_NOUNS  # "reports from the embassy"
        ):
            return k - 1
        k -= 1
    return j


_PHRASE_BREAKS = frozenset({",", ";", ":", "(", ")", *_QUOTE_CHARS})


def _is_place_segment(sentence: str, toks: list[tuple[str, int, int]], lo: int, hi: int) -> bool:
    return 0 < hi - lo <= 3 and is_place_name(sentence[toks[lo][1] : toks[hi - 1][2]])


def _subject_before(
    sentence: str, toks: list[tuple[str, int, int]], verb_i: int
) -> tuple[Mention | None, int]:
    """The subject of the verb at token ``verb_i`` when it precedes the verb.

    Returns (mention, index of the first token of the subject phrase incl. appositive).
    """
    i = _skip_adjuncts(toks, verb_i - 1)
    if i < 0:
        return None, verb_i
    if toks[i][0] == "," and i >= 1:
        return _appositive_subject(sentence, toks, i) or (None, verb_i)
    if not _valid_head(toks[i][0]):
        return _unnamed_source_before(sentence, toks, i) or (None, verb_i)
    if _low(toks[i][0]) in PRONOUNS:
        if i > 0 and _low(toks[i - 1][0]) in ("and", "or", "that", "which", "who"):
            return None, verb_i  # "… and it said": too ambiguous to resolve
        return classify(sentence, toks, i, i + 1), i
    lo = _np_start(toks, i, 0)
    if lo > i:
        return None, verb_i
    return classify(sentence, toks, lo, i + 1), lo


def _unnamed_source_before(
    sentence: str, toks: list[tuple[str, int, int]], i: int
) -> tuple[Mention | None, int] | None:
    """ "…, a Turkish-backed Syrian official part of the force in Idlib told the paper": an
    unnamed source whose phrase the NP walker cannot cross.

    Only a boundary within 14 tokens matters: look no further back (a scan to the
    sentence's start for every verb was quadratic on "said said said …")."""
    b = _boundary_index(toks, i, max(0, i - 14))
    lo = b + 1
    if lo <= i and i - lo < 14 and _low(toks[lo][0]) in ("a", "an", "the", "two", "three"):
        seg = [_low(t[0]) for t in toks[lo : i + 1]]
        if any(w in UNNAMED_HEADS for w in seg):
            return classify(sentence, toks, lo, i + 1), lo
    return None


def _appositive_subject(
    sentence: str, toks: list[tuple[str, int, int]], c2: int
) -> tuple[Mention | None, int] | None:
    """ "X, ROLE, said" or "ROLE, X, said", with the comma before the verb at ``c2``."""
    b1 = _boundary_index(toks, c2 - 1, 0)
    while b1 > 0 and toks[b1][0] == "," and _is_place_segment(sentence, toks, b1 + 1, c2):
        # "…, a geologist with the Survey in Pasadena, California, said": the place
        # finishes the appositive, it is not one.
        c2 = b1
        b1 = _boundary_index(toks, c2 - 1, 0)
    if not (b1 >= 0 and toks[b1][0] == "," and c2 - b1 - 1 <= 18 and c2 - b1 > 1):
        return None
    head_lo = _boundary_index(toks, b1 - 1, 0) + 1
    if b1 - head_lo > 14 or b1 <= head_lo:
        return None
    a = _Appositive(sentence, toks, head_lo, b1, b1 + 1, c2)
    for rule in (_role_then_name, _relative_appositive, _name_then_role, _body_appositive):
        found = rule(a)
        if found is not None:
            return found
    return None


@dataclass(slots=True)
class _Appositive:
    """``HEAD , APPOS ,`` before a verb: token ranges [head_lo, head_hi), [appos_lo, appos_hi)."""

    sentence: str
    toks: list[tuple[str, int, int]]
    head_lo: int
    head_hi: int
    appos_lo: int
    appos_hi: int

    def text(self, lo: int, hi: int) -> str:
        return self.sentence[self.toks[lo][1] : self.toks[hi - 1][2]]

    def head_mention(self) -> Mention | None:
        lo = _np_start(self.toks, self.head_hi - 1, self.head_lo)
        return classify(self.sentence, self.toks, lo, self.head_hi)

    def head_has_role(self) -> bool:
        return any(_low(t[0]) in ROLE_WORDS for t in self.toks[self.head_lo : self.head_hi])


def _role_then_name(a: _Appositive) -> tuple[Mention | None, int] | None:
    """ "Turkey's communications director, Fahrettin Altun, said"."""
    appos = a.toks[a.appos_lo : a.appos_hi]
    is_name = len(appos) <= 4 and all(
        _is_cap(t[0]) and _low(t[0]) not in _ROLE_OR_BODY for t in appos
    )
    if not (is_name and a.head_has_role()):
        return None
    role = _LEADING_THE.sub("", a.text(a.head_lo, a.head_hi))
    m = classify(a.sentence, a.toks, a.appos_lo, a.appos_hi, role=role)
    if m is None or m.kind is not Kind.PERSON:
        return None
    return _widen(m, a.sentence, a.toks[a.head_lo][1], a.toks[a.appos_hi - 1][2]), a.head_lo


def _relative_appositive(a: _Appositive) -> tuple[Mention | None, int] | None:
    """ "The governor, who …, said": the head speaks."""
    if _low(a.toks[a.appos_lo][0]) not in _RELATIVE:
        return None
    lo = a.head_lo
    if a.head_has_role() and (_low(a.toks[lo][0]) in _DETERMINERS or _is_cap(a.toks[lo][0])):
        return classify(a.sentence, a.toks, lo, a.head_hi), lo
    return a.head_mention(), lo


def _name_then_role(a: _Appositive) -> tuple[Mention | None, int] | None:
    """ "Omer Celik, spokesman for the ruling party, said"."""
    head = a.head_mention()
    if head is None or head.kind is not Kind.PERSON or not _valid_head(a.toks[a.head_hi - 1][0]):
        return None
    lo = _np_start(a.toks, a.head_hi - 1, a.head_lo)
    role = _LEADING_THE.sub("", a.text(a.appos_lo, a.appos_hi))
    m = classify(a.sentence, a.toks, lo, a.head_hi, role=role)
    if m is None:
        return None
    return _widen(m, a.sentence, m.start, a.toks[a.appos_hi - 1][2]), a.head_lo


def _body_appositive(a: _Appositive) -> tuple[Mention | None, int] | None:
    """ "The ministry, in a statement, said": a body, office or unnamed source speaks."""
    head = a.head_mention()
    if head is not None and head.kind in (Kind.BODY, Kind.ROLE, Kind.UNNAMED, Kind.MEDIA):
        return head, a.head_lo
    return None


def _widen(m: Mention, sentence: str, start: int, end: int) -> Mention:
    return Mention(
        m.kind, sentence[start:end], m.name, m.role, start, end, m.plural, m.non_official_role
    )


def _subject_after(sentence: str, toks: list[tuple[str, int, int]], verb_i: int) -> Mention | None:
    """Inverted subject: ``…," said Hashem Ahelbarra of Al Jazeera, reporting from …``."""
    j = verb_i + 1
    if j >= len(toks):
        return None
    k = j
    while k < len(toks) and k - j < 8:
        w = toks[k][0]
        lw = _low(w)
        if _is_cap(w) or lw in _NP_LOWER or lw in _DETERMINERS or lw in ("of", "for"):
            k += 1
            continue
        break
    while k > j and _low(toks[k - 1][0]) in ("of", "for", "the", "a", "an"):
        k -= 1
    if k == j or not _valid_head(toks[k - 1][0]):
        return None
    # Split "Hashem Ahelbarra of Al Jazeera": the name is the first capitalised run.
    name_hi = k
    for x in range(j, k):
        if _low(toks[x][0]) in ("of", "for") and x > j:
            name_hi = x
            break
    role: str | None = None
    if name_hi < k:
        role = sentence[toks[name_hi][1] : toks[k - 1][2]]
    if k < len(toks) and toks[k][0] == ",":
        rest_end = _boundary_index_forward(toks, k + 1)
        if rest_end > k + 1:
            extra = sentence[toks[k + 1][1] : toks[rest_end - 1][2]]
            role = f"{role}, {extra}" if role else extra
    m = classify(sentence, toks, j, name_hi, role=role)
    if m is None:
        return None
    return _widen(m, sentence, toks[j][1], toks[k - 1][2])


def _boundary_index_forward(
    toks: list[tuple[str, int, int]], i: int, limit: int | None = None
) -> int:
    """Index of the first clause-bounding token at or after ``i`` (at most ``limit``)."""
    stop = len(toks) if limit is None else min(len(toks), limit)
    while i < stop:
        if toks[i][0] in (",", ";", ":", ".", "!", "?") or toks[i][0] in _QUOTE_CHARS:
            return i
        i += 1
    return i if limit is None else min(i, limit)


def _according_to(
    sentence: str, toks: list[tuple[str, int, int]], acc_end_i: int
) -> Mention | None:
    j = acc_end_i
    k = _boundary_index_forward(toks, j, j + 12)
    for x in range(j + 1, k):
        # "authorized by the Secretary of Defense to spend …": the phrase ends at the verb.
        w = toks[x][0]
        lw = _low(w)
        if not (
            _is_cap(w)
            or w[:1].isdigit()
            or lw in _NP_LOWER
            or lw in _NP_FUNCTION
            or lw in REPORT_NOUNS
            or w in "()"
        ):
            k = x
            break
    if k <= j:
        return None
    m = classify(sentence, toks, j, k)
    return _widen(m, sentence, m.start, toks[k - 1][2]) if m is not None else None


def speech_events(
    sentence: str, quotes: list[tuple[int, int]], low: str | None = None
) -> list[SpeechEvent]:
    """All speech events of a sentence, in order (verbs inside quotations are skipped)."""
    matches = list(SPEECH_RE.finditer(ascii_lower(sentence) if low is None else low))
    if not matches:
        return []
    toks = tokenize(sentence, *_window(sentence, matches))
    by_start = {t[1]: n for n, t in enumerate(toks)}
    events: list[SpeechEvent] = []
    for m in matches:
        # A quotation that opens on the verb quotes the act itself: X also “offered …”.
        quoted_act = any(qa == m.start() for qa, _ in quotes)
        if in_spans(m.start(), quotes) and not quoted_act:
            continue
        verb_i = by_start.get(m.start())
        if verb_i is None:
            continue
        if m.group("acc") or m.group("by"):
            event = _source_event(sentence, toks, by_start, m)
        else:
            event = _verb_event(sentence, quotes, toks, verb_i, m, quoted_act)
        if event is not None:
            events.append(event)
    return events


def _window(sentence: str, matches: list[re.Match[str]]) -> tuple[int, int]:
    """Speaker phrases sit within a few dozen words of their verb: the span to tokenise
    (starting and ending at a space so no word is cut)."""
    lo = max(0, matches[0].start() - 200)
    if lo:
        space = sentence.find(" ", lo)
        lo = space + 1 if 0 <= space < matches[0].start() else matches[0].start()
    hi = min(len(sentence), matches[-1].end() + 160)
    if hi < len(sentence):
        space = sentence.rfind(" ", matches[-1].end(), hi)
        hi = space if space > 0 else len(sentence)
    return lo, hi


def _source_event(
    sentence: str,
    toks: list[tuple[str, int, int]],
    by_start: dict[int, int],
    m: re.Match[str],
) -> SpeechEvent | None:
    """ "according to X" and "authorized by X": the speaker follows the cue."""
    acc_end = by_start.get(m.end() + (1 if m.end() < len(sentence) else 0))
    if acc_end is None:
        acc_end = next((n for n, t in enumerate(toks) if t[1] >= m.end()), len(toks))
    mention = _according_to(sentence, toks, acc_end)
    if mention is None:
        return None
    fronted = bool(re.fullmatch(r"[\s.,;:!?\"”’)]*", sentence[mention.end :]))
    c_start, c_end = (0, m.start()) if fronted else (mention.end, len(sentence))
    lemma = AGENT_VERBS[m.group("by")] if m.group("by") else "say"
    return SpeechEvent(mention, lemma, m.start(), m.end(), fronted, c_start, c_end, False)


_NOT_A_FINITE_VERB_AFTER = frozenset({"to", "be", "been", "being", "was", "were", "is", "are"})


def _lemma(m: re.Match[str], toks: list[tuple[str, int, int]], verb_i: int) -> str | None:
    """The reporting verb's lemma, or None where the word is not a reporting verb here
    ("to say", "were confirmed dead", "is reported", "reports from the embassy")."""
    if verb_i > 0 and _low(toks[verb_i - 1][0]) in _NOT_A_FINITE_VERB_AFTER:
        return None
    if m.group("call"):
        return CALL_VERBS[m.group("call").lower()]
    if m.group("act"):
        return ACT_VERBS[m.group("act")]
    if m.group("put"):
        return "put"
    if m.group("avail"):
        return "authorize"  # "made disaster assistance available": an authorisation
    word = m.group("verb").lower()
    if word == "say" and verb_i > 0 and _low(toks[verb_i - 1][0]) == "not":
        return None
    nxt = _low(toks[verb_i + 1][0]) if verb_i + 1 < len(toks) else ""
    if word in REPORT_NOUNS and nxt in ("from", "by"):
        return None  # "reports from the embassy": a noun, not a verb
    return SPEECH_VERBS[word]


def _verb_event(
    sentence: str,
    quotes: list[tuple[int, int]],
    toks: list[tuple[str, int, int]],
    verb_i: int,
    m: re.Match[str],
    quoted_act: bool,
) -> SpeechEvent | None:
    """A reporting verb with its subject before it ("X said") or after it ("…," said X)."""
    lemma = _lemma(m, toks, verb_i)
    if lemma is None:
        return None
    mention, subj_lo = _subject_before(sentence, toks, verb_i - 1 if quoted_act else verb_i)
    if mention is not None:
        return _make_event(sentence, quotes, mention, lemma, m, toks[subj_lo][1], False)
    prev = toks[verb_i - 1][0] if verb_i > 0 else ""
    if not (prev in (",", *_QUOTE_CHARS) or verb_i == 0):
        return None
    mention = _subject_after(sentence, toks, verb_i)
    if mention is not None:
        return _make_event(sentence, quotes, mention, lemma, m, m.start(), True)
    lo = _coordinated_subject(toks, verb_i) if prev == "," else -1
    if lo < 0:
        return None
    mention = classify(sentence, toks, lo, _capitalised_run_end(toks, lo))
    if mention is None or mention.kind not in (Kind.PERSON, Kind.BODY):
        return None
    return _make_event(sentence, quotes, mention, lemma, m, m.start(), False)


def _coordinated_subject(toks: list[tuple[str, int, int]], verb_i: int) -> int:
    """ "ERC Stephen O'Brien travels to Quito, announces $7 million": the second verb
    shares the clause's subject — a capitalised run opening the sentence, followed by
    a verb (a lower-case word ending in -s/-ed) within 12 tokens. Index of the run, or -1."""
    comma = verb_i - 1
    if not toks or toks[0][1] != 0 or comma > 12:
        return -1  # the window must open the sentence
    if any(t[0] in (",", ";", ":") for t in toks[:comma]):
        return -1
    end = _capitalised_run_end(toks, 0)
    if end == 0 or end >= comma:
        return -1
    nxt = toks[end][0]
    if nxt[:1].isupper() or not nxt.endswith(("s", "ed")) or not nxt.isalpha():
        return -1
    return 0


def _capitalised_run_end(toks: list[tuple[str, int, int]], lo: int) -> int:
    end = lo
    while end < len(toks) and (_is_cap(toks[end][0]) or toks[end][0] in ("’", "'")):
        end += 1
    return end


def _make_event(
    sentence: str,
    quotes: list[tuple[int, int]],
    mention: Mention,
    lemma: str,
    m: re.Match[str],
    subj_start: int,
    inverted: bool,
) -> SpeechEvent:
    verb_end = max(m.end(), mention.end) if inverted else m.end()
    after = sentence[verb_end:]
    before = sentence[:subj_start].rstrip()
    before_words = len(before.split())
    adverbial = bool(_ADVERBIAL_AFTER.match(after)) or (
        lemma == "tell"
        and not re.search(r"\bthat\b", after)
        and ":" not in after
        and not any(q in after for q in _QUOTE_CHARS)
        and len(after.split()) <= 8
    )
    fronted = inverted or (before_words >= 3 and adverbial)
    if lemma == "tell" and not fronted:
        that = re.search(r"\bthat\b", after)
        if that is not None and that.start() < 80:
            verb_end += that.end()
    if fronted:
        c_end = len(before.rstrip(",;:—– "))
        c_start = 0
        direct = False
        # "…," X said: a quotation ending right before the subject.
        for qa, qb in quotes:
            if qb <= c_end + 1 and re.fullmatch(r"[\s,.!?\"”’]*", sentence[qb:subj_start] or ""):
                c_start, c_end, direct = qa, qb, True
        if direct:
            while c_end > c_start and sentence[c_end - 1] in ",. ":
                c_end -= 1
        return SpeechEvent(mention, lemma, m.start(), verb_end, True, c_start, c_end, direct)
    c_start = verb_end
    rest = sentence[c_start:]
    lead = re.match(r"[\s:,]*(?:that\s+)?", rest)
    c_start += lead.end() if lead else 0
    direct = False
    for qa, qb in quotes:
        if (
            qa >= c_start - 1
            and _BEFORE_QUOTE.fullmatch(sentence[c_start : max(c_start, qa - 1)])
            and re.fullmatch(r"[\s.,!?\"”’]*", sentence[qb:])
        ):
            c_start, direct = qa, True
            c_end = qb
            break
    else:
        c_end = len(sentence.rstrip(" .!?"))
    return SpeechEvent(
        mention, lemma, m.start(), verb_end, False, c_start, max(c_start, c_end), direct
    )
