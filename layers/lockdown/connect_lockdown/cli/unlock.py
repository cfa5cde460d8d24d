"""`connect-lockdown unlock`: remove this project's lockdown statement, and only it, from the buckets in scope.

The buckets in scope are the Connect buckets of the account and Region and the buckets that carry the lock
without an instance (orphans): every bucket ListBuckets shows in the Region, and every bucket a Connect
instance names, whose policy holds a statement with the lockdown's Sid. `--bucket` limits it to one bucket.

Each bucket keeps every other statement, in order, with the document's Version and Id; a policy left with no
statement is deleted (S3 refuses an empty one). A policy that cannot be read one way only (not JSON, no list of
statements, a repeated key) is refused: which statements are ours is then a guess, and a guess must not delete
somebody's statement. The plan comes first; `--yes` (or a yes at the terminal) writes. Each bucket changed is
then alerted on the topic, like apply's writes: one message per bucket, with outcome `unlocked`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any, TextIO

import boto3

from .. import policy as policies
from ..aws import AwsCallError, AwsError, AwsGateway, CallerIdentity
from ..events import Trigger
from ..exposures import exposures
from ..labels import plural
from ..notify import notification
from ..notify.view import exposure_text
from ..times import utc_iso
from .commands import confirmed
from .context import StackProblem, caller_of, is_denied, region_of, session_for, settings_from, stack_description
from .exits import (
    EXIT_ACCESS_DENIED,
    EXIT_AWS_UNAVAILABLE,
    EXIT_INTERRUPTED,
    EXIT_NOT_COMPLIANT,
    EXIT_OK,
    EXIT_UNKNOWN_BUCKET,
    EXIT_USAGE,
    CliError,
    usage,
)
from .render import diff_lines
from .unlock_plan import BucketUnlock, UnlockScope, decide, survey
from .writes import JournaledGateway, StopBetweenBuckets, Stopped, WriteJournal

UNLOCKED = "unlocked"
COMMAND = "connect-lockdown unlock"


# --- start-up -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnlockSetup:
    session: boto3.session.Session
    identity: CallerIdentity
    region: str
    topic_arn: str
    notes: list[str]


def prepare(args: argparse.Namespace) -> UnlockSetup:
    session = session_for(args.profile, args.region)
    region = region_of(session)
    settings_from(os.environ, enforcer_role_arn=None, topic_arn=None, for_apply=False)  # a typo costs no call
    identity = caller_of(session)
    notes: list[str] = []
    topic = os.environ.get("NOTIFICATION_TOPIC_ARN", "").strip() or None
    if args.stack_name:
        where = f"account {identity.account}, Region {region}"
        try:
            outputs, parameters = stack_description(session, args.stack_name, where)
        except StackProblem as problem:
            raise usage(f"--stack-name: {problem}") from problem
        topic = outputs.get("NotificationTopicArn") or topic
        if parameters.get("DryRun", "").lower() == "false":
            notes.append(
                f"stack {args.stack_name} runs the enforcer with DryRun=false: it locks each Connect bucket again "
                "within seconds of this unlock. Deploy it with DryRun=true first (README, Uninstall)"
            )
    else:
        notes.append(
            "a deployed enforcer that is not in dry run locks each Connect bucket again within seconds of this "
            "unlock: deploy it with DryRun=true first, or pass --stack-name to have it checked"
        )
    if not topic:
        raise usage(
            "unlock alerts one message per bucket it changes and needs the topic: set NOTIFICATION_TOPIC_ARN, or "
            "pass --stack-name to read it from the stack's outputs"
        )
    settings = settings_from(os.environ, enforcer_role_arn=None, topic_arn=topic, for_apply=True)
    return UnlockSetup(session, identity, region, settings.topic_arn, notes)


# --- the command ----------------------------------------------------------------------------------------


def command_unlock(args: argparse.Namespace, out: TextIO) -> int:
    setup = prepare(args)
    gateway = AwsGateway(session=setup.session)
    scope = survey(gateway, setup.identity, setup.region, args.bucket, list(setup.notes))
    gone = [b for b in scope.buckets if b.error is not None and b.error.code == "NoSuchBucket"]
    if args.bucket and gone:
        raise CliError(f"unknown bucket: {args.bucket} does not exist (NoSuchBucket)", EXIT_UNKNOWN_BUCKET)
    # A bucket deleted since ListBuckets carries no lock any more.
    scope.buckets = [b for b in scope.buckets if b not in gone]
    print_unlock_plan(scope, out, only=args.bucket)
    if args.bucket and not scope.buckets:
        out.write(f"{args.bucket} carries no lockdown statement: nothing to unlock.\n")
        return EXIT_OK
    problem = _problem_code(scope)
    if not scope.to_unlock:
        out.write("Nothing to unlock.\n")
        return problem
    count = len(scope.to_unlock)
    if not args.yes and not confirmed(f"Unlock {plural(count, 'bucket')}? [y/N] ", out):
        out.write("Nothing was unlocked.\n")
        return EXIT_NOT_COMPLIANT
    journal = WriteJournal()
    writer = JournaledGateway(setup.session, journal)
    try:
        with StopBetweenBuckets() as stop:
            unsent = _unlock_all(writer, setup, [b.bucket for b in scope.to_unlock], scope, stop, out)
    except (Stopped, KeyboardInterrupt):
        out.write("\n")
        journal.report(out)
        raise CliError("interrupted; the lines above say what was unlocked and alerted", EXIT_INTERRUPTED) from None
    out.write(f"\n{plural(len(journal.written), 'bucket')} unlocked; {plural(journal.published, 'alert')} published.\n")
    if unsent:
        denied = [error for error in unsent if is_denied(error)]
        return EXIT_ACCESS_DENIED if denied else EXIT_AWS_UNAVAILABLE
    return max(problem, _problem_code(scope))


def _unlock_all(
    writer: JournaledGateway,
    setup: UnlockSetup,
    buckets: list[str],
    scope: UnlockScope,
    stop: StopBetweenBuckets,
    out: TextIO,
) -> list[AwsError]:
    """Read each bucket again, remove the lock, alert; return the alerts that could not be sent."""
    instances = {b.bucket: b.instances for b in scope.buckets}
    trigger = Trigger(event_id=None, event_name=COMMAND, actor=setup.identity.arn, time=utc_iso())
    unsent: list[AwsError] = []
    for bucket in buckets:
        stop.check()
        now = decide(writer, setup.identity, bucket, instances.get(bucket, ()))
        if now is None:
            out.write(f"skipped: {bucket}: it no longer carries the lockdown statement\n")
            continue
        if not now.locked:
            scope.buckets = [now if b.bucket == bucket else b for b in scope.buckets]
            out.write(f"{'refused' if now.refusal else 'failed'}: {bucket}: {now.refusal or now.error}\n")
            continue
        try:
            if now.after is None:
                writer.delete_bucket_policy(bucket, setup.identity.account)
            else:
                writer.put_bucket_policy(bucket, setup.identity.account, policies.serialise(now.after))
        except AwsCallError as error:
            scope.buckets = [
                BucketUnlock(bucket, now.instances, error=error) if b.bucket == bucket else b for b in scope.buckets
            ]
            writer.journal.begun.remove(bucket)
            out.write(f"failed: {bucket}: {error}\n")
            continue
        out.write(f"unlocked: {bucket}: {now.what().replace('remove', 'removed', 1)}\n")
        try:
            writer.publish(setup.topic_arn, unlock_notification(setup, trigger, now))
        except AwsError as error:
            unsent.append(error)
            sys.stderr.write(f"connect-lockdown: error: the unlocked alert of {bucket} was not sent: {error}\n")
    return unsent


def unlock_result(unlock: BucketUnlock, account: str) -> dict[str, Any]:
    """The result document of an unlocked bucket: the contract's shape, outcome `unlocked`."""
    if unlock.after is None:
        reason = f"{COMMAND} removed the lockdown statement; it was the only statement, so the policy was deleted"
    else:
        reason = f"{COMMAND} removed the lockdown statement and kept {plural(unlock.kept(), 'other statement')}"
    return {
        "bucket": unlock.bucket,
        "outcome": UNLOCKED,
        "instances": [id_ for id_, _ in unlock.instances],
        "reason": reason,
        "previous_policy": unlock.before,
        "applied_policy": unlock.after,
        # Without the lock, every grant beside it is open now.
        "exposures": exposures(unlock.after, account=account),
    }


def unlock_notification(setup: UnlockSetup, trigger: Trigger, unlock: BucketUnlock) -> Any:
    return notification(
        setup.identity.account,
        setup.region,
        trigger,
        unlock_result(unlock, setup.identity.account),
        instance_aliases={id_: alias for id_, alias in unlock.instances if alias},
    )


def _problem_code(scope: UnlockScope) -> int:
    """2 for a refused bucket (its policy needs a person), 4 for a bucket that could not be read."""
    if any(b.error is not None and is_denied(b.error) for b in scope.buckets):
        return EXIT_ACCESS_DENIED
    if any(b.refusal is not None for b in scope.buckets):
        return EXIT_USAGE
    if any(b.error is not None for b in scope.buckets):
        return EXIT_NOT_COMPLIANT
    return EXIT_OK


def print_unlock_plan(scope: UnlockScope, out: TextIO, *, only: str | None) -> None:
    for note in scope.notes:
        out.write(f"# Note: {note}.\n\n")
    for item in scope.buckets:
        out.write(f"# {item.bucket} ({item.instances_text()})\n")
        if item.refusal:
            out.write(f"#   refused: {item.refusal}\n\n")
            continue
        if item.error is not None:
            out.write(f"#   failed: {item.error}\n\n")
            continue
        out.write(f"#   unlock: {item.what()}\n")
        out.write("\n".join(diff_lines(item.before, item.after, item.bucket, after_label="after unlock")) + "\n")
        for exposure in exposures(item.after, account=scope.account):
            out.write(f"#   {exposure_text(exposure)} (open once the lock is gone)\n")
        out.write("\n")
    if only is None:
        out.write(
            f"{plural(len(scope.to_unlock), 'bucket')} to unlock in {scope.region} (account {scope.account})"
            + (
                f"; {plural(len(scope.buckets) - len(scope.to_unlock), 'bucket')} refused or unreadable"
                if len(scope.buckets) > len(scope.to_unlock)
                else ""
            )
            + ".\n"
        )
