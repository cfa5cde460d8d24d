"""docs/interface.md, the project's interface document, against what the code and the template do."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cfnlint.decode import cfn_yaml

from connect_lockdown import cli

ROOT = Path(__file__).resolve().parents[2]
INTERFACE = (ROOT / "docs" / "interface.md").read_text(encoding="utf-8")
SCHEMA = json.loads((ROOT / "schemas" / "notification.json").read_text(encoding="utf-8"))
# The template's wiring between its resources and the function, which are not settings for users.
WIRING = {"RECHECK_SCHEDULE_GROUP", "RECHECK_ROLE_ARN"}


def section(title: str) -> str:
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", INTERFACE, flags=re.MULTILINE | re.DOTALL)
    assert match, f"docs/interface.md has no section {title!r}"
    return match.group(1)


def test_every_exit_code_of_the_command_line_is_documented() -> None:
    codes = re.findall(r"^\s+(\d)\s+\S", cli.EXIT_CODES_HELP, flags=re.MULTILINE)
    assert codes, "EXIT_CODES_HELP lists no code"
    table = section("Exit codes")
    for code in codes:
        assert re.search(rf"^\| {code} \|", table, flags=re.MULTILINE), f"exit code {code} is not documented"


def test_every_variable_the_template_gives_the_function_is_documented() -> None:
    template = cfn_yaml.load(str(ROOT / "template.yaml"))
    variables: set[str] = set(template["Globals"]["Function"].get("Environment", {}).get("Variables", {}))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            variables |= set(resource["Properties"].get("Environment", {}).get("Variables", {}))
    documented = set(
        re.findall(
            r"^\| `([A-Z_]+)` \|", section("Configuration: the function's environment variables"), flags=re.MULTILINE
        )
    )
    powertools = {v for v in variables if v.startswith("POWERTOOLS_")}
    assert variables - powertools - WIRING <= documented


@pytest.mark.parametrize("variable", ["EXEMPT_AWS_SERVICES", "INVENTORY_TABLE", "SECURITY_HUB"])
def test_the_variables_new_in_this_release_are_documented(variable: str) -> None:
    assert re.search(rf"^\| `{variable}` \|", INTERFACE, flags=re.MULTILINE)


def test_every_outcome_is_in_the_outcome_table() -> None:
    table = section("The result document")
    for outcome in ("compliant", "remediated", "would_remediate", "refused", "pending", "failed"):
        assert re.search(rf"^\| `{outcome}` \|", table, flags=re.MULTILINE), outcome


def test_the_message_attributes_are_documented() -> None:
    table = section("The SNS notification")
    for attribute in ("outcome", "bucket", "account", "region"):
        assert re.search(rf"^\| `{attribute}` \|", table, flags=re.MULTILINE), attribute


# --- schemas/notification.json: the `default` body ------------------------------------------------------


def message(**result: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account": "123456789012",
        "region": "us-east-1",
        "trigger": None,
        "result": {
            "bucket": "amazon-connect-25fd0a3be3ef",
            "outcome": "failed",
            "instances": [],
            "reason": "ListInstances: AccessDenied",
            "previous_policy": None,
            "applied_policy": None,
            "exposures": [],
        },
    }
    body["result"].update(result)
    return body


def errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(copy.deepcopy(document))]


def test_the_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_a_failed_result_without_a_bucket_is_a_valid_message() -> None:
    assert errors(message(bucket=None)) == []


@pytest.mark.parametrize("outcome", ["remediated", "would_remediate", "refused"])
def test_only_a_failed_result_may_lack_its_bucket(outcome: str) -> None:
    applied = {"Version": "2012-10-17", "Statement": []} if outcome != "refused" else None
    assert errors(message(outcome=outcome, applied_policy=applied)) == []
    assert errors(message(outcome=outcome, applied_policy=applied, bucket=None)) != []
