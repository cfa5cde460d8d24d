"""Connect's rate limits on moto, without waiting for them in real time.

`Throttle` answers a share of requests with HTTP 429 ThrottlingException at `before-send`, so botocore's retry
machinery (adaptive mode on the Connect client) sees a real throttling response, backs off and retries exactly
as it would against AWS. `VirtualTime` runs botocore's backoff sleeps and the adaptive token bucket on a
virtual clock: the behaviour is unchanged, only the waiting is skipped and measured.
"""

from __future__ import annotations

import json
import random
import threading
import types
from collections import Counter
from typing import Any

import botocore.endpoint
import botocore.retries.bucket
import pytest
from botocore.awsrequest import AWSResponse


class Throttle:
    def __init__(self, share: float, seed: int = 7) -> None:
        self.share = share
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.throttled: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        operation = str(getattr(request, "context", {}).get("operation_name", "?"))
        with self.lock:
            self.sent[operation] += 1
            if self.random.random() >= self.share:
                return None
            self.throttled[operation] += 1
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        raw = types.SimpleNamespace(stream=lambda **_: iter([body]), read=lambda *_: body)
        return AWSResponse(request.url, 429, {"x-amzn-ErrorType": "ThrottlingException"}, raw)


class VirtualTime:
    """A clock that advances only when botocore sleeps or waits for rate-limit tokens."""

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
