"""The resource control policy that `connect-lockdown guardrail --kind rcp` prints, judged by what it does with
the independent evaluator (tests/support/rcp_cases.py): who is admitted on a covered bucket, who is denied,
what stays untouched, and that a split into several documents changes no verdict."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from connect_lockdown.cli import exits
from connect_lockdown.cli.exits import CliError
from connect_lockdown.cli.rcp import (
    RCP_MAX_CHARACTERS,
    admitted_arns,
    bucket_resource_groups,
    exempt_services,
    rcp_documents,
)
from connect_lockdown.cli.scp import DEFAULT_BUCKET_PREFIX, minified
from tests.support import policy_eval
from tests.support import rcp_cases as r
from tests.support.rcp_cases import judge_rcp

A, B = "111122223333", "444455556666"
REGIONS = ["us-east-1", "eu-west-2"]
LEGACY = f"arn:aws:iam::{A}:role/service-role/connect-legacy-role"
SLR = f"arn:aws:iam::{B}:role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect_AbCdEf123456"
BREAK_GLASS = f"arn:aws:iam::{A}:role/BreakGlass"
COVERED = {"amazon-connect-0a1b2c3d4e5f": A, "a-recordings": A, "b-transcripts": B}
JUDGED: dict[str, Any] = {
    "covered": COVERED,
    "admin_role_names": ["SecurityAdmin"],
    "regions": REGIONS,
    "legacy_connect_roles": [LEGACY],
    "exempt_role_arns": [BREAK_GLASS],
}


def printed(
    buckets: list[str], *, services: list[str] | None = None, limit: int = RCP_MAX_CHARACTERS
) -> list[dict[str, Any]]:
    admitted = admitted_arns(
        "aws",
        enforcer_paths=[f"/connect-lockdown-enforcer-{region}" for region in REGIONS],
        admin_role_names=["SecurityAdmin"],
        connect_roles=[LEGACY, SLR],
        exempt_role_arns=[BREAK_GLASS],
    )
    groups = bucket_resource_groups("aws", buckets, DEFAULT_BUCKET_PREFIX)
    return rcp_documents(groups, admitted, ["connect.amazonaws.com"] if services is None else services, limit=limit)


def test_the_printed_rcp_admits_exactly_who_the_lock_admits() -> None:
    [document] = printed(sorted(COVERED))
    statement = document["Statement"][0]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
    # The service-linked role is left to AWS (RCPs never restrict it), the legacy role is named exactly.
    admitted = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert LEGACY in admitted and SLR not in admitted
    verdict = judge_rcp([document], **JUDGED)
    verdict.assert_passed()
    assert {c.name for c in verdict.checks} >= {
        r.OWN_ROOT_ADMITTED,
        r.OTHER_ROOT_DENIED,
        r.ADMIN_ADMITTED,
        r.ADMIN_ELSEWHERE_DENIED,
        r.ENFORCER_ADMITTED,
        r.ENFORCER_ELSEWHERE_DENIED,
        r.LEGACY_CONNECT_ADMITTED,
        r.SERVICES_ADMITTED,
        r.OTHER_SERVICE_DENIED,
        r.OUTSIDERS_DENIED,
        r.ANONYMOUS_DENIED,
        r.UNRELATED_UNTOUCHED,
    }


def test_without_exempt_services_connect_ingestion_is_denied_too() -> None:
    [document] = printed(sorted(COVERED), services=[])
    verdict = judge_rcp([document], **JUDGED)
    assert [c.name for c in verdict.failures()] == [r.SERVICES_ADMITTED]
    judge_rcp([document], **{**JUDGED, "services": ()}).assert_passed()


def test_the_split_into_several_documents_holds_the_same_verdicts() -> None:
    many = [f"connect-recordings-of-a-contact-centre-{n:03}" for n in range(60)]
    documents = printed([*COVERED, *many])
    assert len(documents) >= 2
    assert all(len(minified(doc)) <= RCP_MAX_CHARACTERS for doc in documents)
    # Every custom bucket with its objects, in one document; every document admits the same principals.
    resources = [res for doc in documents for res in doc["Statement"][0]["Resource"]]
    for bucket in [*many, "a-recordings", "b-transcripts"]:
        assert [d for d in documents if f"arn:aws:s3:::{bucket}" in d["Statement"][0]["Resource"]] == [
            d for d in documents if f"arn:aws:s3:::{bucket}/*" in d["Statement"][0]["Resource"]
        ]
    assert len(resources) == len(set(resources)) == 1 + 2 * (len(many) + 2)
    assert len({json.dumps(d["Statement"][0]["Condition"]) for d in documents}) == 1
    covered = {**COVERED, **{bucket: B for bucket in many}}
    split = judge_rcp(documents, **{**JUDGED, "covered": covered})
    whole = judge_rcp([printed([*COVERED, *many], limit=10**6)[0]], **{**JUDGED, "covered": covered})
    split.assert_passed()
    assert [(c.name, c.passed) for c in split.checks if c.name != r.FITS] == [
        (c.name, c.passed) for c in whole.checks if c.name != r.FITS
    ]
    assert not whole.check(r.FITS).passed


def test_admitted_principals_that_do_not_fit_are_a_usage_error() -> None:
    with pytest.raises(CliError) as raised:
        printed(sorted(COVERED), limit=600)
    assert raised.value.code == exits.EXIT_USAGE
    assert "--admin-role-name" in str(raised.value)


def _mutated(change: Any) -> dict[str, Any]:
    [document] = printed(sorted(COVERED))
    doc = copy.deepcopy(document)
    change(doc["Statement"][0])
    return doc


def _replace_admitted(old: str, new: str) -> Any:
    def change(statement: dict[str, Any]) -> None:
        arns = statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] = [a.replace(old, new) for a in arns]

    return change


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        pytest.param(
            _replace_admitted("${aws:ResourceAccount}:root", "*:root"),
            {r.OTHER_ROOT_DENIED, r.OUTSIDERS_DENIED},
            id="root-of-any-account",
        ),
        pytest.param(
            _replace_admitted("${aws:ResourceAccount}", "*"),
            {r.OTHER_ROOT_DENIED, r.ADMIN_ELSEWHERE_DENIED, r.ENFORCER_ELSEWHERE_DENIED, r.OUTSIDERS_DENIED},
            id="every-account-instead-of-the-bucket's",
        ),
        pytest.param(
            _replace_admitted(":role/*/SecurityAdmin", ":role/*SecurityAdmin"),
            {r.LOOKALIKES_DENIED},
            id="admin-name-as-a-suffix",
        ),
        pytest.param(
            lambda s: s["Condition"].pop("StringNotEqualsIfExists"),
            {r.SERVICES_ADMITTED},
            id="no-service-principal",
        ),
        pytest.param(
            lambda s: s["Condition"].__setitem__("BoolIfExists", {"aws:PrincipalIsAWSService": "false"}),
            {r.OTHER_SERVICE_DENIED},
            id="every-service-principal",
        ),
        pytest.param(
            lambda s: s.__setitem__("Resource", [x for x in s["Resource"] if not x.endswith("/*")]),
            {
                r.OTHER_ROOT_DENIED,
                r.ADMIN_ELSEWHERE_DENIED,
                r.ENFORCER_ELSEWHERE_DENIED,
                r.OTHER_SERVICE_DENIED,
                r.OUTSIDERS_DENIED,
                r.LOOKALIKES_DENIED,
                r.ANONYMOUS_DENIED,
            },
            id="objects-of-custom-buckets-uncovered",
        ),
        pytest.param(
            lambda s: s.__setitem__("Resource", "*"),
            {r.UNRELATED_UNTOUCHED},
            id="every-bucket",
        ),
    ],
)
def test_wrong_rcps_fail_the_right_checks(change: Any, broken: set[str]) -> None:
    verdict = judge_rcp([_mutated(change)], **JUDGED)
    assert {c.name for c in verdict.failures()} == broken


def test_an_rcp_needs_principal_star() -> None:
    verdict = judge_rcp([_mutated(lambda s: s.__setitem__("Principal", {"AWS": "*"}))], **JUDGED)
    assert [c.name for c in verdict.failures()] == [r.PARSES]


@pytest.mark.parametrize(
    ("value", "services"),
    [
        (None, ["connect.amazonaws.com"]),
        ("true", ["connect.amazonaws.com"]),
        ("TRUE", ["connect.amazonaws.com"]),
        ("false", []),
        ("connect.amazonaws.com, transcribe.amazonaws.com", ["connect.amazonaws.com", "transcribe.amazonaws.com"]),
    ],
)
def test_exempt_aws_services(value: str | None, services: list[str]) -> None:
    assert exempt_services({} if value is None else {"EXEMPT_AWS_SERVICES": value}) == services


@pytest.mark.parametrize("value", ["yes", "connect", "connect.amazonaws.com,", "arn:aws:iam::111122223333:root"])
def test_a_bad_exempt_aws_services_is_a_usage_error(value: str) -> None:
    with pytest.raises(CliError) as raised:
        exempt_services({"EXEMPT_AWS_SERVICES": value})
    assert raised.value.code == exits.EXIT_USAGE and "EXEMPT_AWS_SERVICES" in str(raised.value)


# The evaluator's RCP rules (tests/support/policy_eval.py, R14 and R15), on which the judge stands.

RCP_ONLY_OWN_ROOT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::bucket/*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:ResourceAccount}:root"}},
        }
    ],
}
OBJECT = "arn:aws:s3:::bucket/key"


def test_resource_account_variable_is_the_resource_account() -> None:
    levels = policy_eval.rcp_levels_with_full_access(RCP_ONLY_OWN_ROOT)
    root_a = policy_eval.Request.for_root(A, "s3:GetObject", OBJECT)
    assert policy_eval.evaluate_rcps(levels, root_a, resource_account=A) == "allow"
    assert policy_eval.evaluate_rcps(levels, root_a, resource_account=B) == "explicit_deny"
    # A role of the same account is not the root user, whatever the Principal element's meaning of ":root".
    admin = policy_eval.Request.for_role(A, "Admin", "AROAADMIN00000000001", "s3:GetObject", OBJECT)
    assert policy_eval.evaluate_rcps(levels, admin, resource_account=A) == "explicit_deny"


def test_an_rcp_deny_wins_over_identity_and_bucket_policy_allows() -> None:
    admin = policy_eval.Request.for_role(A, "Admin", "AROAADMIN00000000001", "s3:GetObject", OBJECT)
    allow_all = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}],
    }
    decide = policy_eval.evaluate_access
    assert decide(admin, resource_policy=allow_all, resource_account=A) == "allow"
    levels = policy_eval.rcp_levels_with_full_access(RCP_ONLY_OWN_ROOT)
    assert decide(admin, resource_policy=allow_all, resource_account=A, rcp_levels=levels) == "explicit_deny"
    management = decide(
        admin, resource_policy=allow_all, resource_account=A, rcp_levels=levels, resource_in_management_account=True
    )
    assert management == "allow"


def test_service_linked_roles_and_the_management_account_are_not_restricted() -> None:
    levels = policy_eval.rcp_levels_with_full_access(RCP_ONLY_OWN_ROOT)
    slr = policy_eval.Request.for_role(
        A,
        "AWSServiceRoleForAmazonConnect_x",
        "AROASLR0000000000001",
        "s3:PutObject",
        OBJECT,
        path="/aws-service-role/connect.amazonaws.com/",
    )
    assert policy_eval.evaluate_rcps(levels, slr, resource_account=A) == "not_applicable"
    outsider = policy_eval.Request.for_role(A, "Outsider", "AROAOUTSIDER00000001", "s3:GetObject", OBJECT)
    assert policy_eval.evaluate_rcps(levels, outsider, resource_account=A, management_account=True) == "not_applicable"


@pytest.mark.parametrize(
    "change",
    [
        {"Principal": {"AWS": "*"}},
        {"NotAction": "s3:GetObject"},
        {"Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:ResourceAccount:-x}:root"}}},
    ],
)
def test_what_an_rcp_cannot_say_is_refused(change: dict[str, Any]) -> None:
    statement = {**RCP_ONLY_OWN_ROOT["Statement"][0], **change}
    if "NotAction" in change:
        del statement["Action"]
    levels = policy_eval.rcp_levels_with_full_access({"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(policy_eval.PolicyEvaluationError):
        policy_eval.evaluate_rcps(levels, policy_eval.Request.for_root(A, "s3:GetObject", OBJECT), resource_account=A)


def test_a_variable_absent_from_the_request_is_refused() -> None:
    statement = copy.deepcopy(RCP_ONLY_OWN_ROOT["Statement"][0])
    statement["Condition"] = {"StringNotEquals": {"aws:PrincipalAccount": "${aws:SourceAccount}"}}
    levels = policy_eval.rcp_levels_with_full_access({"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(policy_eval.UnsupportedPolicyElement, match="absent from the request"):
        policy_eval.evaluate_rcps(levels, policy_eval.Request.for_root(A, "s3:GetObject", OBJECT), resource_account=A)
    # Bucket policies still refuse variables: only the RCP evaluation implements them.
    with pytest.raises(policy_eval.UnsupportedPolicyElement):
        policy_eval.evaluate_bucket_policy(RCP_ONLY_OWN_ROOT, policy_eval.Request.for_root(A, "s3:GetObject", OBJECT))
