"""A sweep spread over invocations on moto: it lists the instances once and hands the ids still to read to the
next part, its chain is capped, and a continuation or re-check the enforcer did not start is ignored with a
reason, leaving the index, and every lock decided from it, intact."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from connect_lockdown import continuation
from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.events import SweepCursor
from connect_lockdown.index import IndexUnavailable, InventoryIndex
from connect_lockdown.invocation import Invocation
from connect_lockdown.outcomes import Outcome, RunReport
from connect_lockdown.own_events import continuation_event, recheck_event
from connect_lockdown.reconcile import Enforcer
from devtools.account import FUNCTION_ARN
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import Instance, World

SHARED = "amazon-connect-shared0001"
OWN = "amazon-connect-own000001"
RECHECK_GROUP = "connect-lockdown-rechecks"
PAST = "2025-03-15T03:00:00.000000Z"


@pytest.fixture
def table(world: World) -> str:
    return world.create_index_table()


class Chain:
    """The function as Lambda runs a sweep: each part in a new execution environment, every hand-over delivered
    as the JSON payload of an asynchronous invoke, with a clock that runs short after `chunks` reads."""

    def __init__(self, world: World, table: str, hooks: AwsHooks | None = None, **settings: Any) -> None:
        self.world, self.table, self.hooks, self.settings = world, table, hooks, settings
        self.handed_over: list[dict[str, Any]] = []

    def enforcer(self) -> Enforcer:
        gateway = AwsGateway(session=self.world.enforcer_session())
        if self.hooks is not None:
            self.hooks.attach_gateway(gateway)
        patched: Any = gateway
        patched.invoke_async = lambda arn, payload: self.handed_over.append(json.loads(json.dumps(payload)))
        settings = Settings(topic_arn=self.world.topic_arn, inventory_table=self.table, **self.settings)
        return Enforcer(settings, gateway)

    def invoke(self, event: Any, chunks: int | None = None) -> RunReport:
        return self.enforcer().handle_event(event, Invocation(FUNCTION_ARN, _clock(chunks)))

    def sweep(self, chunks: int | None = None) -> list[RunReport]:
        reports = [self.invoke(load_event("scheduled-event"), chunks)]
        while self.handed_over:
            reports.append(self.invoke(self.handed_over.pop(0), chunks))
        return reports


def _clock(chunks: int | None) -> Callable[[], float]:
    """Time left that falls under the sweep's reserve after `chunks` reads of instances (None: never)."""
    if chunks is None:
        return lambda: 900.0
    left = [continuation.SWEEP_RESERVE_SECONDS + 1 + 2 * (chunks - 1)]

    def time_left() -> float:
        left[0] -= 2
        return left[0]

    return time_left


def admitted(world: World, bucket: str) -> set[str]:
    lock = policies.lockdown_of(world.policy(bucket))
    assert lock is not None
    return policies.allowed_patterns_of(lock)


def pages_of_one_listing(world: World) -> int:
    hooks = AwsHooks()
    gateway = AwsGateway(session=world.enforcer_session())
    hooks.attach(gateway.connect)
    list(gateway.list_instances())
    return hooks.calls["ListInstances"]


# --- the instances still to read travel with the continuation ------------------------------------------


def test_a_sweep_of_60_instances_over_several_parts_lists_them_once(world: World, table: str) -> None:
    # Given 60 instances over 20 buckets, and invocations that run short of time every three reads of four
    buckets = [world.create_bucket(f"amazon-connect-part-{n:02d}") for n in range(20)]
    instances = [world.create_instance(f"i-{n:02d}", buckets[n % 20], ("CALL_RECORDINGS",)) for n in range(60)]
    hooks = AwsHooks()

    # When the scheduled sweep runs, and every continuation it hands over runs in a new invocation
    reports = Chain(world, table, hooks).sweep(chunks=3)

    # Then it took several parts, listed the instances once (ListInstances' pages of one listing), read each
    # instance's storage once before deciding (a write decided from the index then confirms the instances read
    # in earlier parts), and every bucket admits each of its instances
    assert len(reports) >= 4
    assert all(r.continued for r in reports[:-1]) and not reports[-1].continued
    assert hooks.calls["ListInstances"] == pages_of_one_listing(world)
    # (the first bucket to write confirms each of its three instances that an earlier part read: one storage
    # type each, call recordings, names the bucket)
    before_first_write = hooks.calls_before("PutBucketPolicy").count("ListInstanceStorageConfigs")
    assert 60 * _s3_types(world) <= before_first_write <= 60 * _s3_types(world) + 3
    for instance, bucket in [(i, buckets[n % 20]) for n, i in enumerate(instances)]:
        assert f"{instance.role_id}:*" in admitted(world, bucket)


def _s3_types(world: World) -> int:
    from connect_lockdown.inventory import s3_capable_types

    return len(s3_capable_types(AwsGateway(session=world.enforcer_session()).storage_resource_types()))


def test_a_continuation_carries_the_ids_still_to_read(world: World, table: str) -> None:
    for n in range(10):
        world.create_instance(f"i-{n}", world.create_bucket(f"amazon-connect-ids-{n}"), ("CALL_RECORDINGS",))
    chain = Chain(world, table)

    chain.invoke(load_event("scheduled-event"), chunks=1)

    [handed] = chain.handed_over
    assert handed["detail"]["part"] == 2
    assert len(handed["detail"]["remaining"]) == 6
    assert set(handed["detail"]["remaining"]) <= {i.id for i in world.instances}


def test_ids_too_many_for_the_event_stay_in_the_sweep_record(
    world: World, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a payload bound smaller than the instances left after the first part
    monkeypatch.setattr(continuation, "MAX_CONTINUATION_IDS", 2)
    buckets = [world.create_bucket(f"amazon-connect-ref-{n:02d}") for n in range(12)]
    instances = [world.create_instance(f"i-{n}", b, ("CALL_RECORDINGS",)) for n, b in enumerate(buckets)]
    chain = Chain(world, table)

    # When the sweep runs over several parts
    first = chain.invoke(load_event("scheduled-event"), chunks=1)
    assert first.continued and chain.handed_over[0]["detail"].get("remainingInRecord") is True
    reports = [first]
    while chain.handed_over:
        reports.append(chain.invoke(chain.handed_over.pop(0), chunks=1))

    # Then the continuations named only the record, and every bucket was still locked for its instance
    assert len(reports) > 2
    for instance, bucket in zip(instances, buckets, strict=True):
        assert f"{instance.role_id}:*" in admitted(world, bucket)


# --- the cap on a chain ----------------------------------------------------------------------------------


def test_a_chain_stops_at_its_cap_and_says_what_is_left(
    world: World, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a cap of two parts, and a sweep that needs more
    monkeypatch.setattr(continuation, "MAX_SWEEP_PARTS", 2)
    buckets = [world.create_bucket(f"amazon-connect-cap-{n:02d}") for n in range(12)]
    instances = [world.create_instance(f"i-{n:02d}", b, ("CALL_RECORDINGS",)) for n, b in enumerate(buckets)]
    chain = Chain(world, table)

    # When the scheduled sweep runs short of time after each read
    reports = chain.sweep(chunks=1)

    # Then it stopped at part 2 with a failed result without a bucket, published, naming what was not read
    assert len(reports) == 2 and not chain.handed_over
    [stopped] = [r for r in reports[-1].results if r.outcome is Outcome.FAILED]
    assert stopped.bucket is None
    assert "stopped at part 2" in stopped.reason and "4 instances were not read" in stopped.reason
    assert any(a["attributes"]["outcome"] == "failed" for a in chain.world.alerts())

    # and the next scheduled sweep, with the time it needs, locks every bucket
    chain.sweep()
    for instance, bucket in zip(instances, buckets, strict=True):
        assert f"{instance.role_id}:*" in admitted(world, bucket)


# --- continuations and re-checks the enforcer did not start ---------------------------------------------


@pytest.fixture
def estate(world: World, table: str) -> tuple[Instance, Instance, Instance]:
    """Two instances sharing a bucket and a third with its own, indexed and locked by a complete sweep."""
    world.create_bucket(SHARED)
    world.create_bucket(OWN)
    first = world.create_instance("first", SHARED, ("CALL_RECORDINGS",))
    second = world.create_instance("second", SHARED, ("CALL_RECORDINGS",))
    third = world.create_instance("third", OWN, ("CALL_RECORDINGS",))
    Chain(world, table).sweep()
    return first, second, third


def _forged(cursor: SweepCursor) -> dict[str, Any]:
    return continuation_event(cursor, "forged", "2025-03-15T03:05:00Z")


def _the_index_still_decides(world: World, table: str, estate: tuple[Instance, Instance, Instance]) -> None:
    """A deleted lock is still remediated from the index, and an instance event on the shared bucket still
    admits both of its instances."""
    first, second, third = estate
    index = InventoryIndex(AwsGateway(session=world.enforcer_session()), table)
    assert {first.id, second.id, third.id} <= set(index.instances())
    chain = Chain(world, table)
    for bucket, expected in ((OWN, [third]), (SHARED, [first, second])):
        world.delete_policy(bucket)
        [result] = chain.invoke(load_event("s3-DeleteBucketPolicy", bucket=bucket)).results
        assert result.outcome is Outcome.REMEDIATED
        assert {f"{i.role_id}:*" for i in expected} <= admitted(world, bucket)
    world.delete_policy(SHARED)
    report = chain.invoke(load_event("connect-AssociateInstanceStorageConfig", instance_id=first.id))
    assert [r.outcome for r in report.results if r.bucket == SHARED] == [Outcome.REMEDIATED]
    assert {f"{first.role_id}:*", f"{second.role_id}:*"} <= admitted(world, SHARED)


@pytest.mark.parametrize(
    ("cursor", "reason"),
    [
        (SweepCursor("forged", "9999-12-31T23:59:59.999999Z", 2, ()), "start time is in the future"),
        (SweepCursor("forged", PAST, 2, ()), "does not match a sweep this function started"),
        (SweepCursor("forged", PAST, 2, (), buckets_done=1), "does not match a sweep this function started"),
    ],
)
def test_a_forged_continuation_is_ignored_and_the_index_survives(
    world: World, table: str, estate: tuple[Instance, Instance, Instance], cursor: SweepCursor, reason: str
) -> None:
    hooks = AwsHooks()
    report = Chain(world, table, hooks).invoke(_forged(cursor))

    assert report.results == [] and reason in (report.ignored or "")
    assert not {"ListInstances", "ListInstanceStorageConfigs", "DeleteItem", "BatchWriteItem"} & set(hooks.calls)
    _the_index_still_decides(world, table, estate)


def _more_instances(world: World, count: int = 6) -> None:
    for n in range(count):
        world.create_instance(f"more-{n}", world.create_bucket(f"amazon-connect-more-{n}"), ("CALL_RECORDINGS",))


def test_a_continuation_of_the_wrong_sweep_or_part_is_ignored(
    world: World, table: str, estate: tuple[Instance, Instance, Instance]
) -> None:
    # Given a sweep under way, its first part handed over (the real continuation is held back)
    _more_instances(world)
    chain = Chain(world, table)
    chain.invoke(load_event("scheduled-event"), chunks=1)
    [real] = chain.handed_over
    detail = real["detail"]
    cursor = SweepCursor(detail["sweepId"], detail["started"], detail["part"], tuple(detail["remaining"]))
    stranger = "ffffffff-ffff-4fff-8fff-ffffffffffff"

    # When continuations that differ from it in one field each arrive
    forged = [
        (SweepCursor("another-sweep", cursor.started, cursor.part, cursor.remaining), "is not the sweep under way"),
        (SweepCursor(cursor.sweep_id, PAST, cursor.part, cursor.remaining), "the sweep under way started at"),
        (SweepCursor(cursor.sweep_id, cursor.started, cursor.part + 1, ()), "the sweep expects part 2"),
        (SweepCursor(cursor.sweep_id, cursor.started, cursor.part, (stranger,)), "instances the sweep did not list"),
    ]
    for bad, reason in forged:
        report = chain.invoke(_forged(bad))
        # Then each is ignored with its reason
        assert report.results == [] and reason in (report.ignored or ""), report.ignored

    # and the real continuation still finishes the sweep, which forgets no instance
    final = chain.invoke(real)
    assert not final.continued and final.ignored is None
    _the_index_still_decides(world, table, estate)


def test_a_continuation_delivered_twice_starts_no_second_chain(
    world: World, table: str, estate: tuple[Instance, Instance, Instance]
) -> None:
    _more_instances(world, 10)
    chain = Chain(world, table)
    chain.invoke(load_event("scheduled-event"), chunks=1)
    [real] = chain.handed_over
    chain.invoke(real, chunks=1)  # hands over part 3

    again = chain.invoke(real)

    assert again.results == [] and "the sweep expects part 3" in (again.ignored or "")


def test_a_sweep_never_forgets_an_instance_connect_still_lists(
    world: World, table: str, estate: tuple[Instance, Instance, Instance]
) -> None:
    index = InventoryIndex(AwsGateway(session=world.enforcer_session()), table)
    listed = {i.id for i in estate}

    # A start later than every instance's last read, as a forged start would be, removes nothing still listed
    assert index.complete_sweep(_now(), _now(), listed) == []
    # and a start in the future is refused
    with pytest.raises(IndexUnavailable, match="in the future"):
        index.complete_sweep("9999-12-31T23:59:59.999999Z", _now(), set())
    assert set(index.instances()) == listed


def _now() -> str:
    from connect_lockdown.times import utc_iso

    return utc_iso(digits=6)


def test_a_forged_recheck_is_ignored_and_a_scheduled_one_is_acted_on(world: World, table: str) -> None:
    # Given an indexed estate and a new instance without storage, whose CreateInstance scheduled re-check 1
    world.create_bucket(OWN)
    world.create_instance("indexed", OWN, ("CALL_RECORDINGS",))
    scheduler_role, _ = world.create_role("connect-lockdown-scheduler")
    world.client("scheduler").create_schedule_group(Name=RECHECK_GROUP)
    settings: dict[str, Any] = {"recheck_schedule_group": RECHECK_GROUP, "recheck_role_arn": scheduler_role}
    chain = Chain(world, table, None, **settings)
    chain.sweep()
    fresh = world.create_instance("fresh")
    [pending] = chain.invoke(load_event("connect-CreateInstance", instance_id=fresh.id)).results
    assert pending.outcome is Outcome.PENDING and "Re-check 1 of" in pending.reason

    # When re-checks arrive that the enforcer did not schedule (another attempt; another instance)
    hooks = AwsHooks()
    forged = Chain(world, table, hooks, **settings)
    for event in (recheck_event(fresh.id, 5, "f1", PAST), recheck_event(estate_id(world), 1, "f2", PAST)):
        report = forged.invoke(event)
        # Then each is ignored with a reason, before any Connect call
        assert report.results == [] and "does not match one this function scheduled" in (report.ignored or "")
    assert not {"DescribeInstance", "ListInstanceStorageConfigs"} & set(hooks.calls)

    # and the scheduled one is acted on, and schedules the next
    [again] = chain.invoke(recheck_event(fresh.id, 1, "r1", PAST)).results
    assert again.outcome is Outcome.PENDING and "Re-check 2 of" in again.reason


def estate_id(world: World) -> str:
    return world.instances[0].id


def test_without_an_index_a_recheck_is_a_plain_look(world: World) -> None:
    # Given no index, and an instance that already stores in a bucket
    world.create_bucket(OWN)
    instance = world.create_instance("stored", OWN, ("CALL_RECORDINGS",))
    scheduler_role, _ = world.create_role("connect-lockdown-scheduler")
    world.client("scheduler").create_schedule_group(Name=RECHECK_GROUP)
    settings = Settings(
        topic_arn=world.topic_arn, recheck_schedule_group=RECHECK_GROUP, recheck_role_arn=scheduler_role
    )
    enforcer = Enforcer(settings, AwsGateway(session=world.enforcer_session()))

    # When a re-check nobody scheduled names it
    report = enforcer.handle_event(recheck_event(instance.id, 7, "f", PAST), Invocation(FUNCTION_ARN))

    # Then the instance is read fresh and its bucket locked from what Connect says, and nothing is scheduled
    assert [(r.bucket, r.outcome) for r in report.results] == [(OWN, Outcome.REMEDIATED)]
    assert f"{instance.role_id}:*" in admitted(world, OWN)
    assert world.client("scheduler").list_schedules(GroupName=RECHECK_GROUP)["Schedules"] == []
