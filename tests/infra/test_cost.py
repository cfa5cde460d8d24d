"""docs/cost.md: every figure is rendered from bench/prices.json, the bench's results and the template, and adds up."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bench import cost

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prices() -> dict[str, Any]:
    return cost.load_prices()


@pytest.fixture(scope="module")
def generated(prices: dict[str, Any]) -> dict[str, str]:
    return cost.blocks(cost.load_results(), prices)


@pytest.fixture(scope="module")
def document() -> str:
    return cost.DOCUMENT.read_text(encoding="utf-8")


def _money(text: str) -> tuple[float, float]:
    """A rendered amount as the interval it stands for (rounding, or "< $0.0001")."""
    text = text.strip("* ")
    if text.startswith("< $"):
        return 0.0, float(text[3:])
    value = float(text.lstrip("$").replace(",", ""))
    decimals = len(text.split(".")[1]) if "." in text else 0
    half = 0.5 * 10**-decimals
    return value - half, value + half


def _rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]


def test_the_document_is_rendered_from_the_current_inputs(document: str, generated: dict[str, str]) -> None:
    """`make cost` was run after the last change to the prices, the bench results or the template."""
    assert cost.render(document, generated) == document, "docs/cost.md is stale: run make cost"


def test_no_block_is_left_unrendered(document: str, generated: dict[str, str]) -> None:
    blocks = {m.group("name"): m.group("body") for m in cost.MARKER.finditer(document)}
    assert set(blocks) == set(generated)
    for name, body in blocks.items():
        assert body.strip(), f"block {name} is empty"
    for placeholder in ("{{", "}}", "TODO", "TBD", "nan", "inf"):
        assert not re.search(rf"(?<![\w]){re.escape(placeholder)}(?![\w])", document), placeholder


@pytest.mark.parametrize("scenario", list(cost.SCENARIOS))
def test_each_regions_items_add_up_to_its_total(generated: dict[str, str], scenario: str) -> None:
    rows = _rows(generated[f"region-{scenario}"])
    *items, total = rows
    assert total[0] == "**total**"
    for column in (4, 5):  # default, lean
        low = sum(_money(row[column])[0] for row in items)
        high = sum(_money(row[column])[1] for row in items)
        shown_low, shown_high = _money(total[column])
        assert low <= shown_high and shown_low <= high, (scenario, column, low, high, total[column])


@pytest.mark.parametrize("scenario", list(cost.SCENARIOS))
@pytest.mark.parametrize("profile", list(cost.PROFILES))
def test_the_model_total_is_the_sum_of_count_times_price(prices: dict[str, Any], scenario: str, profile: str) -> None:
    measured = cost.Measured.from_results(cost.load_results())
    lines = cost.lines(scenario, profile, measured)
    expected = sum(line.count * prices["prices"][line.price_key]["price"] for line in lines)
    assert cost.total(lines, prices) == pytest.approx(expected)
    assert all(line.count >= 0 for line in lines)


def test_the_fleet_is_its_regions_times_the_accounts(generated: dict[str, str]) -> None:
    accounts = cost.assumption("fleet_accounts")
    busy_regions = cost.assumption("fleet_regions_with_connect")
    idle_regions = cost.assumption("fleet_regions") - busy_regions
    for row in _rows(generated["fleet"]):
        busy, idle, fleet = (_money(cell) for cell in row[1:4])
        low = accounts * (busy_regions * busy[0] + idle_regions * idle[0])
        high = accounts * (busy_regions * busy[1] + idle_regions * idle[1])
        assert low <= fleet[1] and fleet[0] <= high, row


def test_the_profiles_differ_only_where_the_template_says(generated: dict[str, str]) -> None:
    """The lean profile's fixed items are counted on the template: no key, one alarm."""
    rows = {row[0]: row for row in _rows(generated["region-idle"])}
    assert rows["KMS customer managed keys"][1] == "1 / 0"
    assert rows["CloudWatch alarms"][1] == "3 / 1"


def test_every_price_says_when_and_where_it_was_read(prices: dict[str, Any]) -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", prices["read_on"])
    for key, entry in prices["prices"].items():
        assert isinstance(entry["price"], int | float) and entry["price"] >= 0, key
        assert entry["sources"] and all(url.startswith("https://") for url in entry["sources"]), key
        assert isinstance(entry["confirmed"], bool), key
        assert entry["unit"], key
    used = {
        line.price_key
        for scenario in cost.SCENARIOS
        for line in cost.lines(scenario, "default", cost.Measured.from_results(cost.load_results()))
    }
    assert used <= set(prices["prices"])
    # One place: no other file carries a price.
    assert json.loads((ROOT / "bench" / "prices.json").read_text()) == prices


def _amounts(text: str) -> list[tuple[float, float]]:
    """Each dollar amount in the text, with half a unit of its last digit (what rounding may have moved)."""
    found = []
    for match in re.findall(r"\$(\d[\d,]*(?:\.\d+)?)", text):
        decimals = len(match.split(".")[1]) if "." in match else 0
        found.append((float(match.replace(",", "")), 0.5 * 10**-decimals))
    return found


def test_the_readmes_profile_figures_are_the_models(document: str) -> None:
    """The README's "Which profile?" quotes docs/cost.md: each amount there is one of the model's, rounded."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Which profile?")
    section = readme[start : readme.index("\n## ", start + 1)]
    modelled = [value for value, _ in _amounts(document)]
    quoted = _amounts(section)
    assert quoted
    for amount, rounding in quoted:
        assert any(abs(amount - value) <= rounding + 1e-9 for value in modelled), amount
