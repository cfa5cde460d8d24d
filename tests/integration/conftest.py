"""A moto server on 127.0.0.1 for the tests that talk HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from devtools.server import moto_server, reset
from devtools.world import World


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def world(endpoint: str) -> Iterator[World]:
    yield World(boto3.session.Session(), endpoint_url=endpoint).setup()
    reset(endpoint)
