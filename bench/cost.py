"""The monthly cost of a stack per account and Region, as counts times list prices: docs/cost.md's figures.

`python -m bench.cost` (or `make cost`) rewrites the blocks of docs/cost.md between `<!-- cost:NAME -->` and
`<!-- /cost:NAME -->`; the prose around them is written by people. Everything here is a pure function of three
inputs, so the figures can be redone when one of them changes:

- bench/prices.json: list prices, with the date they were read and where;
- bench/results/latest.json: what `make bench` measured (calls per event, cold start, handler time);
- template.yaml, evaluated per profile (devtools/cfn.py): how many keys, alarms and dashboards exist.

Every other count is a model assumption, named in ASSUMPTIONS and printed in the document.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRICES_PATH = ROOT / "bench" / "prices.json"
RESULTS_PATH = ROOT / "bench" / "results" / "latest.json"
DOCUMENT = ROOT / "docs" / "cost.md"

GB = 1024**3
DAYS_PER_MONTH = 30.42
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7

# The parameters of each profile (README: "Which profile?").
PROFILES: dict[str, dict[str, str]] = {
    "default": {},
    "lean": {"Encryption": "aws-owned", "Alarms": "dead-letters", "MetricsLevel": "lean"},
}

# Counts that nothing measures: the model's assumptions, each printed in the document.
ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "sweeps_per_month": (730, "sweeps a month: the default SweepSchedule, rate(1 hour)"),
    "orphan_searches_per_day": (
        1,
        "searches a day for locked buckets no instance uses (every bucket's policy read; the index lets it run less "
        "often than the sweep: the enforcer runs it once a day, on the sweep of hour 0 UTC, when it has an index)",
    ),
    "lambda_slowdown": (
        2.0,
        "Lambda time = time on the bench machine x this: 256 MB is a fraction of a vCPU (docs/benchmarks.md)",
    ),
    "log_bytes_per_invocation": (
        2048,
        "bytes of log per invocation: platform lines (INIT_START, START, END, REPORT), the summary, one line per "
        "result, EMF",
    ),
    "log_retention_months": (3, "months of logs kept: the default LogRetentionInDays, 90"),
    "kms_requests_per_invocation": (
        3,
        "KMS requests per invocation under a customer managed key: a new log stream per cold start (CloudWatch "
        "Logs), the table's key (DynamoDB)",
    ),
    "kms_requests_per_publish": (2, "KMS requests per message published to an encrypted topic (encrypt, deliver)"),
    "drifts_per_day": (1, "bucket policies of Connect buckets changed by someone else, per day"),
    "other_bucket_policy_changes_per_month": (
        30,
        "bucket-policy changes on buckets that are not Connect buckets, a month (each invokes the function, which "
        "ignores it)",
    ),
    "instances_per_week": (1, "new Connect instances a week"),
    "associations_per_instance": (2, "storage associations per new instance (call recordings, chat transcripts)"),
    "index_reads_per_event": (
        2,
        "inventory-table reads per event (the index's item layout: the meta marker and the bucket's items)",
    ),
    "index_writes_per_decision": (1, "inventory-table writes per decision that changes something"),
    "c7n_memory_gb": (0.5, "Cloud Custodian's default Lambda memory, 512 MB"),
    "c7n_log_bytes_per_invocation": (4096, "bytes of log per Cloud Custodian invocation"),
    "config_items_per_change": (1, "AWS Config configuration items per bucket change"),
    "fleet_accounts": (50, "accounts in the fleet"),
    "fleet_regions": (4, "Regions per account in the fleet"),
    "fleet_regions_with_connect": (1, "of which Regions with Connect instances (one drift a day), per account"),
}

MEMORY_GB = 0.25  # template.yaml's Globals: MemorySize 256


def assumption(name: str) -> float:
    return ASSUMPTIONS[name][0]


# --- inputs ---------------------------------------------------------------------------------------------


def load_prices(path: Path = PRICES_PATH) -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return prices


def load_results(path: Path = RESULTS_PATH) -> dict[str, Any]:
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return results


def _scenario(results: Mapping[str, Any], key: str) -> dict[str, Any]:
    for scenario in results["per_event"]["scenarios"]:
        if scenario["key"] == key:
            found: dict[str, Any] = scenario
            return found
    raise KeyError(f"bench/results/latest.json has no per_event scenario {key!r}: rerun make bench, or update cost.py")


@dataclass(frozen=True)
class Measured:
    """What the bench measured, in the form the model uses (seconds on the bench machine; calls per event)."""

    cold_start_seconds: float
    sweep_seconds: float
    sweep_calls: dict[str, int]
    drift_seconds: float
    drift_calls: dict[str, int]
    create_instance_seconds: float
    association_seconds: float
    association_calls: dict[str, int]
    c7n_import_seconds: float
    c7n_drift_seconds: float
    c7n_drift_calls: dict[str, int]
    c7n_compliant_calls: dict[str, int]
    connect_buckets: int
    account_buckets: int
    source: str

    @classmethod
    def from_results(cls, results: Mapping[str, Any]) -> Measured:
        cold = results["cold_start"]
        custodian = results["custodian"]["results"]
        return cls(
            cold_start_seconds=cold["handler_as_built"]["median"],
            sweep_seconds=_scenario(results, "sweep_compliant")["cold"]["seconds"]["median"],
            sweep_calls=_scenario(results, "sweep_compliant")["cold"]["calls"],
            drift_seconds=_scenario(results, "put_drift")["cold"]["seconds"]["median"],
            drift_calls=_scenario(results, "put_drift")["cold"]["calls"],
            create_instance_seconds=_scenario(results, "create_instance")["cold"]["seconds"]["median"],
            association_seconds=_scenario(results, "storage_unlocked")["cold"]["seconds"]["median"],
            association_calls=_scenario(results, "storage_unlocked")["cold"]["calls"],
            c7n_import_seconds=cold["c7n_import"]["median"],
            c7n_drift_seconds=custodian["drift"]["c7n_cloudtrail"]["seconds"]["median"],
            c7n_drift_calls=custodian["drift"]["c7n_cloudtrail"]["calls"],
            c7n_compliant_calls=custodian["compliant"]["c7n_cloudtrail"]["calls"],
            connect_buckets=results["per_event"]["estate"]["buckets"],
            account_buckets=results["per_event"]["estate"]["buckets"] + results["per_event"]["estate"]["other_buckets"],
            source=f"bench/results/latest.json of {results.get('started', '?')}",
        )


@dataclass(frozen=True)
class Fixed:
    """What a profile creates that costs money by the month, counted on the template as it deploys."""

    kms_keys: int
    alarms: int
    dashboards: int
    uses_kms: bool


def fixed_resources(profile: Mapping[str, str], **overrides: str) -> Fixed:
    from devtools import cfn  # the template evaluator, shared with the tests

    stack = cfn.Stack(cfn.load(), {**profile, **overrides})
    types = list(stack.types().values())
    return Fixed(
        kms_keys=types.count("AWS::KMS::Key"),
        alarms=types.count("AWS::CloudWatch::Alarm"),
        dashboards=types.count("AWS::CloudWatch::Dashboard"),
        uses_kms=stack.condition("UseKmsKey"),
    )


# --- the model ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    item: str
    count: float
    unit: str
    price_key: str
    note: str = ""

    def cost(self, prices: Mapping[str, Any]) -> float:
        return self.count * float(prices["prices"][self.price_key]["price"])


@dataclass(frozen=True)
class Usage:
    """One Region's month: invocations and what each does."""

    sweeps: float
    sweep_seconds: float
    events: float  # invocations other than sweeps
    event_seconds: float  # their total handler seconds on the bench machine
    s3_reads: float
    s3_writes: float
    publishes: float
    index_reads: float
    index_writes: float
    metric_hours: dict[str, float]  # metric name -> hours in the month it is published (both levels)
    routine_metric_hours: dict[str, float]  # published with MetricsLevel=full only
    scheduler_invocations: float = 0.0


def _calls(calls: Mapping[str, int], *names: str) -> int:
    return sum(calls.get(name, 0) for name in names)


def usage(scenario: str, measured: Measured) -> Usage:
    hours = 730.0
    sweeps = assumption("sweeps_per_month")
    orphan_searches = assumption("orphan_searches_per_day") * DAYS_PER_MONTH
    # Every sweep reads each Connect bucket's policy; an orphan search lists the buckets and reads every policy.
    connect_buckets = 0 if scenario == "idle" else measured.connect_buckets
    sweep_reads = sweeps * connect_buckets + orphan_searches * measured.account_buckets
    sweep_lists = orphan_searches
    others = assumption("other_bucket_policy_changes_per_month")
    routine = {"sweep_buckets_checked": hours, "ignored": min(others, hours)}
    if scenario == "idle":
        return Usage(
            sweeps=sweeps,
            sweep_seconds=measured.sweep_seconds,
            events=others,
            event_seconds=0.0,
            s3_reads=sweep_reads,
            s3_writes=sweep_lists,
            publishes=0.0,
            index_reads=sweeps * 1,
            index_writes=0.0,
            metric_hours={},
            routine_metric_hours=routine,
        )
    drifts = assumption("drifts_per_day") * DAYS_PER_MONTH
    routine = {**routine, "compliant": hours}
    if scenario == "drift":
        return Usage(
            sweeps=sweeps,
            sweep_seconds=measured.sweep_seconds,
            events=drifts + others,
            event_seconds=drifts * measured.drift_seconds,
            s3_reads=sweep_reads + drifts * _calls(measured.drift_calls, "GetBucketPolicy"),
            s3_writes=sweep_lists + drifts * _calls(measured.drift_calls, "PutBucketPolicy"),
            publishes=drifts * _calls(measured.drift_calls, "Publish"),
            index_reads=sweeps * 3 + (drifts + others) * assumption("index_reads_per_event"),
            index_writes=drifts * assumption("index_writes_per_decision"),
            metric_hours={"remediated": min(drifts, hours)},
            routine_metric_hours=routine,
        )
    if scenario == "new-instance":
        instances = assumption("instances_per_week") * WEEKS_PER_MONTH
        associations = instances * assumption("associations_per_instance")
        # CreateInstance: pending, one re-check later; the first association locks the new bucket.
        events = instances * 2 + associations + others
        seconds = instances * 2 * measured.create_instance_seconds + associations * measured.association_seconds
        return Usage(
            sweeps=sweeps,
            sweep_seconds=measured.sweep_seconds,
            events=events,
            event_seconds=seconds,
            s3_reads=sweep_reads + associations * _calls(measured.association_calls, "GetBucketPolicy"),
            s3_writes=sweep_lists + instances * _calls(measured.association_calls, "PutBucketPolicy"),
            publishes=instances * _calls(measured.association_calls, "Publish"),
            index_reads=sweeps * 3 + events * assumption("index_reads_per_event"),
            index_writes=(instances * 2 + associations) * assumption("index_writes_per_decision"),
            metric_hours={"pending": min(instances, hours), "remediated": min(instances, hours)},
            routine_metric_hours=routine,
            scheduler_invocations=instances,
        )
    raise ValueError(f"no such scenario: {scenario}")


def lines(scenario: str, profile: str, measured: Measured, email: bool = True) -> list[Line]:
    """The month of one stack in one Region, item by item."""
    u = usage(scenario, measured)
    fixed = fixed_resources(PROFILES[profile])
    slowdown = assumption("lambda_slowdown")
    invocations = u.sweeps + u.events
    # Every invocation is assumed to meet a new execution environment (hourly sweeps, rare events): each pays
    # the cold start, which Lambda bills, as well as its handler time.
    seconds = (invocations * measured.cold_start_seconds + u.sweeps * u.sweep_seconds + u.event_seconds) * slowdown
    log_gb = invocations * assumption("log_bytes_per_invocation") / GB
    metric_hours = dict(u.metric_hours)
    if PROFILES[profile].get("MetricsLevel", "lean") == "full":
        metric_hours.update(u.routine_metric_hours)
    kms_requests = 0.0
    if fixed.uses_kms:
        kms_requests = invocations * assumption("kms_requests_per_invocation") + u.publishes * assumption(
            "kms_requests_per_publish"
        )
    result = [
        Line("KMS customer managed keys", fixed.kms_keys, "keys (first year)", "kms_key_month"),
        Line("KMS requests", kms_requests, "requests", "kms_request"),
        Line("CloudWatch alarms", fixed.alarms, "alarms", "cloudwatch_alarm_month"),
        Line(
            "custom metrics (EMF)",
            sum(metric_hours.values()) / 730.0,
            "metric-months: " + (", ".join(f"{k} {v:,.0f} h" for k, v in sorted(metric_hours.items())) or "none"),
            "cloudwatch_metric_month",
        ),
        Line("Lambda invocations", invocations, "invocations", "lambda_request"),
        Line("Lambda duration", seconds * MEMORY_GB, "GB-seconds at 256 MB, arm64", "lambda_gb_second_arm"),
        Line("CloudWatch Logs ingestion", log_gb, "GB", "logs_ingestion_gb"),
        Line(
            "CloudWatch Logs storage", log_gb * assumption("log_retention_months"), "GB-months", "logs_storage_gb_month"
        ),
        Line("S3 bucket reads (GetBucketPolicy)", u.s3_reads, "requests", "s3_get_request"),
        Line("S3 bucket writes and lists", u.s3_writes, "requests", "s3_put_request"),
        Line("DynamoDB reads (inventory index)", u.index_reads, "read request units", "dynamodb_read_request"),
        Line("DynamoDB writes (inventory index)", u.index_writes, "write request units", "dynamodb_write_request"),
        Line("SNS publishes", u.publishes, "messages", "sns_publish"),
        Line("SNS email deliveries", u.publishes if email else 0.0, "emails", "sns_email"),
        Line("EventBridge events (CloudTrail, schedule)", u.events + u.sweeps, "events", "eventbridge_aws_event"),
        Line("EventBridge Scheduler (re-checks)", u.scheduler_invocations, "invocations", "scheduler_invocation"),
    ]
    return result


def total(items: list[Line], prices: Mapping[str, Any]) -> float:
    return sum(line.cost(prices) for line in items)


def custodian_month(scenario: str, measured: Measured) -> list[Line]:
    """Cloud Custodian in CloudTrail mode: one function, invoked by PutBucketPolicy events, no schedule."""
    drifts = 0.0 if scenario == "idle" else assumption("drifts_per_day") * DAYS_PER_MONTH
    others = assumption("other_bucket_policy_changes_per_month")
    # Its own PutBucketPolicy is an event too: c7n has no self-exclusion in the rule's pattern.
    invocations = 2 * drifts + others
    seconds = invocations * (measured.c7n_import_seconds + measured.c7n_drift_seconds) * assumption("lambda_slowdown")
    reads = sum(v for k, v in measured.c7n_compliant_calls.items() if k not in ("ListBuckets", "PutBucketPolicy"))
    log_gb = invocations * assumption("c7n_log_bytes_per_invocation") / GB
    return [
        Line("Lambda invocations", invocations, "invocations", "lambda_request"),
        Line(
            "Lambda duration",
            seconds * assumption("c7n_memory_gb"),
            "GB-seconds at 512 MB",
            "lambda_gb_second_arm",
        ),
        Line("CloudWatch Logs ingestion", log_gb, "GB", "logs_ingestion_gb"),
        Line("S3 bucket reads", invocations * reads, "requests", "s3_get_request"),
        Line("S3 bucket writes and lists", invocations + drifts, "requests", "s3_put_request"),
    ]


def config_month(scenario: str) -> list[Line]:
    """AWS Config recording S3 buckets, one custom rule triggered by their configuration changes."""
    drifts = 0.0 if scenario == "idle" else assumption("drifts_per_day") * DAYS_PER_MONTH
    others = assumption("other_bucket_policy_changes_per_month")
    # The drift, and the remediation's own write, are each a configuration change.
    changes = (2 * drifts + others) * assumption("config_items_per_change")
    return [
        Line("configuration items (S3 buckets)", changes, "items", "config_item"),
        Line("rule evaluations", changes, "evaluations", "config_rule_evaluation"),
        Line("the rule's Lambda invocations", changes, "invocations", "lambda_request"),
    ]


# --- rendering ------------------------------------------------------------------------------------------


def money(value: float) -> str:
    if value == 0:
        return "$0"
    if value < 0.0001:
        return "< $0.0001"
    if value < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}" if value >= 1 else f"${value:.3f}"


def unit_price(value: float) -> str:
    if value == 0:
        return "free"
    if value >= 0.01:
        return f"${value:.2f}"
    per_million = value * 1_000_000
    return f"${per_million:,.3f}".rstrip("0").rstrip(".") + " per million"


def count(value: float) -> str:
    if value == 0:
        return "0"
    if value < 0.01:
        return f"{value:.4f}"
    if value < 10:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,.0f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


SCENARIOS = {
    "idle": "an idle Region: no Connect instance",
    "drift": "Connect instances, one drift a day",
    "new-instance": "Connect instances, a new instance a week",
}


def scenario_table(scenario: str, measured: Measured, prices: Mapping[str, Any]) -> str:
    by_profile = {profile: lines(scenario, profile, measured) for profile in PROFILES}
    rows = []
    for index, line in enumerate(by_profile["default"]):
        lean = by_profile["lean"][index]
        price = float(prices["prices"][line.price_key]["price"])
        counts = count(line.count) if line.count == lean.count else f"{count(line.count)} / {count(lean.count)}"
        unit = line.unit if line.unit == lean.unit else f"{line.unit} / {lean.unit}"
        rows.append([line.item, counts, unit, unit_price(price), money(line.cost(prices)), money(lean.cost(prices))])
    rows.append(
        ["**total**", "", "", ""]
        + [f"**{money(total(by_profile[profile], prices))}**" for profile in ("default", "lean")]
    )
    return _table(["item", "count (default / lean)", "unit", "unit price", "default", "lean"], rows)


def price_table(prices: Mapping[str, Any]) -> str:
    rows = []
    for key, entry in prices["prices"].items():
        rows.append(
            [
                f"`{key}`",
                unit_price(float(entry["price"])),
                entry["unit"],
                "yes" if entry["confirmed"] else "**no**",
                " ".join(f"<{url}>" for url in entry["sources"]),
            ]
        )
    return f"Read on {prices['read_on']}, {prices['region']}, {prices['currency']}, before free tiers.\n\n" + _table(
        ["price", "value", "unit", "on AWS's page", "sources"], rows
    )


def assumptions_table(measured: Measured) -> str:
    rows = [[f"`{name}`", count(value), text] for name, (value, text) in ASSUMPTIONS.items()]
    rows += [
        [
            "measured: cold start",
            f"{measured.cold_start_seconds:.2f} s",
            f"import of the built handler ({measured.source})",
        ],
        [
            "measured: sweep",
            f"{measured.sweep_seconds:.2f} s",
            f"cold sweep, {sum(measured.sweep_calls.values())} calls",
        ],
        [
            "measured: drift",
            f"{measured.drift_seconds:.2f} s",
            f"cold PutBucketPolicy event, {sum(measured.drift_calls.values())} calls",
        ],
        [
            "measured: Cloud Custodian",
            f"{measured.c7n_import_seconds + measured.c7n_drift_seconds:.2f} s",
            f"import and CloudTrail-mode run, {sum(measured.c7n_drift_calls.values())} calls per drift",
        ],
    ]
    return _table(["count", "value", "what it is"], rows)


def goals_table(measured: Measured, prices: Mapping[str, Any]) -> str:
    def month(scenario: str, profile: str) -> float:
        return total(lines(scenario, profile, measured), prices)

    worst_with_instances = max(month(s, "lean") for s in ("drift", "new-instance"))
    default_worst = max(month(s, "default") for s in SCENARIOS)
    rotation = float(prices["prices"]["kms_rotation_month"]["price"])
    goals = [
        ("lean, a Region with no Connect instance", "< $0.10", month("idle", "lean"), 0.10, True),
        ("lean, a Region with instances", "< $0.50", worst_with_instances, 0.50, True),
        ("default, first year", "<= $1.50", default_worst, 1.50, False),
        ("default, from the third year (key rotated twice)", "<= $1.50", default_worst + 2 * rotation, 1.50, False),
    ]
    rows = []
    for name, goal, value, bound, strict in goals:
        met = value < bound if strict else value <= bound
        rows.append([name, goal, money(value), "met" if met else "**missed**"])
    return _table(["goal", "target", "model", ""], rows)


def fleet_table(measured: Measured, prices: Mapping[str, Any]) -> str:
    accounts = int(assumption("fleet_accounts"))
    regions = int(assumption("fleet_regions"))
    with_connect = int(assumption("fleet_regions_with_connect"))
    dashboard = float(prices["prices"]["cloudwatch_dashboard_month"]["price"])
    rows = []
    for profile in PROFILES:
        busy = total(lines("drift", profile, measured), prices)
        idle = total(lines("idle", profile, measured), prices)
        stacks = accounts * with_connect * busy + accounts * (regions - with_connect) * idle
        rows.append([profile, money(busy), money(idle), money(stacks), money(stacks + accounts * dashboard)])
    header = [
        "profile",
        "a Region with Connect",
        "an idle Region",
        f"{accounts} accounts x {regions} Regions, no dashboard",
        "with DashboardRegion set (one per account)",
    ]
    return _table(header, rows)


def comparison_table(measured: Measured, prices: Mapping[str, Any]) -> str:
    rows = []
    for scenario in ("idle", "drift"):
        ours = {profile: total(lines(scenario, profile, measured), prices) for profile in PROFILES}
        rows.append(
            [
                SCENARIOS[scenario],
                money(ours["default"]),
                money(ours["lean"]),
                money(total(config_month(scenario), prices)),
                money(total(custodian_month(scenario, measured), prices)),
            ]
        )
    header = ["per Region and month", "this stack, default", "this stack, lean", "AWS Config rule", "Cloud Custodian"]
    return _table(header, rows)


def options_table(measured: Measured, prices: Mapping[str, Any]) -> str:
    p = prices["prices"]
    drifts = assumption("drifts_per_day") * DAYS_PER_MONTH
    buckets = measured.connect_buckets
    rows = [
        [
            "`DashboardRegion` set",
            "one dashboard per account (only the stack in that Region creates it)",
            money(p["cloudwatch_dashboard_month"]["price"]) + " per account, unless among its first 3",
        ],
        [
            "`MetricsLevel=full`",
            "routine counts every hour: `compliant` (with instances), `sweep_buckets_checked`, `ignored`",
            f"up to {money(3 * p['cloudwatch_metric_month']['price'])} per Region",
        ],
        [
            "`EnableSecurityHub=true`",
            f"about {count(drifts + buckets * WEEKS_PER_MONTH)} imports a month (each decision that changes a "
            "finding, a weekly refresh per bucket: assumed)",
            f"$0 within the 10,000 free imports per account and Region; "
            f"{money(p['securityhub_finding_ingestion']['price'] * 1000)} per 1,000 beyond",
        ],
        [
            "`Encryption=existing-key`",
            "no key of the stack's own; the existing key's requests",
            "the key's $1 (or more, rotated) is paid once, by whoever owns it",
        ],
        [
            "`CreateTrail=true`",
            "a trail and, with `Encryption=stack-key`, a second key",
            f"{money(p['kms_key_month']['price'])} for the key; the first copy of management events is free",
        ],
        [
            "automatic key rotation (the stack's key)",
            "each of the first two yearly rotations adds a backing key",
            f"+{money(p['kms_rotation_month']['price'])} a month in year 2, "
            f"+{money(2 * p['kms_rotation_month']['price'])} from year 3",
        ],
    ]
    return _table(["option", "what it adds", "price"], rows)


def blocks(results: Mapping[str, Any], prices: Mapping[str, Any]) -> dict[str, str]:
    measured = Measured.from_results(results)
    generated: dict[str, str] = {
        "prices": price_table(prices),
        "assumptions": assumptions_table(measured),
        "goals": goals_table(measured, prices),
        "fleet": fleet_table(measured, prices),
        "comparison": comparison_table(measured, prices),
        "options": options_table(measured, prices),
    }
    for scenario in SCENARIOS:
        generated[f"region-{scenario}"] = scenario_table(scenario, measured, prices)
    return generated


MARKER = re.compile(r"(<!-- cost:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /cost:(?P=name) -->)", re.DOTALL)


def render(document: str, generated: Mapping[str, str]) -> str:
    """The document with each block's body replaced; a block the model does not know is an error."""
    seen: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in generated:
            raise KeyError(f"docs/cost.md has a block {name!r} that bench/cost.py does not render")
        seen.add(name)
        return f"{match.group(1)}{generated[name]}\n{match.group(4)}"

    rendered = MARKER.sub(replace, document)
    missing = set(generated) - seen
    if missing:
        raise KeyError(f"docs/cost.md lacks the blocks {sorted(missing)}")
    return rendered


def main(argv: list[str] | None = None, *, write: Callable[[str], None] | None = None) -> int:
    document = DOCUMENT.read_text(encoding="utf-8")
    rendered = render(document, blocks(load_results(), load_prices()))
    (write or (lambda text: DOCUMENT.write_text(text, encoding="utf-8")))(rendered)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
