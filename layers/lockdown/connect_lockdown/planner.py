"""Where to look: the buckets an event or a sweep concerns, and the instances that store in each.

Bucket events read the index; instance events read their own instance fresh and take the others from the
index; only sweeps read the whole estate, and a sweep too large for one invocation continues itself
(`continuation.py`). Without an index, or when it cannot be used, every read is fresh from Connect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from .aws import Gateway
from .continuation import SweepContinuation
from .events import BucketChanged, InstanceChanged
from .index import IndexUnavailable, InventoryIndex
from .inventory import (
    ConnectInstance,
    Inventory,
    read_inventory,
    read_one_instance,
)
from .log import SERVICE
from .plan import Plan, Source, is_connect_default_name
from .sweep_planning import SweepPlanning

logger = Logger(service=SERVICE, child=True)


@dataclass
class Planner(SweepPlanning):
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


def _sort_out(plan: Plan, instances: list[ConnectInstance]) -> None:
    plan.pending += [i for i in instances if not i.buckets and not i.unreadable_types]
    plan.unreadable += [i for i in instances if i.unreadable_types]
