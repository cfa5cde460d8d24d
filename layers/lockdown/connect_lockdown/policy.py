"""The policy algebra: build, normalise, compare and merge bucket policies.

Pure functions over JSON-like dicts. Nothing here knows about boto3, so every rule can be tested and
property-checked without AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast

LOCKDOWN_SID = "ConnectBucketLockdown"
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


class PolicyError(ValueError):
    """The bucket's current policy cannot be understood, so it cannot be merged without losing data."""


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


class ParsedPolicy(dict[str, Any]):
    """A bucket policy as read. `duplicate_keys` names every JSON key that appeared twice in one object (as
    `Statement[0].Condition.StringNotLike.aws:userId`): such a text can be read more than one way, and which copy
    IAM uses is not documented, so the policy is never equivalent to another (see `equivalent`)."""

    duplicate_keys: tuple[str, ...] = ()


class _Duplicated(dict[str, Any]):
    """A JSON object with a repeated key while parsing: the last copy of each key, and every copy."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.copies: dict[str, list[Any]] = {}
        for key, value in pairs:
            self.copies.setdefault(key, []).append(value)
        self.copies = {key: values for key, values in self.copies.items() if len(values) > 1}


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) == len(pairs):
        return dict(pairs)
    return _Duplicated(pairs)


def _plain(node: Any, path: str, found: list[str]) -> Any:
    """`node` with every `_Duplicated` object turned into a plain dict (its last copies), naming each
    duplicated key in `found`."""
    if isinstance(node, list):
        return [_plain(item, f"{path}[{index}]", found) for index, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if isinstance(node, _Duplicated):
        found.extend(f"{path}.{key}" if path else key for key in node.copies)
    plain = {key: _plain(value, f"{path}.{key}" if path else key, found) for key, value in node.items()}
    if isinstance(node, _Duplicated) and "Sid" in node.copies and plain.get("Sid") == LOCKDOWN_SID:
        others = [sid for sid in node.copies["Sid"] if sid != LOCKDOWN_SID]
        if others:
            # One copy says this is the lock, another that it is not: keep it as somebody else's statement.
            # A rewrite replaces the lock; it must never drop a statement that may not be the lock.
            plain["Sid"] = others[0]
    return plain


def _all_statements(document: _Duplicated, found: list[str]) -> list[Any]:
    """Every statement of every copy of a duplicated `Statement`, each distinct statement once, in order."""
    combined: list[Any] = []
    seen: list[Any] = []
    for index, copy_ in enumerate(document.copies["Statement"]):
        items = copy_ if isinstance(copy_, list) else [copy_]
        for item in _plain(items, f"Statement(copy {index + 1})", found):
            key = canonical_statement(item) if isinstance(item, dict) else item
            if key not in seen:
                seen.append(key)
                combined.append(item)
    return combined


def parse_policy(text: str | None) -> ParsedPolicy | None:
    """Parse a policy document as S3 returns it. None means the bucket has no policy.

    Python's json keeps the last copy of a repeated key silently; IAM does not document which copy it reads. So
    every repeated key is recorded in `duplicate_keys` (the policy is then drift, never compliant) and the
    result keeps one copy of each:
    - a repeated top-level `Statement`: the statements of every copy, each distinct one once, so that a rewrite
      loses none of them;
    - any other repeated key: the last copy, the one JSON parsers (and so the console and the CLI) show, so the
      rewritten policy says explicitly what those tools already showed. The lock itself is rebuilt from what
      AWS says about the bucket's principals, never from this text, so no copy can change who it admits; and a
      statement whose repeated `Sid` is the lock's in one copy only is kept as a foreign statement.
    """
    if text is None:
        return None
    try:
        document = json.loads(text, object_pairs_hook=_object)
    except ValueError as error:
        raise PolicyError(f"the current bucket policy is not valid JSON ({error})") from error
    if not isinstance(document, dict):
        raise PolicyError("the current bucket policy is not a JSON object")
    found: list[str] = []
    statements: Any = None
    if isinstance(document, _Duplicated) and "Statement" in document.copies:
        statements = _all_statements(document, found)
        found.extend(document.copies)
        document = dict(document)
        document["Statement"] = statements
    parsed = ParsedPolicy(cast(dict[str, Any], _plain(document, "", found)))
    parsed.duplicate_keys = tuple(sorted(set(found), key=found.index))
    statements = parsed.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise PolicyError("the current bucket policy has no list of statement objects")
    return parsed


def duplicate_keys_of(policy: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The keys that appeared more than once in the text the policy was parsed from (see `parse_policy`)."""
    return policy.duplicate_keys if isinstance(policy, ParsedPolicy) else ()


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


def serialise(policy: Mapping[str, Any]) -> str:
    """The compact text that is written to S3 and measured against its size limit.

    Non-ASCII characters are written as themselves (smaller), except when the policy holds a lone surrogate
    (read from a JSON escape such as \\ud800), which UTF-8 cannot encode: then every non-ASCII character is
    written as the JSON escape, which reads back the same.
    """
    text = json.dumps(policy, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(policy, separators=(",", ":"), ensure_ascii=True)
    return text


def policy_size(policy: Mapping[str, Any]) -> int:
    return len(serialise(policy).encode("utf-8"))


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
    duplicated = duplicate_keys_of(current)
    if duplicated:
        return [f"the policy repeats the key(s) {', '.join(duplicated)}, which IAM may read either way"]
    if equivalent(current, expected):
        return []
    differences: list[str] = []
    ours = [s for s in statements_of(current) if is_lockdown_statement(s)]
    wanted = next((s for s in statements_of(expected) if is_lockdown_statement(s)), None)
    if not ours:
        differences.append("the lockdown statement is missing")
    elif len(ours) > 1:
        differences.append(f"the lockdown statement appears {len(ours)} times")
    elif wanted is not None:
        have, want = canonical_statement(ours[0]), canonical_statement(wanted)
        for element in ("Effect", "Principal", "Action", "Resource"):
            if have.get(element) != want.get(element):
                differences.append(f"the lockdown statement's {element} differs")
        added = allowed_patterns_of(wanted) - allowed_patterns_of(ours[0])
        added |= admitted_arns_of(wanted) - admitted_arns_of(ours[0])
        removed = allowed_patterns_of(ours[0]) - allowed_patterns_of(wanted)
        removed |= admitted_arns_of(ours[0]) - admitted_arns_of(wanted)
        if added:
            differences.append("allowlist lacks " + named(added))
        if removed:
            differences.append("allowlist has extra " + named(removed))
        if not (added or removed) and have.get("Condition") != want.get("Condition"):
            differences.append("the lockdown statement's Condition differs")
    dropped = len(foreign_statements(current)) - len(foreign_statements(expected))
    if dropped > 0:
        differences.append(f"{dropped} other statement(s) would be removed (MERGE_MODE=replace)")
    return differences or ["the policy differs in form"]
