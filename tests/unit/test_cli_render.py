"""What audit, plan and apply print about a result's exposures (grants kept beside the lock), in text and JSON,
from results built by hand: one line per exposure, with the bucket where the output lists many."""

from __future__ import annotations

import io
from typing import Any

from connect_lockdown.cli.render import audit_document, plan_document, print_audit, print_plan
from connect_lockdown.cli.single_scope import ScopeRun
from connect_lockdown.outcomes import BucketResult, InstanceRef, Outcome, RunReport
from devtools.account import ACCOUNT, OTHER_ACCOUNT, REGION

BUCKET = "amazon-connect-25fd0a3be3ef"
PUBLIC = {"sid": "MakeItPublic", "kind": "public", "principal": "*"}
OTHER = {"sid": None, "kind": "other-account", "principal": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}
SERVICE = {"sid": "Logs", "kind": "service-without-source", "principal": "logging.s3.amazonaws.com"}
LOCK = {
    "Sid": "ConnectBucketLockdown",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"StringNotLike": {"aws:userId": [ACCOUNT]}},
}
GRANT = {"Sid": "MakeItPublic", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}


def result(outcome: Outcome, *exposures: dict[str, Any], bucket: str = BUCKET) -> BucketResult:
    locked = {"Version": "2012-10-17", "Statement": [GRANT, LOCK]}
    drifted = outcome.drifted
    return BucketResult(
        bucket,
        outcome,
        (InstanceRef("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "contact-centre"),),
        "reason",
        previous_policy={"Version": "2012-10-17", "Statement": [GRANT]} if drifted else locked,
        applied_policy=locked if drifted else None,
        exposures=tuple(exposures),
    )


def run_of(*results: BucketResult) -> ScopeRun:
    return ScopeRun(ACCOUNT, REGION, RunReport(results=list(results)), None)


def test_audit_prints_one_line_per_exposure_with_its_bucket() -> None:
    out = io.StringIO()
    print_audit(run_of(result(Outcome.COMPLIANT, PUBLIC, OTHER, SERVICE), result(Outcome.COMPLIANT, bucket="b-2")), out)
    lines = [line for line in out.getvalue().splitlines() if "exposure:" in line]
    assert lines == [
        f"{BUCKET}: exposure: statement MakeItPublic grants the public (*)",
        f"{BUCKET}: exposure: a statement without a Sid grants another account (arn:aws:iam::{OTHER_ACCOUNT}:root)",
        f"{BUCKET}: exposure: statement Logs grants the service logging.s3.amazonaws.com without a source "
        "condition (aws:SourceAccount, aws:SourceArn or aws:SourceOrgID)",
    ]


def test_audit_and_plan_json_carry_the_exposures() -> None:
    run = run_of(result(Outcome.WOULD_REMEDIATE, PUBLIC), result(Outcome.COMPLIANT, bucket="b-2"))
    audit = {b["bucket"]: b for b in audit_document(run)["buckets"]}
    assert audit[BUCKET]["exposures"] == [PUBLIC] and audit["b-2"]["exposures"] == []
    plan = {b["bucket"]: b for b in plan_document(run)}
    assert plan[BUCKET]["exposures"] == [PUBLIC] and plan["b-2"]["exposures"] == []


def test_plan_prints_the_exposures_in_each_buckets_section() -> None:
    out = io.StringIO()
    print_plan(run_of(result(Outcome.WOULD_REMEDIATE, PUBLIC), result(Outcome.COMPLIANT, SERVICE, bucket="b-2")), out)
    sections = out.getvalue().split("\n\n")
    mine = next(s for s in sections if s.startswith(f"# {BUCKET}"))
    other = next(s for s in sections if s.startswith("# b-2"))
    assert "#   exposure: statement MakeItPublic grants the public (*)" in mine.splitlines()
    assert "MakeItPublic" not in other and "#   exposure: statement Logs grants the service" in other


def test_no_exposure_no_line() -> None:
    out = io.StringIO()
    print_audit(run_of(result(Outcome.COMPLIANT)), out)
    print_plan(run_of(result(Outcome.WOULD_REMEDIATE)), out)
    assert "exposure" not in out.getvalue()
