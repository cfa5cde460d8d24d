"""The fixtures the test groups share: one place, imported by each group's conftest."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from devtools.account import FUNCTION_ARN
from devtools.world import World


@pytest.fixture
def world() -> Iterator[World]:
    """A small Connect estate (topic, queue, the enforcer's role) on in-process moto."""
    with mock_aws():
        yield World(boto3.session.Session()).setup()


def lambda_context(
    request_id: str = "req-1", *, function_arn: str = FUNCTION_ARN, remaining_ms: int | None = None
) -> SimpleNamespace:
    """The Lambda context as functions/enforcer/app.py reads it: the request id, the invoked function's ARN and,
    when `remaining_ms` is given, the time left (a sweep then hands what it cannot finish to a new invocation)."""
    context = SimpleNamespace(aws_request_id=request_id, invoked_function_arn=function_arn)
    if remaining_ms is not None:
        context.get_remaining_time_in_millis = lambda: remaining_ms
    return context
