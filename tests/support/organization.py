"""An AWS Organization on moto: a management account, member accounts reached through their
OrganizationAccountAccessRole, and in each one Connect instances, buckets and the enforcer's stack.

moto keeps accounts apart by credentials: the keys `sts:AssumeRole` returns belong to the role's account. moto
creates OrganizationAccountAccessRole in every account `CreateAccount` makes; `tests.support.moto_faults.
strict_assume_role` makes assuming a role that does not exist fail, as in AWS.
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

MANAGEMENT = ACCOUNT  # moto's default account is the one that creates the organization
ACCESS_ROLE = "OrganizationAccountAccessRole"
STACK_NAME = "connect-bucket-lockdown"
ENFORCER_ROLE_NAME = "connect-lockdown-enforcer"
TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
TRUST_CONNECT = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "connect.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def enforcer_stack_template(region: str, topic_arn: str | None = None) -> str:
    """The parts of template.yaml the command line reads: the enforcer's fixed-name role and the outputs."""
    outputs: dict[str, Any] = {"EnforcerRoleArn": {"Value": {"Fn::GetAtt": ["EnforcerRole", "Arn"]}}}
    if topic_arn:
        outputs["NotificationTopicArn"] = {"Value": topic_arn}
    return json.dumps(
        {
            "Resources": {
                "EnforcerRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "RoleName": f"{ENFORCER_ROLE_NAME}-{region}",
                        "AssumeRolePolicyDocument": TRUST_LAMBDA,
                    },
                }
            },
            "Outputs": outputs,
        }
    )


def lock_bucket(
    session: boto3.session.Session, endpoint: str, region: str, bucket: str, enforcer_role_arn: str | None
) -> None:
    """Lock a bucket as the deployed function does (None: as before any deployment), with the library itself."""
    clients = {
        name: session.client(name, region_name=region, endpoint_url=endpoint)
        for name in ("s3", "connect", "iam", "sts", "sns")
    }
    settings = Settings(topic_arn="", enforcer_role_arn=enforcer_role_arn)
    enforcer = Enforcer(settings, AwsGateway(clients=clients), notify=False, caller_is_enforcer=False)
    result = enforcer.reconcile(BucketChanged(bucket, None)).results[0]
    assert result.outcome is Outcome.REMEDIATED, result.reason


def deploy_stack(cloudformation: Any, region: str, topic_arn: str | None = None, name: str = STACK_NAME) -> str:
    """Create the enforcer's stack with a CloudFormation client; return its EnforcerRoleArn output."""
    cloudformation.create_stack(
        StackName=name, TemplateBody=enforcer_stack_template(region, topic_arn), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    outputs = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    return str(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "EnforcerRoleArn"))


@dataclass
class Organization:
    endpoint: str
    accounts: list[str] = field(default_factory=list)
    _sessions: dict[str, boto3.session.Session] = field(default_factory=dict)
    # A client per account, service and Region: creating one costs more than most calls made with it.
    _clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def create(self, members: int) -> Organization:
        org = self.client(MANAGEMENT, "organizations")
        org.create_organization(FeatureSet="ALL")
        for number in range(members):
            status = org.create_account(Email=f"member{number}@example.com", AccountName=f"member-{number}")
            self.accounts.append(status["CreateAccountStatus"]["AccountId"])
        return self

    def session(self, account: str) -> boto3.session.Session:
        """The management account's own credentials, or the member's OrganizationAccountAccessRole."""
        if account not in self._sessions and account == MANAGEMENT:
            self._sessions[account] = boto3.session.Session()
        elif account not in self._sessions:
            credentials = boto3.client("sts", endpoint_url=self.endpoint).assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}", RoleSessionName="test-setup"
            )["Credentials"]
            self._sessions[account] = boto3.session.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        return self._sessions[account]

    def client(self, account: str, service: str, region: str = REGION) -> Any:
        key = (account, service, region)
        if key not in self._clients:
            self._clients[key] = self.session(account).client(service, region_name=region, endpoint_url=self.endpoint)
        return self._clients[key]

    # --- what each account holds -------------------------------------------------------------------

    def connect_bucket(self, account: str, region: str, bucket: str, alias: str, *, extra_buckets: int = 0) -> str:
        """A bucket and a Connect instance (with its service-linked role) that records into it; returns the id."""
        s3 = self.client(account, "s3", region)
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **location)
        role = self.client(account, "iam").create_role(
            RoleName=f"AWSServiceRoleForAmazonConnect_{uuid.uuid4().hex[:12]}",
            Path="/aws-service-role/connect.amazonaws.com/",
            AssumeRolePolicyDocument=TRUST_CONNECT,
        )["Role"]
        connect = self.client(account, "connect", region)
        instance = connect.create_instance(
            IdentityManagementType="CONNECT_MANAGED",
            InstanceAlias=alias,
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )
        connect_storage.set_service_role(instance["Id"], role["Arn"], account_id=account, region=region)
        self.associate(account, region, instance["Id"], bucket)
        return str(instance["Id"])

    def associate(self, account: str, region: str, instance_id: str, bucket: str) -> None:
        self.client(account, "connect", region).associate_instance_storage_config(
            InstanceId=instance_id,
            ResourceType="CALL_RECORDINGS",
            StorageConfig={"StorageType": "S3", "S3Config": {"BucketName": bucket, "BucketPrefix": "connect"}},
        )

    def deploy_stack(self, account: str, region: str) -> str:
        """The enforcer's stack: its role `connect-lockdown-enforcer-<region>` and the EnforcerRoleArn output."""
        return deploy_stack(self.client(account, "cloudformation", region), region)

    def lock(self, account: str, region: str, bucket: str, enforcer_role_arn: str) -> None:
        """Lock the bucket as the deployed function does, with the library itself."""
        lock_bucket(self.session(account), self.endpoint, region, bucket, enforcer_role_arn)

    def policy(self, account: str, region: str, bucket: str) -> Any:
        s3 = self.client(account, "s3", region)
        try:
            return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        except s3.exceptions.ClientError:
            return None

    def put_policy(self, account: str, region: str, bucket: str, policy: dict[str, Any]) -> None:
        self.client(account, "s3", region).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    def remove_access_role(self, account: str) -> None:
        """The account's OrganizationAccountAccessRole is gone: nobody can assume it any more."""
        self.client(account, "iam").delete_role(RoleName=ACCESS_ROLE)

    def close(self, account: str) -> None:
        self.client(MANAGEMENT, "organizations").close_account(AccountId=account)
