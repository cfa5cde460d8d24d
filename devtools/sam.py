"""A SAM template expanded by the AWS SAM transform into the plain CloudFormation template it deploys as.

cfn-lint 1.x does not run the SAM transform: it merges Globals and checks each AWS::Serverless::* resource
against SAM's schema, so what is inside those resources (a function's environment, its event rules' patterns,
its role) is never checked against the rest of the template: a reference there to a resource that does not
exist passes. `make cfn-lint` therefore also lints the template this module writes, in which the functions, rules,
permissions and asynchronous-invocation settings are ordinary resources. The translator is aws-sam-translator,
the library the SAM CLI and CloudFormation's own transform use; local code paths become placeholder S3 locations,
as `sam package` would upload them.

    python -m devtools.sam TEMPLATE OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser  # type: ignore[import-untyped]
from samtranslator.translator.translator import Translator  # type: ignore[import-untyped]

# The properties of SAM resources that name local paths, which `sam package` replaces with S3 locations.
LOCAL_PATHS = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def transformed(path: Path) -> dict[str, Any]:
    """The template at `path` after the SAM transform (unchanged when it declares no transform)."""
    template: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(path))))
    if "Transform" not in template:
        return template
    for resource in template.get("Resources", {}).values():
        prop = LOCAL_PATHS.get(resource.get("Type", ""))
        properties = resource.get("Properties", {})
        if prop and isinstance(properties.get(prop), str) and not properties[prop].startswith("s3://"):
            properties[prop] = f"s3://placeholder-artifact-bucket/{properties[prop].strip('/')}.zip"
        # Nested templates stay local files, named from wherever the output is written, so cfn-lint reads them.
        url = properties.get("TemplateURL")
        if resource.get("Type") == "AWS::CloudFormation::Stack" and isinstance(url, str) and "://" not in url:
            properties["TemplateURL"] = str((path.parent / url).resolve())
    parameters = {name: p.get("Default", "") for name, p in template.get("Parameters", {}).items()}
    # The Region only fills pseudo parameters the translator resolves itself; nothing calls AWS.
    translator = Translator({}, Parser(), boto_session=boto3.Session(region_name="us-east-1"))
    result: dict[str, Any] = translator.translate(template, parameter_values=parameters)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    Path(argv[1]).write_text(json.dumps(transformed(Path(argv[0])), indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
