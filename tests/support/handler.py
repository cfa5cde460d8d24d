"""Load functions/enforcer/app.py as Lambda would: environment first, then a fresh import."""

from __future__ import annotations

import importlib
import logging
import sys
from types import ModuleType

import pytest

from devtools.world import World


def load_app(world: World, monkeypatch: pytest.MonkeyPatch, **environment: str) -> ModuleType:
    """Import the handler module with the enforcer role's credentials and the given configuration."""
    credentials = world.client("sts").assume_role(
        RoleArn=world.enforcer_role_arn, RoleSessionName="connect-lockdown-fn"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", world.topic_arn)
    if world.endpoint_url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", world.endpoint_url)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("app", None)
    app = importlib.import_module("app")
    # Powertools configures a service's logger once per process, its handler bound to the stdout of that
    # moment; point it at today's stdout, so pytest's capture sees this test's logs.
    for handler in logging.getLogger("connect-lockdown").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.stream = sys.stdout
    return app
