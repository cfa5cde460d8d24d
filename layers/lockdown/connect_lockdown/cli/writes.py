"""What a writing command (apply, unlock) has written and alerted, and a Ctrl-C that waits for the alert.

The core publishes each result right after its write. A Ctrl-C between the two would lose that alert, so while a
command writes, the first Ctrl-C only asks it to stop before the next bucket; a second one stops at once. Either
way the command then prints which buckets were written and whether each was alerted: written means alerted, or
the output says it was not.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType, TracebackType
from typing import TextIO

import boto3

from ..aws import AwsGateway
from ..errors import call
from ..labels import plural
from ..notify import Notification


@dataclass
class WriteJournal:
    """Buckets in the order their write began; which of them S3 confirmed and which were alerted."""

    begun: list[str] = field(default_factory=list)
    written: set[str] = field(default_factory=set)
    alerted: set[str] = field(default_factory=set)
    published: int = 0

    def report(self, out: TextIO) -> None:
        """What was done before the command stopped, bucket by bucket."""
        done = [b for b in self.begun if b in self.written and b in self.alerted]
        silent = [b for b in self.begun if b in self.written and b not in self.alerted]
        unsure = [b for b in self.begun if b not in self.written]
        if not self.begun:
            out.write("Stopped before any policy was written.\n")
        for bucket in done:
            out.write(f"written and alerted: {bucket}\n")
        for bucket in silent:
            out.write(f"written, NOT alerted: {bucket} (tell its owners yourself)\n")
        for bucket in unsure:
            out.write(f"may have been written, NOT alerted: {bucket} (run plan to see its policy now)\n")
        out.write(
            f"Stopped: {plural(len(self.written), 'bucket')} written, {plural(len(done), 'alert')} sent"
            + (f", {plural(len(silent) + len(unsure), 'write')} not alerted.\n" if silent or unsure else ".\n")
        )


class JournaledGateway(AwsGateway):
    """The AWS gateway of a writing command: every policy write and every alert goes in the journal."""

    def __init__(self, session: boto3.session.Session, journal: WriteJournal) -> None:
        super().__init__(session=session)
        self.journal = journal

    def put_bucket_policy(self, bucket: str, account: str, policy_text: str) -> None:
        self.journal.begun.append(bucket)
        super().put_bucket_policy(bucket, account, policy_text)
        self.journal.written.add(bucket)

    def delete_bucket_policy(self, bucket: str, account: str) -> None:
        """`unlock` of a bucket whose only statement was the lockdown: no policy is left."""
        self.journal.begun.append(bucket)
        call("DeleteBucketPolicy", self.s3.delete_bucket_policy, Bucket=bucket, ExpectedBucketOwner=account)
        self.journal.written.add(bucket)

    def publish(self, topic_arn: str, notification: Notification) -> str:
        message_id = super().publish(topic_arn, notification)
        self.journal.alerted.add(notification.attributes.get("bucket", "-"))
        self.journal.published += 1
        return message_id


class Stopped(Exception):
    """The operator asked the command to stop (one Ctrl-C); raised between two buckets."""


class StopBetweenBuckets:
    """While active, the first Ctrl-C is noted and acted on before the next bucket; a second one interrupts."""

    def __init__(self, stderr: TextIO = sys.stderr) -> None:
        self.requested = False
        self.stderr = stderr
        self._previous: Callable[[int, FrameType | None], object] | int | None = None

    def __enter__(self) -> StopBetweenBuckets:
        if threading.current_thread() is threading.main_thread():  # only the main thread may handle signals
            self._previous = signal.signal(signal.SIGINT, self._interrupt)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.stderr.write(
            "\nconnect-lockdown: stopping once the bucket in hand is written and alerted (Ctrl-C again: at once)\n"
        )

    def check(self) -> None:
        if self.requested:
            raise Stopped
