"""A new instance's bucket is locked within minutes, even when the association event is lost."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.events import MAX_RECHECK_ATTEMPTS, classify
from connect_lockdown.invocation import Invocation
from connect_lockdown.outcomes import Outcome, RunReport
from connect_lockdown.own_events import recheck_event
from connect_lockdown.reconcile import Enforcer
from devtools.account import FUNCTION_ARN
from devtools.events import load_event
from devtools.world import World
from tests.support.causes import ignored_reason, scope_of
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app

BUCKET = "amazon-connect-7a1b2c3d4e5f"
GROUP = "connect-lockdown-rechecks"


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        world = World(boto3.session.Session()).setup()
        world.client("scheduler").create_schedule_group(Name=GROUP)
        yield world


class InFunction:
    """The enforcer as the deployed function runs it: each event comes with the function's invocation."""

    def __init__(self, enforcer: Enforcer) -> None:
        self.enforcer = enforcer

    def handle_event(self, event: Any) -> RunReport:
        return self.enforcer.handle_event(event, Invocation(function_arn=FUNCTION_ARN))


def enforcer_for(world: World, **overrides: Any) -> InFunction:
    scheduler_role, _ = world.create_role("connect-lockdown-scheduler")
    settings = Settings(
        topic_arn=world.topic_arn, recheck_schedule_group=GROUP, recheck_role_arn=scheduler_role, **overrides
    )
    return InFunction(Enforcer(settings, AwsGateway(session=world.enforcer_session())))


def schedules(world: World) -> list[dict[str, Any]]:
    scheduler = world.client("scheduler")
    names = [s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"]]
    return [scheduler.get_schedule(GroupName=GROUP, Name=name) for name in sorted(names)]


def test_pending_instance_schedules_a_one_time_recheck(world: World) -> None:
    instance = world.create_instance("new")

    [result] = enforcer_for(world).handle_event(load_event("connect-CreateInstance", instance_id=instance.id)).results

    assert result.outcome == "pending"
    assert "Re-check 1 of 20 is scheduled" in result.reason
    [schedule] = schedules(world)
    assert schedule["Name"] == f"recheck-{instance.id}-1"
    assert schedule["ScheduleExpression"].startswith("at(")
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["Arn"] == FUNCTION_ARN
    payload = json.loads(schedule["Target"]["Input"])
    assert payload["detail"] == {"instanceId": instance.id, "attempt": 1}
    assert scope_of(classify(payload)) == ("instance", instance.id)


def test_pending_then_associated_locks_the_bucket_at_once(world: World) -> None:
    instance = world.create_instance("new")
    enforcer = enforcer_for(world)
    assert enforcer.handle_event(load_event("connect-CreateInstance", instance_id=instance.id)).results[0].outcome == (
        "pending"
    )

    world.create_bucket(BUCKET)
    world.associate(instance, BUCKET)
    report = enforcer.handle_event(
        load_event("connect-AssociateInstanceStorageConfig", instance_id=instance.id, bucket=BUCKET)
    )

    assert [(r.bucket, r.outcome) for r in report.results] == [(BUCKET, "remediated")]
    assert world.policy(BUCKET) is not None


def test_lost_association_event_is_caught_by_the_recheck(world: World) -> None:
    # Given a new instance whose CreateInstance left a re-check behind
    instance = world.create_instance("new")
    enforcer = enforcer_for(world)
    enforcer.handle_event(load_event("connect-CreateInstance", instance_id=instance.id))
    [schedule] = schedules(world)
    # When storage is associated but its CloudTrail event never arrives
    world.create_bucket(BUCKET)
    world.associate(instance, BUCKET)

    # Then the re-check that the schedule sends locks the bucket, and schedules nothing more
    report = enforcer.handle_event(json.loads(schedule["Target"]["Input"]))

    assert [(r.bucket, r.outcome) for r in report.results] == [(BUCKET, "remediated")]
    assert len(schedules(world)) == 1


def test_rechecks_continue_while_pending_and_stop_at_the_bound(world: World) -> None:
    instance = world.create_instance("slow")
    enforcer = enforcer_for(world)

    [second] = enforcer.handle_event(recheck_event(instance.id, 1, "e1", "2026-01-01T00:00:00Z")).results
    [last] = enforcer.handle_event(
        recheck_event(instance.id, MAX_RECHECK_ATTEMPTS, "e2", "2026-01-01T01:00:00Z")
    ).results

    assert "Re-check 2 of 20 is scheduled" in second.reason
    assert "No more re-checks" in last.reason
    assert [s["Name"] for s in schedules(world)] == [f"recheck-{instance.id}-2"]


def test_duplicate_create_instance_events_schedule_once(world: World) -> None:
    instance = world.create_instance("dup")
    enforcer = enforcer_for(world)
    event = load_event("connect-CreateInstance", instance_id=instance.id)
    enforcer.handle_event(event)
    [again] = enforcer.handle_event(event).results
    assert "already scheduled" in again.reason
    assert len(schedules(world)) == 1


def test_without_a_recheck_configuration_the_sweep_is_the_backstop(world: World) -> None:
    instance = world.create_instance("unconfigured")
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), AwsGateway(session=world.enforcer_session()))
    [result] = enforcer.handle_event(load_event("connect-CreateInstance", instance_id=instance.id)).results
    assert result.outcome == "pending"
    assert "the sweep locks the bucket" in result.reason
    assert schedules(world) == []


def test_redacted_create_instance_schedules_for_every_pending_instance(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("has-storage", BUCKET)
    a = world.create_instance("pending-a")
    b = world.create_instance("pending-b")

    enforcer_for(world).handle_event(load_event("connect-CreateInstance-redacted"))

    assert {s["Name"] for s in schedules(world)} == {f"recheck-{a.id}-1", f"recheck-{b.id}-1"}


def test_sweeps_do_not_schedule_rechecks(world: World) -> None:
    world.create_instance("pending")
    enforcer_for(world).handle_event(load_event("scheduled-event"))
    assert schedules(world) == []


def test_a_deleted_instance_is_not_an_error_and_its_bucket_keeps_its_lock(world: World) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("short-lived", BUCKET)
    enforcer = enforcer_for(world)
    enforcer.handle_event(load_event("s3-PutBucketPolicy", bucket=BUCKET))
    locked = world.policy(BUCKET)
    world.client("connect").delete_instance(InstanceId=instance.id)

    sweep = enforcer.handle_event(load_event("scheduled-event"))
    stale = enforcer.handle_event(load_event("connect-AssociateInstanceStorageConfig", instance_id=instance.id))

    assert [(r.bucket, r.outcome) for r in sweep.results] == [(BUCKET, Outcome.ORPHANED)]
    assert sweep.orphaned_buckets == [BUCKET]
    assert "1 locked bucket without instances" in sweep.summary(1)
    assert "does not exist" in stale.ignored
    assert world.policy(BUCKET) == locked


def test_the_sweep_reports_no_orphan_for_foreign_or_unlocked_buckets(world: World) -> None:
    world.create_bucket("someone-elses-bucket")
    world.put_policy(
        "someone-elses-bucket",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Other",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:DeleteBucket",
                    "Resource": "arn:aws:s3:::someone-elses-bucket",
                }
            ],
        },
    )
    world.create_bucket("no-policy-bucket")
    world.create_bucket(BUCKET)
    world.create_instance("live", BUCKET)

    sweep = enforcer_for(world).handle_event(load_event("scheduled-event"))

    assert sweep.orphaned_buckets == []
    assert [r.bucket for r in sweep.results] == [BUCKET]


@pytest.mark.parametrize(
    "detail",
    [
        None,
        {},
        {"instanceId": "not-an-id", "attempt": 1},
        {"instanceId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "attempt": 0},
        {"instanceId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "attempt": MAX_RECHECK_ATTEMPTS + 1},
        {"instanceId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "attempt": "1"},
        {"instanceId": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "attempt": True},
    ],
)
def test_malformed_recheck_events_are_ignored(detail: Any) -> None:
    event = recheck_event("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", 1, "e", "t")
    event["detail"] = detail
    hint = classify(event)
    assert ignored_reason(hint) is not None
    assert ignored_reason(hint)


def test_the_handler_keeps_nothing_of_one_invocation_for_the_next(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function, built once, whose first invocation scheduled a re-check that targets the function
    scheduler_role, _ = world.create_role("connect-lockdown-scheduler")
    app = load_app(world, monkeypatch, RECHECK_SCHEDULE_GROUP=GROUP, RECHECK_ROLE_ARN=scheduler_role)
    sys.modules.pop("app", None)  # the module object serves this test; the next import starts afresh
    first, second = world.create_instance("first"), world.create_instance("second")
    event = load_event("connect-CreateInstance", instance_id=first.id)
    [scheduled] = app.lambda_handler(event, lambda_context())["results"]
    assert "Re-check 1 of 20 is scheduled" in scheduled["reason"]

    # When the next invocation comes without a Lambda context
    [result] = app.lambda_handler(load_event("connect-CreateInstance", instance_id=second.id), None)["results"]

    # Then the previous invocation's function ARN is gone: there is nothing to schedule a re-check for
    assert "No re-check is configured" in result["reason"]
    assert [s["Name"] for s in schedules(world)] == [f"recheck-{first.id}-1"]
