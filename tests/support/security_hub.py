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
   The enforcer never calls it; tests use it as the people (or automation rules) who resolve a finding.
   https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html

Not modelled: finding size (240 KB), ProcessedAt, expiry, cross-Region aggregation, GetFindings filters (moto
returns every finding of the account and Region), and which error code AWS gives an unknown identifier
(``FindingNotFound`` here).
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import datetime
from typing import Any

from moto.securityhub import urls as securityhub_urls
from moto.securityhub.exceptions import InvalidInputException
from moto.securityhub.models import Finding, SecurityHubBackend
from moto.securityhub.responses import SecurityHubResponse

from tests.support.asff import WORKFLOW_STATUSES, asff_problems

__all__ = ["asff_problems", "install"]

RESTRICTED = ("Note", "UserDefinedFields", "VerificationState", "Workflow")
CUSTOMER_FIELDS = ("Confidence", "Criticality", "RelatedFindings", "Severity", "Types")

_CUSTOMER_SET = "_customer_set_fields"
_INSTALL_LOCK = threading.Lock()


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

    In-process (`mock_aws`) any time before the calls; for a moto server (devtools/server.py), before its
    first Security Hub request, since the server builds a service's routes once."""
    with _INSTALL_LOCK:
        SecurityHubBackend.batch_import_findings = batch_import_findings  # type: ignore[method-assign]
        SecurityHubBackend.batch_update_findings = batch_update_findings  # type: ignore[attr-defined]
        SecurityHubResponse.batch_update_findings = _respond_batch_update_findings  # type: ignore[attr-defined]
        securityhub_urls.url_paths["{0}/findings/batchupdate$"] = SecurityHubResponse.dispatch
