"""`make demo`: the enforcer's story, end to end, on an embedded AWS (moto) on 127.0.0.1.

Nothing here reaches real AWS: credentials are fake and every client points at the local server.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import io
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for source_root in (ROOT, ROOT / "layers" / "lockdown", ROOT / "functions" / "enforcer"):
    sys.path.insert(0, str(source_root))

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",  # the story, not the function's expected warnings
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_SESSION_TOKEN", None)


from connect_lockdown import cli  # noqa: E402
from devtools.estate import operator_world  # noqa: E402
from devtools.events import load_event  # noqa: E402
from devtools.server import moto_server  # noqa: E402
from devtools.world import ACCOUNT, World  # noqa: E402

BUCKET = "amazon-connect-25fd0a3be3ef"
PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "MakeItPublic",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}


# --verbose: every SNS message in full, as subscribers receive it; otherwise one line each.
VERBOSE = False


class StoryFailed(Exception):
    pass


def step(number: int, title: str) -> None:
    print(f"\n=== {number}. {title}")


def show(document: dict[str, Any]) -> None:
    if document["ignored"]:
        print(f"    ignored: {document['ignored']}")
    for result in document["results"]:
        print(f"    outcome: {result['outcome']:<16} bucket: {result['bucket'] or '-'}")
        print(f"    reason:  {result['reason']}")


def show_alerts(world: World) -> list[dict[str, Any]]:
    alerts = world.alerts()
    if not alerts:
        print("    SNS: no message (quiet when all is well)")
    for alert in alerts:
        attributes = alert["attributes"]
        print(f"    SNS: {alert['subject']} (outcome={attributes.get('outcome')}, bucket={attributes.get('bucket')})")
        if VERBOSE:
            body = json.dumps(alert["body"], indent=2)
            print("    SNS message:\n" + "\n".join("      " + line for line in body.splitlines()))
    if alerts and not VERBOSE:
        print("    (make demo DEMO_ARGS=--verbose prints each message in full)")
    return alerts


def show_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    old = json.dumps(before, indent=2, sort_keys=True).splitlines() if before else []
    new = json.dumps(after, indent=2, sort_keys=True).splitlines() if after else []
    for line in difflib.unified_diff(old, new, "policy before", "policy after", lineterm=""):
        print("    " + line)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StoryFailed(message)


def load_app(world: World, **environment: str) -> ModuleType:
    """Start the function as Lambda would: with its role's credentials and its configuration."""
    credentials = world.client("sts").assume_role(RoleArn=world.enforcer_role_arn, RoleSessionName="enforcer")[
        "Credentials"
    ]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_ENDPOINT_URL": str(world.endpoint_url),
            "NOTIFICATION_TOPIC_ARN": world.topic_arn,
            "DRY_RUN": "false",
            **environment,
        }
    )
    sys.modules.pop("app", None)
    return importlib.import_module("app")


def operator_cli(world: World, *argv: str) -> int:
    """`connect-lockdown ...` as an operator runs it, with the deployed function's role from the stack."""
    command = ["--enforcer-role-arn", world.enforcer_role_arn]
    print(f"\n    $ connect-lockdown {' '.join(argv)} --enforcer-role-arn {world.enforcer_role_arn}")
    out = io.StringIO()
    code = cli.main([*argv, *command], out=out)
    for line in out.getvalue().rstrip().splitlines():
        print("    " + line)
    print(f"    (exit code {code})")
    return code


def story(endpoint: str) -> None:
    # The operator's own session (the sandbox's), not the enforcer's.
    world = operator_world(endpoint)
    app = load_app(world)
    print(f"Embedded AWS (moto) at {endpoint}, account {ACCOUNT}, region us-east-1")
    print(f"Enforcer role: {world.enforcer_role_arn}")

    step(1, "A Connect instance and its bucket appear, and the bucket is locked")
    instance = world.create_instance("demo-contact-centre")
    print(f"    CreateInstance: {instance.alias} ({instance.id}), service role {instance.role_arn}")
    document = app.lambda_handler(load_event("connect-CreateInstance", instance_id=instance.id), None)
    show(document)
    expect(document["results"][0]["outcome"] == "pending", "a new instance without storage is pending")
    world.create_bucket(BUCKET)
    world.associate(instance, BUCKET, "CALL_RECORDINGS")
    print(f"    AssociateInstanceStorageConfig: CALL_RECORDINGS -> s3://{BUCKET}")
    code = operator_cli(world, "audit")
    expect(code == 1, "audit reports the unlocked bucket and exits 1")
    document = app.lambda_handler(
        load_event("connect-AssociateInstanceStorageConfig", instance_id=instance.id, bucket=BUCKET), None
    )
    show(document)
    expect(document["results"][0]["outcome"] == "remediated", "the new bucket is locked")
    show_diff(None, world.policy(BUCKET))
    show_alerts(world)
    locked = world.policy(BUCKET)

    step(2, "Someone replaces the policy with a public one, and it is restored")
    world.put_policy(BUCKET, PUBLIC_POLICY)
    document = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), None)
    show(document)
    expect(document["results"][0]["outcome"] == "remediated", "the public policy is remediated")
    show_diff(PUBLIC_POLICY, world.policy(BUCKET))
    print("    (MERGE_MODE=preserve keeps their statement; the lockdown Deny overrides its public Allow)")
    show_alerts(world)

    step(3, "Someone deletes the policy, and it is restored")
    world.delete_policy(BUCKET)
    document = app.lambda_handler(load_event("s3-DeleteBucketPolicy", bucket=BUCKET), None)
    show(document)
    expect(document["results"][0]["outcome"] == "remediated", "the deleted policy is restored")
    show_diff(None, world.policy(BUCKET))
    show_alerts(world)

    step(4, "The enforcer's own write causes no further write")
    own_write = load_event("s3-PutBucketPolicy-by-enforcer", bucket=BUCKET)
    own_write["detail"]["userIdentity"]["arn"] = (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/{world.enforcer_role_arn.rsplit('/', 1)[1]}/enforcer"
    )
    before = world.policy(BUCKET)
    document = app.lambda_handler(own_write, None)
    show(document)
    document = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), None)
    print("    The same event from anyone else finds the bucket compliant:")
    show(document)
    expect(document["results"][0]["outcome"] == "compliant", "the enforcer's own write is compliant")
    expect(world.policy(BUCKET) == before, "nothing was written")
    expect(not show_alerts(world), "no alert for a compliant bucket")

    step(5, "A dry run reports without writing")
    world.put_policy(BUCKET, PUBLIC_POLICY)
    app = load_app(world, DRY_RUN="true")
    document = app.lambda_handler(load_event("s3-PutBucketPolicy", bucket=BUCKET), None)
    show(document)
    expect(document["results"][0]["outcome"] == "would_remediate", "dry run reports would_remediate")
    expect(world.policy(BUCKET) == PUBLIC_POLICY, "dry run writes nothing")
    print("    The bucket still carries the public policy; the alert shows what would be written:")
    show_alerts(world)
    expect(locked is not None, "the lock was written in step 1")

    step(6, "The operator's command line: audit, apply, audit again")
    os.environ["DRY_RUN"] = "false"  # the operator's shell, not the dry-run function of step 5
    code = operator_cli(world, "audit")
    expect(code == 1, "audit finds the drift the dry run left")
    code = operator_cli(world, "apply", "--yes")
    expect(code == 0, "apply restores the lock")
    show_alerts(world)
    code = operator_cli(world, "audit")
    expect(code == 0, "audit after apply is clean")

    print("\nThe story ran end to end: every outcome was as expected.")


def main(argv: list[str] | None = None) -> int:
    global VERBOSE
    parser = argparse.ArgumentParser(description="The enforcer's story on an embedded AWS (moto).")
    parser.add_argument("--verbose", action="store_true", help="print every SNS message in full")
    VERBOSE = parser.parse_args(argv).verbose
    try:
        with moto_server() as endpoint:
            story(endpoint)
    except StoryFailed as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
