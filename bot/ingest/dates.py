"""Parsing publication dates from metadata into tz-aware UTC datetimes.

Sources write dates as ISO 8601 (JSON, HTML meta), RFC 2822 (RSS, e-mail style)
or epoch seconds. Everything is converted to UTC so that articles from different
outlets order correctly; a date without a time zone is taken as UTC (the least
surprising guess for machine-written metadata), a date without a time as midnight.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["parse_datetime", "to_utc"]

# Epoch seconds outside this range are more likely milliseconds or garbage.
_EPOCH_MIN = 0
_EPOCH_MAX = 4_102_444_800  # 2100-01-01


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_datetime(value: object) -> datetime | None:
    """A tz-aware UTC datetime from ISO 8601, RFC 2822, epoch seconds; None if unparseable."""
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value) or not _EPOCH_MIN <= value <= _EPOCH_MAX:
            return None
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return to_utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):  # "0001-01-01T00:00+01:00" is before year 1 in UTC
        pass
    try:
        return to_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
