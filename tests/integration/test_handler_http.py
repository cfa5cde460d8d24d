"""The handler over HTTP: boto3 talks to a ThreadedMotoServer on 127.0.0.1, as it would talk to AWS."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from devtools.events import load_event
from devtools.world import ACCOUNT, World
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app
from tests.support.policies import public_read_policy
from tests.support.policy_eval import Request, is_denied

pytestmark = pytest.mark.integration

BUCKET = "amazon-connect-5f3a9c2b1d7e"
CONTEXT = lambda_context("req-http")
PUBLIC = public_read_policy(BUCKET)


@pytest.fixture(autouse=True)
def _forget_app() -> Iterator[None]:
    yield
    sys.modules.pop("app", None)


def test_the_whole_story_over_http(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a new instance whose storage is then associated with a bucket
    instance = world.create_instance("http-story")
    world.create_bucket(BUCKET)
    app = load_app(world, monkeypatch)
    assert app.ENFORCER.gateway.s3.meta.endpoint_url == world.endpoint_url

    created = app.lambda_handler(load_event("connect-CreateInstance", instance_id=instance.id), CONTEXT)
    assert [r["outcome"] for r in created["results"]] == ["pending"]

    world.associate(instance, BUCKET)
    associated = app.lambda_handler(
        load_event("connect-AssociateInstanceStorageConfig-arn", instance_id=instance.id, bucket=BUCKET), CONTEXT
    )
    assert [r["outcome"] for r in associated["results"]] == ["remediated"]
    locked = world.policy(BUCKET)
    outsider = Request.for_role(ACCOUNT, "Outsider", "AROAOUTSIDER00000001", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/x")
    assert is_denied(locked, outsider)

    # When someone replaces it with a public policy, it is restored and their statement kept
    world.put_policy(BUCKET, PUBLIC)
    restored = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)
    assert restored["results"][0]["outcome"] == "remediated"
    assert restored["results"][0]["previous_policy"] == PUBLIC
    assert PUBLIC["Statement"][0] in world.policy(BUCKET)["Statement"]
    assert is_denied(world.policy(BUCKET), outsider)

    # When someone deletes it, it is restored
    world.delete_policy(BUCKET)
    deleted = app.lambda_handler(load_event("s3-DeleteBucketPolicy", bucket=BUCKET), CONTEXT)
    assert deleted["results"][0]["outcome"] == "remediated"

    # The enforcer's own write causes no further write
    own = load_event("s3-PutBucketPolicy", bucket=BUCKET)
    own["detail"]["userIdentity"]["arn"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/test-lockdown-enforcer-us-east-1/fn"
    assert "own role" in app.lambda_handler(own, CONTEXT)["ignored"]
    assert (
        app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)["results"][0]["outcome"]
        == "compliant"
    )

    # And the alerts reached the topic's SQS subscriber, one per remediation
    alerts = world.alerts()
    assert [a["attributes"]["outcome"] for a in alerts] == ["remediated"] * 3
    assert all(a["body"]["result"]["bucket"] == BUCKET for a in alerts)


def test_dry_run_over_http(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("http-dry-run", BUCKET)
    world.put_policy(BUCKET, PUBLIC)
    app = load_app(world, monkeypatch, DRY_RUN="true")

    document = app.lambda_handler(load_event("scheduled-event"), CONTEXT)

    assert [r["outcome"] for r in document["results"]] == ["would_remediate"]
    assert world.policy(BUCKET) == PUBLIC
    [alert] = world.alerts()
    assert alert["attributes"] == {
        "outcome": "would_remediate",
        "bucket": BUCKET,
        "account": ACCOUNT,
        "region": "us-east-1",
    }
