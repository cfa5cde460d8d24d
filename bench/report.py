"""Turn bench/results/latest.json into the generated blocks of docs/benchmarks.md.

The document's prose is written by people; every figure sits between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->` markers, and `make bench` rewrites only what is between them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import sweep_share

INVENTORY_CALLS = frozenset({"ListInstances", "ListInstanceStorageConfigs", "DescribeInstance", "GetRole", "GetUser"})
COLD_START_BUDGET = 1.3
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # the function and its layers together


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    value = seconds * 1000
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def secs(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds:,.2f} s"


def spread_ms(spread: dict[str, float]) -> str:
    return f"{ms(spread['median'])} ({ms(spread['min'])} to {ms(spread['max'])})"


def kib(size: int) -> str:
    return f"{size / 1024:,.0f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:,.2f} MiB"


def calls_text(calls: dict[str, int]) -> str:
    return (
        ", ".join(f"{name} {count}" for name, count in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"
    )


def yes(flag: bool) -> str:
    return "**holds**" if flag else "**does not hold**"


# --- checks ---------------------------------------------------------------------------------------------


def scenario(results: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in results["per_event"]["scenarios"] if s["key"] == key)


def remediation_within_budget(calls: dict[str, int]) -> bool:
    """Besides the fresh inventory: the policy read to decide and read again just before the write (to merge with
    a change made meanwhile), the write, the alert."""
    extra = {name: count for name, count in calls.items() if name not in INVENTORY_CALLS}
    return extra == {"GetBucketPolicy": 2, "PutBucketPolicy": 1, "Publish": 1}


def budgets(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    rows: list[tuple[str, str, str, bool]] = []
    cold = results["cold_start"]
    as_built = cold.get("paired_ratio_as_built", {}).get("median", cold["ratio_as_built"])
    sources_only = cold.get("paired_ratio_sources_only", {}).get("median", cold["ratio_sources_only"])
    rows.append(
        (
            "Cold start",
            f"at most {COLD_START_BUDGET} x the floor",
            f"{as_built:.2f} x as `sam build` ships it (with bytecode); {sources_only:.2f} x without the .pyc files "
            "(median of the per-round ratios)",
            as_built <= COLD_START_BUDGET,
        )
    )
    rows.append(
        (
            "Tracer / X-Ray SDK",
            "loaded only when tracing is on",
            "the X-Ray SDK is never imported (Tracer is not used)" if not cold["xray_loaded"] else "imported",
            not cold["xray_loaded"],
        )
    )
    compliant = scenario(results, "put_compliant")["warm"]["calls"]
    rows.append(
        (
            "Warm compliant event",
            "1 call (`GetBucketPolicy`)",
            calls_text(compliant),
            compliant == {"GetBucketPolicy": 1},
        )
    )
    for key in ("put_drift", "delete", "storage_unlocked"):
        row = scenario(results, key)
        rows.append(
            (
                f"Remediation: {row['label']}",
                "fresh inventory + the policy read twice + 1 write + 1 publish",
                calls_text(row["warm"]["calls"]),
                remediation_within_budget(row["warm"]["calls"]),
            )
        )
    package = results["package"]
    shipped, pinned = package["sdk_shipped"], package["sdk_pinned"]
    sdk_as_pinned = all(shipped.get(name) == pinned.get(name) is not None for name in ("boto3", "botocore"))
    rows.append(
        (
            "Package",
            "the layer ships boto3/botocore as pinned, and bytecode; under Lambda's 250 MB unzipped",
            f"boto3 {shipped.get('boto3') or 'missing'}, botocore {shipped.get('botocore') or 'missing'} "
            f"(pinned: {pinned.get('boto3')}, {pinned.get('botocore')}); {package['layer']['pyc_files']} .pyc files; "
            f"{kib(package['total_unzipped_bytes'])} unzipped, {kib(package['total_zipped_bytes'])} zipped",
            sdk_as_pinned
            and package["layer"]["pyc_files"] > 0
            and not package["sdk_in_function"]
            and package["total_unzipped_bytes"] < LAMBDA_UNZIPPED_LIMIT,
        )
    )
    return rows


# --- blocks ---------------------------------------------------------------------------------------------


def block_machine(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "| | |",
        "|---|---|",
        f"| CPU | {m['cpu']}, {m['cpus']} cores, shared with other work (load average {m['load_average_at_start']} "
        "at the start of the last run) |",
        f"| memory | {m['memory']} |",
        f"| OS | {m['os']} |",
        f"| Python | {interpreter(m)} |",
        f"| boto3 / botocore / moto | {m['boto3']} / {m['botocore']} / {m['moto']} |",
        f"| commit (last run) | `{m['commit']}`{' with uncommitted changes' if m['tree_modified'] else ''} |",
        f"| run | {results['started']}; the measurements took {results['duration_seconds'] / 60:.1f} minutes "
        + "("
        + ", ".join(f"{k.replace('_', ' ')} {v / 60:.1f}" for k, v in results.get("section_seconds", {}).items())
        + ") |",
    ]
    section_runs = results.get("section_runs", {})
    if len({run["started"] for run in section_runs.values()}) > 1:
        lines += ["", "Sections measured in separate runs (`--only`):", ""]
        lines += [
            f"* {name.replace('_', ' ')}: {run['started']}, commit `{run['commit']}`, load average "
            f"{run['load_average_at_start']} at start"
            for name, run in section_runs.items()
        ]
    return "\n".join(lines)


def interpreter(m: dict[str, Any]) -> str:
    """The Python version, and the interpreter as a path relative to the repository; never an absolute path."""
    executable = str(m.get("python_executable") or "")
    if not executable:
        return str(m["python"])
    if executable.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", executable):
        # Results recorded before the path was made relative: keep only the program's name.
        executable = executable.replace("\\", "/").rsplit("/", 1)[-1]
    return f"{m['python']} (`{executable}`)"


def block_budgets(results: dict[str, Any]) -> str:
    lines = ["| what | budget | measured | |", "|---|---|---|---|"]
    for what, budget, measured, holds in budgets(results):
        lines.append(f"| {what} | {budget} | {measured} | {yes(holds)} |")
    return "\n".join(lines)


def block_cold_start(results: dict[str, Any]) -> str:
    cold = results["cold_start"]
    lines = [
        f"Median of {cold['runs']} fresh processes each (min to max in brackets).",
        "",
        "| | import until ready | ratio to the floor |",
        "|---|---|---|",
        f"| floor: `import boto3` + the same 5 clients | {spread_ms(cold['floor'])} | 1.00 |",
        f"| handler as `sam build` ships it ({cold['as_built_usable_pyc']} of its {cold['as_built_modules']} modules "
        f"load from .pyc) | {spread_ms(cold['handler_as_built'])} | {cold['ratio_as_built']:.2f} |",
        f"| the same package without its .pyc files | {spread_ms(cold['handler_sources_only'])} | "
        f"{cold['ratio_sources_only']:.2f} |",
        "",
        "The ratios in the table are of the medians. The budget uses the ratio within each round (the variants "
        "run back to back, so slow changes in the machine's load cancel out), median (min to max): "
        f"as built **{_ratio(cold, 'paired_ratio_as_built')}**, without .pyc files "
        f"**{_ratio(cold, 'paired_ratio_sources_only')}**.",
        "",
        f"CPU time (`time.process_time()`, less sensitive to the other work on the machine): floor "
        f"{ms(cold['cpu_floor']['median'])}, handler as built {ms(cold['cpu_handler_as_built']['median'])} "
        f"(**{cold['cpu_ratio_as_built']:.2f} x**), without .pyc files "
        f"{ms(cold['cpu_handler_sources_only']['median'])} (**{cold['cpu_ratio_sources_only']:.2f} x**).",
        "",
        f"Interpreter start-up, the same for all and outside the ratio: {spread_ms(cold['interpreter_wall'])} "
        f"(whole process, floor: {ms(cold['floor_process_wall']['median'])}; handler: "
        f"{ms(cold['handler_process_wall']['median'])}).",
        "",
        f"Where the handler's time goes (medians of {cold['detail_runs']} runs, in import order):",
        "",
        "| stage | as built | without .pyc files |",
        "|---|---|---|",
    ]
    for built, sources in zip(cold["breakdown_as_built"], cold["breakdown_sources_only"], strict=True):
        lines.append(f"| {built['stage']} | {ms(built['seconds'])} | {ms(sources['seconds'])} |")
    if "sources_only_layer_zipped_bytes" in cold:
        lines += [
            "",
            f"Without its .pyc files the layer (its `python/` directory) would be "
            f"{kib(cold['sources_only_layer_unzipped_bytes'])} unzipped, {kib(cold['sources_only_layer_zipped_bytes'])} "
            "zipped: the bytecode's cost in size.",
        ]
    lines += [
        "",
        f"Inside the floor: `import boto3` {ms(cold['floor_import_boto3']['median'])}; clients: "
        + ", ".join(f"{name} {ms(seconds)}" for name, seconds in cold["floor_clients"].items())
        + ".",
    ]
    return "\n".join(lines)


def _ratio(cold: dict[str, Any], key: str) -> str:
    value = cold.get(key)
    if not value:
        return "n/a"
    return f"{value['median']:.2f} x ({value['min']:.2f} to {value['max']:.2f})"


def block_calls(results: dict[str, Any]) -> str:
    per_event = results["per_event"]
    lines = [
        "| event | outcome | warm: calls | cold: calls |",
        "|---|---|---|---|",
    ]
    for row in per_event["scenarios"]:
        outcome = ", ".join(row["outcomes"]) or "ignored"
        lines.append(
            f"| {row['label']} | {outcome} | **{row['warm']['total']}**: {calls_text(row['warm']['calls'])} | "
            f"**{row['cold']['total']}**: {calls_text(row['cold']['calls'])} |"
        )
    return "\n".join(lines)


def block_timing(results: dict[str, Any]) -> str:
    per_event = results["per_event"]
    lines = [
        f"Median (min to max) of {per_event['warm_runs']} warm and {per_event['cold_runs']} cold runs.",
        "",
        "| event | warm | cold (first call of a new environment) |",
        "|---|---|---|",
    ]
    for row in per_event["scenarios"]:
        lines.append(f"| {row['label']} | {spread_ms(row['warm']['seconds'])} | {spread_ms(row['cold']['seconds'])} |")
    return "\n".join(lines)


def block_package(results: dict[str, Any]) -> str:
    package = results["package"]
    lines = [
        f"Built with {package['method']}.",
        "",
        "| | files | unzipped | zipped | .pyc files |",
        "|---|---|---|---|---|",
    ]
    for name in ("function", "layer"):
        part = package[name]
        lines.append(
            f"| {name} | {part['files']} | {kib(part['unzipped_bytes'])} | {kib(part['zipped_bytes'])} | {part['pyc_files']} |"
        )
    lines.append(
        f"| **total** | | {kib(package['total_unzipped_bytes'])} | **{kib(package['total_zipped_bytes'])}** | |"
    )
    lines += [
        "",
        "Largest parts of the layer (unzipped): "
        + ", ".join(f"{n} {kib(s)}" for n, s in package["layer"]["largest"])
        + ".",
        "",
        "Shipped in the layer: "
        + ", ".join(f"{name} {version}" for name, version in sorted(package["layer"]["distributions"].items()))
        + ".",
    ]
    return "\n".join(lines)


CONTENDERS = {
    "ours_index_cold": "Connect Bucket Lockdown, with the index, new environment",
    "ours_index_warm": "Connect Bucket Lockdown, with the index, warm",
    "ours_fresh_warm": "Connect Bucket Lockdown, without the index, warm",
    "c7n_cloudtrail": "c7n, `cloudtrail` mode (`policy.push`)",
    "c7n_pull": "c7n, pull mode (`custodian run`)",
}


def block_custodian(results: dict[str, Any]) -> str:
    c7n = results["custodian"]
    rows = c7n["results"]
    lines = [
        f"c7n {c7n['c7n_version']}; median (min to max) of {c7n['runs']} alternating runs per contender and state "
        "on moto as it is (no latency, no quota).",
        "",
        "| bucket state | contender | wall time | to the write | AWS calls (before the write) | of them Connect |",
        "|---|---|---|---|---|---|",
    ]
    for state in ("drift", "compliant"):
        for name, label in CONTENDERS.items():
            row = rows[state][name]
            written = spread_ms(row["seconds_to_write"]) if row.get("seconds_to_write") else "no write"
            lines.append(
                f"| {state} | {label} | {spread_ms(row['seconds'])} | {written} | **{row['total_calls']}** "
                f"({row['calls_before_write']}): {calls_text(row['calls'])} | {row['connect_calls']} |"
            )
    quota = rows.get("drift_at_quota")
    if quota:
        lines += [
            "",
            f"At the quota: the same drift, every request of every client delayed by {c7n['latency'] * 1000:.0f} ms "
            f"and Connect's APIs throttled at {c7n['rate']:g} requests/s each, burst {c7n['burst']:g} (the "
            "`ApiModel`, sleeping for real, a fresh quota for each event; ours in a new execution environment "
            "for each run, warmed by one drift of its own for the warm rows). Median (min to max) of "
            f"{c7n['quota_runs']} runs.",
            "",
            "| contender | time to the write | least time to the write at the quota (Connect calls before it) | "
            "whole invocation |",
            "|---|---|---|---|",
        ]
        for name, label in CONTENDERS.items():
            row = quota[name]
            written = spread_ms(row["seconds_to_write"]) if row.get("seconds_to_write") else "no write"
            lines.append(
                f"| {label} | **{written}** | {secs(row['least_seconds_to_write'])} ({row['connect_before_write']}) | "
                f"{spread_ms(row['seconds'])} |"
            )
        paired = c7n.get("paired_ratio_to_write_at_quota", {})
        ratios = []
        for key, label in (
            ("c7n_cloudtrail_over_ours_index_cold", "a new environment"),
            ("c7n_cloudtrail_over_ours_index_warm", "a warm one"),
        ):
            value = paired.get(key)
            if value:
                ratios.append(f"**{value['median']:.2f} x** ({value['min']:.2f} to {value['max']:.2f}) against {label}")
        if ratios:
            lines += [
                "",
                "c7n's time to the write over ours with the index, within each round (median, min to max): "
                + "; ".join(ratios)
                + ".",
            ]
    cold = results.get("cold_start") or {}
    if cold.get("c7n_import"):
        lines += [
            "",
            f"Import until ready, fresh processes, in the rounds of the cold-start benchmark (median of {cold['runs']}): "
            f"c7n with its policy loaded and validated (no client created yet) {spread_ms(cold['c7n_import'])}; ours "
            f"(five clients created) {ms(cold['handler_as_built']['median'])} as built, "
            f"{ms(cold['handler_sources_only']['median'])} without .pyc files; ratio c7n / ours "
            f"**{cold['ratio_c7n_import']:.2f}** as built, **{cold['ratio_c7n_import_sources_only']:.2f}** without .pyc files.",
        ]
    lines += [
        "",
        "Same end state (the policy each left is equivalent to the enforcer's): "
        + ", ".join(f"{CONTENDERS.get(n, n)}: {'yes' if ok else 'NO'}" for n, ok in c7n["same_end_state"].items())
        + f". c7n's package alone is {kib(c7n['c7n_installed_bytes'])} of Python source.",
    ]
    return "\n".join(lines)


# --- the index, time to lock, sweeps ----------------------------------------------------------------------

VARIANTS = (("fresh", "cold"), ("fresh", "warm"), ("index", "cold"), ("index", "warm"))
VARIANT_NAMES = {"fresh": "without the index", "index": "with the index", "cold": "new environment", "warm": "warm"}


def minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min"


def over_timeout(seconds: float | None, timeout: float) -> bool:
    return seconds is not None and seconds > timeout


def lock_cell(row: dict[str, Any], timeout: float) -> str:
    least = row["least_seconds_to_lock"]
    text = f"**{secs(least)}**: {row['connect_before_write_total']:,} Connect calls before the write"
    if over_timeout(least, timeout):
        text += f"; over the {timeout:g} s timeout, never locked"
    return text


def block_time_to_lock(results: dict[str, Any]) -> str:
    section = results["time_to_lock"]
    model = section["model"]
    timeout = model["function_timeout"]
    lines = [
        "A bucket has its policy deleted (used by one instance, or shared by several). Least time until the lock "
        f"is written, at Connect's quota ({model['connect_rate']:g} requests/s per API, burst {model['connect_burst']:g}), and the Connect "
        "calls before the write:",
        "",
        "| instances | "
        + " | ".join(f"{VARIANT_NAMES[v]}, {VARIANT_NAMES[m]}" for v, m in VARIANTS)
        + " | with the index, shared bucket, new environment | with the index, shared bucket, warm |",
        "|---|" + "---|" * (len(VARIANTS) + 2),
    ]
    for estate in section["estates"]:
        cells = [lock_cell(estate["time_to_lock"][v][m], timeout) for v, m in VARIANTS]
        shared = f" ({estate['shared_bucket_instances']} instances store in it)"
        cells += [lock_cell(estate["shared_bucket"][m], timeout) + shared for m in ("cold", "warm")]
        lines.append(f"| {estate['instances']:,} | " + " | ".join(cells) + " |")
    lines += [
        "",
        'Per API, before the write and in all; "modelled" adds a round trip of '
        f"{model['latency'] * 1000:.0f} ms to every request of every service, one after another; moto: the wall "
        "time on this machine until the write, and of the whole invocation (median of "
        f"{section['runs']} runs with the index, 1 without):",
        "",
        "| instances | | Connect calls before the write | Connect calls in all | AWS calls in all | least time to "
        "lock | modelled | moto: to the write, whole |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for estate in section["estates"]:
        for variant, mode in VARIANTS:
            row = estate["time_to_lock"][variant][mode]
            lines.append(
                f"| {estate['instances']:,} | {VARIANT_NAMES[variant]}, {VARIANT_NAMES[mode]} | "
                f"**{row['connect_before_write_total']:,}**: {calls_text(row['connect_before_write'])} | "
                f"**{row['connect_total']:,}**: {calls_text(row['connect_calls'])} | "
                f"{row['total_calls']:,}: {calls_text(row['calls'])} | {secs(row['least_seconds_to_lock'])} | "
                f"{secs(row['modelled_seconds_to_lock'])} | {ms(row['moto_seconds_to_lock']['median'])}, "
                f"{ms(row['moto_seconds']['median'])} |"
            )
    return "\n".join(lines)


def index_events(estate: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(event, environment, measured row) of every event measured with the index on one estate."""
    shared = estate["shared_bucket_instances"]
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for mode in ("cold", "warm"):
        rows.append(("`DeleteBucketPolicy`, bucket of 1 instance", mode, estate["time_to_lock"]["index"][mode]))
    for mode in ("cold", "warm"):
        rows.append((f"`DeleteBucketPolicy`, bucket shared by {shared} instances", mode, estate["shared_bucket"][mode]))
    for mode in ("cold", "warm"):
        rows.append(("`PutBucketPolicy` on a bucket no instance uses", mode, estate["unrelated_bucket"]["index"][mode]))
    for step in estate["drift"]["steps"]:
        rows.append((f"drift: {step['event']}", "cold", step))
    for step in estate["new_instance"]["steps"]:
        rows.append((f"new instance: {step['event']}", "cold", step))
    return rows


def block_index_calls(results: dict[str, Any]) -> str:
    section = results["time_to_lock"]
    estates = section["estates"]
    largest = estates[-1]
    # Sizes whose shared bucket has as many instances as the largest's: their events should cost the same.
    alike = [e for e in estates if e["shared_bucket_instances"] == largest["shared_bucket_instances"]]
    reference = [r["calls"] for _, _, r in index_events(largest)]
    if len(alike) > 1 and all([r["calls"] for _, _, r in index_events(e)] == reference for e in alike):
        where = f"the same calls at every size from {alike[0]['instances']:,} to {largest['instances']:,} instances"
    else:
        where = f"at {largest['instances']:,} instances"
    lines = [
        f"Every event with the index, each in its own invocation ({where}):",
        "",
        "| event | environment | outcome | Connect calls | AWS calls | DynamoDB read / write units |",
        "|---|---|---|---|---|---|",
    ]
    for label, mode, row in index_events(largest):
        outcome = ", ".join(row["outcomes"]) or "ignored"
        units = row.get("dynamodb") or {}
        lines.append(
            f"| {label} | {VARIANT_NAMES[mode]} | {outcome} | **{row['connect_total']}** | {row['total_calls']}: "
            f"{calls_text(row['calls'])} | {units.get('read_request_units', 0)} / {units.get('write_request_units', 0)} |"
        )
    return "\n".join(lines)


def parts_text(parts: list[dict[str, Any]]) -> str:
    """Invocation durations, equal neighbours grouped: "12 x 77.8 s, 55.0 s"."""
    groups: list[tuple[str, int]] = []
    for part in parts:
        text = f"{part['modelled_seconds']:.1f} s"
        if groups and groups[-1][0] == text:
            groups[-1] = (text, groups[-1][1] + 1)
        else:
            groups.append((text, 1))
    return ", ".join(text if count == 1 else f"{count} x {text}" for text, count in groups)


def sweeps(section: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    rows = []
    for estate in section["estates"]:
        rows.append((estate["instances"], "hourly (idle: all compliant)", estate["hourly_sweep"]))
        rows.append((estate["instances"], "first (all remediated)", estate["first_sweep"]))
    stress = section.get("stress_sweep")
    if stress and not stress.get("same_as_largest"):
        rows.append((stress["instances"], "first, last invocation reads a full share", stress["first_sweep"]))
    return rows


def block_sweeps(results: dict[str, Any]) -> str:
    section = results["time_to_lock"]
    model = section["model"]
    timeout, latency = model["function_timeout"], model["latency"]
    lines = [
        f"Scheduled sweeps with the index, on the `ApiModel`'s virtual clock: Connect at {model['connect_rate']:g} "
        f"requests/s per API (burst {model['connect_burst']:g}), {latency * 1000:.0f} ms per request of every "
        f"service, one after another; each invocation has the function's {timeout:g} s and hands over when less than "
        f"{model['sweep_reserve']:g} s are left (`SWEEP_RESERVE_SECONDS`); each continuation runs in a new execution "
        "environment.",
        "",
        "| instances | sweep | invocations | each invocation (modelled) | in all (modelled) | least at the quota | "
        "Connect calls | AWS calls | DynamoDB read / write units |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for count, kind, sweep in sweeps(section):
        units = sweep.get("dynamodb") or {}
        flag = "" if sweep["within_timeout"] else " **over the timeout**"
        lines.append(
            f"| {count:,} | {kind} | {sweep['invocations']} | {parts_text(sweep['parts'])}{flag} | "
            f"{minutes(sweep['modelled_seconds'])} | {minutes(sweep['least_seconds'])} | "
            f"{sweep['connect_total']:,}: {calls_text(sweep['connect_calls'])} | {sweep['total_calls']:,} | "
            f"{units.get('read_request_units', 0)} / {units.get('write_request_units', 0)} |"
        )
    return "\n".join(lines)


BLOCKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "machine": block_machine,
    "budgets": block_budgets,
    "cold-start": block_cold_start,
    "calls": block_calls,
    "timing": block_timing,
    "package": block_package,
    "custodian": block_custodian,
    "time-to-lock": block_time_to_lock,
    "index-calls": block_index_calls,
    "sweeps": block_sweeps,
    "sweep-share": sweep_share.block,
}


def render(results: dict[str, Any], document: Path) -> list[str]:
    """Rewrite every generated block present in the document; return the names of those it lacks."""
    text = document.read_text(encoding="utf-8") if document.exists() else ""
    missing = []
    for name, build in BLOCKS.items():
        if not _has_section(results, name):
            continue
        pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.DOTALL)
        if not pattern.search(text):
            missing.append(name)
            continue
        body = build(results)

        def replace(match: re.Match[str], body: str = body) -> str:
            return f"{match.group(1)}{body}\n{match.group(2)}"

        text = pattern.sub(replace, text)
    document.write_text(text, encoding="utf-8")
    return missing


def _has_section(results: dict[str, Any], name: str) -> bool:
    needs = {
        "budgets": ("cold_start", "per_event", "package"),
        "cold-start": ("cold_start",),
        "calls": ("per_event",),
        "timing": ("per_event",),
        "package": ("package",),
        "custodian": ("custodian",),
        "machine": ("machine",),
        "time-to-lock": ("time_to_lock",),
        "index-calls": ("time_to_lock",),
        "sweeps": ("time_to_lock",),
        "sweep-share": ("sweep_share",),
    }
    return all(key in results for key in needs[name])
