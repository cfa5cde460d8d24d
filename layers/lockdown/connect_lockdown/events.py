"""Turn any JSON value into a hint of where to look, or a reason to ignore it.

The event is untrusted and only says where to look: the enforcer reads the state from AWS. Nothing here
raises, whatever the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import unquote

from .times import time_problem

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
SCHEDULED_DETAIL_TYPE = "Scheduled Event"
# The enforcer's own one-time re-check of a pending instance, sent by EventBridge Scheduler.
RECHECK_DETAIL_TYPE = "Connect Lockdown Recheck"
RECHECK_SOURCE = "connect-lockdown"
# A sweep too large for one invocation hands the rest to the next one with this event.
CONTINUATION_DETAIL_TYPE = "Connect Lockdown Sweep Continuation"
MAX_RECHECK_ATTEMPTS = 20
# A continuation carries at most this many instance ids (37 bytes each in JSON: about 185 KB, under the 256 KB of
# an asynchronous invoke's payload); a longer list stays in the sweep record and the event says so.
MAX_CONTINUATION_IDS = 5000
# The sweeps the schedule starts: the hourly event, and the continuation of one too large for an invocation.
SWEEP_EVENT_NAMES = frozenset({SCHEDULED_DETAIL_TYPE, CONTINUATION_DETAIL_TYPE})

S3_EVENTS = frozenset({"PutBucketPolicy", "DeleteBucketPolicy"})
CONNECT_STORAGE_EVENTS = frozenset(
    {"AssociateInstanceStorageConfig", "UpdateInstanceStorageConfig", "DisassociateInstanceStorageConfig"}
)
CONNECT_EVENTS = CONNECT_STORAGE_EVENTS | {"CreateInstance"}
EVENT_SOURCES = {"aws.s3": ("s3.amazonaws.com", S3_EVENTS), "aws.connect": ("connect.amazonaws.com", CONNECT_EVENTS)}

# S3 bucket naming rules (general purpose buckets): 3-63 characters, lower case, digits, dots, hyphens.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_INSTANCE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_INSTANCE_ARN = re.compile(
    r"^arn:(?:aws|aws-cn|aws-us-gov):connect:[a-z0-9-]+:\d{12}:instance/"
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
# CloudTrail hides some Connect fields; these stand where a value was redacted.
_REDACTED = {"***", "HIDDEN_DUE_TO_SECURITY_REASONS"}


@dataclass(frozen=True)
class Trigger:
    event_id: str | None
    event_name: str | None
    actor: str | None
    time: str | None
    # Not part of the contract's trigger document; alerts show it to people.
    source_ip: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"event_id": self.event_id, "event_name": self.event_name, "actor": self.actor, "time": self.time}

    @property
    def scheduled_sweep(self) -> bool:
        """Whether the schedule started it (the hourly sweep or its continuation), not an event or a person."""
        return self.event_name in SWEEP_EVENT_NAMES


@dataclass(frozen=True)
class Ignored:
    """Nothing to act on, and why."""

    reason: str
    trigger: Trigger | None = None


@dataclass(frozen=True)
class SweepCursor:
    """Where a sweep that continues itself over several invocations stands. A continuation event carries it, and
    it says where to look only: the part it names must match the sweep record the enforcer wrote in its index."""

    sweep_id: str
    started: str
    part: int = 1
    # The instance ids still to read (from the first part's one listing); None: too many for the event, the sweep
    # record holds them.
    remaining: tuple[str, ...] | None = ()
    # Buckets already decided, in name order, once every instance is read: the last phase can hand over too.
    buckets_done: int = 0


@dataclass(frozen=True)
class Sweep:
    """Look at every Connect instance and bucket in the Region."""

    trigger: Trigger | None
    # Only the scheduled sweep looks for locked buckets without instances (and may continue itself).
    scheduled: bool = True
    # CreateInstance whose id CloudTrail redacted: a pending instance then gets re-check n + 1.
    recheck_attempt: int | None = None
    cursor: SweepCursor | None = None


@dataclass(frozen=True)
class BucketChanged:
    """A bucket's policy was put or deleted."""

    bucket: str
    trigger: Trigger | None


@dataclass(frozen=True)
class InstanceChanged:
    """An instance was created, its storage changed, or its re-check came due."""

    instance_id: str
    trigger: Trigger | None
    # Set for CreateInstance (0) and re-checks (n): a pending instance then gets re-check n + 1.
    recheck_attempt: int | None = None


Cause = Ignored | Sweep | BucketChanged | InstanceChanged


# Untrusted text is carried into results and alerts: keep it bounded.
_MAX_TEXT = 1024


def _string(value: Any) -> str | None:
    return value[:_MAX_TEXT] if isinstance(value, str) and value else None


def _trigger(envelope: dict[str, Any], detail: dict[str, Any] | None) -> Trigger:
    detail = detail or {}
    identity = detail.get("userIdentity")
    actor = _string(identity.get("arn")) if isinstance(identity, dict) else None
    return Trigger(
        event_id=_string(detail.get("eventID")) or _string(envelope.get("id")),
        event_name=_string(detail.get("eventName")) or _string(envelope.get("detail-type")),
        actor=actor,
        time=_string(detail.get("eventTime")) or _string(envelope.get("time")),
        source_ip=_string(detail.get("sourceIPAddress")),
    )


def _own_trigger(event: dict[str, Any], name: str) -> Trigger:
    """The trigger of an event the enforcer sent itself: no actor, and no detail to take names from."""
    return Trigger(event_id=_string(event.get("id")), event_name=name, actor=None, time=_string(event.get("time")))


def _describe(value: Any) -> str:
    """A short rendering of an untrusted value for a reason. Never str() of a container: a list nested a
    thousand deep (JSON allows it) makes str() raise RecursionError, and a huge one takes its size in time."""
    if isinstance(value, str):
        return value[:100]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**100:
        return "a large number"
    if value is None or isinstance(value, bool | int | float):
        return str(value)[:100]
    return f"a JSON {'array' if isinstance(value, list) else 'object' if isinstance(value, dict) else 'value'}"


def _ignore(reason: str, trigger: Trigger | None = None) -> Ignored:
    return Ignored(reason, trigger)


def instance_id_from(value: Any) -> str | None:
    """A Connect instance id from a plain UUID or a (possibly URL-encoded) instance ARN."""
    if not isinstance(value, str) or len(value) > 512:
        return None
    text = unquote(value).strip()
    if _INSTANCE_ID.match(text):
        return text
    match = _INSTANCE_ARN.match(text)
    return match.group("id") if match else None


def classify(event: Any) -> Cause:
    """Decide what an incoming event asks the enforcer to look at."""
    if not isinstance(event, dict):
        return _ignore(f"the event is a JSON {type(event).__name__}, not an EventBridge event object")
    detail_type = event.get("detail-type")
    if detail_type == SCHEDULED_DETAIL_TYPE:
        return Sweep(trigger=_trigger(event, None))
    if detail_type == RECHECK_DETAIL_TYPE and event.get("source") == RECHECK_SOURCE:
        return _recheck_cause(event)
    if detail_type == CONTINUATION_DETAIL_TYPE and event.get("source") == RECHECK_SOURCE:
        return _continuation_cause(event)
    if not isinstance(detail_type, str):
        return _ignore("not an EventBridge event: 'detail-type' is missing or not a string")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return _ignore("not an EventBridge event: 'detail' is missing or not an object", _trigger(event, None))
    trigger = _trigger(event, detail)
    if detail_type != CLOUDTRAIL_DETAIL_TYPE:
        return _ignore(f"'{detail_type[:100]}' events are not acted on", trigger)

    source = event.get("source")
    event_name = detail.get("eventName")
    if not isinstance(event_name, str):
        return _ignore("the CloudTrail record has no eventName", trigger)
    expected = EVENT_SOURCES.get(source) if isinstance(source, str) else None
    if expected is None or detail.get("eventSource") != expected[0]:
        return _ignore(f"events from {_describe(detail.get('eventSource'))} are not acted on", trigger)
    if event_name not in expected[1]:
        return _ignore(f"{event_name[:100]} events are not acted on", trigger)
    if detail.get("errorCode") is not None or detail.get("errorMessage") is not None:
        code = detail.get("errorCode") or "an error"
        return _ignore(f"the {event_name} call failed ({_describe(code)}), so nothing changed", trigger)

    parameters = detail.get("requestParameters")
    if event_name in S3_EVENTS:
        bucket = parameters.get("bucketName") if isinstance(parameters, dict) else None
        if not isinstance(bucket, str) or not bucket:
            return _ignore(f"the {event_name} record names no bucket", trigger)
        if not _BUCKET_NAME.match(bucket) or ".." in bucket:
            return _ignore(f"the {event_name} record names an invalid bucket: {bucket[:70]!r}", trigger)
        return BucketChanged(bucket, trigger)

    if event_name == "CreateInstance":
        response = detail.get("responseElements")
        instance_id = None
        if isinstance(response, dict):
            instance_id = instance_id_from(response.get("Id")) or instance_id_from(response.get("Arn"))
        if instance_id is None:
            # CloudTrail may redact the new instance's id: look at every instance instead.
            return Sweep(trigger=trigger, scheduled=False, recheck_attempt=0)
        return InstanceChanged(instance_id, trigger, recheck_attempt=0)

    raw_id = parameters.get("InstanceId") if isinstance(parameters, dict) else None
    if isinstance(raw_id, str) and raw_id in _REDACTED:
        return Sweep(trigger=trigger, scheduled=False)
    instance_id = instance_id_from(raw_id)
    if instance_id is None:
        return _ignore(f"the {event_name} record has no valid InstanceId", trigger)
    return InstanceChanged(instance_id, trigger)


def _recheck_cause(event: dict[str, Any]) -> Cause:
    detail, trigger = event.get("detail"), _own_trigger(event, RECHECK_DETAIL_TYPE)
    if not isinstance(detail, dict):
        return _ignore("the re-check event has no detail", trigger)
    instance_id = instance_id_from(detail.get("instanceId"))
    attempt = detail.get("attempt")
    if instance_id is None:
        return _ignore("the re-check event has no valid instanceId", trigger)
    if not isinstance(attempt, int) or isinstance(attempt, bool) or not 0 < attempt <= MAX_RECHECK_ATTEMPTS:
        return _ignore("the re-check event has no valid attempt number", trigger)
    return InstanceChanged(instance_id, trigger, recheck_attempt=attempt)


def _continuation_cause(event: dict[str, Any]) -> Cause:
    detail, trigger = event.get("detail"), _own_trigger(event, CONTINUATION_DETAIL_TYPE)
    if not isinstance(detail, dict):
        return _ignore("the sweep continuation has no detail", trigger)
    sweep_id, started = detail.get("sweepId"), detail.get("started")
    if not (
        isinstance(sweep_id, str) and 0 < len(sweep_id) <= 64 and isinstance(started, str) and 0 < len(started) <= 64
    ):
        return _ignore("the sweep continuation has no valid sweepId or start time", trigger)
    if (reason := time_problem(started)) is not None:
        return _ignore(f"the sweep continuation's start time {reason}", trigger)
    part, buckets_done = detail.get("part"), detail.get("bucketsDone", 0)
    if not (_count(part) and part >= 2 and _count(buckets_done)):
        return _ignore("the sweep continuation has no valid position", trigger)
    remaining: tuple[str, ...] | None = None
    if detail.get("remainingInRecord") is not True:
        ids = detail.get("remaining")
        if not isinstance(ids, list) or len(ids) > MAX_CONTINUATION_IDS:
            return _ignore("the sweep continuation names no valid list of instances to read", trigger)
        remaining = tuple(i for i in ids if isinstance(i, str) and _INSTANCE_ID.match(i))
        if len(remaining) != len(ids) or len(set(remaining)) != len(remaining):
            return _ignore("the sweep continuation names an invalid or repeated instance id", trigger)
    return Sweep(trigger=trigger, cursor=SweepCursor(sweep_id, started, part, remaining, buckets_done))


def _count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1_000_000
