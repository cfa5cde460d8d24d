"""Someone else's bucket-policy statements, as the tests put them on buckets before the enforcer runs.

`public_read` is the drift the lockdown exists for (everyone may read the recordings); `deny_insecure_transport`
is the statement a careful team adds (TLS only). Both are foreign to the enforcer: it must keep them (preserve
mode) while it locks the bucket.
"""

from __future__ import annotations

from typing import Any

Statement = dict[str, Any]


def document(*statements: Statement) -> dict[str, Any]:
    """A policy document of these statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def public_read(bucket: str) -> Statement:
    """Everyone may read every object of `bucket`."""
    return {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


def public_read_policy(bucket: str) -> dict[str, Any]:
    """A bucket policy that makes `bucket`'s objects public, and nothing else."""
    return document(public_read(bucket))


def deny_insecure_transport(bucket: str, *, sid: str | None = "DenyInsecureTransport") -> Statement:
    """Deny every request to `bucket` and its objects that does not use TLS (without a Sid when `sid` is None)."""
    statement: Statement = {} if sid is None else {"Sid": sid}
    return statement | {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
