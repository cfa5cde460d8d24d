"""The governance services whose service-linked roles the lock may admit (ADMIT_SERVICE_LINKED_ROLES).

A service-linked role acts for its service but is an IAM role: `aws:PrincipalIsAWSService` is false for it and it
carries no `aws:PrincipalServiceName` (IAM User Guide, reference_policies_condition-keys.html), so only its unique
ID in the allowlist lets it through the lock. Each entry is checked against AWS's own pages; README and
docs/interface.md say what each role may do on the bucket.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceLinkedRole:
    service: str  # the name used in ADMIT_SERVICE_LINKED_ROLES
    role_name: str
    service_principal: str  # IAM puts every service-linked role under /aws-service-role/<service principal>/
    purpose: str

    def arn(self, partition: str, account: str) -> str:
        return f"arn:{partition}:iam::{account}:role/aws-service-role/{self.service_principal}/{self.role_name}"


SERVICE_LINKED_ROLES: dict[str, ServiceLinkedRole] = {
    role.service: role
    for role in (
        # AWS Config Developer Guide, using-service-linked-roles.html: role AWSServiceRoleForConfig, trusts
        # config.amazonaws.com, policy AWSConfigServiceRolePolicy (read-only on the resources Config records).
        ServiceLinkedRole("config", "AWSServiceRoleForConfig", "config.amazonaws.com", "AWS Config"),
        # IAM User Guide, access-analyzer-using-service-linked-roles.html and security-iam-awsmanpol.html: role
        # AWSServiceRoleForAccessAnalyzer, policy AccessAnalyzerServiceRolePolicy ("view detailed information about
        # Amazon S3 access points, buckets").
        ServiceLinkedRole(
            "access-analyzer", "AWSServiceRoleForAccessAnalyzer", "access-analyzer.amazonaws.com", "IAM Access Analyzer"
        ),
        # Amazon Macie User Guide, service-linked-roles.html: role AWSServiceRoleForAmazonMacie, trusts
        # macie.amazonaws.com, policy AmazonMacieServiceRolePolicy (bucket and object metadata, and the objects).
        ServiceLinkedRole("macie", "AWSServiceRoleForAmazonMacie", "macie.amazonaws.com", "Amazon Macie"),
    )
}
