"""Turn bench/results/latest.json into the generated blocks of docs/benchmarks.md.

The document's prose is written by people; every figure sits between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->` markers, and `make bench` rewrites only what is between them.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    extra = {name: count for name, count in calls.items() if name not in INVENTORY_CALLS}
    return extra == {"GetBucketPolicy": 1, "PutBucketPolicy": 1, "Publish": 1}


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
                "fresh inventory + 1 write + 1 publish",
                calls_text(row["warm"]["calls"]),
                remediation_within_budget(row["warm"]["calls"]),
            )
        )
    scaling = results["scaling"]
    growth = scaling["growth"]
    per_instance = [row["steady"]["total_calls"] / row["instances"] for row in growth]
    rows.append(
        (
            "Sweep growth",
            "linear in instances",
            f"time R^2 = {scaling['fit_seconds']['r2']:.4f}, calls R^2 = {scaling['fit_calls']['r2']:.4f}; "
            f"{min(per_instance):.2f} to {max(per_instance):.2f} calls per instance",
            scaling["fit_seconds"]["r2"] >= 0.99 and scaling["fit_calls"]["r2"] >= 0.999,
        )
    )
    study = scaling["parallelism"]
    free = {r["parallel"]: r["seconds"] for r in study["series"]["latency"]}
    limited = {r["parallel"]: r["seconds"] for r in study["series"]["latency_and_rate_limit"]}
    levels = sorted(free)
    helps = all(free[b] < free[a] for a, b in itertools.pairwise(levels[:3]))
    floor_reached = min(v for v in limited.values() if not math.isnan(v)) >= study["rate_limit_floor_seconds"] * 0.95
    rows.append(
        (
            "Parallelism",
            "helps until the rate limit takes over",
            f"{secs(free[levels[0]])} at {levels[0]} thread(s) -> {secs(min(free.values()))} best without a limit; "
            f"never below the {secs(study['rate_limit_floor_seconds'])} rate-limit floor with one",
            helps and floor_reached,
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


def block_scaling(results: dict[str, Any]) -> str:
    scaling = results["scaling"]
    lines = [
        "| instances | steady-state sweep | calls | calls per instance | first sweep (all remediated) | calls |",
        "|---|---|---|---|---|---|",
    ]
    for row in scaling["growth"]:
        steady = row["steady"]
        first = row.get("first")
        first_cells = f"{secs(first['seconds']['median'])} | {first['total_calls']:,}" if first else "not run (time) | "
        lines.append(
            f"| {row['instances']:,} | {secs(steady['seconds']['median'])} (median of {steady['seconds']['runs']}) | "
            f"{steady['total_calls']:,} | {steady['total_calls'] / row['instances']:.2f} | {first_cells} |"
        )
    fit_t, fit_c = scaling["fit_seconds"], scaling["fit_calls"]
    lines += [
        "",
        f"Least-squares fit, steady state: time = {fit_t['intercept']:.3f} s + {fit_t['slope'] * 1000:.1f} ms x instances "
        f"(R^2 = {fit_t['r2']:.4f}); calls = {fit_c['intercept']:.1f} + {fit_c['slope']:.2f} x instances "
        f"(R^2 = {fit_c['r2']:.4f}).",
        "",
    ]
    study = scaling["parallelism"]
    lines += [
        f"Parallelism, {study['instances']} instances ({study['connect_calls']} Connect calls per sweep), "
        f"{study['latency'] * 1000:.0f} ms modelled latency on every request; rate limit "
        f"{study['rate']:g} requests/s per Connect API, burst {study['burst']:g} "
        f"(floor: {secs(study['rate_limit_floor_seconds'])}):",
        "",
        "| MAX_PARALLEL_INSTANCES | no rate limit | with the rate limit | throttled responses | HTTP requests |",
        "|---|---|---|---|---|",
    ]
    for free, limited in zip(study["series"]["latency"], study["series"]["latency_and_rate_limit"], strict=True):
        failed = f" ({limited['error']})" if limited["error"] else ""
        lines.append(
            f"| {free['parallel']} | {secs(free['seconds'])} | {secs(limited['seconds'])}{failed} | "
            f"{limited['throttled']} | {limited['http_requests']} |"
        )
    quota = scaling["default_quota"]
    lines += [
        "",
        f"At Amazon Connect's documented default quota ({quota['rate']:g} requests/s per API, burst "
        f"{quota['burst']:g}), {quota['instances']} instances, {quota['latency'] * 1000:.0f} ms latency:",
        "",
        "| MAX_PARALLEL_INSTANCES | sweep | AWS calls | HTTP requests | throttled responses |",
        "|---|---|---|---|---|",
    ]
    for run in quota["runs"]:
        failed = f" ({run['error']})" if run["error"] else ""
        lines.append(
            f"| {run['parallel']} | {secs(run['seconds'])}{failed} | {run['total_calls']} | {run['http_requests']} | "
            f"{run['throttled']} |"
        )
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


def block_custodian(results: dict[str, Any]) -> str:
    c7n = results["custodian"]
    rows = c7n["results"]
    lines = [
        f"c7n {c7n['c7n_version']}; median (min to max) of {c7n['runs']} alternating warm runs per contender and state.",
        "",
        "| bucket state | contender | wall time | AWS calls | ratio c7n / ours: time | calls |",
        "|---|---|---|---|---|---|",
    ]
    names = {
        "ours": "Connect Bucket Lockdown (warm)",
        "c7n_cloudtrail": "c7n, `cloudtrail` mode (`policy.push`)",
        "c7n_pull": "c7n, pull mode (`custodian run`)",
    }
    for state in ("drift", "compliant"):
        ours = rows[state]["ours"]
        for name, label in names.items():
            row = rows[state][name]
            if name == "ours":
                ratio = "1.00 | 1.00"
            else:
                time_ratio = row["seconds"]["median"] / ours["seconds"]["median"]
                call_ratio = row["total_calls"] / ours["total_calls"] if ours["total_calls"] else float("inf")
                ratio = f"{time_ratio:.2f} | {call_ratio:.2f}"
            lines.append(
                f"| {state} | {label} | {spread_ms(row['seconds'])} | **{row['total_calls']}**: {calls_text(row['calls'])} | {ratio} |"
            )
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
        + ", ".join(f"{names[n]}: {'yes' if ok else 'NO'}" for n, ok in c7n["same_end_state"].items())
        + f". c7n's package alone is {kib(c7n['c7n_installed_bytes'])} of Python source.",
    ]
    return "\n".join(lines)


BLOCKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "machine": block_machine,
    "budgets": block_budgets,
    "cold-start": block_cold_start,
    "calls": block_calls,
    "timing": block_timing,
    "scaling": block_scaling,
    "package": block_package,
    "custodian": block_custodian,
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
        "budgets": ("cold_start", "per_event", "scaling", "package"),
        "cold-start": ("cold_start",),
        "calls": ("per_event",),
        "timing": ("per_event",),
        "scaling": ("scaling",),
        "package": ("package",),
        "custodian": ("custodian",),
        "machine": ("machine",),
    }
    return all(key in results for key in needs[name])
