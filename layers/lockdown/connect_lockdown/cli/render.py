"""The audit document, the audit table and the plan, for one scope or several."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from ..labels import plural
from ..notify.view import exposure_text
from ..outcomes import BucketResult, Outcome
from .single_scope import ScopeRun, exit_code_for
from .wording import (
    STATES,
    allowlist_of,
    differences_of,
    instances_text,
    legend_of,
    state_of,
    summary_of,
)


def bucket_document(result: BucketResult, *, read_only: bool = True) -> dict[str, Any]:
    return {
        "bucket": result.bucket,
        "state": state_of(result),
        "outcome": str(result.outcome),
        "instances": [{"id": i.id, "alias": i.alias} for i in result.instances],
        "differences": differences_of(result),
        "allowlist": allowlist_of(result),
        "reason": summary_of(result, read_only=read_only),
        "exposures": [dict(exposure) for exposure in result.exposures],
    }


def audit_document(run: ScopeRun) -> dict[str, Any]:
    """The single-scope audit document (docs/interface.md)."""
    report = run.report
    return {
        "account": run.account,
        "region": run.region,
        "enforcer_role_arn": run.enforcer_role_arn,
        "notes": run.notes,
        "buckets": [bucket_document(r) for r in report.results if r.bucket is not None],
        "pending_instances": [
            {"id": r.instances[0].id, "alias": r.instances[0].alias}
            for r in report.results
            if r.bucket is None and r.outcome is Outcome.PENDING
        ],
        "inventory_errors": [
            {
                "instances": [{"id": i.id, "alias": i.alias} for i in r.instances],
                "error_code": r.error_code,
                "reason": summary_of(r, read_only=True),
            }
            for r in report.results
            if r.bucket is None and r.outcome is Outcome.FAILED
        ],
        "orphaned_buckets": report.orphaned_buckets,
        "compliant": exit_code_for(report) == 0,
    }


def what_differs(result: BucketResult) -> str:
    if result.outcome is Outcome.COMPLIANT:
        return ""
    if result.outcome.drifted:
        return "; ".join(differences_of(result))
    return summary_of(result, read_only=True)


def audit_rows(runs: Sequence[ScopeRun], *, with_scope: bool) -> list[list[str]]:
    rows: list[list[str]] = [["BUCKET", "INSTANCES", "STATE", "WHAT DIFFERS"]]
    if with_scope:
        rows[0] = ["ACCOUNT", "REGION", *rows[0]]
    for run in runs:
        for result in run.report.results:
            if result.bucket is None:
                continue
            row = [result.bucket, instances_text(result), state_of(result), what_differs(result)]
            rows.append([run.account, run.region, *row] if with_scope else row)
    return rows


def print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


def exposure_lines(result: BucketResult) -> list[str]:
    """`exposure: statement MakeItPublic grants the public (*)`, one per grant kept beside the lock."""
    return [exposure_text(exposure) for exposure in result.exposures]


def print_scope_details(run: ScopeRun, out: TextIO, *, prefix: str = "") -> None:
    """Pending instances, unreadable inventory and locked buckets without instances, below the table."""
    for result in run.report.results:
        if result.bucket is not None:
            continue
        instance = result.instances[0] if result.instances else None
        if result.outcome is Outcome.PENDING and instance is not None:
            out.write(
                f"{prefix}pending: Connect instance {instance.alias or '?'} ({instance.id}) has no S3 storage yet\n"
            )
        elif result.outcome is Outcome.FAILED:
            out.write(f"{prefix}error: {summary_of(result, read_only=True)}\n")
    for bucket in run.report.orphaned_buckets:
        out.write(f"{prefix}no instance: {bucket} carries the lockdown, but no Connect instance uses it any more\n")


def print_exposures(runs: Sequence[ScopeRun], out: TextIO, *, with_scope: bool = False) -> None:
    """Below the table: one line per grant kept beside a lock, with its bucket."""
    for run in runs:
        scope = f"{run.account} {run.region} " if with_scope else ""
        for result in run.report.results:
            for line in exposure_lines(result) if result.bucket else []:
                out.write(f"{scope}{result.bucket}: {line}\n")


def states_sentence(runs: Sequence[ScopeRun]) -> str:
    """`3 buckets checked: 1 compliant, 1 drifted, ...`, in the read-only commands' words."""
    states: Counter[str] = Counter()
    pending = orphaned = 0
    for run in runs:
        orphaned += len(run.report.orphaned_buckets)
        for result in run.report.results:
            if result.bucket is not None:
                states[state_of(result)] += 1
            elif result.outcome is Outcome.PENDING:
                pending += 1
    counted = ", ".join(f"{states[state]} {state}" for state in STATES)
    return (
        f"{plural(sum(states.values()), 'bucket')} checked: {counted}; {plural(pending, 'instance')} pending; "
        f"{plural(orphaned, 'locked bucket')} without instances"
    )


def print_audit(run: ScopeRun, out: TextIO) -> None:
    for note in run.notes:
        out.write(f"Note: {note}.\n\n")
    rows = audit_rows([run], with_scope=False)
    if len(rows) == 1:
        out.write(f"No Connect bucket in {run.region} (account {run.account}).\n")
    else:
        print_table(rows, out)
    print_exposures([run], out)
    print_scope_details(run, out)
    out.write(f"\n{states_sentence([run])}\n")


def diff_lines(
    before: dict[str, Any] | None, after: dict[str, Any] | None, bucket: str, *, after_label: str = "expected"
) -> list[str]:
    old = json.dumps(before, indent=2).splitlines() if before is not None else []
    new = json.dumps(after, indent=2).splitlines() if after is not None else []
    return list(difflib.unified_diff(old, new, f"{bucket} (current)", f"{bucket} ({after_label})", lineterm=""))


def print_plan(run: ScopeRun, out: TextIO) -> int:
    """Print the plan; return how many buckets would change."""
    for note in run.notes:
        out.write(f"# Note: {note}.\n\n")
    changes = 0
    for result in run.report.results:
        if result.bucket is None:
            continue
        out.write(f"# {result.bucket} ({instances_text(result)}): {state_of(result)}\n")
        if result.outcome.drifted:
            changes += 1
            for line in differences_of(result):
                out.write(f"#   {line}\n")
            out.write("\n".join(diff_lines(result.previous_policy, result.applied_policy, result.bucket)) + "\n")
            legend = legend_of(result)
            if legend:
                out.write("# allowlist entries:\n" + "".join(f"#   {line}\n" for line in legend))
        elif result.outcome is Outcome.COMPLIANT:
            out.write("#   no change\n")
        else:
            out.write(f"#   {state_of(result)}: {summary_of(result, read_only=True)}\n")
        for line in exposure_lines(result):
            out.write(f"#   {line}\n")
        out.write("\n")
    print_scope_details(run, out, prefix="# ")
    if not any(r.bucket for r in run.report.results):
        out.write(f"No Connect bucket in {run.region} (account {run.account}).\n")
    return changes


def plan_document(run: ScopeRun) -> list[dict[str, Any]]:
    return [
        {
            **bucket_document(result),
            "current": result.previous_policy,
            "expected": result.applied_policy,
        }
        for result in run.report.results
        if result.bucket is not None
    ]
