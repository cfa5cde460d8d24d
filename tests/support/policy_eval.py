"""Independent evaluator for S3 bucket policies (resource-based policies), for tests only.

moto stores bucket policies but does not evaluate their conditions, so tests use this module to
prove what a written policy *does*. It is deliberately written from the AWS IAM documentation
alone, without reading the policy builder under ``layers/`` or ``functions/``, so that a bug in
the builder cannot be mirrored here.

What it answers
---------------
``evaluate_bucket_policy(policy, request)`` returns the decision of **this one resource-based
policy on its own**:

* ``"explicit_deny"`` - at least one ``Deny`` statement applies to the request (a Deny wins over
  any Allow, wherever it is in the policy);
* ``"allow"`` - no Deny applies and at least one ``Allow`` statement applies;
* ``"implicit_deny"`` - no statement applies.

It does not model identity-based policies, SCPs/RCPs, permission boundaries, session policies,
ACLs, S3 Block Public Access or Object Ownership. In particular ``"allow"`` for an *account*
principal only means "the bucket policy delegates to that account"; real access would also need
an identity-based Allow in that account.

Request context that is built (see "Principal key values" in the policy-variables page and the
global condition keys page)::

    principal            aws:userid               aws:PrincipalArn               aws:username  aws:PrincipalType
    role session         ROLEID:session-name      arn:P:iam::ACCT:role/PATH/NAME  (absent)      AssumedRole
    IAM user             AIDA... (unique id)      arn:P:iam::ACCT:user/PATH/NAME  user name     User
    account root user    ACCT                     arn:P:iam::ACCT:root            (absent)      Account

plus ``aws:PrincipalAccount`` = ACCT for all three, and any ``extra_context`` given by the test.
Condition key *names* are matched case-insensitively.

Implemented subset of IAM policy semantics
------------------------------------------
* ``Version`` "2012-10-17", "2008-10-17" or absent. ``Statement`` as one object or a list.
  Unknown statement members raise ``UnsupportedPolicyElement`` (so a typo such as "Conditions"
  cannot be silently ignored).
* ``Effect``: "Allow" / "Deny".
* ``Principal``: ``"*"``; ``{"AWS": "*"}`` (equivalent to ``"*"``); ``{"AWS": x | [x, ...]}`` with
  x a 12-digit account id or ``arn:P:iam::ACCT:root`` (both delegate to *every* principal of the
  account, not just the root user), an IAM role ARN (matches every session of that role), an
  assumed-role session ARN (that session only), an IAM user ARN, or an STS federated-user ARN
  (never matches the principals this module can model). ``Service`` and ``Federated`` principals
  never match an IAM user/role/root request. ``CanonicalUser``, unique principal ids (AROA.../AIDA...)
  and any partial wildcard in a principal raise ``UnsupportedPolicyElement``. Principal ARNs are
  compared exactly (case-sensitive), so a Deny naming a mis-cased ARN does *not* deny.
* ``NotPrincipal`` (only with ``Deny``; with ``Allow`` it is unsupported by AWS and raises here).
  AWS may check the account, then the role, then the session, so the documented worst case is
  modelled: a request escapes the Deny only if **every** entity of its chain is listed - account
  (id or root ARN) + role ARN + session ARN for a role session, account + user ARN for a user,
  the account for the root user.
* ``Action`` / ``NotAction``: string or list; ``*`` (any run) and ``?`` (one character) wildcards;
  matching is case-insensitive for both the service prefix and the action name.
* ``Resource`` / ``NotResource``: string or list; case-sensitive; ``*`` and ``?`` match within one
  colon-delimited ARN segment, except that a ``*`` that is the last character of a segment may
  expand beyond colon boundaries, and the resource part (after the fifth colon) is a single
  segment in which colons are ordinary characters (S3 object keys may contain colons).
* ``Condition``: all operators ANDed; all keys of one operator ANDed; several values of one key
  ORed, and NORed for negated operators. Implemented operators: ``StringEquals``,
  ``StringNotEquals``, ``StringEqualsIgnoreCase``, ``StringNotEqualsIgnoreCase``, ``StringLike``,
  ``StringNotLike`` (``*``/``?`` anywhere, case-sensitive), ``ArnEquals``/``ArnLike`` and
  ``ArnNotEquals``/``ArnNotLike`` (each of the six colon-delimited components matched separately,
  case-sensitive), ``Bool``, ``Null``, and the ``...IfExists`` form of all of them except ``Null``.
  Missing key: positive operators are false, negated operators are true, ``...IfExists`` is true.
  Anything else - Numeric*, Date*, IpAddress/NotIpAddress, Binary*, ``ForAnyValue:`` /
  ``ForAllValues:`` set operators, policy variables (``${...}``, in a 2012-10-17 policy) -
  raises ``UnsupportedPolicyElement`` rather than guessing.
* The whole policy is parsed and validated before it is evaluated, so an unsupported element
  raises even when an earlier statement already decided the request.

AWS documentation followed (IAM User Guide, https://docs.aws.amazon.com/IAM/latest/UserGuide/):
  reference_policies_evaluation-logic.html, reference_policies_evaluation-logic_policy-eval-denyallow.html,
  reference_policies_elements_principal.html, reference_policies_elements_notprincipal.html,
  reference_policies_elements_action.html, reference_policies_elements_notaction.html,
  reference_policies_elements_resource.html, reference_policies_elements_notresource.html,
  reference_policies_elements_condition.html, reference_policies_elements_condition_operators.html,
  reference_policies_condition-logic-multiple-context-keys-or-values.html,
  reference_policies_condition-keys.html (aws:userid, aws:PrincipalArn, aws:PrincipalAccount,
  aws:username, aws:PrincipalType), reference_policies_variables.html (principal key values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

__all__ = [
    "Decision",
    "InvalidPolicy",
    "PolicyEvaluationError",
    "Request",
    "UnsupportedPolicyElement",
    "evaluate_bucket_policy",
    "is_allowed",
    "is_denied",
    "matching_statements",
]

Decision = Literal["explicit_deny", "allow", "implicit_deny"]


class PolicyEvaluationError(Exception):
    """Base class for everything this evaluator refuses to decide."""


class UnsupportedPolicyElement(PolicyEvaluationError):
    """The policy uses an element, operator or value form this evaluator does not implement."""


class InvalidPolicy(PolicyEvaluationError, ValueError):
    """The policy is not a well-formed resource-based policy."""


# --------------------------------------------------------------------------------------------
# Request
# --------------------------------------------------------------------------------------------

_ACCOUNT_ID = re.compile(r"\d{12}")
_PRINCIPAL_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)")

PrincipalKind = Literal["role", "user", "root"]


def _normalise_path(path: str) -> str:
    if not path.startswith("/") or not path.endswith("/"):
        raise ValueError(f"IAM path must start and end with '/': {path!r}")
    return path


@dataclass(frozen=True)
class Request:
    """One authorization request as seen by a bucket policy.

    ``principal_arn`` is the ARN of the *calling* principal: an assumed-role session
    (``arn:aws:sts::ACCT:assumed-role/ROLE/SESSION``), an IAM user (``arn:aws:iam::ACCT:user/PATH/NAME``)
    or the account root user (``arn:aws:iam::ACCT:root``). ``user_id`` is the ``aws:userid`` value.
    ``role_path`` is only used for role sessions: an assumed-role ARN never carries the role's path,
    but ``aws:PrincipalArn`` (the role ARN) does.
    """

    principal_arn: str
    user_id: str
    account_id: str
    action: str
    resource: str
    extra_context: Mapping[str, str] = field(default_factory=dict, hash=False)
    role_path: str = "/"

    def __post_init__(self) -> None:
        if not _ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError(f"account_id must be 12 digits: {self.account_id!r}")
        if ":" not in self.action or any(c in self.action for c in "*?"):
            raise ValueError(f"action must be a concrete 'service:Action': {self.action!r}")
        if not self.resource.startswith("arn:") or any(c in self.resource for c in "*?"):
            raise ValueError(f"resource must be a concrete ARN: {self.resource!r}")
        _normalise_path(self.role_path)
        kind, _name, _session = _parse_caller(self)
        if kind == "root" and self.user_id != self.account_id:
            raise ValueError("for the root user, aws:userid is the account id")
        if kind == "role" and not self.user_id.endswith(":" + (_session or "")):
            raise ValueError("for a role session, aws:userid is 'ROLEID:session-name'")
        if kind == "user" and ":" in self.user_id:
            raise ValueError("for an IAM user, aws:userid is the user's unique id (AIDA...)")
        clash = {k.lower() for k in self.extra_context} & set(_base_context(self))
        if clash:
            raise ValueError(f"extra_context may not redefine derived keys: {sorted(clash)}")

    # -- constructors ----------------------------------------------------------------------

    @classmethod
    def for_role(
        cls,
        account_id: str,
        role_name: str,
        role_id: str,
        action: str,
        resource: str,
        session: str = "s",
        *,
        path: str = "/",
        partition: str = "aws",
        extra_context: Mapping[str, str] | None = None,
    ) -> Request:
        """A request made with credentials from ``sts:AssumeRole`` on ``role_name``."""
        return cls(
            principal_arn=f"arn:{partition}:sts::{account_id}:assumed-role/{role_name}/{session}",
            user_id=f"{role_id}:{session}",
            account_id=account_id,
            action=action,
            resource=resource,
            extra_context=dict(extra_context or {}),
            role_path=path,
        )

    @classmethod
    def for_user(
        cls,
        account_id: str,
        user_name: str,
        user_id: str,
        action: str,
        resource: str,
        *,
        path: str = "/",
        partition: str = "aws",
        extra_context: Mapping[str, str] | None = None,
    ) -> Request:
        """A request made with an IAM user's long-term credentials."""
        return cls(
            principal_arn=f"arn:{partition}:iam::{account_id}:user{_normalise_path(path)}{user_name}",
            user_id=user_id,
            account_id=account_id,
            action=action,
            resource=resource,
            extra_context=dict(extra_context or {}),
        )

    @classmethod
    def for_root(
        cls,
        account_id: str,
        action: str,
        resource: str,
        *,
        partition: str = "aws",
        extra_context: Mapping[str, str] | None = None,
    ) -> Request:
        """A request made by the account root user."""
        return cls(
            principal_arn=f"arn:{partition}:iam::{account_id}:root",
            user_id=account_id,
            account_id=account_id,
            action=action,
            resource=resource,
            extra_context=dict(extra_context or {}),
        )

    # -- derived views -----------------------------------------------------------------------

    @property
    def kind(self) -> PrincipalKind:
        return _parse_caller(self)[0]

    def context(self) -> dict[str, str]:
        """The request context, keyed by lower-cased condition key name."""
        ctx = _base_context(self)
        ctx.update({k.lower(): v for k, v in self.extra_context.items()})
        return ctx


def _parse_caller(request: Request) -> tuple[PrincipalKind, str | None, str | None]:
    """(kind, role or user name, session name) of the calling principal."""
    m = _PRINCIPAL_ARN.fullmatch(request.principal_arn)
    if not m:
        raise ValueError(f"unsupported principal ARN: {request.principal_arn!r}")
    if m["account"] != request.account_id:
        raise ValueError("principal_arn and account_id name different accounts")
    service, rest = m["service"], m["rest"]
    if service == "iam" and rest == "root":
        return "root", None, None
    if service == "iam" and rest.startswith("user/"):
        return "user", rest.rsplit("/", 1)[1], None
    if service == "sts" and rest.startswith("assumed-role/"):
        parts = rest.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"assumed-role ARN must be assumed-role/ROLE/SESSION: {request.principal_arn!r}")
        return "role", parts[1], parts[2]
    raise ValueError(f"unsupported principal ARN: {request.principal_arn!r}")


def _partition(request: Request) -> str:
    return request.principal_arn.split(":", 2)[1]


def _role_arn(request: Request) -> str:
    _kind, name, _session = _parse_caller(request)
    return f"arn:{_partition(request)}:iam::{request.account_id}:role{request.role_path}{name}"


def _base_context(request: Request) -> dict[str, str]:
    kind, name, _session = _parse_caller(request)
    ctx = {
        "aws:userid": request.user_id,
        "aws:principalaccount": request.account_id,
    }
    if kind == "role":
        ctx["aws:principalarn"] = _role_arn(request)
        ctx["aws:principaltype"] = "AssumedRole"
    elif kind == "user":
        ctx["aws:principalarn"] = request.principal_arn
        ctx["aws:principaltype"] = "User"
        ctx["aws:username"] = name or ""
    else:
        ctx["aws:principalarn"] = request.principal_arn
        ctx["aws:principaltype"] = "Account"
    return ctx


# Principal entities: ("account", id) | ("arn", arn) | ("service", name) | ("federated", name)
_Entity = tuple[str, str]


def _request_entities(request: Request) -> frozenset[_Entity]:
    """The chain of entities AWS may check for this caller (account, role, session / user)."""
    kind = request.kind
    entities: set[_Entity] = {("account", request.account_id)}
    if kind == "role":
        entities.add(("arn", _role_arn(request)))
        entities.add(("arn", request.principal_arn))
    elif kind == "user":
        entities.add(("arn", request.principal_arn))
    return frozenset(entities)


# --------------------------------------------------------------------------------------------
# Wildcard matching
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """``*`` = any run of characters, ``?`` = exactly one character, anything else literal."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(out), flags)


@lru_cache(maxsize=4096)
def _resource_glob(pattern: str) -> re.Pattern[str]:
    """Resource-element wildcards: confined to one colon-delimited segment (see module doc)."""
    out = []
    colons = 0
    for i, ch in enumerate(pattern):
        in_resource_part = colons >= 5
        if ch == ":":
            colons += 1
            out.append(":")
        elif ch == "*":
            last_in_segment = i + 1 == len(pattern) or pattern[i + 1] == ":"
            out.append(".*" if in_resource_part or last_in_segment else "[^:]*")
        elif ch == "?":
            out.append("." if in_resource_part else "[^:]")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def _action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern, True).fullmatch(action) is not None


def _resource_matches(pattern: str, resource: str) -> bool:
    return _resource_glob(pattern).fullmatch(resource) is not None


def _arn_like(pattern: str, value: str) -> bool:
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(value_parts) != 6:
        return False
    return all(_glob(p, False).fullmatch(v) is not None for p, v in zip(pattern_parts, value_parts, strict=True))


# --------------------------------------------------------------------------------------------
# Parsing (validates the whole policy before anything is evaluated)
# --------------------------------------------------------------------------------------------

_STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
_SUPPORTED_VERSIONS = {"2012-10-17", "2008-10-17"}

# operator -> (negated, matcher(policy_value, context_value)); Null is handled separately.
_OPERATORS: dict[str, tuple[bool, Callable[[str, str], bool]]] = {
    "StringEquals": (False, lambda p, v: p == v),
    "StringNotEquals": (True, lambda p, v: p == v),
    "StringEqualsIgnoreCase": (False, lambda p, v: p.casefold() == v.casefold()),
    "StringNotEqualsIgnoreCase": (True, lambda p, v: p.casefold() == v.casefold()),
    "StringLike": (False, lambda p, v: _glob(p, False).fullmatch(v) is not None),
    "StringNotLike": (True, lambda p, v: _glob(p, False).fullmatch(v) is not None),
    "ArnEquals": (False, _arn_like),
    "ArnLike": (False, _arn_like),
    "ArnNotEquals": (True, _arn_like),
    "ArnNotLike": (True, _arn_like),
    "Bool": (False, lambda p, v: p == v.lower()),
}
_UNSUPPORTED_OPERATOR_PREFIXES = ("Numeric", "Date", "IpAddress", "NotIpAddress", "Binary")


@dataclass(frozen=True)
class _Condition:
    operator: str  # base operator, without IfExists
    if_exists: bool
    key: str  # lower-cased
    values: tuple[str, ...]


@dataclass(frozen=True)
class _Statement:
    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    principals: frozenset[_Entity] | None  # None = "*"
    principal_negated: bool
    actions: tuple[str, ...]
    action_negated: bool
    resources: tuple[str, ...]
    resource_negated: bool
    conditions: tuple[_Condition, ...]


def _as_str_list(value: object, what: str) -> tuple[str, ...]:
    items: Sequence[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise InvalidPolicy(f"{what} must be a string or a list of strings, got {type(value).__name__}")
    if not items:
        raise InvalidPolicy(f"{what} must not be empty")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise UnsupportedPolicyElement(f"{what} value {item!r} is not a string")
        out.append(item)
    return tuple(out)


def _check_no_variables(values: Sequence[str], what: str, version: str | None) -> None:
    if version == "2012-10-17" and any("${" in v for v in values):
        raise UnsupportedPolicyElement(f"policy variables in {what} are not implemented: {list(values)}")


def _parse_principal_value(kind: str, value: str) -> _Entity | None:
    """Entity named by one Principal value; None means "*" (everyone)."""
    if kind == "AWS":
        if value == "*":
            return None
        if "*" in value or "?" in value:
            raise UnsupportedPolicyElement(f"wildcards inside a principal are not allowed: {value!r}")
        if _ACCOUNT_ID.fullmatch(value):
            return ("account", value)
        m = _PRINCIPAL_ARN.fullmatch(value)
        if not m:
            raise UnsupportedPolicyElement(f"unsupported AWS principal (unique ids are not modelled): {value!r}")
        rest = m["rest"]
        if m["service"] == "iam" and rest == "root":
            return ("account", m["account"])
        if m["service"] == "iam" and (rest.startswith("role/") or rest.startswith("user/")):
            return ("arn", value)
        if m["service"] == "sts" and (rest.startswith("assumed-role/") or rest.startswith("federated-user/")):
            return ("arn", value)
        raise UnsupportedPolicyElement(f"unsupported AWS principal ARN: {value!r}")
    if kind == "Service":
        return ("service", value)
    if kind == "Federated":
        return ("federated", value)
    raise UnsupportedPolicyElement(f"principal type {kind!r} is not implemented")


def _parse_principal(value: object, what: str) -> frozenset[_Entity] | None:
    if value == "*":
        return None
    if not isinstance(value, dict) or not value:
        raise InvalidPolicy(f'{what} must be "*" or a non-empty object such as {{"AWS": [...]}}, got {value!r}')
    entities: set[_Entity] = set()
    everyone = False
    for kind, raw in value.items():
        for item in _as_str_list(raw, f"{what}.{kind}"):
            entity = _parse_principal_value(kind, item)
            if entity is None:
                everyone = True
            else:
                entities.add(entity)
    return None if everyone else frozenset(entities)


def _parse_conditions(block: object, version: str | None) -> tuple[_Condition, ...]:
    if not isinstance(block, dict):
        raise InvalidPolicy(f"Condition must be an object, got {block!r}")
    out: list[_Condition] = []
    for raw_operator, keys in block.items():
        if not isinstance(raw_operator, str):
            raise InvalidPolicy(f"condition operator must be a string: {raw_operator!r}")
        if ":" in raw_operator:
            raise UnsupportedPolicyElement(f"set operators are not implemented: {raw_operator!r}")
        if_exists = raw_operator.endswith("IfExists")
        operator = raw_operator.removesuffix("IfExists") if if_exists else raw_operator
        if operator == "Null":
            if if_exists:
                raise InvalidPolicy("Null has no ...IfExists form")
        elif operator not in _OPERATORS:
            hint = " (not implemented)" if operator.startswith(_UNSUPPORTED_OPERATOR_PREFIXES) else ""
            raise UnsupportedPolicyElement(f"condition operator {raw_operator!r}{hint}")
        if not isinstance(keys, dict) or not keys:
            raise InvalidPolicy(f"{raw_operator} must map condition keys to values, got {keys!r}")
        for key, raw_values in keys.items():
            if operator in ("Bool", "Null"):
                if isinstance(raw_values, bool):
                    raw_values = "true" if raw_values else "false"
                elif isinstance(raw_values, list):
                    raw_values = [("true" if v else "false") if isinstance(v, bool) else v for v in raw_values]
            values = _as_str_list(raw_values, f"{raw_operator}.{key}")
            if operator in ("Bool", "Null"):
                values = tuple(v.lower() for v in values)
                if not set(values) <= {"true", "false"}:
                    raise InvalidPolicy(f"{raw_operator}.{key} takes 'true' or 'false', got {list(values)}")
                if operator == "Null" and len(values) != 1:
                    raise UnsupportedPolicyElement(f"{raw_operator}.{key}: several Null values are not implemented")
            else:
                _check_no_variables(values, f"{raw_operator}.{key}", version)
            if operator.startswith("Arn"):
                for v in values:
                    if len(v.split(":", 5)) != 6:
                        raise UnsupportedPolicyElement(
                            f"{raw_operator}.{key}: {v!r} is not a six-component ARN pattern"
                        )
            out.append(_Condition(operator, if_exists, key.lower(), values))
    return tuple(out)


def _parse_statement(index: int, raw: object, version: str | None) -> _Statement:
    if not isinstance(raw, dict):
        raise InvalidPolicy(f"statement {index} is not an object")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise UnsupportedPolicyElement(f"statement {index} has unknown elements {sorted(unknown)}")

    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise InvalidPolicy(f"statement {index}: Effect must be 'Allow' or 'Deny', got {effect!r}")

    def exactly_one(a: str, b: str) -> str:
        present = [k for k in (a, b) if k in raw]
        if len(present) != 1:
            raise InvalidPolicy(f"statement {index}: a bucket policy statement needs exactly one of {a}/{b}")
        return present[0]

    principal_key = exactly_one("Principal", "NotPrincipal")
    if principal_key == "NotPrincipal" and effect == "Allow":
        raise UnsupportedPolicyElement(f"statement {index}: NotPrincipal with Allow is not supported by AWS")
    principals = _parse_principal(raw[principal_key], f"statement {index} {principal_key}")

    action_key = exactly_one("Action", "NotAction")
    actions = _as_str_list(raw[action_key], f"statement {index} {action_key}")
    for a in actions:
        if a != "*" and ":" not in a:
            raise InvalidPolicy(f"statement {index}: action {a!r} is not 'service:action'")

    resource_key = exactly_one("Resource", "NotResource")
    resources = _as_str_list(raw[resource_key], f"statement {index} {resource_key}")
    for r in resources:
        if r != "*" and not r.startswith("arn:"):
            raise InvalidPolicy(f"statement {index}: resource {r!r} is not an ARN")
    _check_no_variables(resources, f"statement {index} {resource_key}", version)

    conditions = _parse_conditions(raw["Condition"], version) if "Condition" in raw else ()
    sid = raw.get("Sid")
    return _Statement(
        index=index,
        sid=sid if isinstance(sid, str) else None,
        effect=effect,
        principals=principals,
        principal_negated=principal_key == "NotPrincipal",
        actions=actions,
        action_negated=action_key == "NotAction",
        resources=resources,
        resource_negated=resource_key == "NotResource",
        conditions=conditions,
    )


def _parse_policy(policy: Mapping[str, Any] | str) -> tuple[_Statement, ...]:
    doc: object = json.loads(policy) if isinstance(policy, str) else policy
    if not isinstance(doc, Mapping):
        raise InvalidPolicy("a policy must be a JSON object")
    unknown = set(doc) - {"Version", "Id", "Statement"}
    if unknown:
        raise UnsupportedPolicyElement(f"unknown top-level policy elements {sorted(unknown)}")
    version = doc.get("Version")
    if version is not None and version not in _SUPPORTED_VERSIONS:
        raise InvalidPolicy(f"unknown policy Version {version!r}")
    raw_statements = doc.get("Statement")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise InvalidPolicy("Statement must be an object or a non-empty list")
    return tuple(_parse_statement(i, s, version) for i, s in enumerate(raw_statements))


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _principal_applies(stmt: _Statement, request: Request) -> bool:
    chain = _request_entities(request)
    if not stmt.principal_negated:
        return stmt.principals is None or bool(stmt.principals & chain)
    # NotPrincipal (Deny): the caller escapes only if every entity in its chain is listed.
    excluded = stmt.principals is None or chain <= stmt.principals
    return not excluded


def _condition_holds(cond: _Condition, ctx: Mapping[str, str]) -> bool:
    present = cond.key in ctx
    if cond.operator == "Null":
        # "true" = the key must be absent; "false" = it must be present.
        return (cond.values[0] == "true") != present
    if not present:
        negated = _OPERATORS[cond.operator][0]
        return cond.if_exists or negated
    negated, matcher = _OPERATORS[cond.operator]
    value = ctx[cond.key]
    matched = any(matcher(p, value) for p in cond.values)
    return not matched if negated else matched


def _statement_applies(stmt: _Statement, request: Request, ctx: Mapping[str, str]) -> bool:
    if not _principal_applies(stmt, request):
        return False
    action_hit = any(_action_matches(p, request.action) for p in stmt.actions)
    if action_hit == stmt.action_negated:
        return False
    resource_hit = any(_resource_matches(p, request.resource) for p in stmt.resources)
    if resource_hit == stmt.resource_negated:
        return False
    return all(_condition_holds(c, ctx) for c in stmt.conditions)


def matching_statements(policy: Mapping[str, Any] | str, request: Request) -> list[tuple[str, str]]:
    """``(effect, Sid or "#index")`` of every statement that applies to ``request`` (for messages)."""
    statements = _parse_policy(policy)
    ctx = request.context()
    return [(s.effect, s.sid if s.sid else f"#{s.index}") for s in statements if _statement_applies(s, request, ctx)]


def evaluate_bucket_policy(policy: Mapping[str, Any] | str, request: Request) -> Decision:
    """Decision of this resource-based policy alone: explicit deny > allow > implicit deny."""
    effects = {effect for effect, _sid in matching_statements(policy, request)}
    if "Deny" in effects:
        return "explicit_deny"
    if "Allow" in effects:
        return "allow"
    return "implicit_deny"


def is_denied(policy: Mapping[str, Any] | str, request: Request) -> bool:
    """True if the policy explicitly denies the request."""
    return evaluate_bucket_policy(policy, request) == "explicit_deny"


def is_allowed(policy: Mapping[str, Any] | str, request: Request) -> bool:
    """True if the policy, on its own, allows the request (an Allow applies and no Deny does)."""
    return evaluate_bucket_policy(policy, request) == "allow"
