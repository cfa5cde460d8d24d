"""Time to lock against the estate size, with the index and without; sweeps that continue themselves at any size.

One estate per size (built on the moto server's backends, every bucket unlocked) serves, in order: a first sweep,
the idle hourly sweep, then the events. Nothing waits for the quota: "least time" replays the Connect calls on
the `ApiModel`'s virtual clock; sweeps run live on it, each invocation told the time it has left.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from time import perf_counter
from types import ModuleType
from typing import Any

from bench.common import (
    CONNECT_DEFAULT_BURST,
    CONNECT_DEFAULT_RATE,
    LATENCY,
    ApiModel,
    CallCounter,
    VirtualClock,
    calls_before,
    least_seconds,
    log,
    per_operation,
    spread,
)
from bench.moto_process import ACCOUNT, REGION, MotoProcess, client_world
from bench.per_event import Estate, invoke, load_app, public_policy, warm_resource_types
from devtools.events import load_event

SIZES = (2, 10, 40, 100, 250)
FUNCTION_TIMEOUT = 120.0  # the template's Timeout
TABLE = "connect-lockdown-inventory"
SCHEDULE_GROUP = "connect-lockdown-rechecks"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:connect-lockdown-enforcer"
RECHECK_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/connect-lockdown-RecheckSchedulerRole"
# The first instances also store their screen recordings in one shared bucket.
SHARED_BUCKET = "amazon-connect-shared-screens"
SHARED_BY = 3
# Buckets in the account that no instance uses; the daily orphan search reads each one's policy.
OTHER_BUCKETS = 20
UNRELATED_BUCKET = "unrelated-bucket-0000"
# The scheduled event's time (events/scheduled-event.json): 03:00 UTC, not the orphan search's hour.
SWEEP_TIME = "2025-03-15T03:00:00Z"
ORPHAN_SWEEP_TIME = "2025-03-15T00:00:00Z"


def specs(count: int) -> list[dict[str, Any]]:
    """`count` instances, each with its own bucket; the first SHARED_BY also share SHARED_BUCKET."""
    shared = {"extra": [[SHARED_BUCKET, "SCREEN_RECORDINGS"]]}
    return [
        {"alias": f"contact-centre-{n:04d}", "bucket": own_bucket(n), **(shared if n < SHARED_BY else {})}
        for n in range(count)
    ]


def own_bucket(number: int) -> str:
    return f"amazon-connect-{number:012d}"


# --- one execution environment, its calls, and the virtual clock -------------------------------------


class Context:
    """What Lambda passes the handler: the function's ARN and the time left, on the virtual clock if any."""

    def __init__(self, clock: VirtualClock | None, timeout: float = FUNCTION_TIMEOUT) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = FUNCTION_ARN
        self._clock: Callable[[], float] = clock or perf_counter
        self._deadline = self._clock() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - self._clock()) * 1000)


@dataclass
class Environment:
    """One execution environment: `app` imported afresh, every client counted, hand-overs captured."""

    app: ModuleType
    counter: CallCounter
    clock: VirtualClock | None
    handed_over: list[dict[str, Any]] = field(default_factory=list)


def environment(estate: Estate, *, index: bool, clock: VirtualClock | None = None) -> Environment:
    variables = {"RECHECK_SCHEDULE_GROUP": SCHEDULE_GROUP, "RECHECK_ROLE_ARN": RECHECK_ROLE_ARN}
    if index:
        variables["INVENTORY_TABLE"] = TABLE
    app = load_app(estate, variables)
    gateway = app.ENFORCER.gateway
    counter = CallCounter()
    counter.attach_gateway(gateway)
    if clock is not None:
        connect = ApiModel(clock=clock, latency=LATENCY, rate=CONNECT_DEFAULT_RATE, burst=CONNECT_DEFAULT_BURST)
        other = ApiModel(clock=clock, latency=LATENCY)
        for client in gateway.all_clients():
            (connect if client is gateway.connect else other).attach(client)
    env = Environment(app, counter, clock)

    def invoke_async(function_arn: str, payload: Any) -> None:
        # Lambda's asynchronous Invoke of the function itself: moto cannot run the function, so the payload is
        # kept (as JSON, as Lambda delivers it) for the next invocation, and the call counted as one.
        counter.record("lambda", "Invoke")
        if clock is not None:
            clock.advance(LATENCY)
        env.handed_over.append(json.loads(json.dumps(payload)))

    gateway.invoke_async = invoke_async
    return env


@dataclass
class Run:
    """One invocation: what it returned, every call in order, and its times."""

    document: dict[str, Any]
    sequence: list[tuple[str, str]]
    dynamodb: dict[str, int]
    seconds: float
    seconds_to_write: float | None
    virtual_seconds: float | None

    def outcomes(self) -> list[str]:
        return sorted(str(r["outcome"]) for r in self.document["results"])


def call(env: Environment, event: Any) -> Run:
    env.counter.reset()
    virtual_start, started = env.clock() if env.clock else 0.0, perf_counter()
    document = invoke(env.app, event, Context(env.clock))
    seconds, write_at = perf_counter() - started, env.counter.time_of("PutBucketPolicy")
    virtual = env.clock() - virtual_start if env.clock else None
    to_write = None if write_at is None else write_at - started
    return Run(document, env.counter.operations(), env.counter.dynamodb.to_dict(), seconds, to_write, virtual)


def least(sequence: list[tuple[str, str]], *, latency: float = 0.0) -> float:
    return least_seconds(sequence, rate=CONNECT_DEFAULT_RATE, burst=CONNECT_DEFAULT_BURST, latency=latency)


def counts(sequence: list[tuple[str, str]]) -> dict[str, Any]:
    """Calls per API (all, and Connect's), and the least and modelled time of this sequence at the quota."""
    connect = per_operation(sequence, "connect")
    return {
        "calls": per_operation(sequence),
        "total_calls": len(sequence),
        "connect_calls": connect,
        "connect_total": sum(connect.values()),
        "least_seconds": least(sequence),
        "modelled_seconds": least(sequence, latency=LATENCY),
    }


def summarise(runs: list[Run], *, label: str) -> dict[str, Any]:
    """Several runs of one measurement: the calls must be the same in every run; times as median (min, max)."""
    first, calls = runs[0], [per_operation(run.sequence) for run in runs]
    if any(made != calls[0] for made in calls):
        raise AssertionError(f"{label}: the calls differ between runs: {calls}")
    before = calls_before(first.sequence, "PutBucketPolicy")
    wrote = len(before) < len(first.sequence)
    connect_before = per_operation(before, "connect")
    return counts(first.sequence) | {
        "outcomes": first.outcomes(),
        "connect_before_write": connect_before,
        "connect_before_write_total": sum(connect_before.values()),
        # The lock is back when PutBucketPolicy is sent: the Connect calls before it at the quota.
        "least_seconds_to_lock": least(before) if wrote else None,
        "modelled_seconds_to_lock": least(before, latency=LATENCY) if wrote else None,
        "dynamodb": first.dynamodb,
        "moto_seconds": spread([run.seconds for run in runs]),
        "moto_seconds_to_lock": spread([float(run.seconds_to_write or 0.0) for run in runs]) if wrote else None,
        "runs": len(runs),
    }


def expect(run: Run, outcomes: list[str], label: str) -> Run:
    if run.outcomes() != sorted(outcomes):
        raise AssertionError(f"{label}: expected {sorted(outcomes)}, got {run.outcomes()} ({run.document})")
    return run


# --- the measurements of one estate ----------------------------------------------------------------


def build(server: MotoProcess, count: int) -> Estate:
    world = client_world(server.endpoint, server.estate(instances=specs(count), other_buckets=OTHER_BUCKETS))
    world.create_index_table(TABLE)
    world.client("scheduler").create_schedule_group(Name=SCHEDULE_GROUP)
    return Estate(world, server.endpoint, world.instances[0], world.instances[-1], world.instances[0])


def together(runs: list[Run]) -> dict[str, Any]:
    """Several invocations counted together: calls per API, their times at the quota, DynamoDB's units summed."""
    units: Counter[str] = Counter()
    for run in runs:
        units.update(run.dynamodb)
    return {
        **counts([made for run in runs for made in run.sequence]),
        "invocations": len(runs),
        "dynamodb": dict(units),
    }


def simulated_sweep(estate: Estate, *, time: str = SWEEP_TIME) -> dict[str, Any]:
    """A scheduled sweep with the index, each invocation in a new execution environment on one virtual clock,
    every continuation it hands over run in turn (its time set to the virtual time)."""
    clock, base = VirtualClock(), datetime.fromisoformat(time)
    queue: list[dict[str, Any]] = [{**load_event("scheduled-event"), "time": time}]
    runs: list[Run] = []
    while queue:
        env = environment(estate, index=True, clock=clock)
        runs.append(run := call(env, queue.pop(0)))
        now = (base + timedelta(seconds=clock.now)).strftime("%Y-%m-%dT%H:%M:%SZ")
        queue += [{**payload, "time": now} for payload in env.handed_over]
        log(f"time-to-lock: sweep part {len(runs)}: {run.virtual_seconds:.1f} modelled s, {len(run.sequence)} calls")
    longest = max(float(run.virtual_seconds or 0.0) for run in runs)
    return together(runs) | {
        "parts": [{"modelled_seconds": run.virtual_seconds, "calls": per_operation(run.sequence)} for run in runs],
        "outcomes": dict(sorted(Counter(outcome for run in runs for outcome in run.outcomes()).items())),
        # On the one virtual clock: the parts one after the other, hand-overs included.
        "modelled_seconds": clock.now,
        "longest_invocation_seconds": longest,
        "within_timeout": longest <= FUNCTION_TIMEOUT,
        "moto_seconds": sum(run.seconds for run in runs),
    }


def time_to_lock(estate: Estate, bucket: str, *, index: bool, warm: bool, runs: int) -> dict[str, Any]:
    """DeleteBucketPolicy on `bucket`: cold, each run in a new environment; warm, one that handled it before."""
    world = estate.world
    event = load_event("s3-DeleteBucketPolicy", bucket=bucket)
    label = f"{bucket}, {'index' if index else 'fresh'}, {'warm' if warm else 'cold'}"
    env = environment(estate, index=index) if warm else None
    if env is not None:
        world.delete_policy(bucket)
        expect(call(env, event), ["remediated"], f"{label} (warm-up)")
    measured = []
    for _ in range(runs):
        world.delete_policy(bucket)
        current = env or environment(estate, index=index)
        measured.append(expect(call(current, event), ["remediated"], label))
    return summarise(measured, label=label)


def unrelated(estate: Estate, *, index: bool, warm: bool) -> dict[str, Any]:
    """PutBucketPolicy on a bucket no Connect instance uses."""
    event = load_event("s3-PutBucketPolicy", bucket=UNRELATED_BUCKET)
    env = environment(estate, index=index)
    if warm:
        expect(call(env, event), [], "unrelated (warm-up)")
    return summarise([expect(call(env, event), [], "unrelated bucket")], label="unrelated bucket")


def own_write_echo(estate: Estate, bucket: str) -> Run:
    """The CloudTrail event of the enforcer's own PutBucketPolicy, which EventBridge delivers too."""
    role_name = estate.world.enforcer_role_arn.rsplit("/", 1)[1]
    event = load_event("s3-PutBucketPolicy-by-enforcer", bucket=bucket, enforcer_role=role_name)
    return expect(call(environment(estate, index=True), event), [], "own write")


def drift(estate: Estate, bucket: str) -> dict[str, Any]:
    """One drift as the cost model counts it: the change's event, and the echo of the enforcer's own write."""
    estate.world.put_policy(bucket, public_policy(bucket))
    event = load_event("s3-PutBucketPolicy", bucket=bucket)
    change = expect(call(environment(estate, index=True), event), ["remediated"], "drift")
    return invocations(
        [
            ("PutBucketPolicy (drift)", change),
            ("PutBucketPolicy by the enforcer (ignored)", own_write_echo(estate, bucket)),
        ]
    )


def new_instance(server: MotoProcess, estate: Estate) -> dict[str, Any]:
    """A new instance as the cost model counts it, each event in a new execution environment: CreateInstance
    (no storage yet: pending, re-check 1 scheduled), its call recordings associated with a new bucket
    (remediated), the echo of that write, its chat transcripts in the same bucket (compliant), re-check 1."""
    from connect_lockdown.own_events import recheck_event

    bucket = "amazon-connect-new-instance"
    added = server.add_instance({"alias": "just-created"})
    world = estate.world
    world.create_bucket(bucket)
    instance_id = added["id"]
    steps: list[tuple[str, Run]] = []

    def step(label: str, event: Any, outcomes: list[str]) -> None:
        steps.append((label, expect(call(environment(estate, index=True), event), outcomes, label)))

    def associate(resource_type: str) -> None:
        config = {"StorageType": "S3", "S3Config": {"BucketName": bucket, "BucketPrefix": resource_type.lower()}}
        world.client("connect").associate_instance_storage_config(
            InstanceId=instance_id, ResourceType=resource_type, StorageConfig=config
        )

    step("CreateInstance (pending)", load_event("connect-CreateInstance", instance_id=instance_id), ["pending"])
    associate("CALL_RECORDINGS")
    association = load_event("connect-AssociateInstanceStorageConfig", bucket=bucket, instance_id=instance_id)
    step("AssociateInstanceStorageConfig, call recordings (remediated)", association, ["remediated"])
    steps.append(("PutBucketPolicy by the enforcer (ignored)", own_write_echo(estate, bucket)))
    associate("CHAT_TRANSCRIPTS")
    step("AssociateInstanceStorageConfig, chat transcripts (compliant)", association, ["compliant"])
    recheck = recheck_event(instance_id, 1, str(uuid.uuid4()), SWEEP_TIME)
    step("re-check 1 (compliant)", recheck, ["compliant"])
    return invocations(steps)


def invocations(steps: list[tuple[str, Run]]) -> dict[str, Any]:
    """Several invocations counted together, and each on its own."""
    runs = [run for _, run in steps]
    return together(runs) | {
        # The invocations are minutes apart (Connect's quota refills in between): their times add up.
        "least_seconds": sum(least(run.sequence) for run in runs),
        "modelled_seconds": sum(least(run.sequence, latency=LATENCY) for run in runs),
        "steps": [
            {"event": label, "outcomes": run.outcomes(), **counts(run.sequence), "dynamodb": run.dynamodb}
            for label, run in steps
        ],
    }


def orphan_search(server: MotoProcess) -> dict[str, Any]:
    """The daily sweep (00:00 UTC) against an hourly one on the smallest estate: what the orphan search adds."""
    estate = build(server, SIZES[0])
    simulated_sweep(estate)  # the first sweep, which fills the index
    hourly, daily = simulated_sweep(estate), simulated_sweep(estate, time=ORPHAN_SWEEP_TIME)
    extra = Counter(daily["calls"])
    extra.subtract(hourly["calls"])
    kept = ("calls", "total_calls", "invocations")
    return {
        "instances": SIZES[0],
        "buckets_used_by_connect": SIZES[0] + 1,
        "other_buckets": OTHER_BUCKETS,
        "hourly": {k: hourly[k] for k in kept},
        "daily": {k: daily[k] for k in kept},
        "extra_calls": {k: v for k, v in sorted(extra.items()) if v},
    }


def measure_estate(server: MotoProcess, count: int, *, runs: int) -> dict[str, Any]:
    estate, target = build(server, count), own_bucket(count - 1)
    row: dict[str, Any] = {"instances": count, "buckets": count + 1, "shared_bucket_instances": min(SHARED_BY, count)}
    log(f"time-to-lock: {count} instances, first and hourly sweeps, then the events")
    row["first_sweep"] = simulated_sweep(estate)
    row["hourly_sweep"] = simulated_sweep(estate)
    # The fresh reads cost a whole inventory per run on moto: one run (the counts are exact anyway).
    row["time_to_lock"] = {
        variant: {
            mode: time_to_lock(estate, target, index=variant == "index", warm=mode == "warm", runs=times)
            for mode in ("cold", "warm")
        }
        for variant, times in (("index", runs), ("fresh", 1))
    }
    row["shared_bucket"] = {
        mode: time_to_lock(estate, SHARED_BUCKET, index=True, warm=mode == "warm", runs=1) for mode in ("cold", "warm")
    }
    row["unrelated_bucket"] = {
        "index": {mode: unrelated(estate, index=True, warm=mode == "warm") for mode in ("cold", "warm")},
        "fresh": {"cold": unrelated(estate, index=False, warm=False)},
    }
    row["drift"] = drift(estate, target)
    row["new_instance"] = new_instance(server, estate)
    return row


def run(server: MotoProcess, *, sizes: tuple[int, ...] = SIZES, runs: int = 3) -> dict[str, Any]:
    from connect_lockdown.continuation import SWEEP_RESERVE_SECONDS
    from connect_lockdown.inventory import NON_S3_RESOURCE_TYPES

    read = len([t for t in warm_resource_types() if t not in NON_S3_RESOURCE_TYPES])
    estates = [measure_estate(server, count, runs=runs) for count in sizes]
    return {
        "stress_sweep": stress_sweep(server, estates[-1], read),
        "model": {
            "connect_rate": CONNECT_DEFAULT_RATE,
            "connect_burst": CONNECT_DEFAULT_BURST,
            "latency": LATENCY,
            "function_timeout": FUNCTION_TIMEOUT,
            "sweep_reserve": SWEEP_RESERVE_SECONDS,
            "resource_types_read": read,
        },
        "runs": runs,
        "estates": estates,
        "orphan_search": orphan_search(server),
    }


def instances_per_part(sweep: dict[str, Any], resource_types_read: int) -> int | None:
    """How many instances an invocation of a continued sweep reads before it hands over (None: one invocation)."""
    parts = sweep["parts"]
    if len(parts) < 2:
        return None
    return int(parts[0]["calls"].get("ListInstanceStorageConfigs", 0) // resource_types_read)


def worst_size(instances: int, per_part: int) -> int:
    """The estate size at or above `instances` whose last invocation reads a full share of instances before it
    decides every bucket: the sweep's longest possible last invocation."""
    return per_part * math.ceil(instances / per_part)


def stress_sweep(server: MotoProcess, largest: dict[str, Any], resource_types_read: int) -> dict[str, Any] | None:
    """A first sweep (every bucket remediated in the last invocation) at the worst size near the largest one."""
    per_part = instances_per_part(largest["first_sweep"], resource_types_read)
    if per_part is None or per_part == 0:
        return None
    count = worst_size(largest["instances"], per_part)
    if count == largest["instances"]:
        return {"instances": count, "same_as_largest": True}
    log(f"time-to-lock: {count} instances (the last invocation reads a full share), first sweep")
    return {"instances": count, "same_as_largest": False, "first_sweep": simulated_sweep(build(server, count))}
