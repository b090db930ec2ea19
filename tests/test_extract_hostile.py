"""Hostile text: long runs of punctuation, digits, commas and speech verbs.

Speed is measured by ``make bench``; these tests only demand that such text is extracted
*at all*. Each shape runs in a subprocess with a generous timeout, so that a quadratic
regex or loop shows as a timeout here rather than as a hung test run (100 KB of dots
took 106 s when the sentence splitter backtracked; now milliseconds).
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.extract import extract
from bot.extract.figures import _clause, _clause_scan
from bot.extract.sentences import split_sentences
from bot.extract.speakers import _pronoun_clause

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
    # 200 KB (all the extractor reads): a look-up per name that rereads the rest of the
    # text took 20 s per 100 KB, 80 s for these.
    "said and a name": "'said Ahmed ' * (2 * N // 11)",
    "a name and said": "'Ahmed said ' * (2 * N // 11)",
    "according to": "'according to ' * (N // 13)",
    "listed figures": "'10 killed, ' * (N // 11)",
    "years and figures": "'2015 killed ' * (N // 12)",
    "clause breaks": "'3 died; ' * (N // 8)",
}
"""Shape name → Python expression of ``N`` characters (evaluated in the subprocess)."""

SHAPE_TIMEOUT_S = 30.0
"""Per shape. Each takes well under a second on a quiet machine (the slowest about 4 s on
a 2-core one at load 7); a quadratic one took from 80 s (a name after each "said") to minutes
(dots)."""

_PROGRAM = """
import json, sys
from bot.extract import extract
from bot.extract.sentences import split_sentences
N = int(sys.argv[1])
print("ready", flush=True)
for name, expr in json.loads(sys.argv[2]).items():
    text = eval(expr)
    spans = split_sentences(text)
    ex = extract(text)
    last = text[spans[-1][0] : spans[-1][1]] if spans else ""
    one = {"chars": len(text), "last": last[-20:], "figures": len(ex.figures)}
    print(json.dumps({name: one}), flush=True)
"""


def _run_shapes(shapes: dict[str, str], size: int) -> dict[str, dict[str, object]]:
    """Each shape's result, or a failure naming the shape that took too long."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _PROGRAM, str(size), json.dumps(shapes)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None

    def read() -> None:
        for line in proc.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=read)
    reader.start()
    results: dict[str, dict[str, object]] = {}
    try:
        assert lines.get(timeout=60).strip() == "ready"  # imports, on a loaded machine
        for name in shapes:
            try:
                line = lines.get(timeout=SHAPE_TIMEOUT_S)
            except queue.Empty:
                raise AssertionError(f"{name!r}: not extracted in {SHAPE_TIMEOUT_S:g} s") from None
            results.update(json.loads(line))
    finally:
        proc.kill()
        _, err = proc.communicate()
        reader.join()
    assert set(results) == set(shapes), err[-3000:]
    return results


def test_a_hundred_kb_of_hostile_text_is_extracted() -> None:
    result = _run_shapes(HOSTILE, SIZE)
    for name, r in result.items():
        assert isinstance(r["chars"], int) and r["chars"] >= SIZE * 0.99, name
    assert result["dots"]["figures"] == 0
    assert result["a word and dots"]["last"] == "More"  # the run ended a sentence
    assert isinstance(n := result["listed figures"]["figures"], int) and n > 0


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


# The regex the speakers' "He/She …" look-up replaced (it backtracked over the rest of the
# sentence for each mention of a name): the look-up must find exactly what it found.
_NEXT_PRONOUN = re.compile(
    r"[^.!?\n]*[.!?”\"]*\s+(?:He|She)\s+(?P<verb>\w+)\s+(?P<np>[^.;\n]{2,80})"
)
_PRONOUN_PIECES = st.sampled_from(
    [" ", "  ", "\n", ".", "!", "?", "”", '"', "He", "She", " He ", " She ", "said", "leads"]
) | st.sampled_from(["a team", ";", "Ahmed", ". ", "\t", "Hello", "Shed", "x"])


@given(st.lists(_PRONOUN_PIECES, max_size=30), st.data())
def test_the_clause_after_a_name_is_the_one_the_regex_found(
    pieces: list[str], data: st.DataObject
) -> None:
    text = "".join(pieces)
    end = data.draw(st.integers(0, len(text)))
    want = _NEXT_PRONOUN.match(text, end)
    got = _pronoun_clause(text, end)
    assert (got and got.group("verb", "np")) == (want and want.group("verb", "np"))


def test_a_megabyte_of_title_case_lines_is_read_for_names() -> None:
    # Story grouping's names: each word was checked against every headline-like line
    # (quadratic: 2.5 s for 100 KB, minutes for this); now about 2 s.
    program = (
        "from bot.stories.terms import salient_names\n"
        "names = salient_names('Big Red Dog Runs Home\\n' * 50_000)\n"
        "print(sorted(names))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().startswith("[")
