"""Hypothesis strategies for bucket policies as they are found in the wild, and for who asks the bucket.

`foreign_statements()` are statements other people wrote: Allow and Deny, `Principal` and `NotPrincipal`,
`Action` and `NotAction`, `Resource` and `NotResource`, conditions, strings or lists, with or without a `Sid`.
`evaluable=True` keeps to what tests/support/policy_eval.py can decide; `evaluable=False` adds what only has
to survive a merge untouched: operators the evaluator does not model, policy variables, odd Unicode, numbers,
nested values, unknown principal kinds.

`DRIFTS` change the meaning of our lockdown statement, one way each; `reshape()` changes only its form.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import string
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from connect_lockdown import policy as policies
from devtools.account import ACCOUNT, OTHER_ACCOUNT

BUCKET = "amazon-connect-25fd0a3be3ef"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")

_ID_CHARS = string.ascii_uppercase + string.digits
S3_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:GetObjectVersion",
    "s3:PutObjectAcl",
)
ACTION_PATTERNS = (*S3_ACTIONS, "s3:*", "s3:Get*", "s3:*Object", "S3:getobject", "s3:List*", "*")


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        digits.append(_ID_CHARS[digit])
    return "".join(reversed(digits))


# One draw per ID (an integer), not one per character: the properties run thousands of examples.
@functools.cache
def role_ids() -> st.SearchStrategy[str]:
    return st.integers(0, 36**17 - 1).map(lambda n: "AROA" + _base36(n, 17))


@functools.cache
def user_ids() -> st.SearchStrategy[str]:
    return st.integers(0, 36**17 - 1).map(lambda n: "AIDA" + _base36(n, 17))


@functools.cache
def session_names() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["s", "connect-lockdown-fn", "jane.doe@example.com", "botocore-session-1741701727"]),
        st.text(string.ascii_letters + string.digits + "+=,.@_-", min_size=2, max_size=64),
    )


@functools.cache
def bucket_names() -> st.SearchStrategy[str]:
    """Valid general purpose bucket names, dots included."""
    middle = st.text(string.ascii_lowercase + string.digits + "-.", min_size=1, max_size=61)
    edge = st.sampled_from(string.ascii_lowercase + string.digits)
    return st.builds(lambda a, m, b: a + m + b, edge, middle, edge).filter(lambda n: ".." not in n)


def _principal_pattern(number: int) -> str:
    unique_id = _base36(number // 2, 17)
    return f"AROA{unique_id}:*" if number % 2 == 0 else f"AIDA{unique_id}"


@functools.cache
def allowed_patterns() -> st.SearchStrategy[set[str]]:
    """The allowlist of a lockdown statement: roles (ID:*), users (bare ID), and the account."""
    numbers = st.lists(st.integers(0, 2 * 36**17 - 1), min_size=1, max_size=5)
    return numbers.map(lambda ns: {_principal_pattern(n) for n in ns} | {ACCOUNT})


def _resource_choices(bucket: str, partition: str) -> list[str]:
    arn = f"arn:{partition}:s3:::{bucket}"
    return [arn, f"{arn}/*", f"{arn}/recordings/*", f"arn:{partition}:s3:::other-bucket/*", "*"]


def _principal_choices(partition: str) -> list[str]:
    return [
        ACCOUNT,
        f"arn:{partition}:iam::{ACCOUNT}:root",
        f"arn:{partition}:iam::{ACCOUNT}:role/replication",
        f"arn:{partition}:iam::{ACCOUNT}:user/auditor",
        f"arn:{partition}:iam::{OTHER_ACCOUNT}:root",
        f"arn:{partition}:sts::{ACCOUNT}:assumed-role/analytics/job",
    ]


def _condition_choices(partition: str) -> list[dict[str, Any]]:
    return [
        {"Bool": {"aws:SecureTransport": "false"}},
        {"Bool": {"aws:SecureTransport": ["false"]}},
        {"Bool": {"aws:SecureTransport": False}},
        {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
        {"StringNotEquals": {"aws:PrincipalAccount": [ACCOUNT, OTHER_ACCOUNT]}},
        {"StringLike": {"aws:userId": ["AROA*", f"{ACCOUNT}"]}},
        {"ArnNotLike": {"aws:PrincipalArn": f"arn:{partition}:iam::{ACCOUNT}:role/*"}},
        {"Null": {"aws:username": "true"}},
        {"StringNotEqualsIgnoreCase": {"aws:username": "Auditor"}},
        {"StringEqualsIfExists": {"aws:PrincipalType": "User"}},
    ]


# Conditions, principals and Sids only a merge has to carry through unchanged (the evaluator does not model them).
_WIDE_CONDITIONS = [
    {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}},
    {"NumericLessThan": {"s3:max-keys": "10"}},
    {"DateGreaterThan": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["team-*"]}},
    {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
    {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
    {"NumericGreaterThan": {"s3:object-lock-remaining-retention-days": 1.5e3}},
]
_ODD_PRINCIPALS = [
    {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
    {"Federated": "cognito-identity.amazonaws.com"},
    {"AWS": "AROAEXAMPLEUNIQUEID1"},
]
# Near misses of our Sid are someone else's: only the exact Sid is ours.
_NEAR_MISS_SIDS = [
    "connectbucketlockdown",
    "ConnectBucketLockdown2",
    " ConnectBucketLockdown",
    "ConnectBucketLockdown\n",
]
POOL_SIZE = 1500


def _one_or_many(rnd: random.Random, choices: list[Any]) -> Any:
    if rnd.randrange(2):
        return rnd.choice(choices)
    return [rnd.choice(choices) for _ in range(rnd.randint(1, 4))]  # duplicates allowed, as in the wild


def random_statement(rnd: random.Random, bucket: str, partition: str, evaluable: bool) -> dict[str, Any]:
    """Someone's statement, from plain randomness (the adversary of the concurrency test uses it too)."""
    statement: dict[str, Any] = {}
    if rnd.randrange(2):
        if rnd.randrange(5) == 0:
            statement["Sid"] = rnd.choice(_NEAR_MISS_SIDS)
        else:
            statement["Sid"] = "".join(rnd.choices(string.ascii_letters + string.digits, k=rnd.randint(1, 12)))
    effect = rnd.choice(["Allow", "Deny"])
    statement["Effect"] = effect
    principals = _principal_choices(partition)
    if effect == "Deny" and rnd.randrange(5) == 0:
        statement["NotPrincipal"] = {"AWS": _one_or_many(rnd, principals)}
    else:
        statement["Principal"] = rnd.choice(
            ["*", {"AWS": "*"}, {"AWS": _one_or_many(rnd, principals)}, {"Service": "logging.s3.amazonaws.com"}]
        )
    statement[rnd.choice(["Action", "Action", "NotAction"])] = _one_or_many(rnd, list(ACTION_PATTERNS))
    statement[rnd.choice(["Resource", "Resource", "Resource", "NotResource"])] = _one_or_many(
        rnd, _resource_choices(bucket, partition)
    )
    if rnd.randrange(2):
        conditions = _condition_choices(partition) + ([] if evaluable else _WIDE_CONDITIONS)
        statement["Condition"] = copy.deepcopy(rnd.choice(conditions))
    if not evaluable and rnd.randrange(6) == 0:
        statement.pop("NotPrincipal", None)
        statement["Principal"] = rnd.choice(_ODD_PRINCIPALS)
    return statement


@functools.cache
def _statement_pool(bucket: str, partition: str, evaluable: bool) -> st.SearchStrategy[dict[str, Any]]:
    """POOL_SIZE statements, simplest first (hypothesis shrinks towards the start): one draw per statement.

    Drawing each element of a statement separately costs hypothesis some forty draws per statement; the
    properties run thousands of examples of several statements each, so the shapes come from this pool and
    only the free text (below) is drawn element by element.
    """
    rnd = random.Random(f"{bucket}|{partition}|{evaluable}")
    pool = [random_statement(rnd, bucket, partition, evaluable) for _ in range(POOL_SIZE)]
    pool.sort(key=lambda statement: len(json.dumps(statement)))
    return st.sampled_from(pool)


# Text from all over Unicode, except lone surrogates (`surrogates=True` adds them: JSON can carry them).
@functools.cache
def unicode_text(*, surrogates: bool = False, max_size: int = 16) -> st.SearchStrategy[str]:
    categories: Any = ("Cs",) if not surrogates else ()
    return st.text(st.characters(exclude_categories=categories), max_size=max_size)


@functools.cache
def json_values(*, surrogates: bool = False) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        unicode_text(surrogates=surrogates),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(unicode_text(surrogates=surrogates), inner, max_size=3)
        ),
        max_leaves=4,
    )


@functools.cache
def _free_text(surrogates: bool) -> st.SearchStrategy[Any]:
    """Unicode where people put it: a Sid, a condition on a key nobody else uses, a value of any JSON type."""
    text = unicode_text(surrogates=surrogates)
    return st.one_of(
        text.map(lambda t: ("Sid", t)),
        st.tuples(text, text, json_values(surrogates=surrogates)).map(
            lambda kv: ("Condition", {"StringEquals": {f"aws:PrincipalTag/{kv[0]}": kv[1]}, "Null": {kv[0]: kv[2]}})
        ),
    )


_ONE_IN_THREE = st.integers(0, 2)


@st.composite
def foreign_statements(
    draw: st.DrawFn,
    *,
    bucket: str = BUCKET,
    partition: str = "aws",
    evaluable: bool = True,
    surrogates: bool = False,
) -> dict[str, Any]:
    """A statement someone else wrote into the bucket policy."""
    statement = copy.deepcopy(draw(_statement_pool(bucket, partition, evaluable)))
    if not evaluable and draw(_ONE_IN_THREE) == 0:
        element, value = draw(_free_text(surrogates))
        if element == "Sid" and value == policies.LOCKDOWN_SID:
            value += "?"
        statement[element] = value
    return statement


def _drift_effect(s: dict[str, Any]) -> None:
    s["Effect"] = "Allow"


def _drift_drop_pattern(s: dict[str, Any]) -> None:
    values = s["Condition"]["StringNotLike"]["aws:userId"]
    s["Condition"]["StringNotLike"]["aws:userId"] = values[1:] or ["AROANOBODY0000000:*"]


def _drift_add_intruder(s: dict[str, Any]) -> None:
    s["Condition"]["StringNotLike"]["aws:userId"].append("AROAINTRUDER00000:*")


def _drift_wildcard(s: dict[str, Any]) -> None:
    s["Condition"]["StringNotLike"]["aws:userId"].append("*")


def _drift_operator(operator: str) -> Callable[[dict[str, Any]], None]:
    def drift(s: dict[str, Any]) -> None:
        s["Condition"] = {operator: s["Condition"]["StringNotLike"]}

    drift.__name__ = f"_drift_operator_{operator}"
    return drift


def _drift_key(s: dict[str, Any]) -> None:
    s["Condition"]["StringNotLike"] = {"aws:PrincipalArn": s["Condition"]["StringNotLike"]["aws:userId"]}


def _drift_no_condition(s: dict[str, Any]) -> None:
    s.pop("Condition")


def _drift_resource_bucket_only(s: dict[str, Any]) -> None:
    s["Resource"] = s["Resource"][0]


def _drift_resource_other_bucket(s: dict[str, Any]) -> None:
    s["Resource"] = [r.replace(":::", ":::other-") for r in s["Resource"]]


def _drift_action(s: dict[str, Any]) -> None:
    s["Action"] = "s3:GetObject"


def _drift_not_action(s: dict[str, Any]) -> None:
    s["NotAction"] = s.pop("Action")


def _drift_principal(s: dict[str, Any]) -> None:
    s["Principal"] = {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}


def _drift_not_principal(s: dict[str, Any]) -> None:
    s.pop("Principal")
    s["NotPrincipal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/replication"}


def _drift_extra_condition(s: dict[str, Any]) -> None:
    s["Condition"]["Bool"] = {"aws:SecureTransport": "false"}


def _drift_case_variant_key(s: dict[str, Any]) -> None:
    # IAM matches condition key names case-insensitively, and ANDs two keys of one operator: with
    # StringNotLike, a second spelling of aws:userId admits whoever either list admits.
    s["Condition"]["StringNotLike"]["AWS:USERID"] = ["AROAINTRUDER00000:*"]


def _drift_case_variant_key_first(s: dict[str, Any]) -> None:
    block = s["Condition"]["StringNotLike"]
    s["Condition"]["StringNotLike"] = {"AWS:UserId": ["AROAINTRUDER00000:*"], **block}


def _drift_padded_pattern(s: dict[str, Any]) -> None:
    values = s["Condition"]["StringNotLike"]["aws:userId"]
    s["Condition"]["StringNotLike"]["aws:userId"] = [f"{values[0]} ", *values[1:]]


def _drift_padded_resource(s: dict[str, Any]) -> None:
    s["Resource"] = [f" {r}" for r in s["Resource"]]


def _drift_pattern_case(s: dict[str, Any]) -> None:
    values = s["Condition"]["StringNotLike"]["aws:userId"]
    s["Condition"]["StringNotLike"]["aws:userId"] = [v.lower() for v in values]


def _drift_padded_effect(s: dict[str, Any]) -> None:
    s["Effect"] = "Deny "


# Each changes what the statement does (or makes it invalid); never only its form.
DRIFTS: tuple[Callable[[dict[str, Any]], None], ...] = (
    _drift_effect,
    _drift_drop_pattern,
    _drift_add_intruder,
    _drift_wildcard,
    _drift_operator("StringNotEquals"),
    _drift_operator("StringLike"),
    _drift_operator("StringNotLikeIfExists"),
    _drift_key,
    _drift_no_condition,
    _drift_resource_bucket_only,
    _drift_resource_other_bucket,
    _drift_action,
    _drift_not_action,
    _drift_principal,
    _drift_not_principal,
    _drift_extra_condition,
    _drift_case_variant_key,
    _drift_case_variant_key_first,
    _drift_padded_pattern,
    _drift_padded_resource,
    _drift_pattern_case,
    _drift_padded_effect,
)


_DRIFT_LISTS = st.lists(st.sampled_from(DRIFTS), min_size=1, max_size=3, unique=True)


@st.composite
def drifted_lockdown(draw: st.DrawFn, statement: dict[str, Any]) -> dict[str, Any]:
    """Our statement with one to three drifts applied."""
    drifted = copy.deepcopy(statement)
    for drift in draw(_DRIFT_LISTS):
        try:
            drift(drifted)
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # an earlier drift removed what this one changes
    return drifted


_SEEDS = st.integers(0, 2**32 - 1)


def _random(draw: st.DrawFn) -> random.Random:
    """Randomness for the choices that need no shrinking (orders, spellings): one draw instead of dozens."""
    return random.Random(draw(_SEEDS))


_OURS_COUNT = st.integers(0, 3)


@functools.cache
def _policy_parts(bucket: str, partition: str, evaluable: bool, surrogates: bool) -> dict[str, Any]:
    return {
        "foreign": st.lists(
            foreign_statements(bucket=bucket, partition=partition, evaluable=evaluable, surrogates=surrogates),
            max_size=5,
        ),
        "patterns": allowed_patterns(),
    }


@st.composite
def current_policies(
    draw: st.DrawFn,
    *,
    bucket: str = BUCKET,
    partition: str = "aws",
    evaluable: bool = True,
    surrogates: bool = False,
) -> dict[str, Any]:
    """A bucket policy as someone may have left it: foreign statements, our statement (exact, drifted,
    duplicated or absent), in any order, sometimes with Id, an old Version or a single Statement object."""
    parts = _policy_parts(bucket, partition, evaluable, surrogates)
    rnd = _random(draw)
    foreign = draw(parts["foreign"])
    if foreign and rnd.randrange(6) == 0:
        foreign.append(copy.deepcopy(foreign[0]))  # someone's statement, twice
    ours = []
    for _ in range(draw(_OURS_COUNT)):
        exact = policies.lockdown_statement(bucket, partition, draw(parts["patterns"]))
        ours.append(exact if draw(st.booleans()) else draw(drifted_lockdown(exact)))
    statements = foreign + ours
    rnd.shuffle(statements)
    document: dict[str, Any] = {}
    version = rnd.choice(["2012-10-17", "2012-10-17", "2008-10-17", None])
    if version is not None:
        document["Version"] = version
    if rnd.randrange(4) == 0:
        document["Id"] = rnd.choice(["Policy1", "connect-bucket"])
    if len(statements) == 1 and rnd.randrange(2):
        document["Statement"] = statements[0]
    else:
        document["Statement"] = statements
    return document


def _reshape_value(rnd: random.Random, value: Any, *, case_insensitive: bool) -> Any:
    """The same value in another form: list order, duplicates, string versus one-item list, case."""
    if isinstance(value, str):
        if case_insensitive and value.isascii():
            value = rnd.choice([value, value.lower(), value.upper()])
        return [value] if rnd.randrange(2) else value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        items = list(value)
        rnd.shuffle(items)
        if case_insensitive:
            items = [rnd.choice([v, v.lower(), v.upper()]) if v.isascii() else v for v in items]
        if rnd.randrange(4) == 0:
            items.append(items[0])
        if len(set(items)) == 1 and rnd.randrange(2):
            return items[0]
        return items
    return value


def _reshape_block(rnd: random.Random, block: dict[str, Any], *, values: bool) -> dict[str, Any]:
    """Condition key names in another case (IAM ignores it), values in another form."""
    lowered = [key.lower() for key in block]
    recase = len(set(lowered)) == len(lowered) and all(key.isascii() for key in block)
    return {
        (rnd.choice([key, key.lower(), key.upper()]) if recase else key): (
            _reshape_value(rnd, value, case_insensitive=False) if values else value
        )
        for key, value in block.items()
    }


@st.composite
def reshape(draw: st.DrawFn, policy: dict[str, Any]) -> dict[str, Any]:
    """The same policy in another form: statement order, list order and duplicates, a string versus a
    one-item list, a single Statement object, key order, JSON whitespace, the case of action names and of
    condition key names, "*" versus {"AWS": "*"}."""
    rnd = _random(draw)
    shaped = copy.deepcopy(policy)
    statements = policies.statements_of(shaped)
    rnd.shuffle(statements)
    for statement in statements:
        for key in ("Action", "NotAction"):
            if key in statement:
                statement[key] = _reshape_value(rnd, statement[key], case_insensitive=True)
        for key in ("Resource", "NotResource"):
            if key in statement:
                statement[key] = _reshape_value(rnd, statement[key], case_insensitive=False)
        if statement.get("Principal") == "*" and rnd.randrange(2):
            statement["Principal"] = {"AWS": rnd.choice(["*", ["*"]])}
        for key in ("Principal", "NotPrincipal"):
            if isinstance(statement.get(key), dict):
                statement[key] = {k: _reshape_value(rnd, v, case_insensitive=False) for k, v in statement[key].items()}
        condition = statement.get("Condition")
        if isinstance(condition, dict):
            for operator, block in list(condition.items()):
                if isinstance(block, dict):
                    # The evaluator decides one Null value per key only: leave those values as they are.
                    condition[operator] = _reshape_block(rnd, block, values=operator != "Null")
        items = list(statement.items())
        rnd.shuffle(items)
        statement.clear()
        statement.update(items)
    if len(statements) == 1 and rnd.randrange(2):
        shaped["Statement"] = statements[0]
    else:
        shaped["Statement"] = statements
    text = json.dumps(shaped, indent=rnd.choice([None, 1, 4]), ensure_ascii=bool(rnd.randrange(2)))
    reshaped: dict[str, Any] = json.loads(text)
    return reshaped
