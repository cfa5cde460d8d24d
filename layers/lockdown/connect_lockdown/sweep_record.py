"""The record of a sweep spread over invocations, as its first part writes it in the index (`meta` /
`sweep-record`): what a continuation must match, and where the sweep stands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .events import SweepCursor
from .times import time_problem

META_PK = "meta"
SWEEP_RECORD_SK = "sweep-record"
# DynamoDB's item limit is 400 KB: the listing's summaries stay in the sweep record only while it is well under.
MAX_RECORD_BYTES = 300_000


@dataclass(frozen=True)
class SweepRecord:
    """A sweep spread over invocations, as its first part wrote it: what a continuation must match."""

    sweep_id: str
    started: str
    # The part expected next (a continuation names it), and the buckets decided before it (the last phase).
    part: int
    # Instance id -> what ListInstances said of it ({} when the summaries did not fit in the item), in order.
    listed: dict[str, dict[str, Any]]
    # The ids still to read when the continuation event could not carry them; None when it does.
    remaining: tuple[str, ...] | None = None
    buckets_done: int = 0
    completed: str | None = None

    def item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"pk": META_PK, "sk": SWEEP_RECORD_SK, "sweep_id": self.sweep_id}
        item |= {"started": self.started, "part": self.part, "buckets_done": self.buckets_done}
        item["listed_ids"] = list(self.listed)
        summaries = [_summary_fields(s) for s in self.listed.values()]
        if len(json.dumps(summaries)) + 40 * len(self.remaining or ()) < MAX_RECORD_BYTES:
            item["summaries"] = summaries
        if self.remaining is not None:
            item["remaining"] = list(self.remaining)
        if self.completed is not None:
            item["completed"] = self.completed
        return item


def _summary_fields(summary: dict[str, Any]) -> dict[str, str]:
    fields = ("Id", "Arn", "InstanceAlias", "InstanceStatus", "ServiceRole")
    return {f: str(summary[f]) for f in fields if isinstance(summary.get(f), str)}


def sweep_record_of(item: dict[str, Any]) -> SweepRecord | None:
    """The record an index item holds; None when the item cannot be read as one."""
    sweep_id, started, part, done = (
        item.get("sweep_id"),
        item.get("started"),
        item.get("part"),
        item.get("buckets_done"),
    )
    ids, summaries, remaining = item.get("listed_ids"), item.get("summaries", []), item.get("remaining")
    readable = (
        isinstance(sweep_id, str)
        and isinstance(started, str)
        and time_problem(started) is None
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (part, done))
        and _str_list(ids)
        and isinstance(summaries, list)
        and all(isinstance(s, dict) and isinstance(s.get("Id"), str) for s in summaries)
        and (remaining is None or _str_list(remaining))
        and _optional_str(item.get("completed"))
    )
    if not readable:
        return None
    assert isinstance(sweep_id, str) and isinstance(started, str) and isinstance(part, int) and isinstance(done, int)
    assert isinstance(ids, list)
    by_id = {s["Id"]: s for s in summaries}
    listed = {i: by_id.get(i, {"Id": i}) for i in ids}
    return SweepRecord(
        sweep_id,
        started,
        part,
        listed,
        None if remaining is None else tuple(remaining),
        done,
        item.get("completed"),
    )


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def continuation_mismatch(cursor: SweepCursor, record: SweepRecord | None) -> str | None:
    """Why a continuation does not match the sweep record the enforcer wrote; None when it does."""
    if record is None:
        return "no sweep is under way"
    if cursor.sweep_id != record.sweep_id:
        return f"sweep {cursor.sweep_id[:64]!r} is not the sweep under way"
    if cursor.started != record.started:
        return f"the sweep under way started at {record.started}, not {cursor.started[:64]}"
    if cursor.part != record.part:
        return f"it is part {cursor.part}; the sweep expects part {record.part}"
    if cursor.buckets_done != record.buckets_done:
        return f"it starts after bucket {cursor.buckets_done}; the sweep after bucket {record.buckets_done}"
    if cursor.remaining is not None and not set(cursor.remaining) <= set(record.listed):
        return "it names instances the sweep did not list"
    return None
