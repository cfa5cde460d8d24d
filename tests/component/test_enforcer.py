"""The enforcer end to end on in-process moto: events in, bucket policies and alerts out."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsCallError, AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.inventory import NON_S3_RESOURCE_TYPES, s3_capable_types
from connect_lockdown.outcomes import RetryLater
from connect_lockdown.reconcile import Enforcer
from devtools import connect_storage
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import ACCOUNT, World
from tests.support.policies import deny_insecure_transport, public_read_policy
from tests.support.policy_eval import Request, is_denied

BUCKET = "amazon-connect-25fd0a3be3ef"
PUBLIC_POLICY = public_read_policy(BUCKET)
TLS_ONLY = deny_insecure_transport(BUCKET)


def enforcer_for(world: World, recorder: AwsHooks | None = None, **overrides: Any) -> Enforcer:
    gateway = AwsGateway(session=world.enforcer_session())
    if recorder is not None:
        recorder.attach_gateway(gateway)
    return Enforcer(Settings(topic_arn=world.topic_arn, **overrides), gateway)


def put_event(bucket: str = BUCKET) -> dict[str, Any]:
    return load_event("s3-PutBucketPolicy", bucket=bucket)


def statement_of(policy: dict[str, Any]) -> dict[str, Any]:
    ours = [s for s in policies.statements_of(policy) if policies.is_lockdown_statement(s)]
    assert len(ours) == 1
    return ours[0]


# --- the lock and its effect ----------------------------------------------------------------------


def test_unlocked_bucket_is_locked_and_the_lock_admits_exactly_the_allowed(world: World) -> None:
    # Given a Connect instance storing in a bucket with no policy, and an admin role
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    admin_arn, admin_id = world.create_role("Admin")
    enforcer = enforcer_for(world, admin_role_arns=(admin_arn,))

    # When the policy is deleted
    report = enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))

    # Then the expected lockdown is written
    [result] = report.results
    assert result.outcome == "remediated"
    assert result.instance_ids == [instance.id]
    assert result.previous_policy is None
    written = world.policy(BUCKET)
    assert written == result.applied_policy
    assert statement_of(written)["Condition"]["StringNotLike"]["aws:userId"] == sorted(
        [f"{instance.role_id}:*", f"{admin_id}:*", f"{world.enforcer_role_id}:*", ACCOUNT]
    )

    # And it denies outsiders on bucket and object actions, and admits every allowed principal
    _, outsider_id = world.create_role("Outsider")
    user = world.client("iam").create_user(UserName="mallory")["User"]
    for action, resource in [
        ("s3:GetObject", f"arn:aws:s3:::{BUCKET}/rec.wav"),
        ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}"),
        ("s3:PutBucketPolicy", f"arn:aws:s3:::{BUCKET}"),
        ("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/a/b"),
    ]:
        assert is_denied(written, Request.for_role(ACCOUNT, "Outsider", outsider_id, action, resource))
        assert is_denied(written, Request.for_user(ACCOUNT, "mallory", user["UserId"], action, resource))
        assert is_denied(written, Request.for_role("999999999999", "Admin", "AROAOTHERACCOUNT1", action, resource))
        role_name = instance.role_arn.rsplit("/", 1)[1]
        assert not is_denied(written, Request.for_role(ACCOUNT, role_name, instance.role_id, action, resource))
        assert not is_denied(written, Request.for_role(ACCOUNT, "Admin", admin_id, action, resource))
        assert not is_denied(
            written,
            Request.for_role(ACCOUNT, "test-lockdown-enforcer-us-east-1", world.enforcer_role_id, action, resource),
        )
        assert not is_denied(written, Request.for_root(ACCOUNT, action, resource))
    # And another bucket is not affected
    assert not is_denied(
        written, Request.for_role(ACCOUNT, "Outsider", outsider_id, "s3:GetObject", "arn:aws:s3:::other/x")
    )


def test_the_alert_carries_the_contract_message(world: World) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    world.put_policy(BUCKET, PUBLIC_POLICY)
    event = put_event()

    report = enforcer_for(world).handle_event(event)

    [alert] = world.alerts()
    assert alert["attributes"] == {"outcome": "remediated", "bucket": BUCKET, "account": ACCOUNT, "region": "us-east-1"}
    assert alert["body"] == {
        "account": ACCOUNT,
        "region": "us-east-1",
        "trigger": {
            "event_id": event["detail"]["eventID"],
            "event_name": "PutBucketPolicy",
            "actor": event["detail"]["userIdentity"]["arn"],
            "time": event["detail"]["eventTime"],
        },
        "result": report.results[0].to_dict(),
    }
    assert alert["body"]["result"]["previous_policy"] == PUBLIC_POLICY
    assert alert["body"]["result"]["instances"] == [instance.id]
    assert alert["subject"].startswith("[connect-lockdown] remediated")
    assert report.to_dict()["ignored"] is None


def test_compliant_bucket_is_quiet_and_not_written(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    assert enforcer.handle_event(put_event()).results[0].outcome == "remediated"
    world.alerts()

    again = enforcer.handle_event(put_event())

    assert [r.outcome for r in again.results] == ["compliant"]
    assert recorder.calls["PutBucketPolicy"] == 1
    assert world.alerts() == []


def test_duplicate_and_out_of_order_events_end_in_the_same_state_with_one_write(world: World) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    world.put_policy(BUCKET, PUBLIC_POLICY)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    events = [
        load_event("s3-DeleteBucketPolicy", bucket=BUCKET),
        put_event(),
        load_event("connect-AssociateInstanceStorageConfig", bucket=BUCKET, instance_id=instance.id),
        put_event(),
    ]
    outcomes = [enforcer.handle_event(e).results[0].outcome for e in events]
    assert outcomes == ["remediated", "compliant", "compliant", "compliant"]
    assert recorder.calls["PutBucketPolicy"] == 1


# --- drift and merge ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "drift",
    [
        lambda s: s.update(Effect="Allow"),
        lambda s: s["Condition"]["StringNotLike"]["aws:userId"].append("AROAINTRUDER0000000:*"),
        lambda s: s["Condition"]["StringNotLike"]["aws:userId"].pop(0),
        lambda s: s.update(Resource=s["Resource"][:1]),
        lambda s: s.update(Action="s3:GetObject"),
        lambda s: s.pop("Condition"),
    ],
)
def test_drifted_statement_is_restored_and_foreign_statements_survive(world: World, drift: Any) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    enforcer = enforcer_for(world)
    enforcer.handle_event(put_event())
    locked = world.policy(BUCKET)
    drifted = json.loads(json.dumps(locked))
    drift(drifted["Statement"][0])
    drifted["Statement"].insert(0, TLS_ONLY)
    world.put_policy(BUCKET, drifted)

    [result] = enforcer.handle_event(put_event()).results

    assert result.outcome == "remediated"
    assert result.previous_policy == drifted
    restored = world.policy(BUCKET)
    assert restored["Statement"] == [TLS_ONLY, statement_of(locked)]


def test_representation_changes_are_not_drift(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    enforcer.handle_event(put_event())
    statement = statement_of(world.policy(BUCKET))
    statement["Condition"]["StringNotLike"]["aws:userId"].reverse()
    statement["Resource"].reverse()
    statement["Action"] = ["s3:*"]
    world.put_policy(BUCKET, {"Statement": [TLS_ONLY, statement], "Version": "2012-10-17"})
    enforcer.handle_event(put_event())  # adds nothing: TLS_ONLY was added by someone, ours is equivalent

    assert [r.outcome for r in enforcer.handle_event(put_event()).results] == ["compliant"]
    assert recorder.calls["PutBucketPolicy"] == 1


def test_public_policy_is_kept_in_preserve_mode_and_dropped_in_replace_mode(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    world.put_policy(BUCKET, PUBLIC_POLICY)
    enforcer_for(world).handle_event(put_event())
    kept = world.policy(BUCKET)
    assert kept["Statement"][0] == PUBLIC_POLICY["Statement"][0]
    assert len(kept["Statement"]) == 2

    world.put_policy(BUCKET, PUBLIC_POLICY)
    [result] = enforcer_for(world, merge_mode="replace").handle_event(put_event()).results
    assert result.outcome == "remediated"
    assert world.policy(BUCKET)["Statement"] == [statement_of(kept)]


def test_duplicates_of_our_statement_collapse(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    enforcer = enforcer_for(world)
    enforcer.handle_event(put_event())
    locked = world.policy(BUCKET)
    ours = statement_of(locked)
    world.put_policy(BUCKET, {"Version": "2012-10-17", "Statement": [ours, TLS_ONLY, ours]})

    [result] = enforcer.handle_event(put_event()).results

    assert result.outcome == "remediated"
    assert "duplicated" in result.reason
    assert world.policy(BUCKET)["Statement"] == [ours, TLS_ONLY]


def test_dry_run_reports_and_writes_nothing(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    world.put_policy(BUCKET, PUBLIC_POLICY)

    [result] = enforcer_for(world, dry_run=True).handle_event(put_event()).results

    assert result.outcome == "would_remediate"
    assert world.policy(BUCKET) == PUBLIC_POLICY
    assert result.applied_policy["Statement"][0] == PUBLIC_POLICY["Statement"][0]
    [alert] = world.alerts()
    assert alert["attributes"]["outcome"] == "would_remediate"


# --- principals -----------------------------------------------------------------------------------


def test_shared_bucket_admits_every_instance_and_legacy_custom_roles(world: World) -> None:
    world.create_bucket(BUCKET)
    modern = world.create_instance("modern", BUCKET, resource_types=("CALL_RECORDINGS",))
    legacy = world.create_instance("legacy", BUCKET, resource_types=("SCHEDULED_REPORTS",), legacy_role=True)

    [result] = enforcer_for(world).handle_event(put_event()).results

    assert result.outcome == "remediated"
    assert sorted(result.instance_ids) == sorted([modern.id, legacy.id])
    allowed = statement_of(world.policy(BUCKET))["Condition"]["StringNotLike"]["aws:userId"]
    assert f"{modern.role_id}:*" in allowed
    assert f"{legacy.role_id}:*" in allowed
    assert ":role/connect-legacy-role" in legacy.role_arn


def test_extra_user_principal_is_admitted_by_its_bare_id(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    user = world.client("iam").create_user(UserName="break-glass")["User"]

    enforcer_for(world, extra_principal_arns=(user["Arn"],)).handle_event(put_event())

    written = world.policy(BUCKET)
    assert user["UserId"] in statement_of(written)["Condition"]["StringNotLike"]["aws:userId"]
    request = Request.for_user(ACCOUNT, "break-glass", user["UserId"], "s3:GetObject", f"arn:aws:s3:::{BUCKET}/x")
    assert not is_denied(written, request)


def test_every_s3_capable_storage_resource_type_of_the_service_model_is_read(world: World) -> None:
    # Given an instance whose only S3 storage is screen recordings
    world.create_bucket(BUCKET)
    instance = world.create_instance("screens", BUCKET, resource_types=("SCREEN_RECORDINGS",))
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    model_types = enforcer.gateway.storage_resource_types()
    assert len(model_types) >= 10

    # When its bucket's policy changes
    [result] = enforcer.handle_event(put_event()).results

    # Then every type of the model is read except those Connect documents as Kinesis-only
    assert result.outcome == "remediated"
    assert result.instance_ids == [instance.id]
    assert recorder.calls["ListInstanceStorageConfigs"] == len(set(model_types) - NON_S3_RESOURCE_TYPES)
    assert "SCREEN_RECORDINGS" not in NON_S3_RESOURCE_TYPES and "EMAIL_MESSAGES" not in NON_S3_RESOURCE_TYPES


def test_a_resource_type_newer_than_the_documented_list_is_still_read() -> None:
    assert s3_capable_types(["CALL_RECORDINGS", "MEDIA_STREAMS", "SOME_FUTURE_TYPE"]) == [
        "CALL_RECORDINGS",
        "SOME_FUTURE_TYPE",
    ]


def test_non_s3_storage_is_not_a_bucket(world: World) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("streams")
    world.client("connect").associate_instance_storage_config(
        InstanceId=instance.id,
        ResourceType="CONTACT_TRACE_RECORDS",
        StorageConfig={
            "StorageType": "KINESIS_STREAM",
            "KinesisStreamConfig": {"StreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/ctr"},
        },
    )
    report = enforcer_for(world).handle_event(
        load_event("connect-AssociateInstanceStorageConfig", instance_id=instance.id)
    )
    assert [r.outcome for r in report.results] == ["pending"]


def test_many_instances_are_paged(world: World) -> None:
    world.create_bucket(BUCKET)
    instances = [world.create_instance(f"cc-{n}", BUCKET if n == 11 else None) for n in range(12)]
    [result] = enforcer_for(world).handle_event(put_event()).results
    assert result.instance_ids == [instances[11].id]


# --- refusals -------------------------------------------------------------------------------------


def test_deleted_service_role_is_refused_and_nothing_is_written(world: World) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    world.put_policy(BUCKET, PUBLIC_POLICY)
    world.client("iam").delete_role(RoleName=instance.role_arn.rsplit("/", 1)[1])

    [result] = enforcer_for(world).handle_event(put_event()).results

    assert result.outcome == "refused"
    assert instance.role_arn in result.reason
    assert "NoSuchEntity" in result.reason
    assert world.policy(BUCKET) == PUBLIC_POLICY
    [alert] = world.alerts()
    assert alert["attributes"]["outcome"] == "refused"


def test_missing_admin_role_is_refused(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    missing = f"arn:aws:iam::{ACCOUNT}:role/DoesNotExist"

    [result] = enforcer_for(world, admin_role_arns=(missing,)).handle_event(put_event()).results

    assert result.outcome == "refused"
    assert missing in result.reason and "ADMIN_ROLE_ARNS" in result.reason
    assert world.policy(BUCKET) is None


def test_principal_in_another_account_is_refused(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    [result] = (
        enforcer_for(world, extra_principal_arns=("arn:aws:iam::999999999999:role/Backup",))
        .handle_event(put_event())
        .results
    )
    assert result.outcome == "refused"
    assert "999999999999" in result.reason
    assert world.policy(BUCKET) is None


def test_instance_without_service_role_is_refused(world: World) -> None:
    world.create_bucket(BUCKET)
    instance = world.create_instance("creating", BUCKET)
    connect_storage.clear_service_role(instance.id)

    [result] = enforcer_for(world).handle_event(put_event()).results

    assert result.outcome == "refused"
    assert "no service role" in result.reason
    assert world.policy(BUCKET) is None


def test_policy_over_the_size_limit_is_refused(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    # Foreign statements that fit S3's limit alone, but not once the lockdown statement is added.
    big: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    while policies.policy_size(big) < policies.MAX_POLICY_BYTES - 100:
        big["Statement"].append(dict(TLS_ONLY, Sid=f"Padding{len(big['Statement']):04d}"))
    if policies.policy_size(big) > policies.MAX_POLICY_BYTES:
        big["Statement"].pop()
    world.put_policy(BUCKET, big)

    [result] = enforcer_for(world).handle_event(put_event()).results

    assert result.outcome == "refused"
    assert "20480" in result.reason
    assert world.policy(BUCKET) == big


def test_enforcer_role_from_configuration_is_resolved(world: World) -> None:
    # The command line on an operator's laptop runs as a user but must keep admitting the function's role.
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    gateway = AwsGateway(session=boto3.session.Session())
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn, enforcer_role_arn=world.enforcer_role_arn), gateway)

    [result] = enforcer.handle_event(put_event()).results

    assert result.outcome == "remediated"
    assert (
        f"{world.enforcer_role_id}:*" in statement_of(world.policy(BUCKET))["Condition"]["StringNotLike"]["aws:userId"]
    )


def test_configured_enforcer_role_that_does_not_exist_is_refused(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    enforcer = enforcer_for(world, enforcer_role_arn=f"arn:aws:iam::{ACCOUNT}:role/Gone")
    [result] = enforcer.handle_event(put_event()).results
    assert result.outcome == "refused"
    assert "the enforcer's role" in result.reason
    assert world.policy(BUCKET) is None


# --- scopes ---------------------------------------------------------------------------------------


def test_bucket_not_used_by_connect_changes_nothing(world: World) -> None:
    world.create_bucket("unrelated-bucket")
    world.create_instance("contact-centre", world.create_bucket(BUCKET))
    world.put_policy("unrelated-bucket", PUBLIC_POLICY)

    report = enforcer_for(world).handle_event(put_event("unrelated-bucket"))

    assert report.results == []
    assert "not used by any Connect instance" in str(report.ignored)
    assert world.policy("unrelated-bucket") == PUBLIC_POLICY
    assert world.policy(BUCKET) is None


def test_create_instance_without_storage_is_pending_and_quiet(world: World) -> None:
    instance = world.create_instance("new")
    report = enforcer_for(world).handle_event(load_event("connect-CreateInstance", instance_id=instance.id))
    [result] = report.results
    assert result.to_dict() == {
        "bucket": None,
        "outcome": "pending",
        "instances": [instance.id],
        "reason": result.reason,
        "previous_policy": None,
        "applied_policy": None,
        "exposures": [],
    }
    assert "no S3 storage" in result.reason
    assert world.alerts() == []


def test_redacted_create_instance_reconciles_every_instance(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_bucket("second-bucket")
    a = world.create_instance("a", BUCKET)
    b = world.create_instance("b", "second-bucket")
    c = world.create_instance("c")

    report = enforcer_for(world).handle_event(load_event("connect-CreateInstance-redacted"))

    assert {(r.bucket, r.outcome, tuple(r.instance_ids)) for r in report.results} == {
        (BUCKET, "remediated", (a.id,)),
        ("second-bucket", "remediated", (b.id,)),
        (None, "pending", (c.id,)),
    }


@pytest.mark.parametrize(
    "fixture",
    [
        "connect-AssociateInstanceStorageConfig",
        "connect-AssociateInstanceStorageConfig-arn",
        "connect-UpdateInstanceStorageConfig",
        "connect-DisassociateInstanceStorageConfig",
        "connect-CreateInstance",
    ],
)
def test_instance_events_reconcile_that_instances_buckets_only(world: World, fixture: str) -> None:
    world.create_bucket(BUCKET)
    world.create_bucket("other-instance-bucket")
    instance = world.create_instance("target", BUCKET)
    world.create_instance("other", "other-instance-bucket")

    report = enforcer_for(world).handle_event(load_event(fixture, instance_id=instance.id))

    assert [(r.bucket, r.outcome) for r in report.results] == [(BUCKET, "remediated")]
    assert world.policy("other-instance-bucket") is None


def test_unknown_instance_is_ignored(world: World) -> None:
    report = enforcer_for(world).handle_event(load_event("connect-AssociateInstanceStorageConfig"))
    assert report.results == []
    assert "does not exist" in str(report.ignored)


def test_scheduled_event_reconciles_every_bucket(world: World) -> None:
    for name in ("bucket-one", "bucket-two"):
        world.create_bucket(name)
        world.create_instance(name, name)
    world.put_policy("bucket-two", PUBLIC_POLICY)

    report = enforcer_for(world).handle_event(load_event("scheduled-event"))

    assert sorted((r.bucket, r.outcome) for r in report.results) == [
        ("bucket-one", "remediated"),
        ("bucket-two", "remediated"),
    ]
    assert {a["attributes"]["bucket"] for a in world.alerts()} == {"bucket-one", "bucket-two"}


def test_the_enforcers_own_write_is_ignored(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    event = put_event()
    event["detail"]["userIdentity"]["arn"] = f"arn:aws:sts::{ACCOUNT}:assumed-role/test-lockdown-enforcer-us-east-1/fn"

    report = enforcer.handle_event(event)

    assert report.results == []
    assert "own role" in str(report.ignored)
    assert recorder.calls["GetBucketPolicy"] == 0


# --- AWS failures ---------------------------------------------------------------------------------


def test_deleted_bucket_fails_with_a_clear_reason(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    world.client("s3").delete_bucket(Bucket=BUCKET)

    [result] = enforcer_for(world).handle_event(put_event()).results

    assert result.outcome == "failed"
    assert "NoSuchBucket" in result.reason and "GetBucketPolicy" in result.reason


def test_access_denied_on_write_fails_and_names_the_permission(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    recorder.fail("PutBucketPolicy", "AccessDenied")

    [result] = enforcer_for(world, recorder).handle_event(put_event()).results

    assert result.outcome == "failed"
    assert "s3:PutBucketPolicy" in result.reason
    assert world.policy(BUCKET) is None
    [alert] = world.alerts()
    assert alert["attributes"]["outcome"] == "failed"


def test_throttling_raises_for_a_retry_that_writes_once(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    recorder.fail("GetBucketPolicy", "SlowDown")
    enforcer = enforcer_for(world, recorder)

    with pytest.raises(RetryLater, match="SlowDown"):
        enforcer.handle_event(put_event())
    assert world.policy(BUCKET) is None

    recorder.clear("GetBucketPolicy")
    assert enforcer.handle_event(put_event()).results[0].outcome == "remediated"
    assert enforcer.handle_event(put_event()).results[0].outcome == "compliant"
    assert recorder.calls["PutBucketPolicy"] == 1


def test_one_bucket_failing_does_not_stop_the_others(world: World) -> None:
    for name in ("bucket-one", "bucket-two"):
        world.create_bucket(name)
        world.create_instance(name, name)
    world.client("s3").delete_bucket(Bucket="bucket-one")

    report = enforcer_for(world).handle_event(load_event("scheduled-event"))

    assert sorted((r.bucket, r.outcome) for r in report.results) == [
        ("bucket-one", "failed"),
        ("bucket-two", "remediated"),
    ]


# --- caching: one read for a warm compliant bucket, never a cached write ------------------------------


def test_warm_compliant_bucket_event_costs_one_call(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    enforcer.handle_event(put_event())
    recorder.calls.clear()

    [result] = enforcer.handle_event(put_event()).results

    assert result.outcome == "compliant"
    assert dict(recorder.calls) == {"GetBucketPolicy": 1}


def test_drift_on_a_warm_cache_is_decided_from_a_fresh_inventory(world: World) -> None:
    # Given a warm enforcer whose cache knows one instance
    world.create_bucket(BUCKET)
    first = world.create_instance("first", BUCKET)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    enforcer.handle_event(put_event())
    # When a second instance starts sharing the bucket (its event lost) and someone deletes the policy
    second = world.create_instance("second", BUCKET)
    world.delete_policy(BUCKET)
    recorder.calls.clear()

    [result] = enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET)).results

    # Then the write used a fresh inventory: both instances' roles are admitted
    assert result.outcome == "remediated"
    assert sorted(result.instance_ids) == sorted([first.id, second.id])
    allowed = statement_of(world.policy(BUCKET))["Condition"]["StringNotLike"]["aws:userId"]
    assert f"{second.role_id}:*" in allowed
    assert recorder.calls["ListInstances"] == 1
    assert recorder.calls["PutBucketPolicy"] == 1


def test_a_recreated_role_is_written_with_its_fresh_id(world: World) -> None:
    world.create_bucket(BUCKET)
    admin_arn, old_id = world.create_role("Admin")
    world.create_instance("contact-centre", BUCKET)
    enforcer = enforcer_for(world, admin_role_arns=(admin_arn,))
    enforcer.handle_event(put_event())
    iam = world.client("iam")
    iam.delete_role(RoleName="Admin")
    _, new_id = world.create_role("Admin")
    world.delete_policy(BUCKET)

    enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=BUCKET))

    allowed = statement_of(world.policy(BUCKET))["Condition"]["StringNotLike"]["aws:userId"]
    assert f"{new_id}:*" in allowed
    assert f"{old_id}:*" not in allowed


def test_the_cache_expires(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    now = [1000.0]
    recorder = AwsHooks()
    gateway = AwsGateway(session=world.enforcer_session())
    recorder.attach_gateway(gateway)
    enforcer = Enforcer(Settings(topic_arn=world.topic_arn), gateway, cache_ttl=60, clock=lambda: now[0])
    enforcer.handle_event(put_event())
    recorder.calls.clear()
    now[0] += 61

    assert enforcer.handle_event(put_event()).results[0].outcome == "compliant"
    assert recorder.calls["ListInstances"] == 1
    assert recorder.calls["GetRole"] >= 1


def test_bucket_unknown_to_a_warm_cache_costs_no_call(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)
    enforcer.handle_event(put_event())
    recorder.calls.clear()

    report = enforcer.handle_event(put_event("some-other-bucket"))

    assert report.results == []
    assert sum(recorder.calls.values()) == 0


def test_publish_throttled_after_a_write_keeps_the_write_and_raises_and_the_retry_does_not_write(
    world: World,
) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    recorder.fail("Publish", "Throttling", status=400)
    enforcer = enforcer_for(world, recorder)

    with pytest.raises(RetryLater, match="Publish") as raised:
        enforcer.handle_event(put_event())

    assert [r.outcome for r in raised.value.report.results] == ["remediated"]
    assert world.policy(BUCKET) is not None
    recorder.clear("Publish")
    assert enforcer.handle_event(put_event()).results[0].outcome == "compliant"
    assert recorder.calls["PutBucketPolicy"] == 1


@pytest.mark.parametrize("code", ["AuthorizationError", "AccessDenied", "NotFound"])
def test_publish_refused_for_good_keeps_its_class_names_the_call_and_is_never_retryable(
    world: World, code: str
) -> None:
    # Given a principal SNS will never let publish (the topic policy, a KMS key, a deleted topic)
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    recorder.fail("Publish", code, status=404 if code == "NotFound" else 403)
    enforcer = enforcer_for(world, recorder)

    # When the enforcer writes the lock and publishes its alert
    report = enforcer.handle_event(put_event())

    # Then the write is reported, the refusal is a permanent error naming sns:Publish, and nothing says "retry"
    assert [r.outcome for r in report.results] == ["remediated"]
    assert world.policy(BUCKET) is not None
    assert report.retryable_errors == []
    [unsent] = report.unsent_alerts
    assert isinstance(unsent.error, AwsCallError) and unsent.error.code == code
    assert unsent.error.access_denied is (code != "NotFound")
    assert f"sns:Publish failed: {code}" in str(unsent) and BUCKET in str(unsent)


def test_inventory_access_denied_fails_the_bucket_and_a_bucketless_event_alike(world: World) -> None:
    # Given an enforcer whose role cannot list Connect instances (an SCP, a permissions boundary)
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    recorder = AwsHooks()
    recorder.fail("ListInstances", "AccessDeniedException")
    enforcer = enforcer_for(world, recorder)

    # When a bucket event and a sweep arrive
    [failed] = enforcer.handle_event(put_event()).results
    sweep = enforcer.handle_event(load_event("scheduled-event"))

    # Then both are failed results, published: enforcement never stops in silence
    assert failed.outcome == "failed" and failed.bucket == BUCKET
    assert "ListInstances" in failed.reason
    [sweep_failure] = sweep.results
    assert sweep.ignored is None
    assert sweep_failure.outcome == "failed" and sweep_failure.bucket is None
    assert sweep_failure.error_code == "AccessDeniedException" and "permissions" in sweep_failure.reason
    alerts = world.alerts()
    assert [a["body"]["result"]["bucket"] for a in alerts] == [BUCKET, None]
    assert [a["body"]["result"]["outcome"] for a in alerts] == ["failed", "failed"]


def test_a_cold_remediation_reads_each_role_once(world: World) -> None:
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    admin_arn, _ = world.create_role("Admin")
    recorder = AwsHooks()

    enforcer_for(world, recorder, admin_role_arns=(admin_arn,)).handle_event(put_event())

    # The service role, the admin role and the default ADMIT_SERVICE_LINKED_ROLES (config, access-analyzer: absent
    # here, so skipped), once each.
    assert recorder.calls["GetRole"] == 4
    assert recorder.calls["PutBucketPolicy"] == 1


def test_a_sweep_asks_for_a_missing_service_linked_role_once_and_the_next_write_asks_again(world: World) -> None:
    # Given three unlocked buckets, each of its own instance, in an account without the default
    # ADMIT_SERVICE_LINKED_ROLES' roles (config, access-analyzer)
    buckets = [BUCKET, "amazon-connect-second", "amazon-connect-third"]
    for number, bucket in enumerate(buckets):
        world.create_bucket(bucket)
        world.create_instance(f"contact-centre-{number}", bucket)
    recorder = AwsHooks()
    enforcer = enforcer_for(world, recorder)

    # When a sweep locks all three
    report = enforcer.handle_event(load_event("scheduled-event"))

    # Then IAM was asked for each service role once and for each missing role once, not once per write
    assert sorted(r.outcome for r in report.results if r.bucket) == ["remediated"] * 3
    assert recorder.calls["GetRole"] == 3 + 2

    # And the next invocation that writes asks for the missing roles again
    world.delete_policy(BUCKET)
    enforcer.handle_event(put_event())
    assert recorder.calls["GetRole"] == 3 + 2 + 1 + 2


def test_one_unreadable_resource_type_does_not_hide_the_buckets_of_the_others(world: World) -> None:
    # Given an instance with call recordings in one bucket and chat transcripts in another, and an enforcer
    # that is denied on the chat transcripts' storage (an SCP on one resource type, say)
    world.create_bucket(BUCKET)
    world.create_bucket("amazon-connect-chats")
    instance = world.create_instance("contact-centre", BUCKET, resource_types=("CALL_RECORDINGS",))
    world.associate(instance, "amazon-connect-chats", "CHAT_TRANSCRIPTS")
    enforcer = enforcer_for(world)

    AwsHooks().attach(enforcer.gateway.connect).fail(  # type: ignore[attr-defined]
        "ListInstanceStorageConfigs",
        "AccessDeniedException",
        when=lambda params: params["ResourceType"] == "CHAT_TRANSCRIPTS",
        message="denied by an SCP",
    )

    # When the sweep runs
    report = enforcer.handle_event(load_event("scheduled-event"))

    # Then the readable bucket is locked, and the unreadable type is a published failure naming it
    by_bucket = {r.bucket: r for r in report.results}
    assert by_bucket[BUCKET].outcome == "remediated"
    assert "amazon-connect-chats" not in by_bucket
    failure = by_bucket[None]
    assert failure.outcome == "failed" and failure.instance_ids == [instance.id]
    assert "CHAT_TRANSCRIPTS" in failure.reason and failure.error_code == "AccessDeniedException"
    alerts = world.alerts()
    assert {a["body"]["result"]["bucket"] for a in alerts} == {BUCKET, None}


def test_a_redeployed_enforcer_keeps_control_and_a_recreated_admin_does_not(world: World) -> None:
    # Given a bucket locked by the enforcer, with an admin role
    world.create_bucket(BUCKET)
    world.create_instance("contact-centre", BUCKET)
    admin_arn, _ = world.create_role("Admin")
    enforcer_for(world, admin_role_arns=(admin_arn,)).handle_event(put_event())
    locked = world.policy(BUCKET)
    assert statement_of(locked)["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": [world.enforcer_role_arn]}

    # When the stack is deleted and deployed again (same role name and ARN, new unique ID), and someone
    # recreates the admin role under its old name
    iam = world.client("iam")
    name = world.enforcer_role_arn.rsplit("/", 1)[1]
    iam.delete_role(RoleName=name)
    world.setup_enforcer_role()
    iam.delete_role(RoleName="Admin")
    _, new_admin_id = world.create_role("Admin")
    bucket_arn = f"arn:aws:s3:::{BUCKET}"

    # Then, under IAM's rules, the new enforcer may still read and write the policy, by ARN ...
    for action in ("s3:GetBucketPolicy", "s3:PutBucketPolicy"):
        new_enforcer = Request.for_role(ACCOUNT, name, world.enforcer_role_id, action, bucket_arn)
        assert not is_denied(locked, new_enforcer), action
    # ... while the recreated admin is denied: it is matched by unique ID only
    assert is_denied(locked, Request.for_role(ACCOUNT, "Admin", new_admin_id, "s3:GetObject", f"{bucket_arn}/x"))

    # And the new enforcer's first decision adds its new ID and drops nothing it needs
    [result] = enforcer_for(world, admin_role_arns=(admin_arn,)).handle_event(put_event()).results
    assert result.outcome == "remediated"
    assert f"{world.enforcer_role_id}:*" in policies.allowed_patterns_of(statement_of(world.policy(BUCKET)))
