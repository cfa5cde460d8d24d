"""Deployment hook: a CloudFormation custom resource that starts a sweep of every Connect bucket.

On Create and on every Update (new code or new settings), it invokes the enforcer asynchronously with the
same "Scheduled Event" the periodic schedule sends, then answers CloudFormation at once: the sweep runs on its
own, with the enforcer's retries and dead-letter queue. It always answers, also on Delete, on a failed invoke
and just before its own timeout, so it can never hang a stack operation. Only a failed Create fails (the stack
rolls back); a failed Update still answers SUCCESS, since the next scheduled sweep catches up and an Update that
failed here could wedge the stack in UPDATE_ROLLBACK_FAILED.
"""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from connect_lockdown import own_events
from connect_lockdown.times import utc_iso

logger = Logger(service="connect-lockdown-initial-sweep")

PHYSICAL_RESOURCE_ID = "initial-sweep"
# Seconds kept in hand before the function's own timeout to send the answer.
ANSWER_MARGIN_SECONDS = 10.0

LAMBDA = boto3.client("lambda", config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}))


def sweep_payload(event_id: str, time: str) -> dict[str, Any]:
    """The scheduled-sweep event the enforcer receives from its schedule, built by the library."""
    return own_events.sweep_event(event_id, time)


def _send(event: dict[str, Any], context: Any, status: str, reason: str) -> None:
    """PUT the answer to CloudFormation's pre-signed URL, trying three times."""
    body = json.dumps(
        {
            "Status": status,
            "Reason": f"{reason} (log stream {context.log_stream_name})"[:1000],
            "PhysicalResourceId": event.get("PhysicalResourceId") or PHYSICAL_RESOURCE_ID,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "Data": {},
        }
    ).encode()
    for attempt in range(1, 4):
        request = urllib.request.Request(
            event["ResponseURL"],
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            urllib.request.urlopen(request, timeout=10).close()
            logger.info("answered CloudFormation", extra={"status": status, "reason": reason})
            return
        except Exception as error:  # noqa: BLE001 - any failure is retried, then logged
            logger.warning("could not answer CloudFormation", extra={"attempt": attempt, "error": repr(error)})


class _Answer:
    """Sends exactly one answer, whichever comes first: the handler's or the timer's."""

    def __init__(self, event: dict[str, Any], context: Any) -> None:
        self._event, self._context = event, context
        self._lock = threading.Lock()
        self._sent = False

    def __call__(self, status: str, reason: str) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        _send(self._event, self._context, status, reason)


def handler(event: dict[str, Any], context: Any) -> None:
    request_type = event.get("RequestType")
    logger.info("request", extra={key: value for key, value in event.items() if key != "ResponseURL"})
    answer = _Answer(event, context)
    failed = "FAILED" if request_type == "Create" else "SUCCESS"
    seconds = max(context.get_remaining_time_in_millis() / 1000.0 - ANSWER_MARGIN_SECONDS, 1.0)
    timer = threading.Timer(seconds, answer, (failed, "timed out before the enforcer was invoked"))
    timer.daemon = True
    timer.start()
    try:
        if request_type in ("Create", "Update"):
            function_arn = event["ResourceProperties"]["EnforcerFunctionArn"]
            payload = sweep_payload(str(uuid.uuid4()), utc_iso())
            LAMBDA.invoke(FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(payload).encode())
            answer("SUCCESS", f"sweep {payload['id']} started")
        else:
            answer("SUCCESS", "nothing to do")
    except Exception as error:  # noqa: BLE001 - every failure must still answer CloudFormation
        answer(failed, f"could not invoke the enforcer: {error!r}")
    finally:
        timer.cancel()
