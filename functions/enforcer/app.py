"""Lambda entry point: build everything once, hand each event and its invocation to the enforcer, return the
result document."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from connect_lockdown.aws import AwsGateway
from connect_lockdown.config import Settings
from connect_lockdown.invocation import Invocation
from connect_lockdown.log import SERVICE
from connect_lockdown.outcomes import AlertsNotSent, RetryLater, RunReport
from connect_lockdown.reconcile import Enforcer
from connect_lockdown.securityhub import reporter_for

# The library's loggers are children of this one: they share its service name, correlation id and format.
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ConnectBucketLockdown"), service=SERVICE)

# Validated once per execution environment: a bad variable stops the function at start-up, naming it.
SETTINGS = Settings.from_env(os.environ)
GATEWAY = AwsGateway()
ENFORCER = Enforcer(SETTINGS, GATEWAY, findings=reporter_for(SETTINGS, GATEWAY))


# A quiet run at METRICS_LEVEL=lean has no metric to publish, by design: Powertools' warning would say so in
# every quiet invocation's log.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# Routine counts of a quiet run: each metric name costs money every month it is emitted, so METRICS_LEVEL=lean
# leaves them out and keeps only what says something happened.
ROUTINE_METRICS = frozenset({"compliant", "ignored", "sweep_buckets_checked"})


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
    if counts.checked and report.trigger is not None and report.trigger.scheduled_sweep:
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
    started = time.monotonic()
    try:
        report = ENFORCER.handle_event(event, Invocation.of(context))
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
    if report.unsent_alerts:
        # Every bucket was handled, but people were not told: the invocation fails, so the errors alarm says so.
        _count("alert_not_sent", len(report.unsent_alerts))
        unsent = AlertsNotSent(report)
        logger.error(str(unsent))
        raise unsent
    return report.to_dict()
