"""Side by side with Cloud Custodian: the same lockdown statement, the same drifted bucket, the same moto server.

Cloud Custodian (c7n) is what a user would deploy instead: one policy on `aws.s3` with a `set-statements`
action that carries the lockdown statement. c7n cannot compute that statement (it does not know which
Connect instances use the bucket, nor their roles' unique IDs), so it is given the very statement the
enforcer wrote. Both run in this process against the same server, alternately, on the same bucket states,
counted by the same botocore hook; c7n runs in its two modes: `cloudtrail` (the Lambda a user would deploy
on the PutBucketPolicy event, run here in-process through `policy.push`) and `pull` (`custodian run`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.common import (
    CONNECT_DEFAULT_BURST,
    CONNECT_DEFAULT_RATE,
    LATENCY,
    ApiModel,
    CallCounter,
    QuotaSwitch,
    attach_all,
    calls_before,
    least_seconds,
    log,
    per_operation,
    spread,
)
from bench.moto_process import MotoProcess
from bench.per_event import BUCKET, Estate, _drift, build_estate, invoke, load_app
from devtools.events import load_event

ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE = "connect-lockdown-inventory"


def c7n_policy(statement: dict[str, Any], mode: str) -> dict[str, Any]:
    policy: dict[str, Any] = {
        "name": "connect-bucket-lockdown",
        "resource": "aws.s3",
        "filters": [{"type": "value", "key": "Name", "value": BUCKET}],
        "actions": [{"type": "set-statements", "statements": [statement]}],
    }
    if mode == "cloudtrail":
        policy["mode"] = {
            "type": "cloudtrail",
            "role": f"arn:aws:iam::{ACCOUNT}:role/custodian-connect-lockdown",
            "events": [
                {"source": "s3.amazonaws.com", "event": "PutBucketPolicy", "ids": "requestParameters.bucketName"}
            ],
        }
    return policy


IMPORT_C7N = """
import time
_started = time.perf_counter()
from c7n.config import Config
from c7n.policy import PolicyCollection
from c7n.resources import load_resources
load_resources(("aws.s3",))
import json, sys, tempfile
_data = json.loads(sys.argv[1])
_policies = PolicyCollection.from_data(
    {"policies": [_data]},
    Config.empty(region="us-east-1", account_id="123456789012", output_dir=tempfile.mkdtemp()),
)
for _policy in _policies:
    _policy.validate()
_ready = time.perf_counter()
print(json.dumps({"seconds": _ready - _started}))
"""


def sample_statement() -> dict[str, Any]:
    """A lockdown statement of the usual shape, for timing c7n's start-up (its content does not matter there)."""
    from connect_lockdown import policy as policies

    patterns = {ACCOUNT, "AROAEXAMPLEENFORCER01:*", "AROAEXAMPLECONNECT001:*", "AROAEXAMPLEADMIN0001:*"}
    return dict(policies.lockdown_statement(BUCKET, "aws", patterns))


@dataclass
class Contender:
    """One side of the comparison: its call counter, and one invocation on the current bucket; `prepare` runs
    before each invocation, outside the timing."""

    counter: CallCounter
    go: Callable[[], Any]
    prepare: Callable[[], None] = lambda: None


def run(server: MotoProcess, *, runs: int = 9, quota_runs: int = 5) -> dict[str, Any]:
    from c7n.config import Config
    from c7n.policy import PolicyCollection
    from c7n.resources import load_resources

    from connect_lockdown import policy as policies

    logging.getLogger("custodian").setLevel(logging.ERROR)
    load_resources(("aws.s3",))
    estate: Estate = build_estate(server)
    world = estate.world
    for service in ("s3", "sts", "sqs", "dynamodb"):
        world.client(service)  # created now, so that no hook below ever counts the set-up's calls
    world.create_index_table(TABLE)
    event = load_event("s3-PutBucketPolicy", bucket=BUCKET)
    switch = QuotaSwitch()

    def environment(index: bool) -> tuple[ModuleType, CallCounter]:
        app = load_app(estate, {"INVENTORY_TABLE": TABLE} if index else {})
        counter = CallCounter()
        attach_all(app.ENFORCER.gateway, counter, switch)
        return app, counter

    # The enforcer with the index, filled by a sweep (the deployed configuration), warm from that sweep; and
    # without it (the fresh reads of the whole estate that every decision made before the index).
    indexed, indexed_counter = environment(index=True)
    invoke(indexed, load_event("scheduled-event"))
    fresh, fresh_counter = environment(index=False)
    # Warm both, and learn the statement the enforcer writes: c7n is given exactly that.
    _drift(estate)
    invoke(fresh, event)
    _drift(estate)
    [result] = invoke(indexed, event)["results"]
    assert result["outcome"] == "remediated", result
    expected_policy = result["applied_policy"]
    [statement] = [s for s in expected_policy["Statement"] if s.get("Sid") == policies.LOCKDOWN_SID]
    world.alerts()

    output_dir = tempfile.mkdtemp(prefix="c7n-bench-")
    c7n_counter = CallCounter()

    def run_c7n(mode: str) -> Callable[[], Any]:
        def go() -> Any:
            # Only the clients c7n creates are hooked here (it caches them across runs): ours are hooked once each.
            with c7n_counter.capture_new_clients(switch):
                config = Config.empty(region=REGION, account_id=ACCOUNT, output_dir=output_dir)
                [policy] = list(PolicyCollection.from_data({"policies": [c7n_policy(statement, mode)]}, config))
                policy.validate()
                if mode == "cloudtrail":
                    return policy.push(event, None)
                return policy()

        return go

    def renewed(contender: Contender, *, index: bool, warm: bool) -> Callable[[], None]:
        """Before each run: a new execution environment, warmed by one drift of its own when `warm` (outside
        any quota model, so that its Connect client's adaptive rate limiter starts the run untouched)."""

        def prepare() -> None:
            app, counter = environment(index=index)
            if warm:
                invoke(app, event)  # the drift made before this run: remediated now
                _drift(estate)
                world.alerts()
            contender.counter = counter
            contender.go = lambda: invoke(app, event)

        return prepare

    def ours(*, index: bool, warm: bool, renew: bool) -> Contender:
        if not renew:
            app, counter = (indexed, indexed_counter) if index else (fresh, fresh_counter)
            return Contender(counter, lambda: invoke(app, event))
        contender = Contender(CallCounter(), lambda: None)
        contender.prepare = renewed(contender, index=index, warm=warm)
        return contender

    def contenders(*, at_quota: bool) -> dict[str, Contender]:
        # Without the model, the warm environments live across runs. At the quota, every run of ours gets a new
        # environment: a client that was throttled seconds before would slow itself down (adaptive retries).
        return {
            "ours_index_cold": ours(index=True, warm=False, renew=True),
            "ours_index_warm": ours(index=True, warm=True, renew=at_quota),
            "ours_fresh_warm": ours(index=False, warm=True, renew=at_quota),
            "c7n_cloudtrail": Contender(c7n_counter, run_c7n("cloudtrail")),
            "c7n_pull": Contender(c7n_counter, run_c7n("pull")),
        }

    names = list(contenders(at_quota=False))
    states = ("drift", "compliant", "drift_at_quota")
    samples: dict[str, dict[str, list[float]]] = {state: {name: [] for name in names} for state in states}
    to_write: dict[str, dict[str, list[float]]] = {state: {name: [] for name in names} for state in states}
    calls: dict[str, dict[str, list[tuple[str, str]]]] = {state: {} for state in states}
    end_states: dict[str, bool] = {}

    def measure(state: str, name: str, contender: Contender, *, record: bool) -> None:
        if state != "compliant":
            _drift(estate)
        contender.prepare()
        if state == "drift_at_quota":
            # A fresh quota for every event: bucket-policy changes are rare.
            switch.set(
                ApiModel(latency=LATENCY, rate=CONNECT_DEFAULT_RATE, burst=CONNECT_DEFAULT_BURST),
                ApiModel(latency=LATENCY),
            )
        contender.counter.reset()
        started = time.perf_counter()
        try:
            contender.go()
        finally:
            elapsed = time.perf_counter() - started
            switch.set(None, None)
        written = contender.counter.time_of("PutBucketPolicy")
        after = world.policy(BUCKET)
        end_states[name] = bool(end_states.get(name, True) and policies.equivalent(after, expected_policy))
        world.alerts()
        if not record:
            return  # the first round warms all: sessions, clients, c7n's resource registry
        samples[state][name].append(elapsed)
        if written is not None:
            to_write[state][name].append(written - started)
        calls[state][name] = contender.counter.operations()

    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    try:
        plain = contenders(at_quota=False)
        for round_number in range(runs + 1):
            if round_number % 3 == 0:
                log(f"c7n: round {round_number}/{runs}")
            for state in ("drift", "compliant"):
                for name, contender in plain.items():
                    measure(state, name, contender, record=round_number > 0)
        quota = contenders(at_quota=True)
        for round_number in range(quota_runs + 1):
            log(f"c7n: at the quota, round {round_number}/{quota_runs}")
            for name, contender in quota.items():
                measure("drift_at_quota", name, contender, record=round_number > 0)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)

    rows: dict[str, dict[str, Any]] = {}
    for state in states:
        rows[state] = {}
        for name in names:
            sequence = calls[state][name]
            before = calls_before(sequence, "PutBucketPolicy")
            rows[state][name] = {
                "seconds": spread(samples[state][name]),
                "seconds_to_write": spread(to_write[state][name]) if to_write[state][name] else None,
                "calls": per_operation(sequence),
                "total_calls": len(sequence),
                "calls_before_write": len(before),
                "connect_calls": sum(1 for service, _ in sequence if service == "connect"),
                "connect_before_write": sum(1 for service, _ in before if service == "connect"),
                # Replayed on the ApiModel's virtual clock: the Connect quota alone, then with the latency too.
                "least_seconds_to_write": least_seconds(before, rate=CONNECT_DEFAULT_RATE, burst=CONNECT_DEFAULT_BURST),
                "modelled_seconds_to_write": least_seconds(
                    before, rate=CONNECT_DEFAULT_RATE, burst=CONNECT_DEFAULT_BURST, latency=LATENCY
                ),
            }
    # Paired within each round (the contenders run back to back): c7n's time to the write over ours.
    paired = {}
    for ours_name in ("ours_index_cold", "ours_index_warm"):
        theirs, mine = to_write["drift_at_quota"]["c7n_cloudtrail"], to_write["drift_at_quota"][ours_name]
        ratios = [a / b for a, b in zip(theirs, mine, strict=True) if b > 0]
        paired[f"c7n_cloudtrail_over_{ours_name}"] = spread(ratios) if ratios else None
    return {
        "runs": runs,
        "quota_runs": quota_runs,
        "paired_ratio_to_write_at_quota": paired,
        "latency": LATENCY,
        "rate": CONNECT_DEFAULT_RATE,
        "burst": CONNECT_DEFAULT_BURST,
        "statement_bytes": len(json.dumps(statement)),
        "results": rows,
        "same_end_state": end_states,
        "c7n_version": _version("c7n"),
        "c7n_installed_bytes": _installed_bytes("c7n"),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def _installed_bytes(package: str) -> int:
    module = __import__(package)
    root = Path(module.__file__ or "").parent
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
