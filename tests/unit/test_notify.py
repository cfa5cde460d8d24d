"""The SNS message and its three renderings: the contract document, the email, the Chatbot notification.

Expected texts live in tests/data/alerts/. They change only deliberately: run

    UPDATE_GOLDEN=1 python -m pytest tests/unit/test_notify.py

review `git diff tests/data/alerts`, and commit them with the change that explains them. CI never updates them.

Sources for the rules checked here:
- SNS Publish (Subject, Message, MessageStructure): https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
- Chatbot custom notifications: https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
  (encoded in tests/data/alerts/chatbot-custom-notification.schema.json)
"""

from __future__ import annotations

import copy
import json
import os
import string
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connect_lockdown import notify
from connect_lockdown.events import Trigger
from connect_lockdown.notify import Notification, console_url, notification, partition_of, subject_for, thread_id
from devtools.account import ACCOUNT, REGION
from tests.support.policies import public_read

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "tests" / "data" / "alerts"
NOTIFICATION_SCHEMA = json.loads((ROOT / "schemas" / "notification.json").read_text(encoding="utf-8"))
CHAT_SCHEMA = json.loads((ALERTS / "chatbot-custom-notification.schema.json").read_text(encoding="utf-8"))
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

BUCKET = "amazon-connect-25fd0a3be3ef"
INSTANCE = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SECOND_INSTANCE = "11111111-2222-4333-8444-555555555555"
ALIASES = {INSTANCE: "contact-centre"}
JANE = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_3f8a2c71d9e04b65/jane.doe@example.com"
OUTCOMES = ("remediated", "would_remediate", "refused", "failed")

PUBLIC_READ = public_read(BUCKET)


def lockdown(*allowed: str) -> dict[str, Any]:
    return {
        "Sid": "ConnectBucketLockdown",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
        "Condition": {"StringNotLike": {"aws:userId": sorted(allowed)}},
    }


ALLOWED = (ACCOUNT, "AROAADMINROLEID00000:*", "AROACONNECTROLEID000:*", "AROAENFORCERROLEID00:*")
DRIFTED = {"Version": "2012-10-17", "Statement": [PUBLIC_READ, lockdown(ACCOUNT, "AROAADMINROLEID00000:*")]}
RESTORED = {"Version": "2012-10-17", "Statement": [PUBLIC_READ, lockdown(*ALLOWED)]}
LOCK_ONLY = {"Version": "2012-10-17", "Statement": [lockdown(*ALLOWED)]}

PUT_BY_JANE = Trigger(
    event_id="7c1d3e52-9a4b-4f0e-b6d2-3e8f1a5c9d71",
    event_name="PutBucketPolicy",
    actor=JANE,
    time="2025-03-11T14:22:07Z",
    source_ip="203.0.113.7",
)
SWEEP = Trigger(
    event_id="d7f9b1c3-5e2a-4d6f-8b0c-3a5e7c9d1f46",
    event_name="Scheduled Event",
    actor=None,
    time="2025-03-15T03:00:00Z",
)
ASSOCIATE = Trigger(
    event_id="3b9e2c4d-7f1a-4e6b-9c2d-5a8f1e3b7c90",
    event_name="AssociateInstanceStorageConfig",
    actor="arn:aws:sts::123456789012:assumed-role/ConnectAdmin/ops-pipeline",
    time="2025-03-12T09:41:55Z",
    source_ip="198.51.100.24",
)

# One fixed case per outcome: the expected texts are rendered from these and nothing else.
CASES: dict[str, tuple[Trigger | None, dict[str, Any]]] = {
    "remediated": (
        PUT_BY_JANE,
        {
            "bucket": BUCKET,
            "outcome": "remediated",
            "instances": [INSTANCE],
            "reason": "the lockdown statement had drifted; the expected lockdown policy was written",
            "previous_policy": DRIFTED,
            "applied_policy": RESTORED,
            "exposures": [],
        },
    ),
    "would_remediate": (
        SWEEP,
        {
            "bucket": BUCKET,
            "outcome": "would_remediate",
            "instances": [INSTANCE],
            "reason": "the bucket had no policy; DRY_RUN is on, nothing was written",
            "previous_policy": None,
            "applied_policy": LOCK_ONLY,
            "exposures": [],
        },
    ),
    "refused": (
        PUT_BY_JANE,
        {
            "bucket": BUCKET,
            "outcome": "refused",
            "instances": [INSTANCE, SECOND_INSTANCE],
            "reason": "could not resolve arn:aws:iam::123456789012:role/Admin (ADMIN_ROLE_ARNS) to its unique ID: "
            "NoSuchEntity. Recreate the role or correct the ARN; nothing was written, because a policy without "
            "it would lock it out",
            "previous_policy": DRIFTED,
            "applied_policy": None,
            "exposures": [],
        },
    ),
    "failed": (
        ASSOCIATE,
        {
            "bucket": BUCKET,
            "outcome": "failed",
            "instances": [INSTANCE],
            "reason": f"GetBucketPolicy failed on {BUCKET}: AccessDenied; the enforcer's role needs "
            "s3:GetBucketPolicy on the bucket, the bucket policy must admit it, and the bucket must belong to "
            "this account",
            "previous_policy": None,
            "applied_policy": None,
            "exposures": [],
        },
    ),
}


def case(outcome: str, **overrides: Any) -> Notification:
    trigger, result = CASES[outcome]
    return notification(ACCOUNT, REGION, trigger, copy.deepcopy(result), instance_aliases=ALIASES, **overrides)


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/data/alerts/<name>; UPDATE_GOLDEN=1 rewrites it instead, never in CI."""
    path = ALERTS / name
    if UPDATE_GOLDEN:
        if os.environ.get("CI"):
            pytest.fail("UPDATE_GOLDEN=1 is for deliberate local updates, not for CI")
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: render it with UPDATE_GOLDEN=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed: if deliberate, UPDATE_GOLDEN=1 and review git diff"


def chat_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


# --- default: the contract document, unchanged ---------------------------------------------------------


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_default_is_the_contract_document_and_matches_the_shipped_schema(outcome: str) -> None:
    trigger, result = CASES[outcome]
    message = case(outcome)

    structure = json.loads(message.message())
    default = json.loads(structure["default"])

    assert default == {
        "account": ACCOUNT,
        "region": REGION,
        "trigger": trigger.to_dict() if trigger else None,
        "result": result,
    }
    assert default == message.body
    jsonschema.Draft202012Validator(NOTIFICATION_SCHEMA).validate(default)
    # The source IP is for people only: it is not in the contract's trigger document.
    assert "source_ip" not in json.dumps(default)


def test_the_schema_rejects_what_the_contract_excludes() -> None:
    validator = jsonschema.Draft202012Validator(NOTIFICATION_SCHEMA)
    body = case("remediated").body
    for mutate in (
        lambda b: b["result"].update(outcome="compliant"),
        lambda b: b["result"].update(applied_policy=None),
        lambda b: b["trigger"].update(source_ip="203.0.113.7"),
        lambda b: b.update(extra=1),
        lambda b: b["result"].pop("reason"),
    ):
        broken = copy.deepcopy(body)
        mutate(broken)
        assert not validator.is_valid(broken)
    assert validator.is_valid(case("refused").body)
    assert validator.is_valid({**body, "trigger": None})


def test_the_message_has_three_string_renderings_and_the_attributes() -> None:
    message = case("remediated")

    structure = json.loads(message.message())

    # Publish with MessageStructure=json: a `default` key, every value a string; SNS gives each protocol its key.
    assert set(structure) == {"default", "email", "https"}
    assert all(isinstance(value, str) for value in structure.values())
    assert structure["email"] == message.email
    assert json.loads(structure["https"]) == message.chat
    assert message.attributes == {"outcome": "remediated", "bucket": BUCKET, "account": ACCOUNT, "region": REGION}


# --- email ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_email_matches_the_expected_text(outcome: str) -> None:
    check_golden(f"email-{outcome}.txt", case(outcome).email)


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_email_follows_the_issue_order(outcome: str) -> None:
    email = case(outcome).email
    lines = email.splitlines()

    # A one-line summary first, then where, who, what was done, the diff, what to do, the console link.
    assert BUCKET in lines[0] and lines[1] == ""
    order = [
        "Where",
        f"  Bucket:              {BUCKET}",
        "contact-centre (aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee)",
        f"  Account:             {ACCOUNT}",
        f"  Region:              {REGION}",
        "Who",
        "  Caller:",
        "  Source IP:",
        "  Time:",
        "What the enforcer did",
        "Policy, before and after (unified diff, keys sorted)",
        "What to fix" if outcome == "refused" else "Next steps",
        "Permissions in the S3 console",
        f"https://console.aws.amazon.com/s3/buckets/{BUCKET}?region={REGION}&tab=permissions",
    ]
    positions = [email.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_email_diff_shows_before_and_after() -> None:
    email = case("remediated").email
    assert '  +            "AROACONNECTROLEID000:*",' in email
    assert "--- before: the policy as read" in email
    assert "+++ after: the policy written" in email
    assert "+++ after: the policy that would be written" in case("would_remediate").email
    # A deleted policy diffs against nothing.
    assert "--- before: no bucket policy" in case("would_remediate").email
    assert "None: nothing was written, the policy is unchanged." in case("refused").email


def test_refused_email_says_what_to_fix() -> None:
    email = case("refused").email
    fix = email[email.index("What to fix") :]
    assert "Fix this: could not resolve arn:aws:iam::123456789012:role/Admin" in fix
    assert "Recreate the role or correct the ARN" in fix


def test_email_shows_ids_alone_without_aliases_and_every_instance() -> None:
    trigger, result = CASES["refused"]
    without = notification(ACCOUNT, REGION, trigger, result)
    assert f"  Instances:           {INSTANCE}\n                       {SECOND_INSTANCE}\n" in without.email
    with_alias = case("refused").email
    assert f"  Instances:           contact-centre ({INSTANCE})\n                       {SECOND_INSTANCE}\n" in (
        with_alias
    )


def test_untrusted_text_cannot_add_lines_or_break_out_of_chat_markup() -> None:
    evil = "arn:aws:sts::123456789012:assumed-role/x/y\nCaller: someone-else\r\n`<!channel>` ```"
    trigger = Trigger("id\nforged", "PutBucketPolicy", evil, "2025-03-11T14:22:07Z", "1.2.3.4\u2028x")
    _, result = CASES["remediated"]
    result = {**result, "reason": "bad\nline"}

    message = notification(ACCOUNT, REGION, trigger, result)

    assert "\nCaller: someone-else" not in message.email
    assert "\nforged" not in message.email and "\nline" not in message.email
    description = message.chat["content"]["description"]
    assert "<!channel>" not in description and "<" not in description
    # Only the diff's own fence opens and closes a code block.
    assert description.count("```") == 2
    jsonschema.Draft202012Validator(CHAT_SCHEMA).validate(message.chat)


# --- https: the Chatbot custom notification -------------------------------------------------------------


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_chat_payload_matches_the_expected_text(outcome: str) -> None:
    check_golden(f"chatbot-{outcome}.json", chat_text(case(outcome).chat))


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_chat_payload_follows_the_documented_schema(outcome: str) -> None:
    payload = case(outcome).chat
    jsonschema.Draft202012Validator(CHAT_SCHEMA).validate(payload)
    assert payload["version"] == "1.0" and payload["source"] == "custom"
    assert payload["content"]["textType"] == "client-markdown"
    assert payload["metadata"]["threadId"] == thread_id(ACCOUNT, REGION, BUCKET)
    assert payload["metadata"]["additionalContext"]["outcome"] == outcome


def test_the_chat_schema_catches_what_chatbot_would_drop() -> None:
    validator = jsonschema.Draft202012Validator(CHAT_SCHEMA)
    payload = case("remediated").chat
    for mutate in (
        lambda p: p.update(version="1"),
        lambda p: p.update(source="connect-lockdown"),
        lambda p: p["content"].update(textType="markdown"),
        lambda p: p["content"].update(color="red"),
        lambda p: p["content"].pop("description"),
        lambda p: p["content"].update(description="x" * 3001),
        lambda p: p["metadata"].update(threadId="a b"),
        lambda p: p["metadata"]["additionalContext"].update(count=1),
    ):
        broken = copy.deepcopy(payload)
        mutate(broken)
        assert not validator.is_valid(broken), broken


def test_alerts_for_one_bucket_share_a_thread_and_other_buckets_do_not() -> None:
    threads = {case(outcome).chat["metadata"]["threadId"] for outcome in OUTCOMES}
    assert threads == {f"connect-lockdown-{ACCOUNT}-{REGION}-{BUCKET}"}
    assert thread_id(ACCOUNT, REGION, "other-bucket") != thread_id(ACCOUNT, REGION, BUCKET)
    assert thread_id(ACCOUNT, "eu-west-1", BUCKET) != thread_id(ACCOUNT, REGION, BUCKET)


BUCKETS = st.from_regex(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
UNTRUSTED = st.text(max_size=1024)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=75, deadline=None)
@given(
    outcome=st.sampled_from(OUTCOMES),
    bucket=BUCKETS,
    actor=st.none() | UNTRUSTED,
    source_ip=st.none() | UNTRUSTED,
    reason=st.text(min_size=1, max_size=2000),
    before=st.none() | st.dictionaries(st.text(max_size=20), JSON_VALUES, max_size=8),
    after=st.dictionaries(st.text(max_size=20), JSON_VALUES, max_size=8),
    instances=st.lists(st.uuids().map(str), max_size=6),
    alias=st.none() | st.text(max_size=62),
    region=st.sampled_from(["us-east-1", "eu-central-2", "cn-north-1", "us-gov-west-1", "us-iso-east-1"]),
)
def test_any_result_renders_a_chat_payload_chatbot_accepts_and_a_valid_subject(
    outcome: str,
    bucket: str,
    actor: str | None,
    source_ip: str | None,
    reason: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    instances: list[str],
    alias: str | None,
    region: str,
) -> None:
    trigger = Trigger("event-id", "PutBucketPolicy", actor, "2025-03-11T14:22:07Z", source_ip)
    result = {
        "bucket": bucket,
        "outcome": outcome,
        "instances": instances,
        "reason": reason,
        "previous_policy": before,
        "applied_policy": after if outcome in ("remediated", "would_remediate") else None,
        "exposures": [],
    }
    aliases = {i: alias for i in instances[:1]}

    message = notification(ACCOUNT, region, trigger, result, instance_aliases=aliases)

    jsonschema.Draft202012Validator(CHAT_SCHEMA).validate(message.chat)
    assert_valid_subject(message.subject)
    assert json.loads(json.loads(message.message())["default"]) == message.body
    assert message.size() <= notify.MAX_MESSAGE_BYTES


# --- subject and link ----------------------------------------------------------------------------------


def assert_valid_subject(subject: str) -> None:
    # Publish: "UTF-8 text with no line breaks or control characters, and less than 100 characters long";
    # ASCII, at most 100.
    assert 0 < len(subject) < 100
    assert all(ch in string.printable and ch not in "\r\n\t\x0b\x0c" for ch in subject), subject


def test_subject_says_restored_for_a_drifted_policy_and_locked_for_a_bucket_that_had_none() -> None:
    drifted = {"outcome": "remediated", "bucket": "connect-25fd0a3be3ef", "previous_policy": {"Statement": []}}
    never = {"outcome": "remediated", "bucket": "connect-25fd0a3be3ef", "previous_policy": None}
    assert subject_for(drifted) == "[connect-lockdown] remediated: policy restored on connect-25fd0a3be3ef"
    assert subject_for(never) == "[connect-lockdown] remediated: locked connect-25fd0a3be3ef"


def test_alerts_name_the_principal_behind_each_allowlist_entry() -> None:
    # Given a remediation whose allowlist holds IDs and the enforcer's ARN
    enforcer_arn = "arn:aws:iam::123456789012:role/connect-lockdown-enforcer-us-east-1"
    applied = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ConnectBucketLockdown",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {
                    "StringNotLike": {"aws:userId": ["123456789012", "AROACONNECTROLEID000:*"]},
                    "ArnNotEquals": {"aws:PrincipalArn": [enforcer_arn]},
                },
            }
        ],
    }
    result: dict[str, Any] = {"bucket": "b", "outcome": "remediated", "instances": [], "reason": "r"}
    result["previous_policy"] = None
    result["applied_policy"] = applied
    names = {
        "AROACONNECTROLEID000:*": "arn:aws:iam::123456789012:role/connect-role (service role of Connect instance x)",
        enforcer_arn: "the enforcer's role, by ARN",
        "123456789012": "the account root (123456789012)",
    }

    # When the alert is rendered
    message = notification("123456789012", "us-east-1", None, result, principal_names=names)

    # Then both the email and the chat message say who each entry is
    assert "Who the allowlist entries are" in message.email
    assert "AROACONNECTROLEID000:*" in message.email and "service role of Connect instance x" in message.email
    assert "the enforcer's role, by ARN" in message.email
    assert "service role of Connect instance x" in message.chat["content"]["description"]


@given(outcome=st.sampled_from(OUTCOMES), bucket=BUCKETS)
def test_subject_keeps_the_whole_bucket_name_when_the_words_do_not_fit(outcome: str, bucket: str) -> None:
    subject = subject_for({"outcome": outcome, "bucket": bucket})
    assert_valid_subject(subject)
    assert subject.startswith(f"[connect-lockdown] {outcome}: ")
    assert subject.endswith(bucket)


@given(outcome=st.text(max_size=200), bucket=st.none() | st.text(max_size=300))
def test_subject_is_valid_for_any_text(outcome: str, bucket: str | None) -> None:
    assert_valid_subject(subject_for({"outcome": outcome, "bucket": bucket}))


@pytest.mark.parametrize(
    ("region", "partition", "url"),
    [
        ("us-east-1", "aws", f"https://console.aws.amazon.com/s3/buckets/{BUCKET}?region=us-east-1&tab=permissions"),
        ("eu-west-3", "aws", f"https://console.aws.amazon.com/s3/buckets/{BUCKET}?region=eu-west-3&tab=permissions"),
        (
            "cn-northwest-1",
            "aws-cn",
            f"https://console.amazonaws.cn/s3/buckets/{BUCKET}?region=cn-northwest-1&tab=permissions",
        ),
        (
            "us-gov-west-1",
            "aws-us-gov",
            f"https://console.amazonaws-us-gov.com/s3/buckets/{BUCKET}?region=us-gov-west-1&tab=permissions",
        ),
        ("us-iso-east-1", "aws-iso", None),
    ],
)
def test_console_link_is_partition_aware(region: str, partition: str, url: str | None) -> None:
    assert partition_of(region) == partition
    assert console_url(BUCKET, region) == url
    trigger, result = CASES["failed"]
    message = notification(ACCOUNT, region, trigger, result)
    assert (url or "no public console in this partition") in message.email
    assert f"arn:{partition}:s3:::{BUCKET}" in message.chat["metadata"]["relatedResources"]


# --- size --------------------------------------------------------------------------------------------


def big_policy(statements: int) -> dict[str, Any]:
    """About 20 KB, S3's limit for a bucket policy."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": f"Reader{n:03d}",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader-{n:03d}"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/reports/{n:03d}/*"],
            }
            for n in range(statements)
        ],
    }


def test_largest_policies_fit_one_message_and_only_the_human_renderings_are_cut() -> None:
    # MERGE_MODE=replace over a policy at S3's limit: every old statement is a removed line.
    before, after = big_policy(80), LOCK_ONLY
    assert len(json.dumps(before, separators=(",", ":"))) > 19_000
    _, result = CASES["remediated"]
    result = {**result, "previous_policy": before, "applied_policy": after}

    message = notification(ACCOUNT, REGION, PUT_BY_JANE, result)

    assert message.size() <= notify.MAX_MESSAGE_BYTES
    assert json.loads(json.loads(message.message())["default"])["result"] == result
    assert "more lines not shown" in message.email
    jsonschema.Draft202012Validator(CHAT_SCHEMA).validate(message.chat)
    assert "more diff lines are in the email" in message.chat["content"]["description"]


def test_a_message_over_the_limit_drops_the_diffs_never_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    full = case("remediated")
    monkeypatch.setattr(notify, "MAX_MESSAGE_BYTES", full.size() - 1)

    smaller = case("remediated")

    assert smaller.body == full.body
    assert smaller.size() < full.size()
    assert "+++ after" not in smaller.email and "Policy diff" not in smaller.chat["content"]["description"]


# --- the gateway publishes the structure ----------------------------------------------------------------


def slack_as_text(payload: dict[str, Any]) -> list[str]:
    """The README's text rendering of a Slack message: Slack's *bold* and `code` marks left out."""
    lines, in_code = [payload["content"]["title"]], False
    for line in payload["content"]["description"].splitlines():
        if line == "```":
            in_code = not in_code
            continue
        lines.append(f"| {line}" if in_code else line.replace("*", "").replace("`", ""))
    return lines + [f"- {step}" for step in payload["content"]["nextSteps"]]


# --- the documentation shows what arrives ---------------------------------------------------------------


def test_readme_shows_the_email_and_the_slack_message_that_are_sent() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    alerts = readme[readme.index("### Alerts") : readme.index("## Deploy")]
    message = case("remediated")
    assert message.subject in alerts
    for line in message.email.splitlines():
        assert f"    {line}".rstrip() in alerts, line
    for line in slack_as_text(message.chat):
        assert line in alerts, line


def test_docs_show_the_current_chat_payload() -> None:
    docs = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    assert chat_text(case("remediated").chat).rstrip() in docs


def test_the_email_names_every_id_of_its_diff_as_plan_does() -> None:
    # Given a remediation whose old lock admitted an ID the expected one drops, and an entry nobody could name
    from connect_lockdown.cli.wording import legend_of
    from connect_lockdown.outcomes import BucketResult, InstanceRef, Outcome

    previous = {"Version": "2012-10-17", "Statement": [lockdown("123456789012", "AROASTALEROLEID00000:*")]}
    applied = {"Version": "2012-10-17", "Statement": [lockdown("123456789012", "AROACONNECTROLEID000:*")]}
    names = {
        "123456789012": "the account root (123456789012)",
        "AROACONNECTROLEID000:*": "arn:aws:iam::123456789012:role/connect-role (service role of Connect instance x)",
    }
    result = BucketResult(BUCKET, Outcome.REMEDIATED, (InstanceRef(INSTANCE, None),), "r", previous, applied)
    result.principal_names = names

    # When the alert and the plan's legend are rendered
    message = notification(ACCOUNT, REGION, None, result.to_dict(), principal_names=names)
    legend = message.email.split("Who the allowlist entries are\n", 1)[1].split("\n\n", 1)[0]

    # Then every ID of the diff, the removed one too, is named, in the same words as plan's legend
    for line in legend_of(result):
        entry, name = line.split("  ", 1)
        assert f"{entry}:" in legend and name in legend
    assert "AROASTALEROLEID00000:*" in legend and "not in the expected allowlist" in legend
    assert "AROASTALEROLEID00000:*` not in the expected allowlist" in message.chat["content"]["description"]


# --- exposures and the command line's unlock -------------------------------------------------------------

EXPOSURES = [
    {"sid": "MakeItPublic", "kind": "public", "principal": "*"},
    {"sid": None, "kind": "service-without-source", "principal": "cloudfront.amazonaws.com"},
]


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_alert_shows_one_line_per_exposure(outcome: str) -> None:
    # Given a result whose policy keeps grants beside the lock
    trigger, result = CASES[outcome]
    exposed = notification(ACCOUNT, REGION, trigger, {**copy.deepcopy(result), "exposures": EXPOSURES})
    # Then the email and the chat message name each one, on its own line
    email = exposed.email.splitlines()
    assert "  exposure: statement MakeItPublic grants the public (*)" in email
    assert any(line.startswith("  exposure: a statement without a Sid grants the service cloudfront") for line in email)
    description = exposed.chat["content"]["description"].splitlines()
    assert "*Exposure:* statement MakeItPublic grants the public (*)" in description
    assert any(line.startswith("*Exposure:* a statement without a Sid grants the service") for line in description)
    jsonschema.Draft202012Validator(CHAT_SCHEMA).validate(exposed.chat)
    jsonschema.Draft202012Validator(NOTIFICATION_SCHEMA).validate(exposed.body)
    # And a result without exposures says nothing of them
    assert "exposure" not in case(outcome).email.lower() and "Exposure" not in json.dumps(case(outcome).chat)


def test_an_unlock_alert_says_what_was_removed_and_what_is_now_open() -> None:
    # Given the command line's unlock of a bucket that kept a public grant beside the lock
    result = {
        "bucket": BUCKET,
        "outcome": "unlocked",
        "instances": [INSTANCE],
        "reason": "connect-lockdown unlock removed the lockdown statement and kept 1 other statement",
        "previous_policy": RESTORED,
        "applied_policy": {"Version": "2012-10-17", "Statement": [PUBLIC_READ]},
        "exposures": EXPOSURES[:1],
    }
    trigger = Trigger(event_id=None, event_name="connect-lockdown unlock", actor=JANE, time="2025-03-16T10:00:00Z")
    message = notification(ACCOUNT, REGION, trigger, result, instance_aliases=ALIASES)
    # Then it is the contract's document with outcome unlocked, filterable by its attributes
    jsonschema.Draft202012Validator(NOTIFICATION_SCHEMA).validate(message.body)
    assert message.attributes["outcome"] == "unlocked" and message.attributes["bucket"] == BUCKET
    assert message.subject == f"[connect-lockdown] unlocked: lockdown removed from {BUCKET}"
    # And the email shows the statement removed, and the grant now open
    assert '  -      "Sid": "ConnectBucketLockdown"' in message.email.splitlines()
    assert "  exposure: statement MakeItPublic grants the public (*)" in message.email
    assert "connect-lockdown apply" in message.email
    assert message.chat["content"]["title"] == f":unlock: Lockdown removed from {BUCKET}"
    jsonschema.Draft202012Validator(CHAT_SCHEMA).validate(message.chat)
    # And an unlock that deleted the policy is valid too
    deleted = {**result, "applied_policy": None, "exposures": []}
    jsonschema.Draft202012Validator(NOTIFICATION_SCHEMA).validate(notification(ACCOUNT, REGION, trigger, deleted).body)
