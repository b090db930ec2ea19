"""Article terms and names: what grouping compares, with no corpus and no state.

Grouping must work from the first article on, in arrival order, with nothing but
the story profiles, so document frequencies from a corpus are not available. The
general English frequency of a word (``wordfreq``'s Zipf scale, 0–8) stands in
for it: a word everyone uses ("said", 6.0) says little about which event a report
is about, a rare one ("Idlib", 2.9) says a lot, and a word wordfreq has never
seen ("Saraqeb") is almost always a name, the strongest signal of all.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from functools import lru_cache

from wordfreq import zipf_frequency

MAX_IDF = 7.0
"""Weight of a word wordfreq does not know; ``idf = MAX_IDF - zipf``, floored at 0."""

TITLE_BOOST = 2.0
"""Extra term count for each title occurrence: a headline names what the report is about."""

WORD_CACHE_SIZE = 20_000
"""Entries in each per-word memo below. A bot runs for months and the news never
stops coining names, so each memo is bounded: about 180 bytes an entry, some 10 MiB
for the three together. Word use is skewed enough (Zipf) that the 20,000 most
recently used words take almost every lookup. ``wordfreq`` keeps its own cache of 100,000."""

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
"""A word with internal apostrophes and hyphens; hyphenated forms are split later."""


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOPWORDS = _wordset(
    """
    a about above after again against all almost also although am among an and another any
    are around as at be because been before being below between both but by can could did
    do does doing down during each either else even ever every few for from further had has
    have having he her here hers herself him himself his how however i if in into is it its
    itself just least less like made make many may me might more most much must my myself
    near nearly neither no nor not now of off on once one only or other others otherwise our
    ours ourselves out over own per perhaps quite rather same several shall she should since
    so some such than that the their theirs them themselves then there these they this those
    though through thus to too toward towards under until up upon us very via was we were
    what whatever when where whether which while who whom whose why will with within without
    would yet you your yours yourself yourselves
    said say says saying told tell tells according added adding reported reports report
    reporting reporter reporters news agency agencies wire statement statements spokesman
    spokeswoman spokesperson mr mrs ms dr st
    new also just still already yesterday today tomorrow tonight week weeks day days month
    months year years time times hour hours minute minutes earlier later late latest early
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    first second third two three four five six seven eight nine ten eleven twelve
    hundred hundreds thousand thousands million millions billion billions dozen dozens
    percent cent per
    reuters afp ap bbc cnn read more click photo image video copyright caption getty
    """
)
"""Function words and news boilerplate: dates, numbers, reporting verbs, agency names.

Dates and reporting verbs matter most to drop: every report of the same week says
"Thursday" and "said", which would make unrelated news look alike.
"""

_TITLES = _wordset(
    """
    president prime minister ministers secretary general governor spokesman spokeswoman
    mayor chief director head leader king queen prince sultan sheikh pope senator
    ambassador commander colonel general lieutenant captain sergeant officer officials
    official mr mrs ms dr sir lord lady foreign interior defence defense finance health
    deputy vice acting former
    """
)
"""Roles and honorifics: capitalised before a name, but not names themselves."""

_NAME_MAX_ZIPF_MID = 5.6
"""A capitalised word mid-sentence this common is emphasis or a role, not a name."""
_NAME_MAX_ZIPF_START = 3.6
"""At a sentence start capitals are grammar: accept only words too rare to be common ones."""
_HEADLINE_CAPS_SHARE = 0.6
"""A line whose words are mostly capitalised is a title-case headline: treat every word as
a sentence start there, so "Holds Talks After" are not taken for names."""

_SENTENCE_END = frozenset(".!?:;")
_OPENERS = frozenset("\"'“”‘’«»([{-–—•*")
_FOLD = str.maketrans({"ı": "i", "ø": "o", "ł": "l", "đ": "d", "æ": "ae", "œ": "oe", "’": "'"})


@lru_cache(maxsize=WORD_CACHE_SIZE)
def _zipf(word: str) -> float:
    return float(zipf_frequency(word, "en"))


@lru_cache(maxsize=WORD_CACHE_SIZE)
def idf(term: str) -> float:
    """Offline stand-in for inverse document frequency: rare words weigh more."""
    return max(0.0, MAX_IDF - _zipf(term))


@lru_cache(maxsize=WORD_CACHE_SIZE)
def normalise_word(word: str) -> str:
    """Lower-case, strip diacritics and possessives, fold plurals.

    Diacritics are stripped so that "Çavuşoğlu" and "Cavusoglu" (both spellings are
    common across outlets) match. Plural folding is deliberately light — "soldiers",
    "casualties", "crashes" → "soldier", "casualty", "crash" — because a real stemmer
    conflates words that news uses differently ("strike"/"striker").
    """
    w = unicodedata.normalize("NFKD", word.translate(_FOLD).casefold())
    w = "".join(c for c in w if not unicodedata.combining(c)).translate(_FOLD)
    if w.endswith("'s"):
        w = w[:-2]
    elif w.endswith("'"):
        w = w[:-1]
    return _fold_plural(w)


def _fold_plural(w: str) -> str:
    n = len(w)
    if n > 4 and w.endswith("ies") and not w.endswith("eies"):
        return w[:-3] + "y"
    if n > 4 and w.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return w[:-2]
    if n > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ys", "'s")):
        return w[:-1]
    return w


def _words(text: str) -> list[str]:
    """Content words of a text, normalised; tokens with digits (ids, scraping junk) dropped."""
    out: list[str] = []
    for m in _WORD.finditer(text):
        for part in m.group().replace("’", "'").split("-"):
            if len(part) < 2 or any(c.isdigit() for c in part) or "_" in part:
                continue
            w = normalise_word(part)
            if len(w) >= 2 and w not in _STOPWORDS:
                out.append(w)
    return out


def article_terms(title: str, text: str) -> dict[str, float]:
    """The article as an L2-normalised TF-IDF-like vector of its content words.

    Term frequency is sublinear (``1 + ln tf``) so that a word repeated in a long
    article does not drown the rest; title words count ``TITLE_BOOST`` extra. The
    weight is ``tf × idf`` with the offline idf above. A unit vector makes cosine a
    plain dot product.
    """
    counts: dict[str, float] = dict(Counter(_words(text)))
    for w in _words(title):
        counts[w] = counts.get(w, 0.0) + TITLE_BOOST
    weights: dict[str, float] = {}
    for w, c in counts.items():
        weight = (1.0 + math.log(c)) * idf(w)
        if weight > 0.0:
            weights[w] = weight
    return normalise(weights)


def normalise(vec: dict[str, float]) -> dict[str, float]:
    """Scale a sparse vector to unit length (an empty or zero vector is returned empty)."""
    length = math.hypot(*vec.values()) if vec else 0.0
    if length == 0.0:
        return {}
    return {t: v / length for t, v in vec.items()}


def _is_sentence_start(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and (text[i] in " \t" or text[i] in _OPENERS):
        i -= 1
    return i < 0 or text[i] in "\r\n" or text[i] in _SENTENCE_END


def _headline_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        words = [w for w in _WORD.findall(line) if w[0].isalpha()]
        if len(words) >= 3:
            caps = sum(1 for w in words if w[0].isupper())
            if caps / len(words) >= _HEADLINE_CAPS_SHARE:
                spans.append((pos, pos + len(line)))
        pos += len(line)
    return spans


def salient_names(text: str) -> tuple[str, ...]:
    """Proper names and places the text mentions, lowercased, most frequent first.

    A name is a capitalised word that is not at the start of a sentence (where
    capitals are grammar), not a role or honorific ("Governor", "Mr") and not a very
    common word; at a sentence start, or in a title-case headline, only words rare
    enough to be names anyway ("Idlib") count. Multi-word names are returned word by
    word ("rahmi", "dogan"): outlets write "Erdogan", "President Erdogan" and "Recep
    Tayyip Erdogan", and only the words are shared. Hyphenated forms contribute their
    capitalised parts ("Russia-backed" → "russia", "al-Assad" → "assad").
    """
    headlines = _headline_spans(text)
    # The spans are in order and apart: the one that may hold a word is found by bisection
    # (a scan of all of them for each word was quadratic: 2.5 s for 100 KB of short
    # title-case lines).
    headline_starts = [a for a, _ in headlines]
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for m in _WORD.finditer(text):
        start = m.start()
        k = bisect_right(headline_starts, start) - 1
        at_start = _is_sentence_start(text, start) or (k >= 0 and start < headlines[k][1])
        offset = 0
        for k, part in enumerate(m.group().replace("’", "'").split("-")):
            part_start = start + offset
            offset += len(part) + 1
            if len(part) < 2 or not part[0].isupper() or any(c.isdigit() for c in part):
                continue
            name = normalise_word(part)
            if len(name) < 2 or name in _STOPWORDS or name in _TITLES:
                continue
            limit = _NAME_MAX_ZIPF_START if (at_start and k == 0) else _NAME_MAX_ZIPF_MID
            if not part.isupper() and _zipf(name) >= limit:
                continue
            counts[name] += 1
            first.setdefault(name, part_start)
    return tuple(sorted(counts, key=lambda n: (-counts[n], first[n])))
