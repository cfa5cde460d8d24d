"""What the command line says about one bucket result: its state, a sentence, what differs, who is admitted.

The command line renders its own wording from the Outcome and the policies; the core's `reason` is written for
the function's alerts ("DRY_RUN is on, nothing was written") and is only shown, reworded, for refusals and
failures, where it is the one account of what went wrong.
"""

from __future__ import annotations

import re
from typing import Any

from .. import policy as policies
from ..decide import describe_differences
from ..notify.view import allowlist_legend
from ..outcomes import BucketResult, Outcome

STATE_LABELS = {
    Outcome.COMPLIANT: "compliant",
    Outcome.REFUSED: "refused",
    Outcome.FAILED: "failed",
    Outcome.PENDING: "pending",
}
# The read-only states, in the order summaries list them.
STATES = ("compliant", "drifted", "missing policy", "refused", "failed")

_NOTHING_WRITTEN = re.compile(r"(so )?nothing (was|is) written")


def state_of(result: BucketResult) -> str:
    """compliant, drifted, missing policy, refused, failed or pending."""
    if result.outcome.drifted:
        return "missing policy" if result.previous_policy is None else "drifted"
    return STATE_LABELS.get(result.outcome, str(result.outcome))


def summary_of(result: BucketResult, *, read_only: bool) -> str:
    """One sentence for the result, in the command's own voice."""
    state = state_of(result)
    if result.outcome is Outcome.COMPLIANT:
        return "carries the expected lockdown"
    if result.outcome.drifted:
        if result.outcome is Outcome.REMEDIATED:
            what = "had no policy" if state == "missing policy" else "; ".join(differences_of(result))
            return f"{what}; the expected lockdown was written"
        what = "has no policy" if state == "missing policy" else "; ".join(differences_of(result))
        return f"{what}; apply would write the expected lockdown"
    if result.outcome is Outcome.PENDING:
        return "has no S3 storage yet; its bucket is locked once storage is associated"
    if read_only:
        return reworded(result.reason)
    # apply writes with the operator's credentials, not the function's role.
    return result.reason.replace("the enforcer's role needs", "the credentials used need")


def reworded(reason: str) -> str:
    """A refusal or failure as a read-only command reports it: it wrote nothing because it writes nothing."""
    reason = _NOTHING_WRITTEN.sub("apply would write nothing", reason)
    reason = reason.replace(
        "Enforcement is stopped until the enforcer's role can read Connect",
        "Nothing is known of its buckets until the credentials used can read Connect",
    )
    return reason.replace("the enforcer's role needs", "the credentials used need")


def differences_of(result: BucketResult) -> list[str]:
    """What separates the current policy from the expected one, each allowlist ID named."""
    if result.outcome.drifted and result.applied_policy is not None:
        names = dict(result.principal_names)
        return describe_differences(result.previous_policy, result.applied_policy, names)
    return []


def expected_lockdown(result: BucketResult) -> dict[str, Any] | None:
    """The lockdown statement the bucket should carry: the one a write would put, or the one it has."""
    if result.outcome.drifted and result.applied_policy is not None:
        return policies.lockdown_of(result.applied_policy)
    if result.outcome is Outcome.COMPLIANT:
        return policies.lockdown_of(result.previous_policy)
    return None


def allowlist_of(result: BucketResult) -> list[dict[str, str | None]]:
    """Each entry of the expected allowlist and the principal behind it (None when unknown)."""
    statement = expected_lockdown(result)
    if statement is None:
        return []
    entries = sorted(policies.allowed_patterns_of(statement)) + sorted(policies.admitted_arns_of(statement))
    return [{"entry": entry, "principal": result.principal_names.get(entry)} for entry in entries]


def legend_of(result: BucketResult) -> list[str]:
    """`entry  who it is` for every allowlist entry of the current and the expected lock (as alerts name them)."""
    if result.outcome.drifted:
        expected = result.applied_policy
    else:
        expected = result.previous_policy if result.outcome is Outcome.COMPLIANT else None
    legend = allowlist_legend(result.previous_policy, expected, result.principal_names)
    return [f"{entry}  {name}" for entry, name in legend]


def instances_text(result: BucketResult) -> str:
    return ", ".join(f"{i.alias or '?'} ({i.id})" for i in result.instances) or "-"
