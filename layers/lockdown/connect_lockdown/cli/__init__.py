"""`connect-lockdown`: see and act on Connect bucket lockdowns from an operator's terminal.

The same library as the function, with no logic of its own (see `scope.py`). Modules by job: `parser`
(arguments and their checks), `context` (sessions, settings, start-up checks), `scope` (one account and Region),
`commands` (audit, plan, apply), `render` and `wording` (what is printed), `scopes` and `organization` (several
accounts and Regions), `guardrail` (the SCP). `main` is the console script's entry point.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TextIO

from botocore.exceptions import NoRegionError

from ..aws import AwsCallError, RetryableAwsError
from ..log import SERVICE
from .commands import command_apply, command_audit, command_plan
from .exits import (
    EXIT_ACCESS_DENIED,
    EXIT_AWS_UNAVAILABLE,
    EXIT_BROKEN_PIPE,
    EXIT_CODES_HELP,
    EXIT_INCOMPLETE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NO_CREDENTIALS,
    EXIT_NOT_COMPLIANT,
    EXIT_OK,
    EXIT_UNKNOWN_BUCKET,
    EXIT_USAGE,
    CliError,
)
from .guardrail import command_guardrail
from .organization import command_audit_many
from .parser import build_parser, check_arguments, is_multi_scope

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
    "build_parser",
    "main",
]

Command = Callable[[argparse.Namespace, TextIO], int]


def _command(args: argparse.Namespace) -> Command:
    if args.command == "audit":
        return command_audit_many if is_multi_scope(args) else command_audit
    if args.command == "plan":
        return command_plan
    if args.command == "apply":
        return command_apply
    return command_guardrail


def _library_logs(verbose: bool) -> None:
    """The library's own warnings: on stderr with --verbose; otherwise the command's output says what matters.

    Left alone when the service's logger is already set up (the function's handler in the same process)."""
    logger = logging.getLogger(SERVICE)
    if logger.handlers:
        return
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("connect-lockdown: %(levelname)s: %(message)s"))
    else:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.propagate = False


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; return its exit code. No exception escapes: an unexpected one is exit 7."""
    out = out or sys.stdout
    code = _run(argv, out)
    try:
        out.flush()  # here, so that a closed stdout is seen before the interpreter's own flush at exit
    except BrokenPipeError:
        return _broken_pipe()
    return code


def _run(argv: Sequence[str] | None, out: TextIO) -> int:
    try:
        args = build_parser().parse_args(argv)
        _library_logs(args.verbose)
        check_arguments(args)
        return _command(args)(args, out)
    except CliError as error:
        return _fail(str(error), error.code)
    except NoRegionError:
        return _fail("no AWS Region: pass --region, or set AWS_REGION (or a region in your AWS profile)", EXIT_USAGE)
    except RetryableAwsError as error:
        return _fail(f"AWS throttled or could not be reached, try again: {error}", EXIT_AWS_UNAVAILABLE)
    except AwsCallError as error:
        if error.code == "NoCredentials":
            return _fail(f"no AWS credentials found: {error}", EXIT_NO_CREDENTIALS)
        if error.access_denied:
            return _fail(f"access denied: {error}", EXIT_ACCESS_DENIED)
        return _internal(error)
    except KeyboardInterrupt:
        sys.stderr.write("connect-lockdown: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _broken_pipe()
    except Exception as error:  # noqa: BLE001 - the one place every unexpected error becomes exit 7
        return _internal(error)


def _broken_pipe() -> int:
    """Whoever read stdout stopped reading; Python must not fail again flushing it at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"connect-lockdown: error: {message}\n")
    return code


def _internal(error: BaseException) -> int:
    """An exception nothing expected: a bug. One line, a distinct code, never 0 or 1."""
    if os.environ.get("CONNECT_LOCKDOWN_DEBUG"):
        traceback.print_exception(error, file=sys.stderr)
    text = " ".join(str(error).split())[:300]
    sys.stderr.write(
        f"connect-lockdown: internal error: {type(error).__name__}: {text} (a bug: please report it; "
        "CONNECT_LOCKDOWN_DEBUG=1 prints the traceback)\n"
    )
    return EXIT_INTERNAL
