"""`connect-lockdown guardrail`: the service control policy that keeps everyone but the enforcer from changing or
deleting a Connect bucket's policy (or, with `--kind rcp`, the resource control policy of cli/rcp.py). It reads
the Connect inventories and writes nothing to AWS.

The first statement denies only s3:PutBucketPolicy and s3:DeleteBucketPolicy, on `amazon-connect-*` (Connect's
default bucket names, also those created later) and on every custom-named Connect bucket found, unless the
caller's role ARN (`aws:PrincipalArn`, `ArnNotLike`) is the enforcer's in any account, named exactly
`<EnforcerRoleName>-<Region>` for each Region given, or a break-glass role given with --exempt-role-arn. Exact
names, not `<EnforcerRoleName>-*`: a prefix would also exempt any role a member-account administrator names
that way, or creates under a path of that name.

The second statement keeps that name from being taken: the locks admit the enforcer by its role ARN, so whoever
creates a role of that name (after the stack is deleted, or in an account the stack never reached), passes it
to a function, or rewrites its trust policy, passes every lock. It denies iam:CreateRole, iam:PassRole and
iam:UpdateAssumeRolePolicy on those exact role ARNs in every account to everyone but the deployer
(--deployer-role-arn; by default the roles CloudFormation StackSets deploy with) and the break-glass roles.

Organizations counts every character of a policy sent through the API or the CLI, white space too, so the
documents are printed minified and measured so; one that would exceed 5,120 characters is split.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from ..arns import ROLE_ARN
from ..aws import AwsCallError, AwsGateway
from ..inventory import read_inventory
from .context import caller_of
from .exits import EXIT_INCOMPLETE, EXIT_OK, usage
from .parser import DEFAULT_ENFORCER_ROLE_NAME, ROLE_NAME
from .progress import Progress
from .rcp import (
    RCP_MAX_CHARACTERS,
    admitted_arns,
    bucket_resource_groups,
    exempt_services,
    is_service_linked,
    rcp_document,
    rcp_notes,
)
from .scope import base_role_name
from .scopes import Scope, ScopeError, ScopeFailure, Sessions, accounts_of, base_session, run_scopes
from .wording import plural

# A role ARN pattern for ArnNotLike: the account may be *, the path and name may hold *.
DEPLOYER_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::(?:\d{12}|\*):role/[\w+=,.@/*-]{1,512}$")
SCP_MAX_CHARACTERS = 5120
SID = "ConnectBucketPolicyGuardrail"
ACTIONS = ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"]
ROLE_SID = "ConnectLockdownEnforcerRoleName"
ROLE_ACTIONS = ["iam:CreateRole", "iam:PassRole", "iam:UpdateAssumeRolePolicy"]
DEFAULT_BUCKET_PREFIX = "amazon-connect-"
# The roles CloudFormation StackSets deploy with in a target account: service-managed permissions create
# `stacksets-exec-<id>`, self-managed ones use AWSCloudFormationStackSetExecutionRole (CloudFormation User Guide,
# stacksets-prereqs-self-managed.html and stacksets-orgs-activate-trusted-access.html).
STACKSET_EXECUTION_ROLES = ("stacksets-exec-*", "AWSCloudFormationStackSetExecutionRole")


def enforcer_role_paths(args: argparse.Namespace, environ: Mapping[str, str], regions: Sequence[str]) -> list[str]:
    """`<path><name>` of the enforcer's role in each Region: --enforcer-role-name, the name in
    ENFORCER_ROLE_ARN, or the template's default."""
    if args.enforcer_role_name:
        return [f"/{args.enforcer_role_name}-{region}" for region in regions]
    arn = environ.get("ENFORCER_ROLE_ARN", "").strip()
    if not arn:
        return [f"/{DEFAULT_ENFORCER_ROLE_NAME}-{region}" for region in regions]
    if not ROLE_ARN.match(arn):
        raise usage(f"ENFORCER_ROLE_ARN is not an IAM role ARN: {arn!r}")
    path_and_name = arn.split(":role", 1)[1]
    path, name = path_and_name.rsplit("/", 1)
    base = base_role_name(name)
    if base is None:
        # Not the template's `<EnforcerRoleName>-<Region>`: exempt that very name, which must then be the same
        # in every account.
        return [path_and_name]
    return [f"{path}/{base}-{region}" for region in regions]


def exempt_arns(partition: str, role_paths: Sequence[str], break_glass: Sequence[str]) -> list[str]:
    arns = [f"arn:{partition}:iam::*:role{path}" for path in role_paths]
    return arns + [arn for arn in break_glass if arn not in arns]


def enforcer_role_arns(partition: str, role_paths: Sequence[str]) -> list[str]:
    """The enforcer's exact role ARN in every account, one per Region."""
    return [f"arn:{partition}:iam::*:role{path}" for path in role_paths]


def deployer_arns(partition: str, deployers: Sequence[str], break_glass: Sequence[str]) -> list[str]:
    """Who may create, pass or re-trust the enforcer's role: the deployer (--deployer-role-arn, by default the
    StackSets execution roles) and the break-glass roles."""
    chosen = list(deployers) or [f"arn:{partition}:iam::*:role/{name}" for name in STACKSET_EXECUTION_ROLES]
    return list(dict.fromkeys([*chosen, *break_glass]))


def bucket_resources(partition: str, buckets: Sequence[str]) -> list[str]:
    custom = sorted({b for b in buckets if not b.startswith(DEFAULT_BUCKET_PREFIX)})
    return [f"arn:{partition}:s3:::{DEFAULT_BUCKET_PREFIX}*"] + [f"arn:{partition}:s3:::{b}" for b in custom]


def role_statement(role_arns: Sequence[str], deployers: Sequence[str]) -> dict[str, Any]:
    return {
        "Sid": ROLE_SID,
        "Effect": "Deny",
        "Action": ROLE_ACTIONS,
        "Resource": list(role_arns),
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": list(deployers)}},
    }


def document(
    resources: Sequence[str], exempt: Sequence[str], *, role: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    statement = {
        "Sid": SID,
        "Effect": "Deny",
        "Action": ACTIONS,
        "Resource": list(resources),
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": list(exempt)}},
    }
    return {"Version": "2012-10-17", "Statement": [statement] + ([dict(role)] if role else [])}


def minified(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


def split_documents(
    groups: Sequence[Sequence[str]],
    make: Callable[[list[str], bool], dict[str, Any]],
    *,
    limit: int,
    too_long: str,
) -> list[dict[str, Any]]:
    """As few documents as fit `limit` minified characters each. `groups` of resources stay together (a bucket
    and its objects); `make(resources, first)` builds a document, the first one possibly carrying more."""
    documents: list[dict[str, Any]] = []
    current: list[str] = []
    for group in groups:
        first = not documents
        if len(minified(make(list(group), first))) > limit:
            raise usage(too_long)
        if current and len(minified(make([*current, *group], first))) > limit:
            documents.append(make(current, first))
            current = []
        current.extend(group)
    documents.append(make(current, not documents))
    return documents


def guardrail_documents(
    resources: Sequence[str],
    exempt: Sequence[str],
    *,
    role: Mapping[str, Any] | None = None,
    limit: int = SCP_MAX_CHARACTERS,
) -> list[dict[str, Any]]:
    """The SCP in as few documents as fit `limit` characters each; every one carries the same exemptions, the
    first one also the statement that guards the enforcer's role name."""
    return split_documents(
        [[resource] for resource in resources],
        lambda chunk, first: document(chunk, exempt, role=role if first else None),
        limit=limit,
        too_long=f"the exemptions alone make the policy longer than {limit} characters: give fewer "
        "--exempt-role-arn, --deployer-role-arn or Regions",
    )


def rcp_documents(
    groups: Sequence[Sequence[str]],
    admitted: Sequence[str],
    services: Sequence[str],
    *,
    limit: int = RCP_MAX_CHARACTERS,
) -> list[dict[str, Any]]:
    """The RCP in as few documents as fit `limit` characters each; every one admits the same principals."""
    return split_documents(
        groups,
        lambda chunk, _first: rcp_document(chunk, admitted, services),
        limit=limit,
        too_long=f"the admitted principals alone make the policy longer than {limit} characters: give fewer "
        "--admin-role-name, --exempt-role-arn or Regions",
    )


@dataclass(frozen=True)
class Found:
    """What one account and Region holds: its Connect buckets and the instances' service roles."""

    account: str
    buckets: tuple[str, ...]
    roles: tuple[str, ...]


def found_in(scope: Scope, sessions: Sessions) -> Found:
    """The Connect buckets and service roles of one account and Region."""
    gateway = AwsGateway(session=sessions.for_scope(scope))
    try:
        inventory = read_inventory(gateway)
    except AwsCallError as error:
        raise ScopeFailure(f"reading the Connect inventory failed: {error}") from error
    unreadable = [
        f"{i.label()} ({', '.join(sorted(i.unreadable_types))})" for i in inventory.instances if i.unreadable_types
    ]
    if unreadable:
        raise ScopeFailure(f"the storage of some Connect instances could not be read: {'; '.join(unreadable)}")
    roles = sorted({i.service_role_arn for i in inventory.instances if i.service_role_arn})
    return Found(scope.account, tuple(sorted(inventory.bucket_instances())), tuple(roles))


def check_guardrail_arguments(args: argparse.Namespace) -> None:
    """The guardrail's own flags; a bad one is a usage error before any AWS call."""
    for arn in getattr(args, "deployer_role_arn", []):
        if not DEPLOYER_ARN.match(arn):
            raise usage(
                f"--deployer-role-arn {arn!r} is not an IAM role ARN (* may stand for the account or part of the name)"
            )
    for name in getattr(args, "admin_role_name", []):
        if not ROLE_NAME.match(name):
            raise usage(f"--admin-role-name {name!r} is not an IAM role name")
    kind = getattr(args, "kind", None)
    if kind == "rcp" and getattr(args, "deployer_role_arn", []):
        raise usage("--deployer-role-arn applies to the SCP only: leave it out with --kind rcp")
    if kind == "scp" and getattr(args, "admin_role_name", []):
        raise usage("--admin-role-name applies to the RCP only: add --kind rcp")


def command_guardrail(args: argparse.Namespace, out: TextIO) -> int:
    check_guardrail_arguments(args)
    session, regions = base_session(args)
    role_paths = enforcer_role_paths(args, os.environ, regions)
    services = exempt_services(os.environ) if args.kind == "rcp" else []
    identity = caller_of(session)
    accounts = accounts_of(args, session, identity)
    sessions = Sessions(args.profile, identity, args.role_name)
    scopes = [Scope(account, region) for account in accounts for region in regions]
    done = run_scopes(scopes, lambda scope: found_in(scope, sessions), verb="read", progress=Progress(sys.stderr))
    found = [item for item in done if isinstance(item, Found)]
    errors = [item for item in done if isinstance(item, ScopeError)]
    buckets = sorted({bucket for item in found for bucket in item.buckets})
    partition = identity.partition
    if args.kind == "rcp":
        admitted = admitted_arns(
            partition,
            enforcer_paths=role_paths,
            admin_role_names=args.admin_role_name,
            connect_roles=[role for item in found for role in item.roles],
            exempt_role_arns=args.exempt_role_arn,
        )
        documents = rcp_documents(bucket_resource_groups(partition, buckets, DEFAULT_BUCKET_PREFIX), admitted, services)
        management = management_account(session)
        lines = rcp_notes(
            buckets=buckets,
            default_prefix=DEFAULT_BUCKET_PREFIX,
            management_buckets=[b for item in found if item.account == management for b in item.buckets],
            accounts=len(accounts),
            regions=len(regions),
            documents=len(documents),
            admitted=admitted,
            services=services,
            partition=partition,
        )
        legacy = sorted({r for item in found for r in item.roles if not is_service_linked(r)})
        if legacy:
            lines.insert(2, f"Connect service roles admitted by exact ARN: {', '.join(legacy)}")
    else:
        exempt = exempt_arns(partition, role_paths, args.exempt_role_arn)
        deployers = deployer_arns(partition, args.deployer_role_arn, args.exempt_role_arn)
        role = role_statement(enforcer_role_arns(partition, role_paths), deployers)
        documents = guardrail_documents(bucket_resources(partition, buckets), exempt, role=role)
        lines = explain(buckets, documents, exempt, len(accounts), len(regions), partition)
        lines += explain_role_guard(deployers, defaulted=not args.deployer_role_arn)
    if len(documents) == 1:
        out.write(minified(documents[0]) + "\n")
    else:
        out.write("[\n" + ",\n".join(minified(doc) for doc in documents) + "\n]\n")
    for line in lines:
        sys.stderr.write(f"connect-lockdown: {line}\n")
    for error in errors:
        sys.stderr.write(f"connect-lockdown: error: account {error.account}, Region {error.region}: {error.error}\n")
    if errors:
        missing = "custom-named buckets" + (" and Connect roles" if args.kind == "rcp" else "")
        sys.stderr.write(
            f"connect-lockdown: {plural(len(errors), 'account and Region', 'accounts and Regions')} could not be "
            f"read: their {missing} are missing from the policy\n"
        )
    return EXIT_INCOMPLETE if errors else EXIT_OK


def management_account(session: Any) -> str | None:
    """The organization's management account (organizations:DescribeOrganization), None when it cannot be told."""
    try:
        organization = session.client("organizations").describe_organization()["Organization"]
    except (ClientError, BotoCoreError, KeyError):
        return None
    account = organization.get("MasterAccountId")
    return str(account) if account else None


def explain_role_guard(deployers: Sequence[str], *, defaulted: bool) -> list[str]:
    lines = [
        f"it denies {', '.join(ROLE_ACTIONS)} on the enforcer's role name in every account to every principal "
        f"of the member accounts but: {', '.join(deployers)}",
    ]
    if defaulted:
        lines.append(
            "no --deployer-role-arn: the roles CloudFormation StackSets deploy with are exempt; give the exact "
            "role that deploys the stack (a pipeline, StackSets' execution role) with --deployer-role-arn, or a "
            "deploy with any other role fails on the enforcer's role"
        )
    return lines


def explain(
    buckets: Sequence[str], documents: Sequence[Any], exempt: Sequence[str], accounts: int, regions: int, partition: str
) -> list[str]:
    default = [b for b in buckets if b.startswith(DEFAULT_BUCKET_PREFIX)]
    lines = [
        f"the guardrail covers {plural(len(buckets), 'Connect bucket')} found in {plural(accounts, 'account')} and "
        f"{plural(regions, 'Region')}: {len(default)} by the pattern arn:{partition}:s3:::{DEFAULT_BUCKET_PREFIX}* "
        f"(Connect's default names, also those created later), {len(buckets) - len(default)} listed by name",
        f"it denies s3:PutBucketPolicy and s3:DeleteBucketPolicy to every principal of the member accounts but: "
        f"{', '.join(exempt)}",
        f"the enforcer is exempt in the {plural(regions, 'Region')} given only: give --regions every Region where "
        "the stack runs, or the policy stops the enforcer of another Region on amazon-connect-* buckets",
        "a bucket created later with a custom name is not covered: re-run this command (from a pipeline, for "
        "example) when Connect storage changes, or keep Connect's default bucket names",
        "an account, OU or root holds at most 5 SCPs (FullAWSAccess is one of them): merge this statement into "
        "an existing SCP when that limit is near",
        "this command writes nothing to AWS: attaching the policy is the organization administrator's decision",
    ]
    if len(documents) > 1:
        lines.insert(
            2,
            f"printed as a JSON array of {len(documents)} documents: one would exceed the "
            f"{SCP_MAX_CHARACTERS:,}-character SCP limit; create and attach each of them",
        )
    return lines
