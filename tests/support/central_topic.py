"""The central alert topic of docs/organizations.md, as the guide gives it: its template and its policies.

The guide holds the template in its one ```yaml block, which readers save as central-topic.yaml; the tests read
that block rather than a copy, so the policy that is proven is the one people deploy. Intrinsic functions are
resolved for a given organization, account and topic: only the ones the template uses (Ref, Fn::Sub, Fn::GetAtt
of the key's Arn).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ORGANIZATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "organizations.md"
TOPIC_NAME = "connect-lockdown-alerts"


def template_text() -> str:
    [block] = re.findall(r"^```yaml\n(.*?)^```$", ORGANIZATIONS_DOC.read_text(encoding="utf-8"), re.M | re.S)
    return str(block)


def template() -> dict[str, Any]:
    loaded = cfn_yaml.loads(template_text())
    return dict(loaded)


def resolve(value: Any, names: dict[str, str]) -> Any:
    """`value` with Ref, Fn::Sub and Fn::GetAtt replaced from `names` (logical ids, parameters, AWS:: names)."""
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return names[value["Ref"]]
    if set(value) == {"Fn::Sub"}:
        return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
    if set(value) == {"Fn::GetAtt"}:
        return names[".".join(value["Fn::GetAtt"])]
    return {str(k): resolve(v, names) for k, v in value.items()}


def names_for(
    *, organization_id: str, account: str, region: str, topic_arn: str, partition: str = "aws"
) -> dict[str, str]:
    key_arn = f"arn:{partition}:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000000"
    return {
        "OrganizationId": organization_id,
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": partition,
        "AlertTopic": topic_arn,
        "AlertKey": key_arn,
        "AlertKey.Arn": key_arn,
    }


def topic_policy(*, organization_id: str, account: str, region: str, topic_arn: str) -> dict[str, Any]:
    """The AlertTopicPolicy's document, resolved for this organization and topic."""
    names = names_for(organization_id=organization_id, account=account, region=region, topic_arn=topic_arn)
    document = template()["Resources"]["AlertTopicPolicy"]["Properties"]["PolicyDocument"]
    resolved: dict[str, Any] = resolve(document, names)
    return resolved
