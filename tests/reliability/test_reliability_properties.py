"""Properties of the lockdown over generated bucket policies and estates.

Each property runs PROPERTY_EXAMPLES examples (1,000 in `make test`, 20,000 in `make soak`). What a policy
*does* is decided by tests/support/policy_eval.py, written from the IAM documentation and independent of the
builder under test.
"""

from __future__ import annotations

import copy
import json
import random
import string
from dataclasses import dataclass, field
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from connect_lockdown import policy as policies
from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.outcomes import RunReport
from connect_lockdown.reconcile import Enforcer
from devtools.account import ACCOUNT, OTHER_ACCOUNT
from devtools.events import load_event
from devtools.world import World
from tests.support import policy_strategies as ps
from tests.support.fake_aws import ENFORCER_ROLE, FakeAws
from tests.support.policies import public_read_policy
from tests.support.policy_eval import Request, evaluate_bucket_policy, matching_statements
from tests.support.reliability import MOTO_EXAMPLES, figure, property_settings
from tests.support.reliability import PROPERTY_COUNTS as COUNTS

BUCKET = ps.BUCKET
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:connect-lockdown"
OURS = ("Deny", policies.LOCKDOWN_SID)
# Examples each property completed in this run, and what they did: reported by the last test of the file.


# --- merge ------------------------------------------------------------------------------------------


@property_settings()
@given(
    st.sampled_from(ps.PARTITIONS).flatmap(
        lambda partition: st.tuples(
            st.just(partition),
            ps.current_policies(partition=partition, evaluable=False, surrogates=True),
            ps.allowed_patterns(),
            st.sampled_from(["preserve", "replace"]),
        )
    )
)
def test_merging_never_drops_or_changes_a_foreign_statement(case: tuple[str, dict[str, Any], set[str], str]) -> None:
    """Foreign statements come through byte for byte, in order, duplicates included; the text written is UTF-8
    JSON that reads back as the merged policy, and its measured size is its size, whatever the Unicode (lone
    surrogates arrive as JSON escapes such as \\ud800 in a policy read from S3)."""
    partition, current, patterns, mode = case
    original = copy.deepcopy(current)
    statement = policies.lockdown_statement(BUCKET, partition, patterns)

    merged = policies.merge(current, statement, "replace" if mode == "replace" else "preserve")

    assert current == original, "merge must not mutate the policy it was given"
    assert [s for s in merged["Statement"] if policies.is_lockdown_statement(s)] == [statement]
    if mode == "replace":
        assert merged == {"Version": policies.POLICY_VERSION, "Statement": [statement]}
    else:
        assert policies.foreign_statements(merged) == policies.foreign_statements(original)
        assert merged.get("Id") == original.get("Id")
        assert merged["Version"] == original.get("Version", policies.POLICY_VERSION)
    encoded = policies.serialise(merged).encode("utf-8")
    assert policies.policy_size(merged) == len(encoded)
    assert policies.parse_policy(encoded.decode("utf-8")) == json.loads(json.dumps(merged))
    COUNTS["merge"] += 1


# --- comparison -------------------------------------------------------------------------------------


@property_settings()
@given(st.data())
def test_comparison_ignores_order_and_representation(data: st.DataObject) -> None:
    policy = data.draw(ps.current_policies(evaluable=False))
    assert policies.equivalent(policy, data.draw(ps.reshape(policy)))
    COUNTS["representation"] += 1


def _expected(current: dict[str, Any] | None, patterns: set[str], partition: str = "aws") -> dict[str, Any]:
    return policies.merge(current, policies.lockdown_statement(BUCKET, partition, patterns), "preserve")


def _with_our_statement(policy: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(policy)
    changed["Statement"] = [
        statement if policies.is_lockdown_statement(s) else s for s in policies.statements_of(changed)
    ]
    return changed


def _probe_requests(patterns_of: dict[str, str], partition: str, bucket: str = BUCKET) -> list[Request]:
    """Who may ask: every allowed principal, near misses of them, outsiders, on bucket and object actions."""
    requests: list[Request] = []
    resources = [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/calls/2025/a:b.wav"]
    for index, (kind, unique_id) in enumerate(patterns_of.items()):
        action = ps.S3_ACTIONS[index % len(ps.S3_ACTIONS)]
        resource = resources[index % 2]
        if kind.startswith("role:"):
            requests.append(Request.for_role(ACCOUNT, kind[5:], unique_id, action, resource, partition=partition))
            requests.append(Request.for_role(ACCOUNT, "near", unique_id + "X", action, resource, partition=partition))
            requests.append(Request.for_user(ACCOUNT, "as-user", unique_id, action, resource, partition=partition))
        elif kind.startswith("user:"):
            requests.append(Request.for_user(ACCOUNT, kind[5:], unique_id, action, resource, partition=partition))
            requests.append(Request.for_user(ACCOUNT, "near", unique_id[:-1], action, resource, partition=partition))
    for action in ("s3:GetObject", "s3:PutBucketPolicy", "s3:ListBucket"):
        resource = resources[1] if action == "s3:GetObject" else resources[0]
        requests.append(Request.for_root(ACCOUNT, action, resource, partition=partition))
        requests.append(Request.for_root(OTHER_ACCOUNT, action, resource, partition=partition))
        requests.append(
            Request.for_role(ACCOUNT, "outsider", "AROAOUTSIDER0000001", action, resource, partition=partition)
        )
        requests.append(
            Request.for_role(ACCOUNT, "intruder", "AROAINTRUDER00000", action, resource, "x", partition=partition)
        )
    return requests


def _principals(patterns: set[str]) -> dict[str, str]:
    """kind:name -> unique ID for the allowlist's roles and users."""
    found: dict[str, str] = {}
    for n, pattern in enumerate(sorted(patterns)):
        if pattern.endswith(":*"):
            found[f"role:role-{n}"] = pattern[:-2]
        elif pattern.startswith("AIDA"):
            found[f"user:user-{n}"] = pattern
    return found


@property_settings()
@given(st.data())
def test_comparison_sees_every_drift_and_only_drift(data: st.DataObject) -> None:
    """Our statement drifted in any way is never taken for compliant; when the comparison does call a policy
    compliant, the policy decides every request as the expected one does: allowed principals, their near
    misses and outsiders, decided by the independent evaluator."""
    partition = data.draw(st.sampled_from(ps.PARTITIONS))
    patterns = data.draw(ps.allowed_patterns())
    expected = _expected(data.draw(ps.current_policies(partition=partition)), patterns, partition)
    ours = next(s for s in expected["Statement"] if policies.is_lockdown_statement(s))
    drifted = data.draw(st.booleans())
    candidate_ours = data.draw(ps.drifted_lockdown(ours)) if drifted else ours
    candidate = data.draw(ps.reshape(_with_our_statement(expected, candidate_ours)))

    assert policies.equivalent(expected, candidate) is not drifted
    COUNTS["drift_or_not"] += 1
    if drifted:
        COUNTS["drifts_detected"] += 1
        return
    for request in _probe_requests(_principals(patterns), partition):
        assert evaluate_bucket_policy(candidate, request) == evaluate_bucket_policy(expected, request), request


# --- the lock's effect --------------------------------------------------------------------------------


_OBJECT_KEYS = st.text(st.characters(exclude_characters="*?", exclude_categories=["Cs"]), max_size=30)
_KINDS = st.sampled_from(["role", "user", "root"])
_ACCOUNTS = st.sampled_from([ACCOUNT, OTHER_ACCOUNT])
_ACTIONS = st.sampled_from(ps.S3_ACTIONS)
_INDEX = st.integers(0, 2**16)
_BUCKETS = st.one_of(st.just(BUCKET), ps.bucket_names())
_PARTITIONS = st.sampled_from(ps.PARTITIONS)
_CURRENT = {partition: st.one_of(st.none(), ps.current_policies(partition=partition)) for partition in ps.PARTITIONS}
_IDS = st.one_of(ps.role_ids(), ps.user_ids())


def _near_misses(unique_id: str) -> list[str]:
    """IDs a careless matcher would take for this one."""
    return [unique_id + "X", unique_id[:-1], unique_id.lower(), "AROA" + unique_id[4:] + "0", "AIDA" + unique_id[4:]]


@st.composite
def requests_from_outsiders(draw: st.DrawFn, patterns: set[str], partition: str, bucket: str) -> Request:
    """Anyone not on the allowlist: random roles and users, near misses of allowed IDs, other accounts."""
    allowed_ids = sorted(p.removesuffix(":*") for p in patterns if p != ACCOUNT)
    unique_id = draw(_IDS)
    if draw(st.booleans()):
        near = _near_misses(allowed_ids[draw(_INDEX) % len(allowed_ids)])
        unique_id = near[draw(_INDEX) % len(near)]
    assume(unique_id not in allowed_ids)
    action = draw(_ACTIONS)
    resource = f"arn:{partition}:s3:::{bucket}" + ("", "/", "/" + draw(_OBJECT_KEYS))[draw(_INDEX) % 3]
    kind = draw(_KINDS)
    account = draw(_ACCOUNTS)
    if kind == "root":
        assume(account not in patterns)
        return Request.for_root(account, action, resource, partition=partition)
    if kind == "user":
        return Request.for_user(account, "someone", unique_id, action, resource, partition=partition)
    session = draw(ps.session_names())
    return Request.for_role(account, "someone", unique_id, action, resource, session, partition=partition)


@property_settings()
@given(st.data())
def test_the_written_policy_denies_outsiders_and_admits_every_allowed_principal(data: st.DataObject) -> None:
    partition = data.draw(_PARTITIONS)
    bucket = data.draw(_BUCKETS)
    patterns = data.draw(ps.allowed_patterns())
    current = data.draw(_CURRENT[partition])
    if current is not None:
        current = json.loads(json.dumps(current).replace(BUCKET, bucket))
    written = policies.merge(current, policies.lockdown_statement(bucket, partition, patterns), "preserve")

    outsider = data.draw(requests_from_outsiders(patterns, partition, bucket))
    assert OURS in matching_statements(written, outsider), outsider

    action = data.draw(_ACTIONS)
    resource = f"arn:{partition}:s3:::{bucket}/" + ("", "x", "calls/a.wav")[data.draw(_INDEX) % 3]
    session = data.draw(ps.session_names())
    admitted = [Request.for_root(ACCOUNT, action, resource, partition=partition)]
    for kind, unique_id in _principals(patterns).items():
        if kind.startswith("role:"):
            admitted.append(
                Request.for_role(ACCOUNT, kind[5:], unique_id, action, resource, session, partition=partition)
            )
        else:
            admitted.append(Request.for_user(ACCOUNT, kind[5:], unique_id, action, resource, partition=partition))
    for request in admitted:
        assert OURS not in matching_statements(written, request), request
    COUNTS["outsider_and_allowed"] += 1
    COUNTS["admitted_requests"] += len(admitted)


# --- reconciling, on an in-memory AWS -----------------------------------------------------------------

POOL = ("amazon-connect-0a1b2c3d4e5f", "connect.recordings.example", "shared-contact-centre")
DECOY = "not-a-connect-bucket"
DECOY_POLICY = public_read_policy(DECOY)


@dataclass
class Estate:
    fake: FakeAws
    settings: Settings
    event: Any
    initial: dict[str, str | None] = field(default_factory=dict)
    evaluable: dict[str, bool] = field(default_factory=dict)


EVENTS = (
    ("s3-PutBucketPolicy", "bucket"),
    ("s3-DeleteBucketPolicy", "bucket"),
    ("s3-PutBucketPolicy", "decoy"),
    ("connect-AssociateInstanceStorageConfig", "instance"),
    ("connect-AssociateInstanceStorageConfig-arn", "instance"),
    ("connect-UpdateInstanceStorageConfig", "instance"),
    ("connect-CreateInstance", "instance"),
    ("connect-CreateInstance-redacted", "instance"),
    ("scheduled-event", "all"),
)
_SEEDS = st.integers(0, 2**32 - 1)
_POLICY_TEXT = {
    (partition, bucket, evaluable): ps.current_policies(bucket=bucket, partition=partition, evaluable=evaluable)
    for partition in ps.PARTITIONS
    for bucket in ("amazon-connect-0a1b2c3d4e5f", "connect.recordings.example", "shared-contact-centre")
    for evaluable in (True, False)
}


@st.composite
def estates(draw: st.DrawFn) -> Estate:
    """Connect instances sharing buckets, admin roles and users, buckets in every state, and one event.

    The policies are drawn (and shrunk) by hypothesis; the estate's shape comes from one drawn seed, which
    keeps an example to a few dozen draws.
    """
    rnd = random.Random(draw(_SEEDS))
    fake = FakeAws(partition=rnd.choice(ps.PARTITIONS))
    partition = fake.partition
    initial: dict[str, str | None] = {}
    evaluable: dict[str, bool] = {}
    for bucket in POOL:
        if rnd.randrange(16) == 0:
            continue  # deleted, or never created
        kind = rnd.choice(["none", "evaluable", "evaluable", "evaluable", "wide", "garbage"])
        text: str | None = None
        if kind in ("evaluable", "wide"):
            policy = draw(_POLICY_TEXT[partition, bucket, kind == "evaluable"])
            text = json.dumps(policy, indent=rnd.choice([None, 2]))
        elif kind == "garbage":
            text = rnd.choice(["not json", "[]", '{"Statement": 3}', "{}", '{"Statement": [1]}'])
        owner = OTHER_ACCOUNT if rnd.randrange(21) == 0 else ACCOUNT
        fake.create_bucket(bucket, owner=owner, policy=text)
        initial[bucket] = text
        evaluable[bucket] = kind in ("none", "evaluable")
    fake.create_bucket(DECOY, policy=DECOY_POLICY)
    for n in range(rnd.randint(1, 3)):
        buckets = rnd.sample(POOL, rnd.randint(0, 2))
        instance = fake.create_instance(f"cc-{n}", tuple(buckets), role=rnd.randrange(13) > 0)
        if instance.service_role_arn and rnd.randrange(16) == 0:
            del fake.roles[fake.role_name(instance.service_role_arn)]  # the service role was deleted
    admins = []
    for n in range(rnd.randint(0, 2)):
        name = f"Admin{n}"
        if rnd.randrange(16) > 0:
            fake.create_role(name)
        admins.append(fake.role_arn(name))
    extras = []
    if rnd.randrange(2):
        fake.create_user("break-glass")
        extras.append(fake.user_arn("break-glass"))
    settings = Settings(
        topic_arn=TOPIC,
        admin_role_arns=tuple(admins),
        extra_principal_arns=tuple(extras),
        dry_run=rnd.randrange(11) == 0,
        merge_mode=rnd.choice(["preserve", "preserve", "replace"]),
    )
    instance = rnd.choice(fake.instances)
    name, target = rnd.choice(EVENTS)
    bucket = DECOY if target == "decoy" else rnd.choice(POOL)
    return Estate(fake, settings, load_event(name, bucket=bucket, instance_id=instance.id), initial, evaluable)


def _allowed(estate: Estate, bucket: str) -> dict[str, str]:
    """kind:name -> unique ID of everyone the lock of this bucket must admit."""
    fake = estate.fake
    allowed = {f"role:{ENFORCER_ROLE}": fake.enforcer_role_id}
    for instance in fake.instances:
        if bucket in instance.buckets():
            name = fake.role_name(instance.service_role_arn)
            allowed[f"role:{name}"] = fake.roles[name]
    for arn in estate.settings.admin_role_arns:
        allowed[f"role:{fake.role_name(arn)}"] = fake.roles[fake.role_name(arn)]
    for arn in estate.settings.extra_principal_arns:
        allowed[f"user:{fake.role_name(arn)}"] = fake.users[fake.role_name(arn)]
    return allowed


def _handle(enforcer: Enforcer, event: Any) -> RunReport:
    return enforcer.handle_event(copy.deepcopy(event))


@property_settings()
@given(estates())
def test_reconciling_twice_writes_at_most_once(estate: Estate) -> None:
    """Handle the event, again on the same (warm) enforcer, and again on a cold one, as a Lambda retry in a
    new execution environment would: at most one write per bucket, and what was written is the lock."""
    fake = estate.fake
    enforcer = Enforcer(estate.settings, fake)
    reports = [_handle(enforcer, estate.event), _handle(enforcer, estate.event)]
    reports.append(_handle(Enforcer(estate.settings, fake), estate.event))

    written = [bucket for bucket, _ in fake.writes]
    assert len(written) == len(set(written)), f"a bucket was written twice: {written}"
    # The sweep reads every bucket's policy to report orphaned locks; nothing but Connect's is ever written.
    assert DECOY not in written and fake.buckets[DECOY].policy == json.dumps(DECOY_POLICY)
    if estate.event.get("detail-type") != "Scheduled Event":
        assert ("GetBucketPolicy", DECOY) not in fake.bucket_calls
    if estate.settings.dry_run:
        assert written == []
    for later in reports[1:]:
        assert "remediated" not in [r.outcome for r in later.results]
    remediated = [r.bucket for r in reports[0].results if r.outcome == "remediated"]
    assert sorted(remediated) == sorted(written)
    alerts = [n.attributes["bucket"] for n in fake.published if n.attributes["outcome"] == "remediated"]
    assert sorted(alerts) == sorted(written), "one alert per write, none on the retries"
    for bucket in POOL:
        if bucket not in written and bucket in fake.buckets:
            assert fake.buckets[bucket].policy == estate.initial[bucket], "a bucket that was not written changed"
    for bucket in written:
        final = fake.policy(bucket)
        before = policies.parse_policy(estate.initial[bucket])
        if estate.settings.merge_mode == "preserve":
            assert policies.foreign_statements(final) == policies.foreign_statements(before)
        else:
            assert policies.foreign_statements(final) == []
        if estate.evaluable[bucket]:
            _assert_the_lock_holds(final, _allowed(estate, bucket), fake.partition, bucket)
    COUNTS["reconcile_twice"] += 1
    COUNTS["reconcile_twice_writes"] += len(written)
    COUNTS.update(f"first_{r.outcome}" for r in reports[0].results)


def _assert_the_lock_holds(policy: dict[str, Any], allowed: dict[str, str], partition: str, bucket: str) -> None:
    resource = f"arn:{partition}:s3:::{bucket}/recordings/call.wav"
    for kind, unique_id in allowed.items():
        name = kind.split(":", 1)[1]
        if kind.startswith("role:"):
            request = Request.for_role(ACCOUNT, name, unique_id, "s3:PutObject", resource, partition=partition)
        else:
            request = Request.for_user(ACCOUNT, name, unique_id, "s3:PutObject", resource, partition=partition)
        assert OURS not in matching_statements(policy, request), f"{kind} is locked out"
    assert OURS not in matching_statements(
        policy, Request.for_root(ACCOUNT, "s3:GetObject", resource, partition=partition)
    )
    outsider = Request.for_role(
        ACCOUNT, "outsider", "AROAOUTSIDER0000001", "s3:GetObject", resource, partition=partition
    )
    assert OURS in matching_statements(policy, outsider)


# --- reconciling, on moto -------------------------------------------------------------------------------


def test_reconciling_twice_on_moto_writes_at_most_once(world: World) -> None:
    """The same property through the real gateway on in-process moto, over fewer examples (each is a whole
    reconcile: about 100 ms)."""
    world.create_bucket(BUCKET)
    instance = world.create_instance("contact-centre", BUCKET)
    admin_arn, admin_id = world.create_role("Admin")
    settings = Settings(topic_arn=world.topic_arn, admin_role_arns=(admin_arn,))
    gateway = AwsGateway(session=world.enforcer_session())
    puts: list[str] = []

    def count_puts(params: dict[str, Any], **_: Any) -> None:
        puts.append(params["Bucket"])

    allowed = {
        f"role:{instance.role_arn.rsplit('/', 1)[1]}": instance.role_id,
        "role:Admin": admin_id,
        "role:test-lockdown-enforcer-us-east-1": world.enforcer_role_id,
    }
    counts = {"examples": 0, "writes": 0}
    gateway.s3.meta.events.register("provide-client-params.s3.PutBucketPolicy", count_puts)

    @property_settings(MOTO_EXAMPLES)
    @given(
        st.one_of(st.none(), ps.current_policies()),
        st.sampled_from(["s3-PutBucketPolicy", "s3-DeleteBucketPolicy", "scheduled-event"]),
    )
    def reconcile_twice(current: dict[str, Any] | None, event_name: str) -> None:
        if current is None:
            world.client("s3").delete_bucket_policy(Bucket=BUCKET)
        else:
            world.put_policy(BUCKET, current)
        puts.clear()
        enforcer = Enforcer(settings, gateway)  # cold: nothing cached, as in a new execution environment
        event = load_event(event_name, bucket=BUCKET)

        first = enforcer.handle_event(event)
        second = enforcer.handle_event(event)

        assert len(puts) <= 1
        assert [r.outcome for r in second.results] == ["compliant"]
        assert [r.outcome for r in first.results] == (["remediated"] if puts else ["compliant"])
        final = world.policy(BUCKET)
        assert policies.foreign_statements(final) == policies.foreign_statements(current)
        _assert_the_lock_holds(final, allowed, "aws", BUCKET)
        counts["examples"] += 1
        counts["writes"] += len(puts)

    reconcile_twice()
    world.alerts()
    figure("reconcile_twice_moto", **counts)


# A sanity check of the generators themselves: they produce what the properties claim to cover.
def test_the_generators_cover_the_shapes_the_issue_lists() -> None:
    seen: set[str] = set()

    @property_settings(200)
    @given(ps.current_policies(evaluable=False))
    def observe(policy: dict[str, Any]) -> None:
        statements = policies.statements_of(policy)
        if isinstance(policy["Statement"], dict):
            seen.add("single statement object")
        ours = [s for s in statements if policies.is_lockdown_statement(s)]
        if len(ours) > 1:
            seen.add("duplicated lockdown")
        for statement in ours:
            patterns = policies.allowed_patterns_of(statement)
            if not patterns or statement != policies.lockdown_statement(BUCKET, "aws", patterns):
                seen.add("drifted lockdown")
        for statement in statements:
            if "Sid" not in statement:
                seen.add("missing Sid")
            if "NotPrincipal" in statement:
                seen.add("NotPrincipal")
            if "NotAction" in statement:
                seen.add("NotAction")
            if isinstance(statement.get("Action"), str):
                seen.add("string form")
            if isinstance(statement.get("Action"), list):
                seen.add("list form")
            if any(ch not in string.printable for ch in json.dumps(statement, ensure_ascii=False)):
                seen.add("non-ASCII")

    observe()
    assert seen >= {
        "single statement object",
        "duplicated lockdown",
        "drifted lockdown",
        "missing Sid",
        "NotPrincipal",
        "NotAction",
        "string form",
        "list form",
        "non-ASCII",
    }
