"""Where to look: the buckets an event or a sweep concerns, and the instances that store in each.

Bucket events read the index; instance events read their own instance fresh and take the others from the
index; only sweeps read the whole estate, and a sweep too large for one invocation continues itself
(`continuation.py`). Without an index, or when it cannot be used, every read is fresh from Connect.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger

from .aws import Gateway
from .continuation import SweepContinuation
from .events import BucketChanged, InstanceChanged, Sweep, SweepCursor
from .index import IndexUnavailable, InventoryIndex
from .inventory import (
    MAX_PARALLEL_INSTANCES,
    ConnectInstance,
    Inventory,
    bucket_instances,
    list_summaries,
    read_instances,
    read_inventory,
    read_one_instance,
)
from .log import SERVICE
from .times import utc_iso

logger = Logger(service=SERVICE, child=True)

# Connect's own bucket names. A bucket so named is never ignored because the index does not know it: the index
# may have lost it (or been made to), so Connect is read instead.
CONNECT_DEFAULT_PREFIX = "amazon-connect-"


def is_connect_default_name(bucket: str) -> bool:
    return bucket.startswith(CONNECT_DEFAULT_PREFIX)


class Source(Enum):
    """Where a plan's instances come from, and so what a write must check first or after."""

    # Read from Connect in this invocation.
    FRESH = "fresh"
    # A warm execution environment's last inventory: it finds a compliant bucket; a write reads Connect again.
    WARM = "warm"
    # The index (an instance event's own instance is read fresh): a hint of which instances to read. Before
    # anything is decided, Connect confirms each one and names its role (`confirm.py`).
    INDEX = "index"


@dataclass
class Plan:
    """The buckets to decide, with their instances, and what else the run found on the way."""

    buckets: dict[str, list[ConnectInstance]] = field(default_factory=dict)
    source: Source = Source.FRESH
    pending: list[ConnectInstance] = field(default_factory=list)
    unreadable: list[ConnectInstance] = field(default_factory=list)
    ignored: str | None = None
    continued: SweepCursor | None = None
    # A scheduled sweep's own position: its last phase may hand the rest of the buckets over with it.
    sweep_cursor: SweepCursor | None = None
    # Every Connect bucket the sweep knows, when `buckets` holds only the rest of them (for the orphan search).
    known_buckets: set[str] | None = None
    index_degraded: str | None = None


@dataclass
class Planner:
    gateway: Gateway
    index: InventoryIndex | None
    continuation: SweepContinuation
    # The unique ID of an instance's service role, fresh from IAM, for the index (`index.role_id_reader`).
    role_id: Callable[[ConnectInstance], str | None]
    cached_inventory: Callable[[], dict[str, list[ConnectInstance]] | None] = lambda: None
    # Reads the whole inventory fresh (and lets the caller keep it warm).
    fresh_inventory: Callable[[], Inventory] | None = None

    def _read_inventory(self) -> Inventory:
        return self.fresh_inventory() if self.fresh_inventory else read_inventory(self.gateway)

    def record(self, instances: list[ConnectInstance], previous: dict[str, frozenset[str]]) -> None:
        if self.index is not None:
            self.index.record_read(instances, previous, self.role_id)

    # --- bucket events ---------------------------------------------------------------------------

    def for_bucket(self, event: BucketChanged) -> Plan:
        plan = Plan()
        if self.index is not None:
            try:
                swept, instances = self.index.bucket_view(event.bucket)
            except IndexUnavailable as error:
                swept, instances, plan.index_degraded = None, [], str(error)
            if swept is not None and instances:
                plan.buckets, plan.source = {event.bucket: instances}, Source.INDEX
                return plan
            if swept is not None and not is_connect_default_name(event.bucket):
                plan.ignored = f"bucket {event.bucket} is not used by any Connect instance in the index"
                return plan
            if swept is None and plan.index_degraded is None:
                plan.index_degraded = "the index has not completed a sweep yet"
        by_bucket = self.cached_inventory()
        if by_bucket is not None:
            plan.source = Source.WARM
        else:
            by_bucket = self._read_inventory().bucket_instances()
        if event.bucket not in by_bucket:
            plan.ignored = f"bucket {event.bucket} is not used by any Connect instance in {self.gateway.region}"
            return plan
        plan.buckets = {event.bucket: by_bucket[event.bucket]}
        return plan

    # --- instance events -------------------------------------------------------------------------

    def for_instance(self, event: InstanceChanged) -> Plan:
        plan = Plan()
        if self.index is not None:
            try:
                if self.index.last_sweep() is not None:
                    return self._instance_from_index(event.instance_id)
                plan.index_degraded = "the index has not completed a sweep yet"
            except IndexUnavailable as error:
                plan.index_degraded = str(error)
        inventory = self._read_inventory()
        instance = inventory.instance(event.instance_id)
        if instance is None:
            plan.ignored = f"Connect instance {event.instance_id} does not exist in {self.gateway.region}"
            return plan
        by_bucket = inventory.bucket_instances()
        plan.buckets = {b: by_bucket[b] for b in sorted(instance.buckets)}
        _sort_out(plan, [instance])
        return plan

    def _instance_from_index(self, instance_id: str) -> Plan:
        plan = Plan(source=Source.INDEX)
        indexed = self.index.instances() if self.index else {}
        instance = read_one_instance(self.gateway, instance_id)
        previous = indexed.get(instance_id)
        if instance is None:
            if previous is not None and self.index is not None:
                self.index.forget(previous)
            plan.ignored = f"Connect instance {instance_id} does not exist in {self.gateway.region}"
            return plan
        self.record([instance], {instance_id: previous.instance.buckets} if previous else {})
        for bucket in sorted(instance.buckets):
            others = [i for i in self.index.instances_of_bucket(bucket) if i.id != instance_id] if self.index else []
            plan.buckets[bucket] = sorted([instance, *others], key=lambda i: i.id)
        _sort_out(plan, [instance])
        return plan

    # --- sweeps ----------------------------------------------------------------------------------

    def for_sweep(self, event: Sweep) -> Plan:
        plan = Plan()
        cursor = event.cursor or SweepCursor(str(uuid.uuid4()), utc_iso(digits=6))
        if cursor.buckets_done and self.index is not None:
            return self._remaining_buckets(cursor)
        summaries = list_summaries(self.gateway)
        read: list[ConnectInstance] = []
        done = cursor.done
        while done < len(summaries):
            if read and self.continuation.out_of_time_for_instances(
                indexed=self.index is not None, scheduled=event.scheduled
            ):
                plan.continued = SweepCursor(cursor.sweep_id, cursor.started, done, cursor.part + 1)
                break
            chunk = summaries[done : done + MAX_PARALLEL_INSTANCES]
            instances = read_instances(self.gateway, chunk)
            read += instances
            done += len(chunk)
            plan.index_degraded = plan.index_degraded or self._record_quietly(instances)
        if plan.continued is not None:
            self.continuation.hand_over(plan.continued)
            # Pending instances are reported by the part that decides the buckets; failures right away.
            plan.unreadable += [i for i in read if i.unreadable_types]
            return plan
        everything = read
        if self.index is not None and plan.index_degraded is None:
            try:
                if event.cursor is not None:
                    everything = self._whole_sweep(summaries, cursor)
                removed = self.index.complete_sweep(cursor.started, utc_iso(digits=6))
                if removed:
                    logger.info("instances removed from the index", extra={"instances": removed})
            except IndexUnavailable as error:
                plan.index_degraded = str(error)
        if event.cursor is not None and plan.index_degraded is not None:
            # A sweep spread over invocations knows its earlier parts' instances only through the index: deciding
            # from this part alone could drop a shared bucket's other roles. The locks stay as they are.
            plan.ignored = f"the sweep's earlier parts could not be read back from the index: {plan.index_degraded}"
            return plan
        plan.buckets = bucket_instances(everything)
        plan.pending += [i for i in everything if not i.buckets and not i.unreadable_types]
        plan.unreadable += [i for i in read if i.unreadable_types]
        plan.sweep_cursor = cursor if event.scheduled else None
        return plan

    def _whole_sweep(self, summaries: list[dict[str, Any]], cursor: SweepCursor) -> list[ConnectInstance]:
        """Every instance of a sweep spread over invocations, from the index. The parts count positions in the
        instance list, which shifts when an instance goes away between them: any listed instance the index has
        not seen since the sweep started is read now, so none is skipped."""
        assert self.index is not None
        indexed = self.index.instances()
        missed = [s for s in summaries if (i := indexed.get(str(s["Id"]))) is None or i.seen < cursor.started]
        if missed:
            read = read_instances(self.gateway, missed)
            self.record(read, {})
            indexed = self.index.instances()
        return [i.instance for i in indexed.values()]

    def _remaining_buckets(self, cursor: SweepCursor) -> Plan:
        """The last phase of a sweep, continued: every instance is read and indexed; decide the other buckets."""
        plan = Plan(sweep_cursor=cursor)
        try:
            everything = [i.instance for i in self.index.instances().values()] if self.index else []
        except IndexUnavailable as error:
            # The next scheduled sweep starts over; nothing is lost but this sweep's last buckets.
            plan.index_degraded = str(error)
            plan.ignored = f"the sweep's last buckets could not be read from the index: {error}"
            return plan
        every_bucket = bucket_instances(everything)
        plan.known_buckets = set(every_bucket)
        plan.buckets = dict(list(every_bucket.items())[cursor.buckets_done :])
        return plan

    def _record_quietly(self, instances: list[ConnectInstance]) -> str | None:
        try:
            self.record(instances, {})
        except IndexUnavailable as error:
            self.index = None  # the rest of this sweep reads Connect only
            return str(error)
        return None


def _sort_out(plan: Plan, instances: list[ConnectInstance]) -> None:
    plan.pending += [i for i in instances if not i.buckets and not i.unreadable_types]
    plan.unreadable += [i for i in instances if i.unreadable_types]
