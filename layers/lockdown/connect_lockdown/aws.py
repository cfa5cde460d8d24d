"""The one module that talks to AWS: S3, Connect, IAM, STS, SNS, DynamoDB, Security Hub, Lambda, Scheduler.

Every call goes through `errors.call`, which turns botocore errors into the two sibling kinds of `AwsError`
(`errors.py`); DynamoDB items go through `tables.py`. `Gateway` is what the enforcer needs, as a Protocol that
this module's `AwsGateway` and the tests' in-memory fake both implement.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.config import Config

from .errors import ACCESS_DENIED_CODES, RETRYABLE_CODES, AwsCallError, AwsError, RetryableAwsError, call
from .notify import Notification
from .tables import ItemTables

__all__ = ["ACCESS_DENIED_CODES", "RETRYABLE_CODES", "AwsCallError", "AwsError", "RetryableAwsError"]
__all__ += ["AwsGateway", "CachedIdentity", "CallerIdentity", "Gateway"]


# Connect's control plane has low rate limits: adaptive mode also slows the client down when throttled.
CONNECT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=20)
DEFAULT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@dataclass(frozen=True)
class CallerIdentity:
    account: str
    arn: str
    user_id: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


class CachedIdentity:
    """The caller's identity, read from STS on first use: it cannot change under a running execution environment."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._identity: CallerIdentity | None = None

    def __call__(self) -> CallerIdentity:
        if self._identity is None:
            self._identity = self.gateway.caller_identity()
        return self._identity


class Gateway(Protocol):
    """What the enforcer needs from AWS. `AwsGateway` implements it with boto3; tests' `FakeAws` with dicts."""

    region: str

    def caller_identity(self) -> CallerIdentity: ...
    def role_id(self, role_name: str, path: str | None = None) -> str: ...
    def user_id(self, user_name: str) -> str: ...
    def storage_resource_types(self) -> list[str]: ...
    def list_instances(self) -> Iterator[dict[str, Any]]: ...
    def describe_instance(self, instance_id: str) -> dict[str, Any] | None: ...
    def s3_storage_buckets(self, instance_id: str, resource_type: str) -> set[str]: ...
    def get_bucket_policy(self, bucket: str, account: str) -> str | None: ...
    def list_bucket_names(self) -> list[str]: ...
    def put_bucket_policy(self, bucket: str, account: str, policy_text: str) -> None: ...
    def create_one_time_schedule(
        self, name: str, group: str, at: str, target_arn: str, role_arn: str, payload: Mapping[str, Any]
    ) -> None: ...
    def publish(self, topic_arn: str, notification: Notification) -> str: ...
    def table_query(self, table: str, pk: str) -> list[dict[str, Any]]: ...
    def table_put(self, table: str, items: list[dict[str, Any]]) -> None: ...
    def table_delete(self, table: str, keys: list[tuple[str, str]]) -> None: ...
    def invoke_async(self, function_arn: str, payload: Mapping[str, Any]) -> None: ...
    def import_findings(self, findings: list[dict[str, Any]]) -> int: ...


class AwsGateway:
    """boto3 clients for the five services, created once and reused across warm invocations."""

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        clients: Mapping[str, Any] | None = None,
    ) -> None:
        session = session or boto3.session.Session()
        clients = dict(clients or {})

        def client(name: str, config: Config = DEFAULT_CONFIG) -> Any:
            return clients.get(name) or session.client(name, config=config)

        self.s3 = client("s3")
        self.connect = client("connect", CONNECT_CONFIG)
        self.iam = client("iam")
        self.sts = client("sts")
        self.sns = client("sns")
        self.region: str = self.connect.meta.region_name
        self._session = session
        self._clients = clients
        self._scheduler = clients.get("scheduler")
        self._tables: ItemTables | None = None

    # --- identity ---------------------------------------------------------------------------------

    def caller_identity(self) -> CallerIdentity:
        response = call("GetCallerIdentity", self.sts.get_caller_identity)
        return CallerIdentity(account=response["Account"], arn=response["Arn"], user_id=response["UserId"])

    def role_id(self, role_name: str, path: str | None = None) -> str:
        """The role's unique ID; with `path`, only when the role has that path (a role name is unique in an
        account whatever its path, so a name alone does not say a role is service-linked)."""
        role = call("GetRole", self.iam.get_role, RoleName=role_name)["Role"]
        if path is not None and role.get("Path") != path:
            raise AwsCallError("GetRole", "UnexpectedPath", f"role {role_name} has path {role.get('Path')}, not {path}")
        return str(role["RoleId"])

    def user_id(self, user_name: str) -> str:
        return str(call("GetUser", self.iam.get_user, UserName=user_name)["User"]["UserId"])

    # --- Connect ----------------------------------------------------------------------------------

    def storage_resource_types(self) -> list[str]:
        """Every storage resource type the SDK's service model knows: AWS keeps adding them."""
        shape = self.connect.meta.service_model.shape_for("InstanceStorageResourceType")
        return list(shape.enum)

    def list_instances(self) -> Iterator[dict[str, Any]]:
        paginator = self.connect.get_paginator("list_instances")
        pages = iter(paginator.paginate())
        while (page := _next_page("ListInstances", pages)) is not None:
            yield from page.get("InstanceSummaryList", [])

    def describe_instance(self, instance_id: str) -> dict[str, Any] | None:
        try:
            response = call("DescribeInstance", self.connect.describe_instance, InstanceId=instance_id)
        except AwsCallError as error:
            if error.code == "ResourceNotFoundException":
                return None
            raise
        return dict(response.get("Instance") or {})

    def s3_storage_buckets(self, instance_id: str, resource_type: str) -> set[str]:
        paginator = self.connect.get_paginator("list_instance_storage_configs")
        pages = iter(paginator.paginate(InstanceId=instance_id, ResourceType=resource_type))
        buckets: set[str] = set()
        while (page := _next_page("ListInstanceStorageConfigs", pages)) is not None:
            for config in page.get("StorageConfigs", []):
                if config.get("StorageType") != "S3":
                    continue
                bucket = (config.get("S3Config") or {}).get("BucketName")
                if isinstance(bucket, str) and bucket:
                    buckets.add(bucket)
        return buckets

    # --- S3 ---------------------------------------------------------------------------------------

    def get_bucket_policy(self, bucket: str, account: str) -> str | None:
        """The policy text, or None when the bucket has none."""
        try:
            response = call("GetBucketPolicy", self.s3.get_bucket_policy, Bucket=bucket, ExpectedBucketOwner=account)
        except AwsCallError as error:
            if error.code == "NoSuchBucketPolicy":
                return None
            raise
        return str(response["Policy"])

    def list_bucket_names(self) -> list[str]:
        """The account's general purpose buckets in this Region."""
        paginator = self.s3.get_paginator("list_buckets")
        pages = iter(paginator.paginate(BucketRegion=self.region))
        names: list[str] = []
        while (page := _next_page("ListBuckets", pages)) is not None:
            names += [b["Name"] for b in page.get("Buckets", []) if b.get("BucketRegion", self.region) == self.region]
        return names

    def put_bucket_policy(self, bucket: str, account: str, policy_text: str) -> None:
        call(
            "PutBucketPolicy", self.s3.put_bucket_policy, Bucket=bucket, Policy=policy_text, ExpectedBucketOwner=account
        )

    # --- EventBridge Scheduler -------------------------------------------------------------------

    @property
    def scheduler(self) -> Any:
        # Only pending instances need it: created on first use, off the cold-start path.
        if self._scheduler is None:
            self._scheduler = self._session.client("scheduler", region_name=self.region, config=DEFAULT_CONFIG)
        return self._scheduler

    def create_one_time_schedule(
        self, name: str, group: str, at: str, target_arn: str, role_arn: str, payload: Mapping[str, Any]
    ) -> None:
        """A schedule that invokes the target once at `at` (UTC, yyyy-mm-ddThh:mm:ss) and then deletes itself."""
        call(
            "CreateSchedule",
            self.scheduler.create_schedule,
            Name=name,
            GroupName=group,
            ScheduleExpression=f"at({at})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={"Arn": target_arn, "RoleArn": role_arn, "Input": json.dumps(payload)},
        )

    # --- DynamoDB, Lambda, Security Hub: created on first use, off the cold-start path ------------------

    def _lazy(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self._session.client(name, region_name=self.region, config=DEFAULT_CONFIG)
        return self._clients[name]

    def all_clients(self) -> list[Any]:
        """Every client, the lazily created ones too: for tools that hook them (call counters, fault injection)."""
        return [self.s3, self.connect, self.iam, self.sts, self.sns, self.scheduler] + [
            self._lazy(name) for name in ("dynamodb", "lambda", "securityhub")
        ]

    @property
    def tables(self) -> ItemTables:
        if self._tables is None:
            self._tables = ItemTables(self._lazy("dynamodb"))
        return self._tables

    def table_query(self, table: str, pk: str) -> list[dict[str, Any]]:
        return self.tables.query(table, pk)

    def table_put(self, table: str, items: list[dict[str, Any]]) -> None:
        if items:
            self.tables.put(table, items)

    def table_delete(self, table: str, keys: list[tuple[str, str]]) -> None:
        if keys:
            self.tables.delete(table, keys)

    def invoke_async(self, function_arn: str, payload: Mapping[str, Any]) -> None:
        invoke, body = self._lazy("lambda").invoke, json.dumps(payload).encode()
        call("Invoke", invoke, FunctionName=function_arn, InvocationType="Event", Payload=body)

    def import_findings(self, findings: list[dict[str, Any]]) -> int:
        """BatchImportFindings (at most 100 a call); returns how many Security Hub rejected. The only Security Hub
        call: BatchUpdateFindings is authorised on the whole hub, not on the enforcer's own findings."""
        failed = 0
        for offset in range(0, len(findings), 100):
            response = call(
                "BatchImportFindings",
                self._lazy("securityhub").batch_import_findings,
                Findings=findings[offset : offset + 100],
            )
            failed += int(response.get("FailedCount") or 0)
        return failed

    # --- SNS --------------------------------------------------------------------------------------

    def publish(self, topic_arn: str, notification: Notification) -> str:
        """One message, three renderings: SNS gives each protocol its key (`email`, `https`) or `default`."""
        response = call(
            "Publish",
            self.sns.publish,
            TopicArn=topic_arn,
            Subject=notification.subject,
            Message=notification.message(),
            MessageStructure="json",
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value} for name, value in notification.attributes.items()
            },
        )
        return str(response.get("MessageId", ""))


def _next_page(operation: str, pages: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    """The next page of a paginator, with its errors translated like any other call."""
    return call(operation, lambda: next(pages, None))
