"""Package size: the built function and layer, zipped as they are uploaded, and proof that boto3 is not in them.

`sam build` runs on a copy of the project in a temporary directory (never in the work tree). Without the SAM
CLI, the build is reproduced with pip the way SAM's python3.13 builder lays it out (the layer's
requirements.txt installed into python/ next to the package, the function directory as it is); the results
say which one ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, log

# What sam build reads: the template and the two code directories.
SOURCES = ("template.yaml", "functions", "layers")
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")


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
    return shutil.which(candidate)


def _sam_build(project: Path, sam: str) -> tuple[Path, Path]:
    # SAM's python3.13 builder needs a python3.13 on PATH: this interpreter's directory has one if it is 3.13.
    environment = dict(os.environ)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")])
    environment["SAM_CLI_TELEMETRY"] = "0"
    completed = subprocess.run(
        [sam, "build", "--template-file", "template.yaml"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"sam build failed: {completed.stdout[-1500:]}{completed.stderr[-1500:]}")
    build = project / ".aws-sam" / "build"
    return build / "EnforcerFunction", build / "LockdownLayer"


def _pip_build(project: Path) -> tuple[Path, Path]:
    build = project / "pip-build"
    function_dir, layer_dir = build / "EnforcerFunction", build / "LockdownLayer"
    shutil.copytree(project / "functions" / "enforcer", function_dir)
    python = layer_dir / "python"
    python.mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(python),
            "-r",
            str(project / "layers" / "lockdown" / "requirements.txt"),
        ],
        check=True,
    )
    shutil.copytree(project / "layers" / "lockdown" / "connect_lockdown", python / "connect_lockdown")
    return function_dir, layer_dir


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
        "runtime_provided_found": sorted(
            {name for name in RUNTIME_PROVIDED for p in files if name in p.relative_to(directory).parts}
        ),
    }


def run(work: Path) -> dict[str, Any]:
    """Build into `work`; return the sizes and the two built directories (the cold-start benchmark uses them)."""
    project = work / "project"
    project.mkdir(parents=True)
    _copy_sources(project)
    sam = _find_sam()
    method = "sam build"
    if sam is not None:
        log(f"package: {sam} build in {project}")
        try:
            function_dir, layer_dir = _sam_build(project, sam)
            version = subprocess.run([sam, "--version"], capture_output=True, text=True, check=False).stdout.strip()
            method = f"sam build ({version})"
        except RuntimeError as error:
            log(f"package: {error}; falling back to pip")
            sam = None
    if sam is None:
        log("package: no usable SAM CLI (set SAM=/path/to/sam); laying the build out with pip instead")
        function_dir, layer_dir = _pip_build(project)
        method = "pip install --target (SAM CLI not found)"
    function = sizes(function_dir, work / "function.zip")
    layer = sizes(layer_dir, work / "layer.zip")
    return {
        "method": method,
        "function": function,
        "layer": layer,
        "total_zipped_bytes": function["zipped_bytes"] + layer["zipped_bytes"],
        "total_unzipped_bytes": function["unzipped_bytes"] + layer["unzipped_bytes"],
        "function_dir": str(function_dir),
        "layer_dir": str(layer_dir),
    }
