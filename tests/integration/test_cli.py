"""The operator's command line against a moto server, as `AWS_ENDPOINT_URL` points the AWS CLI at one."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connect_lockdown import cli
from connect_lockdown.aws import AwsCallError, AwsGateway
from tests.support.world import ACCOUNT, World

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LOCKED, DRIFTED, MISSING = "cli-locked", "cli-drifted", "cli-missing"
PUBLIC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
    ],
}


@pytest.fixture
def estate(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """Three buckets (locked, drifted, missing policy), a pending instance, and an operator's environment."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", str(world.endpoint_url))
    monkeypatch.setenv("ENFORCER_ROLE_ARN", world.enforcer_role_arn)
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", world.topic_arn)
    for name in (LOCKED, DRIFTED, MISSING):
        world.create_bucket(name)
        world.create_instance(f"{name}-cc", name)
    world.create_instance("no-storage-yet")
    assert run("apply", "--bucket", LOCKED, "--yes")[0] == 0
    assert run("apply", "--bucket", DRIFTED, "--yes")[0] == 0
    world.put_policy(DRIFTED, {**PUBLIC, "Statement": [*PUBLIC["Statement"]]})
    world.alerts()
    return world


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def test_audit_table_shows_each_bucket_state_and_exits_non_zero(estate: World) -> None:
    code, text = run("audit")
    assert code == cli.EXIT_NOT_COMPLIANT
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("cli-")}
    assert "compliant" in lines[LOCKED]
    assert "drifted" in lines[DRIFTED] and "lockdown statement is missing" in lines[DRIFTED]
    assert "missing policy" in lines[MISSING] and "no policy" in lines[MISSING]
    assert f"{LOCKED}-cc (" in lines[LOCKED]
    assert "pending: Connect instance no-storage-yet" in text
    assert "3 buckets checked: 1 compliant" in text
    # Read-only: nothing written, nothing published
    assert estate.policy(MISSING) is None
    assert estate.alerts() == []


def test_audit_json(estate: World) -> None:
    code, text = run("audit", "--json")
    document = json.loads(text)
    assert code == cli.EXIT_NOT_COMPLIANT
    assert document["account"] == ACCOUNT and document["region"] == "us-east-1"
    assert document["compliant"] is False
    states = {b["bucket"]: b["state"] for b in document["buckets"]}
    assert states == {LOCKED: "compliant", DRIFTED: "drifted", MISSING: "missing policy"}
    drifted = next(b for b in document["buckets"] if b["bucket"] == DRIFTED)
    assert drifted["instances"][0]["alias"] == f"{DRIFTED}-cc"
    assert drifted["differences"] == ["the lockdown statement is missing"]
    assert [p["alias"] for p in document["pending_instances"]] == ["no-storage-yet"]


def test_plan_shows_a_diff_and_writes_nothing(estate: World) -> None:
    code, text = run("plan", "--bucket", DRIFTED)
    assert code == cli.EXIT_NOT_COMPLIANT
    assert f"--- {DRIFTED} (current)" in text and f"+++ {DRIFTED} (expected)" in text
    assert '+      "Sid": "ConnectBucketLockdown",' in text
    assert estate.policy(DRIFTED) == PUBLIC
    code, text = run("plan", "--bucket", LOCKED)
    assert code == cli.EXIT_OK and "no change" in text


def test_plan_json(estate: World) -> None:
    code, text = run("plan", "--json")
    assert code == cli.EXIT_NOT_COMPLIANT
    plan = {p["bucket"]: p for p in json.loads(text)}
    assert plan[MISSING]["current"] is None
    assert plan[MISSING]["expected"]["Statement"][0]["Sid"] == "ConnectBucketLockdown"
    assert plan[LOCKED]["state"] == "compliant"


def test_apply_needs_confirmation_without_a_terminal(estate: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, _ = run("apply")
    assert code == cli.EXIT_USAGE
    assert estate.policy(MISSING) is None


def test_apply_with_confirmation(estate: World, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    assert run("apply")[0] == cli.EXIT_NOT_COMPLIANT
    assert estate.policy(MISSING) is None
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    code, text = run("apply")
    assert code == cli.EXIT_OK
    assert f"remediated: {MISSING}" in text and f"remediated: {DRIFTED}" in text
    assert run("audit")[0] == cli.EXIT_OK
    # apply alerts like the function: one message per remediation
    assert sorted(a["attributes"]["bucket"] for a in estate.alerts()) == [DRIFTED, MISSING]


def test_apply_yes_then_audit_is_clean(estate: World) -> None:
    assert run("apply", "--yes")[0] == cli.EXIT_OK
    code, text = run("audit", "--json")
    assert code == cli.EXIT_OK
    assert json.loads(text)["compliant"] is True
    # The written lock admits the function's role, though the operator wrote it.
    allowed = estate.policy(MISSING)["Statement"][0]["Condition"]["StringNotLike"]["aws:userId"]
    assert f"{estate.enforcer_role_id}:*" in allowed


def test_apply_needs_a_topic(estate: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFICATION_TOPIC_ARN")
    assert run("apply", "--yes")[0] == cli.EXIT_USAGE


def test_unknown_bucket(estate: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("audit", "--bucket", "not-a-connect-bucket")[0] == cli.EXIT_UNKNOWN_BUCKET
    assert "unknown bucket" in capsys.readouterr().err


def test_missing_enforcer_role(
    estate: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ENFORCER_ROLE_ARN")
    assert run("audit")[0] == cli.EXIT_USAGE
    assert "--enforcer-role-arn" in capsys.readouterr().err
    assert run("audit", "--enforcer-role-arn", estate.enforcer_role_arn)[0] == cli.EXIT_NOT_COMPLIANT


def test_bad_configuration_names_the_variable(
    estate: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MERGE_MODE", "sideways")
    assert run("audit")[0] == cli.EXIT_USAGE
    assert "MERGE_MODE" in capsys.readouterr().err


def test_no_credentials(
    estate: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert run("audit")[0] == cli.EXIT_NO_CREDENTIALS
    assert "no AWS credentials" in capsys.readouterr().err


def test_unknown_profile(estate: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("audit", "--profile", "nope")[0] == cli.EXIT_USAGE
    assert "profile" in capsys.readouterr().err


def test_access_denied_on_a_bucket(
    estate: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = AwsGateway.get_bucket_policy

    def denied(self: AwsGateway, bucket: str, account: str) -> Any:
        if bucket == LOCKED:
            raise AwsCallError("GetBucketPolicy", "AccessDenied", "Access Denied")
        return original(self, bucket, account)

    monkeypatch.setattr(AwsGateway, "get_bucket_policy", denied)
    assert run("audit", "--bucket", LOCKED)[0] == cli.EXIT_ACCESS_DENIED
    assert "access denied" in capsys.readouterr().err
    code, text = run("audit")
    assert code == cli.EXIT_ACCESS_DENIED
    assert "failed" in next(line for line in text.splitlines() if line.startswith(LOCKED))


def test_module_entry_point_and_help() -> None:
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'lockdown'}"}
    for command in ([], ["audit"], ["plan"], ["apply"]):
        result = subprocess.run(
            [sys.executable, "-m", "connect_lockdown", *command, "--help"],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "example" in result.stdout or not command
        assert "exit codes" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "connect_lockdown"], capture_output=True, text=True, env=environment, check=False
    )
    assert result.returncode == cli.EXIT_USAGE
