"""Central alerts, proven: every member account's stack publishes to the security account's
topic through the topic policy docs/organizations.md gives, and a subscriber there receives every alert.

moto keeps accounts apart by the credentials sts:AssumeRole returns, and moto's Organizations gives the
organization; but moto's SNS does not evaluate topic policies (it delivers a cross-account publish even under
an explicit Deny). So the publishes pass through a gate that judges each one with the project's IAM evaluator
(tests/support/policy_eval.py) against the policy stored on the moto topic, which is the guide's own: what is
delivered is what the policy admits. tests/unit/test_central_topic_policy.py proves who the policy admits, and
cites the sources of the condition keys (aws:PrincipalOrgID, set here for members of the organization) and of
the cross-account rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.reconcile import Enforcer
from devtools import connect_storage
from devtools.account import REGION
from devtools.botocore_hooks import AwsHooks
from devtools.events import load_event
from devtools.world import TRUST_CONNECT
from tests.support import central_topic
from tests.support.policy_eval import Request, evaluate_access

MEMBERS = ("payments", "support", "sales")
OUTSIDER = "999988887777"
ENFORCER_ROLE = f"connect-lockdown-enforcer-{REGION}"
TRUST_ANYONE_IN_ACCOUNT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
)


def session_in(account: str, role: str = "OrganizationAccountAccessRole") -> boto3.session.Session:
    """Credentials of a role in `account`: moto answers every later call in that account."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="connect-lockdown"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


@dataclass
class Organization:
    id: str
    accounts: dict[str, str]
    topic_arn: str = ""
    queue_url: str = ""
    security: boto3.session.Session = field(default_factory=boto3.session.Session)

    def member_of(self, account: str) -> bool:
        listed = boto3.client("organizations", region_name=REGION).list_accounts()["Accounts"]
        return account in {a["Id"] for a in listed}

    def deliveries(self) -> list[dict[str, Any]]:
        sqs = self.security.client("sqs")
        received = []
        while messages := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                envelope = json.loads(message["Body"])
                received.append(
                    {
                        "body": json.loads(envelope["Message"]),
                        "attributes": {k: v["Value"] for k, v in envelope["MessageAttributes"].items()},
                    }
                )
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return received


@pytest.fixture
def organization() -> Iterator[Organization]:
    """An organization (management account: moto's default) with a security account and three members; the
    security account has the guide's central topic, with its policy, and a SIEM queue subscribed to it."""
    connect_storage.install()
    with mock_aws():
        orgs = boto3.client("organizations", region_name=REGION)
        org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        accounts = {
            name: orgs.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
            for name in ("security", *MEMBERS)
        }
        security = session_in(accounts["security"])
        topic_arn = security.client("sns").create_topic(Name=central_topic.TOPIC_NAME)["TopicArn"]
        policy = central_topic.topic_policy(
            organization_id=org_id, account=accounts["security"], region=REGION, topic_arn=topic_arn
        )
        security.client("sns").set_topic_attributes(
            TopicArn=topic_arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
        )
        sqs = security.client("sqs")
        queue_url = sqs.create_queue(QueueName="siem")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        security.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        yield Organization(org_id, accounts, topic_arn, queue_url, security)


def stored_topic_policy(organization: Organization) -> dict[str, Any]:
    attributes = organization.security.client("sns").get_topic_attributes(TopicArn=organization.topic_arn)
    policy: dict[str, Any] = json.loads(attributes["Attributes"]["Policy"])
    return policy


def gate_publishes(gateway: AwsGateway, organization: Organization) -> None:
    """Let SNS Publish calls of `gateway` through only when the topic's stored policy admits the caller."""
    identity = gateway.sts.get_caller_identity()
    account = identity["Account"]
    context = {"aws:SecureTransport": "true"}  # boto3 calls AWS over HTTPS
    if organization.member_of(account):
        context["aws:PrincipalOrgID"] = organization.id

    def refused(params: Mapping[str, Any]) -> bool:
        request = Request(
            principal_arn=identity["Arn"],
            user_id=identity["UserId"],
            account_id=account,
            action="sns:Publish",
            resource=params["TopicArn"],
            extra_context=context,
        )
        topic_account = params["TopicArn"].split(":")[4]
        # The enforcer's role grants itself sns:Publish on the central topic (identity_allows).
        decision = evaluate_access(
            request, resource_policy=stored_topic_policy(organization), resource_account=topic_account
        )
        return decision != "allow"

    message = f"{identity['Arn']} is not authorized by the topic's policy"
    AwsHooks().attach(gateway.sns).fail("Publish", "AuthorizationError", status=403, when=refused, message=message)


def deploy_member_stack(account: str, organization: Organization) -> tuple[Enforcer, str]:
    """What the stack set puts in a member account, as far as alerts go: a Connect instance storing in a bucket,
    and the enforcer, running as its own role, with the central topic as its NOTIFICATION_TOPIC_ARN."""
    admin = session_in(account)
    bucket = f"amazon-connect-{account}"
    admin.client("s3").create_bucket(Bucket=bucket)
    iam = admin.client("iam")
    iam.create_role(RoleName=ENFORCER_ROLE, AssumeRolePolicyDocument=TRUST_ANYONE_IN_ACCOUNT)
    connect_role = iam.create_role(
        RoleName=f"AWSServiceRoleForAmazonConnect_{account[-6:]}",
        Path="/aws-service-role/connect.amazonaws.com/",
        AssumeRolePolicyDocument=TRUST_CONNECT,
    )["Role"]["Arn"]
    connect = admin.client("connect")
    instance = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias=f"centre-{account}",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    connect_storage.set_service_role(instance, connect_role, account_id=account, region=REGION)
    connect.associate_instance_storage_config(
        InstanceId=instance,
        ResourceType="CALL_RECORDINGS",
        StorageConfig={"StorageType": "S3", "S3Config": {"BucketName": bucket, "BucketPrefix": "recordings"}},
    )
    gateway = AwsGateway(session=session_in(account, ENFORCER_ROLE))
    gate_publishes(gateway, organization)
    return Enforcer(Settings(topic_arn=organization.topic_arn), gateway), bucket


def test_every_member_accounts_alerts_reach_the_security_accounts_subscriber(organization: Organization) -> None:
    # Given the stack in three member accounts, each with an unlocked Connect bucket
    stacks = {
        organization.accounts[name]: deploy_member_stack(organization.accounts[name], organization) for name in MEMBERS
    }

    # When each enforcer locks its bucket, it publishes its alert to the central topic
    for enforcer, bucket in stacks.values():
        [result] = enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=bucket)).results
        assert str(result.outcome) == "remediated"

    # Then the security account's subscriber has every alert, each saying which account it comes from
    deliveries = organization.deliveries()
    assert sorted(d["attributes"]["account"] for d in deliveries) == sorted(stacks)
    for delivery in deliveries:
        account = delivery["attributes"]["account"]
        assert delivery["body"]["account"] == account
        assert delivery["body"]["result"]["bucket"] == stacks[account][1]
        assert delivery["attributes"]["outcome"] == "remediated"


def test_an_account_outside_the_organization_cannot_publish(organization: Organization) -> None:
    enforcer, bucket = deploy_member_stack(OUTSIDER, organization)

    # The lock is written; the alert is refused by the topic policy: a refusal a retry will not lift
    report = enforcer.handle_event(load_event("s3-DeleteBucketPolicy", bucket=bucket))

    assert [str(r.outcome) for r in report.results] == ["remediated"]
    [unsent] = report.unsent_alerts
    assert unsent.bucket == bucket and unsent.error.code == "AuthorizationError" and unsent.error.access_denied
    assert "sns:Publish failed: AuthorizationError" in str(unsent) and "try again" not in str(unsent)
    assert report.retryable_errors == []
    assert organization.deliveries() == []
