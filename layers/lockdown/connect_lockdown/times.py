"""Times as AWS and the index write them: ISO 8601 in UTC with a `Z`, parsed back, and the UTC hour of one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc_iso(moment: datetime | None = None, *, digits: int = 0, zone: bool = True) -> str:
    """`moment` (now when None) as 2025-03-15T03:00:00Z, with `digits` (0, 3 or 6) of fractional seconds.

    The index compares these strings, so its times keep microseconds; EventBridge Scheduler's `at()` takes no
    zone (`zone=False`).
    """
    utc = (moment or datetime.now(UTC)).astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{utc.microsecond:06d}"[:digits]
    return text + "Z" if zone else text


def parse_iso(text: Any) -> datetime | None:
    """An ISO 8601 time with a zone; None for anything else (no zone, not a string, not a time)."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def hour_of(text: str | None) -> int | None:
    """The UTC hour of an event's time ("2025-03-15T03:00:00Z" -> 3); None when it has none."""
    moment = parse_iso(text)
    return moment.astimezone(UTC).hour if moment is not None else None
