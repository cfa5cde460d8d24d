"""samconfig.toml's environments never collide: one stack per account and Region owns the fixed role name."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROLE_NAME = "connect-lockdown-enforcer"


def _overrides(section: dict[str, Any]) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in section.get("parameter_overrides", []))
    return {name: value.strip('"') for name, value in pairs}


def test_each_stack_of_samconfig_has_its_own_enforcer_role_name() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    roles: dict[str, set[str]] = {}
    for environment in config.values():
        if not isinstance(environment, dict):
            continue
        for command in ("deploy", "sync"):
            section = environment.get(command, {}).get("parameters")
            if section is None:
                continue
            role = _overrides(section).get("EnforcerRoleName", DEFAULT_ROLE_NAME)
            roles.setdefault(role, set()).add(section["stack_name"])
    clashes = {role: stacks for role, stacks in roles.items() if len(stacks) > 1}
    assert not clashes, f"two stacks would create the same role in one account and Region: {clashes}"


def test_the_default_role_name_is_the_templates() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
    assert template["Parameters"]["EnforcerRoleName"]["Default"] == DEFAULT_ROLE_NAME
