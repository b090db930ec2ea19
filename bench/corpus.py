"""A benchmark corpus built from the seeds: many distinct articles of realistic size.

Each variant rotates the seed's paragraphs, renames the article and nudges its
numbers, so that content hashes differ (no replay short-circuit) while the text
keeps the density of claims that real wire copy has.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.articles import Article
from bot.ingest.readers import read_path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_articles() -> list[Article]:
    return list(read_path(SEEDS).articles)


def variants(n: int, *, seed: int = 7) -> list[Article]:
    rng = random.Random(seed)
    base = seed_articles()
    out = []
    start = datetime(2021, 1, 1, tzinfo=UTC)
    for i in range(n):
        a = base[i % len(base)]
        paras = [p for p in a.text.split("\n") if p.strip()] or [a.text]
        k = rng.randrange(len(paras))
        paras = paras[k:] + paras[:k]
        text = re.sub(
            r"\b(\d{2,3})\b", lambda m: str(int(m.group(1)) + rng.randrange(0, 3)), "\n".join(paras)
        )
        out.append(
            Article.create(
                title=f"{a.title} ({i})",
                text=text,
                outlet=f"outlet{i % 17}",
                filename=f"bench-{i:06d}.txt",
                published=start + timedelta(minutes=7 * i),
            )
        )
    return out
