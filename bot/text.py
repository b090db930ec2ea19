"""Fitting untrusted text into the platforms' limits, cleanly.

Chat platforms reject a message whose title, field or body is one character too
long, so every piece is clipped before it is rendered. Clipping prefers a word
boundary near the limit and always marks the cut with an ellipsis, so a reader can
tell a shortened quote from a whole one.
"""

from __future__ import annotations

ELLIPSIS = "…"


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included): titles and names stay on one line."""
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else cut (at a word if one is near) + "…"."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= int(limit * 0.8):
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS
