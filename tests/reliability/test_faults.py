"""Faults, through the Lambda handler on in-process moto.

Each failure is injected at botocore's `before-call` hook (devtools/botocore_hooks.py), so it reaches the enforcer
exactly as AWS's answer would after botocore's retries. Throttling, which botocore does retry, is in
tests/integration/test_faults_http.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.outcomes import RetryLater
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import ACCOUNT, Instance, World
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app
from tests.support.policies import public_read
from tests.support.policy_eval import Request, matching_statements

BUCKET = "amazon-connect-25fd0a3be3ef"
CONTEXT = lambda_context("req-faults")
ARN = f"arn:aws:s3:::{BUCKET}"
PUBLIC = public_read(BUCKET)


@pytest.fixture(autouse=True)
def _forget_app() -> Iterator[None]:
    yield
    sys.modules.pop("app", None)


def metrics_of(output: str) -> list[str]:
    """The EMF metric names the handler printed."""
    names = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            names += [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return names


def handler_with_faults(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, AwsHooks]:
    app = load_app(world, monkeypatch)
    return app, AwsHooks().attach_gateway(app.ENFORCER.gateway)


def lock_holds(policy: Any, instance: Instance, world: World) -> bool:
    resource = f"{ARN}/calls/1.wav"
    ours = ("Deny", policies.LOCKDOWN_SID)
    outsider = Request.for_role(ACCOUNT, "outsider", "AROAOUTSIDER0000001", "s3:GetObject", resource)
    service = Request.for_role(ACCOUNT, instance.role_arn.rsplit("/", 1)[1], instance.role_id, "s3:PutObject", resource)
    enforcer = Request.for_role(
        ACCOUNT, "test-lockdown-enforcer-us-east-1", world.enforcer_role_id, "s3:GetBucketPolicy", ARN
    )
    return (
        ours in matching_statements(policy, outsider)
        and ours not in matching_statements(policy, service)
        and ours not in matching_statements(policy, enforcer)
    )


# --- AccessDenied on the write ---------------------------------------------------------------------


def test_access_denied_on_put_bucket_policy_fails_clearly_and_alerts_with_the_permission(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    world.put_policy(BUCKET, {"Version": "2012-10-17", "Statement": [PUBLIC]})
    app, faults = handler_with_faults(world, monkeypatch)
    faults.fail("PutBucketPolicy", "AccessDenied", status=403)

    document = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)

    [result] = document["results"]
    assert result["outcome"] == "failed"
    assert "PutBucketPolicy" in result["reason"] and "s3:PutBucketPolicy" in result["reason"]
    assert result["applied_policy"] is None
    assert world.policy(BUCKET)["Statement"] == [PUBLIC]
    [alert] = world.alerts()
    assert (alert["attributes"]["outcome"], alert["attributes"]["bucket"]) == ("failed", BUCKET)
    assert "s3:PutBucketPolicy" in alert["body"]["result"]["reason"]
    assert "failed" in metrics_of(capsys.readouterr().out)
    assert faults.injected["PutBucketPolicy"] == 1


# --- SNS fails after the write ---------------------------------------------------------------------


def test_publish_failure_after_a_write_keeps_the_write_surfaces_it_and_the_retry_does_not_write(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    app, faults = handler_with_faults(world, monkeypatch)
    faults.fail("Publish", "InternalError", status=500)
    event = load_event("s3-DeleteBucketPolicy", bucket=BUCKET)

    # The first invocation writes, cannot publish, and raises so that Lambda retries it
    with pytest.raises(RetryLater, match="Publish"):
        app.lambda_handler(event, CONTEXT)
    assert lock_holds(world.policy(BUCKET), instance, world)
    assert faults.calls["PutBucketPolicy"] == 1
    first = metrics_of(capsys.readouterr().out)
    assert "remediated" in first and "retryable_error" in first

    # Lambda's retry finds the bucket locked: no second write, nothing to publish, no error
    faults.clear("Publish")
    document = app.lambda_handler(event, CONTEXT)
    assert [r["outcome"] for r in document["results"]] == ["compliant"]
    assert faults.calls["PutBucketPolicy"] == 1
    # The remediation's alert is not sent again: the retry saw a compliant bucket. The raised error, its
    # metric and the log line are what surface it (see docs/reliability.md).
    assert world.alerts() == []


def test_publish_throttled_for_good_is_retryable_too(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app, faults = handler_with_faults(world, monkeypatch)
    faults.fail("Publish", "Throttling", status=400)
    with pytest.raises(RetryLater):
        app.lambda_handler(load_event("s3-DeleteBucketPolicy", bucket=BUCKET), CONTEXT)
    faults.clear("Publish")
    app.lambda_handler(load_event("s3-DeleteBucketPolicy", bucket=BUCKET), CONTEXT)
    assert faults.calls["PutBucketPolicy"] == 1


# --- the bucket disappears -------------------------------------------------------------------------


def test_bucket_deleted_between_the_event_and_the_call_fails_with_a_clear_reason(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app, faults = handler_with_faults(world, monkeypatch)
    for moment in ("GetBucketPolicy", "PutBucketPolicy"):
        world.create_bucket(BUCKET)
        faults.run_before(moment, lambda _: world.client("s3").delete_bucket(Bucket=BUCKET))

        document = app.lambda_handler(load_event("s3-DeleteBucketPolicy", bucket=BUCKET), CONTEXT)

        [result] = document["results"]
        assert result["outcome"] == "failed", moment
        assert "NoSuchBucket" in result["reason"] and moment in result["reason"] and BUCKET in result["reason"]
        assert [a["attributes"]["outcome"] for a in world.alerts()] == ["failed"]
        assert BUCKET not in [b["Name"] for b in world.client("s3").list_buckets()["Buckets"]]
        faults.run_before(moment, lambda _: None)


# --- the service role disappears -------------------------------------------------------------------


def test_deleted_service_role_is_refused_and_nothing_is_written(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    world.put_policy(BUCKET, {"Version": "2012-10-17", "Statement": [PUBLIC]})
    app, faults = handler_with_faults(world, monkeypatch)
    role_name = instance.role_arn.rsplit("/", 1)[1]
    # The role goes between the inventory read and the principal lookup

    def delete_the_role(params: dict[str, Any]) -> None:
        if params["RoleName"] == role_name:
            _delete_role(world, role_name)

    faults.run_before("GetRole", delete_the_role)

    document = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)

    [result] = document["results"]
    assert result["outcome"] == "refused"
    assert instance.role_arn in result["reason"] and "NoSuchEntity" in result["reason"]
    assert faults.calls["PutBucketPolicy"] == 0
    assert world.policy(BUCKET)["Statement"] == [PUBLIC]
    [alert] = world.alerts()
    assert alert["attributes"]["outcome"] == "refused"


def _delete_role(world: World, name: str) -> None:
    iam = world.client("iam")
    if any(r["RoleName"] == name for r in iam.list_roles(PathPrefix="/")["Roles"]):
        iam.delete_role(RoleName=name)


# --- policies at the edges -------------------------------------------------------------------------


def _padding_statement(sid: str, text: str) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObject",
        "Resource": f"{ARN}/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/note": text}},
    }


def _sized(world: World, instance: Instance, target: int, filler: str) -> dict[str, Any]:
    """A policy of someone's statements that, merged with the lock, is exactly `target` bytes."""
    patterns = {ACCOUNT, f"{world.enforcer_role_id}:*", f"{instance.role_id}:*"}
    lock = policies.lockdown_statement(
        BUCKET, "aws", patterns, enforcer_arn=world.enforcer_role_arn, exempt_aws_services=True
    )
    current: dict[str, Any] = {"Version": "2012-10-17", "Statement": [_padding_statement("Padding", "")]}
    base = policies.policy_size(policies.merge(current, lock, "preserve"))
    unit = len(filler.encode("utf-8"))
    count, rest = divmod(target - base, unit)
    current["Statement"][0] = _padding_statement("Padding", filler * count + "x" * rest)
    assert policies.policy_size(policies.merge(current, lock, "preserve")) == target
    return current


SIZES = [
    (policies.MAX_POLICY_BYTES, "x", "remediated"),
    (policies.MAX_POLICY_BYTES + 1, "x", "refused"),
    (policies.MAX_POLICY_BYTES, "\U0001f512", "remediated"),  # four bytes a character
    (policies.MAX_POLICY_BYTES + 1, "\u00e9", "refused"),  # fewer characters than bytes: bytes count
]


def test_policies_at_the_size_limit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    app, faults = handler_with_faults(world, monkeypatch)
    for target, filler, outcome in SIZES:
        case = f"{target} bytes of {filler!r}"
        current = _sized(world, instance, target, filler)
        world.put_policy(BUCKET, current)
        before = world.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]
        writes = faults.calls["PutBucketPolicy"]

        [result] = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)["results"]

        assert result["outcome"] == outcome, case
        if outcome == "refused":
            assert str(policies.MAX_POLICY_BYTES) in result["reason"], case
            assert world.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"] == before, case
            assert faults.calls["PutBucketPolicy"] == writes, case
        else:
            written = world.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]
            assert len(written.encode("utf-8")) == target, case
            assert policies.foreign_statements(json.loads(written)) == current["Statement"], case


def _ours(world: World, instance: Instance) -> dict[str, Any]:
    return policies.lockdown_statement(BUCKET, "aws", {ACCOUNT, f"{world.enforcer_role_id}:*", f"{instance.role_id}:*"})


ODD = "\u202eevil\u202c \u200b e\u0301 \U0001f4a5 \u0430\u043c \x00 \ufeff \U00010348 \u0130"
EDGES: dict[str, Any] = {
    "unusual Unicode": lambda ours: {
        "Version": "2012-10-17",
        "Statement": [_padding_statement("Unicode", ODD), {**PUBLIC, "Sid": "\u00c9t\u00e9"}],
    },
    "a lone surrogate (JSON escape)": lambda ours: {
        "Version": "2012-10-17",
        "Statement": [_padding_statement("Surrogate", "\ud800 and \udfff")],
    },
    "NotPrincipal, NotAction, NotResource": lambda ours: {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyReplication",
                "Effect": "Deny",
                "NotPrincipal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/replication", f"arn:aws:iam::{ACCOUNT}:root"]},
                "NotAction": ["s3:GetObject*", "s3:ReplicateObject"],
                "NotResource": f"{ARN}/public/*",
            }
        ],
    },
    "one Statement object, an old Version and an Id": lambda ours: {
        "Version": "2008-10-17",
        "Id": "LegacyPolicy",
        "Statement": PUBLIC,
    },
    "our statement twice around someone's": lambda ours: {"Version": "2012-10-17", "Statement": [ours, PUBLIC, ours]},
    "a second spelling of aws:userId": lambda ours: {
        "Version": "2012-10-17",
        "Statement": [
            {**ours, "Condition": {"StringNotLike": {**ours["Condition"]["StringNotLike"], "AWS:UserID": ["*"]}}}
        ],
    },
    "an allowlist entry with a trailing space": lambda ours: {
        "Version": "2012-10-17",
        "Statement": [
            {
                **ours,
                "Condition": {
                    "StringNotLike": {"aws:userId": [v + " " for v in ours["Condition"]["StringNotLike"]["aws:userId"]]}
                },
            }
        ],
    },
    "Effect with a trailing space": lambda ours: {"Version": "2012-10-17", "Statement": [{**ours, "Effect": "Deny "}]},
}


def test_policies_at_the_edges_are_handled_or_refused_never_corrupted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    app, faults = handler_with_faults(world, monkeypatch)
    event = load_event("s3-PutBucketPolicy", bucket=BUCKET)
    for edge, make in EDGES.items():
        current = make(_ours(world, instance))
        world.put_policy(BUCKET, current)
        writes = faults.calls["PutBucketPolicy"]

        [result] = app.lambda_handler(event, CONTEXT)["results"]

        assert result["outcome"] == "remediated", (edge, result["reason"])
        written_text = world.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]
        written_text.encode("utf-8")  # what S3 stores is UTF-8
        written = json.loads(written_text)
        assert policies.foreign_statements(written) == policies.foreign_statements(current), edge
        assert lock_holds(written, instance, world), edge
        [again] = app.lambda_handler(event, CONTEXT)["results"]
        assert again["outcome"] == "compliant", edge
        assert faults.calls["PutBucketPolicy"] == writes + 1, edge


def test_a_policy_that_cannot_be_understood_is_refused_and_left_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app, faults = handler_with_faults(world, monkeypatch)
    for text in ("not json", "[]", '{"Statement": "everything"}', '{"Version": "2012-10-17"}'):
        world.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=text)

        [result] = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)["results"]

        assert result["outcome"] == "refused", text
        assert "by hand" in result["reason"], text
        assert world.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"] == text
    assert faults.calls["PutBucketPolicy"] == 0
