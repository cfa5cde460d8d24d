"""`connect-lockdown guardrail`, run as a subprocess against a moto organization; the printed SCP is judged by
its effect under IAM's and Organizations' rules with the project's independent evaluator
(tests/support/guardrail_cases.py): an outsider, the member account's root, the enforcer in two accounts, a
break-glass role, an unrelated bucket and object reads, and who may create, pass or re-trust the enforcer's
role name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from connect_lockdown.cli import exits
from devtools.server import reset
from tests.support import moto_faults
from tests.support.cli_process import CliRun, run_cli
from tests.support.guardrail_cases import SCP_MAX_CHARACTERS, judge_guardrail
from tests.support.organization import MANAGEMENT, Organization

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Exception\\(_AccessDenied\\)"),
]

EAST, WEST, SPLIT_REGION = "us-east-1", "eu-west-2", "ap-southeast-2"
DEFAULT_NAMED = "amazon-connect-0a1b2c3d4e5f"
SPLIT_BUCKETS = [f"connect-recordings-of-a-contact-centre-with-a-long-name-{n:03}" for n in range(110)]


@dataclass
class Estate:
    org: Organization
    a: str
    b: str
    c: str

    @property
    def break_glass(self) -> str:
        return f"arn:aws:iam::{self.a}:role/BreakGlass"

    def cli(self, *argv: str, env: dict[str, str | None] | None = None) -> CliRun:
        return run_cli("guardrail", *argv, endpoint=self.org.endpoint, env=env)


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
        org.connect_bucket(b, EAST, "b-transcripts", "cc-b-2")
        org.connect_bucket(MANAGEMENT, EAST, "management-recordings", "cc-management")
        org.connect_bucket(c, EAST, "c-recordings", "cc-c")
        org.remove_access_role(c)
        # Many custom names in one Region: more than one SCP can hold.
        instance = org.connect_bucket(MANAGEMENT, SPLIT_REGION, SPLIT_BUCKETS[0], "cc-split")
        s3 = org.client(MANAGEMENT, "s3", SPLIT_REGION)
        for bucket in SPLIT_BUCKETS[1:]:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": SPLIT_REGION})
            org.associate(MANAGEMENT, SPLIT_REGION, instance, bucket)
        yield Estate(org, a, b, c)
    reset(endpoint)


def resources_of(documents: list[dict[str, Any]]) -> list[str]:
    return [resource for doc in documents for resource in doc["Statement"][0]["Resource"]]


def exempt_of(document: dict[str, Any]) -> list[str]:
    return list(document["Statement"][0]["Condition"]["ArnNotLike"]["aws:PrincipalArn"])


def role_guard_of(document: dict[str, Any]) -> dict[str, Any]:
    [guard] = [s for s in document["Statement"] if s["Sid"] == "ConnectLockdownEnforcerRoleName"]
    return dict(guard)


def test_the_guardrail_does_what_it_says(estate: Estate) -> None:
    run = estate.cli(
        "--accounts", f"{estate.a},{estate.b}", "--regions", f"{EAST},{WEST}", "--exempt-role-arn", estate.break_glass
    )
    assert run.code == exits.EXIT_OK, run.stderr
    document = run.json()
    assert isinstance(document, dict)
    assert len(run.stdout.strip()) <= SCP_MAX_CHARACTERS
    statement = document["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert sorted(statement["Action"]) == ["s3:DeleteBucketPolicy", "s3:PutBucketPolicy"]
    # Connect's default names by one pattern, custom names listed.
    assert statement["Resource"] == [
        "arn:aws:s3:::amazon-connect-*",
        "arn:aws:s3:::a-recordings-east",
        "arn:aws:s3:::a-recordings-west",
        "arn:aws:s3:::b-transcripts",
    ]
    # The enforcer by its exact per-Region name in any account, and the break-glass role.
    assert exempt_of(document) == [
        "arn:aws:iam::*:role/connect-lockdown-enforcer-us-east-1",
        "arn:aws:iam::*:role/connect-lockdown-enforcer-eu-west-2",
        estate.break_glass,
    ]
    # The enforcer's role name, exact per Region, only for the StackSets execution roles and the break-glass role.
    guard = role_guard_of(document)
    assert guard["Effect"] == "Deny"
    assert guard["Action"] == ["iam:CreateRole", "iam:PassRole", "iam:UpdateAssumeRolePolicy"]
    assert guard["Resource"] == [
        "arn:aws:iam::*:role/connect-lockdown-enforcer-us-east-1",
        "arn:aws:iam::*:role/connect-lockdown-enforcer-eu-west-2",
    ]
    assert guard["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
        "arn:aws:iam::*:role/stacksets-exec-*",
        "arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole",
        estate.break_glass,
    ]
    verdict = judge_guardrail(
        [document],
        covered_buckets=["a-recordings-east", "a-recordings-west", "b-transcripts", DEFAULT_NAMED],
        regions=[EAST, WEST],
        break_glass_role_arns=[estate.break_glass],
        deployer_role_arns=[f"arn:aws:iam::{estate.b}:role/stacksets-exec-0123456789abcdef0123456789abcdef"],
        member_accounts=[estate.a, estate.b],
        management_account=MANAGEMENT,
    )
    verdict.assert_passed()
    assert verdict.advisories() == []
    assert "covers 4 Connect buckets found in 2 accounts and 2 Regions: 1 by the pattern" in run.stderr
    assert "created later with a custom name is not covered: re-run this command" in run.stderr
    assert "at most 5 SCPs" in run.stderr and "merge" in run.stderr
    assert "writes nothing to AWS" in run.stderr
    assert "give --regions every Region where the stack runs" in run.stderr
    assert "no --deployer-role-arn: the roles CloudFormation StackSets deploy with are exempt" in run.stderr


def test_the_deployer_named_exactly(estate: Estate) -> None:
    deployer = "arn:aws:iam::*:role/connect-lockdown-deployer"
    run = estate.cli("--accounts", estate.a, "--regions", EAST, "--deployer-role-arn", deployer)
    assert run.code == exits.EXIT_OK, run.stderr
    document = run.json()
    assert role_guard_of(document)["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [deployer]
    assert "no --deployer-role-arn" not in run.stderr
    judged: dict[str, Any] = {
        "covered_buckets": ["a-recordings-east"],
        "member_accounts": [estate.a, estate.b],
        "management_account": MANAGEMENT,
    }
    judge_guardrail(
        [document], deployer_role_arns=[f"arn:aws:iam::{estate.b}:role/connect-lockdown-deployer"], **judged
    ).assert_passed()
    # The StackSets execution role is then stopped like anyone else.
    verdict = judge_guardrail(
        [document], deployer_role_arns=[f"arn:aws:iam::{estate.b}:role/stacksets-exec-0123"], **judged
    )
    assert [c.name for c in verdict.failures()] == [
        "the deployer and the break-glass roles can create, pass and re-trust the enforcer's role"
    ]


def test_it_writes_nothing_to_aws(estate: Estate) -> None:
    before = estate.org.policy(estate.a, EAST, "a-recordings-east")
    run = estate.cli("--accounts", f"{estate.a},{estate.b}", "--regions", EAST)
    assert run.code == exits.EXIT_OK
    organizations = estate.org.client(MANAGEMENT, "organizations")
    scps = organizations.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert [p["Name"] for p in scps] == ["FullAWSAccess"]
    assert estate.org.policy(estate.a, EAST, "a-recordings-east") == before is None


def test_the_whole_organization_with_an_unreadable_account(estate: Estate) -> None:
    run = estate.cli("--organization", "--regions", EAST)
    assert run.code == exits.EXIT_INCOMPLETE
    document = run.json()
    assert "arn:aws:s3:::management-recordings" in resources_of([document])
    assert "arn:aws:s3:::c-recordings" not in resources_of([document])
    assert f"error: account {estate.c}, Region {EAST}: could not assume" in run.stderr
    assert "their custom-named buckets are missing from the policy" in run.stderr


def test_the_enforcer_name_from_the_environment_and_the_flag(estate: Estate) -> None:
    env: dict[str, str | None] = {"ENFORCER_ROLE_ARN": f"arn:aws:iam::{estate.a}:role/custom-enforcer-{EAST}"}
    run = estate.cli("--accounts", f"{estate.a},{estate.b}", "--regions", f"{EAST},{WEST}", env=env)
    document = run.json()
    assert exempt_of(document) == [
        "arn:aws:iam::*:role/custom-enforcer-us-east-1",
        "arn:aws:iam::*:role/custom-enforcer-eu-west-2",
    ]
    judged: dict[str, Any] = {
        "covered_buckets": ["a-recordings-east", DEFAULT_NAMED],
        "regions": [EAST, WEST],
        "member_accounts": [estate.a, estate.b],
        "management_account": MANAGEMENT,
    }
    judge_guardrail([document], enforcer_role_name="custom-enforcer", **judged).assert_passed()
    # The default name is then not exempt: the policy would lock a default-named enforcer out.
    assert not judge_guardrail([document], **judged).passed
    run = estate.cli("--accounts", estate.a, "--regions", EAST, "--enforcer-role-name", "flagged", env=env)
    assert exempt_of(run.json()) == ["arn:aws:iam::*:role/flagged-us-east-1"]


def test_many_custom_buckets_split_into_several_documents(estate: Estate) -> None:
    run = estate.cli("--regions", SPLIT_REGION, "--exempt-role-arn", estate.break_glass)
    assert run.code == exits.EXIT_OK, run.stderr
    documents = run.json()
    assert isinstance(documents, list) and len(documents) >= 2
    for text in run.stdout.strip().strip("[]").strip().split(",\n"):
        assert len(text) <= SCP_MAX_CHARACTERS
        assert json.loads(text) in documents
    assert sorted(resources_of(documents)) == sorted(
        ["arn:aws:s3:::amazon-connect-*", *(f"arn:aws:s3:::{b}" for b in SPLIT_BUCKETS)]
    )
    assert all(exempt_of(doc) == exempt_of(documents[0]) for doc in documents)
    # The role-name statement once, in the first document.
    assert [len(doc["Statement"]) for doc in documents] == [2] + [1] * (len(documents) - 1)
    assert f"printed as a JSON array of {len(documents)} documents" in run.stderr
    verdict = judge_guardrail(
        documents,
        covered_buckets=SPLIT_BUCKETS,
        regions=[SPLIT_REGION],
        break_glass_role_arns=[estate.break_glass],
        member_accounts=[estate.a, estate.b],
        management_account=MANAGEMENT,
    )
    verdict.assert_passed()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--exempt-role-arn", "BreakGlass"], "--exempt-role-arn 'BreakGlass' is not an IAM role ARN"),
        (["--enforcer-role-name", "no spaces"], "--enforcer-role-name"),
        (["--accounts", "1"], "--accounts"),
        (["--deployer-role-arn", "Deployer"], "--deployer-role-arn 'Deployer' is not an IAM role ARN"),
        (["--admin-role-name", "SecurityAdmin"], "--admin-role-name applies to the RCP only: add --kind rcp"),
    ],
)
def test_usage_errors(estate: Estate, argv: list[str], says: str) -> None:
    run = estate.cli(*argv)
    assert run.code == exits.EXIT_USAGE
    assert says in run.stderr and run.stdout == ""
