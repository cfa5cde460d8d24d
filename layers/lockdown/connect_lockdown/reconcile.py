"""The orchestration: event -> targets -> fresh reads -> decision -> write -> alert.

Deciding is pure (`decide.py`), finding the targets is `targets.py`, who is admitted is `principals.py`; this
module runs them in order and turns AWS errors into outcomes at one boundary: a permanent error becomes a
`failed` result, a temporary one is collected and raised as `RetryLater` once every other bucket is handled.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

from . import policy as policies
from .arns import role_of_session
from .aws import AwsCallError, AwsError, CallerIdentity, Gateway, RetryableAwsError
from .config import Settings
from .decide import decide
from .events import BucketChanged, Cause, Ignored, InstanceChanged, Sweep, classify, hour_of
from .index import IndexUnavailable, InventoryIndex, kept_connect_patterns
from .inventory import ConnectInstance, WarmInventory, reread_unless_stored_in
from .log import SERVICE
from .notify import notification
from .orphans import find_orphaned_buckets
from .outcomes import BucketResult, InstanceRef, Outcome, RetryLater, RunReport
from .principals import (
    CACHE_TTL_SECONDS,
    Allowlist,
    Principal,
    PrincipalResolver,
    RefusedError,
    build_allowlist,
    connect_principals,
    is_own_call,
    own_principal,
)
from .recheck import schedule_recheck
from .results import failure_reason, inventory_failure, pending, unreadable
from .service_roles import SERVICE_LINKED_ROLES
from .targets import Plan, Planner

logger = Logger(service=SERVICE, child=True)

# The orphan search costs a read of every bucket in the Region: once a day, on the sweep of this UTC hour.
ORPHAN_SEARCH_HOUR = 0


class Enforcer:
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
    ) -> None:
        self.settings = settings
        self.gateway = gateway
        # The command line's read-only audit and plan publish nothing.
        self.notify = notify
        # Called before each bucket (index, total, bucket) so long runs can show where they are.
        self.progress = progress
        # False on an operator's machine: the enforcer is then the deployed function's role, or not known yet.
        self.caller_is_enforcer = caller_is_enforcer
        self.principals = PrincipalResolver(gateway, cache_ttl=cache_ttl, clock=clock)
        self._identity: CallerIdentity | None = None
        # The deployed function's own ARN and time left (Lambda's context): re-checks and continued sweeps.
        self.function_arn: str | None = None
        self.time_left: Callable[[], float] | None = None
        # Warm invocations reuse the last fresh inventory to find a compliant bucket; never to decide a write.
        self.warm = WarmInventory(gateway, cache_ttl, clock)
        self.findings: Callable[[RunReport, BucketResult], None] | None = None

    # --- entry points -------------------------------------------------------------------------------

    def handle_event(self, event: Any) -> RunReport:
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
        return self.reconcile(cause)

    def identity(self) -> CallerIdentity:
        # The caller's own identity cannot drift under a running execution environment, so it is cached.
        if self._identity is None:
            self._identity = self.gateway.caller_identity()
        return self._identity

    def _is_own_call(self, actor: str | None) -> bool:
        if role_of_session(actor) is None:
            return False
        try:
            identity = self.identity()
        except AwsCallError:
            return False
        return is_own_call(actor, identity, self.settings.enforcer_role_arn, caller_is_enforcer=self.caller_is_enforcer)

    def reconcile(self, cause: Cause) -> RunReport:
        report = RunReport(trigger=cause.trigger)
        if isinstance(cause, Ignored):
            report.ignored = cause.reason
            return report
        planner = self._planner()
        try:
            plan = self._plan(planner, cause)
        except RetryableAwsError as error:
            report.retryable_errors.append(error)
            raise RetryLater(report) from error
        except AwsCallError as error:
            return self._inventory_failed(report, cause, error)
        report.index_degraded = plan.index_degraded
        if plan.index_degraded:
            logger.warning("the index is not used; deciding from fresh reads", extra={"reason": plan.index_degraded})
        if plan.ignored is not None:
            report.ignored = plan.ignored
            return report
        for instance in plan.unreadable:
            self._add(report, unreadable(instance))
        for instance in plan.pending:
            self._add(report, pending(instance))
        self._decide_buckets(report, plan, planner)
        if not (report.results or report.retryable_errors or plan.continued):
            report.ignored = f"no bucket in scope is used by a Connect instance in {self.gateway.region} any more"
        report.continued = plan.continued is not None
        self._after(report, cause, plan)
        return self._finish(report)

    def _planner(self) -> Planner:
        table = self.settings.inventory_table
        return Planner(
            self.gateway,
            InventoryIndex(self.gateway, table) if table else None,
            self.principals,
            self.identity,
            time_left=self.time_left,
            function_arn=self.function_arn,
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

    def _inventory_failed(self, report: RunReport, cause: Cause, error: AwsCallError) -> RunReport:
        """A Connect inventory that cannot be read is a `failed` result, published: enforcement has stopped."""
        bucket = cause.bucket if isinstance(cause, BucketChanged) else None
        logger.error("reading the Connect inventory failed", extra={"error": str(error)})
        self._add(report, inventory_failure(bucket, error))
        return self._finish(report)

    def _decide_buckets(self, report: RunReport, plan: Plan, planner: Planner) -> None:
        buckets = list(plan.buckets.items())
        for number, (bucket, instances) in enumerate(buckets, start=1):
            if number > 1 and plan.sweep_cursor is not None and planner.out_of_time_for_buckets():
                cursor = plan.sweep_cursor
                done = cursor.buckets_done + number - 1
                plan.continued = dataclasses.replace(cursor, part=cursor.part + 1, buckets_done=done)
                try:
                    planner.hand_over(plan.continued)
                except AwsError as error:
                    # The buckets not decided now wait for the next scheduled sweep; people hear of it.
                    self._add(report, inventory_failure(None, error))
                return
            if self.progress is not None:
                self.progress(number, len(buckets), bucket)
            try:
                result = self.reconcile_bucket(bucket, instances, planner=planner, plan=plan)
            except RetryableAwsError as error:
                logger.warning("retryable failure", extra={"bucket": bucket, "error": str(error)})
                report.retryable_errors.append(error)
                continue
            if result is not None:
                self._add(report, result)

    def _after(self, report: RunReport, cause: Cause, plan: Plan) -> None:
        if isinstance(cause, Sweep) and cause.scheduled and plan.continued is None:
            hour = hour_of(cause.trigger.time if cause.trigger else None)
            if hour is None or hour == ORPHAN_SEARCH_HOUR or not self.settings.inventory_table:
                try:
                    known = plan.known_buckets if plan.known_buckets is not None else set(plan.buckets)
                    report.orphaned_buckets = find_orphaned_buckets(self.gateway, self.identity(), known)
                except AwsError as error:
                    logger.warning("the orphan search failed", extra={"error": str(error)})
        attempt = cause.recheck_attempt if isinstance(cause, InstanceChanged | Sweep) else None
        if attempt is not None:
            for result in report.results:
                if result.outcome is Outcome.PENDING:
                    sentence = schedule_recheck(
                        self.gateway, self.settings, self.function_arn, result.instances[0].id, attempt + 1
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

    # --- one bucket -------------------------------------------------------------------------------

    def reconcile_bucket(
        self, bucket: str, instances: list[ConnectInstance], *, planner: Planner | None = None, plan: Plan | None = None
    ) -> BucketResult | None:
        """Bring one bucket to its expected policy; None when the bucket turns out not to be Connect's.

        The policy is always read fresh. A bucket that matches the policy expected from cached principal IDs is
        compliant at the cost of that one read. Anything else is decided from fresh reads, never a cache.
        """
        from_index = plan is not None and plan.from_index
        result = self._decide_bucket(bucket, instances, cached=plan is not None and plan.cached, from_index=from_index)
        if not (from_index and planner and plan and result and result.outcome is Outcome.REMEDIATED):
            return result
        # Decided from the index: check fresh that each instance it named still stores in the bucket (stopping at
        # the first resource type that names it); record those that do not, and decide again without them.
        named = [i for i in instances if i.id not in plan.fresh_ids]
        try:
            fresh = [f for i in named if (f := reread_unless_stored_in(self.gateway, i, bucket)) is not None]
            if not fresh:
                return result
            planner.record(fresh, {f.id: frozenset({bucket}) for f in fresh})
        except (AwsError, IndexUnavailable) as error:
            # The write stands and is reported; the check after it is best effort, and the sweep corrects the rest.
            logger.warning("the check after a write decided from the index failed", extra={"error": str(error)})
            return result
        # An instance one of whose types could not be read may still store there: it stays admitted.
        moved = {f.id for f in fresh if not f.unreadable_types}
        still = [i for i in instances if i.id not in moved]
        again = self._decide_bucket(bucket, still, cached=False, from_index=True) if still else None
        if again is not None and again.outcome is not Outcome.COMPLIANT:
            return again
        result.instances = tuple(InstanceRef(i.id, i.alias) for i in still)
        return result

    def _decide_bucket(
        self, bucket: str, instances: list[ConnectInstance], *, cached: bool, from_index: bool
    ) -> BucketResult | None:
        refs = tuple(InstanceRef(i.id, i.alias) for i in instances)
        self.principals.begin_decision()
        current: dict[str, Any] | None = None
        try:
            identity = self.identity()
            # The policy and the principals' IDs do not depend on each other: read them side by side (in a new
            # execution environment the IDs come from IAM; warm, from the cache, at no cost).
            with ThreadPoolExecutor(max_workers=2) as pool:
                expected = pool.submit(self._cached_allowlist, instances, identity)
                current = self._read_policy(bucket, identity)
                matched = None if current is None else self._matches(bucket, identity, current, expected.result())
            if matched is not None:
                reason = f"{bucket} carries the expected lockdown"
                return BucketResult(bucket, Outcome.COMPLIANT, refs, reason, current, principal_names=matched.names)
            if cached:
                instances = self.warm.read().bucket_instances().get(bucket, [])
                if not instances:
                    return None
                refs = tuple(InstanceRef(i.id, i.alias) for i in instances)
            allowlist = self._allowlist(instances, identity, fresh=True)
            keep = self._kept_connect_ids(current) if from_index else set()
            statement = self._statement(bucket, identity, allowlist, keep)
            # The inventory and IAM reads took time: merge with the policy as it is now, so that a write made
            # meanwhile keeps its statements. S3 has no conditional PutBucketPolicy; this is the shortest window.
            current = self._read_policy(bucket, identity)
        except RefusedError as refusal:
            return BucketResult(bucket, Outcome.REFUSED, refs, str(refusal), current)
        except _UnreadablePolicy as refusal:
            return BucketResult(bucket, Outcome.REFUSED, refs, str(refusal))
        except AwsCallError as error:
            return BucketResult(bucket, Outcome.FAILED, refs, failure_reason(bucket, error), error_code=error.code)
        decision = decide(
            bucket,
            current,
            statement,
            merge_mode=self.settings.merge_mode,
            dry_run=self.settings.dry_run,
            required=allowlist.required,
        )
        result = BucketResult(bucket, decision.outcome, refs, decision.reason, current, decision.expected)
        result.principal_names = allowlist.names
        if decision.outcome is Outcome.REMEDIATED and decision.expected is not None:
            try:
                self.gateway.put_bucket_policy(bucket, identity.account, policies.serialise(decision.expected))
            except AwsCallError as error:
                return BucketResult(
                    bucket, Outcome.FAILED, refs, failure_reason(bucket, error), current, error_code=error.code
                )
        return result

    def _read_policy(self, bucket: str, identity: CallerIdentity) -> dict[str, Any] | None:
        """The bucket's policy, fresh from S3 (None: no policy)."""
        text = self.gateway.get_bucket_policy(bucket, identity.account)
        try:
            return policies.parse_policy(text)
        except policies.PolicyError as error:
            raise _UnreadablePolicy(
                f"{error}; fix or delete the policy of {bucket} by hand, the enforcer will not overwrite it"
            ) from error

    def _allowlist(self, instances: list[ConnectInstance], identity: CallerIdentity, *, fresh: bool) -> Allowlist:
        principals = connect_principals(instances)
        principals += [Principal(arn, "ADMIN_ROLE_ARNS") for arn in self.settings.admin_role_arns]
        principals += [Principal(arn, "EXTRA_PRINCIPAL_ARNS") for arn in self.settings.extra_principal_arns]
        enforcer = own_principal(identity, self.settings.enforcer_role_arn)
        if not self.caller_is_enforcer and not self.settings.enforcer_role_arn:
            enforcer = None
        return build_allowlist(
            self.principals,
            identity,
            principals,
            enforcer,
            fresh=fresh,
            caller_is_enforcer=self.caller_is_enforcer,
            service_linked_roles=[SERVICE_LINKED_ROLES[s] for s in self.settings.admit_service_linked_roles],
        )

    def _statement(self, bucket: str, identity: CallerIdentity, allowlist: Allowlist, keep: set[str]) -> dict[str, Any]:
        return policies.lockdown_statement(
            bucket,
            identity.partition,
            allowlist.patterns | keep,
            enforcer_arn=allowlist.enforcer_arn,
            exempt_aws_services=self.settings.exempt_aws_services,
        )

    def _kept_connect_ids(self, current: dict[str, Any] | None) -> set[str]:
        table = self.settings.inventory_table
        return kept_connect_patterns(InventoryIndex(self.gateway, table), current) if table else set()

    def _cached_allowlist(self, instances: list[ConnectInstance], identity: CallerIdentity) -> Allowlist | None:
        """The allowlist from cached principal IDs (read from IAM when not cached); None when it cannot be had."""
        try:
            return self._allowlist(instances, identity, fresh=False)
        except (RefusedError, AwsError):
            return None

    def _matches(
        self, bucket: str, identity: CallerIdentity, current: dict[str, Any], allowlist: Allowlist | None
    ) -> Allowlist | None:
        """The allowlist when the policy already is what it expects, else None. Only ever answers 'no write';
        the allowlist names the principals of a compliant result."""
        if allowlist is None:
            return None
        statement = self._statement(bucket, identity, allowlist, set())
        if policies.equivalent(current, policies.merge(current, statement, self.settings.merge_mode)):
            return allowlist
        return None

    # --- alerts -----------------------------------------------------------------------------------

    def _add(self, report: RunReport, result: BucketResult) -> None:
        """Record a result, publish it when people should hear of it, and report it to Security Hub."""
        report.results.append(result)
        if self.findings is not None:
            self.findings(report, result)
        if not self.notify or not result.outcome.notified:
            return
        try:
            message = notification(
                self.identity().account,
                self.gateway.region,
                report.trigger,
                result.to_dict(),
                instance_aliases={i.id: i.alias for i in result.instances if i.alias},
                principal_names=result.principal_names,
            )
            self.gateway.publish(self.settings.topic_arn, message)
        except AwsError as error:
            # Raised for retry after the other buckets were handled; the retry finds the same end state.
            logger.error("publishing a result failed", extra={"bucket": result.bucket, "error": str(error)})
            report.retryable_errors.append(RetryableAwsError(error.operation, error.code, error.message))


class _UnreadablePolicy(Exception):
    """The bucket's policy cannot be parsed: merging it could lose statements, so nothing is written."""
