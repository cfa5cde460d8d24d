"""The test groups keep their promise: tests/unit is pure (no moto, no AWS), so `make unit` needs neither.

What needs moto in-process is a component test (tests/component); over HTTP, an integration test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "tests" / "unit"
# What only the other groups may use: moto itself, and the support modules that start or extend it.
MOTO = re.compile(r"\b(mock_aws|ThreadedMotoServer|import boto3|from moto\b|import moto\b)")


def test_no_unit_test_uses_moto_or_makes_a_client() -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(UNIT.glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if MOTO.search(line)
    ]
    assert found == [], "move these to tests/component:\n" + "\n".join(found)


def test_importing_every_unit_test_imports_no_moto() -> None:
    """The same, through the support modules they import."""
    modules = [f"tests.unit.{path.stem}" for path in sorted(UNIT.glob("test_*.py"))]
    assert len(modules) > 10
    code = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]: importlib.import_module(name)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'moto'}))"
    )
    path = os.pathsep.join(str(ROOT / p) for p in ("layers/lockdown", "functions/enforcer", "."))
    completed = subprocess.run(
        [sys.executable, "-c", code, *modules],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert completed.stdout.strip() == "[]", completed.stdout
