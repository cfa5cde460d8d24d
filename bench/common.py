"""What every benchmark shares: source roots, fake credentials, call counting, throttling, statistics."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER_ROOT = ROOT / "layers" / "lockdown"
FUNCTION_ROOT = ROOT / "functions" / "enforcer"
for _source_root in (FUNCTION_ROOT, LAYER_ROOT, ROOT):
    if str(_source_root) not in sys.path:
        sys.path.insert(0, str(_source_root))

# Fake credentials and a region before anything creates a client: nothing here may reach real AWS.
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "connect-lockdown",
    "POWERTOOLS_METRICS_NAMESPACE": "ConnectBucketLockdown",
    # As the template sets it: the handler logs and emits metrics as in production (to a null stream here).
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
os.environ.update(FAKE_ENVIRONMENT)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RESULTS_DIR = ROOT / "bench" / "results"
# Connect's documented default quota per API (requests/s, burst), and a request's round trip from Lambda to a
# regional endpoint, for "modelled" times.
CONNECT_DEFAULT_RATE = 2.0
CONNECT_DEFAULT_BURST = 5.0
LATENCY = 0.025

from devtools.botocore_hooks import AwsHooks  # noqa: E402 - after the fake credentials above

# --- statistics -------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max: on a shared two-core machine the median is the figure, min/max show the noise."""
    ordered = sorted(values)
    return {"median": median(ordered), "min": ordered[0], "max": ordered[-1], "runs": len(ordered)}


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


# --- counting AWS calls with botocore hooks -----------------------------------------------------------


class CallCounter(AwsHooks):
    """The tests' botocore hook (devtools/botocore_hooks.py), plus DynamoDB's billing units.

    From AwsHooks: `calls` counts `before-call` (one per API call or paginator page, what an operator would call
    "a call"); `requests` counts `before-send` (every HTTP attempt, retries included, what a rate limit sees);
    `log` holds every call in order (service, operation, time.perf_counter()); `record()` adds a call made
    outside botocore; `capture_new_clients(*also)` attaches it (and `also`) to every client created inside the
    block (Cloud Custodian builds its own sessions and clients); `reset`, `snapshot`, `total`, `total_requests`.
    """

    def __init__(self) -> None:
        super().__init__()
        # DynamoDB's billing units, estimated from the items themselves (moto reports no real consumption).
        self.dynamodb = DynamoUsage()

    def attach(self, *clients: Any) -> CallCounter:
        super().attach(*clients)
        for client in clients:
            if client.meta.service_model.service_name == "dynamodb":
                events = client.meta.events
                key = f"bench-dynamodb-{id(self)}"
                events.register("before-parameter-build.dynamodb.BatchWriteItem", self._on_batch_write, f"{key}-w")
                events.register("after-call.dynamodb.Query", self._on_query, f"{key}-q")
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


def attach_gateway(counter: CallCounter, gateway: Any) -> None:
    counter.attach(gateway.s3, gateway.connect, gateway.iam, gateway.sts, gateway.sns)


def attach_all(gateway: Any, *hooks: CallCounter | ApiModel | QuotaSwitch) -> None:
    """Every client of the gateway, the lazily created ones too (DynamoDB, Lambda, Scheduler, Security Hub).

    `all_clients()` creates the lazy clients now, so a cold run's wall time no longer includes creating them.
    """
    for client in gateway.all_clients():
        for hook in hooks:
            hook.attach(client)


def calls_before(sequence: Sequence[tuple[str, str]], operation: str) -> list[tuple[str, str]]:
    """The calls made before the first `operation` (all of them when it was never made)."""
    for position, (_, name) in enumerate(sequence):
        if name == operation:
            return list(sequence[:position])
    return list(sequence)


def per_operation(sequence: Sequence[tuple[str, str]], service: str | None = None) -> dict[str, int]:
    """Calls per operation, of one service or all."""
    counts = Counter(name for svc, name in sequence if service is None or svc == service)
    return dict(sorted(counts.items()))


# --- DynamoDB's billing units ---------------------------------------------------------------------------


def dynamodb_value_size(value: dict[str, Any]) -> int:
    """The size DynamoDB bills for one attribute value in its JSON form ({"S": ...}, {"L": [...]}, ...).

    Strings and binaries by their length (UTF-8), numbers at about one byte per two digits plus one, lists and
    maps 3 bytes plus 1 byte per element plus their elements (and a map's names), booleans and null 1 byte.
    """
    [(kind, content)] = value.items()
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "B":
        return len(content)
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
        self.items_written = 0
        self.items_deleted = 0
        self.write_request_units = 0
        self.query_pages = 0
        self.items_read = 0
        self.read_request_units = 0

    def batch_write(self, params: dict[str, Any]) -> None:
        for requests in (params.get("RequestItems") or {}).values():
            for request in requests:
                if "PutRequest" in request:
                    self.items_written += 1
                    self.write_request_units += max(
                        1, math.ceil(dynamodb_item_size(request["PutRequest"]["Item"]) / 1024)
                    )
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


# --- the API's rate limit and latency, modelled on the client ------------------------------------------


class TokenBucket:
    """A steady rate with a burst, as AWS documents its API throttling quotas."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    def wait_seconds(self) -> float:
        """How long until a token is there (0: now)."""
        with self._lock:
            self._refill()
            return max(0.0, (1 - self._tokens) / self.rate)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


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


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class ApiModel:
    """Connect's control plane as a client sees it: a round-trip latency and a per-API token bucket.

    Installed as a botocore `before-send` hook on the Connect client: every HTTP attempt first waits the
    modelled latency (a sleep, which releases the GIL as a socket wait does), then takes a token from its
    operation's bucket (Amazon Connect throttles each API separately per account and Region). Without a token
    it answers HTTP 429 ThrottlingException itself, as Connect does. Because the response comes back through
    botocore's normal send path, the client's retry handler and adaptive rate limiter see it exactly as they
    would see AWS's (a `before-call` hook would bypass retries altogether).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rate: float | None = None,
        burst: float = 5.0,
        clock: VirtualClock | None = None,
    ) -> None:
        self.latency = latency
        self.rate = rate
        self.burst = burst
        # With a virtual clock nothing sleeps and nothing is throttled: each request waits on the clock for its
        # token, as an ideal client would, and then takes the latency. Requests go one after another, so the
        # clock gives the least time of the run at this quota (a real client's backoff only adds to it).
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}
        self.throttled: Counter[str] = Counter()
        self.waited = 0.0
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-send.{service}.*", self._before_send)

    def _bucket(self, operation: str) -> TokenBucket | None:
        if self.rate is None:
            return None
        with self._lock:
            if operation not in self.buckets:
                clock = self.clock or time.monotonic
                self.buckets[operation] = TokenBucket(self.rate, self.burst, clock)
            return self.buckets[operation]

    def request(self, operation: str) -> None:
        """One request on the virtual clock: wait for the operation's token, then the round trip."""
        assert self.clock is not None, "request() needs a virtual clock"
        with self.clock.lock:
            bucket = self._bucket(operation)
            if bucket is not None:
                started = self.clock.now
                while not bucket.take():
                    # Rounding can leave a token a hair short of whole: wait that hair too.
                    self.clock.advance(max(bucket.wait_seconds(), 1e-9))
                self.waited += self.clock.now - started
            self.clock.advance(self.latency)

    def _before_send(self, request: Any, event_name: str, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]
        if self.clock is not None:
            self.request(operation)
            return None
        if self.latency:
            time.sleep(self.latency)
        bucket = self._bucket(operation)
        if bucket is None or bucket.take():
            return None
        from botocore.awsrequest import AWSResponse

        with self._lock:
            self.throttled[operation] += 1
        body = json.dumps({"message": "Rate exceeded"}).encode()
        headers = {"x-amzn-ErrorType": "ThrottlingException", "Content-Type": "application/json"}
        return AWSResponse(request.url, 429, headers, _RawBody(body))

    def describe(self) -> str:
        parts = [f"{self.latency * 1000:.0f} ms latency per request"]
        if self.rate is not None:
            parts.append(f"{self.rate:g} requests/s per API, burst {self.burst:g}")
        return ", ".join(parts)


class QuotaSwitch:
    """A `before-send` hook attached once to every client, that hands each request to the ApiModel of its service
    when one is set: clients that live across runs (Cloud Custodian caches its own) can then be measured with and
    without the model, and with a fresh quota for each run."""

    def __init__(self) -> None:
        self.connect: ApiModel | None = None
        self.other: ApiModel | None = None

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-send.*.*", self._before_send)

    def set(self, connect: ApiModel | None, other: ApiModel | None) -> None:
        self.connect, self.other = connect, other

    def _before_send(self, request: Any, event_name: str, **kwargs: Any) -> Any:
        model = self.connect if event_name.split(".")[1] == "connect" else self.other
        if model is None:
            return None
        return model._before_send(request=request, event_name=event_name, **kwargs)


def least_seconds(
    sequence: Sequence[tuple[str, str]],
    *,
    rate: float,
    burst: float,
    limited_service: str = "connect",
    latency: float = 0.0,
) -> float:
    """The least time a run of these calls takes when `limited_service` allows `rate` requests/s per API with
    `burst`, and every request takes `latency`: the calls replayed in order on an ApiModel's virtual clock.

    With no latency this is the quota's own floor: max(0, (n - burst) / rate) for n calls of one API.
    """
    clock = VirtualClock()
    limited = ApiModel(latency=latency, rate=rate, burst=burst, clock=clock)
    other = ApiModel(latency=latency, clock=clock)
    for service, operation in sequence:
        (limited if service == limited_service else other).request(operation)
    return clock.now


# --- the machine ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import boto3
    import botocore
    import moto

    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        # Relative to the repository (`.venv/bench/bin/python`), or the program's name: the results are committed,
        # and must not carry a path of the machine that measured them.
        "python_executable": _relative_executable(),
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "moto": moto.__version__,
        "load_average_at_start": round(load, 2),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "tree_modified": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _relative_executable() -> str:
    executable = Path(sys.executable)
    if executable.is_relative_to(ROOT):
        return executable.relative_to(ROOT).as_posix()
    return executable.name


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
