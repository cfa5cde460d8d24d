"""bench/results/latest.json as the generated blocks of docs/benchmarks.md (between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->`; the prose around them is written by people)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
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
    ordered = sorted(calls.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{name} {count}" for name, count in ordered) or "none"


def table(header: list[str], rows: Iterable[Iterable[Any]], align: str = "---") -> str:
    """A Markdown table; `align` is every column's rule (`---:` right-aligns)."""

    def line(cells: Iterable[Any]) -> str:
        return "|" + "|".join(f" {cell} " if str(cell) else " " for cell in cells) + "|"

    return "\n".join([line(header), "|" + "|".join(align for _ in header) + "|", *(line(row) for row in rows)])


def units(row: Mapping[str, Any]) -> str:
    """DynamoDB's read / write request units of a measured row."""
    used = row.get("dynamodb") or {}
    return f"{used.get('read_request_units', 0)} / {used.get('write_request_units', 0)}"


def scenario(results: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in results["per_event"]["scenarios"] if s["key"] == key)


def remediation_within_budget(calls: dict[str, int]) -> bool:
    """Besides the fresh inventory: the policy read to decide and read again just before the write (to merge with
    a change made meanwhile), the write, the alert."""
    extra = {name: count for name, count in calls.items() if name not in INVENTORY_CALLS}
    return extra == {"GetBucketPolicy": 2, "PutBucketPolicy": 1, "Publish": 1}


def budgets(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(what, budget, measured, holds) of every budget the page promises."""
    cold, package, layer = results["cold_start"], results["package"], results["package"]["layer"]
    as_built, sources_only = (cold[f"paired_ratio_{variant}"]["median"] for variant in ("as_built", "sources_only"))
    ratios = f"{as_built:.2f} x as `sam build` ships it (with bytecode); {sources_only:.2f} x without the .pyc files"
    ratios += " (median of the per-round ratios)"
    cold_budget = f"at most {COLD_START_BUDGET} x the floor"
    xray = "imported" if cold["xray_loaded"] else "the X-Ray SDK is never imported (Tracer is not used)"
    compliant = scenario(results, "put_compliant")["warm"]["calls"]
    remediation = "fresh inventory + the policy read twice + 1 write + 1 publish"
    shipped, pinned = package["sdk_shipped"], package["sdk_pinned"]
    sdk_as_pinned = all(shipped.get(name) == pinned.get(name) is not None for name in ("boto3", "botocore"))
    sizes = f"{kib(package['total_unzipped_bytes'])} unzipped, {kib(package['total_zipped_bytes'])} zipped"
    sdk = f"boto3 {shipped.get('boto3') or 'missing'}, botocore {shipped.get('botocore') or 'missing'}"
    sdk += f" (pinned: {pinned.get('boto3')}, {pinned.get('botocore')}); {layer['pyc_files']} .pyc files; {sizes}"
    small = package["total_unzipped_bytes"] < LAMBDA_UNZIPPED_LIMIT
    return [
        ("Cold start", cold_budget, ratios, as_built <= COLD_START_BUDGET),
        ("Tracer / X-Ray SDK", "loaded only when tracing is on", xray, not cold["xray_loaded"]),
        (
            "Warm compliant event",
            "1 call (`GetBucketPolicy`)",
            calls_text(compliant),
            compliant == {"GetBucketPolicy": 1},
        ),
        *(
            (f"Remediation: {row['label']}", remediation, calls_text(calls), remediation_within_budget(calls))
            for row in (scenario(results, key) for key in ("put_drift", "delete", "storage_unlocked"))
            for calls in [row["warm"]["calls"]]
        ),
        (
            "Package",
            "the layer ships boto3/botocore as pinned, and bytecode; under Lambda's 250 MB unzipped",
            sdk,
            sdk_as_pinned and layer["pyc_files"] > 0 and not package["sdk_in_function"] and small,
        ),
    ]


# --- blocks ---------------------------------------------------------------------------------------------


def block_machine(results: dict[str, Any]) -> str:
    m = results["machine"]
    sections = ", ".join(f"{k.replace('_', ' ')} {v / 60:.1f}" for k, v in results.get("section_seconds", {}).items())
    load = f"load average {m['load_average_at_start']} at the start of the last run"
    rows = [
        ("CPU", f"{m['cpu']}, {m['cpus']} cores, shared with other work ({load})"),
        ("memory", m["memory"]),
        ("OS", m["os"]),
        ("Python", interpreter(m)),
        ("boto3 / botocore / moto", f"{m['boto3']} / {m['botocore']} / {m['moto']}"),
        ("commit (last run)", f"`{m['commit']}`{' with uncommitted changes' if m['tree_modified'] else ''}"),
        (
            "run",
            f"{results['started']}; the measurements took {results['duration_seconds'] / 60:.1f} minutes ({sections})",
        ),
    ]
    lines = [table(["", ""], rows)]
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
    rows = [(*row[:3], "**holds**" if row[3] else "**does not hold**") for row in budgets(results)]
    return table(["what", "budget", "measured", ""], rows)


def block_cold_start(results: dict[str, Any]) -> str:
    cold = results["cold_start"]

    def ratio(key: str) -> str:
        return f"{cold[key]['median']:.2f} x ({cold[key]['min']:.2f} to {cold[key]['max']:.2f})"

    def cpu(key: str) -> str:
        return ms(cold[f"cpu_{key}"]["median"])

    handler = f"handler as `sam build` ships it ({cold['as_built_usable_pyc']} of its {cold['as_built_modules']} modules load from .pyc)"
    rows = [
        ("floor: `import boto3` + the same 5 clients", spread_ms(cold["floor"]), "1.00"),
        (handler, spread_ms(cold["handler_as_built"]), f"{cold['ratio_as_built']:.2f}"),
        (
            "the same package without its .pyc files",
            spread_ms(cold["handler_sources_only"]),
            f"{cold['ratio_sources_only']:.2f}",
        ),
    ]
    stages = [
        (built["stage"], ms(built["seconds"]), ms(sources["seconds"]))
        for built, sources in zip(cold["breakdown_as_built"], cold["breakdown_sources_only"], strict=True)
    ]
    clients = ", ".join(f"{name} {ms(seconds)}" for name, seconds in cold["floor_clients"].items())
    return f"""Median of {cold["runs"]} fresh processes each (min to max in brackets).

{table(["", "import until ready", "ratio to the floor"], rows)}

The ratios in the table are of the medians. The budget uses the ratio within each round (the variants run back to back, so slow changes in the machine's load cancel out), median (min to max): as built **{ratio("paired_ratio_as_built")}**, without .pyc files **{ratio("paired_ratio_sources_only")}**.

CPU time (`time.process_time()`, less sensitive to the other work on the machine): floor {cpu("floor")}, handler as built {cpu("handler_as_built")} (**{cold["cpu_ratio_as_built"]:.2f} x**), without .pyc files {cpu("handler_sources_only")} (**{cold["cpu_ratio_sources_only"]:.2f} x**).

Interpreter start-up, the same for all and outside the ratio: {spread_ms(cold["interpreter_wall"])} (whole process, floor: {ms(cold["floor_process_wall"]["median"])}; handler: {ms(cold["handler_process_wall"]["median"])}).

Where the handler's time goes (medians of {cold["detail_runs"]} runs, in import order):

{table(["stage", "as built", "without .pyc files"], stages)}

Without its .pyc files the layer (its `python/` directory) would be {kib(cold["sources_only_layer_unzipped_bytes"])} unzipped, {kib(cold["sources_only_layer_zipped_bytes"])} zipped: the bytecode's cost in size.

Inside the floor: `import boto3` {ms(cold["floor_import_boto3"]["median"])}; clients: {clients}."""


def block_calls(results: dict[str, Any]) -> str:
    rows = [
        (
            row["label"],
            ", ".join(row["outcomes"]) or "ignored",
            *(f"**{row[mode]['total']}**: {calls_text(row[mode]['calls'])}" for mode in ("warm", "cold")),
        )
        for row in results["per_event"]["scenarios"]
    ]
    return table(["event", "outcome", "warm: calls", "cold: calls"], rows)


def block_timing(results: dict[str, Any]) -> str:
    per_event = results["per_event"]
    rows = [
        (row["label"], spread_ms(row["warm"]["seconds"]), spread_ms(row["cold"]["seconds"]))
        for row in per_event["scenarios"]
    ]
    header = ["event", "warm", "cold (first call of a new environment)"]
    intro = f"Median (min to max) of {per_event['warm_runs']} warm and {per_event['cold_runs']} cold runs."
    return f"{intro}\n\n{table(header, rows)}"


def block_package(results: dict[str, Any]) -> str:
    package = results["package"]
    rows: list[tuple[Any, ...]] = [
        (name, part["files"], kib(part["unzipped_bytes"]), kib(part["zipped_bytes"]), part["pyc_files"])
        for name, part in ((name, package[name]) for name in ("function", "layer"))
    ]
    rows.append(
        ("**total**", "", kib(package["total_unzipped_bytes"]), f"**{kib(package['total_zipped_bytes'])}**", "")
    )
    largest = ", ".join(f"{n} {kib(s)}" for n, s in package["layer"]["largest"])
    shipped = ", ".join(f"{name} {version}" for name, version in sorted(package["layer"]["distributions"].items()))
    body = table(["", "files", "unzipped", "zipped", ".pyc files"], rows)
    return (
        f"Built with {package['method']}.\n\n{body}\n\nLargest parts of the layer (unzipped): {largest}.\n\n"
        f"Shipped in the layer: {shipped}."
    )


# --- the index, time to lock, sweeps ----------------------------------------------------------------------

VARIANTS = (("fresh", "cold"), ("fresh", "warm"), ("index", "cold"), ("index", "warm"))
NAMES = {"fresh": "without the index", "index": "with the index", "cold": "new environment", "warm": "warm"}


def block_time_to_lock(results: dict[str, Any]) -> str:
    section = results["time_to_lock"]
    model, timeout = section["model"], section["model"]["function_timeout"]

    def least_text(least: float) -> str:
        return f"**{secs(least)}**" + (f"; over the {timeout:g} s timeout, never locked" if least > timeout else "")

    rows = [
        (
            f"{estate['instances']:,}",
            label,
            f"**{row['connect_before_write_total']:,}**: {calls_text(row['connect_before_write'])}",
            f"**{row['connect_total']:,}**: {calls_text(row['connect_calls'])}",
            f"{row['total_calls']:,}: {calls_text(row['calls'])}",
            least_text(row["least_seconds_to_lock"]),
            secs(row["modelled_seconds_to_lock"]),
            f"{ms(row['moto_seconds_to_lock']['median'])}, {ms(row['moto_seconds']['median'])}",
        )
        for estate in section["estates"]
        for label, row in [
            *((f"{NAMES[v]}, {NAMES[m]}", estate["time_to_lock"][v][m]) for v, m in VARIANTS),
            *(
                (f"with the index, bucket shared by {estate['shared_bucket_instances']}, {NAMES[m]}", row)
                for m, row in estate["shared_bucket"].items()
            ),
        ]
    ]
    header = ["instances", "", "Connect calls before the write", "Connect calls in all", "AWS calls in all"]
    header += ["least time to lock", "modelled", "moto: to the write, whole"]
    return (
        "A bucket has its policy deleted (used by one instance, or shared by several). Least time until the lock "
        f"is written, at Connect's quota ({model['connect_rate']:g} requests/s per API, burst "
        f'{model["connect_burst"]:g}) and the Connect calls before it, per API; "modelled" adds a round trip of '
        f"{model['latency'] * 1000:.0f} ms to every request of every service, one after another; moto: the wall "
        f"time on this machine until the write, and of the whole invocation (median of {section['runs']} runs with "
        f"the index on a bucket of one instance, 1 otherwise):\n\n{table(header, rows)}"
    )


def index_events(estate: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(event, environment, measured row) of every event measured with the index on one estate."""
    shared = estate["shared_bucket_instances"]
    rows = [
        (label, mode, rows[mode])
        for label, rows in (
            ("`DeleteBucketPolicy`, bucket of 1 instance", estate["time_to_lock"]["index"]),
            (f"`DeleteBucketPolicy`, bucket shared by {shared} instances", estate["shared_bucket"]),
            ("`PutBucketPolicy` on a bucket no instance uses", estate["unrelated_bucket"]["index"]),
        )
        for mode in ("cold", "warm")
    ]
    rows += [
        (f"{kind}: {step['event']}", "cold", step)
        for kind in ("drift", "new instance")
        for step in estate[kind.replace(" ", "_")]["steps"]
    ]
    return rows


def block_index_calls(results: dict[str, Any]) -> str:
    estates = results["time_to_lock"]["estates"]
    largest = estates[-1]
    # Sizes whose shared bucket has as many instances as the largest's: their events should cost the same.
    alike = [e for e in estates if e["shared_bucket_instances"] == largest["shared_bucket_instances"]]
    reference = [r["calls"] for _, _, r in index_events(largest)]
    if len(alike) > 1 and all([r["calls"] for _, _, r in index_events(e)] == reference for e in alike):
        where = f"the same calls at every size from {alike[0]['instances']:,} to {largest['instances']:,} instances"
    else:
        where = f"at {largest['instances']:,} instances"
    rows = [
        (
            label,
            NAMES[mode],
            ", ".join(row["outcomes"]) or "ignored",
            f"**{row['connect_total']}**",
            f"{row['total_calls']}: {calls_text(row['calls'])}",
            units(row),
        )
        for label, mode, row in index_events(largest)
    ]
    header = ["event", "environment", "outcome", "Connect calls", "AWS calls", "DynamoDB read / write units"]
    return f"Every event with the index, each in its own invocation ({where}):\n\n{table(header, rows)}"


def parts_text(parts: list[dict[str, Any]]) -> str:
    """Invocation durations, equal neighbours grouped: "12 x 77.8 s, 55.0 s"."""
    groups: list[list[Any]] = []
    for text in (f"{part['modelled_seconds']:.1f} s" for part in parts):
        if groups and groups[-1][0] == text:
            groups[-1][1] += 1
        else:
            groups.append([text, 1])
    return ", ".join(text if count == 1 else f"{count} x {text}" for text, count in groups)


def block_sweeps(results: dict[str, Any]) -> str:
    section = results["time_to_lock"]
    model = section["model"]
    sweeps = [
        (estate["instances"], kind, estate[key])
        for estate in section["estates"]
        for kind, key in (("hourly (idle: all compliant)", "hourly_sweep"), ("first (all remediated)", "first_sweep"))
    ]
    stress = section.get("stress_sweep")
    if stress and not stress.get("same_as_largest"):
        sweeps.append((stress["instances"], "first, last invocation reads a full share", stress["first_sweep"]))
    rows = [
        (
            f"{count:,}",
            kind,
            sweep["invocations"],
            parts_text(sweep["parts"]) + ("" if sweep["within_timeout"] else " **over the timeout**"),
            f"{sweep['modelled_seconds'] / 60:,.1f} min",
            f"{sweep['least_seconds'] / 60:,.1f} min",
            f"{sweep['connect_total']:,}: {calls_text(sweep['connect_calls'])}",
            f"{sweep['total_calls']:,}",
            units(sweep),
        )
        for count, kind, sweep in sweeps
    ]
    header = ["instances", "sweep", "invocations", "each invocation (modelled)", "in all (modelled)"]
    header += ["least at the quota", "Connect calls", "AWS calls", "DynamoDB read / write units"]
    return (
        f"Scheduled sweeps with the index, on the `ApiModel`'s virtual clock: Connect at {model['connect_rate']:g} "
        f"requests/s per API (burst {model['connect_burst']:g}), {model['latency'] * 1000:.0f} ms per request of "
        f"every service, one after another; each invocation has the function's {model['function_timeout']:g} s and "
        f"hands over when less than {model['sweep_reserve']:g} s are left (`SWEEP_RESERVE_SECONDS`); each "
        f"continuation runs in a new execution environment.\n\n{table(header, rows)}\n\n{orphan_search(section)}"
    )


def orphan_search(section: dict[str, Any]) -> str:
    """What the daily sweep (00:00 UTC) adds to an hourly one: the search for locks no instance needs."""
    orphans = section["orphan_search"]
    return (
        f"The sweep of 00:00 UTC also searches for orphaned locks: on {orphans['instances']} instances and "
        f"{orphans['other_buckets']} other buckets it makes {orphans['daily']['total_calls']} AWS calls where the "
        f"hourly sweep makes {orphans['hourly']['total_calls']} ({calls_text(orphans['extra_calls'])} more)."
    )


# name -> (the results' sections it needs, the function that renders it)
BLOCKS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], str]]] = {
    "machine": (("machine",), block_machine),
    "budgets": (("cold_start", "per_event", "package"), block_budgets),
    "cold-start": (("cold_start",), block_cold_start),
    "calls": (("per_event",), block_calls),
    "timing": (("per_event",), block_timing),
    "package": (("package",), block_package),
    "time-to-lock": (("time_to_lock",), block_time_to_lock),
    "index-calls": (("time_to_lock",), block_index_calls),
    "sweeps": (("time_to_lock",), block_sweeps),
    "sweep-share": (("sweep_share",), sweep_share.block),
}


def fill(text: str, prefix: str, blocks: Mapping[str, str]) -> tuple[str, list[str]]:
    """`text` with the body between `<!-- PREFIX:NAME -->` and `<!-- /PREFIX:NAME -->` replaced by each block;
    also the names of the blocks it has no markers for."""
    missing = []
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- {prefix}:{name} -->\n).*?(<!-- /{prefix}:{name} -->)", re.DOTALL)
        if match := pattern.search(text):
            text = f"{text[: match.end(1)]}{body}\n{text[match.start(2) :]}"
        else:
            missing.append(name)
    return text, missing


def render(results: dict[str, Any], document: Path) -> list[str]:
    """Rewrite every generated block present in the document; return the names of those it lacks."""
    text = document.read_text(encoding="utf-8") if document.exists() else ""
    blocks = {name: build(results) for name, (needs, build) in BLOCKS.items() if all(k in results for k in needs)}
    text, missing = fill(text, "bench", blocks)
    document.write_text(text, encoding="utf-8")
    return missing
