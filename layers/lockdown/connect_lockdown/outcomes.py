"""What a decision ends in: the Outcome enum, one bucket's result and one run's report.

Other code reads these fields (outcome, error code, instances); the human `reason` is rendered for people
and never parsed back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .aws import RetryableAwsError
from .events import Trigger


class Outcome(StrEnum):
    COMPLIANT = "compliant"
    REMEDIATED = "remediated"
    WOULD_REMEDIATE = "would_remediate"
    REFUSED = "refused"
    PENDING = "pending"
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
        return f"{self.alias} ({self.id})" if self.alias else self.id


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
            f"{_plural(self.checked, 'bucket')} checked: {self.count(Outcome.COMPLIANT)} compliant, "
            f"{self.count(Outcome.REMEDIATED)} remediated, {self.count(Outcome.WOULD_REMEDIATE)} would remediate, "
            f"{self.count(Outcome.REFUSED)} refused, {failed} failed; "
            f"{_plural(self.pending_instances, 'instance')} pending; "
            f"{_plural(self.orphaned_buckets, 'locked bucket')} without instances"
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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

    def counts(self) -> SweepCounts:
        counts = SweepCounts(orphaned_buckets=len(self.orphaned_buckets), retryable_failures=len(self.retryable_errors))
        for result in self.results:
            if result.outcome is Outcome.PENDING:
                counts.pending_instances += 1
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
