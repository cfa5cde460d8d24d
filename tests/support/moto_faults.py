"""Server-side faults: make the in-process moto server answer as AWS does when something is wrong.

The command line runs as a subprocess and only talks HTTP, so its faults are injected where it cannot see them:
in moto's backends, which the ThreadedMotoServer of the test process serves. Each function patches with the
given pytest MonkeyPatch, so the fault ends with the test (or the `MonkeyPatch.context()` block).
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.cloudformation.models import CloudFormationBackend
from moto.connect.models import ConnectBackend
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.iam.models import iam_backends
from moto.organizations.models import OrganizationsBackend
from moto.s3.exceptions import S3AccessDeniedError
from moto.s3.models import S3Backend
from moto.sns.exceptions import SNSException
from moto.sns.models import SNSBackend
from moto.sts.models import STSBackend


class _AccessDenied(ServiceException):
    code = "AccessDenied"


def deny_bucket_policy_read(monkeypatch: pytest.MonkeyPatch, bucket: str) -> None:
    """GetBucketPolicy on `bucket` answers AccessDenied (403)."""
    original = S3Backend.get_bucket_policy

    def get_bucket_policy(self: S3Backend, bucket_name: str) -> Any:
        if bucket_name == bucket:
            raise S3AccessDeniedError()
        return original(self, bucket_name)

    monkeypatch.setattr(S3Backend, "get_bucket_policy", get_bucket_policy)


def deny_connect_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """ListInstances answers AccessDeniedException (403): the Connect inventory cannot be read at all."""

    def list_instances(self: ConnectBackend, *args: Any, **kwargs: Any) -> Any:
        error = JsonRESTError("AccessDeniedException", "User is not authorized to perform: connect:ListInstances")
        error.code = 403
        raise error

    monkeypatch.setattr(ConnectBackend, "list_instances", list_instances)


def drop_storage_config_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """ListInstanceStorageConfigs is unknown, as on a plain moto server without the project's extension."""

    def list_instance_storage_configs(self: ConnectBackend, *args: Any, **kwargs: Any) -> Any:
        error = JsonRESTError("UnknownOperationException", "The action ListInstanceStorageConfigs is not valid")
        error.code = 404
        raise error

    monkeypatch.setattr(ConnectBackend, "list_instance_storage_configs", list_instance_storage_configs)


def garble_caller_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """GetCallerIdentity answers an ARN that is no ARN: nothing the command line expects of AWS."""

    def get_caller_identity(self: STSBackend, access_key_id: str, region: str) -> tuple[str, str, str]:
        return "AIDAGARBLED000000001", "garbled", self.account_id

    monkeypatch.setattr(STSBackend, "get_caller_identity", get_caller_identity)


def deny_describe_stacks(monkeypatch: pytest.MonkeyPatch) -> None:
    def describe_stacks(self: CloudFormationBackend, *args: Any, **kwargs: Any) -> Any:
        raise _AccessDenied("User is not authorized to perform: cloudformation:DescribeStacks")

    monkeypatch.setattr(CloudFormationBackend, "describe_stacks", describe_stacks)


def strict_assume_role(monkeypatch: pytest.MonkeyPatch) -> None:
    """sts:AssumeRole succeeds only for a role that exists in its account, as in AWS (moto's accepts any ARN)."""
    original = STSBackend.assume_role

    def assume_role(self: STSBackend, region_name: str, role_session_name: str, role_arn: str, **kwargs: Any) -> Any:
        account = role_arn.split(":")[4]
        try:
            iam_backends[account][role_arn.split(":")[1]].get_role_by_arn(role_arn)
        except Exception as error:
            raise _AccessDenied(
                f"User: arn:aws:iam::{self.account_id}:user/moto is not authorized to perform: sts:AssumeRole "
                f"on resource: {role_arn}"
            ) from error
        return original(self, region_name, role_session_name, role_arn, **kwargs)

    monkeypatch.setattr(STSBackend, "assume_role", assume_role)


def deny_list_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    """organizations:ListAccounts answers AccessDeniedException, as for a member account's credentials."""

    def list_accounts(self: OrganizationsBackend, *args: Any, **kwargs: Any) -> Any:
        error = JsonRESTError("AccessDeniedException", "You don't have permissions to access this resource.")
        error.code = 403
        raise error

    monkeypatch.setattr(OrganizationsBackend, "list_accounts", list_accounts)


def no_active_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    """organizations:ListAccounts lists no account."""
    monkeypatch.setattr(OrganizationsBackend, "list_accounts", lambda self, *args, **kwargs: ([], None))


def deny_bucket_policy_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """PutBucketPolicy answers AccessDenied (403) on every bucket, as to a read-only principal."""

    def put_bucket_policy(self: S3Backend, bucket_name: str, policy: bytes) -> None:
        raise S3AccessDeniedError()

    monkeypatch.setattr(S3Backend, "put_bucket_policy", put_bucket_policy)


class _SnsAuthorizationError(SNSException):
    code = "AuthorizationError"


def deny_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    """sns:Publish answers AuthorizationError (403), SNS's access denied, as to a read-only principal."""

    def publish(self: SNSBackend, *args: Any, **kwargs: Any) -> str:
        raise _SnsAuthorizationError("User is not authorized to perform: SNS:Publish on resource")

    monkeypatch.setattr(SNSBackend, "publish", publish)
