"""One scope (an account and a Region): find the function's role there, then run the enforcer's core on it.

The command line has no logic of its own: audit and plan run the core in dry-run mode with notifications off;
apply runs it for real, so its alerts reach the topic as the function's do.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import boto3

from ..aws import AwsCallError, AwsGateway, CallerIdentity
from ..config import Settings
from ..events import BucketChanged, Sweep, Trigger
from ..outcomes import BucketResult, Outcome, RunReport
from ..reconcile import Enforcer
from ..times import utc_iso
from .context import NOT_DEPLOYED_NOTE, EnforcerSource, StackProblem, stack_enforcer_role
from .exits import EXIT_ACCESS_DENIED, EXIT_NOT_COMPLIANT, EXIT_OK

# The enforcer's role is `<EnforcerRoleName>-<Region>`: the Region suffix of a role name.
_REGION_SUFFIX = re.compile(r"-[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def base_role_name(role_name: str) -> str | None:
    """The EnforcerRoleName part of `<EnforcerRoleName>-<Region>`; None when the name has no Region suffix."""
    match = _REGION_SUFFIX.search(role_name)
    return role_name[: match.start()] if match and match.start() > 0 else None


@dataclass(frozen=True)
class EnforcerRole:
    """The function's role in one scope, None when it is not deployed there (`note` says why we think so)."""

    arn: str | None
    note: str | None = None
    topic_arn: str | None = None


def resolve_enforcer(
    source: EnforcerSource, session: boto3.session.Session, identity: CallerIdentity, region: str, *, multi: bool
) -> EnforcerRole:
    """The function's role in this account and Region. Raises StackProblem for a stack that cannot be read
    (and, with one scope, for a stack that does not exist: the operator named it)."""
    where = f"account {identity.account}, Region {region}"
    if source.stack_name:
        try:
            arn, topic = stack_enforcer_role(session, source.stack_name, where)
        except StackProblem as problem:
            if problem.missing and multi:
                return EnforcerRole(None, f"{problem}: the expected allowlist omits the not-yet-deployed function")
            raise
        return EnforcerRole(arn, topic_arn=topic)
    if source.arn and not multi:
        return EnforcerRole(source.arn)
    name = _role_name(source, region)
    if name is None:
        return EnforcerRole(None, NOT_DEPLOYED_NOTE)
    try:
        AwsGateway(session=session).role_id(name)
    except AwsCallError as error:
        if error.code == "NoSuchEntity":
            return EnforcerRole(
                None, f"no role {name} in {where}: the expected allowlist omits the not-yet-deployed function"
            )
    return EnforcerRole(f"arn:{identity.partition}:iam::{identity.account}:role/{name}")


def _role_name(source: EnforcerSource, region: str) -> str | None:
    if source.role_name:
        return f"{source.role_name}-{region}"
    if source.arn:
        # One ARN names one account: in the others, the role of the same name (the template's fixed name).
        name = source.arn.rsplit("/", 1)[-1]
        base = base_role_name(name)
        return f"{base}-{region}" if base else name
    return None


@dataclass
class ScopeRun:
    """What one account and Region looked like: the core's report, and how the command saw that scope."""

    account: str
    region: str
    report: RunReport
    enforcer_role_arn: str | None = None
    notes: list[str] = field(default_factory=list)


def reconcile(
    session: boto3.session.Session,
    settings: Settings,
    *,
    bucket: str | None,
    write: bool,
    alert: bool,
    command: str,
    actor: str,
    progress: Callable[[int, int, str], None] | None = None,
    gateway: AwsGateway | None = None,
) -> RunReport:
    """Run the core once over the scope (one bucket, or a sweep). RetryLater propagates.

    `write` False is the function's dry run; `alert` False publishes nothing (audit, plan)."""
    if not write:
        settings = dataclasses.replace(settings, dry_run=True)
    gateway = gateway or AwsGateway(session=session)
    enforcer = Enforcer(settings, gateway, notify=alert, progress=progress, caller_is_enforcer=False)
    trigger = Trigger(
        event_id=None,
        event_name=f"connect-lockdown {command}",
        actor=actor,
        time=utc_iso(),
    )
    # The command line always starts cold: every read here is fresh.
    cause = BucketChanged(bucket, trigger) if bucket else Sweep(trigger, scheduled=True)
    return enforcer.reconcile(cause)


def inventory_failure_of(report: RunReport) -> BucketResult | None:
    """The `failed` result of a Connect inventory that could not be read at all, if that is what happened."""
    for result in report.results:
        if result.bucket is None and result.outcome is Outcome.FAILED and not result.instances:
            return result
    return None


def exit_code_for(report: RunReport) -> int:
    if any(r.outcome is Outcome.FAILED and r.access_denied for r in report.results):
        return EXIT_ACCESS_DENIED
    if any(alert.error.access_denied for alert in report.unsent_alerts):
        return EXIT_ACCESS_DENIED
    if any(
        r.outcome not in (Outcome.COMPLIANT, Outcome.PENDING, Outcome.REMEDIATED, Outcome.ORPHANED)
        for r in report.results
    ):
        return EXIT_NOT_COMPLIANT
    return EXIT_OK
