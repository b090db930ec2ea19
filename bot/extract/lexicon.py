"""The extractor's lexicon: metric triggers, subject nouns, speech and role words, as data.

The words live in ``bot/extract/data/lexicon.toml`` (with a comment on what each list is for),
so the vocabulary can be reviewed and extended without reading code. This module reads that
file once and gives each list a type. It is imported only by the extraction pipeline, which
``bot.extract.extract`` loads on its first call: importing the bot (the CLI, the runner, a
chat gateway) reads no lexicon, and the first article pays the few milliseconds once.

Why a hand-written lexicon: casualty reporting uses a small, stable vocabulary ("killed",
"injured", "displaced", "the death toll rose to …"). Listing it explicitly keeps the extractor
deterministic, fast and auditable, and lets every rule elsewhere stay general (no rule names a
place, a person or an event).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from bot.domain.claims import Metric
from bot.domain.speaker_words import BODY_WORDS as BODY_WORDS
from bot.domain.speaker_words import HONORIFICS as HONORIFICS
from bot.domain.speaker_words import PLACE_BODIES as PLACE_BODIES
from bot.domain.speaker_words import ROLE_MODIFIERS as ROLE_MODIFIERS
from bot.domain.speaker_words import ROLE_WORDS as ROLE_WORDS
from bot.domain.speaker_words import words as words


def _read() -> dict[str, Any]:
    with resources.files("bot.extract").joinpath("data", "lexicon.toml").open("rb") as f:
        return tomllib.load(f)


_DATA = _read()


def _metric_table(name: str) -> dict[str, Metric]:
    return {word: Metric(metric) for word, metric in _DATA[name].items()}


def _text_table(name: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in _DATA[name].items()}


def _patterns(name: str) -> tuple[tuple[str, Metric], ...]:
    return tuple((str(p), Metric(m)) for p, m in _DATA[name])


def _kind_patterns(name: str) -> tuple[tuple[str, Metric, str], ...]:
    return tuple((str(p), Metric(m), str(g)) for p, m, g in _DATA[name])


def _metric_set(name: str) -> frozenset[Metric]:
    return frozenset(Metric(m) for m in _DATA[name])


def _word_set(name: str) -> frozenset[str]:
    return frozenset(str(w) for w in _DATA[name])


def _groups(name: str) -> dict[str, tuple[str, ...]]:
    return {str(group): tuple(nouns) for group, nouns in _DATA[name].items()}


def _pairs(name: str) -> dict[tuple[str, str], str]:
    return {(str(a), str(b)): str(group) for a, b, group in _DATA[name]}


def _text(name: str) -> str:
    return str(_DATA[name])


def _sequence(name: str) -> tuple[str, ...]:
    return tuple(str(w) for w in _DATA[name])


# Each list's purpose is told beside it in data/lexicon.toml.
STATE_TRIGGERS: dict[str, Metric] = _metric_table("STATE_TRIGGERS")
PHRASE_TRIGGERS: tuple[tuple[str, Metric], ...] = _patterns("PHRASE_TRIGGERS")
KIND_TRIGGERS: tuple[tuple[str, Metric, str], ...] = _kind_patterns("KIND_TRIGGERS")
PERSON_ONLY_METRICS: frozenset[Metric] = _metric_set("PERSON_ONLY_METRICS")
ACTIVE_TRIGGERS: dict[str, Metric] = _metric_table("ACTIVE_TRIGGERS")
LEAVE_VERBS: frozenset[str] = _word_set("LEAVE_VERBS")
LEAVE_STATES: dict[str, Metric] = _metric_table("LEAVE_STATES")
METRIC_NOUNS: dict[str, Metric] = _metric_table("METRIC_NOUNS")
LIVES_VERBS: frozenset[str] = _word_set("LIVES_VERBS")
TOLL_METRICS: dict[str, Metric] = _metric_table("TOLL_METRICS")
_GROUPS: dict[str, tuple[str, ...]] = _groups("_GROUPS")
SUBJECT_GROUPS: dict[str, str] = {w: g for g, nouns in _GROUPS.items() for w in nouns}
MODIFIER_GROUPS: dict[tuple[str, str], str] = _pairs("MODIFIER_GROUPS")
COMPOUND_HEADS: frozenset[str] = _word_set("COMPOUND_HEADS")
NON_PERSON_NOUNS: frozenset[str] = _word_set("NON_PERSON_NOUNS")
HOST_CONTEXT: str = _text("HOST_CONTEXT")
SPEECH_VERBS: dict[str, str] = _text_table("SPEECH_VERBS")
ACT_VERBS: dict[str, str] = _text_table("ACT_VERBS")
ACT_OBJECTS: frozenset[str] = _word_set("ACT_OBJECTS")
AID_NOUNS: frozenset[str] = _word_set("AID_NOUNS")
AGENT_VERBS: dict[str, str] = _text_table("AGENT_VERBS")
CALL_VERBS: dict[str, str] = _text_table("CALL_VERBS")
ATTRIBUTION_ONLY_VERBS: frozenset[str] = _word_set("ATTRIBUTION_ONLY_VERBS")
TITLE_ABBREVIATIONS: frozenset[str] = _word_set("TITLE_ABBREVIATIONS")
PRONOUNS: frozenset[str] = _word_set("PRONOUNS")
UNNAMED_HEADS: frozenset[str] = _word_set("UNNAMED_HEADS")
NON_OFFICIAL_ROLE_WORDS: frozenset[str] = _word_set("NON_OFFICIAL_ROLE_WORDS")
PRIVATE_PERSON_WORDS: frozenset[str] = _word_set("PRIVATE_PERSON_WORDS")
OFFICE_VERBS: frozenset[str] = _word_set("OFFICE_VERBS")
GENERIC_BODY_HEADS: frozenset[str] = _word_set("GENERIC_BODY_HEADS")
INSTITUTION_HEADS: frozenset[str] = _word_set("INSTITUTION_HEADS")
REPORT_NOUNS: frozenset[str] = _word_set("REPORT_NOUNS")
UNQUALIFIED_BODY_HEADS: frozenset[str] = _word_set("UNQUALIFIED_BODY_HEADS")
PROPER_BODY_NOUNS: frozenset[str] = _word_set("PROPER_BODY_NOUNS")
MEDIA_WORDS: frozenset[str] = _word_set("MEDIA_WORDS")
GROUP_PLURAL_HEADS: frozenset[str] = _word_set("GROUP_PLURAL_HEADS")
MONTHS: tuple[str, ...] = _sequence("MONTHS")
MONTH_ABBREVIATIONS = {m[:3]: m for m in MONTHS} | {"sept": "september"}
WEEKDAYS: frozenset[str] = _word_set("WEEKDAYS")
