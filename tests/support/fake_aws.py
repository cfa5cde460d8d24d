"""An in-memory stand-in for `AwsGateway`: the same methods, the same errors, no boto3 and no moto.

The reliability tests run thousands of reconciles; on moto each costs 10-150 ms, here well under one. The
fake keeps S3's, IAM's and Connect's observable rules that matter to the enforcer (ExpectedBucketOwner,
NoSuchBucket, NoSuchEntity, ResourceNotFoundException, the 20 KB limit, malformed JSON) and records every
call, every write and every alert, so a test can prove what was, and was not, done. Tests cross-check it
against moto in smaller runs.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connect_lockdown.aws import AwsCallError, AwsGateway, CallerIdentity
from connect_lockdown.notify import Notification
from devtools.account import ACCOUNT, REGION

ENFORCER_ROLE = "connect-lockdown-EnforcerRole-FAKE"
# Every storage resource type of the Connect service model (botocore 1.44); the enforcer reads them all.
RESOURCE_TYPES = (
    "CHAT_TRANSCRIPTS",
    "CALL_RECORDINGS",
    "SCHEDULED_REPORTS",
    "MEDIA_STREAMS",
    "CONTACT_TRACE_RECORDS",
    "AGENT_EVENTS",
    "REAL_TIME_CONTACT_ANALYSIS_SEGMENTS",
    "ATTACHMENTS",
    "CONTACT_EVALUATIONS",
    "SCREEN_RECORDINGS",
    "REAL_TIME_CONTACT_ANALYSIS_CHAT_SEGMENTS",
    "REAL_TIME_CONTACT_ANALYSIS_VOICE_SEGMENTS",
    "EMAIL_MESSAGES",
)
S3_POLICY_LIMIT = 20 * 1024

# A hook may raise an AwsCallError (or RetryableAwsError) to inject a fault: (operation, parameters) -> None.
FaultHook = Callable[[str, dict[str, Any]], None]


@dataclass
class FakeBucket:
    owner: str = ACCOUNT
    policy: str | None = None


@dataclass
class FakeInstance:
    id: str
    alias: str
    service_role_arn: str | None
    status: str = "ACTIVE"
    # resource type -> [(storage type, bucket name)]
    storage: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{self.id}"

    def buckets(self) -> set[str]:
        return {bucket for configs in self.storage.values() for kind, bucket in configs if kind == "S3"}


class FakeAws(AwsGateway):
    """The AwsGateway interface over dictionaries. One fake per test; the enforcer's own worker threads are fine
    (each call is a few dictionary operations under the GIL)."""

    def __init__(self, *, partition: str = "aws") -> None:
        # No boto3 clients on purpose: every method below is overridden.
        self.region = REGION
        self.partition = partition
        self._ids = (f"{n:012d}" for n in itertools.count(1))
        self.roles: dict[str, str] = {}
        self.users: dict[str, str] = {}
        self.instances: list[FakeInstance] = []
        self.buckets: dict[str, FakeBucket] = {}
        self.calls: Counter[str] = Counter()
        self.bucket_calls: list[tuple[str, str]] = []  # (operation, bucket) of every S3 call
        self.writes: list[tuple[str, str]] = []  # (bucket, policy text) of every successful PutBucketPolicy
        self.published: list[Notification] = []
        self.schedules: list[dict[str, Any]] = []
        self.fault: FaultHook | None = None
        self.enforcer_role_id = self.create_role(ENFORCER_ROLE)
        self.identity = CallerIdentity(
            account=ACCOUNT,
            arn=f"arn:{partition}:sts::{ACCOUNT}:assumed-role/{ENFORCER_ROLE}/connect-lockdown-fn",
            user_id=f"{self.enforcer_role_id}:connect-lockdown-fn",
        )

    # --- building a world -------------------------------------------------------------------------

    def role_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{ACCOUNT}:role/{name}"

    def user_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{ACCOUNT}:user/{name}"

    def create_role(self, name: str) -> str:
        self.roles[name] = f"AROA{next(self._ids)}"
        return self.roles[name]

    def create_user(self, name: str) -> str:
        self.users[name] = f"AIDA{next(self._ids)}"
        return self.users[name]

    def create_bucket(self, name: str, *, owner: str = ACCOUNT, policy: Mapping[str, Any] | str | None = None) -> str:
        text = policy if isinstance(policy, str) or policy is None else json.dumps(policy)
        self.buckets[name] = FakeBucket(owner=owner, policy=text)
        return name

    def create_instance(
        self, alias: str, buckets: tuple[str, ...] = (), *, role: bool = True, status: str = "ACTIVE"
    ) -> FakeInstance:
        number = len(self.instances) + 1
        instance_id = f"{number:08x}-0000-4000-8000-{number:012x}"
        role_arn = None
        if role:
            name = f"AWSServiceRoleForAmazonConnect_{number:04d}"
            self.create_role(name)
            role_arn = self.role_arn(name)
        instance = FakeInstance(instance_id, alias, role_arn, status)
        for index, bucket in enumerate(buckets):
            resource_type = RESOURCE_TYPES[index % len(RESOURCE_TYPES)]
            instance.storage.setdefault(resource_type, []).append(("S3", bucket))
        self.instances.append(instance)
        return instance

    def policy(self, bucket: str) -> Any:
        text = self.buckets[bucket].policy
        return None if text is None else json.loads(text)

    def role_name(self, arn: str | None) -> str:
        return (arn or "").rsplit("/", 1)[-1]

    # --- the gateway ------------------------------------------------------------------------------

    def _enter(self, operation: str, **parameters: Any) -> None:
        self.calls[operation] += 1
        if "bucket" in parameters:
            self.bucket_calls.append((operation, parameters["bucket"]))
        if self.fault is not None:
            self.fault(operation, parameters)

    def caller_identity(self) -> CallerIdentity:
        self._enter("GetCallerIdentity")
        return self.identity

    def role_id(self, role_name: str, path: str | None = None) -> str:
        self._enter("GetRole", name=role_name)
        if role_name not in self.roles:
            raise AwsCallError("GetRole", "NoSuchEntity", f"The role with name {role_name} cannot be found.")
        return self.roles[role_name]

    def user_id(self, user_name: str) -> str:
        self._enter("GetUser", name=user_name)
        if user_name not in self.users:
            raise AwsCallError("GetUser", "NoSuchEntity", f"The user with name {user_name} cannot be found.")
        return self.users[user_name]

    def storage_resource_types(self) -> list[str]:
        return list(RESOURCE_TYPES)

    def list_instances(self) -> Iterator[dict[str, Any]]:
        self._enter("ListInstances")
        for instance in list(self.instances):
            yield {
                "Id": instance.id,
                "Arn": instance.arn,
                "InstanceAlias": instance.alias,
                "InstanceStatus": instance.status,
                **({"ServiceRole": instance.service_role_arn} if instance.service_role_arn else {}),
            }

    def describe_instance(self, instance_id: str) -> dict[str, Any] | None:
        self._enter("DescribeInstance", instance_id=instance_id)
        for instance in self.instances:
            if instance.id == instance_id:
                described = {"Id": instance.id, "Arn": instance.arn, "InstanceStatus": instance.status}
                if instance.service_role_arn:
                    described["ServiceRole"] = instance.service_role_arn
                return described
        return None

    def s3_storage_buckets(self, instance_id: str, resource_type: str) -> set[str]:
        self._enter("ListInstanceStorageConfigs", instance_id=instance_id, resource_type=resource_type)
        for instance in self.instances:
            if instance.id == instance_id:
                return {bucket for kind, bucket in instance.storage.get(resource_type, []) if kind == "S3"}
        raise AwsCallError("ListInstanceStorageConfigs", "ResourceNotFoundException", "instance not found")

    def _bucket(self, operation: str, bucket: str, account: str) -> FakeBucket:
        found = self.buckets.get(bucket)
        if found is None:
            raise AwsCallError(operation, "NoSuchBucket", "The specified bucket does not exist")
        if found.owner != account:
            raise AwsCallError(operation, "AccessDenied", "Access Denied")
        return found

    def get_bucket_policy(self, bucket: str, account: str) -> str | None:
        self._enter("GetBucketPolicy", bucket=bucket)
        return self._bucket("GetBucketPolicy", bucket, account).policy

    def list_bucket_names(self) -> list[str]:
        self._enter("ListBuckets")
        return sorted(name for name, bucket in self.buckets.items() if bucket.owner == ACCOUNT)

    def put_bucket_policy(self, bucket: str, account: str, policy_text: str) -> None:
        self._enter("PutBucketPolicy", bucket=bucket, policy=policy_text)
        found = self._bucket("PutBucketPolicy", bucket, account)
        # What S3 refuses: text that is not UTF-8 JSON, and documents over its size limit.
        try:
            encoded = policy_text.encode("utf-8")
            json.loads(policy_text)
        except (UnicodeEncodeError, ValueError) as error:
            raise AwsCallError("PutBucketPolicy", "MalformedPolicy", f"Policies must be valid JSON: {error}") from None
        if len(encoded) > S3_POLICY_LIMIT:
            raise AwsCallError("PutBucketPolicy", "PolicyTooLarge", "Policies must be no more than 20 KB")
        found.policy = policy_text
        self.writes.append((bucket, policy_text))

    def create_one_time_schedule(
        self, name: str, group: str, at: str, target_arn: str, role_arn: str, payload: Mapping[str, Any]
    ) -> None:
        self._enter("CreateSchedule", name=name)
        self.schedules.append({"name": name, "group": group, "at": at, "payload": dict(payload)})

    def publish(self, topic_arn: str, notification: Notification) -> str:
        self._enter("Publish", topic_arn=topic_arn)
        # What SNS would receive: the body must survive JSON, as aws.py serialises it.
        json.dumps(notification.body, default=str)
        self.published.append(notification)
        return f"message-{len(self.published)}"
