"""One loader for the event fixtures in events/, shared with `sam local invoke -e`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connect_lockdown.events import BucketChanged, Cause, Ignored, InstanceChanged, Sweep

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
# The placeholders every fixture uses; tests substitute their own bucket and instance.
FIXTURE_BUCKET = "amazon-connect-25fd0a3be3ef"
FIXTURE_INSTANCE_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def load_event(name: str, *, bucket: str | None = None, instance_id: str | None = None) -> Any:
    """The fixture `events/<name>.json`, with the placeholder bucket and instance id replaced."""
    text = (EVENTS_DIR / f"{name.removesuffix('.json')}.json").read_text(encoding="utf-8")
    if bucket is not None:
        text = text.replace(FIXTURE_BUCKET, bucket)
    if instance_id is not None:
        text = text.replace(FIXTURE_INSTANCE_ID, instance_id)
    return json.loads(text)


def fixture_names() -> list[str]:
    return sorted(p.stem for p in EVENTS_DIR.glob("*.json"))


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
