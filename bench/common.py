"""What every benchmark shares: source roots, fake credentials, call counting, the quota model, statistics."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _source_root in (ROOT / "functions" / "enforcer", ROOT / "layers" / "lockdown", ROOT):
    if str(_source_root) not in sys.path:
        sys.path.insert(0, str(_source_root))

# Fake credentials and a region before anything creates a client: nothing here may reach real AWS. The handler
# logs and emits metrics as the template configures it (to a null stream here).
ENVIRONMENT = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
ENVIRONMENT |= {
    "POWERTOOLS_SERVICE_NAME": "connect-lockdown",
    "POWERTOOLS_METRICS_NAMESPACE": "ConnectBucketLockdown",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
os.environ.update(ENVIRONMENT)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RESULTS_DIR = ROOT / "bench" / "results"
# Connect's documented default quota per API (requests/s, burst), and a request's round trip from Lambda to a
# regional endpoint, for "modelled" times.
CONNECT_DEFAULT_RATE = 2.0
CONNECT_DEFAULT_BURST = 5.0
LATENCY = 0.025

from devtools.botocore_hooks import AwsHooks  # noqa: E402 - after the fake credentials above


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max: on a shared two-core machine the median is the figure, min/max show the noise."""
    ordered = sorted(values)
    return {"median": median(ordered), "min": ordered[0], "max": ordered[-1], "runs": len(ordered)}


class CallCounter(AwsHooks):
    """The tests' botocore hook (devtools/botocore_hooks.py: calls in order, `record`, `reset`, `snapshot`), plus
    DynamoDB's billing units, estimated from the items themselves (moto reports no real consumption)."""

    def __init__(self) -> None:
        super().__init__()
        self.dynamodb = DynamoUsage()

    def attach(self, *clients: Any) -> CallCounter:
        super().attach(*clients)
        for client in clients:
            if client.meta.service_model.service_name == "dynamodb":
                key = f"bench-dynamodb-{id(self)}"
                register = client.meta.events.register
                register("before-parameter-build.dynamodb.BatchWriteItem", self._on_batch_write, f"{key}-w")
                register("after-call.dynamodb.Query", self._on_query, f"{key}-q")
        return self

    def _on_batch_write(self, params: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.dynamodb.batch_write(params)

    def _on_query(self, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.dynamodb.query_page(parsed)

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.dynamodb = DynamoUsage()

    def operations(self) -> list[tuple[str, str]]:
        """(service, operation) of every call, in order."""
        with self._lock:
            return [(call.service, call.operation) for call in self.log]

    def time_of(self, operation: str) -> float | None:
        """When the first call of `operation` was made (time.perf_counter()), or None."""
        with self._lock:
            return next((call.at for call in self.log if call.operation == operation), None)


def calls_before(sequence: Sequence[tuple[str, str]], operation: str) -> list[tuple[str, str]]:
    """The calls made before the first `operation` (all of them when it was never made)."""
    names = [name for _, name in sequence]
    return list(sequence[: names.index(operation)] if operation in names else sequence)


def per_operation(sequence: Sequence[tuple[str, str]], service: str | None = None) -> dict[str, int]:
    """Calls per operation, of one service or all."""
    return dict(sorted(Counter(name for svc, name in sequence if service in (None, svc)).items()))


# --- DynamoDB's billing units ---------------------------------------------------------------------------


def dynamodb_value_size(value: dict[str, Any]) -> int:
    """The size DynamoDB bills for one attribute value in its JSON form ({"S": ...}, {"L": [...]}, ...)."""
    [(kind, content)] = value.items()
    if kind in ("S", "B"):
        return len(content.encode("utf-8") if kind == "S" else content)
    if kind == "N":
        digits = len(str(content).lstrip("-").replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + dynamodb_value_size(v) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + dynamodb_value_size(v) for k, v in content.items())
    if kind in ("SS", "NS", "BS"):
        return sum(dynamodb_value_size({kind[0]: v}) for v in content)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def dynamodb_item_size(item: dict[str, dict[str, Any]]) -> int:
    """An item's billed size: its attribute names and values."""
    return sum(len(name.encode("utf-8")) + dynamodb_value_size(value) for name, value in item.items())


class DynamoUsage:
    """On-demand billing units: a write request unit per item written or deleted per started KiB; a read request
    unit per started 4 KiB of each strongly consistent Query page (at least one per page)."""

    def __init__(self) -> None:
        self.items_written = self.items_deleted = self.write_request_units = 0
        self.query_pages = self.items_read = self.read_request_units = 0

    def batch_write(self, params: dict[str, Any]) -> None:
        for request in (r for requests in (params.get("RequestItems") or {}).values() for r in requests):
            if "PutRequest" in request:
                self.items_written += 1
                size = dynamodb_item_size(request["PutRequest"]["Item"])
                self.write_request_units += max(1, math.ceil(size / 1024))
            elif "DeleteRequest" in request:
                self.items_deleted += 1
                self.write_request_units += 1

    def query_page(self, parsed: dict[str, Any]) -> None:
        items = parsed.get("Items") or []
        self.query_pages += 1
        self.items_read += len(items)
        self.read_request_units += max(1, math.ceil(sum(dynamodb_item_size(i) for i in items) / 4096))

    def to_dict(self) -> dict[str, int]:
        return dict(vars(self))


# --- the API's rate limit and latency, on a virtual clock ------------------------------------------------


class VirtualClock:
    """Simulated seconds, shared by the ApiModels of one run: what the run would take, without waiting for it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.RLock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += max(0.0, seconds)


class ApiModel:
    """An API as a client that is never throttled sees it, as a botocore `before-send` hook on a virtual clock: each
    request waits for a token of its operation's bucket (`burst`, refilled at `rate` a second; Connect throttles
    each API separately) when `rate` is set, then takes `latency`. Nothing sleeps: the clock gives the least time."""

    def __init__(self, *, clock: VirtualClock, latency: float = 0.0, rate: float | None = None, burst: float = 5.0):
        self.clock, self.latency, self.rate, self.burst = clock, latency, rate, burst
        self.tokens: dict[str, tuple[float, float]] = {}  # operation -> (tokens, when last refilled)
        self.waited = 0.0

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-send.{service}.*", self._before_send)

    def _before_send(self, event_name: str, **_: Any) -> None:
        self.request(event_name.rsplit(".", 1)[-1])

    def request(self, operation: str) -> None:
        """One request: wait for the operation's token, then the round trip."""
        with self.clock.lock:
            if self.rate is not None:
                started = self.clock.now
                tokens, updated = self.tokens.get(operation, (self.burst, started))
                tokens = min(self.burst, tokens + (started - updated) * self.rate)
                if tokens < 1:
                    self.clock.advance((1 - tokens) / self.rate)
                    tokens = 1.0
                self.tokens[operation] = (tokens - 1, self.clock.now)
                self.waited += self.clock.now - started
            self.clock.advance(self.latency)


def least_seconds(sequence: Sequence[tuple[str, str]], *, rate: float, burst: float, latency: float = 0.0) -> float:
    """The least time of these calls replayed in order on a virtual clock, Connect's at `rate` requests/s per API
    with `burst`, every request taking `latency`. No latency: max(0, (n - burst) / rate) for n calls of one API."""
    clock = VirtualClock()
    quota = ApiModel(clock=clock, latency=latency, rate=rate, burst=burst)
    other = ApiModel(clock=clock, latency=latency)
    for service, operation in sequence:
        (quota if service == "connect" else other).request(operation)
    return clock.now


# --- the machine ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import boto3
    import botocore
    import moto

    def first(path: str, prefix: str) -> str:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            return ""
        return next((line.split(":", 1)[1].strip() for line in lines if line.lower().startswith(prefix)), "")

    memory = first("/proc/meminfo", "memtotal")
    executable = Path(sys.executable)
    return {
        "cpus": os.cpu_count(),
        "cpu": first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine(),
        "memory": f"{int(memory.split()[0]) / 1024 / 1024:.0f} GiB" if memory else "",
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        # Relative to the repository (`.venv/bench/bin/python`), or the program's name: the results are committed,
        # and must not carry a path of the machine that measured them.
        "python_executable": executable.relative_to(ROOT).as_posix()
        if executable.is_relative_to(ROOT)
        else executable.name,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "moto": moto.__version__,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "tree_modified": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
