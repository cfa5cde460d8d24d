"""Sessions, the caller, the settings and the checks done once at start-up, before any bucket is read."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from ..arns import ROLE_ARN, account_of
from ..aws import ACCESS_DENIED_CODES, AwsCallError, AwsError, AwsGateway, CallerIdentity, RetryableAwsError
from ..config import ConfigError, Settings
from ..errors import call
from .exits import EXIT_AWS_UNAVAILABLE, EXIT_NO_CREDENTIALS, CliError, usage


def session_for(
    profile: str | None, region: str | None, environ: Mapping[str, str] = os.environ
) -> boto3.session.Session:
    """A session as the AWS CLI v2 makes one: the Region from the flag, else AWS_REGION, else AWS_DEFAULT_REGION,
    else the profile (boto3 alone reads only the last two)."""
    region = region or environ.get("AWS_REGION", "").strip() or None
    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        name, source = (profile, "--profile") if profile else (environ.get("AWS_PROFILE", ""), "AWS_PROFILE")
        raise usage(
            f"AWS profile not found: {name!r} (from {source}); 'aws configure list-profiles' lists the profiles"
        ) from error


def region_of(session: boto3.session.Session, *, multi: bool = False) -> str:
    if not session.region_name:
        flags = "--regions or --region" if multi else "--region"
        raise usage(f"no AWS Region: pass {flags}, or set AWS_REGION (or a region in your AWS profile)")
    return str(session.region_name)


# SNS answers a denied Publish with AuthorizationError; S3, Connect and IAM with AccessDenied(Exception).
_DENIED_CODES = frozenset({"AuthorizationError", "KMSAccessDeniedException"})


def is_denied(error: AwsError) -> bool:
    """Whether AWS refused the call to these credentials: never "try again"."""
    return error.access_denied or error.code in _DENIED_CODES


def caller_of(session: boto3.session.Session) -> CallerIdentity:
    """Who the credentials are: the first AWS call, so that missing credentials end the run at once."""
    try:
        return AwsGateway(session=session).caller_identity()
    except AwsCallError as error:
        if error.code == "NoCredentials":
            raise CliError(
                "no AWS credentials found: set AWS_PROFILE, pass --profile, or run 'aws configure' / 'aws sso login'",
                EXIT_NO_CREDENTIALS,
            ) from error
        raise CliError(f"AWS did not accept the credentials: {error}", EXIT_NO_CREDENTIALS) from error
    except RetryableAwsError as error:
        raise CliError(f"AWS throttled or could not be reached, try again: {error}", EXIT_AWS_UNAVAILABLE) from error


class StackProblem(Exception):
    """What is wrong with the stack named by --stack-name; `missing` when it does not exist there."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def stack_outputs(session: boto3.session.Session, stack_name: str, where: str) -> dict[str, str]:
    """The stack's outputs; StackProblem says what is wrong with the stack (absent, unreadable)."""
    return stack_description(session, stack_name, where)[0]


def stack_description(
    session: boto3.session.Session, stack_name: str, where: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's outputs and parameters; StackProblem says what is wrong with the stack (absent, unreadable)."""
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        info = error.response.get("Error", {})
        code, message = str(info.get("Code", "")), str(info.get("Message", ""))
        if "does not exist" in message:
            raise StackProblem(f"stack {stack_name} does not exist in {where}", missing=True) from error
        if code in ACCESS_DENIED_CODES:
            raise StackProblem(
                f"access denied reading stack {stack_name} in {where}: cloudformation:DescribeStacks is needed"
            ) from error
        raise StackProblem(f"could not read stack {stack_name} in {where}: {code}: {message}") from error
    except BotoCoreError as error:
        raise StackProblem(f"could not read stack {stack_name} in {where}: {error}") from error
    if not stacks:
        raise StackProblem(f"stack {stack_name} does not exist in {where}", missing=True)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stacks[0].get("Parameters", [])}
    return outputs, parameters


def stack_enforcer_role(session: boto3.session.Session, stack_name: str, where: str) -> tuple[str, str | None]:
    """(EnforcerRoleArn, NotificationTopicArn or None) from the stack's outputs."""
    outputs = stack_outputs(session, stack_name, where)
    arn = outputs.get("EnforcerRoleArn", "")
    if not ROLE_ARN.match(arn):
        listed = ", ".join(sorted(outputs)) or "none"
        problem = (
            "has no EnforcerRoleArn output"
            if not arn
            else f"has an EnforcerRoleArn output that is no role ARN: {arn!r}"
        )
        raise StackProblem(
            f"stack {stack_name} in {where} {problem} (its outputs: {listed}); is it a Connect Bucket Lockdown stack?"
        )
    return arn, outputs.get("NotificationTopicArn") or None


def settings_from(
    environ: Mapping[str, str], *, enforcer_role_arn: str | None, topic_arn: str | None, for_apply: bool
) -> Settings:
    """The function's variables, with the flags' values; the command line never uses the index table."""
    env = {**environ, "ENFORCER_ROLE_ARN": enforcer_role_arn or ""}
    if topic_arn:
        env["NOTIFICATION_TOPIC_ARN"] = topic_arn
    if for_apply and not env.get("NOTIFICATION_TOPIC_ARN", "").strip():
        raise usage(
            "apply publishes one alert per result and needs the topic: set NOTIFICATION_TOPIC_ARN, or pass "
            "--stack-name to read it from the stack's outputs"
        )
    try:
        settings = Settings.from_env(env, require_topic=for_apply)
    except ConfigError as error:
        raise usage(str(error)) from error
    # Every read is fresh, and a read-only audit must not write the function's index.
    return replace(settings, inventory_table=None, security_hub=False)


def check_principal_accounts(settings: Settings, account: str, enforcer_label: str = "the function's role") -> None:
    """Admin, extra and enforcer principals must be of the audited account: IAM resolves their IDs there."""
    named = [("ADMIN_ROLE_ARNS", arn) for arn in settings.admin_role_arns]
    named += [("EXTRA_PRINCIPAL_ARNS", arn) for arn in settings.extra_principal_arns]
    if settings.enforcer_role_arn:
        named.append((enforcer_label, settings.enforcer_role_arn))
    for source, arn in named:
        if account_of(arn) != account:
            raise usage(
                f"{source}: {arn} is in account {account_of(arn)}, not {account}: the lockdown admits principals "
                "of the bucket's own account only (by unique ID, which IAM resolves in that account)"
            )


@dataclass(frozen=True)
class EnforcerSource:
    """Where the deployed function's role comes from, the first of: --enforcer-role-arn, --stack-name,
    --enforcer-role-name, ENFORCER_ROLE_ARN. None of them: the function is not deployed yet."""

    arn: str | None = None
    label: str = "ENFORCER_ROLE_ARN"
    stack_name: str | None = None
    role_name: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.arn or self.stack_name or self.role_name)


def enforcer_source(args: argparse.Namespace, environ: Mapping[str, str]) -> EnforcerSource:
    if args.enforcer_role_arn:
        return EnforcerSource(arn=args.enforcer_role_arn, label="--enforcer-role-arn")
    if args.stack_name:
        return EnforcerSource(stack_name=args.stack_name)
    if args.enforcer_role_name:
        return EnforcerSource(role_name=args.enforcer_role_name)
    arn = environ.get("ENFORCER_ROLE_ARN", "").strip()
    if arn and not ROLE_ARN.match(arn):
        raise usage(f"ENFORCER_ROLE_ARN is not an IAM role ARN: {arn!r}")
    return EnforcerSource(arn=arn or None)


NOT_DEPLOYED_NOTE = (
    "the function's role is not known (no ENFORCER_ROLE_ARN, --enforcer-role-arn, --stack-name or "
    "--enforcer-role-name), so the expected allowlist omits the not-yet-deployed function; apply needs its role"
)


def check_told_role(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    session: boto3.session.Session,
    identity: CallerIdentity,
    region: str,
) -> None:
    """The function's role the operator names (--enforcer-role-arn, or ENFORCER_ROLE_ARN) must exist, as that
    very ARN, and with --stack-name be the stack's own: a lock written for another role admits that role and
    locks the real function out of the bucket. A usage error (exit 2) says which role was expected."""
    told, label = args.enforcer_role_arn, "--enforcer-role-arn"
    if not told:
        told, label = environ.get("ENFORCER_ROLE_ARN", "").strip() or None, "ENFORCER_ROLE_ARN"
    if not told or account_of(told) != identity.account:
        return  # another account's role: check_principal_accounts names it
    where = f"account {identity.account}, Region {region}"
    if args.stack_name:
        deployed, _ = stack_enforcer_role(session, args.stack_name, where)
        if deployed != told:
            raise usage(
                f"{label} is {told}, but the function of stack {args.stack_name} runs as {deployed} (its "
                f"EnforcerRoleArn output): a lock written for another role locks the function out. Expected "
                f"{deployed}; leave {label} out to use it"
            )
    name = told.rsplit("/", 1)[-1]
    gateway = AwsGateway(session=session)
    try:
        found = call("GetRole", gateway.iam.get_role, RoleName=name)["Role"]["Arn"]
    except AwsCallError as error:
        if error.code != "NoSuchEntity":
            raise
        raise usage(
            f"{label} is {told}, and no role {name} exists in account {identity.account} (iam:GetRole: "
            "NoSuchEntity). Expected the deployed function's role, <EnforcerRoleName>-<Region> (the stack's "
            "EnforcerRoleArn output; --stack-name reads it)"
        ) from error
    if found != told:
        raise usage(f"{label} is {told}, but the role named {name} is {found}: expected {found}")
