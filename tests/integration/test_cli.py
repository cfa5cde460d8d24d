"""The operator's command line, run as a subprocess (`python -m connect_lockdown`) against a moto server on
127.0.0.1, the way `AWS_ENDPOINT_URL` points the AWS CLI at one: audit, plan and apply on one account and Region."""

from __future__ import annotations

from typing import Any

import pytest

from connect_lockdown.cli import exits
from devtools.world import ACCOUNT, REGION, World
from tests.support import moto_faults
from tests.support.cli_process import CliRun, run_cli, run_cli_in_terminal
from tests.support.organization import lock_bucket

pytestmark = pytest.mark.integration

LOCKED, DRIFTED, MISSING = "cli-locked", "cli-drifted", "cli-missing"
PUBLIC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
    ],
}


@pytest.fixture
def estate(world: World) -> World:
    """Three buckets (locked by the deployed function, drifted, missing policy) and a pending instance."""
    for name in (LOCKED, DRIFTED, MISSING):
        world.create_bucket(name)
        world.create_instance(f"{name}-cc", name)
    world.create_instance("no-storage-yet")
    for bucket in (LOCKED, DRIFTED):
        lock_bucket(world.session, str(world.endpoint_url), REGION, bucket, world.enforcer_role_arn)
    world.put_policy(DRIFTED, PUBLIC)
    return world


def cli(world: World, *argv: str, env: dict[str, str | None] | None = None) -> CliRun:
    """The command line with the deployed function's role and topic in its environment, as an operator has."""
    environment: dict[str, str | None] = {
        "ENFORCER_ROLE_ARN": world.enforcer_role_arn,
        "NOTIFICATION_TOPIC_ARN": world.topic_arn,
        **(env or {}),
    }
    return run_cli(*argv, endpoint=str(world.endpoint_url), env=environment)


def rows(text: str) -> dict[str, str]:
    return {line.split()[0]: line for line in text.splitlines() if line.startswith("cli-")}


def test_audit_table_shows_each_bucket_state_and_exits_non_zero(estate: World) -> None:
    run = cli(estate, "audit")
    assert run.code == exits.EXIT_NOT_COMPLIANT, run.stderr
    lines = rows(run.stdout)
    assert "compliant" in lines[LOCKED]
    assert "drifted" in lines[DRIFTED] and "lockdown statement is missing" in lines[DRIFTED]
    assert "missing policy" in lines[MISSING] and "no policy" in lines[MISSING]
    assert f"{LOCKED}-cc (" in lines[LOCKED]
    assert "pending: Connect instance no-storage-yet" in run.stdout
    assert "3 buckets checked: 1 compliant, 1 drifted, 1 missing policy, 0 refused, 0 failed" in run.stdout
    assert "1 instance pending" in run.stdout
    # Read-only: nothing written, nothing published
    assert estate.policy(MISSING) is None
    assert estate.policy(DRIFTED) == PUBLIC
    assert estate.alerts() == []


def test_audit_json_names_every_allowlist_entry(estate: World) -> None:
    run = cli(estate, "audit", "--json")
    document = run.json()
    assert run.code == exits.EXIT_NOT_COMPLIANT
    assert document["account"] == ACCOUNT and document["region"] == REGION
    assert document["enforcer_role_arn"] == estate.enforcer_role_arn and document["notes"] == []
    assert document["compliant"] is False
    buckets = {b["bucket"]: b for b in document["buckets"]}
    assert {name: b["state"] for name, b in buckets.items()} == {
        LOCKED: "compliant",
        DRIFTED: "drifted",
        MISSING: "missing policy",
    }
    assert buckets[DRIFTED]["instances"][0]["alias"] == f"{DRIFTED}-cc"
    assert buckets[DRIFTED]["differences"] == ["the lockdown statement is missing"]
    assert [p["alias"] for p in document["pending_instances"]] == ["no-storage-yet"]
    service_role = next(i for i in estate.instances if i.alias == f"{LOCKED}-cc")
    named = {entry["entry"]: entry["principal"] for entry in buckets[LOCKED]["allowlist"]}
    assert named == {
        ACCOUNT: f"the account root ({ACCOUNT})",
        f"{service_role.role_id}:*": f"{service_role.role_arn} (service role of Connect instance "
        f"{service_role.alias} ({service_role.id}))",
        f"{estate.enforcer_role_id}:*": f"{estate.enforcer_role_arn} (the enforcer's role)",
        estate.enforcer_role_arn: "the enforcer's role, by ARN",
    }
    for bucket in document["buckets"]:
        assert bucket["allowlist"] and all(entry["principal"] for entry in bucket["allowlist"])


def test_differences_name_the_principal_behind_an_id(estate: World) -> None:
    """A lock that lacks the Connect role's ID says whose ID it is, in the table and in the JSON."""
    instance = next(i for i in estate.instances if i.alias == f"{LOCKED}-cc")
    policy: Any = estate.policy(LOCKED)
    condition = policy["Statement"][0]["Condition"]["StringNotLike"]
    condition["aws:userId"] = [v for v in condition["aws:userId"] if not v.startswith(instance.role_id)]
    estate.put_policy(LOCKED, policy)
    run = cli(estate, "audit")
    assert (
        f"allowlist lacks {instance.role_id}:* ({instance.role_arn} (service role of Connect instance"
        in (rows(run.stdout)[LOCKED])
    )
    document = cli(estate, "audit", "--json").json()
    [difference] = next(b for b in document["buckets"] if b["bucket"] == LOCKED)["differences"]
    assert difference.startswith(f"allowlist lacks {instance.role_id}:* ({instance.role_arn} (service role")


def test_plan_shows_a_diff_with_a_legend_and_writes_nothing(estate: World) -> None:
    run = cli(estate, "plan", "--bucket", DRIFTED)
    assert run.code == exits.EXIT_NOT_COMPLIANT
    assert f"--- {DRIFTED} (current)" in run.stdout and f"+++ {DRIFTED} (expected)" in run.stdout
    assert '+      "Sid": "ConnectBucketLockdown",' in run.stdout
    instance = next(i for i in estate.instances if i.alias == f"{DRIFTED}-cc")
    legend = run.stdout.split("# allowlist entries:\n", 1)[1]
    assert f"#   {instance.role_id}:*  {instance.role_arn} (service role of Connect instance {instance.alias}" in legend
    assert f"#   {estate.enforcer_role_id}:*  {estate.enforcer_role_arn} (the enforcer's role)" in legend
    assert f"#   {ACCOUNT}  the account root ({ACCOUNT})" in legend
    assert estate.policy(DRIFTED) == PUBLIC
    run = cli(estate, "plan", "--bucket", LOCKED)
    assert run.code == exits.EXIT_OK and "no change" in run.stdout


def test_plan_json(estate: World) -> None:
    run = cli(estate, "plan", "--json")
    assert run.code == exits.EXIT_NOT_COMPLIANT
    plan = {p["bucket"]: p for p in run.json()}
    assert plan[MISSING]["current"] is None
    assert plan[MISSING]["expected"]["Statement"][0]["Sid"] == "ConnectBucketLockdown"
    assert plan[LOCKED]["state"] == "compliant" and plan[LOCKED]["expected"] is None
    assert all(entry["principal"] for entry in plan[MISSING]["allowlist"])


def test_apply_needs_confirmation_without_a_terminal(estate: World) -> None:
    run = run_cli("apply", endpoint=str(estate.endpoint_url), stdin="y\n", env=_operator(estate))
    assert run.code == exits.EXIT_USAGE
    assert "--yes" in run.stderr
    assert estate.policy(MISSING) is None


def test_apply_asks_on_a_terminal(estate: World) -> None:
    run = run_cli_in_terminal("apply", endpoint=str(estate.endpoint_url), env=_operator(estate), answer="n\n")
    assert run.code == exits.EXIT_NOT_COMPLIANT
    assert "Apply 2 changes? [y/N]" in run.stdout and "Nothing was applied." in run.stdout
    assert estate.policy(MISSING) is None
    run = run_cli_in_terminal("apply", endpoint=str(estate.endpoint_url), env=_operator(estate), answer="y\n")
    assert run.code == exits.EXIT_OK, run.stdout + run.stderr
    assert f"remediated: {MISSING}" in run.stdout and f"remediated: {DRIFTED}" in run.stdout
    assert cli(estate, "audit").code == exits.EXIT_OK
    # apply alerts like the function: one message per remediation
    assert sorted(a["attributes"]["bucket"] for a in estate.alerts()) == [DRIFTED, MISSING]


def _operator(world: World) -> dict[str, str | None]:
    return {"ENFORCER_ROLE_ARN": world.enforcer_role_arn, "NOTIFICATION_TOPIC_ARN": world.topic_arn}


def test_apply_yes_then_audit_is_clean(estate: World) -> None:
    assert cli(estate, "apply", "--yes").code == exits.EXIT_OK
    run = cli(estate, "audit", "--json")
    assert run.code == exits.EXIT_OK
    assert run.json()["compliant"] is True
    # The written lock admits the function's role, though the operator wrote it.
    condition = estate.policy(MISSING)["Statement"][0]["Condition"]
    assert f"{estate.enforcer_role_id}:*" in condition["StringNotLike"]["aws:userId"]
    assert condition["ArnNotEquals"]["aws:PrincipalArn"] == [estate.enforcer_role_arn]


def test_unknown_bucket(estate: World) -> None:
    run = cli(estate, "audit", "--bucket", "not-a-connect-bucket")
    assert run.code == exits.EXIT_UNKNOWN_BUCKET
    assert "unknown bucket" in run.stderr


def test_bad_configuration_names_the_variable(estate: World) -> None:
    run = cli(estate, "audit", env={"MERGE_MODE": "sideways"})
    assert run.code == exits.EXIT_USAGE
    assert "MERGE_MODE" in run.stderr
    run = cli(estate, "audit", env={"ENFORCER_ROLE_ARN": "not-an-arn"})
    assert run.code == exits.EXIT_USAGE and "ENFORCER_ROLE_ARN" in run.stderr


def test_no_credentials(estate: World) -> None:
    gone: dict[str, str | None] = {
        name: None for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    run = cli(estate, "audit", env=gone)
    assert run.code == exits.EXIT_NO_CREDENTIALS
    assert "no AWS credentials" in run.stderr


def test_unknown_profile(estate: World) -> None:
    run = cli(estate, "audit", "--profile", "nope")
    assert run.code == exits.EXIT_USAGE
    assert "profile" in run.stderr


def test_access_denied_on_a_bucket(estate: World, monkeypatch: pytest.MonkeyPatch) -> None:
    moto_faults.deny_bucket_policy_read(monkeypatch, LOCKED)
    run = cli(estate, "audit", "--bucket", LOCKED)
    assert run.code == exits.EXIT_ACCESS_DENIED
    assert "AccessDenied" in rows(run.stdout)[LOCKED] and "failed" in rows(run.stdout)[LOCKED]
    run = cli(estate, "audit", "--json")
    assert run.code == exits.EXIT_ACCESS_DENIED
    states = {b["bucket"]: b["state"] for b in run.json()["buckets"]}
    assert states[LOCKED] == "failed" and states[MISSING] == "missing policy"


def test_module_entry_point_version_and_help() -> None:
    for command in ([], ["audit"], ["plan"], ["apply"], ["guardrail"]):
        run = run_cli(*command, "--help", endpoint=None)
        assert run.code == 0, run.stderr
        assert "example" in run.stdout or not command
        assert "exit codes" in run.stdout and "7  internal error" in run.stdout
    run = run_cli("--version", endpoint=None)
    assert run.code == 0 and run.stdout.startswith("connect-lockdown ")
    run = run_cli(endpoint=None)
    assert run.code == exits.EXIT_USAGE
    run = run_cli("audit", "--no-such-flag", endpoint=None)
    assert run.code == exits.EXIT_USAGE and "Traceback" not in run.stderr


def test_console_script_entry_point_is_main() -> None:
    from importlib.metadata import entry_points

    [script] = [e for e in entry_points(group="console_scripts") if e.name == "connect-lockdown"]
    assert script.value == "connect_lockdown.cli:main"
    assert exits.EXIT_INTERNAL == 7
