"""Bounds on what the extractor reads (imported without loading the extractor)."""

from __future__ import annotations

MAX_TEXT = 200_000
"""Longer inputs are cut: no news article is this long, and the bound keeps time linear."""
