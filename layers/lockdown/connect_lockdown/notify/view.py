"""The view model of one alert: what people are told about a result, independent of where they read it.

The email and chat renderings format this view; nothing here formats for a channel, except the small
helpers that make untrusted text safe on one line.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .. import policy as policies
from ..arns import partition_of
from ..events import CONNECT_EVENTS, S3_EVENTS, Trigger

SUBJECT_PREFIX = "[connect-lockdown]"
# Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100
# characters long." The issue asks for ASCII and at most 100: 99 printable ASCII characters satisfy both.
SUBJECT_LIMIT = 99
# The email's policy diff context: enough to read on a phone; the full policies are in the JSON document.
EMAIL_DIFF_CONTEXT = 3
CHAT_THREAD_ID_LIMIT = 128

_SUBJECT_WORDS = {
    "remediated": "policy restored on",
    "locked": "locked",
    "would_remediate": "dry run, would restore policy on",
    "refused": "refused to write policy on",
    "failed": "could not check",
    "orphaned": "lock without a Connect instance on",
    "unlocked": "lockdown removed from",
}
_SUMMARIES = {
    "remediated": "The lockdown policy of {bucket} had drifted and was restored.",
    "would_remediate": "The lockdown policy of {bucket} has drifted; dry run, nothing was written.",
    "refused": "The enforcer refused to write the lockdown policy of {bucket}: it needs you.",
    "failed": "The enforcer could not check or restore {bucket}: AWS rejected a call.",
    "orphaned": "{bucket} carries the lockdown, but no Connect instance stores in it any more.",
    "unlocked": "The lockdown statement was removed from {bucket} with connect-lockdown unlock.",
}
ACTIONS = {
    "remediated": "Wrote the expected lockdown policy; every other statement was kept.",
    "would_remediate": "Nothing was written: DRY_RUN is on. The diff below is what would be written.",
    "refused": "Nothing was written: writing would have been unsafe.",
    "failed": "Nothing was written.",
    "orphaned": "Nothing was written: removing a lock is a person's decision.",
    "unlocked": "Removed the lockdown statement; every other statement was kept (a policy left with none was deleted).",
}
# Outcomes whose alert shows the policy before and after.
DIFF_OUTCOMES = ("remediated", "would_remediate", "unlocked")
_CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
# Regions of the isolated partitions: no public console to link to.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def subject_for(result: Mapping[str, Any]) -> str:
    """A subject SNS accepts: printable ASCII, no line breaks, at most SUBJECT_LIMIT characters."""
    outcome = ascii_text(str(result.get("outcome")))
    bucket = ascii_text(str(result.get("bucket") or "no bucket"))
    # A bucket that never had a policy was not restored: it was locked.
    first_lock = outcome == "remediated" and result.get("previous_policy") is None
    words = _SUBJECT_WORDS["locked" if first_lock else outcome] if outcome in _SUBJECT_WORDS else outcome
    for text in (f"{SUBJECT_PREFIX} {outcome}: {words} {bucket}", f"{SUBJECT_PREFIX} {outcome}: {bucket}"):
        if len(text) <= SUBJECT_LIMIT:
            return text
    return text[:SUBJECT_LIMIT]


def console_url(bucket: str | None, region: str) -> str | None:
    """The S3 console's permissions tab of the bucket (the bucket list without one); None without a console."""
    host = _CONSOLE_HOSTS.get(partition_of(region))
    if host is None:
        return None
    if not bucket:
        return f"https://{host}/s3/buckets?region={quote(region)}"
    return f"https://{host}/s3/buckets/{quote(bucket)}?region={quote(region)}&tab=permissions"


def thread_id(account: str, region: str, bucket: str | None) -> str:
    """One chat thread per bucket: every alert about a bucket lands in the same thread."""
    text = f"connect-lockdown-{account}-{region}-{bucket or 'no-bucket'}"
    return re.sub(r"[^A-Za-z0-9._-]", "-", text)[:CHAT_THREAD_ID_LIMIT]


def policy_diff(
    before: Any, after: Any, *, context: int = EMAIL_DIFF_CONTEXT, after_label: str = "the policy written"
) -> list[str]:
    """A unified diff of two policy documents, pretty-printed with sorted keys, so only meaning shows."""
    return list(
        difflib.unified_diff(
            _policy_lines(before),
            _policy_lines(after),
            fromfile="before: the policy as read" if before is not None else "before: no bucket policy",
            tofile=f"after: {after_label}" if after is not None else "after: no policy",
            n=context,
            lineterm="",
        )
    )


# --- the two human renderings ---------------------------------------------------------------------------


@dataclass
class AlertView:
    account: str
    region: str
    trigger: Trigger | None
    result: dict[str, Any]
    aliases: dict[str, str | None]
    # allowlist entry (unique-ID pattern or role ARN) -> who it is.
    principal_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return str(self.result.get("outcome"))

    @property
    def bucket(self) -> str | None:
        bucket = self.result.get("bucket")
        return one_line(str(bucket)) if bucket else None

    @property
    def reason(self) -> str:
        return one_line(str(self.result.get("reason") or ""))

    def instances(self) -> list[tuple[str, str | None]]:
        ids = [one_line(str(i)) for i in self.result.get("instances") or []]
        return [(i, one_line(a) if (a := self.aliases.get(i)) else None) for i in ids]

    def bucket_text(self) -> str:
        return self.bucket or "unknown (no bucket was in scope)"

    def summary(self) -> str:
        template = _SUMMARIES.get(self.outcome, "{bucket}: " + self.outcome)
        return template.format(bucket=self.bucket_text())

    def who(self) -> list[tuple[str, str]]:
        trigger = self.trigger
        if trigger is None:
            return [("Trigger", "none: a direct invocation or the command line")]
        known = trigger.event_name in S3_EVENTS | CONNECT_EVENTS
        caller = trigger.actor or ("the scheduled sweep" if not known else "not recorded")
        return [
            ("Caller", one_line(caller)),
            ("Source IP", one_line(trigger.source_ip or "not recorded")),
            ("Time", one_line(trigger.time or "not recorded")),
            ("Event", one_line(trigger.event_name or "unknown")),
            ("CloudTrail event ID" if known else "Event ID", one_line(trigger.event_id or "not recorded")),
        ]

    def diff(self, context: int = EMAIL_DIFF_CONTEXT) -> list[str]:
        if self.outcome not in DIFF_OUTCOMES:
            return []
        label = "the policy that would be written" if self.outcome == "would_remediate" else "the policy written"
        before, after = self.result.get("previous_policy"), self.result.get("applied_policy")
        return policy_diff(before, after, context=context, after_label=label)

    def legend(self) -> list[tuple[str, str]]:
        """Who each allowlist entry of the policy written (or that would be) is, for a reviewer to act on."""
        if self.outcome not in ("remediated", "would_remediate") or not self.principal_names:
            return []
        legend = allowlist_legend(
            self.result.get("previous_policy"), self.result.get("applied_policy"), self.principal_names
        )
        return [(one_line(entry), one_line(name)) for entry, name in legend]

    def exposures(self) -> list[str]:
        """One line per grant kept beside the lock that opens the bucket (or would, without the lock)."""
        found = self.result.get("exposures") or []
        return [exposure_text(e) for e in found if isinstance(e, Mapping)]

    def next_steps(self) -> list[str]:
        outcome, actor = self.outcome, (self.trigger.actor if self.trigger else None)
        deleted = self.result.get("previous_policy") is None
        if outcome == "remediated":
            changed = "deleted the bucket policy" if deleted else "changed the bucket policy"
            who = one_line(actor) if actor else "whoever"
            return [
                f"Ask {who} why they {changed}: the lock is back, their other statements were kept.",
                "If someone needs access, add their role to AdminRoleArns or ExtraPrincipalArns; "
                "a hand edit of the policy is reverted.",
            ]
        if outcome == "would_remediate":
            return [
                "Review the diff: it is what the enforcer will write.",
                "To let it write, deploy with DryRun=false.",
            ]
        if outcome == "orphaned":
            return [
                "If the bucket still holds recordings, keep the lock; to retire it, run "
                f"connect-lockdown unlock --bucket {self.bucket_text()}.",
                "If an instance should store in it, associate its storage again: the next event locks it as usual.",
            ]
        if outcome == "unlocked":
            who = one_line(actor) if actor else "the operator"
            return [
                f"{who} ran connect-lockdown unlock: if that was not planned, lock the bucket again with "
                "connect-lockdown apply.",
                "A deployed enforcer that is not in dry run locks a Connect bucket again within seconds.",
            ]
        if outcome == "refused":
            return [
                f"Fix this: {self.reason}",
                "Until then the bucket keeps its current policy; after the fix, the next event or the "
                "scheduled sweep writes the lock.",
            ]
        return [
            "AWS rejected the call for a reason a retry will not fix: check the enforcer role's permissions, "
            "the bucket policy and that the bucket still exists.",
            "The next event or the scheduled sweep tries again.",
        ]

    # --- email ----------------------------------------------------------------------------------------


_EXPOSURE_GRANTEES = {
    "public": "the public ({principal})",
    "other-account": "another account ({principal})",
    "service-without-source": "the service {principal} without a source condition (aws:SourceAccount, "
    "aws:SourceArn or aws:SourceOrgID)",
}


def exposure_text(exposure: Mapping[str, Any]) -> str:
    """One line for a grant kept beside the lock: `exposure: statement MakeItPublic grants the public (*)`."""
    sid = exposure.get("sid")
    statement = f"statement {one_line(str(sid))}" if sid else "a statement without a Sid"
    kind = str(exposure.get("kind"))
    principal = one_line(str(exposure.get("principal")))
    grantee = _EXPOSURE_GRANTEES.get(kind, kind + " {principal}").format(principal=principal)
    return f"exposure: {statement} grants {grantee}"


def _policy_lines(policy: Any) -> list[str]:
    if policy is None:
        return []
    return json.dumps(policy, indent=2, sort_keys=True, default=str).splitlines()


def fields(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return [f"  {(name + ':') if name else '':<20} {value}".rstrip() for name, value in pairs]


def one_line(text: str) -> str:
    """Untrusted text on one line: control characters and line breaks become spaces."""
    return _CONTROL.sub(" ", text)


def ascii_text(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


def md(text: str) -> str:
    """Untrusted text for Slack: no backtick to break out of code, no <...> to make a link or a mention."""
    return one_line(text).replace("`", "'").replace("<", "\u2039").replace(">", "\u203a")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def allowlist_legend(previous: Any, expected: Any, names: Mapping[str, str]) -> list[tuple[str, str]]:
    """Who each allowlist entry of the current and the expected lock is: every ID a diff shows, named in the same
    words by `plan`, the email and the chat message."""
    wanted = set(_allowlist_entries(expected))
    entries = sorted(wanted | set(_allowlist_entries(previous)))
    return [
        (entry, names.get(entry) or ("unknown principal" if entry in wanted else "not in the expected allowlist"))
        for entry in entries
    ]


def _allowlist_entries(policy: Any) -> list[str]:
    if not isinstance(policy, dict):
        return []
    lock = policies.lockdown_of(policy)
    if lock is None:
        return []
    return sorted(policies.allowed_patterns_of(lock) | policies.admitted_arns_of(lock))
