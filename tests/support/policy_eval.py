"""Independent IAM policy evaluator for tests: S3 bucket policies and AWS Organizations SCPs and RCPs.

moto stores bucket policies but does not evaluate their conditions, so tests use this module to
prove what a written policy *does*. It is deliberately written from the AWS documentation alone,
without reading the policy builder under ``layers/`` or ``functions/``, so that a bug in the
builder cannot be mirrored here. Where the documentation is silent the module refuses
(``UnsupportedPolicyElement``) or leaves the value to the test, rather than guessing.

Doc pages are cited by file name. Unless a full URL is given they are in the IAM User Guide,
https://docs.aws.amazon.com/IAM/latest/UserGuide/<page>; "Organizations:" pages are in
https://docs.aws.amazon.com/organizations/latest/userguide/<page>.

What it answers
---------------
``evaluate_bucket_policy(policy, request)`` - the decision of **one resource-based policy alone**:

* ``"explicit_deny"`` - at least one ``Deny`` statement applies (a Deny wins over any Allow,
  wherever it is in the policy);
* ``"allow"`` - no Deny applies and at least one ``Allow`` statement applies;
* ``"implicit_deny"`` - no statement applies.

``evaluate_scps(levels, request, ...)`` - the decision of the service control policies on the
request's principal (``"not_applicable"`` when SCPs do not bind it).

``evaluate_rcps(levels, request, resource_account=...)`` - the decision of the resource control
policies above the resource's account (``"not_applicable"`` when RCPs do not restrict the request).

``evaluate_access(request, resource_policy=..., resource_account=..., scp_levels=..., rcp_levels=...)``
- the whole request: SCPs, RCPs, the bucket policy and an identity-based Allow that the test asserts
exists.

Not modelled: permissions boundaries, session policies, VPC endpoint policies, ACLs, S3 Block Public
Access, Object Ownership.

The rules implemented, and where each comes from
-------------------------------------------------

R1  Explicit Deny beats Allow; with no applicable Allow the result is an implicit deny.
    (reference_policies_evaluation-logic.html, reference_policies_evaluation-logic_policy-eval-denyallow.html)
R2  Within one account, a request is allowed when an identity-based policy OR the resource-based
    policy allows it and nothing denies it; across accounts both must allow it.
    (reference_policies_evaluation-logic.html "Identity-based policies with resource-based
    policies"; reference_policies_evaluation-logic-cross-account.html)
R3  A condition key absent from the request context: a non-negated operator is false; a negated
    operator (StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals,
    ArnNotEquals, ArnNotLike) is TRUE. "This logic applies to all condition operators except
    ...IfExists and Null check." (reference_policies_elements_condition_operators.html,
    "Important" box at the top)
R4  ``...IfExists`` (any operator except Null): key present -> evaluated as the base operator;
    key absent -> true. (reference_policies_elements_condition_operators.html#Conditions_IfExists)
R5  ``Null``: ``"true"`` holds when the key is absent, ``"false"`` when it is present; Null has no
    ...IfExists form. (reference_policies_elements_condition_operators.html#Conditions_Null)
R6  All condition operators of a statement are ANDed; all keys of one operator are ANDed; several
    values for one key are ORed, and NORed for a negated operator (the key matches none of them).
    A statement applies only when every condition is true.
    (reference_policies_condition-logic-multiple-context-keys-or-values.html, now
    reference_policies_multi-value-conditions.html)
R7  ArnEquals and ArnLike behave identically: case-sensitive; each of the six colon-delimited
    components is matched separately and may contain ``*`` and ``?``; ArnNotEquals/ArnNotLike are
    their negations. (reference_policies_elements_condition_operators.html#Conditions_ARN)
R8  String operators: StringEquals / StringNotEquals case-sensitive, ...IgnoreCase not,
    StringLike / StringNotLike case-sensitive with ``*`` and ``?`` anywhere.
    (reference_policies_elements_condition_operators.html#Conditions_String)
R9  Bool: "true"/"false" matching. (reference_policies_elements_condition_operators.html#Conditions_Boolean)
R10 Numeric operators compare numbers; NumericNotEquals is the negated one.
    (reference_policies_elements_condition_operators.html#Conditions_Numeric)
R11 Condition key names are case-insensitive ("Key names are case-insensitive").
    (reference_policies_variables.html, reference_policies_elements_condition.html)
R12 Principal, NotPrincipal, Action/NotAction, Resource/NotResource as documented in
    reference_policies_elements_{principal,notprincipal,action,notaction,resource,notresource}.html;
    details under "Elements" below.
R13 SCPs: an action is allowed for an account only when an SCP Allow applies at EVERY level from
    the root through each OU to the account itself, and no SCP at any of those levels denies it
    (Organizations: orgs_manage_policies_scps_evaluation.html, "How SCPs work with Allow" / "with
    Deny"). SCPs grant nothing. SCPs bind every user and role of a member account, including its
    root user; they never bind users or roles of the management account; they do not affect any
    service-linked role; they affect only principals managed by accounts in the organization
    (Organizations: orgs_manage_policies_scps.html "SCP effects on permissions"). SCPs have no
    Principal element (Organizations: orgs_manage_policies_scps_syntax.html, elements table).
R14 RCPs: evaluated level by level like SCPs (an Allow at every level from the root to the resource's
    account, ``RCPFullAWSAccess`` being attached everywhere and not detachable; a Deny at any level
    denies), whatever identity-based and resource-based policies allow (Organizations:
    orgs_manage_policies_rcps_evaluation.html). They restrict requests on resources of member accounts
    only, never on resources of the management account, and never actions performed by service-linked
    roles (Organizations: orgs_manage_policies_rcps.html, "Resources and entities not restricted by
    RCPs"). They bind every other principal, inside or outside the organization, AWS service principals
    included: AWS's own RCP examples exempt service principals explicitly with
    ``aws:PrincipalIsAWSService`` (Organizations: orgs_manage_policies_rcps_examples.html; the AWS
    data-perimeter RCP examples). Syntax: ``Principal`` must be ``"*"``; no ``NotPrincipal``; no
    ``NotAction``; Allow is only for ``RCPFullAWSAccess`` (Organizations:
    orgs_manage_policies_rcps_syntax.html).
R15 Policy variables in RCP condition values: ``${service:Key}`` is replaced by that key's value in
    the request (reference_policies_variables.html). Only plain keys are implemented (no default
    values, no ``${*}`` escapes); a variable naming a key absent from the request raises. The RCP
    evaluation gives ``aws:ResourceAccount`` the resource's account (reference_policies_condition-keys.html,
    aws:ResourceAccount). Bucket policies and SCPs still refuse variables.

The request context each caller carries (from reference_policies_condition-keys.html, "Properties
of the principal", and the "Principal key values" table of reference_policies_variables.html)::

    caller                 aws:userid          aws:PrincipalArn           aws:PrincipalAccount  aws:PrincipalType  aws:PrincipalIsAWSService  aws:PrincipalServiceName
    role session           ROLEID:session      arn:P:iam::A:role/PATH/N   A                     AssumedRole        "false"                    (absent)
    IAM user               AIDA... unique id   arn:P:iam::A:user/PATH/N   A                     User               "false"                    (absent)
    account root user      A (account id)      arn:P:iam::A:root          A                     Account            "false"                    (absent)
    anonymous (S3)         "anonymous"         (absent)                   "anonymous"           Anonymous          (absent)                   (absent)
    AWS service principal  (undocumented)      (undocumented)             (undocumented)        (undocumented)     "true"                     the service, e.g. connect.amazonaws.com

Citations for that table:
* aws:PrincipalArn: "included in the request context for all signed requests. Anonymous requests
  do not include this key"; for a role it is the role ARN (with its path), not the session ARN.
* aws:PrincipalAccount: "For anonymous requests, the request context returns anonymous";
  "included in the request context for all requests, including anonymous requests".
* aws:userid and aws:PrincipalType: "included in the request context for all requests, including
  anonymous requests"; the Principal key values table gives ``anonymous`` / ``Anonymous`` for an
  "Anonymous caller (Amazon SQS, Amazon SNS, and Amazon S3 only)". NOTE: older copies of the
  variables page said anonymous users "will not populate the ${aws:userid} variable"; ``Request``
  can model that variant too (``absent_keys``), and the lockdown tests check both.
* aws:PrincipalIsAWSService: "present in the request context for all signed API requests that use
  AWS credentials. Anonymous requests do not include this key"; true when a service uses its
  service principal directly, false for IAM principals and when a service uses a service role or
  a service-linked role.
* aws:PrincipalServiceName: present only "when the call is made by an AWS service principal"; not
  present for service roles, service-linked roles, IAM principals or anonymous requesters.
* aws:username: only for IAM users.
* A service principal's aws:userid, aws:PrincipalArn, aws:PrincipalAccount and aws:PrincipalType
  are not documented: ``Request.for_service`` leaves them out and a test may supply values in
  ``extra_context`` to show its result does not depend on them.

Elements
--------
* ``Version`` "2012-10-17", "2008-10-17" or absent. ``Statement`` as one object or a list.
  Unknown statement members raise ``UnsupportedPolicyElement`` (so a typo such as "Conditions"
  cannot be silently ignored).
* ``Effect``: "Allow" / "Deny".
* ``Principal`` (resource policies only): ``"*"`` matches every caller, including anonymous
  callers and service principals (the aws:PrincipalIsAWSService example of
  reference_policies_condition-keys.html denies ``"*"`` except service principals, which only
  makes sense if ``"*"`` covers them); ``{"AWS": "*"}`` is documented as equivalent to ``"*"`` for
  anonymous callers and matches every IAM caller, but whether it matches a service principal is
  not documented, so that case raises. ``{"AWS": x | [x, ...]}`` with x a 12-digit account id or
  ``arn:P:iam::ACCT:root`` (both delegate to *every* principal of the account, not just the root
  user), an IAM role ARN (every session of that role), an assumed-role session ARN (that session
  only), an IAM user ARN, or an STS federated-user ARN (never matches the principals modelled
  here). ``{"Service": name}`` matches that service principal acting as itself. ``CanonicalUser``,
  unique principal ids (AROA.../AIDA...) and any partial wildcard in a principal raise
  ``UnsupportedPolicyElement``. Principal ARNs are compared exactly (case-sensitive).
* ``NotPrincipal`` (only with ``Deny``). AWS may check the account, then the role, then the
  session, so the documented worst case is modelled: a request escapes the Deny only if **every**
  entity of its chain is listed - account + role ARN + session ARN for a role session, account +
  user ARN for a user, the account for the root user.
* ``Action`` / ``NotAction``: ``*`` (any run) and ``?`` (one character) wildcards; matching is
  case-insensitive.
* ``Resource`` / ``NotResource``: case-sensitive; ``*`` and ``?`` match within one colon-delimited
  ARN segment, except that a ``*`` that is the last character of a segment may expand beyond colon
  boundaries, and the resource part (after the fifth colon) is a single segment in which colons are
  ordinary characters (S3 object keys may contain colons).
* ``Condition``: String*, Numeric*, Arn*, Bool, Null and the ``...IfExists`` form of all of them
  except Null. Date*, IpAddress/NotIpAddress, Binary*, ``ForAnyValue:``/``ForAllValues:`` and policy
  variables (``${...}`` in a 2012-10-17 policy) raise ``UnsupportedPolicyElement``.
* The whole policy is parsed and validated before it is evaluated, so an unsupported element
  raises even when an earlier statement already decided the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

__all__ = [
    "ANONYMOUS",
    "FULL_AWS_ACCESS",
    "NEGATED_OPERATORS",
    "RCP_FULL_AWS_ACCESS",
    "SUPPORTED_OPERATORS",
    "Decision",
    "InvalidPolicy",
    "PolicyEvaluationError",
    "Request",
    "ScpDecision",
    "UnsupportedPolicyElement",
    "evaluate_access",
    "evaluate_bucket_policy",
    "evaluate_rcps",
    "evaluate_scps",
    "is_allowed",
    "is_denied",
    "matching_rcp_statements",
    "matching_scp_statements",
    "matching_statements",
    "rcp_exemption",
    "rcp_levels_with_full_access",
    "scp_exemption",
    "scp_levels_with_full_access",
]

Decision = Literal["explicit_deny", "allow", "implicit_deny"]
ScpDecision = Literal["not_applicable", "explicit_deny", "allow", "implicit_deny"]
PolicyDocument = Mapping[str, Any] | str

#: ``principal_arn`` of an anonymous request (and its documented ``aws:userid``).
ANONYMOUS = "anonymous"

#: The AWS managed SCP that Organizations attaches to every root, OU and account when SCPs are
#: enabled (Organizations: orgs_manage_policies_scps_evaluation.html).
FULL_AWS_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


#: The AWS managed RCP attached to every root, OU and account when RCPs are enabled; it cannot be detached
#: (Organizations: orgs_manage_policies_rcps_syntax.html, "RCPFullAWSAccess").
RCP_FULL_AWS_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
}


class PolicyEvaluationError(Exception):
    """Base class for everything this evaluator refuses to decide."""


class UnsupportedPolicyElement(PolicyEvaluationError):
    """The policy uses an element, operator or value form this evaluator does not implement."""


class InvalidPolicy(PolicyEvaluationError, ValueError):
    """The policy is not a well-formed policy of its kind."""


# --------------------------------------------------------------------------------------------
# Request
# --------------------------------------------------------------------------------------------

_ACCOUNT_ID = re.compile(r"\d{12}")
_PRINCIPAL_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):(?P<service>iam|sts)::(?P<account>\d{12}):(?P<rest>.+)")
# Service principals: "connect.amazonaws.com", "logging.s3.amazonaws.com", "x.amazonaws.com.cn".
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?")
_ARN_PARTITION = re.compile(r"arn:(aws[a-z-]*):")

PrincipalKind = Literal["role", "user", "root", "anonymous", "service"]
_SIGNED_IAM_KINDS = ("role", "user", "root")


def _normalise_path(path: str) -> str:
    if not path.startswith("/") or not path.endswith("/"):
        raise ValueError(f"IAM path must start and end with '/': {path!r}")
    return path


@dataclass(frozen=True)
class Request:
    """One authorization request.

    ``principal_arn`` names the caller: an assumed-role session
    (``arn:aws:sts::ACCT:assumed-role/ROLE/SESSION``), an IAM user (``arn:aws:iam::ACCT:user/PATH/NAME``),
    the account root user (``arn:aws:iam::ACCT:root``), the literal ``"anonymous"`` for an
    unsigned request, or a service principal name (``connect.amazonaws.com``) for an AWS service
    acting as itself. ``user_id`` is the ``aws:userid`` value (``"anonymous"`` for an anonymous
    request, ``None`` for a service principal, whose value is undocumented); ``account_id`` the
    principal's account (``None`` for anonymous and service callers). ``role_path`` is only used for
    role sessions: an assumed-role ARN never carries the role's path, but ``aws:PrincipalArn``
    (the role ARN) does. ``absent_keys`` removes derived keys from the context, to model a caller
    whose documented context is in doubt (for example an anonymous request without ``aws:userid``).
    """

    principal_arn: str
    user_id: str | None
    account_id: str | None
    action: str
    resource: str
    extra_context: Mapping[str, str] = field(default_factory=dict, hash=False)
    role_path: str = "/"
    absent_keys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if ":" not in self.action or any(c in self.action for c in "*?"):
            raise ValueError(f"action must be a concrete 'service:Action': {self.action!r}")
        if not self.resource.startswith("arn:") or any(c in self.resource for c in "*?"):
            raise ValueError(f"resource must be a concrete ARN: {self.resource!r}")
        _normalise_path(self.role_path)
        kind, _name, session = _parse_caller(self)
        if kind in _SIGNED_IAM_KINDS:
            if self.account_id is None or not _ACCOUNT_ID.fullmatch(self.account_id):
                raise ValueError(f"account_id must be 12 digits: {self.account_id!r}")
            if self.user_id is None:
                raise ValueError("IAM callers always carry aws:userid")
        if kind == "root" and self.user_id != self.account_id:
            raise ValueError("for the root user, aws:userid is the account id")
        if kind == "role" and not (self.user_id or "").endswith(":" + (session or "")):
            raise ValueError("for a role session, aws:userid is 'ROLEID:session-name'")
        if kind == "user" and ":" in (self.user_id or ""):
            raise ValueError("for an IAM user, aws:userid is the user's unique id (AIDA...)")
        if kind == "anonymous" and (self.user_id != ANONYMOUS or self.account_id is not None):
            raise ValueError("an anonymous request has aws:userid 'anonymous' and no principal account id")
        if kind == "service" and (self.user_id is not None or self.account_id is not None):
            raise ValueError(
                "a service principal's aws:userid and account are undocumented: leave them None and "
                "supply any value to try in extra_context"
            )
        base = _base_context(self, apply_absent=False)
        lowered = {k.lower() for k in self.absent_keys}
        if lowered != set(self.absent_keys):
            raise ValueError("absent_keys must be lower-case condition key names")
        unknown = lowered - set(base)
        if unknown:
            raise ValueError(f"absent_keys names keys this caller does not carry: {sorted(unknown)}")
        clash = {k.lower() for k in self.extra_context} & set(base)
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

    @classmethod
    def anonymous(
        cls,
        action: str,
        resource: str,
        *,
        absent_keys: frozenset[str] = frozenset(),
        extra_context: Mapping[str, str] | None = None,
    ) -> Request:
        """An unsigned request (S3 accepts them). Context as documented: see the module doc."""
        return cls(
            principal_arn=ANONYMOUS,
            user_id=ANONYMOUS,
            account_id=None,
            action=action,
            resource=resource,
            extra_context=dict(extra_context or {}),
            absent_keys=absent_keys,
        )

    @classmethod
    def for_service(
        cls,
        service: str,
        action: str,
        resource: str,
        *,
        extra_context: Mapping[str, str] | None = None,
    ) -> Request:
        """An AWS service acting as its own service principal (for example ``connect.amazonaws.com``)."""
        return cls(
            principal_arn=service,
            user_id=None,
            account_id=None,
            action=action,
            resource=resource,
            extra_context=dict(extra_context or {}),
        )

    # -- derived views -----------------------------------------------------------------------

    @property
    def kind(self) -> PrincipalKind:
        return _parse_caller(self)[0]

    @property
    def is_service_linked_role(self) -> bool:
        """A session of a service-linked role: IAM gives those the path ``/aws-service-role/<service>/``."""
        return self.kind == "role" and self.role_path.startswith("/aws-service-role/")

    def context(self) -> dict[str, str]:
        """The request context, keyed by lower-cased condition key name."""
        ctx = _base_context(self, apply_absent=True)
        ctx.update({k.lower(): v for k, v in self.extra_context.items()})
        return ctx


def _parse_caller(request: Request) -> tuple[PrincipalKind, str | None, str | None]:
    """(kind, role or user or service name, session name) of the calling principal."""
    if request.principal_arn == ANONYMOUS:
        return "anonymous", None, None
    if _SERVICE_PRINCIPAL.fullmatch(request.principal_arn):
        return "service", request.principal_arn, None
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


def _base_context(request: Request, *, apply_absent: bool) -> dict[str, str]:
    kind, name, _session = _parse_caller(request)
    ctx: dict[str, str] = {}
    if kind in _SIGNED_IAM_KINDS:
        assert request.user_id is not None and request.account_id is not None
        ctx["aws:userid"] = request.user_id
        ctx["aws:principalaccount"] = request.account_id
        ctx["aws:principalisawsservice"] = "false"
    if kind == "role":
        ctx["aws:principalarn"] = _role_arn(request)
        ctx["aws:principaltype"] = "AssumedRole"
    elif kind == "user":
        ctx["aws:principalarn"] = request.principal_arn
        ctx["aws:principaltype"] = "User"
        ctx["aws:username"] = name or ""
    elif kind == "root":
        ctx["aws:principalarn"] = request.principal_arn
        ctx["aws:principaltype"] = "Account"
    elif kind == "anonymous":
        ctx["aws:userid"] = ANONYMOUS
        ctx["aws:principalaccount"] = ANONYMOUS
        ctx["aws:principaltype"] = "Anonymous"
    else:  # service principal acting as itself
        ctx["aws:principalisawsservice"] = "true"
        ctx["aws:principalservicename"] = name or ""
    if apply_absent:
        for key in request.absent_keys:
            ctx.pop(key, None)
    return ctx


# Principal entities: ("account", id) | ("arn", arn) | ("service", name) | ("federated", name)
# | ("anonymous", "")
_Entity = tuple[str, str]


def _request_entities(request: Request) -> frozenset[_Entity]:
    """The chain of entities AWS may check for this caller (account, role, session / user)."""
    kind = request.kind
    if kind == "anonymous":
        return frozenset({("anonymous", "")})
    if kind == "service":
        return frozenset({("service", request.principal_arn)})
    assert request.account_id is not None
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
    """R7: each of the six colon-delimited components matched separately, case-sensitive."""
    pattern_parts = pattern.split(":", 5)
    value_parts = value.split(":", 5)
    if len(value_parts) != 6:
        return False
    return all(_glob(p, False).fullmatch(v) is not None for p, v in zip(pattern_parts, value_parts, strict=True))


def _number(text: str, what: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidPolicy(f"{what}: {text!r} is not a number") from None
    if not number.is_finite():
        raise InvalidPolicy(f"{what}: {text!r} is not a finite number")
    return number


def _numeric(compare: Callable[[Decimal, Decimal], bool]) -> Callable[[str, str], bool]:
    """Matcher(policy value, context value) for a numeric operator: compare(context, policy)."""

    def matcher(policy_value: str, context_value: str) -> bool:
        try:
            actual = Decimal(context_value.strip())
        except InvalidOperation:
            raise UnsupportedPolicyElement(
                f"the request's value {context_value!r} is not a number; how IAM compares it is not documented"
            ) from None
        return compare(actual, Decimal(policy_value))

    return matcher


# --------------------------------------------------------------------------------------------
# Parsing (validates the whole policy before anything is evaluated)
# --------------------------------------------------------------------------------------------

PolicyKind = Literal["resource", "scp", "rcp"]

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
    "NumericEquals": (False, _numeric(lambda v, p: v == p)),
    "NumericNotEquals": (True, _numeric(lambda v, p: v == p)),
    "NumericLessThan": (False, _numeric(lambda v, p: v < p)),
    "NumericLessThanEquals": (False, _numeric(lambda v, p: v <= p)),
    "NumericGreaterThan": (False, _numeric(lambda v, p: v > p)),
    "NumericGreaterThanEquals": (False, _numeric(lambda v, p: v >= p)),
    "ArnEquals": (False, _arn_like),
    "ArnLike": (False, _arn_like),
    "ArnNotEquals": (True, _arn_like),
    "ArnNotLike": (True, _arn_like),
    "Bool": (False, lambda p, v: p == v.lower()),
}
_UNSUPPORTED_OPERATOR_PREFIXES = ("Date", "IpAddress", "NotIpAddress", "Binary")

#: Every operator this evaluator implements, with whether it is negated (for tests and callers).
NEGATED_OPERATORS = frozenset(name for name, (negated, _m) in _OPERATORS.items() if negated)
SUPPORTED_OPERATORS = frozenset(_OPERATORS) | {"Null"}


@dataclass(frozen=True)
class _Condition:
    operator: str  # base operator, without IfExists
    if_exists: bool
    key: str  # lower-cased
    values: tuple[str, ...]
    variables: bool = False  # R15: values hold ${key} variables, replaced from the request context


@dataclass(frozen=True)
class _Statement:
    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    principals: frozenset[_Entity] | None  # None = "*" (or no Principal element, in an SCP)
    principal_aws_star: bool  # the "everyone" came from {"AWS": "*"} rather than "*"
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


# R15: a policy variable in a condition value: ``${key}``, replaced by the key's value in the request.
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*:[A-Za-z][A-Za-z0-9]*")


def _check_variables(values: Sequence[str], what: str, version: str | None) -> None:
    """Only plain ``${service:Key}`` variables (no default value, no ``${*}`` escapes) in a 2012-10-17 policy."""
    if version != "2012-10-17":
        _check_no_variables(values, what, version)
        return
    for value in values:
        for key in _VARIABLE.findall(value):
            if not _VARIABLE_KEY.fullmatch(key):
                raise UnsupportedPolicyElement(f"{what}: only ${{service:Key}} variables are implemented: {value!r}")
        if "${" in _VARIABLE.sub("", value):
            raise UnsupportedPolicyElement(f"{what}: malformed policy variable in {value!r}")


def _substituted(value: str, ctx: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        key = match.group(1).lower()
        if key not in ctx:
            raise UnsupportedPolicyElement(
                f"policy variable ${{{match.group(1)}}} names a key absent from the request: give its value "
                "(what IAM does then is not modelled)"
            )
        return ctx[key]

    return _VARIABLE.sub(one, value)


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


def _parse_principal(value: object, what: str) -> tuple[frozenset[_Entity] | None, bool]:
    """(entities or None for everyone, whether "everyone" was written {"AWS": "*"})."""
    if value == "*":
        return None, False
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
    return (None, True) if everyone else (frozenset(entities), False)


def _parse_conditions(block: object, version: str | None, kind: PolicyKind = "resource") -> tuple[_Condition, ...]:
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
            elif operator.startswith("Numeric"):
                if isinstance(raw_values, int | float) and not isinstance(raw_values, bool):
                    raw_values = str(raw_values)
                elif isinstance(raw_values, list):
                    raw_values = [
                        str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in raw_values
                    ]
            values = _as_str_list(raw_values, f"{raw_operator}.{key}")
            if operator in ("Bool", "Null"):
                values = tuple(v.lower() for v in values)
                if not set(values) <= {"true", "false"}:
                    raise InvalidPolicy(f"{raw_operator}.{key} takes 'true' or 'false', got {list(values)}")
                if operator == "Null" and len(values) != 1:
                    raise UnsupportedPolicyElement(f"{raw_operator}.{key}: several Null values are not implemented")
            elif operator.startswith("Numeric"):
                values = tuple(str(_number(v, f"{raw_operator}.{key}")) for v in values)
            elif kind == "rcp":
                _check_variables(values, f"{raw_operator}.{key}", version)
            else:
                _check_no_variables(values, f"{raw_operator}.{key}", version)
            variables = kind == "rcp" and version == "2012-10-17" and any("${" in v for v in values)
            if operator.startswith("Arn"):
                for v in values:
                    if len(v.split(":", 5)) != 6:
                        raise UnsupportedPolicyElement(
                            f"{raw_operator}.{key}: {v!r} is not a six-component ARN pattern"
                        )
            out.append(_Condition(operator, if_exists, key.lower(), values, variables))
    return tuple(out)


def _parse_statement(index: int, raw: object, version: str | None, kind: PolicyKind) -> _Statement:
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
            what = {"resource": "a bucket policy statement", "scp": "an SCP statement", "rcp": "an RCP statement"}[kind]
            error = InvalidPolicy if kind == "resource" or a == "Action" else UnsupportedPolicyElement
            raise error(f"statement {index}: {what} needs exactly one of {a}/{b}")
        return present[0]

    principals: frozenset[_Entity] | None = None
    aws_star = False
    principal_negated = False
    if kind == "scp":
        if "Principal" in raw or "NotPrincipal" in raw:
            raise InvalidPolicy(f"statement {index}: SCPs have no Principal or NotPrincipal element")
    elif kind == "rcp":
        # R14: an RCP's Principal is "*" only; NotPrincipal and NotAction are not supported.
        if raw.get("Principal") != "*" or "NotPrincipal" in raw:
            raise InvalidPolicy(f'statement {index}: an RCP statement needs "Principal": "*" and no NotPrincipal')
        if "NotAction" in raw:
            raise InvalidPolicy(f"statement {index}: RCPs do not support NotAction")
    else:
        principal_key = exactly_one("Principal", "NotPrincipal")
        if principal_key == "NotPrincipal" and effect == "Allow":
            raise UnsupportedPolicyElement(f"statement {index}: NotPrincipal with Allow is not supported by AWS")
        principals, aws_star = _parse_principal(raw[principal_key], f"statement {index} {principal_key}")
        principal_negated = principal_key == "NotPrincipal"

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

    conditions = _parse_conditions(raw["Condition"], version, kind) if "Condition" in raw else ()
    sid = raw.get("Sid")
    return _Statement(
        index=index,
        sid=sid if isinstance(sid, str) else None,
        effect=effect,
        principals=principals,
        principal_aws_star=aws_star,
        principal_negated=principal_negated,
        actions=actions,
        action_negated=action_key == "NotAction",
        resources=resources,
        resource_negated=resource_key == "NotResource",
        conditions=conditions,
    )


def _parse_policy(policy: PolicyDocument, kind: PolicyKind = "resource") -> tuple[_Statement, ...]:
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
    return tuple(_parse_statement(i, s, version, kind) for i, s in enumerate(raw_statements))


# --------------------------------------------------------------------------------------------
# Evaluation of one policy
# --------------------------------------------------------------------------------------------


def _principal_applies(stmt: _Statement, request: Request) -> bool:
    if stmt.principals is None and stmt.principal_aws_star and request.kind == "service":
        raise UnsupportedPolicyElement(
            'whether {"AWS": "*"} names a service principal acting as itself is not documented; write "*"'
        )
    chain = _request_entities(request)
    if not stmt.principal_negated:
        return stmt.principals is None or bool(stmt.principals & chain)
    # NotPrincipal (Deny): the caller escapes only if every entity in its chain is listed.
    excluded = stmt.principals is None or chain <= stmt.principals
    return not excluded


def _condition_holds(cond: _Condition, ctx: Mapping[str, str]) -> bool:
    present = cond.key in ctx
    if cond.operator == "Null":
        # R5: "true" = the key must be absent; "false" = it must be present.
        return (cond.values[0] == "true") != present
    negated, matcher = _OPERATORS[cond.operator]
    if not present:
        # R4: ...IfExists is true on an absent key; R3: otherwise negated -> true, positive -> false.
        return cond.if_exists or negated
    value = ctx[cond.key]
    values = tuple(_substituted(p, ctx) for p in cond.values) if cond.variables else cond.values
    # R6: values ORed; for a negated operator, true only when no value matches (NOR).
    matched = any(matcher(p, value) for p in values)
    return not matched if negated else matched


def _statement_applies(stmt: _Statement, request: Request, ctx: Mapping[str, str], kind: PolicyKind) -> bool:
    if kind == "resource" and not _principal_applies(stmt, request):
        return False
    action_hit = any(_action_matches(p, request.action) for p in stmt.actions)
    if action_hit == stmt.action_negated:
        return False
    resource_hit = any(_resource_matches(p, request.resource) for p in stmt.resources)
    if resource_hit == stmt.resource_negated:
        return False
    # R6: every condition (every operator, every key) must hold.
    return all(_condition_holds(c, ctx) for c in stmt.conditions)


def _matching(policy: PolicyDocument, request: Request, kind: PolicyKind) -> list[tuple[str, str]]:
    statements = _parse_policy(policy, kind)
    ctx = request.context()
    return [
        (s.effect, s.sid if s.sid else f"#{s.index}") for s in statements if _statement_applies(s, request, ctx, kind)
    ]


def _decide(effects: set[str]) -> Decision:
    if "Deny" in effects:  # R1
        return "explicit_deny"
    if "Allow" in effects:
        return "allow"
    return "implicit_deny"


def matching_statements(policy: PolicyDocument, request: Request) -> list[tuple[str, str]]:
    """``(effect, Sid or "#index")`` of every statement of a resource policy that applies to ``request``."""
    return _matching(policy, request, "resource")


def evaluate_bucket_policy(policy: PolicyDocument, request: Request) -> Decision:
    """Decision of this resource-based policy alone: explicit deny > allow > implicit deny (R1)."""
    return _decide({effect for effect, _sid in matching_statements(policy, request)})


def is_denied(policy: PolicyDocument, request: Request) -> bool:
    """True if the policy explicitly denies the request."""
    return evaluate_bucket_policy(policy, request) == "explicit_deny"


def is_allowed(policy: PolicyDocument, request: Request) -> bool:
    """True if the policy, on its own, allows the request (an Allow applies and no Deny does)."""
    return evaluate_bucket_policy(policy, request) == "allow"


# --------------------------------------------------------------------------------------------
# Service control policies (R13)
# --------------------------------------------------------------------------------------------


def matching_scp_statements(scp: PolicyDocument, request: Request) -> list[tuple[str, str]]:
    """``(effect, Sid or "#index")`` of every statement of one SCP that applies to ``request``."""
    return _matching(scp, request, "scp")


def scp_exemption(request: Request, *, management_account: bool, in_organization: bool = True) -> str | None:
    """Why SCPs do not bind this request's principal, or None when they do (R13)."""
    if request.kind == "anonymous":
        return "an anonymous request has no principal in any account, so no SCP applies"
    if request.kind == "service":
        return "a service principal acting as itself is not a user or role of a member account"
    if not in_organization:
        return "SCPs affect only principals managed by accounts that are part of the organization"
    if management_account:
        return "SCPs don't affect users or roles in the management account"
    if request.is_service_linked_role:
        return "SCPs do not affect any service-linked role"
    return None


def evaluate_scps(
    levels: Sequence[Sequence[PolicyDocument]],
    request: Request,
    *,
    management_account: bool = False,
    in_organization: bool = True,
) -> ScpDecision:
    """The SCPs' decision for ``request``'s principal (R13).

    ``levels`` lists, from the organization root down to the principal's account, the SCPs attached
    at each level (root, each OU on the path, the account). Every document is parsed first, so an
    unsupported or invalid element raises even when the principal is exempt.
    """
    if not levels:
        raise ValueError("levels must name at least the root's SCPs (the root always has at least one)")
    parsed = [[_parse_policy(doc, "scp") for doc in level] for level in levels]
    for index, level in enumerate(parsed):
        if not level:
            raise ValueError(f"level {index} has no SCP attached; Organizations requires at least one")
    if scp_exemption(request, management_account=management_account, in_organization=in_organization):
        return "not_applicable"
    ctx = request.context()

    def effects(level: list[tuple[_Statement, ...]]) -> set[str]:
        return {s.effect for statements in level for s in statements if _statement_applies(s, request, ctx, "scp")}

    per_level = [effects(level) for level in parsed]
    if any("Deny" in e for e in per_level):
        return "explicit_deny"
    if all("Allow" in e for e in per_level):
        return "allow"
    return "implicit_deny"


def scp_levels_with_full_access(*documents: PolicyDocument, levels: int = 3) -> list[list[PolicyDocument]]:
    """Root, OU(s) and account, each with ``FullAWSAccess``; ``documents`` attached to the level above the account.

    This is the usual deny-list set-up: the guardrail attached to an OU that holds the account.
    """
    if levels < 2:
        raise ValueError("need at least the root and the account")
    out: list[list[PolicyDocument]] = [[FULL_AWS_ACCESS] for _ in range(levels)]
    out[-2].extend(documents)
    return out


# --------------------------------------------------------------------------------------------
# Resource control policies (R14, R15)
# --------------------------------------------------------------------------------------------


def rcp_exemption(request: Request, *, management_account: bool) -> str | None:
    """Why RCPs do not restrict this request, or None when they do (R14).

    ``management_account``: the resource belongs to the organization's management account.
    """
    if management_account:
        return "RCPs don't affect resources in the management account"
    if request.is_service_linked_role:
        return "RCPs do not restrict actions performed by service-linked roles"
    return None


def _rcp_context(request: Request, resource_account: str) -> dict[str, str]:
    ctx = request.context()
    ctx.setdefault("aws:resourceaccount", resource_account)
    return ctx


def matching_rcp_statements(rcp: PolicyDocument, request: Request, *, resource_account: str) -> list[tuple[str, str]]:
    """``(effect, Sid or "#index")`` of every statement of one RCP that applies to ``request`` on a resource of
    ``resource_account`` (its ``aws:ResourceAccount``, also the value of ``${aws:ResourceAccount}``)."""
    if not _ACCOUNT_ID.fullmatch(resource_account):
        raise ValueError(f"resource_account must be 12 digits: {resource_account!r}")
    ctx = _rcp_context(request, resource_account)
    return [
        (s.effect, s.sid if s.sid else f"#{s.index}")
        for s in _parse_policy(rcp, "rcp")
        if _statement_applies(s, request, ctx, "rcp")
    ]


def evaluate_rcps(
    levels: Sequence[Sequence[PolicyDocument]],
    request: Request,
    *,
    resource_account: str,
    management_account: bool = False,
) -> ScpDecision:
    """The RCPs' decision for ``request`` on a resource of ``resource_account`` (R14).

    ``levels`` lists, from the organization root down to the resource's account, the RCPs attached at each
    level. Every document is parsed first, so an unsupported or invalid element raises even when exempt.
    """
    if not _ACCOUNT_ID.fullmatch(resource_account):
        raise ValueError(f"resource_account must be 12 digits: {resource_account!r}")
    if not levels:
        raise ValueError("levels must name at least the root's RCPs (RCPFullAWSAccess is always attached)")
    parsed = [[_parse_policy(doc, "rcp") for doc in level] for level in levels]
    for index, level in enumerate(parsed):
        if not level:
            raise ValueError(f"level {index} has no RCP attached; RCPFullAWSAccess cannot be detached")
    if rcp_exemption(request, management_account=management_account):
        return "not_applicable"
    ctx = _rcp_context(request, resource_account)

    def effects(level: list[tuple[_Statement, ...]]) -> set[str]:
        return {s.effect for statements in level for s in statements if _statement_applies(s, request, ctx, "rcp")}

    per_level = [effects(level) for level in parsed]
    if any("Deny" in e for e in per_level):
        return "explicit_deny"
    if all("Allow" in e for e in per_level):
        return "allow"
    return "implicit_deny"


def rcp_levels_with_full_access(*documents: PolicyDocument, levels: int = 3) -> list[list[PolicyDocument]]:
    """Root, OU(s) and account, each with ``RCPFullAWSAccess``; ``documents`` attached to the level above the
    account (an OU that holds it)."""
    if levels < 2:
        raise ValueError("need at least the root and the account")
    out: list[list[PolicyDocument]] = [[RCP_FULL_AWS_ACCESS] for _ in range(levels)]
    out[-2].extend(documents)
    return out


# --------------------------------------------------------------------------------------------
# The whole request
# --------------------------------------------------------------------------------------------


def evaluate_access(
    request: Request,
    *,
    resource_policy: PolicyDocument | None,
    resource_account: str,
    identity_allows: bool | None = None,
    scp_levels: Sequence[Sequence[PolicyDocument]] | None = None,
    management_account: bool = False,
    in_organization: bool = True,
    rcp_levels: Sequence[Sequence[PolicyDocument]] | None = None,
    resource_in_management_account: bool = False,
) -> Decision:
    """Decision for a request on a resource in ``resource_account`` (R1, R2, R13).

    ``rcp_levels`` are the resource control policies above ``resource_account`` (R14): a Deny there denies
    whatever the identity-based and resource-based policies allow.

    ``identity_allows`` says whether the caller's identity-based policies allow the action; it
    defaults to True (the test asserts the grant exists) for IAM callers and must stay None or
    False for anonymous and service callers, which have no identity policies. The account root
    user needs no identity-based policy in its own account.
    """
    if not _ACCOUNT_ID.fullmatch(resource_account):
        raise ValueError(f"resource_account must be 12 digits: {resource_account!r}")
    iam_caller = request.kind in _SIGNED_IAM_KINDS
    if identity_allows is None:
        identity_allows = iam_caller
    elif identity_allows and not iam_caller:
        raise ValueError(f"a {request.kind} caller has no identity-based policies")
    if request.kind == "root" and request.account_id == resource_account:
        identity_allows = True

    resource_decision: Decision = (
        evaluate_bucket_policy(resource_policy, request) if resource_policy is not None else "implicit_deny"
    )
    scp_decision: ScpDecision = (
        evaluate_scps(scp_levels, request, management_account=management_account, in_organization=in_organization)
        if scp_levels is not None
        else "not_applicable"
    )
    rcp_decision: ScpDecision = (
        evaluate_rcps(
            rcp_levels,
            request,
            resource_account=resource_account,
            management_account=resource_in_management_account,
        )
        if rcp_levels is not None
        else "not_applicable"
    )
    if "explicit_deny" in (resource_decision, scp_decision, rcp_decision):
        return "explicit_deny"
    if "implicit_deny" in (scp_decision, rcp_decision):
        return "implicit_deny"
    resource_allows = resource_decision == "allow"
    if iam_caller and request.account_id == resource_account:
        allowed = identity_allows or resource_allows
    elif iam_caller:
        allowed = identity_allows and resource_allows
    else:
        allowed = resource_allows
    return "allow" if allowed else "implicit_deny"
