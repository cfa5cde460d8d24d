"""A sweep too large for one invocation: when to hand the rest over, the hand-over itself, and its cap.

Only a scheduled sweep with an index continues itself, and only inside Lambda (an `Invocation` with a function
ARN and a clock). The first part lists the instances once and writes a sweep record in the index (`SweepRecord`);
each hand-over moves the record to the next part and sends the instances still to read in the continuation
event, or leaves them in the record when they are too many for the event. A continuation is acted on only when
it matches the record (`planner.py`): the event says where to look, the record what this function started.

Lambda's recursive loop detection ("Use Lambda recursive loop detection to prevent infinite loops",
https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html): Lambda tracks a chain of events through
the AWS X-Ray trace header, which the supported AWS SDKs (botocore among them) pass on from the function's
environment to the calls it makes, and when a function is invoked about 16 times in the same chain it stops the
next invocation and sends the event to the failure destination. The page lists the services whose loops it
detects (Amazon SQS, Amazon SNS, Amazon S3, and Lambda functions invoking functions); this function's
asynchronous `Invoke` of itself carries the same trace header, so the chain must be assumed to count. A sweep of
a large estate legitimately chains more than 16 parts: the template declares the loop (`RecursiveLoop: Allow`),
and this module keeps a cap of its own. A chain stops at `MAX_SWEEP_PARTS` parts and says so as a `failed`
result; the next scheduled sweep starts over (the instances read so far are in the index, so it goes on where
this one stopped).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable

from aws_lambda_powertools import Logger

from .aws import Gateway
from .events import MAX_CONTINUATION_IDS, SweepCursor
from .index import IndexUnavailable, InventoryIndex
from .invocation import Invocation
from .log import SERVICE
from .outcomes import BucketResult, Outcome
from .own_events import continuation_event
from .sweep_record import SweepRecord
from .times import utc_iso

logger = Logger(service=SERVICE, child=True)

# A sweep hands the rest of its instances to a new invocation when less time than this is left: enough for
# the buckets of the last part and the hand-over.
SWEEP_RESERVE_SECONDS = 45.0
# The last phase decides buckets (S3 and IAM calls only) while more than this is left, then hands the rest over.
BUCKET_RESERVE_SECONDS = 15.0
# The most invocations one sweep chains. A first sweep (nothing indexed yet: every instance is read) of 400
# instances at Connect's default 2 requests/s takes about 25 parts of the 120-second function; later sweeps
# read a bounded share (`selection.py`) and take a few.
MAX_SWEEP_PARTS = 40


class SweepContinuation:
    def __init__(self, gateway: Gateway, invocation: Invocation, index: InventoryIndex | None = None) -> None:
        self.gateway = gateway
        self.invocation = invocation
        self.index = index

    def _short_of(self, reserve: float) -> bool:
        time_left = self.invocation.time_left
        return bool(self.invocation.function_arn) and time_left is not None and time_left() < reserve

    def out_of_time_for_instances(self, *, indexed: bool, scheduled: bool) -> bool:
        """Whether to hand the instances not read yet to a new invocation."""
        return indexed and scheduled and self._short_of(SWEEP_RESERVE_SECONDS)

    def out_of_time_for_buckets(self, *, indexed: bool) -> bool:
        """Whether the last phase should hand its remaining buckets to a new invocation."""
        return indexed and self._short_of(BUCKET_RESERVE_SECONDS)

    def hand_over(
        self, record: SweepRecord, remaining: Iterable[str], buckets_done: int = 0
    ) -> SweepCursor | BucketResult:
        """Move the sweep record to the next part and invoke the function again, asynchronously, with the
        instances still to read. Returns the cursor sent, or the `failed` result to publish instead: the chain
        reached its cap, or the record could not be written. Raises AwsError when the invoke fails."""
        ids = tuple(remaining)
        if record.part >= MAX_SWEEP_PARTS:
            return chain_capped(record.part, len(ids), buckets_done)
        assert self.invocation.function_arn is not None and self.index is not None
        in_event = len(ids) <= MAX_CONTINUATION_IDS
        following = dataclasses.replace(
            record, part=record.part + 1, remaining=None if in_event else ids, buckets_done=buckets_done
        )
        try:
            self.index.write_sweep_record(following)
        except IndexUnavailable as error:
            reason = (
                f"The sweep could not record its next part in the index ({error}): {len(ids)} instances were not "
                "read and the buckets were not decided. The next scheduled sweep starts over."
            )
            return BucketResult(None, Outcome.FAILED, (), reason, error_code="IndexUnavailable")
        cursor = SweepCursor(record.sweep_id, record.started, following.part, ids if in_event else None, buckets_done)
        event = continuation_event(cursor, str(uuid.uuid4()), utc_iso(digits=6))
        self.gateway.invoke_async(self.invocation.function_arn, event)
        logger.info(
            "the sweep continues in a new invocation",
            extra={"sweep_id": record.sweep_id, "part": following.part, "instances_left": len(ids)},
        )
        return cursor


def chain_capped(part: int, instances_left: int, buckets_done: int) -> BucketResult:
    """The `failed` result of a sweep that stopped at its cap of invocations."""
    what = (
        f"{instances_left} instances were not read"
        if instances_left or not buckets_done
        else f"the buckets after the first {buckets_done} (in name order) were not decided"
    )
    reason = (
        f"The sweep stopped at part {part}, its limit of {MAX_SWEEP_PARTS} chained invocations: {what}. The next "
        "scheduled sweep starts over and goes on from what the index holds; if this repeats, the estate needs "
        "more time per part (the function's timeout) or Connect's rate limit is throttling the reads."
    )
    logger.error("the sweep reached its limit of chained invocations", extra={"part": part, "left": instances_left})
    return BucketResult(None, Outcome.FAILED, (), reason, error_code="SweepChainCapped")
