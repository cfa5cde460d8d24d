"""The hourly sweep's share of Connect's quota, on moto with a small share: the instances read longest ago are
re-read first, none goes unread for more than six hours, and those not re-read keep their index entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown import selection
from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.index import InventoryIndex
from connect_lockdown.inventory import s3_capable_types
from connect_lockdown.outcomes import Outcome, RunReport
from connect_lockdown.reconcile import Enforcer
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import Instance, World

PER_SWEEP = 3


@pytest.fixture
def table(world: World) -> str:
    return world.create_index_table()


@pytest.fixture
def estate(world: World, table: str, monkeypatch: pytest.MonkeyPatch) -> list[Instance]:
    """Eight instances with a bucket each, indexed by a first sweep; then a share of Connect's quota that
    re-reads PER_SWEEP instances a sweep."""
    instances = [
        world.create_instance(f"share-{n}", world.create_bucket(f"amazon-connect-share-{n}"), ("CALL_RECORDINGS",))
        for n in range(8)
    ]
    first = sweep(world, table)
    assert len(_read(first)) == 8  # the first sweep reads everything: nothing is indexed yet
    types = len(s3_capable_types(AwsGateway(session=world.enforcer_session()).storage_resource_types()))
    share = (PER_SWEEP * types + 0.5) / (selection.CONNECT_RATE_PER_SECOND * 3600)
    monkeypatch.setattr(selection, "QUOTA_SHARE", share)
    assert selection.instances_per_sweep(types) == PER_SWEEP
    return instances


class Swept:
    def __init__(self, report: RunReport, read: list[str]) -> None:
        self.report, self.read = report, read


def sweep(world: World, table: str | None) -> Swept:
    """A scheduled sweep; which instances' storage it read, in order."""
    gateway = AwsGateway(session=world.enforcer_session())
    hooks = AwsHooks().attach(gateway.connect)
    read: list[str] = []
    hooks.run_before("ListInstanceStorageConfigs", lambda params: read.append(params["InstanceId"]))
    settings = Settings(topic_arn=world.topic_arn, inventory_table=table)
    return Swept(Enforcer(settings, gateway).handle_event(load_event("scheduled-event")), read)


def _read(swept: Swept) -> list[str]:
    return list(dict.fromkeys(swept.read))


def index_items(world: World, table: str) -> list[dict[str, Any]]:
    items = world.client("dynamodb").scan(TableName=table)["Items"]
    return [i for i in items if i["pk"]["S"] == "instance"]


def set_age(world: World, table: str, ages: dict[str, timedelta]) -> None:
    """Make the index say each instance was last read `age` ago (what an hour passing, or several, does)."""
    now = datetime.now(UTC)
    for item in index_items(world, table):
        if item["sk"]["S"] in ages:
            seen = now - ages[item["sk"]["S"]]
            item["seen"] = {"S": seen.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
            world.client("dynamodb").put_item(TableName=table, Item=item)


def ages(world: World, table: str) -> dict[str, timedelta]:
    now = datetime.now(UTC)
    return {
        i["sk"]["S"]: now - datetime.fromisoformat(i["seen"]["S"].replace("Z", "+00:00"))
        for i in index_items(world, table)
    }


def test_the_instances_read_longest_ago_are_re_read_first(world: World, table: str, estate: list[Instance]) -> None:
    # Given instances last read 10, 20, ... 80 minutes ago
    set_age(world, table, {i.id: timedelta(minutes=10 * (n + 1)) for n, i in enumerate(estate)})

    swept = sweep(world, table)

    # Then the sweep read the three oldest, oldest first, and still decided every bucket
    assert _read(swept) == [i.id for i in reversed(estate)][:PER_SWEEP]
    assert sorted(r.outcome for r in swept.report.results) == [Outcome.COMPLIANT] * len(estate)


def test_every_instance_is_re_read_within_six_hours_even_beyond_the_share(
    world: World, table: str, estate: list[Instance]
) -> None:
    # Given five instances about to pass six hours unread (read five hours ago), three recently read
    overdue, recent = estate[:5], estate[5:]
    set_age(world, table, {i.id: timedelta(hours=5) for i in overdue} | {i.id: timedelta(minutes=1) for i in recent})

    swept = sweep(world, table)

    # Then all five are read, more than the share allows, and none of the recent ones
    assert sorted(_read(swept)) == sorted(i.id for i in overdue)


def test_over_a_day_of_hourly_sweeps_no_instance_goes_six_hours_unread(
    world: World, table: str, estate: list[Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a share of one instance an hour for eight instances: the six-hour rule has to take over
    monkeypatch.setattr(selection, "QUOTA_SHARE", selection.QUOTA_SHARE / PER_SWEEP)
    oldest: list[timedelta] = []
    for _ in range(24):
        # When an hour passes, and the hourly sweep runs
        set_age(world, table, {k: v + timedelta(hours=1) for k, v in ages(world, table).items()})
        oldest.append(max(ages(world, table).values()))
        sweep(world, table)

    # Then no instance was ever found unread for more than six hours
    assert max(oldest) <= timedelta(hours=selection.MAX_UNREAD_HOURS)


def test_instances_not_re_read_keep_their_entries_and_their_locks(
    world: World, table: str, estate: list[Instance]
) -> None:
    set_age(world, table, {i.id: timedelta(minutes=10 * (n + 1)) for n, i in enumerate(estate)})

    swept = sweep(world, table)

    # Then the five not read stay in the index, and a lock deleted on one of their buckets is still remediated
    unread = [i for i in estate if i.id not in swept.read]
    assert len(unread) == len(estate) - PER_SWEEP
    index = InventoryIndex(AwsGateway(session=world.enforcer_session()), table)
    assert {i.id for i in estate} <= set(index.instances())
    bucket = f"amazon-connect-share-{estate.index(unread[0])}"
    world.delete_policy(bucket)
    gateway = AwsGateway(session=world.enforcer_session())
    report = Enforcer(Settings(topic_arn=world.topic_arn, inventory_table=table), gateway).handle_event(
        load_event("s3-DeleteBucketPolicy", bucket=bucket)
    )
    assert [r.outcome for r in report.results] == [Outcome.REMEDIATED]
    lock = policies.lockdown_of(world.policy(bucket))
    assert lock is not None and f"{unread[0].role_id}:*" in policies.allowed_patterns_of(lock)


def test_a_new_instance_is_always_read(world: World, table: str, estate: list[Instance]) -> None:
    # Given every indexed instance read a minute ago, and a new instance the index does not know yet
    set_age(world, table, {i.id: timedelta(minutes=1) for i in estate})
    new = world.create_instance("new", world.create_bucket("amazon-connect-share-new"), ("CALL_RECORDINGS",))

    swept = sweep(world, table)

    assert _read(swept)[0] == new.id
    assert any(r.bucket == "amazon-connect-share-new" and r.outcome is Outcome.REMEDIATED for r in swept.report.results)


def test_without_an_index_the_sweep_reads_everything(world: World, estate: list[Instance]) -> None:
    assert sorted(_read(sweep(world, None))) == sorted(i.id for i in estate)
