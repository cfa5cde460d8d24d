"""One loader for the sample events in events/, shared with `sam local invoke -e`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
# The placeholders every fixture uses; tests substitute their own bucket and instance.
FIXTURE_BUCKET = "amazon-connect-25fd0a3be3ef"
FIXTURE_INSTANCE_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
# The enforcer's role in s3-PutBucketPolicy-by-enforcer.json, as the template names it: <EnforcerRoleName>-<Region>
# with the default EnforcerRoleName.
FIXTURE_ENFORCER_ROLE = "connect-lockdown-enforcer-us-east-1"


def load_event(
    name: str, *, bucket: str | None = None, instance_id: str | None = None, enforcer_role: str | None = None
) -> Any:
    """The fixture `events/<name>.json`, with the placeholder bucket, instance id and enforcer role name replaced."""
    text = (EVENTS_DIR / f"{name.removesuffix('.json')}.json").read_text(encoding="utf-8")
    if enforcer_role is not None:
        text = text.replace(FIXTURE_ENFORCER_ROLE, enforcer_role)
    if bucket is not None:
        text = text.replace(FIXTURE_BUCKET, bucket)
    if instance_id is not None:
        text = text.replace(FIXTURE_INSTANCE_ID, instance_id)
    return json.loads(text)


def fixture_names() -> list[str]:
    return sorted(p.stem for p in EVENTS_DIR.glob("*.json"))
