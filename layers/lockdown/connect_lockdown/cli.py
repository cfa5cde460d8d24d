"""`connect-lockdown`: see and act on Connect bucket lockdowns from an operator's terminal.

The same library as the function, with no logic of its own: audit and plan run the enforcer in dry-run mode
with notifications off; apply runs it for real, so its alerts reach the topic like the function's do.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from . import __version__
from . import policy as policies
from .aws import AwsCallError, AwsGateway, CallerIdentity
from .config import ConfigError, Settings
from .events import BucketChanged, Sweep, Trigger
from .outcomes import BucketResult, Outcome, RetryLater, RunReport
from .reconcile import Enforcer

# Exit codes: distinct, so cron and CI can tell them apart.
EXIT_OK = 0
EXIT_NOT_COMPLIANT = 1
EXIT_USAGE = 2
EXIT_NO_CREDENTIALS = 3
EXIT_ACCESS_DENIED = 4
EXIT_UNKNOWN_BUCKET = 5
EXIT_AWS_UNAVAILABLE = 6

EXIT_CODES_HELP = """exit codes:
  0  every bucket is compliant (audit, plan) or was brought to compliance (apply)
  1  a bucket is drifted, missing its policy, refused or failed
  2  bad usage or configuration
  3  no AWS credentials
  4  access denied (on the Connect inventory or a bucket)
  5  the bucket named with --bucket is not used by any Connect instance
  6  AWS throttled or was unavailable; try again"""

ENVIRONMENT_HELP = """configuration (the same environment variables as the function; flags win):
  ENFORCER_ROLE_ARN      the deployed function's role: every lockdown must admit it (or use --stack-name)
  NOTIFICATION_TOPIC_ARN where apply publishes its results (or use --stack-name)
  ADMIN_ROLE_ARNS, EXTRA_PRINCIPAL_ARNS, MERGE_MODE, DRY_RUN   as in the README
  AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL                     as in the AWS CLI"""

STATE_LABELS = {
    "compliant": "compliant",
    "refused": "refused",
    "failed": "failed",
    "pending": "pending",
}


class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def state_of(result: BucketResult) -> str:
    """compliant, drifted, missing policy, refused, failed or pending."""
    if result.outcome in ("would_remediate", "remediated"):
        return "missing policy" if result.previous_policy is None else "drifted"
    return STATE_LABELS.get(result.outcome, result.outcome)


def differences_of(result: BucketResult) -> list[str]:
    if result.outcome in ("would_remediate", "remediated") and result.applied_policy is not None:
        return policies.describe_differences(result.previous_policy, result.applied_policy)
    if result.outcome in ("refused", "failed"):
        return [result.reason]
    return []


# --- the parser ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    aws = common.add_argument_group("AWS options")
    aws.add_argument("--region", help="AWS Region of the Connect instances (default: your AWS configuration)")
    aws.add_argument("--profile", help="named profile from your AWS configuration")
    aws.add_argument("--stack-name", help="read ENFORCER_ROLE_ARN and NOTIFICATION_TOPIC_ARN from this stack's outputs")
    aws.add_argument("--enforcer-role-arn", help="the deployed function's role ARN (overrides ENFORCER_ROLE_ARN)")
    aws.add_argument("--bucket", help="only this bucket (default: every Connect bucket in the Region)")

    parser = argparse.ArgumentParser(
        prog="connect-lockdown",
        description="See and enforce the lockdown bucket policy of Amazon Connect buckets.",
        epilog=f"{ENVIRONMENT_HELP}\n\n{EXIT_CODES_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{audit,plan,apply}")

    audit = commands.add_parser(
        "audit",
        parents=[common],
        help="read-only: every Connect bucket, its instances and its state",
        description="Read-only: list every Connect bucket with its instances, its state (compliant, drifted, "
        "missing policy, refused, failed) and what differs. Writes nothing and sends no alert.",
        epilog="example:\n  connect-lockdown audit --stack-name connect-bucket-lockdown\n"
        "  connect-lockdown audit --json --region eu-west-2 > audit.json\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("--json", action="store_true", help="machine-readable output")

    plan = commands.add_parser(
        "plan",
        parents=[common],
        help="read-only: the policy each bucket would get, as a diff against today's",
        description="Read-only: show, for each bucket that is not compliant, the policy it would get as a "
        "unified diff against its current policy.",
        epilog="example:\n  connect-lockdown plan --bucket amazon-connect-25fd0a3be3ef "
        "--enforcer-role-arn arn:aws:iam::123456789012:role/connect-lockdown-EnforcerRole-ABC\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument("--json", action="store_true", help="machine-readable output")

    apply = commands.add_parser(
        "apply",
        parents=[common],
        help="reconcile now: show the plan, confirm, write, alert",
        description="Reconcile now. Shows the plan and asks for confirmation unless --yes; then writes the "
        "expected policies and publishes one alert per result to NOTIFICATION_TOPIC_ARN, as the function does.",
        epilog="example:\n  connect-lockdown apply --stack-name connect-bucket-lockdown\n"
        "  connect-lockdown apply --bucket amazon-connect-25fd0a3be3ef --yes\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    apply.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


# --- running ------------------------------------------------------------------------------------------


class Progress:
    """A single updating line on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, index: int, total: int, bucket: str) -> None:
        self.show(f"checking bucket {index}/{total}: {bucket}")

    def show(self, text: str) -> None:
        if self.enabled:
            self.stream.write("\r\033[K" + text[:100])
            self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _session(args: argparse.Namespace) -> boto3.session.Session:
    try:
        return boto3.session.Session(profile_name=args.profile, region_name=args.region)
    except ProfileNotFound as error:
        raise CliError(f"AWS profile not found: {args.profile}", EXIT_USAGE) from error


def _stack_outputs(session: boto3.session.Session, stack_name: str) -> dict[str, str]:
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError) as error:
        raise CliError(f"could not read the outputs of stack {stack_name}: {error}", EXIT_USAGE) from error
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def load_settings(args: argparse.Namespace, session: boto3.session.Session, *, for_apply: bool) -> Settings:
    environ = dict(os.environ)
    if args.stack_name:
        outputs = _stack_outputs(session, args.stack_name)
        environ.setdefault("ENFORCER_ROLE_ARN", outputs.get("EnforcerRoleArn", ""))
        environ.setdefault("NOTIFICATION_TOPIC_ARN", outputs.get("NotificationTopicArn", ""))
    if args.enforcer_role_arn:
        environ["ENFORCER_ROLE_ARN"] = args.enforcer_role_arn
    try:
        settings = Settings.from_env(environ, require_topic=for_apply)
    except ConfigError as error:
        raise CliError(str(error), EXIT_USAGE) from error
    if settings.enforcer_role_arn is None:
        raise CliError(
            "the deployed function's role is needed, so that a policy written or planned from here still admits "
            "it: set ENFORCER_ROLE_ARN, or pass --enforcer-role-arn or --stack-name",
            EXIT_USAGE,
        )
    return settings


def _preflight(gateway: AwsGateway) -> CallerIdentity:
    try:
        return gateway.caller_identity()
    except AwsCallError as error:
        if error.code == "NoCredentials":
            raise CliError(
                "no AWS credentials found: set AWS_PROFILE, pass --profile, or run 'aws configure' / 'aws sso login'",
                EXIT_NO_CREDENTIALS,
            ) from error
        raise CliError(f"AWS did not accept the credentials: {error}", EXIT_NO_CREDENTIALS) from error


def run_enforcer(
    args: argparse.Namespace, settings: Settings, session: boto3.session.Session, *, read_only: bool
) -> tuple[RunReport, Enforcer, CallerIdentity]:
    progress = Progress(sys.stderr)
    gateway = AwsGateway(session=session)
    identity = _preflight(gateway)
    if read_only:
        settings = dataclasses.replace(settings, dry_run=True)
    enforcer = Enforcer(settings, gateway, notify=not read_only, progress=progress, caller_is_enforcer=False)
    trigger = Trigger(
        event_id=None,
        event_name=f"connect-lockdown {args.command}",
        actor=identity.arn,
        time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    progress.show("reading the Connect inventory...")
    try:
        # The command line always starts cold: every read here is fresh.
        cause = BucketChanged(args.bucket, trigger) if args.bucket else Sweep(trigger, scheduled=True)
        report = enforcer.reconcile(cause)
    except RetryLater as error:
        raise CliError(f"AWS throttled or was unavailable, try again: {error}", EXIT_AWS_UNAVAILABLE) from error
    finally:
        progress.done()
    if args.bucket and report.ignored:
        raise CliError(f"unknown bucket: {report.ignored}", EXIT_UNKNOWN_BUCKET)
    for result in report.results:
        if result.outcome is Outcome.FAILED and result.access_denied and (args.bucket or result.bucket is None):
            raise CliError(f"access denied: {result.reason}", EXIT_ACCESS_DENIED)
    return report, enforcer, identity


def _aliases(report: RunReport) -> dict[str, str | None]:
    return {i.id: i.alias for r in report.results for i in r.instances}


def _instances_text(ids: list[str], aliases: dict[str, str | None]) -> str:
    return ", ".join(f"{aliases.get(i) or '?'} ({i})" for i in ids) or "-"


def exit_code_for(report: RunReport) -> int:
    if any(r.outcome is Outcome.FAILED and r.access_denied for r in report.results):
        return EXIT_ACCESS_DENIED
    if any(r.outcome not in ("compliant", "pending", "remediated") for r in report.results):
        return EXIT_NOT_COMPLIANT
    return EXIT_OK


def audit_document(report: RunReport, enforcer: Enforcer, identity: CallerIdentity) -> dict[str, Any]:
    buckets = [r for r in report.results if r.bucket is not None]
    return {
        "account": identity.account,
        "region": enforcer.gateway.region,
        "buckets": [
            {
                "bucket": r.bucket,
                "state": state_of(r),
                "outcome": r.outcome,
                "instances": [{"id": i.id, "alias": i.alias} for i in r.instances],
                "differences": differences_of(r),
                "reason": r.reason,
            }
            for r in buckets
        ],
        "pending_instances": [
            {"id": r.instances[0].id, "alias": r.instances[0].alias}
            for r in report.results
            if r.bucket is None and r.outcome is Outcome.PENDING
        ],
        "orphaned_buckets": report.orphaned_buckets,
        "compliant": exit_code_for(report) == EXIT_OK,
    }


def print_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


def command_audit(args: argparse.Namespace, out: TextIO) -> int:
    session = _session(args)
    settings = load_settings(args, session, for_apply=False)
    report, enforcer, identity = run_enforcer(args, settings, session, read_only=True)
    document = audit_document(report, enforcer, identity)
    if args.json:
        out.write(json.dumps(document, indent=2) + "\n")
        return exit_code_for(report)
    rows: list[list[str]] = [["BUCKET", "INSTANCES", "STATE", "WHAT DIFFERS"]]
    aliases = _aliases(report)
    for result in report.results:
        if result.bucket is None:
            continue
        rows.append(
            [
                result.bucket,
                _instances_text(result.instance_ids, aliases),
                state_of(result),
                "; ".join(differences_of(result)),
            ]
        )
    if len(rows) == 1:
        out.write(f"No Connect bucket in {enforcer.gateway.region} (account {identity.account}).\n")
    else:
        print_table(rows, out)
    for pending in document["pending_instances"]:
        out.write(f"pending: Connect instance {pending['alias'] or '?'} ({pending['id']}) has no S3 storage yet\n")
    for bucket in report.orphaned_buckets:
        out.write(f"no instance: {bucket} carries the lockdown, but no Connect instance uses it any more\n")
    out.write(f"\n{report.counts().sentence()}\n")
    return exit_code_for(report)


def _diff(before: dict[str, Any] | None, after: dict[str, Any] | None, bucket: str) -> list[str]:
    old = json.dumps(before, indent=2).splitlines() if before is not None else []
    new = json.dumps(after, indent=2).splitlines() if after is not None else []
    return list(difflib.unified_diff(old, new, f"{bucket} (current)", f"{bucket} (expected)", lineterm=""))


def print_plan(report: RunReport, enforcer: Enforcer, out: TextIO) -> int:
    """Print the plan; return how many buckets would change."""
    aliases = _aliases(report)
    changes = 0
    for result in report.results:
        if result.bucket is None:
            continue
        header = f"# {result.bucket} ({_instances_text(result.instance_ids, aliases)}): {state_of(result)}"
        out.write(header + "\n")
        if result.outcome == "would_remediate":
            changes += 1
            for line in differences_of(result):
                out.write(f"#   {line}\n")
            out.write("\n".join(_diff(result.previous_policy, result.applied_policy, result.bucket)) + "\n")
        elif result.outcome == "compliant":
            out.write("#   no change\n")
        else:
            out.write(f"#   nothing will be written: {result.reason}\n")
        out.write("\n")
    if not any(r.bucket for r in report.results):
        out.write(f"No Connect bucket in {enforcer.gateway.region}.\n")
    return changes


def command_plan(args: argparse.Namespace, out: TextIO) -> int:
    session = _session(args)
    settings = load_settings(args, session, for_apply=False)
    report, enforcer, _ = run_enforcer(args, settings, session, read_only=True)
    if args.json:
        plan = [
            {"bucket": r.bucket, "state": state_of(r), "current": r.previous_policy, "expected": r.applied_policy}
            for r in report.results
            if r.bucket is not None
        ]
        out.write(json.dumps(plan, indent=2) + "\n")
    else:
        print_plan(report, enforcer, out)
    return exit_code_for(report)


def command_apply(args: argparse.Namespace, out: TextIO) -> int:
    session = _session(args)
    settings = load_settings(args, session, for_apply=True)
    plan_report, plan_enforcer, _ = run_enforcer(args, settings, session, read_only=True)
    changes = print_plan(plan_report, plan_enforcer, out)
    if changes == 0:
        out.write("Nothing to apply.\n")
        return exit_code_for(plan_report)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("refusing to apply without confirmation: pass --yes", EXIT_USAGE)
        answer = input(f"Apply {changes} change(s)? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            out.write("Nothing was applied.\n")
            return EXIT_NOT_COMPLIANT
    report, _, _ = run_enforcer(args, settings, session, read_only=False)
    for result in report.results:
        if result.bucket is not None:
            out.write(f"{result.outcome}: {result.bucket}: {result.reason}\n")
    return exit_code_for(report)


COMMANDS = {"audit": command_audit, "plan": command_plan, "apply": command_apply}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out)
    except CliError as error:
        sys.stderr.write(f"connect-lockdown: error: {error}\n")
        return error.code
    except KeyboardInterrupt:
        sys.stderr.write("connect-lockdown: interrupted\n")
        return 130
