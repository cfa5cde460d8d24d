"""Buckets that still carry the lockdown although no Connect instance uses them any more.

Deleting an instance is not an error: its bucket keeps its lock, and the sweep reports it so that someone
decides whether to keep or retire it. Costs ListBuckets plus one GetBucketPolicy per other bucket, so the
sweep runs it once a day, not every hour; a missing s3:ListAllMyBuckets permission only skips the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

from . import policy as policies
from .aws import AwsError, CallerIdentity, Gateway
from .index import IndexUnavailable, InventoryIndex
from .log import SERVICE
from .times import utc_iso

logger = Logger(service=SERVICE, child=True)

# The orphan search costs a read of every bucket in the Region: once a day, on the sweep of this UTC hour.
ORPHAN_SEARCH_HOUR = 0
# Bounded, so the search does not hammer S3 from one execution environment.
MAX_PARALLEL_READS = 4


def find_orphaned_buckets(
    gateway: Gateway, identity: CallerIdentity, connect_buckets: Iterable[str]
) -> list[tuple[str, dict[str, Any]]]:
    """(bucket, its policy as read) for each bucket outside `connect_buckets` that carries the lockdown."""
    known = set(connect_buckets)
    try:
        candidates = [b for b in gateway.list_bucket_names() if b not in known]
    except AwsError as error:
        logger.warning("could not look for locked buckets without instances", extra={"error": str(error)})
        return []

    def locked_policy(bucket: str) -> dict[str, Any] | None:
        try:
            current = policies.parse_policy(gateway.get_bucket_policy(bucket, identity.account))
        except (AwsError, policies.PolicyError):
            return None
        return current if any(policies.is_lockdown_statement(s) for s in policies.statements_of(current)) else None

    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_READS) as pool:
        read = list(pool.map(locked_policy, candidates))
    orphans = sorted((b, p) for b, p in zip(candidates, read, strict=True) if p is not None)
    for bucket, _policy in orphans:
        logger.warning(
            "a bucket carries the lockdown but no Connect instance uses it any more", extra={"bucket": bucket}
        )
    return orphans


def orphan_alert_due(index: InventoryIndex | None, bucket: str, hour: int | None) -> bool:
    """At most one `orphaned` alert a day per bucket: the index remembers the day of the last; without an
    index, only the sweep of ORPHAN_SEARCH_HOUR alerts (the others still report the bucket)."""
    if index is None:
        return hour == ORPHAN_SEARCH_HOUR
    today = utc_iso()[:10]
    try:
        if index.orphan_alerted_on(bucket) == today:
            return False
        index.record_orphan_alert(bucket, today)
    except IndexUnavailable as error:
        logger.warning("the index cannot say when the orphan was last alerted", extra={"error": str(error)})
        return hour == ORPHAN_SEARCH_HOUR
    return True
