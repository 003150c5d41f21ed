"""One model on a shared endpoint: its SageMaker model, its inference component, copy
autoscaling (down to zero copies and back) and its alarms."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.constructs.model_hosting import (
    VARIANT,
    ModelNetwork,
    autoscaling_target,
    jumpstart_container,
    model_vpc_config,
    notifying_alarm,
)
from stacks.models.shared_endpoints import ResolvedComponent

# Application Auto Scaling's resource id and dimension of an inference component's copies
# (Application Auto Scaling API reference, RegisterScalableTarget, ResourceId and
# ScalableDimension; SageMaker guide "Scale an endpoint to zero instances").
SCALABLE_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
# The scale-out-from-zero step policy: +1 copy (ChangeInCapacity, MetricAggregationType
# Maximum, StepAdjustments [{MetricIntervalLowerBound 0, ScalingAdjustment 1}]) as in the
# guide. Its cooldown is longer than the guide's 60 s: while the first copy comes up
# (minutes: an instance, the image, the weights), calls keep failing with no capacity and
# the alarm stays in ALARM, and a step policy "will continue to respond to additional
# alarm breaches" (Application Auto Scaling User Guide, "Step scaling policies"); one
# copy per cold start is the point, target tracking adds the rest once it serves.
SCALE_OUT_FROM_ZERO_COOLDOWN = Duration.minutes(10)
NO_CAPACITY_METRIC = "NoCapacityInvocationFailures"


class InferenceComponentModel(Construct):
    """`AWS::SageMaker::Model` + `AWS::SageMaker::InferenceComponent` for one model of a
    shared endpoint, an Application Auto Scaling target on its copy count (min_copies ..
    max_copies, target tracking on SageMakerInferenceComponentInvocationsPerCopy) and, when
    min_copies is 0, the step policy and NoCapacityInvocationFailures alarm that bring the
    first copy back (SageMaker guide "Scale an endpoint to zero instances",
    https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-zero-instances.html).

    The IC names a `Model` rather than an inline container: an inline container's
    ArtifactUrl "must point to a single gzip compressed tar archive"
    (InferenceComponentContainerSpecification, SageMaker API reference), and JumpStart
    serves LLM weights as an uncompressed S3 prefix, which only a Model's ModelDataSource
    (S3Prefix, CompressionType None) expresses. The model carries the image, the artifacts
    and the environment, with SM_NUM_GPUS = the copy's accelerators, and runs network-isolated.

    Attributes:
        component_name: the IC's name (literal), as InvokeEndpoint's InferenceComponentName.
        component_arn: the IC's ARN (token), for invoke grants.
        alarms: the operator alarms (latency, 5XX) on the alarm topic.
        scale_out_alarm: the NoCapacityInvocationFailures alarm (None unless min_copies is 0).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resolved: ResolvedComponent,
        endpoint: sagemaker.CfnEndpoint,
        role: iam.IRole,
        role_policy: iam.ManagedPolicy,
        alarm_topic: sns.ITopic,
        network: ModelNetwork | None = None,
    ) -> None:
        super().__init__(scope, id_)
        c = self.resolved = resolved
        self.component_name = c.component_name
        self.model = self._build_model(c, role, network)
        self.model.node.add_dependency(role_policy)
        self.component = sagemaker.CfnInferenceComponent(
            self,
            "Component",
            inference_component_name=c.component_name,
            endpoint_name=endpoint.attr_endpoint_name,
            variant_name=VARIANT,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                model_name=self.model.attr_model_name,
                compute_resource_requirements=(
                    sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                        number_of_accelerator_devices_required=c.accelerators,
                        min_memory_required_in_mb=c.memory_mib,
                    )
                ),
                startup_parameters=sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                    model_data_download_timeout_in_seconds=c.model_data_download_timeout_seconds,
                    container_startup_health_check_timeout_in_seconds=c.startup_health_check_timeout_seconds,
                ),
            ),
            # One copy on create even where min_copies is 0: CloudFormation then waits for a
            # running copy, so a model that cannot load fails the deploy (and rolls back)
            # instead of the first call after it; target tracking scales it back to 0 when idle.
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(
                copy_count=c.initial_copies
            ),
        )
        self.component.node.add_dependency(role_policy)
        self.component_arn: str = self.component.attr_inference_component_arn
        self.scalable_target = self._build_autoscaling(c)
        self.scale_out_alarm = self._build_scale_out_from_zero(c) if c.min_copies == 0 else None
        self.alarms = self._build_alarms(c, alarm_topic)

    def _build_model(self, c: ResolvedComponent, role: iam.IRole, network: ModelNetwork | None) -> sagemaker.CfnModel:
        return sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=role.role_arn,
            primary_container=jumpstart_container(c),
            enable_network_isolation=True,
            vpc_config=model_vpc_config(network),
        )

    def _build_autoscaling(self, c: ResolvedComponent) -> appscaling.ScalableTarget:
        target = autoscaling_target(
            self,
            resource_id=f"inference-component/{c.component_name}",
            scalable_dimension=SCALABLE_DIMENSION,
            min_capacity=c.min_copies,
            max_capacity=c.max_copies,
        )
        # The resource id is the IC's literal name, not a reference: register only once it exists.
        target.node.add_dependency(self.component)
        s = c.settings.scaling
        target.scale_to_track_metric(
            "InvocationsPerCopy",
            target_value=s.target_invocations_per_copy,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
            scale_in_cooldown=Duration.seconds(s.scale_in_cooldown_seconds),
            scale_out_cooldown=Duration.seconds(s.scale_out_cooldown_seconds),
        )
        return target

    def _build_scale_out_from_zero(self, c: ResolvedComponent) -> cloudwatch.Alarm:
        """Target tracking cannot leave zero copies (its metric is per copy); SageMaker emits
        NoCapacityInvocationFailures for a call that found no copy, and this alarm on it runs
        a step policy that adds one."""
        step = appscaling.StepScalingAction(
            self,
            "ScaleOutFromZero",
            scaling_target=self.scalable_target,
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
            metric_aggregation_type=appscaling.MetricAggregationType.MAXIMUM,
            cooldown=SCALE_OUT_FROM_ZERO_COOLDOWN,
        )
        step.add_adjustment(adjustment=1, lower_bound=0)
        alarm = cloudwatch.Alarm(
            self,
            "NoCapacityAlarm",
            metric=cloudwatch.Metric(
                namespace="AWS/SageMaker",
                metric_name=NO_CAPACITY_METRIC,
                dimensions_map={"InferenceComponentName": c.component_name},
                statistic="Sum",
                period=Duration.minutes(1),
            ),
            # >= 1, not the guide's "> 1": one caller retrying after Retry-After sends one
            # call a minute at most, and a single failed call must wake the model.
            threshold=1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"{c.name}: a call found no copy running; adds one (scale out from zero)",
        )
        alarm.add_alarm_action(cw_actions.ApplicationScalingAction(step))
        return alarm

    def _build_alarms(self, c: ResolvedComponent, topic: sns.ITopic) -> list[cloudwatch.Alarm]:
        dims = {"InferenceComponentName": c.component_name}
        period = Duration.minutes(5)
        latency_ms = c.settings.alarms.model_latency_p90_ms
        specs = [
            # ModelLatency is reported in microseconds.
            ("ModelLatencyP90", "ModelLatency", "p90", latency_ms * 1000, 3,
             f"p90 model latency above {latency_ms} ms"),
            ("Invocation5XXErrors", "Invocation5XXErrors", "Sum", 1, 1, "the model container returned 5XX errors"),
        ]
        # No copies, no invocations, no data: an idle model is healthy (notifying_alarm).
        return [
            notifying_alarm(
                self,
                f"{id_}Alarm",
                cloudwatch.Metric(
                    namespace="AWS/SageMaker", metric_name=metric_name, dimensions_map=dims,
                    statistic=statistic, period=period,
                ),
                threshold,
                periods,
                f"{c.name}: {description}",
                topic,
            )
            for id_, metric_name, statistic, threshold, periods, description in specs
        ]
