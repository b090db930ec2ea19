"""Query latency at scale on PostgreSQL: 1,000,000 articles and 5,000,000 figures (claims).

``python -m bench.scale_queries`` (also run by ``make bench``) starts a throwaway
PostgreSQL cluster from Debian's binaries (``tests.conftest_db``), migrates it with
``storage.migrate.upgrade``, bulk-loads a synthetic but realistic corpus with COPY,
and times the read paths of the chat commands through the project's own unit of
work (``storage.uow.make_uow_factory``) and command table (``bot.commands``):

* **story**: ``story ID``. One ``SELECT … FROM stories WHERE id = $1`` (primary key),
  then the figures, their lineage, sources, conflicts and officials are decoded from
  the story's ``state`` JSON (pydantic) and formatted. ``timeline ID`` reads the
  same row and draws it with matplotlib.
* **figures**: a story's claims row by row, ``uow.articles.for_story(ID)``, which
  ``sources ID`` and ``statements ID`` run: the latest version of every article of
  the story (``articles`` ⋈ ``article_versions`` on ``ix_articles_story_id``), each
  with its extraction (figures and statements) decoded. No read path queries the
  ``figures`` or ``statements`` tables themselves: they are written on every
  article save and never read.
* **article save** (the write side of the same tables): ``uow.articles.save`` of an
  existing article's latest version (what a revision does), rolled back. It deletes
  the article's rows from ``figures`` and ``statements`` by ``article_id``.

Each is timed one call at a time over a sample of story ids (half drawn uniformly
from the stories, half drawn by article, so big stories are asked about as often as
their share of the articles; the biggest story always included), after a warm-up
pass over the same ids. Then, as an experiment only (no migration), an index on
``figures (article_id, version)`` and ``statements (article_id, version)`` is created
and the save path is timed again.

The corpus (fixed seed): ~20 articles per story with a skewed (log-normal) story size
distribution capped at 1 % of the articles, stories spread over a year, each over
hours (small) to weeks (big); several sources per story, figures per series rising
over the story's life (some stale, some higher competing counts), values quantised
the way desks report them; statements by officials and others; ~3 KB of text per
article; 3 % of the articles have a second version. The stories' ``state`` and
``profile`` are built from those same articles the way change detection and grouping
shape them (lineage on each rise, latest value per source, confirmations, conflicts,
officials, at most 300 terms and 40 places), so they decode with the project's code.

Environment (defaults in brackets): ``SCALE_ARTICLES`` [1000000], ``SCALE_FIGURES``
[5000000], ``SCALE_STATEMENTS`` [1.5 per article], ``SCALE_STORIES`` [articles / 20],
``SCALE_SAMPLES`` [500] story ids, ``SCALE_TIMELINE_SAMPLES`` [50],
``SCALE_WRITE_SAMPLES`` [40], ``SCALE_SEED`` [1], ``SCALE_TOAST_COMPRESSION`` [pglz,
PostgreSQL's default; lz4 loads faster]. ``--json`` prints one JSON object. A full run
takes about 20 GB of disk under the system temp dir. The machine's load average is
reported with the latencies: they are only meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import math
import multiprocessing
import os
import queue
import random
import re
import sys
import time
import warnings
from bisect import bisect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import wordfreq
from pydantic_core import to_json
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.dropfolder import percentile
from bot.commands.handlers import Commands
from bot.commands.model import CommandRequest
from bot.domain.claims import Qualifier, Quantity
from bot.domain.stories import story_id_for
from bot.service.catalog import FeedCatalog
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.uow import make_uow_factory
from tests.conftest_db import PG_BIN, PgCluster, _start_cluster

DATABASE = "claimwatch_scale"
CLAIM_TABLES = ("articles", "article_versions", "figures", "statements", "stories")
EXPERIMENT_INDEXES = (
    "CREATE INDEX ix_figures_article_id_version ON figures (article_id, version)",
    "CREATE INDEX ix_statements_article_id_version ON statements (article_id, version)",
)
SERVER_SETTINGS = {
    # A modest dedicated server; the rest of the defaults stay (work_mem 4 MB, …).
    "shared_buffers": "4GB",
    "effective_cache_size": "12GB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
}
T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
YEAR_S = 365 * 86400.0
CHUNK = 4000
"""Articles generated and copied per round (one COPY per table per round)."""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Scale:
    articles: int
    figures: int
    statements: int
    stories: int
    samples: int
    timeline_samples: int
    write_samples: int
    seed: int
    toast_compression: str

    @classmethod
    def from_env(cls) -> Scale:
        def get(name: str, default: int) -> int:
            raw = os.environ.get(name, "").replace("_", "").replace(",", "").strip()
            return int(float(raw)) if raw else default

        articles = max(1, get("SCALE_ARTICLES", 1_000_000))
        compression = os.environ.get("SCALE_TOAST_COMPRESSION", "").strip().lower() or "pglz"
        if compression not in ("pglz", "lz4"):
            raise SystemExit(f"SCALE_TOAST_COMPRESSION must be pglz or lz4, not {compression!r}")
        return cls(
            articles=articles,
            figures=max(0, get("SCALE_FIGURES", 5_000_000)),
            statements=max(0, get("SCALE_STATEMENTS", articles * 3 // 2)),
            stories=min(articles, max(1, get("SCALE_STORIES", max(1, articles // 20)))),
            samples=max(2, get("SCALE_SAMPLES", 500)),
            timeline_samples=max(0, get("SCALE_TIMELINE_SAMPLES", 50)),
            write_samples=max(0, get("SCALE_WRITE_SAMPLES", 40)),
            seed=get("SCALE_SEED", 1),
            toast_compression=compression,
        )


# --------------------------------------------------------------------------- vocabulary


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Ahmed Maria John Fatima Olena Li Kofi Ana Pedro Aisha Ivan Sara Omar Elena Yusuf Grace "
    "Mehmet Hana Carlos Amina David Leila Samuel Irina Juan Noor Peter Zainab Tomas Chen Rahmi "
    "Antonio Jens Fahrettin Stephane Mariam Hassan Sofia Daniel Ines Rafael Adama Nadia Jonas"
)
BODIES = (
    "the Ministry of Health",
    "the Interior Ministry",
    "Civil Defence",
    "the Red Crescent",
    "the UN refugee agency",
    "the World Health Organization",
    "the provincial governor's office",
    "the disaster management authority",
    "police",
    "the army",
    "the fire service",
    "local hospital officials",
    "the Syrian Observatory for Human Rights",
    "the United Nations",
    "the coast guard",
)
ROLES = (
    "the health minister",
    "a government spokesman",
    "the provincial governor",
    "the interior minister",
    "a UN spokeswoman",
    "the mayor",
    "the police chief",
    "the head of the civil defence",
    "the prime minister",
    "the foreign minister",
    "a military spokesman",
    "the regional director of the WHO",
)
METRIC_VERBS = {
    "killed": "were killed",
    "injured": "were injured",
    "missing": "remain missing",
    "displaced": "have been displaced",
    "evacuated": "were evacuated",
    "arrested": "were arrested",
    "affected": "have been affected",
    "rescued": "were rescued",
    "trapped": "remain trapped",
    "homeless": "were left homeless",
    "hospitalised": "were taken to hospital",
    "abducted": "were abducted",
}
SUBJECTS = (
    ("people", ""),
    ("civilians", "civilians"),
    ("soldiers", "soldiers"),
    ("children", "children"),
    ("migrants", "migrants"),
    ("workers", "workers"),
    ("police officers", "police"),
    ("residents", "residents"),
    ("passengers", "passengers"),
    ("protesters", "protesters"),
)
EVENTS = (
    "air strike",
    "earthquake",
    "floods",
    "landslide",
    "bombing",
    "fire",
    "train crash",
    "storm",
    "shelling",
    "boat sinking",
    "building collapse",
    "clashes",
    "heatwave",
    "mine explosion",
)
CUMULATIVE_LABELS = ("this month", "this year", "since january", "so far", "in total")
TITLE_TAILS = (
    "",
    ": toll rises",
    ", officials say",
    " – live updates",
    ": what we know",
    " as rescuers search for survivors",
    ": death toll climbs",
)
VERBS = (
    ("say", "said"),
    ("tell", "told reporters"),
    ("add", "added"),
    ("warn", "warned"),
    ("confirm", "confirmed"),
    ("condemn", "condemned"),
    ("announce", "announced"),
)
QUALIFIERS = (
    (Qualifier.EXACT, 45),
    (Qualifier.AT_LEAST, 35),
    (Qualifier.MORE_THAN, 10),
    (Qualifier.NEARLY, 5),
    (Qualifier.ABOUT, 5),
)
QUAL_VALUES = [q for q, _ in QUALIFIERS]
QUAL_CUM = list(accumulate(w for _, w in QUALIFIERS))


def _syllable_names(rng: random.Random, n: int) -> list[str]:
    """Pronounceable proper names ("Tarabel", "Kosima"), distinct."""
    onsets = _words("b c d f g h k l m n p r s t v z br dr kr st sh kh tr gh")
    vowels = _words("a e i o u a e i o ei ou ia")
    codas = ["", "", "", "n", "r", "l", "s", "k", "m", "t"]
    out: set[str] = set()
    while len(out) < n:
        parts = [rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 3))]
        out.add(("".join(parts) + rng.choice(codas)).capitalize())
    return sorted(out)


def _zipf_cum(n: int, s: float = 1.0) -> list[float]:
    return list(accumulate(1.0 / (r**s) for r in range(1, n + 1)))


def _track_headline(ser: SeriesPlan, value: float, key: str, step: Step) -> None:
    """Fold an article's headline value into its series the way change detection does."""
    if ser.head is None or value > ser.head:
        ser.lineage.append(step)
        ser.head = value
        ser.history.add(value)
    elif value == ser.head:
        ser.confirmations += 1
    elif value not in ser.history:
        marker = f"{key}={value:g}"
        if marker not in ser.alerted:
            ser.alerted.append(marker)


def _pick(rng: random.Random, cum: list[float]) -> int:
    return bisect(cum, rng.random() * cum[-1])


def _quantise(v: float) -> float:
    """Counts as desks report them: exact under 100, two significant digits above."""
    if v < 100:
        return float(max(1, round(v)))
    digits = math.floor(math.log10(v)) - 1
    return float(round(v / 10**digits) * 10**digits)


def _finite(x: float) -> float | str:
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def story_sizes(rng: random.Random, articles: int, stories: int, cap: int) -> list[int]:
    """Articles per story: 1 + a log-normal draw (σ = 1.7), at most ``cap``, summing to
    ``articles``. At 20 articles per story that is ~20 % single-article stories, a median
    of ~5, a p99 of a few hundred and a biggest story of a few thousand."""
    draws = [rng.gauss(0.0, 1.7) for _ in range(stories)]

    def sizes(mu: float) -> list[int]:
        return [min(cap, 1 + int(math.exp(mu + z))) for z in draws]

    lo, hi = -20.0, 20.0
    for _ in range(60):  # the location that gives the wanted total
        mid = (lo + hi) / 2
        if sum(sizes(mid)) <= articles:
            lo = mid
        else:
            hi = mid
    out = sizes(lo)
    missing = articles - sum(out)
    while missing > 0:
        i = rng.randrange(stories)
        if out[i] < cap:
            out[i] += 1
            missing -= 1
    return out


def _counts(rng: random.Random, n: int, total: int, zero_share: float) -> list[int]:
    """``n`` non-negative counts summing to exactly ``total``; ``zero_share`` of them 0."""
    if n == 0 or total == 0:
        return [0] * n
    mean_nonzero = total / max(1.0, n * (1 - zero_share))
    counts = [
        0 if rng.random() < zero_share else max(1, round(rng.expovariate(1 / mean_nonzero)))
        for _ in range(n)
    ]
    diff = total - sum(counts)
    while diff != 0:
        i = rng.randrange(n)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 1 or (counts[i] == 1 and zero_share > 0):
            counts[i] -= 1
            diff += 1
    return counts


# --------------------------------------------------------------------------- the world

Step = tuple[dict[str, Any], str, str, str, str, str, str, bool]
"""(quantity, source, article_id, outlet, url, sentence, at, dated): a FigureStep as JSON parts."""


@dataclass
class SeriesPlan:
    metric: str
    subject: str
    group: str
    scope_kind: str
    scope_label: str
    where: str
    base: float
    growth: float
    lineage: list[Step] = field(default_factory=list)
    head: float | None = None
    history: set[float] = field(default_factory=set)
    by_source: dict[str, Step] = field(default_factory=dict)
    alerted: list[str] = field(default_factory=list)
    confirmations: int = 0

    @property
    def key(self) -> str:
        scope = self.scope_kind if not self.scope_label else f"{self.scope_kind}:{self.scope_label}"
        return f"{self.metric}|{self.group}|{scope}"


@dataclass
class StoryPlan:
    id: str
    size: int
    start: float
    duration: float
    title: str
    slug: str
    series: list[SeriesPlan]
    sources: list[tuple[str | None, str | None]]
    source_cum: list[float]
    speakers: list[tuple[str, str | None, bool]]
    speaker_cum: list[float]
    terms: dict[str, float]
    places: list[str]
    seen: int = 0
    first_title: str = ""
    first_at: float = 0.0
    last_at: float = 0.0
    first_seen: float = 0.0
    last_seen: float = 0.0
    speaker_recs: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class Chunk:
    articles: list[tuple[Any, ...]] = field(default_factory=list)
    versions: list[tuple[Any, ...]] = field(default_factory=list)
    figures: list[tuple[Any, ...]] = field(default_factory=list)
    statements: list[tuple[Any, ...]] = field(default_factory=list)


class World:
    """The synthetic corpus: stories planned up front, articles generated in time order."""

    def __init__(self, scale: Scale) -> None:
        rng = random.Random(scale.seed)
        self.rng = rng
        self.scale = scale
        vocab = [w for w in wordfreq.top_n_list("en", 8000) if w.isalpha() and len(w) > 2]
        vocab_cum = _zipf_cum(len(vocab), 0.7)
        self.vocab = vocab
        self.fillers = [self._filler(rng, vocab, vocab_cum) for _ in range(5000)]
        self.places = _syllable_names(rng, 800)
        people = [f"{rng.choice(FIRST_NAMES)} {last}" for last in _syllable_names(rng, 3000)]
        self.people = people
        kinds = ("Times", "Post", "News", "Herald", "Daily", "Tribune")
        self.outlets = [
            (f"{w} {rng.choice(kinds)}", f"{w.lower()}{i}.example.com")
            for i, w in enumerate(_syllable_names(rng, 500))
        ]
        self.outlet_cum = _zipf_cum(len(self.outlets), 1.0)
        self.quantity_text: dict[tuple[float, Qualifier], str] = {}

        n_articles, n_stories = scale.articles, scale.stories
        cap = max(1, n_articles // 100, -(-n_articles // n_stories))
        sizes = story_sizes(rng, n_articles, n_stories, cap)
        taken: set[str] = set()
        self.stories: list[StoryPlan] = []
        for idx, size in enumerate(sizes):
            attempt = 0
            while (sid := story_id_for(f"bench:{scale.seed}:{idx}", attempt)) in taken:
                attempt += 1
            taken.add(sid)
            self.stories.append(self._plan(rng, sid, size))

        times: list[float] = []
        owners: list[int] = []
        for idx, st in enumerate(self.stories):
            for _ in range(st.size):
                times.append(st.start + st.duration * rng.random() ** 1.5)
                owners.append(idx)
        order = sorted(range(n_articles), key=times.__getitem__)
        self.time = [times[i] for i in order]
        self.owner = [owners[i] for i in order]
        self.fig_counts = _counts(rng, n_articles, scale.figures, 0.25)
        self.stmt_counts = _counts(rng, n_articles, scale.statements, 0.5)
        # Claim ids are fixed per article, so shards can generate articles independently.
        self.first_figure_id = list(accumulate(self.fig_counts, initial=1))
        self.first_statement_id = list(accumulate(self.stmt_counts, initial=1))
        self.revisions = 0

    def shard(self, shard: int, shards: int) -> list[int]:
        """The articles (in time order) of the stories of one shard; its own random stream."""
        self.rng = random.Random(self.scale.seed * 1000 + shard + 1)
        return [n for n, owner in enumerate(self.owner) if owner % shards == shard]

    @staticmethod
    def _filler(rng: random.Random, vocab: list[str], cum: list[float]) -> str:
        words = [vocab[_pick(rng, cum)] for _ in range(rng.randint(8, 30))]
        return " ".join(words).capitalize() + "."

    def _plan(self, rng: random.Random, sid: str, size: int) -> StoryPlan:
        place = rng.choice(self.places)
        what = rng.choice(EVENTS)
        title = f"{what.capitalize()} in {place}"
        log_size = math.log2(size + 1)
        n_series = 2 + min(10, int(1.5 * log_size))
        series: list[SeriesPlan] = []
        keys: set[str] = set()
        metrics = list(METRIC_VERBS)
        while len(series) < n_series:
            i = len(series)
            metric = ("killed", "injured")[i] if i < 2 else rng.choice(metrics)
            subject, group = SUBJECTS[0] if i < 2 and rng.random() < 0.5 else rng.choice(SUBJECTS)
            r = rng.random()
            if i < 2 or r < 0.7:
                kind, label, where = "event", "", f"in {place}"
            elif r < 0.85:
                label = rng.choice(CUMULATIVE_LABELS)
                kind, where = "cumulative", label
            else:
                local = rng.choice(self.places)
                kind, label, where = "local", local.lower(), f"in {local} alone"
            plan = SeriesPlan(
                metric=metric,
                subject=subject,
                group=group,
                scope_kind=kind,
                scope_label=label,
                where=where,
                base=10 ** rng.uniform(0.5, 2.5),
                growth=1 + rng.random() * size**0.6 / 4,
            )
            if plan.key not in keys:
                keys.add(plan.key)
                series.append(plan)
        n_sources = 2 + min(60, size // 10)
        sources: list[tuple[str | None, str | None]] = []
        for _ in range(n_sources):
            r = rng.random()
            if r < 0.3:
                sources.append((None, None))  # attributed to nobody: the outlet is the source
            elif r < 0.6:
                sources.append((rng.choice(BODIES), None))
            else:
                sources.append((rng.choice(self.people), rng.choice(ROLES)))
        n_speakers = 1 + min(60, size // 15)
        speakers: list[tuple[str, str | None, bool]] = []
        for _ in range(n_speakers):
            if rng.random() < 0.8:
                speakers.append((rng.choice(self.people), rng.choice(ROLES), True))
            else:
                speakers.append((rng.choice(self.people), "a resident", False))
        n_terms = min(300, 40 + int(40 * log_size))
        terms = {w: rng.random() * 0.3 for w in rng.sample(self.vocab, n_terms)}
        terms = dict(sorted(terms.items(), key=lambda kv: -kv[1]))
        places = [place.lower(), *(p.lower() for p in rng.sample(self.places, 39))]
        duration = 3600.0 * (4 + 3 * size**0.5)
        return StoryPlan(
            id=sid,
            size=size,
            start=T0 + rng.random() * max(0.0, YEAR_S - duration),
            duration=duration,
            title=title,
            slug=f"{what.replace(' ', '-')}-{place.lower()}",
            series=series,
            sources=sources,
            source_cum=_zipf_cum(n_sources, 1.0),
            speakers=speakers,
            speaker_cum=_zipf_cum(n_speakers, 1.0),
            terms=terms,
            places=places[: min(40, 3 + int(8 * log_size))],
        )

    def _display(self, value: float, qualifier: Qualifier) -> str:
        key = (value, qualifier)
        text = self.quantity_text.get(key)
        if text is None:
            text = self.quantity_text[key] = Quantity(value, qualifier).display()
        return text

    def chunk(self, articles: Sequence[int]) -> Chunk:
        out = Chunk()
        for n in articles:
            self._article(n, out)
        return out

    def _article(self, n: int, out: Chunk) -> None:
        rng = self.rng
        st = self.stories[self.owner[n]]
        t = self.time[n]
        outlet, domain = self.outlets[_pick(rng, self.outlet_cum)]
        day = datetime.fromtimestamp(t, UTC)
        url = f"https://www.{domain}/{day:%Y/%m/%d}/{st.slug}-{n:07d}"
        aid = f"url:{url}"
        dated = rng.random() >= 0.1
        seen = t + 60 + 600 * rng.random()
        at = t if dated else seen
        at_iso = _iso(at)
        title = f"{st.title}{rng.choice(TITLE_TAILS)}"
        sid = st.id
        frac = min(1.0, max(0.0, (t - st.start) / st.duration))

        claims: list[tuple[str, dict[str, Any]]] = []  # (sentence, evidence dict to fill)
        fig_json: list[dict[str, Any]] = []
        fig_rows: list[tuple[Any, ...]] = []  # (id, evidence, figure columns...)
        n_series = len(st.series)
        figure_id = self.first_figure_id[n]
        for j in range(self.fig_counts[n]):
            ser = st.series[j % n_series]
            name, role = st.sources[_pick(rng, st.source_cum)]
            r = rng.random()
            v = ser.base * ser.growth ** (frac if r < 0.75 else frac * rng.random())
            if r > 0.95:
                v *= 1.1 + 0.3 * rng.random()  # a higher competing count
            value = _quantise(v)
            qualifier = QUAL_VALUES[bisect(QUAL_CUM, rng.random() * QUAL_CUM[-1])]
            qtext = self._display(value, qualifier)
            sentence = (
                f"{qtext[0].upper()}{qtext[1:]} {ser.subject} {METRIC_VERBS[ser.metric]} "
                f"{ser.where}" + (f", according to {name}." if name else ".")
            )
            evidence: dict[str, Any] = {"sentence": sentence, "start": 0, "end": len(sentence)}
            claims.append((sentence, evidence))
            qdict = {"value": value, "qualifier": qualifier.value, "high": None, "text": qtext}
            fig_json.append(
                {
                    "metric": ser.metric,
                    "quantity": qdict,
                    "subject": ser.subject,
                    "subject_group": ser.group,
                    "evidence": evidence,
                    "scope": {"kind": ser.scope_kind, "label": ser.scope_label},
                    "temporal": "current",
                    "attributed_to": name,
                    "attributed_role": role,
                    "framed_as_update": False,
                }
            )
            # Columns metric … attributed_to of the figures table (high is None).
            what = (ser.metric, ser.subject, ser.group, ser.scope_kind, ser.scope_label)
            how = (value, None, qualifier.value, qtext, "current", name)
            fig_rows.append((figure_id + j, evidence, *what, *how))
            # The story's state, as change detection builds it.
            source = name or outlet
            key = source.lower()
            step: Step = (qdict, source, aid, outlet, url, sentence, at_iso, dated)
            if j < n_series:  # the article's headline value for this series
                _track_headline(ser, value, key, step)
            ser.by_source[key] = step

        stmt_json: list[dict[str, Any]] = []
        stmt_rows: list[tuple[Any, ...]] = []  # (id, evidence, statement columns...)
        statement_id = self.first_statement_id[n]
        for j in range(self.stmt_counts[n]):
            name, role, official = st.speakers[_pick(rng, st.speaker_cum)]
            lemma, past = rng.choice(VERBS)
            quote = self.fillers[rng.randrange(len(self.fillers))][:-1]
            direct = rng.random() < 0.6
            if direct:
                sentence = f"“{quote},” {name}, {role}, {past}."
                said = quote
            else:
                said = quote[0].lower() + quote[1:]
                sentence = f"{name}, {role}, {past} that {said}."
            evidence = {"sentence": sentence, "start": 0, "end": len(sentence)}
            claims.append((sentence, evidence))
            stmt_json.append(
                {
                    "speaker": name,
                    "role": role,
                    "verb": lemma,
                    "text": said,
                    "direct": direct,
                    "evidence": evidence,
                    "official": official,
                    "aliases": [],
                }
            )
            stmt_rows.append(
                (statement_id + j, evidence, name, role, lemma, said, direct, official)
            )
            if official:
                rec = st.speaker_recs.get(name.lower())
                if rec is None:
                    st.speaker_recs[name.lower()] = [name, role, [], aid, 1]
                else:
                    rec[4] += 1

        # The text: a lead, the claim sentences, and filler prose up to ~3 KB.
        target = min(15000, max(600, int(rng.lognormvariate(math.log(3000), 0.45))))
        lead = f"{title}. Reporting from {st.places[0].capitalize()} on {day:%d %B %Y}."
        have = len(lead) + sum(len(s) + 1 for s, _ in claims)
        n_fill = max(0, (target - have) // 125)
        first = rng.randrange(len(self.fillers))
        fill = [self.fillers[(first + i) % len(self.fillers)] for i in range(n_fill)]
        per = n_fill // (len(claims) + 1)
        parts = [lead, *fill[:per]]
        pos = sum(len(p) + 1 for p in parts)
        taken = per
        for sentence, evidence in claims:
            evidence["start"], evidence["end"] = pos, pos + len(sentence)
            parts.append(sentence)
            pos += len(sentence) + 1
            more = fill[taken : taken + per]
            taken += per
            parts.extend(more)
            pos += sum(len(p) + 1 for p in more)
        parts.extend(fill[taken:])
        text = " ".join(parts)

        version = 2 if rng.random() < 0.03 else 1
        extraction = to_json({"figures": fig_json, "statements": stmt_json}).decode()
        chash = hashlib.sha256(f"{aid}|{version}".encode()).hexdigest()
        seen_dt = datetime.fromtimestamp(seen, UTC)
        if version == 2:  # a revised article: its first version had one sentence more
            self.revisions += 1
            old_hash = hashlib.sha256(f"{aid}|1".encode()).hexdigest()
            old_seen = datetime.fromtimestamp(seen - 1800, UTC)
            old_text = f"{text} {self.fillers[first - 1]}"
            out.versions.append((aid, 1, old_hash, title, old_text, old_seen, extraction))
        out.versions.append((aid, version, chash, title, text, seen_dt, extraction))
        published = day if dated else None
        feed = f"https://www.{domain}/rss.xml"
        out.articles.append(
            (aid, version, outlet, url, title, published, seen_dt, seen_dt, chash, sid, feed)
        )
        for fid, ev, *cols in fig_rows:
            out.figures.append(
                (fid, aid, version, sid, ev["sentence"], ev["start"], ev["end"], *cols)
            )
        for stid, ev, *cols in stmt_rows:
            out.statements.append(
                (stid, aid, version, sid, ev["sentence"], ev["start"], ev["end"], *cols)
            )

        if st.seen == 0:
            st.first_title, st.first_at, st.first_seen = title, at, seen
        st.seen += 1
        st.last_at = max(st.last_at, at)
        st.last_seen = max(st.last_seen, seen)

    def story_rows(self, shard: int, shards: int) -> list[tuple[Any, ...]]:
        return [self._story_row(st) for i, st in enumerate(self.stories) if i % shards == shard]

    @staticmethod
    def _story_row(st: StoryPlan) -> tuple[Any, ...]:
        def step(s: Step) -> dict[str, Any]:
            q, source, aid, outlet, url, sentence, at, dated = s
            return {
                "quantity": q,
                "source": source,
                "article_id": aid,
                "outlet": outlet,
                "url": url,
                "sentence": sentence,
                "at": at,
                "earlier": False,
                "dated": dated,
            }

        series: dict[str, Any] = {}
        facts: dict[str, list[float | str]] = {}
        for ser in st.series:
            if not ser.lineage:
                continue
            series[ser.key] = {
                "metric": ser.metric,
                "subject_group": ser.group,
                "subject": ser.subject,
                "scope": {"kind": ser.scope_kind, "label": ser.scope_label},
                "lineage": [step(s) for s in ser.lineage],
                "by_source": {k: step(s) for k, s in ser.by_source.items()},
                "alerted_conflicts": ser.alerted,
                "confirmations": ser.confirmations,
            }
            head = ser.lineage[-1][0]
            lo, hi = Quantity(head["value"], Qualifier(head["qualifier"])).interval()
            facts[ser.key] = [_finite(lo), _finite(hi)]
        tracked = bool(series) and st.series[0].key in series
        speakers = {
            k: {
                "name": r[0],
                "role": r[1],
                "aliases": r[2],
                "first_article_id": r[3],
                "statements": r[4],
            }
            for k, r in st.speaker_recs.items()
        }
        state = {"series": series, "speakers": speakers, "tracked": tracked}
        profile = {
            "terms": st.terms,
            "places": st.places,
            "first_at": _iso(st.first_at),
            "last_at": _iso(st.last_at),
            "article_count": st.size,
            "facts": facts,
        }
        return (
            st.id,
            st.first_title,
            datetime.fromtimestamp(st.first_at, UTC),
            datetime.fromtimestamp(st.last_seen, UTC),
            tracked,
            st.size,
            to_json(profile).decode(),
            to_json(state).decode(),
        )


# --------------------------------------------------------------------------- loading

COLUMNS = {
    "articles": _words(
        "id version outlet url title published_at first_seen_at last_seen_at content_hash "
        "story_id source"
    ),
    "article_versions": _words("article_id version content_hash title text seen_at extraction"),
    "figures": _words(
        "id article_id version story_id sentence start end metric subject subject_group "
        "scope_kind scope_label value high qualifier value_text temporal attributed_to"
    ),
    "statements": _words(
        "id article_id version story_id sentence start end speaker speaker_role verb text "
        "direct official"
    ),
    "stories": _words("id title created_at updated_at tracked article_count profile state"),
}


def _log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


async def schema_snapshot(conn: Any) -> list[str]:
    """Every index and constraint definition of the loaded tables (to prove we restored them)."""
    rows = await conn.fetch(
        """
        SELECT 'index ' || i.relname || ': ' || pg_get_indexdef(i.oid) AS d
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_class t ON t.oid = x.indrelid
         WHERE t.relname = ANY($1::text[])
        UNION ALL
        SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid)
          FROM pg_constraint WHERE conrelid::regclass::text = ANY($1::text[])
         ORDER BY 1
        """,
        list(CLAIM_TABLES),
    )
    return [r["d"] for r in rows]


def dsn(cluster: PgCluster, database: str = DATABASE) -> str:
    return f"postgresql://postgres@{cluster.host}:{cluster.port}/{database}"


@dataclass
class Prepared:
    """What the bulk load dropped, to be rebuilt exactly (same names, same definitions)."""

    before: list[str]
    indexes: list[tuple[str, str]]
    fkeys: list[tuple[str, str, str]]


async def prepare_load(url: str) -> Prepared:
    """Drop the secondary indexes and foreign keys of the claim tables (rebuilt after COPY)."""
    conn = await asyncpg.connect(url)
    try:
        before = await schema_snapshot(conn)
        indexes = await conn.fetch(
            """
            SELECT i.relname AS name, pg_get_indexdef(i.oid) AS ddl
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_class t ON t.oid = x.indrelid
             WHERE t.relname = ANY($1::text[]) AND NOT x.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
            """,
            list(CLAIM_TABLES),
        )
        fkeys = await conn.fetch(
            """
            SELECT conname AS name, conrelid::regclass::text AS tbl,
                   pg_get_constraintdef(oid) AS ddl
              FROM pg_constraint
             WHERE contype = 'f' AND conrelid::regclass::text = ANY($1::text[])
             ORDER BY conrelid::regclass::text = 'article_versions' DESC
            """,
            list(CLAIM_TABLES),
        )
        for fk in fkeys:
            await conn.execute(f'ALTER TABLE {fk["tbl"]} DROP CONSTRAINT "{fk["name"]}"')
        for ix in indexes:
            await conn.execute(f'DROP INDEX "{ix["name"]}"')
        return Prepared(
            before,
            [(ix["name"], ix["ddl"]) for ix in indexes],
            [(fk["name"], fk["tbl"], fk["ddl"]) for fk in fkeys],
        )
    finally:
        await conn.close()


async def copy_shard(world: World, shard: int, shards: int, url: str) -> dict[str, float]:
    """Generate and COPY one shard's articles, claims and stories (one connection per table).

    The next round is generated in a thread while the server takes this one, so the
    generator and the server overlap."""
    conns = [await asyncpg.connect(url) for _ in range(4)]
    try:
        t0 = time.perf_counter()
        articles = world.shard(shard, shards)
        rounds = [articles[lo : lo + CHUNK] for lo in range(0, len(articles), CHUNK)]
        loop = asyncio.get_running_loop()
        waited = 0.0
        next_report = 0.2
        pending = loop.run_in_executor(None, world.chunk, rounds[0] if rounds else [])
        for i in range(len(rounds)):
            chunk = await pending
            if i + 1 < len(rounds):
                pending = loop.run_in_executor(None, world.chunk, rounds[i + 1])
            c0 = time.perf_counter()
            tables = (
                ("articles", chunk.articles),
                ("article_versions", chunk.versions),
                ("figures", chunk.figures),
                ("statements", chunk.statements),
            )
            await asyncio.gather(
                *(
                    c.copy_records_to_table(table, records=records, columns=COLUMNS[table])
                    for c, (table, records) in zip(conns, tables, strict=True)
                    if records
                )
            )
            waited += time.perf_counter() - c0
            if (i + 1) / len(rounds) >= next_report:
                _log(
                    f"shard {shard}: {(i + 1) / len(rounds):4.0%} of its articles in "
                    f"{time.perf_counter() - t0:.0f} s"
                )
                next_report += 0.2
        rows = world.story_rows(shard, shards)
        for lo in range(0, len(rows), 1000):
            await conns[0].copy_records_to_table(
                "stories", records=rows[lo : lo + 1000], columns=COLUMNS["stories"]
            )
        tracked = sum(
            1 for i, st in enumerate(world.stories) if i % shards == shard and st.series[0].lineage
        )
        return {
            "seconds": time.perf_counter() - t0,
            "copy_wait_s": waited,
            "articles": float(len(articles)),
            "revisions": float(world.revisions),
            "tracked": float(tracked),
        }
    finally:
        for c in conns:
            await c.close()


def _shard_main(world: World, shard: int, shards: int, url: str, results: Any) -> None:
    gc.disable()  # the generator makes no cycles; the collector would only rescan the plan
    try:
        results.put((shard, asyncio.run(copy_shard(world, shard, shards, url)), None))
    except BaseException as exc:
        results.put((shard, None, f"{type(exc).__name__}: {exc}"))
        raise


def copy_all(world: World, url: str, shards: int) -> list[dict[str, float]]:
    """Run the shards in forked processes (they share the plan copy-on-write)."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_shard_main, args=(world, k, shards, url, results), daemon=True)
        for k in range(shards)
    ]
    for proc in procs:
        proc.start()
    done: dict[int, dict[str, float]] = {}
    try:
        while len(done) < shards:
            try:
                shard, result, error = results.get(timeout=5)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(f"a loader process died (exit {dead[0].exitcode})") from None
                continue
            if error is not None:
                raise RuntimeError(f"loader shard {shard} failed: {error}")
            done[shard] = result
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join()
    return [done[k] for k in range(shards)]


async def finish_load(url: str, prepared: Prepared) -> dict[str, float]:
    """Rebuild the dropped indexes and foreign keys, set the sequences, VACUUM ANALYZE."""
    conns = [await asyncpg.connect(url) for _ in range(2)]
    conn = conns[0]
    try:
        t1 = time.perf_counter()
        for c in conns:
            await c.execute("SET maintenance_work_mem = '512MB'")
        work = [ddl for _, ddl in prepared.indexes]

        async def build(c: Any) -> None:  # two builds at a time
            while work:
                await c.execute(work.pop())

        await asyncio.gather(*(build(c) for c in conns))
        index_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        for name, table, ddl in prepared.fkeys:
            await conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {ddl}')
        for table in ("figures", "statements"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        fkey_s = time.perf_counter() - t2
        t3 = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) " + ", ".join(CLAIM_TABLES))
        vacuum_s = time.perf_counter() - t3
        after = await schema_snapshot(conn)
        if prepared.before != after:
            raise RuntimeError(f"schema not restored:\n{prepared.before}\n!=\n{after}")
        return {"index_s": index_s, "foreign_keys_s": fkey_s, "vacuum_analyze_s": vacuum_s}
    finally:
        for c in conns:
            await c.close()


async def table_sizes(conn: Any) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for table in CLAIM_TABLES:
        row = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM """
            + table
            + """) AS rows,
                   pg_relation_size(c.oid) AS heap,
                   coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast,
                   pg_indexes_size(c.oid) AS indexes,
                   pg_total_relation_size(c.oid) AS total
              FROM pg_class c WHERE c.relname = $1
            """,
            table,
        )
        out[table] = {k: float(row[k]) for k in ("rows", "heap", "toast", "indexes", "total")}
    db = await conn.fetchval("SELECT pg_database_size(current_database())")
    out["database"] = {"total": float(db)}
    return out


# --------------------------------------------------------------------------- measuring


@dataclass
class SqlLog:
    """The statements the code paths send, captured from the engine while ``on``."""

    on: bool = False
    statements: list[tuple[str, Any]] = field(default_factory=list)

    def install(self, engine: AsyncEngine) -> None:
        def before(
            conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            if self.on:
                self.statements.append((statement, params))

        event.listen(engine.sync_engine, "before_cursor_execute", before)

    async def capture(self, call: Awaitable[Any]) -> list[tuple[str, Any]]:
        self.statements, self.on = [], True
        try:
            await call
        finally:
            self.on = False
        return self.statements


def compact_sql(statement: str) -> str:
    """One line, with long select lists replaced by their column count."""
    one = " ".join(statement.split())

    def columns(m: re.Match[str]) -> str:
        cols = m.group(1)
        return (
            f"SELECT {cols} FROM"
            if len(cols) < 60
            else f"SELECT <{cols.count(',') + 1} columns> FROM"
        )

    return re.sub(r"SELECT (.*?) FROM", columns, one)


def stats(ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": float(len(ms)),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else math.nan,
        "mean_ms": sum(ms) / len(ms) if ms else math.nan,
    }


async def timed(fn: Callable[[str], Awaitable[Any]], ids: Sequence[str]) -> list[float]:
    out = []
    for x in ids:
        t0 = time.perf_counter()
        await fn(x)
        out.append((time.perf_counter() - t0) * 1000)
    return out


@dataclass(frozen=True)
class Corpus:
    """What measuring needs to know of the loaded world (the world itself is dropped, so
    that its millions of objects do not slow this process's garbage collector)."""

    scale: Scale
    sizes: dict[str, int]
    figures: dict[str, int]

    @classmethod
    def of(cls, world: World) -> Corpus:
        figures = [0] * len(world.stories)
        for n, owner in enumerate(world.owner):
            figures[owner] += world.fig_counts[n]
        return cls(
            world.scale,
            {s.id: s.size for s in world.stories},
            {s.id: f for s, f in zip(world.stories, figures, strict=True)},
        )

    def samples(self) -> dict[str, list[str]]:
        """Half uniform over stories, half by article (big stories as often as their share
        of the articles), the biggest story first."""
        rng = random.Random(self.scale.seed + 7)
        ids = list(self.sizes)
        half = self.scale.samples // 2
        uniform = rng.sample(ids, min(len(ids), half))
        by_article = rng.choices(ids, weights=list(self.sizes.values()), k=half)
        biggest = max(ids, key=self.sizes.__getitem__)
        return {
            "uniform": uniform,
            "by_article": by_article,
            "all": [biggest, *uniform, *by_article],
        }


async def explain(conn: Any, statement: str, params: Any) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured statement, in a transaction rolled back
    (an analysed DELETE really deletes)."""
    args = list(params) if isinstance(params, list | tuple) else []
    tr = conn.transaction()
    await tr.start()
    try:
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *args)
    finally:
        await tr.rollback()
    return [r[0] for r in rows]


async def measure(cluster: PgCluster, corpus: Corpus) -> dict[str, Any]:
    engine = create_engine(cluster.url(DATABASE))
    sql = SqlLog()
    sql.install(engine)
    uow_factory = make_uow_factory(engine)
    commands = Commands(uow_factory, FeedCatalog(uow_factory))
    ids = corpus.samples()
    sizes, figures_of, scale = corpus.sizes, corpus.figures, corpus.scale
    raw = await asyncpg.connect(dsn(cluster))
    try:

        async def story_repo(sid: str) -> None:
            async with uow_factory() as uow:
                assert await uow.stories.get(sid) is not None

        async def claims_repo(sid: str) -> None:
            async with uow_factory() as uow:
                found = await uow.articles.for_story(sid)
            assert len(found) == sizes[sid], (sid, len(found), sizes[sid])

        def command(name: str) -> Callable[[str], Awaitable[None]]:
            async def run(sid: str) -> None:
                reply = await commands.handle(CommandRequest(name, (sid,)))
                assert not reply.error, reply.text

            return run

        # Check the corpus decodes and adds up before timing anything.
        biggest = ids["all"][0]
        async with uow_factory() as uow:
            story = await uow.stories.get(biggest)
            found = await uow.articles.for_story(biggest)
        assert story is not None and story.profile.article_count == sizes[biggest]
        assert sum(len(a.extraction.figures) for a in found) == figures_of[biggest]

        queries = {
            "story": await sql.capture(story_repo(biggest)),
            "figures": await sql.capture(claims_repo(biggest)),
        }
        all_ids = ids["all"]
        _log(f"warming the cache over {len(set(all_ids))} stories")
        for sid in dict.fromkeys(all_ids):
            await claims_repo(sid)
            await story_repo(sid)

        results: dict[str, Any] = {"queries": {}}
        for name, fn in (
            ("story_repo", story_repo),
            ("story_command", command("story")),
            ("figures_repo", claims_repo),
            ("sources_command", command("sources")),
        ):
            _log(f"timing {name}")
            ms = await timed(fn, all_ids)
            results[name] = {
                "all": stats(ms),
                "uniform": stats(ms[1 : 1 + len(ids["uniform"])]),
                "by_article": stats(ms[1 + len(ids["uniform"]) :]),
                "biggest_ms": ms[0],
            }
        mixed = [x for pair in zip(ids["uniform"], ids["by_article"], strict=False) for x in pair]
        tl = [all_ids[0], *mixed][: scale.timeline_samples]
        if tl:
            _log(f"timing timeline over {len(tl)} stories")
            results["timeline_command"] = {"all": stats(await timed(command("timeline"), tl))}

        # Plans of the figures query, for the biggest and a median-size sampled story.
        fig_sql, fig_params = queries["figures"][-1]
        median = sorted(ids["uniform"], key=sizes.__getitem__)[len(ids["uniform"]) // 2]
        plans = {
            f"figures, story of {sizes[biggest]} articles": await explain(
                raw, fig_sql, [biggest, *list(fig_params)[1:]]
            ),
            f"figures, story of {sizes[median]} articles": await explain(
                raw, fig_sql, [median, *list(fig_params)[1:]]
            ),
        }
        # The planner's default random_page_cost (4) assumes spinning disks; with the data
        # cached or on SSD, 1.1 is the usual setting. Does it change the big story's plan?
        await raw.execute("SET random_page_cost = 1.1")
        plans[f"figures, story of {sizes[biggest]} articles, random_page_cost 1.1"] = await explain(
            raw, fig_sql, [biggest, *list(fig_params)[1:]]
        )
        await raw.execute("RESET random_page_cost")

        # The write side: saving an article again deletes its claim rows by article_id.
        rng = random.Random(scale.seed + 11)
        write_ids = [
            r["id"]
            for r in await raw.fetch(
                "SELECT id FROM articles ORDER BY random() LIMIT $1",
                max(1, scale.write_samples),
            )
        ]
        rng.shuffle(write_ids)

        async def resave(aid: str) -> float:
            async with uow_factory() as uow:
                stored = await uow.articles.get(aid)
                assert stored is not None
                t0 = time.perf_counter()
                await uow.articles.save(stored)
                return (time.perf_counter() - t0) * 1000  # rolled back on exit

        async def time_saves() -> list[float]:
            await resave(write_ids[0])  # warm
            return [await resave(a) for a in write_ids[: scale.write_samples]]

        async def save_once() -> None:
            await resave(write_ids[0])

        queries["article save"] = await sql.capture(save_once())
        delete_sql = next(
            (s, p)
            for s, p in queries["article save"]
            if s.lstrip().startswith("DELETE FROM figures")
        )
        if scale.write_samples:
            _log(f"timing article save over {len(write_ids)} articles")
            results["save_before"] = {"all": stats(await time_saves())}
        plans["DELETE FROM figures WHERE article_id = $1 (before)"] = await explain(
            raw, delete_sql[0], delete_sql[1]
        )
        t0 = time.perf_counter()
        for ddl in EXPERIMENT_INDEXES:
            await raw.execute(ddl)
        await raw.execute("ANALYZE figures, statements")
        results["experiment_index_build_s"] = time.perf_counter() - t0
        if scale.write_samples:
            _log("timing article save with the experimental indexes")
            results["save_after"] = {"all": stats(await time_saves())}
        plans["DELETE FROM figures WHERE article_id = $1 (with index)"] = await explain(
            raw, delete_sql[0], delete_sql[1]
        )
        # The read paths again with the experimental indexes (they should not move).
        results["story_repo_after"] = {"all": stats(await timed(story_repo, all_ids))}
        results["plans"] = plans
        results["queries"] = {
            name: list(dict.fromkeys(compact_sql(s) for s, _ in stmts))
            for name, stmts in queries.items()
        }
        results["samples"] = {
            "stories": len(all_ids),
            "distinct": len(set(all_ids)),
            "median_articles": sorted(sizes[s] for s in all_ids)[len(all_ids) // 2],
            "biggest_articles": sizes[biggest],
            "biggest_figures": figures_of[biggest],
        }
        return results
    finally:
        await raw.close()
        await engine.dispose()


# --------------------------------------------------------------------------- the run


async def configure(cluster: PgCluster, scale: Scale) -> str:
    """Server settings for a bulk load, a restart for ``shared_buffers``, the database
    migrated with the project's migrations."""
    conn = await asyncpg.connect(dsn(cluster, "postgres"))
    try:
        settings = {
            **SERVER_SETTINGS,
            "default_toast_compression": scale.toast_compression,
            "autovacuum": "off",
        }
        for name, value in settings.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    finally:
        await conn.close()
    data = cluster.root / "data"
    cluster.run(
        str(PG_BIN / "pg_ctl"), "restart", "-D", str(data), "-l", str(cluster.root / "log"),
        "-w", "-t", "60", "-m", "fast",
    )  # fmt: skip
    conn = await asyncpg.connect(dsn(cluster, "postgres"))
    try:
        version = await conn.fetchval("SHOW server_version")
        await conn.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await conn.close()
    engine = create_engine(cluster.url(DATABASE))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return str(version)


async def after_load(cluster: PgCluster) -> dict[str, dict[str, float]]:
    """Autovacuum back on (the load turned it off), and the table sizes."""
    conn = await asyncpg.connect(dsn(cluster))
    try:
        await conn.execute("ALTER SYSTEM SET autovacuum = 'on'")
        await conn.execute("SELECT pg_reload_conf()")
        return await table_sizes(conn)
    finally:
        await conn.close()


def run(scale: Scale | None = None) -> dict[str, Any]:
    """Start a cluster, load, measure; the cluster is stopped whatever happens."""
    scale = scale or Scale.from_env()
    cluster, stop = _start_cluster()
    try:
        version = asyncio.run(configure(cluster, scale))
        t0 = time.perf_counter()
        world = World(scale)
        plan_s = time.perf_counter() - t0
        shards = max(1, min(4, os.cpu_count() or 1))
        _log(f"planned {scale.stories:,} stories in {plan_s:.0f} s; loading in {shards} shards")
        url = dsn(cluster)
        t1 = time.perf_counter()
        prepared = asyncio.run(prepare_load(url))
        copied = copy_all(world, url, shards)
        copy_s = time.perf_counter() - t1
        _log(f"copied in {copy_s:.0f} s; rebuilding indexes and foreign keys")
        finished = asyncio.run(finish_load(url, prepared))
        load: dict[str, Any] = {
            "seconds": time.perf_counter() - t1,
            "plan_s": plan_s,
            "generate_and_copy_s": copy_s,
            "shards": copied,
            **finished,
            "indexes_rebuilt": [name for name, _ in prepared.indexes],
            "foreign_keys_rebuilt": [name for name, _, _ in prepared.fkeys],
        }
        sizes = asyncio.run(after_load(cluster))
        corpus = Corpus.of(world)
        ordered = sorted(corpus.sizes.values())
        story_sizes = {
            "stories": len(ordered),
            "median": ordered[len(ordered) // 2],
            "p90": ordered[int(0.9 * (len(ordered) - 1))],
            "p99": ordered[int(0.99 * (len(ordered) - 1))],
            "max": ordered[-1],
            "single_article": sum(1 for n in ordered if n == 1),
            "tracked": int(sum(c["tracked"] for c in copied)),
        }
        del world
        gc.collect()
        gc.freeze()
        result: dict[str, Any] = {
            "postgres": version,
            "settings": {**SERVER_SETTINGS, "default_toast_compression": scale.toast_compression},
            "scale": scale.__dict__,
            "revisions": int(sum(c["revisions"] for c in copied)),
            "story_sizes": story_sizes,
            "load": load,
            "sizes": sizes,
        }
        load_before = os.getloadavg()
        result.update(asyncio.run(measure(cluster, corpus)))
        result["load_average"] = {"before": load_before, "after": os.getloadavg()}
        return result
    finally:
        stop()


# --------------------------------------------------------------------------- printing


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _line(label: str, s: dict[str, float]) -> str:
    return (
        f"p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, "
        f"max {s['max_ms']:.0f} ms ({label}, n={s['n']:.0f})"
    )


def print_summary(r: dict[str, Any]) -> None:
    sc, ld, sz, ss = r["scale"], r["load"], r["sizes"], r["story_sizes"]
    print("\nquery latency at scale (PostgreSQL)")
    print(
        f"  corpus        {sc['articles']:,} articles ({r['revisions']:,} with 2 versions), "
        f"{sc['figures']:,} figures, {sc['statements']:,} statements, {sc['stories']:,} stories "
        f"(articles per story: median {ss['median']}, p90 {ss['p90']}, p99 {ss['p99']}, max "
        f"{ss['max']}; {ss['single_article']:,} single-article; {ss['tracked']:,} tracked)"
    )
    settings = ", ".join(f"{k} {v}" for k, v in r["settings"].items())
    print(f"  server        PostgreSQL {r['postgres']} ({settings}; fsync off)")
    print(
        f"  load          {ld['seconds']:.0f} s: generate + COPY "
        f"{ld['generate_and_copy_s']:.0f} s, {len(ld['indexes_rebuilt'])} secondary indexes "
        f"{ld['index_s']:.0f} s, {len(ld['foreign_keys_rebuilt'])} foreign keys "
        f"{ld['foreign_keys_s']:.0f} s, VACUUM ANALYZE {ld['vacuum_analyze_s']:.0f} s "
        f"(+ planning the corpus {ld['plan_s']:.0f} s)"
    )
    for k, sh in enumerate(ld["shards"]):
        print(
            f"  {'':<13} loader {k}: {sh['articles']:,.0f} articles in {sh['seconds']:.0f} s, "
            f"{sh['copy_wait_s']:.0f} s of it waiting for the server"
        )
    for table in CLAIM_TABLES:
        t = sz[table]
        print(
            f"  {table:<17} {t['rows']:>10,.0f} rows  total {_gib(t['total']):>9}  (heap "
            f"{_gib(t['heap'])}, toast {_gib(t['toast'])}, indexes {_gib(t['indexes'])})"
        )
    print(f"  database      {_gib(sz['database']['total'])}")
    smp = r["samples"]
    la = r["load_average"]
    print(
        f"  machine       {os.cpu_count()} cores; load average (1, 5, 15 min) before measuring "
        f"{', '.join(f'{x:.1f}' for x in la['before'])}, after "
        f"{', '.join(f'{x:.1f}' for x in la['after'])}"
    )
    print(
        f"  samples       {smp['stories']} story ids ({smp['distinct']} distinct; half uniform "
        f"over stories, half by article; median {smp['median_articles']} articles; the biggest "
        f"story, {smp['biggest_articles']:,} articles / {smp['biggest_figures']:,} figures, "
        "included); warm cache, one call at a time"
    )
    rows = (
        ("story", "story_repo", "uow.stories.get"),
        ("story cmd", "story_command", "`story ID` reply, end to end"),
        ("figures", "figures_repo", "uow.articles.for_story"),
        ("sources cmd", "sources_command", "`sources ID` reply, end to end"),
    )
    for short, key, what in rows:
        m = r[key]
        print(f"  {short:<13} {_line(what, m['all'])}")
        print(
            f"  {'':<13}   uniform p95 {m['uniform']['p95_ms']:.1f} ms · by article p95 "
            f"{m['by_article']['p95_ms']:.1f} ms · biggest story {m['biggest_ms']:.0f} ms"
        )
    extra = (
        ("timeline cmd", "timeline_command", "`timeline ID` PNG, end to end"),
        ("article save", "save_before", "uow.articles.save, no index on article_id"),
        ("", "save_after", "same, with ix (article_id, version) on figures and statements"),
        ("story again", "story_repo_after", "uow.stories.get, with those indexes"),
    )
    for short, key, what in extra:
        if key in r:
            print(f"  {short:<13} {_line(what, r[key]['all'])}")
    print(f"  {'':<13} experimental indexes built in {r['experiment_index_build_s']:.0f} s")
    print("  queries issued:")
    for name, stmts in r["queries"].items():
        for s in stmts:
            print(f"    {name:<13} {s[:240]}")
    print("  plans:")
    keep = ("Scan", "Join", "Sort", "Loop", "Delete", "Execution", "Planning", "Heap Blocks")
    for name, lines in r["plans"].items():
        print(f"    {name}")
        for line in lines:
            if any(k in line for k in keep):
                print(f"      {line.strip()[:160]}")


def main() -> int:
    p = argparse.ArgumentParser(prog="bench.scale_queries")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args()
    # Big stories' charts have more legend entries than fit: matplotlib says so each time.
    warnings.filterwarnings("ignore", message="Tight layout not applied")
    try:
        result = run()
    except pytest.skip.Exception as exc:
        print(f"scale queries skipped: {exc}")
        return 0
    if args.json:
        json.dump(result, sys.stdout, indent=2, default=str)
        print()
    else:
        print_summary(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
