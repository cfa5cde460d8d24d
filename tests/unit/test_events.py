"""Which events are acted on, with what scope, and which are ignored with a reason. Never an exception."""

import copy
import json

import pytest

from connect_lockdown.events import Sweep, SweepCursor, classify, instance_id_from
from connect_lockdown.own_events import continuation_event
from devtools.events import FIXTURE_BUCKET, FIXTURE_INSTANCE_ID, fixture_names, load_event
from tests.support.causes import ignored_reason, scope_of

INSTANCE_ARN = f"arn:aws:connect:us-east-1:123456789012:instance/{FIXTURE_INSTANCE_ID}"


@pytest.mark.parametrize(
    ("fixture", "scope"),
    [
        ("s3-PutBucketPolicy", ("bucket", FIXTURE_BUCKET)),
        ("s3-DeleteBucketPolicy", ("bucket", FIXTURE_BUCKET)),
        ("s3-PutBucketPolicy-by-enforcer", ("bucket", FIXTURE_BUCKET)),
        ("connect-CreateInstance", ("instance", FIXTURE_INSTANCE_ID)),
        ("connect-CreateInstance-redacted", ("all",)),
        ("connect-AssociateInstanceStorageConfig", ("instance", FIXTURE_INSTANCE_ID)),
        ("connect-AssociateInstanceStorageConfig-arn", ("instance", FIXTURE_INSTANCE_ID)),
        ("connect-UpdateInstanceStorageConfig", ("instance", FIXTURE_INSTANCE_ID)),
        ("connect-DisassociateInstanceStorageConfig", ("instance", FIXTURE_INSTANCE_ID)),
        ("scheduled-event", ("all",)),
    ],
)
def test_actionable_events(fixture, scope):
    hint = classify(load_event(fixture))
    assert ignored_reason(hint) is None
    assert scope_of(hint) == scope
    assert hint.trigger is not None
    assert hint.trigger.event_id


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("s3-PutBucketPolicy-AccessDenied", "failed (AccessDenied)"),
        ("s3-PutBucketPolicy-empty-bucket", "names no bucket"),
        ("s3-PutBucketAcl", "PutBucketAcl events are not acted on"),
        ("connect-AssociateInstanceStorageConfig-failed", "failed (ResourceNotFoundException)"),
        ("connect-DeleteInstance", "DeleteInstance events are not acted on"),
    ],
)
def test_ignored_fixtures(fixture, reason):
    hint = classify(load_event(fixture))
    assert ignored_reason(hint) is not None
    assert reason in ignored_reason(hint)


def test_trigger_fields_come_from_the_cloudtrail_record():
    event = load_event("s3-PutBucketPolicy")
    trigger = classify(event).trigger
    assert trigger.event_id == event["detail"]["eventID"]
    assert trigger.event_name == "PutBucketPolicy"
    assert trigger.actor == event["detail"]["userIdentity"]["arn"]
    assert trigger.time == event["detail"]["eventTime"]


def test_scheduled_trigger_uses_the_envelope():
    event = load_event("scheduled-event")
    assert classify(event).trigger.to_dict() == {
        "event_id": event["id"],
        "event_name": "Scheduled Event",
        "actor": None,
        "time": event["time"],
    }


def test_every_fixture_classifies_without_error():
    assert fixture_names(), "events/ has fixtures"
    for name in fixture_names():
        hint = classify(load_event(name))
        assert (ignored_reason(hint) is not None) != (ignored_reason(hint) is None), name


def _mutated(fixture, path, value):
    event = copy.deepcopy(load_event(fixture))
    target = event
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return event


_DELETE = object()


@pytest.mark.parametrize(
    ("fixture", "path", "value", "reason"),
    [
        ("s3-PutBucketPolicy", ["detail", "requestParameters", "bucketName"], _DELETE, "names no bucket"),
        ("s3-PutBucketPolicy", ["detail", "requestParameters", "bucketName"], None, "names no bucket"),
        ("s3-PutBucketPolicy", ["detail", "requestParameters", "bucketName"], ["x"], "names no bucket"),
        ("s3-PutBucketPolicy", ["detail", "requestParameters", "bucketName"], "Bad_Bucket", "invalid bucket"),
        ("s3-PutBucketPolicy", ["detail", "requestParameters", "bucketName"], "a" * 64, "invalid bucket"),
        ("s3-PutBucketPolicy", ["detail", "requestParameters"], None, "names no bucket"),
        ("s3-PutBucketPolicy", ["detail", "errorMessage"], "Access Denied", "failed"),
        ("s3-PutBucketPolicy", ["detail", "eventName"], None, "no eventName"),
        ("s3-PutBucketPolicy", ["detail", "eventName"], 7, "no eventName"),
        ("s3-PutBucketPolicy", ["detail", "eventSource"], "s3-outposts.amazonaws.com", "not acted on"),
        ("s3-PutBucketPolicy", ["source"], "aws.connect", "not acted on"),
        ("s3-PutBucketPolicy", ["detail"], None, "'detail' is missing"),
        ("s3-PutBucketPolicy", ["detail"], "text", "'detail' is missing"),
        ("s3-PutBucketPolicy", ["detail-type"], _DELETE, "'detail-type' is missing"),
        ("s3-PutBucketPolicy", ["detail-type"], "AWS Console Sign In via CloudTrail", "not acted on"),
        (
            "connect-AssociateInstanceStorageConfig",
            ["detail", "requestParameters", "InstanceId"],
            None,
            "no valid InstanceId",
        ),
        (
            "connect-AssociateInstanceStorageConfig",
            ["detail", "requestParameters", "InstanceId"],
            "not-a-uuid",
            "no valid InstanceId",
        ),
        (
            "connect-AssociateInstanceStorageConfig",
            ["detail", "requestParameters", "InstanceId"],
            {"Id": "x"},
            "no valid InstanceId",
        ),
        ("connect-AssociateInstanceStorageConfig", ["detail", "requestParameters"], None, "no valid InstanceId"),
        ("connect-AssociateInstanceStorageConfig", ["detail", "errorCode"], "AccessDeniedException", "failed"),
    ],
)
def test_broken_events_are_ignored_with_a_reason(fixture, path, value, reason):
    hint = classify(_mutated(fixture, path, value))
    assert ignored_reason(hint) is not None
    assert reason in ignored_reason(hint)


@pytest.mark.parametrize("event", [None, [], [{"detail-type": "Scheduled Event"}], "text", 3, 2.5, True, {}])
def test_non_objects_and_empty_objects_are_ignored(event):
    hint = classify(event)
    assert ignored_reason(hint) is not None
    assert ignored_reason(hint)


def test_raw_cloudtrail_records_are_not_eventbridge_events():
    # A bare CloudTrail record (no envelope) is what trails write to S3, not what EventBridge delivers.
    hint = classify(load_event("s3-PutBucketPolicy")["detail"])
    assert ignored_reason(hint) is not None
    assert "not an EventBridge event" in ignored_reason(hint)


@pytest.mark.parametrize("redacted", [None, "***", {"Id": "***", "Arn": "***"}, {}, {"Id": None}])
def test_create_instance_without_a_usable_id_looks_at_every_instance(redacted):
    event = _mutated("connect-CreateInstance", ["detail", "responseElements"], redacted)
    assert scope_of(classify(event)) == ("all",)


def test_create_instance_takes_the_id_from_the_arn_when_id_is_redacted():
    event = _mutated("connect-CreateInstance", ["detail", "responseElements"], {"Id": "***", "Arn": INSTANCE_ARN})
    assert scope_of(classify(event)) == ("instance", FIXTURE_INSTANCE_ID)


@pytest.mark.parametrize(
    "value",
    [
        FIXTURE_INSTANCE_ID,
        INSTANCE_ARN,
        INSTANCE_ARN.replace(":", "%3A").replace("/", "%2F"),
        f"arn:aws-cn:connect:cn-north-1:123456789012:instance/{FIXTURE_INSTANCE_ID}",
    ],
)
def test_instance_ids_from_uuid_or_encoded_arn(value):
    assert instance_id_from(value) == FIXTURE_INSTANCE_ID


@pytest.mark.parametrize(
    "value", [None, 1, "", "***", "arn:aws:connect:us-east-1:123456789012:instance/x", "x" * 10_000]
)
def test_bad_instance_ids(value):
    assert instance_id_from(value) is None


def test_huge_and_non_ascii_values_do_not_break_reasons():
    event = _mutated("s3-PutBucketPolicy", ["detail", "eventName"], "Ünïcødé" * 10_000)
    hint = classify(event)
    assert ignored_reason(hint) is not None
    assert len(ignored_reason(hint)) < 300
    json.dumps(hint.trigger.to_dict())


def test_a_sweep_continuation_round_trips():
    for remaining in (("11111111-2222-4333-8444-555555555555",), None):
        cursor = SweepCursor("sweep-1", "2025-03-15T03:00:00Z", part=3, remaining=remaining, buckets_done=7)
        cause = classify(continuation_event(cursor, "event-1", "2025-03-15T03:02:00Z"))
        assert isinstance(cause, Sweep) and cause.scheduled and cause.cursor == cursor


@pytest.mark.parametrize(
    "detail",
    [
        None,
        {},
        {"sweepId": "", "started": "2025-03-15T03:00:00Z", "part": 2, "remaining": []},
        {"sweepId": "s" * 65, "started": "2025-03-15T03:00:00Z", "part": 2, "remaining": []},
        {"sweepId": "s", "started": "t", "part": 2, "remaining": []},
        {"sweepId": "s", "started": "2025-03-15T03:00:00", "part": 2, "remaining": []},
        {"sweepId": "s", "started": "9999-12-31T23:59:59Z", "part": 2, "remaining": []},
        {"sweepId": "s", "started": "2025-03-15T03:00:00Z", "part": 1, "remaining": []},
        {"sweepId": "s", "started": "2025-03-15T03:00:00Z", "part": True, "remaining": []},
        {"sweepId": "s", "started": "2025-03-15T03:00:00Z", "part": 2, "bucketsDone": "2", "remaining": []},
        {"sweepId": "s", "started": "2025-03-15T03:00:00Z", "part": 2},
        {"sweepId": "s", "started": "2025-03-15T03:00:00Z", "part": 2, "remaining": ["not-an-id"]},
        {
            "sweepId": "s",
            "started": "2025-03-15T03:00:00Z",
            "part": 2,
            "remaining": ["11111111-2222-4333-8444-555555555555", "11111111-2222-4333-8444-555555555555"],
        },
        {
            "sweepId": "s",
            "started": "2025-03-15T03:00:00Z",
            "part": 2,
            "remaining": [["11111111-2222-4333-8444-555555555555"]],
        },
    ],
)
def test_malformed_sweep_continuations_are_ignored(detail):
    event = continuation_event(SweepCursor("s", "2025-03-15T03:00:00Z", 2), "e", "t")
    event["detail"] = detail
    assert ignored_reason(classify(event))
