"""A bucket decision as a Security Hub finding in the AWS Security Finding Format (ASFF). Pure: no AWS calls.

One finding per account, Region and bucket: the same `Id` every time, so Security Hub updates it in place.
Limits and rules, from the AWS Security Hub API Reference and User Guide:
- AwsSecurityFinding (required attributes; Id and GeneratorId <= 512, Title <= 256, Description <= 1024,
  Types <= 50 in five namespaces, Resources 1 to 32, ProductFields <= 50 pairs with keys <= 128 and values
  <= 2048, timestamps as RFC 3339 with at most 9 fractional digits, rounded to milliseconds by Security Hub):
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html
- Recommendation.Text <= 512: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Recommendation.html
- Resource (Type <= 256, Region <= 16, Partition one of aws, aws-cn, aws-us-gov, aws-us-iso, aws-us-iso-b):
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Resource.html
- Severity labels and their meaning: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Severity.html
- The default product ARN of an account's own findings:
  https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-custom-providers.html
- Types taxonomy: https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html
- On an existing finding BatchImportFindings ignores Workflow, and providers update Severity and Types through
  FindingProviderFields: https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..events import Trigger
from ..notify import console_url
from ..outcomes import BucketResult, InstanceRef, Outcome
from ..times import utc_iso

SCHEMA_VERSION = "2018-10-08"
GENERATOR_ID = "connect-bucket-lockdown"
PRODUCT_NAME = "Connect Bucket Lockdown"
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices"
# Where people read how to act on a finding: the repository's README, one section per kind of finding.
PROJECT_URL = "https://github.com/connect-bucket-lockdown/connect-bucket-lockdown"

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 1024
RECOMMENDATION_LIMIT = 512
PRODUCT_FIELD_VALUE_LIMIT = 2048
RESOURCES_LIMIT = 32
ORIGINAL_SEVERITY_LIMIT = 64
# Resource.Partition accepts only these partition names.
RESOURCE_PARTITIONS = frozenset({"aws", "aws-cn", "aws-us-gov", "aws-us-iso", "aws-us-iso-b"})

PASSED, FAILED, WARNING = "PASSED", "FAILED", "WARNING"

# failed and refused: the lock is missing or not enforced, and no automatic fix is coming. HIGH ("must be
# addressed as a priority"), not CRITICAL: the finding shows that the bucket policy no longer confines access to
# the allowed principals, not that the bucket is public, which S3 Block Public Access decides independently.
SEVERITY = {
    Outcome.FAILED: "HIGH",
    Outcome.REFUSED: "HIGH",
    Outcome.WOULD_REMEDIATE: "MEDIUM",
    Outcome.REMEDIATED: "INFORMATIONAL",
    Outcome.COMPLIANT: "INFORMATIONAL",
    # A lock without an instance denies nothing it should not; someone decides whether to keep or retire it.
    Outcome.ORPHANED: "LOW",
}

# README sections (GitHub anchors of its headings) that tell people what to do about each outcome.
README_SECTION = {
    Outcome.COMPLIANT: "what-the-lock-looks-like",
    Outcome.REMEDIATED: "how-it-decides",
    Outcome.WOULD_REMEDIATE: "configuration",
    Outcome.REFUSED: "how-it-decides",
    Outcome.FAILED: "deploy",
    Outcome.ORPHANED: "how-it-decides",
}

_TITLES = {
    Outcome.COMPLIANT: "Connect bucket {bucket} carries the lockdown policy",
    Outcome.REMEDIATED: "Connect bucket {bucket} had drifted from the lockdown policy and was restored",
    Outcome.WOULD_REMEDIATE: "Connect bucket {bucket} has drifted from the lockdown policy (dry run: not restored)",
    Outcome.REFUSED: "Connect bucket {bucket} is not locked: the enforcer refused to write its policy",
    Outcome.FAILED: "Connect bucket {bucket} is not enforced: AWS rejected the enforcer's call",
    Outcome.ORPHANED: "Bucket {bucket} carries the Connect lockdown but no Connect instance stores in it any more",
}

_RECOMMENDATIONS = {
    Outcome.COMPLIANT: "Nothing to do. The enforcer keeps this bucket's lockdown policy in place and reports any "
    "change to it.",
    Outcome.REMEDIATED: "Ask the caller named in the finding why they changed the bucket policy; the lock is back "
    "and their other statements were kept. To give someone access, add their role to AdminRoleArns or "
    "ExtraPrincipalArns: a hand edit of the policy is reverted.",
    Outcome.WOULD_REMEDIATE: "The enforcer runs with DRY_RUN on and wrote nothing. Review the drift (the alert "
    "carries the policy diff), then set the DryRun parameter to false so the lock is restored automatically.",
    Outcome.REFUSED: "Writing the policy would have been unsafe, so the bucket stays as it is. Fix the cause given in "
    "the description (a role that does not resolve, a policy over 20 KB, an unreadable policy); the next event "
    "or sweep restores the lock.",
    Outcome.FAILED: "Give the enforcer's role the access the description names (IAM, SCPs, permissions boundaries, "
    "the bucket policy), or remove the Connect storage configuration of a deleted bucket; the next sweep "
    "checks again.",
    Outcome.ORPHANED: "Nothing was written: removing a lock is a person's decision. If the bucket still holds "
    "recordings, keep the lock; to retire it, run connect-lockdown unlock --bucket with the bucket's name.",
}


def compliance_status(outcome: Outcome) -> str:
    """PASSED for compliant and remediated, WARNING for orphaned, FAILED for refused, failed and would_remediate."""
    if outcome is Outcome.ORPHANED:
        return WARNING
    return PASSED if outcome in (Outcome.COMPLIANT, Outcome.REMEDIATED) else FAILED


def finding_id(account: str, region: str, bucket: str) -> str:
    return f"connect-lockdown/{account}/{region}/{bucket}"


def product_arn(partition: str, region: str, account: str) -> str:
    """The account's default product: findings an account imports about itself."""
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def timestamp(moment: datetime) -> str:
    """UTC with milliseconds: Security Hub rounds finer fractions to milliseconds anyway."""
    return utc_iso(moment, digits=3)


def has_finding(result: BucketResult) -> bool:
    """Decisions about a Connect bucket get a finding. A pending instance has no bucket; a Connect inventory that
    cannot be read has none either, or names a bucket of the event that is not known to be a Connect bucket."""
    return result.bucket is not None and bool(result.instances) and result.outcome in SEVERITY


def finding_for(
    result: BucketResult,
    *,
    account: str,
    region: str,
    partition: str,
    trigger: Trigger | None,
    now: datetime,
    first_observed: datetime | None = None,
) -> dict[str, Any]:
    """The ASFF finding of one bucket result. `first_observed`: since when the bucket has had this compliance
    status, when known (it becomes CreatedAt and FirstObservedAt); otherwise `now`."""
    if result.bucket is None or not has_finding(result):
        raise ValueError(f"a {result.outcome} result without a bucket has no finding")
    bucket, outcome = result.bucket, result.outcome
    status = compliance_status(outcome)
    since = timestamp(first_observed or now)
    severity = {"Label": SEVERITY[outcome], "Original": str(outcome)[:ORIGINAL_SEVERITY_LIMIT]}
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(account, region, bucket),
        "ProductArn": product_arn(partition, region, account),
        "ProductName": PRODUCT_NAME,
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": account,
        "Types": [FINDING_TYPE],
        "CreatedAt": since,
        "FirstObservedAt": since,
        "LastObservedAt": timestamp(now),
        "UpdatedAt": timestamp(now),
        "Severity": severity,
        # What the provider says, kept apart from what people change with BatchUpdateFindings; an update of
        # Severity and Types by a provider goes through here.
        "FindingProviderFields": {"Severity": dict(severity), "Types": [FINDING_TYPE]},
        "Title": fit(_TITLES[outcome].format(bucket=bucket), TITLE_LIMIT),
        "Description": fit(_description(result, trigger), DESCRIPTION_LIMIT),
        "Remediation": {
            "Recommendation": {
                "Text": fit(_RECOMMENDATIONS[outcome], RECOMMENDATION_LIMIT),
                "Url": f"{PROJECT_URL}#{README_SECTION[outcome]}",
            }
        },
        "ProductFields": _product_fields(result, trigger),
        "Resources": _resources(bucket, result.instances, account=account, region=region, partition=partition),
        "Compliance": {"Status": status},
        # Honoured when the finding is created; later changes are Security Hub's (FAILED resets it to NEW) or
        # BatchUpdateFindings' (the reporter resolves a finding that passes again).
        "Workflow": {"Status": "RESOLVED" if status == PASSED else "NEW"},
        "RecordState": "ACTIVE",
    }
    source = console_url(bucket, region)
    if source is not None:
        finding["SourceUrl"] = source
    return finding


def fit(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis when cut, never blank: ASFF strings match
    the pattern .*\\S.*, which a line break could fail."""
    text = " ".join(text.split()) or "-"
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _description(result: BucketResult, trigger: Trigger | None) -> str:
    parts = [result.reason.rstrip(".") + "."]
    if result.instances:
        parts.append(f"Connect instances: {', '.join(i.label() for i in result.instances)}.")
    if trigger is not None:
        parts.append(f"Last trigger: {_trigger_sentence(trigger)}.")
    return " ".join(parts)


def _trigger_sentence(trigger: Trigger) -> str:
    words = [trigger.event_name or "an event"]
    if trigger.actor:
        words.append(f"by {trigger.actor}")
    if trigger.time:
        words.append(f"at {trigger.time}")
    if trigger.event_id:
        words.append(f"(event {trigger.event_id})")
    return " ".join(words)


def _product_fields(result: BucketResult, trigger: Trigger | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "connect-lockdown/Outcome": str(result.outcome),
        "connect-lockdown/Reason": result.reason,
        "connect-lockdown/ErrorCode": result.error_code,
        "connect-lockdown/Instances": ", ".join(i.label() for i in result.instances),
    }
    if trigger is not None:
        values |= {
            "connect-lockdown/Trigger/EventName": trigger.event_name,
            "connect-lockdown/Trigger/EventId": trigger.event_id,
            "connect-lockdown/Trigger/Actor": trigger.actor,
            "connect-lockdown/Trigger/Time": trigger.time,
            "connect-lockdown/Trigger/SourceIp": trigger.source_ip,
        }
    return {key: fit(value, PRODUCT_FIELD_VALUE_LIMIT) for key, value in values.items() if value}


def _resources(
    bucket: str, instances: Sequence[InstanceRef], *, account: str, region: str, partition: str
) -> list[dict[str, Any]]:
    """The bucket first, then the Connect instances that store in it (up to the 32 resources a finding holds;
    ProductFields names them all)."""
    placement = {"Region": region} | ({"Partition": partition} if partition in RESOURCE_PARTITIONS else {})
    resources: list[dict[str, Any]] = [{"Type": "AwsS3Bucket", "Id": f"arn:{partition}:s3:::{bucket}"} | placement]
    for instance in instances[: RESOURCES_LIMIT - 1]:
        resource: dict[str, Any] = {
            "Type": "Other",
            "Id": f"arn:{partition}:connect:{region}:{account}:instance/{instance.id}",
        } | placement
        if instance.alias:
            resource["Details"] = {"Other": {"ConnectInstanceAlias": fit(instance.alias, 128)}}
        resources.append(resource)
    return resources
