"""Grants kept beside the lock that would open the bucket without it, or that it lets through: pure.

The lock denies everyone it does not admit, so most grants beside it are harmless while it stands; they are still
worth a reviewer's eye, because removing the lock (or a service it lets through) opens them. Three kinds:
- `public`: an Allow to `Principal: "*"` (or `{"AWS": "*"}`, or any `NotPrincipal`), unless a condition pins the
  caller to the bucket's own account (`aws:PrincipalAccount`, or `aws:PrincipalArn` ARNs of that account);
- `other-account`: an Allow to an AWS principal of another account (an account ID, a root, role or user ARN of
  another account, a CloudFront origin access identity, a canonical user, a federated principal);
- `service-without-source`: an Allow to a service principal without an `aws:SourceAccount`, `aws:SourceArn` or
  `aws:SourceOrgID` condition. A service acts for every customer; without one of those keys another account's
  resource (a CloudFront distribution, a log delivery) can make it read or write this bucket: the confused deputy
  of IAM User Guide, confused-deputy.html. A service named in EXEMPT_AWS_SERVICES passes the lock, so such a
  grant is open now, not only without the lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from .policy import is_lockdown_statement, statements_of

ExposureKind = Literal["public", "other-account", "service-without-source"]

SOURCE_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"}
# Operators that constrain a key only when it is present and matches: a negated or ...IfExists operator is true
# when the key is absent, so it does not tie the grant to a source (IAM User Guide,
# reference_policies_elements_condition_operators.html).
_POSITIVE_OPERATORS = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
_ACCOUNT_OF_ARN = re.compile(r"^arn:[^:]+:(?:iam|sts)::(?P<account>[^:]+):")


def exposures(policy: Mapping[str, Any] | None, *, account: str) -> list[dict[str, str | None]]:
    """`{"sid", "kind", "principal"}` for every grant of `policy` (as read) beside the lock, in statement order,
    each once. `account` is the bucket's own account."""
    found: list[dict[str, str | None]] = []
    for statement in statements_of(policy):
        if is_lockdown_statement(statement) or statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid") if isinstance(statement.get("Sid"), str) else None
        for kind, principal in _grants(statement, account):
            exposure: dict[str, str | None] = {"sid": sid, "kind": kind, "principal": principal}
            if exposure not in found:
                found.append(exposure)
    return found


def _grants(statement: Mapping[str, Any], account: str) -> Iterator[tuple[ExposureKind, str]]:
    conditions = _positive_conditions(statement.get("Condition"))
    if "NotPrincipal" in statement:
        # An Allow to everyone but the listed: public unless pinned to the account.
        if not _pinned_to(conditions, account):
            yield "public", "*"
        return
    principal = statement.get("Principal")
    if principal == "*":
        if not _pinned_to(conditions, account):
            yield "public", "*"
        return
    if not isinstance(principal, Mapping):
        return
    for kind, values in principal.items():
        for value in values if isinstance(values, list) else [values]:
            if not isinstance(value, str):
                continue
            if kind == "Service":
                if not SOURCE_KEYS & set(conditions):
                    yield "service-without-source", value
            elif kind == "AWS" and value == "*":
                if not _pinned_to(conditions, account):
                    yield "public", "*"
            elif kind != "AWS" or _account_of(value) != account:
                yield "other-account", value


def _account_of(principal: str) -> str | None:
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = _ACCOUNT_OF_ARN.match(principal)
    return match.group("account") if match else None


def _positive_conditions(condition: Any) -> dict[str, set[str]]:
    """Lower-cased condition key -> the values a positive operator requires of it."""
    keys: dict[str, set[str]] = {}
    if not isinstance(condition, Mapping):
        return keys
    for operator, block in condition.items():
        if not isinstance(block, Mapping) or str(operator).lower() not in _POSITIVE_OPERATORS:
            continue
        for key, values in block.items():
            items = values if isinstance(values, list) else [values]
            keys.setdefault(str(key).lower(), set()).update(str(v) for v in items)
    return keys


def _pinned_to(conditions: Mapping[str, set[str]], account: str) -> bool:
    """Whether a positive condition admits only principals of `account`."""
    accounts = conditions.get("aws:principalaccount")
    if accounts and accounts == {account}:
        return True
    arns = conditions.get("aws:principalarn")
    return bool(arns) and all(_account_of(arn) == account for arn in arns or ())
