"""The size budgets a reader relies on: a production module is read in one sitting, a class does one job, the
main template is reviewed in one pass, and the benchmarks stay smaller than what they measure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = sorted((ROOT / "layers" / "lockdown" / "connect_lockdown").rglob("*.py"))
PRODUCTION += sorted((ROOT / "functions").rglob("*.py"))

MODULE_LINES = 300
CLASS_LINES = 200
TEMPLATE_LINES = 900
BENCH_LINES = 2500


def lines_of(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_there_is_production_code_to_measure() -> None:
    assert any(path.name == "reconcile.py" for path in PRODUCTION)
    assert any(path.parent.name == "enforcer" and path.name == "app.py" for path in PRODUCTION)


@pytest.mark.parametrize("path", PRODUCTION, ids=lambda path: str(path.relative_to(ROOT)))
def test_a_production_module_fits_its_budget(path: Path) -> None:
    assert lines_of(path) <= MODULE_LINES


def classes_over_budget(source: str) -> list[tuple[str, int]]:
    classes = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)]
    sizes = [(node.name, (node.end_lineno or node.lineno) - node.lineno + 1) for node in classes]
    return [(name, size) for name, size in sizes if size > CLASS_LINES]


def test_no_production_class_is_over_its_budget() -> None:
    over = {str(p.relative_to(ROOT)): classes_over_budget(p.read_text(encoding="utf-8")) for p in PRODUCTION}
    assert {path: classes for path, classes in over.items() if classes} == {}


def test_a_class_over_the_budget_is_found() -> None:
    body = "\n".join(f"    def m{n}(self) -> None:\n        pass" for n in range(CLASS_LINES // 2))
    assert classes_over_budget(f"class Small:\n    pass\n\nclass Large:\n{body}\n") == [("Large", CLASS_LINES + 1)]


def test_the_main_template_is_under_its_budget() -> None:
    assert lines_of(ROOT / "template.yaml") < TEMPLATE_LINES


def test_the_benchmarks_are_under_their_budget() -> None:
    bench = sorted((ROOT / "bench").rglob("*.py"))
    assert bench
    assert sum(lines_of(path) for path in bench) < BENCH_LINES
