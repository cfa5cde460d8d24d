"""audit, plan and apply on one account and Region."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import TextIO

import boto3

from ..aws import CallerIdentity
from ..config import Settings
from ..labels import plural
from ..outcomes import RetryLater
from .context import (
    EnforcerSource,
    StackProblem,
    caller_of,
    check_principal_accounts,
    enforcer_source,
    region_of,
    session_for,
    settings_from,
)
from .exits import EXIT_AWS_UNAVAILABLE, EXIT_NOT_COMPLIANT, EXIT_UNKNOWN_BUCKET, CliError, usage
from .progress import Progress
from .render import audit_document, plan_document, print_audit, print_plan
from .scope import EnforcerRole, ScopeRun, exit_code_for, reconcile, resolve_enforcer
from .wording import summary_of


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


def run_single(args: argparse.Namespace, prepared: Prepared, *, read_only: bool) -> ScopeRun:
    progress = Progress(sys.stderr)
    progress.show("reading the Connect inventory...")
    try:
        report = reconcile(
            prepared.session,
            prepared.settings,
            bucket=args.bucket,
            read_only=read_only,
            command=args.command,
            actor=prepared.identity.arn,
            progress=progress,
        )
    except RetryLater as error:
        raise CliError(f"AWS throttled or was unavailable, try again: {error}", EXIT_AWS_UNAVAILABLE) from error
    finally:
        progress.done()
    for alert in report.unsent_alerts:
        sys.stderr.write(f"connect-lockdown: error: {alert}\n")
    if args.bucket and report.ignored:
        raise CliError(f"unknown bucket: {report.ignored}", EXIT_UNKNOWN_BUCKET)
    notes = [prepared.enforcer.note] if prepared.enforcer.note else []
    return ScopeRun(prepared.identity.account, prepared.region, report, prepared.enforcer.arn, notes)


def command_audit(args: argparse.Namespace, out: TextIO) -> int:
    run = run_single(args, prepare(args, for_apply=False), read_only=True)
    if args.json:
        out.write(json.dumps(audit_document(run), indent=2) + "\n")
    else:
        print_audit(run, out)
    return exit_code_for(run.report)


def command_plan(args: argparse.Namespace, out: TextIO) -> int:
    run = run_single(args, prepare(args, for_apply=False), read_only=True)
    if args.json:
        for note in run.notes:
            sys.stderr.write(f"connect-lockdown: note: {note}\n")
        out.write(json.dumps(plan_document(run), indent=2) + "\n")
    else:
        print_plan(run, out)
    return exit_code_for(run.report)


def command_apply(args: argparse.Namespace, out: TextIO) -> int:
    prepared = prepare(args, for_apply=True)
    planned = run_single(args, prepared, read_only=True)
    changes = print_plan(planned, out)
    if changes == 0:
        out.write("Nothing to apply.\n")
        return exit_code_for(planned.report)
    if not args.yes:
        if not sys.stdin.isatty():
            raise usage("refusing to apply without confirmation: pass --yes")
        answer = input(f"Apply {plural(changes, 'change')}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            out.write("Nothing was applied.\n")
            return EXIT_NOT_COMPLIANT
    run = run_single(args, prepared, read_only=False)
    for result in run.report.results:
        if result.bucket is not None:
            out.write(f"{result.outcome}: {result.bucket}: {summary_of(result, read_only=False)}\n")
    out.write(f"\n{run.report.counts().sentence()}\n")
    return exit_code_for(run.report)
