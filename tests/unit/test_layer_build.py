"""The layer ships pinned boto3/botocore and bytecode: layers/lockdown/Makefile, as `sam build` runs it.

The real build downloads the requirements for the arm64 runtime (`make build`); here the same target runs
offline, with this interpreter and no requirements, to check what it does with the package itself.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import marshal
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "lockdown"
MAKE = shutil.which("make")
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def test_the_layer_pins_boto3_and_botocore() -> None:
    pinned = pins(LAYER / "requirements.txt")
    assert {"boto3", "botocore", "aws-lambda-powertools"} <= set(pinned)


def test_the_tests_run_on_the_sdk_the_layer_ships() -> None:
    dev = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert re.search(r"^-r layers/lockdown/requirements\.txt$", dev, flags=re.MULTILINE)
    assert not {"boto3", "botocore"} & set(pins(ROOT / "requirements-dev.txt")), "one pin, in the layer's file"
    pinned = pins(LAYER / "requirements.txt")
    for name in ("boto3", "botocore"):
        assert importlib.metadata.version(name) == pinned[name]


def run_build(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    if MAKE is None:
        pytest.skip("make is not installed")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("", encoding="utf-8")
    settings = {
        "ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "LAYER_PYTHON": sys.executable,
        "LAYER_PYTHON_VERSION": VERSION,
        "LAYER_REQUIREMENTS": str(requirements),
        **variables,
    }
    work = tmp_path / "scratch"  # sam build runs make in a scratch directory, not in layers/lockdown
    work.mkdir()
    return subprocess.run(
        [MAKE, "--no-print-directory", "--makefile", str(LAYER / "Makefile"), "build-LockdownLayer"],
        cwd=work,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), **settings},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_build_ships_the_package_as_unchecked_hash_bytecode(tmp_path: Path) -> None:
    completed = run_build(tmp_path)
    assert completed.returncode == 0, completed.stderr
    package = tmp_path / "artifacts" / "python" / "connect_lockdown"
    sources = sorted(package.glob("*.py"))
    assert {p.name for p in sources} == {p.name for p in (LAYER / "connect_lockdown").glob("*.py")}
    tag = sys.implementation.cache_tag
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        assert compiled.is_file(), f"{source.name} has no {tag} bytecode"
        header = compiled.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        assert flags == 0b01, f"{compiled.name} is not an unchecked-hash .pyc (flags {flags:#04b})"
        # Valid without the source's timestamp, which the layer's zip does not keep: it names the source's hash.
        assert header[8:16] == importlib.util.source_hash(source.read_bytes())
    stale = [p.name for p in package.rglob("*.pyc") if tag not in p.name]
    assert stale == [], "caches of other interpreters were copied"


def test_the_bytecode_names_its_sources_where_lambda_puts_them(tmp_path: Path) -> None:
    assert run_build(tmp_path).returncode == 0
    compiled = Path(
        importlib.util.cache_from_source(str(tmp_path / "artifacts" / "python" / "connect_lockdown" / "events.py"))
    )
    code = marshal.loads(compiled.read_bytes()[16:])
    assert code.co_filename == "/opt/python/connect_lockdown/events.py"


def test_the_same_sources_give_the_same_bytes_wherever_they_are_built(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "elsewhere"
    first.mkdir()
    second.mkdir()
    assert run_build(first).returncode == 0
    assert run_build(second).returncode == 0

    def contents(base: Path) -> dict[str, bytes]:
        root = base / "artifacts" / "python"
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert contents(first) == contents(second)


def test_bytecode_for_another_python_is_refused_with_what_to_do(tmp_path: Path) -> None:
    completed = run_build(tmp_path, LAYER_PYTHON_VERSION="3.99")
    assert completed.returncode != 0
    assert "Python 3.99" in completed.stderr and "LAYER_PYTHON" in completed.stderr
    assert not (tmp_path / "artifacts" / "python").exists()
