"""Hostile and broken input through the Lambda handler.

HOSTILE_EVENTS events (10,000 in `make test`, 100,000 in `make soak`) go through `app.lambda_handler`, the
function as deployed, with its enforcer on the in-memory AWS of tests/support/fake_aws.py, so that every call
it makes is counted; MOTO_HOSTILE_EVENTS more go through the real gateway on moto. Meanwhile an adversary now
and then breaks the lock of the one Connect bucket, so that some events rightly write. Per event:

* no exception escapes, and the result document keeps the contract's shape and is plain JSON;
* an event that classification ignores makes no AWS call at all;
* a write goes only to the Connect bucket, only while it is drifted, and leaves it locked;
* a bucket no Connect instance uses (the decoy, which every other event names) is never written;
* the time is measured; docs/reliability.md reports it, the test only checks a generous ceiling.

A failure message carries the seed: RELIABILITY_SEED=<seed> replays the same stream.
"""

from __future__ import annotations

import copy
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsGateway
from connect_lockdown.events import Ignored, classify
from connect_lockdown.reconcile import Enforcer
from devtools.account import ACCOUNT
from devtools.events import load_event
from devtools.world import World
from tests.support.fake_aws import FakeAws
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app
from tests.support.hostile import HostileEvents, depth_of
from tests.support.policies import public_read, public_read_policy
from tests.support.policy_eval import Request, matching_statements
from tests.support.reliability import HOSTILE_EVENTS, MOTO_HOSTILE_EVENTS, figure, percentiles

CONNECT_BUCKET = "amazon-connect-25fd0a3be3ef"
DECOY = "payroll-exports"
DECOY_POLICY = public_read_policy(DECOY)
OUTCOMES = {"compliant", "remediated", "would_remediate", "refused", "pending", "failed"}
CONTEXT = lambda_context("req-hostile")
# A sanity ceiling only: the figures in docs/reliability.md are the measurement.
CEILING_SECONDS = 1.0
SEED = int(os.environ.get("RELIABILITY_SEED") or random.SystemRandom().randrange(2**32))


@pytest.fixture(autouse=True)
def _forget_app() -> Iterator[None]:
    yield
    sys.modules.pop("app", None)


def _drifts(lock: dict[str, Any]) -> list[Callable[[], Any]]:
    """What the adversary does to the lock: delete it, replace it, bend our statement."""
    ours = next(s for s in lock["Statement"] if policies.is_lockdown_statement(s))
    second_key = copy.deepcopy(ours)
    second_key["Condition"]["StringNotLike"]["AWS:UserId"] = ["AROAINTRUDER00000:*"]
    padded = copy.deepcopy(ours)
    padded["Condition"]["StringNotLike"]["aws:userId"] = [
        v + " " for v in padded["Condition"]["StringNotLike"]["aws:userId"]
    ]
    public = {**public_read(CONNECT_BUCKET), "Resource": "*"}
    return [
        lambda: None,
        lambda: {"Version": "2012-10-17", "Statement": [public]},
        lambda: {"Version": "2012-10-17", "Statement": [public, second_key]},
        lambda: {"Version": "2012-10-17", "Statement": [padded, public]},
        lambda: {"Version": "2012-10-17", "Statement": [ours, ours]},
    ]


def _check_document(document: Any, where: str) -> None:
    assert isinstance(document, dict) and {"results", "ignored", "trigger"} <= set(document), where
    assert (document["results"] == []) == (document["ignored"] is not None), where
    json.dumps(document, allow_nan=False)
    for result in document["results"]:
        assert result["outcome"] in OUTCOMES, where
        assert result["bucket"] in (CONNECT_BUCKET, None), f"{where}: {result['bucket']!r} is not Connect's"


def _lock_holds(policy: Any, allowed: dict[str, str]) -> bool:
    resource = f"arn:aws:s3:::{CONNECT_BUCKET}/recording.wav"
    ours = ("Deny", policies.LOCKDOWN_SID)
    outsider = Request.for_role(ACCOUNT, "outsider", "AROAINTRUDER00000", "s3:GetObject", resource)
    if ours not in matching_statements(policy, outsider):
        return False
    return all(
        ours not in matching_statements(policy, Request.for_role(ACCOUNT, name, unique_id, "s3:PutObject", resource))
        for name, unique_id in allowed.items()
    )


class Run:
    """Feeds events to the handler and checks each one; the AWS behind it is reached through `calls()`,
    `writes()`, `policy()` and `set_policy()`."""

    def __init__(self, app: ModuleType, stream: HostileEvents, allowed: dict[str, str]) -> None:
        self.app = app
        self.stream = stream
        self.allowed = allowed
        self.adversary = random.Random(SEED + 1)
        self.timings: list[float] = []
        self.outcomes: Counter[str] = Counter()
        self.ignored = 0
        self.writes_seen = 0
        self.drifts = 0
        self.deepest = 0

    def calls(self) -> int:
        raise NotImplementedError

    def writes(self) -> list[str]:
        raise NotImplementedError

    def policy(self) -> Any:
        raise NotImplementedError

    def set_policy(self, policy: Any) -> None:
        raise NotImplementedError

    def go(self, count: int) -> None:
        lock = self.policy()
        drifts = _drifts(lock)
        drifted = False
        index = 0
        while len(self.timings) < count:
            index += 1
            where = f"seed {SEED}, event {index} (RELIABILITY_SEED={SEED} replays it)"
            event = self.stream.next_event()
            if depth_of(event) > 950:
                continue  # deeper than the runtime's JSON parser delivers
            if self.adversary.random() < 0.01:
                self.set_policy(self.adversary.choice(drifts)())
                drifted, self.drifts = True, self.drifts + 1
            hint = classify(event)
            calls, writes = self.calls(), len(self.writes())
            started = time.perf_counter()
            try:
                document = self.app.lambda_handler(event, CONTEXT)
            except Exception as error:  # noqa: BLE001 - the point: nothing may escape
                pytest.fail(f"{where}: {type(error).__name__}: {error} for {_preview(event)}")
            self.timings.append(time.perf_counter() - started)
            self.deepest = max(self.deepest, depth_of(event))
            _check_document(document, where)
            self.outcomes.update(r["outcome"] for r in document["results"])
            written = self.writes()[writes:]
            if isinstance(hint, Ignored):
                self.ignored += 1
                assert self.calls() == calls, f"{where}: an ignored event made AWS calls: {_preview(event)}"
            if written:
                assert not isinstance(hint, Ignored), f"{where}: a write for an ignored event"
                assert drifted, f"{where}: a write although the bucket was locked: {_preview(event)}"
                assert set(written) == {CONNECT_BUCKET}, f"{where}: wrote {written}"
                assert len(written) == 1, f"{where}: {len(written)} writes for one event"
                assert _lock_holds(self.policy(), self.allowed), f"{where}: the write left the bucket unlocked"
                drifted, self.writes_seen = False, self.writes_seen + 1
        assert max(self.timings) < CEILING_SECONDS, f"seed {SEED}: an event took {max(self.timings):.3f} s"


def _preview(event: Any) -> str:
    try:
        text = json.dumps(event)
    except (ValueError, RecursionError):
        text = repr(type(event))
    return text[:300]


class FakeRun(Run):
    def __init__(self, app: ModuleType, fake: FakeAws, stream: HostileEvents, allowed: dict[str, str]) -> None:
        super().__init__(app, stream, allowed)
        self.fake = fake

    def calls(self) -> int:
        return sum(self.fake.calls.values())

    def writes(self) -> list[str]:
        return [bucket for bucket, _ in self.fake.writes]

    def policy(self) -> Any:
        return self.fake.policy(CONNECT_BUCKET)

    def set_policy(self, policy: Any) -> None:
        self.fake.buckets[CONNECT_BUCKET].policy = None if policy is None else json.dumps(policy)


def test_hostile_events_through_the_handler(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    app = load_app(world, monkeypatch)
    fake = FakeAws()
    fake.create_bucket(CONNECT_BUCKET)
    fake.create_bucket(DECOY, policy=DECOY_POLICY)
    instance = fake.create_instance("contact-centre", (CONNECT_BUCKET,))
    monkeypatch.setattr(app, "ENFORCER", Enforcer(app.SETTINGS, fake))
    # Locked before the stream starts; the adversary breaks it now and then.
    app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=CONNECT_BUCKET), CONTEXT)
    fake.writes.clear()
    allowed = {
        "connect-lockdown-EnforcerRole-FAKE": fake.enforcer_role_id,
        fake.role_name(instance.service_role_arn): fake.roles[fake.role_name(instance.service_role_arn)],
    }
    stream = HostileEvents(
        SEED,
        connect_bucket=CONNECT_BUCKET,
        decoy_bucket=DECOY,
        instance_id=instance.id,
        enforcer_session_arn=fake.identity.arn,
    )
    run = FakeRun(app, fake, stream, allowed)

    run.go(HOSTILE_EVENTS)

    assert fake.buckets[DECOY].policy == json.dumps(DECOY_POLICY)
    assert DECOY not in run.writes()
    assert run.writes_seen > 0 and run.ignored > HOSTILE_EVENTS // 10, "the stream must exercise both paths"
    figure(
        "hostile_events_in_memory",
        seed=SEED,
        events=len(run.timings),
        ignored=run.ignored,
        acted_on=len(run.timings) - run.ignored,
        adversary_drifts=run.drifts,
        writes=run.writes_seen,
        outcomes=dict(run.outcomes),
        deepest=run.deepest,
        **percentiles(run.timings),
    )


class MotoRun(Run):
    def __init__(self, app: ModuleType, world: World, stream: HostileEvents, allowed: dict[str, str]) -> None:
        super().__init__(app, stream, allowed)
        self.world = world
        self.operations: Counter[str] = Counter()
        self.put_buckets: list[str] = []
        gateway: AwsGateway = app.ENFORCER.gateway
        for client in (gateway.s3, gateway.connect, gateway.iam, gateway.sts, gateway.sns):
            client.meta.events.register("provide-client-params.*.*", self._count)

    def _count(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.operations[model.name] += 1
        if model.name == "PutBucketPolicy":
            self.put_buckets.append(params["Bucket"])

    def calls(self) -> int:
        return sum(self.operations.values())

    def writes(self) -> list[str]:
        return self.put_buckets

    def policy(self) -> Any:
        return self.world.policy(CONNECT_BUCKET)

    def set_policy(self, policy: Any) -> None:
        if policy is None:
            self.world.delete_policy(CONNECT_BUCKET)
        else:
            self.world.put_policy(CONNECT_BUCKET, policy)


def test_hostile_events_through_the_handler_on_moto(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same stream, fewer events, through the real gateway: what the fake counts, botocore counts here."""
    world.create_bucket(CONNECT_BUCKET)
    world.create_bucket(DECOY)
    world.put_policy(DECOY, DECOY_POLICY)
    instance = world.create_instance("contact-centre", CONNECT_BUCKET)
    app = load_app(world, monkeypatch)
    app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=CONNECT_BUCKET), CONTEXT)
    allowed = {
        "test-lockdown-enforcer-us-east-1": world.enforcer_role_id,
        instance.role_arn.rsplit("/", 1)[1]: instance.role_id,
    }
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/test-lockdown-enforcer-us-east-1/connect-lockdown-fn"
    stream = HostileEvents(
        SEED + 2,
        connect_bucket=CONNECT_BUCKET,
        decoy_bucket=DECOY,
        instance_id=instance.id,
        enforcer_session_arn=session_arn,
        huge=100_000,
    )
    run = MotoRun(app, world, stream, allowed)

    run.go(MOTO_HOSTILE_EVENTS)

    assert world.policy(DECOY) == DECOY_POLICY
    assert DECOY not in run.writes()
    figure(
        "hostile_events_moto",
        seed=SEED + 2,
        events=len(run.timings),
        ignored=run.ignored,
        adversary_drifts=run.drifts,
        writes=run.writes_seen,
        outcomes=dict(run.outcomes),
        **percentiles(run.timings),
    )


def test_deep_nesting_anywhere_is_ignored_without_a_crash(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: a value nested about a thousand deep (as deep as the runtime's JSON parser allows) made
    str() in the ignore reason raise RecursionError, which escaped the handler."""
    app = load_app(world, monkeypatch)
    for field in ("eventSource", "errorCode", "errorMessage", "eventName", "requestParameters"):
        for depth in (10, 500, 900, 985):
            event = load_event("s3-PutBucketPolicy")
            value: Any = "x"
            for _ in range(depth):
                value = [value]
            event["detail"][field] = value

            document = app.lambda_handler(event, CONTEXT)

            assert document["results"] == [] and document["ignored"], (field, depth)


def test_a_huge_event_id_does_not_make_huge_log_lines(
    world: World, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Regression: the untrusted event id became the log correlation id unbounded, repeated in every line."""
    app = load_app(world, monkeypatch)
    event = load_event("s3-PutBucketAcl")
    event["id"] = "x" * 1_000_000
    capfd.readouterr()

    app.lambda_handler(event, CONTEXT)

    longest = max(len(line) for line in capfd.readouterr().out.splitlines())
    # CloudWatch Logs splits events over 256 KB; a log line should stay far below, whatever the event says.
    assert longest < 16 * 1024, f"a log line of {longest} characters"


def test_an_event_about_a_bucket_no_instance_uses_changes_nothing_whatever_it_claims(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every actionable event shape, each claiming the decoy is Connect's: the enforcer reads where Connect
    really stores, so the decoy is never read for a decision and never written."""
    world.create_bucket(CONNECT_BUCKET)
    world.create_bucket(DECOY)
    world.put_policy(DECOY, DECOY_POLICY)
    instance = world.create_instance("contact-centre", CONNECT_BUCKET)
    app = load_app(world, monkeypatch)
    app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=CONNECT_BUCKET), CONTEXT)
    touched: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "Bucket" in params:
            touched.append((model.name, params["Bucket"]))

    app.ENFORCER.gateway.s3.meta.events.register("provide-client-params.s3.*", record)
    claims = []
    for name in ("s3-PutBucketPolicy", "s3-DeleteBucketPolicy"):
        for bucket in (DECOY, DECOY.upper(), f"{DECOY}.", f"arn:aws:s3:::{DECOY}", f"{CONNECT_BUCKET}/../{DECOY}"):
            claims.append(load_event(name, bucket=bucket))
    for name in ("connect-AssociateInstanceStorageConfig", "connect-UpdateInstanceStorageConfig"):
        for instance_id in (instance.id, "11111111-2222-4333-8444-555555555555"):
            claim = load_event(name, bucket=DECOY, instance_id=instance_id)  # "S3Config": {"BucketName": DECOY}
            claims.append(claim)
    created = load_event("connect-CreateInstance", instance_id="11111111-2222-4333-8444-555555555555")
    created["detail"]["requestParameters"]["StorageConfig"] = {"S3Config": {"BucketName": DECOY}}
    claims.append(created)
    foreign = load_event("connect-AssociateInstanceStorageConfig-arn", bucket=DECOY, instance_id=instance.id)
    foreign["account"] = foreign["detail"]["recipientAccountId"] = "999999999999"
    claims.append(foreign)

    for claim in claims:
        document = app.lambda_handler(claim, CONTEXT)
        assert all(r["bucket"] in (CONNECT_BUCKET, None) for r in document["results"]), claim["detail"]

    assert world.policy(DECOY) == DECOY_POLICY
    assert [call for call in touched if call[1] != CONNECT_BUCKET] == []
