"""The estate a person can type into (`make sandbox`), which the demo and the tests build with the same code.

On a moto server: a two-account AWS Organization; in the management account and us-east-1, the enforcer's stack
(its fixed-name role and the topic, as template.yaml outputs them), a compliant bucket, a drifted one, an unlocked
one, a pending instance and a bucket no Connect instance uses; in eu-west-2 an unlocked Connect bucket; in the
member account, an unlocked Connect bucket in us-east-1, reached through its OrganizationAccountAccessRole.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.events import BucketChanged
from connect_lockdown.outcomes import Outcome
from connect_lockdown.reconcile import Enforcer
from devtools import connect_storage
from devtools.account import ACCOUNT, REGION
from devtools.world import TRUST_CONNECT, World

OTHER_REGION = "eu-west-2"
STACK_NAME = "connect-bucket-lockdown"
ENFORCER_ROLE_NAME = "connect-lockdown-enforcer"
ACCESS_ROLE = "OrganizationAccountAccessRole"
# Credentials of the estate's operator: any value works against moto; these say where they came from.
ACCESS_KEY = "sandbox"
SECRET_KEY = "sandbox"

COMPLIANT, DRIFTED, UNLOCKED = "amazon-connect-compliant01", "amazon-connect-drifted01", "amazon-connect-unlocked01"
OTHER_REGION_BUCKET = "amazon-connect-london01"
MEMBER_BUCKET = "amazon-connect-member01"
NOT_CONNECT = "team-reports-not-connect"
PENDING_ALIAS = "pending-no-storage"


def operator_session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def operator_world(endpoint: str) -> World:
    """The management account's World (topic, queue, enforcer role), seen with the operator's credentials."""
    return World(operator_session(), endpoint_url=endpoint).setup()


def stack_template(region: str, topic_arn: str) -> str:
    """The parts of template.yaml the command line reads: the enforcer's fixed-name role and two outputs."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return json.dumps(
        {
            "Resources": {
                "EnforcerRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"RoleName": f"{ENFORCER_ROLE_NAME}-{region}", "AssumeRolePolicyDocument": trust},
                }
            },
            "Outputs": {
                "EnforcerRoleArn": {"Value": {"Fn::GetAtt": ["EnforcerRole", "Arn"]}},
                "NotificationTopicArn": {"Value": topic_arn},
            },
        }
    )


def deploy_stack(world: World) -> str:
    """The enforcer's stack in the World's account and Region; returns its EnforcerRoleArn output."""
    cloudformation = world.client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK_NAME,
        TemplateBody=stack_template(REGION, world.topic_arn),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    outputs = cloudformation.describe_stacks(StackName=STACK_NAME)["Stacks"][0]["Outputs"]
    return str(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "EnforcerRoleArn"))


def lock(session: boto3.session.Session, endpoint: str, region: str, bucket: str, enforcer_role_arn: str) -> None:
    """Lock a bucket as the deployed function does, with the library itself."""
    clients = {
        name: session.client(name, region_name=region, endpoint_url=endpoint)
        for name in ("s3", "connect", "iam", "sts", "sns")
    }
    settings = Settings(topic_arn="", enforcer_role_arn=enforcer_role_arn)
    enforcer = Enforcer(settings, AwsGateway(clients=clients), notify=False, caller_is_enforcer=False)
    result = enforcer.reconcile(BucketChanged(bucket, None)).results[0]
    if result.outcome is not Outcome.REMEDIATED:
        raise RuntimeError(f"could not lock {bucket}: {result.reason}")


def connect_bucket(
    session: boto3.session.Session, endpoint: str, account: str, region: str, bucket: str, alias: str
) -> str:
    """A bucket and a Connect instance (with its service-linked role) that records into it; returns the id."""

    def client(name: str) -> Any:
        return session.client(name, region_name=region, endpoint_url=endpoint)

    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    client("s3").create_bucket(Bucket=bucket, **location)
    role = client("iam").create_role(
        RoleName=f"AWSServiceRoleForAmazonConnect_{uuid.uuid4().hex[:12]}",
        Path="/aws-service-role/connect.amazonaws.com/",
        AssumeRolePolicyDocument=TRUST_CONNECT,
    )["Role"]
    instance = client("connect").create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias=alias,
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )
    connect_storage.set_service_role(instance["Id"], role["Arn"], account_id=account, region=region)
    client("connect").associate_instance_storage_config(
        InstanceId=instance["Id"],
        ResourceType="CALL_RECORDINGS",
        StorageConfig={"StorageType": "S3", "S3Config": {"BucketName": bucket, "BucketPrefix": "connect"}},
    )
    return str(instance["Id"])


@dataclass
class Estate:
    endpoint: str
    world: World
    stack_role_arn: str = ""
    member_account: str = ""
    buckets: dict[str, str] = field(default_factory=dict)  # bucket -> what it shows

    @property
    def topic_arn(self) -> str:
        return self.world.topic_arn


PUBLIC_GRANT = {
    "Sid": "MakeItPublic",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{DRIFTED}/*",
}


def build_estate(endpoint: str) -> Estate:
    """The sandbox's estate on the moto server at `endpoint` (empty before)."""
    connect_storage.install()
    world = operator_world(endpoint)
    session = world.session
    estate = Estate(endpoint, world, stack_role_arn=deploy_stack(world))
    organizations = world.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(Email="member@example.com", AccountName="member")
    estate.member_account = created["CreateAccountStatus"]["AccountId"]
    for bucket, alias in ((COMPLIANT, "compliant-cc"), (DRIFTED, "drifted-cc"), (UNLOCKED, "unlocked-cc")):
        connect_bucket(session, endpoint, ACCOUNT, REGION, bucket, alias)
    for bucket in (COMPLIANT, DRIFTED):
        lock(session, endpoint, REGION, bucket, estate.stack_role_arn)
    # Someone replaced the drifted bucket's policy with a public grant: the lock is gone.
    world.put_policy(DRIFTED, {"Version": "2012-10-17", "Statement": [PUBLIC_GRANT]})
    world.client("connect").create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias=PENDING_ALIAS,
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )
    world.create_bucket(NOT_CONNECT)
    connect_bucket(session, endpoint, ACCOUNT, OTHER_REGION, OTHER_REGION_BUCKET, "london-cc")
    connect_bucket(member_session(estate), endpoint, estate.member_account, REGION, MEMBER_BUCKET, "member-cc")
    estate.buckets = {
        COMPLIANT: f"compliant ({REGION})",
        DRIFTED: f"drifted: its lock was replaced by a public grant ({REGION})",
        UNLOCKED: f"missing policy ({REGION})",
        NOT_CONNECT: f"no Connect instance uses it ({REGION})",
        OTHER_REGION_BUCKET: f"missing policy ({OTHER_REGION})",
        MEMBER_BUCKET: f"missing policy (account {estate.member_account}, {REGION})",
    }
    return estate


def member_session(estate: Estate) -> boto3.session.Session:
    """The member account, through the role the organization created in it."""
    credentials = estate.world.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{estate.member_account}:role/{ACCESS_ROLE}", RoleSessionName="sandbox"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def export_lines(endpoint: str) -> list[str]:
    """What a person pastes into a shell so that the AWS CLI and connect-lockdown talk to the sandbox."""
    return [
        f"export AWS_ENDPOINT_URL={endpoint}",
        f"export AWS_ACCESS_KEY_ID={ACCESS_KEY} AWS_SECRET_ACCESS_KEY={SECRET_KEY} AWS_SESSION_TOKEN={ACCESS_KEY}",
        f"export AWS_REGION={REGION}",
    ]
