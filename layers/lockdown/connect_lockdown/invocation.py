"""What the running Lambda invocation offers the enforcer: its own function ARN and the time it has left.

The handler builds one per invocation from Lambda's context and passes it in, as Powertools' idempotency passes
the context: nothing of one invocation is left behind for the next. Without a context (the command line,
tests) there is no function to continue in or re-check with, and no time limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Invocation:
    function_arn: str | None = None
    # Seconds left before Lambda stops the invocation; None: no limit.
    time_left: Callable[[], float] | None = None

    @classmethod
    def of(cls, context: Any) -> Invocation:
        """The invocation of a Lambda context object; an empty one for None."""
        if context is None:
            return cls()
        arn = getattr(context, "invoked_function_arn", None)
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return cls(
            function_arn=arn if isinstance(arn, str) and arn else None,
            time_left=(lambda: remaining() / 1000) if callable(remaining) else None,
        )
