"""Sweep time and AWS calls as the estate grows, and what parallelism buys before the rate limit takes over."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.common import ApiModel, CallCounter, attach_gateway, log, spread, timed
from bench.moto_process import MotoProcess, client_world
from bench.per_event import Estate, invoke, load_app
from devtools.events import load_event

# Amazon Connect's documented default: 2 requests/s per API per account and Region, burst 5.
CONNECT_DEFAULT_RATE = 2.0
CONNECT_DEFAULT_BURST = 5.0


def _estate(server: MotoProcess, count: int, *, locked: bool) -> Estate:
    world = client_world(server.endpoint, server.estate(count=count, locked=locked))
    first = world.instances[0]
    return Estate(world, server.endpoint, first, first, first)


def _sweep(
    estate: Estate,
    parallel: int,
    *,
    connect_model: ApiModel | None = None,
    other_model: ApiModel | None = None,
) -> dict[str, Any]:
    """One scheduled sweep in a new execution environment; the outcomes, the calls, the time."""
    from connect_lockdown import inventory

    app = load_app(estate)
    gateway = app.ENFORCER.gateway
    counter = CallCounter()
    attach_gateway(counter, gateway)
    if connect_model is not None:
        connect_model.attach(gateway.connect)
    if other_model is not None:
        for client in (gateway.s3, gateway.iam, gateway.sts, gateway.sns):
            other_model.attach(client)
    previous = inventory.MAX_PARALLEL_INSTANCES
    inventory.MAX_PARALLEL_INSTANCES = parallel
    event = load_event("scheduled-event")
    try:
        elapsed, document = timed(lambda: invoke(app, event))
        error = None
    except Exception as raised:  # noqa: BLE001 - a sweep that gave up (RetryLater) is a result here
        elapsed, document, error = float("nan"), {"results": []}, f"{type(raised).__name__}: {str(raised)[:200]}"
    finally:
        inventory.MAX_PARALLEL_INSTANCES = previous
    outcomes: dict[str, int] = {}
    for result in document["results"]:
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
    return {
        "seconds": elapsed,
        "calls": counter.snapshot(),
        "total_calls": counter.total(),
        "http_requests": counter.total_requests(),
        "throttled": sum(connect_model.throttled.values()) if connect_model else 0,
        "outcomes": outcomes,
        "error": error,
    }


def growth(server: MotoProcess, sizes: tuple[int, ...], repeats: dict[int, int]) -> list[dict[str, Any]]:
    """Steady-state sweeps (every bucket compliant) and first sweeps (every bucket unlocked) by estate size."""
    rows = []
    for size in sizes:
        runs = repeats.get(size, 1)
        row: dict[str, Any] = {"instances": size, "runs": runs}
        kinds = [("steady", True)]
        if size <= 100:
            kinds.append(("first", False))
        for kind, locked in kinds:
            sweeps: list[dict[str, Any]] = []
            expected = {"compliant": size} if locked else {"remediated": size}
            failures: list[str] = []
            while len(sweeps) < runs:
                if not sweeps or not locked or failures:
                    estate = _estate(server, size, locked=locked)
                log(f"scaling: {size} instances, {kind} sweep {len(sweeps) + 1}/{runs}")
                sweep = _sweep(estate, parallel=_default_parallel())
                if sweep["outcomes"] == expected:
                    sweeps.append(sweep)
                    continue
                # Recorded and retried once per run: on a loaded machine a request may time out.
                failures.append(f"{sweep['outcomes']}; {sweep['error']}")
                log(f"scaling: unexpected sweep result, retrying: {failures[-1]}")
                if len(failures) > runs:
                    raise AssertionError(f"{size} instances, {kind} sweep (expected {expected}): {failures}")
            row[kind] = {
                "failed_attempts": failures,
                "seconds": spread([s["seconds"] for s in sweeps]),
                "calls": sweeps[-1]["calls"],
                "total_calls": sweeps[-1]["total_calls"],
            }
        rows.append(row)
    return rows


def _default_parallel() -> int:
    from connect_lockdown import inventory

    return int(inventory.MAX_PARALLEL_INSTANCES)


def parallelism(
    server: MotoProcess,
    *,
    instances: int,
    levels: tuple[int, ...],
    latency: float,
    rate: float,
    burst: float,
) -> dict[str, Any]:
    """Sweep time against MAX_PARALLEL_INSTANCES, with a modelled latency, without and with a rate limit."""
    estate = _estate(server, instances, locked=True)
    series: dict[str, list[dict[str, Any]]] = {"latency": [], "latency_and_rate_limit": []}
    for parallel in levels:
        for name, limited in (("latency", False), ("latency_and_rate_limit", True)):
            log(f"scaling: parallelism {parallel}, {name.replace('_', ' ')}")
            connect_model = ApiModel(latency=latency, rate=rate if limited else None, burst=burst)
            sweep = _sweep(estate, parallel, connect_model=connect_model, other_model=ApiModel(latency=latency))
            sweep["parallel"] = parallel
            series[name].append(sweep)
    connect_calls = sum(v for k, v in series["latency"][0]["calls"].items() if k.startswith("List"))
    return {
        "instances": instances,
        "latency": latency,
        "rate": rate,
        "burst": burst,
        "connect_calls": connect_calls,
        "rate_limit_floor_seconds": max(0.0, (connect_calls - burst) / rate),
        "series": series,
    }


def default_quota(server: MotoProcess, *, instances: int, levels: tuple[int, ...], latency: float) -> dict[str, Any]:
    """The same sweep at Connect's real default quota (2 requests/s, burst 5): what a default account sees."""
    estate = _estate(server, instances, locked=True)
    runs = []
    for parallel in levels:
        log(f"scaling: default Connect quota, {instances} instances, parallelism {parallel}")
        connect_model = ApiModel(latency=latency, rate=CONNECT_DEFAULT_RATE, burst=CONNECT_DEFAULT_BURST)
        sweep = _sweep(estate, parallel, connect_model=connect_model, other_model=ApiModel(latency=latency))
        sweep["parallel"] = parallel
        runs.append(sweep)
    return {
        "instances": instances,
        "latency": latency,
        "rate": CONNECT_DEFAULT_RATE,
        "burst": CONNECT_DEFAULT_BURST,
        "runs": runs,
    }


def linear_fit(points: list[tuple[float, float]]) -> dict[str, float]:
    """Least squares y = a + b x, and R^2: growth is linear when R^2 is close to 1."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx if sxx else float("nan")
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for _, y in points)
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in points)
    return {"intercept": intercept, "slope": slope, "r2": 1 - residual / total if total else float("nan")}


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    growth_rows = results["growth"]
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.8))

    sizes = [row["instances"] for row in growth_rows]
    seconds = [row["steady"]["seconds"]["median"] for row in growth_rows]
    calls = [row["steady"]["total_calls"] for row in growth_rows]
    left.loglog(sizes, seconds, "o-", color="tab:blue", label="steady-state sweep (all compliant)")
    first = [(row["instances"], row["first"]["seconds"]["median"]) for row in growth_rows if "first" in row]
    if first:
        left.loglog(
            [x for x, _ in first],
            [y for _, y in first],
            "s--",
            color="tab:purple",
            label="first sweep (all remediated)",
        )
    left.loglog(sizes, [seconds[-1] * size / sizes[-1] for size in sizes], ":", color="grey", label="linear (slope 1)")
    left.set_xlabel("Connect instances (one bucket each)")
    left.set_ylabel("sweep seconds (moto on loopback)")
    left.set_title(f"Sweep time, MAX_PARALLEL_INSTANCES={growth_rows[0].get('parallel', 4)}")
    left.legend(fontsize=8)

    middle.loglog(sizes, calls, "^-", color="tab:orange", label="steady-state sweep")
    middle.loglog(sizes, [calls[-1] * size / sizes[-1] for size in sizes], ":", color="grey", label="linear (slope 1)")
    middle.set_xlabel("Connect instances (one bucket each)")
    middle.set_ylabel("AWS calls per sweep")
    middle.set_title("AWS calls per sweep")
    middle.legend(fontsize=8)

    study = results["parallelism"]
    for name, style, label in (
        ("latency", "o-", f"{study['latency'] * 1000:.0f} ms latency, no rate limit"),
        (
            "latency_and_rate_limit",
            "s-",
            f"{study['latency'] * 1000:.0f} ms latency, {study['rate']:g} req/s per API (burst {study['burst']:g})",
        ),
    ):
        points = [(r["parallel"], r["seconds"]) for r in study["series"][name] if not math.isnan(r["seconds"])]
        right.plot([p for p, _ in points], [s for _, s in points], style, label=label)
    right.axhline(
        study["rate_limit_floor_seconds"], color="grey", linestyle=":", label="rate-limit floor: calls / rate"
    )
    right.set_xscale("log", base=2)
    right.set_xlabel("MAX_PARALLEL_INSTANCES")
    right.set_ylabel("sweep seconds")
    right.set_ylim(bottom=0)
    right.set_title(f"Sweep of {study['instances']} instances: parallelism against the rate limit")
    right.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run(
    server: MotoProcess,
    *,
    sizes: tuple[int, ...] = (10, 100, 1000),
    repeats: dict[int, int] | None = None,
    parallel_instances: int = 20,
    levels: tuple[int, ...] = (1, 2, 4, 8, 16),
    latency: float = 0.025,
    rate: float = 80.0,
    burst: float = 10.0,
) -> dict[str, Any]:
    growth_rows = growth(server, sizes, repeats or {10: 3, 100: 2, 1000: 1})
    for row in growth_rows:
        row["parallel"] = _default_parallel()
    fit_time = linear_fit([(row["instances"], row["steady"]["seconds"]["median"]) for row in growth_rows])
    fit_calls = linear_fit([(row["instances"], row["steady"]["total_calls"]) for row in growth_rows])
    return {
        "growth": growth_rows,
        "fit_seconds": fit_time,
        "fit_calls": fit_calls,
        "parallelism": parallelism(
            server, instances=parallel_instances, levels=levels, latency=latency, rate=rate, burst=burst
        ),
        "default_quota": default_quota(server, instances=2, levels=(1, 4), latency=latency),
    }
