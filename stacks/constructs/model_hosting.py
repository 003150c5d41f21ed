"""What every hosted model shares, whichever construct hosts it (its own JumpStart or
Marketplace endpoint, or an inference component on a shared endpoint): the execution
role and its run-time grants, the container definition, VPC placement, the autoscaling
target, alarms to the topic, and the NVMe volume-key acknowledgment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.compliance.nag import acknowledge
from stacks.compliance.scanner import skip_checkov
from stacks.constructs.roles import ManagedPolicyRole

if TYPE_CHECKING:
    from stacks.config.catalog import InstanceFacts
    from stacks.models.jumpstart import ResolvedEndpoint
    from stacks.models.shared_endpoints import ResolvedComponent

VARIANT = "AllTraffic"
SAGEMAKER_LOG_GROUPS = "/aws/sagemaker/Endpoints"


def endpoint_id(instance_type: str) -> str:
    """Construct id of an endpoint on `instance_type`: `ml.g5.2xlarge` -> `EndpointG52xlarge`."""
    return "Endpoint" + "".join(p.capitalize() for p in instance_type.removeprefix("ml.").split("."))


@dataclass(frozen=True)
class ModelNetwork:
    """Where the model containers run when the deployment has a VPC."""

    subnet_ids: list[str]
    security_group_ids: list[str]


def execution_role(scope: Construct, description: str) -> ManagedPolicyRole:
    """The `ExecutionRole` SageMaker runs a model's containers as (permissions in its managed policy)."""
    return ManagedPolicyRole(
        scope,
        "ExecutionRole",
        assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
        description=description,
    )


def grant_container_runtime(
    role: ManagedPolicyRole, network: ModelNetwork | None, log_prefixes: tuple[str, ...] = (SAGEMAKER_LOG_GROUPS,)
) -> list[str]:
    """What every model container does at run time, granted to its execution role: write
    logs under each of `log_prefixes` (WriteEndpointLogs), put metrics in AWS/SageMaker and
    those namespaces (PutEndpointMetrics) and, in a VPC, attach to it (AttachToVpc, with its
    checkov skips). Returns the log-group ARNs, one a prefix, for the callers' cdk-nag
    acknowledgments (each names its own reasons)."""
    stack = Stack.of(role)
    log_groups = [
        stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{prefix}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for prefix in log_prefixes
    ]
    role.add_to_policy(
        iam.PolicyStatement(
            sid="WriteEndpointLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=log_groups,
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="PutEndpointMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": ["AWS/SageMaker", *log_prefixes]}},
        )
    )
    if network:
        role.add_to_policy(
            iam.PolicyStatement(
                sid="AttachToVpc",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                resources=["*"],
            )
        )
        why = (
            "SageMaker attaches the endpoint to the VPC by creating and deleting network "
            "interfaces, and their permissions, with this role; interface ids are unknown before "
            "deploy (AWS's own SageMaker policies grant these on *)"
        )
        skip_checkov(role.policy, "CKV_AWS_109", f"{why}: ec2:Create/DeleteNetworkInterfacePermission.")
        skip_checkov(role.policy, "CKV_AWS_111", f"{why}: ec2:Create/DeleteNetworkInterface.")
    return log_groups


def grant_image_runtime(
    role: ManagedPolicyRole, network: ModelNetwork | None, log_prefixes: tuple[str, ...] = (SAGEMAKER_LOG_GROUPS,)
) -> list[str]:
    """`grant_container_runtime` for a model whose image the role pulls from ECR: first the
    registry login (EcrLogin), then the runtime grants, with the cdk-nag acknowledgment of
    their `Resource: *` statements. Returns `grant_container_runtime`'s log-group ARNs."""
    role.add_to_policy(iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]))
    log_groups = grant_container_runtime(role, network, log_prefixes)
    acknowledge(
        role.policy,
        "ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level "
        "permissions (PutMetricData is limited by a namespace condition); EC2 network-interface "
        "actions for VPC attachment act on interfaces SageMaker creates, unknown before deploy.",
        "AwsSolutions-IAM5[Resource::*]",
    )
    return log_groups



def notifying_alarm(scope: Construct, id_: str, metric: cloudwatch.IMetric, threshold: float, periods: int,
                    description: str, topic: sns.ITopic) -> cloudwatch.Alarm:
    """A model alarm, child `id_` of `scope`: `metric` >= `threshold` for `periods` periods
    notifies `topic`; no data (no instances, copies or invocations) is not a fault."""
    alarm = cloudwatch.Alarm(
        scope,
        id_,
        metric=metric,
        threshold=threshold,
        evaluation_periods=periods,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    alarm.add_alarm_action(cw_actions.SnsAction(topic))
    return alarm

# The acknowledgment of the endpoint log-group grant of a classic endpoint's role.
ENDPOINT_LOG_GROUPS_REASON = (
    "SageMaker names each endpoint's log group after the generated endpoint name, which "
    "cannot be referenced here without a cycle (endpoint -> config -> model -> role); the "
    "grant is limited to the /aws/sagemaker/Endpoints/ prefix."
)


def model_vpc_config(network: ModelNetwork | None) -> sagemaker.CfnModel.VpcConfigProperty | None:
    """A model's VpcConfig: the deployment's subnets and security groups, None without a VPC."""
    if network is None:
        return None
    return sagemaker.CfnModel.VpcConfigProperty(
        subnets=network.subnet_ids, security_group_ids=network.security_group_ids
    )


def jumpstart_container(r: ResolvedEndpoint | ResolvedComponent) -> sagemaker.CfnModel.ContainerDefinitionProperty:
    """The container of a resolved JumpStart model: its image, its environment (sorted) and
    its artifacts as a ModelDataSource (an uncompressed S3 prefix or one .tar.gz), with the
    EULA accepted for a gated model (the config's accept_eula)."""
    return sagemaker.CfnModel.ContainerDefinitionProperty(
        image=r.image_uri,
        environment=dict(sorted(r.environment.items())),
        model_data_source=sagemaker.CfnModel.ModelDataSourceProperty(
            s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                s3_uri=r.artifact_s3_uri,
                s3_data_type="S3Prefix" if r.artifact_is_prefix else "S3Object",
                compression_type="None" if r.artifact_is_prefix else "Gzip",
                model_access_config=sagemaker.CfnModel.ModelAccessConfigProperty(accept_eula=True)
                if r.gated
                else None,
            )
        ),
    )


def autoscaling_target(
    scope: Construct, *, resource_id: str, scalable_dimension: str, min_capacity: int, max_capacity: int
) -> appscaling.ScalableTarget:
    """`ScalableTarget` (Application Auto Scaling, SageMaker namespace) of an endpoint variant
    or an inference component, registered with the service-linked role Application Auto
    Scaling creates for SageMaker (`AutoscalingRole`; its policy covers endpoints and
    inference components: DescribeInferenceComponent, UpdateInferenceComponentRuntimeConfig).
    Without that role CDK would add an empty role of its own."""
    stack = Stack.of(scope)
    linked_role = iam.Role.from_role_arn(
        scope,
        "AutoscalingRole",
        f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
        "sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
    )
    return appscaling.ScalableTarget(
        scope,
        "ScalableTarget",
        service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
        resource_id=resource_id,
        scalable_dimension=scalable_dimension,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        role=linked_role,
    )


def acknowledge_nvme_volume_key(config: sagemaker.CfnEndpointConfig, instance: InstanceFacts) -> None:
    """An endpoint config without KmsKeyId on an instance type with local NVMe storage
    (encrypted by the instance's hardware; SageMaker rejects a KmsKeyId for them): say so
    to cdk-nag. Nothing to say for other instance types (they get the volume key)."""
    if instance.local_nvme:
        acknowledge(
            config,
            "This instance type has local NVMe instance storage, which is encrypted by the "
            "instance's hardware module; SageMaker rejects KmsKeyId for such instance types.",
            "AwsSolutions-SM2",
            "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
            "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
        )
