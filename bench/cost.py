"""The monthly cost of a stack per account and Region, as counts times list prices: docs/cost.md's figures.

`make cost` rewrites the blocks of docs/cost.md between `<!-- cost:NAME -->` markers from bench/prices.json (list
prices, with when and where they were read), bench/results/latest.json (calls per event, cold start, handler time)
and the templates evaluated per profile (devtools/cfn.py); every other count is in bench/assumptions.json.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench.report import fill, table

ROOT = Path(__file__).resolve().parents[1]
PRICES_PATH = ROOT / "bench" / "prices.json"
ASSUMPTIONS_PATH = ROOT / "bench" / "assumptions.json"
RESULTS_PATH = ROOT / "bench" / "results" / "latest.json"
DOCUMENT = ROOT / "docs" / "cost.md"

GB = 1024**3
HOURS = 730.0
DAYS_PER_MONTH = 30.42
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7
MEMORY_GB = 0.25  # template.yaml's Globals: MemorySize 256

# The parameters of each profile (README: "Which profile?").
PROFILES: dict[str, dict[str, str]] = {
    "default": {},
    "lean": {"Encryption": "aws-owned", "Alarms": "dead-letters", "MetricsLevel": "lean"},
}

# Counts that nothing measures: the model's assumptions, with what each is (printed in the document).
ASSUMPTIONS: dict[str, tuple[float, str]] = {
    name: (entry["value"], entry["what"])
    for name, entry in json.loads(ASSUMPTIONS_PATH.read_text(encoding="utf-8"))["assumptions"].items()
}


def assumption(name: str) -> float:
    return ASSUMPTIONS[name][0]


def load_prices(path: Path = PRICES_PATH) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


load_results = partial(load_prices, RESULTS_PATH)


# The bench's runs the model reads (per_event, cold): a compliant sweep, a drift, a new instance and its first
# association.
RUNS = ("sweep_compliant", "put_drift", "create_instance", "storage_unlocked")


@dataclass(frozen=True)
class Measured:
    """What the bench measured: cold starts, and per run its median seconds (bench machine) and its calls."""

    cold_start_seconds: float
    runs: dict[str, dict[str, Any]]  # run -> {"seconds": median, "calls": {operation: count}}
    connect_buckets: int
    account_buckets: int
    source: str

    def seconds(self, run: str) -> float:
        return float(self.runs[run]["seconds"])

    def calls(self, run: str, name: str | None = None) -> int:
        calls: dict[str, int] = self.runs[run]["calls"]
        return calls.get(name, 0) if name else sum(calls.values())

    @classmethod
    def from_results(cls, results: Mapping[str, Any]) -> Measured:
        runs = {s["key"]: s["cold"] for s in results["per_event"]["scenarios"]}
        if missing := [run for run in RUNS if run not in runs]:
            raise KeyError(f"bench/results/latest.json lacks {missing}: rerun make bench, or update bench/cost.py")
        estate = results["per_event"]["estate"]
        return cls(
            cold_start_seconds=results["cold_start"]["handler_as_built"]["median"],
            runs={run: {"seconds": runs[run]["seconds"]["median"], "calls": runs[run]["calls"]} for run in RUNS},
            connect_buckets=estate["buckets"],
            account_buckets=estate["buckets"] + estate["other_buckets"],
            source=f"bench/results/latest.json of {results.get('started', '?')}",
        )


@dataclass(frozen=True)
class Line:
    item: str
    count: float
    unit: str
    price_key: str

    def cost(self, prices: Mapping[str, Any]) -> float:
        return self.count * float(prices["prices"][self.price_key]["price"])


def _deployed(profile: str) -> tuple[list[str], bool, float, bool]:
    """Read on the template as the profile deploys: resource types (its nested stacks' too: the alarms), a KMS key
    in use, months of logs kept, and whether the index has point-in-time recovery."""
    from devtools import cfn  # the template evaluator, shared with the tests

    stack = cfn.Stack(cfn.load(), PROFILES[profile])
    created = stack.tree()
    recovery = created[("InventoryTable",)]["Properties"]["PointInTimeRecoverySpecification"]
    months = int(stack.parameters["LogRetentionInDays"]) / DAYS_PER_MONTH
    types = [resource["Type"] for resource in created.values()]
    return types, stack.condition("UseKmsKey"), months, recovery["PointInTimeRecoveryEnabled"] is True


def usage(scenario: str, measured: Measured) -> dict[str, Any]:
    """One Region's month besides the sweeps' own runs: events, their handler seconds, and the calls of both."""
    sweeps, others = assumption("sweeps_per_month"), assumption("other_bucket_policy_changes_per_month")
    searches = assumption("orphan_searches_per_day") * DAYS_PER_MONTH
    # Every sweep reads each Connect bucket's policy; an orphan search lists the buckets and reads every policy.
    buckets = 0 if scenario == "idle" else measured.connect_buckets
    u: dict[str, Any] = {
        "events": others,
        "seconds": 0.0,
        "s3_reads": sweeps * buckets + searches * measured.account_buckets,
    }
    u |= {"s3_writes": searches, "publishes": 0.0, "index_reads": sweeps, "index_writes": 0.0, "scheduler": 0.0}
    u |= {"metric_hours": {}, "routine": {"sweep_buckets_checked": HOURS, "ignored": min(others, HOURS)}}
    if scenario == "idle":
        return u
    u["routine"]["compliant"] = HOURS
    if scenario == "drift":
        drifts = assumption("drifts_per_day") * DAYS_PER_MONTH
        decisions, writes, run = drifts, drifts, "put_drift"
        runs, reads = {run: drifts}, drifts
        u["metric_hours"] = {"remediated": min(drifts, HOURS)}
    elif scenario == "new-instance":
        instances = assumption("instances_per_week") * WEEKS_PER_MONTH
        associations = instances * assumption("associations_per_instance")
        # CreateInstance: pending, one re-check later; the first association locks the new bucket.
        runs, run = {"create_instance": instances * 2, "storage_unlocked": associations}, "storage_unlocked"
        decisions, writes, reads = instances * 2 + associations, instances, associations
        u["metric_hours"] = {"pending": min(instances, HOURS), "remediated": min(instances, HOURS)}
        u["scheduler"] = instances
    else:
        raise ValueError(f"no such scenario: {scenario}")
    u["events"] += sum(runs.values())
    u["seconds"] = sum(count * measured.seconds(name) for name, count in runs.items())
    u["s3_reads"] += reads * measured.calls(run, "GetBucketPolicy")
    u["s3_writes"] += writes * measured.calls(run, "PutBucketPolicy")
    u["publishes"] = writes * measured.calls(run, "Publish")
    u["index_reads"] = sweeps * 3 + u["events"] * assumption("index_reads_per_event")
    u["index_writes"] = decisions * assumption("index_writes_per_decision")
    return u


def lines(scenario: str, profile: str, measured: Measured) -> list[Line]:
    """The month of one stack in one Region, item by item."""
    u, sweeps = usage(scenario, measured), assumption("sweeps_per_month")
    types, uses_kms, months, recovery = _deployed(profile)
    invocations = sweeps + u["events"]
    # Every invocation is assumed to meet a new execution environment (hourly sweeps, rare events): each pays
    # the cold start, which Lambda bills, as well as its handler time.
    seconds = invocations * measured.cold_start_seconds + sweeps * measured.seconds("sweep_compliant") + u["seconds"]
    gb_seconds = seconds * assumption("lambda_slowdown") * MEMORY_GB
    log_gb, kept = invocations * assumption("log_bytes_per_invocation") / GB, f"GB-months ({months:.0f} months kept)"
    hours = u["metric_hours"] | (u["routine"] if PROFILES[profile].get("MetricsLevel", "lean") == "full" else {})
    metrics = "metric-months: " + (", ".join(f"{k} {v:,.0f} h" for k, v in sorted(hours.items())) or "none")
    kms = invocations * assumption("kms_requests_per_invocation") + u["publishes"] * assumption(
        "kms_requests_per_publish"
    )
    publishes, index_gb = u["publishes"], assumption("index_size_gb") if recovery else 0.0
    return [
        Line("KMS customer managed keys", types.count("AWS::KMS::Key"), "keys (first year)", "kms_key_month"),
        Line("KMS requests", kms if uses_kms else 0.0, "requests", "kms_request"),
        Line("CloudWatch alarms", types.count("AWS::CloudWatch::Alarm"), "alarms", "cloudwatch_alarm_month"),
        Line("custom metrics (EMF)", sum(hours.values()) / HOURS, metrics, "cloudwatch_metric_month"),
        Line("Lambda invocations", invocations, "invocations", "lambda_request"),
        Line("Lambda duration", gb_seconds, "GB-seconds at 256 MB, arm64", "lambda_gb_second_arm"),
        Line("CloudWatch Logs ingestion", log_gb, "GB", "logs_ingestion_gb"),
        # In a steady state the log groups hold as many months of ingestion as they keep.
        Line("CloudWatch Logs storage", log_gb * months, kept, "logs_storage_gb_month"),
        Line("S3 bucket reads (GetBucketPolicy)", u["s3_reads"], "requests", "s3_get_request"),
        Line("S3 bucket writes and lists", u["s3_writes"], "requests", "s3_put_request"),
        Line("DynamoDB reads (inventory index)", u["index_reads"], "read request units", "dynamodb_read_request"),
        Line("DynamoDB writes (inventory index)", u["index_writes"], "write request units", "dynamodb_write_request"),
        Line("DynamoDB point-in-time recovery", index_gb, "GB-months of table", "dynamodb_pitr_gb_month"),
        Line("SNS publishes", publishes, "messages", "sns_publish"),
        Line("SNS email deliveries", publishes, "emails", "sns_email"),
        Line("EventBridge events (CloudTrail, schedule)", u["events"] + sweeps, "events", "eventbridge_aws_event"),
        Line("EventBridge Scheduler (re-checks)", u["scheduler"], "invocations", "scheduler_invocation"),
    ]


def total(items: list[Line], prices: Mapping[str, Any]) -> float:
    return sum(line.cost(prices) for line in items)


def trail_month(profile: str) -> list[Line]:
    """CreateTrail=true, per account: the trail's bucket (log files kept as nested/trail.yaml says) and its key."""
    from devtools import cfn

    trail = cfn.Stack(cfn.load(), PROFILES[profile] | {"CreateTrail": "true"}).nested("TrailStack")
    keys = sum(r["Type"] == "AWS::KMS::Key" for r in trail.resources().values())
    months = int(trail.parameters["LogFileRetentionInDays"]) / DAYS_PER_MONTH
    files = assumption("trail_regions") * assumption("trail_log_files_per_region_hour") * HOURS
    digests = assumption("trail_regions") * HOURS  # one digest file per Region and hour (log file validation)
    kept = f"GB-months ({months:.0f} months kept)"
    return [
        Line("trail key", keys, "keys (first year)", "kms_key_month"),
        # One data key per log file under a KMS key; none is counted for the hourly digest files.
        Line("trail KMS requests", files if keys else 0.0, "requests", "kms_request"),
        Line("trail log and digest files", files + digests, "PUT requests", "s3_put_request"),
        Line("trail storage", assumption("trail_gb_per_month") * months, kept, "s3_storage_gb_month"),
    ]


def config_month(scenario: str) -> list[Line]:
    """AWS Config recording S3 buckets, one custom rule triggered by their configuration changes."""
    drifts = 0.0 if scenario == "idle" else assumption("drifts_per_day") * DAYS_PER_MONTH
    # The drift, and the remediation's own write, are each a configuration change.
    changes = (2 * drifts + assumption("other_bucket_policy_changes_per_month")) * assumption("config_items_per_change")
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
        return f"${value:.2f}" if value >= 0.1 else f"${value:.3f}"
    return f"${value * 1_000_000:,.3f}".rstrip("0").rstrip(".") + " per million"


def count(value: float) -> str:
    if value == 0:
        return "0"
    if value < 0.01:
        return f"{value:.4f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value < 10 else f"{value:,.0f}"


SCENARIOS = {
    "idle": "an idle Region: no Connect instance",
    "drift": "Connect instances, one drift a day",
    "new-instance": "Connect instances, a new instance a week",
}


def scenariotable(scenario: str, measured: Measured, prices: Mapping[str, Any]) -> str:
    by_profile = {profile: lines(scenario, profile, measured) for profile in PROFILES}
    rows = []
    for line, lean in zip(by_profile["default"], by_profile["lean"], strict=True):
        counts = count(line.count) if line.count == lean.count else f"{count(line.count)} / {count(lean.count)}"
        unit = line.unit if line.unit == lean.unit else f"{line.unit} / {lean.unit}"
        price = unit_price(float(prices["prices"][line.price_key]["price"]))
        rows.append([line.item, counts, unit, price, money(line.cost(prices)), money(lean.cost(prices))])
    totals = [f"**{money(total(by_profile[profile], prices))}**" for profile in ("default", "lean")]
    rows.append(["**total**", "", "", "", *totals])
    return table(["item", "count (default / lean)", "unit", "unit price", "default", "lean"], rows)


def pricetable(prices: Mapping[str, Any]) -> str:
    rows = []
    for key, entry in prices["prices"].items():
        sources, confirmed = " ".join(f"<{url}>" for url in entry["sources"]), "yes" if entry["confirmed"] else "**no**"
        rows.append([f"`{key}`", unit_price(float(entry["price"])), entry["unit"], confirmed, sources])
    header = f"Read on {prices['read_on']}, {prices['region']}, {prices['currency']}, before free tiers.\n\n"
    return header + table(["price", "value", "unit", "on AWS's page", "sources"], rows)


def assumptionstable(measured: Measured) -> str:
    rows = [[f"`{name}`", count(value), text] for name, (value, text) in ASSUMPTIONS.items()]
    measured_rows = [
        ("cold start", measured.cold_start_seconds, f"import of the built handler ({measured.source})"),
        ("sweep", measured.seconds("sweep_compliant"), f"cold sweep, {measured.calls('sweep_compliant')} calls"),
        ("drift", measured.seconds("put_drift"), f"cold PutBucketPolicy event, {measured.calls('put_drift')} calls"),
    ]
    rows += [[f"measured: {name}", f"{seconds:.2f} s", text] for name, seconds, text in measured_rows]
    return table(["count", "value", "what it is"], rows)


def goalstable(measured: Measured, prices: Mapping[str, Any]) -> str:
    def month(scenario: str, profile: str) -> float:
        return total(lines(scenario, profile, measured), prices)

    default_worst = max(month(s, "default") for s in SCENARIOS)
    rotation = float(prices["prices"]["kms_rotation_month"]["price"])
    lean_busy = max(month(s, "lean") for s in SCENARIOS if s != "idle")
    goals = [
        ("lean, a Region with no Connect instance", "< $0.10", month("idle", "lean"), 0.10, True),
        ("lean, a Region with instances", "< $0.50", lean_busy, 0.5, True),
        ("default, first year", "<= $1.50", default_worst, 1.50, False),
        ("default, from the third year (key rotated twice)", "<= $1.50", default_worst + 2 * rotation, 1.50, False),
    ]
    rows = [
        [name, goal, money(value), "met" if (value < bound if strict else value <= bound) else "**missed**"]
        for name, goal, value, bound, strict in goals
    ]
    return table(["goal", "target", "model", ""], rows)


def fleettable(measured: Measured, prices: Mapping[str, Any]) -> str:
    accounts, regions = int(assumption("fleet_accounts")), int(assumption("fleet_regions"))
    with_connect = int(assumption("fleet_regions_with_connect"))
    dashboard = float(prices["prices"]["cloudwatch_dashboard_month"]["price"])
    rows = []
    for profile in PROFILES:
        busy, idle = (total(lines(s, profile, measured), prices) for s in ("drift", "idle"))
        stacks = accounts * with_connect * busy + accounts * (regions - with_connect) * idle
        rows.append([profile, money(busy), money(idle), money(stacks), money(stacks + accounts * dashboard)])
    fleet = f"{accounts} accounts x {regions} Regions, no dashboard"
    header = ["profile", "a Region with Connect", "an idle Region", fleet, "with DashboardRegion set (one per account)"]
    return table(header, rows)


def comparisontable(measured: Measured, prices: Mapping[str, Any]) -> str:
    rows = []
    for scenario in ("idle", "drift"):
        ours = [money(total(lines(scenario, profile, measured), prices)) for profile in PROFILES]
        rows.append([SCENARIOS[scenario], *ours, money(total(config_month(scenario), prices))])
    header = ["per Region and month", "this stack, default", "this stack, lean", "AWS Config rule"]
    return table(header, rows)


def optionstable(measured: Measured, prices: Mapping[str, Any]) -> str:
    p = {key: float(entry["price"]) for key, entry in prices["prices"].items()}
    imports = assumption("drifts_per_day") * DAYS_PER_MONTH + measured.connect_buckets * WEEKS_PER_MONTH
    trail = {profile: money(total(trail_month(profile), prices)) for profile in PROFILES}
    files = next(line.count for line in trail_month("default") if line.item == "trail log and digest files")
    regions = count(assumption("trail_regions"))
    rows = [
        f"`DashboardRegion` set | one dashboard per account (only the stack in that Region creates it) | {money(p['cloudwatch_dashboard_month'])} per account, unless among its first 3",
        f"`MetricsLevel=full` | routine counts every hour: `compliant` (with instances), `sweep_buckets_checked`, `ignored` | up to {money(3 * p['cloudwatch_metric_month'])} per Region",
        f"`EnableSecurityHub=true` | about {count(imports)} imports a month (each decision that changes a finding, a weekly refresh per bucket: assumed) | $0 within the 10,000 free imports per account and Region; {money(p['securityhub_finding_ingestion'] * 1000)} per 1,000 beyond",
        "`Encryption=existing-key` | no key of the stack's own; the existing key's requests | the key's $1 (or more, rotated) is paid once, by whoever owns it",
        f"`CreateTrail=true` | a trail (the first copy of management events is free); its bucket: about {count(files)} log and digest files a month ({regions} Regions), each kept a year; with `Encryption=stack-key` a second key and a KMS request per log file | {trail['default']} a month with the stack key, {trail['lean']} with `aws-owned`",
        f"automatic key rotation (each customer managed key) | each of the first two yearly rotations adds a backing key | +{money(p['kms_rotation_month'])} a month in year 2, +{money(2 * p['kms_rotation_month'])} from year 3",
    ]
    return table(["option", "what it adds", "price"], [row.split(" | ") for row in rows])


def blocks(results: Mapping[str, Any], prices: Mapping[str, Any]) -> dict[str, str]:
    measured = Measured.from_results(results)
    generated: dict[str, str] = {
        "prices": pricetable(prices),
        "assumptions": assumptionstable(measured),
        "goals": goalstable(measured, prices),
        "fleet": fleettable(measured, prices),
        "comparison": comparisontable(measured, prices),
        "options": optionstable(measured, prices),
    }
    for scenario in SCENARIOS:
        generated[f"region-{scenario}"] = scenariotable(scenario, measured, prices)
    return generated


MARKER = re.compile(r"<!-- cost:(?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /cost:(?P=name) -->", re.DOTALL)


def render(document: str, generated: Mapping[str, str]) -> str:
    """The document with each block's body replaced; a block the document lacks, or one the model does not
    render, is an error."""
    rendered, missing = fill(document, "cost", generated)
    if unknown := {m.group("name") for m in MARKER.finditer(document)} - set(generated):
        raise KeyError(f"docs/cost.md has blocks that bench/cost.py does not render: {sorted(unknown)}")
    if missing:
        raise KeyError(f"docs/cost.md lacks the blocks {sorted(missing)}")
    return rendered


def main() -> int:
    rendered = render(DOCUMENT.read_text(encoding="utf-8"), blocks(load_results(), load_prices()))
    DOCUMENT.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
