"""A bucket decision as a Security Hub finding in the AWS Security Finding Format (ASFF). Pure: no AWS calls.

One finding per account, Region and bucket: the same `Id` every time, so Security Hub updates it in place.
Limits and rules, from the AWS Security Hub API Reference and User Guide:
- AwsSecurityFinding (required attributes; Id and GeneratorId <= 512, Title <= 256, Description <= 1024,
  Types <= 50 in five namespaces, Resources 1 to 32, ProductFields <= 50 pairs with keys <= 128 and values
  <= 2048, timestamps as RFC 3339 with at most 9 fractional digits, rounded to milliseconds by Security Hub):
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html
- Recommendation.Text <= 512: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Recommendation.html
- Resource (Type <= 256, Region <= 16, Partition one of the enum of botocore's Security Hub model):
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Resource.html
- Severity labels and their meaning: https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Severity.html
- The default product ARN of an account's own findings:
  https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-custom-providers.html
- Types taxonomy: https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html
- "After a finding is created, BatchImportFindings cannot be used to update" Note, UserDefinedFields,
  VerificationState and Workflow; providers update Severity and Types through FindingProviderFields; an update
  whose UpdatedAt "matches or occurs before" the stored one is ignored:
  https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
- Security Hub sets Workflow.Status to RESOLVED by itself only for findings from its own controls, and resets
  RESOLVED to NEW when Compliance.Status leaves PASSED:
  https://docs.aws.amazon.com/securityhub/latest/userguide/findings-workflow-status.html
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ..events import Trigger
from ..notify import console_url
from ..outcomes import BucketResult, InstanceRef, Outcome
from ..times import utc_iso
from .wording import RECOMMENDATIONS, TITLES, exposure_label, exposures_sentence, fit

SCHEMA_VERSION = "2018-10-08"
GENERATOR_ID = "connect-bucket-lockdown"
PRODUCT_NAME = "Connect Bucket Lockdown"
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices"

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 1024
RECOMMENDATION_LIMIT = 512
PRODUCT_FIELD_VALUE_LIMIT = 2048
RESOURCES_LIMIT = 32
ORIGINAL_SEVERITY_LIMIT = 64
# The partitions in which Security Hub has endpoints (botocore's endpoints data): the partitions a finding's
# ARNs (ProductArn, the resources' Id) may use. tests/unit/test_findings.py keeps this equal to botocore's data.
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
# The values of Resource.Partition (an enum of botocore's Security Hub model) that name one of those partitions.
# The enum's aws-us-iso and aws-us-iso-b are not the names of the isolated partitions (aws-iso, aws-iso-b), and
# AzureCloud is no AWS partition: there the optional field is left out rather than guessed.
RESOURCE_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

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


MILLISECOND = timedelta(milliseconds=1)


def timestamp(moment: datetime) -> str:
    """UTC with milliseconds: Security Hub rounds finer fractions to milliseconds anyway."""
    return utc_iso(moment, digits=3)


def to_millisecond(moment: datetime) -> datetime:
    """`moment` cut to the millisecond that `timestamp` writes: times compared with what was sent must be these."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def has_finding(result: BucketResult) -> bool:
    """Decisions about a Connect bucket get a finding, and so does a bucket that carries the lock but that no
    instance uses any more (orphaned). A pending instance has no bucket; a Connect inventory that cannot be read
    has none either, or names a bucket of the event that is not known to be a Connect bucket."""
    if result.bucket is None or result.outcome not in SEVERITY:
        return False
    return bool(result.instances) or result.outcome is Outcome.ORPHANED


def finding_for(
    result: BucketResult,
    *,
    account: str,
    region: str,
    partition: str,
    trigger: Trigger | None,
    now: datetime,
    updated: datetime | None = None,
    created: datetime | None = None,
    first_observed: datetime | None = None,
    runbook_url: str | None = None,
) -> dict[str, Any]:
    """The ASFF finding of one bucket result, decided at `now` (LastObservedAt).

    `updated`: its UpdatedAt (default `now`), which the reporter makes later than any it sent before. `created`:
    the CreatedAt of the finding Security Hub holds; None when this import creates it, and then CreatedAt is
    UpdatedAt. `first_observed`: since when the bucket has had this compliance status (default `now`).
    `runbook_url`: the team's runbook (RUNBOOK_URL), the finding's only link; no link when None."""
    if result.bucket is None or not has_finding(result):
        raise ValueError(f"a {result.outcome} result without a bucket has no finding")
    if partition not in PARTITIONS:
        raise ValueError(f"Security Hub has no endpoint in partition {partition!r} (botocore's endpoints data)")
    bucket, outcome = result.bucket, result.outcome
    status = compliance_status(outcome)
    updated_at = timestamp(updated or now)
    severity = {"Label": SEVERITY[outcome], "Original": str(outcome)[:ORIGINAL_SEVERITY_LIMIT]}
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(account, region, bucket),
        "ProductArn": product_arn(partition, region, account),
        "ProductName": PRODUCT_NAME,
        "GeneratorId": GENERATOR_ID,
        "AwsAccountId": account,
        "Types": [FINDING_TYPE],
        "CreatedAt": updated_at if created is None else timestamp(created),
        "FirstObservedAt": timestamp(first_observed or now),
        "LastObservedAt": timestamp(now),
        "UpdatedAt": updated_at,
        "Severity": severity,
        # What the provider says, kept apart from what people change with BatchUpdateFindings; an update of
        # Severity and Types by a provider goes through here.
        "FindingProviderFields": {"Severity": dict(severity), "Types": [FINDING_TYPE]},
        "Title": fit(TITLES[outcome].format(bucket=bucket), TITLE_LIMIT),
        "Description": fit(_description(result, trigger), DESCRIPTION_LIMIT),
        "Remediation": {"Recommendation": _recommendation(outcome, runbook_url)},
        "ProductFields": _product_fields(result, trigger),
        "Resources": _resources(bucket, result.instances, account=account, region=region, partition=partition),
        "Compliance": {"Status": status},
        # Honoured only when this import creates the finding; on an update Security Hub ignores it. Later
        # changes are Security Hub's (leaving PASSED resets RESOLVED to NEW) or people's: a finding that passes
        # again keeps the workflow it had (NEW after a failure) until someone, or an automation rule, resolves it.
        "Workflow": {"Status": "RESOLVED" if status == PASSED else "NEW"},
        "RecordState": "ACTIVE",
    }
    source = console_url(bucket, region)
    if source is not None:
        finding["SourceUrl"] = source
    return finding


def _recommendation(outcome: Outcome, runbook_url: str | None) -> dict[str, str]:
    recommendation = {"Text": fit(RECOMMENDATIONS[outcome], RECOMMENDATION_LIMIT)}
    if runbook_url:
        recommendation["Url"] = runbook_url
    return recommendation


def _description(result: BucketResult, trigger: Trigger | None) -> str:
    """The reason, then the exposures (kept whole: the reason is cut to leave them room), then the instances and
    the trigger while they fit."""
    exposures = exposures_sentence(result.exposures)
    room = DESCRIPTION_LIMIT - (len(exposures) + 1 if exposures else 0)
    text = fit(result.reason.rstrip(".") + ".", room)
    if exposures:
        text += " " + exposures
    rest = []
    if result.instances:
        rest.append(f"Connect instances: {', '.join(i.label() for i in result.instances)}.")
    if trigger is not None:
        rest.append(f"Last trigger: {_trigger_sentence(trigger)}.")
    room = DESCRIPTION_LIMIT - len(text) - 1
    if rest and room >= len("Connect instances: ..."):
        text += " " + fit(" ".join(rest), room)
    return text


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
        "connect-lockdown/Exposures": "; ".join(exposure_label(e) for e in result.exposures),
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
