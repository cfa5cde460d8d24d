"""Report bucket results to Security Hub: what is imported when, and the per-bucket state that keeps imports few.

The rule:
- every result people are alerted about (remediated, would_remediate, refused, failed) is imported at once;
- a compliant result is imported when the bucket's compliance status changed, and otherwise refreshed every
  REFRESH_AFTER, so that Security Hub, which deletes an active finding not updated for 90 days, never loses it;
  each import is an ingestion event Security Hub charges for, so a compliant event is not imported otherwise.
The last status and import time of each bucket live in the index table (items `finding` / <bucket>). Without a
table, or while it cannot be read, a compliant result is imported only by the scheduled sweep whose UTC hour is
the bucket's own (a hash of its name), that is once a day with the default hourly sweep.

BatchImportFindings sets Workflow.Status only when it creates a finding; Security Hub itself resets a finding to
NEW when its compliance goes from PASSED to FAILED. When a finding passes again, BatchUpdateFindings resolves it.

Failures are logged and counted, never raised: the bucket is already enforced and its alert is still published,
and the next result for the bucket imports the finding again, in place (same Id), so nothing is duplicated.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from ..aws import AwsError, CachedIdentity, CallerIdentity, Gateway
from ..config import Settings
from ..events import Trigger
from ..log import SERVICE
from ..outcomes import BucketResult, RunReport
from ..times import hour_of, parse_iso
from .finding import FAILED, PASSED, compliance_status, finding_for, has_finding, timestamp

logger = Logger(service=SERVICE, child=True)

# Far inside Security Hub's 90 days: twelve refreshes can be missed before a finding is lost.
REFRESH_AFTER = timedelta(days=7)
STATE_PK = "finding"


@dataclass(frozen=True)
class FindingState:
    """What was last imported for a bucket: its compliance status, when, and since when it has had that status."""

    status: str
    imported: datetime
    since: datetime


def refresh_hour(bucket: str) -> int:
    """The UTC hour whose scheduled sweep refreshes the bucket's compliant finding when there is no table.
    Stable across processes (unlike hash()), and spread over the day so buckets do not all import at once."""
    return zlib.crc32(bucket.encode()) % 24


class FindingsReporter:
    """Called by the enforcer with every result: `Enforcer(..., findings=FindingsReporter(gateway, settings))`."""

    def __init__(
        self,
        gateway: Gateway,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        identity: Callable[[], CallerIdentity] | None = None,
    ) -> None:
        self.gateway = gateway
        self.settings = settings
        self.clock = clock
        # Imports made, and imports or updates that failed (logged), since the execution environment started.
        self.imported = 0
        self.failures = 0
        self.identity = identity or CachedIdentity(gateway)
        # The state is read once per run: a sweep of a thousand buckets makes one Query.
        self._states_report: RunReport | None = None
        self._states: dict[str, FindingState] | None = None

    def __call__(self, report: RunReport, result: BucketResult) -> None:
        if not has_finding(result):
            return
        try:
            self._report(report, result)
        except AwsError as error:
            self.failures += 1
            logger.error("importing a finding failed", extra={"bucket": result.bucket, "error": str(error)})
        except Exception:  # a side channel: never stop the enforcement or the alert that follows
            self.failures += 1
            logger.exception("building or importing a finding failed", extra={"bucket": result.bucket})

    def _report(self, report: RunReport, result: BucketResult) -> None:
        assert result.bucket is not None
        bucket, now = result.bucket, self.clock()
        states = self._states_of(report)
        previous = states.get(bucket) if states is not None else None
        status = compliance_status(result.outcome)
        if not _due(result, status, previous, tracked=states is not None, trigger=report.trigger, now=now):
            return
        identity = self.identity()
        since = previous.since if previous is not None and previous.status == status else now
        finding = finding_for(
            result,
            account=identity.account,
            region=self.gateway.region,
            partition=identity.partition,
            trigger=report.trigger,
            now=now,
            first_observed=since,
        )
        if self.gateway.import_findings([finding]):
            self.failures += 1
            logger.error("Security Hub rejected the finding", extra={"bucket": bucket, "finding_id": finding["Id"]})
            return
        self.imported += 1
        if status == PASSED and (previous is None or previous.status != PASSED):
            self._resolve(finding)
        self._remember(states, bucket, FindingState(status, now, since))

    def _resolve(self, finding: dict[str, Any]) -> None:
        """Workflow RESOLVED for a finding that passes again (it may have been FAILED and reset to NEW)."""
        try:
            unprocessed = self.gateway.resolve_findings(finding["ProductArn"], [finding["Id"]])
        except AwsError as error:
            self.failures += 1
            logger.warning("resolving a finding failed", extra={"finding_id": finding["Id"], "error": str(error)})
            return
        if unprocessed:
            self.failures += 1
            logger.warning("Security Hub did not resolve the finding", extra={"finding_id": finding["Id"]})

    # --- state -----------------------------------------------------------------------------------

    def _states_of(self, report: RunReport) -> dict[str, FindingState] | None:
        """The buckets' last imports, read once per run; None without a table or when it cannot be read."""
        if self._states_report is report:
            return self._states
        self._states_report, self._states = report, None
        table = self.settings.inventory_table
        if table:
            try:
                self._states = _parse_states(self.gateway.table_query(table, STATE_PK))
            except AwsError as error:
                logger.warning("the finding state cannot be read", extra={"table": table, "error": str(error)})
        return self._states

    def _remember(self, states: dict[str, FindingState] | None, bucket: str, state: FindingState) -> None:
        table = self.settings.inventory_table
        if states is None or not table:
            return
        states[bucket] = state
        item = {
            "pk": STATE_PK,
            "sk": bucket,
            "status": state.status,
            "imported": timestamp(state.imported),
            "since": timestamp(state.since),
        }
        try:
            self.gateway.table_put(table, [item])
        except AwsError as error:
            # Harmless: the next result for the bucket imports its finding again.
            logger.warning("the finding state was not saved", extra={"bucket": bucket, "error": str(error)})


def reporter_for(settings: Settings, gateway: Gateway) -> FindingsReporter | None:
    """The reporter the function wires into its enforcer; None when SECURITY_HUB is off."""
    return FindingsReporter(gateway, settings) if settings.security_hub else None


def _due(
    result: BucketResult,
    status: str,
    previous: FindingState | None,
    *,
    tracked: bool,
    trigger: Trigger | None,
    now: datetime,
) -> bool:
    if result.outcome.notified:
        return True
    if tracked:
        return (
            previous is None or previous.status != status or not timedelta(0) <= now - previous.imported < REFRESH_AFTER
        )
    assert result.bucket is not None
    return trigger is not None and trigger.scheduled_sweep and hour_of(trigger.time) == refresh_hour(result.bucket)


def _parse_states(items: list[dict[str, Any]]) -> dict[str, FindingState]:
    """Items that cannot be read are left out: their bucket's finding is then imported again."""
    states = {}
    for item in items:
        bucket, status = item.get("sk"), item.get("status")
        imported, since = parse_iso(item.get("imported")), parse_iso(item.get("since"))
        if isinstance(bucket, str) and status in (PASSED, FAILED) and imported and since:
            states[bucket] = FindingState(str(status), imported, since)
    return states
