"""The wheel a user installs with `pip install .` works on its own, not only the editable install of `make`.

The wheel is built from the source tree and installed, without its dependencies, into a new virtualenv that
borrows boto3 and Powertools from the development virtualenv through a path entry (no download). A path entry
adds a folder to `sys.path` without running that folder's `.pth` files, so the editable install of the
development virtualenv stays invisible: every import the test makes comes from the wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "lockdown" / "connect_lockdown"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy of what the wheel is made of: setuptools keeps a build/ folder in the tree it builds,
    # and an earlier build's files there would hide a module the configuration leaves out.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        PACKAGE, source / "layers" / "lockdown" / "connect_lockdown", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (built,) = out.glob("connect_bucket_lockdown-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv holding the wheel; returns its bin folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "dev-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    return env_dir / "bin"


def run(command: list[str | Path]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd="/", timeout=120)


def test_the_wheel_holds_every_module_of_the_package(wheel: Path) -> None:
    # Given the package's source files
    sources = {f"connect_lockdown/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*.py")}
    # When the wheel is built
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.endswith(".py")}
    # Then none is left out
    assert sources - shipped == set()


def test_the_installed_command_line_shows_its_help(installed: Path) -> None:
    completed = run([installed / "connect-lockdown", "--help"])
    assert completed.returncode == 0, completed.stderr
    assert "usage: connect-lockdown" in completed.stdout
    for command in ("audit", "plan", "apply", "guardrail"):
        assert command in completed.stdout


def test_every_module_imports_from_the_wheel(installed: Path) -> None:
    # Each module (but `__main__`, which runs the command line), imported from the wheel alone: a subpackage left out fails here, whichever command uses it.
    code = (
        "import importlib, pkgutil, connect_lockdown as p\n"
        "assert '/site-packages/' in p.__file__, p.__file__\n"
        "for m in pkgutil.walk_packages(p.__path__, 'connect_lockdown.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
    )
    completed = run([installed / "python", "-c", code])
    assert completed.returncode == 0, completed.stderr


def test_the_version_is_the_changelogs_newest(installed: Path) -> None:
    completed = run([installed / "connect-lockdown", "--version"])
    assert completed.returncode == 0, completed.stderr
    newest = re.search(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert newest is not None
    assert completed.stdout.split() == ["connect-lockdown", newest.group(1)]
