"""`connect-lockdown`: see and act on Connect bucket lockdowns from an operator's terminal.

The same library as the function, with no logic of its own (see `single_scope.py`). Modules by job: `dispatch`
(from arguments to an exit code), `parser` (arguments and their checks), `context` (sessions, settings, start-up
checks), `single_scope` (one account and Region), `commands` (audit, plan, apply), `unlock`, `render` and
`wording` (what is printed), `many_scopes` and `organization` (several accounts and Regions), `guardrail` (the
organization policies). `main` is the console script's entry point.

This package's own import is light (the exit codes only): boto3 and the library load inside `main`, so that
Ctrl-C while they load is an interruption like any other, not a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from .exits import (
    EXIT_ACCESS_DENIED,
    EXIT_AWS_UNAVAILABLE,
    EXIT_CODES_HELP,
    EXIT_INCOMPLETE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NO_CREDENTIALS,
    EXIT_NOT_COMPLIANT,
    EXIT_OK,
    EXIT_UNKNOWN_BUCKET,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_ACCESS_DENIED",
    "EXIT_AWS_UNAVAILABLE",
    "EXIT_CODES_HELP",
    "EXIT_INCOMPLETE",
    "EXIT_INTERNAL",
    "EXIT_NOT_COMPLIANT",
    "EXIT_NO_CREDENTIALS",
    "EXIT_OK",
    "EXIT_UNKNOWN_BUCKET",
    "EXIT_USAGE",
    "main",
]


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; return its exit code. No exception escapes: an unexpected one is exit 7."""
    try:
        from .dispatch import run
    except KeyboardInterrupt:
        sys.stderr.write("connect-lockdown: interrupted\n")
        return EXIT_INTERRUPTED
    return run(argv, out)
