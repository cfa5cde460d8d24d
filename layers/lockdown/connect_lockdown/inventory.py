"""Which Connect instances store in which S3 buckets, read fresh from Connect."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .aws import AwsCallError, Gateway
from .labels import instance_label

# Bounded, so a sweep of many instances does not hammer Connect's low rate limits.
MAX_PARALLEL_INSTANCES = 4
# Instances in these states have no storage to protect.
SKIPPED_STATUSES = frozenset({"CREATION_FAILED"})
# Resource types whose storage Connect's documentation gives as Kinesis only (video streams for MEDIA_STREAMS,
# data streams or Firehose for the others): they can never name an S3 bucket, so they are not read. A type
# not listed here, including one newer than this list, is read.
NON_S3_RESOURCE_TYPES = frozenset(
    {
        "MEDIA_STREAMS",
        "CONTACT_TRACE_RECORDS",
        "AGENT_EVENTS",
        "REAL_TIME_CONTACT_ANALYSIS_SEGMENTS",
        "REAL_TIME_CONTACT_ANALYSIS_CHAT_SEGMENTS",
        "REAL_TIME_CONTACT_ANALYSIS_VOICE_SEGMENTS",
    }
)
# ListInstanceStorageConfigs answers these for a resource type the instance does not support (an older
# instance, a feature not in the Region): such a type holds no bucket. Any other error is a failure.
UNSUPPORTED_TYPE_CODES = frozenset({"InvalidRequestException", "InvalidParameterException"})


@dataclass(frozen=True)
class ConnectInstance:
    id: str
    arn: str
    alias: str | None
    status: str | None
    service_role_arn: str | None
    buckets: frozenset[str]
    # resource type -> the error that kept its storage from being read (AccessDenied, ResourceNotFound, ...).
    unreadable_types: dict[str, AwsCallError] = field(default_factory=dict, compare=False, hash=False)

    def label(self) -> str:
        return instance_label(self.id, self.alias)

    def summary(self) -> dict[str, Any]:
        """As ListInstances would show it: what `read_instance` needs to read it again."""
        return {"Id": self.id, "Arn": self.arn, "InstanceAlias": self.alias, "ServiceRole": self.service_role_arn}


@dataclass(frozen=True)
class Inventory:
    instances: tuple[ConnectInstance, ...]

    def bucket_instances(self) -> dict[str, list[ConnectInstance]]:
        """bucket -> the instances whose storage uses it; several instances may share a bucket."""
        return bucket_instances(self.instances)

    def instance(self, instance_id: str) -> ConnectInstance | None:
        return next((i for i in self.instances if i.id == instance_id), None)


def bucket_instances(instances: Iterable[ConnectInstance]) -> dict[str, list[ConnectInstance]]:
    result: dict[str, list[ConnectInstance]] = {}
    for instance in instances:
        for bucket in sorted(instance.buckets):
            result.setdefault(bucket, []).append(instance)
    return dict(sorted(result.items()))


def s3_capable_types(resource_types: Iterable[str]) -> list[str]:
    return [t for t in resource_types if t not in NON_S3_RESOURCE_TYPES]


def instance_from(summary: dict[str, Any], buckets: Iterable[str] = ()) -> ConnectInstance:
    return ConnectInstance(
        id=str(summary["Id"]),
        arn=str(summary.get("Arn") or ""),
        alias=summary.get("InstanceAlias"),
        status=summary.get("InstanceStatus"),
        service_role_arn=summary.get("ServiceRole") or None,
        buckets=frozenset(buckets),
    )


def read_instance(gateway: Gateway, summary: dict[str, Any], resource_types: list[str]) -> ConnectInstance:
    """One instance with its service role and every S3 bucket its storage configs name.

    Each resource type is read on its own: one that fails is recorded in `unreadable_types` and does not hide
    the buckets of the others.
    """
    if not summary.get("ServiceRole"):
        # ListInstances normally carries the role; DescribeInstance is the authority when it doesn't.
        described = gateway.describe_instance(str(summary["Id"]))
        if described:
            summary = {**summary, **described}
    buckets: set[str] = set()
    unreadable: dict[str, AwsCallError] = {}
    for resource_type in resource_types:
        try:
            buckets |= gateway.s3_storage_buckets(str(summary["Id"]), resource_type)
        except AwsCallError as error:
            if error.code not in UNSUPPORTED_TYPE_CODES:
                unreadable[resource_type] = error
    return dataclasses.replace(instance_from(summary, buckets), unreadable_types=unreadable)


# Where Connect's buckets usually are: read first when looking for one bucket, so the search stops early.
LIKELY_S3_TYPES = ("CALL_RECORDINGS", "CHAT_TRANSCRIPTS", "SCREEN_RECORDINGS", "SCHEDULED_REPORTS", "ATTACHMENTS")


def reread_unless_stored_in(gateway: Gateway, instance: ConnectInstance, bucket: str) -> ConnectInstance | None:
    """None when a fresh read finds the instance still storing in `bucket`; else the instance as read afresh.

    The resource types are read one by one, the likely ones first, and the read stops at the first that names
    the bucket. When none does, every type has been read, so what was read is the whole instance.
    """
    types = s3_capable_types(gateway.storage_resource_types())
    buckets: set[str] = set()
    unreadable: dict[str, AwsCallError] = {}
    for resource_type in sorted(types, key=lambda t: LIKELY_S3_TYPES.index(t) if t in LIKELY_S3_TYPES else 99):
        try:
            found = gateway.s3_storage_buckets(instance.id, resource_type)
        except AwsCallError as error:
            if error.code not in UNSUPPORTED_TYPE_CODES:
                unreadable[resource_type] = error
            continue
        if bucket in found:
            return None
        buckets |= found
    return dataclasses.replace(instance, buckets=frozenset(buckets), unreadable_types=unreadable)


def read_one_instance(gateway: Gateway, instance_id: str) -> ConnectInstance | None:
    """A single instance, fresh: DescribeInstance and its storage. None when it does not exist."""
    described = gateway.describe_instance(instance_id)
    if not described or described.get("InstanceStatus") in SKIPPED_STATUSES:
        return None
    summary = {**described, "Id": described.get("Id") or instance_id}
    return read_instance(gateway, summary, s3_capable_types(gateway.storage_resource_types()))


def read_instances(gateway: Gateway, summaries: list[dict[str, Any]]) -> list[ConnectInstance]:
    resource_types = s3_capable_types(gateway.storage_resource_types())
    if len(summaries) <= 1:
        return [read_instance(gateway, s, resource_types) for s in summaries]
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_INSTANCES) as pool:
        return list(pool.map(lambda s: read_instance(gateway, s, resource_types), summaries))


def list_summaries(gateway: Gateway) -> list[dict[str, Any]]:
    return [s for s in gateway.list_instances() if s.get("Id") and s.get("InstanceStatus") not in SKIPPED_STATUSES]


def read_inventory(gateway: Gateway, summaries: list[dict[str, Any]] | None = None) -> Inventory:
    """Every Connect instance in the account and Region, with its buckets."""
    if summaries is None:
        summaries = list_summaries(gateway)
    return Inventory(instances=tuple(read_instances(gateway, summaries)))


class WarmInventory:
    """The last inventory read fresh, kept for a few minutes by a warm execution environment. It only ever finds
    a compliant bucket quickly; a decision to write reads again."""

    def __init__(self, gateway: Gateway, ttl: float, clock: Callable[[], float]) -> None:
        self.gateway, self.ttl, self._clock = gateway, ttl, clock
        self._kept: tuple[float, dict[str, list[ConnectInstance]]] | None = None

    def cached(self) -> dict[str, list[ConnectInstance]] | None:
        if self._kept is None or self._clock() - self._kept[0] >= self.ttl:
            return None
        return self._kept[1]

    def keep(self, by_bucket: dict[str, list[ConnectInstance]]) -> None:
        self._kept = (self._clock(), by_bucket)

    def read(self) -> Inventory:
        inventory = read_inventory(self.gateway)
        self.keep(inventory.bucket_instances())
        return inventory
