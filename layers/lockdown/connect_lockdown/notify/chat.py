"""The chat rendering: an Amazon Q Developer in chat applications (formerly AWS Chatbot) custom notification,
which Chatbot posts to Slack. Chatbot drops a message that does not match its schema, without a word.

Custom notifications (event schema, parameter details):
https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
Slack's text limits the rendering keeps within (3000 characters in a section, 150 in a header):
https://docs.slack.dev/reference/block-kit/blocks
"""

from __future__ import annotations

from typing import Any

from ..arns import partition_of
from .view import ACTIONS, AlertView, ascii_text, clip, console_url, md, one_line, subject_for, thread_id

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

_CHAT_TITLES = {
    "remediated": ":lock: Lockdown restored on {bucket}",
    "would_remediate": ":warning: Dry run: lockdown would be restored on {bucket}",
    "refused": ":no_entry: Refused to lock {bucket}",
    "failed": ":x: Could not check {bucket}",
    "orphaned": ":grey_question: Lock without a Connect instance on {bucket}",
    "unlocked": ":unlock: Lockdown removed from {bucket}",
}


def render_chat(view: AlertView, *, with_diff: bool = True) -> dict[str, Any]:
    bucket = view.bucket_text()
    title = _CHAT_TITLES.get(view.outcome, "{bucket}: " + view.outcome).format(bucket=md(bucket))
    steps = [clip(md(step), CHAT_NEXT_STEP_LIMIT) for step in view.next_steps()]
    url = console_url(view.bucket, view.region)
    if url:
        steps.append(f"Open the bucket's permissions: {url}")
    partition = partition_of(view.region)
    related = [f"arn:{partition}:s3:::{view.bucket}"] if view.bucket else []
    related += [f"arn:{partition}:connect:{view.region}:{view.account}:instance/{i}" for i, _ in view.instances()]
    return {
        "version": CHAT_VERSION,
        "source": CHAT_SOURCE,
        "content": {
            "textType": CHAT_TEXT_TYPE,
            "title": clip(title, CHAT_TITLE_LIMIT),
            "description": _description(view, with_diff),
            "nextSteps": steps[:CHAT_NEXT_STEPS_MAX],
            "keywords": [clip(k, CHAT_KEYWORD_LIMIT) for k in (view.outcome, view.account, view.region)],
        },
        "metadata": {
            "threadId": thread_id(view.account, view.region, view.bucket),
            "summary": clip(ascii_text(subject_for(view.result)), CHAT_SUMMARY_LIMIT),
            "eventType": "connect-lockdown-" + view.outcome.replace("_", "-"),
            "relatedResources": related,
            "additionalContext": {
                "outcome": view.outcome,
                "bucket": view.bucket or "-",
                "account": view.account,
                "region": view.region,
            },
        },
    }


def _description(view: AlertView, with_diff: bool) -> str:
    instances = ", ".join(f"{md(a)} (`{md(i)}`)" if a else f"`{md(i)}`" for i, a in view.instances())
    lines = [
        f"*{md(view.summary())}*",
        f"*Bucket:* `{md(view.bucket_text())}`",
        f"*Instance{'s' if len(view.instances()) != 1 else ''}:* {instances or 'none recorded'}",
        f"*Account:* `{md(view.account)}`  *Region:* `{md(view.region)}`",
    ]
    lines += [f"*{name}:* `{md(value)}`" for name, value in view.who()]
    lines.append(f"*Action:* {md(ACTIONS.get(view.outcome, 'Nothing was written.'))}")
    label = "What to fix" if view.outcome == "refused" else "Reason"
    lines.append(f"*{label}:* {md(view.reason)}")
    legend = view.legend()
    if legend:
        lines.append("*Allowlist:* " + "; ".join(f"`{md(entry)}` {md(who)}" for entry, who in legend))
    lines += [f"*Exposure:* {md(text.removeprefix('exposure: '))}" for text in view.exposures()]
    head = "\n".join(lines)
    if len(head) > CHAT_DESCRIPTION_LIMIT:
        return clip(head, CHAT_DESCRIPTION_LIMIT)
    diff = view.diff(context=1)[2:] if with_diff else []
    if not diff:
        return head
    # The diff gets what room is left, whole lines only; `...` and backticks never close the block early.
    room = CHAT_DESCRIPTION_LIMIT - len(head) - len("\n*Policy diff:*\n```\n\n```") - 80
    shown: list[str] = []
    for diff_line in diff:
        text = md(one_line(diff_line))
        if len("\n".join([*shown, text])) > room:
            break
        shown.append(text)
    if not shown:
        return head + "\n*Policy diff:* too long for chat; it is in the email and the JSON document."
    more = len(diff) - len(shown)
    tail = f"\n_{more} more diff lines are in the email and the JSON document._" if more else ""
    return head + "\n*Policy diff:*\n```\n" + "\n".join(shown) + "\n```" + tail
