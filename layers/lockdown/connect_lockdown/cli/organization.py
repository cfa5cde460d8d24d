"""`connect-lockdown audit` over several accounts and Regions (--accounts, --organization, --regions).

With --json it prints {"audits": [<single-scope audit document>, ...], "errors": [{"account", "region",
"error"}], "compliant": bool}. Exit 1 when a bucket is not compliant, else 8 when a scope could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from ..arns import account_of
from ..labels import plural
from .context import EnforcerSource, caller_of, enforcer_source, settings_from
from .exits import EXIT_INCOMPLETE, EXIT_NOT_COMPLIANT, EXIT_OK, usage
from .many_scopes import Scope, ScopeError, ScopeFailure, Sessions, accounts_of, base_session, run_scopes
from .progress import Progress
from .render import audit_document, audit_rows, print_exposures, print_scope_details, print_table, states_sentence
from .single_scope import ScopeRun, exit_code_for, inventory_failure_of, reconcile, resolve_enforcer
from .wording import reworded

PRINCIPAL_VARIABLES = ("ADMIN_ROLE_ARNS", "EXTRA_PRINCIPAL_ARNS")


def scoped_environment(environ: Mapping[str, str], account: str) -> dict[str, str]:
    """The variables as one account sees them: ADMIN_ROLE_ARNS and EXTRA_PRINCIPAL_ARNS of that account only."""
    scoped = dict(environ)
    for name in PRINCIPAL_VARIABLES:
        arns = [arn.strip() for arn in environ.get(name, "").split(",") if arn.strip()]
        scoped[name] = ",".join(arn for arn in arns if account_of(arn) == account)
    return scoped


def check_principals_in(environ: Mapping[str, str], accounts: Sequence[str]) -> None:
    for name in PRINCIPAL_VARIABLES:
        for arn in (a.strip() for a in environ.get(name, "").split(",")):
            if arn and account_of(arn) not in accounts:
                raise usage(
                    f"{name}: {arn} is in account {account_of(arn)}, which is not audited: each entry admits a "
                    "principal of its own account, in the scopes of that account"
                )


def audit_scope(scope: Scope, sessions: Sessions, source: EnforcerSource) -> ScopeRun:
    session = sessions.for_scope(scope)
    identity = caller_of(session)
    enforcer = resolve_enforcer(source, session, identity, scope.region, multi=True)
    environ = scoped_environment(os.environ, scope.account)
    settings = settings_from(environ, enforcer_role_arn=enforcer.arn, topic_arn=None, for_apply=False)
    report = reconcile(session, settings, bucket=None, write=False, alert=False, command="audit", actor=identity.arn)
    failure = inventory_failure_of(report)
    if failure is not None:
        # The Connect inventory itself could not be read: nothing is known of this scope.
        raise ScopeFailure(reworded(failure.reason))
    return ScopeRun(scope.account, scope.region, report, enforcer.arn, [enforcer.note] if enforcer.note else [])


def command_audit_many(args: argparse.Namespace, out: TextIO) -> int:
    session, regions = base_session(args)
    source = enforcer_source(args, os.environ)
    settings_from(os.environ, enforcer_role_arn=source.arn, topic_arn=None, for_apply=False)
    identity = caller_of(session)
    accounts = accounts_of(args, session, identity)
    check_principals_in(os.environ, accounts)
    scopes = [Scope(account, region) for account in accounts for region in regions]
    sessions = Sessions(args.profile, identity, args.role_name)
    done = run_scopes(
        scopes, lambda scope: audit_scope(scope, sessions, source), verb="audited", progress=Progress(sys.stderr)
    )
    runs = [r for r in done if isinstance(r, ScopeRun)]
    errors = [r for r in done if isinstance(r, ScopeError)]
    not_compliant = any(exit_code_for(run.report) != EXIT_OK for run in runs)
    if args.json:
        out.write(json.dumps(many_document(runs, errors), indent=2) + "\n")
    else:
        print_many(runs, errors, out, accounts=len(accounts), regions=len(regions))
    if not_compliant:
        return EXIT_NOT_COMPLIANT
    return EXIT_INCOMPLETE if errors else EXIT_OK


def many_document(runs: Sequence[ScopeRun], errors: Sequence[ScopeError]) -> dict[str, Any]:
    audits = [audit_document(run) for run in runs]
    return {
        "audits": audits,
        "errors": [error.to_dict() for error in errors],
        "compliant": not errors and all(audit["compliant"] for audit in audits),
    }


def print_many(
    runs: Sequence[ScopeRun], errors: Sequence[ScopeError], out: TextIO, *, accounts: int, regions: int
) -> None:
    shared = set.intersection(*(set(run.notes) for run in runs)) if runs else set()
    for note in sorted(shared):
        out.write(f"Note: {note}.\n")
    for run in runs:
        for note in run.notes:
            if note not in shared:
                out.write(f"Note ({run.account}, {run.region}): {note}.\n")
    if any(run.notes for run in runs):
        out.write("\n")
    rows = audit_rows(runs, with_scope=True)
    if len(rows) > 1:
        print_table(rows, out)
    else:
        out.write("No Connect bucket in the accounts and Regions that could be read.\n")
    print_exposures(runs, out, with_scope=True)
    for run in runs:
        print_scope_details(run, out, prefix=f"{run.account} {run.region}: ")
    for error in errors:
        out.write(f"error: account {error.account}, Region {error.region}: {error.error}\n")
    scopes = f"{plural(accounts, 'account')} x {plural(regions, 'Region')}"
    if not runs:
        out.write(f"\n{scopes}: none could be read; nothing is known of their buckets.\n")
        return
    out.write(f"\n{scopes}: {len(runs)} audited, {len(errors)} could not be read. {states_sentence(runs)}\n")
