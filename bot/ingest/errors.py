"""Errors raised while reading input.

Reading is the boundary where the outside world's mess arrives (binary files
dropped in a folder, hostile XML, broken JSON), so every failure is turned into
one of these with a message a person can act on, and callers that read many
inputs collect them instead of stopping at the first one.
"""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """Base class: an input could not be turned into articles."""

    reason: str

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ArticleReadError(IngestError):
    """A file could not be read as an article (empty, binary, wrong encoding, no text…)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {reason}", reason)


class FeedReadError(IngestError):
    """A feed (or one of its entries) could not be read.

    ``source`` is the feed's URL or file, ``link`` the entry's link when the error
    concerns one entry that could still be fetched as a page later.
    """

    def __init__(self, reason: str, *, source: str | None = None, link: str | None = None) -> None:
        self.source = source
        self.link = link
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{reason}", reason)
