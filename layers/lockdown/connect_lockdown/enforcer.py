"""Reconcile: read the current state, compute the expected lockdown policy, write it only if safe and needed."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from . import policy as policies
from .aws import AwsCallError, AwsGateway, CallerIdentity, RetryableAwsError
from .config import ROLE_ARN, USER_ARN, Settings
from .events import EventHint, Scope, Trigger, classify
from .inventory import ConnectInstance, Inventory, read_inventory
from .notify import notification

logger = logging.getLogger(__name__)

Outcome = Literal["compliant", "remediated", "would_remediate", "refused", "pending", "failed"]
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
    def __init__(self, settings: Settings, gateway: AwsGateway) -> None:
        self.settings = settings
        self.gateway = gateway
        self._identity: CallerIdentity | None = None

    # --- entry points -------------------------------------------------------------------------------

    def handle_event(self, event: Any) -> RunReport:
        """Act on any JSON value. Raises RetryLater only for failures a retry can fix."""
        hint = classify(event)
        if hint.ignored is not None or hint.scope is None:
            return RunReport(ignored=hint.ignored or "nothing to do", trigger=hint.trigger)
        if hint.trigger is not None and self._is_own_call(hint.trigger.actor):
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
        try:
            inventory = read_inventory(self.gateway)
            targets = self._targets(hint.scope, inventory, report)
        except RetryableAwsError as error:
            report.retryable_errors.append(error)
            raise RetryLater(report) from error
        except AwsCallError as error:
            report.results.append(
                BucketResult(hint.scope.bucket, "failed", [], f"Reading the Connect inventory failed: {error}")
            )
            self._publish(report, report.results[-1])
            return report
        if report.ignored is not None:
            return report
        for bucket, instances in targets.items():
            try:
                result = self.reconcile_bucket(bucket, instances)
            except RetryableAwsError as error:
                logger.warning("retryable failure on bucket %s: %s", bucket, error)
                report.retryable_errors.append(error)
                continue
            report.results.append(result)
            self._publish(report, result)
        if report.retryable_errors:
            raise RetryLater(report)
        return report

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

    def reconcile_bucket(self, bucket: str, instances: list[ConnectInstance]) -> BucketResult:
        """Bring one bucket to its expected policy. Every read here is fresh; nothing comes from a cache."""
        instance_ids = [i.id for i in instances]
        try:
            identity = self.identity()
            own_pattern = self._own_pattern(identity)
            patterns = self._allowed_patterns(instances, identity, own_pattern)
            statement = policies.lockdown_statement(bucket, identity.partition, patterns)
            current_text = self.gateway.get_bucket_policy(bucket, identity.account)
        except RefusedError as refusal:
            return BucketResult(bucket, "refused", instance_ids, str(refusal))
        except RetryableAwsError:
            raise
        except AwsCallError as error:
            return BucketResult(bucket, "failed", instance_ids, _failure_reason(bucket, error))

        try:
            current = policies.parse_policy(current_text)
        except policies.PolicyError as error:
            return BucketResult(
                bucket,
                "refused",
                instance_ids,
                f"{error}; fix or delete the policy of {bucket} by hand, the enforcer will not overwrite it",
            )
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

    # --- principals -------------------------------------------------------------------------------

    def identity(self) -> CallerIdentity:
        # The caller's own identity cannot drift under a running execution environment, so it is cached.
        if self._identity is None:
            self._identity = self.gateway.caller_identity()
        return self._identity

    def _own_pattern(self, identity: CallerIdentity) -> str:
        if self.settings.enforcer_role_arn:
            return policies.allowed_user_id_pattern(
                self._resolve(Principal(self.settings.enforcer_role_arn, "the enforcer's role"), identity)
            )
        if identity.user_id == identity.account:
            return identity.account
        # A role session's userId is "<role id>:<session>"; a user's is its bare id.
        return policies.allowed_user_id_pattern(identity.user_id.split(":", 1)[0])

    def _allowed_patterns(
        self, instances: list[ConnectInstance], identity: CallerIdentity, own_pattern: str
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
                resolved[principal.arn] = self._resolve(principal, identity)
            patterns.add(policies.allowed_user_id_pattern(resolved[principal.arn]))
        return patterns

    def _resolve(self, principal: Principal, identity: CallerIdentity) -> str:
        """The principal's unique ID, fresh from IAM; RefusedError when it cannot be resolved."""
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

    def _publish(self, report: RunReport, result: BucketResult) -> None:
        if result.outcome not in NOTIFIED_OUTCOMES:
            return
        identity = self.identity()
        subject, body, attributes = notification(
            identity.account, self.gateway.region, report.trigger, result.to_dict()
        )
        self.gateway.publish(self.settings.topic_arn, subject, body, attributes)


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
