"""The sweep reconciles every Connect bucket, survives Connect's throttling and isolates failures."""

from __future__ import annotations

import pytest

from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.reconcile import Enforcer
from devtools.botocore_hooks import AwsHooks, VirtualTime
from devtools.events import load_event
from devtools.world import World


def test_sweep_of_200_instances_under_throttling_ends_compliant(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 200 instances over 50 buckets (shared buckets, as teams do), half of them drifted
    buckets = [world.create_bucket(f"connect-sweep-{n:03d}") for n in range(50)]
    for n in range(200):
        world.create_instance(f"cc-{n:03d}", buckets[n % 50], resource_types=("CALL_RECORDINGS",))
    clock = VirtualTime().install(monkeypatch)
    gateway = AwsGateway(session=world.enforcer_session())
    throttle = AwsHooks().attach(gateway.connect).throttle(0.1, seed=7)
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), gateway)

    # When the sweep runs
    report = enforcer.handle_event(load_event("scheduled-event"))

    # Then throttling happened and was absorbed by botocore's retries, and every bucket is compliant
    assert sum(throttle.throttled.values()) > 100
    assert clock.slept > 10  # adaptive mode backed off (virtual seconds: nothing really waited)
    assert sorted(r.bucket for r in report.results) == sorted(buckets)
    assert {r.outcome for r in report.results} == {"remediated"}
    assert all(len(r.instances) == 4 for r in report.results)
    # A bucket event per bucket confirms it (from the warm inventory: one GetBucketPolicy each)
    outcomes = {enforcer.handle_event(load_event("s3-PutBucketPolicy", bucket=b)).results[0].outcome for b in buckets}
    assert outcomes == {"compliant"}
    assert "50 buckets checked: 0 compliant, 50 remediated" in report.summary(1.0)


def test_sweep_isolates_a_failing_bucket_and_reports_it(world: World) -> None:
    for name in ("sweep-a", "sweep-b", "sweep-c"):
        world.create_bucket(name)
        world.create_instance(name, name)
    world.client("s3").delete_bucket(Bucket="sweep-b")
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), AwsGateway(session=world.enforcer_session()))

    report = enforcer.handle_event(load_event("scheduled-event"))

    assert sorted((r.bucket, r.outcome) for r in report.results) == [
        ("sweep-a", "remediated"),
        ("sweep-b", "failed"),
        ("sweep-c", "remediated"),
    ]
    alerts = world.alerts()
    assert sorted(a["attributes"]["outcome"] for a in alerts) == ["failed", "remediated", "remediated"]
    assert "3 buckets checked: 0 compliant, 2 remediated, 0 would remediate, 0 refused, 1 failed" in report.summary(2)


def test_compliant_sweep_is_silent(world: World) -> None:
    world.create_bucket("quiet")
    world.create_instance("quiet", "quiet")
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), AwsGateway(session=world.enforcer_session()))
    enforcer.handle_event(load_event("scheduled-event"))
    world.alerts()

    report = enforcer.handle_event(load_event("scheduled-event"))

    assert [r.outcome for r in report.results] == ["compliant"]
    assert world.alerts() == []
