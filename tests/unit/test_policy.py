"""The policy algebra: build, compare, merge. Pure functions, no AWS."""

import json
from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.policy import LOCKDOWN_SID
from tests.support.policies import deny_insecure_transport

BUCKET = "amazon-connect-25fd0a3be3ef"
PATTERNS = {"AROASERVICEROLE:*", "AROAADMIN:*", "AROAENFORCER:*", "123456789012"}


def ours(patterns=PATTERNS, partition="aws"):
    return policies.lockdown_statement(BUCKET, partition, patterns)


FOREIGN: dict[str, Any] = {
    "Sid": "AllowReplication",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/replication"},
    "Action": ["s3:GetObjectVersion", "s3:ReplicateObject"],
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
FOREIGN_NO_SID = deny_insecure_transport(BUCKET, sid=None)


def test_statement_is_the_guidance_deny():
    statement = ours()
    assert statement == {
        "Sid": LOCKDOWN_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"StringNotLike": {"aws:userId": sorted(PATTERNS)}},
    }


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_resources_are_partition_aware(partition):
    assert ours(partition=partition)["Resource"] == [
        f"arn:{partition}:s3:::{BUCKET}",
        f"arn:{partition}:s3:::{BUCKET}/*",
    ]


def test_user_id_patterns():
    assert policies.allowed_user_id_pattern("AROAXYZ") == "AROAXYZ:*"
    assert policies.allowed_user_id_pattern("AIDAXYZ") == "AIDAXYZ"
    assert policies.allowed_user_id_pattern("123456789012") == "123456789012"


def test_statement_needs_a_principal():
    with pytest.raises(ValueError):
        policies.lockdown_statement(BUCKET, "aws", [])


def test_preserve_keeps_foreign_statements_in_order_and_replaces_ours():
    drifted = dict(ours(), Condition={"StringNotLike": {"aws:userId": ["AROAOLD:*"]}})
    current = {"Version": "2012-10-17", "Id": "keep-me", "Statement": [FOREIGN, drifted, FOREIGN_NO_SID]}
    merged = policies.merge(current, ours(), "preserve")
    assert merged == {"Version": "2012-10-17", "Id": "keep-me", "Statement": [FOREIGN, ours(), FOREIGN_NO_SID]}


def test_preserve_collapses_duplicates_of_our_sid():
    current = {"Version": "2012-10-17", "Statement": [ours(), FOREIGN, ours({"AROAOLD:*"})]}
    merged = policies.merge(current, ours(), "preserve")
    assert merged["Statement"] == [ours(), FOREIGN]


def test_preserve_adds_ours_when_missing_and_accepts_a_single_statement_object():
    current = {"Version": "2008-10-17", "Statement": FOREIGN}
    merged = policies.merge(current, ours(), "preserve")
    assert merged == {"Version": "2008-10-17", "Statement": [FOREIGN, ours()]}


def test_replace_keeps_ours_alone():
    current = {"Version": "2012-10-17", "Statement": [FOREIGN, ours({"AROAOLD:*"})]}
    assert policies.merge(current, ours(), "replace") == {"Version": "2012-10-17", "Statement": [ours()]}


def test_missing_policy_gets_ours_alone():
    assert policies.merge(None, ours(), "preserve") == {"Version": "2012-10-17", "Statement": [ours()]}


def test_representation_is_not_drift():
    statement = ours()
    reshaped = {
        "Condition": {"StringNotLike": {"AWS:UserId": list(reversed(sorted(PATTERNS)))}},
        "Resource": list(reversed(statement["Resource"])),
        "Action": ["S3:*"],
        "Principal": {"AWS": "*"},
        "Effect": "Deny",
        "Sid": LOCKDOWN_SID,
    }
    left = {"Version": "2012-10-17", "Statement": [FOREIGN, statement]}
    right = {"Statement": [reshaped, dict(FOREIGN, Action=list(reversed(FOREIGN["Action"])))], "Version": "2012-10-17"}
    assert policies.equivalent(left, right)
    # Whitespace in the document text is not drift either.
    assert policies.equivalent(json.loads(json.dumps(left, indent=4)), right)


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.update(Effect="Allow"),
        lambda s: s.update(Action="s3:GetObject"),
        lambda s: s.update(Resource=[s["Resource"][0]]),
        lambda s: s["Condition"]["StringNotLike"].update({"aws:userId": ["AROAOTHER:*", "123456789012"]}),
        lambda s: s.update(Condition={"StringNotEquals": s["Condition"]["StringNotLike"]}),
        lambda s: s.update(Principal={"AWS": "arn:aws:iam::123456789012:root"}),
        lambda s: s.pop("Condition"),
    ],
)
def test_a_changed_statement_is_drift(change):
    expected = {"Version": "2012-10-17", "Statement": [ours()]}
    changed = json.loads(json.dumps(expected))
    change(changed["Statement"][0])
    assert not policies.equivalent(expected, changed)


def test_missing_policy_is_drift():
    assert not policies.equivalent(None, {"Version": "2012-10-17", "Statement": [ours()]})


def test_parse_policy():
    assert policies.parse_policy(None) is None
    assert policies.parse_policy('{"Version":"2012-10-17","Statement":[]}') == {
        "Version": "2012-10-17",
        "Statement": [],
    }
    for bad in ["not json", "[]", '{"Statement": "x"}', '{"Statement": [1]}']:
        with pytest.raises(policies.PolicyError):
            policies.parse_policy(bad)


def test_size_counts_utf8_bytes():
    document = {"Version": "2012-10-17", "Statement": [dict(FOREIGN, Sid="é" * 10)]}
    assert policies.policy_size(document) == len(policies.serialise(document).encode("utf-8"))
    assert policies.policy_size(document) > len(policies.serialise(document))


def test_allowed_patterns_of_reads_the_condition():
    assert policies.allowed_patterns_of(ours()) == PATTERNS
    assert policies.allowed_patterns_of({"Sid": LOCKDOWN_SID}) == set()
