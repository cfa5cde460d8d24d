"""What every benchmark shares: source roots, fake credentials, call counting, throttling, statistics."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


class CallCounter:
    """Counts AWS API calls per operation with botocore event hooks.

    `calls` counts `before-call` (one per API call or paginator page, what an operator would call "a call");
    `requests` counts `before-send` (every HTTP attempt, retries included, what a rate limit sees).
    Attach it to clients explicitly, or to every client created inside `capture_new_clients()` (Cloud
    Custodian builds its own sessions and clients).
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, *clients: Any) -> None:
        for client in clients:
            client.meta.events.register("before-call.*.*", self._on_call)
            client.meta.events.register("before-send.*.*", self._on_send)

    def _on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def _on_send(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.requests[event_name.rsplit(".", 1)[-1]] += 1

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.requests.clear()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.calls.items()))

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    @contextmanager
    def capture_new_clients(self) -> Iterator[None]:
        """Attach to every botocore client created while inside the block, whoever creates it."""
        import botocore.session

        original = botocore.session.Session.create_client
        counter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            counter.attach(client)
            return client

        botocore.session.Session.create_client = create_client
        try:
            yield
        finally:
            botocore.session.Session.create_client = original


def attach_gateway(counter: CallCounter, gateway: Any) -> None:
    counter.attach(gateway.s3, gateway.connect, gateway.iam, gateway.sts, gateway.sns)


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
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


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

    def __init__(self, *, latency: float = 0.0, rate: float | None = None, burst: float = 5.0) -> None:
        self.latency = latency
        self.rate = rate
        self.burst = burst
        self.buckets: dict[str, TokenBucket] = {}
        self.throttled: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-send.{service}.*", self._before_send)

    def _bucket(self, operation: str) -> TokenBucket | None:
        if self.rate is None:
            return None
        with self._lock:
            if operation not in self.buckets:
                self.buckets[operation] = TokenBucket(self.rate, self.burst)
            return self.buckets[operation]

    def _before_send(self, request: Any, event_name: str, **_: Any) -> Any:
        if self.latency:
            time.sleep(self.latency)
        operation = event_name.rsplit(".", 1)[-1]
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
