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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import CallCounter, attach_gateway, log, spread, timed
from bench.moto_process import MotoProcess
from bench.per_event import BUCKET, Estate, _drift, build_estate, invoke, load_app
from tests.support.events import load_event

ACCOUNT = "123456789012"
REGION = "us-east-1"


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


def run(server: MotoProcess, *, runs: int = 9) -> dict[str, Any]:
    from c7n.config import Config
    from c7n.policy import PolicyCollection
    from c7n.resources import load_resources

    from connect_lockdown import policy as policies

    logging.getLogger("custodian").setLevel(logging.ERROR)
    load_resources(("aws.s3",))
    estate: Estate = build_estate(server)
    world = estate.world
    for service in ("s3", "sts", "sqs"):
        world.client(service)  # created now, so that no hook below ever counts the set-up's calls

    app = load_app(estate)
    ours_counter = CallCounter()
    attach_gateway(ours_counter, app.ENFORCER.gateway)
    event = load_event("s3-PutBucketPolicy", bucket=BUCKET)
    # Warm the enforcer, and learn the statement it writes: c7n is given exactly that.
    _drift(estate)
    [result] = invoke(app, event)["results"]
    assert result["outcome"] == "remediated", result
    expected_policy = result["applied_policy"]
    [statement] = [s for s in expected_policy["Statement"] if s.get("Sid") == policies.LOCKDOWN_SID]
    world.alerts()

    output_dir = tempfile.mkdtemp(prefix="c7n-bench-")
    c7n_counter = CallCounter()

    def run_c7n(mode: str) -> Callable[[], Any]:
        def go() -> Any:
            config = Config.empty(region=REGION, account_id=ACCOUNT, output_dir=output_dir)
            [policy] = list(PolicyCollection.from_data({"policies": [c7n_policy(statement, mode)]}, config))
            policy.validate()
            if mode == "cloudtrail":
                return policy.push(event, None)
            return policy()

        return go

    def run_ours() -> Any:
        return invoke(app, event)

    contenders: dict[str, tuple[CallCounter, Callable[[], Any]]] = {
        "ours": (ours_counter, run_ours),
        "c7n_cloudtrail": (c7n_counter, run_c7n("cloudtrail")),
        "c7n_pull": (c7n_counter, run_c7n("pull")),
    }
    samples: dict[str, dict[str, list[float]]] = {
        state: {name: [] for name in contenders} for state in ("drift", "compliant")
    }
    calls: dict[str, dict[str, dict[str, int]]] = {state: {} for state in ("drift", "compliant")}
    end_states: dict[str, bool] = {}
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint
    try:
        with c7n_counter.capture_new_clients():
            for round_number in range(runs + 1):
                if round_number % 3 == 0:
                    log(f"c7n: round {round_number}/{runs}")
                for state in ("drift", "compliant"):
                    for name, (counter, go) in contenders.items():
                        if state == "drift":
                            _drift(estate)
                        counter.reset()
                        elapsed, _ = timed(go)
                        after = world.policy(BUCKET)
                        end_states[name] = bool(
                            end_states.get(name, True) and policies.equivalent(after, expected_policy)
                        )
                        world.alerts()
                        if round_number == 0:
                            continue  # the first round warms both: sessions, clients, c7n's resource registry
                        samples[state][name].append(elapsed)
                        calls[state][name] = counter.snapshot()
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)

    rows = {}
    for state in ("drift", "compliant"):
        rows[state] = {
            name: {
                "seconds": spread(samples[state][name]),
                "calls": calls[state][name],
                "total_calls": sum(calls[state][name].values()),
            }
            for name in contenders
        }
    return {
        "runs": runs,
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
