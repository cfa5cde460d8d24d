"""Buckets that still carry the lockdown although no Connect instance uses them any more.

Deleting an instance is not an error: its bucket keeps its lock, and the sweep reports it so that someone
decides whether to keep or retire it. Costs ListBuckets plus one GetBucketPolicy per other bucket, so the
sweep runs it once a day, not every hour; a missing s3:ListAllMyBuckets permission only skips the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools import Logger

from . import policy as policies
from .aws import AwsError, CallerIdentity, Gateway
from .log import SERVICE

logger = Logger(service=SERVICE, child=True)

# Bounded, so the search does not hammer S3 from one execution environment.
MAX_PARALLEL_READS = 4


def find_orphaned_buckets(gateway: Gateway, identity: CallerIdentity, connect_buckets: Iterable[str]) -> list[str]:
    known = set(connect_buckets)
    try:
        candidates = [b for b in gateway.list_bucket_names() if b not in known]
    except AwsError as error:
        logger.warning("could not look for locked buckets without instances", extra={"error": str(error)})
        return []

    def carries_lockdown(bucket: str) -> bool:
        try:
            current = policies.parse_policy(gateway.get_bucket_policy(bucket, identity.account))
        except (AwsError, policies.PolicyError):
            return False
        return any(policies.is_lockdown_statement(s) for s in policies.statements_of(current))

    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_READS) as pool:
        flags = list(pool.map(carries_lockdown, candidates))
    orphans = sorted(b for b, flag in zip(candidates, flags, strict=True) if flag)
    for bucket in orphans:
        logger.warning(
            "a bucket carries the lockdown but no Connect instance uses it any more", extra={"bucket": bucket}
        )
    return orphans
