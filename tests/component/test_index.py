"""The index of Connect instances and buckets (INVENTORY_TABLE) on moto's DynamoDB: events read only what
they name, a write decided from the index is safe, and anything wrong with the index degrades to fresh reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.inventory import NON_S3_RESOURCE_TYPES
from connect_lockdown.invocation import Invocation
from connect_lockdown.outcomes import Outcome, RunReport
from connect_lockdown.reconcile import Enforcer
from devtools.account import FUNCTION_ARN
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import World

BUCKET = "amazon-connect-25fd0a3be3ef"
OTHER = "amazon-connect-0a1b2c3d4e5f"
CONNECT_OPERATIONS = {"ListInstances", "DescribeInstance", "ListInstanceStorageConfigs"}


def connect_calls(operations: list[str]) -> int:
    return sum(1 for op in operations if op in CONNECT_OPERATIONS)


@pytest.fixture
def table(world: World) -> str:
    return world.create_index_table()


def enforcer_for(world: World, table: str, recorder: AwsHooks | None = None) -> Enforcer:
    gateway = AwsGateway(session=world.enforcer_session())
    if recorder is not None:
        recorder.attach_gateway(gateway)
    return Enforcer(Settings(topic_arn=world.topic_arn, inventory_table=table), gateway)


def sweep(enforcer: Enforcer) -> RunReport:
    return enforcer.handle_event(load_event("scheduled-event"))


def admitted(world: World, bucket: str) -> set[str]:
    lock = policies.lockdown_of(world.policy(bucket))
    assert lock is not None
    return policies.allowed_patterns_of(lock)


def s3_types_read_per_instance(enforcer: Enforcer) -> int:
    return len(set(enforcer.gateway.storage_resource_types()) - NON_S3_RESOURCE_TYPES)


def test_a_bucket_event_confirms_its_instance_with_connect_and_reads_nothing_else(world: World, table: str) -> None:
    # Given an indexed estate of two instances
    world.create_bucket(BUCKET)
    world.create_bucket(OTHER)
    first = world.create_instance("first", BUCKET)
    world.create_instance("second", OTHER)
    sweep(enforcer_for(world, table))
    world.delete_policy(BUCKET)

    # When the policy deletion arrives at a new execution environment
    recorder = AwsHooks()
    [result] = (
        enforcer_for(world, table, recorder).handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results
    )

    # Then, before the write, Connect confirms the instance the index named (DescribeInstance names its role) and
    # that its storage names the bucket (its call recordings, the first type looked at); nothing else is read
    assert result.outcome is Outcome.REMEDIATED
    assert connect_calls(recorder.calls_before("PutBucketPolicy")) == 2
    assert recorder.calls["ListInstances"] == 0
    assert recorder.calls["DescribeInstance"] == 1
    assert recorder.calls["ListInstanceStorageConfigs"] == 1
    assert recorder.calls["PutBucketPolicy"] == 1
    assert f"{first.role_id}:*" in admitted(world, BUCKET)


def test_an_event_on_a_bucket_the_index_does_not_know_makes_no_connect_call(world: World, table: str) -> None:
    world.create_bucket(BUCKET)
    world.create_bucket("unrelated-bucket")
    world.create_instance("first", BUCKET)
    sweep(enforcer_for(world, table))
    recorder = AwsHooks()

    report = enforcer_for(world, table, recorder).handle_event(
        load_event("s3-PutBucketPolicy", bucket="unrelated-bucket")
    )

    assert report.results == [] and report.ignored and "index" in report.ignored
    assert connect_calls(recorder.sequence) == 0
    assert world.policy("unrelated-bucket") is None


def test_an_instance_event_reads_that_instance_only(world: World, table: str) -> None:
    # Given an indexed estate of three instances, one of them with a new bucket association
    for bucket in (BUCKET, OTHER, "amazon-connect-third"):
        world.create_bucket(bucket)
    changed = world.create_instance("changed", BUCKET)
    world.create_instance("second", OTHER)
    world.create_instance("third", "amazon-connect-third")
    sweep(enforcer_for(world, table))
    world.associate(changed, OTHER, "SCREEN_RECORDINGS")
    recorder = AwsHooks()

    # When the association event arrives
    event = load_event("connect-AssociateInstanceStorageConfig", instance_id=changed.id)
    report = enforcer_for(world, table, recorder).handle_event(event)

    # Then that instance is read whole (which proves the bucket is Connect's), the other one sharing the bucket it
    # joined is described before the write (its role is Connect's) and its storage read after it, nothing else is
    # read, and the bucket admits both roles
    outcomes = {r.bucket: r.outcome for r in report.results}
    assert outcomes == {BUCKET: Outcome.COMPLIANT, OTHER: Outcome.REMEDIATED}
    assert recorder.calls["ListInstances"] == 0
    assert recorder.calls["DescribeInstance"] == 2
    per_instance = s3_types_read_per_instance(enforcer_for(world, table))
    assert connect_calls(recorder.calls_before("PutBucketPolicy")) == 2 + per_instance
    assert recorder.calls["ListInstanceStorageConfigs"] == per_instance + 1
    assert {f"{changed.role_id}:*", f"{world.instances[1].role_id}:*"} <= admitted(world, OTHER)


def test_a_shared_bucket_keeps_every_instance(world: World, table: str) -> None:
    world.create_bucket(BUCKET)
    first = world.create_instance("first", BUCKET)
    second = world.create_instance("second", BUCKET, resource_types=("SCREEN_RECORDINGS",))
    sweep(enforcer_for(world, table))
    world.delete_policy(BUCKET)

    [result] = enforcer_for(world, table).handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    assert result.outcome is Outcome.REMEDIATED
    assert sorted(result.instance_ids) == sorted([first.id, second.id])
    assert {f"{first.role_id}:*", f"{second.role_id}:*"} <= admitted(world, BUCKET)


def test_a_hand_added_id_is_dropped_and_a_connect_role_of_the_index_is_kept(world: World, table: str) -> None:
    # Given a locked bucket, and another indexed instance that stores elsewhere
    world.create_bucket(BUCKET)
    world.create_bucket(OTHER)
    world.create_instance("first", BUCKET)
    elsewhere = world.create_instance("elsewhere", OTHER)
    sweep(enforcer_for(world, table))
    policy = world.policy(BUCKET)
    lock = policies.lockdown_of(policy)
    assert lock is not None
    # When someone adds a stranger's ID and the other instance's role ID to the allowlist by hand
    lock["Condition"]["StringNotLike"]["aws:userId"] += ["AROAHANDADDEDSTRANGER:*", f"{elsewhere.role_id}:*"]
    world.put_policy(BUCKET, policy)

    [result] = enforcer_for(world, table).handle_event(load_event("s3-PutBucketPolicy", bucket=BUCKET)).results

    # Then the stranger is dropped; the Connect role the index knows is kept (a lost association stays admitted)
    assert result.outcome is Outcome.REMEDIATED
    assert "AROAHANDADDEDSTRANGER:*" not in admitted(world, BUCKET)
    assert f"{elsewhere.role_id}:*" in admitted(world, BUCKET)


def test_a_lost_association_is_admitted_by_the_sweep(world: World, table: str) -> None:
    # Given an indexed, locked bucket
    world.create_bucket(BUCKET)
    world.create_instance("first", BUCKET)
    enforcer = enforcer_for(world, table)
    sweep(enforcer)
    # When a new instance starts storing in it and the CloudTrail event is lost
    late = world.create_instance("late")
    world.associate(late, BUCKET)
    assert f"{late.role_id}:*" not in admitted(world, BUCKET)

    report = sweep(enforcer_for(world, table))

    # Then the next sweep admits it
    assert [r.outcome for r in report.results if r.bucket == BUCKET] == [Outcome.REMEDIATED]
    assert f"{late.role_id}:*" in admitted(world, BUCKET)


def test_a_write_from_a_stale_index_is_corrected_in_the_same_invocation(world: World, table: str) -> None:
    # Given an index that still maps an instance to a bucket it has left
    world.create_bucket(BUCKET)
    world.create_bucket(OTHER)
    stays = world.create_instance("stays", BUCKET)
    leaves = world.create_instance("leaves", BUCKET, resource_types=("SCREEN_RECORDINGS",))
    sweep(enforcer_for(world, table))
    connect = world.client("connect")
    [config] = connect.list_instance_storage_configs(InstanceId=leaves.id, ResourceType="SCREEN_RECORDINGS")[
        "StorageConfigs"
    ]
    connect.disassociate_instance_storage_config(
        InstanceId=leaves.id, AssociationId=config["AssociationId"], ResourceType="SCREEN_RECORDINGS"
    )
    world.delete_policy(BUCKET)

    # When the bucket event is decided from the index
    [result] = enforcer_for(world, table).handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    # Then the fresh read after the write finds the move, and the bucket ends with the instance that stays
    assert result.outcome is Outcome.REMEDIATED
    assert result.instance_ids == [stays.id]
    assert f"{stays.role_id}:*" in admitted(world, BUCKET)


def _delete_table(world: World, table: str) -> None:
    world.client("dynamodb").delete_table(TableName=table)


def _corrupt(world: World, table: str) -> None:
    world.client("dynamodb").put_item(
        TableName=table, Item={"pk": {"S": f"bucket#{BUCKET}"}, "sk": {"S": "not-an-instance"}, "role_arn": {"N": "7"}}
    )


@pytest.mark.parametrize("damage", [_delete_table, _corrupt], ids=["deleted", "corrupted"])
def test_a_damaged_index_degrades_to_fresh_reads(
    world: World, table: str, damage: Callable[[World, str], None]
) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET)
    sweep(enforcer_for(world, table))
    world.delete_policy(BUCKET)
    damage(world, table)
    recorder = AwsHooks()

    report = enforcer_for(world, table, recorder).handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))

    assert [r.outcome for r in report.results] == [Outcome.REMEDIATED]
    assert report.index_degraded
    assert recorder.calls["ListInstances"] == 1  # the fresh path
    assert f"{instance.role_id}:*" in admitted(world, BUCKET)


def test_a_throttled_index_degrades_to_fresh_reads(world: World, table: str) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("first", BUCKET)
    sweep(enforcer_for(world, table))
    world.delete_policy(BUCKET)
    recorder = AwsHooks()
    recorder.fail("Query", "ProvisionedThroughputExceededException")

    report = enforcer_for(world, table, recorder).handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))

    assert [r.outcome for r in report.results] == [Outcome.REMEDIATED]
    assert report.index_degraded and "Query" in report.index_degraded


def test_an_index_that_never_completed_a_sweep_is_not_trusted(world: World, table: str) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("first", BUCKET)

    report = enforcer_for(world, table).handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))

    assert [r.outcome for r in report.results] == [Outcome.REMEDIATED]
    assert report.index_degraded == "the index has not completed a sweep yet"


class _Countdown:
    """Time left in an invocation that shrinks by `step` seconds each time it is asked."""

    def __init__(self, start: float, step: float) -> None:
        self.left, self.step = start, step

    def __call__(self) -> float:
        self.left -= self.step
        return self.left


def test_a_sweep_spread_over_invocations_reaches_every_bucket(world: World, table: str) -> None:
    # Given eleven instances, each with a bucket, and invocations that run out of time every few instances
    buckets = [world.create_bucket(f"amazon-connect-bucket-{n:02d}") for n in range(11)]
    instances = [world.create_instance(f"instance-{n:02d}", bucket) for n, bucket in enumerate(buckets)]
    handed_over: list[dict[str, Any]] = []

    def invocation() -> Callable[[Any], RunReport]:
        enforcer = enforcer_for(world, table)
        gateway: Any = enforcer.gateway
        # The hand-over, as Lambda would deliver it: the JSON payload of an asynchronous invoke of the function.
        gateway.invoke_async = lambda function_arn, payload: handed_over.append(json.loads(json.dumps(payload)))
        return lambda event: enforcer.handle_event(event, Invocation(FUNCTION_ARN, _Countdown(start=46, step=2)))

    # When the scheduled sweep runs, and every continuation it hands over runs in a new invocation
    reports = [invocation()(load_event("scheduled-event"))]
    while handed_over:
        reports.append(invocation()(handed_over.pop(0)))

    # Then it took several invocations, and every bucket was locked exactly once, admitting its instance
    assert len(reports) > 2
    assert all(r.continued for r in reports[:-1]) and not reports[-1].continued
    remediated = [r.bucket for report in reports for r in report.results if r.outcome is Outcome.REMEDIATED]
    assert sorted(remediated) == sorted(buckets)
    for instance, bucket in zip(instances, buckets, strict=True):
        assert f"{instance.role_id}:*" in admitted(world, bucket)


def test_a_sweep_removes_instances_that_are_gone(world: World, table: str) -> None:
    # A custom name: a bucket named as Connect names them is read fresh whatever the index says.
    custom = world.create_bucket("recordings-of-the-gone-instance")
    world.create_bucket(BUCKET)
    world.create_instance("stays", BUCKET)
    gone = world.create_instance("gone", custom)
    sweep(enforcer_for(world, table))
    world.client("connect").delete_instance(InstanceId=gone.id)

    sweep(enforcer_for(world, table))
    recorder = AwsHooks()
    report = enforcer_for(world, table, recorder).handle_event(load_event("s3-PutBucketPolicy", bucket=custom))

    assert report.results == [] and report.ignored
    assert connect_calls(recorder.sequence) == 0


def test_a_sweep_forgets_the_re_check_record_of_an_instance_that_is_gone(world: World, table: str) -> None:
    # Given two indexed instances, each with the re-check record the enforcer writes when it schedules one
    world.create_bucket(BUCKET)
    world.create_bucket("recordings-of-the-gone-instance")
    stays = world.create_instance("stays", BUCKET)
    gone = world.create_instance("gone", "recordings-of-the-gone-instance")
    enforcer = enforcer_for(world, table)
    sweep(enforcer)
    assert enforcer.index is not None
    for instance in (stays, gone):
        enforcer.index.record_recheck(instance.id, 2)

    # When one instance is deleted and the next sweep runs
    world.client("connect").delete_instance(InstanceId=gone.id)
    sweep(enforcer_for(world, table))

    # Then only the instance Connect still lists keeps its record
    items = world.client("dynamodb").scan(TableName=table)["Items"]
    assert sorted(i["sk"]["S"] for i in items if i["pk"]["S"] == "recheck") == [stays.id]
    assert gone.id not in {i["sk"]["S"] for i in items}


def test_an_instance_whose_storage_cannot_be_read_stays_admitted(world: World, table: str) -> None:
    # Given an indexed bucket whose instance's storage cannot be read (an SCP, say), while Connect describes it
    world.create_bucket(BUCKET)
    instance = world.create_instance("first", BUCKET, resource_types=("CALL_RECORDINGS",))
    sweep(enforcer_for(world, table))
    world.delete_policy(BUCKET)
    enforcer = enforcer_for(world, table)

    AwsHooks().attach(enforcer.gateway.connect).fail(  # type: ignore[attr-defined]
        "ListInstanceStorageConfigs", "AccessDeniedException", message="denied"
    )

    # When the bucket event is decided from the index
    [result] = enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    # Then the instance the index named keeps its access: an unreadable type is never taken for a move
    assert result.outcome is Outcome.REMEDIATED and result.instance_ids == [instance.id]
    assert f"{instance.role_id}:*" in admitted(world, BUCKET)


def test_the_last_phase_of_a_sweep_hands_its_remaining_buckets_over_too(world: World, table: str) -> None:
    # Given six buckets, and a last invocation that runs short of time after two bucket decisions
    buckets = [world.create_bucket(f"amazon-connect-last-{n}") for n in range(6)]
    for n, bucket in enumerate(buckets):
        world.create_instance(f"instance-{n}", bucket)
    handed_over: list[dict[str, Any]] = []

    def invocation(seconds_left: list[float]) -> Callable[[Any], RunReport]:
        enforcer = enforcer_for(world, table)
        gateway: Any = enforcer.gateway
        gateway.invoke_async = lambda function_arn, payload: handed_over.append(json.loads(json.dumps(payload)))
        clock = Invocation(FUNCTION_ARN, lambda: seconds_left.pop(0) if len(seconds_left) > 1 else seconds_left[0])
        return lambda event: enforcer.handle_event(event, clock)

    # When the sweep reads every instance in its first invocation, then has time for two buckets only,
    # and every hand-over runs with plenty of time
    first = invocation([100, 100, 10])(load_event("scheduled-event"))
    reports = [first]
    while handed_over:
        reports.append(invocation([100])(handed_over.pop(0)))

    # Then the first invocation decided some buckets and handed the others over, and each bucket was decided
    # exactly once across the two
    assert first.continued
    decided = [r.bucket for report in reports for r in report.results if r.bucket is not None]
    assert 0 < len([r for r in first.results if r.bucket]) < len(buckets)
    assert sorted(decided) == sorted(buckets)
    assert all(world.policy(bucket) is not None for bucket in buckets)


def test_a_sweep_keeps_an_instance_it_could_read_only_in_part(world: World, table: str) -> None:
    # Given an indexed instance with recordings in one bucket and chat transcripts in a second
    world.create_bucket(BUCKET)
    world.create_bucket(OTHER)
    instance = world.create_instance("split", BUCKET, resource_types=("CALL_RECORDINGS",))
    world.associate(instance, OTHER, "CHAT_TRANSCRIPTS")
    sweep(enforcer_for(world, table))

    # When a later sweep cannot read the chat transcripts' storage (an SCP on that type, say)
    denied = AwsHooks()
    denied.fail(
        "ListInstanceStorageConfigs",
        "AccessDeniedException",
        when=lambda params: params["ResourceType"] == "CHAT_TRANSCRIPTS",
    )
    report = sweep(enforcer_for(world, table, denied))
    world.delete_policy(OTHER)

    # Then the sweep reports the failure, and the index still maps the instance to both buckets: an event on the
    # bucket it could not read is still decided, and admits the instance's role
    assert any(r.outcome is Outcome.FAILED and r.bucket is None for r in report.results)
    [result] = enforcer_for(world, table).handle_event(load_event("s3-DeleteBucketPolicy", bucket=OTHER)).results
    assert result.outcome is Outcome.REMEDIATED and result.instance_ids == [instance.id]
    assert f"{instance.role_id}:*" in admitted(world, OTHER)


def test_an_instance_gone_between_the_parts_of_a_sweep_skips_no_other(world: World, table: str) -> None:
    # Given eight instances with a bucket each, indexed by an earlier sweep
    buckets = [world.create_bucket(f"amazon-connect-shift-{n}") for n in range(8)]
    instances = [world.create_instance(f"instance-{n}", bucket) for n, bucket in enumerate(buckets)]
    sweep(enforcer_for(world, table))
    handed_over: list[dict[str, Any]] = []

    def invocation(seconds_left: list[float]) -> Callable[[Any], RunReport]:
        enforcer = enforcer_for(world, table)
        gateway: Any = enforcer.gateway
        gateway.invoke_async = lambda function_arn, payload: handed_over.append(json.loads(json.dumps(payload)))
        clock = Invocation(FUNCTION_ARN, lambda: seconds_left.pop(0) if len(seconds_left) > 1 else seconds_left[0])
        return lambda event: enforcer.handle_event(event, clock)

    # When a sweep reads the first four and hands over, and one of those four is deleted before the next part
    first = invocation([10])(load_event("scheduled-event"))
    assert first.continued and handed_over
    world.client("connect").delete_instance(InstanceId=instances[0].id)
    for bucket in buckets:
        world.delete_policy(bucket)
    last = invocation([100])(handed_over.pop(0))

    # Then the instance the shifted list would have skipped is still read, and every remaining bucket is locked
    # (the deleted instance's bucket keeps its lock too, until the next sweep forgets the instance)
    assert not handed_over and not last.continued
    locked = {r.bucket for r in last.results if r.outcome is Outcome.REMEDIATED}
    assert set(buckets[1:]) <= locked
    for instance, bucket in zip(instances[1:], buckets[1:], strict=True):
        assert f"{instance.role_id}:*" in admitted(world, bucket)
    # and the index still knows every remaining instance: a later event on any of their buckets is decided
    for bucket in buckets[1:]:
        world.delete_policy(bucket)
        [result] = enforcer_for(world, table).handle_event(load_event("s3-DeleteBucketPolicy", bucket=bucket)).results
        assert result.outcome is Outcome.REMEDIATED, bucket
