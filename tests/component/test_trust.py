"""The enforcer verifies what it is told: each attack below is tried as an attacker would, with the handler's
library on moto, and each lock it leads to is judged with the project's IAM evaluator.

The attacker holds `dynamodb:PutItem` on the index table (the table's own policy denies it, but a policy can be
changed), or is a role the lock admits (an admin) editing the bucket policy. Who the lock admits must still come
only from what Connect and IAM say in the invocation that writes.
"""

from __future__ import annotations

from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.outcomes import Outcome, RunReport
from connect_lockdown.reconcile import Enforcer
from devtools.account import ACCOUNT
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import Instance, World
from tests.support.policy_eval import Request, is_denied

BUCKET = "amazon-connect-25fd0a3be3ef"
CUSTOM = "team-recordings-archive"
MADE_UP_INSTANCE = "0badc0de-0000-4000-8000-000000000000"


@pytest.fixture
def table(world: World) -> str:
    return world.create_index_table()


def enforcer_for(world: World, table: str, recorder: AwsHooks | None = None) -> Enforcer:
    gateway = AwsGateway(session=world.enforcer_session())
    if recorder is not None:
        recorder.attach_gateway(gateway)
    return Enforcer(Settings(topic_arn=world.topic_arn, inventory_table=table), gateway)


def handle(world: World, table: str, event: dict[str, Any]) -> RunReport:
    return enforcer_for(world, table).handle_event(event)


def sweep(world: World, table: str) -> RunReport:
    return handle(world, table, load_event("scheduled-event"))


def put_items(world: World, table: str, *items: dict[str, str | list[str]]) -> None:
    """What an attacker with dynamodb:PutItem writes (the table's item layout: index.py)."""
    dynamodb = world.client("dynamodb")
    for item in items:
        dynamodb.put_item(
            TableName=table,
            Item={k: {"L": [{"S": x} for x in v]} if isinstance(v, list) else {"S": v} for k, v in item.items()},
        )


def attacker_role(world: World) -> tuple[str, str]:
    return world.create_role("attacker")


def reads_recordings(world: World, bucket: str, role_name: str, role_id: str) -> bool:
    """Whether the bucket's policy lets this role's session read an object (the lock's Deny does not apply)."""
    policy = world.policy(bucket)
    assert policy is not None
    request = Request.for_role(ACCOUNT, role_name, role_id, "s3:GetObject", f"arn:aws:s3:::{bucket}/call.wav")
    return not is_denied(policy, request)


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


def connect_role_reads(world: World, instance: Instance, bucket: str) -> bool:
    return reads_recordings(world, bucket, role_name(instance.role_arn), instance.role_id)


# --- a poisoned index ---------------------------------------------------------------------------------------


def test_an_index_item_naming_the_attackers_role_does_not_admit_it(world: World, table: str) -> None:
    # Given an indexed bucket, whose items the attacker rewrites to name their own role as the instance's
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(world, table)
    attacker_arn, attacker_id = attacker_role(world)
    put_items(
        world,
        table,
        {
            "pk": f"bucket#{BUCKET}",
            "sk": instance.id,
            "alias": "first",
            "role_arn": attacker_arn,
            "role_id": attacker_id,
        },
    )

    # When the lock is deleted (or an admin edits the policy) and the event arrives
    world.delete_policy(BUCKET)
    [result] = handle(world, table, load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    # Then the lock written admits the role Connect names, not the one the index claims
    assert result.outcome is Outcome.REMEDIATED
    assert connect_role_reads(world, instance, BUCKET)
    assert not reads_recordings(world, BUCKET, "attacker", attacker_id)


def test_a_made_up_instance_mapped_to_another_bucket_locks_nothing(world: World, table: str) -> None:
    # Given a bucket Connect has nothing to do with, and an index item mapping a made-up instance to it
    world.create_bucket(BUCKET)
    world.create_instance("first", BUCKET)
    world.create_bucket(CUSTOM)
    sweep(world, table)
    attacker_arn, attacker_id = attacker_role(world)
    put_items(
        world,
        table,
        {
            "pk": f"bucket#{CUSTOM}",
            "sk": MADE_UP_INSTANCE,
            "alias": "",
            "role_arn": attacker_arn,
            "role_id": attacker_id,
        },
    )

    # When that bucket's policy changes
    report = handle(world, table, load_event("s3-PutBucketPolicy", bucket=CUSTOM))

    # Then Connect says the instance does not exist: nothing is written, and the index forgets the claim
    assert report.results == [] and report.ignored is not None
    assert world.policy(CUSTOM) is None
    items = world.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": f"bucket#{CUSTOM}"}}
    )["Items"]
    assert items == []


def test_a_made_up_instance_beside_a_real_one_is_not_admitted(world: World, table: str) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(world, table)
    attacker_arn, attacker_id = attacker_role(world)
    put_items(
        world,
        table,
        {
            "pk": f"bucket#{BUCKET}",
            "sk": MADE_UP_INSTANCE,
            "alias": "",
            "role_arn": attacker_arn,
            "role_id": attacker_id,
        },
    )
    world.delete_policy(BUCKET)

    [result] = handle(world, table, load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    assert result.outcome is Outcome.REMEDIATED and result.instance_ids == [instance.id]
    assert connect_role_reads(world, instance, BUCKET)
    assert not reads_recordings(world, BUCKET, "attacker", attacker_id)


def test_an_instance_item_claiming_the_attackers_role_id_does_not_keep_it_in_the_lock(world: World, table: str) -> None:
    # Given a locked bucket, an admitted admin who adds the attacker's ID to the lock, and an index that claims
    # that ID is the service role of a real instance (so that the lock would keep it as a Connect role's)
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(world, table)
    attacker_arn, attacker_id = attacker_role(world)
    put_items(
        world,
        table,
        {
            "pk": "instance",
            "sk": instance.id,
            "arn": instance.arn,
            "alias": "first",
            "status": "ACTIVE",
            "role_arn": attacker_arn,
            "role_id": attacker_id,
            "buckets": [],
            "seen": "2025-01-01T00:00:00.000000Z",
        },
    )
    edited = world.policy(BUCKET)
    lock = policies.lockdown_of(edited)
    assert lock is not None
    lock["Condition"]["StringNotLike"]["aws:userId"].append(f"{attacker_id}:*")
    world.put_policy(BUCKET, edited)

    # When the edit's event arrives
    [result] = handle(world, table, load_event("s3-PutBucketPolicy", bucket=BUCKET)).results

    # Then the ID is dropped: the instance Connect describes names another role
    assert result.outcome is Outcome.REMEDIATED
    assert not reads_recordings(world, BUCKET, "attacker", attacker_id)
    assert connect_role_reads(world, instance, BUCKET)


def test_a_default_named_bucket_the_index_forgot_is_read_fresh(world: World, table: str) -> None:
    # Given an indexed bucket whose items the attacker deletes, then the lock removed
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(world, table)
    world.client("dynamodb").delete_item(
        TableName=table, Key={"pk": {"S": f"bucket#{BUCKET}"}, "sk": {"S": instance.id}}
    )
    world.delete_policy(BUCKET)

    # When the deletion's event arrives
    [result] = handle(world, table, load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    # Then the bucket, named as Connect names its buckets, is not ignored: Connect is read and the lock restored
    assert result.outcome is Outcome.REMEDIATED
    assert connect_role_reads(world, instance, BUCKET)


def test_an_index_item_that_does_not_look_like_one_is_not_used(world: World, table: str) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(world, table)
    put_items(world, table, {"pk": f"bucket#{BUCKET}", "sk": "../../etc", "alias": "", "role_arn": "", "role_id": ""})
    world.delete_policy(BUCKET)

    report = handle(world, table, load_event("s3-DeleteBucketPolicy", bucket=BUCKET))

    assert report.index_degraded is not None and "does not name a Connect instance" in report.index_degraded
    [result] = report.results
    assert result.outcome is Outcome.REMEDIATED and result.instance_ids == [instance.id]


# --- grants beside the lock ---------------------------------------------------------------------------------


def test_a_service_grant_without_a_source_condition_is_an_exposure_and_stays_denied(world: World, table: str) -> None:
    # Given a locked bucket to which someone adds a CloudFront grant without aws:SourceArn
    world.create_bucket(BUCKET)
    world.create_instance("first", BUCKET)
    sweep(world, table)
    edited = world.policy(BUCKET)
    grant = {
        "Sid": "CloudFrontReads",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    edited["Statement"].append(grant)
    world.put_policy(BUCKET, edited)

    # When the edit's event arrives
    [result] = handle(world, table, load_event("s3-PutBucketPolicy", bucket=BUCKET)).results

    # Then the grant is kept (lose nothing) but reported, and another account's distribution cannot read
    assert result.to_dict()["exposures"] == [
        {"sid": "CloudFrontReads", "kind": "service-without-source", "principal": "cloudfront.amazonaws.com"}
    ]
    request = Request(
        principal_arn="cloudfront.amazonaws.com",
        user_id=None,
        account_id=None,
        action="s3:GetObject",
        resource=f"arn:aws:s3:::{BUCKET}/call.wav",
        extra_context={"aws:SourceAccount": "999988887777"},
    )
    assert is_denied(world.policy(BUCKET), request)


def test_a_lock_read_two_ways_is_drift_and_is_rewritten_with_one_copy(world: World, table: str) -> None:
    # Given a lock whose condition holds aws:userId twice, the attacker's list first
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(world, table)
    attacker_arn, attacker_id = attacker_role(world)
    lock = policies.lockdown_of(world.policy(BUCKET))
    assert lock is not None
    patterns = lock["Condition"]["StringNotLike"]["aws:userId"]
    text = policies.serialise({"Version": "2012-10-17", "Statement": [lock]})
    genuine = '"aws:userId": [' + ", ".join(f'"{p}"' for p in patterns) + "]"
    doubled = text.replace(f'"aws:userId":{_compact(patterns)}', f'"aws:userId":["{attacker_id}:*"],{genuine}')
    assert doubled != text
    world.client("s3").put_bucket_policy(Bucket=BUCKET, Policy=doubled)

    # When the edit's event arrives
    [result] = handle(world, table, load_event("s3-PutBucketPolicy", bucket=BUCKET)).results

    # Then it is not compliant: the lock is written again, once, admitting Connect and not the attacker
    assert result.outcome is Outcome.REMEDIATED
    written = world.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]
    assert written.count('"aws:userId"') == 1
    assert connect_role_reads(world, instance, BUCKET)
    assert not reads_recordings(world, BUCKET, "attacker", attacker_id)
    assert attacker_arn


def _compact(values: list[str]) -> str:
    return "[" + ",".join(f'"{v}"' for v in values) + "]"


# --- locks the enforcer leaves behind, and locks of buckets Connect was pointed at -------------------------------


def midnight_sweep() -> dict[str, Any]:
    event = load_event("scheduled-event")
    event["time"] = "2025-03-15T00:00:00Z"
    return event


def orphan_alerts(world: World, bucket: str) -> list[dict[str, Any]]:
    return [
        a
        for a in world.alerts()
        if a["attributes"].get("outcome") == "orphaned" and a["body"]["result"]["bucket"] == bucket
    ]


def test_a_lock_without_an_instance_is_orphaned_and_alerted_once_a_day(world: World, table: str) -> None:
    # Given a locked bucket whose only instance is deleted
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(world, table)
    world.client("connect").delete_instance(InstanceId=instance.id)
    world.alerts()
    before = world.policy(BUCKET)

    # When the daily sweep runs, twice the same day
    first = handle(world, table, midnight_sweep())
    second = handle(world, table, midnight_sweep())

    # Then the bucket is `orphaned` each time, its lock untouched, and people hear of it once
    for report in (first, second):
        [result] = [r for r in report.results if r.bucket == BUCKET]
        assert result.outcome is Outcome.ORPHANED and "connect-lockdown unlock" in result.reason
    assert world.policy(BUCKET) == before
    assert len(orphan_alerts(world, BUCKET)) == 1


def test_without_an_index_only_the_daily_sweep_alerts_an_orphan(world: World) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), AwsGateway(session=world.enforcer_session()))
    enforcer.handle_event(load_event("scheduled-event"))
    world.client("connect").delete_instance(InstanceId=instance.id)
    world.alerts()

    hourly = enforcer.handle_event(load_event("scheduled-event"))
    assert [r.outcome for r in hourly.results if r.bucket == BUCKET] == [Outcome.ORPHANED]
    assert orphan_alerts(world, BUCKET) == []

    enforcer.handle_event(midnight_sweep())
    assert len(orphan_alerts(world, BUCKET)) == 1


def test_the_first_lock_of_a_custom_bucket_names_the_instance_and_who_pointed_connect_at_it(
    world: World, table: str
) -> None:
    world.create_bucket(CUSTOM)
    instance = world.create_instance("first", CUSTOM, resource_types=("CALL_RECORDINGS",))

    [result] = handle(
        world, table, load_event("connect-AssociateInstanceStorageConfig", instance_id=instance.id)
    ).results

    assert result.outcome is Outcome.REMEDIATED
    assert f"First lock of {CUSTOM}, which is not named amazon-connect-*" in result.reason
    assert instance.id in result.reason
    actor = load_event("connect-AssociateInstanceStorageConfig")["detail"]["userIdentity"]["arn"]
    assert f"{actor} made that association" in result.reason


def test_a_bucket_outside_the_names_the_enforcer_may_write_fails_naming_the_parameter(world: World) -> None:
    world.create_bucket(CUSTOM)
    instance = world.create_instance("first", CUSTOM, resource_types=("CALL_RECORDINGS",))
    settings = Settings(topic_arn=world.topic_arn, lockdown_bucket_names=("amazon-connect-*",))
    enforcer = Enforcer(settings, AwsGateway(session=world.enforcer_session()))

    [result] = enforcer.handle_event(
        load_event("connect-AssociateInstanceStorageConfig", instance_id=instance.id)
    ).results

    assert result.outcome is Outcome.FAILED and "LockdownBucketNames" in result.reason
    assert result.error_code == "OutsideLockdownBucketNames"
    assert world.policy(CUSTOM) is None


def test_a_role_named_like_a_service_linked_role_outside_its_path_is_not_admitted(world: World) -> None:
    # Given an account without Macie, where someone creates a role of Macie's service-linked role's name, at /
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    impostor_arn, impostor_id = world.create_role("AWSServiceRoleForAmazonMacie")
    settings = Settings(topic_arn=world.topic_arn, admit_service_linked_roles=("macie",))
    enforcer = Enforcer(settings, AwsGateway(session=world.enforcer_session()))

    # When the lock is written
    [result] = enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    # Then the impostor is not admitted (its path is not /aws-service-role/macie.amazonaws.com/), and nothing
    # is refused for it
    assert result.outcome is Outcome.REMEDIATED
    assert not reads_recordings(world, BUCKET, "AWSServiceRoleForAmazonMacie", impostor_id)
    assert connect_role_reads(world, instance, BUCKET)
    assert impostor_arn.endswith(":role/AWSServiceRoleForAmazonMacie")


def test_the_service_linked_role_itself_is_admitted(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("first", BUCKET)
    _arn, config_id = world.create_role("AWSServiceRoleForConfig", path="/aws-service-role/config.amazonaws.com/")
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), AwsGateway(session=world.enforcer_session()))

    [result] = enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    assert result.outcome is Outcome.REMEDIATED
    assert reads_recordings(world, BUCKET, "AWSServiceRoleForConfig", config_id)


def test_a_bucket_shared_by_five_instances_is_locked_within_connects_burst(world: World, table: str) -> None:
    # Given a bucket five instances share (each through another type than call recordings), indexed; then one
    # of them stops storing there without its event reaching the enforcer
    world.create_bucket(BUCKET)
    five = [world.create_instance(f"i-{n}", BUCKET, resource_types=("SCREEN_RECORDINGS",)) for n in range(5)]
    sweep(world, table)
    # The instances are confirmed in id order, and the first one's storage proves the bucket is Connect's: the one
    # that leaves is the last (a first one that left would cost its whole read, 7 lists, before the proof).
    leaver = max(five, key=lambda i: i.id)
    association = world.client("connect").list_instance_storage_configs(
        InstanceId=leaver.id, ResourceType="SCREEN_RECORDINGS"
    )["StorageConfigs"][0]["AssociationId"]
    world.client("connect").disassociate_instance_storage_config(
        InstanceId=leaver.id, AssociationId=association, ResourceType="SCREEN_RECORDINGS"
    )
    world.delete_policy(BUCKET)
    recorder = AwsHooks()

    # When the lock's deletion arrives
    [result] = (
        enforcer_for(world, table, recorder).handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results
    )

    # Then before the first write each API of Connect is called at most five times (its burst), every role comes
    # from DescribeInstance, and after the write the instance that left is dropped from the lock
    before = recorder.calls_before("PutBucketPolicy")
    for operation in ("DescribeInstance", "ListInstanceStorageConfigs"):
        assert before.count(operation) <= 5, operation
    assert before.count("ListInstances") == 0
    assert result.outcome is Outcome.REMEDIATED and leaver.id not in result.instance_ids
    for instance in five:
        if instance is not leaver:
            assert connect_role_reads(world, instance, BUCKET)
    assert not connect_role_reads(world, leaver, BUCKET)
