"""Fault injection for the enforcer's AWS calls, through botocore's event hooks.

`Faults` (hook `before-call`) answers chosen operations with an error, or runs something just before them
(delete the bucket, write a policy), without reaching AWS or moto. botocore does not retry a `before-call`
answer, so it models failures that survived botocore's retries, or that are not retryable at all.

`Throttling` (hook `before-send`) answers a share of the HTTP requests with the throttling response each service
really sends (S3 `SlowDown` 503 in XML, Connect `ThrottlingException` and `TooManyRequestsException` 429 in
JSON, IAM, STS and SNS `Throttling` 400 in the query protocol's XML). botocore parses it and retries as it would
against AWS: standard mode, adaptive mode (a client-side rate limiter) for Connect. Use it against a moto
server: in-process moto answers at `before-send` too and would apply a write this hook says was throttled.
Pair it with tests.support.throttling.VirtualTime, so that backoff is measured instead of waited for.
"""

from __future__ import annotations

import functools
import json
import random
import threading
import types
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse

from connect_lockdown.aws import AwsGateway


def clients_of(gateway: AwsGateway) -> list[Any]:
    return [gateway.s3, gateway.connect, gateway.iam, gateway.sts, gateway.sns]


class _Response:
    """What a `before-call` handler returns as the HTTP response: botocore only reads these attributes."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


class Faults:
    """Make chosen operations fail (for a number of calls, or always), or act just before them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._failures: dict[str, tuple[str, int, int | None]] = {}
        self._before: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._lock = threading.Lock()  # the enforcer calls from worker threads too

    def attach(self, gateway: AwsGateway) -> Faults:
        for client in clients_of(gateway):
            client.meta.events.register("before-parameter-build.*.*", self._before_parameters)
            client.meta.events.register("before-call.*.*", self._before_call)
        return self

    def fail(self, operation: str, code: str, *, status: int = 400, times: int | None = None) -> None:
        """Answer `operation` with `code` (`times` calls, or until `clear`)."""
        self._failures[operation] = (code, status, times)

    def clear(self, operation: str) -> None:
        self._failures.pop(operation, None)

    def before(self, operation: str, action: Callable[[dict[str, Any]], None]) -> None:
        """Run `action(params)` (the call's parameters) just before each `operation` call goes out."""
        self._before[operation] = action

    def _before_parameters(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        action = self._before.get(model.name)
        if action is not None:
            action(params)

    def _before_call(self, model: Any, **_: Any) -> Any:
        with self._lock:
            self.calls[model.name] += 1
            failure = self._failures.get(model.name)
            if failure is None:
                return None
            code, status, times = failure
            if times is not None:
                if times <= 1:
                    del self._failures[model.name]
                else:
                    self._failures[model.name] = (code, status, times - 1)
            self.injected[model.name] += 1
        parsed = {
            "Error": {"Code": code, "Message": f"injected {code}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return _Response(status), parsed


# (status, error code, protocol) of each service's throttling answer.
THROTTLING: dict[str, list[tuple[int, str]]] = {
    "s3": [(503, "SlowDown")],
    "connect": [(429, "ThrottlingException"), (429, "TooManyRequestsException")],
    "iam": [(400, "Throttling")],
    "sts": [(400, "Throttling")],
    "sns": [(400, "Throttling")],
}


def _raw(body: bytes) -> Any:
    return types.SimpleNamespace(stream=lambda **_: iter([body]), read=lambda *_: body)


def throttling_response(service: str, url: str, rnd: random.Random) -> tuple[AWSResponse, str]:
    status, code = rnd.choice(THROTTLING[service])
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>Please reduce your request rate.</Message></Error>".encode()
        return AWSResponse(url, status, {"Content-Type": "application/xml"}, _raw(body)), code
    if service == "connect":
        body = json.dumps({"__type": code, "message": "Rate exceeded"}).encode()
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json"}
        return AWSResponse(url, status, headers, _raw(body)), code
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>Rate exceeded</Message></Error>"
        "<RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    ).encode()
    return AWSResponse(url, status, {"Content-Type": "text/xml"}, _raw(body)), code


class Throttling:
    """Throttle `share` of the HTTP requests (each attempt, retries included) with the service's own answer."""

    def __init__(self, share: float, seed: int, *, only: set[str] | None = None) -> None:
        self.share = share
        self.random = random.Random(seed)
        self.only = only
        self._lock = threading.Lock()
        self.sent: Counter[str] = Counter()  # every attempt, by operation
        self.throttled: Counter[str] = Counter()  # attempts answered with throttling, by error code
        self.passed: Counter[str] = Counter()  # attempts that reached the server, by operation

    def attach(self, gateway: AwsGateway) -> Throttling:
        for client in clients_of(gateway):
            service = client.meta.service_model.endpoint_prefix
            # First, so that no other before-send handler (adaptive mode's rate limiter comes later) answers.
            client.meta.events.register_first("before-send", functools.partial(self._before_send, service))
        return self

    def _before_send(self, service: str, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.sent[operation] += 1
            if (self.only is None or operation in self.only) and self.random.random() < self.share:
                response, code = throttling_response(service, request.url, self.random)
                self.throttled[code] += 1
                return response
            self.passed[operation] += 1
        return None
