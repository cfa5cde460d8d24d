"""`make sandbox`'s script, as a person runs it: it prints the export lines to paste, the command line audits the
estate it serves, and Ctrl-C stops it cleanly (exit 0, no traceback)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from connect_lockdown.cli import exits
from devtools import estate
from tests.support.cli_process import cli_environment, run_cli

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120


def test_the_sandbox_serves_its_estate_and_stops_on_ctrl_c() -> None:
    # Given the sandbox, started as a person starts it
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "sandbox.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_environment(None, {"PYTHONPATH": None}),
    )
    assert process.stdout is not None
    shown: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            shown.append(line)
            if line.startswith("export AWS_REGION="):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(STARTUP_SECONDS), "".join(shown)
        # When the export lines are pasted
        exports = dict(
            pair.split("=", 1)
            for line in shown
            if line.startswith("export ")
            for pair in line.removeprefix("export ").split()
        )
        assert set(exports) == {
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
        }
        env = {**exports, "AWS_DEFAULT_REGION": None}
        run = run_cli(
            "audit", "--json", "--stack-name", estate.STACK_NAME, endpoint=exports["AWS_ENDPOINT_URL"], env=env
        )
        # Then the command line sees the estate: compliant, drifted and unlocked buckets, a pending instance
        assert run.code == exits.EXIT_NOT_COMPLIANT, run.output
        document = run.json()
        states = {b["bucket"]: b["state"] for b in document["buckets"]}
        assert states == {
            estate.COMPLIANT: "compliant",
            estate.DRIFTED: "drifted",
            estate.UNLOCKED: "missing policy",
        }
        assert [p["alias"] for p in document["pending_instances"]] == [estate.PENDING_ALIAS]
        assert document["notes"] == []  # the stack's role was found
        # And the organization's two accounts and the two Regions
        run = run_cli(
            "audit",
            "--json",
            "--organization",
            "--regions",
            f"us-east-1,{estate.OTHER_REGION}",
            endpoint=exports["AWS_ENDPOINT_URL"],
            env=env,
        )
        audits = run.json()["audits"]
        assert run.json()["errors"] == [] and len(audits) == 4
        found = {b["bucket"]: (a["account"], a["region"]) for a in audits for b in a["buckets"]}
        assert found[estate.OTHER_REGION_BUCKET][1] == estate.OTHER_REGION
        assert found[estate.MEMBER_BUCKET][0] != found[estate.COMPLIANT][0]
        assert estate.NOT_CONNECT not in found
    finally:
        # When Ctrl-C is pressed
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        reader.join(timeout=10)
    stderr = process.stderr.read() if process.stderr else ""
    # Then it stops cleanly
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert shown[-1].strip() == "Sandbox stopped."
