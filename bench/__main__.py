"""`make bench` (python -m bench): every benchmark, then bench/results/latest.json, the plot and the doc."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, ROOT, log, machine

SECTIONS = ("package", "cold_start", "per_event", "custodian", "time_to_lock", "sweep_share")
DOCUMENT = ROOT / "docs" / "benchmarks.md"
TIME_TO_LOCK_PLOT = ROOT / "docs" / "img" / "time-to-lock.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections (default: all)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="few runs and small estates: a smoke test, not figures to publish",
    )
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only, leave docs/ alone")
    parser.add_argument(
        "--render",
        action="store_true",
        help="measure nothing: redraw the plot and the doc from bench/results/latest.json",
    )
    arguments = parser.parse_args(argv)
    if arguments.render:
        return render(json.loads((RESULTS_DIR / "latest.json").read_text(encoding="utf-8")))
    sections = set(arguments.only or SECTIONS)
    quick = arguments.quick
    # Powertools warns when an ignored event emits no metric; that is the expected case here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    from bench import cold_start, custodian, package_size, per_event, time_to_lock
    from bench.moto_process import MotoProcess

    name = "quick.json" if quick else "latest.json"
    results: dict[str, Any] = {}
    if arguments.only and (RESULTS_DIR / name).exists():
        # A partial run updates its sections in the last full results and keeps the others.
        results = json.loads((RESULTS_DIR / name).read_text(encoding="utf-8"))
    results.update({"machine": machine(), "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
    durations: dict[str, float] = results.setdefault("section_seconds", {})

    section_runs: dict[str, dict[str, Any]] = results.setdefault("section_runs", {})

    def finish(section: str, value: Any, since: float) -> None:
        results[section] = value
        durations[section] = time.perf_counter() - since
        # A partial run (--only) keeps other sections from earlier runs: say when and how each was measured.
        section_runs[section] = {
            "started": results["started"],
            "commit": results["machine"]["commit"],
            "load_average_at_start": results["machine"]["load_average_at_start"],
        }
        save(results, name)

    with tempfile.TemporaryDirectory(prefix="connect-lockdown-bench-") as temporary:
        work = Path(temporary)
        since = time.perf_counter()
        if sections & {"package", "cold_start"}:
            built = package_size.run(work / "build")
            # The build directories are temporary: the committed results keep no path of this machine.
            function_dir, layer_dir = Path(built.pop("function_dir")), Path(built.pop("layer_dir")) / "python"
        if "package" in sections:
            finish("package", built, since)
        if "cold_start" in sections:
            since = time.perf_counter()
            finish("cold_start", cold_start.run(function_dir, layer_dir, work / "cold", runs=5 if quick else 15), since)
        if "sweep_share" in sections:
            from bench import sweep_share

            finish("sweep_share", sweep_share.run(), time.perf_counter())
        if sections & {"per_event", "custodian", "time_to_lock"}:
            with MotoProcess() as server:
                if "per_event" in sections:
                    since = time.perf_counter()
                    runs = {"warm_runs": 3, "cold_runs": 2} if quick else {"warm_runs": 11, "cold_runs": 5}
                    finish("per_event", per_event.run(server, **runs), since)
                if "custodian" in sections:
                    since = time.perf_counter()
                    finish("custodian", custodian.run(server, runs=3 if quick else 9), since)
                if "time_to_lock" in sections:
                    since = time.perf_counter()
                    sizes = {"sizes": (2, 10), "runs": 1} if quick else {}
                    finish("time_to_lock", time_to_lock.run(server, **sizes), since)  # type: ignore[arg-type]
    results["duration_seconds"] = sum(durations.values())
    results["quick"] = quick
    save(results, name)
    log(f"results: {RESULTS_DIR / name}")
    if quick or arguments.no_docs:
        log("docs left alone (--quick or --no-docs)")
        return 0
    return render(results)


def save(results: dict[str, Any], name: str) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / name).write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")


def render(results: dict[str, Any]) -> int:
    from bench import report, time_to_lock

    if "time_to_lock" in results:
        time_to_lock.plot(results["time_to_lock"], TIME_TO_LOCK_PLOT)
        log(f"plot: {TIME_TO_LOCK_PLOT}")
    missing = report.render(results, DOCUMENT)
    log(f"doc: {DOCUMENT}" + (f" (no marker for: {', '.join(missing)})" if missing else ""))
    for what, budget, measured, holds in report.budgets(results) if _complete(results) else []:
        log(f"{'OK  ' if holds else 'MISS'} {what}: {measured} (budget: {budget})")
    log(f"measured in {results['duration_seconds'] / 60:.1f} minutes")
    return 0


def _complete(results: dict[str, Any]) -> bool:
    return all(section in results for section in ("cold_start", "per_event", "package"))


if __name__ == "__main__":
    raise SystemExit(main())
