"""`python -m connect_lockdown ...` as a real subprocess, as an operator or a cron job runs it.

The child gets a clean environment: fake credentials, a Region, `AWS_ENDPOINT_URL` pointing at the test's moto
server on 127.0.0.1, no AWS configuration files and no instance metadata, so nothing can reach real AWS. The
server runs in the test process, so a test can still reach into moto's backends (set a service role, inject a
fault) while the command line only ever talks HTTP to it.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class CliRun:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli_environment(endpoint: str | None, overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """A clean environment for the child; an override of None removes the variable."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "layers" / "lockdown"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(ROOT / "tests" / "data" / "no-such-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(ROOT / "tests" / "data" / "no-such-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint is not None:
        environment["AWS_ENDPOINT_URL"] = endpoint
    for name, value in (overrides or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def run_cli(
    *argv: str,
    endpoint: str | None,
    env: Mapping[str, str | None] | None = None,
    stdin: str | None = None,
) -> CliRun:
    """Run the command line to its end; its exit code, stdout and stderr."""
    completed = subprocess.run(
        [sys.executable, "-m", "connect_lockdown", *argv],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=cli_environment(endpoint, env),
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    return CliRun(completed.returncode, completed.stdout, completed.stderr)


def run_cli_in_terminal(
    *argv: str, endpoint: str | None, env: Mapping[str, str | None] | None = None, answer: str = ""
) -> CliRun:
    """Run it with stdin and stderr on a pseudo-terminal (stdout stays a pipe), as at an operator's prompt:
    `answer` is typed in; stderr is what the terminal showed (progress lines included)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "connect_lockdown", *argv],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=cli_environment(endpoint, env),
        text=True,
    )
    os.close(slave)
    shown: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                return
            if not data:
                return
            shown.append(data)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    if answer:
        os.write(master, answer.encode())
    try:
        stdout, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    finally:
        reader.join(timeout=10)
        os.close(master)
    return CliRun(process.returncode, stdout, b"".join(shown).decode(errors="replace"))
