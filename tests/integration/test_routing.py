"""The template's routes deliver exactly what each receiver must see, proven on moto's EventBridge and SNS.

Events: the template's EventBridge rules deliver exactly the events the enforcer must see.
Alerts: the template's topics and subscriptions deliver every alarm, and the results NotifyOutcomes names, to the
email address, and nothing else (see the end of this module).

Each CloudTrail rule's event pattern is taken from template.yaml as it is (the enforcer's role ARN, a
!GetAtt in the template, becomes the role of the by-enforcer sample event), put on a moto EventBridge rule
whose target is an SQS queue, and events are sent with PutEvents. An event is delivered when it arrives in a
queue. moto's TestEventPattern API is a stub; a rule with an SQS target runs moto's real matcher (which knows
"exists", "anything-but" and "$or"). Real EventBridge refuses PutEvents with an "aws." source; moto does not,
which is what makes this test possible.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.decode import cfn_yaml

from devtools import cfn
from devtools.events import FIXTURE_ENFORCER_ROLE, fixture_names, load_event
from devtools.server import reset
from devtools.world import ACCOUNT, REGION

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = "EnforcerFunction"
# The sessionIssuer of events/s3-PutBucketPolicy-by-enforcer.json: the deployed enforcer's role.
ENFORCER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{FIXTURE_ENFORCER_ROLE}"
BUCKET_RULE = "BucketPolicyChanged"
CONNECT_RULE = "ConnectStorageChanged"


def _resolve(node: Any) -> Any:
    """The pattern as CloudFormation deploys it: the enforcer role's ARN in, any other intrinsic refused."""
    if isinstance(node, dict):
        if node == {"Fn::GetAtt": ["EnforcerFunctionRole", "Arn"]}:
            return ENFORCER_ROLE_ARN
        assert not any(key.startswith("Fn::") or key == "Ref" for key in node), f"unexpected intrinsic {node}"
        return {key: _resolve(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item) for item in node]
    return node


def rule_patterns() -> dict[str, dict[str, Any]]:
    events = cfn_yaml.load(str(ROOT / "template.yaml"))["Resources"][FUNCTION]["Properties"]["Events"]
    patterns = {
        name: _resolve(event["Properties"]["Pattern"])
        for name, event in events.items()
        if event["Type"] == "EventBridgeRule"
    }
    assert set(patterns) == {BUCKET_RULE, CONNECT_RULE}
    return patterns


class Bus:
    """moto's default event bus, one rule per template pattern, each with its own SQS queue."""

    def __init__(self, endpoint: str) -> None:
        session = boto3.session.Session()
        self.events = session.client("events", region_name=REGION, endpoint_url=endpoint)
        self.sqs = session.client("sqs", region_name=REGION, endpoint_url=endpoint)
        self.queues: dict[str, str] = {}
        for name, pattern in rule_patterns().items():
            self.events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
            url = self.sqs.create_queue(QueueName=f"routing-{name}")["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": arn}])
            self.queues[name] = url

    def send(self, event: dict[str, Any]) -> set[str]:
        """Put the event on the bus; return the rules that delivered it (and check what they delivered)."""
        response = self.events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event.get("resources", []),
                }
            ]
        )
        assert response["FailedEntryCount"] == 0, response
        delivered: set[str] = set()
        for rule, url in self.queues.items():
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            for message in messages:
                assert json.loads(message["Body"])["detail"] == event["detail"]
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                delivered.add(rule)
            assert len(messages) <= 1, f"{rule} delivered the event {len(messages)} times"
        return delivered


@pytest.fixture
def bus(endpoint: str) -> Iterator[Bus]:
    """A bus of its own for each test: another test's reset of the server would take a shared one's rules."""
    yield Bus(endpoint)
    reset(endpoint)


# --- events made here, next to the sample events of events/ -------------------------------------------------


def _by(event: dict[str, Any], user_identity: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    changed["detail"]["userIdentity"] = user_identity
    return changed


def _enforcer_identity() -> dict[str, Any]:
    return load_event("s3-PutBucketPolicy-by-enforcer")["detail"]["userIdentity"]


IAM_USER = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLEUSER000001",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/jane",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAEXAMPLEKEY000001",
    "userName": "jane",
}
ROOT_USER = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}
OTHER_ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEOTHER0001:jane",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/jane",
    "accountId": ACCOUNT,
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEOTHER0001",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin",
            "accountId": ACCOUNT,
            "userName": "Admin",
        },
        "attributes": {"creationDate": "2025-03-11T14:00:00Z", "mfaAuthenticated": "true"},
    },
}


def made_events() -> dict[str, dict[str, Any]]:
    put = load_event("s3-PutBucketPolicy")
    associate = load_event("connect-AssociateInstanceStorageConfig")
    # A role whose name only starts like the enforcer's: "anything-but" compares the whole ARN.
    similar = copy.deepcopy(_enforcer_identity())
    similar["sessionContext"]["sessionIssuer"]["arn"] += "-copy"
    failed = copy.deepcopy(put)
    failed["detail"]["errorCode"] = "NoSuchBucket"
    failed["detail"]["errorMessage"] = "The specified bucket does not exist"
    return {
        "PutBucketPolicy by an IAM user": _by(put, IAM_USER),
        "PutBucketPolicy by the root user": _by(put, ROOT_USER),
        "PutBucketPolicy by another role": _by(put, OTHER_ROLE),
        "PutBucketPolicy by a role named like the enforcer's": _by(put, similar),
        "AssociateInstanceStorageConfig by an IAM user": _by(associate, IAM_USER),
        "PutBucketPolicy with an errorCode": failed,
        "DeleteBucketPolicy by the enforcer": _by(load_event("s3-DeleteBucketPolicy"), _enforcer_identity()),
        "AssociateInstanceStorageConfig by the enforcer": _by(associate, _enforcer_identity()),
        "console sign-in": {
            "source": "aws.signin",
            "detail-type": "AWS Console Sign In via CloudTrail",
            "resources": [],
            "detail": {
                "eventVersion": "1.08",
                "userIdentity": IAM_USER,
                "eventSource": "signin.amazonaws.com",
                "eventName": "ConsoleLogin",
                "responseElements": {"ConsoleLogin": "Success"},
                "additionalEventData": {"MFAUsed": "Yes"},
                "eventType": "AwsConsoleSignIn",
            },
        },
        "EC2 state change": {
            "source": "aws.ec2",
            "detail-type": "EC2 Instance State-change Notification",
            "resources": [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"],
            "detail": {"instance-id": "i-0123456789abcdef0", "state": "stopped"},
        },
    }


# Every sample event of events/ and every event made above, with the rule that must deliver it (None: no rule).
ROUTES: dict[str, str | None] = {
    "s3-PutBucketPolicy": BUCKET_RULE,
    "s3-DeleteBucketPolicy": BUCKET_RULE,
    "s3-PutBucketPolicy-empty-bucket": BUCKET_RULE,
    "connect-CreateInstance": CONNECT_RULE,
    "connect-CreateInstance-redacted": CONNECT_RULE,
    "connect-AssociateInstanceStorageConfig": CONNECT_RULE,
    "connect-AssociateInstanceStorageConfig-arn": CONNECT_RULE,
    "connect-UpdateInstanceStorageConfig": CONNECT_RULE,
    "connect-DisassociateInstanceStorageConfig": CONNECT_RULE,
    "PutBucketPolicy by an IAM user": BUCKET_RULE,
    "PutBucketPolicy by the root user": BUCKET_RULE,
    "PutBucketPolicy by another role": BUCKET_RULE,
    "PutBucketPolicy by a role named like the enforcer's": BUCKET_RULE,
    "AssociateInstanceStorageConfig by an IAM user": CONNECT_RULE,
    # Failed calls change nothing.
    "s3-PutBucketPolicy-AccessDenied": None,
    "connect-AssociateInstanceStorageConfig-failed": None,
    "PutBucketPolicy with an errorCode": None,
    # The enforcer's own writes never invoke it again.
    "s3-PutBucketPolicy-by-enforcer": None,
    "DeleteBucketPolicy by the enforcer": None,
    "AssociateInstanceStorageConfig by the enforcer": None,
    # Other calls, services and events.
    "s3-PutBucketAcl": None,
    "connect-DeleteInstance": None,
    "scheduled-event": None,  # the sweep has its own schedule rule
    "console sign-in": None,
    "EC2 state change": None,
}


def _event(name: str) -> dict[str, Any]:
    made = made_events()
    return made[name] if name in made else load_event(name)


def test_every_sample_event_has_a_route() -> None:
    """A new file in events/ must say here whether the rules deliver it."""
    assert set(fixture_names()) - set(ROUTES) == set()
    assert set(made_events()) <= set(ROUTES)


@pytest.mark.parametrize(("name", "rule"), list(ROUTES.items()), ids=list(ROUTES))
def test_rules_deliver_exactly_the_events_the_enforcer_acts_on(bus: Bus, name: str, rule: str | None) -> None:
    assert bus.send(_event(name)) == ({rule} if rule else set())


# --- alerts: SNS topics and subscriptions as the template deploys them -------------------------------------
#
# The topics, their subscriptions and the alarms' actions are read from template.yaml for a deployment with an
# email address (NotificationEmail set, the stack's own topic). moto does not send email: each email
# subscription becomes an SQS subscription with the same filter policy, on the same topic. Then CloudWatch is
# played: an alarm notification is published, without message attributes (CloudWatch sets none), to every topic
# of the alarm's AlarmActions; and the enforcer is played: a result is published to NOTIFICATION_TOPIC_ARN with
# its `outcome` attribute. SNS evaluates the filter policies.

EMAIL = "security@example.com"
ALARM_MESSAGE = {
    "AlarmName": "connect-bucket-lockdown-alarm-enforcer-errors",
    "AlarmDescription": "The Connect Bucket Lockdown function raised an error",
    "AWSAccountId": ACCOUNT,
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0).",
    "StateChangeTime": "2026-01-01T00:00:00.000+0000",
    "Region": "EU (Ireland)",
    "OldStateValue": "OK",
    "Trigger": {"MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "SUM", "Threshold": 1.0},
}


class Alerts:
    """The stack's topics on moto, an SQS queue in place of each email subscription, and the alarms' actions."""

    def __init__(self, endpoint: str, **overrides: str) -> None:
        session = boto3.session.Session()
        self.sns = session.client("sns", region_name=REGION, endpoint_url=endpoint)
        self.sqs = session.client("sqs", region_name=REGION, endpoint_url=endpoint)
        template = cfn.load()
        plan = cfn.Stack(template, {"NotificationEmail": EMAIL, **overrides}, region=REGION, account=ACCOUNT)
        topics = {name: r for name, r in plan.resources().items() if r["Type"] == "AWS::SNS::Topic"}
        refs = {name: self.sns.create_topic(Name=f"routing-{name}")["TopicArn"] for name in topics}
        stack = cfn.Stack(template, plan.overrides, region=REGION, account=ACCOUNT, refs=refs)
        resources = stack.resources()
        self.email_queues: list[str] = []
        for name, resource in resources.items():
            if resource["Type"] != "AWS::SNS::Subscription":
                continue
            properties = resource["Properties"]
            assert properties["Protocol"] == "email" and properties["Endpoint"] == EMAIL, name
            attributes = {}
            if "FilterPolicy" in properties:
                attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
                attributes["FilterPolicyScope"] = properties.get("FilterPolicyScope", "MessageAttributes")
            url = self.sqs.create_queue(QueueName=f"email-{name}")["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.sns.subscribe(TopicArn=properties["TopicArn"], Protocol="sqs", Endpoint=arn, Attributes=attributes)
            self.email_queues.append(url)
        # The alarms are in a nested stack (nested/alarms.yaml), which gets the topics' ARNs as parameters.
        self.alarm_actions = {
            path[-1]: resource["Properties"]["AlarmActions"]
            for path, resource in stack.tree().items()
            if resource["Type"] == "AWS::CloudWatch::Alarm"
        }
        function = resources["EnforcerFunction"]["Properties"]
        self.notification_topic = function["Environment"]["Variables"]["NOTIFICATION_TOPIC_ARN"]

    def alarm(self, name: str) -> None:
        """What CloudWatch sends: the alarm's JSON to each action, with a subject and no message attributes."""
        for topic in self.alarm_actions[name]:
            self.sns.publish(TopicArn=topic, Subject=f'ALARM: "{name}"', Message=json.dumps(ALARM_MESSAGE))

    def result(self, outcome: str) -> None:
        """What the enforcer sends: one result, with its `outcome` and `bucket` attributes."""
        message = {"account": ACCOUNT, "region": REGION, "trigger": None, "result": {"outcome": outcome}}
        self.sns.publish(
            TopicArn=self.notification_topic,
            Message=json.dumps(message),
            MessageAttributes={
                "outcome": {"DataType": "String", "StringValue": outcome},
                "bucket": {"DataType": "String", "StringValue": "amazon-connect-0123456789ab"},
            },
        )

    def mailbox(self) -> list[dict[str, Any]]:
        """Everything the address received, from all its subscriptions; emptied."""
        received = []
        for url in self.email_queues:
            while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                for message in messages:
                    received.append(json.loads(json.loads(message["Body"])["Message"]))
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return received


@pytest.fixture
def alerts(endpoint: str) -> Iterator[Alerts]:
    yield Alerts(endpoint)
    reset(endpoint)


def test_the_stack_has_alarms_and_an_email_subscription_to_route(alerts: Alerts) -> None:
    assert set(alerts.alarm_actions) == {"EnforcerErrorsAlarm", "EnforcerThrottlesAlarm", "DeadLetterQueueAlarm"}
    assert alerts.email_queues


@pytest.mark.parametrize("alarm", ["EnforcerErrorsAlarm", "EnforcerThrottlesAlarm", "DeadLetterQueueAlarm"])
def test_every_alarm_reaches_an_email_only_setup_once(alerts: Alerts, alarm: str) -> None:
    alerts.alarm(alarm)
    assert alerts.mailbox() == [ALARM_MESSAGE]


@pytest.mark.parametrize("outcome", ["remediated", "refused", "would_remediate"])
def test_the_results_notify_outcomes_names_reach_the_email_once(alerts: Alerts, outcome: str) -> None:
    alerts.result(outcome)
    assert [message["result"]["outcome"] for message in alerts.mailbox()] == [outcome]


@pytest.mark.parametrize("outcome", ["compliant", "pending", "failed"])
def test_other_results_do_not_reach_the_email(alerts: Alerts, outcome: str) -> None:
    """`compliant` and `pending` are never published; `failed` is not in NotifyOutcomes' default."""
    alerts.result(outcome)
    assert alerts.mailbox() == []


def test_with_a_central_topic_the_stack_subscribes_nothing_and_alarms_notify_that_topic_only(endpoint: str) -> None:
    central = f"arn:aws:sns:{REGION}:{ACCOUNT}:connect-lockdown-alerts"
    template = cfn.load()
    stack = cfn.Stack(template, {"ExistingTopicArn": central}, region=REGION, account=ACCOUNT)
    resources = stack.tree()
    assert not [name for name, r in resources.items() if r["Type"].startswith("AWS::SNS::")]
    alarms = {name: r for name, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(alarms) == 3
    for name, resource in alarms.items():
        assert resource["Properties"]["AlarmActions"] == [central], name
