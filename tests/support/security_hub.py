"""moto's Security Hub with the documented rules it leaves out, for tests only.

moto 5.2.5 stores what BatchImportFindings sends and merges updates key by key: it accepts any field value and
any length, lets an update change Workflow, never resets a workflow, and has no BatchUpdateFindings. A finding
that passes there can fail on AWS, and a workflow that looks right there is not. ``install()`` patches moto's
backend (as ``connect_storage`` does for Connect) so that in-process tests see these documented rules:

1. Security Hub must be enabled; a finding must name the calling account (AwsAccountId) and that account's
   product in this Region, else it is returned in FailedFindings.
   https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
   https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-custom-providers.html
2. Required attributes, lengths, counts, enums and timestamp formats (``asff_problems``), from
   https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html and the pages of its
   members (Resource, Severity, Recommendation, Compliance, Workflow); the service rejects such a finding with
   InvalidInput in FailedFindings.
3. An existing Id is updated only by a later UpdatedAt ("If UpdatedAt on the update occurs before UpdatedAt on
   the existing finding, then the update is ignored"); an equal one is ignored here too.
4. On an existing finding, Note, UserDefinedFields, VerificationState and Workflow from BatchImportFindings are
   ignored; Confidence, Criticality, RelatedFindings, Severity and Types are taken from the provider only while
   BatchUpdateFindings has not changed them (finding-update-batchimportfindings.html, "Restricted fields").
5. Security Hub resets Workflow.Status from NOTIFIED or RESOLVED to NEW when Compliance.Status goes from PASSED to
   WARNING, FAILED or NOT_AVAILABLE, or RecordState from ARCHIVED to ACTIVE; a new finding without a workflow is
   NEW. https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Workflow.html
6. BatchUpdateFindings (PATCH /findings/batchupdate) updates Workflow, Note, Severity and the other customer fields
   of findings of the calling account; an identifier that names no finding is returned in UnprocessedFindings.
   https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html

Not modelled: finding size (240 KB), ProcessedAt, expiry, cross-Region aggregation, GetFindings filters (moto
returns every finding of the account and Region), and which error code AWS gives an unknown identifier
(``FindingNotFound`` here).
"""

from __future__ import annotations

import copy
import json
import re
import threading
from datetime import datetime
from typing import Any

from moto.securityhub import urls as securityhub_urls
from moto.securityhub.exceptions import InvalidInputException
from moto.securityhub.models import Finding, SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse

__all__ = ["asff_problems", "install"]

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
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-us-iso", "aws-us-iso-b", "AzureCloud")
RESTRICTED = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
CUSTOMER_FIELDS = ("Confidence", "Criticality", "RelatedFindings", "Severity", "Types")

_CUSTOMER_SET = "_customer_set_fields"
_INSTALL_LOCK = threading.Lock()


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


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------
# Backend methods (bound onto SecurityHubBackend by install())
# --------------------------------------------------------------------------------------------


def _import_problem(backend: SecurityHubBackend, data: dict[str, Any]) -> tuple[str, str] | None:
    if not backend.enabled:
        return "InvalidAccess", "Account is not subscribed to AWS Security Hub"
    own_product = f"arn:aws:securityhub:{backend.region_name}:{backend.account_id}:product/{backend.account_id}/default"
    if data.get("AwsAccountId") != backend.account_id or data.get("ProductArn") != own_product:
        return "AccessDeniedException", "a finding must name the calling account and its own product in this Region"
    problems = asff_problems(data)
    return ("InvalidInput", "; ".join(problems)) if problems else None


def _create(data: dict[str, Any]) -> dict[str, Any]:
    stored = copy.deepcopy(data)
    stored.setdefault("Workflow", {"Status": "NEW"})
    stored.setdefault("RecordState", "ACTIVE")
    provider = stored.setdefault("FindingProviderFields", {})
    for name in ("Severity", "Types", "Confidence", "Criticality", "RelatedFindings"):
        if name in stored and name not in provider:
            provider[name] = copy.deepcopy(stored[name])
        if name not in stored and name in provider:
            stored[name] = copy.deepcopy(provider[name])
    return stored


def _update(existing: Finding, data: dict[str, Any]) -> None:
    old = existing.data
    customer_set: set[str] = existing.__dict__.setdefault(_CUSTOMER_SET, set())
    new = copy.deepcopy(data)
    for name in RESTRICTED:
        new.pop(name, None)
        if name in old:
            new[name] = old[name]
    provider = new.get("FindingProviderFields") or {}
    for name in CUSTOMER_FIELDS:
        if name in customer_set:
            new[name] = old.get(name)
        elif name in provider:
            new[name] = copy.deepcopy(provider[name])
    new["FindingProviderFields"] = {**old.get("FindingProviderFields", {}), **provider}
    new.setdefault("RecordState", old.get("RecordState", "ACTIVE"))
    workflow = new.get("Workflow", {}).get("Status")
    compliance_failed = (old.get("Compliance") or {}).get("Status") == "PASSED" and (new.get("Compliance") or {}).get(
        "Status"
    ) in ("WARNING", "FAILED", "NOT_AVAILABLE")
    reactivated = old.get("RecordState") == "ARCHIVED" and new["RecordState"] == "ACTIVE"
    if workflow in ("NOTIFIED", "RESOLVED") and (compliance_failed or reactivated):
        new["Workflow"] = {"Status": "NEW"}
    existing.data = new


def batch_import_findings(
    self: SecurityHubBackend, findings: list[dict[str, Any]]
) -> tuple[int, int, list[dict[str, Any]]]:
    failed: list[dict[str, Any]] = []
    succeeded = 0
    for data in findings:
        problem = _import_problem(self, data)
        if problem is not None:
            failed.append({"Id": data.get("Id", ""), "ErrorCode": problem[0], "ErrorMessage": problem[1]})
            continue
        succeeded += 1
        existing = next((f for f in self.findings if f.id == data["Id"]), None)
        if existing is None:
            self.findings.append(Finding(data["Id"], _create(data)))
        elif _moment(data["UpdatedAt"]) > _moment(existing.data["UpdatedAt"]):
            _update(existing, data)
    return len(failed), succeeded, failed


def batch_update_findings(
    self: SecurityHubBackend, identifiers: list[dict[str, str]], updates: dict[str, Any]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    status = (updates.get("Workflow") or {}).get("Status")
    if "Workflow" in updates and status not in WORKFLOW_STATUSES:
        raise InvalidInputException(op="BatchUpdateFindings", msg=f"Workflow.Status must be one of {WORKFLOW_STATUSES}")
    processed, unprocessed = [], []
    for identifier in identifiers:
        finding = next(
            (
                f
                for f in self.findings
                if f.id == identifier.get("Id") and f.data.get("ProductArn") == identifier.get("ProductArn")
            ),
            None,
        )
        if finding is None:
            unprocessed.append(
                {"FindingIdentifier": identifier, "ErrorCode": "FindingNotFound", "ErrorMessage": "no such finding"}
            )
            continue
        for name, value in updates.items():
            finding.data[name] = copy.deepcopy(value)
            if name in CUSTOMER_FIELDS:
                finding.__dict__.setdefault(_CUSTOMER_SET, set()).add(name)
        processed.append(identifier)
    return processed, unprocessed


def _respond_batch_update_findings(self: SecurityHubResponse) -> str:
    body = json.loads(self.body) if self.body else {}
    identifiers = body.pop("FindingIdentifiers", [])
    processed, unprocessed = self.securityhub_backend.batch_update_findings(identifiers, body)  # type: ignore[attr-defined]
    return json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed})


def install() -> None:
    """Patch moto's Security Hub backend, response handler and URL table; safe to call repeatedly.

    In-process (`mock_aws`) any time before the calls; for a moto server (tests/support/server.py), before its
    first Security Hub request, since the server builds a service's routes once."""
    with _INSTALL_LOCK:
        SecurityHubBackend.batch_import_findings = batch_import_findings  # type: ignore[method-assign]
        SecurityHubBackend.batch_update_findings = batch_update_findings  # type: ignore[attr-defined]
        SecurityHubResponse.batch_update_findings = _respond_batch_update_findings  # type: ignore[attr-defined]
        securityhub_urls.url_paths["{0}/findings/batchupdate$"] = SecurityHubResponse.dispatch
