"""The update from the released 0.2.0 to this template neither fails nor loses a resource in its cleanup.

devtools/upgrade.py compares the two templates as deployed (devtools/cfn.py, nested stacks included): a logical
ID whose Type changes, and a removed or replaced resource whose explicit name is created again. The released
templates are kept in tests/data/released as they were published.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devtools import cfn, upgrade

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "tests" / "data" / "released"
RELEASED_NESTED = {"nested/slack-channel.yaml": RELEASED / "slack-channel-0.2.0.yaml"}

EMAIL_AND_SLACK = {
    "NotificationEmail": "security@example.com",
    "SlackWorkspaceId": "T0123ABCD",
    "SlackChannelId": "C0123ABCD",
}
LEAN = {"Encryption": "aws-owned", "Alarms": "dead-letters"}
TRAIL, DASHBOARD = {"CreateTrail": "true"}, {"DashboardRegion": "eu-west-1"}
PARAMETER_SETS = {
    "defaults": {},
    "trail": TRAIL,
    "dashboard": DASHBOARD,
    "email and slack": EMAIL_AND_SLACK,
    "lean, every option": LEAN | EMAIL_AND_SLACK | TRAIL | DASHBOARD,
}


def _released(parameters: dict[str, str]) -> cfn.Stack:
    return cfn.Stack(cfn.load(RELEASED / "template-0.2.0.yaml"), parameters, templates=RELEASED_NESTED)


def _current(
    parameters: dict[str, str], template: dict[str, Any] | None = None, templates: dict[str, Path] | None = None
) -> cfn.Stack:
    return cfn.Stack(template or cfn.load(), parameters, templates=templates or {})


@pytest.mark.parametrize("parameters", PARAMETER_SETS.values(), ids=PARAMETER_SETS.keys())
def test_the_update_from_0_2_0_has_no_hazard(parameters: dict[str, str]) -> None:
    assert [str(hazard) for hazard in upgrade.hazards(_released(parameters), _current(parameters))] == []


def test_the_index_table_is_replaced_on_the_update_from_0_2_0() -> None:
    """It gained a name (its resource policy names it): replaced, as the README's "Upgrading from 0.2.0" says."""
    assert upgrade.replaced(_released({}), _current({})) == [("InventoryTable",)]
    with_slack = upgrade.replaced(_released(EMAIL_AND_SLACK), _current(EMAIL_AND_SLACK))
    assert set(with_slack) == {("InventoryTable",), ("SlackChannelStack", "SlackChannel")}


def test_the_renamed_resources_have_their_new_names() -> None:
    everything = TRAIL | DASHBOARD
    names = {path: upgrade.physical_name("eu-west-1", r) for path, r in _current(everything).tree().items()}
    stack = "connect-bucket-lockdown"
    assert names[("DashboardStack", "Dashboard")] == f"{stack}-dashboard-eu-west-1"
    assert names[("TrailStack", "ManagementEventsTrail")] == f"{stack}-trail"
    assert names[("InventoryTable",)] == f"{stack}-inventory"
    alarms = {path[-1]: name for path, name in names.items() if len(path) == 2 and path[0] == "AlarmsStack"}
    assert alarms == {
        "EnforcerErrorsAlarm": f"{stack}-alarm-enforcer-errors",
        "EnforcerThrottlesAlarm": f"{stack}-alarm-enforcer-throttles",
        "DeadLetterQueueAlarm": f"{stack}-alarm-dead-letters",
    }


# --- the check fails on templates built to have each hazard -------------------------------------------------


def _renamed(template: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The template with a logical ID renamed, and every reference to it."""
    renamed: dict[str, Any] = json.loads(json.dumps(template).replace(f'"{old}"', f'"{new}"'))
    return renamed


def test_a_logical_id_that_changes_its_type_is_found() -> None:
    # The dashboard's nested stack under the logical ID of 0.2.0's dashboard.
    template = _renamed(cfn.load(), "DashboardStack", "Dashboard")
    found = upgrade.hazards(_released(DASHBOARD), _current(DASHBOARD, template))
    assert [(h.kind, h.old, h.detail) for h in found] == [
        ("type changed", ("Dashboard",), "AWS::CloudWatch::Dashboard -> AWS::CloudFormation::Stack")
    ]


def test_a_trail_moved_into_a_nested_stack_with_its_name_is_found() -> None:
    template = cfn.load()
    template["Resources"]["TrailStack"]["Properties"]["Parameters"]["TrailName"] = {
        "Fn::Sub": "${AWS::StackName}-management-events"
    }
    found = upgrade.hazards(_released(TRAIL), _current(TRAIL, template))
    assert [(h.kind, h.old, h.new) for h in found] == [
        ("name reused", ("ManagementEventsTrail",), ("TrailStack", "ManagementEventsTrail"))
    ]


def test_alarms_and_a_dashboard_moved_with_their_names_are_found(tmp_path: Path) -> None:
    """Alarms and dashboards are overwritten by the new resource, then deleted by the old one's cleanup."""
    alarms = (ROOT / "nested" / "alarms.yaml").read_text(encoding="utf-8")
    (tmp_path / "alarms.yaml").write_text(alarms.replace("${StackName}-alarm-", "${StackName}-"), encoding="utf-8")
    template = cfn.load()
    dashboard = template["Resources"]["DashboardStack"]["Properties"]["Parameters"]
    dashboard["DashboardName"] = {"Fn::Sub": "${AWS::StackName}-${AWS::Region}"}
    new = _current(DASHBOARD, template, {"nested/alarms.yaml": tmp_path / "alarms.yaml"})
    found = upgrade.hazards(_released(DASHBOARD), new)
    assert {(h.kind, h.old, h.new) for h in found} == {
        ("name reused", ("EnforcerErrorsAlarm",), ("AlarmsStack", "EnforcerErrorsAlarm")),
        ("name reused", ("EnforcerThrottlesAlarm",), ("AlarmsStack", "EnforcerThrottlesAlarm")),
        ("name reused", ("DeadLetterQueueAlarm",), ("AlarmsStack", "DeadLetterQueueAlarm")),
        ("name reused", ("Dashboard",), ("DashboardStack", "Dashboard")),
    }


def test_a_named_table_under_a_new_logical_id_is_found() -> None:
    template = _renamed(cfn.load(), "InventoryTable", "IndexTable")
    found = upgrade.hazards(_current({}), _current({}, template))
    assert [(h.kind, h.old, h.new, h.detail) for h in found] == [
        ("name reused", ("InventoryTable",), ("IndexTable",), "AWS::DynamoDB::Table connect-bucket-lockdown-inventory")
    ]


def test_a_replacement_that_keeps_its_name_is_found() -> None:
    # A new path (createOnly) replaces the role, under the same fixed name.
    template = cfn.load()
    template["Resources"]["EnforcerFunctionRole"]["Properties"]["Path"] = "/lockdown/"
    found = upgrade.hazards(_current({}), _current({}, template))
    assert [(h.kind, h.old, h.new) for h in found] == [
        ("name reused", ("EnforcerFunctionRole",), ("EnforcerFunctionRole",))
    ]
