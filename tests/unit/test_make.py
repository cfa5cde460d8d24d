"""`make build` and `make deploy` without the AWS SAM CLI say exactly what to do, and fail."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def run_make(target: str, tmp_path: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    # Only the directories of make and the shell: no sam there, and a virtualenv that has none either.
    path = os.pathsep.join(dict.fromkeys([str(Path(MAKE).parent), "/usr/bin", "/bin"]))
    if shutil.which("sam", path=path):
        pytest.skip("a sam is installed system-wide on this machine")
    return subprocess.run(
        [MAKE, "--no-print-directory", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}", *variables],
        env={"PATH": path, "HOME": str(tmp_path), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("target", ["build", "deploy"])
def test_without_the_sam_cli_the_target_says_to_run_make_sam(target: str, tmp_path: Path) -> None:
    completed = run_make(target, tmp_path)
    assert completed.returncode != 0
    assert "the AWS SAM CLI is not installed" in completed.stderr
    assert "make sam" in completed.stderr
    assert f"make {target}" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == "", "nothing else ran"


def test_a_sam_that_does_not_exist_is_refused_the_same_way(tmp_path: Path) -> None:
    completed = run_make("build", tmp_path, f"SAM={tmp_path / 'nowhere' / 'sam'}")
    assert completed.returncode != 0
    assert "make sam" in completed.stderr
