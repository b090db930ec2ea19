"""Near-duplicates: one wire report republished by several outlets.

Agencies' copy is reprinted with a new headline, a dropped paragraph, a local
byline or a timestamp line. Those copies are one report: they should join the
original's story and confirm its figures, never open a story of their own or alert
again. Exact copies are caught by the content hash; this module catches the rest.

How: an article's text becomes a set of overlapping five-word *shingles*. Two
texts are near-duplicates when most of the shorter one's shingles appear in the
longer one (containment, so a trimmed reprint still matches). Comparing every pair
is impossible at scale, so each article is indexed under its few smallest shingle
hashes (a bottom-k sketch): two texts sharing most shingles almost surely share
one of those keys, while unrelated texts almost never do. Only articles found
under a shared key are compared exactly.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass

SHINGLE_WORDS = 5
SKETCH_SIZE = 8
DEFAULT_THRESHOLD = 0.8
MIN_SHINGLES = 12
"""Texts shorter than this (about 16 words) are too short to call a copy reliably."""

_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*")


@dataclass(frozen=True, slots=True)
class Fingerprint:
    shingles: frozenset[int]

    @property
    def keys(self) -> tuple[str, ...]:
        """Index keys: the smallest shingle hashes, as fixed-width hex."""
        if len(self.shingles) < MIN_SHINGLES:
            return ()
        return tuple(f"{h:016x}" for h in heapq.nsmallest(SKETCH_SIZE, self.shingles))


def _hash(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")


def fingerprint(text: str) -> Fingerprint:
    """The shingle set of ``text`` (case, punctuation and spacing ignored)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < SHINGLE_WORDS:
        return Fingerprint(frozenset())
    return Fingerprint(
        frozenset(
            _hash(" ".join(words[i : i + SHINGLE_WORDS]))
            for i in range(len(words) - SHINGLE_WORDS + 1)
        )
    )


def containment(a: Fingerprint, b: Fingerprint) -> float:
    """Share of the smaller text's shingles found in the other (0 for tiny texts)."""
    small, large = (a, b) if len(a.shingles) <= len(b.shingles) else (b, a)
    if len(small.shingles) < MIN_SHINGLES:
        return 0.0
    return len(small.shingles & large.shingles) / len(small.shingles)


def is_near_duplicate(a: Fingerprint, b: Fingerprint, threshold: float = DEFAULT_THRESHOLD) -> bool:
    return containment(a, b) >= threshold
