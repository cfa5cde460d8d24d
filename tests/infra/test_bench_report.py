"""docs/benchmarks.md as `make bench` renders it from bench/results/latest.json: complete, and portable.

Every figure of the page is generated between `<!-- bench:NAME -->` markers. A rendering bug once left a
Python expression in braces on the page, and the page once showed the interpreter by its absolute path on
the machine that measured it. These tests render the committed results into a copy of the page.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench import report

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "latest.json"
DOCUMENT = ROOT / "docs" / "benchmarks.md"

# Anything in braces: an f-string expression that was not rendered (`{_ratio(cold, ...)}`, `{m['python']}`).
PLACEHOLDER = re.compile(r"\{[^{}\n]*\}")
# An absolute path: a POSIX one after a space, a bracket, a quote or a backtick (not a URL's path, not
# `ratio 1/2`), or a Windows drive.
ABSOLUTE_PATH = re.compile(r"(?:^|[\s(`'\"])/[A-Za-z0-9_.-]+/|\b[A-Za-z]:\\")


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def rendered(results: dict[str, Any], tmp_path: Path) -> str:
    document = tmp_path / "benchmarks.md"
    shutil.copy(DOCUMENT, document)
    missing = report.render(results, document)
    assert missing == [], f"docs/benchmarks.md lacks the markers of: {missing}"
    return document.read_text(encoding="utf-8")


def generated_blocks(text: str) -> dict[str, str]:
    return dict(re.findall(r"<!-- bench:([a-z-]+) -->\n(.*?)<!-- /bench:\1 -->", text, flags=re.DOTALL))


def test_every_block_is_rendered_from_the_committed_results(rendered: str) -> None:
    assert set(generated_blocks(rendered)) == set(report.BLOCKS)


@pytest.mark.parametrize("name", sorted(report.BLOCKS))
def test_no_placeholder_survives_rendering(results: dict[str, Any], name: str) -> None:
    _, build = report.BLOCKS[name]
    body = build(results)
    assert PLACEHOLDER.findall(body) == []


def test_no_placeholder_survives_in_the_rendered_page(rendered: str) -> None:
    for name, body in generated_blocks(rendered).items():
        assert PLACEHOLDER.findall(body) == [], name


@pytest.mark.parametrize("name", sorted(report.BLOCKS))
def test_no_absolute_path_in_a_rendered_block(results: dict[str, Any], name: str) -> None:
    _, build = report.BLOCKS[name]
    body = build(results)
    assert ABSOLUTE_PATH.findall(body) == []
    assert str(ROOT) not in body


def test_no_absolute_path_in_the_committed_results() -> None:
    text = RESULTS.read_text(encoding="utf-8")
    assert re.findall(r'"/[^"]*"', text) == []
    assert str(ROOT) not in text


def test_an_absolute_interpreter_path_is_shown_by_its_name_only(results: dict[str, Any]) -> None:
    machine = dict(
        results["machine"], python="3.13.0", python_executable="/" + "/".join(["opt", "py", "bin", "python"])
    )
    assert report.interpreter(machine) == "3.13.0 (`python`)"
    machine["python_executable"] = ".venv/bench/bin/python"
    assert report.interpreter(machine) == "3.13.0 (`.venv/bench/bin/python`)"


def test_the_committed_page_matches_the_committed_results(rendered: str) -> None:
    """The figures on the page are the ones in latest.json: `make bench BENCH_ARGS=--render` changes nothing."""
    committed = generated_blocks(DOCUMENT.read_text(encoding="utf-8"))
    for name, body in generated_blocks(rendered).items():
        assert committed[name] == body, (
            f"the {name} block of docs/benchmarks.md is stale; run make bench BENCH_ARGS=--render"
        )
