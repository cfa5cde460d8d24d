"""The central topic's policy from docs/organizations.md, judged on its own with the project's IAM evaluator
(tests/support/policy_eval.py): who may publish, over what, and as which service. Pure; no AWS.
tests/component/test_central_alerts.py delivers member accounts' alerts through it on moto.

aws:PrincipalOrgID "is included in the request context only if the principal is a member of an organization",
with that organization's ID; aws:SourceOrgID is the organization of the resource a service acts for.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceorgid
Cross-account requests need an Allow in the identity policy and in the resource policy:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
"""

from __future__ import annotations

from devtools.account import REGION
from tests.support import central_topic
from tests.support.policy_eval import Request, evaluate_access, evaluate_bucket_policy

OUTSIDER = "999988887777"
ENFORCER_ROLE = f"connect-lockdown-enforcer-{REGION}"

ORG_ID = "o-a1b2c3d4e5"
SECURITY = "111122223333"
MEMBER = "444455556666"
TOPIC = f"arn:aws:sns:{REGION}:{SECURITY}:{central_topic.TOPIC_NAME}"
POLICY = central_topic.topic_policy(organization_id=ORG_ID, account=SECURITY, region=REGION, topic_arn=TOPIC)


def enforcer_in(account: str, *, action: str = "sns:Publish", resource: str = TOPIC, **context: str) -> Request:
    return Request.for_role(
        account,
        ENFORCER_ROLE,
        "AROAENFORCERROLE00001",
        action,
        resource,
        session="connect-lockdown",
        extra_context={"aws:SecureTransport": "true"} | context,
    )


def test_the_policy_admits_every_principal_of_the_organization_and_no_other() -> None:
    member = enforcer_in(MEMBER, **{"aws:PrincipalOrgID": ORG_ID})
    root_of_member = Request.for_root(
        MEMBER, "sns:Publish", TOPIC, extra_context={"aws:PrincipalOrgID": ORG_ID, "aws:SecureTransport": "true"}
    )
    other_organization = enforcer_in(OUTSIDER, **{"aws:PrincipalOrgID": "o-zzzzzzzzzz"})
    no_organization = enforcer_in(OUTSIDER)

    assert evaluate_access(member, resource_policy=POLICY, resource_account=SECURITY) == "allow"
    assert evaluate_access(root_of_member, resource_policy=POLICY, resource_account=SECURITY) == "allow"
    assert evaluate_access(other_organization, resource_policy=POLICY, resource_account=SECURITY) == "implicit_deny"
    assert evaluate_access(no_organization, resource_policy=POLICY, resource_account=SECURITY) == "implicit_deny"


def test_the_policy_grants_publishing_to_this_topic_over_tls_and_nothing_else() -> None:
    in_org = {"aws:PrincipalOrgID": ORG_ID}
    over_http = enforcer_in(MEMBER, **in_org | {"aws:SecureTransport": "false"})
    other_topic = enforcer_in(MEMBER, resource=f"arn:aws:sns:{REGION}:{SECURITY}:another-topic", **in_org)

    assert evaluate_bucket_policy(POLICY, over_http) == "explicit_deny"
    assert evaluate_bucket_policy(POLICY, other_topic) == "implicit_deny"
    for action in ("sns:Subscribe", "sns:SetTopicAttributes", "sns:DeleteTopic", "sns:AddPermission"):
        assert evaluate_bucket_policy(POLICY, enforcer_in(MEMBER, action=action, **in_org)) == "implicit_deny"


def test_only_the_organizations_alarms_publish_as_cloudwatch() -> None:
    # The evaluator does not decide whether {"AWS": "*"} matches a service principal (undocumented), so the
    # statements that can apply to CloudWatch are judged: the AWS "*" statement cannot, whatever it matches,
    # since it requires aws:PrincipalOrgID, which a service principal's request does not carry.
    statements = [s for s in POLICY["Statement"] if s["Principal"] != {"AWS": "*"}]
    assert len(statements) == len(POLICY["Statement"]) - 1
    for_services = {"Version": POLICY["Version"], "Statement": statements}

    def alarm(**context: str) -> Request:
        return Request.for_service(
            "cloudwatch.amazonaws.com", "sns:Publish", TOPIC, extra_context={"aws:SecureTransport": "true"} | context
        )

    assert evaluate_bucket_policy(for_services, alarm(**{"aws:SourceOrgID": ORG_ID})) == "allow"
    assert evaluate_bucket_policy(for_services, alarm(**{"aws:SourceOrgID": "o-zzzzzzzzzz"})) == "implicit_deny"
    assert evaluate_bucket_policy(for_services, alarm()) == "implicit_deny"
    assert evaluate_bucket_policy(for_services, Request.for_service("events.amazonaws.com", "sns:Publish", TOPIC)) == (
        "implicit_deny"
    )
