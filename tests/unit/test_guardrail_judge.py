"""The guardrail judge (tests/support/guardrail_cases.py) passes a correct SCP and fails wrong ones.

The correct document has the shape ``connect-lockdown guardrail`` prints (docs/interface.md,
"A preventive guardrail"). Each wrong one differs by one plausible mistake, and the
judge must name the check it breaks.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support import guardrail_cases as g
from tests.support.guardrail_cases import judge_guardrail

MEMBER = "111122223333"
BREAK_GLASS = f"arn:aws:iam::{MEMBER}:role/BreakGlass"
DEPLOYER = f"arn:aws:iam::{MEMBER}:role/stacksets-exec-0123456789abcdef"
ROLE_GUARD: dict[str, Any] = {
    "Sid": "ConnectLockdownEnforcerRoleName",
    "Effect": "Deny",
    "Action": ["iam:CreateRole", "iam:PassRole", "iam:UpdateAssumeRolePolicy"],
    "Resource": [
        "arn:aws:iam::*:role/connect-lockdown-enforcer-us-east-1",
        "arn:aws:iam::*:role/connect-lockdown-enforcer-eu-west-2",
    ],
    "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/stacksets-exec-*", BREAK_GLASS]}},
}
COVERED = ["amazon-connect-0123456789ab", "custom-bucket"]

GOOD: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ConnectBucketPolicyGuardrail",
            "Effect": "Deny",
            "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
            "Resource": ["arn:aws:s3:::amazon-connect-*", "arn:aws:s3:::custom-bucket"],
            "Condition": {
                "ArnNotLike": {
                    "aws:PrincipalArn": ["arn:aws:iam::*:role/connect-lockdown-enforcer-*", BREAK_GLASS],
                }
            },
        },
        ROLE_GUARD,
    ],
}


# What a bucket or action left uncovered breaks: nobody of a member account is stopped there.
UNCOVERED = {g.OUTSIDER_DENIED, g.OUTSIDER_USER_DENIED, g.ROOT_DENIED, g.BREAK_GLASS_NAME_ELSEWHERE_DENIED}


def _judge(*docs: Any, **kwargs: Any) -> g.GuardrailVerdict:
    kwargs.setdefault("covered_buckets", COVERED)
    kwargs.setdefault("break_glass_role_arns", [BREAK_GLASS])
    kwargs.setdefault("deployer_role_arns", [DEPLOYER])
    kwargs.setdefault("regions", ["us-east-1", "eu-west-2"])
    return judge_guardrail(list(docs), **kwargs)


def _mutated(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    change(doc["Statement"][0])
    return doc


def test_the_correct_document_passes_every_check() -> None:
    verdict = _judge(GOOD)
    verdict.assert_passed()
    for name in (
        g.PARSES,
        g.FITS,
        g.OUTSIDER_DENIED,
        g.OUTSIDER_USER_DENIED,
        g.ROOT_DENIED,
        g.ENFORCER_ALLOWED,
        g.BREAK_GLASS_ALLOWED,
        g.BREAK_GLASS_NAME_ELSEWHERE_DENIED,
        g.UNRELATED_BUCKET_UNAFFECTED,
        g.OBJECT_ACCESS_UNAFFECTED,
        g.MANAGEMENT_UNAFFECTED,
        g.SERVICE_LINKED_ROLE_UNAFFECTED,
    ):
        assert verdict.check(name).passed, name


def test_the_correct_document_as_printed_json_text_passes() -> None:
    _judge(json.dumps(GOOD, indent=2)).assert_passed()


def test_advisories_of_a_name_prefix_exemption() -> None:
    verdict = _judge(GOOD)
    notes = {c.name for c in verdict.advisories()}
    # "role/connect-lockdown-enforcer-*" also exempts look-alike names and paths a member-account
    # administrator could create; the amazon-connect-* pattern covers buckets created later.
    assert notes == {g.ADVISORY_LOOKALIKE_NAME, g.ADVISORY_LOOKALIKE_PATH}
    assert verdict.check(g.ADVISORY_NEW_DEFAULT_BUCKET).passed


def test_exact_enforcer_names_clear_the_look_alike_advisories() -> None:
    exact = _mutated(
        lambda s: s["Condition"]["ArnNotLike"].__setitem__(
            "aws:PrincipalArn",
            [
                "arn:aws:iam::*:role/connect-lockdown-enforcer-us-east-1",
                "arn:aws:iam::*:role/connect-lockdown-enforcer-eu-west-2",
                BREAK_GLASS,
            ],
        )
    )
    verdict = _judge(exact)
    verdict.assert_passed()
    assert verdict.advisories() == []


def test_listing_buckets_without_the_default_pattern_leaves_new_buckets_uncovered() -> None:
    listed = _mutated(lambda s: s.__setitem__("Resource", [f"arn:aws:s3:::{b}" for b in COVERED]))
    verdict = _judge(listed)
    verdict.assert_passed()
    assert not verdict.check(g.ADVISORY_NEW_DEFAULT_BUCKET).passed


def test_equivalent_wording_passes() -> None:
    # The judge looks at behaviour, not text: StringNotLike matches these ARN patterns the same way.
    reworded = _mutated(lambda s: s["Condition"].__setitem__("StringNotLike", s["Condition"].pop("ArnNotLike")))
    _judge(reworded).assert_passed()


def test_split_documents_pass_together() -> None:
    first = _mutated(lambda s: s.__setitem__("Resource", ["arn:aws:s3:::amazon-connect-*"]))
    second = _mutated(lambda s: s.__setitem__("Resource", ["arn:aws:s3:::custom-bucket"]))
    _judge(first, second).assert_passed()


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        pytest.param(
            lambda s: s["Condition"].__setitem__("ArnLike", s["Condition"].pop("ArnNotLike")),
            {
                g.OUTSIDER_DENIED,
                g.OUTSIDER_USER_DENIED,
                g.ROOT_DENIED,
                g.ENFORCER_ALLOWED,
                g.BREAK_GLASS_ALLOWED,
                g.BREAK_GLASS_NAME_ELSEWHERE_DENIED,
            },
            id="ArnLike-instead-of-ArnNotLike",
        ),
        pytest.param(
            lambda s: s.__setitem__("Resource", ["arn:aws:s3:::amazon-connect-*"]),
            UNCOVERED,
            id="custom-bucket-missing",
        ),
        pytest.param(
            lambda s: s.__setitem__("Action", ["s3:PutBucketPolicy"]),
            UNCOVERED,
            id="DeleteBucketPolicy-missing",
        ),
        pytest.param(
            lambda s: s.__setitem__("Action", "s3:*"),
            {g.OBJECT_ACCESS_UNAFFECTED},
            id="all-of-s3-denied",
        ),
        pytest.param(
            lambda s: s.__setitem__("Resource", "*"),
            {g.UNRELATED_BUCKET_UNAFFECTED},
            id="every-bucket",
        ),
        pytest.param(
            lambda s: s["Condition"]["ArnNotLike"].__setitem__(
                "aws:PrincipalArn", ["arn:aws:iam::*:role/connect-lockdown-enforcer-*"]
            ),
            {g.BREAK_GLASS_ALLOWED},
            id="break-glass-missing",
        ),
        pytest.param(
            lambda s: s["Condition"]["ArnNotLike"].__setitem__(
                "aws:PrincipalArn",
                ["arn:aws:iam::*:role/connect-lockdown-enforcer-*", "arn:aws:iam::*:role/BreakGlass"],
            ),
            {g.BREAK_GLASS_NAME_ELSEWHERE_DENIED},
            id="break-glass-in-every-account",
        ),
        pytest.param(
            lambda s: s["Condition"]["ArnNotLike"].__setitem__(
                "aws:PrincipalArn", ["arn:aws:iam::111122223333:role/connect-lockdown-enforcer-*", BREAK_GLASS]
            ),
            {g.ENFORCER_ALLOWED},
            id="enforcer-exempt-in-one-account-only",
        ),
        pytest.param(
            lambda s: s["Condition"]["ArnNotLike"].__setitem__(
                "aws:PrincipalArn", ["arn:aws:iam::*:role/connect-lockdown-enforcer", BREAK_GLASS]
            ),
            {g.ENFORCER_ALLOWED},
            id="enforcer-name-without-region",
        ),
        pytest.param(
            lambda s: s["Condition"]["ArnNotLike"].__setitem__(
                "aws:PrincipalArn", ["arn:aws:sts::*:assumed-role/connect-lockdown-enforcer-*/*", BREAK_GLASS]
            ),
            {g.ENFORCER_ALLOWED},
            id="session-arn-instead-of-role-arn",
        ),
        pytest.param(
            lambda s: s["Condition"].__setitem__("Bool", {"aws:PrincipalIsAWSService": "false"}),
            set(),
            id="harmless-extra-block",
        ),
    ],
)
def test_wrong_documents_fail_the_right_checks(change: Any, broken: set[str]) -> None:
    verdict = _judge(_mutated(change))
    assert {c.name for c in verdict.failures()} == broken
    assert verdict.passed is (not broken)
    if broken:
        with pytest.raises(AssertionError, match="FAIL"):
            verdict.assert_passed()


def test_a_principal_element_makes_it_no_scp() -> None:
    verdict = _judge(_mutated(lambda s: s.__setitem__("Principal", "*")))
    assert [c.name for c in verdict.failures()] == [g.PARSES]
    assert "Principal" in verdict.failures()[0].detail


def test_an_oversized_document_fails_the_size_check() -> None:
    many = [f"arn:aws:s3:::custom-bucket-{i:04d}-with-a-long-name-for-size" for i in range(120)]
    big = _mutated(
        lambda s: s.__setitem__("Resource", ["arn:aws:s3:::amazon-connect-*", "arn:aws:s3:::custom-bucket", *many])
    )
    verdict = _judge(big)
    assert [c.name for c in verdict.failures()] == [g.FITS]


def test_the_judge_needs_two_member_accounts_and_a_separate_management_account() -> None:
    with pytest.raises(ValueError):
        _judge(GOOD, member_accounts=[MEMBER])
    with pytest.raises(ValueError):
        _judge(GOOD, management_account=MEMBER)
    with pytest.raises(ValueError):
        judge_guardrail([], covered_buckets=COVERED)


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_other_partitions(partition: str) -> None:
    text = json.dumps(GOOD).replace("arn:aws:", f"arn:{partition}:")
    glass = BREAK_GLASS.replace("arn:aws:", f"arn:{partition}:")
    _judge(text, partition=partition, break_glass_role_arns=[glass]).assert_passed()
    # A document still written for the commercial partition covers nothing there.
    verdict = _judge(GOOD, partition=partition, break_glass_role_arns=[glass])
    assert g.OUTSIDER_DENIED in {c.name for c in verdict.failures()}


def _guard_mutated(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    change(doc["Statement"][1])
    return doc


@pytest.mark.parametrize(
    ("change", "broken"),
    [
        pytest.param(
            lambda s: s.__setitem__("Action", ["iam:CreateRole"]),
            {g.ENFORCER_NAME_GUARDED},
            id="PassRole-and-trust-changes-left-open",
        ),
        pytest.param(
            lambda s: s["Condition"]["ArnNotLike"].__setitem__("aws:PrincipalArn", [BREAK_GLASS]),
            {g.DEPLOYER_ALLOWED},
            id="deployer-not-exempt",
        ),
        pytest.param(
            lambda s: s.__setitem__("Resource", "arn:aws:iam::*:role/*"),
            {g.OTHER_ROLE_NAMES_UNAFFECTED},
            id="every-role-name",
        ),
        pytest.param(
            lambda s: s.__setitem__("Resource", ["arn:aws:iam::*:role/connect-lockdown-enforcer-us-east-1"]),
            {g.ENFORCER_NAME_GUARDED},
            id="one-Region-only",
        ),
    ],
)
def test_wrong_role_guards_fail_the_right_checks(change: Any, broken: set[str]) -> None:
    verdict = _judge(_guard_mutated(change))
    assert {c.name for c in verdict.failures()} == broken


def test_without_the_role_guard_the_enforcer_name_is_open() -> None:
    doc = copy.deepcopy(GOOD)
    doc["Statement"].pop()
    assert {c.name for c in _judge(doc).failures()} == {g.ENFORCER_NAME_GUARDED}
