"""Package size: the built function and layer, zipped as they are uploaded, and the SDK the layer ships. `sam build`
runs on a copy of the project (without the SAM CLI, the layer's own Makefile target, as `sam build` runs it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, log

# What sam build reads: the template, its nested templates and the two code directories.
SOURCES = ("template.yaml", "nested", "functions", "layers")
# The SDK the layer ships rather than taking the Lambda runtime's.
SDK = ("boto3", "botocore", "s3transfer")
LAYER_REQUIREMENTS = ROOT / "layers" / "lockdown" / "requirements.txt"


def _copy_sources(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


def _find_sam() -> str | None:
    candidate = os.environ.get("SAM") or "sam"
    found = shutil.which(candidate)
    # sam build runs in another directory: a relative path must not change meaning there.
    return os.path.abspath(found) if found else None


def _run(what: str, command: list[str], cwd: Path, environment: dict[str, str] | None = None) -> None:
    completed = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{what} failed: {completed.stdout[-1500:]}{completed.stderr[-1500:]}")


def _sam_build(project: Path, sam: str) -> tuple[Path, Path]:
    # SAM's python3.13 builder and the layer's Makefile need a python3.13 on PATH: this interpreter's directory
    # has one if it is 3.13 (make bench BENCH_PYTHON=python3.13).
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    environment = {**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0"}
    _run("sam build", [sam, "build", "--template-file", "template.yaml"], project, environment)
    build = project / ".aws-sam" / "build"
    return build / "EnforcerFunction", build / "LockdownLayer"


def _make_build(project: Path) -> tuple[Path, Path]:
    """The layer's own Makefile target, run as `sam build` runs it, with this interpreter."""
    build = project / "make-build"
    function_dir, layer_dir, scratch = build / "EnforcerFunction", build / "LockdownLayer", build / "scratch"
    shutil.copytree(project / "functions" / "enforcer", function_dir)
    shutil.copytree(project / "layers" / "lockdown", scratch)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    command = ["make", "--no-print-directory", "--makefile", str(scratch / "Makefile"), "build-LockdownLayer"]
    command += [f"ARTIFACTS_DIR={layer_dir}", f"LAYER_PYTHON={sys.executable}", f"LAYER_PYTHON_VERSION={version}"]
    _run("the layer's Makefile", command, scratch)
    return function_dir, layer_dir


def pins(requirements: Path = LAYER_REQUIREMENTS) -> dict[str, str]:
    """name -> version of every `name==version` line."""
    found: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#;]+)", line.strip())
        if match:
            found[_canonical(match.group(1))] = match.group(2)
    return found


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sizes(directory: Path, archive: Path) -> dict[str, Any]:
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in files:
            zipped.write(path, path.relative_to(directory))
    top: dict[str, int] = {}
    base = directory / "python" if (directory / "python").is_dir() else directory
    for path in files:
        relative = path.relative_to(base) if path.is_relative_to(base) else path.relative_to(directory)
        head = relative.parts[0]
        if head.endswith((".dist-info", ".data")):
            head = "*.dist-info, *.data"
        top[head] = top.get(head, 0) + path.stat().st_size
    return {
        "files": len(files),
        "unzipped_bytes": sum(p.stat().st_size for p in files),
        "zipped_bytes": archive.stat().st_size,
        "pyc_files": sum(1 for p in files if p.suffix == ".pyc"),
        "largest": sorted(top.items(), key=lambda item: -item[1])[:8],
        # The installed distributions, from their .dist-info directories: name -> version.
        "distributions": {
            _canonical(name): version
            for name, version in (
                p.name.removesuffix(".dist-info").rsplit("-", 1)
                for p in sorted(base.glob("*.dist-info"))
                if "-" in p.name
            )
        },
    }


def run(work: Path) -> dict[str, Any]:
    """Build into `work`; return the sizes and the two built directories (the cold-start benchmark uses them)."""
    project = work / "project"
    project.mkdir(parents=True)
    _copy_sources(project)
    sam, method = _find_sam(), ""
    if sam is not None:
        log(f"package: {sam} build in {project}")
        try:
            function_dir, layer_dir = _sam_build(project, sam)
            version = subprocess.run([sam, "--version"], capture_output=True, text=True, check=False).stdout.strip()
            method = f"sam build ({version})"
        except RuntimeError as error:
            log(f"package: {error}")
    if not method:
        log("package: no usable SAM CLI (set SAM=/path/to/sam); running the layer's Makefile instead")
        function_dir, layer_dir = _make_build(project)
        python = f"{sys.version_info.major}.{sys.version_info.minor}"
        method = f"the layer's Makefile with Python {python} (SAM CLI not found)"
    function = sizes(function_dir, work / "function.zip")
    layer = sizes(layer_dir, work / "layer.zip")
    pinned = pins()
    return {
        "method": method,
        "function": function,
        "layer": layer,
        "sdk_pinned": {name: pinned.get(name) for name in SDK},
        "sdk_shipped": {name: layer["distributions"].get(name) for name in SDK},
        "sdk_in_function": sorted(name for name in SDK if name in function["distributions"]),
        "total_zipped_bytes": function["zipped_bytes"] + layer["zipped_bytes"],
        "total_unzipped_bytes": function["unzipped_bytes"] + layer["unzipped_bytes"],
        "function_dir": str(function_dir),
        "layer_dir": str(layer_dir),
    }
