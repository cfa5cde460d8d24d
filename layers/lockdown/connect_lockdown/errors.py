"""Two sibling kinds of AWS failure, and the one wrapper every call goes through.

`RetryableAwsError` (throttling, 5xx, network: Lambda's retry can fix it) and `AwsCallError` (access denied,
missing resources: it cannot). Being siblings, catching one never catches the other; `AwsError` catches both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

T = TypeVar("T")

RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServiceException",
        "ServiceException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

# SNS answers a principal that may not publish with AuthorizationError (403).
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)


class AwsError(Exception):
    """A failed AWS call: which operation, AWS's error code and its message."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation} failed: {code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message

    @property
    def access_denied(self) -> bool:
        return self.code in ACCESS_DENIED_CODES


class AwsCallError(AwsError):
    """AWS rejected a call for a reason a retry will not fix."""


class RetryableAwsError(AwsError):
    """A failure a retry can fix: throttling, a 5xx, the network."""


def call(operation: str, function: Callable[..., T], **kwargs: Any) -> T:
    try:
        return function(**kwargs)
    except ClientError as error:
        info = error.response.get("Error", {})
        code = str(info.get("Code") or "Unknown")
        message = str(info.get("Message") or "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code in RETRYABLE_CODES or status >= 500 or status == 429:
            raise RetryableAwsError(operation, code, message) from error
        raise AwsCallError(operation, code, message) from error
    except (NoCredentialsError, PartialCredentialsError) as error:
        # A retry will not find credentials that are not there.
        raise AwsCallError(operation, "NoCredentials", str(error)) from error
    except BotoCoreError as error:
        raise RetryableAwsError(operation, type(error).__name__, str(error)) from error
