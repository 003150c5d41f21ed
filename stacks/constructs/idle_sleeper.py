"""Idle-cost controls: put a JumpStart endpoint to sleep and wake it again.

Sleeping = DeleteEndpoint; the model and the endpoint config stay. Waking =
CreateEndpoint with the same EndpointName and the current EndpointConfigName.
Because the name and the config are the ones CloudFormation recorded, the stack
still describes the woken endpoint (its ARN is the same); see docs/idle-cost.md
for what CloudFormation cannot do while an endpoint sleeps.

Three ways in, each optional (config `endpoints[].sleep`):
- `EndpointSleep`: a working-hours pair of EventBridge Scheduler schedules that
  call SageMaker directly (universal targets), and the SSM parameter every waker
  reads the current endpoint config name from;
- `IdleSleeper`: one hourly Lambda that deletes endpoints without invocations;
- `grant_wake`: what the front door needs to wake a model when it is called.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, Stack, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from stacks.compliance.nag import acknowledge, finding_id
from stacks.config import SleepConfig
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.model_hosting import VARIANT
from stacks.constructs.python_function import FunctionNetwork, PythonFunction
from stacks.constructs.roles import ManagedPolicyRole
from stacks.contract.lambda_env import wake_parameter_name

# A schedule that could not reach SageMaker within this time is moot: the next
# working day's run will do the same thing.
SCHEDULE_MAX_EVENT_AGE = Duration.hours(1)
SCHEDULE_RETRIES = 2
IDLE_CHECK_RATE = Duration.hours(1)
IDLE_SLEEPER_TIMEOUT = Duration.minutes(2)


def _scheduler_role(scope: Construct, id_: str, description: str) -> ManagedPolicyRole:
    # SourceAccount keeps other accounts' schedules from using this role (confused deputy).
    principal = iam.ServicePrincipal(
        "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
    )
    return ManagedPolicyRole(scope, id_, assumed_by=principal, description=description)


def parameter_arn(scope: Construct, name: str) -> str:
    """ARN of an SSM parameter by name, computed without a cross-stack reference."""
    return Stack.of(scope).format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))


class EndpointSleep(Construct):
    """The wake-up recipe of one endpoint, plus its working-hours schedules if configured.

    Args:
        endpoint: the endpoint to put to sleep and wake.
        project_name: names the SSM parameter (see `stacks.contract.lambda_env.wake_parameter_name`).
        sleep: the endpoint's `sleep` config.

    Attributes:
        parameter: SSM parameter holding the current endpoint config name.
        schedules: {"sleep": ..., "wake": ...} when `sleep.schedule` is set, else {}.
    """

    def __init__(
        self, scope: Construct, id_: str, *, endpoint: JumpStartEndpoint, project_name: str, sleep: SleepConfig
    ) -> None:
        super().__init__(scope, id_)
        name = endpoint.resolved.name
        config = endpoint.endpoint_config
        # Updated by every deploy that replaces the config, so wakers never create
        # an endpoint from a config CloudFormation has already deleted.
        self.parameter = ssm.StringParameter(
            self,
            "EndpointConfigName",
            parameter_name=wake_parameter_name(project_name, name),
            string_value=config.attr_endpoint_config_name,
            description=f"Endpoint config to recreate the sleeping endpoint of {name} from",
        )
        self.schedules: dict[str, scheduler.Schedule] = {}
        if sleep.schedule is None:
            return
        tz = TimeZone.of(sleep.schedule.timezone)
        role = _scheduler_role(self, "ScheduleRole", f"Deletes and recreates the {name} endpoint on schedule")
        endpoint_name = endpoint.endpoint_name
        # Endpoint config Ref is its ARN; same stack, so an exact grant costs no export.
        calls = {
            "sleep": ("deleteEndpoint", "DeleteEndpoint", sleep.schedule.sleep_cron,
                      {"EndpointName": endpoint_name}, [endpoint.endpoint_arn],
                      f"Deletes the {name} endpoint after working hours; model and endpoint config stay"),
            "wake": ("createEndpoint", "CreateEndpoint", sleep.schedule.wake_cron,
                     {"EndpointName": endpoint_name, "EndpointConfigName": config.attr_endpoint_config_name},
                     [endpoint.endpoint_arn, config.ref],
                     f"Recreates the {name} endpoint from its endpoint config for working hours"),
        }
        for key, (api, action, cron, payload, resources, description) in calls.items():
            statements = [iam.PolicyStatement(actions=[f"sagemaker:{action}"], resources=resources)]
            if key == "wake":
                statements += volume_key_statements([endpoint.volume_key_arn])
            target = targets.Universal(
                service="sagemaker",
                action=api,
                input=scheduler.ScheduleTargetInput.from_object(payload),
                policy_statements=statements,
                role=role,
                retry_attempts=SCHEDULE_RETRIES,
                max_event_age=SCHEDULE_MAX_EVENT_AGE,
            )
            self.schedules[key] = scheduler.Schedule(
                self,
                f"{key.capitalize()}Schedule",
                schedule=scheduler.ScheduleExpression.expression(f"cron({cron})", tz),
                target=target,
                description=description,
            )


@dataclass(frozen=True)
class IdleWatch:
    endpoint: JumpStartEndpoint
    idle_after_hours: int


class IdleSleeper(Construct):
    """One Lambda, run hourly by EventBridge Scheduler, that deletes every watched
    endpoint with no invocations over its idle window (lambdas/idle_sleeper).

    Args:
        watches: endpoints and their idle windows.
        key: encrypts the function's environment and log group.
        log_retention: of the function's log group.
        network: where the function attaches (config `network.functions_in_vpc`); None: no VPC.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        watches: list[IdleWatch],
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        network: FunctionNetwork | None = None,
    ) -> None:
        super().__init__(scope, id_)
        checker = self._build_checker(watches, key, log_retention, network)
        self.role, self.function = checker.role, checker.function
        self._grant_check(watches)
        self.schedule = self._build_schedule()

    def _build_checker(self, watches: list[IdleWatch], key: kms.IKey, log_retention: logs.RetentionDays,
                       network: FunctionNetwork | None) -> PythonFunction:
        """`Checker`: the function, told the watched endpoints in `ENDPOINTS_JSON`."""
        endpoints = [
            {"name": w.endpoint.resolved.name, "endpoint_name": w.endpoint.endpoint_name,
             "variant_name": VARIANT, "idle_after_hours": w.idle_after_hours}
            for w in watches
        ]
        return PythonFunction(
            self,
            "Checker",
            handler="idle_sleeper.handler.lambda_handler",
            description="Deletes idle SageMaker endpoints (model and endpoint config stay)",
            timeout=IDLE_SLEEPER_TIMEOUT,
            memory_mb=256,
            # No reservation (it would need account headroom): runs are hourly with a 2-minute
            # timeout, so two never overlap, and a repeated delete of an endpoint is harmless.
            reserved_concurrency=None,
            environment={"ENDPOINTS_JSON": Stack.of(self).to_json_string(endpoints)},
            key=key,
            log_retention=log_retention,
            # The asset's shared observability (inference.observability): Powertools' logger and tracer.
            powertools=True,
            why_no_dlq=(
                "Run hourly by a schedule and idempotent: a failed run is logged and counted in the "
                "Errors metric, and the next run repeats the whole check, so a dead-letter queue "
                "would only hold stale hourly ticks."
            ),
            why_no_vpc=(
                "Runs outside a VPC: it calls only the SageMaker and CloudWatch APIs over TLS with "
                "SigV4, and the deployment has no VPC unless network.mode enables one."
            ),
            wildcard_reason=(
                "cloudwatch:GetMetricData supports no resource-level permissions; X-Ray "
                "PutTraceSegments/PutTelemetryRecords neither. SageMaker actions are limited to the "
                "watched endpoints' ARNs."
            ),
            network=network,
        )

    def _grant_check(self, watches: list[IdleWatch]) -> None:
        """Describe and delete exactly the watched endpoints; read their invocation metrics."""
        self.role.add_to_policy(iam.PolicyStatement(
            sid="DescribeAndDeleteIdleEndpoints",
            actions=["sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint"],
            resources=[w.endpoint.endpoint_arn for w in watches],
        ))
        self.role.add_to_policy(iam.PolicyStatement(
            sid="ReadInvocationMetrics", actions=["cloudwatch:GetMetricData"], resources=["*"],
        ))

    def _build_schedule(self) -> scheduler.Schedule:
        """`Schedule` (hourly, no retries: the next hour's run is the retry) and its `ScheduleRole`."""
        return invoke_on_schedule(
            self, self.function, rate=IDLE_CHECK_RATE, what="idle-check",
            description="Hourly check for SageMaker endpoints without invocations",
            role_description="Runs the idle-endpoint check hourly",
        )


def invoke_on_schedule(scope: Construct, function: lambda_.IFunction, *, rate: Duration, what: str,
                       description: str, role_description: str) -> scheduler.Schedule:
    """`Schedule`: an EventBridge Scheduler schedule (in `scope`) that invokes `function` every
    `rate` through its own `ScheduleRole` (trusting scheduler.amazonaws.com for this account
    only), with no retries and a 30-minute event age at most: each run repeats the whole
    check, so the next run is the retry."""
    invoke_role = _scheduler_role(scope, "ScheduleRole", role_description)
    schedule = scheduler.Schedule(
        scope,
        "Schedule",
        schedule=scheduler.ScheduleExpression.rate(rate),
        target=targets.LambdaInvoke(function, role=invoke_role, retry_attempts=0, max_event_age=Duration.minutes(30)),
        description=description,
    )
    acknowledge(
        invoke_role.policy,
        f"The schedule invokes the unqualified {what} function; CDK's invoke grant also names "
        "its versions and aliases (ARN:*), and this function publishes none.",
        finding_id(scope, "AwsSolutions-IAM5", f"{function.function_arn}:*"),
    )
    return schedule


def volume_key_statements(key_arns: list[str | None]) -> list[iam.PolicyStatement]:
    """What the caller of CreateEndpoint needs when the endpoint config carries a volume
    `KmsKeyId` (instance types without local NVMe): SageMaker creates a grant on the key as
    that caller (CreateEndpointConfig API reference, KmsKeyId). Grants only for AWS
    resources, so the role cannot hand the key to anyone else."""
    arns = sorted({arn for arn in key_arns if arn}, key=str)
    if not arns:
        return []
    return [
        iam.PolicyStatement(
            sid="UseEndpointVolumeKey", actions=["kms:CreateGrant"], resources=arns,
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        iam.PolicyStatement(sid="DescribeEndpointVolumeKey", actions=["kms:DescribeKey"], resources=arns),
    ]


def grant_wake(role: ManagedPolicyRole, wakeable: list[tuple[str, str, str | None]]) -> None:
    """Let `role` wake the given (endpoint ARN, SSM parameter name, volume key ARN or None)
    endpoints: read the current endpoint config name, see whether the endpoint is already
    starting, create it (using the config's volume key where it has one)."""
    if not wakeable:
        return
    endpoint_arns = [arn for arn, _, _ in wakeable]
    for statement in volume_key_statements([key for _, _, key in wakeable]):
        role.add_to_policy(statement)
    stack = Stack.of(role)
    configs = stack.format_arn(service="sagemaker", resource="endpoint-config", resource_name="*")
    role.add_to_policy(iam.PolicyStatement(
        sid="WakeSleepingEndpoints",
        actions=["sagemaker:CreateEndpoint"],
        resources=[*endpoint_arns, configs],
    ))
    role.add_to_policy(iam.PolicyStatement(
        sid="SeeSleepingEndpoints", actions=["sagemaker:DescribeEndpoint"], resources=endpoint_arns,
    ))
    role.add_to_policy(iam.PolicyStatement(
        sid="ReadWakeRecipes",
        actions=["ssm:GetParameter"],
        resources=[parameter_arn(role, name) for _, name, _ in wakeable],
    ))
    acknowledge(
        role.policy,
        "CreateEndpoint authorizes the endpoint config too, whose generated name changes with every "
        "config change and is read at wake time from an SSM parameter (a name fixed at the Api "
        "stack's deploy would go stale); the endpoint ARNs are exact, so only this deployment's "
        "sleeping endpoints can be created.",
        finding_id(role, "AwsSolutions-IAM5", configs),
    )

