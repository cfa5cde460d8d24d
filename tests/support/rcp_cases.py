"""Judge a printed resource control policy (``connect-lockdown guardrail --kind rcp``) by what it does.

``judge_rcp`` attaches the documents, as an organization administrator would, to an OU between the root and
the member accounts, each level also holding ``RCPFullAWSAccess``, and asks the independent evaluator
(``policy_eval.evaluate_rcps``, rules R14 and R15: a Deny there denies whatever identity-based and bucket
policies allow) what each caller may do on each covered bucket, in its own account:

* admitted: the root user of the bucket's own account; each admin role (by name, also under a path) and the
  enforcer (every Region, also after a redeploy: same ARN, new unique ID) of the bucket's own account; each
  legacy (not service-linked) Connect role and break-glass role given; the admitted AWS service principals
  (Connect's recording ingestion);
* denied: the root user, admin role and enforcer of another member account; an outsider role, an IAM user,
  a role of an account outside the organization, look-alike role names, another service principal, and
  anonymous requests (with and without ``aws:userid``);
* untouched: an unrelated bucket; buckets of the management account and service-linked roles (RCPs never
  restrict them);
* each document fits the 5,120-character RCP limit, minified.

    verdict = judge_rcp(docs, covered={"amazon-connect-0123": "111122223333", "custom": "444455556666"},
                        admin_role_names=["SecurityAdmin"])
    verdict.assert_passed()
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests.support.guardrail_cases import GuardrailCheck, GuardrailVerdict
from tests.support.policy_eval import (
    PolicyEvaluationError,
    Request,
    evaluate_rcps,
    rcp_levels_with_full_access,
)

RCP_MAX_CHARACTERS = 5120
OUTSIDE_ACCOUNT = "777788889999"
MANAGEMENT_ACCOUNT = "999988887777"
# What each caller tries: the objects (recordings) and the policy that guards them.
ACTIONS = (("s3:GetObject", "object"), ("s3:PutObject", "object"), ("s3:PutBucketPolicy", "bucket"))

PARSES = "documents are valid RCPs"
FITS = "each document fits the 5,120-character RCP limit"
OWN_ROOT_ADMITTED = "the root user of the bucket's own account is admitted"
OTHER_ROOT_DENIED = "the root user of another member account is denied"
ADMIN_ADMITTED = "each admin role is admitted in its own account, also under a path"
ADMIN_ELSEWHERE_DENIED = "an admin role of another member account is denied"
ENFORCER_ADMITTED = "the enforcer is admitted in every account and Region, also after a redeploy"
ENFORCER_ELSEWHERE_DENIED = "the enforcer of another member account is denied"
LEGACY_CONNECT_ADMITTED = "each legacy Connect service role is admitted"
EXEMPT_ADMITTED = "each break-glass role is admitted"
SERVICES_ADMITTED = "the admitted AWS service principals are admitted"
OTHER_SERVICE_DENIED = "another AWS service principal is denied"
OUTSIDERS_DENIED = "outsiders (a role, an IAM user, another organization's role) are denied"
LOOKALIKES_DENIED = "roles named like the enforcer or an admin role are denied"
ANONYMOUS_DENIED = "anonymous requests are denied, with or without aws:userid"
NEW_DEFAULT_BUCKET_COVERED = "a default-named bucket created later is covered"
UNRELATED_UNTOUCHED = "an unrelated bucket is untouched"
MANAGEMENT_UNTOUCHED = "the management account's buckets are untouched (RCPs never restrict them)"
SERVICE_LINKED_UNTOUCHED = "a service-linked role is untouched (RCPs never restrict it)"


def _minified_size(doc: Mapping[str, Any] | str) -> int:
    value = json.loads(doc) if isinstance(doc, str) else doc
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def judge_rcp(
    documents: Sequence[Mapping[str, Any] | str],
    *,
    covered: Mapping[str, str],
    admin_role_names: Sequence[str] = (),
    enforcer_role_name: str = "connect-lockdown-enforcer",
    regions: Sequence[str] = ("us-east-1",),
    legacy_connect_roles: Sequence[str] = (),
    exempt_role_arns: Sequence[str] = (),
    services: Sequence[str] = ("connect.amazonaws.com",),
    other_service: str = "cloudtrail.amazonaws.com",
    management_bucket: str = "management-recordings",
    unrelated_bucket: str = "unrelated-bucket",
    new_default_bucket: str = "amazon-connect-createdlater0",
    partition: str = "aws",
) -> GuardrailVerdict:
    """Judge printed RCP documents (dicts or JSON text). ``covered`` maps each covered bucket to its account;
    two member accounts at least, so that "another member account" exists."""
    members = sorted(set(covered.values()))
    if len(members) < 2:
        raise ValueError("cover buckets of at least two member accounts")
    if not documents:
        raise ValueError("no RCP documents to judge")
    checks: list[GuardrailCheck] = []
    try:
        levels = rcp_levels_with_full_access(*documents)
        evaluate_rcps(
            levels, Request.for_root(members[0], "s3:ListBucket", "arn:aws:s3:::x"), resource_account=members[0]
        )
    except (PolicyEvaluationError, ValueError) as error:
        return GuardrailVerdict((GuardrailCheck(PARSES, False, f"{type(error).__name__}: {error}"),))
    checks.append(GuardrailCheck(PARSES, True))
    sizes = [_minified_size(doc) for doc in documents]
    too_big = [f"document {i}: {size} characters" for i, size in enumerate(sizes) if size > RCP_MAX_CHARACTERS]
    checks.append(GuardrailCheck(FITS, not too_big, "; ".join(too_big)))

    Caller = Callable[[str, str], Request]  # (action, resource) -> request

    def arn(bucket: str, kind: str) -> str:
        return f"arn:{partition}:s3:::{bucket}" + ("/2026/01/01/call.wav" if kind == "object" else "")

    def denied(caller: Caller, bucket: str, account: str, *, management: bool = False) -> list[str]:
        """The actions on `bucket` (of `account`) the RCPs deny to `caller`."""
        return [
            action
            for action, kind in ACTIONS
            if evaluate_rcps(
                levels, caller(action, arn(bucket, kind)), resource_account=account, management_account=management
            )
            == "explicit_deny"
        ]

    def expect(
        name: str, cases: Sequence[tuple[str, Caller, str, str]], *, want_denied: bool, management: bool = False
    ) -> None:
        wrong = []
        for label, caller, bucket, account in cases:
            hit = denied(caller, bucket, account, management=management)
            if want_denied and len(hit) != len(ACTIONS):
                wrong.append(f"{label} on {bucket}: allowed {sorted({a for a, _ in ACTIONS} - set(hit))}")
            if not want_denied and hit:
                wrong.append(f"{label} on {bucket}: denied {hit}")
        checks.append(GuardrailCheck(name, not wrong, "; ".join(wrong[:6]) + (" ..." if len(wrong) > 6 else "")))

    def role(account: str, name: str, role_id: str, *, path: str = "/", session: str = "s") -> Caller:
        return lambda action, resource: Request.for_role(
            account, name, role_id, action, resource, session, path=path, partition=partition
        )

    def root(account: str) -> Caller:
        return lambda action, resource: Request.for_root(account, action, resource, partition=partition)

    def other(account: str) -> str:
        return next(a for a in members if a != account)

    own = list(covered.items())
    expect(OWN_ROOT_ADMITTED, [(f"root@{a}", root(a), b, a) for b, a in own], want_denied=False)
    expect(OTHER_ROOT_DENIED, [(f"root@{other(a)}", root(other(a)), b, a) for b, a in own], want_denied=True)

    admin_paths = ("/", "/aws-reserved/sso.amazonaws.com/")
    expect(
        ADMIN_ADMITTED,
        [
            (f"{name}{path}@{a}", role(a, name, "AROAADMIN00000000001", path=path), b, a)
            for name in admin_role_names
            for path in admin_paths
            for b, a in own
        ],
        want_denied=False,
    )
    expect(
        ADMIN_ELSEWHERE_DENIED,
        [
            (f"{n}@{other(a)}", role(other(a), n, "AROAADMIN00000000002"), b, a)
            for n in admin_role_names
            for b, a in own
        ],
        want_denied=True,
    )
    enforcers = [f"{enforcer_role_name}-{region}" for region in regions]
    expect(
        ENFORCER_ADMITTED,
        [
            (f"{label}:{name}@{a}", role(a, name, role_id, session="enforcer"), b, a)
            for name in enforcers
            for role_id, label in (("AROAENFORCER00000001", "enforcer"), ("AROAENFORCER00000002", "redeployed"))
            for b, a in own
        ],
        want_denied=False,
    )
    expect(
        ENFORCER_ELSEWHERE_DENIED,
        [(f"{n}@{other(a)}", role(other(a), n, "AROAENFORCER00000003"), b, a) for n in enforcers for b, a in own],
        want_denied=True,
    )

    def by_arn(role_arn: str, role_id: str) -> tuple[str, Caller]:
        head, _, path_and_name = role_arn.partition(":role")
        account = head.rsplit(":", 1)[-1]
        path, name = path_and_name.rsplit("/", 1)
        return account, role(account, name, role_id, path=path + "/")

    legacy = [by_arn(r, "AROALEGACYCONNECT001") for r in legacy_connect_roles]
    if legacy:
        expect(
            LEGACY_CONNECT_ADMITTED,
            [(f"connect-role@{acct}", caller, b, a) for acct, caller in legacy for b, a in own if a == acct],
            want_denied=False,
        )
    glass = [by_arn(r, "AROABREAKGLASS000001") for r in exempt_role_arns]
    if glass:
        expect(
            EXEMPT_ADMITTED, [(f"break-glass@{acct}", c, b, a) for acct, c in glass for b, a in own], want_denied=False
        )

    def service(name: str) -> Caller:
        return lambda action, resource: Request.for_service(name, action, resource)

    if services:
        expect(SERVICES_ADMITTED, [(s, service(s), b, a) for s in services for b, a in own], want_denied=False)
    expect(OTHER_SERVICE_DENIED, [(other_service, service(other_service), b, a) for b, a in own], want_denied=True)

    def user(account: str) -> Caller:
        return lambda action, resource: Request.for_user(
            account, "mallory", "AIDAOUTSIDER00000001", action, resource, partition=partition
        )

    outsiders: list[tuple[str, Caller, str, str]] = []
    for b, a in own:
        outsiders += [
            (f"outsider@{a}", role(a, "Outsider", "AROAOUTSIDER00000001"), b, a),
            (f"user@{a}", user(a), b, a),
            (
                f"outside-org-enforcer@{OUTSIDE_ACCOUNT}",
                role(OUTSIDE_ACCOUNT, enforcers[0], "AROAOUTSIDE000000001"),
                b,
                a,
            ),
            (f"outside-org-root@{OUTSIDE_ACCOUNT}", root(OUTSIDE_ACCOUNT), b, a),
        ]
    expect(OUTSIDERS_DENIED, outsiders, want_denied=True)
    lookalikes: list[tuple[str, Caller, str, str]] = []
    for b, a in own:
        lookalikes.append((f"{enforcers[0]}-x@{a}", role(a, f"{enforcers[0]}-x", "AROALOOKALIKE0000001"), b, a))
        lookalikes.append((f"x{enforcers[0]}@{a}", role(a, f"x{enforcers[0]}", "AROALOOKALIKE0000002"), b, a))
        lookalikes += [(f"x{n}@{a}", role(a, f"x{n}", "AROALOOKALIKE0000003"), b, a) for n in admin_role_names]
        lookalikes += [
            (f"{n}-x/@{a}", role(a, "Anything", "AROALOOKALIKE0000004", path=f"/{n}/"), b, a) for n in admin_role_names
        ]
    expect(LOOKALIKES_DENIED, lookalikes, want_denied=True)

    def anonymous(absent: frozenset[str]) -> Caller:
        return lambda action, resource: Request.anonymous(action, resource, absent_keys=absent)

    expect(
        ANONYMOUS_DENIED,
        [
            (label, anonymous(absent), b, a)
            for label, absent in (("anonymous", frozenset()), ("anonymous-no-userid", frozenset({"aws:userid"})))
            for b, a in own
        ],
        want_denied=True,
    )
    first = members[0]
    expect(
        NEW_DEFAULT_BUCKET_COVERED,
        [(f"outsider@{first}", role(first, "Outsider", "AROAOUTSIDER00000001"), new_default_bucket, first)],
        want_denied=True,
    )
    expect(
        UNRELATED_UNTOUCHED,
        [(f"outsider@{a}", role(a, "Outsider", "AROAOUTSIDER00000001"), unrelated_bucket, a) for a in members]
        + [("anonymous", anonymous(frozenset()), unrelated_bucket, first)],
        want_denied=False,
    )
    expect(
        MANAGEMENT_UNTOUCHED,
        [
            (
                f"outsider@{MANAGEMENT_ACCOUNT}",
                role(MANAGEMENT_ACCOUNT, "Outsider", "AROAOUTSIDER00000001"),
                management_bucket,
                MANAGEMENT_ACCOUNT,
            )
        ],
        want_denied=False,
        management=True,
    )
    slr_path = "/aws-service-role/connect.amazonaws.com/"
    expect(
        SERVICE_LINKED_UNTOUCHED,
        [
            (
                f"connect-slr@{a}",
                role(a, "AWSServiceRoleForAmazonConnect_AbCdEf123456", "AROACONNECTSLR000001", path=slr_path),
                b,
                a,
            )
            for b, a in own
        ],
        want_denied=False,
    )
    return GuardrailVerdict(tuple(checks))
