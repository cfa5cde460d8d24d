"""AWS calls per event kind, and the time to decide and act, on a moto server on loopback. An execution environment
is `app` imported afresh with its variables; "warm" has handled an event of the kind before, "cold" is new and
timed from its first handler call (the import is bench/cold_start.py's).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from dataclasses import dataclass
from time import perf_counter
from types import ModuleType
from typing import Any
from unittest import mock

from bench.common import CallCounter, log, spread
from bench.moto_process import MotoProcess, client_world
from devtools.events import load_event
from devtools.world import Instance, World

BUCKET = "amazon-connect-25fd0a3be3ef"
SECOND_BUCKET = "amazon-connect-0b5e7d1c9a44"
# Buckets in the account that no Connect instance uses (a sweep looks at each for a lock left behind).
OTHER_BUCKETS = 20
_NULL = open(os.devnull, "w")  # noqa: SIM115 - the handler's log stream for the whole process


@dataclass
class Estate:
    """Two instances with their own buckets (Connect's default quota is two instances), one without storage."""

    world: World
    endpoint: str
    first: Instance
    second: Instance
    bare: Instance


ESTATE = [{"alias": "contact-centre", "bucket": BUCKET}, {"alias": "back-office", "bucket": SECOND_BUCKET}]
ESTATE.append({"alias": "just-created"})  # no storage yet


def build_estate(server: MotoProcess) -> Estate:
    """The estate above, every bucket already locked (the steady state), and OTHER_BUCKETS unrelated buckets."""
    world = client_world(server.endpoint, server.estate(instances=ESTATE, locked=True, other_buckets=OTHER_BUCKETS))
    return Estate(world, server.endpoint, *world.instances)


def load_app(estate: Estate, environment: dict[str, str] | None = None) -> ModuleType:
    """A new execution environment: `app` imported afresh with the enforcer role's credentials, and `environment`
    (more of the function's variables) for this environment only."""
    world = estate.world
    role = world.client("sts").assume_role(RoleArn=world.enforcer_role_arn, RoleSessionName="connect-lockdown")
    credentials = role["Credentials"]
    variables = {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_ENDPOINT_URL": estate.endpoint,
        "NOTIFICATION_TOPIC_ARN": world.topic_arn,
        **(environment or {}),
    }
    # The variables belong to this environment only: put back as they were afterwards.
    with mock.patch.dict(os.environ, variables), contextlib.redirect_stdout(_NULL):
        sys.modules.pop("app", None)
        app = importlib.import_module("app")
        # The clients the gateway creates on first use (DynamoDB, Lambda, Scheduler, Security Hub) are created now,
        # while AWS_ENDPOINT_URL points at the moto server: nothing may ever reach AWS. A cold run's time therefore
        # leaves out creating them.
        for client in app.ENFORCER.gateway.all_clients():
            if client.meta.endpoint_url != estate.endpoint:
                raise RuntimeError(f"a client points at {client.meta.endpoint_url}, not the moto server")
    # Powertools binds its log handler to the stdout of its first import: send the logs nowhere.
    for handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = _NULL
    return app


def invoke(app: ModuleType, event: Any, context: Any = None) -> dict[str, Any]:
    with contextlib.redirect_stdout(_NULL):
        return dict(app.lambda_handler(event, context))


def public_policy(bucket: str) -> dict[str, Any]:
    """The drift: someone replaces the lock with a public-read policy."""
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    return {"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", **statement}]}


ASSOCIATE = "connect-AssociateInstanceStorageConfig"
# key: (label, event, the instance whose ID it carries, what happens first (a drift, or the named bucket's policy
# deleted), the outcomes expected)
# fmt: off
SCENARIOS: dict[str, tuple[str, str, str | None, str | None, tuple[str, ...]]] = {
    "put_compliant": ("`PutBucketPolicy`, bucket compliant", "s3-PutBucketPolicy", None, None, ("compliant",)),
    "put_drift": ("`PutBucketPolicy`, policy replaced (drift)", "s3-PutBucketPolicy", None, "drift", ("remediated",)),
    "delete": ("`DeleteBucketPolicy` (policy deleted)", "s3-DeleteBucketPolicy", None, BUCKET, ("remediated",)),
    "create_instance": ("`CreateInstance` (no storage yet)", "connect-CreateInstance", "bare", None, ("pending",)),
    "storage_compliant": ("`AssociateInstanceStorageConfig`, bucket compliant", ASSOCIATE, "second", None, ("compliant",)),
    "storage_unlocked": ("`AssociateInstanceStorageConfig`, bucket not locked yet", ASSOCIATE, "second", SECOND_BUCKET, ("remediated",)),
    "sweep_compliant": ("scheduled sweep, all compliant", "scheduled-event", None, None, ("compliant", "compliant", "pending")),
    "sweep_drift": ("scheduled sweep, one bucket drifted", "scheduled-event", None, "drift", ("compliant", "pending", "remediated")),
    "own_write": ("`PutBucketPolicy` by the enforcer's own role", "s3-PutBucketPolicy-by-enforcer", None, None, ()),
    "ignored": ("an event it does not act on (`PutBucketAcl`)", "s3-PutBucketAcl", None, None, ()),
}
# fmt: on


def prepare(estate: Estate, change: str | None) -> None:
    if change == "drift":
        estate.world.put_policy(BUCKET, public_policy(BUCKET))
    elif change:
        estate.world.delete_policy(change)


def scenario_event(estate: Estate, name: str, instance: str | None) -> Any:
    if name == "scheduled-event":
        return load_event(name)
    if instance:
        extra = {"bucket": SECOND_BUCKET} if name == ASSOCIATE else {}
        return load_event(name, instance_id=getattr(estate, instance).id, **extra)
    if name.endswith("-by-enforcer"):
        return load_event(name, bucket=BUCKET, enforcer_role=estate.world.enforcer_role_arn.rsplit("/", 1)[1])
    return load_event(name, bucket=BUCKET)


def measure(estate: Estate, *, warm_runs: int, cold_runs: int) -> list[dict[str, Any]]:
    counter = CallCounter()

    def environment() -> ModuleType:
        app = load_app(estate)
        gateway = app.ENFORCER.gateway
        counter.attach(gateway.s3, gateway.connect, gateway.iam, gateway.sts, gateway.sns)
        return app

    def steady_state() -> None:
        """Every bucket locked, no alert pending: where each scenario starts, outside any measurement."""
        invoke(warm_app, load_event("scheduled-event"))
        estate.world.alerts()

    warm_app = environment()
    steady_state()
    results = []
    for key, (label, name, instance, change, expected) in SCENARIOS.items():
        log(f"per-event: {key}")
        row: dict[str, Any] = {"key": key, "label": label}
        for mode, runs in (("warm", warm_runs), ("cold", cold_runs)):
            seconds: list[float] = []
            calls: list[dict[str, int]] = []
            for run in range(runs + 1):
                prepare(estate, change)
                app = environment() if mode == "cold" else warm_app
                if mode == "warm" and run == 0:
                    # Warm means this environment handled an event of this kind before.
                    invoke(app, scenario_event(estate, name, instance))
                    prepare(estate, change)
                event = scenario_event(estate, name, instance)
                counter.reset()
                started = perf_counter()
                document = invoke(app, event)
                elapsed = perf_counter() - started
                if (outcomes := sorted(str(r["outcome"]) for r in document["results"])) != sorted(expected):
                    raise AssertionError(f"{key} ({mode}): expected {expected}, got {outcomes}")
                estate.world.alerts()
                if run == 0 and mode == "cold":
                    continue  # the first cold run also warms the operating system's file cache
                seconds.append(elapsed)
                calls.append(counter.snapshot())
            if any(c != calls[0] for c in calls):
                raise AssertionError(f"{key} ({mode}): the calls differ between runs: {calls}")
            row[mode] = {"calls": calls[0], "total": sum(calls[0].values()), "seconds": spread(seconds)}
        row["outcomes"] = list(expected)
        results.append(row)
        steady_state()
    return results


def run(server: MotoProcess, *, warm_runs: int = 15, cold_runs: int = 7) -> dict[str, Any]:
    estate = build_estate(server)
    estate_shape = {"instances": 3, "with_storage": 2, "buckets": 2, "associations_per_instance": 2}
    return {
        "estate": {**estate_shape, "resource_types": len(warm_resource_types()), "other_buckets": OTHER_BUCKETS},
        "warm_runs": warm_runs,
        "cold_runs": cold_runs,
        "scenarios": measure(estate, warm_runs=warm_runs, cold_runs=cold_runs),
    }


def warm_resource_types() -> list[str]:
    import boto3

    model = boto3.session.Session().client("connect", region_name="us-east-1").meta.service_model
    return list(model.shape_for("InstanceStorageResourceType").enum)
