"""A sweep too large for one invocation: when to hand the rest over, and the hand-over itself.

Only a scheduled sweep with an index continues itself, and only inside Lambda (an `Invocation` with a function
ARN and a clock): the index carries what the earlier parts read, the continuation event says where to go on.
"""

from __future__ import annotations

import uuid

from aws_lambda_powertools import Logger

from .aws import Gateway
from .events import SweepCursor, continuation_event
from .invocation import Invocation
from .log import SERVICE
from .times import utc_iso

logger = Logger(service=SERVICE, child=True)

# A sweep hands the rest of its instances to a new invocation when less time than this is left: enough for
# the buckets of the last part and the hand-over.
SWEEP_RESERVE_SECONDS = 45.0
# The last phase decides buckets (S3 and IAM calls only) while more than this is left, then hands the rest over.
BUCKET_RESERVE_SECONDS = 15.0


class SweepContinuation:
    def __init__(self, gateway: Gateway, invocation: Invocation) -> None:
        self.gateway = gateway
        self.invocation = invocation

    def _short_of(self, reserve: float) -> bool:
        time_left = self.invocation.time_left
        return bool(self.invocation.function_arn) and time_left is not None and time_left() < reserve

    def out_of_time_for_instances(self, *, indexed: bool, scheduled: bool) -> bool:
        """Whether to hand the instances not read yet to a new invocation."""
        return indexed and scheduled and self._short_of(SWEEP_RESERVE_SECONDS)

    def out_of_time_for_buckets(self, *, indexed: bool) -> bool:
        """Whether the last phase should hand its remaining buckets to a new invocation."""
        return indexed and self._short_of(BUCKET_RESERVE_SECONDS)

    def hand_over(self, cursor: SweepCursor) -> None:
        """Invoke the function again, asynchronously, with where the sweep stands."""
        assert self.invocation.function_arn is not None
        event = continuation_event(cursor, str(uuid.uuid4()), utc_iso(digits=6))
        self.gateway.invoke_async(self.invocation.function_arn, event)
        logger.info("the sweep continues in a new invocation", extra={"sweep_id": cursor.sweep_id, "done": cursor.done})
