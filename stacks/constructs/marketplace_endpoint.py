"""One subscribed AWS Marketplace model package on one SageMaker real-time endpoint."""

from __future__ import annotations

from aws_cdk import aws_sagemaker as sagemaker

from stacks.compliance.nag import acknowledge, finding_id
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.model_hosting import (
    ENDPOINT_LOG_GROUPS_REASON,
    ModelNetwork,
    execution_role,
    grant_container_runtime,
    model_vpc_config,
)
from stacks.constructs.roles import ManagedPolicyRole
from stacks.models.marketplace import ResolvedPackage


class MarketplaceEndpoint(JumpStartEndpoint):
    """`AWS::SageMaker::Model` from a model package ARN (`Containers: [{ModelPackageName}]`,
    network isolation on), with the endpoint config, endpoint, autoscaling, data capture
    and alarms of a JumpStart endpoint (inherited: only the role and the model differ).

    The role gets no ECR or S3 read access: the package's inference image and artifacts
    belong to the seller and AWS Marketplace ("published and stored in AWS Marketplace
    owned Amazon S3 buckets that are inaccessible by the buyer directly", AWS Marketplace
    Seller Guide, "Creating model package images"); SageMaker fetches them for a
    subscribed account. What is left is what the container does at run time: write its
    logs and metrics (and, through the inherited grant, the endpoint's data capture).
    Network isolation is what Marketplace containers run with anyway ("the Docker
    containers run in an isolated environment without internet access", Seller Guide,
    "Packaging your code into images for machine learning products").
    """

    resolved: ResolvedPackage

    def _build_role(self, r: ResolvedPackage, network: ModelNetwork | None) -> ManagedPolicyRole:
        role = execution_role(self, f"Runs the {r.model_id}@{r.model_version} AWS Marketplace model package")
        (log_groups,) = grant_container_runtime(role, network)
        acknowledge(
            role.policy,
            "cloudwatch:PutMetricData supports no resource-level permissions and is limited by a namespace "
            "condition; EC2 network-interface actions for VPC attachment act on interfaces SageMaker creates, "
            "unknown before deploy. A model package role has no ECR or S3 model access to scope.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            role.policy,
            ENDPOINT_LOG_GROUPS_REASON,
            finding_id(self, "AwsSolutions-IAM5", log_groups),
        )
        return role

    def _build_model(self, r: ResolvedPackage, network: ModelNetwork | None) -> sagemaker.CfnModel:
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            # The package carries image and artifacts; SageMaker refuses an Environment map
            # on it unless the listing allows overrides (config refuses `environment`).
            containers=[sagemaker.CfnModel.ContainerDefinitionProperty(model_package_name=r.model_package_arn)],
            enable_network_isolation=True,
            vpc_config=model_vpc_config(network),
        )
        # The role's policy must exist before SageMaker validates the model.
        model.node.add_dependency(self.role.policy)
        return model
