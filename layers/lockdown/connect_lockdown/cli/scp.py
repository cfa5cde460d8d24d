"""The guardrail service control policy: its two statements, and the split into documents of at most 5,120
characters. Pure: builds documents, calls nothing.

See cli/guardrail.py for what each statement denies and why.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..labels import plural
from .exits import usage

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
