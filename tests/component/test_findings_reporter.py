"""Security Hub findings from the real enforcer, on moto's Security Hub with the documented rules added
(tests/support/security_hub.py): one finding per bucket through every outcome, and how often it is imported.

The reporter is wired into the enforcer here as the function wires it (`Enforcer(..., findings=reporter)`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.securityhub.models import securityhub_backends

from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.outcomes import BucketResult, InstanceRef, Outcome, RunReport
from connect_lockdown.own_events import sweep_event
from connect_lockdown.reconcile import Enforcer
from connect_lockdown.securityhub.finding import GENERATOR_ID, finding_id, product_arn
from connect_lockdown.securityhub.reporter import (
    REFRESH_AFTER,
    RETENTION,
    STATE_PK,
    FindingsReporter,
    refresh_hour,
    reporter_for,
)
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import ACCOUNT, REGION, World
from tests.support import security_hub
from tests.support.policies import public_read_policy

BUCKET = "amazon-connect-25fd0a3be3ef"
START = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)
PUBLIC_POLICY = public_read_policy(BUCKET)


class Clock:
    """The reporter's wall clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@pytest.fixture
def world() -> Iterator[World]:
    """The Connect estate, with Security Hub enabled in its account and Region."""
    security_hub.install()
    with mock_aws():
        estate = World(boto3.session.Session()).setup()
        estate.client("securityhub").enable_security_hub()
        yield estate


class Stack:
    """One deployed enforcer: its gateway (with a call recorder), its reporter and the clock they share."""

    def __init__(self, world: World, *, table: bool = True, reporting: bool = True, **settings: Any) -> None:
        self.world = world
        self.clock = Clock(START)
        self.calls = AwsHooks()
        gateway = AwsGateway(session=world.enforcer_session())
        self.calls.attach_gateway(gateway)
        self.settings = Settings(
            topic_arn=world.topic_arn,
            security_hub=True,
            inventory_table=world.create_index_table() if table else None,
            **settings,
        )
        self.reporter = FindingsReporter(gateway, self.settings, self.clock)
        self.enforcer = Enforcer(self.settings, gateway, findings=self.reporter if reporting else None)

    def put_event(self) -> Any:
        return self.handle(load_event("s3-PutBucketPolicy", bucket=BUCKET))

    def delete_event(self) -> Any:
        return self.handle(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))

    def sweep(self) -> Any:
        """A scheduled sweep at the clock's time."""
        moment = self.clock.now
        return self.handle(sweep_event(f"sweep-{moment:%Y%m%d%H%M}", moment.strftime("%Y-%m-%dT%H:%M:%SZ")))

    def handle(self, event: Any) -> Any:
        report = self.enforcer.handle_event(event)
        return [(r.bucket, str(r.outcome)) for r in report.results]

    def report(self, outcome: Outcome, *, instances: int = 1, **fields: Any) -> None:
        """One result handed to the reporter as a run of its own (the table's state is read again)."""
        refs = tuple(InstanceRef(f"{n:08d}-bbbb-4ccc-8ddd-eeeeeeeeeeee", "centre") for n in range(instances))
        result = BucketResult(BUCKET, outcome, refs, f"the bucket is {outcome}", **fields)
        self.reporter(RunReport(results=[result]), result)

    @property
    def imports(self) -> int:
        return self.calls.calls["BatchImportFindings"]

    def security_hub_calls(self) -> set[str]:
        return {call.operation for call in self.calls.log if call.service == "securityhub"}

    def findings(self) -> list[dict[str, Any]]:
        return list(self.world.client("securityhub").get_findings()["Findings"])

    def finding(self) -> dict[str, Any]:
        [only] = self.findings()
        return only


def view(finding: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        finding["Compliance"]["Status"],
        finding["Workflow"]["Status"],
        finding["Severity"]["Label"],
        finding["ProductFields"]["connect-lockdown/Outcome"],
    )


# --- one finding per bucket, through the outcomes -------------------------------------------------------------


def test_one_finding_per_bucket_moves_through_the_outcomes_and_stays_one_finding(world: World) -> None:
    # Given a Connect bucket and an admin role the lock admits
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    admin_arn, _ = world.create_role("Admin")
    stack = Stack(world, admin_role_arns=(admin_arn,))
    expected_id = finding_id(ACCOUNT, REGION, BUCKET)

    # When its policy is deleted, the enforcer restores it: the finding is created PASSED and resolved
    assert stack.delete_event() == [(BUCKET, "remediated")]
    assert view(stack.finding()) == ("PASSED", "RESOLVED", "INFORMATIONAL", "remediated")
    assert stack.finding()["Id"] == expected_id and stack.finding()["GeneratorId"] == GENERATOR_ID
    created = stack.finding()["CreatedAt"]
    assert created == stack.finding()["UpdatedAt"] == "2025-03-11T09:00:00.000Z"

    # A sweep finds it compliant: nothing new to say, so nothing is imported
    imports = stack.imports
    stack.clock.advance(timedelta(hours=1))
    assert stack.sweep() == [(BUCKET, "compliant")]
    assert stack.imports == imports
    assert view(stack.finding()) == ("PASSED", "RESOLVED", "INFORMATIONAL", "remediated")

    # Someone opens the bucket while the admin role is gone: the enforcer refuses, the finding fails and is NEW
    stack.clock.advance(timedelta(hours=1))
    world.put_policy(BUCKET, PUBLIC_POLICY)
    world.client("iam").delete_role(RoleName="Admin")
    assert stack.put_event() == [(BUCKET, "refused")]
    assert view(stack.finding()) == ("FAILED", "NEW", "HIGH", "refused")
    assert "Admin" in stack.finding()["Description"]

    # The role is back: the lock is restored and the finding passes, but its workflow stays NEW: an import cannot
    # change the workflow of an existing finding, and the enforcer may not call BatchUpdateFindings
    stack.clock.advance(timedelta(hours=1))
    world.create_role("Admin")
    assert stack.put_event() == [(BUCKET, "remediated")]
    finding = stack.finding()
    assert view(finding) == ("PASSED", "NEW", "INFORMATIONAL", "remediated")
    assert finding["Id"] == expected_id
    assert finding["UpdatedAt"] == "2025-03-11T12:00:00.000Z"
    assert finding["CreatedAt"] == created
    assert finding["ProductFields"]["connect-lockdown/Trigger/EventName"] == "PutBucketPolicy"
    # Every alerted outcome was imported, the compliant sweep was not; nothing but imports reached Security Hub
    assert stack.imports == 3
    assert stack.security_hub_calls() == {"BatchImportFindings"}


def test_a_finding_someone_resolved_stays_resolved_through_later_imports(world: World) -> None:
    # Given a finding that failed and passes again: PASSED, NEW
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world, table=False)
    stack.report(Outcome.REFUSED)
    stack.clock.advance(timedelta(minutes=5))
    stack.report(Outcome.REMEDIATED)
    assert view(stack.finding()) == ("PASSED", "NEW", "INFORMATIONAL", "remediated")

    # When a person (or a Security Hub automation rule) resolves it, and the enforcer imports it again
    world.client("securityhub").batch_update_findings(
        FindingIdentifiers=[
            {"Id": finding_id(ACCOUNT, REGION, BUCKET), "ProductArn": product_arn("aws", REGION, ACCOUNT)}
        ],
        Workflow={"Status": "RESOLVED"},
    )
    stack.clock.advance(timedelta(minutes=5))
    stack.report(Outcome.REMEDIATED)

    # Then it stays resolved, and it is NEW again only when it fails again
    assert view(stack.finding()) == ("PASSED", "RESOLVED", "INFORMATIONAL", "remediated")
    stack.clock.advance(timedelta(minutes=5))
    stack.report(Outcome.FAILED)
    assert view(stack.finding()) == ("FAILED", "NEW", "HIGH", "failed")


def test_a_dry_run_finding_is_medium_and_failed_until_the_lock_is_written(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    dry = Stack(world, table=False, dry_run=True)

    assert dry.delete_event() == [(BUCKET, "would_remediate")]
    assert view(dry.finding()) == ("FAILED", "NEW", "MEDIUM", "would_remediate")

    live = Stack(world, table=False)
    live.clock.advance(timedelta(minutes=5))
    assert live.delete_event() == [(BUCKET, "remediated")]
    # Created FAILED (NEW) by the dry run: passing does not resolve it
    assert view(live.finding()) == ("PASSED", "NEW", "INFORMATIONAL", "remediated")


def test_each_bucket_has_its_own_finding(world: World) -> None:
    buckets = ["amazon-connect-first", "amazon-connect-second"]
    for bucket in buckets:
        world.create_bucket(bucket)
        world.create_instance(f"centre-{bucket[-5:]}", bucket)
    stack = Stack(world)

    assert sorted(stack.sweep()) == [(b, "remediated") for b in buckets]

    assert sorted(f["Id"] for f in stack.findings()) == [finding_id(ACCOUNT, REGION, b) for b in buckets]
    assert stack.imports == 2


def test_a_connect_inventory_that_cannot_be_read_gets_an_alert_but_no_finding(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world, table=False)
    stack.calls.fail("ListInstances", "AccessDeniedException")

    # The event names a bucket, but without the inventory nobody knows whether Connect uses it
    assert stack.put_event() == [(BUCKET, "failed")]

    assert [a["attributes"]["outcome"] for a in world.alerts()] == ["failed"]
    assert stack.imports == 0 and stack.findings() == []


# --- how often: compliant findings are refreshed, not imported on every event --------------------------------


def test_with_the_table_a_compliant_finding_is_refreshed_after_the_window_and_not_before(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world)
    assert stack.delete_event() == [(BUCKET, "remediated")]
    created = stack.finding()["CreatedAt"]
    assert stack.imports == 1

    # Compliant events inside the window import nothing: sweeps, and a policy put back unchanged
    for step in (timedelta(hours=1), timedelta(days=1), REFRESH_AFTER - timedelta(days=1, hours=1, minutes=1)):
        stack.clock.advance(step)
        assert stack.sweep() == [(BUCKET, "compliant")]
    assert stack.put_event() == [(BUCKET, "compliant")]
    assert stack.imports == 1

    # The first compliant event after the window refreshes it, in place
    refreshed_at = stack.clock.advance(timedelta(minutes=1))
    assert refreshed_at - START == REFRESH_AFTER
    assert stack.sweep() == [(BUCKET, "compliant")]
    assert stack.imports == 2
    finding = stack.finding()
    assert finding["UpdatedAt"] == "2025-03-18T09:00:00.000Z"
    assert finding["CreatedAt"] == created  # PASSED since the first import
    assert view(finding) == ("PASSED", "RESOLVED", "INFORMATIONAL", "compliant")
    assert stack.security_hub_calls() == {"BatchImportFindings"}

    # ... and then the window starts again
    stack.clock.advance(timedelta(hours=1))
    assert stack.sweep() == [(BUCKET, "compliant")]
    assert stack.imports == 2


def test_with_the_table_a_compliant_result_after_a_failed_one_is_imported_at_once(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    admin_arn, _ = world.create_role("Admin")
    stack = Stack(world, admin_role_arns=(admin_arn,))
    assert stack.delete_event() == [(BUCKET, "remediated")]
    world.client("iam").delete_role(RoleName="Admin")
    world.put_policy(BUCKET, PUBLIC_POLICY)
    stack.clock.advance(timedelta(minutes=5))
    assert stack.put_event() == [(BUCKET, "refused")]

    # An operator restores the lock by hand, with the role back: the next sweep sees it compliant
    world.create_role("Admin")
    fixer = Stack(world, table=False, reporting=False, admin_role_arns=(admin_arn,))
    fixer.put_event()
    stack.clock.advance(timedelta(minutes=5))
    imports = stack.imports
    assert stack.sweep() == [(BUCKET, "compliant")]

    assert stack.imports == imports + 1
    # PASSED again; the workflow Security Hub reset to NEW when it failed stays NEW until someone resolves it
    assert view(stack.finding()) == ("PASSED", "NEW", "INFORMATIONAL", "compliant")


def test_the_state_is_kept_in_the_index_table(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world)
    stack.delete_event()

    items = world.client("dynamodb").query(
        TableName=stack.settings.inventory_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": STATE_PK}},
    )["Items"]
    assert items == [
        {
            "pk": {"S": "finding"},
            "sk": {"S": BUCKET},
            "status": {"S": "PASSED"},
            "imported": {"S": "2025-03-11T09:00:00.000Z"},
            "since": {"S": "2025-03-11T09:00:00.000Z"},
            "created": {"S": "2025-03-11T09:00:00.000Z"},
            "updated": {"S": "2025-03-11T09:00:00.000Z"},
        }
    ]


def test_without_a_table_a_compliant_finding_is_imported_only_by_the_sweep_of_the_buckets_hour(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world, table=False)
    own_hour = refresh_hour(BUCKET)
    assert stack.delete_event() == [(BUCKET, "remediated")]
    assert stack.imports == 1

    # The next day's hourly sweeps and an unchanged put: one import, by the sweep of the bucket's hour
    next_day = START + timedelta(days=1)
    for hour in range(24):
        stack.clock.now = next_day.replace(hour=hour)
        assert stack.sweep() == [(BUCKET, "compliant")]
        assert stack.imports == (2 if hour >= own_hour else 1), hour
    assert stack.put_event() == [(BUCKET, "compliant")]
    assert stack.imports == 2
    assert view(stack.finding()) == ("PASSED", "RESOLVED", "INFORMATIONAL", "compliant")


# --- failures: logged and counted, never fatal, never a duplicate alert ---------------------------------------


def test_a_rejected_import_neither_stops_the_enforcement_nor_repeats_the_alert(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    world.client("securityhub").disable_security_hub()
    stack = Stack(world)

    # Security Hub is off in the account: the import fails, the lock is written and the alert goes out once
    assert stack.delete_event() == [(BUCKET, "remediated")]
    assert world.policy(BUCKET) is not None
    assert [a["attributes"]["outcome"] for a in world.alerts()] == ["remediated"]
    assert stack.reporter.failures == 1 and stack.reporter.imported == 0

    # Once it is on, the next compliant result imports the finding (nothing was recorded for it)
    world.client("securityhub").enable_security_hub()
    stack.clock.advance(timedelta(hours=1))
    assert stack.sweep() == [(BUCKET, "compliant")]
    assert view(stack.finding()) == ("PASSED", "RESOLVED", "INFORMATIONAL", "compliant")
    assert world.alerts() == []


def test_a_denied_import_is_counted_and_the_run_raises_nothing(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world)
    stack.calls.fail("BatchImportFindings", "AccessDeniedException")

    assert stack.delete_event() == [(BUCKET, "remediated")]

    assert stack.reporter.failures == 1
    assert stack.findings() == []
    assert len(world.alerts()) == 1


def test_a_failed_import_records_nothing_and_the_next_result_imports_again(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world)
    stack.calls.fail("BatchImportFindings", "AccessDeniedException")
    assert stack.delete_event() == [(BUCKET, "remediated")]

    # Nothing was imported, so nothing is remembered: the next compliant sweep imports the finding
    stack.calls.clear("BatchImportFindings")
    stack.clock.advance(timedelta(hours=1))
    assert stack.sweep() == [(BUCKET, "compliant")]

    assert view(stack.finding()) == ("PASSED", "RESOLVED", "INFORMATIONAL", "compliant")
    assert stack.finding()["CreatedAt"] == stack.finding()["UpdatedAt"] == "2025-03-11T10:00:00.000Z"


# --- times: created once, each update strictly later --------------------------------------------------------


@pytest.mark.parametrize("table", [True, False], ids=["table", "no-table"])
def test_an_update_is_applied_when_the_clock_goes_back_or_stands_still(world: World, table: bool) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world, table=table)
    stack.report(Outcome.REFUSED)
    first = stack.finding()

    # Two more decisions in the same millisecond, then one with the clock five minutes behind
    stack.report(Outcome.FAILED)
    stack.report(Outcome.WOULD_REMEDIATE)
    stack.clock.advance(timedelta(minutes=-5))
    stack.report(Outcome.REMEDIATED)

    # Security Hub ignores an update that is not later: each was applied, the last one shows
    finding = stack.finding()
    assert view(finding) == ("PASSED", "NEW", "INFORMATIONAL", "remediated")
    assert first["CreatedAt"] == first["UpdatedAt"] == "2025-03-11T09:00:00.000Z"
    assert finding["CreatedAt"] == first["CreatedAt"]
    assert finding["UpdatedAt"] == "2025-03-11T09:00:00.003Z"
    assert stack.imports == 4


def test_a_new_reporter_reads_the_last_update_time_from_the_table(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world)
    stack.report(Outcome.REFUSED)
    stack.report(Outcome.FAILED)

    # Another execution environment, whose clock is a minute behind
    other = FindingsReporter(stack.reporter.gateway, stack.settings, lambda: START - timedelta(minutes=1))
    result = BucketResult(BUCKET, Outcome.REMEDIATED, (InstanceRef("i-1"),), "restored")
    other(RunReport(results=[result]), result)

    assert view(stack.finding())[0::3] == ("PASSED", "remediated")
    assert stack.finding()["UpdatedAt"] == "2025-03-11T09:00:00.002Z"


def test_a_finding_security_hub_deleted_is_created_again_with_its_own_creation_time(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world)
    stack.report(Outcome.COMPLIANT)
    assert stack.imports == 1

    # The enforcer imports nothing for RETENTION (it was off), and Security Hub deletes the finding
    securityhub_backends[ACCOUNT][REGION].findings.clear()
    stack.clock.advance(RETENTION)
    stack.report(Outcome.COMPLIANT)

    finding = stack.finding()
    assert stack.imports == 2
    assert finding["CreatedAt"] == finding["UpdatedAt"] == finding["FirstObservedAt"] == "2025-06-09T09:00:00.000Z"
    assert view(finding) == ("PASSED", "RESOLVED", "INFORMATIONAL", "compliant")


# --- orphaned buckets, exposures, the runbook ---------------------------------------------------------------


def test_an_orphaned_bucket_gets_a_warning_imported_once_and_refreshed_like_a_compliant_one(world: World) -> None:
    world.create_bucket(BUCKET)
    stack = Stack(world)

    stack.report(Outcome.ORPHANED, instances=0)
    for step in (timedelta(days=1), REFRESH_AFTER - timedelta(days=1, minutes=1)):
        stack.clock.advance(step)
        stack.report(Outcome.ORPHANED, instances=0)
    assert stack.imports == 1
    stack.clock.advance(timedelta(minutes=1))
    stack.report(Outcome.ORPHANED, instances=0)

    assert stack.imports == 2
    finding = stack.finding()
    assert view(finding) == ("WARNING", "NEW", "LOW", "orphaned")
    assert [r["Type"] for r in finding["Resources"]] == ["AwsS3Bucket"]


def test_without_a_table_an_orphaned_bucket_is_imported_each_time_it_is_found(world: World) -> None:
    world.create_bucket(BUCKET)
    stack = Stack(world, table=False)

    for _ in range(2):
        stack.clock.advance(timedelta(days=1))
        stack.report(Outcome.ORPHANED, instances=0)

    assert stack.imports == 2
    assert view(stack.finding())[0] == "WARNING"


def test_a_compliant_bucket_whose_exposures_change_is_imported_at_once(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    stack = Stack(world)
    public = ({"sid": "MakeItPublic", "kind": "public", "principal": "*"},)
    stack.report(Outcome.COMPLIANT)

    stack.clock.advance(timedelta(hours=1))
    stack.report(Outcome.COMPLIANT, exposures=public)
    assert stack.imports == 2
    assert "1 grant beside the lock would open the bucket" in stack.finding()["Description"]

    # The same exposures again: nothing new to say
    stack.clock.advance(timedelta(hours=1))
    stack.report(Outcome.COMPLIANT, exposures=public)
    assert stack.imports == 2

    # Gone again: said at once
    stack.clock.advance(timedelta(hours=1))
    stack.report(Outcome.COMPLIANT)
    assert stack.imports == 3
    assert "grant" not in stack.finding()["Description"]


def test_the_runbook_is_the_findings_link_when_it_is_set(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    runbook = "https://wiki.example.com/runbooks/connect-lockdown"

    Stack(world, table=False, runbook_url=runbook).report(Outcome.REFUSED)
    linked = Stack(world, table=False).finding()
    assert linked["Remediation"]["Recommendation"]["Url"] == runbook

    unlinked = Stack(world, table=False)
    unlinked.clock.advance(timedelta(minutes=1))
    unlinked.report(Outcome.REMEDIATED)
    assert "Url" not in unlinked.finding()["Remediation"]["Recommendation"]


# --- wiring ---------------------------------------------------------------------------------------------------


def test_reporter_for_is_none_unless_security_hub_is_on(world: World) -> None:
    gateway = AwsGateway(session=world.enforcer_session())

    assert reporter_for(Settings(topic_arn=world.topic_arn), gateway) is None
    reporter = reporter_for(Settings(topic_arn=world.topic_arn, security_hub=True), gateway)
    assert isinstance(reporter, FindingsReporter) and reporter.gateway is gateway
