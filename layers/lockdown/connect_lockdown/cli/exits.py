"""Exit codes of `connect-lockdown`, distinct so that cron jobs and pipelines can tell them apart."""

from __future__ import annotations

EXIT_OK = 0
EXIT_NOT_COMPLIANT = 1
EXIT_USAGE = 2
EXIT_NO_CREDENTIALS = 3
EXIT_ACCESS_DENIED = 4
EXIT_UNKNOWN_BUCKET = 5
EXIT_AWS_UNAVAILABLE = 6
EXIT_INTERNAL = 7
EXIT_INCOMPLETE = 8
EXIT_INTERRUPTED = 130
# stdout was closed before the output was written (`| head`): 128 + SIGPIPE, as a shell reports it.
EXIT_BROKEN_PIPE = 141

EXIT_CODES_HELP = """exit codes:
  0  every bucket is compliant (audit, plan) or was brought to compliance (apply); guardrail printed
  1  a bucket is drifted, missing its policy, refused or failed
  2  bad usage or configuration (the message says which flag or variable)
  3  no AWS credentials, or AWS did not accept them
  4  access denied (on the Connect inventory, a bucket or the organization)
  5  the bucket named with --bucket is not used by any Connect instance
  6  AWS throttled or was unavailable; try again
  7  internal error: a bug in connect-lockdown (please report it with the message)
  8  could not tell: the Connect inventory, or some or all of the accounts and Regions (see "errors"),
     could not be read; whatever was read is compliant
  130 interrupted; 141 stdout was closed before the output was written (a pipe to head)"""


class CliError(Exception):
    """Ends the command with one line on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def usage(message: str) -> CliError:
    return CliError(message, EXIT_USAGE)
