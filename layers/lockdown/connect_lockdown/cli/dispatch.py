"""Parse the arguments, run one command, and turn every way it can end into one line on stderr and an exit code."""

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
from .context import is_denied
from .exits import (
    EXIT_ACCESS_DENIED,
    EXIT_AWS_UNAVAILABLE,
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NO_CREDENTIALS,
    EXIT_USAGE,
    CliError,
)
from .guardrail import command_guardrail
from .organization import command_audit_many
from .parser import check_arguments, is_multi_scope, parse_arguments
from .unlock import command_unlock

Command = Callable[[argparse.Namespace, TextIO], int]


def _command(args: argparse.Namespace) -> Command:
    if args.command == "audit":
        return command_audit_many if is_multi_scope(args) else command_audit
    if args.command == "plan":
        return command_plan
    if args.command == "apply":
        return command_apply
    if args.command == "unlock":
        return command_unlock
    return command_guardrail


def _library_logs(verbose: bool) -> None:
    """The library's own warnings: on stderr with --verbose; otherwise the command's output says what matters.

    Left alone when the service's logger is already set up (the function's handler in the same process)."""
    logger = logging.getLogger(SERVICE)
    if logger.handlers:
        return
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_WarningFormatter())
    else:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.propagate = False


# A LogRecord's own attributes; any other attribute came from the library's `extra` (the bucket, the error).
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class _WarningFormatter(logging.Formatter):
    """`connect-lockdown: WARNING: <message> (bucket=..., error=...)`: the library's context is the point."""

    def format(self, record: logging.LogRecord) -> str:
        context = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}
        details = ", ".join(f"{k}={v}" for k, v in context.items())
        text = f"connect-lockdown: {record.levelname}: {record.getMessage()}"
        return f"{text} ({details})" if details else text


def run(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
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
        args = parse_arguments(argv)
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
        if is_denied(error):
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
