"""`connect-lockdown audit` over several accounts and Regions, as a subprocess against a moto
organization: a management account (the caller), member A (deployed in both Regions, one bucket drifted),
member B (not deployed; a default-named bucket without a policy), member C (its role cannot be assumed) and
member D (closed)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from connect_lockdown.cli import exits
from devtools.server import reset
from tests.support import moto_faults
from tests.support.cli_process import CliRun, run_cli, run_cli_in_terminal
from tests.support.organization import MANAGEMENT, STACK_NAME, Organization
from tests.support.policies import public_read_policy

pytestmark = [
    pytest.mark.integration,
    # moto warns that STS has no AccessDenied error shape; AWS answers AccessDenied all the same.
    pytest.mark.filterwarnings("ignore:Exception\\(_AccessDenied\\)"),
]

EAST, WEST = "us-east-1", "eu-west-2"
PUBLIC = public_read_policy("a-drifted-east")


@dataclass
class Estate:
    org: Organization
    a: str
    b: str
    c: str
    d: str
    enforcer: dict[str, str]

    def cli(self, *argv: str, env: dict[str, str | None] | None = None) -> CliRun:
        return run_cli(*argv, endpoint=self.org.endpoint, env=env)


@pytest.fixture(scope="module")
def estate(endpoint: str) -> Iterator[Estate]:
    reset(endpoint)
    with pytest.MonkeyPatch.context() as monkeypatch:
        moto_faults.strict_assume_role(monkeypatch)
        org = Organization(endpoint).create(members=4)
        a, b, c, d = org.accounts
        enforcer = {region: org.deploy_stack(a, region) for region in (EAST, WEST)}
        for bucket, region in (("a-locked-east", EAST), ("a-drifted-east", EAST), ("a-locked-west", WEST)):
            org.connect_bucket(a, region, bucket, f"cc-{bucket}")
            org.lock(a, region, bucket, enforcer[region])
        org.put_policy(a, EAST, "a-drifted-east", PUBLIC)
        org.connect_bucket(b, EAST, "amazon-connect-0a1b2c3d4e5f", "cc-b")
        org.connect_bucket(c, EAST, "c-bucket", "cc-c")
        org.remove_access_role(c)
        org.close(d)
        yield Estate(org, a, b, c, d, enforcer)
    reset(endpoint)


def scopes_of(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(item["account"], item["region"]) for item in items}


def buckets_of(document: dict[str, Any]) -> dict[str, str]:
    return {b["bucket"]: b["state"] for audit in document["audits"] for b in audit["buckets"]}


def test_organization_audit_json(estate: Estate) -> None:
    run = estate.cli("audit", "--organization", "--regions", f"{EAST},{WEST}", "--stack-name", STACK_NAME, "--json")
    assert run.code == exits.EXIT_NOT_COMPLIANT, run.stderr
    document = run.json()
    assert set(document) == {"audits", "errors", "compliant"}
    assert document["compliant"] is False
    # Every ACTIVE account in every Region: an audit or an error, never both, never missing. D is closed.
    audited = {(account, region) for account in (MANAGEMENT, estate.a, estate.b) for region in (EAST, WEST)}
    assert scopes_of(document["audits"]) == audited
    assert scopes_of(document["errors"]) == {(estate.c, EAST), (estate.c, WEST)}
    for error in document["errors"]:
        assert set(error) == {"account", "region", "error"}
        assert f"arn:aws:iam::{estate.c}:role/OrganizationAccountAccessRole" in error["error"]
        assert "AccessDenied" in error["error"] and "\n" not in error["error"]
    assert buckets_of(document) == {
        "a-locked-east": "compliant",
        "a-drifted-east": "drifted",
        "a-locked-west": "compliant",
        "amazon-connect-0a1b2c3d4e5f": "missing policy",
    }
    by_scope = {(audit["account"], audit["region"]): audit for audit in document["audits"]}
    # Each account's own stack, in each Region, gives the function's role there.
    assert by_scope[(estate.a, EAST)]["enforcer_role_arn"] == estate.enforcer[EAST]
    assert by_scope[(estate.a, WEST)]["enforcer_role_arn"] == estate.enforcer[WEST]
    assert by_scope[(estate.a, EAST)]["compliant"] is False and by_scope[(estate.a, WEST)]["compliant"] is True
    # Not deployed in B (and the management account): audited as before deployment, and said so.
    [note] = by_scope[(estate.b, EAST)]["notes"]
    assert f"stack {STACK_NAME} does not exist in account {estate.b}, Region {EAST}" in note
    assert by_scope[(estate.b, EAST)]["enforcer_role_arn"] is None
    # The management account is read with the caller's own credentials: it has no OrganizationAccountAccessRole.
    assert by_scope[(MANAGEMENT, EAST)]["buckets"] == []
    # Single-scope documents, each with its account and Region.
    assert {"account", "region", "buckets", "pending_instances", "orphaned_buckets", "compliant"} <= set(
        by_scope[(estate.a, EAST)]
    )


def test_organization_audit_table(estate: Estate) -> None:
    run = estate.cli("audit", "--organization", "--regions", f"{EAST},{WEST}", "--stack-name", STACK_NAME)
    assert run.code == exits.EXIT_NOT_COMPLIANT
    header, *lines = run.stdout.split("ACCOUNT", 1)[1].splitlines()
    assert header.split() == ["REGION", "BUCKET", "INSTANCES", "STATE", "WHAT", "DIFFERS"]
    table = {line.split()[2]: line.split() for line in lines if line[:12].isdigit() and len(line.split()) > 3}
    assert table["a-drifted-east"][:2] == [estate.a, EAST] and "drifted" in table["a-drifted-east"]
    assert table["a-locked-west"][:2] == [estate.a, WEST] and "compliant" in table["a-locked-west"]
    assert table["amazon-connect-0a1b2c3d4e5f"][:2] == [estate.b, EAST]
    assert f"error: account {estate.c}, Region {EAST}: could not assume" in run.stdout
    assert "4 accounts x 2 Regions: 6 audited, 2 could not be read." in run.stdout


def test_a_failed_scope_alone_is_exit_8(estate: Estate) -> None:
    run = estate.cli("audit", "--accounts", f"{estate.a},{estate.c}", "--regions", WEST, "--stack-name", STACK_NAME)
    assert run.code == exits.EXIT_INCOMPLETE, run.output
    document = estate.cli(
        "audit", "--accounts", f"{estate.a},{estate.c}", "--regions", WEST, "--stack-name", STACK_NAME, "--json"
    ).json()
    assert scopes_of(document["audits"]) == {(estate.a, WEST)} and document["audits"][0]["compliant"] is True
    assert scopes_of(document["errors"]) == {(estate.c, WEST)}
    assert document["compliant"] is False


def test_every_scope_compliant_is_exit_0(estate: Estate) -> None:
    run = estate.cli("audit", "--accounts", estate.a, "--regions", WEST, "--stack-name", STACK_NAME, "--json")
    assert run.code == exits.EXIT_OK, run.output
    assert run.json()["compliant"] is True and run.json()["errors"] == []


def test_before_and_after_deployment_by_role_name(estate: Estate) -> None:
    """--enforcer-role-name: the function's role is <name>-<Region> in each account, when it exists."""
    run = estate.cli(
        "audit", "--accounts", f"{estate.a},{estate.b}", "--regions", EAST, "--enforcer-role-name",
        "connect-lockdown-enforcer", "--json",
    )  # fmt: skip
    document = run.json()
    assert buckets_of(document) == {
        "a-locked-east": "compliant",
        "a-drifted-east": "drifted",
        "amazon-connect-0a1b2c3d4e5f": "missing policy",
    }
    by_account = {audit["account"]: audit for audit in document["audits"]}
    assert by_account[estate.a]["enforcer_role_arn"] == estate.enforcer[EAST]
    assert "no role connect-lockdown-enforcer-us-east-1" in by_account[estate.b]["notes"][0]


def test_without_the_functions_role_the_note_is_said_once(estate: Estate) -> None:
    run = estate.cli("audit", "--accounts", f"{estate.a},{estate.b}", "--regions", f"{EAST},{WEST}")
    assert run.code == exits.EXIT_NOT_COMPLIANT
    assert run.stdout.count("omits the not-yet-deployed function") == 1
    # Locked by the deployed function: more entries than a pre-deployment lock expects.
    assert "allowlist has extra" in next(line for line in run.stdout.splitlines() if "a-locked-east" in line)


def test_a_progress_line_on_a_terminal(estate: Estate) -> None:
    run = run_cli_in_terminal(
        "audit", "--accounts", f"{estate.a},{estate.b}", "--regions", EAST, "--json", endpoint=estate.org.endpoint
    )
    assert "audited 2/2 accounts and Regions (0 failed)" in run.stderr
    assert set(run.json()) == {"audits", "errors", "compliant"}
    plain = estate.cli("audit", "--accounts", f"{estate.a},{estate.b}", "--regions", EAST, "--json")
    assert plain.stderr == ""


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--accounts", "12345"], "--accounts: '12345' is not a 12-digit account ID"),
        (["--accounts", ""], "--accounts is empty"),
        (["--regions", "nowhere"], "--regions: 'nowhere' is not a Region name"),
        (["--regions", "us-east-1", "--region", "eu-west-2"], "pass --region or --regions, not both"),
        (["--organization", "--accounts", "111122223333"], "not allowed with argument"),
        (["--organization", "--bucket", "amazon-connect-0a1b2c3d4e5f"], "--bucket names one bucket"),
        (["--organization", "--role-name", "bad name"], "--role-name"),
    ],
)
def test_usage_errors(estate: Estate, argv: list[str], says: str) -> None:
    run = estate.cli("audit", *argv)
    assert run.code == exits.EXIT_USAGE
    assert says in run.stderr and "Traceback" not in run.stderr


def test_admin_roles_of_an_account_that_is_not_audited(estate: Estate) -> None:
    foreign = "arn:aws:iam::999999999999:role/Admin"
    run = estate.cli(
        "audit", "--accounts", estate.a, "--regions", EAST, env={"ADMIN_ROLE_ARNS": f"{foreign}"}
    )  # fmt: skip
    assert run.code == exits.EXIT_USAGE
    assert "ADMIN_ROLE_ARNS" in run.stderr and foreign in run.stderr


def test_organization_listing_denied_or_empty(estate: Estate, monkeypatch: pytest.MonkeyPatch) -> None:
    for fault, code, says in (
        (moto_faults.deny_list_accounts, exits.EXIT_ACCESS_DENIED, "access denied on organizations:ListAccounts"),
        (moto_faults.no_active_accounts, exits.EXIT_USAGE, "no ACTIVE account"),
    ):
        with monkeypatch.context() as patch:
            fault(patch)
            for command in ("audit", "guardrail"):
                run = estate.cli(command, "--organization", "--regions", EAST)
                assert run.code == code, run.output
                assert says in run.stderr and "Traceback" not in run.stderr
                assert run.stdout == ""
