"""The persistent index of Connect instances and their buckets, in DynamoDB (INVENTORY_TABLE).

Sweeps keep it (they stay the authority: what a complete sweep did not see is removed), and so do instance
events and the enforcer's own reads (`record_read`, with each service role's unique ID). Bucket events read it instead of the whole Connect estate. Anything
unreadable in it raises `IndexUnavailable`, and the caller decides from fresh reads instead.

Items (partition key `pk`, sort key `sk`, both strings):
- `instance` / <instance id>: arn, alias, status, role_arn, role_id, buckets (list), seen (ISO time);
- `bucket#<name>` / <instance id>: alias, role_arn, role_id: the instances that store in the bucket;
- `meta` / `sweep`: started and completed (ISO times) of the last complete sweep;
- `meta` / `sweep-record`: the sweep under way (`SweepRecord`): its id, start, the part expected next, the
  instances its one ListInstances listed (with what the listing said of each, while they fit in the item), the
  ids still to read when the continuation event cannot carry them, and the buckets already decided;
- `recheck` / <instance id>: attempt, the re-check of a pending instance the enforcer last scheduled (removed
  with the instance's other items when a complete sweep no longer sees it).

Continuations and re-checks say where to look only: each must match the record the enforcer wrote here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .arns import ROLE_ARN
from .aws import AwsError, CallerIdentity, Gateway
from .events import instance_id_from
from .inventory import ConnectInstance
from .principals import Principal, PrincipalResolver, RefusedError
from .sweep_record import META_PK, SWEEP_RECORD_SK, SweepRecord, sweep_record_of
from .times import time_problem, utc_iso

INSTANCE_PK = "instance"
# `orphan` / <bucket>: alerted (the UTC day of the last `orphaned` alert): at most one a day per bucket.
ORPHAN_PK = "orphan"
SWEEP_SK = "sweep"
RECHECK_PK = "recheck"


class IndexUnavailable(Exception):
    """The index cannot be used now: missing table, access denied, throttled, or an item it cannot read."""


@dataclass(frozen=True)
class IndexedInstance:
    instance: ConnectInstance
    role_id: str | None
    seen: str


def bucket_pk(bucket: str) -> str:
    return f"bucket#{bucket}"


class InventoryIndex:
    def __init__(self, gateway: Gateway, table: str) -> None:
        self.gateway = gateway
        self.table = table

    # --- reads ---------------------------------------------------------------------------------------

    def _query(self, pk: str) -> list[dict[str, Any]]:
        try:
            return self.gateway.table_query(self.table, pk)
        except AwsError as error:
            raise IndexUnavailable(f"{error.operation} on {self.table}: {error.code}") from error

    def last_sweep(self) -> str | None:
        """When the last complete sweep finished; None until one has (the index is then not trusted)."""
        for item in self._query(META_PK):
            if item.get("sk") == SWEEP_SK:
                completed = item.get("completed")
                if not isinstance(completed, str):
                    raise IndexUnavailable("the sweep marker has no completion time")
                return completed
        return None

    def sweep_record(self) -> SweepRecord | None:
        """The sweep under way, as the enforcer wrote it; None when there is none. An item that does not read
        as one (wrong types, a start time in the future) raises IndexUnavailable."""
        for item in self._query(META_PK):
            if item.get("sk") == SWEEP_RECORD_SK:
                record = sweep_record_of(item)
                if record is None:
                    raise IndexUnavailable("the sweep record cannot be read")
                return record
        return None

    def write_sweep_record(self, record: SweepRecord) -> None:
        self._put([record.item()])

    def recheck_scheduled(self, instance_id: str) -> int | None:
        """The attempt of the last re-check the enforcer scheduled for an instance; None if none."""
        for item in self._query(RECHECK_PK):
            if item.get("sk") == instance_id:
                attempt = item.get("attempt")
                return attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None
        return None

    def record_recheck(self, instance_id: str, attempt: int) -> None:
        self._put([{"pk": RECHECK_PK, "sk": instance_id, "attempt": attempt, "scheduled": utc_iso(digits=6)}])

    def _put(self, items: list[dict[str, Any]]) -> None:
        try:
            self.gateway.table_put(self.table, items)
        except AwsError as error:
            raise IndexUnavailable(f"{error.operation} on {self.table}: {error.code}") from error

    def instances_of_bucket(self, bucket: str) -> list[ConnectInstance]:
        instances = []
        for item in self._query(bucket_pk(bucket)):
            instance_id, role_arn, alias = item.get("sk"), item.get("role_arn"), item.get("alias")
            if not isinstance(instance_id, str) or not _optional_str(role_arn) or not _optional_str(alias):
                raise IndexUnavailable(f"an item of bucket {bucket} cannot be read")
            # A hint still has to look like one: an instance id and a role ARN, or the index is not used.
            if instance_id_from(instance_id) != instance_id or (role_arn and not ROLE_ARN.match(role_arn)):
                raise IndexUnavailable(f"an item of bucket {bucket} does not name a Connect instance and role")
            instances.append(ConnectInstance(instance_id, "", alias, None, role_arn or None, frozenset({bucket})))
        return sorted(instances, key=lambda i: i.id)

    def bucket_view(self, bucket: str) -> tuple[str | None, list[ConnectInstance]]:
        """(last_sweep(), instances_of_bucket(bucket)), both queried at once: a bucket event's time to lock is
        these two round trips, so they run side by side rather than one after the other."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            swept = pool.submit(self.last_sweep)
            instances = pool.submit(self.instances_of_bucket, bucket)
            return swept.result(), instances.result()

    def instances(self) -> dict[str, IndexedInstance]:
        result = {}
        for item in self._query(INSTANCE_PK):
            indexed = _indexed(item)
            result[indexed.instance.id] = indexed
        return result

    def connect_role_ids(self) -> set[str]:
        """The unique IDs of every indexed instance's service role: IDs a lock may keep without a fresh read."""
        return {i.role_id for i in self.instances().values() if i.role_id}

    # --- writes --------------------------------------------------------------------------------------

    def record_read(
        self,
        instances: list[ConnectInstance],
        previous: dict[str, frozenset[str]],
        role_id: Callable[[ConnectInstance], str | None],
    ) -> None:
        """Write instances read from Connect, with their roles' unique IDs; `previous`: the buckets each had."""
        seen = utc_iso(digits=6)
        indexed = self.instances() if any(i.unreadable_types for i in instances) else {}
        for instance in instances:
            if instance.unreadable_types:
                # A partial read must not remove buckets from the index, nor let a sweep forget the instance:
                # it is recorded as seen, with the buckets it had and those read now.
                before = indexed.get(instance.id)
                kept = before.instance.buckets if before else frozenset()
                instance = dataclasses.replace(instance, buckets=instance.buckets | kept)
            self.record(instance, role_id(instance), seen, previous.get(instance.id, ()))

    def record(self, instance: ConnectInstance, role_id: str | None, seen: str, previous: Iterable[str] = ()) -> None:
        """Write an instance as read from Connect; drop its bucket items for buckets it no longer uses."""
        item = {
            "pk": INSTANCE_PK,
            "sk": instance.id,
            "arn": instance.arn,
            "alias": instance.alias or "",
            "status": instance.status or "",
            "role_arn": instance.service_role_arn or "",
            "role_id": role_id or "",
            "buckets": sorted(instance.buckets),
            "seen": seen,
        }
        bucket_items = [
            {
                "pk": bucket_pk(b),
                "sk": instance.id,
                "alias": instance.alias or "",
                "role_arn": instance.service_role_arn or "",
                "role_id": role_id or "",
            }
            for b in sorted(instance.buckets)
        ]
        try:
            self.gateway.table_put(self.table, [item, *bucket_items])
            left = sorted(set(previous) - instance.buckets)
            self.gateway.table_delete(self.table, [(bucket_pk(b), instance.id) for b in left])
        except AwsError as error:
            raise IndexUnavailable(f"{error.operation} on {self.table}: {error.code}") from error

    def forget(self, indexed: IndexedInstance) -> None:
        """An instance a complete sweep did not see: its items go, its re-check record too (the index holds one
        per instance Connect still lists, never one per instance ever created)."""
        keys = [(INSTANCE_PK, indexed.instance.id), (RECHECK_PK, indexed.instance.id)]
        keys += [(bucket_pk(b), indexed.instance.id) for b in sorted(indexed.instance.buckets)]
        try:
            self.gateway.table_delete(self.table, keys)
        except AwsError as error:
            raise IndexUnavailable(f"{error.operation} on {self.table}: {error.code}") from error

    def forget_bucket_items(self, bucket: str, instance_ids: list[str]) -> None:
        """Drop the `bucket#<name>` items of instances that Connect says do not store in the bucket."""
        try:
            self.gateway.table_delete(self.table, [(bucket_pk(bucket), i) for i in instance_ids])
        except AwsError as error:
            raise IndexUnavailable(f"{error.operation} on {self.table}: {error.code}") from error

    def orphan_alerted_on(self, bucket: str) -> str | None:
        """The UTC day (YYYY-MM-DD) the bucket's last `orphaned` alert was sent; None if never."""
        for item in self._query(ORPHAN_PK):
            if item.get("sk") == bucket and isinstance(item.get("alerted"), str):
                return str(item["alerted"])
        return None

    def record_orphan_alert(self, bucket: str, day: str) -> None:
        try:
            self.gateway.table_put(self.table, [{"pk": ORPHAN_PK, "sk": bucket, "alerted": day}])
        except AwsError as error:
            raise IndexUnavailable(f"{error.operation} on {self.table}: {error.code}") from error

    def complete_sweep(self, started: str, completed: str, listed: Iterable[str]) -> list[str]:
        """Remove the instances a complete sweep that started at `started` found gone; returns the ids removed.

        Gone means absent from the sweep's own fresh ListInstances listing (`listed`) AND not seen since the sweep
        started. An instance still listed is never removed, whatever the times say (a sweep re-reads only some of
        the estate, and no time written anywhere can make the index forget what Connect lists); one seen after
        `started` (created after the listing, recorded by an instance event) stays too.
        """
        if time_problem(started) is not None:
            raise IndexUnavailable(f"the sweep's start time {started[:64]!r} {time_problem(started)}")
        still_listed = set(listed)
        stale = [i for i in self.instances().values() if i.instance.id not in still_listed and i.seen < started]
        for indexed in stale:
            self.forget(indexed)
        try:
            self.gateway.table_put(
                self.table, [{"pk": META_PK, "sk": SWEEP_SK, "started": started, "completed": completed}]
            )
        except AwsError as error:
            raise IndexUnavailable(f"{error.operation} on {self.table}: {error.code}") from error
        return [i.instance.id for i in stale]


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _indexed(item: dict[str, Any]) -> IndexedInstance:
    fields = ("sk", "arn", "alias", "status", "role_arn", "role_id", "seen")
    if not all(isinstance(item.get(f), str) for f in fields):
        raise IndexUnavailable(f"the index item of instance {str(item.get('sk'))[:64]} cannot be read")
    buckets = item.get("buckets")
    if not isinstance(buckets, list) or not all(isinstance(b, str) for b in buckets):
        raise IndexUnavailable(f"the index item of instance {item['sk'][:64]} has no list of buckets")
    instance = ConnectInstance(
        id=item["sk"],
        arn=item["arn"],
        alias=item["alias"] or None,
        status=item["status"] or None,
        service_role_arn=item["role_arn"] or None,
        buckets=frozenset(buckets),
    )
    return IndexedInstance(instance, item["role_id"] or None, item["seen"])


def role_id_reader(
    resolver: PrincipalResolver, identity: Callable[[], CallerIdentity]
) -> Callable[[ConnectInstance], str | None]:
    """What `record_read` stores as an instance's role ID: read fresh from IAM; None when it does not resolve."""

    def role_id(instance: ConnectInstance) -> str | None:
        if not instance.service_role_arn:
            return None
        principal = Principal(instance.service_role_arn, f"service role of Connect instance {instance.label()}")
        try:
            return resolver.resolve(principal, identity(), fresh=True)
        except RefusedError:
            return None

    return role_id
