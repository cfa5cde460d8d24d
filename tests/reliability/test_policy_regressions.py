"""Regressions for the bugs the reliability properties found in policy.py, one example each.

1. A second spelling of `aws:userId` in our statement (`AWS:UserId`) was read as the same key, the last one
   winning: the comparison called a lock compliant that admits an intruder (IAM ANDs the two conditions).
2. Whitespace inside values was stripped before comparing: an allowlist entry "AROA...:* " (which IAM matches
   literally, locking that principal out) or an Effect "Deny " counted as compliant.
3. A lone surrogate in someone's statement (read from a JSON escape such as \\ud800) made measuring and
   writing the merged policy raise UnicodeEncodeError: an unhandled exception instead of a result.
4. `{"AWS": ["*", "*"]}` was not recognised as "*": a needless rewrite of an equivalent policy.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from connect_lockdown import policy as policies
from connect_lockdown.config import Settings
from connect_lockdown.reconcile import Enforcer
from devtools.account import ACCOUNT
from devtools.events import load_event
from tests.support.fake_aws import FakeAws
from tests.support.policy_eval import Request, is_denied

BUCKET = "amazon-connect-25fd0a3be3ef"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:connect-lockdown"
PATTERNS = {ACCOUNT, "AROASERVICEROLE00001:*", "AROAENFORCER000001:*"}
RESOURCE = f"arn:aws:s3:::{BUCKET}/call.wav"


def expected() -> dict[str, Any]:
    return policies.merge(None, policies.lockdown_statement(BUCKET, "aws", PATTERNS), "preserve")


def test_a_second_spelling_of_the_user_id_key_is_drift() -> None:
    bent = copy.deepcopy(expected())
    bent["Statement"][0]["Condition"]["StringNotLike"]["AWS:UserId"] = ["AROAINTRUDER000001:*"]
    intruder = Request.for_role(ACCOUNT, "intruder", "AROAINTRUDER000001", "s3:GetObject", RESOURCE)

    assert not is_denied(bent, intruder), "IAM admits the intruder: the lock is broken"
    assert not policies.equivalent(expected(), bent)
    # The key order must not matter either (the last spelling used to win)
    first = copy.deepcopy(expected())
    block = first["Statement"][0]["Condition"]["StringNotLike"]
    first["Statement"][0]["Condition"]["StringNotLike"] = {"AWS:UserId": ["AROAINTRUDER000001:*"], **block}
    assert not policies.equivalent(expected(), first)


def test_condition_key_case_alone_is_still_representation() -> None:
    recased = copy.deepcopy(expected())
    block = recased["Statement"][0]["Condition"]["StringNotLike"]
    recased["Statement"][0]["Condition"]["StringNotLike"] = {"AWS:USERID": block["aws:userId"]}
    assert policies.equivalent(expected(), recased)


def test_whitespace_inside_values_is_drift() -> None:
    padded = copy.deepcopy(expected())
    values = padded["Statement"][0]["Condition"]["StringNotLike"]["aws:userId"]
    padded["Statement"][0]["Condition"]["StringNotLike"]["aws:userId"] = [v + " " for v in values]
    service = Request.for_role(ACCOUNT, "service", "AROASERVICEROLE00001", "s3:PutObject", RESOURCE)

    assert is_denied(padded, service), "IAM locks the service role out"
    assert not policies.equivalent(expected(), padded)
    effect = copy.deepcopy(expected())
    effect["Statement"][0]["Effect"] = "Deny "
    assert not policies.equivalent(expected(), effect)
    # JSON whitespace around values is formatting, not meaning
    assert policies.equivalent(expected(), json.loads(json.dumps(expected(), indent=4)))


def test_a_lone_surrogate_in_someones_statement_is_written_as_its_escape() -> None:
    theirs = {
        "Sid": "Odd",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "\ud800\U0001f512"}},
    }
    fake = FakeAws()
    fake.create_bucket(BUCKET, policy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]}))
    fake.create_instance("contact-centre", (BUCKET,))
    merged = policies.merge({"Statement": [theirs]}, policies.lockdown_statement(BUCKET, "aws", PATTERNS), "preserve")

    text = policies.serialise(merged)

    assert text.isascii() and "\\ud800" in text
    assert policies.policy_size(merged) == len(text.encode("utf-8"))
    assert json.loads(text) == merged
    # Through the enforcer: a result, and the statement written back as it was
    [result] = (
        Enforcer(Settings(topic_arn=TOPIC), fake).handle_event(load_event("s3-PutBucketPolicy", bucket=BUCKET)).results
    )
    assert result.outcome == "remediated"
    assert policies.foreign_statements(fake.policy(BUCKET)) == [theirs]


def test_text_without_surrogates_keeps_its_characters() -> None:
    policy = {"Statement": [{"Sid": "x", "Condition": {"StringEquals": {"k": "\u00e9t\u00e9 \U0001f512"}}}]}
    assert "\u00e9t\u00e9 \U0001f512" in policies.serialise(policy)


def test_everyone_listed_twice_is_everyone() -> None:
    twice = copy.deepcopy(expected())
    twice["Statement"][0]["Principal"] = {"AWS": ["*", "*"]}
    assert policies.equivalent(expected(), twice)
    named = copy.deepcopy(expected())
    named["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert not policies.equivalent(expected(), named)
