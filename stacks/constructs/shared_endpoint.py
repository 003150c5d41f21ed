"""A shared SageMaker endpoint: several JumpStart models as inference components on one
instance type, with managed instance scaling down to zero instances (issue 11)."""

from __future__ import annotations

import jsii
from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.compliance.nag import acknowledge, finding_id
from stacks.constructs.inference_component import InferenceComponentModel
from stacks.constructs.model_hosting import (
    SAGEMAKER_LOG_GROUPS,
    VARIANT,
    ModelNetwork,
    acknowledge_nvme_volume_key,
    endpoint_id,
    execution_role,
    grant_image_runtime,
)
from stacks.constructs.roles import ManagedPolicyRole
from stacks.models.shared_endpoints import ResolvedSharedEndpoint

# Where SageMaker writes the container logs and metrics of inference components.
IC_LOG_GROUPS = "/aws/sagemaker/InferenceComponents"
ROUTING_STRATEGY = "LEAST_OUTSTANDING_REQUESTS"


@jsii.implements(iam.IGrantable)
class SharedEndpoint(Construct):
    """`AWS::SageMaker::EndpointConfig` + `AWS::SageMaker::Endpoint` whose one variant hosts
    no model of its own: an `InferenceComponentModel` per configured model places copies on
    its instances. The variant uses managed instance scaling (MinInstanceCount 0 where
    min_instances is 0) and least-outstanding-requests routing; the endpoint config names
    the execution role, as SageMaker requires for inference components.

    Update paths: an endpoint config is replaced on every change (all its properties are
    create-only; CloudFormation generates its name) and the endpoint moves to the new one.
    The instance type is part of the endpoint's logical ID and of its ICs' (and of their
    names, `stacks.models.shared_endpoints.component_name`): changing it creates a new endpoint
    with new ICs before the old ones are deleted, as for a classic endpoint (SageMaker
    refuses an instance-type update of a variant registered with Application Auto Scaling).
    A model change (image, environment, resources) replaces the IC's `Model` and updates
    the IC in place (UpdateInferenceComponent rolls its copies onto the new model).

    Attributes:
        endpoint_name: the generated endpoint name (token).
        endpoint_arn: the endpoint ARN (token).
        components: model name -> InferenceComponentModel.
        role: the execution role of the endpoint and its models.
        alarms: every operator alarm (endpoint disk, and each model's latency and 5XX).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resolved: ResolvedSharedEndpoint,
        data_key: kms.IKey,
        alarm_topic: sns.ITopic,
        network: ModelNetwork | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.resolved = resolved
        self.role = self._build_role(resolved, network)
        self.endpoint_config = self._build_endpoint_config(resolved, data_key, network)
        # Endpoint and ICs under one scope named after the instance type: see the class docstring.
        placement = Construct(self, endpoint_id(resolved.instance_type))
        self.endpoint = sagemaker.CfnEndpoint(
            placement, "Endpoint", endpoint_config_name=self.endpoint_config.attr_endpoint_config_name
        )
        self.endpoint_name: str = self.endpoint.attr_endpoint_name
        # Ref of AWS::SageMaker::Endpoint is its ARN, which SageMaker lower-cases.
        self.endpoint_arn: str = self.endpoint.ref
        self.volume_key_arn: str | None = None if resolved.instance.local_nvme else data_key.key_arn
        self.components: dict[str, InferenceComponentModel] = {
            c.name: InferenceComponentModel(
                placement,
                c.construct_id,
                resolved=c,
                endpoint=self.endpoint,
                role=self.role,
                role_policy=self.role.policy,
                alarm_topic=alarm_topic,
                network=network,
            )
            for c in resolved.components
        }
        self.alarms = [self._build_disk_alarm(resolved, alarm_topic)] + [
            alarm for component in self.components.values() for alarm in component.alarms
        ]

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self.role.grant_principal

    def grant_invoke(self, grantee: iam.IGrantable, *, streaming: bool = False) -> iam.Grant:
        """Allow `grantee` to invoke this endpoint's models and nothing else: InvokeEndpoint
        authorizes the endpoint, and with InferenceComponentName the inference component
        too (Service Authorization Reference, Amazon SageMaker AI: InvokeEndpoint's resource
        types are endpoint and inference-component), so both ARNs, exactly."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            # Streaming only where a caller streams (Studio notebooks; the streaming front door
            # has its own grant): the buffered front door and the jobs worker never do.
            actions=["sagemaker:InvokeEndpoint", *(["sagemaker:InvokeEndpointWithResponseStream"] if streaming else [])],
            resource_arns=[self.endpoint_arn, *(c.component_arn for c in self.components.values())],
        )

    # -- builders ---------------------------------------------------------------

    def _build_role(self, r: ResolvedSharedEndpoint, network: ModelNetwork | None) -> ManagedPolicyRole:
        """One execution role for the endpoint and its models: read each model's JumpStart
        artifacts and pull its image, write SageMaker's endpoint and IC logs and metrics. No
        KMS: nothing of this endpoint writes encrypted data (no data capture), and a volume
        key is used through grants by whoever creates the endpoint."""
        stack = Stack.of(self)
        models = ", ".join(f"{c.model_id}@{c.model_version}" for c in r.components)
        role = execution_role(self, f"Runs the shared endpoint {r.name}: {models}"[:1000])
        prefixes = sorted({
            (c.artifact_bucket, c.artifact_key.rstrip("/") + ("/" if c.artifact_is_prefix else ""))
            for c in r.components
        })
        objects = [f"arn:{Aws.PARTITION}:s3:::{bucket}/{prefix}*" for bucket, prefix in prefixes]
        role.add_to_policy(iam.PolicyStatement(sid="ReadModelArtifacts", actions=["s3:GetObject"], resources=objects))
        for bucket in sorted({b for b, _ in prefixes}):
            role.add_to_policy(iam.PolicyStatement(
                sid=f"ListModelArtifacts{''.join(ch for ch in bucket.title() if ch.isalnum())}",
                actions=["s3:ListBucket"],
                resources=[f"arn:{Aws.PARTITION}:s3:::{bucket}"],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for b, p in prefixes if b == bucket]}},
            ))
        repositories = sorted({c.image_repository for c in r.components})
        role.add_to_policy(iam.PolicyStatement(
            sid="PullModelImages",
            actions=["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            resources=[
                stack.format_arn(service="ecr", account=registry, resource="repository", resource_name=repository)
                for registry, repository in repositories
            ],
        ))
        log_groups = grant_image_runtime(role, network, (SAGEMAKER_LOG_GROUPS, IC_LOG_GROUPS))
        acknowledge(
            role.policy,
            "SageMaker names a shared endpoint's log group after its generated name, which cannot be "
            "referenced here without a cycle (endpoint -> endpoint config -> execution role); the grant "
            "is limited to the /aws/sagemaker/Endpoints/ prefix.",
            finding_id(self, "AwsSolutions-IAM5", log_groups[0]),
        )
        acknowledge(
            role.policy,
            "Inference component containers log to /aws/sagemaker/InferenceComponents/<component name>; "
            "the grant is that prefix, in this account and region only.",
            finding_id(self, "AwsSolutions-IAM5", log_groups[1]),
        )
        for artifacts in objects:
            acknowledge(
                role.policy,
                "JumpStart serves uncompressed model artifacts as an S3 prefix of many files; read "
                "access is limited to that one model's prefix in the public JumpStart bucket.",
                finding_id(self, "AwsSolutions-IAM5", artifacts),
            )
        return role

    def _build_endpoint_config(
        self, r: ResolvedSharedEndpoint, data_key: kms.IKey, network: ModelNetwork | None
    ) -> sagemaker.CfnEndpointConfig:
        # The variant's start-up timeouts are the longest of its models' (each IC carries its
        # own in StartupParameters); see stacks.models.jumpstart.startup_timeouts.
        download = max(c.model_data_download_timeout_seconds for c in r.components)
        health = max(c.startup_health_check_timeout_seconds for c in r.components)
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            execution_role_arn=self.role.role_arn,
            enable_network_isolation=True,
            vpc_config=sagemaker.CfnEndpointConfig.VpcConfigProperty(
                subnets=network.subnet_ids, security_group_ids=network.security_group_ids
            )
            if network
            else None,
            production_variants=[
                sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name=VARIANT,
                    instance_type=r.instance_type,
                    # At least 1 (CreateEndpointConfig's minimum), enough for one copy of every
                    # model (each IC starts with one); managed instance scaling takes it from there.
                    initial_instance_count=r.initial_instances,
                    managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                        status="ENABLED",
                        min_instance_count=r.min_instances,
                        max_instance_count=r.max_instances,
                    ),
                    routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(routing_strategy=ROUTING_STRATEGY),
                    model_data_download_timeout_in_seconds=download,
                    container_startup_health_check_timeout_in_seconds=health,
                )
            ],
            # No DataCaptureConfig: refused for models on shared endpoints (stacks.config.shared_endpoints.IC_DATA_CAPTURE_REFUSAL).
            # Instances with local NVMe storage encrypt it with a hardware key and
            # CreateEndpointConfig rejects a KmsKeyId for them.
            kms_key_id=None if r.instance.local_nvme else data_key.key_arn,
        )
        config.node.add_dependency(self.role.policy)
        acknowledge_nvme_volume_key(config, r.instance)
        return config

    def _build_disk_alarm(self, r: ResolvedSharedEndpoint, topic: sns.ITopic) -> cloudwatch.Alarm:
        threshold = r.settings.alarms.disk_utilization_percent
        alarm = cloudwatch.Alarm(
            self,
            "DiskUtilizationAlarm",
            metric=cloudwatch.Metric(
                namespace=SAGEMAKER_LOG_GROUPS, metric_name="DiskUtilization",
                dimensions_map={"EndpointName": self.endpoint_name, "VariantName": VARIANT},
                statistic="Maximum", period=Duration.minutes(5),
            ),
            threshold=threshold,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No instances (scaled to zero), no data: not a fault.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"shared endpoint {r.name}: instance disk above {threshold}%",
        )
        alarm.add_alarm_action(cw_actions.SnsAction(topic))
        return alarm
