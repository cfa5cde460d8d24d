"""The events the function sends itself (a continued sweep, a re-check) and the one its deploy hook sends (a
sweep), built as EventBridge delivers them. `events.classify` reads them back, and trusts none of their fields
beyond where to look."""

from __future__ import annotations

from typing import Any

from .events import CONTINUATION_DETAIL_TYPE, RECHECK_DETAIL_TYPE, RECHECK_SOURCE, SCHEDULED_DETAIL_TYPE, SweepCursor


def recheck_event(instance_id: str, attempt: int, event_id: str, time: str) -> dict[str, Any]:
    """The payload a one-time schedule sends back to the function to look at a pending instance again."""
    return _envelope(
        RECHECK_DETAIL_TYPE, RECHECK_SOURCE, event_id, time, {"instanceId": instance_id, "attempt": attempt}
    )


def _envelope(detail_type: str, source: str, event_id: str, time: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge event as the function receives it."""
    envelope = {"version": "0", "id": event_id, "detail-type": detail_type, "source": source, "time": time}
    return envelope | {"resources": [], "detail": detail}


def sweep_event(event_id: str, time: str) -> dict[str, Any]:
    """A scheduled-sweep event, as EventBridge's schedule sends it: the deploy hook sends the same."""
    return _envelope(SCHEDULED_DETAIL_TYPE, "aws.events", event_id, time, {})


def continuation_event(cursor: SweepCursor, event_id: str, time: str) -> dict[str, Any]:
    """The payload a sweep sends to its own function to go on where it stopped: the instances still to read, or
    (when they are too many for the payload) a reference to the sweep record that holds them."""
    detail: dict[str, Any] = {"sweepId": cursor.sweep_id, "started": cursor.started, "part": cursor.part}
    detail["bucketsDone"] = cursor.buckets_done
    if cursor.remaining is None:
        detail["remainingInRecord"] = True
    else:
        detail["remaining"] = list(cursor.remaining)
    return _envelope(CONTINUATION_DETAIL_TYPE, RECHECK_SOURCE, event_id, time, detail)
