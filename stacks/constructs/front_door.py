"""The API front door: one Lambda function behind the REST API and its web ACL,
with the feedback table and the async summarization jobs it writes to."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import ApiConfig
from stacks.constructs.api_gateway import build_rest_api
from stacks.constructs.python_function import PythonFunction
from stacks.constructs.summarize_jobs import SummarizeJobs
from stacks.constructs.tables import feedback_table
from stacks.constructs.waf import protect_stage

# API Gateway cuts integrations at 29 s; the function must answer first.
FRONT_DOOR_TIMEOUT = Duration.seconds(28)
ASLEEP_METRIC = "ModelAsleepResponses"

# The reasons of every function of the front door and its jobs (see PythonFunction).
NO_DLQ = (
    "Never invoked asynchronously (API Gateway calls it synchronously; the worker is fed by "
    "an SQS event source whose queue has its own dead-letter queue), so a Lambda DLQ would "
    "never receive anything."
)
NO_VPC = (
    "Runs outside a VPC: it reaches only AWS APIs (SageMaker runtime, DynamoDB, SQS, S3) over "
    "TLS with SigV4, and the deployment has no VPC unless network.mode enables one."
)


@dataclass(frozen=True)
class FrontDoorProps:
    api: ApiConfig
    models_json: str
    key: kms.IKey
    access_logs: s3.IBucket
    log_retention: logs.RetentionDays


class FrontDoor(Construct):
    """Regional REST API -> one Lambda; IAM auth (or Cognito) on every method,
    request validation, stage throttling, WAF rate limiting, JSON access logs, X-Ray.

    Its parts, one module each: `api_gateway` (the REST API, its routes and request
    models from the front door's OpenAPI document), `api_auth` (IAM or Cognito),
    `waf` (the web ACL and its logs), `tables` (the feedback table), `summarize_jobs`.

    Attributes: api, function, handler, feedback_table, jobs, asleep_responses.
    """

    def __init__(self, scope: Construct, id_: str, *, props: FrontDoorProps) -> None:
        super().__init__(scope, id_)
        api_cfg = props.api
        self.feedback_table = feedback_table(self, props.key)
        self.jobs = SummarizeJobs(
            self, "Jobs", key=props.key, access_logs=props.access_logs, log_retention=props.log_retention,
            max_concurrency=api_cfg.jobs_max_concurrency,
            environment={
                "MODELS_JSON": props.models_json,
                "SUMMARIZE_MAX_CONCURRENCY": str(api_cfg.summarize_max_concurrency),
            },
            why_no_dlq=NO_DLQ, why_no_vpc=NO_VPC,
        )
        env = {
            **self.jobs.environment,
            "FEEDBACK_TABLE_NAME": self.feedback_table.table_name,
        }
        if api_cfg.extra_templates:
            env["EXTRA_TEMPLATES_JSON"] = json.dumps(api_cfg.extra_templates, separators=(",", ":"))
        self.handler = PythonFunction(
            self, "Handler", handler="frontdoor.handler.lambda_handler",
            description="API front door: templates, generation, images, feedback, summaries",
            timeout=FRONT_DOOR_TIMEOUT, reserved_concurrency=api_cfg.reserved_concurrency,
            environment=env, key=props.key, log_retention=props.log_retention,
            why_no_dlq=NO_DLQ, why_no_vpc=NO_VPC,
        )
        self.function = self.handler.function
        self.handler.role.add_to_policy(iam.PolicyStatement(
            sid="StoreFeedback", actions=["dynamodb:PutItem"], resources=[self.feedback_table.table_arn],
        ))
        self.jobs.grant_submit(self.handler.role)
        self.asleep_responses = self._build_asleep_metric()
        self.api = build_rest_api(
            self, function=self.function, cfg=api_cfg, key=props.key, log_retention=props.log_retention,
        )
        protect_stage(
            self, stage=self.api.deployment_stage, rate_limit_per_5min=api_cfg.waf_rate_limit_per_5min,
            key=props.key, log_retention=props.log_retention,
        )

    def _build_asleep_metric(self) -> cloudwatch.Metric:
        """503 model_asleep answers, counted from the front door's own log lines.

        Calls to a sleeping model answer 503 by design (the front door is waking it), and
        API Gateway counts them in 5XXError; alarms subtract this count to see real faults.
        A metric filter on this deployment's log group keeps the count per deployment.
        """
        namespace = f"FmPlatform/{Stack.of(self).stack_name}"
        logs.MetricFilter(
            self, "AsleepResponses",
            log_group=self.handler.log_group,
            # frontdoor.api logs every mapped error as {"message": "request failed", "error": code, ...}.
            filter_pattern=logs.FilterPattern.all(
                logs.FilterPattern.string_value("$.message", "=", "request failed"),
                logs.FilterPattern.string_value("$.error", "=", "model_asleep"),
            ),
            metric_namespace=namespace,
            metric_name=ASLEEP_METRIC,
            metric_value="1",
        )
        return cloudwatch.Metric(namespace=namespace, metric_name=ASLEEP_METRIC, statistic="Sum")
