"""The command line, tried as a new user would, through a real subprocess: no tracebacks, no footguns, audit before
deploying, plain words from read-only commands, configuration mistakes found at start-up."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from connect_lockdown.cli import exits
from devtools.world import ACCOUNT, REGION, World
from tests.support import moto_faults
from tests.support.cli_process import CliRun, cli_environment, run_cli
from tests.support.organization import deploy_stack, lock_bucket

pytestmark = pytest.mark.integration

LOCKED, OPEN, BEFORE = "fg-locked", "fg-open", "fg-before"
WRITE_WORDS = re.compile(r"DRY_RUN is on|nothing was written|nothing is written", re.IGNORECASE)


@pytest.fixture
def estate(world: World) -> World:
    """A bucket locked by the deployed function, one without a policy, one locked before any deployment."""
    for name in (LOCKED, OPEN, BEFORE):
        world.create_bucket(name)
        world.create_instance(f"{name}-cc", name)
    lock_bucket(world.session, str(world.endpoint_url), REGION, LOCKED, world.enforcer_role_arn)
    lock_bucket(world.session, str(world.endpoint_url), REGION, BEFORE, None)
    return world


def cli(world: World, *argv: str, **env: str | None) -> CliRun:
    return run_cli(*argv, endpoint=str(world.endpoint_url), env=env)


def deployed(world: World) -> dict[str, str | None]:
    return {"ENFORCER_ROLE_ARN": world.enforcer_role_arn, "NOTIFICATION_TOPIC_ARN": world.topic_arn}


def policies(world: World) -> dict[str, object]:
    return {name: world.policy(name) for name in (LOCKED, OPEN, BEFORE)}


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# --- crashes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["audit"], ["plan"], ["apply", "--yes"], ["guardrail"]])
def test_no_region_is_a_usage_error_in_one_line(estate: World, command: list[str]) -> None:
    run = cli(estate, *command, AWS_DEFAULT_REGION=None, AWS_REGION=None, **deployed(estate))
    assert run.code == exits.EXIT_USAGE
    line = one_line(run.stderr)
    assert "--region" in line and "AWS_REGION" in line


def test_an_unexpected_exception_is_exit_7_in_one_line(estate: World, monkeypatch: pytest.MonkeyPatch) -> None:
    moto_faults.garble_caller_identity(monkeypatch)
    run = cli(estate, "audit", "--enforcer-role-name", "connect-lockdown-enforcer")
    assert run.code == exits.EXIT_INTERNAL
    assert one_line(run.stderr).startswith("connect-lockdown: internal error: ")
    run = cli(estate, "audit", "--enforcer-role-name", "connect-lockdown-enforcer", CONNECT_LOCKDOWN_DEBUG="1")
    assert run.code == exits.EXIT_INTERNAL and "Traceback" in run.stderr


def test_an_unreadable_connect_inventory_is_reported_not_crashed(
    estate: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_faults.deny_connect_listing(monkeypatch)
    run = cli(estate, "audit", **deployed(estate))
    assert run.code == exits.EXIT_ACCESS_DENIED
    assert "Traceback" not in run.output
    assert "error: Reading the Connect inventory failed: ListInstances failed: AccessDeniedException" in run.stderr
    document = cli(estate, "audit", "--json", **deployed(estate)).json()
    assert document["error_code"] == "AccessDeniedException" and document["compliant"] is False


def test_a_server_without_the_storage_config_api_is_reported_not_crashed(
    estate: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_faults.drop_storage_config_api(monkeypatch)
    for command in (["audit"], ["audit", "--json"], ["plan"]):
        run = cli(estate, *command, **deployed(estate))
        assert run.code == exits.EXIT_NOT_COMPLIANT, run.output
        assert "Traceback" not in run.output
        assert "ListInstanceStorageConfigs failed" in run.stdout


def test_a_closed_stdout_is_not_a_crash(estate: World) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "connect_lockdown", "audit", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_environment(str(estate.endpoint_url), deployed(estate)),
    )
    process.stdout.close()  # `| head -0`
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == exits.EXIT_BROKEN_PIPE
    assert b"Traceback" not in stderr


@pytest.mark.parametrize("bucket", ["", "Not_A_Bucket", "a..b", "x", "-leading-hyphen"])
def test_an_empty_or_malformed_bucket_is_a_usage_error_and_writes_nothing(estate: World, bucket: str) -> None:
    before = policies(estate)
    for command in ("apply", "audit", "plan"):
        run = cli(
            estate, command, "--yes" if command == "apply" else "--json", f"--bucket={bucket}", **deployed(estate)
        )
        assert run.code == exits.EXIT_USAGE
        assert "--bucket" in one_line(run.stderr)
    assert policies(estate) == before
    assert estate.alerts() == []


@pytest.mark.filterwarnings("ignore:Exception\\(_AccessDenied\\)")
def test_a_wrong_stack_says_what_is_wrong_with_it(estate: World, monkeypatch: pytest.MonkeyPatch) -> None:
    run = cli(estate, "audit", "--stack-name", "wrong-stack")
    assert run.code == exits.EXIT_USAGE
    assert f"stack wrong-stack does not exist in account {ACCOUNT}, Region {REGION}" in one_line(run.stderr)

    estate.client("cloudformation").create_stack(
        StackName="other-stack",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}},
            }
        ),
    )
    run = cli(estate, "audit", "--stack-name", "other-stack")
    assert run.code == exits.EXIT_USAGE
    assert "stack other-stack in account" in run.stderr and "has no EnforcerRoleArn output" in run.stderr
    assert "(its outputs: TopicArn)" in run.stderr

    moto_faults.deny_describe_stacks(monkeypatch)
    run = cli(estate, "audit", "--stack-name", "wrong-stack")
    assert run.code == exits.EXIT_USAGE
    assert "access denied reading stack wrong-stack" in one_line(run.stderr)


def test_the_right_stack_gives_the_role_and_the_topic(estate: World) -> None:
    role_arn = deploy_stack(estate.client("cloudformation"), REGION, topic_arn=estate.topic_arn)
    run = cli(estate, "audit", "--json", "--stack-name", "connect-bucket-lockdown")
    assert run.json()["enforcer_role_arn"] == role_arn
    run = cli(estate, "apply", "--yes", "--bucket", OPEN, "--stack-name", "connect-bucket-lockdown")
    assert run.code == exits.EXIT_OK, run.output
    assert [a["attributes"]["bucket"] for a in estate.alerts()] == [OPEN]
    assert estate.policy(OPEN)["Statement"][0]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [role_arn]


def test_apply_with_a_stack_without_a_topic_says_so(estate: World) -> None:
    deploy_stack(estate.client("cloudformation"), REGION)
    run = cli(estate, "apply", "--yes", "--stack-name", "connect-bucket-lockdown")
    assert run.code == exits.EXIT_USAGE
    assert "stack connect-bucket-lockdown has no NotificationTopicArn output" in one_line(run.stderr)


def test_apply_without_a_topic_mentions_the_stack(estate: World) -> None:
    run = cli(estate, "apply", "--yes", ENFORCER_ROLE_ARN=estate.enforcer_role_arn)
    assert run.code == exits.EXIT_USAGE
    line = one_line(run.stderr)
    assert "NOTIFICATION_TOPIC_ARN" in line and "--stack-name" in line
    assert estate.policy(OPEN) is None


def test_apply_needs_the_functions_role(estate: World) -> None:
    run = cli(estate, "apply", "--yes", NOTIFICATION_TOPIC_ARN=estate.topic_arn)
    assert run.code == exits.EXIT_USAGE
    line = one_line(run.stderr)
    assert "--stack-name" in line and "ENFORCER_ROLE_ARN" in line
    run = cli(estate, "apply", "--yes", "--enforcer-role-name", "not-deployed", NOTIFICATION_TOPIC_ARN=estate.topic_arn)
    assert run.code == exits.EXIT_USAGE and f"no role not-deployed-{REGION}" in run.stderr
    assert estate.policy(OPEN) is None


# --- audit before deploying --------------------------------------------------------------------------


def test_audit_before_deploying_shows_the_real_state_and_says_so_once(estate: World) -> None:
    run = cli(estate, "audit")
    assert run.code == exits.EXIT_NOT_COMPLIANT
    states = {line.split()[0]: line for line in run.stdout.splitlines() if line.startswith("fg-")}
    assert "missing policy" in states[OPEN]
    assert "compliant" in states[BEFORE]
    # Locked by a deployed function: its entries are more than a pre-deployment lock expects.
    assert "drifted" in states[LOCKED] and "allowlist has extra" in states[LOCKED]
    assert not any("refused" in line for line in states.values())
    assert run.output.count("omits the not-yet-deployed function") == 1
    document = cli(estate, "audit", "--json").json()
    assert document["enforcer_role_arn"] is None and len(document["notes"]) == 1
    assert {b["bucket"]: b["state"] for b in document["buckets"]} == {
        LOCKED: "drifted",
        OPEN: "missing policy",
        BEFORE: "compliant",
    }
    run = cli(estate, "plan")
    assert run.output.count("omits the not-yet-deployed function") == 1
    run = cli(estate, "plan", "--json")
    assert run.output.count("omits the not-yet-deployed function") == 1 and json.loads(run.stdout)


def test_a_role_name_whose_role_does_not_exist_is_audited_as_not_deployed(estate: World) -> None:
    document = cli(estate, "audit", "--json", "--enforcer-role-name", "connect-lockdown-enforcer").json()
    assert document["enforcer_role_arn"] is None
    [note] = document["notes"]
    assert f"no role connect-lockdown-enforcer-{REGION} in account {ACCOUNT}" in note


def test_read_only_commands_speak_their_own_words(estate: World) -> None:
    # A dry-run shell and an admin role that does not exist: the core's reasons say "DRY_RUN is on" and
    # "nothing was written"; audit and plan must not.
    env = {**deployed(estate), "DRY_RUN": "true", "ADMIN_ROLE_ARNS": f"arn:aws:iam::{ACCOUNT}:role/Gone"}
    for command in (["audit"], ["audit", "--json"], ["plan"], ["plan", "--json"]):
        run = cli(estate, *command, **env)
        assert run.code == exits.EXIT_NOT_COMPLIANT
        assert not WRITE_WORDS.search(run.output), run.output
        assert "refused" in run.output and "apply would write nothing" in run.output
    for command in (["audit"], ["audit", "--json"], ["plan"]):
        run = cli(estate, *command, **deployed(estate))
        assert not WRITE_WORDS.search(run.output), run.output
    reasons = {b["bucket"]: b["reason"] for b in cli(estate, "audit", "--json", **deployed(estate)).json()["buckets"]}
    assert reasons[OPEN] == "has no policy; apply would write the expected lockdown"


def test_plurals(world: World) -> None:
    world.create_bucket("fg-single")
    world.create_instance("fg-single-cc", "fg-single")
    world.create_instance("fg-pending")
    run = run_cli("audit", endpoint=str(world.endpoint_url), env={"ENFORCER_ROLE_ARN": world.enforcer_role_arn})
    assert "1 bucket checked:" in run.stdout and "1 instance pending" in run.stdout
    assert not re.search(r"\b1 (buckets|instances|changes)\b", run.output)


# --- configuration mistakes found at start-up --------------------------------------------------------


@pytest.mark.parametrize("variable", ["ADMIN_ROLE_ARNS", "EXTRA_PRINCIPAL_ARNS"])
def test_a_principal_of_another_account_is_refused_at_start_up(estate: World, variable: str) -> None:
    foreign = "arn:aws:iam::999999999999:role/Admin"
    for command in (["audit"], ["plan"], ["apply", "--yes"]):
        run = cli(estate, *command, **{**deployed(estate), variable: f"arn:aws:iam::{ACCOUNT}:role/Local,{foreign}"})
        assert run.code == exits.EXIT_USAGE
        line = one_line(run.stderr)
        assert variable in line and foreign in line and "999999999999" in line
    assert estate.policy(OPEN) is None


def test_an_enforcer_role_of_another_account_is_refused_at_start_up(estate: World) -> None:
    foreign = "arn:aws:iam::999999999999:role/connect-lockdown-enforcer-us-east-1"
    run = cli(estate, "audit", "--enforcer-role-arn", foreign)
    assert run.code == exits.EXIT_USAGE
    assert "--enforcer-role-arn" in run.stderr and foreign in run.stderr
