"""audit, plan and apply on one account and Region."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import TextIO

import boto3

from ..aws import AwsGateway, CallerIdentity
from ..config import Settings
from ..labels import plural
from ..outcomes import BucketResult, RetryLater, RunReport
from .context import (
    EnforcerSource,
    StackProblem,
    caller_of,
    check_principal_accounts,
    check_told_role,
    enforcer_source,
    is_denied,
    region_of,
    session_for,
    settings_from,
)
from .exits import (
    EXIT_ACCESS_DENIED,
    EXIT_AWS_UNAVAILABLE,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_NOT_COMPLIANT,
    EXIT_UNKNOWN_BUCKET,
    CliError,
    usage,
)
from .progress import Progress
from .render import audit_document, exposure_lines, plan_document, print_audit, print_plan
from .single_scope import EnforcerRole, ScopeRun, exit_code_for, inventory_failure_of, reconcile, resolve_enforcer
from .wording import reworded, summary_of
from .writes import JournaledGateway, StopBetweenBuckets, Stopped, WriteJournal


@dataclass(frozen=True)
class Prepared:
    """Everything checked at start-up, before any bucket is read."""

    session: boto3.session.Session
    identity: CallerIdentity
    region: str
    settings: Settings
    enforcer: EnforcerRole


def prepare(args: argparse.Namespace, *, for_apply: bool) -> Prepared:
    session = session_for(args.profile, args.region)
    region = region_of(session)
    source = enforcer_source(args, os.environ)
    # The variables are checked before any AWS call, so that a typo costs no round trip.
    settings_from(os.environ, enforcer_role_arn=source.arn, topic_arn=None, for_apply=for_apply and not args.stack_name)
    identity = caller_of(session)
    try:
        enforcer = resolve_enforcer(source, session, identity, region, multi=False)
        check_told_role(args, os.environ, session, identity, region)
    except StackProblem as problem:
        raise usage(f"--stack-name: {problem}") from problem
    if for_apply and enforcer.arn is None:
        raise usage(
            "apply writes policies that must admit the deployed function, and its role is not known"
            + (f" ({enforcer.note})" if enforcer.note and source.known else "")
            + ": pass --stack-name, or set ENFORCER_ROLE_ARN, or pass --enforcer-role-arn"
        )
    if (
        for_apply
        and args.stack_name
        and not (enforcer.topic_arn or os.environ.get("NOTIFICATION_TOPIC_ARN", "").strip())
    ):
        raise usage(
            f"apply publishes one alert per result and needs the topic: stack {args.stack_name} has no "
            "NotificationTopicArn output; set NOTIFICATION_TOPIC_ARN"
        )
    settings = settings_from(
        os.environ, enforcer_role_arn=enforcer.arn, topic_arn=enforcer.topic_arn, for_apply=for_apply
    )
    check_principal_accounts(settings, identity.account, _enforcer_label(source))
    return Prepared(session, identity, region, settings, enforcer)


def _enforcer_label(source: EnforcerSource) -> str:
    if source.stack_name:
        return f"the EnforcerRoleArn output of stack {source.stack_name}"
    return source.label


class PartialRun(CliError):
    """A run that stopped on an AWS error after some buckets were handled: what it did is in `report`."""

    def __init__(self, message: str, code: int, report: RunReport) -> None:
        super().__init__(message, code)
        self.report = report


class InventoryUnreadable(CliError):
    """The Connect inventory could not be read at all: nothing is known of the scope."""

    def __init__(self, run: ScopeRun, failure: BucketResult) -> None:
        code = (
            EXIT_ACCESS_DENIED
            if failure.access_denied or failure.error_code == "AccessDeniedException"
            else (EXIT_INCOMPLETE)
        )
        super().__init__(reworded(failure.reason), code)
        self.run = run
        self.error_code = failure.error_code

    def document(self) -> dict[str, object]:
        return {
            "account": self.run.account,
            "region": self.run.region,
            "error": str(self),
            "error_code": self.error_code,
            "compliant": False,
        }


def _retry_failure(report: RunReport) -> PartialRun:
    """A run the core ended with RetryLater. An access denied among its errors (a publish the credentials may
    not make) is no throttling: a retry will not fix it, and the message names the call."""
    denied = [error for error in report.retryable_errors if is_denied(error)]
    if denied:
        return PartialRun(f"access denied: {denied[0]}", EXIT_ACCESS_DENIED, report)
    errors = "; ".join(str(error) for error in report.retryable_errors)
    return PartialRun(f"AWS throttled or was unavailable, try again: {errors}", EXIT_AWS_UNAVAILABLE, report)


def run_single(
    args: argparse.Namespace,
    prepared: Prepared,
    *,
    write: bool,
    alert: bool,
    gateway: AwsGateway | None = None,
    stop: StopBetweenBuckets | None = None,
) -> ScopeRun:
    progress = Progress(sys.stderr)

    def before_bucket(index: int, total: int, bucket: str) -> None:
        if stop is not None:
            stop.check()
        progress(index, total, bucket)

    progress.show("reading the Connect inventory...")
    try:
        report = reconcile(
            prepared.session,
            prepared.settings,
            bucket=args.bucket,
            write=write,
            alert=alert,
            command=args.command,
            actor=prepared.identity.arn,
            progress=before_bucket,
            gateway=gateway,
        )
    except RetryLater as error:
        raise _retry_failure(error.report) from error
    finally:
        progress.done()
    for unsent in report.unsent_alerts:
        sys.stderr.write(f"connect-lockdown: error: {unsent}\n")
    notes = [prepared.enforcer.note] if prepared.enforcer.note else []
    run = ScopeRun(prepared.identity.account, prepared.region, report, prepared.enforcer.arn, notes)
    failure = inventory_failure_of(report)
    if failure is not None:
        raise InventoryUnreadable(run, failure)
    if args.bucket and report.ignored:
        raise CliError(f"unknown bucket: {report.ignored}", EXIT_UNKNOWN_BUCKET)
    return run


def read_only_run(args: argparse.Namespace, out: TextIO, prepared: Prepared) -> ScopeRun:
    """audit's and plan's run; an unreadable inventory is an error document with --json, never an empty answer."""
    try:
        return run_single(args, prepared, write=False, alert=False)
    except InventoryUnreadable as failure:
        if args.json:
            out.write(json.dumps(failure.document(), indent=2) + "\n")
        raise


def command_audit(args: argparse.Namespace, out: TextIO) -> int:
    run = read_only_run(args, out, prepare(args, for_apply=False))
    if args.json:
        out.write(json.dumps(audit_document(run), indent=2) + "\n")
    else:
        print_audit(run, out)
    return exit_code_for(run.report)


def command_plan(args: argparse.Namespace, out: TextIO) -> int:
    run = read_only_run(args, out, prepare(args, for_apply=False))
    if args.json:
        for note in run.notes:
            sys.stderr.write(f"connect-lockdown: note: {note}\n")
        out.write(json.dumps(plan_document(run), indent=2) + "\n")
    else:
        print_plan(run, out)
    return exit_code_for(run.report)


def confirmed(question: str, out: TextIO) -> bool:
    """The operator's yes at a terminal; without one, --yes is the only way to write."""
    if not sys.stdin.isatty():
        raise usage("refusing to write without confirmation: pass --yes")
    try:
        answer = input(question).strip().lower()
    except EOFError:  # Ctrl-D: no answer is no
        out.write("\n")
        answer = ""
    return answer in ("y", "yes")


def command_apply(args: argparse.Namespace, out: TextIO) -> int:
    prepared = prepare(args, for_apply=True)
    planned = run_single(args, prepared, write=False, alert=False)
    changes = print_plan(planned, out)
    # Refusals and failures are alerted whatever triggered them, even when nothing is to be written.
    alertable = [r for r in planned.report.results if r.outcome.notified and not r.outcome.drifted]
    if changes == 0:
        if not alertable:
            out.write("Nothing to apply.\n")
            return exit_code_for(planned.report)
        out.write(f"Nothing to write; alerting {plural(len(alertable), 'result')} that need a person.\n")
        return _write(args, prepared, out, write=False)
    if not args.yes and not confirmed(f"Apply {plural(changes, 'change')}? [y/N] ", out):
        out.write("Nothing was applied.\n")
        return EXIT_NOT_COMPLIANT
    return _write(args, prepared, out, write=True)


def _write(args: argparse.Namespace, prepared: Prepared, out: TextIO, *, write: bool) -> int:
    """The core's writing run, every write followed by its alert; Ctrl-C says what was written and alerted."""
    journal = WriteJournal()
    gateway = JournaledGateway(prepared.session, journal)
    try:
        with StopBetweenBuckets() as stop:
            run = run_single(args, prepared, write=write, alert=True, gateway=gateway, stop=stop)
    except (Stopped, KeyboardInterrupt):
        out.write("\n")
        journal.report(out)
        raise CliError("interrupted; the lines above say what was written and alerted", EXIT_INTERRUPTED) from None
    except PartialRun as partial:
        print_results(partial.report, out)
        out.write(f"{plural(journal.published, 'alert')} published; the error below stopped the rest.\n")
        raise
    print_results(run.report, out)
    out.write(f"{plural(journal.published, 'alert')} published.\n")
    return exit_code_for(run.report)


def print_results(report: RunReport, out: TextIO) -> None:
    for result in report.results:
        if result.bucket is not None:
            out.write(f"{result.outcome}: {result.bucket}: {summary_of(result, read_only=False)}\n")
            for line in exposure_lines(result):
                out.write(f"  {line}\n")
    out.write(f"\n{report.counts().sentence()}\n")
