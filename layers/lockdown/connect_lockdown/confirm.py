"""What the index says, confirmed by Connect before a write: the index is a hint about where to look, never an
authority on who the lock admits.

Anyone with `dynamodb:PutItem` on the table (the table's own policy denies it to all but the enforcer, but a
policy can be changed) could otherwise name their own role as an instance's service role, map a made-up instance
to any bucket of the account, or make a lock keep an ID it should drop. So, in the invocation that writes:
- each instance the index names is described (`DescribeInstance`): one Connect says does not exist stores
  nothing, and its service role is the one Connect names, never the index's;
- its storage is read until a resource type names the bucket (the likely types first): an instance whose storage
  no longer names the bucket is dropped, and the index is corrected;
- an ID the current lock carries for a Connect role the index knows is kept only when the role of an instance
  described now resolves to that same ID.
Before the write: one `DescribeInstance` per instance (side by side, at most five: within Connect's burst for a
bucket shared by up to five instances), and the storage of one instance, read until a type names the bucket.
The storage of the others is read after the write, and a write that admitted one that left is made again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from . import policy as policies
from .aws import Gateway
from .index import IndexedInstance, IndexUnavailable, InventoryIndex
from .inventory import SKIPPED_STATUSES, ConnectInstance, instance_from, reread_unless_stored_in
from .log import SERVICE

logger = Logger(service=SERVICE, child=True)

# Side by side, but bounded: Connect's APIs allow 2 requests per second per account, with a small burst.
MAX_PARALLEL_CONFIRMATIONS = 5


@dataclass
class Confirmed:
    """The instances Connect confirmed, with the roles Connect names, and what was dropped or is left to check."""

    instances: list[ConnectInstance] = field(default_factory=list)
    # Instances the index named that Connect says do not exist, or whose storage no longer names the bucket.
    dropped: list[str] = field(default_factory=list)
    # Described (their roles are Connect's), but their storage not read yet: checked after the write.
    unchecked: list[ConnectInstance] = field(default_factory=list)


def confirm_instances(
    gateway: Gateway,
    bucket: str,
    named: Iterable[ConnectInstance],
    *,
    already_read: Iterable[ConnectInstance] = (),
) -> Confirmed:
    """The instances of `named` that Connect says exist, as Connect describes them, once one of them (or of
    `already_read`) is seen storing in `bucket`.

    Every role comes from `DescribeInstance`, all described side by side (at most five: within Connect's burst).
    The storage is read one instance at a time only until one names the bucket: that proves the bucket is
    Connect's before anything is written to it. The other instances keep the roles Connect named and are in
    `unchecked`, for the check after the write. `already_read`: instances read from Connect in this invocation
    (an instance event's own instance), taken as they are. An AWS error that a retry can fix, or an access
    denied, is raised: a lock is never written from what could not be confirmed.
    """
    confirmed = Confirmed(instances=list(already_read))
    todo = [i for i in named if i.id not in {r.id for r in confirmed.instances}]
    if not todo:
        return confirmed
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CONFIRMATIONS, len(todo))) as pool:
        described = list(pool.map(lambda i: _describe(gateway, i, bucket), todo))
    proven = any(bucket in i.buckets for i in confirmed.instances)
    for hint, instance in zip(todo, described, strict=True):
        if instance is None:
            confirmed.dropped.append(hint.id)
        elif proven:
            confirmed.unchecked.append(instance)
            confirmed.instances.append(instance)
        elif (stores := stores_in(gateway, instance, bucket)) is not None:
            confirmed.instances.append(instance)
            proven = stores
        else:
            confirmed.dropped.append(hint.id)
    confirmed.instances.sort(key=lambda i: i.id)
    return confirmed


def stores_in(gateway: Gateway, instance: ConnectInstance, bucket: str) -> bool | None:
    """True when the instance's storage names the bucket; None when it does not; False when some of its storage
    could not be read: it may still store there, and its role is the one Connect names, so keeping it admitted
    admits a real Connect service role and locks none of its recordings out."""
    elsewhere = reread_unless_stored_in(gateway, instance, bucket)
    if elsewhere is None:
        return True
    return False if elsewhere.unreadable_types else None


def _describe(gateway: Gateway, hint: ConnectInstance, bucket: str) -> ConnectInstance | None:
    described = gateway.describe_instance(hint.id)
    if not described or described.get("InstanceStatus") in SKIPPED_STATUSES:
        return None
    return instance_from({**described, "Id": hint.id}, {bucket})


def forget_dropped(index: InventoryIndex | None, bucket: str, dropped: Iterable[str]) -> None:
    """Correct the index: the dropped instances do not store in `bucket` (or do not exist)."""
    ids = set(dropped)
    if index is None or not ids:
        return
    logger.info(
        "instances the index named do not store in the bucket", extra={"bucket": bucket, "instances": sorted(ids)}
    )
    try:
        index.forget_bucket_items(bucket, sorted(ids))
    except IndexUnavailable:
        # The index is a hint: the next sweep corrects what this could not.
        return


def confirmed_kept_patterns(
    gateway: Gateway,
    index: InventoryIndex | None,
    current: dict[str, Any] | None,
    confirmed_patterns: frozenset[str] | set[str],
    role_id: Callable[[ConnectInstance], str | None],
    left: Iterable[str] = (),
) -> set[str]:
    """The allowlist entries of the current lock that belong to a Connect service role, confirmed now.

    An association whose event was lost keeps its access until the sweep: the lock may keep the ID of a Connect
    role the index knows. The index only says which instances to describe: an entry is kept when an instance
    described now names a role whose unique ID, read from IAM now, is that entry. Any other entry (one added by
    hand, or one the index was made to claim) is dropped.
    """
    lock = policies.lockdown_of(current)
    if lock is None or index is None:
        return set()
    candidates = policies.allowed_patterns_of(lock) - confirmed_patterns
    if not candidates:
        return set()
    try:
        indexed = index.instances()
    except IndexUnavailable:
        return set()
    # An instance Connect just showed does not store in the bucket (`left`) keeps nothing.
    gone = set(left)
    wanted = [i for i in indexed.values() if _pattern(i) in candidates and i.instance.id not in gone]
    kept: set[str] = set()
    for entry in wanted[:MAX_PARALLEL_CONFIRMATIONS]:
        described = gateway.describe_instance(entry.instance.id)
        if not described or not described.get("ServiceRole"):
            continue
        fresh = dataclasses.replace(entry.instance, service_role_arn=str(described["ServiceRole"]))
        role = role_id(fresh)
        if role is not None and policies.allowed_user_id_pattern(role) in candidates:
            kept.add(policies.allowed_user_id_pattern(role))
    return kept


def _pattern(indexed: IndexedInstance) -> str | None:
    return policies.allowed_user_id_pattern(indexed.role_id) if indexed.role_id else None
