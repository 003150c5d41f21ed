"""What operators watch: one CloudWatch dashboard per deployment, and the alarms
on the front door and its async job path."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.constructs.frontdoor import FrontDoor
from stacks.constructs.jumpstart_endpoint import JumpStartEndpoint
from stacks.constructs.model_hosting import SAGEMAKER_LOG_GROUPS, VARIANT
from stacks.constructs.shared_endpoint import SharedEndpoint

PERIOD = Duration.minutes(5)
WIDTH = 24  # dashboard grid columns
HEIGHT = 6

# Alarm thresholds, each per 5-minute period.
# The front door turns model and validation errors into HTTP responses itself,
# so a Lambda Errors datapoint is an unhandled crash or a timeout: alarm on one.
LAMBDA_ERRORS = 1
# Reserved concurrency reached: callers get 429/502 instead of an answer.
LAMBDA_THROTTLES = 1
# A few 5XX are expected (a model restarting answers 503); a sustained run is not.
API_5XX = 5
API_5XX_PERIODS = 2
# A job waiting this long (seconds) means the worker is failing, throttled or
# stuck; a healthy job starts within seconds and re-enqueues itself near 15 min.
OLDEST_JOB_AGE_SECONDS = 30 * 60


@dataclass(frozen=True)
class _AlarmSpec:
    id_: str
    metric: cloudwatch.IMetric
    threshold: float
    periods: int
    description: str


class FrontDoorAlarms(Construct):
    """Alarms on the front door Lambda, the API stage and the jobs queues, all
    sending to one SNS topic. Missing data is not breaching: an idle API is healthy.

    Attributes:
        alarms: every alarm, in a stable order (for the dashboard and tests).
    """

    def __init__(self, scope: Construct, id_: str, *, front_door: FrontDoor, topic: sns.ITopic) -> None:
        super().__init__(scope, id_)
        fn = front_door.function
        stage = front_door.api.deployment_stage
        jobs = front_door.jobs
        # Expected 503s: model_asleep (sleeping models) and, with models on shared endpoints
        # that scale to zero, model_scaling_up.
        expected = {"asleep": front_door.asleep_responses.with_(period=PERIOD)}
        if front_door.scaling_up_responses is not None:
            expected["scaling"] = front_door.scaling_up_responses.with_(period=PERIOD)
        codes = " and ".join(["model_asleep", "model_scaling_up"][: len(expected)])
        specs = [
            _AlarmSpec("FrontDoorErrors", fn.metric_errors(period=PERIOD, statistic="Sum"), LAMBDA_ERRORS, 1,
                       "front door Lambda: unhandled errors or timeouts"),
            _AlarmSpec("FrontDoorThrottles", fn.metric_throttles(period=PERIOD, statistic="Sum"),
                       LAMBDA_THROTTLES, 1, "front door Lambda: throttled at its reserved concurrency"),
            # 503 model_asleep is the expected answer while a sleeping model wakes: not a fault.
            _AlarmSpec("Api5XX", cloudwatch.MathExpression(
                expression=" - ".join(f"FILL({name}, 0)" for name in ["errors", *expected]),
                using_metrics={
                    "errors": stage.metric_server_error(period=PERIOD, statistic="Sum"),
                    **expected,
                },
                label=f"5XX other than {codes}",
                period=PERIOD,
            ), API_5XX, API_5XX_PERIODS,
                f"API: {API_5XX}+ 5XX responses other than 503 {codes} in each of {API_5XX_PERIODS} x 5 min"),
            # The dead-letter handler drains the DLQ at once (marking each job FAILED), so
            # count arrivals (its receives), not the queue depth.
            _AlarmSpec("JobsDeadLetters",
                       jobs.dlq.metric_number_of_messages_received(period=PERIOD, statistic="Sum"),
                       1, 1, "summarization jobs were dead-lettered (marked FAILED job_dead_lettered)"),
            _AlarmSpec("JobsOldestMessageAge",
                       jobs.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                       OLDEST_JOB_AGE_SECONDS, 1,
                       f"a queued summarization job has waited over {OLDEST_JOB_AGE_SECONDS // 60} min"),
        ]
        action = cw_actions.SnsAction(topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for spec in specs:
            alarm = cloudwatch.Alarm(
                self,
                spec.id_,
                metric=spec.metric,
                threshold=spec.threshold,
                evaluation_periods=spec.periods,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=spec.description,
            )
            alarm.add_alarm_action(action)
            self.alarms.append(alarm)


class OperationsDashboard(Construct):
    """One dashboard: a row group per endpoint (traffic, errors, latency, GPU and
    CPU), then the front door (Lambda, API stage, jobs queues), then every alarm.

    Utilization metrics of `/aws/sagemaker/Endpoints` are summed over an instance's
    GPUs (or cores), so each GPU graph's axis runs to 100 x the instance's GPUs.

    Attributes:
        dashboard: the CloudWatch dashboard (name generated by CloudFormation).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        endpoints: list[JumpStartEndpoint],
        front_door: FrontDoor | None,
        alarms: list[cloudwatch.IAlarm],
        shared_endpoints: list[SharedEndpoint] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", default_interval=Duration.hours(3), period_override=cloudwatch.PeriodOverride.AUTO
        )
        for endpoint in endpoints:
            # One add_widgets call per row: widgets of one call sit side by side.
            title, graphs = self._endpoint_rows(endpoint)
            self.dashboard.add_widgets(title)
            self.dashboard.add_widgets(*graphs)
        for shared in shared_endpoints:
            for row in self._shared_rows(shared):
                self.dashboard.add_widgets(*row)
        if front_door is not None:
            self.dashboard.add_widgets(_title("Front door", "API Gateway stage, Lambda functions, async jobs"))
            self.dashboard.add_widgets(*self._api_row(front_door))
            self.dashboard.add_widgets(*self._lambda_row(front_door))
            self.dashboard.add_widgets(*self._queue_row(front_door))
            if front_door.tenants is not None:
                self.dashboard.add_widgets(_title("Tenants", "Usage per tenant key (docs/tenants.md); "
                                                             "`make report` has the monthly table"))
                self.dashboard.add_widgets(*_tenant_usage_row())
        if alarms:
            self.dashboard.add_widgets(
                cloudwatch.AlarmStatusWidget(title="Alarms", alarms=alarms, width=WIDTH, height=HEIGHT)
            )

    @property
    def url(self) -> str:
        """Console URL of the dashboard (a token)."""
        stack = Stack.of(self)
        return (
            f"https://{stack.region}.console.aws.amazon.com/cloudwatch/home?region={stack.region}"
            f"#dashboards/dashboard/{self.dashboard.dashboard_name}"
        )

    @staticmethod
    def _endpoint_rows(e: JumpStartEndpoint) -> tuple[cloudwatch.IWidget, list[cloudwatch.IWidget]]:
        r = e.resolved
        gpus = r.instance.gpus

        def metric(name: str, statistic: str, namespace: str = "AWS/SageMaker", label: str | None = None):
            return cloudwatch.Metric(
                namespace=namespace, metric_name=name,
                dimensions_map={"EndpointName": e.endpoint_name, "VariantName": VARIANT},
                statistic=statistic, period=PERIOD, label=label or name,
            )

        def graph(title: str, left: list, unit: str, right: list | None = None, left_max: float | None = None):
            return cloudwatch.GraphWidget(
                title=f"{r.name}: {title}", left=left, right=right or [],
                left_y_axis=cloudwatch.YAxisProps(label=unit, min=0, max=left_max, show_units=False),
                width=WIDTH // 4, height=HEIGHT,
            )

        title = _title(
            r.name,
            f"{r.model_id}@{r.model_version} on {r.instance_type} "
            f"({f'{gpus} x {r.instance.gpu}' if gpus else r.instance.hardware}, "
            f"{r.min_capacity}-{r.max_capacity} instances)",
        )
        # A CPU-only instance (an embedding model) reports no GPU metrics: graph its host
        # memory, which holds the weights there, in the GPU graph's place.
        accelerator = graph(
            f"GPU ({gpus} GPU{'s' if gpus > 1 else ''}, 100% each)",
            [metric("GPUUtilization", "Average", SAGEMAKER_LOG_GROUPS),
             metric("GPUMemoryUtilization", "Average", SAGEMAKER_LOG_GROUPS)],
            "percent",
            left_max=100 * gpus,
        ) if gpus else graph(
            "memory (host)", [metric("MemoryUtilization", "Average", SAGEMAKER_LOG_GROUPS)], "percent", left_max=100,
        )
        return title, [
            graph(
                "invocations and errors",
                [metric("Invocations", "Sum")],
                "count",
                right=[metric("Invocation4XXErrors", "Sum"), metric("Invocation5XXErrors", "Sum")],
            ),
            # ModelLatency and OverheadLatency are reported in microseconds.
            graph(
                "latency",
                [metric("ModelLatency", "p50", label="ModelLatency p50"),
                 metric("ModelLatency", "p90", label="ModelLatency p90")],
                "microseconds",
                right=[metric("OverheadLatency", "p90", label="OverheadLatency p90")],
            ),
            accelerator,
            graph(
                "CPU (100% per core)",
                [metric("CPUUtilization", "Average", SAGEMAKER_LOG_GROUPS)],
                "percent",
            ),
        ]

    @staticmethod
    def _shared_rows(e: SharedEndpoint) -> list[list[cloudwatch.IWidget]]:
        """A shared endpoint: its instances (GPU, CPU, disk; summed over the instance's GPUs
        or cores as for a classic endpoint), then one row per model from the inference
        component metrics: traffic and errors, latency, and calls that found no copy
        (NoCapacityInvocationFailures: each starts a scale-out from zero)."""
        r = e.resolved
        gpus = r.instance.gpus

        def instance_metric(name: str, statistic: str = "Average") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=SAGEMAKER_LOG_GROUPS, metric_name=name,
                dimensions_map={"EndpointName": e.endpoint_name, "VariantName": VARIANT},
                statistic=statistic, period=PERIOD, label=name,
            )

        def graph(title: str, left: list, unit: str, right: list | None = None, left_max: float | None = None,
                  width: int = WIDTH // 3) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(
                title=title, left=left, right=right or [],
                left_y_axis=cloudwatch.YAxisProps(label=unit, min=0, max=left_max, show_units=False),
                width=width, height=HEIGHT,
            )

        models = ", ".join(
            f"{c.name} ({c.accelerators} GPU x {c.min_copies}-{c.max_copies} copies)" for c in r.components
        )
        rows: list[list[cloudwatch.IWidget]] = [
            [_title(f"{r.name} (shared)", f"{r.instance_type} ({gpus} x {r.instance.gpu}, "
                    f"{r.min_instances}-{r.max_instances} instances): {models}")],
            [
                graph(f"{r.name}: GPU ({gpus} GPU{'s' if gpus > 1 else ''}, 100% each)",
                      [instance_metric("GPUUtilization"), instance_metric("GPUMemoryUtilization")],
                      "percent", left_max=100 * gpus),
                graph(f"{r.name}: CPU (100% per core)", [instance_metric("CPUUtilization")], "percent"),
                graph(f"{r.name}: disk", [instance_metric("DiskUtilization", "Maximum")], "percent", left_max=100),
            ],
        ]
        for name, component in e.components.items():
            def metric(metric_name: str, statistic: str, label: str | None = None) -> cloudwatch.Metric:
                return cloudwatch.Metric(
                    namespace="AWS/SageMaker", metric_name=metric_name,
                    dimensions_map={"InferenceComponentName": component.component_name},
                    statistic=statistic, period=PERIOD, label=label or metric_name,
                )

            rows.append([
                graph(f"{name}: invocations and errors", [metric("Invocations", "Sum")], "count",
                      right=[metric("Invocation4XXErrors", "Sum"), metric("Invocation5XXErrors", "Sum")]),
                # ModelLatency is reported in microseconds.
                graph(f"{name}: latency", [metric("ModelLatency", "p50", "ModelLatency p50"),
                                           metric("ModelLatency", "p90", "ModelLatency p90")], "microseconds"),
                graph(f"{name}: calls that found no copy (each starts a scale-out)",
                      [metric("NoCapacityInvocationFailures", "Sum")], "count"),
            ])
        return rows

    @staticmethod
    def _api_row(fd: FrontDoor) -> list[cloudwatch.IWidget]:
        # REST API metrics carry ApiName + Stage; the stage's metric_* methods set both.
        stage = fd.api.deployment_stage
        return [
            cloudwatch.GraphWidget(
                title="API: requests and errors",
                left=[stage.metric_count(period=PERIOD, statistic="Sum", label="Count")],
                right=[stage.metric_client_error(period=PERIOD, statistic="Sum", label="4XXError"),
                       stage.metric_server_error(period=PERIOD, statistic="Sum", label="5XXError")],
                width=WIDTH // 2,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="API: latency",
                left=[stage.metric_latency(period=PERIOD, statistic=s, label=f"Latency {s}") for s in ("p50", "p90", "p99")],
                left_y_axis=cloudwatch.YAxisProps(label="milliseconds", min=0, show_units=False),
                width=WIDTH // 2,
                height=HEIGHT,
            ),
        ]

    @staticmethod
    def _lambda_row(fd: FrontDoor) -> list[cloudwatch.IWidget]:
        functions: list[tuple[str, lambda_.IFunction]] = [
            ("front door", fd.function), ("worker", fd.jobs.worker.function)
        ]
        return [
            cloudwatch.GraphWidget(
                title="Lambda: errors and throttles",
                left=[fn.metric_errors(period=PERIOD, statistic="Sum", label=f"{name} Errors") for name, fn in functions],
                right=[fn.metric_throttles(period=PERIOD, statistic="Sum", label=f"{name} Throttles")
                       for name, fn in functions],
                width=WIDTH // 2,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Lambda: duration p90",
                left=[fn.metric_duration(period=PERIOD, statistic="p90", label=f"{name} Duration p90")
                      for name, fn in functions],
                left_y_axis=cloudwatch.YAxisProps(label="milliseconds", min=0, show_units=False),
                width=WIDTH // 2,
                height=HEIGHT,
            ),
        ]

    @staticmethod
    def _queue_row(fd: FrontDoor) -> list[cloudwatch.IWidget]:
        jobs = fd.jobs
        return [
            cloudwatch.GraphWidget(
                title="Jobs: queue depth",
                left=[jobs.queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum", label="queued jobs")],
                right=[jobs.dlq.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum", label="dead-letter jobs")],
                width=WIDTH // 2,
                height=HEIGHT,
            ),
            cloudwatch.GraphWidget(
                title="Jobs: age of oldest message",
                left=[jobs.queue.metric_approximate_age_of_oldest_message(
                    period=PERIOD, statistic="Maximum", label="oldest queued job")],
                left_y_axis=cloudwatch.YAxisProps(label="seconds", min=0, show_units=False),
                left_annotations=[cloudwatch.HorizontalAnnotation(
                    value=OLDEST_JOB_AGE_SECONDS, label="alarm")],
                width=WIDTH // 2,
                height=HEIGHT,
            ),
        ]


def _tenant_search(metric: str, dimensions: str, statistic: str) -> cloudwatch.MathExpression:
    """Every tenant's series of one usage metric (``tenants.usage``: EMF, namespace FmPlatform),
    found at view time: tenants come and go after deploy, so their dimension values are not
    known at synth (CloudWatch metric math SEARCH)."""
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{{FmPlatform,{dimensions}}} MetricName=\"{metric}\"', '{statistic}', 3600)",
        using_metrics={}, label="", period=Duration.hours(1))


def _tenant_usage_row() -> list[cloudwatch.IWidget]:
    """Usage per tenant (api.auth: tenant_keys): tokens and requests per hour, by tenant."""
    def graph(title: str, metric: str, statistic: str = "Sum") -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(title=title, left=[_tenant_search(metric, "Tenant", statistic)],
                                      width=WIDTH // 3, height=HEIGHT)

    return [graph("Prompt tokens per tenant (per hour)", "PromptTokens"),
            graph("Completion tokens per tenant (per hour)", "CompletionTokens"),
            graph("Requests per tenant (per hour)", "Requests")]


def _title(heading: str, detail: str) -> cloudwatch.TextWidget:
    return cloudwatch.TextWidget(markdown=f"## {heading}\n{detail}", width=WIDTH, height=2)
