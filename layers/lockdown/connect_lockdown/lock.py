"""One bucket brought to its expected policy: read it, decide (`decide.py`), write, and check after the write.

The policy is always read fresh. A bucket that carries the policy expected from cached principal IDs is
compliant at the cost of that one read. Anything else is decided from fresh reads, never a cache. AWS errors a
retry will not fix become a `failed` result here; those a retry can fix are raised to the enforcer.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from . import policy as policies
from .aws import AwsCallError, AwsError, CallerIdentity, Gateway
from .config import Settings, may_write
from .confirm import Confirmed, confirm_instances, confirmed_kept_patterns, forget_dropped, stores_in
from .decide import Decision, decide
from .exposures import exposures
from .index import InventoryIndex
from .inventory import ConnectInstance, WarmInventory
from .log import SERVICE
from .outcomes import BucketResult, InstanceRef, Outcome, failure_reason
from .plan import Source
from .principals import (
    Allowlist,
    Principal,
    PrincipalResolver,
    RefusedError,
    build_allowlist,
    connect_principals,
    own_principal,
)
from .service_roles import SERVICE_LINKED_ROLES

logger = Logger(service=SERVICE, child=True)

# The error code of a `failed` result for a bucket outside LOCKDOWN_BUCKET_NAMES: no AWS call was made.
OUTSIDE_BUCKET_NAMES = "OutsideLockdownBucketNames"


@dataclass
class BucketLock:
    settings: Settings
    gateway: Gateway
    principals: PrincipalResolver
    identity: Callable[[], CallerIdentity]
    warm: WarmInventory
    index: InventoryIndex | None
    # The unique ID of an instance's service role, for the index (`index.role_id_reader`).
    role_id: Callable[[ConnectInstance], str | None]
    # False on an operator's machine: the enforcer is then the deployed function's role, or not known yet.
    caller_is_enforcer: bool

    def lock(
        self,
        bucket: str,
        instances: list[ConnectInstance],
        source: Source,
        *,
        read_now: frozenset[str] = frozenset(),
        confirm_compliant: bool = True,
    ) -> BucketResult | None:
        """The bucket's result; None when it turns out not to be Connect's. `read_now`: instances this
        invocation read from Connect (an instance event's own instance), which need no confirming.
        `confirm_compliant=False` (a sweep, whose other parts read the index's instances from Connect minutes
        ago): a bucket that already carries the lock expected from the index is compliant without Connect calls,
        since nothing is written; any other decision is confirmed first, as always."""
        if source is Source.INDEX and not confirm_compliant:
            quick = self._decide(bucket, instances, source, compliant_only=True)
            if quick is not None:
                return _with_exposures(self.identity().account, quick)
        if source is Source.INDEX:
            try:
                confirmed = confirm_instances(
                    self.gateway,
                    bucket,
                    [i for i in instances if i.id not in read_now],
                    already_read=[i for i in instances if i.id in read_now],
                )
            except AwsCallError as error:
                # Not confirmed, so not written: the bucket is not enforced until Connect can be read.
                return BucketResult(
                    bucket, Outcome.FAILED, _refs(instances), failure_reason(bucket, error), error_code=error.code
                )
            forget_dropped(self.index, bucket, confirmed.dropped)
            if not confirmed.instances:
                return None
            result = self._decide(bucket, confirmed.instances, source, left=frozenset(confirmed.dropped))
            return _with_exposures(self.identity().account, self._check_after_write(bucket, confirmed, result))
        return _with_exposures(self.identity().account, self._decide(bucket, instances, source))

    def _check_after_write(self, bucket: str, confirmed: Confirmed, result: BucketResult | None) -> BucketResult | None:
        """The instances whose storage was not read before the write (their roles are Connect's): read now, and
        when one no longer names the bucket, the index is corrected and the lock written again without it."""
        if result is None or result.outcome is not Outcome.REMEDIATED or not confirmed.unchecked:
            return result
        try:
            left = [i.id for i in confirmed.unchecked if stores_in(self.gateway, i, bucket) is None]
        except AwsError as error:
            # The write stands: every role in it is one Connect named; the sweep corrects the rest.
            logger.warning("the check after the write failed", extra={"bucket": bucket, "error": str(error)})
            return result
        if not left:
            return result
        forget_dropped(self.index, bucket, left)
        still = [i for i in confirmed.instances if i.id not in left]
        gone = frozenset([*confirmed.dropped, *left])
        again = self._decide(bucket, still, Source.INDEX, left=gone) if still else None
        if again is not None and again.outcome is not Outcome.COMPLIANT:
            return again
        result.instances = _refs(still)
        return result

    def _decide(
        self,
        bucket: str,
        instances: list[ConnectInstance],
        source: Source,
        *,
        compliant_only: bool = False,
        left: frozenset[str] = frozenset(),
    ) -> BucketResult | None:
        """`left`: instances Connect showed do not store in the bucket: the lock keeps none of their IDs."""
        refs = _refs(instances)
        self.principals.begin_decision()
        current: dict[str, Any] | None = None
        try:
            identity = self.identity()
            # The policy and the principals' IDs do not depend on each other: read them side by side (in a new
            # execution environment the IDs come from IAM; warm, from the cache, at no cost).
            with ThreadPoolExecutor(max_workers=2) as pool:
                expected = pool.submit(self._cached_allowlist, instances, identity)
                current = self._read_policy(bucket, identity)
                compliant = self._compliant(bucket, identity, current, expected.result())
            if compliant is not None:
                allowlist, decision = compliant
                return BucketResult(
                    bucket, decision.outcome, refs, decision.reason, current, principal_names=allowlist.names
                )
            if compliant_only:
                return None
            if source is Source.WARM:
                instances = self.warm.read().bucket_instances().get(bucket, [])
                if not instances:
                    return None
                refs = _refs(instances)
            allowlist = self._allowlist(instances, identity, fresh=True)
            keep: set[str] = set()
            if source is Source.INDEX:
                keep = confirmed_kept_patterns(
                    self.gateway, self.index, current, allowlist.patterns, self.role_id, left
                )
            statement = _statement(self.settings, bucket, identity, allowlist, keep)
            # The inventory and IAM reads took time: merge with the policy as it is now, so that a write made
            # meanwhile keeps its statements. S3 has no conditional PutBucketPolicy; this is the shortest window.
            current = self._read_policy(bucket, identity)
        except RefusedError as refusal:
            return BucketResult(bucket, Outcome.REFUSED, refs, str(refusal), current)
        except _UnreadablePolicy as refusal:
            return BucketResult(bucket, Outcome.REFUSED, refs, str(refusal))
        except AwsCallError as error:
            return BucketResult(bucket, Outcome.FAILED, refs, failure_reason(bucket, error), error_code=error.code)
        decision = self._decision(bucket, current, statement, allowlist)
        result = BucketResult(bucket, decision.outcome, refs, decision.reason, current, decision.expected)
        result.principal_names = allowlist.names
        if decision.outcome is Outcome.REMEDIATED and not may_write(self.settings, bucket):
            reason = (
                f"{bucket} has drifted ({decision.reason}), but its name is not in LOCKDOWN_BUCKET_NAMES, so the "
                f"enforcer may not write its policy: add it to the stack's LockdownBucketNames parameter"
            )
            return BucketResult(bucket, Outcome.FAILED, refs, reason, current, error_code=OUTSIDE_BUCKET_NAMES)
        if decision.outcome is Outcome.REMEDIATED and decision.expected is not None:
            try:
                self.gateway.put_bucket_policy(bucket, identity.account, policies.serialise(decision.expected))
            except AwsCallError as error:
                return BucketResult(
                    bucket, Outcome.FAILED, refs, failure_reason(bucket, error), current, error_code=error.code
                )
        return result

    def _decision(
        self, bucket: str, current: dict[str, Any] | None, statement: dict[str, Any], allowlist: Allowlist
    ) -> Decision:
        settings = self.settings
        return decide(
            bucket,
            current,
            statement,
            merge_mode=settings.merge_mode,
            dry_run=settings.dry_run,
            required=allowlist.required,
        )

    def _compliant(
        self, bucket: str, identity: CallerIdentity, current: dict[str, Any] | None, allowlist: Allowlist | None
    ) -> tuple[Allowlist, Decision] | None:
        """The allowlist and the decision when the policy already is what the cached allowlist expects; else
        None. Only ever answers 'no write': anything else is decided again from fresh reads."""
        if current is None or allowlist is None:
            return None
        decision = self._decision(
            bucket, current, _statement(self.settings, bucket, identity, allowlist, set()), allowlist
        )
        return (allowlist, decision) if decision.outcome is Outcome.COMPLIANT else None

    def _read_policy(self, bucket: str, identity: CallerIdentity) -> dict[str, Any] | None:
        """The bucket's policy, fresh from S3 (None: no policy)."""
        text = self.gateway.get_bucket_policy(bucket, identity.account)
        try:
            return policies.parse_policy(text)
        except policies.PolicyError as error:
            raise _UnreadablePolicy(
                f"{error}; fix or delete the policy of {bucket} by hand, the enforcer will not overwrite it"
            ) from error

    def _allowlist(self, instances: list[ConnectInstance], identity: CallerIdentity, *, fresh: bool) -> Allowlist:
        principals = connect_principals(instances)
        principals += [Principal(arn, "ADMIN_ROLE_ARNS") for arn in self.settings.admin_role_arns]
        principals += [Principal(arn, "EXTRA_PRINCIPAL_ARNS") for arn in self.settings.extra_principal_arns]
        enforcer = own_principal(identity, self.settings.enforcer_role_arn)
        if not self.caller_is_enforcer and not self.settings.enforcer_role_arn:
            enforcer = None
        return build_allowlist(
            self.principals,
            identity,
            principals,
            enforcer,
            fresh=fresh,
            caller_is_enforcer=self.caller_is_enforcer,
            service_linked_roles=[SERVICE_LINKED_ROLES[s] for s in self.settings.admit_service_linked_roles],
        )

    def _cached_allowlist(self, instances: list[ConnectInstance], identity: CallerIdentity) -> Allowlist | None:
        """The allowlist from cached principal IDs (read from IAM when not cached); None when it cannot be had."""
        try:
            return self._allowlist(instances, identity, fresh=False)
        except (RefusedError, AwsError):
            return None


def _statement(
    settings: Settings, bucket: str, identity: CallerIdentity, allowlist: Allowlist, keep: set[str]
) -> dict[str, Any]:
    return policies.lockdown_statement(
        bucket,
        identity.partition,
        allowlist.patterns | keep,
        enforcer_arn=allowlist.enforcer_arn,
        exempt_aws_services=settings.exempt_aws_services,
    )


def _with_exposures(account: str, result: BucketResult | None) -> BucketResult | None:
    """Every result says which grants kept beside the lock would open the bucket, read from the policy."""
    if result is not None and result.previous_policy is not None:
        result.exposures = tuple(exposures(result.previous_policy, account=account))
    return result


def _refs(instances: list[ConnectInstance]) -> tuple[InstanceRef, ...]:
    return tuple(InstanceRef(i.id, i.alias) for i in instances)


class _UnreadablePolicy(Exception):
    """The bucket's policy cannot be parsed: merging it could lose statements, so nothing is written."""
