"""Which instances an hourly sweep re-reads: a bounded share of Connect's quota, the longest unread first.

Amazon Connect allows 2 requests per second per API per account and Region by default ("Amazon Connect service
quotas", https://docs.aws.amazon.com/connect/latest/adminguide/amazon-connect-service-limits.html), shared with
the customer's own tools and the console. Reading an instance costs one `ListInstanceStorageConfigs` per
S3-capable resource type (7 today), so re-reading 250 instances every hour would keep that API at its limit for
a quarter of the hour. A sweep with a usable index therefore re-reads at most `QUOTA_SHARE` of any Connect API's
hourly quota: about 100 instances an hour by default, so estates up to that size are still re-read every hour.

What is always read, whatever the share: every listed instance the index does not know (nothing else says
which buckets it uses, and a shared bucket decided without it would lock it out), and every instance whose last
read is old enough that it would pass `MAX_UNREAD_HOURS` before the next hourly sweep. The rest of the share goes
to the instances read longest ago (the index's `seen`). An instance not re-read keeps its index entry: its
buckets are decided from the index, as a bucket event's are. Without an index a sweep reads everything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .index import IndexedInstance
from .times import parse_iso

# Amazon Connect's default rate per API (requests per second), and the share of it an hourly sweep may use.
CONNECT_RATE_PER_SECOND = 2.0
QUOTA_SHARE = 0.10
SWEEP_INTERVAL = timedelta(hours=1)
# How long after its start a sweep may still be reading: an instance read that late in one sweep is still due in
# the sweep `MAX_UNREAD_HOURS` later.
SWEEP_SPREAD = timedelta(minutes=10)
# Every instance is re-read at least this often, even when that takes more than the share.
MAX_UNREAD_HOURS = 6


def calls_per_hour_allowed(share: float | None = None, rate: float | None = None) -> int:
    """The calls a sweep may make to one Connect API: 2 requests/s x 3,600 s x 10% = 720 by default."""
    return int((CONNECT_RATE_PER_SECOND if rate is None else rate) * 3600 * (QUOTA_SHARE if share is None else share))


def instances_per_sweep(resource_types_read: int, share: float | None = None) -> int:
    """How many instances fit in the share: the busiest API is ListInstanceStorageConfigs, one call per type."""
    return max(1, calls_per_hour_allowed(share) // max(1, resource_types_read))


def choose(
    summaries: list[dict[str, Any]],
    indexed: Mapping[str, IndexedInstance],
    started: str,
    resource_types_read: int,
) -> list[dict[str, Any]]:
    """The listed instances to re-read in this sweep, in the order to read them: the unknown ones, the ones
    about to pass `MAX_UNREAD_HOURS`, then the longest unread, up to the share."""
    now = parse_iso(started)
    assert now is not None
    due_before = now - (timedelta(hours=MAX_UNREAD_HOURS) - SWEEP_INTERVAL) + SWEEP_SPREAD

    def last_read(summary: dict[str, Any]) -> str:
        known = indexed.get(str(summary["Id"]))
        return known.seen if known is not None else ""

    def must(summary: dict[str, Any]) -> bool:
        seen = parse_iso(last_read(summary))
        # An unreadable time counts as never read: the index is a hint, and reading is the safe side.
        return seen is None or seen <= due_before

    ordered = sorted(summaries, key=last_read)
    required = [s for s in ordered if must(s)]
    room = max(0, instances_per_sweep(resource_types_read) - len(required))
    optional = [s for s in ordered if not must(s)][:room]
    return required + optional


def rereads_every_hours(instances: int, resource_types_read: int, share: float | None = None) -> int:
    """Steady state of `choose`: the hours between two reads of the same instance (the round robin's length)."""
    per_sweep = max(instances_per_sweep(resource_types_read, share), math.ceil(instances / MAX_UNREAD_HOURS))
    return max(1, math.ceil(instances / per_sweep))
