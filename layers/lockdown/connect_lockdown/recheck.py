"""One-time EventBridge Scheduler re-checks of instances that have no S3 storage yet.

Storage usually arrives minutes after CreateInstance, one AssociateInstanceStorageConfig per resource type.
Should that event be lost, the re-check still locks the bucket within RECHECK_DELAY_MINUTES of the association,
for up to MAX_RECHECK_ATTEMPTS re-checks; the sweep covers anything later.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from .aws import AwsError, Gateway
from .config import Settings
from .events import MAX_RECHECK_ATTEMPTS, recheck_event
from .log import SERVICE
from .times import utc_iso

logger = Logger(service=SERVICE, child=True)

RECHECK_DELAY_MINUTES = 3


def schedule_recheck(
    gateway: Gateway, settings: Settings, function_arn: str | None, instance_id: str, attempt: int
) -> str:
    """Ask EventBridge Scheduler to send re-check `attempt` of a pending instance; returns a sentence."""
    if attempt > MAX_RECHECK_ATTEMPTS:
        return "No more re-checks are scheduled; the sweep locks the bucket once storage exists."
    if not (settings.recheck_schedule_group and settings.recheck_role_arn and function_arn):
        return "No re-check is configured; the sweep locks the bucket once storage exists."
    when = datetime.now(UTC) + timedelta(minutes=RECHECK_DELAY_MINUTES)
    at = utc_iso(when, zone=False)
    payload = recheck_event(instance_id, attempt, str(uuid.uuid4()), utc_iso(when))
    try:
        gateway.create_one_time_schedule(
            name=f"recheck-{instance_id}-{attempt}",
            group=settings.recheck_schedule_group,
            at=at,
            target_arn=function_arn,
            role_arn=settings.recheck_role_arn,
            payload=payload,
        )
    except AwsError as error:
        if error.code == "ConflictException":
            return f"Re-check {attempt} was already scheduled."
        logger.warning(
            "could not schedule a re-check", extra={"instance_id": instance_id, "attempt": attempt, "error": str(error)}
        )
        return f"Scheduling a re-check failed ({error.code}); the sweep locks the bucket once storage exists."
    return f"Re-check {attempt} of {MAX_RECHECK_ATTEMPTS} is scheduled for {at}Z."
