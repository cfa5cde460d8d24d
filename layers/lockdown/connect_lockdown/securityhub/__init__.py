"""Bucket decisions as AWS Security Hub findings (`SECURITY_HUB=true`): one finding per bucket, in place.

- `finding.py`: one result as an ASFF finding, pure;
- `reporter.py`: what is imported when, and the per-bucket state that keeps imports few.
"""

from __future__ import annotations

from .finding import GENERATOR_ID, compliance_status, finding_for, finding_id, has_finding, product_arn
from .reporter import REFRESH_AFTER, STATE_PK, FindingsReporter, refresh_hour, reporter_for

__all__ = [
    "GENERATOR_ID",
    "REFRESH_AFTER",
    "STATE_PK",
    "FindingsReporter",
    "compliance_status",
    "finding_for",
    "finding_id",
    "has_finding",
    "product_arn",
    "refresh_hour",
    "reporter_for",
]
