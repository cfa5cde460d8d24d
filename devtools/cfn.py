"""template.yaml as CloudFormation would deploy it for given parameter values: conditions, intrinsics, resources.

A small evaluator, enough for this project's template: it evaluates Conditions (Fn::Equals, Fn::Not, Fn::And,
Fn::Or, Condition) on parameter values (defaults, then overrides; CommaDelimitedList as lists) and the pseudo
parameters, and resolves a value's Ref, Fn::If, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split and
Fn::FindInMap, dropping AWS::NoValue. References to resources resolve through a map the caller gives (for
example the ARN of a topic created on moto), or to a readable placeholder. A nested stack with a local TemplateURL
is evaluated too, with the parameter values its parent passes (`nested`, `tree`), so that `Fn::GetAtt
Stack.Outputs.Name` resolves to its output.

It reads the template with cfn-lint's decoder (short-form tags become their long forms). It is also a command
(see USAGE): `make checkov` scans each profile as deployed, since checkov itself does not evaluate Fn::If.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

from devtools.account import ACCOUNT

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = ROOT / "template.yaml"

NO_VALUE = object()

# The part CloudFormation appends to a nested stack's name (<parent>-<logical ID>-<suffix>); any 13 characters.
NESTED_SUFFIX = "0A1B2C3D4E5F6"

PARTITION_OF = {"cn-": "aws-cn", "us-gov-": "aws-us-gov"}


def load(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    template: dict[str, Any] = cfn_yaml.load(str(path))
    return template


def partition_of(region: str) -> str:
    return next((partition for prefix, partition in PARTITION_OF.items() if region.startswith(prefix)), "aws")


@dataclass
class Stack:
    """One deployment of a template: its parameter values, pseudo parameters and resource references."""

    template: dict[str, Any]
    overrides: Mapping[str, str] = field(default_factory=dict)
    region: str = "eu-west-1"
    account: str = ACCOUNT
    stack_name: str = "connect-bucket-lockdown"
    # Logical ID (Ref) or "LogicalId.Attribute" (Fn::GetAtt) -> value.
    refs: Mapping[str, Any] = field(default_factory=dict)
    # A nested stack's TemplateURL -> its file, where that is not ROOT / TemplateURL (a released version's).
    templates: Mapping[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parameters = self.template.get("Parameters", {})
        unknown = set(self.overrides) - set(parameters)
        if unknown:
            raise KeyError(f"not parameters of the template: {sorted(unknown)}")
        self.parameters: dict[str, Any] = {}
        for name, parameter in parameters.items():
            raw = str(self.overrides.get(name, parameter.get("Default", "")))
            self.parameters[name] = raw.split(",") if parameter["Type"] == "CommaDelimitedList" else raw
        self.pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": partition_of(self.region),
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{partition_of(self.region)}:cloudformation:{self.region}:{self.account}:"
            f"stack/{self.stack_name}/00000000-1111-2222-3333-444444444444",
            "AWS::URLSuffix": "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        self._conditions: dict[str, bool] = {}

    # --- conditions ------------------------------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = self._truth(self.template["Conditions"][name])
        return self._conditions[name]

    def _truth(self, node: Any) -> bool:
        if isinstance(node, dict) and len(node) == 1:
            [(function, arguments)] = node.items()
            if function == "Condition":
                return self.condition(arguments)
            if function == "Fn::Equals":
                left, right = (self.resolve(argument) for argument in arguments)
                return bool(str(left) == str(right))
            if function == "Fn::Not":
                return not self._truth(arguments[0])
            if function == "Fn::And":
                return all(self._truth(argument) for argument in arguments)
            if function == "Fn::Or":
                return any(self._truth(argument) for argument in arguments)
        raise ValueError(f"not a condition: {node!r}")

    def violated_rules(self) -> list[str]:
        """The template Rules whose assertions fail for these parameters (CloudFormation refuses the stack)."""
        violated = []
        for name, rule in self.template.get("Rules", {}).items():
            if "RuleCondition" in rule and not self._truth(rule["RuleCondition"]):
                continue
            if not all(self._truth(assertion["Assert"]) for assertion in rule["Assertions"]):
                violated.append(name)
        return violated

    # --- resources ------------------------------------------------------------------------------------------

    def resources(self) -> dict[str, dict[str, Any]]:
        """The resources this deployment creates, with their properties resolved."""
        created = {}
        for name, resource in self.template["Resources"].items():
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            created[name] = {**resource, "Properties": self.resolve(resource.get("Properties", {}))}
        return created

    def deployed_template(self) -> dict[str, Any]:
        """The template as deployed: only the resources created, every intrinsic resolved, no Conditions.

        References to resources become readable placeholders ("<LogicalId>", "<LogicalId.Attribute>"). What
        `make checkov` scans per profile: checkov does not evaluate Fn::If, so it needs the resolved values.
        """
        deployed: dict[str, Any] = {
            key: self.template[key] for key in ("AWSTemplateFormatVersion", "Transform") if key in self.template
        }
        if "Globals" in self.template:
            deployed["Globals"] = self.resolve(self.template["Globals"])
        resources = {}
        for name, resource in self.resources().items():
            resources[name] = {key: value for key, value in resource.items() if key not in ("Condition", "DependsOn")}
            if "Metadata" in resource:
                resources[name]["Metadata"] = resource["Metadata"]
        deployed["Resources"] = resources
        return deployed

    def nested(self, logical_id: str) -> Stack:
        """The nested stack `logical_id` (AWS::CloudFormation::Stack, a local TemplateURL) as this deployment
        creates it: the parameter values passed, the same Region and account, a nested stack's name."""
        resource = self.template["Resources"][logical_id]
        if resource["Type"] != "AWS::CloudFormation::Stack":
            raise ValueError(f"{logical_id} is a {resource['Type']}, not a nested stack")
        if "Condition" in resource and not self.condition(resource["Condition"]):
            raise KeyError(f"{logical_id} is not created with these parameters")
        properties = self.resolve(resource["Properties"])
        url = properties["TemplateURL"]
        values = {
            name: ",".join(map(str, value)) if isinstance(value, list) else str(value)
            for name, value in properties.get("Parameters", {}).items()
        }
        name = f"{self.stack_name}-{logical_id}-{NESTED_SUFFIX}"
        template = load(Path(self.templates.get(url, ROOT / url)))
        return Stack(template, values, self.region, self.account, name, templates=self.templates)

    def tree(self) -> dict[tuple[str, ...], dict[str, Any]]:
        """Every resource this deployment creates, its nested stacks' included, keyed by the path of logical IDs."""
        created: dict[tuple[str, ...], dict[str, Any]] = {}
        for name, resource in self.resources().items():
            created[(name,)] = resource
            if resource["Type"] == "AWS::CloudFormation::Stack":
                created |= {(name, *path): inner for path, inner in self.nested(name).tree().items()}
        return created

    def types(self) -> dict[str, str]:
        return {name: resource["Type"] for name, resource in self.resources().items()}

    def outputs(self) -> dict[str, Any]:
        return {
            name: self.resolve(output["Value"])
            for name, output in self.template.get("Outputs", {}).items()
            if "Condition" not in output or self.condition(output["Condition"])
        }

    # --- values ---------------------------------------------------------------------------------------------

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if self._known(name):
            return f"<{name}>"
        raise KeyError(f"Ref to an unknown name: {name}")

    def _known(self, name: str) -> bool:
        """A resource of the template, or one the SAM transform generates (named after its SAM resource)."""
        resources = self.template["Resources"]
        return name in resources or any(
            name.startswith(logical_id) and resource["Type"].startswith("AWS::Serverless::")
            for logical_id, resource in resources.items()
        )

    def _getatt(self, name: str, attribute: str) -> Any:
        key = f"{name}.{attribute}"
        if key in self.refs:
            return self.refs[key]
        if not self._known(name):
            raise KeyError(f"Fn::GetAtt on an unknown resource: {name}")
        nested = self.template["Resources"].get(name, {}).get("Type") == "AWS::CloudFormation::Stack"
        if nested and attribute.startswith("Outputs."):
            return self.nested(name).outputs()[attribute.removeprefix("Outputs.")]
        return f"<{key}>"

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and self._known(name.split(".", 1)[0]):
                return str(self._getatt(*name.split(".", 1)))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(key, value)] = node.items()
            if key == "Ref":
                return self._ref(value)
            if key == "Fn::GetAtt":
                name, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self._getatt(name, attribute)
            if key == "Fn::If":
                condition, when_true, when_false = value
                return self.resolve(when_true if self.condition(condition) else when_false)
            if key == "Fn::Sub":
                if isinstance(value, str):
                    return self._sub(value, {})
                text, variables = value
                return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if key == "Fn::Join":
                separator, items = value
                return separator.join(str(item) for item in self.resolve(items))
            if key == "Fn::Select":
                index, items = value
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = value
                return str(self.resolve(text)).split(separator)
            if key == "Fn::FindInMap":
                mapping, top, second = (self.resolve(item) for item in value)
                return self.template["Mappings"][mapping][top][second]
            if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
                return self._truth(node)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}


def with_defaults(template: dict[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """A copy of the template whose parameter defaults are the given values."""
    copy: dict[str, Any] = json.loads(json.dumps(template))
    unknown = set(values) - set(copy["Parameters"])
    if unknown:
        raise KeyError(f"not parameters of the template: {sorted(unknown)}")
    for name, value in values.items():
        copy["Parameters"][name]["Default"] = value
    return copy


USAGE = """usage: python -m devtools.cfn [--deployed] TEMPLATE OUT.json [Name=Value ...]
  writes the template with those parameter defaults, or with --deployed the template as deployed with those
  parameter values (only the resources created, every intrinsic resolved)"""


def main(argv: list[str]) -> int:
    deployed = bool(argv) and argv[0] == "--deployed"
    arguments = argv[1:] if deployed else argv
    if len(arguments) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    source, target, *assignments = arguments
    values = dict(assignment.split("=", 1) for assignment in assignments)
    template = load(Path(source))
    result = Stack(template, values).deployed_template() if deployed else with_defaults(template, values)
    Path(target).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
