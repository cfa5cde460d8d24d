"""Throttling on 30% of the enforcer's requests, over HTTP against a moto server.

Each HTTP attempt, retries included, is throttled with probability 0.3 with the answer the service really
gives (S3 SlowDown, Connect ThrottlingException and TooManyRequestsException, IAM/STS/SNS Throttling). botocore
retries as in production (standard mode, adaptive mode for Connect) on a virtual clock. A failure that survives
botocore's retries makes the handler raise, and Lambda invokes it again: asynchronous invocations are retried
twice, so each event gets at most three attempts here. Should all three fail, the next scheduled sweep (three
attempts too) is what repairs the bucket in production, and so here. The end state must be compliant, with
every foreign statement kept and each drift written exactly once.
"""

from __future__ import annotations

import os
import random
import sys
from collections import Counter
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.outcomes import RetryLater
from devtools.botocore_hooks import AwsHooks, VirtualTime
from devtools.events import load_event
from devtools.world import ACCOUNT, ENFORCER_ROLE_NAME, World
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app
from tests.support.policies import deny_insecure_transport, public_read
from tests.support.policy_eval import Request, matching_statements
from tests.support.reliability import THROTTLE_ROUNDS, tally

pytestmark = pytest.mark.integration

CONTEXT = lambda_context("req-throttled")
SHARED = "amazon-connect-shared0a1b"
SOLO = "amazon-connect-solo2c3d4e"
LAMBDA_ATTEMPTS = 3
SEED = int(os.environ.get("RELIABILITY_SEED") or random.SystemRandom().randrange(2**32))
TLS_ONLY = deny_insecure_transport(SHARED)
PUBLIC = public_read(SOLO)
TOTALS = tally("throttling_30_percent", seed=SEED)  # all rounds, reported when the session finishes


@pytest.fixture(autouse=True)
def _forget_app() -> Iterator[None]:
    yield
    sys.modules.pop("app", None)


def invoke_like_lambda(app: ModuleType, event: Any, attempts: Counter[str], clock: VirtualTime | None = None) -> bool:
    """Invoke as asynchronous Lambda does: again after an error, at most LAMBDA_ATTEMPTS times in all.

    `attempts` counts invocations, RetryLater raised, and the most virtual seconds one invocation waited in
    botocore's backoff and adaptive rate limiting (threads' waits added up: an upper bound of the wall time).
    """
    for _ in range(LAMBDA_ATTEMPTS):
        attempts["invocations"] += 1
        waited = clock.slept if clock else 0.0
        try:
            app.lambda_handler(event, CONTEXT)
        except RetryLater:
            attempts["retry_later"] += 1
            continue
        finally:
            if clock is not None:
                wait_ms = int((clock.slept - waited) * 1000)
                attempts["max_wait_per_invocation_ms"] = max(attempts["max_wait_per_invocation_ms"], wait_ms)
        return True
    return False


def _lock_holds(world: World, bucket: str, allowed: dict[str, str]) -> None:
    policy = world.policy(bucket)
    resource = f"arn:aws:s3:::{bucket}/call.wav"
    ours = ("Deny", policies.LOCKDOWN_SID)
    outsider = Request.for_role(ACCOUNT, "outsider", "AROAOUTSIDER0000001", "s3:GetObject", resource)
    assert ours in matching_statements(policy, outsider), bucket
    for name, unique_id in allowed.items():
        request = Request.for_role(ACCOUNT, name, unique_id, "s3:PutObject", resource)
        assert ours not in matching_statements(policy, request), (bucket, name)


@pytest.mark.parametrize("round_", range(THROTTLE_ROUNDS))
def test_throttling_on_30_percent_of_calls_ends_compliant(
    world: World, monkeypatch: pytest.MonkeyPatch, round_: int
) -> None:
    # Given two instances sharing a bucket that carries someone's statement, a third alone with a public bucket
    for bucket in (SHARED, SOLO):
        world.create_bucket(bucket)
    first = world.create_instance("first", SHARED)
    second = world.create_instance("second", SHARED, resource_types=("SCHEDULED_REPORTS",))
    third = world.create_instance("third", SOLO)
    admin_arn, admin_id = world.create_role("Admin")
    world.put_policy(SHARED, {"Version": "2012-10-17", "Statement": [TLS_ONLY]})
    world.put_policy(SOLO, {"Version": "2012-10-17", "Statement": [PUBLIC]})
    clock = VirtualTime().install(monkeypatch)
    app = load_app(world, monkeypatch, ADMIN_ROLE_ARNS=admin_arn)
    throttling = AwsHooks().attach_gateway(app.ENFORCER.gateway).throttle(0.3, seed=SEED + round_)
    attempts: Counter[str] = Counter()
    common = {"Admin": admin_id, ENFORCER_ROLE_NAME: world.enforcer_role_id}
    allowed = {
        SHARED: {**common, **{i.role_arn.rsplit("/", 1)[1]: i.role_id for i in (first, second)}},
        SOLO: {**common, third.role_arn.rsplit("/", 1)[1]: third.role_id},
    }

    # When the sweep runs, and then someone deletes the shared bucket's policy and its event arrives
    done = invoke_like_lambda(app, load_event("scheduled-event"), attempts, clock)
    if not done:  # the next sweep repairs what three attempts could not
        invoke_like_lambda(app, load_event("scheduled-event"), attempts, clock)
    _lock_holds(world, SHARED, allowed[SHARED])
    _lock_holds(world, SOLO, allowed[SOLO])
    world.put_policy(SHARED, {"Version": "2012-10-17", "Statement": [TLS_ONLY]})
    if not invoke_like_lambda(app, load_event("s3-PutBucketPolicy", bucket=SHARED), attempts, clock):
        invoke_like_lambda(app, load_event("scheduled-event"), attempts, clock)

    # Then both buckets are locked, the foreign statements are intact, and each drift was written once
    _lock_holds(world, SHARED, allowed[SHARED])
    _lock_holds(world, SOLO, allowed[SOLO])
    assert policies.foreign_statements(world.policy(SHARED)) == [TLS_ONLY]
    assert policies.foreign_statements(world.policy(SOLO)) == [PUBLIC]
    assert throttling.passed["PutBucketPolicy"] == 3, "three drifts, three writes"
    assert sum(throttling.throttled.values()) > 0
    TOTALS["max_wait_per_invocation_ms"] = max(
        TOTALS["max_wait_per_invocation_ms"], attempts.pop("max_wait_per_invocation_ms", 0)
    )
    TOTALS.update(
        rounds=1,
        requests=sum(throttling.requests.values()),
        throttled=sum(throttling.throttled.values()),
        writes=throttling.passed["PutBucketPolicy"],
        virtual_backoff_ms=int(clock.slept * 1000),
        **attempts,
        **{f"code_{code}": n for code, n in throttling.throttled.items()},
    )


def test_throttling_that_outlasts_botocore_is_retried_by_lambda_and_writes_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 throttles every attempt of the first invocation (botocore gives up after six); the handler raises for
    Lambda's retry, which finds every service at 30% and ends compliant with one write."""
    world.create_bucket(SOLO)
    world.create_instance("solo", SOLO)
    world.put_policy(SOLO, {"Version": "2012-10-17", "Statement": [PUBLIC]})
    VirtualTime().install(monkeypatch)
    app = load_app(world, monkeypatch)
    storm = AwsHooks().attach_gateway(app.ENFORCER.gateway).throttle(1.0, seed=SEED, only={"GetBucketPolicy"})
    event = load_event("s3-PutBucketPolicy", bucket=SOLO)

    with pytest.raises(RetryLater, match="SlowDown"):
        app.lambda_handler(event, CONTEXT)
    # retries={"max_attempts": 5} is botocore's count of retries after the first attempt: six in all.
    assert storm.requests["GetBucketPolicy"] == 6
    assert world.policy(SOLO)["Statement"] == [PUBLIC]

    storm.throttle_share, storm.throttle_only = 0.3, None
    attempts: Counter[str] = Counter()
    assert invoke_like_lambda(app, event, attempts) or invoke_like_lambda(app, event, attempts)
    assert storm.passed["PutBucketPolicy"] == 1
    assert policies.foreign_statements(world.policy(SOLO)) == [PUBLIC]
