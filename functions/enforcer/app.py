"""Lambda entry point: configure once, hand the event to the enforcer, return the result document."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.events import CONTINUATION_DETAIL_TYPE, SCHEDULED_DETAIL_TYPE
from connect_lockdown.findings_reporter import reporter_for
from connect_lockdown.log import SERVICE
from connect_lockdown.outcomes import RetryLater, RunReport
from connect_lockdown.reconcile import Enforcer

# The library's loggers are children of this one: they share its service name, correlation id and format.
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ConnectBucketLockdown"), service=SERVICE)

# Validated once per execution environment: a bad variable stops the function at start-up, naming it.
SETTINGS = Settings.from_env(os.environ)
GATEWAY = AwsGateway()
ENFORCER = Enforcer(SETTINGS, GATEWAY)
ENFORCER.findings = reporter_for(SETTINGS, GATEWAY)


# A quiet run at METRICS_LEVEL=lean has no metric to publish, by design: Powertools' warning would say so in
# every quiet invocation's log.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# Routine counts of a quiet run: each metric name costs money every month it is emitted, so METRICS_LEVEL=lean
# leaves them out and keeps only what says something happened.
ROUTINE_METRICS = frozenset({"compliant", "ignored", "sweep_buckets_checked"})
SWEEP_EVENT_NAMES = frozenset({SCHEDULED_DETAIL_TYPE, CONTINUATION_DETAIL_TYPE})


def _count(name: str, value: int = 1) -> None:
    if SETTINGS.metrics_level == "full" or name not in ROUTINE_METRICS:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _record(report: RunReport) -> None:
    if report.orphaned_buckets:
        _count("orphaned_bucket", len(report.orphaned_buckets))
    if report.ignored is not None:
        _count("ignored")
    if report.index_degraded is not None:
        _count("index_degraded")
    counts = report.counts()
    if counts.checked and report.trigger is not None and report.trigger.event_name in SWEEP_EVENT_NAMES:
        _count("sweep_buckets_checked", counts.checked)
    for result in report.results:
        _count(str(result.outcome))
        logger.info(
            result.reason,
            extra={"bucket": result.bucket, "outcome": str(result.outcome), "instances": result.instance_ids},
        )


@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    event_id = event.get("id") if isinstance(event, dict) else None
    # The id is untrusted and repeated in every log line: keep it to an id's length.
    logger.set_correlation_id(event_id[:128] if isinstance(event_id, str) else None)
    if context is not None:
        logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))
        ENFORCER.function_arn = getattr(context, "invoked_function_arn", None) or ENFORCER.function_arn
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        ENFORCER.time_left = (lambda: remaining() / 1000) if callable(remaining) else None
    started = time.monotonic()
    try:
        report = ENFORCER.handle_event(event)
    except RetryLater as error:
        # Results that did complete were published; raising lets Lambda retry the rest.
        _record(error.report)
        _count("retryable_error", len(error.report.retryable_errors))
        logger.error(str(error))
        logger.info("summary", extra={"summary": error.report.summary(time.monotonic() - started)})
        raise
    if report.ignored is not None:
        logger.info("ignored", extra={"reason": report.ignored})
    _record(report)
    if report.ignored is None:
        logger.info("summary", extra={"summary": report.summary(time.monotonic() - started)})
    return report.to_dict()
