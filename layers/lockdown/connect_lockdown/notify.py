"""The SNS notification of CONTRACT.md: one message per result that people should hear about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .events import Trigger

SUBJECT_PREFIX = "[connect-lockdown]"
SUBJECT_LIMIT = 100

_SUBJECT_WORDS = {
    "remediated": "policy restored on",
    "would_remediate": "dry run, would restore policy on",
    "refused": "refused to write policy on",
    "failed": "could not check",
}


def subject_for(result: dict[str, Any]) -> str:
    """SNS subjects must be ASCII, without line breaks, at most 100 characters."""
    outcome = str(result.get("outcome"))
    words = _SUBJECT_WORDS.get(outcome, outcome)
    text = f"{SUBJECT_PREFIX} {outcome}: {words} {result.get('bucket') or 'no bucket'}"
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return text[:SUBJECT_LIMIT]


@dataclass(frozen=True)
class Notification:
    """One SNS message: the CONTRACT.md body (the `default` rendering), its subject and attributes."""

    subject: str
    body: dict[str, Any]
    attributes: dict[str, str]


def notification(account: str, region: str, trigger: Trigger | None, result: dict[str, Any]) -> Notification:
    """The message for one result."""
    body = {
        "account": account,
        "region": region,
        "trigger": trigger.to_dict() if trigger else None,
        "result": result,
    }
    attributes = {"outcome": str(result["outcome"]), "bucket": str(result.get("bucket") or "-")}
    return Notification(subject_for(result), body, attributes)
