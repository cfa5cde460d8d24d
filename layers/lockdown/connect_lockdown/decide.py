"""The decision for one bucket, pure: the policy as read, the expected statement and the settings in; what to
do out. No AWS call, so every rule is testable without moto."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import policy as policies
from .outcomes import Outcome


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    # The policy to write (remediated) or that would be written (would_remediate); None otherwise.
    expected: dict[str, Any] | None = None


def decide(
    bucket: str,
    current: dict[str, Any] | None,
    statement: dict[str, Any],
    *,
    merge_mode: policies.MergeMode,
    dry_run: bool,
    required: frozenset[str],
) -> Decision:
    """Compliant, a write (remediated, or would_remediate on a dry run), or a refusal.

    `required` are the allowlist entries a written policy must never lack (the account and the enforcer). A
    policy read from a text with a repeated JSON key is never compliant (`policy.parse_policy`): IAM may read
    either copy, so the enforcer writes one.
    """
    expected = policies.merge(current, statement, merge_mode)
    if current is not None and policies.equivalent(current, expected):
        return Decision(Outcome.COMPLIANT, f"{bucket} carries the expected lockdown")
    size = policies.policy_size(expected)
    if size > policies.MAX_POLICY_BYTES:
        return Decision(
            Outcome.REFUSED,
            f"the merged policy would be {size} bytes, over S3's {policies.MAX_POLICY_BYTES}-byte limit; "
            "remove other statements from the bucket policy or set MERGE_MODE=replace",
        )
    missing = required - policies.allowed_patterns_of(statement)
    if missing:
        return Decision(
            Outcome.REFUSED,
            f"the policy would not admit {', '.join(sorted(missing))}; refusing a write that could lock out "
            "the enforcer or the account",
        )
    drift = describe_drift(current)
    if dry_run:
        return Decision(Outcome.WOULD_REMEDIATE, f"{drift}; DRY_RUN is on, nothing was written", expected)
    return Decision(Outcome.REMEDIATED, f"{drift}; the expected lockdown policy was written", expected)


def describe_drift(current: dict[str, Any] | None) -> str:
    if current is None:
        return "the bucket had no policy"
    duplicated = policies.duplicate_keys_of(current)
    if duplicated:
        return f"the policy repeated the JSON key(s) {', '.join(duplicated)}, which IAM may read either way"
    ours = [s for s in policies.statements_of(current) if policies.is_lockdown_statement(s)]
    if not ours:
        return "the lockdown statement was missing"
    if len(ours) > 1:
        return "the lockdown statement was duplicated"
    return "the lockdown statement had drifted"


def describe_differences(
    current: Mapping[str, Any] | None, expected: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[str]:
    """Short human sentences for what separates the current policy from the expected one.

    `names` (allowlist entry -> who it is) turns IDs into something a reviewer can act on.
    """
    names = names or {}

    def named(values: Iterable[str]) -> str:
        return ", ".join(f"{v} ({names[v]})" if v in names else v for v in sorted(values))

    if current is None:
        return ["the bucket has no policy"]
    duplicated = policies.duplicate_keys_of(current)
    if duplicated:
        return [f"the policy repeats the key(s) {', '.join(duplicated)}, which IAM may read either way"]
    if policies.equivalent(current, expected):
        return []
    differences: list[str] = []
    ours = [s for s in policies.statements_of(current) if policies.is_lockdown_statement(s)]
    wanted = next((s for s in policies.statements_of(expected) if policies.is_lockdown_statement(s)), None)
    if not ours:
        differences.append("the lockdown statement is missing")
    elif len(ours) > 1:
        differences.append(f"the lockdown statement appears {len(ours)} times")
    elif wanted is not None:
        have, want = policies.canonical_statement(ours[0]), policies.canonical_statement(wanted)
        for element in ("Effect", "Principal", "Action", "Resource"):
            if have.get(element) != want.get(element):
                differences.append(f"the lockdown statement's {element} differs")
        added = policies.allowed_patterns_of(wanted) - policies.allowed_patterns_of(ours[0])
        added |= policies.admitted_arns_of(wanted) - policies.admitted_arns_of(ours[0])
        removed = policies.allowed_patterns_of(ours[0]) - policies.allowed_patterns_of(wanted)
        removed |= policies.admitted_arns_of(ours[0]) - policies.admitted_arns_of(wanted)
        if added:
            differences.append("allowlist lacks " + named(added))
        if removed:
            differences.append("allowlist has extra " + named(removed))
        if not (added or removed) and have.get("Condition") != want.get("Condition"):
            differences.append("the lockdown statement's Condition differs")
    dropped = len(policies.foreign_statements(current)) - len(policies.foreign_statements(expected))
    if dropped > 0:
        differences.append(f"{dropped} other statement(s) would be removed (MERGE_MODE=replace)")
    return differences or ["the policy differs in form"]
