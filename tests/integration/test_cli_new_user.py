"""The command line as a new user meets it, through a real subprocess: the Region from AWS_REGION, honest exit
codes, alerts that are never lost, an unreadable inventory that is never an empty answer, and the small things
a first session trips on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from moto.s3.models import S3Backend

from connect_lockdown.cli import exits
from devtools.world import ACCOUNT, REGION, World
from tests.support import moto_faults
from tests.support.cli_process import ROOT, CliRun, cli_environment, run_cli, run_cli_in_terminal
from tests.support.organization import lock_bucket

pytestmark = pytest.mark.integration

LOCKED, OPEN, SECOND, THIRD = "nu-locked", "nu-open", "nu-second", "nu-third"


@pytest.fixture
def estate(world: World) -> World:
    """A bucket locked by the deployed function and three without a policy, each of its own instance."""
    for name in (LOCKED, OPEN, SECOND, THIRD):
        world.create_bucket(name)
        world.create_instance(f"{name}-cc", name)
    lock_bucket(world.session, str(world.endpoint_url), REGION, LOCKED, world.enforcer_role_arn)
    return world


def deployed(world: World) -> dict[str, str | None]:
    return {"ENFORCER_ROLE_ARN": world.enforcer_role_arn, "NOTIFICATION_TOPIC_ARN": world.topic_arn}


def cli(world: World, *argv: str, **env: str | None) -> CliRun:
    return run_cli(*argv, endpoint=str(world.endpoint_url), env={**deployed(world), **env})


def alerted(world: World) -> list[str]:
    return sorted(a["attributes"]["bucket"] for a in world.alerts())


# --- the Region as the AWS CLI v2 finds it -----------------------------------------------------------------


def test_aws_region_is_honoured_as_the_aws_cli_does(estate: World) -> None:
    # Only AWS_REGION: the advice of every "no Region" message works.
    run = cli(estate, "audit", "--json", AWS_DEFAULT_REGION=None, AWS_REGION=REGION)
    assert run.code == exits.EXIT_NOT_COMPLIANT, run.stderr
    assert run.json()["region"] == REGION
    # AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS CLI v2; --region wins over both.
    run = cli(estate, "plan", "--json", AWS_DEFAULT_REGION="eu-west-1", AWS_REGION=REGION)
    assert {p["bucket"] for p in run.json()} == {LOCKED, OPEN, SECOND, THIRD}
    run = cli(estate, "audit", "--json", "--region", REGION, AWS_DEFAULT_REGION="eu-west-1", AWS_REGION="eu-west-2")
    assert run.json()["region"] == REGION
    # Several scopes, the guardrail and apply make their sessions the same way.
    run = cli(estate, "audit", "--json", "--accounts", ACCOUNT, AWS_DEFAULT_REGION=None, AWS_REGION=REGION)
    assert [a["region"] for a in run.json()["audits"]] == [REGION], run.stderr
    run = cli(estate, "guardrail", AWS_DEFAULT_REGION=None, AWS_REGION=REGION)
    assert run.code == exits.EXIT_OK, run.stderr
    run = cli(estate, "apply", "--yes", "--bucket", OPEN, AWS_DEFAULT_REGION=None, AWS_REGION=REGION)
    assert run.code == exits.EXIT_OK, run.output
    assert alerted(estate) == [OPEN]


# --- a read-only principal's apply ------------------------------------------------------------------------


def test_a_read_only_principals_apply_is_access_denied_naming_the_calls(
    estate: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_faults.deny_bucket_policy_write(monkeypatch)
    moto_faults.deny_publish(monkeypatch)
    run = cli(estate, "apply", "--yes", "--bucket", OPEN)
    assert run.code == exits.EXIT_ACCESS_DENIED, run.output
    assert "try again" not in run.output and "throttled" not in run.output
    [failed] = [line for line in run.stdout.splitlines() if line.startswith(f"failed: {OPEN}: ")]
    assert f"PutBucketPolicy failed on {OPEN}: AccessDenied" in failed and "the credentials used need" in failed
    assert run.stderr.startswith("connect-lockdown: error: ")
    assert "sns:Publish failed: AuthorizationError" in run.stderr
    assert estate.policy(OPEN) is None


# --- alerts: refused results, interrupted writes -------------------------------------------------------


def test_apply_alerts_each_refused_result_even_when_all_are_refused(estate: World) -> None:
    # An admin role that does not exist: every bucket is refused, nothing is to be written.
    gone = f"arn:aws:iam::{ACCOUNT}:role/Gone"
    run = cli(estate, "apply", "--yes", ADMIN_ROLE_ARNS=gone)
    assert run.code == exits.EXIT_NOT_COMPLIANT, run.output
    assert alerted(estate) == sorted([LOCKED, OPEN, SECOND, THIRD])
    assert all(estate.policy(b) is None for b in (OPEN, SECOND, THIRD))
    assert "4 alerts published" in run.stdout


def _apply_interrupted(world: World, monkeypatch: pytest.MonkeyPatch, signals: int) -> tuple[CliRun, list[str]]:
    """apply --yes, with `signals` Ctrl-Cs sent to it while S3 handles its first policy write."""
    child: dict[str, int] = {}
    original = S3Backend.put_bucket_policy

    def put_bucket_policy(self: S3Backend, bucket_name: str, policy: bytes) -> None:
        original(self, bucket_name, policy)
        if child.pop("pid", None) is not None:
            for number in range(signals):
                if number:
                    # Two SIGINTs sent back to back can merge into one pending signal: let the child take the first
                    # (it is blocked on this very request, so it cannot move on meanwhile).
                    time.sleep(0.5)
                os.kill(process.pid, signal.SIGINT)

    monkeypatch.setattr(S3Backend, "put_bucket_policy", put_bucket_policy)
    process = subprocess.Popen(
        [sys.executable, "-m", "connect_lockdown", "apply", "--yes"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_environment(str(world.endpoint_url), deployed(world)),
    )
    child["pid"] = process.pid
    stdout, stderr = process.communicate(timeout=300)
    written = sorted(b for b in (OPEN, SECOND, THIRD) if world.policy(b) is not None)
    return CliRun(process.returncode, stdout, stderr), written


def test_ctrl_c_during_apply_stops_after_the_alert_of_the_bucket_in_hand(
    estate: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, written = _apply_interrupted(estate, monkeypatch, signals=1)
    assert run.code == exits.EXIT_INTERRUPTED, run.output
    assert len(written) == 1, "stops before the next bucket"
    assert alerted(estate) == written, "written means alerted"
    assert f"written and alerted: {written[0]}" in run.stdout
    assert "Traceback" not in run.output


def test_a_second_ctrl_c_stops_at_once_and_names_the_write_not_alerted(
    estate: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, written = _apply_interrupted(estate, monkeypatch, signals=2)
    assert run.code == exits.EXIT_INTERRUPTED, run.output
    [bucket] = written
    assert alerted(estate) == []
    assert f"NOT alerted: {bucket}" in run.stdout
    assert "Traceback" not in run.output


# --- an unreadable inventory is never an empty answer -------------------------------------------------------


@pytest.mark.parametrize("command", [["plan", "--json"], ["audit", "--json"], ["plan"], ["audit"]])
def test_an_unreadable_inventory_is_an_error_never_an_empty_answer(
    estate: World, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    moto_faults.deny_connect_listing(monkeypatch)
    run = cli(estate, *command)
    assert run.code == exits.EXIT_ACCESS_DENIED, run.output
    assert "No Connect bucket" not in run.output and "0 buckets checked" not in run.output
    assert "ListInstances failed: AccessDeniedException" in run.stderr
    if "--json" in command:
        document = run.json()
        assert isinstance(document, dict) and document["compliant"] is False
        assert document["error_code"] == "AccessDeniedException" and document["account"] == ACCOUNT
    else:
        assert run.stdout == ""


# --- smaller things ----------------------------------------------------------------------------------------


def test_an_unknown_profile_from_the_environment_is_named(estate: World) -> None:
    run = cli(estate, "audit", AWS_PROFILE="nosuch")
    assert run.code == exits.EXIT_USAGE
    assert "'nosuch'" in run.stderr and "AWS_PROFILE" in run.stderr and "None" not in run.stderr


def test_ctrl_d_at_the_prompt_is_no(estate: World) -> None:
    run = run_cli_in_terminal("apply", endpoint=str(estate.endpoint_url), env=deployed(estate), answer="\x04")
    assert run.code == exits.EXIT_NOT_COMPLIANT, run.output
    assert "Nothing was applied." in run.stdout and "internal error" not in run.output
    assert estate.policy(OPEN) is None


def test_ctrl_c_while_importing_is_an_interruption_not_a_traceback() -> None:
    # The console script's own code, with a Ctrl-C arriving while botocore loads.
    script = (
        "import sys\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'botocore':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())\n"
        "from connect_lockdown.cli import main\n"
        "sys.exit(main(['audit']))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=cli_environment(None),
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert completed.returncode == exits.EXIT_INTERRUPTED, completed.stderr
    assert completed.stderr == "connect-lockdown: interrupted\n"


def test_an_unknown_flag_shows_the_usage_of_its_command() -> None:
    run = run_cli("plan", "--no-such-flag", endpoint=None)
    assert run.code == exits.EXIT_USAGE
    assert "usage: connect-lockdown plan" in run.stderr
    assert "connect-lockdown plan: error: unrecognized arguments: --no-such-flag" in run.stderr


def test_apply_accepts_y(estate: World) -> None:
    run = cli(estate, "apply", "-y", "--bucket", OPEN)
    assert run.code == exits.EXIT_OK, run.output
    assert alerted(estate) == [OPEN]


def test_plan_help_says_it_lists_every_bucket() -> None:
    text = " ".join(run_cli("plan", "--help", endpoint=None).stdout.split())
    assert "every Connect bucket" in text
    assert "for each bucket that is not compliant" not in text


def test_when_no_account_could_be_read_the_audit_says_none_not_some(
    estate: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_faults.strict_assume_role(monkeypatch)
    run = cli(estate, "audit", "--accounts", "111111111111,222222222222")
    assert run.code == exits.EXIT_INCOMPLETE, run.output
    assert "2 accounts x 1 Region: none could be read" in run.stdout and "0 audited" not in run.stdout
    assert "could not tell" in run_cli("audit", "--help", endpoint=None).stdout


def test_the_orphan_warning_names_the_bucket(estate: World) -> None:
    # A bucket that carries the lockdown (the one of LOCKED, moved over) and that no instance uses.
    estate.create_bucket("nu-orphan")
    estate.put_policy("nu-orphan", json.loads(json.dumps(estate.policy(LOCKED)).replace(LOCKED, "nu-orphan")))
    run = cli(estate, "audit", "--verbose")
    warnings = [line for line in run.stderr.splitlines() if "no Connect instance uses it" in line]
    assert warnings and all("nu-orphan" in line for line in warnings), run.stderr
