"""The policy algebra: build, normalise, compare and merge bucket policies.

Pure functions over JSON-like dicts. Nothing here knows about boto3, so every rule can be tested and
property-checked without AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

# Reading and writing the text of a policy (parse_policy, serialise) lives in policy_text; re-exported here, the
# one name the rest of the library uses for the policy algebra.
from .policy_text import (
    LOCKDOWN_SID,
    ParsedPolicy,
    PolicyError,
    duplicate_keys_of,
    parse_policy,
    policy_size,
    serialise,
)

__all__ = [
    "LOCKDOWN_SID",
    "ParsedPolicy",
    "PolicyError",
    "duplicate_keys_of",
    "parse_policy",
    "policy_size",
    "serialise",
]

POLICY_VERSION = "2012-10-17"
# S3 rejects bucket policies larger than 20 KB.
MAX_POLICY_BYTES = 20 * 1024

USER_ID_KEY = "aws:userId"
PRINCIPAL_ARN_KEY = "aws:PrincipalArn"
# Present only when an AWS service principal itself makes the request (never for IAM principals, service roles,
# service-linked roles or anonymous requesters): IAM User Guide, reference_policies_condition-keys.html,
# "aws:PrincipalServiceName", whose own example is this StringNotEqualsIfExists form.
SERVICE_NAME_KEY = "aws:PrincipalServiceName"
# What EXEMPT_AWS_SERVICES=true means: Amazon Connect's recording ingestion, acting as its service principal.
CONNECT_SERVICE = "connect.amazonaws.com"

MergeMode = Literal["preserve", "replace"]
Policy = dict[str, Any]
Statement = dict[str, Any]


def allowed_user_id_pattern(unique_id: str) -> str:
    """The `aws:userId` pattern that admits a principal with this unique ID.

    A role session's userId is `AROA...:<session>`, so roles need the `:*` suffix; a user's userId is its
    bare `AIDA...` ID, and the account root's is the account ID.
    """
    if unique_id.startswith("AROA"):
        return f"{unique_id}:*"
    return unique_id


def bucket_arns(bucket: str, partition: str) -> list[str]:
    return [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"]


def lockdown_statement(
    bucket: str,
    partition: str,
    allowed_patterns: Iterable[str],
    *,
    enforcer_arn: str | None = None,
    exempt_aws_services: bool | Iterable[str] = False,
) -> Statement:
    """The one Deny statement of AWS's guidance for the Amazon Connect bucket, with two additions.

    A Deny applies only when every condition block is true, so each block is one more way to be admitted:
    - `StringNotLike aws:userId`: the guidance's allowlist of unique IDs;
    - `ArnNotEquals aws:PrincipalArn`: the enforcer's role by ARN, so a stack deployed again (same role ARN,
      new unique ID) keeps control of the buckets it locked;
    - `StringNotEqualsIfExists aws:PrincipalServiceName`: the AWS services named in `exempt_aws_services`
      (True: Connect's alone), acting with their own service principal, are not denied; any other service is.
    Each operator is negated or `...IfExists`, so a key absent from the request makes its block true. An anonymous
    request carries `aws:userId` `anonymous` (IAM's principal key values) or, in older descriptions, no
    `aws:userId`; it has no `aws:PrincipalArn` and no `aws:PrincipalServiceName`. Either way every block is true
    and it is denied.
    """
    patterns = sorted(set(allowed_patterns))
    if not patterns:
        raise ValueError("a lockdown statement needs at least one allowed principal")
    condition: dict[str, Any] = {"StringNotLike": {USER_ID_KEY: patterns}}
    if enforcer_arn:
        condition["ArnNotEquals"] = {PRINCIPAL_ARN_KEY: [enforcer_arn]}
    services = exempt_service_names(exempt_aws_services)
    if services:
        condition["StringNotEqualsIfExists"] = {SERVICE_NAME_KEY: services}
    return {
        "Sid": LOCKDOWN_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": bucket_arns(bucket, partition),
        "Condition": condition,
    }


def exempt_service_names(exempt: bool | Iterable[str]) -> list[str]:
    """The service principals a lock lets through: True means Connect's alone, False none."""
    if exempt is True:
        return [CONNECT_SERVICE]
    if exempt is False:
        return []
    return sorted(set(exempt))


def statements_of(policy: Mapping[str, Any] | None) -> list[Statement]:
    if policy is None:
        return []
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        return [statements]
    return list(statements)


def is_lockdown_statement(statement: Mapping[str, Any]) -> bool:
    return statement.get("Sid") == LOCKDOWN_SID


def merge(current: Policy | None, statement: Statement, mode: MergeMode) -> Policy:
    """The policy the bucket should carry.

    `preserve` keeps every foreign statement unchanged and in order, puts ours where the first copy of it
    stood (or last), and collapses duplicates of our Sid. `replace` keeps our statement alone.
    """
    if mode == "replace" or current is None:
        return {"Version": POLICY_VERSION, "Statement": [statement]}
    # Keep the document's own Version and Id: foreign statements may rely on them.
    merged: Policy = {"Version": current.get("Version", POLICY_VERSION)}
    if "Id" in current:
        merged["Id"] = current["Id"]
    result: list[Statement] = []
    placed = False
    for existing in statements_of(current):
        if is_lockdown_statement(existing):
            if not placed:
                result.append(statement)
                placed = True
            continue
        result.append(existing)
    if not placed:
        result.append(statement)
    merged["Statement"] = result
    return merged


def foreign_statements(policy: Mapping[str, Any] | None) -> list[Statement]:
    return [s for s in statements_of(policy) if not is_lockdown_statement(s)]


# Element values whose comparison ignores case (IAM treats action names and condition keys that way).
_CASE_INSENSITIVE_VALUES = {"Action", "NotAction"}


def _canonical_value(value: Any, *, lower: bool = False) -> Any:
    """A string and a one-item list mean the same; list order and duplicates don't matter.

    Whitespace inside a value is kept: IAM matches "AROAX:* " and "AROAX:*" differently, so a padded
    allowlist entry locks its principal out and must count as drift.
    """
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted({v.lower() if lower else v for v in value})
    if isinstance(value, list):
        return sorted((_canonical_value(v) for v in value), key=_sort_key)
    if isinstance(value, dict):
        return {k: _canonical_value(v) for k, v in value.items()}
    return value


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _canonical_principal(principal: Any) -> Any:
    canonical = _canonical_value(principal)
    # "*", {"AWS": "*"} and an AWS list that holds "*" (even twice, or beside others) all mean everyone.
    if canonical == ["*"] or (isinstance(canonical, dict) and set(canonical) == {"AWS"} and "*" in canonical["AWS"]):
        return "*"
    return canonical


def _canonical_condition(condition: Any) -> Any:
    if not isinstance(condition, dict):
        return _canonical_value(condition)
    canonical: dict[str, Any] = {}
    for operator, block in condition.items():
        if isinstance(block, dict):
            # Condition key names are case-insensitive in IAM, but two spellings of one key in a block are two
            # conditions, ANDed: {"aws:userId": [...], "AWS:USERID": ["AROAINTRUDER:*"]} under StringNotLike
            # admits the intruder. So spellings are grouped by key, never merged or dropped.
            keys: dict[str, list[Any]] = {}
            for key, values in block.items():
                keys.setdefault(key.lower(), []).append(_canonical_value(values))
            canonical[operator] = {key: sorted(values, key=_sort_key) for key, values in keys.items()}
        else:
            canonical[operator] = _canonical_value(block)
    return canonical


def canonical_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    canonical: dict[str, Any] = {}
    for key, value in statement.items():
        if key in ("Principal", "NotPrincipal"):
            canonical[key] = _canonical_principal(value)
        elif key == "Condition":
            canonical[key] = _canonical_condition(value)
        elif key in _CASE_INSENSITIVE_VALUES:
            canonical[key] = _canonical_value(value, lower=True)
        elif key in ("Sid", "Effect"):
            canonical[key] = value
        else:
            canonical[key] = _canonical_value(value)
    return canonical


def canonical_policy(policy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A form in which two policies are equal exactly when they mean the same.

    Statement order, list order and duplicates, a string versus a one-item list, JSON whitespace (outside
    strings), the case of action names and of condition key names do not matter.
    """
    if policy is None:
        return None
    canonical: dict[str, Any] = {k: v for k, v in policy.items() if k != "Statement"}
    canonical["Statement"] = sorted((canonical_statement(s) for s in statements_of(policy)), key=_sort_key)
    return canonical


def equivalent(left: Mapping[str, Any] | None, right: Mapping[str, Any] | None) -> bool:
    """Whether two policies mean the same. A policy read from a text with a repeated key means nothing for sure,
    so it is equivalent to no policy, itself included: a lock read that way is always rewritten."""
    if duplicate_keys_of(left) or duplicate_keys_of(right):
        return False
    return canonical_policy(left) == canonical_policy(right)


def _condition_values(statement: Mapping[str, Any], operator: str, key: str) -> set[str]:
    condition = statement.get("Condition")
    if not isinstance(condition, dict):
        return set()
    block = condition.get(operator)
    if not isinstance(block, dict):
        return set()
    for name, values in block.items():
        if name.lower() == key.lower():
            items = values if isinstance(values, list) else [values]
            return {v for v in items if isinstance(v, str)}
    return set()


def allowed_patterns_of(statement: Mapping[str, Any]) -> set[str]:
    """The `aws:userId` patterns a lockdown statement admits."""
    return _condition_values(statement, "StringNotLike", USER_ID_KEY)


def admitted_arns_of(statement: Mapping[str, Any]) -> set[str]:
    """The role ARNs a lockdown statement admits by `aws:PrincipalArn`."""
    return _condition_values(statement, "ArnNotEquals", PRINCIPAL_ARN_KEY)


def lockdown_of(policy: Mapping[str, Any] | None) -> Statement | None:
    """Our statement in a policy, when there is exactly one."""
    ours = [s for s in statements_of(policy) if is_lockdown_statement(s)]
    return ours[0] if len(ours) == 1 else None
