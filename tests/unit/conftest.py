"""Fixtures for the tests that run on in-process moto (no sockets)."""

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
