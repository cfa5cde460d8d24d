"""A small Amazon Connect estate on moto: instances with real service roles, buckets, a topic and a queue.

Works the same in-process (`mock_aws`) and over HTTP (`ThreadedMotoServer`): everything goes through boto3
clients, except the service role, which moto's Connect cannot set and the test support sets on the backend.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

from devtools import connect_storage
from devtools.account import ACCOUNT, REGION

ENFORCER_ROLE_NAME = "test-lockdown-enforcer-us-east-1"
TRUST_CONNECT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "connect.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
TRUST_LAMBDA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@dataclass
class Instance:
    id: str
    arn: str
    alias: str
    role_arn: str
    role_id: str


@dataclass
class World:
    session: boto3.session.Session
    endpoint_url: str | None = None
    topic_arn: str = ""
    queue_url: str = ""
    enforcer_role_arn: str = ""
    enforcer_role_id: str = ""
    instances: list[Instance] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=REGION, endpoint_url=self.endpoint_url)
        return self._clients[service]

    # --- set-up -----------------------------------------------------------------------------------

    def setup(self) -> World:
        connect_storage.install()
        sns, sqs = self.client("sns"), self.client("sqs")
        self.topic_arn = sns.create_topic(Name="connect-lockdown")["TopicArn"]
        self.queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "false"},
        )
        self.setup_enforcer_role()
        return self

    def setup_enforcer_role(self) -> None:
        """The enforcer's role, without a path as the template makes it (a name of its own, so that tests can
        also deploy the template's role); call again to model a redeployed stack."""
        role = self.client("iam").create_role(RoleName=ENFORCER_ROLE_NAME, AssumeRolePolicyDocument=TRUST_LAMBDA)[
            "Role"
        ]
        self.enforcer_role_arn, self.enforcer_role_id = role["Arn"], role["RoleId"]

    def enforcer_session(self) -> boto3.session.Session:
        """Credentials of the enforcer's role, as the Lambda function has them."""
        credentials = self.client("sts").assume_role(RoleArn=self.enforcer_role_arn, RoleSessionName="enforcer")[
            "Credentials"
        ]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=REGION,
        )

    def create_index_table(self, name: str = "connect-lockdown-inventory") -> str:
        """The enforcer's index table, with the documented key schema (pk, sk), on demand."""
        self.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        return name

    def create_bucket(self, name: str) -> str:
        self.client("s3").create_bucket(Bucket=name)
        return name

    def create_role(self, name: str, path: str = "/") -> tuple[str, str]:
        role = self.client("iam").create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST_CONNECT)["Role"]
        return role["Arn"], role["RoleId"]

    def create_instance(
        self,
        alias: str,
        bucket: str | None = None,
        resource_types: tuple[str, ...] = ("CALL_RECORDINGS", "CHAT_TRANSCRIPTS"),
        legacy_role: bool = False,
    ) -> Instance:
        """A Connect instance with its own service role: the service-linked one, or a pre-2018 custom role."""
        connect = self.client("connect")
        created = connect.create_instance(
            IdentityManagementType="CONNECT_MANAGED",
            InstanceAlias=alias,
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )
        if legacy_role:
            role_arn, role_id = self.create_role(f"connect-{alias}-role")
        else:
            suffix = uuid.uuid4().hex[:12]
            role_arn, role_id = self.create_role(
                f"AWSServiceRoleForAmazonConnect_{suffix}", path="/aws-service-role/connect.amazonaws.com/"
            )
        connect_storage.set_service_role(created["Id"], role_arn, account_id=ACCOUNT, region=REGION)
        instance = Instance(created["Id"], created["Arn"], alias, role_arn, role_id)
        self.instances.append(instance)
        if bucket:
            for resource_type in resource_types:
                self.associate(instance, bucket, resource_type)
        return instance

    def associate(self, instance: Instance, bucket: str, resource_type: str = "CALL_RECORDINGS") -> str:
        response = self.client("connect").associate_instance_storage_config(
            InstanceId=instance.id,
            ResourceType=resource_type,
            StorageConfig={
                "StorageType": "S3",
                "S3Config": {"BucketName": bucket, "BucketPrefix": f"connect/{instance.alias}/{resource_type}"},
            },
        )
        return str(response["AssociationId"])

    # --- observation ------------------------------------------------------------------------------

    def policy(self, bucket: str) -> Any:
        """The bucket's policy document, or None."""
        s3 = self.client("s3")
        try:
            return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucketPolicy":
                return None
            raise

    def put_policy(self, bucket: str, policy: dict[str, Any]) -> None:
        self.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    def delete_policy(self, bucket: str) -> None:
        self.client("s3").delete_bucket_policy(Bucket=bucket)

    def alerts(self) -> list[dict[str, Any]]:
        """Drain the SNS messages delivered to the test queue: body and message attributes."""
        sqs = self.client("sqs")
        received: list[dict[str, Any]] = []
        while True:
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return received
            for message in messages:
                envelope = json.loads(message["Body"])
                received.append(
                    {
                        "subject": envelope.get("Subject"),
                        "body": json.loads(envelope["Message"]),
                        "attributes": {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                    }
                )
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
