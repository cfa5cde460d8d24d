"""Which Connect instances store in which S3 buckets, read fresh from AWS."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .aws import AwsCallError, AwsGateway, RetryableAwsError

# Bounded, so a sweep of many instances does not hammer Connect's low rate limits.
MAX_PARALLEL_INSTANCES = 4
# Instances in these states have no storage to protect.
SKIPPED_STATUSES = frozenset({"CREATION_FAILED"})


@dataclass(frozen=True)
class ConnectInstance:
    id: str
    arn: str
    alias: str | None
    status: str | None
    service_role_arn: str | None
    buckets: frozenset[str]

    def label(self) -> str:
        return f"{self.alias} ({self.id})" if self.alias else self.id


@dataclass(frozen=True)
class Inventory:
    instances: tuple[ConnectInstance, ...]

    def bucket_instances(self) -> dict[str, list[ConnectInstance]]:
        """bucket -> the instances whose storage uses it; several instances may share a bucket."""
        result: dict[str, list[ConnectInstance]] = {}
        for instance in self.instances:
            for bucket in sorted(instance.buckets):
                result.setdefault(bucket, []).append(instance)
        return dict(sorted(result.items()))

    def instance(self, instance_id: str) -> ConnectInstance | None:
        return next((i for i in self.instances if i.id == instance_id), None)


def _instance_from(summary: dict[str, Any], buckets: Iterable[str]) -> ConnectInstance:
    return ConnectInstance(
        id=str(summary["Id"]),
        arn=str(summary.get("Arn") or ""),
        alias=summary.get("InstanceAlias"),
        status=summary.get("InstanceStatus"),
        service_role_arn=summary.get("ServiceRole") or None,
        buckets=frozenset(buckets),
    )


def read_instance(gateway: AwsGateway, summary: dict[str, Any], resource_types: list[str]) -> ConnectInstance:
    """One instance with its service role and every S3 bucket its storage configs name."""
    if not summary.get("ServiceRole"):
        # ListInstances normally carries the role; DescribeInstance is the authority when it doesn't.
        described = gateway.describe_instance(str(summary["Id"]))
        if described:
            summary = {**summary, **described}
    buckets: set[str] = set()
    for resource_type in resource_types:
        try:
            buckets |= gateway.s3_storage_buckets(str(summary["Id"]), resource_type)
        except RetryableAwsError:
            raise
        except AwsCallError as error:
            # A resource type the instance does not support (an older instance, a feature not enabled in
            # the region) is answered with an error: it simply holds no bucket.
            if error.code not in ("InvalidRequestException", "InvalidParameterException"):
                raise
    return _instance_from(summary, buckets)


def read_inventory(gateway: AwsGateway, summaries: list[dict[str, Any]] | None = None) -> Inventory:
    """Every Connect instance in the account and region, with its buckets."""
    if summaries is None:
        summaries = list(gateway.list_instances())
    summaries = [s for s in summaries if s.get("Id") and s.get("InstanceStatus") not in SKIPPED_STATUSES]
    resource_types = gateway.storage_resource_types()
    if len(summaries) <= 1:
        instances = [read_instance(gateway, s, resource_types) for s in summaries]
    else:
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL_INSTANCES) as pool:
            instances = list(pool.map(lambda s: read_instance(gateway, s, resource_types), summaries))
    return Inventory(instances=tuple(instances))
