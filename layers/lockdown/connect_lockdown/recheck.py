"""One-time EventBridge Scheduler re-checks of instances that have no S3 storage yet.

Storage usually arrives minutes after CreateInstance, one AssociateInstanceStorageConfig per resource type.
Should that event be lost, the re-check still locks the bucket within RECHECK_DELAY_MINUTES of the association,
for up to MAX_RECHECK_ATTEMPTS re-checks; the sweep covers anything later.

A re-check event says where to look, nothing else. With an index, each scheduled re-check is recorded there
(instance id, attempt) before it is scheduled, and a re-check event that does not match the record is ignored
with a reason. Without an index (or when it cannot be read) a re-check is a plain look at the instance it names:
the instance is read fresh from Connect like an instance event's, and a further re-check is scheduled only if
Connect says it is pending. That is safe because the event decides nothing: whatever it names, the enforcer
locks only from what Connect answers in that invocation. The most it can cost is a look at an instance (the
same as a forged storage event), and the re-checks it can start are bounded: MAX_RECHECK_ATTEMPTS per pending
instance, each under a fixed schedule name, which EventBridge Scheduler refuses to create twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from .aws import AwsError, Gateway
from .config import Settings
from .events import MAX_RECHECK_ATTEMPTS
from .index import IndexUnavailable, InventoryIndex
from .log import SERVICE
from .own_events import recheck_event
from .times import utc_iso

logger = Logger(service=SERVICE, child=True)

RECHECK_DELAY_MINUTES = 3


def recheck_mismatch(index: InventoryIndex | None, instance_id: str, attempt: int) -> str | None:
    """Why a re-check event does not match the re-check the enforcer scheduled; None when it does, or when
    there is no index to check it against (it is then a plain look at the instance)."""
    if index is None:
        return None
    try:
        expected = index.recheck_scheduled(instance_id)
    except IndexUnavailable as error:
        logger.warning("re-check not verified; a plain look at the instance", extra={"error": str(error)})
        return None
    if expected != attempt:
        return f"the re-check does not match one this function scheduled (re-check {attempt} of {instance_id})"
    return None


def schedule_recheck(
    gateway: Gateway,
    settings: Settings,
    function_arn: str | None,
    instance_id: str,
    attempt: int,
    index: InventoryIndex | None = None,
) -> str:
    """Ask EventBridge Scheduler to send re-check `attempt` of a pending instance; returns a sentence."""
    if attempt > MAX_RECHECK_ATTEMPTS:
        return "No more re-checks are scheduled; the sweep locks the bucket once storage exists."
    if not (settings.recheck_schedule_group and settings.recheck_role_arn and function_arn):
        return "No re-check is configured; the sweep locks the bucket once storage exists."
    if index is not None:
        try:
            index.record_recheck(instance_id, attempt)
        except IndexUnavailable as error:
            # A re-check the index does not know would be ignored on arrival: the sweep covers the instance.
            logger.warning("could not record a re-check", extra={"instance_id": instance_id, "error": str(error)})
            return "Recording a re-check in the index failed; the sweep locks the bucket once storage exists."
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
