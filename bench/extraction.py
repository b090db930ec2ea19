"""Extraction throughput: articles per second on one core."""

from __future__ import annotations

import time

from bench.corpus import variants
from bot.extract import extract


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
