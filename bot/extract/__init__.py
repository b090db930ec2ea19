"""Claim extraction: figures and statements from article text, with evidence.

``extract(text)`` is pure and deterministic and never raises. It is rule-based (regular
expressions and the word lists of ``data/lexicon.toml``, no model), so it is fast and every
decision can be traced to a rule. The pipeline itself is ``bot.extract.pipeline``.

This package entry point is deliberately light: the pipeline, its compiled patterns and its
lexicon are loaded on the first call of ``extract`` (once per process), not when the bot is
imported. A CLI command, a chat gateway or a worker that never extracts pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from bot.domain.claims import Extraction
from bot.extract.limits import MAX_TEXT

__all__ = ["MAX_TEXT", "extract"]


@cache
def _pipeline() -> Callable[..., Extraction]:
    from bot.extract.pipeline import extract as run  # first use: patterns and lexicon load

    return run


def extract(text: str, *, title: str = "") -> Extraction:
    """Figures and statements of one article (``title`` is context only, see the pipeline)."""
    return _pipeline()(text, title=title)
