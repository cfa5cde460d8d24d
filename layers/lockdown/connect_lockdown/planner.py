"""Where to look: the buckets an event or a sweep concerns, and the instances that store in each.

Bucket events read the index; instance events read their own instance fresh and take the others from the
index; only sweeps read the whole estate, and a sweep too large for one invocation continues itself
(`continuation.py`). Without an index, or when it cannot be used, every read is fresh from Connect.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from aws_lambda_powertools import Logger

from . import selection
from .aws import Gateway
from .continuation import SweepContinuation
from .events import BucketChanged, InstanceChanged, Sweep, SweepCursor
from .index import IndexedInstance, IndexUnavailable, InventoryIndex, SweepRecord
from .inventory import (
    MAX_PARALLEL_INSTANCES,
    ConnectInstance,
    Inventory,
    bucket_instances,
    list_summaries,
    read_instances,
    read_inventory,
    read_one_instance,
    s3_capable_types,
)
from .log import SERVICE
from .outcomes import BucketResult
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
    # Every Connect bucket the sweep knows, when `buckets` holds only the rest of them (for the orphan search).
    known_buckets: set[str] | None = None
    index_degraded: str | None = None
    # A scheduled sweep's record: its last phase may hand the rest of the buckets over with it.
    sweep_record: SweepRecord | None = None
    # The instances read from Connect in this invocation (a sweep's plan from the index names the others).
    read_now: frozenset[str] = frozenset()
    # Results to publish as they are: a sweep that stopped at its cap of invocations.
    failures: list[BucketResult] = field(default_factory=list)


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
        if event.cursor is None:
            return self._first_part(event)
        return self._continued_part(event.cursor)

    def _first_part(self, event: Sweep) -> Plan:
        """List the instances once, choose which to read (all of them without an index), read them, and hand
        what is left to the next part when time runs short."""
        plan = Plan()
        summaries = list_summaries(self.gateway)
        record = SweepRecord(str(uuid.uuid4()), utc_iso(digits=6), 1, {str(s["Id"]): s for s in summaries})
        indexed, chosen = self._choose(plan, summaries, record.started)
        if self.index is not None and event.scheduled:
            # Written before any read: a continuation of an older sweep no longer matches, so two chains never run.
            plan.index_degraded = self._quietly(lambda index: index.write_sweep_record(record))
        return self._read_part(plan, record, chosen, indexed, scheduled=event.scheduled)

    def _continued_part(self, cursor: SweepCursor) -> Plan:
        """A continuation: acted on only when it matches the sweep record this function wrote."""
        plan = Plan()
        if self.index is None:
            plan.ignored = (
                "a sweep continuation is acted on only with an index (INVENTORY_TABLE); this function has none"
            )
            return plan
        try:
            record = self.index.sweep_record()
            indexed = self.index.instances()
        except IndexUnavailable as error:
            plan.index_degraded = str(error)
            plan.ignored = f"the sweep continuation cannot be checked against the index: {error}"
            return plan
        mismatch = continuation_mismatch(cursor, record)
        if mismatch is not None or record is None:
            plan.ignored = f"the continuation does not match a sweep this function started: {mismatch}"
            logger.warning("a sweep continuation was ignored", extra={"reason": mismatch})
            return plan
        if cursor.buckets_done:
            return self._remaining_buckets(record, indexed)
        ids = cursor.remaining if cursor.remaining is not None else record.remaining
        if ids is None:
            plan.ignored = "neither the continuation nor the sweep record names the instances still to read"
            return plan
        return self._read_part(plan, record, [record.listed[i] for i in ids], indexed, scheduled=True)

    def _choose(
        self, plan: Plan, summaries: list[dict[str, Any]], started: str
    ) -> tuple[dict[str, IndexedInstance], list[dict[str, Any]]]:
        """The index's instances and the listed instances to read: all of them without a usable index or before
        the first complete sweep, else a bounded share (`selection.py`)."""
        if self.index is None:
            return {}, summaries
        try:
            indexed = self.index.instances()
            swept = self.index.last_sweep()
        except IndexUnavailable as error:
            plan.index_degraded = str(error)
            self.index = None  # the rest of this sweep reads Connect only
            return {}, summaries
        if swept is None:
            return indexed, summaries
        resource_types = len(s3_capable_types(self.gateway.storage_resource_types()))
        return indexed, selection.choose(summaries, indexed, started, resource_types)

    def _read_part(
        self,
        plan: Plan,
        record: SweepRecord,
        summaries: list[dict[str, Any]],
        indexed: dict[str, IndexedInstance],
        *,
        scheduled: bool,
    ) -> Plan:
        """Read `summaries` in chunks; hand the rest over when time runs short, else finish the sweep."""
        read: list[ConnectInstance] = []
        done = 0
        while done < len(summaries):
            if read and self.continuation.out_of_time_for_instances(
                indexed=self.index is not None, scheduled=scheduled
            ):
                break
            chunk = summaries[done : done + MAX_PARALLEL_INSTANCES]
            instances = read_instances(self.gateway, chunk)
            read += instances
            done += len(chunk)
            previous = {i.id: indexed[i.id].instance.buckets for i in instances if i.id in indexed}
            plan.index_degraded = plan.index_degraded or self._record_quietly(instances, previous)
        # Instances whose storage could not all be read are reported right away, by the part that read them.
        plan.unreadable += [i for i in read if i.unreadable_types]
        if done < len(summaries):
            handed = self.continuation.hand_over(record, [str(s["Id"]) for s in summaries[done:]])
            if isinstance(handed, SweepCursor):
                plan.continued = handed
            else:
                plan.failures.append(handed)
            return plan
        return self._finish_sweep(plan, record, read, scheduled=scheduled)

    def _finish_sweep(self, plan: Plan, record: SweepRecord, read: list[ConnectInstance], *, scheduled: bool) -> Plan:
        """Every chosen instance is read: forget what Connect no longer lists, and plan every bucket."""
        everything = read
        # Every listed instance read in this invocation: the plan is fresh. Otherwise the instances read in
        # earlier parts, or not chosen in this sweep, come from the index.
        whole = record.part == 1 and len(read) == len(record.listed)
        if self.index is not None and plan.index_degraded is None:
            try:
                removed = self.index.complete_sweep(record.started, utc_iso(digits=6), record.listed)
                if removed:
                    logger.info("instances removed from the index", extra={"instances": removed})
                if not whole:
                    everything = [i.instance for i in self.index.instances().values()]
                if scheduled:
                    self.index.write_sweep_record(dataclasses.replace(record, completed=utc_iso(digits=6)))
            except IndexUnavailable as error:
                plan.index_degraded = str(error)
        if not whole and plan.index_degraded is not None:
            # The instances not read in this invocation are known only through the index: deciding without them
            # could drop a shared bucket's other roles. The locks stay as they are.
            plan.ignored = f"the sweep's other instances could not be read back from the index: {plan.index_degraded}"
            return plan
        plan.buckets = bucket_instances(everything)
        plan.source = Source.FRESH if whole else Source.INDEX
        plan.read_now = frozenset(i.id for i in read)
        plan.pending += [i for i in everything if not i.buckets and not i.unreadable_types]
        plan.sweep_record = record if scheduled and self.index is not None else None
        return plan

    def _remaining_buckets(self, record: SweepRecord, indexed: dict[str, IndexedInstance]) -> Plan:
        """The last phase of a sweep, continued: every instance is read and indexed; decide the other buckets."""
        every_bucket = bucket_instances(i.instance for i in indexed.values())
        plan = Plan(source=Source.INDEX, sweep_record=record, known_buckets=set(every_bucket))
        plan.buckets = dict(list(every_bucket.items())[record.buckets_done :])
        return plan

    def _record_quietly(self, instances: list[ConnectInstance], previous: dict[str, frozenset[str]]) -> str | None:
        return self._quietly(lambda index: index.record_read(instances, previous, self.role_id))

    def _quietly(self, write: Callable[[InventoryIndex], None]) -> str | None:
        """Write to the index; on failure, stop using it for the rest of this sweep and say why."""
        if self.index is None:
            return None
        try:
            write(self.index)
        except IndexUnavailable as error:
            self.index = None  # the rest of this sweep reads Connect only
            return str(error)
        return None


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


def _sort_out(plan: Plan, instances: list[ConnectInstance]) -> None:
    plan.pending += [i for i in instances if not i.buckets and not i.unreadable_types]
    plan.unreadable += [i for i in instances if i.unreadable_types]
