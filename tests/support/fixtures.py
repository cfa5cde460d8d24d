"""The fixtures the test groups share: one place, imported by each group's conftest."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.support.world import World


@pytest.fixture
def world() -> Iterator[World]:
    """A small Connect estate (topic, queue, the enforcer's role) on in-process moto."""
    with mock_aws():
        yield World(boto3.session.Session()).setup()


# The Lambda context the handler tests pass: what app.py reads from it.
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:connect-lockdown-enforcer"


def lambda_context(request_id: str = "req-1", **extra: object) -> object:
    from types import SimpleNamespace

    return SimpleNamespace(aws_request_id=request_id, invoked_function_arn=FUNCTION_ARN, **extra)
