"""Who the lockdown admits: IAM ARNs resolved to unique IDs, with a short-lived cache and the refusals.

A cached ID only ever confirms that a bucket is already compliant; every decision to write resolves afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from . import policy as policies
from .arns import ROLE_ARN, USER_ARN, role_arn_of_session, role_of_session
from .aws import AwsCallError, CallerIdentity, Gateway
from .inventory import ConnectInstance
from .log import SERVICE
from .service_roles import ServiceLinkedRole

logger = Logger(service=SERVICE, child=True)

# How long a warm execution environment trusts a cached principal ID to confirm compliance.
CACHE_TTL_SECONDS = 300.0


class RefusedError(Exception):
    """Writing would be unsafe; the message says what to fix."""


@dataclass(frozen=True)
class Principal:
    arn: str
    purpose: str
    # Known without IAM: the caller's own role, whose ID STS gave with the caller's identity.
    unique_id: str | None = None


@dataclass(frozen=True)
class Allowlist:
    """The aws:userId patterns the lockdown admits, the enforcer's role ARN, and a name for each of them."""

    patterns: frozenset[str]
    enforcer_arn: str | None
    names: dict[str, str] = field(default_factory=dict)
    # The patterns a write must never lack: the account and the enforcer.
    required: frozenset[str] = frozenset()


class PrincipalResolver:
    def __init__(
        self, gateway: Gateway, *, cache_ttl: float = CACHE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.gateway = gateway
        self.cache_ttl = cache_ttl
        self._clock = clock
        # arn -> (when read, unique id, the decision that read it from IAM)
        self._ids: dict[str, tuple[float, str, int]] = {}
        # service-linked role ARN -> (when read, the invocation) for roles IAM said do not exist (or could not read)
        self._absent: dict[str, tuple[float, int]] = {}
        # (role, error code) already said in the log: a missing role is said once per execution environment
        self._reported: set[tuple[str, str]] = set()
        self._decision = 0
        self._invocation = 0

    def begin_invocation(self) -> None:
        """A new event (or command): absences read before it are believed only where nothing is written."""
        self._invocation += 1

    def begin_decision(self) -> None:
        """IDs read from IAM during one bucket decision count as fresh for it: each role is read once."""
        self._decision += 1

    def resolve(self, principal: Principal, identity: CallerIdentity, *, fresh: bool) -> str:
        """The principal's unique ID from IAM (or the cache, when not fresh); RefusedError when unresolvable."""
        if principal.unique_id is not None:
            return principal.unique_id
        cached = self._ids.get(principal.arn)
        if cached is not None:
            read_at, unique_id, decision = cached
            if decision == self._decision or (not fresh and self._clock() - read_at < self.cache_ttl):
                return unique_id
        unique_id = self._resolve_in_iam(principal, identity)
        self._ids[principal.arn] = (self._clock(), unique_id, self._decision)
        return unique_id

    def resolve_service_linked(self, role: ServiceLinkedRole, identity: CallerIdentity, *, fresh: bool) -> str | None:
        """The unique ID of a service-linked role of the account, or None when it cannot be had: admitting a
        governance service is never worth refusing a lock, so a missing (or unreadable) role is skipped and said
        once in the log. A retryable error still raises. An absence read in this invocation holds for each of its
        decisions (a sweep that writes many buckets asks IAM once), and for the cache's time only where nothing is
        written: a write never rests on an absence another invocation read, since the role may exist now and
        another invocation's lock may admit it."""
        arn = role.arn(identity.partition, identity.account)
        absent = self._absent.get(arn)
        if absent is not None:
            read_at, invocation = absent
            if invocation == self._invocation or (not fresh and self._clock() - read_at < self.cache_ttl):
                return None
        try:
            return self.resolve(Principal(arn, f"{role.purpose}'s service-linked role"), identity, fresh=fresh)
        except RefusedError as refusal:
            error = refusal.__cause__
            code = error.code if isinstance(error, AwsCallError) else "unresolvable"
        self._absent[arn] = (self._clock(), self._invocation)
        if (arn, code) not in self._reported:
            self._reported.add((arn, code))
            logger.warning(
                "a service-linked role named in ADMIT_SERVICE_LINKED_ROLES is not admitted",
                extra={"service": role.service, "role_arn": arn, "error": code},
            )
        return None

    def _resolve_in_iam(self, principal: Principal, identity: CallerIdentity) -> str:
        match = ROLE_ARN.match(principal.arn) or USER_ARN.match(principal.arn)
        if match is None:
            raise RefusedError(
                f"{principal.arn} ({principal.purpose}) is not an IAM role or user ARN; nothing was written"
            )
        if match.group("account") != identity.account:
            raise RefusedError(
                f"{principal.arn} ({principal.purpose}) belongs to account {match.group('account')}, not "
                f"{identity.account}; its unique ID cannot be resolved here, so nothing was written"
            )
        is_role = ":role/" in principal.arn
        try:
            if is_role:
                # A service-linked role lives under /aws-service-role/: anyone may create a role of the same name
                # elsewhere when the service has none, so the path is checked, never the name alone.
                path = _service_role_path(principal.arn)
                return self.gateway.role_id(match.group("name"), path)
            return self.gateway.user_id(match.group("name"))
        except AwsCallError as error:
            kind = "role" if is_role else "user"
            raise RefusedError(
                f"could not resolve {principal.arn} ({principal.purpose}) to its unique ID: {error.code}. "
                f"Recreate the {kind} or correct the ARN; nothing was written, because a policy without it "
                "would lock it out"
            ) from error


def own_principal(identity: CallerIdentity, configured_arn: str | None) -> Principal | None:
    """The enforcer's role: the configured ARN, or (inside the function) the caller's own role from STS."""
    own_arn = role_arn_of_session(identity.arn)
    own_id = identity.user_id.split(":", 1)[0] if own_arn else None
    if configured_arn:
        return Principal(configured_arn, "the enforcer's role", own_id if configured_arn == own_arn else None)
    return Principal(own_arn, "the enforcer's role", own_id) if own_arn else None


def connect_principals(instances: Iterable[ConnectInstance]) -> list[Principal]:
    principals = []
    for instance in instances:
        if not instance.service_role_arn:
            raise RefusedError(
                f"Connect instance {instance.label()} reports no service role yet; nothing was written. "
                "Wait for the instance to finish creating, then the next event or sweep locks the bucket"
            )
        principals.append(Principal(instance.service_role_arn, f"service role of Connect instance {instance.label()}"))
    return principals


def build_allowlist(
    resolver: PrincipalResolver,
    identity: CallerIdentity,
    principals: Iterable[Principal],
    enforcer: Principal | None,
    *,
    fresh: bool,
    caller_is_enforcer: bool,
    service_linked_roles: Iterable[ServiceLinkedRole] = (),
) -> Allowlist:
    """Resolve every principal; RefusedError (or an AWS error) when one cannot be.

    `enforcer` None with `caller_is_enforcer` False: the function is not deployed yet (the command line's
    read-only audit); the allowlist then omits it and requires nothing of it. `service_linked_roles`
    (ADMIT_SERVICE_LINKED_ROLES) are admitted when they exist and skipped when not, never refused.
    """
    names = {identity.account: f"the account root ({identity.account})"}
    required = {identity.account}
    enforcer_arn = None
    if enforcer is not None:
        own = policies.allowed_user_id_pattern(resolver.resolve(enforcer, identity, fresh=fresh))
        enforcer_arn = enforcer.arn
        names[own] = f"{enforcer.arn} ({enforcer.purpose})"
        names[enforcer.arn] = f"{enforcer.purpose}, by ARN"
        required.add(own)
    elif caller_is_enforcer:
        # An IAM user or the root running the enforcer: admit its own ID, it has no role ARN.
        own = identity.account if identity.user_id == identity.account else identity.user_id.split(":", 1)[0]
        own = policies.allowed_user_id_pattern(own)
        names.setdefault(own, f"{identity.arn} (the enforcer's caller)")
        required.add(own)
    for principal in principals:
        pattern = policies.allowed_user_id_pattern(resolver.resolve(principal, identity, fresh=fresh))
        names.setdefault(pattern, f"{principal.arn} ({principal.purpose})")
    for role in service_linked_roles:
        unique_id = resolver.resolve_service_linked(role, identity, fresh=fresh)
        if unique_id is not None:
            arn = role.arn(identity.partition, identity.account)
            names.setdefault(
                policies.allowed_user_id_pattern(unique_id),
                f"{arn} ({role.purpose}'s service-linked role, ADMIT_SERVICE_LINKED_ROLES={role.service})",
            )
    return Allowlist(frozenset(names) - {enforcer_arn}, enforcer_arn, names, frozenset(required))


def is_own_call(
    actor: str | None, identity: CallerIdentity, configured_arn: str | None, *, caller_is_enforcer: bool
) -> bool:
    """Whether a CloudTrail actor (an assumed-role session ARN) is the enforcer's own role: its writes need no look."""
    actor_role = role_of_session(actor)
    if actor_role is None:
        return False
    own_roles = {role_of_session(identity.arn) if caller_is_enforcer else None}
    own = own_principal(identity, configured_arn)
    match = ROLE_ARN.match(own.arn) if own is not None else None
    if match is not None:
        own_roles.add((match.group("account"), match.group("name")))
    return actor_role in own_roles


def _service_role_path(role_arn: str) -> str | None:
    """`/aws-service-role/<service>/` of a service-linked role's ARN; None for any other role."""
    marker = ":role/aws-service-role/"
    if marker not in role_arn:
        return None
    rest = role_arn.split(marker, 1)[1]
    return "/aws-service-role/" + rest.rsplit("/", 1)[0] + "/"
