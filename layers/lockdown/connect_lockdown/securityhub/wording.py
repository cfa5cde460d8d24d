"""What a finding says to people: its title and recommendation per outcome, and the grants beside the lock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..outcomes import Outcome

# The exposures' sentence in the Description: kept whole whatever the length of the reason before it.
EXPOSURES_LIMIT = 400

EXPOSURE_PRINCIPAL_LIMIT = 120


def fit(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis when cut, never blank: ASFF strings match
    the pattern .*\\S.*, which a line break could fail."""
    text = " ".join(text.split()) or "-"
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


TITLES = {
    Outcome.COMPLIANT: "Connect bucket {bucket} carries the lockdown policy",
    Outcome.REMEDIATED: "Connect bucket {bucket} had drifted from the lockdown policy and was restored",
    Outcome.WOULD_REMEDIATE: "Connect bucket {bucket} has drifted from the lockdown policy (dry run: not restored)",
    Outcome.REFUSED: "Connect bucket {bucket} is not locked: the enforcer refused to write its policy",
    Outcome.FAILED: "Connect bucket {bucket} is not enforced: AWS rejected the enforcer's call",
    Outcome.ORPHANED: "Bucket {bucket} carries the Connect lockdown but no Connect instance stores in it any more",
}

RECOMMENDATIONS = {
    Outcome.COMPLIANT: "Nothing to do. The enforcer keeps this bucket's lockdown policy in place and reports any "
    "change to it.",
    Outcome.REMEDIATED: "Ask the caller named in the finding why they changed the bucket policy; the lock is back "
    "and their other statements were kept. To give someone access, add their role to AdminRoleArns or "
    "ExtraPrincipalArns: a hand edit of the policy is reverted.",
    Outcome.WOULD_REMEDIATE: "The enforcer runs with DRY_RUN on and wrote nothing. Review the drift (the alert "
    "carries the policy diff), then set the DryRun parameter to false so the lock is restored automatically.",
    Outcome.REFUSED: "Writing the policy would have been unsafe, so the bucket stays as it is. Fix the cause given in "
    "the description (a role that does not resolve, a policy over 20 KB, an unreadable policy); the next event "
    "or sweep restores the lock.",
    Outcome.FAILED: "Give the enforcer's role the access the description names (IAM, SCPs, permissions boundaries, "
    "the bucket policy), or remove the Connect storage configuration of a deleted bucket; the next sweep "
    "checks again.",
    Outcome.ORPHANED: "Nothing was written: removing a lock is a person's decision. If the bucket still holds "
    "recordings, keep the lock; to retire it, run connect-lockdown unlock --bucket with the bucket's name.",
}


def exposures_sentence(exposures: Sequence[Mapping[str, str | None]]) -> str:
    """One line of at most EXPOSURES_LIMIT characters: how many grants beside the lock would open the bucket (or
    pass it), and as many of them as fit; empty when there are none."""
    if not exposures:
        return ""
    count = len(exposures)
    head = (
        f"{count} grant{'s' if count > 1 else ''} beside the lock would open the bucket without it, or "
        f"{'pass' if count > 1 else 'passes'} it:"
    )
    items = [exposure_label(e) for e in exposures]
    shown: list[str] = []
    for number, item in enumerate(items):
        left = count - number - 1
        more = f" and {left} more" if left else ""
        candidate = f"{head} {'; '.join([*shown, item])}{more}."
        if len(candidate) > EXPOSURES_LIMIT:
            break
        shown.append(item)
    left = count - len(shown)
    if not shown:
        return fit(f"{head} {count} (see the alert's exposures).", EXPOSURES_LIMIT)
    return f"{head} {'; '.join(shown)}{f' and {left} more' if left else ''}."


def exposure_label(exposure: Mapping[str, str | None]) -> str:
    kind = exposure.get("kind") or "grant"
    principal = fit(str(exposure.get("principal") or "?"), EXPOSURE_PRINCIPAL_LIMIT)
    sid = exposure.get("sid")
    label = f"{kind} {principal}"
    return fit(f"{label} (statement {sid})" if sid else label, EXPOSURE_PRINCIPAL_LIMIT + 80)
