"""Countries and large regions by name or adjective, read from the one gazetteer.

Speaker identity needs to know that "Russia's", "Russian" and "Russia" are one
country (so "the Russian ministry" can be "Russia's Defence Ministry"), and that
"California" or "Ecuador" is a place, never a person. The names are the shared
gazetteer's country layer (``bot.domain.gazetteer``: country spellings and capitals)
and its U.S. states; only the adjectives that do not start like their country
("French", "Dutch") are listed here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.domain.gazetteer import countries, fold, regions_of

# Adjectives (and short forms) that do not begin with their country's name. The packages
# behind the gazetteer carry no demonyms, and these are too irregular to derive from the
# name by suffix (as the gazetteer does for "Mexican"), so they stay a list.
_IRREGULAR: dict[str, str] = {
    "american": "US",
    "u.s": "US",
    "u.s.": "US",
    "us": "US",
    "usa": "US",
    "america": "US",
    "british": "GB",
    "britain": "GB",
    "uk": "GB",
    "u.k.": "GB",
    "french": "FR",
    "dutch": "NL",
    "swiss": "CH",
    "greek": "GR",
    "irish": "IE",
    "welsh": "GB",
    "scottish": "GB",
    "english": "GB",
    "filipino": "PH",
    "thai": "TH",
    "lao": "LA",
    "kiwi": "NZ",
    "emirati": "AE",
    "saudi": "SA",
    "peruvian": "PE",
    "malagasy": "MG",
}
# What may follow a country's stem in its adjective: Russia-n, Turk-ish, Mexic-an, Chin-ese.
_ADJ_ENDINGS = ("", "n", "an", "ian", "ean", "can", "ish", "ese", "i", "ic", "er", "ers", "ns")
_WORD = re.compile(r"[A-Za-z][A-Za-z.'’\-]*")


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, str], dict[tuple[str, ...], str], frozenset[str]]:
    """(one-word names → ISO code, multi-word names → ISO code, other place names): the
    shared gazetteer's country spellings and capitals, split for word-by-word matching,
    and the U.S. states (the regions speakers are named after: "Texas officials")."""
    layer = countries()
    spellings: dict[str, list[str]] = {}
    for name, iso in layer.names.items():
        spellings.setdefault(iso, []).append(name)
    capitals: dict[str, list[str]] = {}
    for name, iso in layer.capitals.items():
        capitals.setdefault(iso, []).append(name)
    # Each country's main name, then its capital, then the other spellings: when a word
    # reads as the adjective of two names equally well ("Moro": Moroni, Morocco), the
    # first one listed wins, so the order is part of the behaviour.
    ordered = [n for iso, names in spellings.items() for n in (names[0], *capitals.get(iso, ()))]
    ordered += [n for names in spellings.values() for n in names[1:]]
    ordered += [n for iso, names in capitals.items() if iso not in spellings for n in names]
    single: dict[str, str] = {}
    multi: dict[tuple[str, ...], str] = {}
    for name in ordered:
        iso = layer.names.get(name) or layer.capitals[name]
        parts = tuple(name.split())
        if len(parts) == 1:
            single.setdefault(parts[0], iso)
        elif parts:
            multi.setdefault(parts, iso)
    return single, multi, regions_of("US")


@lru_cache(maxsize=1)
def _by_stem() -> dict[str, list[tuple[str, str]]]:
    """The one-word names by their first four letters, in the gazetteer's order: an
    adjective shares at least four letters with its country, so only these can match."""
    stems: dict[str, list[tuple[str, str]]] = {}
    for name, iso in _gazetteer()[0].items():
        stems.setdefault(name[:4], []).append((name, iso))
    return stems


@lru_cache(maxsize=8192)
def country_of_word(word: str) -> str | None:
    """The ISO code of the country a single word names or qualifies ("Mexican" → "MX")."""
    w = word.lower().replace("’", "'").removesuffix("'s").rstrip("'")
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) < 4 or not w.isalpha():
        return None
    w = fold(w)  # the gazetteer's keys: "Bogotá" and "Bogota" are one
    single, _, _ = _gazetteer()
    if w in single:
        return single[w]
    best: tuple[int, str] | None = None
    for name, iso in _by_stem().get(w[:4], ()):
        n = _common_prefix(w, name)
        adjective = n >= 4 and n >= len(name) - 3 and w[n:] in _ADJ_ENDINGS
        if adjective and (best is None or n > best[0]):
            best = (n, iso)
    return best[1] if best else None


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@lru_cache(maxsize=8192)
def country_in(text: str) -> str | None:
    """The first country ``text`` names or qualifies ("the Government of the Republic of
    Mozambique" → "MZ", "New Zealand police" → "NZ"), or None."""
    words = [w.lower().replace("’", "'").removesuffix("'s") for w in _WORD.findall(text)]
    _, multi, _ = _gazetteer()
    for i in range(len(words)):
        for parts, iso in multi.items():
            if tuple(words[i : i + len(parts)]) == parts:
                return iso
        found = country_of_word(words[i]) if _capitalised(text, words[i]) else None
        if found is not None:
            return found
    return None


def _capitalised(text: str, low: str) -> bool:
    """The word appears capitalised in ``text`` ("russian" in "the Russian ministry")."""
    i = text.lower().find(low)
    return i >= 0 and text[i : i + 1].isupper()


@lru_cache(maxsize=8192)
def is_place_name(name: str) -> bool:
    """``name`` is a country, a capital, a U.S. state or a country adjective, not a person."""
    low = name.strip().lower().removeprefix("the ")
    if low in _IRREGULAR:
        return True
    if low.endswith("."):  # "Quito." ends a sentence: the caller did not cut a name
        return False
    key = fold(low)
    single, multi, others = _gazetteer()
    return key in single or key in others or tuple(key.split()) in multi
