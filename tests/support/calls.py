"""Count the AWS operations a gateway makes, and make chosen ones fail, with a botocore event hook."""

from __future__ import annotations

from collections import Counter
from typing import Any

from connect_lockdown.aws import AwsGateway


class CallRecorder:
    """Counts the AWS operations a gateway makes, and can make chosen ones fail."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        # Every operation in the order it was made: what came before a write, and what after.
        self.sequence: list[str] = []
        self.failures: dict[str, str] = {}

    def attach(self, gateway: AwsGateway) -> None:
        for client in gateway.all_clients():
            client.meta.events.register("before-call.*.*", self._before_call)

    def before(self, operation: str) -> list[str]:
        """The operations made before the first `operation` (all of them when it never happened)."""
        end = self.sequence.index(operation) if operation in self.sequence else len(self.sequence)
        return self.sequence[:end]

    def _before_call(self, model: Any, **_: Any) -> Any:
        self.calls[model.name] += 1
        self.sequence.append(model.name)
        code = self.failures.get(model.name)
        if code is None:
            return None
        status = 503 if code in ("SlowDown", "ThrottlingException", "ServiceUnavailable") else 403
        return (
            type("Response", (), {"status_code": status, "headers": {}, "content": b""})(),
            {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        )
