"""Record the AWS operations made with one set of credentials, as the IAM actions that authorise them.

IAM evaluates a call against the principal that signed it, so the recorder keeps exactly the calls signed with
the given access key (the enforcer role's session, in the permissions test) and nothing that the test's own
set-up and assertions do with other credentials. It wraps botocore's BaseClient._make_api_call, the one place
every client operation (paginated or not, created before or after recording starts) goes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.client import BaseClient

# Operations whose IAM action is not "<service prefix>:<operation name>" (Service Authorization Reference).
ACTION_FOR_OPERATION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("lambda", "Invoke"): "lambda:InvokeFunction",
}


def iam_action(client: Any, operation_name: str) -> str:
    """The IAM action of a botocore operation, e.g. ("connect", "ListInstances") -> connect:ListInstances."""
    prefix = client.meta.service_model.signing_name
    return ACTION_FOR_OPERATION.get((prefix, operation_name), f"{prefix}:{operation_name}")


def _access_key(client: Any) -> str | None:
    credentials = getattr(client._request_signer, "_credentials", None)
    return None if credentials is None else credentials.get_frozen_credentials().access_key


@contextmanager
def record_actions(monkeypatch: pytest.MonkeyPatch, access_keys: set[str]) -> Iterator[set[str]]:
    """Yield a set that fills with the IAM actions of every call signed with one of `access_keys`.

    `access_keys` is read at each call, so the caller may add the keys of sessions it starts later.
    """
    actions: set[str] = set()
    original = BaseClient._make_api_call

    def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        if _access_key(self) in access_keys:
            actions.add(iam_action(self, operation_name))
        return original(self, operation_name, api_params)

    with monkeypatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", recording)
        yield actions
