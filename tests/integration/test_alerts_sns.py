"""Every subscriber of the topic gets its rendering: real outcomes over HTTP, on a moto server on 127.0.0.1.

The subscriptions are built here the way template.yaml gets them from its parameters: an `email`
subscription with the NotifyOutcomes filter policy on the `outcome` message attribute (default
remediated,refused,would_remediate), and the `https` subscription Chatbot makes for its Slack channel, without a
filter. SNS gives each protocol its own key of the `MessageStructure=json` message, or `default`:

- the SQS queue of the test world (no filter) receives `default`, checked against schemas/notification.json;
- an SQS queue with the email subscription's filter policy shows what that filter lets through;
- the `https` subscription posts to a TLS endpoint on 127.0.0.1, standing in for Chatbot; every payload is
  checked against the documented custom-notification rules (tests/data/alerts/chatbot-...schema.json);
- moto does not deliver email, so the `email` rendering is read from the message SNS accepted, the key the
  Publish documentation says an email subscriber receives.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from moto.sns.models import sns_backends

from connect_lockdown.aws import AwsGateway
from connect_lockdown.notify import notification, subject_for, thread_id
from devtools.events import load_event
from devtools.world import ACCOUNT, REGION, World
from tests.support.fixtures import lambda_context
from tests.support.handler import load_app
from tests.support.policies import public_read_policy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOTIFICATION_SCHEMA = json.loads((ROOT / "schemas" / "notification.json").read_text(encoding="utf-8"))
CHAT_SCHEMA = json.loads(
    (ROOT / "tests" / "data" / "alerts" / "chatbot-custom-notification.schema.json").read_text(encoding="utf-8")
)
CONTEXT = lambda_context("req-alerts")
# template.yaml's NotifyOutcomes default, as the filter policy on the `outcome` message attribute.
NOTIFY_OUTCOMES = ["remediated", "refused", "would_remediate"]
FILTER_POLICY = json.dumps({"outcome": NOTIFY_OUTCOMES})

LOCKED = "amazon-connect-a1b2c3d4e5f6"
REFUSED = "amazon-connect-b2c3d4e5f6a1"
GONE = "amazon-connect-c3d4e5f6a1b2"
DRY = "amazon-connect-d4e5f6a1b2c3"


# --- a TLS endpoint on 127.0.0.1 that stands in for Chatbot ----------------------------------------------


@dataclass
class Endpoint:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1, valid for a day."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connect-lockdown test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def chatbot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    ca, certificate, key = _certificates(tmp_path)
    posts: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            posts.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # moto's SNS posts with `requests`, which verifies the endpoint against this bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    try:
        yield Endpoint(f"https://127.0.0.1:{server.server_address[1]}/chatbot", posts)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the test ------------------------------------------------------------------------------------------


def _filtered_queue(world: World) -> str:
    sqs = world.client("sqs")
    url = sqs.create_queue(QueueName="email-filter")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    world.client("sns").subscribe(
        TopicArn=world.topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicy": FILTER_POLICY}
    )
    return str(url)


def _drain(world: World, url: str) -> list[dict[str, Any]]:
    sqs, envelopes = world.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            envelopes.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return envelopes


def _publish_compliant(world: World) -> None:
    """The enforcer never publishes `compliant`; a message that says so anyway must stop at the filters."""
    session = boto3.session.Session(region_name=REGION)
    gateway = AwsGateway(clients={"sns": world.client("sns"), "connect": world.client("connect")}, session=session)
    result = {
        "bucket": LOCKED,
        "outcome": "compliant",
        "instances": [],
        "reason": f"{LOCKED} carries the expected lockdown",
        "previous_policy": None,
        "applied_policy": None,
    }
    gateway.publish(world.topic_arn, notification(ACCOUNT, REGION, None, result))


def test_each_subscriber_gets_its_rendering_and_the_filters_keep_compliant_out(
    world: World, monkeypatch: pytest.MonkeyPatch, chatbot: Endpoint
) -> None:
    # Given the template's filtered email subscription, a queue with the same filter, and Chatbot's subscription
    sns = world.client("sns")
    sns.subscribe(
        TopicArn=world.topic_arn,
        Protocol="email",
        Endpoint="on-call@example.com",
        Attributes={"FilterPolicy": FILTER_POLICY},
    )
    filtered = _filtered_queue(world)
    sns.subscribe(TopicArn=world.topic_arn, Protocol="https", Endpoint=chatbot.url)

    # And buckets that end remediated, refused (a service role is gone) and failed (the bucket is gone)
    for bucket in (LOCKED, REFUSED):
        world.create_bucket(bucket)
    world.create_instance("locked", LOCKED)
    world.put_policy(LOCKED, public_read_policy(LOCKED))
    orphan = world.create_instance("orphan", REFUSED)
    world.client("iam").delete_role(RoleName=orphan.role_arn.rsplit("/", 1)[-1])
    world.create_instance("gone", GONE)

    # When the sweep runs, then a dry run sees a public policy, and a `compliant` message is published
    swept = load_app(world, monkeypatch).lambda_handler(load_event("scheduled-event"), CONTEXT)
    assert {r["bucket"]: r["outcome"] for r in swept["results"]} == {
        LOCKED: "remediated",
        REFUSED: "refused",
        GONE: "failed",
    }
    world.create_bucket(DRY)
    world.create_instance("dry", DRY)
    world.put_policy(DRY, public_read_policy(DRY))
    dry = load_app(world, monkeypatch, DRY_RUN="true").lambda_handler(
        load_event("s3-PutBucketPolicy", bucket=DRY), CONTEXT
    )
    assert [r["outcome"] for r in dry["results"]] == ["would_remediate"]
    _publish_compliant(world)
    expected = {LOCKED: "remediated", REFUSED: "refused", GONE: "failed", DRY: "would_remediate"}

    # Then the unfiltered SQS subscriber receives `default`: the contract document, valid against the schema
    alerts = world.alerts()
    assert sorted(a["attributes"]["outcome"] for a in alerts) == sorted([*expected.values(), "compliant"])
    validator = jsonschema.Draft202012Validator(NOTIFICATION_SCHEMA)
    for alert in alerts:
        result = alert["body"]["result"]
        assert alert["attributes"] == {
            "outcome": result["outcome"],
            "bucket": result["bucket"],
            "account": ACCOUNT,
            "region": REGION,
        }
        assert alert["subject"] == subject_for(result)
        if result["outcome"] != "compliant":
            validator.validate(alert["body"])

    # And the email filter lets through only the NotifyOutcomes: no compliant, and no failed by default
    through = [json.loads(e["Message"])["result"]["outcome"] for e in _drain(world, filtered)]
    assert sorted(through) == sorted(NOTIFY_OUTCOMES)

    # And Chatbot's https endpoint receives the custom notification of every message, one thread per bucket
    payloads = [json.loads(post["Message"]) for post in chatbot.posts]
    outcomes = sorted(p["metadata"]["additionalContext"]["outcome"] for p in payloads)
    assert outcomes == sorted([*expected.values(), "compliant"])
    chat_validator = jsonschema.Draft202012Validator(CHAT_SCHEMA)
    for post, payload in zip(chatbot.posts, payloads, strict=True):
        assert post["Type"] == "Notification" and post["TopicArn"] == world.topic_arn
        chat_validator.validate(payload)
        bucket = payload["metadata"]["additionalContext"]["bucket"]
        assert payload["metadata"]["threadId"] == thread_id(ACCOUNT, REGION, bucket)
        assert f"`{bucket}`" in payload["content"]["description"]

    # And the email rendering reads as docs/alerts.md shows it, for every outcome
    topic = sns_backends[ACCOUNT][REGION].topics[world.topic_arn]
    for _, message, subject, attributes, _ in topic.sent_notifications:
        outcome = attributes["outcome"]["Value"]
        if outcome == "compliant":
            continue
        bucket = attributes["bucket"]["Value"]
        email = json.loads(message)["email"]
        assert expected.pop(bucket) == outcome
        assert subject.startswith(f"[connect-lockdown] {outcome}: ") and len(subject) < 100
        first, *_ = email.splitlines()
        assert bucket in first
        sections = ["Where", "Who", "What the enforcer did", "Policy, before and after", "Permissions in the S3"]
        positions = [email.index(f"\n{name}") for name in sections]
        assert positions == sorted(positions)
        assert f"https://console.aws.amazon.com/s3/buckets/{bucket}?region={REGION}&tab=permissions" in email
        assert ("What to fix" in email) == (outcome == "refused")
        if outcome in ("remediated", "would_remediate"):
            assert "--- before: the policy as read" in email and '+      "Sid": "ConnectBucketLockdown"' in email
    assert expected == {}
