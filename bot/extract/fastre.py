"""Small helpers that keep the extractor's regexes fast.

Python's ``re`` tries alternatives one by one, so ``said|says|say|…`` with a hundred
words costs a hundred attempts at every position. Building the alternation as a trie
(``sa(?:id|ys|y)``) makes a failing position cost one character comparison, which is
what lets ``extract`` handle hundreds of articles per second. Matching runs on an
ASCII-lower-cased copy of the sentence (same length, so offsets are unchanged) instead
of using ``re.IGNORECASE``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_Trie = dict[str, "_Trie"]
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(s: str) -> str:
    """A lower-cased copy with exactly the length (and character alignment) of ``s``.

    ``str.lower`` is fast and keeps alignment unless some character lower-cases to
    several ("İ" → "i̇"); only then fall back to lower-casing ASCII letters alone.
    """
    low = s.lower()
    return low if len(low) == len(s) else s.translate(_ASCII_LOWER)


def trie_alternation(words: Iterable[str]) -> str:
    """A regex (non-capturing) matching any of ``words``; a space matches ``\\s+``.

    Longer words are preferred where one word is a prefix of another ("says" before "say").
    """
    trie: _Trie = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _render(trie)


def _render(node: _Trie) -> str:
    branches = []
    end = "" in node
    for ch in sorted(k for k in node if k):
        piece = r"\s+" if ch == " " else re.escape(ch)
        branches.append(piece + _render(node[ch]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if end:
        return "(?:" + body + ")?"
    return body
