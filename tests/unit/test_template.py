"""What the SAM template must guarantee: runtime and layer wiring, configuration, least privilege, triggers.

The template is read with cfn-lint's own decoder, which understands the short-form tags (!Ref, !Sub, !GetAtt)
and returns them as their long forms ({"Ref": ...}, {"Fn::Sub": ...}, {"Fn::GetAtt": [...]}).
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
EVENTS_DIR = ROOT / "events"

FUNCTION = "EnforcerFunction"
LAYER = "LockdownLayer"
TOPIC = "NotificationTopic"

EXPECTED_ACTIONS = {
    "connect:ListInstances",
    "connect:DescribeInstance",
    "connect:ListInstanceStorageConfigs",
    # Dependent action of ListInstances and DescribeInstance in the Service Authorization Reference.
    "ds:DescribeDirectories",
    "iam:GetRole",
    "iam:GetUser",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "sns:Publish",
}
# Actions that support no resource-level permissions, so they are the only ones allowed on "*".
UNSCOPED_ACTIONS = {"connect:ListInstances", "ds:DescribeDirectories"}

S3_EVENT_NAMES = {"PutBucketPolicy", "DeleteBucketPolicy"}
CONNECT_EVENT_NAMES = {
    "CreateInstance",
    "AssociateInstanceStorageConfig",
    "UpdateInstanceStorageConfig",
    "DisassociateInstanceStorageConfig",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE_PATH))


@pytest.fixture(scope="module")
def function(template: dict[str, Any]) -> dict[str, Any]:
    resource = template["Resources"][FUNCTION]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource["Properties"]


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in function["Policies"]:
        assert isinstance(policy, dict) and "Statement" in policy, (
            "only inline policy documents: a managed policy or SAM policy template would hide its actions"
        )
        body = policy["Statement"]
        statements.extend(body if isinstance(body, list) else [body])
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _rule_events(function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: event["Properties"]["Pattern"]
        for name, event in function["Events"].items()
        if event["Type"] in ("EventBridgeRule", "CloudWatchEvent")
    }


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _allowed(template: dict[str, Any], name: str, value: str) -> bool:
    """Would CloudFormation accept this value for the parameter? (AllowedPattern is a Java regex, whole string.)"""
    parameter = template["Parameters"][name]
    if "AllowedValues" in parameter:
        return value in [str(v) for v in parameter["AllowedValues"]]
    if "AllowedPattern" in parameter:
        return re.fullmatch(parameter["AllowedPattern"], value, flags=re.ASCII) is not None
    return True


# --- the whole template -------------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(TEMPLATE_PATH)
    assert [str(match) for match in matches] == []


def test_is_a_sam_template(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"


def test_resources_hard_code_no_account_region_or_partition(template: dict[str, Any]) -> None:
    for text in _strings(template["Resources"]):
        assert not re.search(r"\b\d{12}\b", text), f"hard-coded account id in {text!r}"
        assert not re.search(r"\b(us|eu|ap|ca|sa|me|af|il|mx|cn)-[a-z]+-\d\b", text), f"hard-coded Region in {text!r}"
        assert not re.match(r"arn:aws(-cn|-us-gov)?:", text), f"hard-coded partition in {text!r}"


# --- function and layer ---------------------------------------------------------------------------------


def test_function_runs_python313_on_arm64_with_the_layer(function: dict[str, Any]) -> None:
    assert function["Runtime"] == "python3.13"
    assert function["Architectures"] == ["arm64"]
    assert function["Layers"] == [{"Ref": LAYER}]
    assert function["Handler"] == "app.lambda_handler"
    assert function["CodeUri"].rstrip("/") == "functions/enforcer"


def test_layer_is_built_for_python313_arm64(template: dict[str, Any]) -> None:
    layer = template["Resources"][LAYER]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    properties = layer["Properties"]
    assert properties["ContentUri"].rstrip("/") == "layers/lockdown"
    assert properties["CompatibleRuntimes"] == ["python3.13"]
    assert properties["CompatibleArchitectures"] == ["arm64"]
    assert properties["RetentionPolicy"] == "Delete"


def test_layer_content_dir_has_the_requirements_sam_build_installs() -> None:
    requirements = (ROOT / "layers" / "lockdown" / "requirements.txt").read_text()
    assert re.search(r"^aws-lambda-powertools\b", requirements, flags=re.MULTILINE)


def test_function_requirements_bundle_nothing() -> None:
    lines = (ROOT / "functions" / "enforcer" / "requirements.txt").read_text().splitlines()
    assert [line for line in lines if line.strip() and not line.lstrip().startswith("#")] == []


def test_globals_give_time_memory_and_powertools_settings(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["Timeout"] >= 60
    assert globals_["MemorySize"] == 256
    assert globals_["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "connect-lockdown",
        "POWERTOOLS_METRICS_NAMESPACE": "ConnectBucketLockdown",
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
    }


def test_environment_has_exactly_the_five_settings_wired_to_topic_and_parameters(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    assert function["Environment"]["Variables"] == {
        "NOTIFICATION_TOPIC_ARN": {"Ref": TOPIC},
        "ADMIN_ROLE_ARNS": {"Ref": "AdminRoleArns"},
        "EXTRA_PRINCIPAL_ARNS": {"Ref": "ExtraPrincipalArns"},
        "DRY_RUN": {"Ref": "DryRun"},
        "MERGE_MODE": {"Ref": "MergeMode"},
    }
    assert template["Resources"][TOPIC]["Type"] == "AWS::SNS::Topic"


def test_parameter_defaults_are_safe_and_constrained(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert parameters["DryRun"]["Default"] == "false"
    assert sorted(parameters["DryRun"]["AllowedValues"]) == ["false", "true"]
    assert parameters["MergeMode"]["Default"] == "preserve"
    assert sorted(parameters["MergeMode"]["AllowedValues"]) == ["preserve", "replace"]
    assert parameters["AdminRoleArns"]["Default"] == ""
    assert parameters["ExtraPrincipalArns"]["Default"] == ""
    assert parameters["SweepSchedule"]["Default"] == "rate(1 hour)"
    assert int(parameters["LogRetentionInDays"]["Default"]) == 90
    for name, parameter in parameters.items():
        assert "AllowedPattern" in parameter or "AllowedValues" in parameter, f"{name} is unconstrained"
        assert len(parameter.get("Description", "")) >= 30, f"{name} needs a description a newcomer understands"
        assert _allowed(template, name, str(parameter["Default"])), f"{name}'s default fails its own constraint"


ROLE = "arn:aws:iam::123456789012:role/SecurityAdmin"
ROLE_WITH_PATH = "arn:aws-us-gov:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"
ROLE_CN = "arn:aws-cn:iam::123456789012:role/Break.Glass+Ops@team=1"
USER = "arn:aws:iam::123456789012:user/auditor"


@pytest.mark.parametrize(
    ("value", "admin_ok", "extra_ok"),
    [
        ("", True, True),
        (ROLE, True, True),
        (f"{ROLE},{ROLE_WITH_PATH},{ROLE_CN}", True, True),
        (USER, False, True),
        (f"{ROLE},{USER}", False, True),
        (f"{ROLE}, {ROLE_CN}", False, False),  # no spaces
        (f"{ROLE},", False, False),
        (",", False, False),
        ("arn:aws:iam::123456789012:group/admins", False, False),
        ("arn:aws:sts::123456789012:assumed-role/SecurityAdmin/jane", False, False),
        ("arn:aws-iso:iam::123456789012:role/SecurityAdmin", False, False),
        ("arn:aws:iam::12345678901:role/SecurityAdmin", False, False),
        ("SecurityAdmin", False, False),
    ],
)
def test_arn_list_patterns(template: dict[str, Any], value: str, admin_ok: bool, extra_ok: bool) -> None:
    assert _allowed(template, "AdminRoleArns", value) is admin_ok
    assert _allowed(template, "ExtraPrincipalArns", value) is extra_ok


@pytest.mark.parametrize(
    "value",
    [
        "",
        ROLE,
        f"{ROLE},{ROLE_WITH_PATH},{ROLE_CN}",
        f"{ROLE},{USER}",
    ],
)
def test_what_cloudformation_accepts_the_function_accepts_at_start_up(template: dict[str, Any], value: str) -> None:
    """A value that passes the parameter constraint must not stop the function at start-up."""
    from connect_lockdown.config import Settings

    topic = "arn:aws:sns:us-east-1:123456789012:lockdown"
    if _allowed(template, "AdminRoleArns", value):
        settings = Settings.from_env({"NOTIFICATION_TOPIC_ARN": topic, "ADMIN_ROLE_ARNS": value})
        assert len(settings.admin_role_arns) == len([arn for arn in value.split(",") if arn])
    if _allowed(template, "ExtraPrincipalArns", value):
        settings = Settings.from_env({"NOTIFICATION_TOPIC_ARN": topic, "EXTRA_PRINCIPAL_ARNS": value})
        assert len(settings.extra_principal_arns) == len([arn for arn in value.split(",") if arn])


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("rate(1 hour)", True),
        ("rate(15 minutes)", True),
        ("rate(1 day)", True),
        ("cron(0 * * * ? *)", True),
        ("cron(0/30 8-18 ? * MON-FRI *)", True),
        ("rate(1 hours)", False),
        ("rate(2 hour)", False),
        ("rate(0 minutes)", False),
        ("rate(1 week)", False),
        ("cron(0 * * * ?)", False),
        ("1 hour", False),
        ("", False),
    ],
)
def test_sweep_schedule_pattern(template: dict[str, Any], value: str, ok: bool) -> None:
    assert _allowed(template, "SweepSchedule", value) is ok


# --- logging and notifications -------------------------------------------------------------------------


def test_function_logs_to_an_explicit_log_group_with_retention(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    target = function["LoggingConfig"]["LogGroup"]
    assert isinstance(target, dict) and set(target) == {"Ref"}
    log_group = template["Resources"][target["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    name = log_group["Properties"]["LogGroupName"]["Fn::Sub"]
    # Named after the stack, not the function: a name derived from the function would be a circular dependency.
    assert name.startswith("/aws/lambda/${AWS::StackName}")
    assert FUNCTION not in name


def test_topic_is_encrypted_with_the_aws_managed_sns_key(template: dict[str, Any]) -> None:
    assert template["Resources"][TOPIC]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


# --- least privilege -------------------------------------------------------------------------------------


def test_policy_grants_exactly_the_actions_the_code_calls(function: dict[str, Any]) -> None:
    actions = {action for statement in _statements(function) for action in _as_list(statement["Action"])}
    assert actions == EXPECTED_ACTIONS


def test_no_statement_uses_a_wildcard_action_or_negation(function: dict[str, Any]) -> None:
    for statement in _statements(function):
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement


def test_only_actions_without_resource_level_permissions_get_resource_star(function: dict[str, Any]) -> None:
    for statement in _statements(function):
        if "*" in _as_list(statement["Resource"]):
            assert set(_as_list(statement["Action"])) <= UNSCOPED_ACTIONS, statement


def _resources_for(function: dict[str, Any], action: str) -> list[Any]:
    return [
        resource
        for statement in _statements(function)
        if action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    ]


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("connect:DescribeInstance", "arn:${AWS::Partition}:connect:${AWS::Region}:${AWS::AccountId}:instance/*"),
        (
            "connect:ListInstanceStorageConfigs",
            "arn:${AWS::Partition}:connect:${AWS::Region}:${AWS::AccountId}:instance/*",
        ),
        ("iam:GetRole", "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"),
        ("iam:GetUser", "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/*"),
        ("s3:GetBucketPolicy", "arn:${AWS::Partition}:s3:::*"),
        ("s3:PutBucketPolicy", "arn:${AWS::Partition}:s3:::*"),
    ],
)
def test_scoped_actions_use_their_resource_arns(function: dict[str, Any], action: str, resource: str) -> None:
    assert _resources_for(function, action) == [{"Fn::Sub": resource}]


def test_publish_is_limited_to_the_notification_topic(function: dict[str, Any]) -> None:
    assert _resources_for(function, "sns:Publish") == [{"Ref": TOPIC}]


# --- triggers --------------------------------------------------------------------------------------------


def test_event_rules_cover_exactly_the_six_calls_and_drop_failed_ones(function: dict[str, Any]) -> None:
    patterns = _rule_events(function)
    by_source: dict[str, set[str]] = {}
    for pattern in patterns.values():
        assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
        assert pattern["detail"]["errorCode"] == [{"exists": False}]
        for source in pattern["source"]:
            by_source.setdefault(source, set()).update(pattern["detail"]["eventName"])
        expected_source = {"aws.s3": "s3.amazonaws.com", "aws.connect": "connect.amazonaws.com"}[pattern["source"][0]]
        assert pattern["detail"]["eventSource"] == [expected_source]
    assert by_source == {"aws.s3": S3_EVENT_NAMES, "aws.connect": CONNECT_EVENT_NAMES}


def test_a_schedule_triggers_the_sweep(function: dict[str, Any]) -> None:
    schedules = [event for event in function["Events"].values() if event["Type"] == "Schedule"]
    assert len(schedules) == 1
    properties = schedules[0]["Properties"]
    assert properties["Schedule"] == {"Ref": "SweepSchedule"}
    # No custom Input: the function recognises the standard "Scheduled Event" envelope as "sweep everything".
    assert "Input" not in properties


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge matching for the subset the template uses: exact values, nested objects, {"exists": false}."""
    for key, expected in pattern.items():
        if isinstance(expected, dict):
            if not isinstance(event.get(key), dict) or not _matches(expected, event[key]):
                return False
            continue
        if {"exists": False} in expected:
            if key in event:
                return False
            continue
        values = event.get(key)
        values = values if isinstance(values, list) else [values]
        if not any(value in expected for value in values if key in event):
            return False
    return True


@pytest.mark.parametrize(
    ("fixture", "delivered"),
    [
        ("s3-PutBucketPolicy.json", True),
        ("s3-DeleteBucketPolicy.json", True),
        # The enforcer's own write is delivered; the function recognises and ignores it (no rule filter can,
        # without also dropping callers that have no session issuer, such as IAM users).
        ("s3-PutBucketPolicy-by-enforcer.json", True),
        ("s3-PutBucketPolicy-empty-bucket.json", True),
        ("s3-PutBucketPolicy-AccessDenied.json", False),
        ("s3-PutBucketAcl.json", False),
        ("connect-CreateInstance.json", True),
        ("connect-CreateInstance-redacted.json", True),
        ("connect-AssociateInstanceStorageConfig.json", True),
        ("connect-AssociateInstanceStorageConfig-arn.json", True),
        ("connect-UpdateInstanceStorageConfig.json", True),
        ("connect-DisassociateInstanceStorageConfig.json", True),
        ("connect-AssociateInstanceStorageConfig-failed.json", False),
        ("connect-DeleteInstance.json", False),
        ("scheduled-event.json", False),
    ],
)
def test_rules_deliver_the_right_sample_events(function: dict[str, Any], fixture: str, delivered: bool) -> None:
    event = json.loads((EVENTS_DIR / fixture).read_text())
    assert any(_matches(pattern, event) for pattern in _rule_events(function).values()) is delivered


# --- outputs and deployment configuration ---------------------------------------------------------------


def test_outputs_name_what_operators_need(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["EnforcerFunctionArn"]["Value"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert outputs["EnforcerRoleArn"]["Value"] == {"Fn::GetAtt": [f"{FUNCTION}Role", "Arn"]}
    assert outputs["NotificationTopicArn"]["Value"] == {"Ref": TOPIC}
    assert outputs["LayerArn"]["Value"] == {"Ref": LAYER}
    rule_refs = {output["Value"].get("Ref") for name, output in outputs.items() if name.endswith("RuleName")}
    # SAM names each generated rule <FunctionLogicalId><EventName>.
    assert rule_refs == {f"{FUNCTION}{event}" for event in _function_events(template)}


def _function_events(template: dict[str, Any]) -> list[str]:
    return list(template["Resources"][FUNCTION]["Properties"]["Events"])


def _overrides(section: dict[str, Any]) -> dict[str, str]:
    raw = section["parameter_overrides"]
    pairs = [item for entry in _as_list(raw) for item in shlex.split(entry)]
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.mark.parametrize(("environment", "command"), [("default", "deploy"), ("default", "sync"), ("prod", "deploy")])
def test_samconfig_overrides_satisfy_the_template(template: dict[str, Any], environment: str, command: str) -> None:
    config = tomllib.loads(SAMCONFIG_PATH.read_text())
    section = config[environment][command]["parameters"]
    overrides = _overrides(section)
    assert overrides, "no parameter_overrides"
    for name, value in overrides.items():
        assert name in template["Parameters"], f"{name} is not a template parameter"
        assert _allowed(template, name, value), f"{environment}.{command}: {name}={value!r} violates the template"
    assert "CAPABILITY_IAM" in section["capabilities"]


def test_samconfig_deploys_with_change_set_review_and_managed_artifact_bucket() -> None:
    config = tomllib.loads(SAMCONFIG_PATH.read_text())
    assert config["version"] == 0.1
    for environment in ("default", "prod"):
        deploy = config[environment]["deploy"]["parameters"]
        assert deploy["resolve_s3"] is True
        assert deploy["confirm_changeset"] is True
        assert deploy["stack_name"]
        build = config[environment]["build"]["parameters"]
        assert build["cached"] is True and build["parallel"] is True
    assert _overrides(config["prod"]["deploy"]["parameters"])["DryRun"] == "false"
