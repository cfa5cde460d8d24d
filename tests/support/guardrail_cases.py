"""Judge a printed guardrail SCP by what it does, with the independent evaluator.

``connect-lockdown guardrail`` prints one SCP document, or several when one would exceed the
5,120-character SCP limit. ``judge_guardrail`` attaches them, the way an organization administrator
would, to an OU between the root and the member accounts, each level also holding ``FullAWSAccess``
(the deny-list set-up of Organizations: orgs_manage_policies_scps_evaluation.html), and asks the
evaluator (``policy_eval.evaluate_scps``, rule R13) what each caller may do:

* an outsider role, an outsider IAM user and the root user of every member account cannot
  ``s3:PutBucketPolicy`` / ``s3:DeleteBucketPolicy`` on any covered bucket;
* the enforcer role (``<enforcer_role_name>-<region>``, fixed name, no path) can, in every member
  account and Region, also after a redeploy (same ARN, new unique ID);
* each break-glass role given as exempt can, in its own account; the same role name in another
  member account cannot;
* an unrelated bucket's policy, object reads and writes and bucket-policy reads on covered buckets
  are unaffected;
* the management account and service-linked roles are unaffected (SCPs never bind them);
* nobody of a member account but the deployer and the break-glass roles can ``iam:CreateRole``,
  ``iam:PassRole`` or ``iam:UpdateAssumeRolePolicy`` on the enforcer's role name (the locks admit that
  ARN, so whoever holds the name passes them); other role names are unaffected;
* each document fits the 5,120-character limit (Organizations: orgs_reference_limits.html; all
  characters count, white space outside strings can be removed: measured minified).

Advisory checks (reported, never failing the verdict) describe limits of the design rather than
errors of the document: an enforcer exemption written as a name prefix (``.../role/NAME-*``) also
exempts any look-alike role a member-account administrator could create, and buckets created after
the policy was printed are covered only by the ``amazon-connect-*`` pattern.

    verdict = judge_guardrail(docs, covered_buckets=["amazon-connect-0123", "custom-bucket"],
                              break_glass_role_arns=["arn:aws:iam::111122223333:role/BreakGlass"])
    verdict.assert_passed()          # AssertionError listing every failed check
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.support.policy_eval import (
    PolicyEvaluationError,
    Request,
    ScpDecision,
    evaluate_scps,
    scp_levels_with_full_access,
)

SCP_MAX_CHARACTERS = 5120
POLICY_ACTIONS = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
UNAFFECTED_ACTIONS = (
    ("s3:GetObject", "object"),
    ("s3:PutObject", "object"),
    ("s3:GetBucketPolicy", "bucket"),
)
DEFAULT_MEMBER_ACCOUNTS = ("111122223333", "444455556666")
DEFAULT_MANAGEMENT_ACCOUNT = "999988887777"
_ROLE_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)"
)


@dataclass(frozen=True)
class GuardrailCheck:
    name: str
    passed: bool
    detail: str = ""
    advisory: bool = False


@dataclass(frozen=True)
class GuardrailVerdict:
    checks: tuple[GuardrailCheck, ...]

    @property
    def passed(self) -> bool:
        return not self.failures()

    def failures(self) -> list[GuardrailCheck]:
        return [c for c in self.checks if not c.passed and not c.advisory]

    def advisories(self) -> list[GuardrailCheck]:
        return [c for c in self.checks if not c.passed and c.advisory]

    def check(self, name: str) -> GuardrailCheck:
        [found] = [c for c in self.checks if c.name == name]
        return found

    def report(self) -> str:
        lines = []
        for c in self.checks:
            mark = "ok  " if c.passed else ("note" if c.advisory else "FAIL")
            lines.append(f"[{mark}] {c.name}" + (f": {c.detail}" if c.detail and not c.passed else ""))
        return "\n".join(lines)

    def assert_passed(self) -> None:
        if not self.passed:
            raise AssertionError("the organization policy failed its checks:\n" + self.report())


# Check names (stable, so tests and acceptance suites can look them up).
PARSES = "documents are valid SCPs"
FITS = "each document fits the 5,120-character SCP limit"
OUTSIDER_DENIED = "an outsider role of a member account cannot change or delete a covered bucket policy"
OUTSIDER_USER_DENIED = "an outsider IAM user of a member account cannot change or delete a covered bucket policy"
ROOT_DENIED = "the root user of a member account cannot change or delete a covered bucket policy"
ENFORCER_ALLOWED = "the enforcer role can, in every member account and Region, also after a redeploy"
BREAK_GLASS_ALLOWED = "each break-glass role can, in its own account"
BREAK_GLASS_NAME_ELSEWHERE_DENIED = "a break-glass role's name in another member account cannot"
UNRELATED_BUCKET_UNAFFECTED = "an unrelated bucket's policy is unaffected"
OBJECT_ACCESS_UNAFFECTED = "object reads and writes and bucket-policy reads on covered buckets are unaffected"
MANAGEMENT_UNAFFECTED = "the management account is unaffected (SCPs never bind it)"
SERVICE_LINKED_ROLE_UNAFFECTED = "a service-linked role is unaffected (SCPs never bind it)"
ENFORCER_NAME_GUARDED = "nobody but the deployer can create, pass or re-trust the enforcer's role name"
DEPLOYER_ALLOWED = "the deployer and the break-glass roles can create, pass and re-trust the enforcer's role"
OTHER_ROLE_NAMES_UNAFFECTED = "other role names are unaffected"
ROLE_ACTIONS = ("iam:CreateRole", "iam:PassRole", "iam:UpdateAssumeRolePolicy")
ADVISORY_LOOKALIKE_NAME = "advisory: a role named like the enforcer (longer name) is not exempt"
ADVISORY_LOOKALIKE_PATH = "advisory: a role under a path that starts with the enforcer's name is not exempt"
ADVISORY_NEW_DEFAULT_BUCKET = "advisory: a default-named bucket created later is covered"


def _minified_size(doc: Mapping[str, Any] | str) -> int:
    value = json.loads(doc) if isinstance(doc, str) else doc
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def judge_guardrail(
    scp_documents: Sequence[Mapping[str, Any] | str],
    *,
    covered_buckets: Sequence[str],
    enforcer_role_name: str = "connect-lockdown-enforcer",
    regions: Sequence[str] = ("us-east-1",),
    break_glass_role_arns: Sequence[str] = (),
    deployer_role_arns: Sequence[str] = (),
    member_accounts: Sequence[str] = DEFAULT_MEMBER_ACCOUNTS,
    management_account: str = DEFAULT_MANAGEMENT_ACCOUNT,
    unrelated_bucket: str = "unrelated-bucket",
    new_default_bucket: str = "amazon-connect-createdlater0",
    partition: str = "aws",
) -> GuardrailVerdict:
    """Judge printed guardrail SCP documents (dicts or JSON text); see the module doc for the checks.

    ``enforcer_role_name`` is the template's ``EnforcerRoleName``; the enforcer's role in each
    Region is ``<enforcer_role_name>-<region>``. ``covered_buckets`` are the buckets the command
    found (default-named and custom). ``deployer_role_arns`` are concrete ARNs of the roles the
    guardrail lets deploy the stack (create, pass and re-trust the enforcer's role).
    """
    if not scp_documents:
        raise ValueError("no SCP documents to judge")
    if len(member_accounts) < 2:
        raise ValueError("give at least two member accounts: the enforcer must work in both")
    if management_account in member_accounts:
        raise ValueError("the management account is not a member account")
    if not covered_buckets:
        raise ValueError("name at least one covered bucket")

    checks: list[GuardrailCheck] = []
    try:
        levels = scp_levels_with_full_access(*scp_documents)
        probe = Request.for_root(member_accounts[0], "s3:ListAllMyBuckets", f"arn:{partition}:s3:::x")
        evaluate_scps(levels, probe)
    except (PolicyEvaluationError, ValueError) as error:
        return GuardrailVerdict((GuardrailCheck(PARSES, False, f"{type(error).__name__}: {error}"),))
    checks.append(GuardrailCheck(PARSES, True))

    sizes = [_minified_size(doc) for doc in scp_documents]
    too_big = [f"document {i}: {size} characters" for i, size in enumerate(sizes) if size > SCP_MAX_CHARACTERS]
    checks.append(GuardrailCheck(FITS, not too_big, "; ".join(too_big)))

    def bucket(name: str) -> str:
        return f"arn:{partition}:s3:::{name}"

    def decide(request: Request, *, management: bool = False) -> ScpDecision:
        return evaluate_scps(levels, request, management_account=management)

    def allowed(decision: ScpDecision) -> bool:
        return decision in ("allow", "not_applicable")

    def expect(
        name: str,
        cases: Sequence[tuple[str, Request]],
        *,
        want_allowed: bool,
        management: bool = False,
        advisory: bool = False,
    ) -> None:
        wrong = []
        for label, request in cases:
            decision = decide(request, management=management)
            if allowed(decision) is not want_allowed:
                wrong.append(f"{label} {request.action} {request.resource} -> {decision}")
        checks.append(
            GuardrailCheck(name, not wrong, "; ".join(wrong[:6]) + (" ..." if len(wrong) > 6 else ""), advisory)
        )

    def policy_writes(
        label: str, make: Callable[[str, str, str], Request], accounts: Sequence[str], buckets: Sequence[str]
    ) -> list[tuple[str, Request]]:
        return [
            (f"{label}@{account}", make(account, action, bucket(b)))
            for account in accounts
            for b in buckets
            for action in POLICY_ACTIONS
        ]

    def role(name: str, role_id: str, *, path: str = "/", session: str = "s") -> Callable[[str, str, str], Request]:
        return lambda account, action, resource: Request.for_role(
            account, name, role_id, action, resource, session, path=path, partition=partition
        )

    def user(account: str, action: str, resource: str) -> Request:
        return Request.for_user(account, "mallory", "AIDAOUTSIDER000000001", action, resource, partition=partition)

    def root(account: str, action: str, resource: str) -> Request:
        return Request.for_root(account, action, resource, partition=partition)

    outsider = role("Outsider", "AROAOUTSIDER000000001")
    expect(OUTSIDER_DENIED, policy_writes("outsider", outsider, member_accounts, covered_buckets), want_allowed=False)
    expect(OUTSIDER_USER_DENIED, policy_writes("user", user, member_accounts, covered_buckets), want_allowed=False)
    expect(ROOT_DENIED, policy_writes("root", root, member_accounts, covered_buckets), want_allowed=False)

    enforcer_cases: list[tuple[str, Request]] = []
    for region in regions:
        name = f"{enforcer_role_name}-{region}"
        for role_id, label in (("AROAENFORCER000000001", "enforcer"), ("AROAENFORCER000000002", "redeployed")):
            enforcer = role(name, role_id, session="connect-lockdown-enforcer-fn")
            enforcer_cases += policy_writes(f"{label}:{name}", enforcer, member_accounts, covered_buckets)
    expect(ENFORCER_ALLOWED, enforcer_cases, want_allowed=True)

    glass_cases: list[tuple[str, Request]] = []
    glass_elsewhere: list[tuple[str, Request]] = []
    for arn in break_glass_role_arns:
        m = _ROLE_ARN.fullmatch(arn)
        if not m:
            raise ValueError(f"break-glass role ARN must be a concrete role ARN: {arn!r}")
        glass = role(m["name"], "AROABREAKGLASS0000001", path=m["path"], session="oncall")
        glass_cases += policy_writes(f"break-glass:{m['name']}", glass, [m["account"]], covered_buckets)
        others = [a for a in member_accounts if a != m["account"]]
        impostor = role(m["name"], "AROABREAKGLASSIMPOST1", path=m["path"], session="oncall")
        glass_elsewhere += policy_writes(f"impostor:{m['name']}", impostor, others, covered_buckets)
    if break_glass_role_arns:
        expect(BREAK_GLASS_ALLOWED, glass_cases, want_allowed=True)
        expect(BREAK_GLASS_NAME_ELSEWHERE_DENIED, glass_elsewhere, want_allowed=False)

    expect(
        UNRELATED_BUCKET_UNAFFECTED,
        policy_writes("outsider", outsider, member_accounts, [unrelated_bucket]),
        want_allowed=True,
    )
    unaffected = [
        (f"outsider@{account}", outsider(account, action, bucket(b) + ("/any/key.wav" if kind == "object" else "")))
        for account in member_accounts
        for b in covered_buckets
        for action, kind in UNAFFECTED_ACTIONS
    ]
    expect(OBJECT_ACCESS_UNAFFECTED, unaffected, want_allowed=True)
    expect(
        MANAGEMENT_UNAFFECTED,
        policy_writes("outsider", outsider, [management_account], covered_buckets),
        want_allowed=True,
        management=True,
    )
    slr = role(
        "AWSServiceRoleForAmazonConnect_AbCdEf123456",
        "AROACONNECTSLR0000001",
        path="/aws-service-role/connect.amazonaws.com/",
    )
    expect(
        SERVICE_LINKED_ROLE_UNAFFECTED,
        policy_writes("connect-slr", slr, member_accounts, covered_buckets),
        want_allowed=True,
    )

    def role_changes(
        label: str, make: Callable[[str, str, str], Request], accounts: Sequence[str], names: Sequence[str]
    ) -> list[tuple[str, Request]]:
        return [
            (f"{label}@{account}", make(account, action, f"arn:{partition}:iam::{account}:role/{name}"))
            for account in accounts
            for name in names
            for action in ROLE_ACTIONS
        ]

    enforcer_names = [f"{enforcer_role_name}-{region}" for region in regions]
    expect(
        ENFORCER_NAME_GUARDED,
        role_changes("outsider", outsider, member_accounts, enforcer_names)
        + role_changes("root", root, member_accounts, enforcer_names),
        want_allowed=False,
    )
    trusted: list[tuple[str, Request]] = []
    for arn in [*deployer_role_arns, *break_glass_role_arns]:
        m = _ROLE_ARN.fullmatch(arn)
        if not m:
            raise ValueError(f"deployer and break-glass role ARNs must be concrete role ARNs: {arn!r}")
        trusted += role_changes(
            m["name"], role(m["name"], "AROADEPLOYER00000001", path=m["path"]), [m["account"]], enforcer_names
        )
    if trusted:
        expect(DEPLOYER_ALLOWED, trusted, want_allowed=True)
    expect(
        OTHER_ROLE_NAMES_UNAFFECTED,
        role_changes("outsider", outsider, member_accounts, ["some-application-role", f"{enforcer_role_name}-helper"]),
        want_allowed=True,
    )

    lookalike = role(f"{enforcer_role_name}-{regions[0]}-lookalike", "AROALOOKALIKE0000001")
    expect(
        ADVISORY_LOOKALIKE_NAME,
        policy_writes("look-alike", lookalike, member_accounts[:1], covered_buckets[:1]),
        want_allowed=False,
        advisory=True,
    )
    pathed = role("Anything", "AROALOOKALIKE0000002", path=f"/{enforcer_role_name}-{regions[0]}-x/")
    expect(
        ADVISORY_LOOKALIKE_PATH,
        policy_writes("pathed", pathed, member_accounts[:1], covered_buckets[:1]),
        want_allowed=False,
        advisory=True,
    )
    expect(
        ADVISORY_NEW_DEFAULT_BUCKET,
        policy_writes("outsider", outsider, member_accounts[:1], [new_default_bucket]),
        want_allowed=False,
        advisory=True,
    )
    return GuardrailVerdict(tuple(checks))
