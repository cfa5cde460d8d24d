"""What a plan is: the buckets to decide, the instances that store in each, and where those came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from .events import SweepCursor
from .inventory import ConnectInstance
from .outcomes import BucketResult
from .sweep_record import SweepRecord

# Connect's own bucket names. A bucket so named is never ignored because the index does not know it: the index
# may have lost it (or been made to), so Connect is read instead.
CONNECT_DEFAULT_PREFIX = "amazon-connect-"


def is_connect_default_name(bucket: str) -> bool:
    return bucket.startswith(CONNECT_DEFAULT_PREFIX)


class Source(Enum):
    """Where a plan's instances come from, and so what a write must check first or after."""

    # Read from Connect in this invocation.
    FRESH = "fresh"
    # A warm execution environment's last inventory: it finds a compliant bucket; a write reads Connect again.
    WARM = "warm"
    # The index (an instance event's own instance is read fresh): a hint of which instances to read. Before
    # anything is decided, Connect confirms each one and names its role (`confirm.py`).
    INDEX = "index"


@dataclass
class Plan:
    """The buckets to decide, with their instances, and what else the run found on the way."""

    buckets: dict[str, list[ConnectInstance]] = field(default_factory=dict)
    source: Source = Source.FRESH
    pending: list[ConnectInstance] = field(default_factory=list)
    unreadable: list[ConnectInstance] = field(default_factory=list)
    ignored: str | None = None
    continued: SweepCursor | None = None
    # Every Connect bucket the sweep knows, when `buckets` holds only the rest of them (for the orphan search).
    known_buckets: set[str] | None = None
    index_degraded: str | None = None
    # A scheduled sweep's record: its last phase may hand the rest of the buckets over with it.
    sweep_record: SweepRecord | None = None
    # The instances read from Connect in this invocation (a sweep's plan from the index names the others).
    read_now: frozenset[str] = frozenset()
    # Results to publish as they are: a sweep that stopped at its cap of invocations.
    failures: list[BucketResult] = field(default_factory=list)
