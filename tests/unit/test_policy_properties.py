"""Properties of merge and comparison over generated bucket policies."""

import copy
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from connect_lockdown import policy as policies

BUCKET = "amazon-connect-25fd0a3be3ef"
ARN = f"arn:aws:s3:::{BUCKET}"

ids = st.from_regex(r"AROA[A-Z0-9]{8}:\*|AIDA[A-Z0-9]{8}|[0-9]{12}", fullmatch=True)
actions = st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:*", "s3:ListBucket", "s3:DeleteObject"])
one_or_many = lambda values: st.one_of(values, st.lists(values, min_size=1, max_size=3))  # noqa: E731


@st.composite
def foreign_statements(draw):
    statement = {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Principal": draw(
            st.sampled_from(["*", {"AWS": "arn:aws:iam::123456789012:role/r"}, {"Service": "logging.s3.amazonaws.com"}])
        ),
        draw(st.sampled_from(["Action", "NotAction"])): draw(one_or_many(actions)),
        "Resource": draw(one_or_many(st.sampled_from([ARN, f"{ARN}/*", f"{ARN}/prefix/*"]))),
    }
    if draw(st.booleans()):
        statement["Sid"] = draw(
            st.from_regex(r"[A-Za-z0-9]{1,12}", fullmatch=True).filter(lambda s: s != policies.LOCKDOWN_SID)
        )
    if draw(st.booleans()):
        statement["Condition"] = {"Bool": {"aws:SecureTransport": draw(st.sampled_from(["false", ["false"]]))}}
    return statement


@st.composite
def current_policies(draw):
    foreign = draw(st.lists(foreign_statements(), max_size=5))
    ours = [
        policies.lockdown_statement(BUCKET, "aws", draw(st.sets(ids, min_size=1, max_size=4)))
        for _ in range(draw(st.integers(0, 3)))
    ]
    statements = draw(st.permutations(foreign + ours))
    return {"Version": "2012-10-17", "Statement": statements}


@st.composite
def reshaped(draw, policy):
    """The same policy in another representation: shuffled statements and lists, string vs one-item list."""
    shaped = copy.deepcopy(policy)
    shaped["Statement"] = draw(st.permutations(shaped["Statement"]))
    for statement in shaped["Statement"]:
        for key in ("Action", "NotAction", "Resource"):
            value = statement.get(key)
            if isinstance(value, list):
                value = draw(st.permutations(value))
                statement[key] = value[0] if len(value) == 1 and draw(st.booleans()) else value
            elif isinstance(value, str) and draw(st.booleans()):
                statement[key] = [value]
    return json.loads(json.dumps(shaped, indent=draw(st.sampled_from([None, 2]))))


@settings(max_examples=300, deadline=None)
@given(current_policies(), st.sets(ids, min_size=1, max_size=4))
def test_preserve_never_drops_or_changes_a_foreign_statement(current, patterns):
    statement = policies.lockdown_statement(BUCKET, "aws", patterns)
    merged = policies.merge(copy.deepcopy(current), statement, "preserve")
    assert policies.foreign_statements(merged) == policies.foreign_statements(current)
    assert [s for s in merged["Statement"] if policies.is_lockdown_statement(s)] == [statement]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_comparison_ignores_order_and_representation(data):
    policy = data.draw(current_policies())
    assert policies.equivalent(policy, data.draw(reshaped(policy)))


@settings(max_examples=300, deadline=None)
@given(current_policies(), st.sets(ids, min_size=1, max_size=4), st.sampled_from(["preserve", "replace"]))
def test_merge_is_idempotent(current, patterns, mode):
    statement = policies.lockdown_statement(BUCKET, "aws", patterns)
    once = policies.merge(current, statement, mode)
    assert policies.merge(once, statement, mode) == once
    assert policies.equivalent(policies.merge(once, statement, mode), once)
