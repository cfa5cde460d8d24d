"""The sweep's part of planning (`planner.Planner` uses it): which instances a sweep reads in this invocation,
what it hands over to the next, and the buckets it decides at its end (`continuation.py`, `selection.py`)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from . import selection
from .aws import Gateway
from .continuation import SweepContinuation
from .events import Sweep, SweepCursor
from .index import IndexedInstance, IndexUnavailable, InventoryIndex
from .inventory import (
    MAX_PARALLEL_INSTANCES,
    ConnectInstance,
    bucket_instances,
    list_summaries,
    read_instances,
    s3_capable_types,
)
from .log import SERVICE
from .plan import Plan, Source
from .sweep_record import SweepRecord, continuation_mismatch
from .times import utc_iso

logger = Logger(service=SERVICE, child=True)


class SweepPlanning:
    """Planner's sweeps, kept apart from its bucket and instance events: the same fields, declared here."""

    gateway: Gateway
    index: InventoryIndex | None
    continuation: SweepContinuation
    role_id: Callable[[ConnectInstance], str | None]

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
