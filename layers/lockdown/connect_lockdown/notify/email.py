"""The email rendering: plain text for people reading mail on a phone."""

from __future__ import annotations

from ..labels import instance_label
from .view import ACTIONS, DIFF_OUTCOMES, AlertView, console_url, fields, one_line

EMAIL_DIFF_LINES = 120


def render_email(view: AlertView, diff_lines: int = EMAIL_DIFF_LINES) -> str:
    lines = [view.summary(), "", "Where"]
    lines += fields([("Bucket", view.bucket_text())])
    instances = view.instances()
    label = "Instance" if len(instances) == 1 else "Instances"
    names = [instance_label(id_, alias) for id_, alias in instances] or ["none recorded"]
    lines += fields([(label, names[0])] + [("", name) for name in names[1:]])
    lines += fields([("Account", view.account), ("Region", view.region)])
    lines += ["", "Who", *fields(view.who())]
    lines += ["", "What the enforcer did", f"  {ACTIONS.get(view.outcome, 'Nothing was written.')}"]
    if view.outcome != "refused":
        # A refusal's reason is what to fix, and is shown there.
        lines += [f"  Reason: {view.reason}"]
    exposures = view.exposures()
    if exposures:
        lines += ["", "Grants beside the lock that open the bucket", *[f"  {text}" for text in exposures]]
    lines += ["", "Policy, before and after (unified diff, keys sorted)"]
    lines += _diff(view, diff_lines)
    legend = view.legend()
    if legend:
        lines += ["", "Who the allowlist entries are", *fields(legend)]
    heading = "What to fix" if view.outcome == "refused" else "Next steps"
    lines += ["", heading] + [f"  - {step}" for step in view.next_steps()]
    url = console_url(view.bucket, view.region)
    lines += ["", "Permissions in the S3 console", f"  {url or 'no public console in this partition'}"]
    lines += [
        "",
        "-- ",
        "Connect Bucket Lockdown. The JSON document of this alert goes to SQS, Lambda and email-json",
        "subscribers of the same topic.",
    ]
    return "\n".join(lines) + "\n"


def _diff(view: AlertView, limit: int) -> list[str]:
    if view.outcome not in DIFF_OUTCOMES:
        return ["  None: nothing was written, the policy is unchanged."]
    diff = view.diff()
    if not diff:
        return ["  None: the policies are the same."]
    shown = [f"  {one_line(text)}" for text in diff[:limit]]
    if len(diff) > limit:
        shown.append(
            f"  ... {len(diff) - limit} more lines not shown: the full policies are in the JSON document "
            "(SQS and email-json subscribers) and in the bucket."
        )
    return shown
