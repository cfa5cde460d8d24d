"""`connect-lockdown unlock`, run as a subprocess against a moto server on 127.0.0.1: it removes the lockdown
statement and only it, from the Connect buckets and the locked buckets without an instance, keeps every other
statement, deletes a policy left empty, alerts once per bucket changed, and refuses an ambiguous policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from connect_lockdown.cli import exits
from devtools.world import ACCOUNT, REGION, World
from tests.support.cli_process import CliRun, run_cli, run_cli_in_terminal
from tests.support.organization import deploy_stack, lock_bucket

pytestmark = pytest.mark.integration

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "notification.json").read_text())
SHARED, ALONE, ORPHAN, OPEN, OTHER = "ul-shared", "ul-alone", "ul-orphan", "ul-open", "ul-other"
PUBLIC = {
    "Sid": "MakeItPublic",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{SHARED}/*",
}
OTHERS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{OTHER}/*",
        }
    ],
}


@pytest.fixture
def estate(world: World) -> World:
    """Two locked Connect buckets (one with a statement of somebody else's first), an orphaned lock, an unlocked
    Connect bucket and a non-Connect bucket with a policy of its own."""
    for name in (SHARED, ALONE, OPEN):
        world.create_bucket(name)
        world.create_instance(f"{name}-cc", name)
    for name in (ORPHAN, OTHER):
        world.create_bucket(name)
    for name in (SHARED, ALONE):
        lock_bucket(world.session, str(world.endpoint_url), REGION, name, world.enforcer_role_arn)
    locked = world.policy(SHARED)
    world.put_policy(SHARED, {"Version": "2012-10-17", "Id": "Kept", "Statement": [PUBLIC, *locked["Statement"]]})
    world.put_policy(ORPHAN, world.policy(ALONE))
    world.put_policy(OTHER, OTHERS_POLICY)
    return world


def cli(world: World, *argv: str, env: dict[str, str | None] | None = None) -> CliRun:
    return run_cli(
        *argv, endpoint=str(world.endpoint_url), env={"NOTIFICATION_TOPIC_ARN": world.topic_arn, **(env or {})}
    )


def policies(world: World) -> dict[str, Any]:
    return {name: world.policy(name) for name in (SHARED, ALONE, ORPHAN, OPEN, OTHER)}


def test_without_yes_it_shows_the_plan_and_changes_nothing(estate: World) -> None:
    before = policies(estate)
    run = cli(estate, "unlock")
    assert run.code == exits.EXIT_USAGE and "--yes" in run.stderr
    assert f"# {SHARED} ({SHARED}-cc (" in run.stdout
    assert "unlock: remove the lockdown statement; keep 1 other statement" in run.stdout
    assert f"# {ORPHAN} (no Connect instance)" in run.stdout
    assert "no other statement: delete the bucket policy" in run.stdout
    assert '-      "Sid": "ConnectBucketLockdown",' in run.stdout
    assert "exposure: statement MakeItPublic grants the public (*) (open once the lock is gone)" in run.stdout
    assert "3 buckets to unlock" in run.stdout
    assert OPEN not in run.stdout and OTHER not in run.stdout
    assert policies(estate) == before and estate.alerts() == []


def test_yes_removes_only_the_lock_and_alerts_once_per_bucket(estate: World) -> None:
    # When the operator unlocks every bucket of the Region
    run = cli(estate, "unlock", "--yes")
    # Then each lock is gone, every other statement stays, and an empty policy is deleted
    assert run.code == exits.EXIT_OK, run.output
    after = policies(estate)
    assert after[SHARED] == {"Version": "2012-10-17", "Id": "Kept", "Statement": [PUBLIC]}
    assert after[ALONE] is None and after[ORPHAN] is None
    assert after[OPEN] is None and after[OTHER] == OTHERS_POLICY
    assert "3 buckets unlocked; 3 alerts published." in run.stdout
    # And one alert per bucket changed, outcome `unlocked`, in the contract's shape
    alerts = {a["attributes"]["bucket"]: a for a in estate.alerts()}
    assert sorted(alerts) == [ALONE, ORPHAN, SHARED]
    for bucket, alert in alerts.items():
        assert alert["attributes"]["outcome"] == "unlocked"
        assert alert["body"]["result"]["outcome"] == "unlocked" and alert["body"]["result"]["bucket"] == bucket
        assert alert["body"]["trigger"]["event_name"] == "connect-lockdown unlock"
        jsonschema.validate(alert["body"], SCHEMA)
    shared = alerts[SHARED]["body"]["result"]
    assert shared["applied_policy"] == after[SHARED]
    assert shared["exposures"] == [{"sid": "MakeItPublic", "kind": "public", "principal": "*"}]
    assert shared["instances"] == [next(i.id for i in estate.instances if i.alias == f"{SHARED}-cc")]
    assert alerts[ORPHAN]["body"]["result"]["instances"] == []
    assert alerts[ALONE]["body"]["result"]["applied_policy"] is None
    # And a second run finds nothing to do
    again = cli(estate, "unlock", "--yes")
    assert again.code == exits.EXIT_OK and "Nothing to unlock." in again.stdout
    assert estate.alerts() == []


def test_bucket_limits_it_to_one_bucket(estate: World) -> None:
    before = policies(estate)
    run = cli(estate, "unlock", "--bucket", SHARED, "-y")
    assert run.code == exits.EXIT_OK, run.output
    after = policies(estate)
    assert after[SHARED]["Statement"] == [PUBLIC]
    assert {k: v for k, v in after.items() if k != SHARED} == {k: v for k, v in before.items() if k != SHARED}
    assert [a["attributes"]["bucket"] for a in estate.alerts()] == [SHARED]


def test_a_bucket_without_the_lock_or_that_does_not_exist(estate: World) -> None:
    run = cli(estate, "unlock", "--bucket", OTHER, "--yes")
    assert run.code == exits.EXIT_OK and "carries no lockdown statement" in run.stdout
    run = cli(estate, "unlock", "--bucket", "ul-no-such-bucket", "--yes")
    assert run.code == exits.EXIT_UNKNOWN_BUCKET and "ul-no-such-bucket" in run.stderr
    assert estate.policy(OTHER) == OTHERS_POLICY and estate.alerts() == []


def test_a_policy_with_a_repeated_key_is_refused_with_exit_2(estate: World) -> None:
    # Given a lock whose Sid appears twice in one statement: which statement is ours is a guess
    text = json.dumps(estate.policy(ALONE))
    ambiguous = text.replace('"Sid": "ConnectBucketLockdown"', '"Sid": "ConnectBucketLockdown", "Sid": "Theirs"', 1)
    estate.client("s3").put_bucket_policy(Bucket=ALONE, Policy=ambiguous)
    stored = estate.client("s3").get_bucket_policy(Bucket=ALONE)["Policy"]
    # When it is unlocked
    run = cli(estate, "unlock", "--bucket", ALONE, "--yes")
    # Then it is refused, named, unchanged and not alerted
    assert run.code == exits.EXIT_USAGE, run.output
    assert "refused" in run.stdout and "repeats the key" in run.stdout
    assert estate.client("s3").get_bucket_policy(Bucket=ALONE)["Policy"] == stored
    assert estate.alerts() == []
    # And without --bucket the other buckets are still unlocked, and the run still exits 2
    run = cli(estate, "unlock", "--yes")
    assert run.code == exits.EXIT_USAGE, run.output
    assert estate.policy(ORPHAN) is None and estate.policy(SHARED)["Statement"] == [PUBLIC]
    assert estate.client("s3").get_bucket_policy(Bucket=ALONE)["Policy"] == stored
    assert sorted(a["attributes"]["bucket"] for a in estate.alerts()) == [ORPHAN, SHARED]


def test_it_asks_on_a_terminal(estate: World) -> None:
    env = {"NOTIFICATION_TOPIC_ARN": estate.topic_arn}
    run = run_cli_in_terminal("unlock", endpoint=str(estate.endpoint_url), env=env, answer="n\n")
    assert run.code == exits.EXIT_NOT_COMPLIANT and "Unlock 3 buckets? [y/N]" in run.stdout
    assert "Nothing was unlocked." in run.stdout and estate.policy(ALONE) is not None


def test_it_needs_the_topic_and_reads_it_and_dry_run_from_the_stack(estate: World) -> None:
    run = cli(estate, "unlock", "--yes", env={"NOTIFICATION_TOPIC_ARN": None})
    assert run.code == exits.EXIT_USAGE and "NOTIFICATION_TOPIC_ARN" in run.stderr
    assert estate.policy(ALONE) is not None
    # The stack's outputs give the topic; a stack that does not say DryRun=true is warned about
    deploy_stack(estate.client("cloudformation"), REGION, topic_arn=estate.topic_arn)
    run = cli(
        estate,
        "unlock",
        "--stack-name",
        "connect-bucket-lockdown",
        "--bucket",
        ALONE,
        "--yes",
        env={"NOTIFICATION_TOPIC_ARN": None},
    )
    assert run.code == exits.EXIT_OK, run.output
    assert estate.policy(ALONE) is None and len(estate.alerts()) == 1
