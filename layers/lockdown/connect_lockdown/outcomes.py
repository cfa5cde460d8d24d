"""What a decision ends in: the Outcome enum, one bucket's result and one run's report, and the results that
are not a bucket decision (pending and unreadable instances, an inventory that cannot be read).

Other code reads these fields (outcome, error code, instances); the human `reason` is rendered for people
and never parsed back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .aws import AwsCallError, AwsError, CallerIdentity, RetryableAwsError
from .events import Trigger
from .exposures import exposures
from .inventory import ConnectInstance
from .labels import instance_label, plural


class Outcome(StrEnum):
    COMPLIANT = "compliant"
    REMEDIATED = "remediated"
    WOULD_REMEDIATE = "would_remediate"
    REFUSED = "refused"
    PENDING = "pending"
    # The bucket carries this lockdown but no Connect instance stores in it any more: nothing is written.
    ORPHANED = "orphaned"
    FAILED = "failed"

    @property
    def notified(self) -> bool:
        """Whether people hear about it: every outcome but compliant and pending."""
        return self not in (Outcome.COMPLIANT, Outcome.PENDING)

    @property
    def drifted(self) -> bool:
        return self in (Outcome.REMEDIATED, Outcome.WOULD_REMEDIATE)


@dataclass(frozen=True)
class InstanceRef:
    """A Connect instance as results show it: its id, and its alias when known."""

    id: str
    alias: str | None = None

    def label(self) -> str:
        return instance_label(self.id, self.alias)


@dataclass
class BucketResult:
    bucket: str | None
    outcome: Outcome
    instances: tuple[InstanceRef, ...]
    reason: str
    previous_policy: dict[str, Any] | None = None
    applied_policy: dict[str, Any] | None = None
    # AWS's error code for `failed` (AccessDenied, NoSuchBucket, ...): what code branches on, not the reason.
    error_code: str | None = None
    # allowlist pattern (aws:userId value or role ARN) -> who it is, for people reading a diff.
    principal_names: Mapping[str, str] = field(default_factory=dict)
    # Grants kept beside the lock that would open the bucket without it, or that it lets through
    # (exposures.py): {"sid", "kind", "principal"} each.
    exposures: tuple[Mapping[str, str | None], ...] = ()

    @property
    def instance_ids(self) -> list[str]:
        return [i.id for i in self.instances]

    @property
    def access_denied(self) -> bool:
        return self.error_code in ("AccessDenied", "AccessDeniedException")

    def to_dict(self) -> dict[str, Any]:
        """The result document of docs/interface.md."""
        return {
            "bucket": self.bucket,
            "outcome": str(self.outcome),
            "instances": self.instance_ids,
            "reason": self.reason,
            "previous_policy": self.previous_policy,
            "applied_policy": self.applied_policy,
            "exposures": [dict(e) for e in self.exposures],
        }


@dataclass
class SweepCounts:
    """How many buckets a run checked and what became of them: the end-of-run log line and the CLI summary."""

    checked: int = 0
    by_outcome: dict[Outcome, int] = field(default_factory=dict)
    pending_instances: int = 0
    orphaned_buckets: int = 0
    retryable_failures: int = 0

    def count(self, outcome: Outcome) -> int:
        return self.by_outcome.get(outcome, 0)

    def sentence(self) -> str:
        failed = self.count(Outcome.FAILED) + self.retryable_failures
        return (
            f"{plural(self.checked, 'bucket')} checked: {self.count(Outcome.COMPLIANT)} compliant, "
            f"{self.count(Outcome.REMEDIATED)} remediated, {self.count(Outcome.WOULD_REMEDIATE)} would remediate, "
            f"{self.count(Outcome.REFUSED)} refused, {failed} failed; "
            f"{plural(self.pending_instances, 'instance')} pending; "
            f"{plural(self.orphaned_buckets, 'locked bucket')} without instances"
        )


@dataclass(frozen=True)
class UnsentAlert:
    """The alert of one result that SNS refused, and why: the call is named, never "try again"."""

    bucket: str | None
    outcome: Outcome
    error: AwsCallError

    def __str__(self) -> str:
        operation = self.error.operation
        call = f"{'sns:' if operation == 'Publish' else ''}{operation} failed: {self.error.code}: {self.error.message}"
        return f"the {self.outcome} alert of {self.bucket or 'the run'} was not sent: {call}"


@dataclass
class RunReport:
    """What one event or sweep did: the result document plus the errors a retry may fix."""

    results: list[BucketResult] = field(default_factory=list)
    ignored: str | None = None
    trigger: Trigger | None = None
    retryable_errors: list[RetryableAwsError] = field(default_factory=list)
    # Buckets that carry the lockdown but that no Connect instance uses any more (sweeps only).
    orphaned_buckets: list[str] = field(default_factory=list)
    # Set when a sweep handed the rest of its work to another invocation.
    continued: bool = False
    # Set when the index could not be used and the decision was made from fresh reads instead.
    index_degraded: str | None = None
    # Alerts SNS refused for a reason a retry will not fix (access denied, a missing topic).
    unsent_alerts: list[UnsentAlert] = field(default_factory=list)

    def counts(self) -> SweepCounts:
        counts = SweepCounts(orphaned_buckets=len(self.orphaned_buckets), retryable_failures=len(self.retryable_errors))
        for result in self.results:
            if result.outcome is Outcome.PENDING:
                counts.pending_instances += 1
            elif result.outcome is Outcome.ORPHANED:
                continue  # counted as `orphaned_buckets`: a locked bucket without instances is not one checked
            elif result.bucket is not None:
                counts.checked += 1
                counts.by_outcome[result.outcome] = counts.by_outcome.get(result.outcome, 0) + 1
            else:
                counts.by_outcome[result.outcome] = counts.by_outcome.get(result.outcome, 0) + 1
        return counts

    def summary(self, seconds: float) -> str:
        """One line for the end of a log: buckets checked and what happened to them."""
        return f"{self.counts().sentence()}; {seconds:.1f} s"

    def to_dict(self) -> dict[str, Any]:
        return {
            "results": [r.to_dict() for r in self.results],
            "ignored": self.ignored,
            "trigger": self.trigger.to_dict() if self.trigger else None,
        }


class RetryLater(Exception):
    """Some AWS calls failed in a way a retry can fix. Results that did complete were already published."""

    def __init__(self, report: RunReport) -> None:
        errors = "; ".join(str(e) for e in report.retryable_errors)
        super().__init__(f"{len(report.retryable_errors)} AWS call(s) failed and may succeed on retry: {errors}")
        self.report = report


class AlertsNotSent(Exception):
    """SNS refused alerts for a reason a retry will not fix. Every bucket was handled; people were not told."""

    def __init__(self, report: RunReport) -> None:
        super().__init__("; ".join(str(a) for a in report.unsent_alerts))
        self.report = report


def pending(instance: ConnectInstance) -> BucketResult:
    return BucketResult(
        None,
        Outcome.PENDING,
        (InstanceRef(instance.id, instance.alias),),
        f"Connect instance {instance.label()} has no S3 storage yet; its bucket is locked once storage is associated",
    )


def unreadable(instance: ConnectInstance) -> BucketResult:
    """An instance some of whose storage could not be read: its other buckets are still decided."""
    types = sorted(instance.unreadable_types)
    first = instance.unreadable_types[types[0]]
    return BucketResult(
        None,
        Outcome.FAILED,
        (InstanceRef(instance.id, instance.alias),),
        f"ListInstanceStorageConfigs failed for Connect instance {instance.label()} on {', '.join(types)}: "
        f"{first.code}: {first.message}. Buckets of these resource types are not enforced until the enforcer's "
        "role can read them.",
        error_code=first.code,
    )


def failure_reason(bucket: str, error: AwsCallError) -> str:
    if error.code == "NoSuchBucket":
        return f"{error.operation} failed: bucket {bucket} no longer exists (NoSuchBucket)"
    if error.access_denied:
        return (
            f"{error.operation} failed on {bucket}: AccessDenied; the enforcer's role needs s3:{error.operation} "
            "on the bucket, the bucket policy must admit it, and the bucket must belong to this account"
        )
    return f"{error.operation} failed on {bucket}: {error.code}: {error.message}"


def inventory_failure(bucket: str | None, error: AwsError) -> BucketResult:
    """A Connect inventory that cannot be read (or a sweep that cannot hand over): enforcement has stopped."""
    if error.operation == "Invoke":
        reason = (
            f"The sweep could not hand the rest of its instances to a new invocation: {error}. Check the "
            "function's lambda:InvokeFunction permission on itself; the next scheduled sweep starts over."
        )
    else:
        reason = (
            f"Reading the Connect inventory failed: {error}. Enforcement is stopped until the enforcer's role "
            "can read Connect (check its permissions, SCPs and permissions boundaries)."
        )
    return BucketResult(bucket, Outcome.FAILED, (), reason, error_code=error.code)


def orphaned(bucket: str, policy: dict[str, Any], identity: CallerIdentity, region: str) -> BucketResult:
    """A bucket that carries this lockdown although no Connect instance stores in it any more: nothing is written,
    because removing a lock is a person's decision (a bucket may still hold recordings)."""
    reason = (
        f"{bucket} carries the Connect lockdown but no Connect instance in {region} stores in it any more; nothing "
        f"was written. Keep the lock while the bucket holds recordings, or remove it: "
        f"connect-lockdown unlock --bucket {bucket}"
    )
    found = tuple(exposures(policy, account=identity.account))
    return BucketResult(bucket, Outcome.ORPHANED, (), reason, policy, exposures=found)
