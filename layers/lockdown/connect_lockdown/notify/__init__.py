"""The SNS notification of docs/interface.md: one message per result that people should hear about.

One `Publish` with `MessageStructure="json"` carries three renderings of the same result; SNS hands each
subscription the key named after its protocol, or `default` when there is none:

- `default`: the documented result document, unchanged. SQS, Lambda and `email-json` subscribers receive it.
- `email`: plain text for people reading mail on a phone (`email.py`).
- `https`: a chat custom notification that AWS Chatbot posts to Slack (`chat.py`).
Both render one view model (`view.py`).

Publish, `Message`, `MessageStructure` and `Subject` constraints (also in botocore's SNS service model):
https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..arns import partition_of
from ..events import Trigger
from .chat import render_chat
from .email import render_email
from .view import SUBJECT_LIMIT, AlertView, console_url, policy_diff, subject_for, thread_id

__all__ = [
    "SUBJECT_LIMIT",
    "Notification",
    "console_url",
    "notification",
    "partition_of",
    "policy_diff",
    "subject_for",
    "thread_id",
]

# Publish: a message is at most 256 KiB by default (the topic's MaximumMessageSize), body and attributes.
MAX_MESSAGE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Notification:
    """One SNS message: the result document (`default`), its renderings, subject and attributes."""

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
    view = AlertView(account, region, trigger, result, dict(instance_aliases or {}), dict(principal_names or {}))
    message = Notification(subject_for(result), body, attributes, render_email(view), render_chat(view))
    if message.size() > MAX_MESSAGE_BYTES:
        # Only the human renderings shrink, never `default`: without the diffs they are a few KB, and the
        # contract document is bounded by S3's 20 KB policy limit (two policies and short strings).
        message = Notification(
            message.subject, body, attributes, render_email(view, diff_lines=0), render_chat(view, with_diff=False)
        )
    return message
