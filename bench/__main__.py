"""`make bench` (python -m bench): every benchmark, then bench/results/latest.json and docs/benchmarks.md."""

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

SECTIONS = ("package", "cold_start", "per_event", "time_to_lock", "sweep_share")
DOCUMENT = ROOT / "docs" / "benchmarks.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections (default: all)")
    parser.add_argument("--quick", action="store_true", help="few runs, small estates: a smoke test, not figures")
    parser.add_argument("--no-docs", action="store_true", help="write the JSON only, leave docs/ alone")
    parser.add_argument("--render", action="store_true", help="measure nothing: redraw the doc from latest.json")
    arguments = parser.parse_args(argv)
    if arguments.render:
        return render(json.loads((RESULTS_DIR / "latest.json").read_text(encoding="utf-8")))
    sections, quick = set(arguments.only or SECTIONS), arguments.quick
    # Powertools warns when an ignored event emits no metric; that is the expected case here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    from bench import cold_start, package_size, per_event, sweep_share, time_to_lock
    from bench.moto_process import MotoProcess

    path = RESULTS_DIR / ("quick.json" if quick else "latest.json")
    # A partial run (--only) updates its sections in the last results and keeps the others.
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if arguments.only and path.exists() else {}
    results.update({"machine": machine(), "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
    durations: dict[str, float] = results.setdefault("section_seconds", {})
    section_runs: dict[str, dict[str, Any]] = results.setdefault("section_runs", {})

    def measure(section: str, run: Any) -> None:
        if section not in sections:
            return
        since = time.perf_counter()
        results[section] = run()
        durations[section] = time.perf_counter() - since
        # Sections kept from earlier runs say when and how each was measured.
        keys = ("commit", "load_average_at_start")
        section_runs[section] = {"started": results["started"], **{k: results["machine"][k] for k in keys}}
        save(results, path)

    with tempfile.TemporaryDirectory(prefix="connect-lockdown-bench-") as temporary:
        work = Path(temporary)
        if sections & {"package", "cold_start"}:
            built = package_size.run(work / "build")
            # The build directories are temporary: the committed results keep no path of this machine.
            function_dir, layer_dir = Path(built.pop("function_dir")), Path(built.pop("layer_dir")) / "python"
            measure("package", lambda: built)
            runs = 5 if quick else 15
            measure("cold_start", lambda: cold_start.run(function_dir, layer_dir, work / "cold", runs=runs))
        measure("sweep_share", sweep_share.run)
        if sections & {"per_event", "time_to_lock"}:
            with MotoProcess() as server:
                event_runs = {"warm_runs": 3, "cold_runs": 2} if quick else {"warm_runs": 11, "cold_runs": 5}
                measure("per_event", lambda: per_event.run(server, **event_runs))
                sizes: dict[str, Any] = {"sizes": (2, 10), "runs": 1} if quick else {}
                measure("time_to_lock", lambda: time_to_lock.run(server, **sizes))
    results["duration_seconds"] = sum(durations.values())
    results["quick"] = quick
    save(results, path)
    log(f"results: {path}")
    if quick or arguments.no_docs:
        log("docs left alone (--quick or --no-docs)")
        return 0
    return render(results)


def save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")


def render(results: dict[str, Any]) -> int:
    from bench import report

    missing = report.render(results, DOCUMENT)
    log(f"doc: {DOCUMENT}" + (f" (no marker for: {', '.join(missing)})" if missing else ""))
    if all(section in results for section in ("cold_start", "per_event", "package")):
        for what, budget, measured, holds in report.budgets(results):
            log(f"{'OK  ' if holds else 'MISS'} {what}: {measured} (budget: {budget})")
    log(f"measured in {results['duration_seconds'] / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
