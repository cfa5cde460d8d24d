"""Cold start: fresh processes import the handler from the built package until ready, against `import boto3` and
the same five clients (the floor); the interpreter's own start-up is left out of the ratio. The package runs with
`PYTHONDONTWRITEBYTECODE=1`, as Lambda's read-only code directories allow no bytecode cache, and a second variant
has every .pyc file removed. Its .pyc files are of Python 3.13: run on that (`make bench BENCH_PYTHON=python3.13`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ENVIRONMENT, log, median, spread

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:connect-lockdown"

FLOOR = """
import time
_started, _cpu = time.perf_counter(), time.process_time()
import boto3
from botocore.config import Config
_imported = time.perf_counter()
_session = boto3.session.Session()
_connect = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=20)
_default = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)
_clients = {}
_marks = {}
for _name, _config in (("s3", _default), ("connect", _connect), ("iam", _default), ("sts", _default), ("sns", _default)):
    _before = time.perf_counter()
    _clients[_name] = _session.client(_name, config=_config)
    _marks[_name] = time.perf_counter() - _before
_ready, _cpu_ready = time.perf_counter(), time.process_time()
import json
print(json.dumps({"seconds": _ready - _started, "cpu": _cpu_ready - _cpu, "import_boto3": _imported - _started,
                  "clients": _marks}))
"""

HANDLER = """
import time
_started, _cpu = time.perf_counter(), time.process_time()
import app
_ready, _cpu_ready = time.perf_counter(), time.process_time()
import json, sys
print(json.dumps({
    "seconds": _ready - _started,
    "cpu": _cpu_ready - _cpu,
    "xray_loaded": any(m == "aws_xray_sdk" or m.startswith("aws_xray_sdk.") for m in sys.modules),
    "app_file": app.__file__,
}))
"""

# The same import, in the order app.py does it, split where the time goes.
BREAKDOWN = """
import time
_marks = [("start", time.perf_counter())]
import boto3
_marks.append(("import boto3", time.perf_counter()))
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
_marks.append(("import aws_lambda_powertools (Logger, Metrics)", time.perf_counter()))
import connect_lockdown.aws, connect_lockdown.config, connect_lockdown.reconcile
_marks.append(("import connect_lockdown (aws, config, reconcile)", time.perf_counter()))
import app
_marks.append(("app module body: Logger, Metrics, Settings, AwsGateway's 5 clients", time.perf_counter()))
import json
print(json.dumps({"stages": [[n, t - p] for (n, t), (_, p) in zip(_marks[1:], _marks[:-1])]}))
"""

EMPTY = """
print('{"seconds": 0}')
"""


def child_environment(python_path: list[Path]) -> dict[str, str]:
    """The benchmark's fake credentials and Powertools settings, and the function's variables."""
    return ENVIRONMENT | {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "NOTIFICATION_TOPIC_ARN": TOPIC_ARN,
        "DRY_RUN": "false",
        "MERGE_MODE": "preserve",
        "PYTHONPATH": os.pathsep.join(str(p) for p in python_path),
        # Lambda's /var/task and /opt are read-only: nothing compiled in one cold start survives to the next.
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def _child(code: str, environment: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=False, cwd="/"
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"cold-start child failed: {completed.stderr[-2000:]}")
    return {**json.loads(completed.stdout.strip().splitlines()[-1]), "process_wall": wall}


def without_bytecode(function_dir: Path, layer_dir: Path, target: Path) -> tuple[Path, Path]:
    """The same package with every .pyc file removed: what a build that ships sources only gives Lambda."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    return shutil.copytree(function_dir, target / "function", ignore=ignore), shutil.copytree(
        layer_dir, target / "layer", ignore=ignore
    )


def usable_bytecode(directory: Path) -> int:
    """How many of the package's modules this interpreter would load from a shipped .pyc file."""
    return sum(1 for source in directory.rglob("*.py") if Path(importlib.util.cache_from_source(str(source))).is_file())


def run(function_dir: Path, layer_dir: Path, work: Path, *, runs: int = 11, detail_runs: int = 5) -> dict[str, Any]:
    as_built = child_environment([function_dir, layer_dir])
    function_sources, layer_sources = without_bytecode(function_dir, layer_dir, work / "sources-only")
    sources_only = child_environment([function_sources, layer_sources])
    from bench.package_size import sizes

    sources_only_layer = sizes(layer_sources, work / "sources-only-layer.zip")
    floor_environment = child_environment([])
    variants: dict[str, tuple[str, dict[str, str]]] = {
        "floor": (FLOOR, floor_environment),
        "handler_as_built": (HANDLER, as_built),
        "handler_sources_only": (HANDLER, sources_only),
    }
    # Where the time goes needs fewer runs than the ratio.
    details: dict[str, tuple[str, dict[str, str]]] = {
        "breakdown_as_built": (BREAKDOWN, as_built),
        "breakdown_sources_only": (BREAKDOWN, sources_only),
        "interpreter": (EMPTY, floor_environment),
    }
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in (*variants, *details)}
    # One discarded round warms the operating system's file cache; then the variants alternate, so that
    # the machine's background load falls on all of them alike.
    for round_number in range(runs + 1):
        if round_number % 5 == 0:
            log(f"cold start: round {round_number}/{runs}")
        chosen = dict(variants)
        if round_number <= detail_runs:
            chosen.update(details)
        for name, (code, environment) in chosen.items():
            sample = _child(code, environment)
            if round_number:
                samples[name].append(sample)

    def seconds(name: str, key: str = "seconds") -> list[float]:
        return [float(sample[key]) for sample in samples[name]]

    def paired(name: str) -> list[float]:
        return [h / f for h, f in zip(seconds(name), seconds("floor"), strict=True)]

    def stages(name: str) -> list[dict[str, Any]]:
        names = [stage for stage, _ in samples[name][0]["stages"]]
        return [
            {"stage": stage, "seconds": median([float(s["stages"][i][1]) for s in samples[name]])}
            for i, stage in enumerate(names)
        ]

    if not Path(samples["handler_as_built"][0]["app_file"]).is_relative_to(function_dir):
        raise RuntimeError(f"the handler was not imported from the built package: {samples['handler_as_built'][0]}")
    floor = median(seconds("floor"))
    client_names = list(samples["floor"][0]["clients"])
    return {
        "runs": runs,
        "floor": spread(seconds("floor")),
        "floor_import_boto3": spread(seconds("floor", "import_boto3")),
        "floor_clients": {name: median([float(s["clients"][name]) for s in samples["floor"]]) for name in client_names},
        "handler_as_built": spread(seconds("handler_as_built")),
        "handler_sources_only": spread(seconds("handler_sources_only")),
        "ratio_as_built": median(seconds("handler_as_built")) / floor,
        # Each round runs the variants back to back: the ratio within a round cancels the load that varies
        # slowly across rounds (the machine is shared), so its median is the steadier estimate.
        "paired_ratio_as_built": spread(paired("handler_as_built")),
        "paired_ratio_sources_only": spread(paired("handler_sources_only")),
        "ratio_sources_only": median(seconds("handler_sources_only")) / floor,
        # Modules of the built package (function and layer) and how many of them load from a shipped .pyc.
        "as_built_modules": sum(1 for d in (function_dir, layer_dir) for _ in d.rglob("*.py")),
        "as_built_usable_pyc": usable_bytecode(function_dir) + usable_bytecode(layer_dir),
        "detail_runs": detail_runs,
        "sources_only_layer_zipped_bytes": sources_only_layer["zipped_bytes"],
        "sources_only_layer_unzipped_bytes": sources_only_layer["unzipped_bytes"],
        "cpu_floor": spread(seconds("floor", "cpu")),
        "cpu_handler_as_built": spread(seconds("handler_as_built", "cpu")),
        "cpu_handler_sources_only": spread(seconds("handler_sources_only", "cpu")),
        "cpu_ratio_as_built": median(seconds("handler_as_built", "cpu")) / median(seconds("floor", "cpu")),
        "cpu_ratio_sources_only": median(seconds("handler_sources_only", "cpu")) / median(seconds("floor", "cpu")),
        "breakdown_as_built": stages("breakdown_as_built"),
        "breakdown_sources_only": stages("breakdown_sources_only"),
        "interpreter_wall": spread(seconds("interpreter", "process_wall")),
        "floor_process_wall": spread(seconds("floor", "process_wall")),
        "handler_process_wall": spread(seconds("handler_as_built", "process_wall")),
        "xray_loaded": any(bool(s["xray_loaded"]) for s in samples["handler_as_built"]),
    }
