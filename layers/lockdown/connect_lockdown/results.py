"""Results that are not a bucket decision (pending and unreadable instances), and failure reasons."""

from __future__ import annotations

from .aws import AwsCallError, AwsError
from .inventory import ConnectInstance
from .outcomes import BucketResult, InstanceRef, Outcome


def pending(instance: ConnectInstance) -> BucketResult:
    return BucketResult(
        None,
        Outcome.PENDING,
        (InstanceRef(instance.id, instance.alias),),
        f"Connect instance {instance.label()} has no S3 storage yet; its bucket is locked once storage is associated",
    )


def unreadable(instance: ConnectInstance) -> BucketResult:
    """An instance some of whose storage could not be read: its other buckets are still decided."""
    types = sorted(instance.unreadable_types)
    first = instance.unreadable_types[types[0]]
    return BucketResult(
        None,
        Outcome.FAILED,
        (InstanceRef(instance.id, instance.alias),),
        f"ListInstanceStorageConfigs failed for Connect instance {instance.label()} on {', '.join(types)}: "
        f"{first.code}: {first.message}. Buckets of these resource types are not enforced until the enforcer's "
        "role can read them.",
        error_code=first.code,
    )


def failure_reason(bucket: str, error: AwsCallError) -> str:
    if error.code == "NoSuchBucket":
        return f"{error.operation} failed: bucket {bucket} no longer exists (NoSuchBucket)"
    if error.access_denied:
        return (
            f"{error.operation} failed on {bucket}: AccessDenied; the enforcer's role needs s3:{error.operation} "
            "on the bucket, the bucket policy must admit it, and the bucket must belong to this account"
        )
    return f"{error.operation} failed on {bucket}: {error.code}: {error.message}"


def inventory_failure(bucket: str | None, error: AwsError) -> BucketResult:
    """A Connect inventory that cannot be read (or a sweep that cannot hand over): enforcement has stopped."""
    if error.operation == "Invoke":
        reason = (
            f"The sweep could not hand the rest of its instances to a new invocation: {error}. Check the "
            "function's lambda:InvokeFunction permission on itself; the next scheduled sweep starts over."
        )
    else:
        reason = (
            f"Reading the Connect inventory failed: {error}. Enforcement is stopped until the enforcer's role "
            "can read Connect (check its permissions, SCPs and permissions boundaries)."
        )
    return BucketResult(bucket, Outcome.FAILED, (), reason, error_code=error.code)
