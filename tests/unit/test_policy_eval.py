"""Tests for the independent IAM evaluator in ``tests/support/policy_eval.py``.

Every policy here is hand-written, mostly copied or adapted from AWS documentation examples; the
source is cited above each one, and rule numbers (R1..R13) refer to the list in the evaluator's
module docstring. Doc pages are in the IAM User Guide
(https://docs.aws.amazon.com/IAM/latest/UserGuide/<page>) unless a full URL is given;
"Organizations:" pages are in https://docs.aws.amazon.com/organizations/latest/userguide/<page>.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tests.support import callers
from tests.support.policy_eval import (
    ANONYMOUS,
    FULL_AWS_ACCESS,
    NEGATED_OPERATORS,
    SUPPORTED_OPERATORS,
    InvalidPolicy,
    Request,
    UnsupportedPolicyElement,
    evaluate_access,
    evaluate_bucket_policy,
    evaluate_scps,
    is_allowed,
    is_denied,
    matching_scp_statements,
    matching_statements,
    scp_exemption,
    scp_levels_with_full_access,
)

ACCT, OTHER_ACCT = callers.ACCOUNT, callers.OTHER_ACCOUNT
CONNECT_ROLE_ID = "AROAEXAMPLEROLEID"
ADMIN_ROLE_ID = "AROAADMINROLEID"

BUCKET = "arn:aws:s3:::b"
OBJECT = "arn:aws:s3:::b/connect/instance/CallRecordings/2024/01/01/contact.wav"

Policy = dict[str, Any]


def _policy(*statements: dict[str, Any]) -> Policy:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def role(
    role_id: str = "AROAOTHERROLEID",
    name: str = "SomeRole",
    *,
    account: str = ACCT,
    action: str = "s3:GetObject",
    resource: str = OBJECT,
    session: str = "s",
    path: str = "/",
    extra: dict[str, str] | None = None,
) -> Request:
    return Request.for_role(account, name, role_id, action, resource, session, path=path, extra_context=extra)


def user(
    name: str = "bob",
    user_id: str = "AIDAEXAMPLEUSERID",
    *,
    account: str = ACCT,
    action: str = "s3:GetObject",
    resource: str = OBJECT,
    extra: dict[str, str] | None = None,
) -> Request:
    return Request.for_user(account, name, user_id, action, resource, extra_context=extra)


def root(account: str = ACCT, *, action: str = "s3:GetObject", resource: str = OBJECT) -> Request:
    return Request.for_root(account, action, resource)


# ============================================================================================
# Amazon Connect guidance-style lockdown.
# Shape from "Restrict Access to your Amazon Connect S3 Bucket"
# (https://aws.amazon.com/blogs/contact-center/restrict-access-to-your-amazon-connect-s3-bucket/)
# and the Knowledge Center article "explicit-deny-principal-elements-s3"
# (https://aws.amazon.com/premiumsupport/knowledge-center/explicit-deny-principal-elements-s3/):
# Deny everyone s3:* on the bucket and its objects unless aws:userid is one of the allowed role
# ids (any session, hence ":*") or the account id (the root user).
# ============================================================================================

CONNECT_LOCKDOWN: Policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "x",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"StringNotLike": {"aws:userId": [f"{CONNECT_ROLE_ID}:*", f"{ADMIN_ROLE_ID}:*", ACCT]}},
        }
    ],
}

BUCKET_AND_OBJECT_ACTIONS = [
    pytest.param("s3:ListBucket", BUCKET, id="bucket-level"),
    pytest.param("s3:GetBucketPolicy", BUCKET, id="bucket-policy-read"),
    pytest.param("s3:PutBucketPolicy", BUCKET, id="bucket-policy-write"),
    pytest.param("s3:GetObject", OBJECT, id="object-read"),
    pytest.param("s3:PutObject", OBJECT, id="object-write"),
    pytest.param("s3:DeleteObject", "arn:aws:s3:::b/x", id="object-delete"),
]


class TestConnectLockdown:
    @pytest.mark.parametrize(("action", "resource"), BUCKET_AND_OBJECT_ACTIONS)
    @pytest.mark.parametrize("role_id", [CONNECT_ROLE_ID, ADMIN_ROLE_ID])
    @pytest.mark.parametrize("session", ["s", "connect-session-1234", "alice@example.com"])
    def test_listed_role_any_session_is_not_denied(
        self, role_id: str, session: str, action: str, resource: str
    ) -> None:
        request = role(role_id, action=action, resource=resource, session=session)
        # The lockdown only denies; it grants nothing, so a listed role is left to its IAM policy.
        assert evaluate_bucket_policy(CONNECT_LOCKDOWN, request) == "implicit_deny"
        assert not is_denied(CONNECT_LOCKDOWN, request)

    @pytest.mark.parametrize(("action", "resource"), BUCKET_AND_OBJECT_ACTIONS)
    def test_other_role_in_same_account_is_denied(self, action: str, resource: str) -> None:
        request = role("AROAOTHERROLEID", action=action, resource=resource)
        assert evaluate_bucket_policy(CONNECT_LOCKDOWN, request) == "explicit_deny"

    @pytest.mark.parametrize(("action", "resource"), BUCKET_AND_OBJECT_ACTIONS)
    def test_iam_user_in_same_account_is_denied(self, action: str, resource: str) -> None:
        assert is_denied(CONNECT_LOCKDOWN, user(action=action, resource=resource))

    @pytest.mark.parametrize(("action", "resource"), BUCKET_AND_OBJECT_ACTIONS)
    def test_principals_of_another_account_are_denied(self, action: str, resource: str) -> None:
        assert is_denied(CONNECT_LOCKDOWN, role(account=OTHER_ACCT, action=action, resource=resource))
        assert is_denied(CONNECT_LOCKDOWN, user(account=OTHER_ACCT, action=action, resource=resource))
        # Another account's root user has aws:userid = 444455556666, which is not listed.
        assert is_denied(CONNECT_LOCKDOWN, root(OTHER_ACCT, action=action, resource=resource))

    def test_listed_role_id_in_another_account_is_still_not_denied(self) -> None:
        # aws:userid does not carry the account; role ids are globally unique, so this is fine.
        assert not is_denied(CONNECT_LOCKDOWN, role(CONNECT_ROLE_ID, account=OTHER_ACCT))

    @pytest.mark.parametrize(("action", "resource"), BUCKET_AND_OBJECT_ACTIONS)
    def test_account_root_passes(self, action: str, resource: str) -> None:
        assert evaluate_bucket_policy(CONNECT_LOCKDOWN, root(action=action, resource=resource)) == "implicit_deny"

    @pytest.mark.parametrize(
        "resource",
        [
            "arn:aws:s3:::other-bucket",
            "arn:aws:s3:::other-bucket/key",
            "arn:aws:s3:::bb",  # a bucket whose name starts with "b"
            "arn:aws:s3:::bb/key",
            "arn:aws:s3:::b-logs/key",
            "arn:aws:s3:::B/key",  # ARNs are case-sensitive
        ],
    )
    def test_other_buckets_are_not_affected(self, resource: str) -> None:
        assert evaluate_bucket_policy(CONNECT_LOCKDOWN, role(resource=resource)) == "implicit_deny"
        assert evaluate_bucket_policy(CONNECT_LOCKDOWN, user(resource=resource)) == "implicit_deny"

    @pytest.mark.parametrize(
        "role_id",
        [
            f"{CONNECT_ROLE_ID}X",  # the pattern is "ID:*", so a longer id does not slip through
            "X" + CONNECT_ROLE_ID,
            CONNECT_ROLE_ID.lower(),  # StringNotLike is case-sensitive
        ],
    )
    def test_look_alike_role_ids_are_denied(self, role_id: str) -> None:
        assert is_denied(CONNECT_LOCKDOWN, role(role_id))

    def test_user_whose_unique_id_equals_a_listed_role_prefix_is_denied(self) -> None:
        # A user's aws:userid has no ":session" suffix, so "AROA...:*" cannot match it.
        assert is_denied(CONNECT_LOCKDOWN, user(user_id=CONNECT_ROLE_ID))

    def test_condition_key_name_is_case_insensitive(self) -> None:
        for spelling in ("aws:userId", "aws:userid", "AWS:USERID", "Aws:UserId"):
            policy = json.loads(json.dumps(CONNECT_LOCKDOWN))
            cond = policy["Statement"][0]["Condition"]["StringNotLike"]
            cond[spelling] = cond.pop("aws:userId")
            assert not is_denied(policy, role(CONNECT_ROLE_ID)), spelling
            assert is_denied(policy, role("AROAOTHERROLEID")), spelling

    def test_policy_may_be_given_as_json_text(self) -> None:
        text = json.dumps(CONNECT_LOCKDOWN)
        assert is_denied(text, user())
        assert not is_denied(text, role(ADMIN_ROLE_ID))

    def test_single_statement_object_and_string_forms(self) -> None:
        stmt = dict(CONNECT_LOCKDOWN["Statement"][0])
        stmt["Condition"] = {"StringNotLike": {"aws:userId": f"{CONNECT_ROLE_ID}:*"}}  # string, not list
        policy = {"Version": "2012-10-17", "Statement": stmt}  # object, not list
        assert not is_denied(policy, role(CONNECT_ROLE_ID))
        assert is_denied(policy, role(ADMIN_ROLE_ID))
        assert is_denied(policy, root())  # the account id is no longer listed


# ============================================================================================
# Knowledge Center "explicit-deny-principal-elements-s3" complete policy (abridged): Allow
# statements for one role plus the Deny/StringNotLike guard.
# ============================================================================================

KC_ROLE_ID = "AROAID2GEXAMPLEROLEID"
KC_POLICY: Policy = _policy(
    {
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{OTHER_ACCT}:role/s3-access-role"]},
        "Action": ["s3:ListBucket"],
        "Resource": "arn:aws:s3:::awsexamplebucket1",
    },
    {
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{OTHER_ACCT}:role/s3-access-role"]},
        "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::awsexamplebucket1/*",
    },
    {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::awsexamplebucket1", "arn:aws:s3:::awsexamplebucket1/*"],
        "Condition": {"StringNotLike": {"aws:userid": [f"{KC_ROLE_ID}:*", OTHER_ACCT]}},
    },
)


class TestKnowledgeCenterPolicy:
    def test_the_role_is_allowed(self) -> None:
        for action, resource in [
            ("s3:ListBucket", "arn:aws:s3:::awsexamplebucket1"),
            ("s3:GetObject", "arn:aws:s3:::awsexamplebucket1/k"),
        ]:
            req = Request.for_role(OTHER_ACCT, "s3-access-role", KC_ROLE_ID, action, resource, "i-0abc")
            assert evaluate_bucket_policy(KC_POLICY, req) == "allow"
            assert is_allowed(KC_POLICY, req)

    def test_action_not_in_allow_list_is_implicitly_denied(self) -> None:
        req = Request.for_role(
            OTHER_ACCT, "s3-access-role", KC_ROLE_ID, "s3:PutBucketPolicy", "arn:aws:s3:::awsexamplebucket1"
        )
        assert evaluate_bucket_policy(KC_POLICY, req) == "implicit_deny"

    def test_other_role_is_explicitly_denied(self) -> None:
        req = Request.for_role(OTHER_ACCT, "x", "AROAXXXX", "s3:GetObject", "arn:aws:s3:::awsexamplebucket1/k")
        assert evaluate_bucket_policy(KC_POLICY, req) == "explicit_deny"

    def test_root_is_neither_allowed_nor_denied(self) -> None:
        req = root(OTHER_ACCT, resource="arn:aws:s3:::awsexamplebucket1/k")
        assert evaluate_bucket_policy(KC_POLICY, req) == "implicit_deny"

    def test_deny_beats_allow(self) -> None:
        # Same role name, but a recreated role has a new unique id: the Allow (by ARN) still
        # matches, the Deny (by id) also matches, and the Deny wins.
        req = Request.for_role(
            OTHER_ACCT, "s3-access-role", "AROANEWROLEID", "s3:GetObject", "arn:aws:s3:::awsexamplebucket1/k"
        )
        assert [effect for effect, _ in matching_statements(KC_POLICY, req)] == ["Allow", "Deny"]
        assert evaluate_bucket_policy(KC_POLICY, req) == "explicit_deny"


# ============================================================================================
# Principal element (reference_policies_elements_principal.html)
# ============================================================================================


def _allow(principal: Any, **extra: Any) -> Policy:
    stmt = {"Effect": "Allow", "Principal": principal, "Action": "s3:*", "Resource": "*"}
    stmt.update(extra)
    return _policy(stmt)


class TestPrincipal:
    @pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
    def test_everyone_forms_are_equivalent(self, principal: Any) -> None:
        # "For anonymous users, the following elements are equivalent: "Principal": "*" and
        # "Principal" : { "AWS" : "*" }".
        for req in (role(), user(), root(), role(account=OTHER_ACCT), root(OTHER_ACCT)):
            assert is_allowed(_allow(principal), req)

    @pytest.mark.parametrize(
        "principal",
        [
            {"AWS": ACCT},
            {"AWS": f"arn:aws:iam::{ACCT}:root"},
            {"AWS": [f"arn:aws:iam::{ACCT}:root", "999999999999"]},  # doc example: ARN + short form
        ],
    )
    def test_account_principal_delegates_to_every_principal_of_the_account(self, principal: Any) -> None:
        # "Using the account ARN in the Principal element does not limit permissions to only the
        # root user of the account."
        for req in (role(), user(), root()):
            assert is_allowed(_allow(principal), req)
        for req in (role(account=OTHER_ACCT), user(account=OTHER_ACCT), root(OTHER_ACCT)):
            assert evaluate_bucket_policy(_allow(principal), req) == "implicit_deny"

    def test_role_arn_matches_every_session_of_that_role_only(self) -> None:
        policy = _allow({"AWS": f"arn:aws:iam::{ACCT}:role/ConnectRole"})
        assert is_allowed(policy, role(name="ConnectRole", session="a"))
        assert is_allowed(policy, role(name="ConnectRole", session="b"))
        assert not is_allowed(policy, role(name="OtherRole"))
        assert not is_allowed(policy, role(name="ConnectRole", account=OTHER_ACCT))
        assert not is_allowed(policy, root())
        assert not is_allowed(policy, user(name="ConnectRole"))

    def test_role_arn_includes_the_role_path(self) -> None:
        with_path = _allow({"AWS": f"arn:aws:iam::{ACCT}:role/service-role/ConnectRole"})
        without_path = _allow({"AWS": f"arn:aws:iam::{ACCT}:role/ConnectRole"})
        session = role(name="ConnectRole", path="/service-role/")
        # The assumed-role ARN never shows the path ...
        assert session.principal_arn == f"arn:aws:sts::{ACCT}:assumed-role/ConnectRole/s"
        # ... but the role ARN does.
        assert is_allowed(with_path, session)
        assert not is_allowed(without_path, session)

    def test_assumed_role_session_arn_matches_that_session_only(self) -> None:
        policy = _allow({"AWS": f"arn:aws:sts::{ACCT}:assumed-role/ConnectRole/audit-app"})
        assert is_allowed(policy, role(name="ConnectRole", session="audit-app"))
        assert not is_allowed(policy, role(name="ConnectRole", session="other-app"))

    @pytest.mark.parametrize(
        "principal",
        [
            {"AWS": f"arn:aws:iam::{ACCT}:user/bob"},
            {"AWS": [f"arn:aws:iam::{ACCT}:user/alice", f"arn:aws:iam::{ACCT}:user/bob"]},
        ],
    )
    def test_user_arn_string_and_list(self, principal: Any) -> None:
        assert is_allowed(_allow(principal), user("bob"))
        assert not is_allowed(_allow(principal), user("carol"))
        # "In a Principal element, the user name part of the ARN is case sensitive."
        assert not is_allowed(_allow(principal), user("Bob"))

    def test_service_principal_does_not_match_iam_principals(self) -> None:
        policy = _allow({"Service": ["connect.amazonaws.com", "s3.amazonaws.com"]})
        for req in (role(), user(), root()):
            assert evaluate_bucket_policy(policy, req) == "implicit_deny"

    def test_mixed_principal_types_are_ored(self) -> None:
        policy = _allow({"Service": "connect.amazonaws.com", "AWS": f"arn:aws:iam::{ACCT}:user/bob"})
        assert is_allowed(policy, user("bob"))

    @pytest.mark.parametrize(
        "principal",
        [
            {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
            {"AWS": f"arn:aws:iam::{ACCT}:role/*"},  # no partial wildcards in principals
            {"AWS": f"arn:aws:sts::{ACCT}:assumed-role/ConnectRole/*"},
            {"AWS": "AROAEXAMPLEROLEID"},  # unique id left behind by a deleted role
            {"AWS": f"arn:aws:iam::{ACCT}:group/admins"},
        ],
    )
    def test_unsupported_principals_raise(self, principal: Any) -> None:
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(_allow(principal), role())

    @pytest.mark.parametrize("principal", [[f"arn:aws:iam::{ACCT}:role/x"], {}, "arn:aws:iam::1:root"])
    def test_malformed_principal_is_rejected(self, principal: Any) -> None:
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_allow(principal), role())

    def test_statement_needs_exactly_one_principal_element(self) -> None:
        stmt = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_policy(stmt), role())
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_policy({**stmt, "Principal": "*", "NotPrincipal": {"AWS": ACCT}}), role())


# ============================================================================================
# NotPrincipal (reference_policies_elements_notprincipal.html) - both documented examples.
# ============================================================================================

NOT_PRINCIPAL_USER: Policy = _policy(
    {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [f"arn:aws:iam::{OTHER_ACCT}:user/Bob", f"arn:aws:iam::{OTHER_ACCT}:root"]},
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"],
    }
)

AUDIT_SESSION = f"arn:aws:sts::{OTHER_ACCT}:assumed-role/cross-account-read-only-role/cross-account-audit-app"
AUDIT_ROLE = f"arn:aws:iam::{OTHER_ACCT}:role/cross-account-read-only-role"


def _not_principal_role(*listed: str) -> Policy:
    return _policy(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": list(listed)},
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::Bucket_AccountAudit", "arn:aws:s3:::Bucket_AccountAudit/*"],
        }
    )


class TestNotPrincipal:
    def test_user_example(self) -> None:
        res = "arn:aws:s3:::BUCKETNAME/k"
        bob = user("Bob", account=OTHER_ACCT, resource=res)
        assert evaluate_bucket_policy(NOT_PRINCIPAL_USER, bob) == "implicit_deny"  # not denied, not granted
        assert is_denied(NOT_PRINCIPAL_USER, user("Alice", account=OTHER_ACCT, resource=res))
        assert is_denied(NOT_PRINCIPAL_USER, role(account=OTHER_ACCT, resource=res))
        assert not is_denied(NOT_PRINCIPAL_USER, root(OTHER_ACCT, resource=res))
        assert is_denied(NOT_PRINCIPAL_USER, user("Bob", account=ACCT, resource=res))
        assert not is_denied(NOT_PRINCIPAL_USER, user("Alice", account=OTHER_ACCT, resource=BUCKET))

    def _audit(self, session: str = "cross-account-audit-app") -> Request:
        return role(
            "AROAAUDITROLEID",
            "cross-account-read-only-role",
            account=OTHER_ACCT,
            session=session,
            resource="arn:aws:s3:::Bucket_AccountAudit/report.csv",
        )

    def test_role_example_with_session_role_and_account(self) -> None:
        policy = _not_principal_role(AUDIT_SESSION, AUDIT_ROLE, f"arn:aws:iam::{OTHER_ACCT}:root")
        assert not is_denied(policy, self._audit())
        # "Principals must always name a specific session": any other session is denied.
        assert is_denied(policy, self._audit(session="someone-else"))

    @pytest.mark.parametrize(
        "listed",
        [
            (AUDIT_SESSION,),
            (AUDIT_SESSION, AUDIT_ROLE),  # account missing: "might deny access to the AWS account"
            (AUDIT_SESSION, f"arn:aws:iam::{OTHER_ACCT}:root"),  # role missing
            (AUDIT_ROLE, OTHER_ACCT),  # session missing
        ],
    )
    def test_role_example_missing_an_entity_is_modelled_as_denied(self, listed: tuple[str, ...]) -> None:
        # The doc's worst case: AWS may check account, then role, then session.
        assert is_denied(_not_principal_role(*listed), self._audit())

    def test_not_principal_everyone_excludes_everyone(self) -> None:
        policy = _not_principal_role(AUDIT_ROLE)
        policy["Statement"][0]["NotPrincipal"] = {"AWS": "*"}
        assert not is_denied(policy, self._audit())

    def test_not_principal_with_allow_is_unsupported(self) -> None:
        policy = _allow(None)
        del policy["Statement"][0]["Principal"]
        policy["Statement"][0]["NotPrincipal"] = {"AWS": ACCT}
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(policy, role())


# ============================================================================================
# Action / NotAction (reference_policies_elements_action.html, _notaction.html)
# ============================================================================================


def _deny_everyone(**elements: Any) -> Policy:
    stmt: dict[str, Any] = {"Effect": "Deny", "Principal": "*"}
    stmt.update(elements)
    return _policy(stmt)


class TestAction:
    @pytest.mark.parametrize(
        ("pattern", "action", "expected"),
        [
            ("s3:GetObject", "s3:GetObject", True),
            # "The prefix and the action name are case insensitive."
            ("S3:getobject", "s3:GetObject", True),
            ("s3:GetObject", "S3:GETOBJECT", True),
            ("s3:*", "s3:PutBucketPolicy", True),
            ("S3:*", "s3:ListBucket", True),
            ("*", "s3:ListBucket", True),
            ("s3:Get*", "s3:GetObjectAcl", True),
            ("s3:Get*", "s3:PutObject", False),
            ("s3:*Object*", "s3:DeleteObjectVersion", True),
            ("s3:?etObject", "s3:GetObject", True),
            ("s3:?etObject", "s3:PutObject", False),
            ("s3:Get?", "s3:GetObject", False),  # ? is exactly one character
            ("s3:GetObject", "s3:GetObjectAcl", False),  # whole-string match
            ("s3:GetObject", "ec2:GetObject", False),
            ("connect:*", "s3:GetObject", False),
        ],
    )
    def test_action_matching(self, pattern: str, action: str, expected: bool) -> None:
        policy = _deny_everyone(Action=pattern, Resource="*")
        assert is_denied(policy, role(action=action)) is expected

    def test_action_list_is_ored(self) -> None:
        policy = _deny_everyone(Action=["s3:PutObject", "s3:DeleteObject"], Resource="*")
        assert is_denied(policy, role(action="s3:DeleteObject"))
        assert not is_denied(policy, role(action="s3:GetObject"))

    def test_not_action_with_deny(self) -> None:
        # "explicitly denies the actions not listed"
        policy = _deny_everyone(NotAction=["s3:GetObject", "s3:List*"], Resource=["arn:aws:s3:::b/*", BUCKET])
        assert not is_denied(policy, role(action="s3:GetObject"))
        assert not is_denied(policy, role(action="S3:LISTBUCKET", resource=BUCKET))
        assert is_denied(policy, role(action="s3:PutObject"))
        assert is_denied(policy, role(action="s3:DeleteBucket", resource=BUCKET))

    def test_not_action_with_allow_doc_example(self) -> None:
        # '"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"'
        policy = _policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ACCT},
                "NotAction": "s3:DeleteBucket",
                "Resource": "arn:aws:s3:::*",
            }
        )
        assert is_allowed(policy, role(action="s3:ListBucket", resource=BUCKET))
        assert evaluate_bucket_policy(policy, role(action="s3:DeleteBucket", resource=BUCKET)) == "implicit_deny"

    def test_not_action_with_bool_if_exists_doc_example(self) -> None:
        # DenyAllUsersNotUsingMFA from the NotAction page, with a Principal added for a bucket policy.
        policy = _policy(
            {
                "Sid": "DenyAllUsersNotUsingMFA",
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": "iam:*",
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            }
        )
        assert is_denied(policy, user())  # long-term credentials: key absent -> IfExists is true
        assert is_denied(policy, user(extra={"aws:MultiFactorAuthPresent": "false"}))
        assert not is_denied(policy, user(extra={"aws:MultiFactorAuthPresent": "true"}))
        assert not is_denied(policy, user(action="iam:ListUsers", resource="arn:aws:iam::111122223333:user/x"))

    def test_statement_needs_exactly_one_action_element(self) -> None:
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_deny_everyone(Resource="*"), role())
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_deny_everyone(Action="s3:*", NotAction="s3:Get*", Resource="*"), role())


# ============================================================================================
# Resource / NotResource (reference_policies_elements_resource.html, _notresource.html)
# ============================================================================================


class TestResource:
    @pytest.mark.parametrize(
        ("pattern", "resource", "expected"),
        [
            ("*", "arn:aws:s3:::anything/at/all", True),
            ("arn:aws:s3:::b", "arn:aws:s3:::b", True),
            ("arn:aws:s3:::b", "arn:aws:s3:::b/key", False),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b", False),  # objects only, not the bucket itself
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/", True),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/deep/path/file.wav", True),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/key:with:colons", True),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::bb/key", False),
            ("arn:aws:s3:::b*", "arn:aws:s3:::bb/key", True),
            ("arn:aws:s3:::b/*.wav", "arn:aws:s3:::b/2024/01/x.wav", True),
            ("arn:aws:s3:::b/*.wav", "arn:aws:s3:::b/2024/01/x.json", False),
            ("arn:aws:s3:::b?", "arn:aws:s3:::b1", True),
            ("arn:aws:s3:::b?", "arn:aws:s3:::b", False),
            ("arn:aws:s3:::b?", "arn:aws:s3:::b12", False),
            # ARNs are case-sensitive (unlike actions).
            ("arn:aws:s3:::B/*", "arn:aws:s3:::b/key", False),
            ("arn:aws:s3:::b/Key", "arn:aws:s3:::b/key", False),
            ("arn:aws:s3:::*", "arn:aws:s3:::b", True),
            ("arn:aws:s3:::*/*", "arn:aws:s3:::b", False),
            ("arn:aws:s3:::*/*", "arn:aws:s3:::b/k", True),
            # Doc example: "all IAM users whose path is /accounting".
            ("arn:aws:iam::111122223333:user/accounting/*", "arn:aws:iam::111122223333:user/accounting/ann", True),
            ("arn:aws:iam::111122223333:user/accounting/*", "arn:aws:iam::111122223333:user/sales/ann", False),
            # A * that is not the last character of a segment stays inside the segment.
            ("arn:aws:s*3:::b", "arn:aws:s:x:3:::b", False),
            ("arn:aws:sqs:us-east-?:111122223333:queue1", "arn:aws:sqs:us-east-2:111122223333:queue1", True),
        ],
    )
    def test_resource_matching(self, pattern: str, resource: str, expected: bool) -> None:
        assert (
            is_denied(_deny_everyone(Action="*", Resource=pattern), role(action="s3:x", resource=resource)) is expected
        )

    def test_not_resource_doc_example(self) -> None:
        # HRPayroll example: deny all S3 resources other than the Payroll folder.
        policy = _deny_everyone(
            Action="s3:*", NotResource=["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]
        )
        assert not is_denied(policy, role(resource="arn:aws:s3:::HRBucket/Payroll/jan.csv"))
        assert not is_denied(policy, role(resource="arn:aws:s3:::HRBucket/Payroll"))
        assert is_denied(policy, role(resource="arn:aws:s3:::HRBucket/Other/jan.csv"))
        assert is_denied(policy, role(resource="arn:aws:s3:::OtherBucket/x"))
        assert not is_denied(policy, role(action="ec2:RunInstances", resource="arn:aws:s3:::OtherBucket/x"))

    def test_statement_needs_exactly_one_resource_element(self) -> None:
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_deny_everyone(Action="s3:*"), role())
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_deny_everyone(Action="s3:*", Resource="*", NotResource=BUCKET), role())


# ============================================================================================
# Condition (reference_policies_elements_condition.html, _condition_operators.html,
# reference_policies_condition-logic-multiple-context-keys-or-values.html)
# ============================================================================================


def _deny_if(condition: dict[str, Any]) -> Policy:
    return _deny_everyone(Action="s3:*", Resource="*", Condition=condition)


class TestConditionOperators:
    def test_string_equals_is_case_sensitive_and_ignore_case_is_not(self) -> None:
        # '"StringEquals" : { "aws:username" : "johndoe" }' - users named JohnDoe do not match.
        eq = _deny_if({"StringEquals": {"aws:username": "johndoe"}})
        assert is_denied(eq, user("johndoe"))
        assert not is_denied(eq, user("JohnDoe"))
        ic = _deny_if({"StringEqualsIgnoreCase": {"aws:username": "johndoe"}})
        assert is_denied(ic, user("johndoe"))
        assert is_denied(ic, user("JohnDoe"))
        nic = _deny_if({"StringNotEqualsIgnoreCase": {"aws:username": "johndoe"}})
        assert not is_denied(nic, user("JOHNDOE"))
        assert is_denied(nic, user("jane"))

    def test_string_equals_does_not_treat_star_as_wildcard(self) -> None:
        policy = _deny_if({"StringEquals": {"aws:userid": f"{CONNECT_ROLE_ID}:*"}})
        assert not is_denied(policy, role(CONNECT_ROLE_ID))
        assert is_denied(policy, role(CONNECT_ROLE_ID, session="*"))

    def test_string_like_wildcards(self) -> None:
        policy = _deny_if({"StringLike": {"aws:userid": "AROA????:*"}})
        assert is_denied(policy, role("AROAABCD"))
        assert not is_denied(policy, role("AROAABCDE"))
        assert not is_denied(policy, role("aroaABCD"))  # case-sensitive

    def test_multiple_values_are_ored_and_negated_values_nored(self) -> None:
        ored = _deny_if({"StringEquals": {"aws:userid": ["AROAA:s", "AROAB:s"]}})
        assert is_denied(ored, role("AROAA"))
        assert is_denied(ored, role("AROAB"))
        assert not is_denied(ored, role("AROAC"))
        nored = _deny_if({"StringNotEquals": {"aws:userid": ["AROAA:s", "AROAB:s"]}})
        assert not is_denied(nored, role("AROAA"))
        assert not is_denied(nored, role("AROAB"))
        assert is_denied(nored, role("AROAC"))

    def test_multiple_keys_and_operators_are_anded(self) -> None:
        one_operator = _deny_if({"StringEquals": {"aws:PrincipalAccount": ACCT, "aws:PrincipalType": "AssumedRole"}})
        assert is_denied(one_operator, role())
        assert not is_denied(one_operator, user())
        assert not is_denied(one_operator, role(account=OTHER_ACCT))
        two_operators = _deny_if(
            {
                "StringNotLike": {"aws:userid": f"{CONNECT_ROLE_ID}:*"},
                "StringEquals": {"aws:PrincipalAccount": ACCT},
            }
        )
        assert is_denied(two_operators, role())
        assert not is_denied(two_operators, role(CONNECT_ROLE_ID))
        assert not is_denied(two_operators, role(account=OTHER_ACCT))

    def test_arn_like_checks_each_component_but_string_like_does_not(self) -> None:
        # Doc example from the ARN condition operators section.
        pattern = "arn:aws:someservice:*:111122223333:finance/*"
        value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
        extra = {"aws:SourceArn": value}
        assert is_denied(_deny_if({"StringLike": {"aws:SourceArn": pattern}}), user(extra=extra))
        assert not is_denied(_deny_if({"ArnLike": {"aws:SourceArn": pattern}}), user(extra=extra))
        ok = {"aws:SourceArn": "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"}
        assert is_denied(_deny_if({"ArnLike": {"aws:SourceArn": pattern}}), user(extra=ok))
        assert is_denied(_deny_if({"ArnEquals": {"aws:SourceArn": pattern}}), user(extra=ok))  # identical

    def test_principal_arn_arn_not_equals_doc_example(self) -> None:
        # "UsePrincipalArnInsteadOfNotPrincipalWithDeny" from the Principal page.
        policy = _policy(
            {
                "Sid": "UsePrincipalArnInsteadOfNotPrincipalWithDeny",
                "Effect": "Deny",
                "Action": "s3:*",
                "Principal": "*",
                "Resource": ["arn:aws:s3:::BUCKETNAME/*", "arn:aws:s3:::BUCKETNAME"],
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER_ACCT}:user/user-name"}},
            }
        )
        res = "arn:aws:s3:::BUCKETNAME/k"
        assert not is_denied(policy, user("user-name", account=OTHER_ACCT, resource=res))
        assert is_denied(policy, user("other", account=OTHER_ACCT, resource=res))
        assert is_denied(policy, role(account=OTHER_ACCT, resource=res))
        assert is_denied(policy, root(OTHER_ACCT, resource=res))

    def test_principal_arn_is_the_role_arn_not_the_session_arn(self) -> None:
        admin = _deny_if({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin*"}})
        assert not is_denied(admin, role(name="AdminRole"))
        assert not is_denied(admin, role(name="Admin", account=OTHER_ACCT))
        assert is_denied(admin, role(name="Operator"))
        sessions = _deny_if({"ArnLike": {"aws:PrincipalArn": "arn:aws:sts::*:assumed-role/*"}})
        assert not is_denied(sessions, role(name="AdminRole"))
        pathed = _deny_if({"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/ops/Admin"}})
        assert is_denied(pathed, role(name="Admin", path="/ops/"))
        assert not is_denied(pathed, role(name="Admin"))

    def test_bool_secure_transport_doc_example(self) -> None:
        policy = _policy(
            {
                "Sid": "BooleanExample",
                "Action": "s3:*",
                "Effect": "Deny",
                "Principal": "*",
                "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
        res = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k"
        assert is_denied(policy, user(resource=res, extra={"aws:SecureTransport": "false"}))
        assert not is_denied(policy, user(resource=res, extra={"aws:SecureTransport": "true"}))
        assert not is_denied(policy, user(resource=res))  # key absent: Bool is false
        policy["Statement"][0]["Condition"] = {"Bool": {"aws:SecureTransport": False}}  # JSON boolean
        assert is_denied(policy, user(resource=res, extra={"aws:SecureTransport": "false"}))

    def test_null_operator(self) -> None:
        # aws:username is present only for IAM users.
        absent = _deny_if({"Null": {"aws:username": "true"}})
        assert is_denied(absent, role())
        assert is_denied(absent, root())
        assert not is_denied(absent, user())
        present = _deny_if({"Null": {"aws:username": "false"}})
        assert is_denied(present, user())
        assert not is_denied(present, role())


class TestMissingKeysAndIfExists:
    # "If the key that you specify in a policy condition is not present in the request context,
    # the values do not match and the condition is false. If the policy condition requires that
    # the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
    # present, the condition is true." - Condition operators page.

    @pytest.mark.parametrize(
        ("operator", "expected_for_role"),
        [
            ("StringEquals", False),
            ("StringLike", False),
            ("StringEqualsIgnoreCase", False),
            ("StringNotEquals", True),
            ("StringNotLike", True),
            ("StringNotEqualsIgnoreCase", True),
            ("StringEqualsIfExists", True),
            ("StringLikeIfExists", True),
            ("StringNotEqualsIfExists", True),
            ("StringNotLikeIfExists", True),
        ],
    )
    def test_missing_key(self, operator: str, expected_for_role: bool) -> None:
        # Roles have no aws:username.
        policy = _deny_if({operator: {"aws:username": "bob"}})
        assert is_denied(policy, role()) is expected_for_role

    @pytest.mark.parametrize(("operator", "missing"), [("ArnLike", False), ("ArnNotLike", True)])
    def test_missing_key_arn_operators(self, operator: str, missing: bool) -> None:
        policy = _deny_if({operator: {"aws:SourceArn": "arn:aws:sns:*:*:topic"}})
        assert is_denied(policy, role()) is missing

    def test_if_exists_evaluates_normally_when_key_present(self) -> None:
        policy = _deny_if({"StringNotEqualsIfExists": {"aws:username": "bob"}})
        assert not is_denied(policy, user("bob"))
        assert is_denied(policy, user("carol"))
        policy = _deny_if({"StringEqualsIfExists": {"aws:username": "bob"}})
        assert is_denied(policy, user("bob"))
        assert not is_denied(policy, user("carol"))

    def test_string_like_if_exists_doc_example(self) -> None:
        # RunInstance example: StringLikeIfExists on ec2:InstanceType.
        policy = _policy(
            {
                "Sid": "RunInstance",
                "Effect": "Allow",
                "Principal": {"AWS": ACCT},
                "Action": "ec2:RunInstances",
                "Resource": "*",
                "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
            }
        )
        res = "arn:aws:ec2:us-east-1:111122223333:instance/i-1"
        assert is_allowed(policy, user(action="ec2:RunInstances", resource=res, extra={"ec2:InstanceType": "t2.micro"}))
        assert not is_allowed(
            policy, user(action="ec2:RunInstances", resource=res, extra={"ec2:InstanceType": "c5.large"})
        )
        image = "arn:aws:ec2:us-east-1::image/ami-1"
        assert is_allowed(policy, user(action="ec2:RunInstances", resource=image))  # key absent


class TestRequestContext:
    def test_role_session(self) -> None:
        req = Request.for_role(ACCT, "ConnectRole", CONNECT_ROLE_ID, "s3:GetObject", OBJECT, "sess", path="/svc/")
        assert req.principal_arn == f"arn:aws:sts::{ACCT}:assumed-role/ConnectRole/sess"
        assert req.user_id == f"{CONNECT_ROLE_ID}:sess"
        assert req.kind == "role"
        assert req.context() == {
            "aws:userid": f"{CONNECT_ROLE_ID}:sess",
            "aws:principalaccount": ACCT,
            "aws:principalarn": f"arn:aws:iam::{ACCT}:role/svc/ConnectRole",
            "aws:principaltype": "AssumedRole",
            "aws:principalisawsservice": "false",
        }

    def test_user(self) -> None:
        req = Request.for_user(ACCT, "bob", "AIDAEXAMPLE", "s3:GetObject", OBJECT, extra_context={"s3:prefix": "x/"})
        assert req.principal_arn == f"arn:aws:iam::{ACCT}:user/bob"
        assert req.context() == {
            "aws:userid": "AIDAEXAMPLE",
            "aws:principalaccount": ACCT,
            "aws:principalarn": f"arn:aws:iam::{ACCT}:user/bob",
            "aws:principaltype": "User",
            "aws:principalisawsservice": "false",
            "aws:username": "bob",
            "s3:prefix": "x/",
        }

    def test_root(self) -> None:
        req = Request.for_root(ACCT, "s3:ListBucket", BUCKET)
        assert req.principal_arn == f"arn:aws:iam::{ACCT}:root"
        assert req.user_id == ACCT
        assert req.context()["aws:principaltype"] == "Account"
        assert "aws:username" not in req.context()

    def test_requests_are_values(self) -> None:
        req = role()
        moved = dataclasses.replace(req, action="s3:ListBucket", resource=BUCKET)
        assert moved.user_id == req.user_id and moved.resource == BUCKET
        assert role() == role()

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"principal_arn": f"arn:aws:iam::{ACCT}:root", "user_id": "AIDAX"},  # root's id is the account
            {"principal_arn": f"arn:aws:iam::{OTHER_ACCT}:root", "user_id": OTHER_ACCT},  # account mismatch
            {"principal_arn": f"arn:aws:sts::{ACCT}:assumed-role/R/s", "user_id": "AROAX"},  # no ":session"
            {"principal_arn": f"arn:aws:iam::{ACCT}:user/bob", "user_id": "AROAX:s"},
            {"principal_arn": f"arn:aws:iam::{ACCT}:role/R", "user_id": "AROAX:s"},  # a role is not a caller
            {"principal_arn": f"arn:aws:iam::{ACCT}:root", "user_id": ACCT, "action": "s3:*"},
            {"principal_arn": f"arn:aws:iam::{ACCT}:root", "user_id": ACCT, "resource": "arn:aws:s3:::b/*"},
            {"principal_arn": f"arn:aws:iam::{ACCT}:root", "user_id": ACCT, "extra_context": {"AWS:UserId": "x"}},
        ],
    )
    def test_inconsistent_requests_are_rejected(self, kwargs: dict[str, Any]) -> None:
        fields: dict[str, Any] = {"account_id": ACCT, "action": "s3:GetObject", "resource": OBJECT}
        fields.update(kwargs)
        with pytest.raises(ValueError):
            Request(**fields)


class TestUnsupportedAndInvalid:
    @pytest.mark.parametrize(
        "condition",
        [
            {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
            {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            {"BinaryEquals": {"key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
            {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/*"]}},
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["Dept"]}},
            {"StringLike": {"s3:prefix": ["home/${aws:username}/"]}},  # policy variable
            {"stringequals": {"aws:userid": "x"}},  # operator names are not guessed
            {"ArnLike": {"aws:PrincipalArn": "*"}},  # not a six-component ARN pattern
        ],
    )
    def test_unsupported_condition_raises(self, condition: dict[str, Any]) -> None:
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(_deny_if(condition), role())

    def test_unsupported_element_raises_even_if_an_earlier_deny_decides(self) -> None:
        policy = _policy(
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            },
        )
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(policy, role())

    def test_policy_variable_in_resource_raises(self) -> None:
        policy = _deny_everyone(Action="s3:*", Resource="arn:aws:s3:::b/home/${aws:username}/*")
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(policy, user())

    def test_variables_are_literal_text_in_2008_policies(self) -> None:
        policy = _deny_everyone(Action="s3:*", Resource="arn:aws:s3:::b/${x}")
        policy["Version"] = "2008-10-17"
        assert is_denied(policy, user(resource="arn:aws:s3:::b/${x}"))
        assert not is_denied(policy, user(resource="arn:aws:s3:::b/y"))

    def test_unknown_statement_element_raises(self) -> None:
        stmt = {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Conditions": {"StringNotLike": {"aws:userid": "x"}},  # typo
        }
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(_policy(stmt), role())

    @pytest.mark.parametrize(
        "policy",
        [
            {"Version": "2012-10-17"},
            {"Version": "2012-10-17", "Statement": []},
            {
                "Version": "2020-01-01",
                "Statement": {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"},
            },
            _policy({"Effect": "deny", "Principal": "*", "Action": "*", "Resource": "*"}),
            _policy({"Effect": "Deny", "Principal": "*", "Action": "GetObject", "Resource": "*"}),
            _policy({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "b/*"}),
            _policy({"Effect": "Deny", "Principal": "*", "Action": [], "Resource": "*"}),
            _policy(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "no"}},
                }
            ),
            _policy(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"NullIfExists": {"aws:username": "true"}},
                }
            ),
        ],
    )
    def test_invalid_policies_are_rejected(self, policy: Policy) -> None:
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(policy, role())


class TestDecision:
    def test_no_statement_applies(self) -> None:
        policy = _policy({"Effect": "Allow", "Principal": {"AWS": OTHER_ACCT}, "Action": "s3:*", "Resource": "*"})
        assert evaluate_bucket_policy(policy, role()) == "implicit_deny"
        assert matching_statements(policy, role()) == []

    def test_explicit_deny_wins_regardless_of_order(self) -> None:
        allow = {"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
        deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECT}
        for policy in (_policy(allow, deny), _policy(deny, allow)):
            assert evaluate_bucket_policy(policy, role()) == "explicit_deny"
            assert evaluate_bucket_policy(policy, role(action="s3:PutObject")) == "allow"
        assert sorted(matching_statements(_policy(allow, deny), role())) == [("Allow", "A"), ("Deny", "#1")]


# ============================================================================================
# Absent keys for every operator family (R3, R4, R5).
# reference_policies_elements_condition_operators.html, "Important": "If the key that you specify
# in a policy condition is not present in the request context, the values do not match and the
# condition is false. If the policy condition requires that the key is not matched, such as
# StringNotLike or ArnNotLike, and the right key is not present, the condition is true. This logic
# applies to all condition operators except ...IfExists and Null check."
# ============================================================================================

# One value per operator family, and a key that a role session never carries.
_FAMILY_SAMPLES: dict[str, tuple[str, str, str]] = {
    # family prefix: (absent key, policy value, a present value that matches the positive operator)
    "String": ("aws:username", "bob", "bob"),
    "Numeric": ("s3:max-keys", "10", "10"),
    "Arn": ("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:topic", "arn:aws:sns:us-east-1:111122223333:topic"),
    "Bool": ("aws:SecureTransport", "true", "true"),
}


def _family(operator: str) -> tuple[str, str, str]:
    key, value, present = next(sample for prefix, sample in _FAMILY_SAMPLES.items() if operator.startswith(prefix))
    # A present value the positive operator matches: strictly less / greater for the strict comparisons.
    present = {"NumericLessThan": "9", "NumericGreaterThan": "11"}.get(operator, present)
    return key, value, present


_OPERATORS_BUT_NULL = sorted(SUPPORTED_OPERATORS - {"Null"})


class TestAbsentKeysForEveryOperator:
    def test_the_negated_operators_are_exactly_the_documented_ones(self) -> None:
        # Condition operators page: the "Not" operators of each family.
        assert {
            "StringNotEquals",
            "StringNotEqualsIgnoreCase",
            "StringNotLike",
            "NumericNotEquals",
            "ArnNotEquals",
            "ArnNotLike",
        } == NEGATED_OPERATORS

    @pytest.mark.parametrize("operator", _OPERATORS_BUT_NULL)
    def test_absent_key_positive_false_negated_true_R3(self, operator: str) -> None:
        key, value, _present = _family(operator)
        policy = _deny_if({operator: {key: value}})
        request = role()
        assert key.lower() not in request.context()
        assert is_denied(policy, request) is (operator in NEGATED_OPERATORS)

    @pytest.mark.parametrize("operator", _OPERATORS_BUT_NULL)
    def test_absent_key_if_exists_is_true_R4(self, operator: str) -> None:
        # "If the key is not present, evaluate the condition element as true."
        key, value, _present = _family(operator)
        assert is_denied(_deny_if({f"{operator}IfExists": {key: value}}), role())

    @pytest.mark.parametrize("operator", _OPERATORS_BUT_NULL)
    def test_present_key_if_exists_is_the_base_operator_R4(self, operator: str) -> None:
        # "If the policy key is present in the context of the request, process the key as specified in the policy."
        key, value, present = _family(operator)
        matching = role(extra={key: present})
        for policy_operator in (operator, f"{operator}IfExists"):
            policy = _deny_if({policy_operator: {key: value}})
            assert is_denied(policy, matching) is (operator not in NEGATED_OPERATORS), policy_operator

    def test_several_blocks_all_must_hold_R6(self) -> None:
        # One block false (positive operator on an absent key) is enough to keep a Deny off.
        policy = _deny_if({"StringNotLike": {"aws:userid": "nobody:*"}, "StringEquals": {"aws:username": "bob"}})
        assert not is_denied(policy, role())  # role: no aws:username
        assert is_denied(policy, user("bob"))
        assert not is_denied(policy, user("carol"))

    def test_several_keys_in_one_block_all_must_hold_R6(self) -> None:
        policy = _deny_if({"StringNotEquals": {"aws:userid": "x", "aws:username": "bob"}})
        assert is_denied(policy, role())  # both negated on values: userid differs, username absent -> true
        assert not is_denied(policy, user("bob"))


class TestNull:
    # reference_policies_elements_condition_operators.html#Conditions_Null: "true (the key doesn't
    # exist - it is null) or false (the key exists and its value is not null)".

    def test_null_true_means_absent(self) -> None:
        policy = _deny_if({"Null": {"aws:PrincipalArn": "true"}})
        assert is_denied(policy, Request.anonymous("s3:GetObject", OBJECT))
        for request in (role(), user(), root()):
            assert not is_denied(policy, request)

    def test_null_false_means_present(self) -> None:
        policy = _deny_if({"Null": {"aws:PrincipalIsAWSService": "false"}})
        assert not is_denied(policy, Request.anonymous("s3:GetObject", OBJECT))
        assert is_denied(policy, role())
        assert is_denied(policy, Request.for_service("connect.amazonaws.com", "s3:PutObject", OBJECT))

    def test_assumed_root_doc_example_scp(self) -> None:
        # reference_policies_condition-keys.html#condition-keys-assumedroot: an SCP that denies the
        # root user's long-term credentials but not AssumeRoot sessions.
        scp = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:root"]},
                        "Null": {"aws:AssumedRoot": "true"},
                    },
                }
            ],
        }
        levels = scp_levels_with_full_access(scp)
        assert evaluate_scps(levels, root()) == "explicit_deny"
        assumed_root = Request.for_root(ACCT, "s3:GetObject", OBJECT, extra_context={"aws:AssumedRoot": "true"})
        assert evaluate_scps(levels, assumed_root) == "allow"
        assert evaluate_scps(levels, role()) == "allow"


class TestNumeric:
    def test_doc_example_max_keys(self) -> None:
        # Condition operators page, numeric example: "NumericLessThanEquals": {"s3:max-keys": "10"}.
        policy = _policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": ACCT},
                "Action": "s3:ListBucket",
                "Resource": BUCKET,
                "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}},
            }
        )

        def listing(max_keys: str | None) -> Request:
            extra = {} if max_keys is None else {"s3:max-keys": max_keys}
            return user(action="s3:ListBucket", resource=BUCKET, extra=extra)

        assert is_allowed(policy, listing("10"))
        assert is_allowed(policy, listing("3"))
        assert not is_allowed(policy, listing("11"))
        assert not is_allowed(policy, listing(None))  # absent: a positive operator is false

    @pytest.mark.parametrize(
        ("operator", "value", "expected"),
        [
            ("NumericEquals", "10", True),
            ("NumericEquals", "10.0", True),
            ("NumericNotEquals", "10", False),
            ("NumericLessThan", "10", False),
            ("NumericLessThan", "11", True),
            ("NumericGreaterThan", "9", True),
            ("NumericGreaterThanEquals", "10", True),
            ("NumericGreaterThanEquals", "11", False),
        ],
    )
    def test_comparisons(self, operator: str, value: str, expected: bool) -> None:
        # The request's value is 10; the operator compares it with the policy's value.
        assert is_denied(_deny_if({operator: {"s3:max-keys": value}}), role(extra={"s3:max-keys": "10"})) is expected

    def test_numeric_not_equals_several_values_is_nor(self) -> None:
        policy = _deny_if({"NumericNotEquals": {"s3:max-keys": ["10", "20"]}})
        assert not is_denied(policy, role(extra={"s3:max-keys": "20"}))
        assert is_denied(policy, role(extra={"s3:max-keys": "30"}))

    def test_json_numbers_are_accepted_and_non_numbers_rejected(self) -> None:
        assert is_denied(_deny_if({"NumericEquals": {"s3:max-keys": 10}}), role(extra={"s3:max-keys": "10"}))
        with pytest.raises(InvalidPolicy):
            evaluate_bucket_policy(_deny_if({"NumericEquals": {"s3:max-keys": "ten"}}), role())
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(_deny_if({"NumericEquals": {"s3:max-keys": "10"}}), role(extra={"s3:max-keys": "x"}))


class TestArnOperators:
    # reference_policies_elements_condition_operators.html#Conditions_ARN: "The ArnEquals and ArnLike
    # condition operators behave identically", case-sensitive, each of the six components separately.

    @pytest.mark.parametrize("operator", ["ArnEquals", "ArnLike"])
    @pytest.mark.parametrize(
        ("pattern", "arn", "expected"),
        [
            (
                "arn:aws:iam::*:role/connect-lockdown-enforcer-*",
                f"arn:aws:iam::{ACCT}:role/connect-lockdown-enforcer-us-east-1",
                True,
            ),
            (
                "arn:aws:iam::*:role/connect-lockdown-enforcer-*",
                f"arn:aws:iam::{ACCT}:role/Connect-Lockdown-Enforcer-x",
                False,
            ),
            ("arn:aws:iam::*:role/connect-lockdown-enforcer-*", f"arn:aws:iam::{ACCT}:role/other", False),
            ("arn:aws:iam::*:role/connect-lockdown-enforcer-*", f"arn:aws:iam::{ACCT}:root", False),
            ("arn:aws:iam::1111????3333:role/x", f"arn:aws:iam::{ACCT}:role/x", True),
            ("arn:aws:iam::1111????3333:role/x", f"arn:aws:iam::{OTHER_ACCT}:role/x", False),
            (f"arn:aws:iam::{ACCT}:root", f"arn:aws:iam::{ACCT}:root", True),
            (f"arn:aws:iam::{ACCT}:root", f"arn:aws-us-gov:iam::{ACCT}:root", False),
        ],
    )
    def test_arn_equals_and_arn_like_are_identical_R7(
        self, operator: str, pattern: str, arn: str, expected: bool
    ) -> None:
        policy = _deny_if({operator: {"aws:SourceArn": pattern}})
        assert is_denied(policy, role(extra={"aws:SourceArn": arn})) is expected
        negated = _deny_if({operator.replace("Arn", "ArnNot"): {"aws:SourceArn": pattern}})
        assert is_denied(negated, role(extra={"aws:SourceArn": arn})) is not expected

    def test_role_path_is_part_of_the_resource_component(self) -> None:
        # A "*" at the end of the sixth component also covers a path segment: a role whose path
        # begins with the enforcer's name prefix matches the guardrail's exemption pattern.
        pattern = "arn:aws:iam::*:role/connect-lockdown-enforcer-*"
        policy = _deny_if({"ArnLike": {"aws:PrincipalArn": pattern}})
        assert is_denied(policy, role(name="Anything", path="/connect-lockdown-enforcer-x/"))

    @pytest.mark.parametrize("operator", ["ArnNotEquals", "ArnNotLike"])
    def test_negated_arn_on_anonymous_is_true(self, operator: str) -> None:
        # aws:PrincipalArn: "Anonymous requests do not include this key" -> negated operator true (R3).
        policy = _deny_if({operator: {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:root"}})
        assert is_denied(policy, Request.anonymous("s3:GetObject", OBJECT))
        assert not is_denied(policy, root())


class TestBool:
    # reference_policies_condition-keys.html#condition-keys-principalisawsservice, and its example
    # bucket policy "ExpectedNetworkServicePrincipal".
    EXPECTED_NETWORK = _policy(
        {
            "Sid": "ExpectedNetworkServicePrincipal",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::amzn-s3-demo-bucket1/AWSLogs/111122223333/*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-111bbb22"},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        }
    )
    LOG = "arn:aws:s3:::amzn-s3-demo-bucket1/AWSLogs/111122223333/CloudTrail/x.json.gz"

    def test_doc_example(self) -> None:
        cloudtrail = Request.for_service("cloudtrail.amazonaws.com", "s3:PutObject", self.LOG)
        assert not is_denied(self.EXPECTED_NETWORK, cloudtrail)
        assert is_denied(self.EXPECTED_NETWORK, role(action="s3:PutObject", resource=self.LOG))
        in_vpc = role(action="s3:PutObject", resource=self.LOG, extra={"aws:SourceVpc": "vpc-111bbb22"})
        assert not is_denied(self.EXPECTED_NETWORK, in_vpc)
        # Anonymous: no aws:PrincipalIsAWSService, no aws:SourceVpc -> both IfExists blocks true.
        assert is_denied(self.EXPECTED_NETWORK, Request.anonymous("s3:PutObject", self.LOG))

    @pytest.mark.parametrize(
        ("operator", "anonymous_denied"), [("Bool", False), ("BoolIfExists", True)], ids=["Bool", "BoolIfExists"]
    )
    def test_bool_vs_bool_if_exists_on_an_absent_key(self, operator: str, anonymous_denied: bool) -> None:
        policy = _deny_if({operator: {"aws:PrincipalIsAWSService": "false"}})
        assert is_denied(policy, Request.anonymous("s3:GetObject", OBJECT)) is anonymous_denied
        assert is_denied(policy, role())
        assert not is_denied(policy, Request.for_service("connect.amazonaws.com", "s3:GetObject", OBJECT))

    # reference_policies_condition-keys.html, aws:PrincipalServiceName: the same example written with
    # "StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-111bbb22", "aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}.
    # The key "is present in the request when the call is made by an AWS service principal" and in no other situation
    # (service roles, service-linked roles, IAM principals, anonymous requesters).
    EXPECTED_SERVICE = _deny_if(
        {
            "StringNotEqualsIfExists": {
                "aws:SourceVpc": "vpc-111bbb22",
                "aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
            }
        }
    )

    def test_principal_service_name_doc_example(self) -> None:
        cloudtrail = Request.for_service("cloudtrail.amazonaws.com", "s3:GetObject", OBJECT)
        other = Request.for_service("config.amazonaws.com", "s3:GetObject", OBJECT)
        assert not is_denied(self.EXPECTED_SERVICE, cloudtrail)
        # Another service is denied, even beside an Allow that names it.
        grant = {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"}, "Action": "s3:*", "Resource": "*"}
        both = {"Version": "2012-10-17", "Statement": [*self.EXPECTED_SERVICE["Statement"], grant]}
        assert evaluate_bucket_policy(both, other) == "explicit_deny"
        assert evaluate_bucket_policy({"Version": "2012-10-17", "Statement": [grant]}, other) == "allow"
        # A service-linked role carries no aws:PrincipalServiceName: it is a role like any other.
        assert is_denied(self.EXPECTED_SERVICE, callers.connect_role("s3:GetObject", OBJECT))
        # Anonymous requests carry neither key: both IfExists tests hold, so the Deny applies, with aws:userid
        # "anonymous" (the principal key values table) and without it.
        for documented in (True, False):
            assert is_denied(self.EXPECTED_SERVICE, callers.anonymous("s3:GetObject", OBJECT, documented=documented))

    def test_json_booleans_and_case(self) -> None:
        for value in (False, "false", "FALSE", ["false"]):
            assert is_denied(_deny_if({"Bool": {"aws:PrincipalIsAWSService": value}}), role()), value


class TestCallerContexts:
    # reference_policies_condition-keys.html ("Properties of the principal") and the "Principal key
    # values" table of reference_policies_variables.html.

    def test_anonymous_as_documented(self) -> None:
        request = Request.anonymous("s3:GetObject", OBJECT)
        assert request.kind == "anonymous"
        # aws:userid: "anonymous"; aws:PrincipalAccount: "For anonymous requests, the request context
        # returns anonymous"; aws:PrincipalType: "Anonymous". No aws:PrincipalArn ("Anonymous requests
        # do not include this key"), no aws:PrincipalIsAWSService (likewise).
        assert request.context() == {
            "aws:userid": ANONYMOUS,
            "aws:principalaccount": ANONYMOUS,
            "aws:principaltype": "Anonymous",
        }

    def test_anonymous_without_userid_variant(self) -> None:
        request = callers.anonymous("s3:GetObject", OBJECT, documented=False)
        assert request.context() == {"aws:principaltype": "Anonymous"}

    def test_service_principal(self) -> None:
        # aws:PrincipalIsAWSService true; aws:PrincipalServiceName "present in the request when the call is
        # made by an AWS service principal". Nothing else is documented for it.
        request = Request.for_service("connect.amazonaws.com", "s3:PutObject", OBJECT)
        assert request.kind == "service"
        assert request.context() == {
            "aws:principalisawsservice": "true",
            "aws:principalservicename": "connect.amazonaws.com",
        }

    def test_service_linked_role_is_a_role_not_a_service_principal(self) -> None:
        # aws:PrincipalIsAWSService "is also set to false if the service uses a service role or
        # service-linked role"; aws:PrincipalServiceName is not present then.
        request = callers.connect_role("s3:PutObject", OBJECT)
        ctx = request.context()
        assert request.is_service_linked_role
        assert ctx["aws:principalisawsservice"] == "false"
        assert "aws:principalservicename" not in ctx
        assert ctx["aws:principalarn"] == (
            f"arn:aws:iam::{callers.ACCOUNT}:role/aws-service-role/connect.amazonaws.com/{callers.CONNECT_SLR_NAME}"
        )
        assert ctx["aws:userid"] == f"{callers.CONNECT_ROLE_ID}:connect-session"

    def test_root(self) -> None:
        ctx = callers.account_root("s3:GetObject", OBJECT).context()
        assert ctx["aws:userid"] == callers.ACCOUNT
        assert ctx["aws:principalarn"] == f"arn:aws:iam::{callers.ACCOUNT}:root"
        assert ctx["aws:principalisawsservice"] == "false"

    def test_redeployed_enforcer_keeps_its_arn_and_changes_its_id(self) -> None:
        before = callers.enforcer("s3:GetBucketPolicy", callers.bucket_arn()).context()
        after = callers.enforcer_redeployed("s3:GetBucketPolicy", callers.bucket_arn()).context()
        assert before["aws:principalarn"] == after["aws:principalarn"] == callers.enforcer_role_arn()
        assert before["aws:userid"] != after["aws:userid"]

    def test_recreated_admin_keeps_its_arn_and_changes_its_id(self) -> None:
        before = callers.admin("s3:GetObject", OBJECT).context()
        after = callers.admin_recreated("s3:GetObject", OBJECT).context()
        assert before["aws:principalarn"] == after["aws:principalarn"]
        assert before["aws:userid"] != after["aws:userid"]

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"principal_arn": ANONYMOUS, "user_id": None, "account_id": None},  # documented userid is "anonymous"
            {"principal_arn": ANONYMOUS, "user_id": ANONYMOUS, "account_id": ACCT},
            {"principal_arn": "connect.amazonaws.com", "user_id": "x", "account_id": None},
            {"principal_arn": "connect.amazonaws.com", "user_id": None, "account_id": ACCT},
            {
                "principal_arn": ANONYMOUS,
                "user_id": ANONYMOUS,
                "account_id": None,
                "absent_keys": frozenset({"aws:principalarn"}),
            },
            {
                "principal_arn": ANONYMOUS,
                "user_id": ANONYMOUS,
                "account_id": None,
                "absent_keys": frozenset({"AWS:USERID"}),
            },
            {
                "principal_arn": "connect.amazonaws.com",
                "user_id": None,
                "account_id": None,
                "extra_context": {"aws:PrincipalIsAWSService": "false"},
            },
        ],
    )
    def test_inconsistent_anonymous_and_service_requests_are_rejected(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            Request(action="s3:GetObject", resource=OBJECT, **kwargs)


class TestPrincipalForNewCallers:
    # reference_policies_elements_principal.html.

    def test_everyone_matches_anonymous_and_service(self) -> None:
        for request in (
            Request.anonymous("s3:GetObject", OBJECT),
            Request.for_service("connect.amazonaws.com", "s3:GetObject", OBJECT),
        ):
            assert is_allowed(_allow("*"), request)

    def test_aws_star_matches_anonymous(self) -> None:
        # "For anonymous users, the following elements are equivalent: "Principal": "*" and "Principal": {"AWS": "*"}".
        assert is_allowed(_allow({"AWS": "*"}), Request.anonymous("s3:GetObject", OBJECT))

    def test_aws_star_for_a_service_principal_is_not_guessed(self) -> None:
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_bucket_policy(
                _allow({"AWS": "*"}), Request.for_service("connect.amazonaws.com", "s3:GetObject", OBJECT)
            )

    def test_service_principal_matches_only_its_service(self) -> None:
        policy = _allow({"Service": "connect.amazonaws.com"})
        assert is_allowed(policy, Request.for_service("connect.amazonaws.com", "s3:PutObject", OBJECT))
        assert not is_allowed(policy, Request.for_service("cloudtrail.amazonaws.com", "s3:PutObject", OBJECT))
        assert not is_allowed(
            policy, callers.connect_role("s3:PutObject", OBJECT)
        )  # the SLR is a role, not the service

    def test_account_principal_matches_neither_anonymous_nor_service(self) -> None:
        for request in (
            Request.anonymous("s3:GetObject", OBJECT),
            Request.for_service("connect.amazonaws.com", "s3:GetObject", OBJECT),
        ):
            assert evaluate_bucket_policy(_allow({"AWS": ACCT}), request) == "implicit_deny"


# ============================================================================================
# Service control policies (R13).
# Organizations: orgs_manage_policies_scps_evaluation.html, orgs_manage_policies_scps.html,
# orgs_manage_policies_scps_syntax.html.
# ============================================================================================

DENY_BUCKET_POLICY_WRITES: Policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyBucketPolicyWrites",
            "Effect": "Deny",
            "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
            "Resource": "arn:aws:s3:::amazon-connect-*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/connect-lockdown-enforcer-*"}},
        }
    ],
}
PUT_POLICY = "arn:aws:s3:::amazon-connect-0123456789ab"


def _put(request_factory: Any, **kwargs: Any) -> Request:
    return request_factory("s3:PutBucketPolicy", PUT_POLICY, **kwargs)


class TestScpEvaluation:
    def test_full_aws_access_alone_allows(self) -> None:
        # "AWS Organizations attaches an AWS managed SCP named FullAWSAccess ... allows all services and actions."
        assert evaluate_scps([[FULL_AWS_ACCESS]], _put(callers.outsider)) == "allow"

    def test_a_deny_at_any_level_wins(self) -> None:
        for position in range(3):
            levels: list[list[Any]] = [[FULL_AWS_ACCESS] for _ in range(3)]
            levels[position].append(DENY_BUCKET_POLICY_WRITES)
            assert evaluate_scps(levels, _put(callers.outsider)) == "explicit_deny", position
            assert evaluate_scps(levels, _put(callers.enforcer)) == "allow", position

    def test_an_allow_is_needed_at_every_level(self) -> None:
        # "there must be an explicit Allow statement at every level from the root through each OU in
        # the direct path to the account (including the target account itself)".
        only_s3_reads = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
        }
        levels = [[FULL_AWS_ACCESS], [only_s3_reads], [FULL_AWS_ACCESS]]
        assert evaluate_scps(levels, _put(callers.outsider)) == "implicit_deny"
        assert evaluate_scps(levels, callers.outsider("s3:GetObject", OBJECT)) == "allow"

    def test_scps_bind_the_member_root_user(self) -> None:
        # "SCPs affect all users and roles in attached accounts, including the root user."
        levels = scp_levels_with_full_access(DENY_BUCKET_POLICY_WRITES)
        assert evaluate_scps(levels, _put(callers.account_root)) == "explicit_deny"

    @pytest.mark.parametrize(
        ("request_", "kwargs", "reason"),
        [
            (_put(callers.outsider), {"management_account": True}, "management account"),
            (_put(callers.outsider), {"in_organization": False}, "part of the organization"),
            (_put(callers.connect_role), {}, "service-linked role"),
            (_put(callers.anonymous), {}, "anonymous"),
            (_put(callers.aws_service), {}, "service principal"),
        ],
        ids=["management-account", "outside-org", "service-linked-role", "anonymous", "service-principal"],
    )
    def test_who_scps_never_bind(self, request_: Request, kwargs: dict[str, Any], reason: str) -> None:
        # "SCPs don't affect users or roles in the management account"; "SCPs do not affect any
        # service-linked role"; "SCPs affect only principals that are managed by accounts that are part
        # of the organization".
        levels = scp_levels_with_full_access(DENY_BUCKET_POLICY_WRITES)
        assert evaluate_scps(levels, request_, **kwargs) == "not_applicable"
        assert reason in (scp_exemption(request_, **{"management_account": False, **kwargs}) or "")

    def test_scps_have_no_principal_element(self) -> None:
        bad = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}],
        }
        with pytest.raises(InvalidPolicy):
            evaluate_scps([[FULL_AWS_ACCESS, bad]], _put(callers.outsider))

    def test_documents_are_validated_even_for_exempt_principals(self) -> None:
        bad = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
                }
            ],
        }
        with pytest.raises(UnsupportedPolicyElement):
            evaluate_scps([[FULL_AWS_ACCESS, bad]], _put(callers.outsider), management_account=True)

    def test_matching_scp_statements_names_the_deny(self) -> None:
        assert matching_scp_statements(DENY_BUCKET_POLICY_WRITES, _put(callers.outsider)) == [
            ("Deny", "DenyBucketPolicyWrites")
        ]
        assert matching_scp_statements(DENY_BUCKET_POLICY_WRITES, _put(callers.enforcer)) == []

    def test_empty_levels_are_rejected(self) -> None:
        with pytest.raises(ValueError):
            evaluate_scps([], _put(callers.outsider))
        with pytest.raises(ValueError):
            evaluate_scps([[FULL_AWS_ACCESS], []], _put(callers.outsider))


class TestEvaluateAccess:
    # reference_policies_evaluation-logic.html and reference_policies_evaluation-logic-cross-account.html (R1, R2).
    ALLOW_ACCOUNT_GET = _policy(
        {"Effect": "Allow", "Principal": {"AWS": OTHER_ACCT}, "Action": "s3:GetObject", "Resource": OBJECT}
    )
    DENY_GET = _policy({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECT})

    def test_same_account_identity_allow_is_enough(self) -> None:
        assert evaluate_access(role(), resource_policy=None, resource_account=ACCT) == "allow"
        assert (
            evaluate_access(role(), resource_policy=None, resource_account=ACCT, identity_allows=False)
            == "implicit_deny"
        )

    def test_same_account_resource_allow_is_enough(self) -> None:
        policy = _allow({"AWS": f"arn:aws:iam::{ACCT}:role/SomeRole"})
        assert evaluate_access(role(), resource_policy=policy, resource_account=ACCT, identity_allows=False) == "allow"

    def test_cross_account_needs_both(self) -> None:
        other = role(account=OTHER_ACCT)
        assert evaluate_access(other, resource_policy=None, resource_account=ACCT) == "implicit_deny"
        assert evaluate_access(other, resource_policy=self.ALLOW_ACCOUNT_GET, resource_account=ACCT) == "allow"
        assert (
            evaluate_access(other, resource_policy=self.ALLOW_ACCOUNT_GET, resource_account=ACCT, identity_allows=False)
            == "implicit_deny"
        )

    def test_explicit_deny_in_the_bucket_policy_beats_the_identity_allow(self) -> None:
        assert evaluate_access(role(), resource_policy=self.DENY_GET, resource_account=ACCT) == "explicit_deny"

    def test_root_needs_no_identity_policy_in_its_own_account(self) -> None:
        assert evaluate_access(root(), resource_policy=None, resource_account=ACCT, identity_allows=False) == "allow"

    def test_anonymous_and_service_need_a_resource_grant(self) -> None:
        for request in (
            Request.anonymous("s3:GetObject", OBJECT),
            Request.for_service("connect.amazonaws.com", "s3:GetObject", OBJECT),
        ):
            assert evaluate_access(request, resource_policy=None, resource_account=ACCT) == "implicit_deny"
            assert evaluate_access(request, resource_policy=_allow("*"), resource_account=ACCT) == "allow"
            with pytest.raises(ValueError):
                evaluate_access(request, resource_policy=None, resource_account=ACCT, identity_allows=True)

    def test_scp_deny_beats_a_bucket_grant_and_scp_gap_is_implicit(self) -> None:
        request = _put(callers.outsider)
        grant = _allow("*")
        levels = scp_levels_with_full_access(DENY_BUCKET_POLICY_WRITES)
        assert (
            evaluate_access(request, resource_policy=grant, resource_account=ACCT, scp_levels=levels) == "explicit_deny"
        )
        gap = [
            [FULL_AWS_ACCESS],
            [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}],
        ]
        assert evaluate_access(request, resource_policy=grant, resource_account=ACCT, scp_levels=gap) == "implicit_deny"
        assert (
            evaluate_access(
                request, resource_policy=grant, resource_account=ACCT, scp_levels=levels, management_account=True
            )
            == "allow"
        )
