"""Time as a dependency: services take a ``Clock`` so tests and replays can set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, timezone-aware (UTC): the default ``Clock``."""
    return datetime.now(UTC)
