"""The Lambda handler: configuration at start-up, the result document, logs and metrics."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from connect_lockdown.config import ConfigError
from connect_lockdown.outcomes import AlertsNotSent, RetryLater
from devtools.botocore_hooks import AwsHooks
from devtools.events import fixture_names, load_event
from devtools.world import World
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app

BUCKET = "amazon-connect-25fd0a3be3ef"
CONTEXT = lambda_context("req-1")


@pytest.fixture(autouse=True)
def _forget_app() -> Iterator[None]:
    yield
    sys.modules.pop("app", None)


def emf_metrics(output: str) -> list[str]:
    names = []
    for line in output.splitlines():
        if line.startswith("{") and "_aws" in line:
            document = json.loads(line)
            names += [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    return names


def test_remediation_returns_the_document_logs_and_counts(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app = load_app(world, monkeypatch)
    event = load_event("s3-DeleteBucketPolicy", bucket=BUCKET)

    document = app.lambda_handler(event, CONTEXT)

    assert set(document) == {"results", "ignored", "trigger"}
    assert document["ignored"] is None
    [result] = document["results"]
    assert set(result) == {
        "bucket",
        "outcome",
        "instances",
        "reason",
        "previous_policy",
        "applied_policy",
        "exposures",
    }
    assert result["outcome"] == "remediated"
    assert document["trigger"]["event_id"] == event["detail"]["eventID"]
    json.dumps(document)  # the document is plain JSON
    output = capsys.readouterr().out
    assert emf_metrics(output) == ["remediated"]
    logs = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"level"' in line]
    assert any(log["correlation_id"] == event["id"] and log.get("outcome") == "remediated" for log in logs)


@pytest.mark.parametrize("event", [None, [], "text", 42, {"detail-type": 3}, [{"id": "x"}], {"id": ["x"]}])
def test_garbage_is_ignored_without_context(
    world: World, monkeypatch: pytest.MonkeyPatch, event: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app = load_app(world, monkeypatch)
    document = app.lambda_handler(event, None)
    assert document["results"] == []
    assert document["ignored"]
    assert emf_metrics(capsys.readouterr().out) == ["ignored"]


def test_every_fixture_runs_through_the_handler(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app = load_app(world, monkeypatch)
    for name in fixture_names():
        document = app.lambda_handler(load_event(name, bucket=BUCKET), CONTEXT)
        assert (document["results"] == []) == (document["ignored"] is not None), name


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DRY_RUN", "maybe"), ("MERGE_MODE", "overwrite"), ("ADMIN_ROLE_ARNS", "admin"), ("NOTIFICATION_TOPIC_ARN", "")],
)
def test_bad_configuration_stops_start_up_naming_the_variable(
    world: World, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_app(world, monkeypatch, **{variable: value})


def test_dry_run_from_the_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app = load_app(world, monkeypatch, DRY_RUN="true")
    document = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)
    assert document["results"][0]["outcome"] == "would_remediate"
    assert world.policy(BUCKET) is None


def test_retryable_failures_raise(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app = load_app(world, monkeypatch)

    AwsHooks().attach(app.ENFORCER.gateway.connect).fail("ListInstances", "ThrottlingException")
    with pytest.raises(Exception, match="ThrottlingException"):
        app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), CONTEXT)
    assert world.policy(BUCKET) is None


@pytest.mark.parametrize(("level", "expected"), [("full", ["compliant", "sweep_buckets_checked"]), ("lean", [])])
def test_a_quiet_sweep_emits_routine_metrics_only_at_the_full_level(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], level: str, expected: list[str]
) -> None:
    # Given a bucket that is already locked
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    load_app(world, monkeypatch).lambda_handler(load_event("scheduled-event"), CONTEXT)
    sys.modules.pop("app", None)
    capsys.readouterr()

    # When the hourly sweep finds it compliant
    app = load_app(world, monkeypatch, METRICS_LEVEL=level)
    app.lambda_handler(load_event("scheduled-event"), CONTEXT)

    # Then only the full level pays for metrics that say nothing happened
    assert sorted(emf_metrics(capsys.readouterr().out)) == expected


def test_a_lean_level_still_counts_what_happened(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app = load_app(world, monkeypatch, METRICS_LEVEL="lean")
    app.lambda_handler(load_event("s3-DeleteBucketPolicy", bucket=BUCKET), CONTEXT)
    assert emf_metrics(capsys.readouterr().out) == ["remediated"]


def test_an_alert_refused_for_good_fails_the_invocation_naming_the_call_without_a_retry(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a function whose role the topic's policy does not let publish
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    app = load_app(world, monkeypatch)
    AwsHooks().attach(app.ENFORCER.gateway.sns).fail("Publish", "AuthorizationError", status=403)

    # When a drifted bucket is locked
    with pytest.raises(AlertsNotSent) as raised:
        app.lambda_handler(load_event("s3-DeleteBucketPolicy", bucket=BUCKET), CONTEXT)

    # Then the lock is written and the invocation fails (the errors alarm), naming the call, never as retryable
    assert not isinstance(raised.value, RetryLater)
    assert "sns:Publish failed: AuthorizationError" in str(raised.value)
    assert world.policy(BUCKET) is not None
    metrics = emf_metrics(capsys.readouterr().out)
    assert "remediated" in metrics and "alert_not_sent" in metrics and "retryable_error" not in metrics
