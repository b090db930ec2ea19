"""Hostile text: long runs of punctuation, digits, commas and speech verbs.

Speed is measured by ``make bench``; these tests only demand that such text is extracted
*at all*. Each shape runs in a subprocess with a generous timeout, so that a quadratic
regex or loop shows as a timeout here rather than as a hung test run (100 KB of dots
took 106 s when the sentence splitter backtracked; now milliseconds).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.extract import extract
from bot.extract.figures import _clause, _clause_scan
from bot.extract.sentences import split_sentences

ROOT = Path(__file__).resolve().parent.parent
SIZE = 100_000

HOSTILE = {
    "dots": "'.' * N",
    "bangs and question marks": "'?!' * (N // 2)",
    "dots then quotes": "('.' * 999 + '\"') * (N // 1000)",
    "a word and dots": "'Casualties' + '.' * N + ' More'",
    "digits": "'7' * N",
    "digits and commas": "'1,' * (N // 2)",
    "spaces": "'killed' + ' ' * N + '3'",
    "capitals": "'A' * N",
    "said": "'said ' * (N // 5)",
    "according to": "'according to ' * (N // 13)",
    "listed figures": "'10 killed, ' * (N // 11)",
    "clause breaks": "'3 died; ' * (N // 8)",
}
"""Shape name → Python expression of ``N`` characters (evaluated in the subprocess)."""

_PROGRAM = """
import json, sys
from bot.extract import extract
from bot.extract.sentences import split_sentences
N = int(sys.argv[1])
out = {}
for name, expr in json.loads(sys.argv[2]).items():
    text = eval(expr)
    spans = split_sentences(text)
    ex = extract(text)
    last = text[spans[-1][0] : spans[-1][1]] if spans else ""
    out[name] = {"chars": len(text), "last": last[-20:], "figures": len(ex.figures)}
print(json.dumps(out))
"""


def test_a_hundred_kb_of_hostile_text_is_extracted() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(SIZE), json.dumps(HOSTILE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # all shapes take well under a second in total; quadratic ones minutes
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert set(result) == set(HOSTILE)
    for name, r in result.items():
        assert r["chars"] >= SIZE * 0.99, name
    assert result["dots"]["figures"] == 0
    assert result["a word and dots"]["last"] == "More"  # the run ended a sentence
    assert result["listed figures"]["figures"] > 0


def test_a_run_of_sentence_ends_still_ends_the_sentence() -> None:
    runs = "!?" * 500
    text = f"At least 12 people were killed{runs} The toll rose to 14{'.' * 1000} Again?!"
    sentences = [text[a:b] for a, b in split_sentences(text)]
    assert sentences == [
        f"At least 12 people were killed{runs}",
        f"The toll rose to 14{'.' * 1000}",
        "Again?!",
    ]
    assert 12 in [f.quantity.value for f in extract(text).figures]


def test_punctuation_not_followed_by_space_never_splits() -> None:
    text = "Officials said " + "?!." * 400 + "x and 4 people were killed."
    assert split_sentences(text) == [(0, len(text))]


_CLAUSE_PIECES = st.sampled_from(
    [";", ":", ": ", ", and ", ",  but", " while ", " when ", " — ", " – ", "—", ",", " ", "\n"]
)
_WORDS = st.sampled_from(["and", "When", "5", "10 killed", "x", "although ", "Though"])


@given(st.lists(_CLAUSE_PIECES | _WORDS, max_size=40), st.data())
def test_a_sentences_clauses_are_those_of_a_full_scan(
    pieces: list[str], data: st.DataObject
) -> None:
    # The clause breaks are found once per sentence and looked up (it was a scan per
    # number); the clause of any span must be exactly what the scan found.
    sentence = "".join(pieces)
    start = data.draw(st.integers(0, len(sentence)))
    end = data.draw(st.integers(start, len(sentence)))
    assert _clause(sentence, start, end) == _clause_scan(sentence, start, end)
