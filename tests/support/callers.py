"""The callers the lockdown and the guardrail are judged against, as ``policy_eval.Request`` values.

Each constructor takes the action and resource of the request, plus keyword overrides, and builds
the request context the IAM documentation gives that kind of caller (see the table in
``tests/support/policy_eval.py``). The names and unique IDs below form one consistent world: the
lockdown statement in a test admits ``ACCOUNT``, ``CONNECT_ROLE_ID``, ``ADMIN_ROLE_ID`` and
``ENFORCER_ROLE_ID`` (and the enforcer's role ARN); the "recreated" and "redeployed" callers
reuse a name with a new unique ID, as IAM does when a role is deleted and created again
(reference_identifiers.html#identifiers-unique-ids: a new entity gets a new unique ID even when
its name is reused).

    from tests.support import callers
    request = callers.enforcer_redeployed("s3:PutBucketPolicy", callers.bucket_arn())

``CALLERS`` maps a stable name to each constructor, for parametrised tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from devtools.account import REGION
from tests.support.policy_eval import Request

PARTITION = "aws"
# The account that owns the Connect instance and the bucket, and another of the same organization (SCP tests).
# Deliberately not devtools/account.py's ACCOUNT (moto's default, where the moto estates live): the
# evaluator's world is the IAM documentation's, whose examples (quoted in tests/unit/test_policy_eval.py) use
# these two accounts, as do the guardrail cases' member accounts; and a caller built here can never pass for a
# principal of a moto estate: judged against a lock written there, it is a cross-account request, not a silent
# same-account match.
ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
BUCKET = "amazon-connect-0123456789ab"
OBJECT_KEY = "connect/instance-alias/CallRecordings/2024/05/01/contact_20240501T0000_UTC.wav"

# Amazon Connect's service-linked role: path /aws-service-role/connect.amazonaws.com/, name
# AWSServiceRoleForAmazonConnect_<suffix> (Amazon Connect Administrator Guide, "Use service-linked roles").
CONNECT_SLR_PATH = "/aws-service-role/connect.amazonaws.com/"
CONNECT_SLR_NAME = "AWSServiceRoleForAmazonConnect_AbCdEf123456"
CONNECT_ROLE_ID = "AROACONNECTSLR0000001"
CONNECT_ROLE_RECREATED_ID = "AROACONNECTSLR0000002"
CONNECT_SERVICE = "connect.amazonaws.com"

ADMIN_ROLE_NAME = "Admin"
ADMIN_ROLE_ID = "AROAADMINROLE00000001"
ADMIN_RECREATED_ROLE_ID = "AROAADMINROLE00000002"

# The enforcer's role has a fixed name and no path: "${EnforcerRoleName}-${AWS::Region}".
ENFORCER_ROLE_NAME_PARAMETER = "connect-lockdown-enforcer"
ENFORCER_ROLE_NAME = f"{ENFORCER_ROLE_NAME_PARAMETER}-{REGION}"
ENFORCER_ROLE_ID = "AROAENFORCER000000001"
ENFORCER_REDEPLOYED_ROLE_ID = "AROAENFORCER000000002"
ENFORCER_SESSION = "connect-lockdown-enforcer-fn"  # Lambda names the session after the function

OUTSIDER_ROLE_NAME = "Outsider"
OUTSIDER_ROLE_ID = "AROAOUTSIDER000000001"
OUTSIDER_USER_NAME = "mallory"
OUTSIDER_USER_ID = "AIDAOUTSIDER000000001"

BREAK_GLASS_ROLE_NAME = "BreakGlass"
BREAK_GLASS_ROLE_ID = "AROABREAKGLASS0000001"


def bucket_arn(bucket: str = BUCKET, *, partition: str = PARTITION) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def object_arn(bucket: str = BUCKET, key: str = OBJECT_KEY, *, partition: str = PARTITION) -> str:
    return f"arn:{partition}:s3:::{bucket}/{key}"


def role_arn(name: str, *, account: str = ACCOUNT, path: str = "/", partition: str = PARTITION) -> str:
    return f"arn:{partition}:iam::{account}:role{path}{name}"


def enforcer_role_arn(*, account: str = ACCOUNT, region: str = REGION, partition: str = PARTITION) -> str:
    return role_arn(f"{ENFORCER_ROLE_NAME_PARAMETER}-{region}", account=account, partition=partition)


def role_session(
    action: str,
    resource: str,
    *,
    name: str,
    role_id: str,
    account: str = ACCOUNT,
    session: str = "session",
    path: str = "/",
    partition: str = PARTITION,
    extra_context: Mapping[str, str] | None = None,
) -> Request:
    """Any IAM role session."""
    return Request.for_role(
        account, name, role_id, action, resource, session, path=path, partition=partition, extra_context=extra_context
    )


# -- the callers ------------------------------------------------------------------------------


def anonymous(action: str, resource: str, *, documented: bool = True) -> Request:
    """An unsigned request.

    ``documented=True``: the context the current IAM docs give (aws:userid and aws:PrincipalAccount
    ``anonymous``, aws:PrincipalType ``Anonymous``; no aws:PrincipalArn, no aws:PrincipalIsAWSService).
    ``documented=False``: additionally without aws:userid and aws:PrincipalAccount, as older pages
    and the original design assume. A sound lockdown denies both.
    """
    if documented:
        return Request.anonymous(action, resource)
    return Request.anonymous(action, resource, absent_keys=frozenset({"aws:userid", "aws:principalaccount"}))


def outsider(action: str, resource: str, *, account: str = ACCOUNT, partition: str = PARTITION) -> Request:
    """A role session of the bucket's account that nobody listed."""
    return role_session(
        action, resource, name=OUTSIDER_ROLE_NAME, role_id=OUTSIDER_ROLE_ID, account=account, partition=partition
    )


def outsider_user(action: str, resource: str, *, account: str = ACCOUNT, partition: str = PARTITION) -> Request:
    """An IAM user of the bucket's account that nobody listed."""
    return Request.for_user(account, OUTSIDER_USER_NAME, OUTSIDER_USER_ID, action, resource, partition=partition)


def account_root(action: str, resource: str, *, account: str = ACCOUNT, partition: str = PARTITION) -> Request:
    """The account's root user: aws:userid is the account ID, aws:PrincipalArn arn:P:iam::ACCT:root."""
    return Request.for_root(account, action, resource, partition=partition)


def connect_role(
    action: str, resource: str, *, account: str = ACCOUNT, role_id: str = CONNECT_ROLE_ID, partition: str = PARTITION
) -> Request:
    """A session of Amazon Connect's service-linked role (aws:PrincipalIsAWSService is false for it)."""
    return role_session(
        action,
        resource,
        name=CONNECT_SLR_NAME,
        role_id=role_id,
        account=account,
        session="connect-session",
        path=CONNECT_SLR_PATH,
        partition=partition,
    )


def connect_role_recreated(action: str, resource: str, *, account: str = ACCOUNT) -> Request:
    """The Connect service-linked role deleted and created again: same ARN, new unique ID."""
    return connect_role(action, resource, account=account, role_id=CONNECT_ROLE_RECREATED_ID)


def admin(action: str, resource: str, *, account: str = ACCOUNT, role_id: str = ADMIN_ROLE_ID) -> Request:
    """A session of the role named in ADMIN_ROLE_ARNS."""
    return role_session(action, resource, name=ADMIN_ROLE_NAME, role_id=role_id, account=account, session="alice")


def admin_recreated(action: str, resource: str, *, account: str = ACCOUNT) -> Request:
    """A role created under the admin role's name after the original was deleted: new unique ID."""
    return admin(action, resource, account=account, role_id=ADMIN_RECREATED_ROLE_ID)


def enforcer(
    action: str,
    resource: str,
    *,
    account: str = ACCOUNT,
    region: str = REGION,
    role_id: str = ENFORCER_ROLE_ID,
    partition: str = PARTITION,
) -> Request:
    """The enforcer function's role session (fixed role name, no path)."""
    return role_session(
        action,
        resource,
        name=f"{ENFORCER_ROLE_NAME_PARAMETER}-{region}",
        role_id=role_id,
        account=account,
        session=ENFORCER_SESSION,
        partition=partition,
    )


def enforcer_redeployed(action: str, resource: str, *, account: str = ACCOUNT, region: str = REGION) -> Request:
    """The enforcer after the stack was deleted and deployed again: same role ARN, new unique ID."""
    return enforcer(action, resource, account=account, region=region, role_id=ENFORCER_REDEPLOYED_ROLE_ID)


def break_glass(action: str, resource: str, *, account: str = ACCOUNT) -> Request:
    return role_session(
        action, resource, name=BREAK_GLASS_ROLE_NAME, role_id=BREAK_GLASS_ROLE_ID, account=account, session="oncall"
    )


def aws_service(
    action: str,
    resource: str,
    *,
    service: str = CONNECT_SERVICE,
    undocumented: Mapping[str, str] | None = None,
) -> Request:
    """An AWS service acting as its own service principal (for example Connect's recording ingestion).

    Documented context only: aws:PrincipalIsAWSService "true" and aws:PrincipalServiceName. The IAM
    docs do not say what aws:userid, aws:PrincipalArn, aws:PrincipalAccount or aws:PrincipalType hold
    for a service principal; pass guesses in ``undocumented`` (see ``SERVICE_UNDOCUMENTED_VARIANTS``)
    to show that a result does not depend on them.
    """
    return Request.for_service(service, action, resource, extra_context=dict(undocumented or {}))


#: Plausible values for the keys the docs leave open for a service principal. A verdict about a
#: service principal should hold for every one of them.
SERVICE_UNDOCUMENTED_VARIANTS: dict[str, dict[str, str]] = {
    "none": {},
    "userid-is-service": {"aws:userid": CONNECT_SERVICE},
    "userid-opaque": {"aws:userid": "AROAAWSSERVICE000001:connect"},
    "principal-arn-present": {"aws:PrincipalArn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/connect"},
    "principal-account-is-bucket-owner": {"aws:PrincipalAccount": ACCOUNT, "aws:PrincipalType": "AWSService"},
    "all": {
        "aws:userid": CONNECT_SERVICE,
        "aws:PrincipalArn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/connect",
        "aws:PrincipalAccount": ACCOUNT,
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": f"arn:{PARTITION}:connect:{REGION}:{ACCOUNT}:instance/11111111-2222-3333-4444-555555555555",
    },
}

CallerFactory = Callable[[str, str], Request]

#: Every caller of the lockdown's contract, by a stable name.
CALLERS: dict[str, CallerFactory] = {
    "anonymous": anonymous,
    "anonymous-without-userid": lambda action, resource: anonymous(action, resource, documented=False),
    "outsider": outsider,
    "outsider-user": outsider_user,
    "account-root": account_root,
    "connect-role": connect_role,
    "connect-role-recreated": connect_role_recreated,
    "admin": admin,
    "admin-recreated": admin_recreated,
    "enforcer": enforcer,
    "enforcer-redeployed": enforcer_redeployed,
    "aws-service": aws_service,
}
