"""ARNs: parsing IAM and session ARNs, partitions of Regions. Pure, no AWS calls."""

from __future__ import annotations

import re

PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_PARTITION = "|".join(PARTITIONS)
# IAM names: letters, digits and +=,.@_- ; paths: / then segments of printable ASCII ending with /.
_IAM_PATH = r"/(?:[\x21-\x7e]*/)?"
_IAM_NAME = r"[\w+=,.@-]{1,128}"
ROLE_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):role{_IAM_PATH}(?P<name>{_IAM_NAME})$"
)
USER_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):user{_IAM_PATH}(?P<name>{_IAM_NAME})$"
)
TOPIC_ARN = re.compile(rf"^arn:(?:{_PARTITION}):sns:[a-z0-9-]+:\d{{12}}:[A-Za-z0-9_-]{{1,256}}(?:\.fifo)?$")
_ASSUMED_ROLE = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):sts::(?P<account>\d{{12}}):assumed-role/(?P<name>[^/]+)/[^/]+$"
)
# Regions of the isolated partitions: no public console, and a partition of their own.
_ISOLATED_PREFIXES = {"us-iso-": "aws-iso", "us-isob-": "aws-iso-b", "us-isof-": "aws-iso-f", "eu-isoe-": "aws-iso-e"}


def role_of_session(arn: str | None) -> tuple[str, str] | None:
    """(account, role name) of an assumed-role session ARN; None for anything else."""
    match = _ASSUMED_ROLE.match(arn or "")
    return (match.group("account"), match.group("name")) if match else None


def role_arn_of_session(arn: str | None) -> str | None:
    """The role ARN behind an assumed-role session ARN.

    STS drops the role's path from the session ARN, so this is exact only for a role without a path, which is
    why the template gives the enforcer's role none.
    """
    match = _ASSUMED_ROLE.match(arn or "")
    if match is None:
        return None
    return f"arn:{match.group('partition')}:iam::{match.group('account')}:role/{match.group('name')}"


def account_of(arn: str) -> str | None:
    match = ROLE_ARN.match(arn) or USER_ARN.match(arn)
    return match.group("account") if match else None


def partition_of(region: str) -> str:
    """The partition of a Region: aws-cn for cn-*, aws-us-gov for us-gov-*, the isolated ones, else aws."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    for prefix, partition in _ISOLATED_PREFIXES.items():
        if region.startswith(prefix):
            return partition
    return "aws"
