"""The SNS notification of CONTRACT.md: one message per result that people should hear about.

One `Publish` with `MessageStructure="json"` carries three renderings of the same result; SNS hands each
subscription the key named after its protocol, or `default` when there is none:

- `default`: the CONTRACT.md document, unchanged. SQS, Lambda and `email-json` subscribers receive it.
- `email`: plain text for people reading mail on a phone.
- `https`: an Amazon Q Developer in chat applications (formerly AWS Chatbot) custom notification, which
  Chatbot posts to Slack. Chatbot drops a message that does not match its schema, without a word.

Sources:
- Publish, `Message`, `MessageStructure` and `Subject` constraints (also in botocore's SNS service model):
  https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
- Custom notifications (event schema, parameter details):
  https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
- Slack's text limits the chat rendering keeps within (3000 characters in a section, 150 in a header):
  https://docs.slack.dev/reference/block-kit/blocks
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from .events import CONNECT_EVENTS, S3_EVENTS, Trigger

SUBJECT_PREFIX = "[connect-lockdown]"
# Publish: "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100
# characters long." The issue asks for ASCII and at most 100: 99 printable ASCII characters satisfy both.
SUBJECT_LIMIT = 99
# Publish: a message is at most 256 KiB by default (the topic's MaximumMessageSize), body and attributes.
MAX_MESSAGE_BYTES = 256 * 1024

# The email's policy diff: enough to read on a phone; the full policies are in the JSON document.
EMAIL_DIFF_LINES = 120
EMAIL_DIFF_CONTEXT = 3

# The chat rendering. The custom-notification page fixes `version` and `source` and lists the fields; the
# project keeps each text within Slack's documented limits, into which Chatbot renders it.
CHAT_VERSION = "1.0"
CHAT_SOURCE = "custom"
CHAT_TEXT_TYPE = "client-markdown"
CHAT_TITLE_LIMIT = 150
CHAT_DESCRIPTION_LIMIT = 3000
CHAT_NEXT_STEP_LIMIT = 300
CHAT_NEXT_STEPS_MAX = 5
CHAT_KEYWORD_LIMIT = 64
CHAT_KEYWORDS_MAX = 5
CHAT_SUMMARY_LIMIT = 150
CHAT_THREAD_ID_LIMIT = 128

_SUBJECT_WORDS = {
    "remediated": "policy restored on",
    "would_remediate": "dry run, would restore policy on",
    "refused": "refused to write policy on",
    "failed": "could not check",
}
_SUMMARIES = {
    "remediated": "The lockdown policy of {bucket} had drifted and was restored.",
    "would_remediate": "The lockdown policy of {bucket} has drifted; dry run, nothing was written.",
    "refused": "The enforcer refused to write the lockdown policy of {bucket}: it needs you.",
    "failed": "The enforcer could not check or restore {bucket}: AWS rejected a call.",
}
_ACTIONS = {
    "remediated": "Wrote the expected lockdown policy; every other statement was kept.",
    "would_remediate": "Nothing was written: DRY_RUN is on. The diff below is what would be written.",
    "refused": "Nothing was written: writing would have been unsafe.",
    "failed": "Nothing was written.",
}
_CHAT_TITLES = {
    "remediated": ":lock: Lockdown restored on {bucket}",
    "would_remediate": ":warning: Dry run: lockdown would be restored on {bucket}",
    "refused": ":no_entry: Refused to lock {bucket}",
    "failed": ":x: Could not check {bucket}",
}
_CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
# Regions of the isolated partitions: no public console to link to.
_ISOLATED_PREFIXES = {"us-iso-": "aws-iso", "us-isob-": "aws-iso-b", "us-isof-": "aws-iso-f", "eu-isoe-": "aws-iso-e"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Notification:
    """One SNS message: the CONTRACT.md body (`default`), its renderings, subject and attributes."""

    subject: str
    body: dict[str, Any]
    attributes: dict[str, str]
    email: str = ""
    chat: dict[str, Any] = field(default_factory=dict)

    def default_message(self) -> str:
        """The `default` value: the contract document, never truncated."""
        return json.dumps(self.body, default=str)

    def message(self) -> str:
        """The `Message` of a `MessageStructure="json"` Publish: every value a string, `default` present."""
        structure = {"default": self.default_message()}
        if self.email:
            structure["email"] = self.email
        if self.chat:
            structure["https"] = json.dumps(self.chat)
        return json.dumps(structure)

    def size(self) -> int:
        """Bytes SNS counts against its limit: the message and the attributes' names, types and values."""
        attributes = sum(len(k.encode()) + len(b"String") + len(v.encode()) for k, v in self.attributes.items())
        return len(self.message().encode()) + attributes


def notification(
    account: str,
    region: str,
    trigger: Trigger | None,
    result: dict[str, Any],
    *,
    instance_aliases: Mapping[str, str | None] | None = None,
    principal_names: Mapping[str, str] | None = None,
) -> Notification:
    """The message for one result.

    `instance_aliases` (instance id -> alias) only decorates the human renderings; without it they show the
    instance ids alone. The `default` document is the contract's, whatever is passed.
    """
    body = {
        "account": account,
        "region": region,
        "trigger": trigger.to_dict() if trigger else None,
        "result": result,
    }
    attributes = {
        "outcome": str(result["outcome"]),
        "bucket": str(result.get("bucket") or "-"),
        "account": account,
        "region": region,
    }
    alert = _Alert(account, region, trigger, result, dict(instance_aliases or {}))
    message = Notification(subject_for(result), body, attributes, alert.email(), alert.chat())
    if message.size() > MAX_MESSAGE_BYTES:
        # Only the human renderings shrink, never `default`: without the diffs they are a few KB, and the
        # contract document is bounded by S3's 20 KB policy limit (two policies and short strings).
        message = Notification(
            message.subject, body, attributes, alert.email(diff_lines=0), alert.chat(with_diff=False)
        )
    return message


def subject_for(result: Mapping[str, Any]) -> str:
    """A subject SNS accepts: printable ASCII, no line breaks, at most SUBJECT_LIMIT characters."""
    outcome = _ascii(str(result.get("outcome")))
    bucket = _ascii(str(result.get("bucket") or "no bucket"))
    words = _SUBJECT_WORDS.get(outcome, outcome)
    for text in (f"{SUBJECT_PREFIX} {outcome}: {words} {bucket}", f"{SUBJECT_PREFIX} {outcome}: {bucket}"):
        if len(text) <= SUBJECT_LIMIT:
            return text
    return text[:SUBJECT_LIMIT]


def partition_of(region: str) -> str:
    """The partition of a region: aws-cn for cn-*, aws-us-gov for us-gov-*, the isolated ones, else aws."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    for prefix, partition in _ISOLATED_PREFIXES.items():
        if region.startswith(prefix):
            return partition
    return "aws"


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
class _Alert:
    account: str
    region: str
    trigger: Trigger | None
    result: dict[str, Any]
    aliases: dict[str, str | None]

    @property
    def outcome(self) -> str:
        return str(self.result.get("outcome"))

    @property
    def bucket(self) -> str | None:
        bucket = self.result.get("bucket")
        return _line(str(bucket)) if bucket else None

    @property
    def reason(self) -> str:
        return _line(str(self.result.get("reason") or ""))

    def instances(self) -> list[tuple[str, str | None]]:
        ids = [_line(str(i)) for i in self.result.get("instances") or []]
        return [(i, _line(a) if (a := self.aliases.get(i)) else None) for i in ids]

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
            ("Caller", _line(caller)),
            ("Source IP", _line(trigger.source_ip or "not recorded")),
            ("Time", _line(trigger.time or "not recorded")),
            ("Event", _line(trigger.event_name or "unknown")),
            ("CloudTrail event ID" if known else "Event ID", _line(trigger.event_id or "not recorded")),
        ]

    def diff(self, context: int = EMAIL_DIFF_CONTEXT) -> list[str]:
        if self.outcome not in ("remediated", "would_remediate"):
            return []
        label = "the policy that would be written" if self.outcome == "would_remediate" else "the policy written"
        before, after = self.result.get("previous_policy"), self.result.get("applied_policy")
        return policy_diff(before, after, context=context, after_label=label)

    def next_steps(self) -> list[str]:
        outcome, actor = self.outcome, (self.trigger.actor if self.trigger else None)
        deleted = self.result.get("previous_policy") is None
        if outcome == "remediated":
            changed = "deleted the bucket policy" if deleted else "changed the bucket policy"
            who = _line(actor) if actor else "whoever"
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

    def email(self, diff_lines: int = EMAIL_DIFF_LINES) -> str:
        lines = [self.summary(), "", "Where"]
        lines += _fields([("Bucket", self.bucket_text())])
        instances = self.instances()
        label = "Instance" if len(instances) == 1 else "Instances"
        names = [f"{alias} ({id_})" if alias else id_ for id_, alias in instances] or ["none recorded"]
        lines += _fields([(label, names[0])] + [("", name) for name in names[1:]])
        lines += _fields([("Account", self.account), ("Region", self.region)])
        lines += ["", "Who", *_fields(self.who())]
        lines += ["", "What the enforcer did", f"  {_ACTIONS.get(self.outcome, 'Nothing was written.')}"]
        if self.outcome != "refused":
            # A refusal's reason is what to fix, and is shown there.
            lines += [f"  Reason: {self.reason}"]
        lines += ["", "Policy, before and after (unified diff, keys sorted)"]
        lines += self._email_diff(diff_lines)
        heading = "What to fix" if self.outcome == "refused" else "Next steps"
        lines += ["", heading] + [f"  - {step}" for step in self.next_steps()]
        url = console_url(self.bucket, self.region)
        lines += ["", "Permissions in the S3 console", f"  {url or 'no public console in this partition'}"]
        lines += [
            "",
            "-- ",
            "Connect Bucket Lockdown. The JSON document of this alert goes to SQS, Lambda and email-json",
            "subscribers of the same topic.",
        ]
        return "\n".join(lines) + "\n"

    def _email_diff(self, limit: int) -> list[str]:
        if self.outcome not in ("remediated", "would_remediate"):
            return ["  None: nothing was written, the policy is unchanged."]
        diff = self.diff()
        if not diff:
            return ["  None: the policies are the same."]
        shown = [f"  {_line(line)}" for line in diff[:limit]]
        if len(diff) > limit:
            shown.append(
                f"  ... {len(diff) - limit} more lines not shown: the full policies are in the JSON document "
                "(SQS and email-json subscribers) and in the bucket."
            )
        return shown

    # --- chat -------------------------------------------------------------------------------------------

    def chat(self, *, with_diff: bool = True) -> dict[str, Any]:
        bucket = self.bucket_text()
        title = _CHAT_TITLES.get(self.outcome, "{bucket}: " + self.outcome).format(bucket=_md(bucket))
        steps = [_clip(_md(step), CHAT_NEXT_STEP_LIMIT) for step in self.next_steps()]
        url = console_url(self.bucket, self.region)
        if url:
            steps.append(f"Open the bucket's permissions: {url}")
        partition = partition_of(self.region)
        related = [f"arn:{partition}:s3:::{self.bucket}"] if self.bucket else []
        related += [f"arn:{partition}:connect:{self.region}:{self.account}:instance/{i}" for i, _ in self.instances()]
        return {
            "version": CHAT_VERSION,
            "source": CHAT_SOURCE,
            "content": {
                "textType": CHAT_TEXT_TYPE,
                "title": _clip(title, CHAT_TITLE_LIMIT),
                "description": self._chat_description(with_diff),
                "nextSteps": steps[:CHAT_NEXT_STEPS_MAX],
                "keywords": [_clip(k, CHAT_KEYWORD_LIMIT) for k in (self.outcome, self.account, self.region)],
            },
            "metadata": {
                "threadId": thread_id(self.account, self.region, self.bucket),
                "summary": _clip(_ascii(subject_for(self.result)), CHAT_SUMMARY_LIMIT),
                "eventType": "connect-lockdown-" + self.outcome.replace("_", "-"),
                "relatedResources": related,
                "additionalContext": {
                    "outcome": self.outcome,
                    "bucket": self.bucket or "-",
                    "account": self.account,
                    "region": self.region,
                },
            },
        }

    def _chat_description(self, with_diff: bool) -> str:
        instances = ", ".join(f"{_md(a)} (`{_md(i)}`)" if a else f"`{_md(i)}`" for i, a in self.instances())
        lines = [
            f"*{_md(self.summary())}*",
            f"*Bucket:* `{_md(self.bucket_text())}`",
            f"*Instance{'s' if len(self.instances()) != 1 else ''}:* {instances or 'none recorded'}",
            f"*Account:* `{_md(self.account)}`  *Region:* `{_md(self.region)}`",
        ]
        lines += [f"*{name}:* `{_md(value)}`" for name, value in self.who()]
        lines.append(f"*Action:* {_md(_ACTIONS.get(self.outcome, 'Nothing was written.'))}")
        label = "What to fix" if self.outcome == "refused" else "Reason"
        lines.append(f"*{label}:* {_md(self.reason)}")
        head = "\n".join(lines)
        if len(head) > CHAT_DESCRIPTION_LIMIT:
            return _clip(head, CHAT_DESCRIPTION_LIMIT)
        diff = self.diff(context=1)[2:] if with_diff else []
        if not diff:
            return head
        # The diff gets what room is left, whole lines only; `...` and backticks never close the block early.
        room = CHAT_DESCRIPTION_LIMIT - len(head) - len("\n*Policy diff:*\n```\n\n```") - 80
        shown: list[str] = []
        for line in diff:
            text = _md(_line(line))
            if len("\n".join([*shown, text])) > room:
                break
            shown.append(text)
        if not shown:
            return head + "\n*Policy diff:* too long for chat; it is in the email and the JSON document."
        more = len(diff) - len(shown)
        tail = f"\n_{more} more diff lines are in the email and the JSON document._" if more else ""
        return head + "\n*Policy diff:*\n```\n" + "\n".join(shown) + "\n```" + tail


def _policy_lines(policy: Any) -> list[str]:
    if policy is None:
        return []
    return json.dumps(policy, indent=2, sort_keys=True, default=str).splitlines()


def _fields(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return [f"  {(name + ':') if name else '':<20} {value}".rstrip() for name, value in pairs]


def _line(text: str) -> str:
    """Untrusted text on one line: control characters and line breaks become spaces."""
    return _CONTROL.sub(" ", text)


def _ascii(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)


def _md(text: str) -> str:
    """Untrusted text for Slack: no backtick to break out of code, no <...> to make a link or a mention."""
    return _line(text).replace("`", "'").replace("<", "\u2039").replace(">", "\u203a")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
