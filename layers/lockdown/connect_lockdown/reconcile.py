"""The enforcer: event -> plan -> lock each bucket -> publish, in that order.

Classifying is pure (`events.py`), planning where to look is `planner.py`, one bucket is `lock.py`, and every
result goes to `sink.py`. This module runs them and turns AWS errors into outcomes at one boundary: a permanent
error becomes a `failed` result, a temporary one is collected and raised as `RetryLater` once every other
bucket is handled.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from . import policy as policies
from .arns import role_of_session
from .aws import AwsCallError, AwsError, CachedIdentity, Gateway, RetryableAwsError
from .config import Settings
from .continuation import SweepContinuation
from .events import RECHECK_DETAIL_TYPE, BucketChanged, Cause, Ignored, InstanceChanged, Sweep, Trigger, classify
from .index import InventoryIndex, role_id_reader
from .inventory import WarmInventory
from .invocation import Invocation
from .lock import BucketLock
from .log import SERVICE
from .orphans import ORPHAN_SEARCH_HOUR, find_orphaned_buckets, orphan_alert_due
from .outcomes import (
    BucketResult,
    Outcome,
    RetryLater,
    RunReport,
    inventory_failure,
    orphaned,
    pending,
    unreadable,
)
from .plan import Plan, is_connect_default_name
from .planner import Planner
from .principals import CACHE_TTL_SECONDS, PrincipalResolver, is_own_call
from .recheck import recheck_mismatch, schedule_recheck
from .sink import ResultSink
from .times import hour_of

logger = Logger(service=SERVICE, child=True)

# The Connect calls that make an instance store in a bucket: their caller is who pointed Connect at it.
STORAGE_ASSOCIATIONS = frozenset({"AssociateInstanceStorageConfig", "UpdateInstanceStorageConfig"})


class Enforcer:
    """Built once per execution environment; each call gets the `Invocation` it runs in, and keeps none of it."""

    def __init__(
        self,
        settings: Settings,
        gateway: Gateway,
        *,
        cache_ttl: float = CACHE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        notify: bool = True,
        progress: Callable[[int, int, str], None] | None = None,
        caller_is_enforcer: bool = True,
        findings: Callable[[RunReport, BucketResult], None] | None = None,
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        # Called before each bucket (index, total, bucket) so long runs can show where they are.
        self.progress = progress
        # False on an operator's machine: the enforcer is then the deployed function's role, or not known yet.
        self.caller_is_enforcer = caller_is_enforcer
        self.identity = CachedIdentity(gateway)
        self.principals = PrincipalResolver(gateway, cache_ttl=cache_ttl, clock=clock)
        # Warm invocations reuse the last fresh inventory to find a compliant bucket; never to decide a write.
        self.warm = WarmInventory(gateway, cache_ttl, clock)
        self.index = InventoryIndex(gateway, settings.inventory_table) if settings.inventory_table else None
        self.role_id = role_id_reader(self.principals, self.identity)
        self.lock = BucketLock(
            settings, gateway, self.principals, self.identity, self.warm, self.index, self.role_id, caller_is_enforcer
        )
        self.sink = ResultSink(settings, gateway, self.identity, notify=notify, findings=findings)

    def handle_event(self, event: Any, invocation: Invocation | None = None) -> RunReport:
        """Act on any JSON value. Raises RetryLater only for failures a retry can fix."""
        cause = classify(event)
        if isinstance(cause, Ignored):
            return RunReport(ignored=cause.reason, trigger=cause.trigger)
        try:
            own_call = cause.trigger is not None and self._is_own_call(cause.trigger.actor)
        except RetryableAwsError as error:
            raise RetryLater(RunReport(trigger=cause.trigger, retryable_errors=[error])) from error
        if own_call:
            # The enforcer's own write: it wrote the expected policy, so there is nothing to look at.
            return RunReport(ignored="the call was made by the enforcer's own role", trigger=cause.trigger)
        return self.reconcile(cause, invocation)

    def _is_own_call(self, actor: str | None) -> bool:
        if role_of_session(actor) is None:
            return False
        try:
            identity = self.identity()
        except AwsCallError:
            return False
        return is_own_call(actor, identity, self.settings.enforcer_role_arn, caller_is_enforcer=self.caller_is_enforcer)

    def reconcile(self, cause: Cause, invocation: Invocation | None = None) -> RunReport:
        report = RunReport(trigger=cause.trigger)
        if isinstance(cause, Ignored):
            report.ignored = cause.reason
            return report
        invocation = invocation or Invocation()
        self.principals.begin_invocation()
        if (mismatch := self._unexpected_recheck(cause)) is not None:
            logger.warning("a re-check was ignored", extra={"reason": mismatch})
            report.ignored = mismatch
            return report
        planner = self._planner(invocation)
        try:
            plan = self._plan(planner, cause)
        except RetryableAwsError as error:
            report.retryable_errors.append(error)
            raise RetryLater(report) from error
        except AwsCallError as error:
            # A Connect inventory that cannot be read is a `failed` result, published: enforcement has stopped.
            logger.error("reading the Connect inventory failed", extra={"error": str(error)})
            self.sink.publish(
                report, inventory_failure(cause.bucket if isinstance(cause, BucketChanged) else None, error)
            )
            return self._finish(report)
        report.index_degraded = plan.index_degraded
        if plan.index_degraded:
            logger.warning("the index is not used; deciding from fresh reads", extra={"reason": plan.index_degraded})
        if plan.ignored is not None:
            report.ignored = plan.ignored
            return report
        for result in [*map(unreadable, plan.unreadable), *map(pending, plan.pending), *plan.failures]:
            self.sink.publish(report, result)
        read_now = plan.read_now | ({cause.instance_id} if isinstance(cause, InstanceChanged) else set())
        self._lock_buckets(report, plan, planner, read_now, sweep=isinstance(cause, Sweep))
        if not (report.results or report.retryable_errors or plan.continued):
            report.ignored = f"no bucket in scope is used by a Connect instance in {self.gateway.region} any more"
        report.continued = plan.continued is not None
        self._search_orphans(report, cause, plan)
        self._schedule_rechecks(report, cause, invocation)
        return self._finish(report)

    def _unexpected_recheck(self, cause: Cause) -> str | None:
        """A re-check event must match the re-check the enforcer recorded when it scheduled it (`recheck.py`)."""
        if not (isinstance(cause, InstanceChanged) and cause.trigger and cause.recheck_attempt):
            return None
        if cause.trigger.event_name != RECHECK_DETAIL_TYPE:
            return None
        return recheck_mismatch(self.index, cause.instance_id, cause.recheck_attempt)

    def _planner(self, invocation: Invocation) -> Planner:
        return Planner(
            self.gateway,
            self.index,
            SweepContinuation(self.gateway, invocation, self.index),
            self.role_id,
            cached_inventory=self.warm.cached,
            fresh_inventory=self.warm.read,
        )

    def _plan(self, planner: Planner, cause: Cause) -> Plan:
        if isinstance(cause, BucketChanged):
            plan = planner.for_bucket(cause)
        elif isinstance(cause, InstanceChanged):
            plan = planner.for_instance(cause)
        else:
            assert isinstance(cause, Sweep)
            plan = planner.for_sweep(cause)
        if isinstance(cause, Sweep) and not plan.index_degraded and plan.continued is None:
            self.warm.keep(plan.buckets)
        return plan

    def _lock_buckets(
        self, report: RunReport, plan: Plan, planner: Planner, read_now: frozenset[str], *, sweep: bool
    ) -> None:
        buckets = list(plan.buckets.items())
        for number, (bucket, instances) in enumerate(buckets, start=1):
            indexed = planner.index is not None
            record = plan.sweep_record
            if number > 1 and record and planner.continuation.out_of_time_for_buckets(indexed=indexed):
                try:
                    handed = planner.continuation.hand_over(record, (), record.buckets_done + number - 1)
                except AwsError as error:
                    # The buckets not decided now wait for the next scheduled sweep; people hear of it.
                    self.sink.publish(report, inventory_failure(None, error))
                    return
                if isinstance(handed, BucketResult):
                    self.sink.publish(report, handed)
                else:
                    plan.continued = handed
                return
            if self.progress is not None:
                self.progress(number, len(buckets), bucket)
            try:
                result = self.lock.lock(bucket, instances, plan.source, read_now=read_now, confirm_compliant=not sweep)
            except RetryableAwsError as error:
                logger.warning("retryable failure", extra={"bucket": bucket, "error": str(error)})
                report.retryable_errors.append(error)
                continue
            if result is not None:
                self.sink.publish(report, _first_lock_noted(result, report.trigger))

    def _search_orphans(self, report: RunReport, cause: Cause, plan: Plan) -> None:
        if not (isinstance(cause, Sweep) and cause.scheduled and plan.continued is None):
            return
        hour = hour_of(cause.trigger.time if cause.trigger else None)
        if hour is None or hour == ORPHAN_SEARCH_HOUR or not self.settings.inventory_table:
            try:
                known = plan.known_buckets if plan.known_buckets is not None else set(plan.buckets)
                found = find_orphaned_buckets(self.gateway, self.identity(), known)
            except AwsError as error:
                logger.warning("the orphan search failed", extra={"error": str(error)})
                return
            report.orphaned_buckets = [bucket for bucket, _policy in found]
            for bucket, policy in found:
                self.sink.publish(
                    report,
                    orphaned(bucket, policy, self.identity(), self.gateway.region),
                    alert=orphan_alert_due(self.index, bucket, hour),
                )

    def _schedule_rechecks(self, report: RunReport, cause: Cause, invocation: Invocation) -> None:
        attempt = cause.recheck_attempt if isinstance(cause, InstanceChanged | Sweep) else None
        if attempt is None:
            return
        for result in report.results:
            if result.outcome is Outcome.PENDING:
                instance_id = result.instances[0].id
                sentence = schedule_recheck(
                    self.gateway, self.settings, invocation.function_arn, instance_id, attempt + 1, self.index
                )
                result.reason = f"{result.reason}. {sentence}"

    def _finish(self, report: RunReport) -> RunReport:
        if report.retryable_errors and report.continued:
            # A retry would run this part again and start a second chain of hand-overs; the chain already
            # started covers the rest, and the next scheduled sweep what failed here.
            logger.warning(
                "retryable failures in a sweep that continues", extra={"errors": len(report.retryable_errors)}
            )
        elif report.retryable_errors:
            raise RetryLater(report)
        return report


def _first_lock_noted(result: BucketResult, trigger: Trigger | None) -> BucketResult:
    """The first lock of a bucket that is not named as Connect names its buckets says where the name came from:
    a Connect admin can point an instance's storage at any bucket of the account, and the enforcer then locks it."""
    bucket = result.bucket
    if bucket is None or is_connect_default_name(bucket) or not result.outcome.drifted:
        return result
    if policies.lockdown_of(result.previous_policy) is not None:
        return result
    named_by = ", ".join(i.label() for i in result.instances) or "a Connect instance"
    if trigger is not None and trigger.event_name in STORAGE_ASSOCIATIONS and trigger.actor:
        who = f"{trigger.actor} made that association ({trigger.event_name})"
    else:
        who = "CloudTrail's AssociateInstanceStorageConfig events say who made that association"
    result.reason = (
        f"{result.reason}. First lock of {bucket}, which is not named amazon-connect-*: the storage of "
        f"{named_by} names it, and {who}"
    )
    return result
