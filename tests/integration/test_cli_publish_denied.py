"""A principal that may read but not write or publish, running `apply`: the refusal is named, never "try again".

The command line runs as a subprocess against the moto server of this process; the refusals are injected in
moto's backends (S3 PutBucketPolicy answers AccessDenied, SNS Publish AuthorizationError, both 403), as AWS
answers a read-only role.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.s3.exceptions import S3AccessDeniedError
from moto.s3.models import S3Backend
from moto.sns.exceptions import SNSException
from moto.sns.models import SNSBackend

from connect_lockdown.cli import exits
from devtools.world import World
from tests.support.cli_process import run_cli

pytestmark = pytest.mark.integration

BUCKET = "pd-open"


class _NotAuthorized(SNSException):
    code = "AuthorizationError"

    def __init__(self) -> None:
        super().__init__("User is not authorized to perform: SNS:Publish on the topic")


def deny_writes_and_publishing(monkeypatch: pytest.MonkeyPatch) -> None:
    def put_bucket_policy(self: S3Backend, *args: Any, **kwargs: Any) -> None:
        raise S3AccessDeniedError()

    def publish(self: SNSBackend, *args: Any, **kwargs: Any) -> str:
        raise _NotAuthorized()

    monkeypatch.setattr(S3Backend, "put_bucket_policy", put_bucket_policy)
    monkeypatch.setattr(SNSBackend, "publish", publish)


def test_a_read_only_principals_apply_exits_4_naming_the_calls(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bucket without its lock, and a principal that may read everything but write and publish nothing
    world.create_bucket(BUCKET)
    world.create_instance("pd-cc", BUCKET)
    deny_writes_and_publishing(monkeypatch)

    # When it applies
    env = {"ENFORCER_ROLE_ARN": world.enforcer_role_arn, "NOTIFICATION_TOPIC_ARN": world.topic_arn}
    run = run_cli("apply", "--yes", endpoint=str(world.endpoint_url), env=env)

    # Then the exit code is access denied, the output names PutBucketPolicy and sns:Publish, nothing says retry
    assert run.code == exits.EXIT_ACCESS_DENIED, run.output
    assert "Traceback" not in run.output
    assert "PutBucketPolicy failed on pd-open: AccessDenied" in run.stdout
    assert "sns:Publish failed: AuthorizationError" in run.stderr
    assert "try again" not in run.output.lower()
    assert world.policy(BUCKET) is None
