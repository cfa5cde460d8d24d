"""docs/security.md against the template: the enforcer role's grants in every profile, and the example SCP's
statement on the role name, which must be the one `connect-lockdown guardrail` prints."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from connect_lockdown.cli import scp
from devtools import cfn

ROOT = Path(__file__).resolve().parents[2]
SECURITY = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
ROLE = "EnforcerFunctionRole"
# The "granted" column of the permission table, as the template's conditions.
GRANTED_WHEN = {"always": None, "with a KMS key": "FunctionUsesKms", "with Security Hub": "ReportToSecurityHub"}
EXISTING_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CENTRAL_TOPIC = "arn:aws:sns:eu-west-1:111122223333:connect-lockdown-alerts"
PROFILES: dict[str, dict[str, str]] = {
    "default": {},
    "existing key": {"Encryption": "existing-key", "EncryptionKeyArn": EXISTING_KEY},
    "aws owned": {"Encryption": "aws-owned", "Alarms": "dead-letters"},
    "aws owned, Security Hub": {"Encryption": "aws-owned", "EnableSecurityHub": "true"},
    "aws owned, central topic under its own key": {
        "Encryption": "aws-owned",
        "ExistingTopicArn": CENTRAL_TOPIC,
        "ExistingTopicKmsKeyArn": EXISTING_KEY,
    },
    "everything": {
        "CreateTrail": "true",
        "NotificationEmail": "security@example.com",
        "EnableSecurityHub": "true",
        "DashboardRegion": "eu-west-1",
        "PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/Boundary",
    },
}


def _section(title: str) -> str:
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", SECURITY, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/security.md has no section {title!r}"
    return match.group(1)


def _documented_grants() -> dict[str, str]:
    """action -> its "granted" column, from the table of the section on the role."""
    rows = re.findall(
        r"^\| `([a-z0-9-]+:[A-Za-z]+)` \|[^|]*\| ([^|]+?) \|", _section("What the enforcer's role may do"), re.M
    )
    assert rows, "the permission table of docs/security.md has no row"
    grants: dict[str, str] = {}
    for action, when in rows:
        assert action not in grants, f"{action} is listed twice"
        assert when in GRANTED_WHEN, f"{action}: unknown 'granted' value {when!r}"
        grants[action] = when
    return grants


def _granted_actions(stack: cfn.Stack) -> set[str]:
    """The actions the deployed stack's policies allow the enforcer's role (inline and attached role policies)."""
    created = stack.resources()
    documents = [policy["PolicyDocument"] for policy in created[ROLE]["Properties"].get("Policies", [])]
    documents += [
        resource["Properties"]["PolicyDocument"]
        for resource in created.values()
        if resource["Type"] == "AWS::IAM::RolePolicy" and resource["Properties"]["RoleName"] == f"<{ROLE}>"
    ]
    actions: set[str] = set()
    for document in documents:
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        for statement in statements:
            if statement["Effect"] == "Allow":
                action = statement["Action"]
                actions |= set(action if isinstance(action, list) else [action])
    return actions


@pytest.mark.parametrize("profile", PROFILES)
def test_the_permission_list_is_what_the_template_grants(profile: str) -> None:
    # Given the template deployed with the profile's parameters
    stack = cfn.Stack(cfn.load(), PROFILES[profile])
    assert stack.violated_rules() == []
    # When the documented grants are read for the conditions of that deployment
    documented = {
        action
        for action, when in _documented_grants().items()
        if GRANTED_WHEN[when] is None or stack.condition(str(GRANTED_WHEN[when]))
    }
    # Then they are exactly the actions the role is granted
    granted = _granted_actions(stack)
    assert documented == granted, {"undocumented": granted - documented, "not granted": documented - granted}


def test_every_documented_grant_is_granted_in_some_profile() -> None:
    granted = set().union(*(_granted_actions(cfn.Stack(cfn.load(), overrides)) for overrides in PROFILES.values()))
    assert set(_documented_grants()) == granted


def _example_scp() -> dict[str, Any]:
    block = re.search(r"```json\n(.*?)```", _section("Who can switch the enforcer off, or misuse it"), re.DOTALL)
    assert block, "docs/security.md has no example SCP"
    document: dict[str, Any] = json.loads(block.group(1))
    return document


def test_the_example_scp_guards_the_role_name_as_the_guardrail_does() -> None:
    statements = {statement["Sid"]: statement for statement in _example_scp()["Statement"]}
    regions = ["eu-west-1", "us-east-1"]
    deployers = ["arn:aws:iam::*:role/connect-lockdown-deployer", "arn:aws:iam::*:role/stacksets-exec-*"]
    name = cfn.load()["Parameters"]["EnforcerRoleName"]["Default"]
    role_paths = [f"/{name}-{region}" for region in regions]
    expected = scp.role_statement(scp.enforcer_role_arns("aws", role_paths), scp.deployer_arns("aws", deployers, []))
    assert statements[scp.ROLE_SID] == expected


def test_the_example_scp_keeps_everyone_but_the_stack_from_the_index_and_the_function() -> None:
    statements = {statement["Sid"]: statement for statement in _example_scp()["Statement"]}
    table = cfn.load()["Resources"]["InventoryTable"]["Properties"]["ResourcePolicy"]["PolicyDocument"]
    [item_writes] = [s["Action"] for s in table["Statement"] if s["Sid"] == "OnlyTheEnforcerWritesItems"]
    assert set(statements["OnlyTheEnforcerWritesTheIndex"]["Action"]) == set(item_writes)
    assert statements["OnlyTheStackInvokesTheEnforcer"]["Action"] == "lambda:InvokeFunction"
    for sid in ("OnlyTheEnforcerWritesTheIndex", "OnlyTheStackInvokesTheEnforcer"):
        exempt = statements[sid]["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        assert "arn:aws:iam::*:role/connect-lockdown-enforcer-eu-west-1" in exempt
        assert "arn:aws:iam::*:role/connect-lockdown-deployer" in exempt
    assert len(json.dumps(_example_scp(), separators=(",", ":"))) <= scp.SCP_MAX_CHARACTERS


def test_the_actions_kept_inside_the_function_are_the_templates() -> None:
    """The blast-radius paragraph names what the OnlyInsideTheEnforcerFunction policy denies outside the function."""
    listed = re.search(
        r"every action the code calls \((.*?)\)\s+unless\s+`lambda:SourceFunctionArn`", SECURITY, re.DOTALL
    )
    assert listed, "docs/security.md does not list what the role may do only inside its function"
    named = set(re.findall(r"`([a-z0-9-]+:[A-Za-z*]+)`", listed.group(1)))
    policy = cfn.load()["Resources"]["EnforcerOnlyInItsFunctionPolicy"]["Properties"]["PolicyDocument"]
    [deny] = policy["Statement"]
    denied = set(deny["Action"])
    # "connect:* reads" stands for the three Connect reads.
    connect_reads = {action for action in denied if action.startswith("connect:")}
    assert named - {"connect:*"} | connect_reads == denied
