"""Extraction speed: articles per second on one core, and seconds per 100 KB of hostile text.

``python -m bench.extraction`` prints these figures alone (``python -m bench`` includes them).
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.corpus import seed_articles, variants
from bot.extract import extract
from bot.extract.sentences import split_sentences

DEV_ARTICLES = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "dev" / "articles"
)
"""The labelled dev reports (../shared beside the checkout); absent on most machines."""

HOSTILE_SIZE = 100_000


def run(n: int = 1000) -> dict[str, float]:
    articles = variants(n)
    for a in articles[:20]:  # warm caches and compiled regexes
        extract(a.text, title=a.title)
    t0 = time.perf_counter()
    figures = 0
    for a in articles:
        figures += len(extract(a.text, title=a.title).figures)
    elapsed = time.perf_counter() - t0
    kb = sum(len(a.text) for a in articles) / 1024
    return {
        "articles": n,
        "seconds": elapsed,
        "articles_per_s": n / elapsed,
        "kib_per_s": kb / elapsed,
        "figures_per_article": figures / n,
    }


def hostile_texts(size: int = HOSTILE_SIZE) -> dict[str, str]:
    """Texts of ``size`` characters that once cost seconds (or minutes) per 100 KB."""
    return {
        "punctuation run": "." * size,
        "mixed ?!. run": ("?!." * size)[:size],
        "listed figures": _listed_figures(size),
        "figure sentences": _figure_sentences(size),
    }


def _listed_figures(size: int) -> str:
    """Figure after figure with no sentence end ("4 killed, 17 injured, …"): the costliest
    text per character for the extractor, and what a casualty table pasted as text is."""
    rng = random.Random(5)
    shapes = ["{} killed", "{} people were injured", "at least {} dead", "{} displaced"]
    parts: list[str] = []
    while sum(len(p) + 2 for p in parts) < size:
        parts.append(rng.choice(shapes).format(rng.randrange(2, 5000)))
    return ", ".join(parts)[:size]


def _figure_sentences(size: int) -> str:
    """The seeds' sentences that hold figures, one after another (numbers varied)."""
    rng = random.Random(3)
    sentences = sorted(
        {f.evidence.sentence for a in seed_articles() for f in extract(a.text).figures}
    )
    out: list[str] = []
    total = 0
    while total < size:
        s = re.sub(
            r"\b\d+\b", lambda m: str(int(m.group()) + rng.randrange(5)), rng.choice(sentences)
        )
        out.append(s)
        total += len(s) + 1
    return " ".join(out)[:size]


def _seconds(work: Callable[[], object], repeat: int = 3) -> float:
    """CPU seconds of the best of ``repeat`` runs (one thread: other load on the machine
    does not count, which wall-clock time on a shared 2-core machine would)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        work()
        best = min(best, time.process_time() - t0)
    return best


def hostile(size: int = HOSTILE_SIZE) -> dict[str, dict[str, float]]:
    """CPU seconds per 100 KB to split into sentences and to extract, per hostile text."""
    per_100kb = 100_000 / size
    out: dict[str, dict[str, float]] = {}
    for name, text in hostile_texts(size).items():
        out[name] = {
            "split_s_per_100kb": _seconds(partial(split_sentences, text)) * per_100kb,
            "extract_s_per_100kb": _seconds(partial(extract, text)) * per_100kb,
        }
    return out


def dev_throughput(folder: Path = DEV_ARTICLES) -> dict[str, float] | None:
    """Articles per second over the real dev reports (None when they are not here)."""
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    texts = [t for t in (json.loads(f.read_text("utf-8")).get("text") for f in files) if t]
    if not texts:
        return None
    for t in texts:  # steady state: the gazetteer and the word caches are loaded once per process
        extract(t)
    rounds = 5
    t0 = time.perf_counter()
    for _ in range(rounds):
        for t in texts:
            extract(t)
    elapsed = time.perf_counter() - t0
    n = rounds * len(texts)
    return {
        "articles": len(texts),
        "articles_per_s": n / elapsed,
        "kib_per_s": rounds * sum(len(t) for t in texts) / 1024 / elapsed,
    }


def print_hostile(h: dict[str, dict[str, float]]) -> None:
    for name, r in h.items():
        print(
            f"  {name:<17} split {r['split_s_per_100kb']:7.3f} s, extract "
            f"{r['extract_s_per_100kb']:7.3f} s CPU per 100 KB"
            + ("   target < 0.2 s" if "figure" in name else "")
        )


def print_dev(dev: dict[str, float] | None) -> None:
    if dev is None:
        print(f"dev reports   skipped: {DEV_ARTICLES} is absent")
        return
    print(
        f"dev reports   {dev['articles_per_s']:8.0f} articles/s  ({dev['kib_per_s']:.0f} KiB/s "
        f"over the {dev['articles']:.0f} real dev reports, one core)"
    )


def main() -> int:
    quick = "--quick" in sys.argv
    ex = run(200 if quick else 1000)
    print(
        f"extraction    {ex['articles_per_s']:8.0f} articles/s  ({ex['kib_per_s']:.0f} KiB/s, "
        f"{ex['figures_per_article']:.1f} figures/article, seed variants, one core)"
    )
    print_dev(dev_throughput())
    print("hostile text  (best of 3)")
    print_hostile(hostile())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
