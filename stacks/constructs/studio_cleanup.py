"""The custom resource that lets `cdk destroy` delete a Studio domain: it removes
what users created in it (apps, spaces) first, and optionally the domain itself
with its home volume."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from stacks.compliance.nag import acknowledge, finding_id
from stacks.constructs.log_retention import log_retention
from stacks.constructs.python_function import CustomResourceHandler

_WHY_NO_VPC = (
    "Runs once per stack deletion and calls only the SageMaker control plane and CloudFormation's "
    "S3 response URL; outside the VPC it works with imported VPCs that lack endpoints and does "
    "not hold Lambda network interfaces that delay the VPC's deletion."
)
# It would take from the account's unreserved pool, whose minimum is 100 (Lambda,
# "Configuring reserved concurrency"), and may fail a first deploy.
_WHY_NO_RESERVATION = (
    "Invoked only by CloudFormation, once per stack deletion; reserving concurrency "
    "would take from the account's unreserved pool (minimum 100) and can fail the first deploy in new "
    "accounts."
)


def _description(delete_home_efs: bool) -> str:
    return (
        "Deletes Studio apps, spaces, profiles, the domain and its home EFS volume on stack delete"
        if delete_home_efs
        else "Deletes Studio apps and spaces when the domain is deleted"
    )


def _properties(domain: sagemaker.CfnDomain, delete_home_efs: bool, vpc_id: str | None) -> dict:
    """The custom resource's properties: the domain, whether to tear it down, and (if so) its VPC."""
    properties: dict = {"DomainId": domain.attr_domain_id, "DeleteHomeEfsOnDestroy": delete_home_efs}
    if delete_home_efs:
        properties["VpcId"] = vpc_id
    return properties


def _wildcard_reason(delete_home_efs: bool) -> str:
    """Why the role has `Resource: *` statements: the List*/Describe* actions of what it deletes."""
    return (
        "sagemaker:ListApps/ListSpaces/ListUserProfiles, ec2:DescribeSecurityGroups and the "
        "X-Ray PutTraceSegments/PutTelemetryRecords actions support no resource-level permissions; deletes "
        "are limited to this domain's apps, spaces, profiles and itself, and to security groups in "
        "its VPC (ec2:Vpc condition)."
        if delete_home_efs
        else "sagemaker:ListApps/ListSpaces and the X-Ray PutTraceSegments/PutTelemetryRecords actions "
        "support no resource-level permissions; deletes are limited to this domain's apps and spaces."
    )


class StudioCleanup(CustomResourceHandler):
    """Custom resource whose Delete removes the domain's apps and spaces (and waits),
    so that CloudFormation can then delete the user profiles and the domain.

    With `delete_home_efs` (config `studio.delete_home_efs_on_destroy`), while the
    stack is being deleted it also deletes the user profiles, the domain with its
    home EFS volume (DeleteDomain RetentionPolicy HomeEfsFileSystem=Delete) and the
    two NFS security groups SageMaker created in `vpc_id`, so that the Network
    stack's VPC can be deleted afterwards. The role gets those permissions only then.

    Code: `lambdas/studio_cleanup/index.py`, a plain asset (boto3 only).

    Attributes:
        function: the Lambda function.
        role: its role.
        resource: the `Custom::StudioCleanup` resource.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        domain: sagemaker.CfnDomain,
        key: kms.IKey,
        log_retention_days: int,
        delete_home_efs: bool = False,
        vpc_id: str | None = None,
    ) -> None:
        if delete_home_efs and not vpc_id:
            raise ValueError("StudioCleanup: delete_home_efs needs the domain's vpc_id")
        super().__init__(
            scope,
            id_,
            handler="index.on_event",
            description=_description(delete_home_efs),
            timeout=Duration.minutes(15),
            key=key,
            log_retention=log_retention(log_retention_days),
            resource_type="Custom::StudioCleanup",
            properties=_properties(domain, delete_home_efs, vpc_id),
            why_no_vpc=_WHY_NO_VPC,
            why_no_reservation=_WHY_NO_RESERVATION,
            wildcard_reason=_wildcard_reason(delete_home_efs),
        )
        self._grant_app_and_space_deletes(domain)
        if delete_home_efs:
            self._grant_domain_teardown(domain, vpc_id)

    def _grant_app_and_space_deletes(self, domain: sagemaker.CfnDomain) -> None:
        """What every cleanup needs: list and delete the apps and spaces of this domain."""
        stack = Stack.of(self)
        apps = stack.format_arn(service="sagemaker", resource="app", resource_name=f"{domain.attr_domain_id}/*")
        spaces = stack.format_arn(service="sagemaker", resource="space", resource_name=f"{domain.attr_domain_id}/*")
        for statement in (
            iam.PolicyStatement(
                sid="ListAppsAndSpaces", actions=["sagemaker:ListApps", "sagemaker:ListSpaces"], resources=["*"]
            ),
            iam.PolicyStatement(sid="DeleteAppsOfThisDomain", actions=["sagemaker:DeleteApp"], resources=[apps]),
            iam.PolicyStatement(
                sid="DeleteSpacesOfThisDomain", actions=["sagemaker:DeleteSpace"], resources=[spaces]
            ),
        ):
            self.role.add_to_policy(statement)
        for value, what in ((apps, "apps"), (spaces, "spaces")):
            acknowledge(
                self.role.policy,
                f"The cleanup deletes whatever {what} users created in this domain; names are unknown "
                "at deploy time, so the grant is this domain's ARN prefix.",
                finding_id(self, "AwsSolutions-IAM5", value),
            )

    def _grant_domain_teardown(self, domain: sagemaker.CfnDomain, vpc_id: str) -> None:
        """Only what deleting the profiles, the domain and SageMaker's NFS groups needs."""
        stack = Stack.of(self)
        profiles = stack.format_arn(
            service="sagemaker", resource="user-profile", resource_name=f"{domain.attr_domain_id}/*"
        )
        groups = stack.format_arn(service="ec2", resource="security-group", resource_name="*")
        vpc_arn = stack.format_arn(service="ec2", resource="vpc", resource_name=vpc_id)
        for statement in (
            iam.PolicyStatement(sid="ListUserProfiles", actions=["sagemaker:ListUserProfiles"], resources=["*"]),
            iam.PolicyStatement(
                sid="DeleteProfilesOfThisDomain",
                actions=["sagemaker:DeleteUserProfile", "sagemaker:DescribeUserProfile"],
                resources=[profiles],
            ),
            iam.PolicyStatement(
                sid="DeleteThisDomain",
                actions=["sagemaker:DeleteDomain", "sagemaker:DescribeDomain"],
                resources=[domain.attr_domain_arn],
            ),
            # Only while this stack is being deleted does the function delete the domain.
            iam.PolicyStatement(
                sid="ReadThisStacksStatus", actions=["cloudformation:DescribeStacks"], resources=[Aws.STACK_ID]
            ),
            iam.PolicyStatement(
                sid="FindNfsSecurityGroups", actions=["ec2:DescribeSecurityGroups"], resources=["*"]
            ),
            iam.PolicyStatement(
                sid="DeleteSecurityGroupsInThisVpc",
                actions=[
                    "ec2:DeleteSecurityGroup",
                    "ec2:RevokeSecurityGroupEgress",
                    "ec2:RevokeSecurityGroupIngress",
                ],
                resources=[groups],
                conditions={"ArnEquals": {"ec2:Vpc": vpc_arn}},
            ),
        ):
            self.role.add_to_policy(statement)
        acknowledge(
            self.role.policy,
            "With studio.delete_home_efs_on_destroy the cleanup deletes the profiles users and admins "
            "created in this domain; names are unknown at deploy time, so the grant is this domain's "
            "user-profile ARN prefix.",
            finding_id(self, "AwsSolutions-IAM5", profiles),
        )
        acknowledge(
            self.role.policy,
            "SageMaker creates the domain's two NFS security groups with ids unknown at deploy time; "
            "revoke/delete are limited by the ec2:Vpc condition to security groups in the domain's VPC, "
            "and the function deletes only the two named security-group-for-*-nfs-<domain-id>.",
            finding_id(self, "AwsSolutions-IAM5", groups),
        )
