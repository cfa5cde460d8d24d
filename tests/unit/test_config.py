"""The configuration of docs/interface.md: every bad value stops start-up with a message naming the variable."""

import pytest

from connect_lockdown.config import ConfigError, Settings, may_write

TOPIC = "arn:aws:sns:us-east-1:123456789012:connect-lockdown"


def test_defaults():
    settings = Settings.from_env({"NOTIFICATION_TOPIC_ARN": TOPIC})
    assert settings == Settings(topic_arn=TOPIC)
    assert settings.dry_run is False
    assert settings.merge_mode == "preserve"
    assert settings.admin_role_arns == ()
    assert settings.enforcer_role_arn is None
    assert settings.exempt_aws_services == ("connect.amazonaws.com",)
    assert settings.admit_service_linked_roles == ("config", "access-analyzer")
    assert settings.inventory_table is None
    assert settings.security_hub is False


def test_the_variables_of_this_round():
    settings = Settings.from_env(
        {
            "NOTIFICATION_TOPIC_ARN": TOPIC,
            "EXEMPT_AWS_SERVICES": "false",
            "INVENTORY_TABLE": "connect-lockdown-inventory-us-east-1",
            "SECURITY_HUB": "True",
        }
    )
    assert settings.exempt_aws_services == ()
    assert settings.inventory_table == "connect-lockdown-inventory-us-east-1"
    assert settings.security_hub is True


def test_all_values():
    settings = Settings.from_env(
        {
            "NOTIFICATION_TOPIC_ARN": "arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts",
            "ADMIN_ROLE_ARNS": " arn:aws:iam::123456789012:role/Admin , arn:aws:iam::123456789012:role/ops/team/Ops,",
            "EXTRA_PRINCIPAL_ARNS": "arn:aws:iam::123456789012:user/break-glass,arn:aws-cn:iam::123456789012:role/backup",
            "DRY_RUN": "TRUE",
            "MERGE_MODE": "replace",
            "ENFORCER_ROLE_ARN": "arn:aws:iam::123456789012:role/connect-lockdown-EnforcerRole-1",
        }
    )
    assert settings.admin_role_arns == (
        "arn:aws:iam::123456789012:role/Admin",
        "arn:aws:iam::123456789012:role/ops/team/Ops",
    )
    assert settings.extra_principal_arns == (
        "arn:aws:iam::123456789012:user/break-glass",
        "arn:aws-cn:iam::123456789012:role/backup",
    )
    assert settings.dry_run is True
    assert settings.merge_mode == "replace"
    assert settings.enforcer_role_arn == "arn:aws:iam::123456789012:role/connect-lockdown-EnforcerRole-1"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NOTIFICATION_TOPIC_ARN", ""),
        ("NOTIFICATION_TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:queue"),
        ("ADMIN_ROLE_ARNS", "arn:aws:iam::123456789012:user/alice"),
        ("ADMIN_ROLE_ARNS", "Admin"),
        ("ADMIN_ROLE_ARNS", "arn:aws:iam::12345:role/Admin"),
        ("EXTRA_PRINCIPAL_ARNS", "arn:aws:iam::123456789012:group/admins"),
        ("EXTRA_PRINCIPAL_ARNS", "arn:aws:sts::123456789012:assumed-role/Admin/alice"),
        ("DRY_RUN", "yes"),
        ("MERGE_MODE", "merge"),
        ("ENFORCER_ROLE_ARN", "arn:aws:iam::123456789012:user/laptop"),
        ("EXEMPT_AWS_SERVICES", "on"),
        ("EXEMPT_AWS_SERVICES", "connect"),
        ("EXEMPT_AWS_SERVICES", "Connect.amazonaws.com"),
        ("EXEMPT_AWS_SERVICES", "connect.amazonaws.com,*"),
        ("EXEMPT_AWS_SERVICES", "connect.amazonaws.com.cn"),
        ("EXEMPT_AWS_SERVICES", "arn:aws:iam::123456789012:role/connect"),
        ("EXEMPT_AWS_SERVICES", ".amazonaws.com"),
        ("EXEMPT_AWS_SERVICES", " , "),
        ("ADMIT_SERVICE_LINKED_ROLES", "guardduty"),
        ("ADMIT_SERVICE_LINKED_ROLES", "config,AWSServiceRoleForConfig"),
        ("SECURITY_HUB", "1"),
        ("INVENTORY_TABLE", "a"),
        ("INVENTORY_TABLE", "table with spaces"),
    ],
)
def test_bad_values_name_the_variable(variable, value):
    environ = {"NOTIFICATION_TOPIC_ARN": TOPIC, variable: value}
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(environ)


def test_missing_topic_is_named():
    with pytest.raises(ConfigError, match="NOTIFICATION_TOPIC_ARN is required"):
        Settings.from_env({})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", ("connect.amazonaws.com",)),
        ("TRUE", ("connect.amazonaws.com",)),
        ("false", ()),
        ("connect.amazonaws.com", ("connect.amazonaws.com",)),
        (
            " connect.amazonaws.com , logging.s3.amazonaws.com,connect.amazonaws.com,",
            ("connect.amazonaws.com", "logging.s3.amazonaws.com"),
        ),
        ("logs.us-east-1.amazonaws.com", ("logs.us-east-1.amazonaws.com",)),
    ],
)
def test_exempt_aws_services_names_service_principals(value, expected):
    """`true` is Connect's alone, `false` none, a list each named service once, in the order given."""
    settings = Settings.from_env({"NOTIFICATION_TOPIC_ARN": TOPIC, "EXEMPT_AWS_SERVICES": value})
    assert settings.exempt_aws_services == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ("config", "access-analyzer")),
        ("macie", ("macie",)),
        ("Config, macie,config", ("config", "macie")),
        ("none", ()),
    ],
)
def test_admit_service_linked_roles(value, expected):
    settings = Settings.from_env({"NOTIFICATION_TOPIC_ARN": TOPIC, "ADMIT_SERVICE_LINKED_ROLES": value})
    assert settings.admit_service_linked_roles == expected


def test_an_unknown_service_linked_role_lists_the_known_ones():
    with pytest.raises(ConfigError, match="access-analyzer, config, macie"):
        Settings.from_env({"NOTIFICATION_TOPIC_ARN": TOPIC, "ADMIT_SERVICE_LINKED_ROLES": "guardduty"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("amazon-connect-*", ("amazon-connect-*",)),
        ("amazon-connect-*, acme-call-recordings ,amazon-connect-*", ("amazon-connect-*", "acme-call-recordings")),
    ],
)
def test_lockdown_bucket_names(value, expected):
    settings = Settings.from_env({"NOTIFICATION_TOPIC_ARN": TOPIC, "LOCKDOWN_BUCKET_NAMES": value})
    assert settings.lockdown_bucket_names == expected


@pytest.mark.parametrize("value", ["*", "amazon-connect-*,*", "Upper-Case", "a*b", "ab"])
def test_lockdown_bucket_names_refuses_what_is_not_a_name_or_prefix(value):
    with pytest.raises(ConfigError, match="LOCKDOWN_BUCKET_NAMES"):
        Settings.from_env({"NOTIFICATION_TOPIC_ARN": TOPIC, "LOCKDOWN_BUCKET_NAMES": value})


def test_may_write_matches_exact_names_and_prefixes():
    settings = Settings(topic_arn=TOPIC, lockdown_bucket_names=("amazon-connect-*", "acme-call-recordings"))
    assert may_write(settings, "amazon-connect-25fd0a3be3ef")
    assert may_write(settings, "acme-call-recordings")
    assert not may_write(settings, "acme-call-recordings-2")
    assert not may_write(settings, "cloudtrail-logs")
    assert may_write(Settings(topic_arn=TOPIC), "cloudtrail-logs")
