"""What Security Hub's API reference says BatchImportFindings rejects in a finding: pure rules, no moto.

The sources are cited in tests/support/security_hub.py, which applies these rules to moto's Security Hub
(rule 2 there); tests/unit/test_findings.py judges the project's findings by them without AWS.
"""

from __future__ import annotations

import re
from typing import Any

import botocore.session

__all__ = ["WORKFLOW_STATUSES", "asff_problems"]

REQUIRED = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "CreatedAt",
    "UpdatedAt",
    "Title",
    "Description",
    "Resources",
)
# Severity and Types are required ASFF attributes, given at the top level or in FindingProviderFields.
# https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html
STRING_LIMITS = {
    "Id": 512,
    "ProductArn": 2048,
    "GeneratorId": 512,
    "Title": 256,
    "Description": 1024,
    "ProductName": 128,
    "CompanyName": 128,
    "Region": 16,
}
TIMESTAMPS = ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt")
# YYYY-MM-DDTHH:MM:SS, up to 9 fractional digits, then Z or an offset +HH:MM / -HHMM / +HH.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)$")
TYPE_NAMESPACES = (
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
)
SEVERITY_LABELS = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
COMPLIANCE_STATUSES = ("PASSED", "WARNING", "FAILED", "NOT_AVAILABLE")
WORKFLOW_STATUSES = ("NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED")
RECORD_STATES = ("ACTIVE", "ARCHIVED")
# Resource.Partition's enum, as botocore's Security Hub model has it.
PARTITIONS = tuple(botocore.session.get_session().get_service_model("securityhub").shape_for("Partition").enum)


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def asff_problems(finding: dict[str, Any]) -> list[str]:
    """Everything in `finding` that the API reference says BatchImportFindings rejects; empty when none."""
    problems = [f"{name} is required" for name in REQUIRED if name not in finding]
    for name, limit in STRING_LIMITS.items():
        value = finding.get(name)
        if name in finding and (_blank(value) or len(value) > limit):
            problems.append(f"{name} must be 1 to {limit} characters with a non-blank one")
    if finding.get("AwsAccountId") is not None and not re.fullmatch(r"\d{12}", str(finding["AwsAccountId"])):
        problems.append("AwsAccountId must be 12 digits")
    for name in TIMESTAMPS:
        if name in finding and not (isinstance(finding[name], str) and TIMESTAMP.match(finding[name])):
            problems.append(f"{name} is not a Security Hub timestamp: {finding[name]!r}")
    provider = finding.get("FindingProviderFields") or {}
    types = finding.get("Types", provider.get("Types"))
    if not isinstance(types, list) or not 1 <= len(types) <= 50:
        problems.append("Types must list 1 to 50 finding types")
    else:
        problems += [
            f"finding type {t!r} is in no ASFF namespace" for t in types if str(t).split("/")[0] not in TYPE_NAMESPACES
        ]
    for where, severity in (
        ("Severity", finding.get("Severity")),
        ("FindingProviderFields.Severity", provider.get("Severity")),
    ):
        if severity is None:
            continue
        if severity.get("Label") not in SEVERITY_LABELS:
            problems.append(f"{where}.Label must be one of {SEVERITY_LABELS}")
        original = severity.get("Original")
        if original is not None and (_blank(original) or len(original) > 64):
            problems.append(f"{where}.Original must be 1 to 64 characters")
    if finding.get("Severity") is None and provider.get("Severity") is None:
        problems.append("Severity is required")
    problems += _resource_problems(finding.get("Resources"))
    fields = finding.get("ProductFields", {})
    if len(fields) > 50 or any(len(k) > 128 or len(v) > 2048 or _blank(k) or _blank(v) for k, v in fields.items()):
        problems.append("ProductFields holds at most 50 pairs, keys up to 128 and values up to 2048 characters")
    text = ((finding.get("Remediation") or {}).get("Recommendation") or {}).get("Text")
    if text is not None and (_blank(text) or len(text) > 512):
        problems.append("Remediation.Recommendation.Text must be 1 to 512 characters")
    for name, allowed in (
        ("Compliance", COMPLIANCE_STATUSES),
        ("Workflow", WORKFLOW_STATUSES),
    ):
        if name in finding and finding[name].get("Status") not in allowed:
            problems.append(f"{name}.Status must be one of {allowed}")
    if "RecordState" in finding and finding["RecordState"] not in RECORD_STATES:
        problems.append(f"RecordState must be one of {RECORD_STATES}")
    problems += [f"{path} does not match .*\\S.* on one line" for path in _unpatterned(finding)]
    return problems


def _unpatterned(value: Any, path: str = "") -> list[str]:
    """Paths of strings that fail the pattern every ASFF string has, .*\\S.*, read conservatively: '.' matches
    no line break, as in Java's and Python's default."""
    if isinstance(value, str):
        return [] if re.fullmatch(r".*\S.*", value) else [path or "value"]
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in _unpatterned(k, f"{path}.{k} (key)") + _unpatterned(v, f"{path}.{k}")
        ]
    if isinstance(value, list):
        return [p for n, v in enumerate(value) for p in _unpatterned(v, f"{path}[{n}]")]
    return []


def _resource_problems(resources: Any) -> list[str]:
    if not isinstance(resources, list) or not 1 <= len(resources) <= 32:
        return ["Resources must hold 1 to 32 resources"]
    problems = []
    for number, resource in enumerate(resources):
        if _blank(resource.get("Type")) or len(resource["Type"]) > 256 or _blank(resource.get("Id")):
            problems.append(f"Resources[{number}] needs a Type of 1 to 256 characters and an Id")
        if "Partition" in resource and resource["Partition"] not in PARTITIONS:
            problems.append(f"Resources[{number}].Partition must be one of {PARTITIONS}")
        if "Region" in resource and (_blank(resource["Region"]) or len(resource["Region"]) > 16):
            problems.append(f"Resources[{number}].Region must be 1 to 16 characters")
    return problems
