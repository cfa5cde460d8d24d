"""The enforcer's configuration: read once at start-up, validated, then passed down as values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .arns import ROLE_ARN, TOPIC_ARN, USER_ARN
from .policy import CONNECT_SERVICE, MergeMode
from .service_roles import SERVICE_LINKED_ROLES

SCHEDULE_GROUP = re.compile(r"^[0-9a-zA-Z-_.]{1,64}$")
# DynamoDB table names: 3-255 characters of letters, digits, underscore, hyphen and dot.
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")

TRUE_VALUES = {"true": True, "false": False}
# A service principal as IAM documents it: `service-name.amazonaws.com` (IAM User Guide,
# reference_policies_elements_principal.html, "AWS service principals"), Regional ones included
# (`logs.us-east-1.amazonaws.com`). Lower case: StringNotEquals is case-sensitive, so another spelling would
# never match the service. No `.amazonaws.com.cn` form: AWS documents none for a service principal.
SERVICE_PRINCIPAL = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.amazonaws\.com$"
)
DEFAULT_SERVICE_LINKED_ROLES = ("config", "access-analyzer")
# The first value of each is the default.
METRICS_LEVELS = ("full", "lean")
MERGE_MODES: tuple[MergeMode, ...] = ("preserve", "replace")
# Security Hub's API reference gives Recommendation.Url no length, only the pattern .*\S.* (API_Recommendation.html)
# and the 240 KB of a whole finding; the template's RunbookUrl parameter caps it at https:// plus 500 characters.
RUNBOOK_URL_LIMIT = len("https://") + 500


class ConfigError(ValueError):
    """A configuration value is missing or malformed. The message names the variable."""


@dataclass(frozen=True)
class Settings:
    topic_arn: str
    admin_role_arns: tuple[str, ...] = ()
    extra_principal_arns: tuple[str, ...] = ()
    dry_run: bool = False
    merge_mode: MergeMode = "preserve"
    enforcer_role_arn: str | None = None
    # EventBridge Scheduler group and the role it assumes to re-invoke the function while an instance is pending.
    recheck_schedule_group: str | None = None
    recheck_role_arn: str | None = None
    # The AWS service principals, acting as themselves, that the lock does not deny (docs/interface.md).
    exempt_aws_services: tuple[str, ...] = (CONNECT_SERVICE,)
    # The services (keys of service_roles.SERVICE_LINKED_ROLES) whose service-linked role the lock admits.
    admit_service_linked_roles: tuple[str, ...] = DEFAULT_SERVICE_LINKED_ROLES
    # The DynamoDB index of instances and buckets; None: every decision reads Connect.
    inventory_table: str | None = None
    # The buckets whose policy the enforcer may write (exact names, or prefixes ending in "*"), as the template's
    # IAM grant allows; None: any (the command line, whose caller's own permissions decide).
    lockdown_bucket_names: tuple[str, ...] | None = None
    # Report every bucket decision as a Security Hub finding.
    security_hub: bool = False
    # The team's runbook: the findings' Remediation.Recommendation.Url; None: findings carry no link.
    runbook_url: str | None = None
    # "lean": metrics only when something happens; "full": also the routine counts of a quiet sweep.
    metrics_level: str = "full"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, require_topic: bool = True) -> Settings:
        """Validate the variables of docs/interface.md; raise ConfigError naming the first bad one.

        Read-only uses (the command line's audit and plan) publish nothing and need no topic.
        """
        topic_arn = environ.get("NOTIFICATION_TOPIC_ARN", "").strip()
        if not topic_arn and require_topic:
            raise ConfigError("NOTIFICATION_TOPIC_ARN is required: the ARN of the SNS topic that receives results")
        if topic_arn and not TOPIC_ARN.match(topic_arn):
            raise ConfigError(f"NOTIFICATION_TOPIC_ARN is not an SNS topic ARN: {topic_arn!r}")

        admin_role_arns = _arn_list(environ, "ADMIN_ROLE_ARNS", roles_only=True)
        extra_principal_arns = _arn_list(environ, "EXTRA_PRINCIPAL_ARNS", roles_only=False)

        dry_run = _boolean(environ, "DRY_RUN", default=False)
        exempt_aws_services = _exempt_services(environ, "EXEMPT_AWS_SERVICES")
        admit_service_linked_roles = _service_linked_roles(environ, "ADMIT_SERVICE_LINKED_ROLES")
        security_hub = _boolean(environ, "SECURITY_HUB", default=False)
        runbook_url = _runbook_url(environ, "RUNBOOK_URL")
        metrics_level = _choice(environ, "METRICS_LEVEL", METRICS_LEVELS)
        merge_mode = _choice(environ, "MERGE_MODE", MERGE_MODES)
        inventory_table = _matching(environ, "INVENTORY_TABLE", TABLE_NAME, "a DynamoDB table name")
        lockdown_bucket_names = _bucket_names(environ, "LOCKDOWN_BUCKET_NAMES")
        enforcer_role_arn = _matching(environ, "ENFORCER_ROLE_ARN", ROLE_ARN, "an IAM role ARN")
        recheck_schedule_group = _matching(environ, "RECHECK_SCHEDULE_GROUP", SCHEDULE_GROUP, "a schedule group name")
        recheck_role_arn = _matching(environ, "RECHECK_ROLE_ARN", ROLE_ARN, "an IAM role ARN")

        return cls(
            topic_arn=topic_arn,
            admin_role_arns=admin_role_arns,
            extra_principal_arns=extra_principal_arns,
            dry_run=dry_run,
            merge_mode="replace" if merge_mode == "replace" else "preserve",
            enforcer_role_arn=enforcer_role_arn,
            recheck_schedule_group=recheck_schedule_group,
            recheck_role_arn=recheck_role_arn,
            exempt_aws_services=exempt_aws_services,
            admit_service_linked_roles=admit_service_linked_roles,
            inventory_table=inventory_table,
            lockdown_bucket_names=lockdown_bucket_names,
            security_hub=security_hub,
            runbook_url=runbook_url,
            metrics_level=metrics_level,
        )


# A bucket name, or a prefix of one ending in "*" (a lone "*" would grant every bucket: refused).
BUCKET_NAME_OR_PREFIX = re.compile(r"^[a-z0-9][a-z0-9.-]{2,62}\*?$")


def _bucket_names(environ: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    names = _items(raw)
    for item in names:
        if not BUCKET_NAME_OR_PREFIX.match(item):
            raise ConfigError(f"{name} has an entry that is not a bucket name or a prefix ending in '*': {item!r}")
    return names


def may_write(settings: Settings, bucket: str) -> bool:
    """Whether LOCKDOWN_BUCKET_NAMES lets the enforcer write this bucket's policy."""
    names = settings.lockdown_bucket_names
    if names is None:
        return True
    return any(bucket.startswith(n[:-1]) if n.endswith("*") else bucket == n for n in names)


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    text = environ.get(name, "").strip().lower() or choices[0]
    if text not in choices:
        allowed = " or ".join(f"'{c}'" for c in choices)
        raise ConfigError(f"{name} must be {allowed}, not {environ.get(name)!r}")
    return text


def _matching(environ: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> str | None:
    text = environ.get(name, "").strip() or None
    if text is not None and not pattern.match(text):
        raise ConfigError(f"{name} is not {what}: {text!r}")
    return text


def _runbook_url(environ: Mapping[str, str], name: str) -> str | None:
    """Empty or unset: None. Else an https URL with a host, no whitespace, at most RUNBOOK_URL_LIMIT characters."""
    text = environ.get(name, "").strip()
    if not text:
        return None
    if len(text) > RUNBOOK_URL_LIMIT:
        raise ConfigError(f"{name} is {len(text)} characters long; at most {RUNBOOK_URL_LIMIT} are accepted")
    try:
        parts = urlsplit(text)
    except ValueError as error:
        raise ConfigError(f"{name} is not a URL: {text!r} ({error})") from None
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() or not c.isprintable() for c in text):
        raise ConfigError(
            f"{name} must be an https:// URL with a host and no spaces, such as "
            f"https://wiki.example.com/runbooks/connect-lockdown; not {text!r}"
        )
    return text


def _boolean(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    text = environ.get(name, "").strip().lower()
    if not text:
        return default
    if text not in TRUE_VALUES:
        raise ConfigError(f"{name} must be 'true' or 'false', not {environ.get(name)!r}")
    return TRUE_VALUES[text]


def _exempt_services(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """`true` (or unset): Connect's service principal alone; `false`: none; else a comma-separated list."""
    raw = environ.get(name, "").strip()
    if raw.lower() in ("", "true"):
        return (CONNECT_SERVICE,)
    if raw.lower() == "false":
        return ()
    services = _items(raw)
    for service in services:
        if not SERVICE_PRINCIPAL.match(service):
            raise ConfigError(
                f"{name} must be 'true', 'false' or a comma-separated list of service principals such as "
                f"connect.amazonaws.com; {service!r} is not one"
            )
    if not services:
        raise ConfigError(f"{name} names no service principal: {raw!r}")
    return tuple(services)


def _service_linked_roles(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Unset or empty: the default; `none`: no service-linked role; else a comma-separated list of known names."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return DEFAULT_SERVICE_LINKED_ROLES
    if raw == "none":
        return ()
    services = _items(raw)
    for service in services:
        if service not in SERVICE_LINKED_ROLES:
            known = ", ".join(sorted(SERVICE_LINKED_ROLES))
            raise ConfigError(f"{name} names {service!r}, which is not one of {known} (or 'none')")
    return services


def _items(raw: str) -> tuple[str, ...]:
    """The non-empty items of a comma-separated value, stripped, each once, in order."""
    return tuple(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))


def _arn_list(environ: Mapping[str, str], name: str, *, roles_only: bool) -> tuple[str, ...]:
    raw = environ.get(name, "")
    arns: list[str] = []
    for item in raw.split(","):
        arn = item.strip()
        if not arn:
            continue
        if ROLE_ARN.match(arn) or (not roles_only and USER_ARN.match(arn)):
            if arn not in arns:
                arns.append(arn)
            continue
        kind = "an IAM role ARN" if roles_only else "an IAM role or user ARN"
        raise ConfigError(f"{name} has an entry that is not {kind}: {arn!r}")
    return tuple(arns)
