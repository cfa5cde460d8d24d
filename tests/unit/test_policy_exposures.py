"""Exposures: the grants kept beside the lock that would open the bucket without it, or that it lets through.

Examples name each kind; the property judges the function with the independent evaluator: a policy with no
exposure grants nothing to anonymous callers, to another account, or to a service acting for another account.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connect_lockdown import policy as policies
from connect_lockdown.exposures import exposures
from devtools.account import ACCOUNT, OTHER_ACCOUNT
from tests.support import policy_strategies as ps
from tests.support.policy_eval import PolicyEvaluationError, Request, evaluate_bucket_policy

BUCKET = ps.BUCKET
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OBJECT_ARN = f"{BUCKET_ARN}/connect/recording.wav"
LOCK = policies.lockdown_statement(BUCKET, "aws", [ACCOUNT], exempt_aws_services=True)


def grant(principal: Any, *, sid: str | None = "Grant", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject"}
    statement["Resource"] = f"{BUCKET_ARN}/*"
    if sid is not None:
        statement["Sid"] = sid
    if condition is not None:
        statement["Condition"] = condition
    return statement


def of(*statements: dict[str, Any]) -> list[dict[str, str | None]]:
    return exposures({"Version": "2012-10-17", "Statement": [LOCK, *statements]}, account=ACCOUNT)


@pytest.mark.parametrize(
    ("principal", "condition", "expected"),
    [
        ("*", None, [("public", "*")]),
        ({"AWS": "*"}, None, [("public", "*")]),
        ({"AWS": ["*", f"arn:aws:iam::{ACCOUNT}:root"]}, None, [("public", "*")]),
        # A condition that does not pin the caller to the account leaves it public.
        ("*", {"Bool": {"aws:SecureTransport": "true"}}, [("public", "*")]),
        ("*", {"StringNotEquals": {"aws:PrincipalAccount": OTHER_ACCOUNT}}, [("public", "*")]),
        ("*", {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}, [("public", "*")]),
        ("*", {"StringEquals": {"aws:PrincipalAccount": [ACCOUNT, OTHER_ACCOUNT]}}, [("public", "*")]),
        # Pinned to the bucket's own account: nobody outside it.
        ("*", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, []),
        ("*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, []),
        ({"AWS": OTHER_ACCOUNT}, None, [("other-account", OTHER_ACCOUNT)]),
        (
            {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader"},
            None,
            [("other-account", f"arn:aws:iam::{OTHER_ACCOUNT}:role/reader")],
        ),
        (
            {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1"},
            None,
            [("other-account", "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1")],
        ),
        ({"CanonicalUser": "79a59df9"}, None, [("other-account", "79a59df9")]),
        ({"AWS": [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/replication"]}, None, []),
        ({"Service": "cloudfront.amazonaws.com"}, None, [("service-without-source", "cloudfront.amazonaws.com")]),
        # IfExists or negated operators on the source keys are true when the key is absent: no source tie.
        (
            {"Service": "logging.s3.amazonaws.com"},
            {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}},
            [("service-without-source", "logging.s3.amazonaws.com")],
        ),
        ({"Service": "logging.s3.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, []),
        ({"Service": "cloudfront.amazonaws.com"}, {"ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::*"}}, []),
        ({"Service": "logging.s3.amazonaws.com"}, {"StringEquals": {"aws:SourceOrgID": "o-a1b2c3d4e5"}}, []),
    ],
)
def test_each_kind(principal: Any, condition: dict[str, Any] | None, expected: list[tuple[str, str]]) -> None:
    found = of(grant(principal, condition=condition))
    assert [(e["kind"], e["principal"]) for e in found] == expected
    assert all(e["sid"] == "Grant" for e in found)


def test_denies_the_lock_and_other_accounts_allows_are_not_exposures() -> None:
    deny_other = {"Effect": "Deny", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "s3:*", "Resource": BUCKET_ARN}
    assert of(deny_other) == []
    assert exposures({"Statement": [LOCK]}, account=ACCOUNT) == []
    assert exposures(None, account=ACCOUNT) == []


def test_an_allow_with_not_principal_is_public() -> None:
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": OTHER_ACCOUNT}, "Action": "s3:*", "Resource": "*"}
    assert of(statement) == [{"sid": None, "kind": "public", "principal": "*"}]


def test_order_sid_and_one_entry_per_grant() -> None:
    found = of(
        grant({"Service": ["cloudfront.amazonaws.com", "cloudfront.amazonaws.com"]}, sid="Cdn"),
        grant("*", sid=None),
        grant({"AWS": [OTHER_ACCOUNT, f"arn:aws:iam::{OTHER_ACCOUNT}:root"]}, sid="Partner"),
    )
    assert found == [
        {"sid": "Cdn", "kind": "service-without-source", "principal": "cloudfront.amazonaws.com"},
        {"sid": None, "kind": "public", "principal": "*"},
        {"sid": "Partner", "kind": "other-account", "principal": OTHER_ACCOUNT},
        {"sid": "Partner", "kind": "other-account", "principal": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
    ]


def test_a_service_the_lock_lets_through_is_listed_too() -> None:
    """Connect passes the lock by its service name; a grant to it without a source is open now, not only later."""
    assert of(grant({"Service": "connect.amazonaws.com"})) == [
        {"sid": "Grant", "kind": "service-without-source", "principal": "connect.amazonaws.com"}
    ]


# -- the property ----------------------------------------------------------------------------------

# Callers from outside the bucket's account, each asking for an object and for the bucket.
OUTSIDERS = [
    lambda action, resource: Request.anonymous(action, resource),
    lambda action, resource: Request.for_role(OTHER_ACCOUNT, "reader", "AROAOTHERREADER00001", action, resource),
    lambda action, resource: Request.for_root(OTHER_ACCOUNT, action, resource),
    lambda action, resource: Request.for_service("logging.s3.amazonaws.com", action, resource),
    lambda action, resource: Request.for_service("cloudfront.amazonaws.com", action, resource),
]
PROBES = [("s3:GetObject", OBJECT_ARN), ("s3:ListBucket", BUCKET_ARN), ("s3:PutBucketPolicy", BUCKET_ARN)]


@settings(max_examples=300, deadline=None)
@given(st.lists(ps.foreign_statements(bucket=BUCKET), min_size=1, max_size=4))
def test_a_policy_without_exposures_opens_nothing_to_outsiders(statements: list[dict[str, Any]]) -> None:
    policy = {"Version": "2012-10-17", "Statement": statements}
    if exposures(policy, account=ACCOUNT):
        return
    for outsider in OUTSIDERS:
        for action, resource in PROBES:
            try:
                decision = evaluate_bucket_policy(policy, outsider(action, resource))
            except PolicyEvaluationError:
                continue  # a form the evaluator does not decide ({"AWS": "*"} for a service): no verdict either way
            assert decision != "allow", (outsider(action, resource), policy)


@settings(max_examples=300, deadline=None)
@given(st.lists(ps.foreign_statements(bucket=BUCKET, evaluable=False), max_size=4))
def test_every_exposure_names_an_allow_of_the_policy(statements: list[dict[str, Any]]) -> None:
    """Pure and total: any policy as read gives a list of well-formed entries, each from one of its Allows."""
    policy = {"Version": "2012-10-17", "Statement": [LOCK, *statements]}
    found = exposures(policy, account=ACCOUNT)
    sids = {s.get("Sid") if isinstance(s.get("Sid"), str) else None for s in statements if s.get("Effect") == "Allow"}
    for exposure in found:
        assert set(exposure) == {"sid", "kind", "principal"}
        assert exposure["kind"] in ("public", "other-account", "service-without-source")
        assert exposure["sid"] in sids
    assert len(found) == len({tuple(e.items()) for e in found})
    assert exposures(policy, account=ACCOUNT) == found
