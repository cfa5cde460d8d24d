"""Shared fixtures: fake credentials and a region, so no test can reach real AWS."""

import os

import pytest
from botocore.loaders import Loader

from devtools.account import REGION

# Set before anything imports boto3, so even module-level clients get fake credentials.
for _key, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}.items():
    os.environ[_key] = _value
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


def _share_loaded_models() -> None:
    """Every botocore loader of the test process shares one cache of the models it has read.

    botocore caches what a loader reads per loader, and each new session (the tests make thousands: per account,
    per test, per assumed role) has a loader of its own, so each client read its service model's JSON again: a
    third of the suite's time. The cache holds what botocore's own per-loader cache holds, keyed the same way,
    and is shared only between loaders with the same search paths.
    """
    caches: dict[tuple[str, ...], dict[object, object]] = {}
    original_init = Loader.__init__

    def init(self: Loader, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)
        self._cache = caches.setdefault(tuple(self.search_paths), {})

    Loader.__init__ = init


_share_loaded_models()


@pytest.fixture(autouse=True)
def _aws_test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Figures the reliability tests summed over the session, written to $RELIABILITY_FIGURES when it is set."""
    from tests.support.reliability import report_tallies

    report_tallies()
