"""Reconcile: read the current state, compute the expected lockdown policy, write it only if safe and needed."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from . import policy as policies
from .aws import AwsCallError, AwsGateway, CallerIdentity, RetryableAwsError
from .config import ROLE_ARN, USER_ARN, Settings
from .events import MAX_RECHECK_ATTEMPTS, EventHint, Scope, Trigger, classify, recheck_event
from .inventory import MAX_PARALLEL_INSTANCES, ConnectInstance, Inventory, read_inventory
from .notify import notification

logger = logging.getLogger(__name__)

Outcome = Literal["compliant", "remediated", "would_remediate", "refused", "pending", "failed"]
RECHECK_DELAY_MINUTES = 3
# How long a warm execution environment trusts its cached inventory and principal IDs to confirm compliance.
CACHE_TTL_SECONDS = 300.0
NOTIFIED_OUTCOMES = frozenset({"remediated", "would_remediate", "refused", "failed"})


@dataclass
class BucketResult:
    bucket: str | None
    outcome: Outcome
    instances: list[str]
    reason: str
    previous_policy: dict[str, Any] | None = None
    applied_policy: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "outcome": self.outcome,
            "instances": self.instances,
            "reason": self.reason,
            "previous_policy": self.previous_policy,
            "applied_policy": self.applied_policy,
        }


@dataclass
class RunReport:
    """What one event or sweep did: the CONTRACT.md result document plus the errors a retry may fix."""

    results: list[BucketResult] = field(default_factory=list)
    ignored: str | None = None
    trigger: Trigger | None = None
    retryable_errors: list[RetryableAwsError] = field(default_factory=list)
    # Buckets that carry the lockdown but that no Connect instance uses any more (sweeps only).
    orphaned_buckets: list[str] = field(default_factory=list)

    def summary(self, seconds: float) -> str:
        """One line for the end of a log: buckets checked and what happened to them."""
        counts = {outcome: 0 for outcome in ("compliant", "remediated", "would_remediate", "refused", "failed")}
        buckets = [r for r in self.results if r.bucket is not None]
        for result in buckets:
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
        pending = sum(1 for r in self.results if r.outcome == "pending")
        return (
            f"{len(buckets)} buckets checked: {counts['compliant']} compliant, {counts['remediated']} remediated, "
            f"{counts['would_remediate']} would remediate, {counts['refused']} refused, "
            f"{counts['failed'] + len(self.retryable_errors)} failed; {pending} instances pending; "
            f"{len(self.orphaned_buckets)} locked buckets without instances; {seconds:.1f} s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": [r.to_dict() for r in self.results],
            "ignored": self.ignored,
            "trigger": self.trigger.to_dict() if self.trigger else None,
        }


class RefusedError(Exception):
    """Writing would be unsafe; the message says what to fix."""


class RetryLater(Exception):
    """Some AWS calls failed in a way a retry can fix. Results that did complete were already published."""

    def __init__(self, report: RunReport) -> None:
        errors = "; ".join(str(e) for e in report.retryable_errors)
        super().__init__(f"{len(report.retryable_errors)} AWS call(s) failed and may succeed on retry: {errors}")
        self.report = report


@dataclass(frozen=True)
class Principal:
    arn: str
    purpose: str


class Enforcer:
    def __init__(
        self,
        settings: Settings,
        gateway: AwsGateway,
        *,
        cache_ttl: float = CACHE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        notify: bool = True,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> None:
        self.settings = settings
        # The command line's read-only audit and plan publish nothing.
        self.notify = notify
        # Called before each bucket (index, total, bucket) so long runs can show where they are.
        self.progress = progress
        self.gateway = gateway
        self.cache_ttl = cache_ttl
        self._clock = clock
        self._identity: CallerIdentity | None = None
        # The deployed function's own ARN (from the Lambda context): the target of pending re-checks.
        self.function_arn: str | None = None
        # Warm invocations reuse these to find a compliant bucket with one read; never to decide a write.
        self._inventory_cache: tuple[float, Inventory] | None = None
        # arn -> (when read, unique id, the bucket decision that read it from IAM)
        self._principal_ids: dict[str, tuple[float, str, int]] = {}
        self._decision = 0

    # --- entry points -------------------------------------------------------------------------------

    def handle_event(self, event: Any) -> RunReport:
        """Act on any JSON value. Raises RetryLater only for failures a retry can fix."""
        hint = classify(event)
        if hint.ignored is not None or hint.scope is None:
            return RunReport(ignored=hint.ignored or "nothing to do", trigger=hint.trigger)
        try:
            own_call = hint.trigger is not None and self._is_own_call(hint.trigger.actor)
        except RetryableAwsError as error:
            raise RetryLater(RunReport(trigger=hint.trigger, retryable_errors=[error])) from error
        if own_call:
            # The enforcer's own write: it wrote the expected policy, so there is nothing to look at.
            return RunReport(ignored="the call was made by the enforcer's own role", trigger=hint.trigger)
        return self.reconcile(hint)

    def _is_own_call(self, actor: str | None) -> bool:
        actor_role = role_of_session(actor)
        if actor_role is None:
            return False
        try:
            identity = self.identity()
        except RetryableAwsError:
            raise
        except AwsCallError:
            return False
        own_roles = {role_of_session(identity.arn)}
        if self.settings.enforcer_role_arn:
            match = ROLE_ARN.match(self.settings.enforcer_role_arn)
            if match:
                own_roles.add((match.group("account"), match.group("name")))
        return actor_role in own_roles

    def reconcile(self, hint: EventHint) -> RunReport:
        report = RunReport(trigger=hint.trigger)
        assert hint.scope is not None
        # A bucket event trusts the cached inventory to find the bucket's instances; events about instances
        # (and sweeps) are about the inventory itself, so they read it fresh. Writes always re-read it.
        try:
            inventory, fresh = self._inventory(fresh=hint.scope.kind != "bucket")
            targets = self._targets(hint.scope, inventory, report)
        except RetryableAwsError as error:
            report.retryable_errors.append(error)
            raise RetryLater(report) from error
        except AwsCallError as error:
            reason = f"Reading the Connect inventory failed: {error}"
            logger.error(reason)
            if hint.scope.bucket is None:
                # A result needs a bucket (CONTRACT.md); with none in sight the event cannot be acted on.
                report.ignored = f"{reason}; fix the enforcer's Connect permissions"
                return report
            failure = BucketResult(hint.scope.bucket, "failed", [], reason)
            report.results.append(failure)
            self._publish_safely(report, failure)
            return self._finish(report)
        for index, (bucket, instances) in enumerate(targets.items(), start=1):
            if self.progress is not None:
                self.progress(index, len(targets), bucket)
            try:
                result = self.reconcile_bucket(bucket, instances, inventory_is_fresh=fresh)
            except RetryableAwsError as error:
                logger.warning("retryable failure on bucket %s: %s", bucket, error)
                report.retryable_errors.append(error)
                continue
            if result is not None:
                report.results.append(result)
                self._publish_safely(report, result)
        if not report.results and report.ignored is None and not report.retryable_errors:
            report.ignored = f"no bucket in scope is used by a Connect instance in {self.gateway.region} any more"
        if hint.find_orphans:
            report.orphaned_buckets = self.find_orphaned_buckets(set(targets))
        if hint.recheck_attempt is not None:
            for result in report.results:
                if result.outcome == "pending":
                    result.reason += " " + self._schedule_recheck(result.instances[0], hint.recheck_attempt + 1)
        return self._finish(report)

    def find_orphaned_buckets(self, connect_buckets: set[str]) -> list[str]:
        """Buckets in the Region that still carry our lockdown statement although no instance uses them.

        Deleting an instance is not an error: its bucket keeps its lock, and the sweep reports it so that
        someone decides whether to keep or retire it. Costs ListBuckets plus one GetBucketPolicy per other
        bucket; a missing s3:ListAllMyBuckets permission only skips the report.
        """
        try:
            identity = self.identity()
            candidates = [b for b in self.gateway.list_bucket_names() if b not in connect_buckets]
        except AwsCallError as error:
            logger.warning("could not look for locked buckets without instances: %s", error)
            return []

        def carries_lockdown(bucket: str) -> bool:
            try:
                current = policies.parse_policy(self.gateway.get_bucket_policy(bucket, identity.account))
            except (AwsCallError, policies.PolicyError):
                return False
            return any(policies.is_lockdown_statement(s) for s in policies.statements_of(current))

        with ThreadPoolExecutor(max_workers=MAX_PARALLEL_INSTANCES) as pool:
            flags = list(pool.map(carries_lockdown, candidates))
        orphans = sorted(b for b, flag in zip(candidates, flags, strict=True) if flag)
        for bucket in orphans:
            logger.warning("bucket %s carries the lockdown but no Connect instance uses it any more", bucket)
        return orphans

    def _schedule_recheck(self, instance_id: str, attempt: int) -> str:
        """Ask EventBridge Scheduler to send a re-check of a pending instance; returns a sentence for the reason.

        Storage usually arrives minutes after CreateInstance, one AssociateInstanceStorageConfig per resource
        type. Should that event be lost, the re-check still locks the bucket within RECHECK_DELAY_MINUTES of
        the association, for up to MAX_RECHECK_ATTEMPTS re-checks; the sweep covers anything later.
        """
        settings = self.settings
        if attempt > MAX_RECHECK_ATTEMPTS:
            return "No more re-checks are scheduled; the sweep locks the bucket once storage exists."
        if not (settings.recheck_schedule_group and settings.recheck_role_arn and self.function_arn):
            return "No re-check is configured; the sweep locks the bucket once storage exists."
        when = datetime.now(UTC) + timedelta(minutes=RECHECK_DELAY_MINUTES)
        at = when.strftime("%Y-%m-%dT%H:%M:%S")
        payload = recheck_event(instance_id, attempt, str(uuid.uuid4()), when.strftime("%Y-%m-%dT%H:%M:%SZ"))
        try:
            self.gateway.create_one_time_schedule(
                name=f"recheck-{instance_id}-{attempt}",
                group=settings.recheck_schedule_group,
                at=at,
                target_arn=self.function_arn,
                role_arn=settings.recheck_role_arn,
                payload=payload,
            )
        except AwsCallError as error:
            if error.code == "ConflictException":
                return f"Re-check {attempt} was already scheduled."
            logger.warning("could not schedule re-check %s of %s: %s", attempt, instance_id, error)
            return f"Scheduling a re-check failed ({error.code}); the sweep locks the bucket once storage exists."
        return f"Re-check {attempt} of {MAX_RECHECK_ATTEMPTS} is scheduled for {at}Z."

    def _finish(self, report: RunReport) -> RunReport:
        if report.retryable_errors:
            raise RetryLater(report)
        return report

    def inventory(self, *, fresh: bool) -> Inventory:
        """The Connect inventory: from the cache when allowed and young enough, else read and cached."""
        return self._inventory(fresh=fresh)[0]

    def _inventory(self, *, fresh: bool) -> tuple[Inventory, bool]:
        """(inventory, whether it was read from AWS just now)."""
        now = self._clock()
        if not fresh and self._inventory_cache is not None:
            read_at, cached = self._inventory_cache
            if now - read_at < self.cache_ttl:
                return cached, False
        inventory = read_inventory(self.gateway)
        self._inventory_cache = (now, inventory)
        return inventory, True

    # --- scope ------------------------------------------------------------------------------------

    def _targets(self, scope: Scope, inventory: Inventory, report: RunReport) -> dict[str, list[ConnectInstance]]:
        by_bucket = inventory.bucket_instances()
        if scope.kind == "bucket":
            assert scope.bucket is not None
            if scope.bucket not in by_bucket:
                report.ignored = f"bucket {scope.bucket} is not used by any Connect instance in {self.gateway.region}"
                return {}
            return {scope.bucket: by_bucket[scope.bucket]}
        if scope.kind == "instance":
            assert scope.instance_id is not None
            instance = inventory.instance(scope.instance_id)
            if instance is None:
                report.ignored = f"Connect instance {scope.instance_id} does not exist in {self.gateway.region}"
                return {}
            if not instance.buckets:
                report.results.append(_pending(instance))
            return {b: by_bucket[b] for b in sorted(instance.buckets)}
        for instance in inventory.instances:
            if not instance.buckets:
                report.results.append(_pending(instance))
        return by_bucket

    # --- one bucket -------------------------------------------------------------------------------

    def reconcile_bucket(
        self, bucket: str, instances: list[ConnectInstance], *, inventory_is_fresh: bool = True
    ) -> BucketResult | None:
        """Bring one bucket to its expected policy; None when the bucket turns out not to be Connect's.

        The bucket policy is always read fresh. A bucket that already matches the policy expected from cached
        principal IDs is compliant at the cost of that one read. Anything else is decided from a fresh
        inventory and freshly resolved IDs, never from a cache.
        """
        instance_ids = [i.id for i in instances]
        # IDs read from IAM during this decision count as fresh for it: each role is read at most once.
        self._decision += 1
        try:
            identity = self.identity()
        except RetryableAwsError:
            raise
        except AwsCallError as error:
            return BucketResult(bucket, "failed", instance_ids, _failure_reason(bucket, error))
        read = self._read_policy(bucket, identity, instance_ids)
        if isinstance(read, BucketResult):
            return read
        current = read

        if current is not None and self._matches_cached_expectation(bucket, instances, identity, current):
            return BucketResult(bucket, "compliant", instance_ids, f"{bucket} carries the expected lockdown", current)

        if not inventory_is_fresh:
            instances = self.inventory(fresh=True).bucket_instances().get(bucket, [])
            if not instances:
                return None
            instance_ids = [i.id for i in instances]
        try:
            own_pattern = self._own_pattern(identity, fresh=True)
            patterns = self._allowed_patterns(instances, identity, own_pattern, fresh=True)
        except RefusedError as refusal:
            return BucketResult(bucket, "refused", instance_ids, str(refusal), current)
        except RetryableAwsError:
            raise
        except AwsCallError as error:
            return BucketResult(bucket, "failed", instance_ids, _failure_reason(bucket, error), current)
        statement = policies.lockdown_statement(bucket, identity.partition, patterns)
        # The inventory and IAM reads took time: merge with the policy as it is now, so that a write made
        # meanwhile keeps its statements. S3 has no conditional PutBucketPolicy; this is the shortest window.
        read = self._read_policy(bucket, identity, instance_ids)
        if isinstance(read, BucketResult):
            return read
        current = read
        expected = policies.merge(current, statement, self.settings.merge_mode)

        if current is not None and policies.equivalent(current, expected):
            return BucketResult(bucket, "compliant", instance_ids, f"{bucket} carries the expected lockdown", current)

        size = policies.policy_size(expected)
        if size > policies.MAX_POLICY_BYTES:
            return BucketResult(
                bucket,
                "refused",
                instance_ids,
                f"the merged policy would be {size} bytes, over S3's {policies.MAX_POLICY_BYTES}-byte limit; "
                "remove other statements from the bucket policy or set MERGE_MODE=replace",
                current,
            )
        missing = {identity.account, own_pattern} - policies.allowed_patterns_of(statement)
        if missing:
            return BucketResult(
                bucket,
                "refused",
                instance_ids,
                f"the policy would not admit {', '.join(sorted(missing))}; refusing a write that could lock out "
                "the enforcer or the account",
                current,
            )

        drift = _describe_drift(current)
        if self.settings.dry_run:
            return BucketResult(
                bucket,
                "would_remediate",
                instance_ids,
                f"{drift}; DRY_RUN is on, nothing was written",
                current,
                expected,
            )
        try:
            self.gateway.put_bucket_policy(bucket, identity.account, policies.serialise(expected))
        except RetryableAwsError:
            raise
        except AwsCallError as error:
            return BucketResult(bucket, "failed", instance_ids, _failure_reason(bucket, error), current)
        return BucketResult(
            bucket, "remediated", instance_ids, f"{drift}; the expected lockdown policy was written", current, expected
        )

    def _read_policy(
        self, bucket: str, identity: CallerIdentity, instance_ids: list[str]
    ) -> dict[str, Any] | BucketResult | None:
        """The bucket's policy, fresh from S3 (None: no policy), or the result that ends the decision."""
        try:
            text = self.gateway.get_bucket_policy(bucket, identity.account)
        except RetryableAwsError:
            raise
        except AwsCallError as error:
            return BucketResult(bucket, "failed", instance_ids, _failure_reason(bucket, error))
        try:
            return policies.parse_policy(text)
        except policies.PolicyError as error:
            return BucketResult(
                bucket,
                "refused",
                instance_ids,
                f"{error}; fix or delete the policy of {bucket} by hand, the enforcer will not overwrite it",
            )

    def _matches_cached_expectation(
        self, bucket: str, instances: list[ConnectInstance], identity: CallerIdentity, current: dict[str, Any]
    ) -> bool:
        """Whether the policy already is what cached principal IDs expect. Only ever answers 'no write'."""
        try:
            own_pattern = self._own_pattern(identity, fresh=False)
            patterns = self._allowed_patterns(instances, identity, own_pattern, fresh=False)
        except (RefusedError, AwsCallError):
            return False
        statement = policies.lockdown_statement(bucket, identity.partition, patterns)
        return policies.equivalent(current, policies.merge(current, statement, self.settings.merge_mode))

    # --- principals -------------------------------------------------------------------------------

    def identity(self) -> CallerIdentity:
        # The caller's own identity cannot drift under a running execution environment, so it is cached.
        if self._identity is None:
            self._identity = self.gateway.caller_identity()
        return self._identity

    def _own_pattern(self, identity: CallerIdentity, *, fresh: bool) -> str:
        if self.settings.enforcer_role_arn:
            principal = Principal(self.settings.enforcer_role_arn, "the enforcer's role")
            return policies.allowed_user_id_pattern(self._resolve(principal, identity, fresh=fresh))
        if identity.user_id == identity.account:
            return identity.account
        # A role session's userId is "<role id>:<session>"; a user's is its bare id.
        return policies.allowed_user_id_pattern(identity.user_id.split(":", 1)[0])

    def _allowed_patterns(
        self, instances: list[ConnectInstance], identity: CallerIdentity, own_pattern: str, *, fresh: bool
    ) -> set[str]:
        principals: list[Principal] = []
        for instance in instances:
            if not instance.service_role_arn:
                raise RefusedError(
                    f"Connect instance {instance.label()} reports no service role yet; nothing was written. "
                    "Wait for the instance to finish creating, then the next event or sweep locks the bucket"
                )
            principals.append(
                Principal(instance.service_role_arn, f"service role of Connect instance {instance.label()}")
            )
        principals += [Principal(arn, "ADMIN_ROLE_ARNS") for arn in self.settings.admin_role_arns]
        principals += [Principal(arn, "EXTRA_PRINCIPAL_ARNS") for arn in self.settings.extra_principal_arns]
        patterns = {identity.account, own_pattern}
        resolved: dict[str, str] = {}
        for principal in principals:
            if principal.arn not in resolved:
                resolved[principal.arn] = self._resolve(principal, identity, fresh=fresh)
            patterns.add(policies.allowed_user_id_pattern(resolved[principal.arn]))
        return patterns

    def _resolve(self, principal: Principal, identity: CallerIdentity, *, fresh: bool) -> str:
        """The principal's unique ID from IAM (or the cache, when not fresh); RefusedError when unresolvable."""
        cached = self._principal_ids.get(principal.arn)
        if cached is not None:
            read_at, unique_id, decision = cached
            if decision == self._decision or (not fresh and self._clock() - read_at < self.cache_ttl):
                return unique_id
        unique_id = self._resolve_in_iam(principal, identity)
        self._principal_ids[principal.arn] = (self._clock(), unique_id, self._decision)
        return unique_id

    def _resolve_in_iam(self, principal: Principal, identity: CallerIdentity) -> str:
        match = ROLE_ARN.match(principal.arn) or USER_ARN.match(principal.arn)
        if match is None:
            raise RefusedError(
                f"{principal.arn} ({principal.purpose}) is not an IAM role or user ARN; nothing was written"
            )
        if match.group("account") != identity.account:
            raise RefusedError(
                f"{principal.arn} ({principal.purpose}) belongs to account {match.group('account')}, not "
                f"{identity.account}; its unique ID cannot be resolved here, so nothing was written"
            )
        name = match.group("name")
        try:
            if ":role/" in principal.arn:
                return self.gateway.role_id(name)
            return self.gateway.user_id(name)
        except RetryableAwsError:
            raise
        except AwsCallError as error:
            kind = "role" if ":role/" in principal.arn else "user"
            raise RefusedError(
                f"could not resolve {principal.arn} ({principal.purpose}) to its unique ID: {error.code}. "
                f"Recreate the {kind} or correct the ARN; nothing was written, because a policy without it "
                "would lock it out"
            ) from error

    # --- alerts -----------------------------------------------------------------------------------

    def _publish_safely(self, report: RunReport, result: BucketResult) -> None:
        """Publish; a failure is logged and raised for retry after the other buckets were handled."""
        try:
            self._publish(report, result)
        except AwsCallError as error:
            logger.error("publishing the %s result for %s failed: %s", result.outcome, result.bucket, error)
            retryable = (
                error
                if isinstance(error, RetryableAwsError)
                else RetryableAwsError(error.operation, error.code, error.message)
            )
            report.retryable_errors.append(retryable)

    def _publish(self, report: RunReport, result: BucketResult) -> None:
        if not self.notify or result.outcome not in NOTIFIED_OUTCOMES:
            return
        identity = self.identity()
        cached = self._inventory_cache[1].instances if self._inventory_cache else ()
        message = notification(
            identity.account,
            self.gateway.region,
            report.trigger,
            result.to_dict(),
            instance_aliases={i.id: i.alias for i in cached if i.alias},
        )
        self.gateway.publish(self.settings.topic_arn, message)


_ASSUMED_ROLE = re.compile(r"^arn:[\w-]+:sts::(?P<account>\d{12}):assumed-role/(?P<name>[^/]+)/[^/]+$")


def role_of_session(arn: str | None) -> tuple[str, str] | None:
    """(account, role name) of an assumed-role session ARN; None for anything else."""
    match = _ASSUMED_ROLE.match(arn or "")
    return (match.group("account"), match.group("name")) if match else None


def _pending(instance: ConnectInstance) -> BucketResult:
    return BucketResult(
        None,
        "pending",
        [instance.id],
        f"Connect instance {instance.label()} has no S3 storage yet; its bucket is locked once storage is associated",
    )


def _describe_drift(current: dict[str, Any] | None) -> str:
    if current is None:
        return "the bucket had no policy"
    ours = [s for s in policies.statements_of(current) if policies.is_lockdown_statement(s)]
    if not ours:
        return "the lockdown statement was missing"
    if len(ours) > 1:
        return "the lockdown statement was duplicated"
    return "the lockdown statement had drifted"


def _failure_reason(bucket: str, error: AwsCallError) -> str:
    if error.code == "NoSuchBucket":
        return f"{error.operation} failed: bucket {bucket} no longer exists (NoSuchBucket)"
    if error.code in ("AccessDenied", "AccessDeniedException"):
        return (
            f"{error.operation} failed on {bucket}: AccessDenied; the enforcer's role needs s3:{error.operation} "
            "on the bucket, the bucket policy must admit it, and the bucket must belong to this account"
        )
    return f"{error.operation} failed on {bucket}: {error.code}: {error.message}"
