"""`connect-lockdown guardrail --kind rcp`, run as a subprocess against a moto organization of three member
accounts: the printed resource control policy covers every account's Connect buckets, admits who the lock
admits (judged with the independent evaluator, tests/support/rcp_cases.py), and says on stderr what it cannot
cover."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from connect_lockdown.cli import exits
from devtools import connect_storage
from devtools.server import reset
from tests.support import moto_faults
from tests.support.cli_process import CliRun, run_cli
from tests.support.organization import MANAGEMENT, TRUST_CONNECT, Organization
from tests.support.rcp_cases import RCP_MAX_CHARACTERS, judge_rcp

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Exception\\(_AccessDenied\\)"),
]

EAST, WEST = "us-east-1", "eu-west-2"
DEFAULT_NAMED = "amazon-connect-0a1b2c3d4e5f"
MANY = [f"connect-recordings-of-a-contact-centre-with-a-long-name-{n:03}" for n in range(45)]


@dataclass
class Estate:
    org: Organization
    a: str
    b: str
    c: str
    legacy_role: str

    @property
    def break_glass(self) -> str:
        return f"arn:aws:iam::{self.a}:role/BreakGlass"

    def cli(self, *argv: str, env: dict[str, str | None] | None = None) -> CliRun:
        return run_cli("guardrail", "--kind", "rcp", *argv, endpoint=self.org.endpoint, env=env)


@pytest.fixture(scope="module")
def estate(endpoint: str) -> Iterator[Estate]:
    reset(endpoint)
    with pytest.MonkeyPatch.context() as monkeypatch:
        moto_faults.strict_assume_role(monkeypatch)
        org = Organization(endpoint).create(members=3)
        a, b, c = org.accounts
        org.connect_bucket(a, EAST, "a-recordings-east", "cc-a-east")
        org.connect_bucket(a, WEST, "a-recordings-west", "cc-a-west")
        org.connect_bucket(b, EAST, DEFAULT_NAMED, "cc-b")
        legacy_instance = org.connect_bucket(b, EAST, "b-transcripts", "cc-b-legacy")
        # An instance created before Connect had a service-linked role: a role of the account's own.
        legacy = org.client(b, "iam").create_role(
            RoleName="connect-legacy-role", Path="/service-role/", AssumeRolePolicyDocument=TRUST_CONNECT
        )["Role"]["Arn"]
        connect_storage.set_service_role(legacy_instance, legacy, account_id=b, region=EAST)
        instance = org.connect_bucket(c, EAST, MANY[0], "cc-c")
        s3 = org.client(c, "s3", EAST)
        for bucket in MANY[1:]:
            s3.create_bucket(Bucket=bucket)
            org.associate(c, EAST, instance, bucket)
        org.connect_bucket(MANAGEMENT, EAST, "management-recordings", "cc-management")
        yield Estate(org, a, b, c, legacy)
    reset(endpoint)


def documents_of(run: CliRun) -> list[dict[str, Any]]:
    printed = run.json()
    return printed if isinstance(printed, list) else [printed]


def resources_of(documents: list[dict[str, Any]]) -> set[str]:
    return {resource for doc in documents for resource in doc["Statement"][0]["Resource"]}


def test_an_organization_of_three_accounts_is_covered_and_judged(estate: Estate) -> None:
    run = estate.cli(
        "--organization",
        "--regions",
        f"{EAST},{WEST}",
        "--admin-role-name",
        "SecurityAdmin",
        "--exempt-role-arn",
        estate.break_glass,
    )
    assert run.code == exits.EXIT_OK, run.stderr
    documents = documents_of(run)
    assert len(documents) >= 2, "the 45 long custom names of account c do not fit one RCP"
    for text in run.stdout.strip().strip("[]").strip().split(",\n"):
        assert len(text) <= RCP_MAX_CHARACTERS
        assert json.loads(text) in documents
    custom = {"a-recordings-east": estate.a, "a-recordings-west": estate.a, "b-transcripts": estate.b}
    custom |= {bucket: estate.c for bucket in MANY}
    # Every account's Connect buckets, and their objects; Connect's default names by one pattern.
    expected = {
        "arn:aws:s3:::amazon-connect-*",
        "arn:aws:s3:::management-recordings",
        "arn:aws:s3:::management-recordings/*",
    }
    expected |= {f"arn:aws:s3:::{bucket}{tail}" for bucket in custom for tail in ("", "/*")}
    assert resources_of(documents) == expected
    admitted = documents[0]["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert estate.legacy_role in admitted
    assert not [arn for arn in admitted if "aws-service-role" in arn]
    assert all(doc["Statement"][0]["Condition"] == documents[0]["Statement"][0]["Condition"] for doc in documents)
    verdict = judge_rcp(
        documents,
        covered={**custom, DEFAULT_NAMED: estate.b},
        admin_role_names=["SecurityAdmin"],
        regions=[EAST, WEST],
        legacy_connect_roles=[estate.legacy_role],
        exempt_role_arns=[estate.break_glass],
    )
    verdict.assert_passed()
    assert "covers 50 Connect buckets found in 4 accounts and 2 Regions: 1 by the pattern" in run.stderr
    assert f"printed as a JSON array of {len(documents)} documents" in run.stderr
    assert "not protected by it, being in the management account: management-recordings" in run.stderr
    assert f"Connect service roles admitted by exact ARN: {estate.legacy_role}" in run.stderr
    assert "created later with a custom name is not covered" in run.stderr
    assert "at most 5 RCPs" in run.stderr
    assert "a role deleted and created again under the same name is admitted again" in run.stderr
    assert "watch CloudTrail for AccessDenied" in run.stderr
    assert "attach it only above accounts and Regions read here" in run.stderr


def test_an_unreadable_account_is_named_with_what_it_would_cost(estate: Estate) -> None:
    estate.org.remove_access_role(estate.c)
    run = estate.cli("--accounts", f"{estate.a},{estate.c}", "--regions", EAST)
    assert run.code == exits.EXIT_INCOMPLETE
    assert f"error: account {estate.c}, Region {EAST}: could not assume" in run.stderr
    assert "attaching it above them would deny their own Connect roles" in run.stderr
    assert not any(MANY[0] in resource for resource in resources_of(documents_of(run)))


def test_it_writes_nothing_to_aws(estate: Estate) -> None:
    run = estate.cli("--accounts", f"{estate.a},{estate.b}", "--regions", EAST)
    assert run.code == exits.EXIT_OK, run.stderr
    organizations = estate.org.client(MANAGEMENT, "organizations")
    scps = organizations.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert [p["Name"] for p in scps] == ["FullAWSAccess"]
    assert estate.org.policy(estate.a, EAST, "a-recordings-east") is None


def test_exempt_aws_services_from_the_environment(estate: Estate) -> None:
    run = estate.cli("--accounts", estate.a, "--regions", EAST, env={"EXEMPT_AWS_SERVICES": "false"})
    assert run.code == exits.EXIT_OK, run.stderr
    [document] = documents_of(run)
    assert "StringNotEqualsIfExists" not in document["Statement"][0]["Condition"]
    assert "and no service principal" in run.stderr
    run = estate.cli(
        "--accounts",
        estate.a,
        "--regions",
        EAST,
        env={"EXEMPT_AWS_SERVICES": "connect.amazonaws.com,transcribe.amazonaws.com"},
    )
    [document] = documents_of(run)
    assert document["Statement"][0]["Condition"]["StringNotEqualsIfExists"] == {
        "aws:PrincipalServiceName": ["connect.amazonaws.com", "transcribe.amazonaws.com"]
    }


@pytest.mark.parametrize(
    ("argv", "env", "says"),
    [
        (["--admin-role-name", "no spaces"], None, "--admin-role-name 'no spaces' is not an IAM role name"),
        (["--deployer-role-arn", "arn:aws:iam::*:role/Deployer"], None, "--deployer-role-arn applies to the SCP only"),
        ([], {"EXEMPT_AWS_SERVICES": "yes"}, "EXEMPT_AWS_SERVICES: 'yes' is not an AWS service principal"),
    ],
)
def test_usage_errors(estate: Estate, argv: list[str], env: dict[str, str | None] | None, says: str) -> None:
    run = estate.cli(*argv, env=env)
    assert run.code == exits.EXIT_USAGE
    assert says in run.stderr and run.stdout == ""
