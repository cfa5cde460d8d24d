"""What the SAM template must guarantee: runtime and layer wiring, configuration, least privilege, encryption,
triggers, failure handling, alarms, the optional trail and alert channels, and the deployment hook.

The template is read with cfn-lint's own decoder, which understands the short-form tags (!Ref, !Sub, !GetAtt)
and returns them as their long forms ({"Ref": ...}, {"Fn::Sub": ...}, {"Fn::GetAtt": [...]}).

Which events the rules deliver is proven on moto's EventBridge in tests/integration/test_routing.py, and that
the role grants exactly what the code calls in tests/integration/test_permissions.py.
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
ORGANIZATIONS_DOC = ROOT / "docs" / "organizations.md"

FUNCTION = "EnforcerFunction"
ROLE = "EnforcerFunctionRole"
LAYER = "LockdownLayer"
TOPIC = "NotificationTopic"
KEY = "EncryptionKey"
DLQ = "DeadLetterQueue"
TOPIC_ARN = {"Fn::If": ["UseExistingTopic", {"Ref": "ExistingTopicArn"}, {"Ref": TOPIC}]}

EXPECTED_ACTIONS = {
    # The Lambda runtime writes the function's logs.
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "connect:ListInstances",
    "connect:DescribeInstance",
    "connect:ListInstanceStorageConfigs",
    # Dependent action of ListInstances and DescribeInstance in the Service Authorization Reference.
    "ds:DescribeDirectories",
    "iam:GetRole",
    "iam:GetUser",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    # The sweep's report of locked buckets that no instance uses any more.
    "s3:ListAllMyBuckets",
    "sns:Publish",
    # SNS and SQS use the customer managed key on the function's behalf.
    "kms:Decrypt",
    "kms:GenerateDataKey",
    # Lambda's on-failure destination sends with the function's role.
    "sqs:SendMessage",
    # The pending instance's re-check (issue 7).
    "scheduler:CreateSchedule",
    "iam:PassRole",
}
# Actions that support no resource-level permissions, so they are the only ones allowed on "*".
UNSCOPED_ACTIONS = {"connect:ListInstances", "ds:DescribeDirectories", "s3:ListAllMyBuckets"}
FUNCTION_ENVIRONMENT = {
    "NOTIFICATION_TOPIC_ARN",
    "ADMIN_ROLE_ARNS",
    "EXTRA_PRINCIPAL_ARNS",
    "DRY_RUN",
    "MERGE_MODE",
    "RECHECK_SCHEDULE_GROUP",
    "RECHECK_ROLE_ARN",
}

S3_EVENT_NAMES = {"PutBucketPolicy", "DeleteBucketPolicy"}
CONNECT_EVENT_NAMES = {
    "CreateInstance",
    "AssociateInstanceStorageConfig",
    "UpdateInstanceStorageConfig",
    "DisassociateInstanceStorageConfig",
}
OWN_ROLE_EXCLUSION = [
    {
        "userIdentity": {
            "sessionContext": {"sessionIssuer": {"arn": [{"anything-but": [{"Fn::GetAtt": [ROLE, "Arn"]}]}]}}
        }
    },
    {"userIdentity": {"sessionContext": {"sessionIssuer": {"arn": [{"exists": False}]}}}},
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE_PATH))


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="module")
def function(resources: dict[str, Any]) -> dict[str, Any]:
    resource = resources[FUNCTION]
    assert resource["Type"] == "AWS::Serverless::Function"
    return resource["Properties"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in resources[role]["Properties"].get("Policies", []):
        statements.extend(_as_list(policy["PolicyDocument"]["Statement"]))
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::RolePolicy" and resource["Properties"]["RoleName"] == {"Ref": role}:
            statements.extend(_as_list(resource["Properties"]["PolicyDocument"]["Statement"]))
    return statements


@pytest.fixture(scope="module")
def statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return _role_statements(resources, ROLE)


def _policy_documents(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy document in the template: role policies, trust policies, key, topic, queue and bucket."""
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        for key in ("AssumeRolePolicyDocument", "KeyPolicy", "PolicyDocument"):
            if key in properties:
                yield name, properties[key]
        for policy in properties.get("Policies", []):
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                yield name, policy["PolicyDocument"]


def _rule_events(function: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: event["Properties"]
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
    values = value.split(",") if parameter["Type"] == "CommaDelimitedList" else [value]
    for item in values:
        if "AllowedValues" in parameter and item not in [str(v) for v in parameter["AllowedValues"]]:
            return False
        if "AllowedPattern" in parameter and not re.fullmatch(parameter["AllowedPattern"], item, flags=re.ASCII):
            return False
    return True


# --- the whole template -------------------------------------------------------------------------------------


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(TEMPLATE_PATH)
    assert [str(match) for match in matches] == []


def test_is_a_sam_template(template: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"


def test_resources_hard_code_no_account_region_or_partition(resources: dict[str, Any]) -> None:
    for text in _strings(resources):
        assert not re.search(r"\b\d{12}\b", text), f"hard-coded account id in {text!r}"
        assert not re.search(r"\b(us|eu|ap|ca|sa|me|af|il|mx|cn)-[a-z]+-\d\b", text), f"hard-coded Region in {text!r}"
        assert not re.match(r"arn:aws(-cn|-us-gov)?:", text), f"hard-coded partition in {text!r}"


def test_no_policy_anywhere_allows_a_wildcard_action(resources: dict[str, Any]) -> None:
    """Least privilege: every Allow names its actions. Only Deny statements (TLS-only) may say "s3:*"."""
    seen = 0
    for name, document in _policy_documents(resources):
        for statement in _as_list(document["Statement"]):
            if not isinstance(statement, dict) or "Fn::If" in statement:
                continue
            assert "NotAction" not in statement and "NotPrincipal" not in statement, (name, statement)
            if statement["Effect"] == "Allow":
                seen += 1
                for action in _as_list(statement["Action"]):
                    assert "*" not in action, (name, statement)
                assert statement.get("Principal") not in ("*", {"AWS": "*"}), (name, statement)
    assert seen > 20


def test_every_log_group_is_encrypted_and_expires(resources: dict[str, Any]) -> None:
    log_groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(log_groups) == 2
    for properties in log_groups:
        assert properties["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
        assert properties["KmsKeyId"] == {"Fn::GetAtt": [KEY, "Arn"]}
        assert properties["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/${AWS::StackName}-")


# --- function and layer ---------------------------------------------------------------------------------


def test_function_runs_python313_on_arm64_with_the_layer(template: dict[str, Any], function: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert function.get("Runtime", globals_["Runtime"]) == "python3.13"
    assert function.get("Architectures", globals_["Architectures"]) == ["arm64"]
    assert function["Layers"] == [{"Ref": LAYER}]
    assert function["Handler"] == "app.lambda_handler"
    assert function["CodeUri"].rstrip("/") == "functions/enforcer"
    assert function["Role"] == {"Fn::GetAtt": [ROLE, "Arn"]}
    assert "Policies" not in function, "the role is written out; SAM would ignore Policies next to Role"


def test_layer_is_built_for_python313_arm64(resources: dict[str, Any]) -> None:
    layer = resources[LAYER]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    # layers/lockdown/Makefile: pinned SDK and bytecode (tests/unit/test_layer_build.py).
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
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


def test_globals_give_runtime_time_memory_and_powertools_settings(template: dict[str, Any]) -> None:
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Timeout"] >= 60
    assert globals_["MemorySize"] == 256
    assert globals_["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "connect-lockdown",
        "POWERTOOLS_METRICS_NAMESPACE": "ConnectBucketLockdown",
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
    }


def test_environment_has_exactly_the_contract_settings_and_the_recheck_wiring(function: dict[str, Any]) -> None:
    assert function["Environment"]["Variables"] == {
        "NOTIFICATION_TOPIC_ARN": TOPIC_ARN,
        "ADMIN_ROLE_ARNS": {"Ref": "AdminRoleArns"},
        "EXTRA_PRINCIPAL_ARNS": {"Ref": "ExtraPrincipalArns"},
        "DRY_RUN": {"Ref": "DryRun"},
        "MERGE_MODE": {"Ref": "MergeMode"},
        "RECHECK_SCHEDULE_GROUP": {"Ref": "RecheckScheduleGroup"},
        "RECHECK_ROLE_ARN": {"Fn::GetAtt": ["RecheckSchedulerRole", "Arn"]},
    }
    assert set(function["Environment"]["Variables"]) == FUNCTION_ENVIRONMENT


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
    assert parameters["ExistingTopicArn"]["Default"] == ""
    assert parameters["NotificationEmail"]["Default"] == ""
    assert parameters["CreateTrail"]["Default"] == "false"
    assert sorted(parameters["CreateTrail"]["AllowedValues"]) == ["false", "true"]
    assert parameters["NotifyOutcomes"]["Type"] == "CommaDelimitedList"
    assert parameters["NotifyOutcomes"]["Default"] == "remediated,refused,would_remediate"
    assert sorted(parameters["NotifyOutcomes"]["AllowedValues"]) == [
        "failed",
        "refused",
        "remediated",
        "would_remediate",
    ]
    for name, parameter in parameters.items():
        assert "AllowedPattern" in parameter or "AllowedValues" in parameter, f"{name} is unconstrained"
        assert len(parameter.get("Description", "")) >= 30, f"{name} needs a description a newcomer understands"
        assert _allowed(template, name, str(parameter["Default"])), f"{name}'s default fails its own constraint"


def test_every_parameter_is_in_a_console_group(template: dict[str, Any]) -> None:
    groups = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [name for group in groups for name in group["Parameters"]]
    assert sorted(grouped) == sorted(template["Parameters"])


ROLE_ARN = "arn:aws:iam::123456789012:role/SecurityAdmin"
ROLE_WITH_PATH = "arn:aws-us-gov:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"
ROLE_CN = "arn:aws-cn:iam::123456789012:role/Break.Glass+Ops@team=1"
USER = "arn:aws:iam::123456789012:user/auditor"


@pytest.mark.parametrize(
    ("value", "admin_ok", "extra_ok"),
    [
        ("", True, True),
        (ROLE_ARN, True, True),
        (f"{ROLE_ARN},{ROLE_WITH_PATH},{ROLE_CN}", True, True),
        (USER, False, True),
        (f"{ROLE_ARN},{USER}", False, True),
        (f"{ROLE_ARN}, {ROLE_CN}", False, False),  # no spaces
        (f"{ROLE_ARN},", False, False),
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
        ROLE_ARN,
        f"{ROLE_ARN},{ROLE_WITH_PATH},{ROLE_CN}",
        f"{ROLE_ARN},{USER}",
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


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("ExistingTopicArn", "", True),
        ("ExistingTopicArn", "arn:aws:sns:eu-west-1:111122223333:connect-lockdown-alerts", True),
        ("ExistingTopicArn", "arn:aws-us-gov:sns:us-gov-west-1:111122223333:alerts_1", True),
        ("ExistingTopicArn", "arn:aws:sns:eu-west-1:111122223333:alerts.fifo", False),
        ("ExistingTopicArn", "arn:aws:sqs:eu-west-1:111122223333:alerts", False),
        ("ExistingTopicArn", "connect-lockdown-alerts", False),
        ("ExistingTopicKmsKeyArn", "", True),
        ("ExistingTopicKmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("ExistingTopicKmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", True),
        ("ExistingTopicKmsKeyArn", "arn:aws:kms:eu-west-1:111122223333:alias/alerts", False),
        ("NotificationEmail", "", True),
        ("NotificationEmail", "security+alerts@example.com", True),
        ("NotificationEmail", "security@example", False),
        ("NotificationEmail", "a@example.com,b@example.com", False),
        ("NotifyOutcomes", "remediated", True),
        ("NotifyOutcomes", "remediated,would_remediate,refused,failed", True),
        ("NotifyOutcomes", "compliant", False),
        ("NotifyOutcomes", "remediated,pending", False),
        ("SlackWorkspaceId", "T0123ABCD", True),
        ("SlackWorkspaceId", "t0123abcd", False),
        ("SlackChannelId", "C0123ABCD", True),
        ("SlackChannelId", "#security", False),
        ("CreateTrail", "true", True),
        ("CreateTrail", "yes", False),
    ],
)
def test_alert_and_trail_parameter_constraints(template: dict[str, Any], name: str, value: str, ok: bool) -> None:
    assert _allowed(template, name, value) is ok


def test_rules_reject_subscriptions_on_a_central_topic_and_half_a_slack_setup(template: dict[str, Any]) -> None:
    rules = template["Rules"]
    central = rules["SubscriptionsOnlyOnThisStacksTopic"]
    assert central["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExistingTopicArn"}, ""]}]}
    assert {"NotificationEmail", "SlackWorkspaceId", "SlackChannelId"} <= set(_strings(central["Assertions"]))
    assert "SlackNeedsWorkspaceAndChannel" in rules
    assert "TopicKeyOnlyWithExistingTopic" in rules


# --- logging, encryption and notifications ---------------------------------------------------------------


def test_function_logs_to_an_explicit_log_group_with_retention(
    resources: dict[str, Any], function: dict[str, Any]
) -> None:
    target = function["LoggingConfig"]["LogGroup"]
    assert isinstance(target, dict) and set(target) == {"Ref"}
    log_group = resources[target["Ref"]]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    name = log_group["Properties"]["LogGroupName"]["Fn::Sub"]
    # Named after the stack, not the function: a name derived from the function would be a circular dependency.
    assert name.startswith("/aws/lambda/${AWS::StackName}")
    assert FUNCTION not in name


def test_topic_and_queue_are_encrypted_with_the_stacks_key(resources: dict[str, Any]) -> None:
    assert resources[KEY]["Type"] == "AWS::KMS::Key"
    assert resources[KEY]["Properties"]["EnableKeyRotation"] is True
    assert resources[TOPIC]["Properties"]["KmsMasterKeyId"] == {"Ref": KEY}
    assert resources[TOPIC]["Condition"] == "CreateTopic"
    assert resources[DLQ]["Properties"]["KmsMasterKeyId"] == {"Ref": KEY}


def _key_statement(resources: dict[str, Any], key: str, principal: dict[str, Any]) -> dict[str, Any]:
    [statement] = [s for s in resources[key]["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == principal]
    return statement


def test_key_policy_lets_eventbridge_cloudwatch_alarms_logs_and_the_account_use_the_key(
    resources: dict[str, Any],
) -> None:
    alarms = _key_statement(resources, KEY, {"Service": "cloudwatch.amazonaws.com"})
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    events = _key_statement(resources, KEY, {"Service": "events.amazonaws.com"})
    assert set(events["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    logs = _key_statement(resources, KEY, {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}})
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    account = _key_statement(resources, KEY, {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}})
    # The account delegates use to IAM: that is how the function's role gets the key (see the role's policy).
    assert {"kms:Decrypt", "kms:GenerateDataKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} <= set(
        account["Action"]
    )


def test_only_this_stacks_alarms_may_publish_to_its_topic_over_tls(resources: dict[str, Any]) -> None:
    policy = resources["NotificationTopicPolicy"]
    assert policy["Condition"] == "CreateTopic"
    allow, deny = policy["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_email_subscription_filters_on_the_outcome_attribute(resources: dict[str, Any]) -> None:
    subscription = resources["EmailSubscription"]
    assert subscription["Condition"] == "SubscribeEmail"
    properties = subscription["Properties"]
    assert properties["Protocol"] == "email"
    assert properties["TopicArn"] == {"Ref": TOPIC}
    assert properties["Endpoint"] == {"Ref": "NotificationEmail"}
    assert properties["FilterPolicyScope"] == "MessageAttributes"
    assert properties["FilterPolicy"] == {"outcome": {"Ref": "NotifyOutcomes"}}


def test_slack_channel_is_read_only_and_subscribed_to_the_topic(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    channel = resources["SlackChannel"]
    assert channel["Type"] == "AWS::Chatbot::SlackChannelConfiguration"
    assert channel["Condition"] == "ConnectSlack"
    properties = channel["Properties"]
    assert properties["SnsTopicArns"] == [{"Ref": TOPIC}]
    assert properties["GuardrailPolicies"] == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"}]
    assert properties["SlackWorkspaceId"] == {"Ref": "SlackWorkspaceId"}
    assert properties["SlackChannelId"] == {"Ref": "SlackChannelId"}
    role = resources[properties["IamRoleArn"]["Fn::GetAtt"][0]]
    assert role["Condition"] == "ConnectSlack"
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "chatbot.amazonaws.com"}
    for statement in _role_statements(resources, properties["IamRoleArn"]["Fn::GetAtt"][0]):
        for action in _as_list(statement["Action"]):
            assert re.match(r"cloudwatch:(Describe|Get|List)", action), action
    # Subscriptions only on the stack's own topic: a central topic's subscribers live in its account.
    conditions = template["Conditions"]
    assert {"Condition": "CreateTopic"} in conditions["ConnectSlack"]["Fn::And"]
    assert {"Condition": "CreateTopic"} in conditions["SubscribeEmail"]["Fn::And"]


# --- least privilege -------------------------------------------------------------------------------------


def test_role_is_assumed_by_lambda_only(resources: dict[str, Any]) -> None:
    [trust] = resources[ROLE]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert "ManagedPolicyArns" not in resources[ROLE]["Properties"]


def test_policy_grants_exactly_the_expected_actions(statements: list[dict[str, Any]]) -> None:
    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    assert actions == EXPECTED_ACTIONS


def test_no_statement_uses_a_wildcard_action_or_negation(statements: list[dict[str, Any]]) -> None:
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement


def test_only_actions_without_resource_level_permissions_get_resource_star(statements: list[dict[str, Any]]) -> None:
    for statement in statements:
        if "*" in _as_list(statement["Resource"]):
            assert set(_as_list(statement["Action"])) <= UNSCOPED_ACTIONS, statement


def _resources_for(statements: list[dict[str, Any]], action: str) -> list[Any]:
    return [
        resource
        for statement in statements
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
        (
            "scheduler:CreateSchedule",
            "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${RecheckScheduleGroup}/*",
        ),
    ],
)
def test_scoped_actions_use_their_resource_arns(statements: list[dict[str, Any]], action: str, resource: str) -> None:
    assert _resources_for(statements, action) == [{"Fn::Sub": resource}]


def test_publish_is_limited_to_the_notification_topic(statements: list[dict[str, Any]]) -> None:
    assert _resources_for(statements, "sns:Publish") == [TOPIC_ARN]


def test_logs_queue_key_and_pass_role_are_limited_to_this_stacks_resources(statements: list[dict[str, Any]]) -> None:
    assert _resources_for(statements, "logs:PutLogEvents") == [{"Fn::GetAtt": ["EnforcerLogGroup", "Arn"]}]
    assert _resources_for(statements, "sqs:SendMessage") == [{"Fn::GetAtt": [DLQ, "Arn"]}]
    assert _resources_for(statements, "kms:GenerateDataKey") == [
        {"Fn::GetAtt": [KEY, "Arn"]},
        {"Fn::If": ["HasExistingTopicKey", {"Ref": "ExistingTopicKmsKeyArn"}, {"Ref": "AWS::NoValue"}]},
    ]
    [kms] = [s for s in statements if "kms:Decrypt" in _as_list(s["Action"])]
    # Only through SNS (publishing to the topic) and SQS (the on-failure destination).
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == [
        {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"},
        {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"},
    ]
    [pass_role] = [s for s in statements if "iam:PassRole" in _as_list(s["Action"])]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["RecheckSchedulerRole", "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


# --- issue 7: the pending instance's re-check ---------------------------------------------------------------


def test_scheduler_role_can_only_invoke_the_enforcer(resources: dict[str, Any]) -> None:
    assert resources["RecheckScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"
    role = resources["RecheckSchedulerRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["RecheckScheduleGroup", "Arn"]}},
    }
    assert "Policies" not in role, "a policy inside the role that names the function would be a cycle"
    assert _role_statements(resources, "RecheckSchedulerRole") == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::GetAtt": [FUNCTION, "Arn"]}}
    ]


# --- triggers --------------------------------------------------------------------------------------------


def test_event_rules_cover_exactly_the_six_calls_and_drop_failed_and_own_calls(function: dict[str, Any]) -> None:
    by_source: dict[str, set[str]] = {}
    for properties in _rule_events(function).values():
        pattern = properties["Pattern"]
        assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
        assert pattern["detail"]["errorCode"] == [{"exists": False}]
        assert pattern["detail"]["$or"] == OWN_ROLE_EXCLUSION
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


def test_every_trigger_retries_then_dead_letters_to_the_encrypted_queue(
    resources: dict[str, Any], function: dict[str, Any]
) -> None:
    assert function["Events"]
    for event in function["Events"].values():
        properties = event["Properties"]
        assert properties["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [DLQ, "Arn"]}}
        assert 0 < properties["RetryPolicy"]["MaximumRetryAttempts"] <= 185
        assert 60 <= properties["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
    # The queue accepts dead letters from exactly these rules (SAM names each <FunctionLogicalId><EventName>).
    [allow, deny] = resources["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": [f"{FUNCTION}{name}", "Arn"]} for name in function["Events"]
    ]
    assert deny["Effect"] == "Deny"


def test_failed_invocations_go_to_the_queue(function: dict[str, Any]) -> None:
    config = function["EventInvokeConfig"]
    assert config["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": {"Fn::GetAtt": [DLQ, "Arn"]}}
    assert 0 <= config["MaximumRetryAttempts"] <= 2


@pytest.mark.parametrize(
    ("alarm", "namespace", "metric", "dimension"),
    [
        ("EnforcerErrorsAlarm", "AWS/Lambda", "Errors", {"Name": "FunctionName", "Value": {"Ref": FUNCTION}}),
        ("EnforcerThrottlesAlarm", "AWS/Lambda", "Throttles", {"Name": "FunctionName", "Value": {"Ref": FUNCTION}}),
        (
            "DeadLetterQueueAlarm",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ, "QueueName"]}},
        ),
    ],
)
def test_alarms_notify_the_topic_on_the_first_occurrence(
    resources: dict[str, Any], alarm: str, namespace: str, metric: str, dimension: dict[str, Any]
) -> None:
    properties = resources[alarm]["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == (namespace, metric)
    assert properties["Dimensions"] == [dimension]
    assert properties["AlarmActions"] == [TOPIC_ARN]
    assert properties["TreatMissingData"] == "notBreaching"
    # "> 0" or ">= 1": one error, one throttle, one dead letter is enough.
    threshold = (properties["ComparisonOperator"], properties["Threshold"])
    assert threshold in {("GreaterThanThreshold", 0), ("GreaterThanOrEqualToThreshold", 1)}
    # The topic policy admits this stack's alarms by name prefix.
    assert properties["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-")


# --- the optional trail ----------------------------------------------------------------------------------


def test_trail_is_optional_multi_region_management_events_encrypted_and_validated(resources: dict[str, Any]) -> None:
    for name in ("ManagementEventsTrail", "TrailBucket", "TrailBucketPolicy", "TrailKey"):
        assert resources[name]["Condition"] == "CreateManagementTrail", name
    trail = resources["ManagementEventsTrail"]["Properties"]
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IsLogging"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    assert trail["KMSKeyId"] == {"Fn::GetAtt": ["TrailKey", "Arn"]}
    assert trail["S3BucketName"] == {"Ref": "TrailBucket"}


def test_trail_bucket_is_locked_down_and_outlives_the_stack(resources: dict[str, Any]) -> None:
    bucket = resources["TrailBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert resources["TrailKey"]["DeletionPolicy"] == "Retain"
    properties = bucket["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = resources["TrailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allows} == {"cloudtrail.amazonaws.com"}
    for statement in allows:  # only this trail, not any trail in any account
        assert "aws:SourceArn" in statement["Condition"]["StringEquals"]
    denies = {s["Sid"] for s in statements if s["Effect"] == "Deny"}
    assert denies == {"DenyLogDeletion", "DenyWithoutTls"}


# --- the deployment hook: the first sweep runs at once ----------------------------------------------------


@pytest.fixture(scope="module")
def hook_code(resources: dict[str, Any]) -> str:
    function = resources["InitialSweepFunction"]["Properties"]
    assert function["Runtime"] == "python3.13" and function["Architectures"] == ["arm64"]
    code: str = function["Code"]["ZipFile"]
    assert len(code) <= 4096, "CloudFormation's limit for inline code"
    return code


class _FakeLambda:
    def __init__(self, error: Exception | None = None, delay: float = 0.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error, self.delay = error, delay

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        time.sleep(self.delay)
        if self.error:
            raise self.error
        self.calls.append(kwargs)
        return {"StatusCode": 202}


def _run_hook(
    code: str, monkeypatch: pytest.MonkeyPatch, request_type: str, client: _FakeLambda, remaining_ms: int = 60_000
) -> list[dict[str, Any]]:
    """Run the inline handler with a fake Lambda client; return what it PUT to the response URL."""
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    class _Response:
        def close(self) -> None:
            pass

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> _Response:
        assert request.get_method() == "PUT" and request.full_url == "https://cloudformation-custom-resource/response"
        assert isinstance(request.data, bytes)
        with lock:
            answers.append(json.loads(request.data))
        return _Response()

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    namespace: dict[str, Any] = {"__name__": "initial_sweep"}
    exec(compile(code, "index.py", "exec"), namespace)  # the inline code, exactly as Lambda runs it
    namespace["LAMBDA"] = client
    started = time.monotonic()
    context = SimpleNamespace(
        log_stream_name="2026/01/01/[$LATEST]abc",
        invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:stack-InitialSweepFunction-X",
        get_remaining_time_in_millis=lambda: remaining_ms - int((time.monotonic() - started) * 1000),
    )
    event = {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource/response",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/stack/guid",
        "RequestId": "request-1",
        "LogicalResourceId": "InitialSweep",
        "ResourceType": "Custom::InitialSweep",
        "ResourceProperties": {"EnforcerFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:enforcer"},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "initial-sweep"
    namespace["handler"](event, context)
    time.sleep(0.05)
    return answers


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_hook_invokes_the_enforcer_asynchronously_with_a_sweep(
    hook_code: str, monkeypatch: pytest.MonkeyPatch, request_type: str
) -> None:
    client = _FakeLambda()
    [answer] = _run_hook(hook_code, monkeypatch, request_type, client)
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "initial-sweep"
    assert (answer["RequestId"], answer["LogicalResourceId"]) == ("request-1", "InitialSweep")
    [call] = client.calls
    assert call["FunctionName"] == "arn:aws:lambda:eu-west-1:123456789012:function:enforcer"
    assert call["InvocationType"] == "Event"
    payload = json.loads(call["Payload"])
    assert re.fullmatch(r"[0-9a-f-]{36}", payload.pop("id"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", payload.pop("time"))
    assert payload == {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "region": "eu-west-1",
        "resources": [],
        "detail": {},
    }


def test_the_enforcer_treats_the_hooks_payload_as_a_sweep(hook_code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from connect_lockdown.events import Sweep, classify

    client = _FakeLambda()
    _run_hook(hook_code, monkeypatch, "Create", client)
    cause = classify(json.loads(client.calls[0]["Payload"]))
    assert isinstance(cause, Sweep) and cause.scheduled, cause


def test_hook_answers_delete_without_invoking(hook_code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _FakeLambda()
    [answer] = _run_hook(hook_code, monkeypatch, "Delete", client)
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == "initial-sweep"
    assert client.calls == []


@pytest.mark.parametrize(("request_type", "status"), [("Create", "FAILED"), ("Update", "SUCCESS")])
def test_hook_answers_when_the_invoke_fails(
    hook_code: str, monkeypatch: pytest.MonkeyPatch, request_type: str, status: str
) -> None:
    """A failed Create rolls back; a failed Update must not wedge the stack (the next sweep catches up)."""
    [answer] = _run_hook(hook_code, monkeypatch, request_type, _FakeLambda(error=RuntimeError("AccessDenied")))
    assert answer["Status"] == status
    assert "AccessDenied" in answer["Reason"]


def test_hook_answers_once_before_its_own_timeout(hook_code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # 11 s left: the timer answers after 1 s, while the invoke still hangs; the late success is not sent.
    answers = _run_hook(hook_code, monkeypatch, "Create", _FakeLambda(delay=1.6), remaining_ms=11_000)
    assert [a["Status"] for a in answers] == ["FAILED"]
    assert "timed out" in answers[0]["Reason"]


def test_hook_waits_for_the_enforcers_final_setup_and_reruns_on_changes(resources: dict[str, Any]) -> None:
    hook = resources["InitialSweep"]
    assert hook["Type"].startswith("Custom::")
    assert {"EnforcerFunctionEventInvokeConfig", "RecheckSchedulerInvokePolicy"} <= set(hook["DependsOn"])
    properties = hook["Properties"]
    assert properties["ServiceToken"] == {"Fn::GetAtt": ["InitialSweepFunction", "Arn"]}
    assert properties["EnforcerFunctionArn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert {"LayerVersion", "AdminRoleArns", "ExtraPrincipalArns", "DryRun", "MergeMode"} <= set(properties)
    statements = _role_statements(resources, "InitialSweepFunctionRole")
    assert {a for s in statements for a in _as_list(s["Action"])} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "lambda:InvokeFunction",
    }
    assert _resources_for(statements, "lambda:InvokeFunction") == [{"Fn::GetAtt": [FUNCTION, "Arn"]}]


# --- outputs and deployment configuration ---------------------------------------------------------------


def test_outputs_name_what_operators_need(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["EnforcerFunctionArn"]["Value"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
    assert outputs["EnforcerRoleArn"]["Value"] == {"Fn::GetAtt": [ROLE, "Arn"]}
    assert outputs["NotificationTopicArn"]["Value"] == TOPIC_ARN
    assert outputs["DeadLetterQueueUrl"]["Value"] == {"Ref": DLQ}
    assert outputs["DeadLetterQueueArn"]["Value"] == {"Fn::GetAtt": [DLQ, "Arn"]}
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


def test_prod_samconfig_sets_every_template_parameter(template: dict[str, Any]) -> None:
    overrides = _overrides(tomllib.loads(SAMCONFIG_PATH.read_text())["prod"]["deploy"]["parameters"])
    assert set(overrides) == set(template["Parameters"])


# --- docs/organizations.md ---------------------------------------------------------------------------------


def _fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_central_topic_template_in_the_organizations_guide_lints_clean(tmp_path: Path) -> None:
    [central] = _fenced_blocks(ORGANIZATIONS_DOC.read_text(encoding="utf-8"), "yaml")
    path = tmp_path / "central-topic.yaml"
    path.write_text(central, encoding="utf-8")
    assert [str(match) for match in lint_file(path)] == []
    loaded = cfn_yaml.load(str(path))
    types = {r["Type"] for r in loaded["Resources"].values()}
    assert {"AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::KMS::Key"} <= types


def test_the_organizations_guide_passes_the_parameters_the_template_has(template: dict[str, Any]) -> None:
    text = ORGANIZATIONS_DOC.read_text(encoding="utf-8")
    assert "aws cloudformation create-stack-set" in text
    assert "--permission-model SERVICE_MANAGED" in text
    assert "--auto-deployment Enabled=true" in text
    keys = set(re.findall(r"ParameterKey=(\w+)", text))
    assert keys, "no parameters passed"
    assert keys <= set(template["Parameters"]), keys - set(template["Parameters"])
    assert {"ExistingTopicArn", "CreateTrail"} <= keys


def test_the_readme_deploy_section_lists_every_parameter_and_output(template: dict[str, Any]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    deploy = readme[readme.index("## Deploy\n") : readme.index("\n## ", readme.index("## Deploy\n") + 1)]
    for name in [*template["Parameters"], *template["Outputs"]]:
        assert f"`{name}`" in deploy, f"README's Deploy section does not mention {name}"
