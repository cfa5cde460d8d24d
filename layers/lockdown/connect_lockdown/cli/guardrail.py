"""`connect-lockdown guardrail`: the service control policy that keeps everyone but the enforcer from changing or
deleting a Connect bucket's policy. It reads the Connect inventories and writes nothing to AWS.

The statement denies only s3:PutBucketPolicy and s3:DeleteBucketPolicy, on `amazon-connect-*` (Connect's
default bucket names, also those created later) and on every custom-named Connect bucket found, unless the
caller's role ARN (`aws:PrincipalArn`, `ArnNotLike`) is the enforcer's in any account, named exactly
`<EnforcerRoleName>-<Region>` for each Region given, or a break-glass role given with --exempt-role-arn. Exact
names, not `<EnforcerRoleName>-*`: a prefix would also exempt any role a member-account administrator names
that way, or creates under a path of that name.

Organizations counts every character of a policy sent through the API or the CLI, white space too, so the
documents are printed minified and measured so; one that would exceed 5,120 characters is split.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from ..arns import ROLE_ARN
from ..aws import AwsCallError, AwsGateway
from ..inventory import read_inventory
from ..labels import plural
from .context import caller_of
from .exits import EXIT_INCOMPLETE, EXIT_OK, usage
from .many_scopes import Scope, ScopeError, ScopeFailure, Sessions, accounts_of, base_session, run_scopes
from .parser import DEFAULT_ENFORCER_ROLE_NAME
from .progress import Progress
from .single_scope import base_role_name

SCP_MAX_CHARACTERS = 5120
SID = "ConnectBucketPolicyGuardrail"
ACTIONS = ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"]
DEFAULT_BUCKET_PREFIX = "amazon-connect-"


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


def bucket_resources(partition: str, buckets: Sequence[str]) -> list[str]:
    custom = sorted({b for b in buckets if not b.startswith(DEFAULT_BUCKET_PREFIX)})
    return [f"arn:{partition}:s3:::{DEFAULT_BUCKET_PREFIX}*"] + [f"arn:{partition}:s3:::{b}" for b in custom]


def document(resources: Sequence[str], exempt: Sequence[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": SID,
                "Effect": "Deny",
                "Action": ACTIONS,
                "Resource": list(resources),
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": list(exempt)}},
            }
        ],
    }


def minified(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


def guardrail_documents(
    resources: Sequence[str], exempt: Sequence[str], *, limit: int = SCP_MAX_CHARACTERS
) -> list[dict[str, Any]]:
    """As few documents as fit `limit` characters each, minified; every one carries the same exemptions."""
    documents: list[dict[str, Any]] = []
    current: list[str] = []
    for resource in resources:
        if len(minified(document([resource], exempt))) > limit:
            raise usage(
                f"the exemptions alone make the policy longer than {limit} characters: give fewer "
                "--exempt-role-arn or Regions"
            )
        if current and len(minified(document([*current, resource], exempt))) > limit:
            documents.append(document(current, exempt))
            current = []
        current.append(resource)
    documents.append(document(current, exempt))
    return documents


def buckets_in(scope: Scope, sessions: Sessions) -> list[str]:
    """The Connect buckets of one account and Region."""
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
    return sorted(inventory.bucket_instances())


def command_guardrail(args: argparse.Namespace, out: TextIO) -> int:
    session, regions = base_session(args)
    role_paths = enforcer_role_paths(args, os.environ, regions)
    identity = caller_of(session)
    accounts = accounts_of(args, session, identity)
    sessions = Sessions(args.profile, identity, args.role_name)
    scopes = [Scope(account, region) for account in accounts for region in regions]
    done = run_scopes(scopes, lambda scope: buckets_in(scope, sessions), verb="read", progress=Progress(sys.stderr))
    buckets = sorted({bucket for found in done if isinstance(found, list) for bucket in found})
    errors = [found for found in done if isinstance(found, ScopeError)]
    exempt = exempt_arns(identity.partition, role_paths, args.exempt_role_arn)
    documents = guardrail_documents(bucket_resources(identity.partition, buckets), exempt)
    if len(documents) == 1:
        out.write(minified(documents[0]) + "\n")
    else:
        out.write("[\n" + ",\n".join(minified(doc) for doc in documents) + "\n]\n")
    explain(buckets, documents, exempt, len(accounts), len(regions), identity.partition)
    for error in errors:
        sys.stderr.write(f"connect-lockdown: error: account {error.account}, Region {error.region}: {error.error}\n")
    if errors:
        sys.stderr.write(
            f"connect-lockdown: {plural(len(errors), 'account and Region', 'accounts and Regions')} could not be "
            "read: their custom-named buckets are missing from the policy\n"
        )
    return EXIT_INCOMPLETE if errors else EXIT_OK


def explain(
    buckets: Sequence[str], documents: Sequence[Any], exempt: Sequence[str], accounts: int, regions: int, partition: str
) -> None:
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
    for line in lines:
        sys.stderr.write(f"connect-lockdown: {line}\n")
