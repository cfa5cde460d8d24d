"""`connect-lockdown guardrail --kind rcp`: the lock itself as an AWS Organizations resource control policy.

One statement, repeated in each document when the buckets do not fit in one: `Deny`, `Principal: "*"`, `s3:*` on
`amazon-connect-*` (Connect's default bucket names, and their objects) and on each custom-named Connect bucket
found (the bucket and `<bucket>/*`), unless the caller's ARN (`aws:PrincipalArn`, `ArnNotLike`) is

- `arn:<partition>:iam::${aws:ResourceAccount}:root`, the root user of the bucket's own account. For the root
  user `aws:PrincipalArn` is exactly that ARN; a role's is `...:role/...`, so no role matches it (unlike
  `"Principal": {"AWS": "...:root"}`, which names every principal of the account);
- `arn:<partition>:iam::${aws:ResourceAccount}:role/<name>` and `role/*/<name>` for each `--admin-role-name`
  (a role of that name under any path, in the bucket's own account only);
- `arn:<partition>:iam::${aws:ResourceAccount}:role/<EnforcerRoleName>-<Region>`, the enforcer, one exact name
  per Region given, in the bucket's own account only;
- each Connect service role found that is not a service-linked role, and each `--exempt-role-arn`, by exact ARN;

or the caller is an AWS service principal named by EXEMPT_AWS_SERVICES (`aws:PrincipalServiceName`,
`StringNotEqualsIfExists`). Both operators are negated or `...IfExists`: an anonymous request, which carries
neither key, is denied.

What AWS documents, and this module relies on (Organizations User Guide,
https://docs.aws.amazon.com/organizations/latest/userguide/<page>; IAM User Guide,
https://docs.aws.amazon.com/IAM/latest/UserGuide/<page>):

- orgs_manage_policies_rcps.html: RCPs apply to Amazon S3 (with AWS STS, AWS KMS, Amazon SQS and AWS Secrets
  Manager, "List of AWS services that support RCPs"); they "don't affect resources in the management account";
  they do not restrict actions performed by service-linked roles ("Resources and entities not restricted by
  RCPs"); they bind principals inside and outside the organization alike.
- orgs_manage_policies_rcps_syntax.html: an RCP's `Principal` is `"*"`, its effect `Deny` (Allow is reserved to
  `RCPFullAWSAccess`), and every character counts against the maximum size, so white space may be removed.
- orgs_reference_limits.html: an RCP holds at most 5,120 characters; a root, OU or account holds at most 5
  RCPs, `RCPFullAWSAccess` included.
- reference_policies_variables.html and reference_policies_condition-keys.html#condition-keys-resourceaccount:
  `${aws:ResourceAccount}` is the account that owns the resource, usable as a policy variable in a condition
  value; AWS's own resource policies use it so (IAM Identity Center User Guide, baseline-KMS-key-policy.html).
- reference_policies_condition-keys.html: `aws:PrincipalArn` is the root user's `arn:aws:iam::<account>:root`,
  a role session's role ARN, and is absent from anonymous requests; `aws:PrincipalServiceName` is present only
  when an AWS service principal makes the call.
- RCPs do restrict AWS service principals: AWS's RCP examples exempt them explicitly with
  `aws:PrincipalIsAWSService` (orgs_manage_policies_rcps_examples.html, and
  github.com/aws-samples/data-perimeter-policy-examples, resource_control_policies/identity_perimeter_rcp.json).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..labels import plural
from .exits import usage
from .scp import split_documents

RCP_MAX_CHARACTERS = 5120
RCP_SID = "ConnectBucketLockdown"
RESOURCE_ACCOUNT = "${aws:ResourceAccount}"
CONNECT_SERVICE = "connect.amazonaws.com"
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$")
SERVICE_LINKED_PATH = "/aws-service-role/"


def exempt_services(environ: Mapping[str, str]) -> list[str]:
    """EXEMPT_AWS_SERVICES: unset or `true` is Connect's service principal alone, `false` none, else a list."""
    raw = environ.get("EXEMPT_AWS_SERVICES", "").strip()
    if raw.lower() in ("", "true"):
        return [CONNECT_SERVICE]
    if raw.lower() == "false":
        return []
    services: list[str] = []
    for item in (part.strip() for part in raw.split(",")):
        if not SERVICE_PRINCIPAL.match(item):
            raise usage(
                f"EXEMPT_AWS_SERVICES: {item!r} is not an AWS service principal (such as {CONNECT_SERVICE}); "
                "give 'true', 'false' or a comma-separated list of service principals"
            )
        if item not in services:
            services.append(item)
    return services


def is_service_linked(role_arn: str) -> bool:
    return f":role{SERVICE_LINKED_PATH}" in role_arn


def admitted_arns(
    partition: str,
    *,
    enforcer_paths: Sequence[str],
    admin_role_names: Sequence[str],
    connect_roles: Sequence[str],
    exempt_role_arns: Sequence[str],
) -> list[str]:
    """The `aws:PrincipalArn` patterns the RCP admits, in a stable order, without duplicates."""
    own = f"arn:{partition}:iam::{RESOURCE_ACCOUNT}"
    arns = [f"{own}:root"]
    arns += [f"{own}:role{path}" for path in enforcer_paths]
    for name in admin_role_names:
        arns += [f"{own}:role/{name}", f"{own}:role/*/{name}"]
    arns += sorted(arn for arn in set(connect_roles) if not is_service_linked(arn))
    arns += list(exempt_role_arns)
    return list(dict.fromkeys(arns))


def bucket_resource_groups(partition: str, buckets: Sequence[str], default_prefix: str) -> list[list[str]]:
    """The default-name pattern (buckets and objects alike), then each custom bucket with its objects."""
    custom = sorted({b for b in buckets if not b.startswith(default_prefix)})
    groups = [[f"arn:{partition}:s3:::{default_prefix}*"]]
    return groups + [[f"arn:{partition}:s3:::{b}", f"arn:{partition}:s3:::{b}/*"] for b in custom]


def rcp_document(resources: Sequence[str], admitted: Sequence[str], services: Sequence[str]) -> dict[str, Any]:
    condition: dict[str, Any] = {"ArnNotLike": {"aws:PrincipalArn": list(admitted)}}
    if services:
        condition["StringNotEqualsIfExists"] = {"aws:PrincipalServiceName": list(services)}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": RCP_SID,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": list(resources),
                "Condition": condition,
            }
        ],
    }


def rcp_notes(
    *,
    buckets: Sequence[str],
    default_prefix: str,
    management_buckets: Sequence[str] | None,
    accounts: int,
    regions: int,
    documents: int,
    admitted: Sequence[str],
    services: Sequence[str],
    partition: str,
) -> list[str]:
    """What the RCP covers, admits and cannot cover: the lines printed on stderr."""
    default = [b for b in buckets if b.startswith(default_prefix)]
    lines = [
        f"the resource control policy covers {plural(len(buckets), 'Connect bucket')} found in "
        f"{plural(accounts, 'account')} and {plural(regions, 'Region')}: {len(default)} by the pattern "
        f"arn:{partition}:s3:::{default_prefix}* (Connect's default names, also those created later), "
        f"{len(buckets) - len(default)} listed by name",
        "it denies s3:* on them to every principal, inside or outside the organization, but: "
        + ", ".join(admitted)
        + (f"; and the AWS service principals {', '.join(services)}" if services else "; and no service principal"),
        "it names roles by ARN: a role deleted and created again under the same name is admitted again; the "
        "bucket policy's lock, which names them by unique ID, still stops it",
        "the enforcer is admitted in the Regions given only: give --regions every Region where the stack runs",
        f"attach it only above accounts and Regions read here: it covers {default_prefix}* buckets everywhere, "
        "but admits only the Connect roles it found (service-linked roles need no entry)",
        "a bucket created later with a custom name is not covered: re-run this command when Connect storage "
        "changes, or keep Connect's default bucket names",
        "RCPs do not apply to resources of the management account, nor to service-linked roles (Connect's own "
        "role keeps writing recordings)",
        "an account, OU or root holds at most 5 RCPs (RCPFullAWSAccess is one of them): merge this statement "
        "into an existing RCP when that limit is near",
        "attach it to one test account first, then an OU, and watch CloudTrail for AccessDenied; this command "
        "writes nothing to AWS",
    ]
    if management_buckets:
        lines.insert(
            4,
            f"not protected by it, being in the management account: {', '.join(sorted(management_buckets))}",
        )
    if documents > 1:
        lines.insert(
            2,
            f"printed as a JSON array of {documents} documents: one would exceed the "
            f"{RCP_MAX_CHARACTERS:,}-character RCP limit; create and attach each of them",
        )
    return lines


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
