"""Concurrency against a ThreadedMotoServer.

Twenty reconciles run at once, each with its own Enforcer (twenty Lambda execution environments), while an
adversary writes random policies to the bucket: someone's statements, our statement bent or duplicated, no
policy at all. Then the adversary writes once more, and the event of that last write is reconciled.

S3 has no conditional PutBucketPolicy: a reconcile that read the policy before someone's write and writes
after it replaces that write (a lost update). The enforcer reads the policy again right before writing, after
its inventory and IAM reads, so only a write within that last round trip can be replaced;
`test_a_write_between_our_read_and_our_write_is_not_lost` pins down the window it closed. The storm may still
hit the round trip in the middle, where the next event repairs the lock; that is why the adversary's last
write comes after the reconciles.
"""

from __future__ import annotations

import copy
import json
import os
import random
import threading
import time
from collections import Counter
from typing import Any

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.outcomes import BucketResult
from connect_lockdown.reconcile import Enforcer
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import ACCOUNT, ENFORCER_ROLE_NAME, World
from tests.support import policy_strategies as ps
from tests.support.policy_eval import Request, matching_statements
from tests.support.reliability import CONCURRENCY_ROUNDS, figure

pytestmark = pytest.mark.integration

BUCKET = "amazon-connect-7e2d4c1b9a05"
RECONCILES = 20
SEED = int(os.environ.get("RELIABILITY_SEED") or random.SystemRandom().randrange(2**32))
OURS = ("Deny", policies.LOCKDOWN_SID)


def enforcer_clients(world: World) -> dict[str, Any]:
    """The enforcer role's clients for the moto server (boto3 clients are thread-safe)."""
    session = world.enforcer_session()
    names = ("s3", "connect", "iam", "sts", "sns", "dynamodb")
    return {name: session.client(name, endpoint_url=world.endpoint_url) for name in names}


def lock_holds(policy: Any, allowed: dict[str, str]) -> bool:
    resource = f"arn:aws:s3:::{BUCKET}/calls/1.wav"
    outsider = Request.for_role(ACCOUNT, "outsider", "AROAOUTSIDER0000001", "s3:GetObject", resource)
    if OURS not in matching_statements(policy, outsider):
        return False
    return all(
        OURS not in matching_statements(policy, Request.for_role(ACCOUNT, name, unique_id, "s3:PutObject", resource))
        for name, unique_id in allowed.items()
    )


class Adversary(threading.Thread):
    """Writes random policies until told to stop; remembers what it wrote last."""

    def __init__(self, world: World, seed: int, ours: dict[str, Any]) -> None:
        super().__init__(name="adversary", daemon=True)
        self.rnd = random.Random(seed)
        self.s3 = world.session.client("s3", region_name="us-east-1", endpoint_url=world.endpoint_url)
        self.ours = ours
        self.stop = threading.Event()
        self.writes = 0
        self.last: dict[str, Any] | None = None
        self.error: BaseException | None = None

    def policy(self) -> dict[str, Any] | None:
        rnd = self.rnd
        if rnd.random() < 0.1:
            return None
        statements = [ps.random_statement(rnd, BUCKET, "aws", True) for _ in range(rnd.randint(1, 4))]
        if rnd.random() < 0.5:
            bent = copy.deepcopy(self.ours)
            rnd.choice(ps.DRIFTS)(bent)
            statements.insert(rnd.randrange(len(statements) + 1), bent)
        if rnd.random() < 0.2:
            statements.append(copy.deepcopy(self.ours))
            statements.insert(0, copy.deepcopy(self.ours))
        return {"Version": "2012-10-17", "Statement": statements}

    def write(self) -> None:
        policy = self.policy()
        if policy is None:
            self.s3.delete_bucket_policy(Bucket=BUCKET)
        else:
            self.s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
        self.last = policy
        self.writes += 1

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.write()
                time.sleep(self.rnd.uniform(0, 0.03))
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error


@pytest.mark.parametrize("indexed", [False, True], ids=["fresh-reads", "with-index"])
@pytest.mark.parametrize("round_", range(CONCURRENCY_ROUNDS))
def test_twenty_reconciles_against_an_adversary_end_compliant(world: World, round_: int, indexed: bool) -> None:
    world.create_bucket(BUCKET)
    first = world.create_instance("first", BUCKET)
    second = world.create_instance("second", BUCKET, resource_types=("SCREEN_RECORDINGS",))
    admin_arn, admin_id = world.create_role("Admin")
    table = world.create_index_table() if indexed else None
    settings = Settings(topic_arn=world.topic_arn, admin_role_arns=(admin_arn,), inventory_table=table)
    if indexed:
        # The index is filled by a sweep, as the deployed stack's first sweep does.
        Enforcer(settings, AwsGateway(clients=enforcer_clients(world))).handle_event(load_event("scheduled-event"))
    allowed = {
        "Admin": admin_id,
        ENFORCER_ROLE_NAME: world.enforcer_role_id,
        first.role_arn.rsplit("/", 1)[1]: first.role_id,
        second.role_arn.rsplit("/", 1)[1]: second.role_id,
    }
    # Each reconcile gets its own Enforcer (its own caches), as each Lambda execution environment has.
    clients = enforcer_clients(world)
    ours = policies.lockdown_statement(BUCKET, "aws", {ACCOUNT, *(p + ":*" for p in allowed.values())})
    adversary = Adversary(world, SEED + round_, ours)
    rnd = random.Random(SEED + round_)
    events = [
        rnd.choice(
            [
                load_event("s3-PutBucketPolicy", bucket=BUCKET),
                load_event("s3-DeleteBucketPolicy", bucket=BUCKET),
                load_event("connect-AssociateInstanceStorageConfig", bucket=BUCKET, instance_id=first.id),
                load_event("scheduled-event"),
            ]
        )
        for _ in range(RECONCILES)
    ]
    delays = [rnd.uniform(0, 1.0) for _ in range(RECONCILES)]
    start = threading.Barrier(RECONCILES + 1)
    results: list[BucketResult] = []
    escaped: list[BaseException] = []
    lock = threading.Lock()

    def reconcile(index: int) -> None:
        try:
            enforcer = Enforcer(settings, AwsGateway(clients=clients))
            start.wait()
            time.sleep(delays[index])
            report = enforcer.handle_event(events[index])
            with lock:
                results.extend(r for r in report.results if r.bucket == BUCKET)
        except BaseException as error:  # noqa: BLE001 - the point: nothing may escape
            with lock:
                escaped.append(error)

    threads = [threading.Thread(target=reconcile, args=(n,), name=f"reconcile-{n}") for n in range(RECONCILES)]
    for thread in threads:
        thread.start()
    adversary.start()
    start.wait()
    for thread in threads:
        thread.join(timeout=120)
    adversary.stop.set()
    adversary.join(timeout=30)

    assert escaped == [], f"seed {SEED + round_}: {escaped!r}"
    assert adversary.error is None, adversary.error
    assert len(results) == RECONCILES, "every reconcile reported on the bucket"
    for result in results:
        assert result.outcome in ("remediated", "compliant"), result.reason
        if result.outcome == "remediated":
            # What each reconcile wrote kept every foreign statement of what it read, and locked the bucket
            assert policies.foreign_statements(result.applied_policy) == policies.foreign_statements(
                result.previous_policy
            )
            assert lock_holds(result.applied_policy, allowed)

    # The adversary's last write, and its event, reconciled after the storm
    adversary.write()
    last = adversary.last
    final = Enforcer(settings, AwsGateway(clients=clients)).handle_event(
        load_event("s3-PutBucketPolicy", bucket=BUCKET)
    )
    assert [r.outcome for r in final.results] in (["remediated"], ["compliant"])
    after = world.policy(BUCKET)
    assert lock_holds(after, allowed)
    assert policies.foreign_statements(after) == policies.foreign_statements(last)
    outcomes = Counter(str(r.outcome) for r in results)
    figure(
        "concurrency",
        seed=SEED + round_,
        reconciles=RECONCILES,
        adversary_writes=adversary.writes,
        remediated=outcomes["remediated"],
        compliant=outcomes["compliant"],
    )


def test_a_write_between_our_read_and_our_write_is_not_lost(world: World) -> None:
    """Someone writes while the enforcer resolves principal IDs (after its first GetBucketPolicy, before its
    PutBucketPolicy). Their write must survive. Regression: the enforcer merged the policy it had read before the
    inventory and IAM reads, replacing their write for good."""
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    theirs = {
        "Sid": "TheirAnalytics",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/analytics"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    clients = enforcer_clients(world)
    gateway = AwsGateway(clients=clients)
    faults = AwsHooks().attach(*clients.values())
    written: list[bool] = []

    def their_write(_: dict[str, Any]) -> None:
        if not written:
            world.put_policy(BUCKET, {"Version": "2012-10-17", "Statement": [theirs]})
            written.append(True)

    faults.run_before("GetRole", their_write)
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), gateway)

    enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))
    # Their write's own event arrives
    enforcer.handle_event(load_event("s3-PutBucketPolicy", bucket=BUCKET))

    assert theirs in policies.statements_of(world.policy(BUCKET))
