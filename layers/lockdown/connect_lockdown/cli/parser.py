"""The argument parser, and the checks of each argument's value (a bad one is a usage error, exit 2)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

from .. import __version__
from ..arns import ROLE_ARN
from .exits import EXIT_CODES_HELP, usage

# S3 bucket names: 3-63 characters of lowercase letters, digits, dots and hyphens, a letter or digit at each end.
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
DEFAULT_ENFORCER_ROLE_NAME = "connect-lockdown-enforcer"

ENVIRONMENT_HELP = """configuration (the same environment variables as the function; flags win):
  ENFORCER_ROLE_ARN      the deployed function's role: a lockdown written from here must admit it
                         (or --stack-name / --enforcer-role-name); without it, audit and plan still
                         show each bucket's state, with an allowlist that omits the function
  NOTIFICATION_TOPIC_ARN where apply publishes its results (or --stack-name)
  ADMIN_ROLE_ARNS, EXTRA_PRINCIPAL_ARNS   roles of the audited account (checked at start-up)
  MERGE_MODE, EXEMPT_AWS_SERVICES         as in the README
  AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL   as in the AWS CLI"""

FORMATTER = argparse.RawDescriptionHelpFormatter


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connect-lockdown",
        description="See and enforce the lockdown bucket policy of Amazon Connect buckets.",
        epilog=f"{ENVIRONMENT_HELP}\n\n{EXIT_CODES_HELP}",
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{audit,plan,apply,unlock,guardrail}")
    _audit(commands)
    _plan(commands)
    _apply(commands)
    _unlock(commands)
    _guardrail(commands)
    return parser


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; an unknown one is reported with the usage of the command it was given to."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _common(parser: argparse.ArgumentParser, *, bucket: bool, enforcer: bool) -> None:
    aws = parser.add_argument_group("AWS options")
    aws.add_argument("--region", help="AWS Region of the Connect instances (default: your AWS configuration)")
    aws.add_argument("--profile", help="named profile from your AWS configuration")
    aws.add_argument("--verbose", action="store_true", help="also show the library's warnings on stderr")
    if enforcer:
        aws.add_argument("--stack-name", help="read the function's role (and topic) from this stack's outputs")
        aws.add_argument("--enforcer-role-arn", help="the deployed function's role ARN (overrides ENFORCER_ROLE_ARN)")
        aws.add_argument(
            "--enforcer-role-name",
            help="the stack's EnforcerRoleName parameter: the function's role is <name>-<Region> in each account",
        )
    if bucket:
        aws.add_argument("--bucket", help="only this bucket (default: every Connect bucket in the Region)")


def _scopes(parser: argparse.ArgumentParser) -> None:
    scope = parser.add_argument_group("several accounts and Regions")
    accounts = scope.add_mutually_exclusive_group()
    accounts.add_argument("--accounts", metavar="ID[,ID...]", help="these AWS accounts")
    accounts.add_argument(
        "--organization", action="store_true", help="every ACTIVE account of the AWS Organization (ListAccounts)"
    )
    scope.add_argument("--regions", metavar="R[,R...]", help="these Regions (default: --region or your configuration)")
    scope.add_argument(
        "--role-name",
        default=DEFAULT_ROLE_NAME,
        help=f"role assumed in each other account (default {DEFAULT_ROLE_NAME}); your own account is read "
        "with your own credentials",
    )


def _audit(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser(
        "audit",
        help="read-only: every Connect bucket, its instances and its state",
        description="Read-only: list every Connect bucket with its instances, its state (compliant, drifted, "
        "missing policy, refused, failed), what differs and who each allowlist entry is. Writes nothing and "
        "sends no alert. With --accounts, --organization or --regions: every account and Region in parallel.",
        epilog="examples:\n  connect-lockdown audit --stack-name connect-bucket-lockdown\n"
        "  connect-lockdown audit --json --region eu-west-2 > audit.json\n"
        "  connect-lockdown audit --organization --regions us-east-1,eu-west-2 --stack-name connect-bucket-lockdown"
        "\n\n" + EXIT_CODES_HELP,
        formatter_class=FORMATTER,
    )
    _common(audit, bucket=True, enforcer=True)
    _scopes(audit)
    audit.add_argument("--json", action="store_true", help="machine-readable output")


def _plan(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = commands.add_parser(
        "plan",
        help="read-only: the policy each bucket would get, as a diff against today's",
        description="Read-only: list every Connect bucket with its state; for each one apply would change, "
        "the policy it would get as a unified diff against its current policy, with a legend naming each "
        "allowlist entry.",
        epilog="example:\n  connect-lockdown plan --bucket amazon-connect-25fd0a3be3ef "
        "--stack-name connect-bucket-lockdown\n\n" + EXIT_CODES_HELP,
        formatter_class=FORMATTER,
    )
    _common(plan, bucket=True, enforcer=True)
    plan.add_argument("--json", action="store_true", help="machine-readable output")


def _apply(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apply = commands.add_parser(
        "apply",
        help="reconcile now: show the plan, confirm, write, alert",
        description="Reconcile now. Shows the plan and asks for confirmation unless --yes; then writes the "
        "expected policies and publishes one alert per result to NOTIFICATION_TOPIC_ARN, as the function does. "
        "Needs the deployed function's role, so that every policy it writes admits the function.",
        epilog="examples:\n  connect-lockdown apply --stack-name connect-bucket-lockdown\n"
        "  connect-lockdown apply --stack-name connect-bucket-lockdown --bucket amazon-connect-25fd0a3be3ef --yes"
        "\n\n" + EXIT_CODES_HELP,
        formatter_class=FORMATTER,
    )
    _common(apply, bucket=True, enforcer=True)
    apply.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _unlock(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    unlock = commands.add_parser(
        "unlock",
        help="remove the lockdown statement: show the plan, confirm, write, alert (before uninstalling)",
        description="Remove this project's lockdown statement (Sid ConnectBucketLockdown), and only it, from every "
        "Connect bucket of the Region and every bucket that carries it without a Connect instance. Every other "
        "statement is kept; a policy left with no statement is deleted. Shows the plan and asks for confirmation "
        "unless --yes; then writes and publishes one alert per bucket changed (outcome unlocked) to "
        "NOTIFICATION_TOPIC_ARN. A policy that cannot be read one way only (a repeated key, not JSON) is "
        "refused, exit 2. A deployed enforcer that is not in dry run locks the Connect buckets again: deploy it "
        "with DryRun=true first (README, Uninstall).",
        epilog="examples:\n  connect-lockdown unlock --stack-name connect-bucket-lockdown\n"
        "  connect-lockdown unlock --stack-name connect-bucket-lockdown --bucket amazon-connect-25fd0a3be3ef --yes"
        "\n\n" + EXIT_CODES_HELP,
        formatter_class=FORMATTER,
    )
    _common(unlock, bucket=True, enforcer=False)
    unlock.add_argument("--stack-name", help="read the topic from this stack's outputs, and check its DryRun")
    unlock.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _guardrail(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    guardrail = commands.add_parser(
        "guardrail",
        help="print the organization policy (SCP, or RCP with --kind rcp) that guards the Connect buckets",
        description="Print on stdout an AWS Organizations policy for the Connect buckets it finds, and for "
        "Connect's default names (amazon-connect-*). --kind scp (the default): the service control policy that "
        "denies s3:PutBucketPolicy and s3:DeleteBucketPolicy to everyone but the enforcer's role (by ARN, in "
        "every account) and the break-glass roles, and iam:CreateRole, iam:PassRole and "
        "iam:UpdateAssumeRolePolicy on the enforcer's role name to everyone but the deployer and the break-glass "
        "roles. --kind rcp: the resource control policy that denies s3:* on those buckets to everyone but the "
        "bucket's own account root, the --admin-role-name roles and the enforcer in that account, the Connect "
        "roles found, the break-glass roles and the service principals of EXEMPT_AWS_SERVICES. A JSON document, "
        "or a JSON array of documents when one would exceed 5,120 characters. Writes nothing to AWS: attaching "
        "it is the organization administrator's decision.",
        epilog="examples:\n  connect-lockdown guardrail --organization --regions us-east-1,eu-west-2 \\\n"
        "      --exempt-role-arn arn:aws:iam::111122223333:role/BreakGlass > guardrail.json\n"
        "  connect-lockdown guardrail --kind rcp --organization --regions us-east-1,eu-west-2 \\\n"
        "      --admin-role-name SecurityAdmin > lockdown-rcp.json\n\n" + EXIT_CODES_HELP,
        formatter_class=FORMATTER,
    )
    guardrail.add_argument(
        "--kind",
        choices=("scp", "rcp"),
        default="scp",
        help="scp (default): the service control policy; rcp: the resource control policy that carries the lock",
    )
    _common(guardrail, bucket=False, enforcer=False)
    guardrail.add_argument(
        "--enforcer-role-name",
        help="the stack's EnforcerRoleName parameter (default: the name in ENFORCER_ROLE_ARN, else "
        f"{DEFAULT_ENFORCER_ROLE_NAME}); the role <name>-<Region> is exempt in every account",
    )
    guardrail.add_argument(
        "--exempt-role-arn", action="append", default=[], metavar="ARN", help="a break-glass role (repeatable)"
    )
    guardrail.add_argument(
        "--deployer-role-arn",
        action="append",
        default=[],
        metavar="ARN",
        help="--kind scp: the role that deploys the stack, alone (with the break-glass roles) allowed to create, "
        "pass or re-trust the enforcer's role; * may stand for the account or part of the name (repeatable; "
        "default: the CloudFormation StackSets execution roles, stacksets-exec-* and "
        "AWSCloudFormationStackSetExecutionRole)",
    )
    guardrail.add_argument(
        "--admin-role-name",
        action="append",
        default=[],
        metavar="NAME",
        help="--kind rcp: a role admitted in every account, on that account's buckets (repeatable)",
    )
    _scopes(guardrail)


def check_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """Validate and normalise the values argparse cannot: raise a usage error naming the flag."""
    bucket = getattr(args, "bucket", None)
    if bucket is not None and not (BUCKET_NAME.match(bucket) and ".." not in bucket):
        shown = repr(bucket) if bucket else "empty"
        raise usage(f"--bucket is {shown}, not an S3 bucket name; leave --bucket out to cover every Connect bucket")
    args.accounts = _listed(getattr(args, "accounts", None), "--accounts", ACCOUNT_ID, "a 12-digit account ID")
    args.regions = _listed(getattr(args, "regions", None), "--regions", REGION_NAME, "a Region name")
    if args.region is not None and not REGION_NAME.match(args.region):
        raise usage(f"--region {args.region!r} is not a Region name (for example eu-west-2)")
    if args.regions and args.region:
        raise usage("pass --region or --regions, not both")
    if getattr(args, "role_name", None) is not None and not ROLE_NAME.match(args.role_name):
        raise usage(f"--role-name {args.role_name!r} is not an IAM role name")
    name = getattr(args, "enforcer_role_name", None)
    if name is not None and not ROLE_NAME.match(name):
        raise usage(f"--enforcer-role-name {name!r} is not an IAM role name")
    arn = getattr(args, "enforcer_role_arn", None)
    if arn is not None and not ROLE_ARN.match(arn):
        raise usage(f"--enforcer-role-arn {arn!r} is not an IAM role ARN")
    for arn in getattr(args, "exempt_role_arn", []):
        if not ROLE_ARN.match(arn):
            raise usage(f"--exempt-role-arn {arn!r} is not an IAM role ARN")
    if is_multi_scope(args) and bucket is not None:
        raise usage(
            "--bucket names one bucket of one account: leave it out with --accounts, --organization or --regions"
        )
    return args


def is_multi_scope(args: argparse.Namespace) -> bool:
    """Whether the command runs over several accounts or Regions (--accounts, --organization, --regions)."""
    return bool(
        getattr(args, "accounts", None) or getattr(args, "organization", False) or getattr(args, "regions", None)
    )


def _listed(text: str | None, flag: str, pattern: re.Pattern[str], kind: str) -> list[str] | None:
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise usage(f"{flag} is empty: give at least one value")
    unique: list[str] = []
    for item in items:
        if not pattern.match(item):
            raise usage(f"{flag}: {item!r} is not {kind}")
        if item not in unique:
            unique.append(item)
    return unique
