"""Report bucket results to Security Hub: what is imported when, and the per-bucket state that keeps imports few.

The rule:
- every result people are alerted about each time (remediated, would_remediate, refused, failed) is imported at
  once;
- a compliant or orphaned result is imported when the bucket's compliance status or its exposures changed, and
  otherwise refreshed every REFRESH_AFTER, so that Security Hub, which deletes an active finding not updated for
  90 days, never loses it; each import is an ingestion event Security Hub charges for, so a compliant event is not
  imported otherwise.
The last status, exposures and times of each bucket's finding live in the index table (items `finding` /
<bucket>). Without a table, or while it cannot be read, a compliant result is imported only by the scheduled
sweep whose UTC hour is the bucket's own (a hash of its name), that is once a day with the default hourly sweep;
an orphaned one (found once a day) every time.

Times. A finding's first import, and the first after Security Hub deleted it (RETENTION without an import), create
it: CreatedAt is then its UpdatedAt. Every later import keeps that CreatedAt and sends an UpdatedAt later than the
last one sent (by a millisecond at least, whatever the clock says), because Security Hub ignores an update whose
UpdatedAt matches or precedes the stored one.

Workflow. BatchImportFindings sets Workflow.Status only when it creates a finding (RESOLVED when it passes, NEW
otherwise); Security Hub resets RESOLVED to NEW when the finding leaves PASSED, and sets RESOLVED by itself only
for its own control findings. The enforcer does not call BatchUpdateFindings: IAM can grant it only on the whole
hub, so the role could rewrite any finding of the account (GuardDuty's too). A finding that passes again shows
PASSED and keeps its workflow until a person or a Security Hub automation rule resolves it (docs/interface.md).

Failures are logged and counted, never raised: the bucket is already enforced and its alert is still published.
Nothing is recorded for an import that failed, so the next result for the bucket imports the finding again, in
place (same Id), and nothing is duplicated.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from ..aws import AwsError, CachedIdentity, CallerIdentity, Gateway
from ..config import Settings
from ..events import Trigger
from ..log import SERVICE
from ..outcomes import BucketResult, Outcome, RunReport
from ..times import hour_of, parse_iso
from .finding import (
    FAILED,
    MILLISECOND,
    PASSED,
    WARNING,
    compliance_status,
    finding_for,
    has_finding,
    timestamp,
    to_millisecond,
)

logger = Logger(service=SERVICE, child=True)

# Far inside Security Hub's 90 days: twelve refreshes can be missed before a finding is lost.
REFRESH_AFTER = timedelta(days=7)
# Security Hub deletes an active finding that has not been updated for 90 days: the next import creates it again.
RETENTION = timedelta(days=90)
STATE_PK = "finding"
# Outcomes whose finding is imported only when something changed or the refresh is due (see the module's rule).
REFRESHED = (Outcome.COMPLIANT, Outcome.ORPHANED)


@dataclass(frozen=True)
class FindingState:
    """What was last imported for a bucket: its compliance status, when (by the clock), since when the bucket has
    had that status, the CreatedAt and UpdatedAt sent, and a digest of its exposures."""

    status: str
    imported: datetime
    since: datetime
    created: datetime
    updated: datetime
    exposures: str = ""


def exposures_digest(exposures: Sequence[Mapping[str, str | None]]) -> str:
    """A short, stable digest of a result's exposures: the state notices a change without storing them."""
    if not exposures:
        return ""
    text = json.dumps([dict(e) for e in exposures], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
        # The last import of each bucket from this execution environment: its UpdatedAt stays strictly later
        # even without a table, or when the table's copy is older.
        self._sent: dict[str, FindingState] = {}

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
        bucket, now = result.bucket, to_millisecond(self.clock())
        states = self._states_of(report)
        previous = _latest(states.get(bucket) if states is not None else None, self._sent.get(bucket))
        status, digest = compliance_status(result.outcome), exposures_digest(result.exposures)
        due = _due(result, status, digest, previous, tracked=states is not None, trigger=report.trigger, now=now)
        if not due:
            return
        state = next_state(previous, status, digest, now)
        identity = self.identity()
        finding = finding_for(
            result,
            account=identity.account,
            region=self.gateway.region,
            partition=identity.partition,
            trigger=report.trigger,
            now=now,
            updated=state.updated,
            created=state.created,
            first_observed=state.since,
            runbook_url=self.settings.runbook_url,
        )
        if self.gateway.import_findings([finding]):
            self.failures += 1
            logger.error("Security Hub rejected the finding", extra={"bucket": bucket, "finding_id": finding["Id"]})
            return
        self.imported += 1
        self._sent[bucket] = state
        self._remember(states, bucket, state)

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
            "created": timestamp(state.created),
            "updated": timestamp(state.updated),
        }
        if state.exposures:
            item["exposures"] = state.exposures
        try:
            self.gateway.table_put(table, [item])
        except AwsError as error:
            # Harmless: the next result for the bucket imports its finding again.
            logger.warning("the finding state was not saved", extra={"bucket": bucket, "error": str(error)})


def reporter_for(settings: Settings, gateway: Gateway) -> FindingsReporter | None:
    """The reporter the function wires into its enforcer; None when SECURITY_HUB is off."""
    return FindingsReporter(gateway, settings) if settings.security_hub else None


def next_state(previous: FindingState | None, status: str, exposures: str, now: datetime) -> FindingState:
    """The state of the import about to be made at `now` (to the millisecond).

    UpdatedAt is `now`, or a millisecond after the last one sent when the clock says otherwise (it went back, or
    two decisions fell in the same millisecond). The import creates the finding when none was sent, or when the
    last was sent RETENTION ago or more (Security Hub has deleted it): then CreatedAt is UpdatedAt."""
    if previous is None:
        return FindingState(status, now, now, now, now, exposures)
    updated = max(now, previous.updated + MILLISECOND)
    lost = now - previous.imported >= RETENTION
    since = previous.since if previous.status == status and not lost else now
    created = updated if lost else previous.created
    return FindingState(status, now, min(since, updated), created, updated, exposures)


def _latest(*states: FindingState | None) -> FindingState | None:
    """Of the table's state and this environment's memory, the one with the later UpdatedAt."""
    known = [s for s in states if s is not None]
    return max(known, key=lambda s: s.updated) if known else None


def _due(
    result: BucketResult,
    status: str,
    exposures: str,
    previous: FindingState | None,
    *,
    tracked: bool,
    trigger: Trigger | None,
    now: datetime,
) -> bool:
    if result.outcome not in REFRESHED:
        return True
    if tracked:
        return (
            previous is None
            or previous.status != status
            or previous.exposures != exposures
            or not timedelta(0) <= now - previous.imported < REFRESH_AFTER
        )
    if result.outcome is Outcome.ORPHANED:
        return True
    assert result.bucket is not None
    return trigger is not None and trigger.scheduled_sweep and hour_of(trigger.time) == refresh_hour(result.bucket)


def _parse_states(items: list[dict[str, Any]]) -> dict[str, FindingState]:
    """Items that cannot be read are left out: their bucket's finding is then imported again. An item written
    before CreatedAt and UpdatedAt were kept sent them as `since` and `imported`."""
    states = {}
    for item in items:
        bucket, status = item.get("sk"), item.get("status")
        imported, since = parse_iso(item.get("imported")), parse_iso(item.get("since"))
        created = parse_iso(item.get("created")) or since
        updated = parse_iso(item.get("updated")) or imported
        digest = item.get("exposures") or ""
        if isinstance(bucket, str) and status in (PASSED, FAILED, WARNING) and imported and since and created:
            assert updated is not None
            states[bucket] = FindingState(str(status), imported, since, created, updated, str(digest))
    return states
