"""Would updating a stack from a released template to another fail? The two hazards of a CloudFormation update.

CloudFormation creates new and replacement resources first and deletes removed and replaced ones last (cleanup).

- A logical ID whose Type changes is refused: "Update of resource type is not permitted".
- A resource removed or replaced whose explicit physical name (AlarmName, TrailName, ...) is created again, under
  another logical ID or in a nested stack, clashes ("already exists"), or, for types whose create overwrites
  (alarms, dashboards), is deleted by the cleanup of the old one.

Both templates are evaluated with devtools/cfn.py's Stack (same stack name, Region and parameter values), their
local nested stacks included; a resource is known by its path of logical IDs. One that keeps its path and Type is
replaced when a property its resource schema (cfn-lint's copy) marks createOnly, or its name, changes. The
resources the SAM transform generates are not seen: none of them has an explicit name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from cfnlint.schema.manager import ResourceNotFoundError

from devtools.cfn import Stack

# Properties that give a resource its physical name, for types whose schema identifies them otherwise.
NAME_PROPERTIES: tuple[str, ...] = ("AlarmName", "DashboardName", "TrailName", "TableName", "TopicName", "QueueName")
NAME_PROPERTIES += ("RoleName", "FunctionName", "LogGroupName", "AliasName", "BucketName", "ConfigurationName", "Name")

Path = tuple[str, ...]


@dataclass(frozen=True)
class Hazard:
    kind: str  # "type changed" or "name reused"
    old: Path
    new: Path
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {'/'.join(self.old)} -> {'/'.join(self.new)}: {self.detail}"


@cache
def _schema(region: str, resource_type: str) -> dict[str, Any]:
    try:
        return dict(PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema)
    except ResourceNotFoundError:
        return {}


def _property_paths(pointers: list[str]) -> list[list[str]]:
    """ "/properties/A/B" -> ["A", "B"]; an array's "*" ends the path (the whole array is compared)."""
    paths = []
    for pointer in pointers:
        parts = pointer.split("/")[2:]
        paths.append(parts[: parts.index("*")] if "*" in parts else parts)
    return paths


def _at(properties: dict[str, Any], path: list[str]) -> Any:
    value: Any = properties
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def physical_name(region: str, resource: dict[str, Any]) -> str | None:
    """The explicit name the template gives the resource: its schema's identifier if set, else a name property.
    None when it has none, or when it is another resource's name or ARN (a placeholder such as "<Role>")."""
    properties = resource["Properties"]
    identifier = _property_paths(_schema(region, resource["Type"]).get("primaryIdentifier", []))
    values = [_at(properties, path) for path in identifier]
    if not (values and all(values)):
        values = [next((properties[key] for key in NAME_PROPERTIES if key in properties), None)]
    if all(isinstance(value, str) and "<" not in value for value in values):
        return "/".join(values)
    return None


def _replaced(region: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    schema = _schema(region, new["Type"])
    paths = _property_paths(schema.get("createOnlyProperties", [])) + [[key] for key in NAME_PROPERTIES]
    return any(_at(old["Properties"], path) != _at(new["Properties"], path) for path in paths)


def replaced(old: Stack, new: Stack) -> list[Path]:
    """The resources the update replaces: same path and Type, a createOnly property or the name changed."""
    return _replaced_paths(new.region, old.tree(), new.tree())


def _replaced_paths(region: str, before: dict[Path, dict[str, Any]], after: dict[Path, dict[str, Any]]) -> list[Path]:
    return [
        path
        for path, resource in before.items()
        if path in after
        and after[path]["Type"] == resource["Type"] != "AWS::CloudFormation::Stack"
        and _replaced(region, resource, after[path])
    ]


def hazards(old: Stack, new: Stack) -> list[Hazard]:
    """What makes the update from `old` to `new` fail, or lose a resource in its cleanup."""
    before, after = old.tree(), new.tree()
    found = [
        Hazard("type changed", path, path, f"{resource['Type']} -> {after[path]['Type']}")
        for path, resource in before.items()
        if path in after and after[path]["Type"] != resource["Type"]
    ]
    gone = [path for path in before if path not in after] + _replaced_paths(new.region, before, after)
    names = {(r["Type"], physical_name(new.region, r)): path for path, r in after.items()}
    for path in gone:
        name = physical_name(old.region, before[path])
        if name is not None and (before[path]["Type"], name) in names:
            again = names[(before[path]["Type"], name)]
            found.append(Hazard("name reused", path, again, f"{before[path]['Type']} {name}"))
    return found
