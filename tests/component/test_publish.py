"""The gateway's Publish on in-process moto: one message, the documented document for SQS subscribers."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from connect_lockdown.aws import AwsGateway
from connect_lockdown.notify import notification
from devtools.world import ACCOUNT, REGION


def test_gateway_publishes_one_message_with_message_structure_json() -> None:
    with mock_aws():
        # Given a topic with a raw SQS subscriber
        session = boto3.session.Session(region_name=REGION)
        sns, sqs = session.client("sns"), session.client("sqs")
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="raw")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        result = {
            "bucket": "amazon-connect-25fd0a3be3ef",
            "outcome": "refused",
            "instances": ["aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"],
            "reason": "could not resolve arn:aws:iam::123456789012:role/Admin to its unique ID",
            "previous_policy": None,
            "applied_policy": None,
        }
        message = notification(ACCOUNT, REGION, None, result)

        # When the gateway publishes it
        AwsGateway(session=session).publish(topic, message)

        # Then the SQS subscriber receives the `default` rendering, the result document, with its attributes
        [received] = sqs.receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
        assert json.loads(received["Body"]) == message.body
        assert {k: v["StringValue"] for k, v in received["MessageAttributes"].items()} == message.attributes
