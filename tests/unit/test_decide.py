"""The decision for one bucket, pure: no AWS, no moto."""

from __future__ import annotations

from typing import Any

from connect_lockdown import policy as policies
from connect_lockdown.decide import decide
from connect_lockdown.outcomes import Outcome
from devtools.account import ACCOUNT
from tests.support.policies import deny_insecure_transport

BUCKET = "amazon-connect-25fd0a3be3ef"
ENFORCER = "AROAENFORCERROLEID00:*"
CONNECT = "AROACONNECTROLEID000:*"
TLS_ONLY = deny_insecure_transport(BUCKET)


def statement(*patterns: str) -> dict[str, Any]:
    return policies.lockdown_statement(
        BUCKET,
        "aws",
        patterns or (ACCOUNT, ENFORCER, CONNECT),
        enforcer_arn="arn:aws:iam::123456789012:role/connect-lockdown-enforcer-us-east-1",
        exempt_aws_services=True,
    )


def decide_now(current: dict[str, Any] | None, *, dry_run: bool = False, mode: Any = "preserve", **kw: Any) -> Any:
    return decide(
        BUCKET,
        current,
        kw.get("wanted", statement()),
        merge_mode=mode,
        dry_run=dry_run,
        required=frozenset({ACCOUNT, ENFORCER}),
    )


def test_no_policy_is_a_write_of_the_lock_alone() -> None:
    decision = decide_now(None)
    assert decision.outcome is Outcome.REMEDIATED
    assert decision.expected == {"Version": "2012-10-17", "Statement": [statement()]}
    assert "had no policy" in decision.reason


def test_the_expected_policy_is_compliant_and_writes_nothing() -> None:
    current = {"Version": "2012-10-17", "Statement": [TLS_ONLY, statement()]}
    decision = decide_now(current)
    assert decision.outcome is Outcome.COMPLIANT and decision.expected is None


def test_drift_keeps_foreign_statements_in_preserve_mode_and_drops_them_in_replace_mode() -> None:
    current = {"Version": "2012-10-17", "Statement": [TLS_ONLY, statement(ACCOUNT, ENFORCER)]}
    kept = decide_now(current)
    replaced = decide_now(current, mode="replace")
    assert kept.outcome is Outcome.REMEDIATED and kept.expected["Statement"] == [TLS_ONLY, statement()]
    assert replaced.expected["Statement"] == [statement()]


def test_dry_run_says_what_would_be_written() -> None:
    decision = decide_now(None, dry_run=True)
    assert decision.outcome is Outcome.WOULD_REMEDIATE and decision.expected is not None


def test_a_lock_that_would_lack_the_enforcer_or_the_account_is_refused() -> None:
    decision = decide_now(None, wanted=statement(ACCOUNT, CONNECT))
    assert decision.outcome is Outcome.REFUSED and ENFORCER in decision.reason
    assert decision.expected is None


def test_a_policy_over_the_size_limit_is_refused() -> None:
    padding = dict(TLS_ONLY, Sid="x" * policies.MAX_POLICY_BYTES)
    decision = decide_now({"Version": "2012-10-17", "Statement": [padding]})
    assert decision.outcome is Outcome.REFUSED and str(policies.MAX_POLICY_BYTES) in decision.reason


def test_a_lock_of_the_older_form_is_drift() -> None:
    """A lock that let every AWS service through (BoolIfExists aws:PrincipalIsAWSService) is rewritten."""
    older = statement()
    older["Condition"].pop("StringNotEqualsIfExists")
    older["Condition"]["BoolIfExists"] = {"aws:PrincipalIsAWSService": "false"}
    decision = decide_now({"Version": "2012-10-17", "Statement": [TLS_ONLY, older]})
    assert decision.outcome is Outcome.REMEDIATED
    assert decision.expected["Statement"] == [TLS_ONLY, statement()]


def test_a_repeated_key_is_drift_even_when_the_last_copies_match() -> None:
    text = policies.serialise({"Version": "2012-10-17", "Statement": [statement()]})
    repeated = text.replace('"Effect":"Deny"', '"Effect":"Allow","Effect":"Deny"')
    decision = decide_now(policies.parse_policy(repeated))
    assert decision.outcome is Outcome.REMEDIATED and "Statement[0].Effect" in decision.reason
    assert decide_now(policies.parse_policy(text)).outcome is Outcome.COMPLIANT
