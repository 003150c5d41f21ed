"""An IAM role whose permissions live in one customer-managed policy.

NIST 800-53 and HIPAA packs reject inline policies (IAMNoInlinePolicy). CDK's
`grant_*` helpers add to a role's inline DefaultPolicy through
`add_to_principal_policy`; overriding it here routes every grant, ours and the
library's, into the managed policy instead, so no acknowledgment is needed.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    """`iam.Role` whose statements (including grants) go to `self.policy`."""

    def __init__(self, scope: Construct, id_: str, *, assumed_by: iam.IPrincipal, description: str) -> None:
        super().__init__(scope, id_, assumed_by=assumed_by, description=description)
        self.policy = iam.ManagedPolicy(self, "Policy", description=f"Permissions of: {description}")
        self.add_managed_policy(self.policy)

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added
