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
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from ..arns import ROLE_ARN
from ..aws import AwsCallError, AwsGateway
from ..inventory import read_inventory
from ..labels import plural
from .context import caller_of
from .exits import EXIT_INCOMPLETE, EXIT_OK, usage
from .many_scopes import Scope, ScopeError, ScopeFailure, Sessions, accounts_of, base_session, run_scopes
from .parser import DEFAULT_ENFORCER_ROLE_NAME, ROLE_NAME
from .progress import Progress
from .rcp import admitted_arns, bucket_resource_groups, exempt_services, is_service_linked, rcp_documents, rcp_notes
from .scp import (
    DEFAULT_BUCKET_PREFIX,
    bucket_resources,
    deployer_arns,
    enforcer_role_arns,
    exempt_arns,
    explain,
    explain_role_guard,
    guardrail_documents,
    minified,
    role_statement,
)
from .single_scope import base_role_name

# A role ARN pattern for ArnNotLike: the account may be *, the path and name may hold *.
DEPLOYER_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::(?:\d{12}|\*):role/[\w+=,.@/*-]{1,512}$")


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
        missing = (
            "custom-named buckets and Connect roles are missing from the policy: attaching it above them would "
            "deny their own Connect roles (other than service-linked ones) on amazon-connect-* buckets"
            if args.kind == "rcp"
            else "custom-named buckets are missing from the policy"
        )
        sys.stderr.write(
            f"connect-lockdown: {plural(len(errors), 'account and Region', 'accounts and Regions')} could not be "
            f"read: their {missing}\n"
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
