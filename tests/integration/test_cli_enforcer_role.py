"""The command line checks the function's role it is told (--enforcer-role-arn, ENFORCER_ROLE_ARN): the role must
exist, as that very ARN, and with --stack-name be the stack's own. Otherwise exit 2 names the role expected, and
nothing is written: a lock written for another role would lock the real function out of the bucket."""

from __future__ import annotations

import pytest

from connect_lockdown.cli import exits
from devtools.world import ACCOUNT, REGION, World
from tests.support.cli_process import CliRun, run_cli
from tests.support.organization import STACK_NAME, deploy_stack

pytestmark = pytest.mark.integration

BUCKET = "er-open"


@pytest.fixture
def estate(world: World) -> World:
    world.create_bucket(BUCKET)
    world.create_instance("er-cc", BUCKET)
    return world


def cli(world: World, *argv: str, **env: str | None) -> CliRun:
    return run_cli(*argv, endpoint=str(world.endpoint_url), env={"NOTIFICATION_TOPIC_ARN": world.topic_arn, **env})


def test_a_role_that_does_not_exist_is_refused(estate: World) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/connect-lockdown-enforcer-eu-west-9"
    for command in (["audit"], ["plan"], ["apply", "--yes"]):
        run = cli(estate, *command, "--enforcer-role-arn", missing)
        assert run.code == exits.EXIT_USAGE, run.output
        assert "no role connect-lockdown-enforcer-eu-west-9 exists" in run.stderr
        assert "EnforcerRoleArn output" in run.stderr and "Traceback" not in run.stderr
    run = cli(estate, "apply", "--yes", ENFORCER_ROLE_ARN=missing)
    assert run.code == exits.EXIT_USAGE and "ENFORCER_ROLE_ARN is " in run.stderr
    assert estate.policy(BUCKET) is None and estate.alerts() == []


def test_a_role_with_another_path_is_refused(estate: World) -> None:
    name = estate.enforcer_role_arn.rsplit("/", 1)[1]
    wrong_path = f"arn:aws:iam::{ACCOUNT}:role/team/{name}"
    run = cli(estate, "apply", "--yes", "--enforcer-role-arn", wrong_path)
    assert run.code == exits.EXIT_USAGE and f"expected {estate.enforcer_role_arn}" in run.stderr
    assert estate.policy(BUCKET) is None


def test_with_a_stack_the_role_must_be_the_stacks(estate: World) -> None:
    # Given the deployed stack, whose function runs as its own role, and another role that exists
    deployed = deploy_stack(estate.client("cloudformation"), REGION, topic_arn=estate.topic_arn)
    other = estate.enforcer_role_arn
    assert other != deployed
    # When the operator names the other role beside the stack, by flag or by variable
    for run in (
        cli(estate, "apply", "--yes", "--stack-name", STACK_NAME, "--enforcer-role-arn", other),
        cli(estate, "apply", "--yes", "--stack-name", STACK_NAME, ENFORCER_ROLE_ARN=other),
        cli(estate, "audit", "--stack-name", STACK_NAME, "--enforcer-role-arn", other),
    ):
        # Then it is refused, and the message names the role expected
        assert run.code == exits.EXIT_USAGE, run.output
        assert f"runs as {deployed}" in run.stderr and f"Expected {deployed}" in run.stderr
    assert estate.policy(BUCKET) is None and estate.alerts() == []
    # And the stack's own role is accepted, and the lock written admits it
    run = cli(estate, "apply", "--yes", "--stack-name", STACK_NAME, "--enforcer-role-arn", deployed)
    assert run.code == exits.EXIT_OK, run.output
    assert estate.policy(BUCKET)["Statement"][0]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [deployed]
