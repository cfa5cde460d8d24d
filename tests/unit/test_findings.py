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

from connect_lockdown.config import RUNBOOK_URL_LIMIT, ConfigError, Settings
from connect_lockdown.events import Trigger
from connect_lockdown.outcomes import BucketResult, InstanceRef, Outcome
from connect_lockdown.securityhub.finding import (
    FINDING_TYPE,
    GENERATOR_ID,
    PARTITIONS,
    RESOURCE_PARTITIONS,
    SEVERITY,
    compliance_status,
    finding_for,
    finding_id,
    has_finding,
    product_arn,
)
from connect_lockdown.securityhub.reporter import RETENTION, FindingState, next_state
from connect_lockdown.securityhub.wording import EXPOSURES_LIMIT
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
BOTOCORE = botocore.session.get_session()
BATCH_IMPORT = BOTOCORE.get_service_model("securityhub")
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
RUNBOOK = "https://wiki.example.com/runbooks/connect-lockdown#bucket-alerts"


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


# --- every outcome ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "compliance", "workflow", "severity"),
    [
        (Outcome.COMPLIANT, "PASSED", "RESOLVED", "INFORMATIONAL"),
        (Outcome.REMEDIATED, "PASSED", "RESOLVED", "INFORMATIONAL"),
        (Outcome.WOULD_REMEDIATE, "FAILED", "NEW", "MEDIUM"),
        (Outcome.REFUSED, "FAILED", "NEW", "HIGH"),
        (Outcome.FAILED, "FAILED", "NEW", "HIGH"),
        (Outcome.ORPHANED, "WARNING", "NEW", "LOW"),
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


def test_an_orphaned_bucket_gets_a_warning_finding_though_no_instance_stores_in_it() -> None:
    # Given a bucket that carries the lock and that no Connect instance uses any more
    orphan = result_of(Outcome.ORPHANED, instances=(), reason="no Connect instance stores in the bucket any more")

    # When its finding is built
    finding = build(orphan)

    # Then it is a valid LOW warning about the bucket alone, which tells people what to decide
    assert has_finding(orphan)
    assert asff_problems(finding) == [] and sdk_problems(finding) == ""
    assert (finding["Compliance"], finding["Severity"]["Label"]) == ({"Status": "WARNING"}, "LOW")
    assert [r["Type"] for r in finding["Resources"]] == ["AwsS3Bucket"]
    assert "unlock" in finding["Remediation"]["Recommendation"]["Text"]
    assert "Connect instances" not in finding["Description"]


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


def security_hub_partitions() -> set[str]:
    """The partitions in which botocore's endpoints data gives Security Hub endpoints."""
    endpoints = BOTOCORE.get_data("endpoints")
    return {p["partition"] for p in endpoints["partitions"] if "securityhub" in p["services"]}


def test_the_partitions_are_those_of_botocores_security_hub_data() -> None:
    resource_enum = set(BATCH_IMPORT.shape_for("Partition").enum)

    # A finding's ARNs may name any partition Security Hub has endpoints in
    assert set(PARTITIONS) == security_hub_partitions()
    # Resource.Partition takes the enum's values that name one of those partitions, and no other
    assert set(RESOURCE_PARTITIONS) == resource_enum & security_hub_partitions()


@pytest.mark.parametrize("partition", sorted(security_hub_partitions()))
def test_every_partition_of_security_hub_gets_a_finding_botocore_accepts(partition: str) -> None:
    finding = build(result_of(Outcome.COMPLIANT), partition=partition, region="somewhere-1")

    assert finding["ProductArn"] == f"arn:{partition}:securityhub:somewhere-1:{ACCOUNT}:product/{ACCOUNT}/default"
    assert finding["Resources"][0]["Id"] == f"arn:{partition}:s3:::{BUCKET}"
    # The optional Resource.Partition only where the model's enum names this partition
    expected = partition if partition in BATCH_IMPORT.shape_for("Partition").enum else None
    assert finding["Resources"][0].get("Partition") == expected
    assert asff_problems(finding) == [] and sdk_problems(finding) == ""


def test_a_partition_without_security_hub_gets_no_finding() -> None:
    with pytest.raises(ValueError, match="no endpoint in partition 'aws-mars'"):
        build(result_of(Outcome.COMPLIANT), partition="aws-mars")


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


def test_timestamps_are_utc_milliseconds_and_a_new_finding_is_created_when_it_is_updated() -> None:
    finding = build(result_of(Outcome.REFUSED), first_observed=NOW - timedelta(days=3))

    assert finding["UpdatedAt"] == finding["LastObservedAt"] == "2025-03-11T14:22:07.123Z"
    assert finding["CreatedAt"] == finding["UpdatedAt"]
    assert finding["FirstObservedAt"] == "2025-03-08T14:22:07.123Z"


def test_an_update_keeps_the_findings_creation_time_and_carries_the_updated_time_it_is_given() -> None:
    created, updated = NOW - timedelta(days=20), NOW + timedelta(milliseconds=1)

    finding = build(result_of(Outcome.COMPLIANT), created=created, updated=updated)

    assert finding["CreatedAt"] == "2025-02-19T14:22:07.123Z"
    assert finding["UpdatedAt"] == "2025-03-11T14:22:07.124Z"
    assert finding["LastObservedAt"] == "2025-03-11T14:22:07.123Z"


# --- when the reporter imports: the times of the next import ---------------------------------------------


def state(at: datetime, *, status: str = "PASSED", created: datetime | None = None) -> FindingState:
    return FindingState(status, imported=at, since=created or at, created=created or at, updated=at)


def test_a_first_import_creates_the_finding_at_its_update_time() -> None:
    first = next_state(None, "PASSED", "", NOW)

    assert first.created == first.updated == first.since == first.imported == NOW


def test_an_update_is_strictly_later_even_in_the_same_millisecond_or_when_the_clock_goes_back() -> None:
    # Given a finding created ten days ago and last updated at NOW
    previous = state(NOW, created=NOW - timedelta(days=10))

    same_millisecond = next_state(previous, "PASSED", "", NOW)
    clock_went_back = next_state(same_millisecond, "FAILED", "", NOW - timedelta(minutes=5))
    later = next_state(clock_went_back, "FAILED", "", NOW + timedelta(hours=1))

    assert previous.updated < same_millisecond.updated < clock_went_back.updated < later.updated
    assert same_millisecond.updated == NOW + timedelta(milliseconds=1)
    assert clock_went_back.updated == NOW + timedelta(milliseconds=2)
    assert later.updated == NOW + timedelta(hours=1)
    # An update never moves the creation time
    assert {s.created for s in (same_millisecond, clock_went_back, later)} == {NOW - timedelta(days=10)}
    # A new status is observed from when it was seen; the same status keeps its start
    assert clock_went_back.since <= clock_went_back.updated and later.since == clock_went_back.since


def test_a_finding_security_hub_deleted_is_created_again() -> None:
    previous = state(NOW - RETENTION, created=NOW - RETENTION - timedelta(days=30))

    recreated = next_state(previous, "PASSED", "", NOW)
    kept = next_state(state(NOW - RETENTION + timedelta(minutes=1)), "PASSED", "", NOW)

    assert recreated.created == recreated.updated == recreated.since == NOW
    assert kept.created == NOW - RETENTION + timedelta(minutes=1) < kept.updated


# --- the runbook link ------------------------------------------------------------------------------------


def runbook_setting(value: str) -> str | None:
    return Settings.from_env({"NOTIFICATION_TOPIC_ARN": TOPIC, "RUNBOOK_URL": value}).runbook_url


@pytest.mark.parametrize("outcome", BUCKET_OUTCOMES)
def test_the_recommendation_links_to_the_runbook_when_one_is_set_and_to_nothing_otherwise(outcome: Outcome) -> None:
    with_runbook = build(result_of(outcome), runbook_url=runbook_setting(RUNBOOK))
    without = build(result_of(outcome), runbook_url=runbook_setting(""))

    assert with_runbook["Remediation"]["Recommendation"]["Url"] == RUNBOOK
    assert "Url" not in without["Remediation"]["Recommendation"]
    assert without["Remediation"]["Recommendation"]["Text"].strip()
    # No other link to a page of the project's choosing: only the runbook and the bucket's console page
    links = re.findall(r"https://[^\s\"']+", repr(without))
    assert all(link.startswith("https://console.aws.amazon.com/s3/") for link in links)
    assert sdk_problems(with_runbook) == "" and asff_problems(with_runbook) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://wiki.example.com/runbook", "must be an https:// URL"),
        ("wiki.example.com/runbook", "must be an https:// URL"),
        ("https:///no-host", "must be an https:// URL"),
        ("https://wiki.example.com/run book", "must be an https:// URL"),
        ("https://wiki.example.com/\u0007", "must be an https:// URL"),
        ("https://wiki.example.com/" + "a" * (RUNBOOK_URL_LIMIT - 24), "at most 508"),
        ("https://[::1", "is not a URL"),
    ],
)
def test_a_runbook_url_that_is_not_an_https_url_within_the_limit_stops_the_start(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="RUNBOOK_URL") as error:
        runbook_setting(value)
    assert message in str(error.value)


def test_the_runbook_limit_is_the_templates() -> None:
    template = (ROOT / "template.yaml").read_text(encoding="utf-8")
    [limit] = re.findall(r"AllowedPattern: \^\(https://\[\^\\s\]\{1,(\d+)\}\)\?\$", template)

    assert len("https://") + int(limit) == RUNBOOK_URL_LIMIT
    assert runbook_setting("https://w.example/" + "a" * (RUNBOOK_URL_LIMIT - 18)) is not None


def test_the_source_url_opens_the_buckets_permissions_in_the_console() -> None:
    finding = build(result_of(Outcome.REFUSED))

    assert finding["SourceUrl"] == (
        f"https://console.aws.amazon.com/s3/buckets/{BUCKET}?region={REGION}&tab=permissions"
    )


# --- exposures: said in the description, whatever its length ------------------------------------------------

PUBLIC = {"sid": "MakeItPublic", "kind": "public", "principal": "*"}
PARTNER = {"sid": None, "kind": "other-account", "principal": "arn:aws:iam::210987654321:root"}


def test_a_finding_with_exposures_says_so_in_its_description_and_product_fields() -> None:
    finding = build(result_of(Outcome.COMPLIANT, exposures=(PUBLIC, PARTNER)))

    assert (
        "2 grants beside the lock would open the bucket without it, or pass it: public * (statement "
        "MakeItPublic); other-account arn:aws:iam::210987654321:root."
    ) in finding["Description"]
    assert finding["ProductFields"]["connect-lockdown/Exposures"] == (
        "public * (statement MakeItPublic); other-account arn:aws:iam::210987654321:root"
    )
    assert "grant" not in build(result_of(Outcome.COMPLIANT))["Description"]
    assert "connect-lockdown/Exposures" not in build(result_of(Outcome.COMPLIANT))["ProductFields"]


def test_many_exposures_and_a_long_reason_still_say_how_many_within_the_limit() -> None:
    exposures = tuple(
        {"sid": f"Grant{n}", "kind": "other-account", "principal": f"arn:aws:iam::{n:012d}:role/{'r' * 60}"}
        for n in range(40)
    )

    finding = build(result_of(Outcome.REMEDIATED, reason="r" * 5000, exposures=exposures))

    description = finding["Description"]
    assert len(description) <= 1024
    assert "40 grants beside the lock would open the bucket" in description
    assert re.search(r"and \d+ more\.", description)
    assert len(description[description.index("40 grants") :]) <= EXPOSURES_LIMIT + 200
    assert asff_problems(finding) == []


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
    exposures=st.lists(
        st.fixed_dictionaries(
            {
                "sid": st.one_of(st.none(), _text),
                "kind": st.sampled_from(["public", "other-account", "service-without-source"]),
                "principal": _text,
            }
        ),
        max_size=30,
    ),
)
def test_every_field_stays_within_its_limits(
    outcome: Outcome,
    reason: str,
    aliases: list[str | None],
    actor: str | None,
    event_name: str | None,
    bucket: str,
    exposures: list[dict[str, str | None]],
) -> None:
    instances = tuple(InstanceRef(f"{n:08d}-bbbb-4ccc-8ddd-eeeeeeeeeeee", alias) for n, alias in enumerate(aliases))
    trigger = Trigger(event_id="e" * 1024, event_name=event_name, actor=actor, time="2025-03-11T14:22:05Z")
    result = result_of(outcome, bucket=bucket, reason=reason, instances=instances, exposures=tuple(exposures))

    finding = build(result, trigger=trigger)

    assert asff_problems(finding) == [] and sdk_problems(finding) == ""
    # Whatever else is cut, a finding with exposures says how many
    if exposures:
        assert f"{len(exposures)} grant" in finding["Description"]
    assert len(finding["Resources"]) == min(1 + len(instances), 32)
    assert len(finding["Title"]) <= 256 and len(finding["Description"]) <= 1024
    assert all(len(v) <= 2048 for v in finding["ProductFields"].values())
