"""Sentence splitting with character offsets.

Every claim carries the sentence it was read from as evidence, with offsets into the
article text, so the splitter never rewrites text: it only returns ``(start, end)``
spans such that ``text[start:end]`` is the sentence, stripped of surrounding space.

Rules (wire copy, scraped): a paragraph break always ends a sentence; ``. ! ?``
(optionally followed by closing quotes or brackets) end one when followed by space
and something that can start a sentence — unless the period belongs to an
abbreviation ("Mr.", "Gen.", "No."), an initial ("J. Smith") or a dotted acronym
("U.N.", "U.S.") that is followed by a word that does not usually start a sentence.
Decimals ("3.7") never split because no space follows the period.
"""

from __future__ import annotations

import re

from bot.extract.lexicon import words

# Abbreviations whose period never ends a sentence (lower-cased, without the period).
_ABBREVIATIONS = words(
    """
    mr mrs ms dr prof gen lt col sgt capt maj cpl pvt adm cmdr rev fr st jr sr gov sen rep
    pres supt insp det no nos vol vols fig figs approx est dept univ inc ltd co corp bros
    vs etc al jan feb mar apr jun jul aug sep sept oct nov dec mt ft mst hon messrs brig cdr
    lieut
    """
)
# After a dotted acronym ("U.S.") or "a.m."/"p.m.", split only when one of these follows.
_SENTENCE_STARTERS = words(
    """
    the a an he she it they we i in on at but and this that these those there his her their
    its our after before when while however meanwhile earlier later officials police
    authorities according some many most one two three four five six seven eight nine ten
    """
)

# A match starts only where a run of ``. ! ?`` starts and takes the run and its closing
# quotes whole (possessive): only the whole run can be followed by space, so nothing is
# lost, and a long run not followed by space is read once instead of once per character
# (quadratic: 100 KB of dots took 106 s).
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"'”’)\]]*+(?=\s)")
_PARAGRAPH = re.compile(r"\n\s*\n|\r\n\s*\r\n|\n(?=\s*[\"“A-Z0-9(])")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.'’-]*)$")
_NEXT_WORD = re.compile(r"\s+([\"“‘'(\[]?)([^\s]+)")

MAX_SENTENCE = 1500
"""Longer spans (garbage, lists without punctuation) are cut into chunks of this size so
every later regex runs on bounded input."""


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans ``(start, end)``, in order, non-overlapping."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _paragraphs(text):
        start = block_start
        for m in _BOUNDARY.finditer(text, block_start, block_end):
            end = m.end()
            if _is_boundary(text, m.start(), end, block_end):
                _emit(text, start, end, spans)
                start = end
        _emit(text, start, block_end, spans)
    return spans


def _paragraphs(text: str) -> list[tuple[int, int]]:
    blocks: list[tuple[int, int]] = []
    start = 0
    for m in _PARAGRAPH.finditer(text):
        blocks.append((start, m.start()))
        start = m.end()
    blocks.append((start, len(text)))
    return blocks


def _is_boundary(text: str, punct_start: int, end: int, limit: int) -> bool:
    nxt = _NEXT_WORD.match(text, end, limit)
    if nxt is None:
        return True  # end of block
    quote, word = nxt.group(1), nxt.group(2)
    first = word[0]
    if not (first.isupper() or first.isdigit() or quote or first in "\"“‘'(["):
        return False  # "… the U.S. military", "3 p.m. local time"
    if text[punct_start] != ".":
        return True
    if end - punct_start > 1 and text[punct_start + 1] in ".\"'”’)]":
        # "…said." + closing quote: a sentence end unless it is "...".
        if text[punct_start : punct_start + 3] == "...":
            return True
        return True
    before = _WORD_BEFORE.search(text, max(0, punct_start - 30), punct_start)
    if before is None:
        return True
    token = before.group(1)
    low = token.lower().rstrip(".")
    if "." in token.rstrip("."):
        # Dotted acronym ("U.S", "U.N", "a.m"): only a boundary before a typical starter.
        return word.strip("\"“”‘’'(").lower() in _SENTENCE_STARTERS
    if low in _ABBREVIATIONS:
        return False
    if len(token) == 1 and token.isupper():
        return False  # an initial: "George W. Bush"
    return not (low in {"am", "pm"} and word.lower() not in _SENTENCE_STARTERS)


def _emit(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return
    while end - start > MAX_SENTENCE:
        cut = text.rfind(" ", start + MAX_SENTENCE // 2, start + MAX_SENTENCE)
        if cut <= start:
            cut = start + MAX_SENTENCE
        _emit(text, start, cut, out)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
