"""Where every result goes: the run's report, Security Hub (when on) and, for people, the SNS topic.

A publish error keeps its class. Throttling or a 5xx is collected as retryable, and the enforcer raises it
once every other bucket is handled (the retry finds the same end state). An error a retry will not fix (the
topic's policy or a KMS key refuses the caller, the topic is gone) is recorded as an unsent alert that names
the call: never "try again".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from .aws import AwsCallError, CallerIdentity, Gateway, RetryableAwsError
from .config import Settings
from .log import SERVICE
from .notify import notification
from .outcomes import BucketResult, RunReport, UnsentAlert

logger = Logger(service=SERVICE, child=True)


@dataclass
class ResultSink:
    settings: Settings
    gateway: Gateway
    identity: Callable[[], CallerIdentity]
    # The command line's read-only audit and plan publish nothing.
    notify: bool = True
    # Security Hub's reporter (`securityhub.reporter_for`); None when SECURITY_HUB is off.
    findings: Callable[[RunReport, BucketResult], None] | None = None

    def publish(self, report: RunReport, result: BucketResult, *, alert: bool = True) -> None:
        """Add the result to the report, report it to Security Hub, and publish it when people should hear of it
        (`alert=False`: a result people already heard of today)."""
        report.results.append(result)
        if self.findings is not None:
            self.findings(report, result)
        if not (alert and self.notify and result.outcome.notified):
            return
        try:
            message = notification(
                self.identity().account,
                self.gateway.region,
                report.trigger,
                result.to_dict(),
                instance_aliases={i.id: i.alias for i in result.instances if i.alias},
                principal_names=result.principal_names,
            )
            self.gateway.publish(self.settings.topic_arn, message)
        except RetryableAwsError as error:
            logger.error("publishing a result failed", extra={"bucket": result.bucket, "error": str(error)})
            report.retryable_errors.append(error)
        except AwsCallError as error:
            unsent = UnsentAlert(result.bucket, result.outcome, error)
            logger.error(str(unsent), extra={"bucket": result.bucket, "error_code": error.code})
            report.unsent_alerts.append(unsent)
