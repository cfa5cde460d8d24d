"""What `connect-lockdown unlock` would change: the locked buckets in scope, each with its policy as read and the
policy left once the lockdown statement is removed (pure but for the reads of `survey`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import policy as policies
from ..aws import AwsCallError, AwsError, AwsGateway, CallerIdentity
from ..inventory import read_inventory
from ..labels import instance_label, plural
from .context import is_denied
from .exits import EXIT_ACCESS_DENIED, CliError


@dataclass(frozen=True)
class BucketUnlock:
    """What unlock does to one bucket: `after` None deletes the policy; `refusal` set means it does nothing."""

    bucket: str
    instances: tuple[tuple[str, str | None], ...]
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    refusal: str | None = None
    error: AwsError | None = None

    @property
    def locked(self) -> bool:
        return self.refusal is None and self.error is None and self.before is not None

    def kept(self) -> int:
        return len(policies.statements_of(self.after))

    def what(self) -> str:
        if self.after is None:
            return "remove the lockdown statement; no other statement: delete the bucket policy"
        return f"remove the lockdown statement; keep {plural(self.kept(), 'other statement')}"

    def instances_text(self) -> str:
        names = [instance_label(id_, alias) for id_, alias in self.instances]
        return ", ".join(names) if names else "no Connect instance"


@dataclass
class UnlockScope:
    account: str
    region: str
    buckets: list[BucketUnlock] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unlocked_elsewhere: int = 0

    @property
    def to_unlock(self) -> list[BucketUnlock]:
        return [b for b in self.buckets if b.locked]


def unlocked_policy(before: dict[str, Any]) -> dict[str, Any] | None:
    """`before` without the lockdown statement(s), every other key and statement as it was; None when no
    statement is left."""
    others = policies.foreign_statements(before)
    if not others:
        return None
    return {key: (others if key == "Statement" else value) for key, value in before.items()}


def decide(
    gateway: AwsGateway, identity: CallerIdentity, bucket: str, instances: tuple[tuple[str, str | None], ...]
) -> BucketUnlock | None:
    """What unlock would do to `bucket`, read now; None when it carries no lockdown statement."""
    try:
        text = gateway.get_bucket_policy(bucket, identity.account)
    except AwsCallError as error:
        return BucketUnlock(bucket, instances, error=error)
    try:
        before = policies.parse_policy(text)
    except policies.PolicyError as error:
        if policies.LOCKDOWN_SID not in (text or ""):
            return None
        return BucketUnlock(bucket, instances, refusal=f"{error}; fix or remove the policy by hand")
    ours = any(policies.is_lockdown_statement(s) for s in policies.statements_of(before))
    if before is None or not (ours or policies.LOCKDOWN_SID in (text or "")):
        return None
    repeated = policies.duplicate_keys_of(before)
    # A repeated key anywhere (a Sid that is the lock's in one copy only) makes "which statement is ours" a guess.
    if repeated:
        return BucketUnlock(
            bucket,
            instances,
            refusal=f"the policy repeats the key(s) {', '.join(repeated)}, so which statements are the lockdown's "
            "is ambiguous; fix the policy by hand (keep one copy of each key), then run unlock again",
        )
    if not ours:
        return None
    plain = dict(before)
    return BucketUnlock(bucket, instances, before=plain, after=unlocked_policy(plain))


def survey(
    gateway: AwsGateway, identity: CallerIdentity, region: str, only: str | None, notes: list[str]
) -> UnlockScope:
    """Every bucket in scope that carries the lockdown, read now."""
    scope = UnlockScope(identity.account, region, notes=notes)
    by_bucket: dict[str, list[tuple[str, str | None]]] = {}
    try:
        for instance in read_inventory(gateway).instances:
            for bucket in instance.buckets:
                by_bucket.setdefault(bucket, []).append((instance.id, instance.alias))
    except AwsError as error:
        scope.notes.append(f"the Connect inventory could not be read ({error}), so no instance is named")
    if only is not None:
        candidates = [only]
    else:
        try:
            listed = gateway.list_bucket_names()
        except AwsCallError as error:
            if not is_denied(error):
                raise
            raise CliError(
                f"access denied: {error}; unlock lists the Region's buckets to find every lock "
                "(s3:ListAllMyBuckets), or pass --bucket",
                EXIT_ACCESS_DENIED,
            ) from error
        candidates = sorted(set(listed) | set(by_bucket))
    for bucket in candidates:
        decided = decide(gateway, identity, bucket, tuple(by_bucket.get(bucket, ())))
        if decided is not None:
            scope.buckets.append(decided)
    return scope
