"""Several accounts and Regions: which scopes, a session in each, and running them in parallel, isolated.

The caller's own account is read with the caller's own credentials, without assuming --role-name: the
management account, where an organization-wide audit usually runs, has no OrganizationAccountAccessRole. Every
other account is read through `sts:AssumeRole` on `arn:<partition>:iam::<account>:role/<role name>`, once per
account. A scope that fails (the role cannot be assumed, access denied, Connect unavailable) becomes a row in
`errors`; it never ends the run.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..aws import ACCESS_DENIED_CODES, AwsError, CallerIdentity
from ..outcomes import RetryLater
from .context import StackProblem, region_of, session_for
from .exits import EXIT_ACCESS_DENIED, EXIT_AWS_UNAVAILABLE, CliError, usage
from .progress import Progress

T = TypeVar("T")

# Scopes read at once: enough to hide latency, few enough to stay under Connect's and STS's rate limits.
MAX_PARALLEL_SCOPES = 8
SESSION_NAME = "connect-lockdown"


@dataclass(frozen=True)
class Scope:
    account: str
    region: str


@dataclass(frozen=True)
class ScopeError:
    account: str
    region: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"account": self.account, "region": self.region, "error": self.error}


class ScopeFailure(Exception):
    """This account and Region cannot be read; the message is the one line of its `errors` row."""


def base_session(args: argparse.Namespace) -> tuple[boto3.session.Session, list[str]]:
    """The caller's session, and the Regions to cover (--regions, else --region or the configuration)."""
    session = session_for(args.profile, args.region or (args.regions[0] if args.regions else None))
    regions = args.regions or [region_of(session, multi=True)]
    return session, regions


def accounts_of(args: argparse.Namespace, session: boto3.session.Session, identity: CallerIdentity) -> list[str]:
    if args.accounts:
        return list(args.accounts)
    if args.organization:
        return organization_accounts(session)
    return [identity.account]


def organization_accounts(session: boto3.session.Session) -> list[str]:
    """Every ACTIVE account of the organization, through organizations:ListAccounts."""
    accounts: list[str] = []
    try:
        for page in session.client("organizations").get_paginator("list_accounts").paginate():
            for account in page.get("Accounts", []):
                if (account.get("State") or account.get("Status")) == "ACTIVE":
                    accounts.append(str(account["Id"]))
    except ClientError as error:
        info = error.response.get("Error", {})
        code, message = str(info.get("Code", "")), str(info.get("Message", ""))
        if code == "AWSOrganizationsNotInUseException":
            raise usage("--organization: this account is not in an AWS Organization; pass --accounts") from error
        if code in ACCESS_DENIED_CODES:
            raise CliError(
                "--organization: access denied on organizations:ListAccounts; run it from the management account "
                "or a delegated administrator, or pass --accounts",
                EXIT_ACCESS_DENIED,
            ) from error
        raise CliError(f"--organization: ListAccounts failed: {code}: {message}", EXIT_AWS_UNAVAILABLE) from error
    except BotoCoreError as error:
        raise CliError(f"--organization: ListAccounts failed: {error}", EXIT_AWS_UNAVAILABLE) from error
    if not accounts:
        raise usage("--organization: the organization lists no ACTIVE account; pass --accounts")
    return sorted(accounts)


class Sessions:
    """A boto3 session per scope (sessions are not shared across threads); one AssumeRole per account."""

    def __init__(self, profile: str | None, identity: CallerIdentity, role_name: str) -> None:
        self.profile = profile
        self.identity = identity
        self.role_name = role_name
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._credentials: dict[str, dict[str, Any] | ScopeFailure] = {}

    def role_arn(self, account: str) -> str:
        return f"arn:{self.identity.partition}:iam::{account}:role/{self.role_name}"

    def for_scope(self, scope: Scope) -> boto3.session.Session:
        if scope.account == self.identity.account:
            return session_for(self.profile, scope.region)
        credentials = self._assumed(scope)
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=scope.region,
        )

    def _assumed(self, scope: Scope) -> dict[str, Any]:
        with self._lock:
            lock = self._account_locks.setdefault(scope.account, threading.Lock())
        with lock:
            if scope.account not in self._credentials:
                self._credentials[scope.account] = self._assume(scope)
            found = self._credentials[scope.account]
        if isinstance(found, ScopeFailure):
            raise found
        return found

    def _assume(self, scope: Scope) -> dict[str, Any] | ScopeFailure:
        arn = self.role_arn(scope.account)
        try:
            sts = session_for(self.profile, scope.region).client("sts")
            return dict(sts.assume_role(RoleArn=arn, RoleSessionName=SESSION_NAME)["Credentials"])
        except ClientError as error:
            info = error.response.get("Error", {})
            return ScopeFailure(f"could not assume {arn}: {info.get('Code')}: {info.get('Message')}")
        except BotoCoreError as error:
            return ScopeFailure(f"could not assume {arn}: {error}")


def run_scopes(
    scopes: list[Scope], work: Callable[[Scope], T], *, verb: str, progress: Progress
) -> list[T | ScopeError]:
    """`work` on every scope, at most MAX_PARALLEL_SCOPES at once; results in the order of `scopes`."""
    results: dict[Scope, T | ScopeError] = {}
    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL_SCOPES, len(scopes)))) as pool:
        futures = {pool.submit(_isolated, work, scope): scope for scope in scopes}
        for done, future in enumerate(as_completed(futures), start=1):
            result = future.result()
            failed += isinstance(result, ScopeError)
            results[futures[future]] = result
            progress.show(f"{verb} {done}/{len(scopes)} accounts and Regions ({failed} failed)")
    progress.done()
    return [results[scope] for scope in scopes]


def _isolated(work: Callable[[Scope], T], scope: Scope) -> T | ScopeError:
    """One scope's failure is a row in `errors`, whatever it is: never the end of the run."""
    try:
        return work(scope)
    except (ScopeFailure, StackProblem, CliError, AwsError) as error:
        return ScopeError(scope.account, scope.region, _one_line(str(error)))
    except RetryLater as error:
        return ScopeError(scope.account, scope.region, _one_line(f"AWS throttled or was unavailable: {error}"))
    except Exception as error:  # noqa: BLE001 - isolation: a bug in one scope must not hide the others
        return ScopeError(scope.account, scope.region, _one_line(f"internal error: {type(error).__name__}: {error}"))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:1000]
