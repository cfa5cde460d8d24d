"""AWS calls per event kind, and the time to decide and act, warm and cold, on a moto server on loopback.

One execution environment is the handler module `app` imported with its environment, as Lambda does: its
clients, its cached identity, inventory and principal IDs live as long as the module. "Warm" is an
environment that has handled an event before (inside the cache TTL); "cold" is a freshly imported one,
timed from its first handler call (the import itself is bench/cold_start.py's business).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

from bench.common import CallCounter, attach_gateway, log, spread, timed
from bench.moto_process import MotoProcess, client_world
from devtools.events import load_event
from devtools.world import Instance, World

BUCKET = "amazon-connect-25fd0a3be3ef"
SECOND_BUCKET = "amazon-connect-0b5e7d1c9a44"
PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PublicRead",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}
_NULL = open(os.devnull, "w")  # noqa: SIM115 - the handler's log stream for the whole process


@dataclass
class Estate:
    """Two instances with their own buckets (Connect's default quota is two instances), one without storage."""

    world: World
    endpoint: str
    first: Instance
    second: Instance
    bare: Instance


ESTATE = (
    {"alias": "contact-centre", "bucket": BUCKET},
    {"alias": "back-office", "bucket": SECOND_BUCKET},
    {"alias": "just-created", "bucket": None},
)


# Buckets in the account that no Connect instance uses (a sweep looks at each for a lock left behind).
OTHER_BUCKETS = 20


def build_estate(server: MotoProcess) -> Estate:
    """The estate above, every bucket already locked (the steady state), and OTHER_BUCKETS unrelated buckets."""
    world = client_world(
        server.endpoint, server.estate(instances=list(ESTATE), locked=True, other_buckets=OTHER_BUCKETS)
    )
    first, second, bare = world.instances
    return Estate(world, server.endpoint, first, second, bare)


def load_app(estate: Estate, environment: dict[str, str] | None = None) -> ModuleType:
    """A new execution environment: `app` imported afresh with the enforcer role's credentials.

    `environment`: more of the function's variables (INVENTORY_TABLE, ...), for this environment only.
    """
    world = estate.world
    extra = dict(environment or {})
    credentials = world.client("sts").assume_role(RoleArn=world.enforcer_role_arn, RoleSessionName="connect-lockdown")[
        "Credentials"
    ]
    variables = {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_ENDPOINT_URL": estate.endpoint,
        "NOTIFICATION_TOPIC_ARN": world.topic_arn,
        **extra,
    }
    # Put back afterwards as they were (the Cloud Custodian comparison sets AWS_ENDPOINT_URL for its own clients).
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        sys.modules.pop("app", None)
        with contextlib.redirect_stdout(_NULL):
            app = importlib.import_module("app")
            # The clients the gateway creates on first use (DynamoDB, Lambda, Scheduler, Security Hub) are created
            # now, while AWS_ENDPOINT_URL points at the moto server: nothing may ever reach AWS. A cold run's
            # time therefore leaves out creating them.
            for client in app.ENFORCER.gateway.all_clients():
                if client.meta.endpoint_url != estate.endpoint:
                    raise RuntimeError(f"a client points at {client.meta.endpoint_url}, not the moto server")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    # Powertools binds its log handler to the stdout of its first import: send the logs nowhere.
    for handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = _NULL
    return app


def invoke(app: ModuleType, event: Any, context: Any = None) -> dict[str, Any]:
    with contextlib.redirect_stdout(_NULL):
        return dict(app.lambda_handler(event, context))


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    event: Callable[[Estate], Any]
    prepare: Callable[[Estate], None]
    expected: tuple[str, ...]


def _nothing(_: Estate) -> None:
    return None


def _drift(estate: Estate) -> None:
    estate.world.put_policy(BUCKET, PUBLIC_POLICY)


def _delete(estate: Estate) -> None:
    estate.world.delete_policy(BUCKET)


def _unlock_second(estate: Estate) -> None:
    estate.world.delete_policy(SECOND_BUCKET)


def _own_put(estate: Estate) -> Any:
    role_name = estate.world.enforcer_role_arn.rsplit("/", 1)[1]
    return load_event("s3-PutBucketPolicy-by-enforcer", bucket=BUCKET, enforcer_role=role_name)


SCENARIOS = (
    Scenario(
        "put_compliant",
        "`PutBucketPolicy`, bucket compliant",
        lambda e: load_event("s3-PutBucketPolicy", bucket=BUCKET),
        _nothing,
        ("compliant",),
    ),
    Scenario(
        "put_drift",
        "`PutBucketPolicy`, policy replaced (drift)",
        lambda e: load_event("s3-PutBucketPolicy", bucket=BUCKET),
        _drift,
        ("remediated",),
    ),
    Scenario(
        "delete",
        "`DeleteBucketPolicy` (policy deleted)",
        lambda e: load_event("s3-DeleteBucketPolicy", bucket=BUCKET),
        _delete,
        ("remediated",),
    ),
    Scenario(
        "create_instance",
        "`CreateInstance` (no storage yet)",
        lambda e: load_event("connect-CreateInstance", instance_id=e.bare.id),
        _nothing,
        ("pending",),
    ),
    Scenario(
        "storage_compliant",
        "`AssociateInstanceStorageConfig`, bucket compliant",
        lambda e: load_event("connect-AssociateInstanceStorageConfig", bucket=SECOND_BUCKET, instance_id=e.second.id),
        _nothing,
        ("compliant",),
    ),
    Scenario(
        "storage_unlocked",
        "`AssociateInstanceStorageConfig`, bucket not locked yet",
        lambda e: load_event("connect-AssociateInstanceStorageConfig", bucket=SECOND_BUCKET, instance_id=e.second.id),
        _unlock_second,
        ("remediated",),
    ),
    Scenario(
        "sweep_compliant",
        "scheduled sweep, all compliant",
        lambda e: load_event("scheduled-event"),
        _nothing,
        ("compliant", "compliant", "pending"),
    ),
    Scenario(
        "sweep_drift",
        "scheduled sweep, one bucket drifted",
        lambda e: load_event("scheduled-event"),
        _drift,
        ("compliant", "pending", "remediated"),
    ),
    Scenario("own_write", "`PutBucketPolicy` by the enforcer's own role", _own_put, _nothing, ()),
    Scenario(
        "ignored",
        "an event it does not act on (`PutBucketAcl`)",
        lambda e: load_event("s3-PutBucketAcl", bucket=BUCKET),
        _nothing,
        (),
    ),
)


def _outcomes(document: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(str(r["outcome"]) for r in document["results"]))


def measure(estate: Estate, *, warm_runs: int, cold_runs: int) -> list[dict[str, Any]]:
    counter = CallCounter()
    warm_app = load_app(estate)
    attach_gateway(counter, warm_app.ENFORCER.gateway)
    # Lock both buckets once, so that every scenario starts from the steady state.
    invoke(warm_app, load_event("scheduled-event"))
    estate.world.alerts()
    results = []
    for scenario in SCENARIOS:
        log(f"per-event: {scenario.key}")
        row: dict[str, Any] = {"key": scenario.key, "label": scenario.label}
        for mode, runs in (("warm", warm_runs), ("cold", cold_runs)):
            seconds: list[float] = []
            calls: list[dict[str, int]] = []
            for run in range(runs + 1):
                scenario.prepare(estate)
                if mode == "cold":
                    app = load_app(estate)
                    attach_gateway(counter, app.ENFORCER.gateway)
                else:
                    app = warm_app
                    if run == 0:
                        # Warm means this environment handled an event of this kind before.
                        invoke(app, scenario.event(estate))
                        scenario.prepare(estate)
                event = scenario.event(estate)
                counter.reset()
                elapsed, document = timed(partial(invoke, app, event))
                outcomes = _outcomes(document)
                if outcomes != tuple(sorted(scenario.expected)):
                    raise AssertionError(f"{scenario.key} ({mode}): expected {scenario.expected}, got {outcomes}")
                estate.world.alerts()
                if run == 0 and mode == "cold":
                    continue  # the first cold run also warms the operating system's file cache
                seconds.append(elapsed)
                calls.append(counter.snapshot())
            if any(c != calls[0] for c in calls):
                raise AssertionError(f"{scenario.key} ({mode}): the calls differ between runs: {calls}")
            row[mode] = {"calls": calls[0], "total": sum(calls[0].values()), "seconds": spread(seconds)}
        row["outcomes"] = list(scenario.expected)
        results.append(row)
        # Back to the steady state for the next scenario, outside any measurement.
        invoke(warm_app, load_event("scheduled-event"))
        estate.world.alerts()
    return results


def run(server: MotoProcess, *, warm_runs: int = 15, cold_runs: int = 7) -> dict[str, Any]:
    estate = build_estate(server)
    resource_types = len(warm_resource_types())
    return {
        "estate": {
            "instances": 3,
            "with_storage": 2,
            "buckets": 2,
            "resource_types": resource_types,
            "associations_per_instance": 2,
            "other_buckets": OTHER_BUCKETS,
        },
        "warm_runs": warm_runs,
        "cold_runs": cold_runs,
        "scenarios": measure(estate, warm_runs=warm_runs, cold_runs=cold_runs),
    }


def warm_resource_types() -> list[str]:
    import boto3

    model = boto3.session.Session().client("connect", region_name="us-east-1").meta.service_model
    return list(model.shape_for("InstanceStorageResourceType").enum)
