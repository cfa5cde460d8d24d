"""`make cfn-lint` sees inside the SAM resources: it also lints the template as the SAM transform expands it.

cfn-lint 1.x checks AWS::Serverless::* resources against SAM's schema without running the transform, so a
reference inside a function to a resource that does not exist is not reported on template.yaml as written.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

from devtools import sam

ROOT = Path(__file__).resolve().parents[2]
# The function's wiring to the re-check scheduler's role: a reference inside an AWS::Serverless::Function.
GOOD_REFERENCE = "RECHECK_ROLE_ARN: !GetAtt RecheckSchedulerRole.Arn"
BAD_REFERENCE = "RECHECK_ROLE_ARN: !GetAtt RecheckSchedulerRoleThatIsGone.Arn"


def _lint_transformed(directory: Path) -> list[str]:
    target = directory / "template-sam.json"
    target.write_text(json.dumps(sam.transformed(directory / "template.yaml")), encoding="utf-8")
    config = ManualArgs(regions=["us-east-1"], ignore_checks=["W3002"])
    return [f"{match.rule.id} {match.message}" for match in lint_file(target, config=config)]


@pytest.fixture()
def copy_of_the_templates(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    shutil.copytree(ROOT / "nested", tmp_path / "nested")
    return tmp_path


def test_a_reference_to_a_missing_resource_inside_a_function_fails_the_lint(copy_of_the_templates: Path) -> None:
    # Given the template with one reference inside the enforcer function planted to a resource that does not exist
    template = copy_of_the_templates / "template.yaml"
    text = template.read_text(encoding="utf-8")
    assert text.count(GOOD_REFERENCE) == 1
    template.write_text(text.replace(GOOD_REFERENCE, BAD_REFERENCE), encoding="utf-8")
    # When it is linted as the SAM transform expands it
    findings = _lint_transformed(copy_of_the_templates)
    # Then cfn-lint names the missing resource
    assert any(re.match(r"E1010 'RecheckSchedulerRoleThatIsGone' is not one of", f) for f in findings), findings


def test_the_template_as_transformed_lints_clean(copy_of_the_templates: Path) -> None:
    assert _lint_transformed(copy_of_the_templates) == []


def test_make_cfn_lint_lints_the_transformed_template() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^cfn-lint:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe, "the Makefile has no cfn-lint target"
    lines = recipe.group(1)
    assert "-m devtools.sam template.yaml $(SAM_TRANSFORMED)" in lines
    assert re.search(r"cfn-lint .*-- \$\(SAM_TRANSFORMED\)", lines)
