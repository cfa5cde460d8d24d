"""`make demo`'s script tells its story and exits 0: one line per SNS alert, the full message only with --verbose."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli_process import cli_environment

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def demo(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), *argv],
        capture_output=True,
        text=True,
        env=cli_environment(None, {"PYTHONPATH": None}),
        timeout=600,
        check=False,
    )


def test_the_demo_tells_its_story_with_one_line_per_alert() -> None:
    completed = demo()
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "The story ran end to end" in completed.stdout
    alerts = [line for line in completed.stdout.splitlines() if line.startswith("    SNS: [connect-lockdown]")]
    assert any("outcome=remediated" in line for line in alerts)
    assert any("outcome=would_remediate" in line for line in alerts)
    assert "SNS message:" not in completed.stdout and '"previous_policy"' not in completed.stdout
    assert not any(line.startswith("{") for line in completed.stdout.splitlines()), "no log lines in the story"
    assert "Traceback" not in completed.stderr


def test_verbose_prints_each_message_in_full() -> None:
    completed = demo("--verbose")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    messages = completed.stdout.count("    SNS message:")
    assert messages == completed.stdout.count("    SNS: [connect-lockdown]") and messages > 0
    assert '"previous_policy"' in completed.stdout
