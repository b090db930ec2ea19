"""The extraction pipeline: figures and statements from article text, with evidence.

Loaded by ``bot.extract.extract`` on its first call. ``extract(text)`` is pure and
deterministic and never raises. It is rule-based (regular expressions and word lists, no
model), so it is fast and every decision can be traced to a rule.

Pipeline: split sentences (``sentences``) → per sentence, find speech events
(``attribution``) and figures (``figures``) → collect the article's speakers and their
fullest names (``speakers.ArticleSpeakers``) → resolve speakers in article order
(pronouns, office titles) and attach each figure to the speech event that covers it →
build ``Statement``s (``statements``).

Offsets: every ``Evidence`` satisfies ``text[e.start:e.end] == e.sentence``. The
``title`` is accepted for context but nothing is extracted from it (its offsets would
not refer to ``text``).
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.domain.claims import Evidence, Extraction, Figure, Statement, Temporal
from bot.extract.attribution import Kind, SpeechEvent, quote_spans, speech_events
from bot.extract.fastre import ascii_lower
from bot.extract.figure_places import settle_places
from bot.extract.figures import (
    FIGURE_HINT_RE,
    SentenceFigure,
    article_is_an_exercise,
    article_looks_back,
    figures_in_sentence,
    lead_of,
)
from bot.extract.glance import glance_figures
from bot.extract.limits import MAX_TEXT
from bot.extract.sentences import split_sentences
from bot.extract.speakers import ArticleSpeakers
from bot.extract.statements import Resolved, SpeakerTracker, build_statement

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Sentence:
    start: int
    end: int
    text: str
    quotes: list[tuple[int, int]]
    opens_in_quote: bool
    events: list[SpeechEvent]
    figures: list[SentenceFigure]


def extract(text: str, *, title: str = "") -> Extraction:
    """Figures and statements of one article (``title`` is context only; see module doc)."""
    del title  # reserved: nothing is extracted from the title (offsets must refer to text)
    try:
        return _extract(text[:MAX_TEXT] if isinstance(text, str) else "")
    except Exception:  # pragma: no cover - a safety net; tests drive it with garbage
        _log.exception("extraction failed; returning no claims")
        return Extraction()


def _extract(text: str) -> Extraction:
    sentences = _analyse(text)
    registry = ArticleSpeakers(text)
    for s in sentences:
        for e in s.events:
            if e.mention.kind is Kind.PERSON:
                registry.add_person(e.mention.name, e.mention.role)
            elif e.mention.kind is Kind.BODY:
                registry.add_body(e.mention.name)
    registry.finish()

    tracker = SpeakerTracker(registry)
    figures: list[Figure] = []
    statements: list[tuple[str, Statement]] = []
    last_direct: Resolved | None = None
    for s in sentences:
        if not (s.events or s.figures or s.quotes):
            last_direct = None  # a sentence with nothing to read ends a running quotation
            continue
        evidence = Evidence(s.text, s.start, s.end)
        resolved = [tracker.resolve(e.mention) for e in s.events]
        for f in s.figures:
            who = _attribution(f, s.events, resolved)
            attributed_to = who.speaker if who is not None and who.attributable else None
            role = who.role if who is not None else None
            figures.append(
                Figure(
                    metric=f.metric,
                    quantity=f.quantity,
                    subject=f.subject,
                    subject_group=f.subject_group,
                    evidence=evidence,
                    scope=f.scope,
                    temporal=f.temporal,
                    attributed_to=attributed_to,
                    attributed_role=role,
                    framed_as_update=f.framed_as_update,
                )
            )
        made = False
        for e, who in zip(s.events, resolved, strict=True):
            if who is None:
                continue
            st = build_statement(e, who, s.text, evidence)
            if st is not None:
                statements.append((who.key, st))
                made = True
                last_direct = who if st.direct else None
        if not made and not s.events:
            # A quotation continuing the previous speaker's direct quote.
            if (
                last_direct is not None
                and s.quotes
                and (s.opens_in_quote or s.text.lstrip()[:1] in '"“')
            ):
                a, b = s.quotes[0]
                quote = s.text[a:b].strip()
                if quote:
                    statements.append(
                        (
                            last_direct.key,
                            Statement(
                                speaker=last_direct.speaker,
                                role=last_direct.role,
                                verb="say",
                                text=quote,
                                direct=True,
                                evidence=evidence,
                                official=last_direct.official,
                            ),
                        )
                    )
            else:
                last_direct = None
    final = tuple(
        replace(st, aliases=registry.aliases(key, st.speaker)) if key else st
        for key, st in statements
    )
    figures = settle_places(text, [*_glance(text), *figures])
    texts = [s.text for s in sentences]
    if figures and (article_looks_back(lead_of(texts)) or article_is_an_exercise(texts)):
        # An anniversary piece, a statistical release or a drill: no figure is news.
        figures = [replace(f, temporal=Temporal.OTHER_EVENT) for f in figures]
    return Extraction(figures=_dedupe(figures), statements=final)


def _glance(text: str) -> list[Figure]:
    """A fact sheet's "numbers at a glance" box: figures labelled, not written in sentences."""
    return [
        Figure(
            metric=g.metric,
            quantity=g.quantity,
            subject=g.group,
            subject_group=g.group,
            evidence=Evidence(text[g.start : g.end], g.start, g.end),
            scope=g.scope,
        )
        for g in glance_figures(text)
    ]


def _analyse(text: str) -> list[_Sentence]:
    out: list[_Sentence] = []
    open_quote = False
    lowered = ascii_lower(text)
    spans = split_sentences(text)
    # One scan of the whole text for figure cues; sentences without one skip figure reading.
    # (Speech events need no such scan: ``speech_events`` starts with its own verb search.)
    starts = [a for a, _ in spans]
    hinted = _flag(starts, (m.start() for m in FIGURE_HINT_RE.finditer(lowered)))
    for n, (start, end) in enumerate(spans):
        sent = text[start:end]
        low = lowered[start:end]
        if sent[:1] in '"“':
            open_quote = False
        was_open = open_quote
        quotes, open_quote = quote_spans(sent, open_quote)
        out.append(
            _Sentence(
                start=start,
                end=end,
                text=sent,
                quotes=quotes,
                opens_in_quote=was_open,
                events=speech_events(sent, quotes, low),
                figures=figures_in_sentence(sent, low) if n in hinted else [],
            )
        )
    return out


def _flag(starts: list[int], positions: Iterable[int]) -> set[int]:
    """Indices of the sentences (by start offset) that contain any of ``positions``."""
    return {bisect_right(starts, p) - 1 for p in positions}


def _attribution(
    f: SentenceFigure, events: list[SpeechEvent], resolved: list[Resolved | None]
) -> Resolved | None:
    """The speaker whose reported content covers the figure, if any.

    A verb-first event ("X said 33 were killed") covers what follows it; a fronted one
    ("…33 were killed, X said") what precedes its subject. The nearest covering event wins.
    """
    best: tuple[int, Resolved | None] | None = None
    for e, who in zip(events, resolved, strict=True):
        if e.mention.start <= f.start < e.mention.end:
            continue  # the number is part of the speaker phrase ("two officials said")
        if not e.fronted and e.verb_end <= f.start + 1:
            dist = f.start - e.verb_end
        elif (e.fronted and e.mention.start >= f.end - 1) or (
            e.fronted and e.verb_start >= f.end and e.mention.start > e.verb_start
        ):
            dist = min(abs(e.mention.start - f.end), abs(e.verb_start - f.end))
        else:
            continue
        if best is None or dist < best[0]:
            best = (dist, who)
    return best[1] if best is not None else None


def _dedupe(figures: list[Figure]) -> tuple[Figure, ...]:
    seen: set[tuple[object, ...]] = set()
    out: list[Figure] = []
    for f in figures:
        k = (
            f.metric,
            f.quantity.value,
            f.quantity.high,
            f.quantity.qualifier,
            f.subject_group,
            f.scope,
            f.temporal,
            f.attributed_to,
            f.evidence.start,
        )
        if k in seen:
            continue
        seen.add(k)
        out.append(f)
    return tuple(out)
