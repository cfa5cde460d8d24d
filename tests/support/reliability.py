"""How hard the reliability tests push, and where they report what they measured.

`make test` runs them at the default scale; `make soak` sets HYPOTHESIS_PROFILE=soak for the soak scale. Both
scales are named here, so docs/reliability.md can quote them. Tests call `figure(...)` with what they measured;
with RELIABILITY_FIGURES=<file> set (make soak sets it) each figure is appended to that file as a JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, settings

SOAK = os.environ.get("HYPOTHESIS_PROFILE", "").strip().lower() == "soak"


def scale(default: int, soak: int) -> int:
    return soak if SOAK else default


# Examples per hypothesis property: at least 1,000 in `make test`. RELIABILITY_EXAMPLES
# overrides it, for a quick look while developing.
PROPERTY_EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES") or scale(1_000, 20_000))
# Examples of the moto-backed cross-checks, each a whole reconcile on in-process moto.
MOTO_EXAMPLES = scale(10, 300)
# Events fed to the handler.
HOSTILE_EVENTS = scale(10_000, 100_000)
MOTO_HOSTILE_EVENTS = scale(200, 5_000)
# Rounds of the fault and concurrency scenarios.
THROTTLE_ROUNDS = scale(3, 40)
CONCURRENCY_ROUNDS = scale(1, 10)


# Figures that several tests add up (the examples of the properties, the rounds of a scenario): reported once,
# when the session finishes (tests/conftest.py), whatever order the tests ran in and whichever of them ran.
_TALLIES: dict[str, tuple[dict[str, Any], Counter[str]]] = {}


def tally(name: str, **labels: Any) -> Counter[str]:
    """The running counts of figure `name`, reported with `labels` when the session finishes."""
    return _TALLIES.setdefault(name, (labels, Counter()))[1]


def report_tallies() -> None:
    """Write the summed figures to $RELIABILITY_FIGURES, when it is set (`make soak` prints that file); a plain
    test run stays quiet: the session's end has no test output to explain a bare JSON line."""
    if not os.environ.get("RELIABILITY_FIGURES"):
        return
    for name, (labels, counts) in _TALLIES.items():
        if counts:
            figure(name, **labels, **dict(counts))


# How many examples each property completed.
PROPERTY_COUNTS = tally("properties", settings_examples=PROPERTY_EXAMPLES)


def property_settings(max_examples: int = PROPERTY_EXAMPLES) -> settings:
    """Settings for one property: the example count of the scale, no deadline (CI machines are shared)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """Median, 99th percentile and maximum of timings in seconds, as milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def figure(name: str, **values: Any) -> None:
    """Record what a test measured: printed (visible with -s) and appended to $RELIABILITY_FIGURES."""
    line = json.dumps({"figure": name, "scale": "soak" if SOAK else "default", **values}, sort_keys=True)
    print(line)
    path = os.environ.get("RELIABILITY_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
