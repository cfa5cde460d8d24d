"""A policy text with a repeated JSON key is drift, and its rewrite keeps one copy of each statement.

Python's json (and JavaScript's) keeps the last copy of a repeated key; which copy IAM reads is not documented. An
attacker who puts their own allowlist first in a repeated `aws:userId` would have a lock that reads as compliant
here and may admit them there. So such a policy is never compliant, whatever its copies say.
"""

from __future__ import annotations

import json
from typing import Any

from connect_lockdown import policy as policies
from connect_lockdown.decide import decide, describe_differences
from connect_lockdown.outcomes import Outcome
from tests.support import callers
from tests.support.policy_eval import evaluate_bucket_policy, is_denied

BUCKET = callers.BUCKET
ALLOWED = [callers.ACCOUNT, f"{callers.ENFORCER_ROLE_ID}:*", f"{callers.CONNECT_ROLE_ID}:*"]
LOCK = policies.lockdown_statement(
    BUCKET, "aws", ALLOWED, enforcer_arn=callers.enforcer_role_arn(), exempt_aws_services=True
)
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [callers.bucket_arn(), f"{callers.bucket_arn()}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def lock_with_intruder_first() -> str:
    """The lock as the enforcer writes it, with an intruder's allowlist as a first copy of aws:userId."""
    text = compact({"Version": "2012-10-17", "Statement": [TLS_ONLY, LOCK]})
    ours = compact({"aws:userId": sorted(ALLOWED)})[1:-1]
    return text.replace(ours, '"aws:userId":["AROAINTRUDER00000001:*"],' + ours)


def decide_on(current: dict[str, Any] | None) -> Any:
    return decide(
        BUCKET,
        current,
        LOCK,
        merge_mode="preserve",
        dry_run=False,
        required=frozenset({callers.ACCOUNT, f"{callers.ENFORCER_ROLE_ID}:*"}),
    )


def test_a_repeated_user_id_key_is_drift_and_the_rewrite_has_one_copy() -> None:
    text = lock_with_intruder_first()
    current = policies.parse_policy(text)
    # What json.loads alone would say: the last copy, exactly the expected policy.
    assert json.loads(text) == {"Version": "2012-10-17", "Statement": [TLS_ONLY, LOCK]}
    assert policies.duplicate_keys_of(current) == ("Statement[1].Condition.StringNotLike.aws:userId",)
    assert not policies.equivalent(current, current)
    decision = decide_on(current)
    assert decision.outcome is Outcome.REMEDIATED
    assert "repeated" in decision.reason and "aws:userId" in decision.reason
    assert decision.expected == {"Version": "2012-10-17", "Statement": [TLS_ONLY, LOCK]}
    written = policies.parse_policy(policies.serialise(decision.expected))
    assert policies.duplicate_keys_of(written) == ()
    assert decide_on(written).outcome is Outcome.COMPLIANT
    intruder = callers.role_session(
        "s3:GetObject", callers.object_arn(), name="Intruder", role_id="AROAINTRUDER00000001"
    )
    assert is_denied(written, intruder)
    assert not is_denied(written, callers.connect_role("s3:GetObject", callers.object_arn()))


def test_a_repeated_statement_key_keeps_every_statement_once() -> None:
    grant = {
        "Sid": "Replication",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{callers.ACCOUNT}:role/r"},
        "Action": "s3:GetObject",
        "Resource": f"{callers.bucket_arn()}/*",
    }
    first = compact([TLS_ONLY, grant])
    second = compact([grant, LOCK])
    text = f'{{"Version":"2012-10-17","Statement":{first},"Statement":{second}}}'
    current = policies.parse_policy(text)
    assert current is not None
    assert current["Statement"] == [TLS_ONLY, grant, LOCK]
    assert policies.duplicate_keys_of(current) == ("Statement",)
    decision = decide_on(current)
    assert decision.outcome is Outcome.REMEDIATED
    assert decision.expected["Statement"] == [TLS_ONLY, grant, LOCK]


def test_a_statement_that_is_the_lock_in_one_copy_only_is_kept() -> None:
    """Lose nothing: a repeated Sid that names the lock in one copy leaves the statement someone else's."""
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{callers.bucket_arn()}/*"}
    body = compact(public)[1:-1]
    text = (
        '{"Version":"2012-10-17","Statement":['
        + f'{{"Sid":"Website",{body},"Sid":"{policies.LOCKDOWN_SID}"}},'
        + compact(LOCK)
        + "]}"
    )
    current = policies.parse_policy(text)
    assert current is not None
    assert current["Statement"][0] == {"Sid": "Website", **public}
    decision = decide_on(current)
    assert decision.expected["Statement"] == [{"Sid": "Website", **public}, LOCK]
    # The lock still denies the public grant to anonymous callers, whichever way it is read.
    for documented in (True, False):
        anonymous = callers.anonymous("s3:GetObject", callers.object_arn(), documented=documented)
        assert evaluate_bucket_policy(decision.expected, anonymous) == "explicit_deny"


def test_repeated_keys_elsewhere_keep_the_last_copy_and_are_named() -> None:
    text = (
        '{"Version":"2008-10-17","Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow",'
        '"Principal":"*","Action":"s3:GetObject","Resource":"*"}]}'
    )
    current = policies.parse_policy(text)
    assert current is not None
    assert current["Version"] == "2012-10-17" and current["Statement"][0]["Effect"] == "Allow"
    assert set(policies.duplicate_keys_of(current)) == {"Version", "Statement[0].Effect"}
    assert describe_differences(current, {"Statement": [LOCK]})[0].startswith("the policy repeats")


def test_a_policy_without_repeats_reads_as_before() -> None:
    text = compact({"Version": "2012-10-17", "Statement": [TLS_ONLY, LOCK]})
    current = policies.parse_policy(text)
    assert current == json.loads(text)
    assert policies.duplicate_keys_of(current) == ()
    assert decide_on(current).outcome is Outcome.COMPLIANT
