"""Tests for the independent bucket-policy evaluator in ``tests/support/policy_eval.py``.

Every policy here is hand-written, mostly copied or adapted from AWS documentation examples; the
source is cited above each one. Doc pages are in the IAM User Guide
(https://docs.aws.amazon.com/IAM/latest/UserGuide/<page>) unless a full URL is given.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tests.support.policy_eval import (
    InvalidPolicy,
    Request,
    UnsupportedPolicyElement,
    evaluate_bucket_policy,
    is_allowed,
    is_denied,
    matching_statements,
)

ACCT = "111122223333"
OTHER_ACCT = "444455556666"
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
) -> Request:
    return Request.for_role(account, name, role_id, action, resource, session, path=path)


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
