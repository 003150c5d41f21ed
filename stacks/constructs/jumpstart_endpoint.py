"""One JumpStart model on one SageMaker real-time endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import jsii

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.jumpstart import ResolvedEndpoint
from stacks.constructs.roles import ManagedPolicyRole
from stacks.nag import acknowledge, finding_id
from stacks.scanner import skip_checkov

if TYPE_CHECKING:
    from stacks.catalog import InstanceFacts
    from stacks.shared_endpoints import ResolvedComponent

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


@jsii.implements(iam.IGrantable)
class JumpStartEndpoint(Construct):
    """CfnModel + CfnEndpointConfig + CfnEndpoint for a resolved JumpStart model,
    with its own least-privilege execution role, target-tracking autoscaling and
    alarms.

    Names are generated by CloudFormation: every endpoint-config change is a
    replacement, and fixed names would make that update fail.

    Attributes:
        endpoint_name: the generated endpoint name (token).
        endpoint_arn: the endpoint ARN (token), for invoke grants.
        role: the execution role the containers run as.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resolved: ResolvedEndpoint,
        data_key: kms.IKey,
        capture_bucket: s3.IBucket,
        alarm_topic: sns.ITopic,
        network: ModelNetwork | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.resolved = resolved
        self.role = self._build_role(resolved, network)
        self.model = self._build_model(resolved, network)
        self.endpoint_config = self._build_endpoint_config(resolved, data_key, capture_bucket)
        # The instance type is part of the endpoint's identity. SageMaker refuses an
        # UpdateEndpoint that changes the instance type of a variant registered with
        # Application Auto Scaling ("Update endpoints that use auto scaling"), so an
        # instance-type change must not be an update: a new logical ID makes
        # CloudFormation create the new endpoint (and scalable target) first and delete
        # the old ones in its cleanup phase. Consumers follow through weak cross-stack
        # references (Fn::GetStackOutput), which never block the old output's removal.
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            endpoint_id(resolved.instance_type),
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        self.endpoint_name: str = self.endpoint.attr_endpoint_name
        # Ref of AWS::SageMaker::Endpoint is its ARN, which SageMaker lower-cases.
        self.endpoint_arn: str = self.endpoint.ref
        # The endpoint config's volume key (instance types without local NVMe only):
        # whoever calls CreateEndpoint with that config must be allowed to use it.
        self.volume_key_arn: str | None = None if resolved.instance.local_nvme else data_key.key_arn
        self._grant_capture(data_key, capture_bucket)
        self._build_autoscaling(resolved)
        self.alarms = self._build_alarms(resolved, alarm_topic)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self.role.grant_principal

    def grant_invoke(self, grantee: iam.IGrantable, *, streaming: bool = False) -> iam.Grant:
        """Allow `grantee` to invoke this endpoint only."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            # Streaming only where a caller streams (Studio notebooks; the streaming front door
            # has its own grant): the buffered front door and the jobs worker never do.
            actions=["sagemaker:InvokeEndpoint", *(["sagemaker:InvokeEndpointWithResponseStream"] if streaming else [])],
            resource_arns=[self.endpoint_arn],
        )

    # -- builders ---------------------------------------------------------------

    def _build_role(self, r: ResolvedEndpoint, network: ModelNetwork | None) -> ManagedPolicyRole:
        stack = Stack.of(self)
        role = execution_role(self, f"Runs {r.model_id}@{r.model_version} containers")
        artifact_prefix = r.artifact_key.rstrip("/") + ("/" if r.artifact_is_prefix else "")
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadModelArtifacts",
                actions=["s3:GetObject"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{r.artifact_bucket}/{artifact_prefix}*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ListModelArtifacts",
                actions=["s3:ListBucket"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{r.artifact_bucket}"],
                conditions={"StringLike": {"s3:prefix": [f"{artifact_prefix}*"]}},
            )
        )
        registry, repository = r.image_repository
        role.add_to_policy(
            iam.PolicyStatement(
                sid="PullModelImage",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[
                    stack.format_arn(
                        service="ecr", account=registry, resource="repository", resource_name=repository
                    )
                ],
            )
        )
        (log_groups,) = grant_image_runtime(role, network)
        acknowledge(
            role.policy,
            ENDPOINT_LOG_GROUPS_REASON,
            finding_id(self, "AwsSolutions-IAM5", log_groups),
        )
        artifacts = f"arn:{Aws.PARTITION}:s3:::{r.artifact_bucket}/{artifact_prefix}*"
        acknowledge(
            role.policy,
            "JumpStart serves uncompressed model artifacts as an S3 prefix of many files; read "
            "access is limited to that one model's prefix in the public JumpStart bucket.",
            finding_id(self, "AwsSolutions-IAM5", artifacts),
        )
        return role

    def _build_model(self, r: ResolvedEndpoint, network: ModelNetwork | None) -> sagemaker.CfnModel:
        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=jumpstart_container(r),
            enable_network_isolation=True,
            vpc_config=model_vpc_config(network),
        )
        # The role's policy must exist before SageMaker validates the model.
        model.node.add_dependency(self.role.policy)
        return model

    def _build_endpoint_config(
        self, r: ResolvedEndpoint, data_key: kms.IKey, capture_bucket: s3.IBucket
    ) -> sagemaker.CfnEndpointConfig:
        capture = r.settings.data_capture
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT,
                    model_name=self.model.attr_model_name,
                    instance_type=r.instance_type,
                    initial_instance_count=r.settings.instance_count,
                    initial_variant_weight=1.0,
                    container_startup_health_check_timeout_in_seconds=r.startup_health_check_timeout_seconds,
                    model_data_download_timeout_in_seconds=r.model_data_download_timeout_seconds,
                )
            ],
            data_capture_config=sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
                enable_capture=capture.enabled,
                initial_sampling_percentage=capture.sampling_percentage,
                destination_s3_uri=capture_bucket.s3_url_for_object(f"datacapture/{r.name}"),
                kms_key_id=data_key.key_arn,
                capture_options=[
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
                ],
                capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                    json_content_types=["application/json"]
                ),
            ),
            # Instances with local NVMe storage encrypt it with a hardware key and
            # CreateEndpointConfig rejects a KmsKeyId for them.
            kms_key_id=None if r.instance.local_nvme else data_key.key_arn,
        )
        acknowledge_nvme_volume_key(config, r.instance)
        return config

    def _grant_capture(self, data_key: kms.IKey, capture_bucket: s3.IBucket) -> None:
        objects = capture_bucket.arn_for_objects(f"datacapture/{self.resolved.name}/*")
        self.role.add_to_policy(
            iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[objects])
        )
        data_key.grant(self.role, "kms:Encrypt", "kms:GenerateDataKey")
        acknowledge(
            self.role.policy,
            "Data capture writes one object per sampled request under this endpoint's own "
            "datacapture/<name>/ prefix of the capture bucket; object keys are generated by SageMaker.",
            finding_id(self, "AwsSolutions-IAM5", objects),
        )

    def _build_autoscaling(self, r: ResolvedEndpoint) -> None:
        if r.settings.sleep is not None:
            # Config refuses sleep + autoscaling. Without a scalable target, deleting the
            # endpoint leaves no Application Auto Scaling state behind that CloudFormation
            # still claims exists (DeleteEndpoint deregisters targets).
            return
        a = r.settings.autoscaling
        target = autoscaling_target(
            self,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=r.min_capacity,
            max_capacity=r.max_capacity,
        )
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=a.target_invocations_per_instance if a else 4,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=Duration.seconds(a.scale_in_cooldown_seconds if a else 600),
            scale_out_cooldown=Duration.seconds(a.scale_out_cooldown_seconds if a else 300),
        )

    def _build_alarms(self, r: ResolvedEndpoint, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
        dims = {"EndpointName": self.endpoint_name, "VariantName": VARIANT}
        thresholds = r.settings.alarms
        period = Duration.minutes(5)
        latency = cloudwatch.Metric(
            namespace="AWS/SageMaker", metric_name="ModelLatency", dimensions_map=dims,
            statistic="p90", period=period,
        )
        errors = cloudwatch.Metric(
            namespace="AWS/SageMaker", metric_name="Invocation5XXErrors", dimensions_map=dims,
            statistic="Sum", period=period,
        )
        # Disk, not GPU memory: TGI pre-allocates its KV cache to fill GPU memory at
        # start-up (text-generation-inference issues #832, #1863), so GPUMemoryUtilization
        # sits near the top on every healthy LLM endpoint (it stays on the dashboard).
        # DiskUtilization is per instance (not summed) and climbs only when something
        # writes where it should not (logs, a model cache) until the container dies.
        disk = cloudwatch.Metric(
            namespace=SAGEMAKER_LOG_GROUPS, metric_name="DiskUtilization", dimensions_map=dims,
            statistic="Maximum", period=period,
        )
        specs = [
            # ModelLatency is reported in microseconds.
            ("ModelLatencyP90", latency, thresholds.model_latency_p90_ms * 1000, 3,
             f"p90 model latency above {thresholds.model_latency_p90_ms} ms"),
            ("Invocation5XXErrors", errors, 1, 1, "the model container returned 5XX errors"),
            ("DiskUtilization", disk, thresholds.disk_utilization_percent, 3,
             f"instance disk above {thresholds.disk_utilization_percent}%"),
        ]
        return [
            notifying_alarm(self, f"{name}Alarm", metric, threshold, periods, f"{r.name}: {description}", topic)
            for name, metric, threshold, periods, description in specs
        ]

