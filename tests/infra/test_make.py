"""`make build` and `make deploy` without the AWS SAM CLI say exactly what to do, and fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


def test_make_sam_with_another_python_installs_again(tmp_path: Path) -> None:
    # Given the SAM CLI installed once with one Python
    first = run_make("sam", tmp_path, "-n", "SAM_PYTHON=python3")
    stamp = next(line for line in first.stdout.splitlines() if line.startswith("touch "))
    (tmp_path / "venv" / "sam").mkdir(parents=True)
    Path(stamp.split(" ", 1)[1]).touch()
    assert "-m venv" not in run_make("sam", tmp_path, "-n", "SAM_PYTHON=python3").stdout
    # When another Python is chosen, then make sam acts on it
    again = run_make("sam", tmp_path, "-n", "SAM_PYTHON=/usr/bin/python3")
    assert "/usr/bin/python3 -m venv" in again.stdout, again.stdout + again.stderr


def test_make_build_puts_layer_python_on_path_as_python3_13(tmp_path: Path) -> None:
    # Given a SAM CLI that records the python3.13 sam build would find, and no python3.13 on PATH
    sam = tmp_path / "sam"
    found = tmp_path / "found"
    sam.write_text(f'#!/bin/sh\nreadlink -f "$(command -v python3.13)" > {found}\necho "$LAYER_PYTHON" >> {found}\n')
    sam.chmod(0o755)
    python = os.path.realpath(sys.executable)
    # When make build is given LAYER_PYTHON
    completed = run_make("build", tmp_path, f"SAM={sam}", f"LAYER_PYTHON={python}")
    # Then sam build finds it as python3.13, and the layer's Makefile builds with it
    assert completed.returncode == 0, completed.stderr
    assert found.read_text().splitlines() == [python, "python3.13"]
