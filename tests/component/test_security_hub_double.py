"""The Security Hub rules tests/support/security_hub.py adds to moto, each as its documentation states it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.account import ACCOUNT, REGION
from tests.support import security_hub

PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"


def finding(updated: str, compliance: str, **fields: Any) -> dict[str, Any]:
    return {
        "SchemaVersion": "2018-10-08",
        "Id": "example/1",
        "ProductArn": PRODUCT,
        "GeneratorId": "example",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": "2025-01-01T00:00:00Z",
        "UpdatedAt": updated,
        "Severity": {"Label": "INFORMATIONAL" if compliance == "PASSED" else "HIGH"},
        "Title": "An example",
        "Description": "An example finding",
        "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::example"}],
        "Compliance": {"Status": compliance},
        "Workflow": {"Status": "RESOLVED" if compliance == "PASSED" else "NEW"},
    } | fields


@pytest.fixture
def hub() -> Iterator[Any]:
    security_hub.install()
    with mock_aws():
        client = boto3.client("securityhub", region_name=REGION)
        client.enable_security_hub()
        yield client


def stored(hub: Any) -> dict[str, Any]:
    [only] = hub.get_findings()["Findings"]
    return dict(only)


def test_a_finding_is_rejected_while_security_hub_is_off_or_for_another_account(hub: Any) -> None:
    other = finding("2025-01-01T00:00:00Z", "PASSED", AwsAccountId="210987654321")
    assert hub.batch_import_findings(Findings=[other])["FailedFindings"][0]["ErrorCode"] == "AccessDeniedException"

    hub.disable_security_hub()
    response = hub.batch_import_findings(Findings=[finding("2025-01-01T00:00:00Z", "PASSED")])
    assert response["FailedCount"] == 1 and response["FailedFindings"][0]["ErrorCode"] == "InvalidAccess"


@pytest.mark.parametrize(
    "fields",
    [
        {"Title": "t" * 257},
        {"Description": "d" * 1025},
        {"Description": "two\nlines"},
        {"Types": ["Vulnerabilities/CVE"]},
        {"UpdatedAt": "2025-01-01 00:00:00"},
        {"Resources": []},
        {"ProductFields": {"k": "v" * 2049}},
        {"Severity": {"Label": "SEVERE"}},
    ],
)
def test_a_finding_out_of_the_documented_limits_is_rejected(hub: Any, fields: dict[str, Any]) -> None:
    response = hub.batch_import_findings(Findings=[finding("2025-01-01T00:00:00Z", "PASSED", **fields)])

    assert response["FailedCount"] == 1
    assert response["FailedFindings"][0]["ErrorCode"] == "InvalidInput"


def test_an_update_cannot_change_the_workflow_but_failing_resets_it_to_new(hub: Any) -> None:
    hub.batch_import_findings(Findings=[finding("2025-01-01T00:00:00Z", "PASSED")])
    assert stored(hub)["Workflow"] == {"Status": "RESOLVED"}

    hub.batch_import_findings(Findings=[finding("2025-01-02T00:00:00Z", "PASSED", Workflow={"Status": "NOTIFIED"})])
    assert stored(hub)["Workflow"] == {"Status": "RESOLVED"}

    hub.batch_import_findings(Findings=[finding("2025-01-03T00:00:00Z", "FAILED")])
    assert stored(hub)["Workflow"] == {"Status": "NEW"}

    # Passing again does not resolve a finding of a custom product: BatchUpdateFindings does
    hub.batch_import_findings(Findings=[finding("2025-01-04T00:00:00Z", "PASSED")])
    assert stored(hub)["Workflow"] == {"Status": "NEW"}
    response = hub.batch_update_findings(
        FindingIdentifiers=[{"Id": "example/1", "ProductArn": PRODUCT}], Workflow={"Status": "RESOLVED"}
    )
    assert response["UnprocessedFindings"] == []
    assert stored(hub)["Workflow"] == {"Status": "RESOLVED"}


def test_an_older_update_is_ignored(hub: Any) -> None:
    hub.batch_import_findings(Findings=[finding("2025-01-02T00:00:00Z", "PASSED")])
    hub.batch_import_findings(Findings=[finding("2025-01-01T00:00:00Z", "FAILED")])

    assert stored(hub)["Compliance"] == {"Status": "PASSED"}


def test_a_severity_people_changed_is_kept_and_the_providers_goes_to_finding_provider_fields(hub: Any) -> None:
    hub.batch_import_findings(Findings=[finding("2025-01-01T00:00:00Z", "FAILED")])
    hub.batch_update_findings(
        FindingIdentifiers=[{"Id": "example/1", "ProductArn": PRODUCT}], Severity={"Label": "LOW"}
    )
    provider = {"Severity": {"Label": "CRITICAL"}}

    hub.batch_import_findings(Findings=[finding("2025-01-02T00:00:00Z", "FAILED", FindingProviderFields=provider)])

    assert stored(hub)["Severity"] == {"Label": "LOW"}
    assert stored(hub)["FindingProviderFields"]["Severity"] == {"Label": "CRITICAL"}


def test_updating_an_unknown_finding_is_unprocessed(hub: Any) -> None:
    response = hub.batch_update_findings(
        FindingIdentifiers=[{"Id": "nothing", "ProductArn": PRODUCT}], Workflow={"Status": "RESOLVED"}
    )

    assert response["ProcessedFindings"] == []
    assert response["UnprocessedFindings"][0]["FindingIdentifier"]["Id"] == "nothing"
