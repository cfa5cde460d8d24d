"""Who the lockdown admits, proved with the independent evaluator.

The statement under test comes from the fixture ``lockdown_statement_factory``, twice: once from a
small builder written here from the documented shape (docs/interface.md, "Who the lockdown admits"),
independent of the library, and once from the library's own builder, so the library is judged by the
same rules as the specification.

The shape, for bucket B in partition P of account A::

    {"Sid": "ConnectBucketLockdown", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:P:s3:::B", "arn:P:s3:::B/*"],
     "Condition": {
        "StringNotLike": {"aws:userId": ["A", "AROA...:*", ...]},
        "ArnNotEquals":  {"aws:PrincipalArn": ["arn:P:iam::A:role/<enforcer role name>"]},  # when known
        "StringNotEqualsIfExists": {"aws:PrincipalServiceName": ["connect.amazonaws.com"]}}}  # EXEMPT_AWS_SERVICES

The Deny applies only when all three blocks are true (R6 in policy_eval): the caller's aws:userid
matches no listed pattern, AND its aws:PrincipalArn is not the enforcer's role, AND it is not one of the
named AWS service principals. Absent keys (R3, R4): a negated operator on an absent key is true, an
...IfExists operator on an absent key is true, so an anonymous request (aws:userid "anonymous", or no
aws:userid at all) meets all three and is denied.

Each request is judged as a same-account request (R2) with an identity-based Allow assumed for IAM
callers, against a bucket policy made of the lockdown plus a deliberately broad grant to everyone
(``GRANT_EVERYONE``), so that "denied" can only come from the lockdown's explicit Deny and
"allowed" means the lockdown let the caller through.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any, Protocol, cast

import pytest

from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsCallError, CallerIdentity
from connect_lockdown.principals import PrincipalResolver, build_allowlist, own_principal
from connect_lockdown.service_roles import SERVICE_LINKED_ROLES
from tests.support import callers
from tests.support.callers import CALLERS, SERVICE_UNDOCUMENTED_VARIANTS
from tests.support.policy_eval import Request, evaluate_access, evaluate_bucket_policy, is_denied, matching_statements

Statement = dict[str, Any]

LOCKDOWN_SID = "ConnectBucketLockdown"


class LockdownStatementFactory(Protocol):
    def __call__(
        self,
        *,
        bucket: str,
        partition: str,
        allowed_user_ids: Sequence[str],
        enforcer_role_arn: str | None,
        exempt_aws_services: bool | Sequence[str],
    ) -> Statement:
        """The lockdown statement. ``allowed_user_ids``: aws:userid patterns ("ACCT", "AROA...:*");
        ``exempt_aws_services``: True for Connect's service principal alone, False for none, or the names."""
        ...


def documented_lockdown_statement(
    *,
    bucket: str,
    partition: str,
    allowed_user_ids: Sequence[str],
    enforcer_role_arn: str | None,
    exempt_aws_services: bool | Sequence[str],
) -> Statement:
    """The statement exactly as the documented shape shows it (written here, independent of the library)."""
    condition: dict[str, Any] = {"StringNotLike": {"aws:userId": sorted(set(allowed_user_ids))}}
    if enforcer_role_arn is not None:
        condition["ArnNotEquals"] = {"aws:PrincipalArn": [enforcer_role_arn]}
    if exempt_aws_services is True:
        exempt_aws_services = [callers.CONNECT_SERVICE]
    if exempt_aws_services:
        condition["StringNotEqualsIfExists"] = {"aws:PrincipalServiceName": sorted(set(exempt_aws_services))}
    return {
        "Sid": LOCKDOWN_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
        "Condition": condition,
    }


def library_lockdown_statement(
    *,
    bucket: str,
    partition: str,
    allowed_user_ids: Sequence[str],
    enforcer_role_arn: str | None,
    exempt_aws_services: bool | Sequence[str],
) -> Statement:
    """The library's own statement, through the same keyword arguments."""
    return policies.lockdown_statement(
        bucket,
        partition,
        allowed_user_ids,
        enforcer_arn=enforcer_role_arn,
        exempt_aws_services=exempt_aws_services,
    )


@pytest.fixture(params=["specification", "library"])
def lockdown_statement_factory(request: pytest.FixtureRequest) -> LockdownStatementFactory:
    """The builder under test: the specification's and the library's."""
    if request.param == "library":
        return library_lockdown_statement
    return documented_lockdown_statement


# The principals the contract admits by unique ID ("Who the lockdown admits").
ALLOWED_USER_IDS = [
    callers.ACCOUNT,  # the account root
    f"{callers.CONNECT_ROLE_ID}:*",  # the Connect instance's service role
    f"{callers.ADMIN_ROLE_ID}:*",  # ADMIN_ROLE_ARNS
    f"{callers.ENFORCER_ROLE_ID}:*",  # the enforcer, by unique ID ...
]
ENFORCER_ROLE_ARN = callers.enforcer_role_arn()  # ... and by role ARN

# A broad grant, so that only the lockdown's Deny can refuse a request (see the module doc).
GRANT_EVERYONE: Statement = {
    "Sid": "TestOnlyGrantEveryone",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [callers.bucket_arn(), f"{callers.bucket_arn()}/*"],
}

REQUESTS = [
    pytest.param("s3:GetObject", callers.object_arn(), id="GetObject"),
    pytest.param("s3:PutBucketPolicy", callers.bucket_arn(), id="PutBucketPolicy"),
]

ALLOWED, DENIED = "allow", "explicit_deny"

# caller -> (expected with EXEMPT_AWS_SERVICES=true, expected with it false)
EXPECTED: dict[str, tuple[str, str]] = {
    "anonymous": (DENIED, DENIED),
    "anonymous-without-userid": (DENIED, DENIED),
    "outsider": (DENIED, DENIED),
    "outsider-user": (DENIED, DENIED),
    "account-root": (ALLOWED, ALLOWED),
    "connect-role": (ALLOWED, ALLOWED),
    "connect-role-recreated": (DENIED, DENIED),  # matched by unique ID only
    "admin": (ALLOWED, ALLOWED),
    "admin-recreated": (DENIED, DENIED),  # matched by unique ID only: the guidance's reason
    "enforcer": (ALLOWED, ALLOWED),
    "enforcer-redeployed": (ALLOWED, ALLOWED),  # same role ARN, new unique ID: admitted by ARN
    "aws-service": (ALLOWED, DENIED),  # Connect's service principal: only with the exemption
}

OTHER_SERVICE = "cloudfront.amazonaws.com"
# A grant another account's CloudFront distribution could use: no aws:SourceArn / aws:SourceAccount.
GRANT_CLOUDFRONT: Statement = {
    "Sid": "TestOnlyGrantCloudFront",
    "Effect": "Allow",
    "Principal": {"Service": OTHER_SERVICE},
    "Action": "s3:GetObject",
    "Resource": f"{callers.bucket_arn()}/*",
}


def _lockdown(
    factory: LockdownStatementFactory, *, exempt: bool, enforcer_arn: str | None = ENFORCER_ROLE_ARN
) -> Statement:
    return factory(
        bucket=callers.BUCKET,
        partition=callers.PARTITION,
        allowed_user_ids=ALLOWED_USER_IDS,
        enforcer_role_arn=enforcer_arn,
        exempt_aws_services=exempt,
    )


def _policy(*statements: Statement) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _decision(lockdown: Statement, request: Request) -> str:
    return evaluate_access(request, resource_policy=_policy(lockdown, GRANT_EVERYONE), resource_account=callers.ACCOUNT)


def test_every_caller_has_an_expectation() -> None:
    assert set(EXPECTED) == set(CALLERS)


@pytest.mark.parametrize("exempt", [True, False], ids=["exempt-on", "exempt-off"])
@pytest.mark.parametrize(("action", "resource"), REQUESTS)
@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_who_the_lockdown_admits(
    lockdown_statement_factory: LockdownStatementFactory, caller: str, action: str, resource: str, exempt: bool
) -> None:
    lockdown = _lockdown(lockdown_statement_factory, exempt=exempt)
    request = CALLERS[caller](action, resource)
    expected = EXPECTED[caller][0 if exempt else 1]
    assert _decision(lockdown, request) == expected
    # The refusal comes from the lockdown statement itself, not from anything else.
    assert is_denied(_policy(lockdown), request) is (expected == DENIED)
    if expected == DENIED:
        assert ("Deny", LOCKDOWN_SID) in matching_statements(_policy(lockdown, GRANT_EVERYONE), request)


@pytest.mark.parametrize("exempt", [True, False], ids=["exempt-on", "exempt-off"])
@pytest.mark.parametrize("variant", sorted(SERVICE_UNDOCUMENTED_VARIANTS))
@pytest.mark.parametrize(("action", "resource"), REQUESTS)
def test_service_principal_verdict_does_not_depend_on_undocumented_keys(
    lockdown_statement_factory: LockdownStatementFactory, action: str, resource: str, variant: str, exempt: bool
) -> None:
    """The docs give a service principal only aws:PrincipalIsAWSService=true and aws:PrincipalServiceName
    (reference_policies_condition-keys.html); whatever else it carries, the verdict is the same."""
    request = callers.aws_service(action, resource, undocumented=SERVICE_UNDOCUMENTED_VARIANTS[variant])
    lockdown = _lockdown(lockdown_statement_factory, exempt=exempt)
    assert _decision(lockdown, request) == (ALLOWED if exempt else DENIED)


@pytest.mark.parametrize("exempt", [True, False], ids=["exempt-on", "exempt-off"])
def test_statement_shape_follows_the_design(lockdown_statement_factory: LockdownStatementFactory, exempt: bool) -> None:
    lockdown = _lockdown(lockdown_statement_factory, exempt=exempt)
    assert lockdown["Effect"] == "Deny"
    assert lockdown["Principal"] == "*"
    assert lockdown["Action"] == "s3:*"
    assert sorted(lockdown["Resource"]) == sorted([callers.bucket_arn(), f"{callers.bucket_arn()}/*"])
    condition = lockdown["Condition"]
    expected_operators = {"StringNotLike", "ArnNotEquals"} | ({"StringNotEqualsIfExists"} if exempt else set())
    assert set(condition) == expected_operators
    assert {k.lower() for k in condition["StringNotLike"]} == {"aws:userid"}
    assert {k.lower() for k in condition["ArnNotEquals"]} == {"aws:principalarn"}
    if exempt:
        [(key, value)] = condition["StringNotEqualsIfExists"].items()
        assert key.lower() == "aws:principalservicename"
        assert value == [callers.CONNECT_SERVICE]


# -- why each block is written the way it is ------------------------------------------------------


def test_without_the_enforcer_arn_a_redeployed_enforcer_is_locked_out(
    lockdown_statement_factory: LockdownStatementFactory,
) -> None:
    """By unique ID alone, the redeployed stack's role (new ID) is denied."""
    lockdown = _lockdown(lockdown_statement_factory, exempt=True, enforcer_arn=None)
    request = callers.enforcer_redeployed("s3:PutBucketPolicy", callers.bucket_arn())
    assert _decision(lockdown, request) == DENIED
    assert _decision(lockdown, callers.enforcer("s3:PutBucketPolicy", callers.bucket_arn())) == ALLOWED


@pytest.mark.parametrize(
    "request_",
    [
        # Same role name in another account: the ARN carries the account.
        callers.enforcer(
            "s3:PutBucketPolicy", callers.bucket_arn(), account=callers.OTHER_ACCOUNT, role_id="AROAOTHERACCOUNT0001"
        ),
        # Same name under a path in the same account: the role ARN carries the path.
        callers.role_session(
            "s3:PutBucketPolicy",
            callers.bucket_arn(),
            name=callers.ENFORCER_ROLE_NAME,
            role_id="AROAPATHED0000000001",
            path="/impostor/",
        ),
        # The enforcer's name for another Region (another stack's role, not listed).
        callers.enforcer(
            "s3:PutBucketPolicy", callers.bucket_arn(), region="eu-west-1", role_id="AROAEUWEST0000000001"
        ),
        # A longer name that starts with the enforcer's: ArnNotEquals has no wildcard here.
        callers.role_session(
            "s3:PutBucketPolicy",
            callers.bucket_arn(),
            name=f"{callers.ENFORCER_ROLE_NAME}-evil",
            role_id="AROALOOKALIKE0000001",
        ),
    ],
    ids=["other-account", "path", "other-region", "longer-name"],
)
def test_enforcer_look_alikes_are_denied(
    lockdown_statement_factory: LockdownStatementFactory, request_: Request
) -> None:
    lockdown = _lockdown(lockdown_statement_factory, exempt=True)
    assert _decision(lockdown, request_) == DENIED


@pytest.mark.parametrize("variant", sorted(SERVICE_UNDOCUMENTED_VARIANTS))
def test_only_named_services_pass_even_where_a_kept_statement_allows_another(
    lockdown_statement_factory: LockdownStatementFactory, variant: str
) -> None:
    """EXEMPT_AWS_SERVICES names who passes: Connect does, CloudFront does not although a statement kept beside
    the lock grants it, whatever the undocumented keys of a service request hold."""
    lockdown = _lockdown(lockdown_statement_factory, exempt=True)
    policy = _policy(lockdown, GRANT_CLOUDFRONT)
    undocumented = SERVICE_UNDOCUMENTED_VARIANTS[variant]
    connect = callers.aws_service("s3:GetObject", callers.object_arn(), undocumented=undocumented)
    cloudfront = callers.aws_service(
        "s3:GetObject", callers.object_arn(), service=OTHER_SERVICE, undocumented=undocumented
    )
    assert evaluate_bucket_policy(policy, cloudfront) == DENIED
    assert ("Deny", LOCKDOWN_SID) in matching_statements(policy, cloudfront)
    assert evaluate_bucket_policy(_policy(GRANT_CLOUDFRONT), cloudfront) == ALLOWED  # the grant alone opens it
    assert not is_denied(policy, connect)


def test_a_list_of_services(lockdown_statement_factory: LockdownStatementFactory) -> None:
    named = ["logging.s3.amazonaws.com", callers.CONNECT_SERVICE]
    lockdown = lockdown_statement_factory(
        bucket=callers.BUCKET,
        partition=callers.PARTITION,
        allowed_user_ids=ALLOWED_USER_IDS,
        enforcer_role_arn=ENFORCER_ROLE_ARN,
        exempt_aws_services=named,
    )
    for service in named:
        assert (
            _decision(lockdown, callers.aws_service("s3:PutObject", callers.object_arn(), service=service)) == ALLOWED
        )
    for service in (OTHER_SERVICE, "connect.us-east-1.amazonaws.com", "s3.amazonaws.com"):
        assert _decision(lockdown, callers.aws_service("s3:PutObject", callers.object_arn(), service=service)) == DENIED
    for documented in (True, False):
        anonymous = callers.anonymous("s3:GetObject", callers.object_arn(), documented=documented)
        assert _decision(lockdown, anonymous) == DENIED


@pytest.mark.parametrize("documented", [True, False], ids=["userid-anonymous", "userid-absent"])
def test_anonymous_is_denied_with_or_without_aws_userid(
    lockdown_statement_factory: LockdownStatementFactory, documented: bool
) -> None:
    """IAM's principal key values give an anonymous request aws:userid "anonymous"; older pages said it has none.
    Both are denied, even beside a grant to everyone, with and without the service exemption."""
    for exempt in (True, False):
        lockdown = _lockdown(lockdown_statement_factory, exempt=exempt)
        request = callers.anonymous("s3:GetObject", callers.object_arn(), documented=documented)
        assert ("aws:userid" in request.context()) is documented
        assert _decision(lockdown, request) == DENIED


def test_the_older_form_let_every_service_through() -> None:
    """Why the exemption names services: `BoolIfExists aws:PrincipalIsAWSService false` is false for any service
    principal, so a kept grant to CloudFront (or to "*") was open to every account's distribution."""
    older = documented_lockdown_statement(
        bucket=callers.BUCKET,
        partition=callers.PARTITION,
        allowed_user_ids=ALLOWED_USER_IDS,
        enforcer_role_arn=ENFORCER_ROLE_ARN,
        exempt_aws_services=False,
    )
    older["Condition"]["BoolIfExists"] = {"aws:PrincipalIsAWSService": "false"}
    cloudfront = callers.aws_service("s3:GetObject", callers.object_arn(), service=OTHER_SERVICE)
    assert evaluate_bucket_policy(_policy(older, GRANT_CLOUDFRONT), cloudfront) == ALLOWED
    current = library_lockdown_statement(
        bucket=callers.BUCKET,
        partition=callers.PARTITION,
        allowed_user_ids=ALLOWED_USER_IDS,
        enforcer_role_arn=ENFORCER_ROLE_ARN,
        exempt_aws_services=True,
    )
    assert evaluate_bucket_policy(_policy(current, GRANT_CLOUDFRONT), cloudfront) == DENIED
    # The older form is drift: a bucket that carries it is rewritten.
    assert not policies.equivalent(_policy(older), _policy(current))


def test_positive_operator_instead_of_if_exists_would_admit_anonymous(
    lockdown_statement_factory: LockdownStatementFactory,
) -> None:
    """R3 vs R4: a non-negated operator on the absent aws:PrincipalServiceName is false, so a Deny written with
    StringEquals would not apply to anonymous requests; StringNotEqualsIfExists is true there."""
    lockdown = _lockdown(lockdown_statement_factory, exempt=True)
    wrong = copy.deepcopy(lockdown)
    wrong["Condition"]["StringEquals"] = wrong["Condition"].pop("StringNotEqualsIfExists")
    for documented in (True, False):
        request = callers.anonymous("s3:GetObject", callers.object_arn(), documented=documented)
        assert _decision(lockdown, request) == DENIED
        assert _decision(wrong, request) == ALLOWED  # the public grant would then reach anonymous callers


def test_positive_string_like_would_admit_anonymous_and_deny_the_listed() -> None:
    """The statement must use the negated operator: StringLike on the allowed list inverts it."""
    lockdown = documented_lockdown_statement(
        bucket=callers.BUCKET,
        partition=callers.PARTITION,
        allowed_user_ids=ALLOWED_USER_IDS,
        enforcer_role_arn=None,
        exempt_aws_services=False,
    )
    wrong = copy.deepcopy(lockdown)
    wrong["Condition"]["StringLike"] = wrong["Condition"].pop("StringNotLike")
    anon = callers.anonymous("s3:GetObject", callers.object_arn(), documented=False)
    admin = callers.admin("s3:GetObject", callers.object_arn())
    assert (_decision(lockdown, anon), _decision(lockdown, admin)) == (DENIED, ALLOWED)
    assert (_decision(wrong, anon), _decision(wrong, admin)) == (ALLOWED, DENIED)


def test_other_buckets_are_untouched(lockdown_statement_factory: LockdownStatementFactory) -> None:
    lockdown = _lockdown(lockdown_statement_factory, exempt=True)
    for resource in (
        "arn:aws:s3:::other-bucket/x",
        f"arn:aws:s3:::{callers.BUCKET}-logs/x",
        "arn:aws:s3:::other-bucket",
    ):
        request = callers.outsider("s3:GetObject", resource)
        assert evaluate_bucket_policy(_policy(lockdown), request) == "implicit_deny"


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_partitions(lockdown_statement_factory: LockdownStatementFactory, partition: str) -> None:
    lockdown = lockdown_statement_factory(
        bucket=callers.BUCKET,
        partition=partition,
        allowed_user_ids=ALLOWED_USER_IDS,
        enforcer_role_arn=callers.enforcer_role_arn(partition=partition),
        exempt_aws_services=True,
    )
    resource = callers.object_arn(partition=partition)
    redeployed = Request.for_role(
        callers.ACCOUNT,
        callers.ENFORCER_ROLE_NAME,
        callers.ENFORCER_REDEPLOYED_ROLE_ID,
        "s3:GetObject",
        resource,
        partition=partition,
    )
    outsider = callers.outsider("s3:GetObject", resource, partition=partition)
    policy = _policy(lockdown)
    assert not is_denied(policy, redeployed)
    assert is_denied(policy, outsider)


# -- ADMIT_SERVICE_LINKED_ROLES ----------------------------------------------------------------------


class _Iam:
    """Just enough of the gateway for the resolver: IAM's GetRole over a dict of role name -> unique ID."""

    def __init__(self, roles: dict[str, str]) -> None:
        self.roles = roles
        self.reads: list[str] = []

    def role_id(self, role_name: str, path: str | None = None) -> str:
        self.reads.append(role_name)
        if role_name not in self.roles:
            raise AwsCallError("GetRole", "NoSuchEntity", f"The role with name {role_name} cannot be found.")
        return self.roles[role_name]


CONFIG_SLR_ID = "AROACONFIGSLR0000001"


def _slr_session(service: str, role_name: str, role_id: str, action: str, resource: str) -> Request:
    return callers.role_session(
        action, resource, name=role_name, role_id=role_id, path=f"/aws-service-role/{service}/", session=service
    )


def test_a_missing_service_linked_role_is_read_once_per_invocation_that_writes() -> None:
    """An absence admits no one: the decisions of one invocation share it (one GetRole, not one per write). A write
    in a later invocation asks IAM again, since another invocation may have admitted a role created since; a
    cached check (no write) believes it for the cache's time."""
    iam = _Iam({})
    now = [1000.0]
    resolver = PrincipalResolver(cast(Any, iam), cache_ttl=300.0, clock=lambda: now[0])
    identity = CallerIdentity(
        account=callers.ACCOUNT,
        arn=f"arn:aws:sts::{callers.ACCOUNT}:assumed-role/{callers.ENFORCER_ROLE_NAME}/{callers.ENFORCER_SESSION}",
        user_id=f"{callers.ENFORCER_ROLE_ID}:{callers.ENFORCER_SESSION}",
    )
    config = SERVICE_LINKED_ROLES["config"]

    def decide(*, fresh: bool) -> str | None:
        resolver.begin_decision()
        return resolver.resolve_service_linked(config, identity, fresh=fresh)

    # One invocation, three writes: IAM is asked once
    resolver.begin_invocation()
    assert [decide(fresh=True) for _ in range(3)] == [None, None, None]
    assert iam.reads == ["AWSServiceRoleForConfig"]

    # The role is created; the next invocation's cached check still believes the absence, its write does not
    iam.roles["AWSServiceRoleForConfig"] = CONFIG_SLR_ID
    resolver.begin_invocation()
    assert decide(fresh=False) is None
    assert iam.reads == ["AWSServiceRoleForConfig"]
    assert decide(fresh=True) == CONFIG_SLR_ID
    assert iam.reads == ["AWSServiceRoleForConfig"] * 2


def test_service_linked_roles_are_admitted_by_unique_id_and_a_missing_one_is_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Config's role exists and is admitted; Macie's does not: skipped, said once in the log, never a refusal."""
    iam = _Iam({"AWSServiceRoleForConfig": CONFIG_SLR_ID})
    resolver = PrincipalResolver(cast(Any, iam))
    identity = CallerIdentity(
        account=callers.ACCOUNT,
        arn=f"arn:aws:sts::{callers.ACCOUNT}:assumed-role/{callers.ENFORCER_ROLE_NAME}/{callers.ENFORCER_SESSION}",
        user_id=f"{callers.ENFORCER_ROLE_ID}:{callers.ENFORCER_SESSION}",
    )
    roles = [SERVICE_LINKED_ROLES[name] for name in ("config", "macie")]
    enforcer = own_principal(identity, None)
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            resolver.begin_decision()
            allowlist = build_allowlist(
                resolver, identity, [], enforcer, fresh=True, caller_is_enforcer=True, service_linked_roles=roles
            )
    assert f"{CONFIG_SLR_ID}:*" in allowlist.patterns
    assert "AWS Config" in allowlist.names[f"{CONFIG_SLR_ID}:*"]
    assert f"{CONFIG_SLR_ID}:*" not in allowlist.required
    assert [r.getMessage() for r in caplog.records].count(
        "a service-linked role named in ADMIT_SERVICE_LINKED_ROLES is not admitted"
    ) == 1
    assert iam.reads.count("AWSServiceRoleForConfig") == 2  # once per decision that writes

    lock = policies.lockdown_statement(
        callers.BUCKET, "aws", allowlist.patterns, enforcer_arn=allowlist.enforcer_arn, exempt_aws_services=True
    )
    policy = _policy(lock, GRANT_EVERYONE)
    config = _slr_session(
        "config.amazonaws.com", "AWSServiceRoleForConfig", CONFIG_SLR_ID, "s3:GetBucketPolicy", callers.bucket_arn()
    )
    macie = _slr_session(
        "macie.amazonaws.com",
        "AWSServiceRoleForAmazonMacie",
        "AROAMACIESLR00000001",
        "s3:GetObject",
        callers.object_arn(),
    )
    assert evaluate_access(config, resource_policy=policy, resource_account=callers.ACCOUNT) == ALLOWED
    assert evaluate_access(macie, resource_policy=policy, resource_account=callers.ACCOUNT) == DENIED
    # A role created later under Config's name gets a new unique ID: not admitted until the next write.
    recreated = _slr_session(
        "config.amazonaws.com",
        "AWSServiceRoleForConfig",
        "AROACONFIGSLR0000002",
        "s3:GetBucketPolicy",
        callers.bucket_arn(),
    )
    assert evaluate_access(recreated, resource_policy=policy, resource_account=callers.ACCOUNT) == DENIED
