"""Times as AWS and the index write them: ISO 8601 in UTC with a `Z`, parsed back, and the UTC hour of one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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


# How far ahead of this clock another's time may be before it counts as in the future.
CLOCK_SKEW = timedelta(minutes=5)


def time_problem(text: Any, now: datetime | None = None) -> str | None:
    """None for an ISO 8601 time with a zone that is not in the future; else what is wrong with it."""
    moment = parse_iso(text)
    if moment is None:
        return "is not an ISO 8601 time with a zone"
    if moment > (now or datetime.now(UTC)) + CLOCK_SKEW:
        return "is in the future"
    return None
