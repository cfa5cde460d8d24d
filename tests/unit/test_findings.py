"""The ASFF builder alone: every outcome, the field limits, the identifiers. Pure; no AWS.

The limits are those of the Security Hub API reference (tests/support/security_hub.py cites each, tests/support/asff.py has them); botocore's
service model checks types and required members as the SDK would before sending.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters
from hypothesis import given, settings
from hypothesis import strategies as st

from connect_lockdown.events import Trigger
from connect_lockdown.outcomes import BucketResult, InstanceRef, Outcome
from connect_lockdown.securityhub.finding import (
    FINDING_TYPE,
    GENERATOR_ID,
    PROJECT_URL,
    README_SECTION,
    SEVERITY,
    compliance_status,
    finding_for,
    finding_id,
    has_finding,
    product_arn,
)
from devtools.account import ACCOUNT
from tests.support.asff import asff_problems

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"  # not the estates' Region: a finding carries the Region it is given
BUCKET = "amazon-connect-25fd0a3be3ef"
NOW = datetime(2025, 3, 11, 14, 22, 7, 123456, tzinfo=UTC)
TRIGGER = Trigger(
    event_id="7c1d3e52-9a4b-4f0e-b6d2-3e8f1a5c9d71",
    event_name="PutBucketPolicy",
    actor="arn:aws:sts::123456789012:assumed-role/Admin/jane",
    time="2025-03-11T14:22:05Z",
    source_ip="203.0.113.7",
)
BUCKET_OUTCOMES = [o for o in Outcome if o is not Outcome.PENDING]
BATCH_IMPORT = botocore.session.get_session().get_service_model("securityhub")


def result_of(outcome: Outcome, **fields: Any) -> BucketResult:
    defaults: dict[str, Any] = {
        "bucket": BUCKET,
        "outcome": outcome,
        "instances": (InstanceRef("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "contact-centre"),),
        "reason": f"the bucket is {outcome}",
    }
    return BucketResult(**(defaults | fields))


def build(result: BucketResult, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "account": ACCOUNT,
        "region": REGION,
        "partition": "aws",
        "trigger": TRIGGER,
        "now": NOW,
    }
    return finding_for(result, **(arguments | overrides))


def sdk_problems(finding: dict[str, Any]) -> str:
    """What botocore's parameter validation says of a BatchImportFindings request with this finding."""
    shape = BATCH_IMPORT.operation_model("BatchImportFindings").input_shape
    try:
        validate_parameters({"Findings": [finding]}, shape)
    except ParamValidationError as error:  # its message lists every problem
        return str(error)
    return ""


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


# --- every outcome ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "compliance", "workflow", "severity"),
    [
        (Outcome.COMPLIANT, "PASSED", "RESOLVED", "INFORMATIONAL"),
        (Outcome.REMEDIATED, "PASSED", "RESOLVED", "INFORMATIONAL"),
        (Outcome.WOULD_REMEDIATE, "FAILED", "NEW", "MEDIUM"),
        (Outcome.REFUSED, "FAILED", "NEW", "HIGH"),
        (Outcome.FAILED, "FAILED", "NEW", "HIGH"),
    ],
)
def test_each_outcome_maps_to_its_compliance_workflow_and_severity(
    outcome: Outcome, compliance: str, workflow: str, severity: str
) -> None:
    finding = build(result_of(outcome))

    assert finding["Compliance"] == {"Status": compliance}
    assert finding["Workflow"] == {"Status": workflow}
    assert finding["RecordState"] == "ACTIVE"
    assert finding["Severity"] == {"Label": severity, "Original": str(outcome)}
    # Providers update Severity and Types of an existing finding through FindingProviderFields.
    assert finding["FindingProviderFields"] == {"Severity": finding["Severity"], "Types": [FINDING_TYPE]}
    assert compliance_status(outcome) == compliance


@pytest.mark.parametrize("outcome", BUCKET_OUTCOMES)
def test_every_outcome_builds_a_finding_security_hub_and_the_sdk_accept(outcome: Outcome) -> None:
    finding = build(result_of(outcome))

    assert asff_problems(finding) == []
    assert sdk_problems(finding) == ""
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["GeneratorId"] == GENERATOR_ID
    assert finding["AwsAccountId"] == ACCOUNT
    assert finding["Types"] == [FINDING_TYPE]
    assert BUCKET in finding["Title"]


def test_failed_and_refused_are_the_most_severe_outcomes() -> None:
    order = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
    highest = max(order.index(label) for label in SEVERITY.values())
    assert {o for o, label in SEVERITY.items() if order.index(label) == highest} == {Outcome.FAILED, Outcome.REFUSED}
    assert order.index(SEVERITY[Outcome.WOULD_REMEDIATE]) < highest


def test_results_without_a_connect_bucket_get_no_finding() -> None:
    pending = BucketResult(None, Outcome.PENDING, (InstanceRef("i"),), "no S3 storage yet")
    unreadable_inventory = BucketResult(None, Outcome.FAILED, (), "ListInstances failed", error_code="AccessDenied")
    # The event named a bucket, but whether Connect uses it is not known while the inventory cannot be read
    unknown_bucket = BucketResult(BUCKET, Outcome.FAILED, (), "ListInstances failed", error_code="AccessDenied")

    for result in (pending, unreadable_inventory, unknown_bucket):
        assert not has_finding(result)
        with pytest.raises(ValueError, match="no finding"):
            build(result)
    assert has_finding(result_of(Outcome.FAILED))


# --- identity: one finding per account, Region and bucket ---------------------------------------------------


def test_the_id_is_the_same_for_every_outcome_and_time_and_differs_by_account_region_and_bucket() -> None:
    ids = {build(result_of(o), now=NOW + timedelta(days=n))["Id"] for n, o in enumerate(BUCKET_OUTCOMES)}
    assert ids == {finding_id(ACCOUNT, REGION, BUCKET)} == {f"connect-lockdown/{ACCOUNT}/{REGION}/{BUCKET}"}

    others = {
        finding_id("210987654321", REGION, BUCKET),
        finding_id(ACCOUNT, "us-east-1", BUCKET),
        finding_id(ACCOUNT, REGION, "another-bucket"),
    }
    assert len(others) == 3 and finding_id(ACCOUNT, REGION, BUCKET) not in others


def test_the_finding_goes_to_the_accounts_default_product_and_names_the_bucket_first() -> None:
    finding = build(result_of(Outcome.REMEDIATED))

    assert finding["ProductArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    assert finding["ProductArn"] == product_arn("aws", REGION, ACCOUNT)
    assert finding["Resources"][0] == {
        "Type": "AwsS3Bucket",
        "Id": f"arn:aws:s3:::{BUCKET}",
        "Partition": "aws",
        "Region": REGION,
    }
    [instance] = finding["Resources"][1:]
    assert instance["Type"] == "Other"
    assert instance["Id"] == f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    assert instance["Details"] == {"Other": {"ConnectInstanceAlias": "contact-centre"}}


@pytest.mark.parametrize(
    ("partition", "region", "resource_partition"),
    [
        ("aws-cn", "cn-north-1", "aws-cn"),
        ("aws-us-gov", "us-gov-west-1", "aws-us-gov"),
        ("aws-iso", "us-iso-east-1", None),
    ],
)
def test_other_partitions(partition: str, region: str, resource_partition: str | None) -> None:
    finding = build(result_of(Outcome.COMPLIANT), partition=partition, region=region)

    assert finding["ProductArn"].startswith(f"arn:{partition}:securityhub:{region}:")
    assert finding["Resources"][0]["Id"] == f"arn:{partition}:s3:::{BUCKET}"
    # Resource.Partition accepts only the partitions the API lists: left out for the others.
    assert finding["Resources"][0].get("Partition") == resource_partition
    assert asff_problems(finding) == []


# --- people: title, description, remediation, the trigger ---------------------------------------------------


def test_the_trigger_says_who_when_and_which_event() -> None:
    finding = build(result_of(Outcome.REMEDIATED, reason="the lockdown statement had drifted"))

    fields = finding["ProductFields"]
    assert fields["connect-lockdown/Outcome"] == "remediated"
    assert fields["connect-lockdown/Trigger/Actor"] == TRIGGER.actor
    assert fields["connect-lockdown/Trigger/EventName"] == "PutBucketPolicy"
    assert fields["connect-lockdown/Trigger/EventId"] == TRIGGER.event_id
    assert fields["connect-lockdown/Trigger/Time"] == TRIGGER.time
    assert fields["connect-lockdown/Trigger/SourceIp"] == "203.0.113.7"
    assert fields["connect-lockdown/Instances"] == "contact-centre (aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee)"
    assert finding["Description"] == (
        "the lockdown statement had drifted. Connect instances: contact-centre (aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee). "
        f"Last trigger: PutBucketPolicy by {TRIGGER.actor} at {TRIGGER.time} (event {TRIGGER.event_id})."
    )


def test_a_failed_result_carries_its_error_code_and_no_trigger_leaves_no_trigger_fields() -> None:
    finding = build(result_of(Outcome.FAILED, error_code="AccessDenied"), trigger=None)

    assert finding["ProductFields"]["connect-lockdown/ErrorCode"] == "AccessDenied"
    assert not any(key.startswith("connect-lockdown/Trigger/") for key in finding["ProductFields"])
    assert "Last trigger" not in finding["Description"]


def test_timestamps_are_utc_milliseconds_and_created_at_is_when_the_status_was_first_seen() -> None:
    first = NOW - timedelta(days=3)
    finding = build(result_of(Outcome.REFUSED), first_observed=first)

    assert finding["UpdatedAt"] == finding["LastObservedAt"] == "2025-03-11T14:22:07.123Z"
    assert finding["CreatedAt"] == finding["FirstObservedAt"] == "2025-03-08T14:22:07.123Z"
    assert build(result_of(Outcome.REFUSED))["CreatedAt"] == "2025-03-11T14:22:07.123Z"


@pytest.mark.parametrize("outcome", BUCKET_OUTCOMES)
def test_the_recommendation_links_to_a_readme_section_that_exists(outcome: Outcome) -> None:
    headings = re.findall(r"^#{1,6} (.+)$", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    recommendation = build(result_of(outcome))["Remediation"]["Recommendation"]

    assert recommendation["Url"] == f"{PROJECT_URL}#{README_SECTION[outcome]}"
    assert README_SECTION[outcome] in {github_anchor(h) for h in headings}
    assert recommendation["Text"].strip()


def test_the_source_url_opens_the_buckets_permissions_in_the_console() -> None:
    finding = build(result_of(Outcome.REFUSED))

    assert finding["SourceUrl"] == (
        f"https://console.aws.amazon.com/s3/buckets/{BUCKET}?region={REGION}&tab=permissions"
    )


# --- limits: whatever the reason, the instances and the trigger hold ----------------------------------------

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=5000)


@settings(max_examples=60, deadline=None)
@given(
    outcome=st.sampled_from(BUCKET_OUTCOMES),
    reason=_text,
    aliases=st.lists(st.one_of(st.none(), st.text(min_size=1, max_size=200)), min_size=1, max_size=60),
    actor=st.one_of(st.none(), _text),
    event_name=st.one_of(st.none(), _text),
    bucket=st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True),
)
def test_every_field_stays_within_its_limits(
    outcome: Outcome, reason: str, aliases: list[str | None], actor: str | None, event_name: str | None, bucket: str
) -> None:
    instances = tuple(InstanceRef(f"{n:08d}-bbbb-4ccc-8ddd-eeeeeeeeeeee", alias) for n, alias in enumerate(aliases))
    trigger = Trigger(event_id="e" * 1024, event_name=event_name, actor=actor, time="2025-03-11T14:22:05Z")

    finding = build(result_of(outcome, bucket=bucket, reason=reason, instances=instances), trigger=trigger)

    assert asff_problems(finding) == []
    assert len(finding["Resources"]) == min(1 + len(instances), 32)
    assert len(finding["Title"]) <= 256 and len(finding["Description"]) <= 1024
    assert all(len(v) <= 2048 for v in finding["ProductFields"].values())
