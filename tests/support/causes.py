"""What a classified event says, in a form a test can compare: where to look, or why it was ignored."""

from __future__ import annotations

from connect_lockdown.events import BucketChanged, Cause, Ignored, InstanceChanged, Sweep


def scope_of(cause: Cause) -> tuple[str, ...] | None:
    """Where a classified event says to look: ("bucket", name), ("instance", id), ("all",), or None if ignored."""
    if isinstance(cause, BucketChanged):
        return ("bucket", cause.bucket)
    if isinstance(cause, InstanceChanged):
        return ("instance", cause.instance_id)
    if isinstance(cause, Sweep):
        return ("all",)
    return None


def ignored_reason(cause: Cause) -> str | None:
    return cause.reason if isinstance(cause, Ignored) else None
