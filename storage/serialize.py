"""Domain dataclasses ⇄ JSON-able dicts, for the JSON columns.

The domain types are stdlib frozen dataclasses with no knowledge of storage;
pydantic's :class:`~pydantic.TypeAdapter` reads their annotations and handles what
hand-written code gets wrong: enums as values, tz-aware datetimes as ISO 8601,
tuples ⇄ lists, nested dicts of dataclasses, and validation on the way back in
(a row written by an older version fails loudly instead of yielding garbage).
Building an adapter costs milliseconds, so each is built once, at import.

JSON has no infinity, and PostgreSQL rejects the ``Infinity`` token that Python's
``json`` module writes. Open intervals do occur in stored data
(``StoryProfile.facts`` holds ``Quantity.interval()`` results, and "at least 22"
is ``(22, inf)``), so non-finite floats are written as the strings ``"Infinity"``,
``"-Infinity"`` and ``"NaN"``, which pydantic parses back into floats.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from pydantic import TypeAdapter

from bot.domain.admin import AdminAlert
from bot.domain.alerts import Alert
from bot.domain.claims import Extraction
from bot.domain.stories import StoryProfile, StoryState

T = TypeVar("T")

_STATE = TypeAdapter(StoryState)
_PROFILE = TypeAdapter(StoryProfile)
_EXTRACTION = TypeAdapter(Extraction)
_ALERT = TypeAdapter(Alert)


def _dump(adapter: TypeAdapter[T], value: T) -> dict[str, Any]:
    data = _finite(adapter.dump_python(value, mode="json"))
    assert isinstance(data, dict)
    return data


def _finite(value: Any) -> Any:
    """``value`` with non-finite floats replaced by strings pydantic reads back as floats."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def dump_state(state: StoryState) -> dict[str, Any]:
    return _dump(_STATE, state)


def load_state(data: dict[str, Any]) -> StoryState:
    return _STATE.validate_python(data)


def dump_profile(profile: StoryProfile) -> dict[str, Any]:
    return _dump(_PROFILE, profile)


def load_profile(data: dict[str, Any]) -> StoryProfile:
    return _PROFILE.validate_python(data)


def dump_extraction(extraction: Extraction) -> dict[str, Any]:
    return _dump(_EXTRACTION, extraction)


def load_extraction(data: dict[str, Any]) -> Extraction:
    return _EXTRACTION.validate_python(data)


def dump_alert(alert: Alert) -> dict[str, Any]:
    """All of the alert's fields (history included); ``key`` is derived, so not stored here."""
    return _dump(_ALERT, alert)


def load_alert(data: dict[str, Any]) -> Alert:
    return _ALERT.validate_python(data)


_ADMIN = TypeAdapter(AdminAlert)


def dump_admin_alert(alert: AdminAlert) -> dict[str, Any]:
    return _dump(_ADMIN, alert)


def load_admin_alert(data: dict[str, Any]) -> AdminAlert:
    return _ADMIN.validate_python(data)
