"""The deployment hook (functions/initial_sweep/app.py): it starts a sweep and always answers CloudFormation.

Both functions have an `app.py`, and `app` on the test path is the enforcer's, so the hook is loaded from its
file under its own module name, as Lambda would load it from its own code directory. Its Lambda client is
replaced by a fake, and CloudFormation's response URL by a recorder of what the hook PUTs there.
"""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOK_PATH = ROOT / "functions" / "initial_sweep" / "app.py"
RESPONSE_URL = "https://cloudformation-custom-resource/response"
ENFORCER_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:enforcer"


@pytest.fixture
def hook() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("initial_sweep_app", HOOK_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module


class _FakeLambda:
    def __init__(self, error: Exception | None = None, delay: float = 0.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error, self.delay = error, delay

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        time.sleep(self.delay)
        if self.error:
            raise self.error
        self.calls.append(kwargs)
        return {"StatusCode": 202}


def _run(
    hook: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    request_type: str,
    client: _FakeLambda,
    remaining_ms: int = 60_000,
) -> list[dict[str, Any]]:
    """Run the handler with a fake Lambda client; return what it PUT to the response URL."""
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    class _Response:
        def close(self) -> None:
            pass

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> _Response:
        assert request.get_method() == "PUT" and request.full_url == RESPONSE_URL
        assert isinstance(request.data, bytes)
        with lock:
            answers.append(json.loads(request.data))
        return _Response()

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    monkeypatch.setattr(hook, "LAMBDA", client)
    started = time.monotonic()
    context = SimpleNamespace(
        log_stream_name="2026/01/01/[$LATEST]abc",
        invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:stack-InitialSweepFunction-X",
        get_remaining_time_in_millis=lambda: remaining_ms - int((time.monotonic() - started) * 1000),
    )
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": RESPONSE_URL,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/stack/guid",
        "RequestId": "request-1",
        "LogicalResourceId": "InitialSweep",
        "ResourceType": "Custom::InitialSweep",
        "ResourceProperties": {"EnforcerFunctionArn": ENFORCER_ARN},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "initial-sweep"
    hook.handler(event, context)
    time.sleep(0.05)
    return answers


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_invokes_the_enforcer_asynchronously_with_a_sweep(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch, request_type: str
) -> None:
    client = _FakeLambda()
    [answer] = _run(hook, monkeypatch, request_type, client)
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "initial-sweep"
    assert (answer["RequestId"], answer["LogicalResourceId"]) == ("request-1", "InitialSweep")
    [call] = client.calls
    assert call["FunctionName"] == ENFORCER_ARN
    assert call["InvocationType"] == "Event"
    payload = json.loads(call["Payload"])
    assert re.fullmatch(r"[0-9a-f-]{36}", payload.pop("id"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", payload.pop("time"))
    assert payload == {
        "version": "0",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "resources": [],
        "detail": {},
    }
    assert answer["Reason"].startswith("sweep ")


def test_the_enforcer_treats_the_payload_as_a_sweep(hook: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's own classifier (not this test) decides what the payload means."""
    from connect_lockdown import events

    client = _FakeLambda()
    _run(hook, monkeypatch, "Create", client)
    hint = events.classify(json.loads(client.calls[0]["Payload"]))
    assert getattr(hint, "ignored", None) is None, hint
    scope = getattr(hint, "scope", None)
    # Today's EventHint carries Scope("all"); the redesign's tagged union names the sweep by its type.
    assert getattr(scope, "kind", None) == "all" or type(hint).__name__ == "Sweep", hint


def test_each_deployment_starts_a_sweep_of_its_own(hook: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _FakeLambda()
    _run(hook, monkeypatch, "Create", client)
    _run(hook, monkeypatch, "Update", client)
    ids = [json.loads(call["Payload"])["id"] for call in client.calls]
    assert len(set(ids)) == 2


def test_answers_delete_without_invoking(hook: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _FakeLambda()
    [answer] = _run(hook, monkeypatch, "Delete", client)
    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == "initial-sweep"
    assert client.calls == []


@pytest.mark.parametrize(("request_type", "status"), [("Create", "FAILED"), ("Update", "SUCCESS")])
def test_answers_when_the_invoke_fails(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch, request_type: str, status: str
) -> None:
    """A failed Create rolls back; a failed Update must not wedge the stack (the next sweep catches up)."""
    [answer] = _run(hook, monkeypatch, request_type, _FakeLambda(error=RuntimeError("AccessDenied")))
    assert answer["Status"] == status
    assert "AccessDenied" in answer["Reason"]


def test_answers_once_before_its_own_timeout(hook: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # 11 s left: the timer answers after 1 s, while the invoke still hangs; the late success is not sent.
    answers = _run(hook, monkeypatch, "Create", _FakeLambda(delay=1.6), remaining_ms=11_000)
    assert [a["Status"] for a in answers] == ["FAILED"]
    assert "timed out" in answers[0]["Reason"]


def test_a_response_url_that_fails_twice_still_gets_the_answer(
    hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []

    class _Response:
        def close(self) -> None:
            pass

    def flaky_urlopen(request: urllib.request.Request, timeout: float) -> _Response:
        attempts.append(1)
        if len(attempts) < 3:
            raise OSError("connection reset")
        return _Response()

    monkeypatch.setattr(hook, "LAMBDA", _FakeLambda())
    monkeypatch.setattr(urllib.request, "urlopen", flaky_urlopen)
    context = SimpleNamespace(log_stream_name="s", get_remaining_time_in_millis=lambda: 60_000)
    event = {
        "RequestType": "Delete",
        "ResponseURL": RESPONSE_URL,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/stack/guid",
        "RequestId": "request-2",
        "LogicalResourceId": "InitialSweep",
        "PhysicalResourceId": "initial-sweep",
    }
    hook.handler(event, context)
    assert len(attempts) == 3
