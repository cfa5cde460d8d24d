"""One botocore hook for the tests and bench/: what the clients call, and what they are answered.

`AwsHooks` registers its handlers once on each client it is attached to (`attach`, `attach_gateway`, or every
client created inside `capture_new_clients()`), and offers:

- counts and order: `calls` (one per API call or paginator page, at `before-call`), `requests` (every HTTP
  attempt, retries included, at `before-send`: what a rate limit sees), `log` and `sequence` (the calls in order);
- failures at `before-call`: `fail(operation, code, ...)` answers an operation with an error, for a number of
  calls, until `clear`, or when a predicate on the call's parameters holds. botocore does not retry a
  `before-call` answer, so it models a failure that survived botocore's retries, or one that is not retryable;
- `run_before(operation, action)`: something that happens just before a call goes out (delete the bucket,
  write a policy), at `before-parameter-build`;
- throttling at `before-send`: `throttle(share, seed)` answers a share of the HTTP attempts with the throttling
  response each service really sends (S3 `SlowDown` 503 in XML, Connect `ThrottlingException` and
  `TooManyRequestsException` 429 in JSON, IAM, STS and SNS `Throttling` 400 in the query protocol's XML).
  botocore parses it and retries as it would against AWS: standard mode, adaptive mode (a client-side rate
  limiter) for Connect. Pair it with `VirtualTime`, so that backoff is measured instead of waited for;
- IAM actions: `actions`, the IAM action of each call (IAM evaluates a call against the principal that signed
  it: with `signed_by`, only the calls signed with one of those access keys count).
"""

from __future__ import annotations

import json
import random
import threading
import time
import types
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.endpoint
import botocore.retries.bucket
import botocore.session
from botocore.awsrequest import AWSResponse

if TYPE_CHECKING:  # bench/ imports this module too, without pytest's import time
    import pytest

# Operations whose IAM action is not "<service prefix>:<operation name>" (Service Authorization Reference).
ACTION_FOR_OPERATION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
}
# (status, error code) of each service's throttling answer; a service not named here is never throttled.
THROTTLING: dict[str, list[tuple[int, str]]] = {
    "s3": [(503, "SlowDown")],
    "connect": [(429, "ThrottlingException"), (429, "TooManyRequestsException")],
    "iam": [(400, "Throttling")],
    "sts": [(400, "Throttling")],
    "sns": [(400, "Throttling")],
}
# Error codes answered with a server error when `fail` is given no status; the others are refusals.
SERVER_ERRORS = frozenset({"SlowDown", "ThrottlingException", "ServiceUnavailable"})
_PARAMS = "devtools.botocore_hooks.params"  # where before-parameter-build leaves the call's parameters


def iam_action(model: Any) -> str:
    """The IAM action of a botocore operation, e.g. connect ListInstances -> connect:ListInstances."""
    prefix = model.service_model.signing_name
    return ACTION_FOR_OPERATION.get((prefix, model.name), f"{prefix}:{model.name}")


@dataclass(frozen=True)
class Call:
    service: str  # botocore's name of the service: s3, connect, dynamodb, ...
    operation: str
    at: float  # time.perf_counter() when the call was made


@dataclass
class _Failure:
    code: str
    status: int
    times: int | None  # calls left to fail; None: until cleared
    when: Callable[[Mapping[str, Any]], bool] | None
    message: str


class _Response:
    """What a `before-call` handler returns as the HTTP response: botocore only reads these attributes."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def _raw(body: bytes) -> Any:
    return types.SimpleNamespace(stream=lambda **_: iter([body]), read=lambda *_: body)


def throttling_response(service: str, url: str, code: str, status: int) -> AWSResponse:
    """The HTTP response `service` throttles with, in its protocol."""
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>Please reduce your request rate.</Message></Error>".encode()
        return AWSResponse(url, status, {"Content-Type": "application/xml"}, _raw(body))
    if service == "connect":
        body = json.dumps({"__type": code, "message": "Rate exceeded"}).encode()
        return AWSResponse(url, status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, _raw(body))
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>Rate exceeded</Message></Error>"
        "<RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    ).encode()
    return AWSResponse(url, status, {"Content-Type": "text/xml"}, _raw(body))


def _access_key(request_signer: Any) -> str | None:
    credentials = getattr(request_signer, "_credentials", None)
    return None if credentials is None else credentials.get_frozen_credentials().access_key


class AwsHooks:
    """Counts, orders, fails, throttles and records the calls of the clients it is attached to."""

    def __init__(self, *, signed_by: set[str] | None = None) -> None:
        self.calls: Counter[str] = Counter()  # by operation, at before-call
        self.requests: Counter[str] = Counter()  # by operation, every HTTP attempt (before-send)
        self.log: list[Call] = []  # every call in order: what came before a write, and what after
        self.injected: Counter[str] = Counter()  # failures answered, by operation
        self.throttled: Counter[str] = Counter()  # attempts answered with throttling, by error code
        self.passed: Counter[str] = Counter()  # attempts that went on to the server, by operation
        self.actions: set[str] = set()  # IAM actions of the calls (signed with one of `signed_by`, if given)
        # Read at each call, so the caller may add the keys of sessions it starts later.
        self.signed_by = signed_by
        self._failures: dict[str, _Failure] = {}
        self._run_before: dict[str, Callable[[dict[str, Any]], None]] = {}
        # Throttling: the share of attempts, of every operation or of those in `throttle_only`; set by `throttle`,
        # and may be changed later (the random sequence goes on).
        self.throttle_share = 0.0
        self.throttle_only: set[str] | None = None
        self._random = random.Random(0)
        self._lock = threading.Lock()  # the enforcer calls from worker threads too

    # --- attaching ------------------------------------------------------------------------------------

    def attach(self, *clients: Any) -> AwsHooks:
        for client in clients:
            events = client.meta.events
            key = f"{type(self).__name__}-{id(self)}"  # once per client, however often it is attached
            events.register("before-parameter-build.*.*", self._before_parameter_build, unique_id=f"{key}-params")
            events.register("before-call.*.*", self._before_call, unique_id=f"{key}-call")
            # First, so that no other before-send handler (moto's, adaptive mode's rate limiter) answers before.
            events.register_first("before-send.*.*", self._before_send, unique_id=f"{key}-send")
        return self

    def attach_gateway(self, gateway: Any) -> AwsHooks:
        """Every client of an AwsGateway, the lazily created ones too (DynamoDB, Lambda, Security Hub)."""
        return self.attach(*gateway.all_clients())

    @contextmanager
    def capture_new_clients(self, *also: Any) -> Iterator[AwsHooks]:
        """Attach to every botocore client created inside the block, whoever creates it (also `also`: other hooks
        with an `attach(client)` method, such as bench's model of an API's rate limit)."""
        original = botocore.session.Session.create_client
        hooks = (self, *also)

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            for hook in hooks:
                hook.attach(client)
            return client

        botocore.session.Session.create_client = create_client
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original

    # --- counts and order -----------------------------------------------------------------------------

    @property
    def sequence(self) -> list[str]:
        """The operations, in the order they were made."""
        with self._lock:
            return [call.operation for call in self.log]

    def record(self, service: str, operation: str) -> None:
        """A call made outside botocore's hooks (a stand-in for one that cannot be made on moto)."""
        with self._lock:
            self.calls[operation] += 1
            self.log.append(Call(service, operation, time.perf_counter()))

    def calls_before(self, operation: str) -> list[str]:
        """The operations made before the first `operation` (all of them when it never happened)."""
        sequence = self.sequence
        return sequence[: sequence.index(operation)] if operation in sequence else sequence

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.calls.items()))

    def reset(self) -> None:
        """Forget what was counted and recorded; failures, actions to run and throttling stay."""
        with self._lock:
            for counter in (self.calls, self.requests, self.injected, self.throttled, self.passed):
                counter.clear()
            self.log.clear()
            self.actions.clear()

    # --- failures and actions before a call -------------------------------------------------------------

    def fail(
        self,
        operation: str,
        code: str,
        *,
        status: int | None = None,
        times: int | None = None,
        when: Callable[[Mapping[str, Any]], bool] | None = None,
        message: str | None = None,
    ) -> None:
        """Answer `operation` with the error `code`: `times` calls, or until `clear`; only the calls whose
        parameters satisfy `when`, if given. The status defaults to 503 for throttling codes, 403 otherwise."""
        status = status if status is not None else 503 if code in SERVER_ERRORS else 403
        with self._lock:
            self._failures[operation] = _Failure(code, status, times, when, message or f"injected {code}")

    def clear(self, operation: str) -> None:
        with self._lock:
            self._failures.pop(operation, None)

    def run_before(self, operation: str, action: Callable[[dict[str, Any]], None]) -> None:
        """Run `action(params)` (the call's parameters) just before each `operation` call goes out."""
        self._run_before[operation] = action

    # --- throttling ------------------------------------------------------------------------------------

    def throttle(self, share: float, seed: int, *, only: set[str] | None = None) -> AwsHooks:
        """Throttle `share` of the HTTP attempts (retries included) of every operation, or of those in `only`."""
        with self._lock:
            self.throttle_share, self.throttle_only, self._random = share, only, random.Random(seed)
        return self

    # --- the handlers ----------------------------------------------------------------------------------

    def _before_parameter_build(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        action = self._run_before.get(model.name)
        if action is not None:
            action(params)
        context[_PARAMS] = params

    def _before_call(self, model: Any, context: dict[str, Any], request_signer: Any = None, **_: Any) -> Any:
        failure = self._failures.get(model.name)
        # The predicate runs outside the lock: it may call AWS itself.
        applies = failure is not None and (failure.when is None or failure.when(context.get(_PARAMS, {})))
        signed = self.signed_by is None or _access_key(request_signer) in self.signed_by
        with self._lock:
            self.calls[model.name] += 1
            self.log.append(Call(model.service_model.service_name, model.name, time.perf_counter()))
            if signed:
                self.actions.add(iam_action(model))
            # Not applied if it was answered meanwhile `times` over, or replaced.
            if not applies or failure is None or self._failures.get(model.name) is not failure:
                return None
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    del self._failures[model.name]
            self.injected[model.name] += 1
        parsed = {
            "Error": {"Code": failure.code, "Message": failure.message},
            "ResponseMetadata": {"HTTPStatusCode": failure.status},
        }
        return _Response(failure.status), parsed

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        service, operation = event_name.split(".", 2)[1:]
        with self._lock:
            self.requests[operation] += 1
            only = self.throttle_only
            chosen = self.throttle_share and service in THROTTLING and (only is None or operation in only)
            # The random draw only for the attempts that may be throttled: a seed replays the same sequence.
            if chosen and self._random.random() < self.throttle_share:
                status, code = self._random.choice(THROTTLING[service])
                self.throttled[code] += 1
                return throttling_response(service, request.url, code, status)
            self.passed[operation] += 1
        return None


class VirtualTime:
    """A clock that advances only when botocore sleeps or waits for rate-limit tokens.

    It runs botocore's backoff sleeps and the adaptive token bucket: the behaviour is unchanged, only the
    waiting is skipped and measured.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0
        self._lock = threading.Lock()

    def current_time(self) -> float:
        return self.now

    def sleep(self, amount: float) -> None:
        # At least a microsecond: a wait of a few femtoseconds would not move a float clock at all.
        step = max(amount, 1e-6)
        with self._lock:
            self.now += step
            self.slept += step

    def install(self, monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
        """Patch botocore before the clients are created; monkeypatch undoes it after the test."""
        clock = self

        class InstantCondition(threading.Condition):
            def wait(self, timeout: float | None = None) -> bool:
                # Like a real wait, let the other threads have the lock meanwhile.
                self.release()
                try:
                    clock.sleep(timeout or 0.0)
                finally:
                    self.acquire()
                return True

        monkeypatch.setattr(botocore.retries.bucket, "Clock", lambda: clock)
        monkeypatch.setattr(
            botocore.retries.bucket,
            "threading",
            types.SimpleNamespace(Lock=threading.Lock, Condition=InstantCondition),
        )
        monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=clock.sleep))
        return self
